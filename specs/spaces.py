"""Conversion between gymnasium spaces and array-spec nests (gymnasium is imported lazily).

`from_space` turns a gymnasium space into a nest of `BoundedArraySpec`s and
`to_space` turns a nest of array (or tensor) specs back into a space.
gymnasium is an optional dependency (`pip install "tfpolicy[gym]"`): it is
imported only when one of these functions is called, never when this module
is imported.

The two directions map

=====================================  ==========================================
gymnasium space                        array spec
=====================================  ==========================================
`Box(low, high, shape, dtype)`         `BoundedArraySpec(shape, dtype, low, high)`
`Discrete(n, start=s)`                 `BoundedArraySpec((), dtype, s, s + n - 1)`
`MultiDiscrete(nvec, start=s)`         `BoundedArraySpec(nvec.shape, dtype, s, s + nvec - 1)`
`MultiBinary(shape)`                   `BoundedArraySpec(shape, int8, 0, 1)`
`Dict`                                 `dict` of specs (same keys, same order)
`Tuple`                                `tuple` of specs
=====================================  ==========================================

A spec does not remember which space it came from, so `to_space` follows
these rules for each leaf:

* float dtype: `Box(minimum, maximum)`; an unbounded `ArraySpec` gives
  `Box(-inf, inf)`.
* bool dtype: `Box(minimum, maximum, dtype=bool)` (`Box(False, True)` when
  unbounded). gymnasium's `Box` supports bool, so bool specs round-trip
  exactly, which a `MultiBinary` (always int8) would not.
* integer dtype, when the number of values `maximum - minimum + 1` of every
  element fits the dtype:

  - int8 with bounds `[0, 1]` everywhere and a non-empty, non-scalar shape:
    `MultiBinary(shape)`;
  - scalar shape: `Discrete(n, start=minimum, dtype=dtype)`;
  - otherwise `MultiDiscrete(nvec, start=minimum, dtype=dtype)`.

* integer dtype whose range is too wide for that (e.g. an unbounded
  `ArraySpec`, which stands for the dtype's whole range): `Box` with those
  bounds (the dtype's `iinfo` range when unbounded).
* `dict` (any mapping) becomes `Dict`, keeping the key order; `tuple` and
  `list` become `Tuple`.

Round trips: `from_space(to_space(spec)) == spec` for every nest of
`BoundedArraySpec`s with bool, integer or float dtypes, tuples and dicts,
whose names are the nest paths `from_space` assigns (`to_space` drops names).
`to_space(from_space(space)) == space` for float and bool `Box`, `Discrete`,
`MultiDiscrete`, `MultiBinary`, `Dict` and `Tuple`, except for the cases the
rules above map elsewhere: an integer `Box` comes back as a `Discrete` or
`MultiDiscrete` with the same values (unless its range is too wide, as for
the dtype's full range), an int8 `MultiDiscrete` of all-2 counts starting at
0 comes back as `MultiBinary`, a scalar `MultiDiscrete` or `MultiBinary` as
`Discrete`, and a 1-D `MultiBinary` is rebuilt as `MultiBinary(n)` with an
int `n` (gymnasium's `MultiBinary([5]) != MultiBinary(5)`). In each case the
converted space contains exactly the same values.

>>> import gymnasium as gym
>>> space = gym.spaces.Dict({"pos": gym.spaces.Box(-1.0, 1.0, (2,)),
...                          "id": gym.spaces.Discrete(3, start=1)})
>>> spec = from_space(space, name="observation")
>>> spec["id"]
BoundedArraySpec(shape=(), dtype=dtype('int64'), name='observation/id', minimum=1, maximum=3)
>>> spec["pos"].maximum
array([1., 1.], dtype=float32)
>>> to_space(spec) == space
True
"""

import collections
import collections.abc
from typing import TYPE_CHECKING, Any, Optional, Tuple

import numpy as np

from specs.types import NestedArraySpec
from specs.array_spec import ArraySpec, BoundedArraySpec, dtype_range
from specs.nest_utils import nest_error_message
from specs.tensor_spec import TensorSpec, to_array_spec

if TYPE_CHECKING:  # pragma: no cover - for annotations only, never imported at run time
    import gymnasium

__all__ = ["from_space", "to_space"]

_SUPPORTED_SPACES = "Box, Discrete, MultiDiscrete, MultiBinary, Dict and Tuple"
_NOT_A_SPEC = "expected an ArraySpec, BoundedArraySpec or TensorSpec"


def _gym_spaces() -> Any:
    """Imports and returns `gymnasium.spaces`, or explains how to install it."""
    try:
        import gymnasium.spaces as gym_spaces
    except ImportError as e:
        raise ImportError(
            "converting between gymnasium spaces and specs needs gymnasium, an optional "
            'dependency of tfpolicy: install it with `pip install "tfpolicy[gym]"`') from e
    return gym_spaces



# --------------------------------------------------------------------------
# gymnasium space -> specs


def from_space(space: "gymnasium.spaces.Space", name: Optional[str] = None) -> NestedArraySpec:
    """Converts a gymnasium space into a nest of `BoundedArraySpec`s.

    `Box(low, high, shape, dtype)` becomes `BoundedArraySpec(shape, dtype, low,
    high)` (infinite float bounds are kept); `Discrete(n, start=s)` a scalar
    spec of the space's dtype with bounds `[s, s + n - 1]`;
    `MultiDiscrete(nvec, start=s)` a spec of shape `nvec.shape` with bounds
    `[s, s + nvec - 1]`; `MultiBinary(shape)` an int8 spec of that shape with
    bounds `[0, 1]`. `Dict` becomes a plain `dict` with the same keys in the
    same order and `Tuple` a `tuple`, recursively.

    Each leaf is named by its nest path joined with `/`, prefixed by `name`:
    with `name="observation"` the leaf at key `pos` is named
    `observation/pos`; with `name=None` it is named `pos`. A space that is a
    single leaf gets `name` itself (possibly None).

    Args:
      space: a gymnasium space built from the types above.
      name: the name of the whole nest; the prefix of every leaf's name.

    Returns:
      A `BoundedArraySpec`, or a dict/tuple nest of them mirroring `space`.
      Each leaf has the shape and dtype of the space's samples, e.g. `()`
      and int64 for a default `Discrete`, `nvec.shape` for a `MultiDiscrete`.

    Raises:
      TypeError: for any other space type (`Text`, `Graph`, `Sequence`,
        `OneOf`, ...), or an object that is not a space; the message names
        the type, the nest path and the supported types.
      ValueError: for a space whose bounds do not fit its own dtype.
      ImportError: when gymnasium is not installed.

    >>> import gymnasium as gym
    >>> from_space(gym.spaces.MultiDiscrete([3, 4], start=[1, -1]))
    BoundedArraySpec(shape=(2,), dtype=dtype('int64'), name=None, minimum=[ 1, -1], maximum=[3, 2])
    >>> from_space(gym.spaces.Tuple([gym.spaces.MultiBinary(2)]), name="obs")
    (BoundedArraySpec(shape=(2,), dtype=dtype('int8'), name='obs/0', minimum=0, maximum=1),)
    """
    gym_spaces = _gym_spaces()
    prefix: Tuple[Any, ...] = (name,) if name else ()
    return _from_space(gym_spaces, space, prefix, name)


def _from_space(gym_spaces: Any, space: Any, path: Tuple[Any, ...],
                top_name: Optional[str]) -> NestedArraySpec:
    if isinstance(space, gym_spaces.Dict):
        return {key: _from_space(gym_spaces, sub, path + (key,), top_name)
                for key, sub in space.spaces.items()}
    if isinstance(space, gym_spaces.Tuple):
        return tuple(_from_space(gym_spaces, sub, path + (i,), top_name)
                     for i, sub in enumerate(space.spaces))
    # A leaf: named by its path, or, at the top level, by `name` itself.
    leaf_name = "/".join(str(p) for p in path) if path else top_name
    if isinstance(space, gym_spaces.Box):
        return _bounded(space.shape, space.dtype, space.low, space.high, leaf_name, path)
    if isinstance(space, gym_spaces.Discrete):
        start, n = int(space.start), int(space.n)
        return _bounded((), space.dtype, start, start + n - 1, leaf_name, path)
    if isinstance(space, gym_spaces.MultiDiscrete):
        start = np.asarray(space.start).astype(object)
        maximum = start + np.asarray(space.nvec).astype(object) - 1
        return _bounded(space.shape, space.dtype, start, maximum, leaf_name, path)
    if isinstance(space, gym_spaces.MultiBinary):
        return _bounded(space.shape, space.dtype, 0, 1, leaf_name, path)
    kind = type(space).__name__ if isinstance(space, gym_spaces.Space) else (
        f"non-space object of type {type(space).__name__}")
    raise TypeError(nest_error_message(
        f"unsupported {kind}", path,
        f"{space!r}; supported space types are {_SUPPORTED_SPACES}", owner="from_space"))


def _bounded(shape: Tuple[int, ...], dtype: Any, minimum: Any, maximum: Any,
             name: Optional[str], path: Tuple[Any, ...]) -> BoundedArraySpec:
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        # Discrete bounds are computed as exact Python ints: check they fit the
        # dtype here rather than letting numpy wrap them around or overflow.
        low, high = dtype_range(dtype)
        bounds = []
        for label, bound in (("minimum", minimum), ("maximum", maximum)):
            values = np.asarray(bound, dtype=object)
            if values.size and (int(min(values.flat)) < int(low)
                                or int(max(values.flat)) > int(high)):
                raise ValueError(nest_error_message(
                    "the space", path,
                    f"its {label} {values.tolist()} lies outside the range of its dtype {dtype}",
                    owner="from_space"))
            bounds.append(values.astype(dtype))
        minimum, maximum = bounds
    try:
        return BoundedArraySpec(shape, dtype, minimum, maximum, name)
    except ValueError as e:
        raise ValueError(nest_error_message("the space", path, str(e), owner="from_space")) from e


# --------------------------------------------------------------------------
# specs -> gymnasium space


def to_space(spec: NestedArraySpec) -> "gymnasium.spaces.Space":
    """Converts a nest of array specs into a gymnasium space (the inverse of `from_space`).

    Leaves may be `ArraySpec`s, `BoundedArraySpec`s or (fully defined)
    `TensorSpec`/`BoundedTensorSpec`s; names are dropped. A float leaf
    becomes `Box(minimum, maximum, shape, dtype)` (`Box(-inf, inf)` when
    unbounded); a bool leaf a bool `Box`; an integer leaf `Discrete` (scalar),
    `MultiBinary` (int8, bounds `[0, 1]`, non-scalar) or `MultiDiscrete`,
    with `start=minimum` and `n = maximum - minimum + 1`, unless those counts
    do not fit its dtype (as for an unbounded spec, which means the dtype's
    whole range): then a `Box` with those bounds. A mapping becomes `Dict`
    (in the same key order) and a tuple or list `Tuple`. See the module
    docstring for the round-trip guarantees.

    Args:
      spec: a spec, or a nest (dicts, tuples, lists) of specs.

    Returns:
      A gymnasium space whose samples have, leaf by leaf, each spec's shape
      and dtype, e.g. `Discrete(3, start=1)` for
      `BoundedArraySpec((), np.int64, 1, 3)`.

    Raises:
      TypeError: a leaf is not a spec, or has a dtype other than bool,
        integer or float (e.g. a string dtype); the message names its path.
      ValueError: a tensor spec with unknown dims, or bounds gymnasium
        rejects (e.g. NaN); the message names the path.
      ImportError: when gymnasium is not installed.

    >>> to_space(BoundedArraySpec((2, 3), np.int8, 0, 1))
    MultiBinary((2, 3))
    >>> to_space({"a": BoundedArraySpec((), np.int32, -1, 1), "b": ArraySpec((2,), np.float32)})
    Dict('a': Discrete(3, start=-1, dtype=int32), 'b': Box(-inf, inf, (2,), float32))
    """
    gym_spaces = _gym_spaces()
    return _to_space(gym_spaces, spec, ())


def _to_space(gym_spaces: Any, spec: Any, path: Tuple[Any, ...]) -> Any:
    if isinstance(spec, collections.abc.Mapping):
        return gym_spaces.Dict(collections.OrderedDict(
            (key, _to_space(gym_spaces, sub, path + (key,))) for key, sub in spec.items()))
    if isinstance(spec, (tuple, list)):
        return gym_spaces.Tuple(
            [_to_space(gym_spaces, sub, path + (i,)) for i, sub in enumerate(spec)])
    spec = _as_array_spec(spec, path)
    try:
        return _leaf_to_space(gym_spaces, spec, path)
    except ValueError as e:
        raise ValueError(nest_error_message(f"cannot convert {spec!r}", path, str(e),
                                            owner="to_space")) from e


def _as_array_spec(spec: Any, path: Tuple[Any, ...]) -> ArraySpec:
    if isinstance(spec, ArraySpec):
        return spec
    if isinstance(spec, TensorSpec):
        try:
            return to_array_spec(spec)
        except ValueError as e:
            raise ValueError(nest_error_message("the spec", path, str(e), owner="to_space")) from e
    raise TypeError(nest_error_message(
        "the spec", path, f"{_NOT_A_SPEC}, got {type(spec).__name__}: {spec!r}",
        owner="to_space"))


def _leaf_to_space(gym_spaces: Any, spec: ArraySpec, path: Tuple[Any, ...]) -> Any:
    dtype, shape = spec.dtype, spec.shape
    if not (dtype == np.bool_ or np.issubdtype(dtype, np.integer)
            or np.issubdtype(dtype, np.floating)):
        raise TypeError(nest_error_message(
            f"unsupported dtype {dtype}", path,
            f"{spec!r}; only bool, integer and float specs have a gymnasium space",
            owner="to_space"))
    if isinstance(spec, BoundedArraySpec):
        # Copies: gymnasium's Box may write into the bound arrays it is given.
        minimum, maximum = np.array(spec.minimum), np.array(spec.maximum)
    else:
        low, high = dtype_range(dtype)
        minimum = np.full(shape, low, dtype=dtype)
        maximum = np.full(shape, high, dtype=dtype)
    if np.issubdtype(dtype, np.integer):
        discrete = _discrete_space(gym_spaces, dtype, shape, minimum, maximum)
        if discrete is not None:
            return discrete
    return gym_spaces.Box(low=minimum, high=maximum, shape=shape, dtype=dtype)


def _discrete_space(gym_spaces: Any, dtype: np.dtype, shape: Tuple[int, ...],
                    minimum: np.ndarray, maximum: np.ndarray) -> Any:
    """`Discrete`, `MultiBinary` or `MultiDiscrete` for an integer spec, or None
    when some element's number of values does not fit the dtype."""
    # Exact Python ints (0-d object arithmetic gives a bare int, hence asarray).
    counts = np.asarray(maximum.astype(object) - minimum.astype(object) + 1, dtype=object)
    if counts.size and int(max(counts.flat)) > int(np.iinfo(dtype).max):
        return None
    if (dtype == np.int8 and shape and minimum.size
            and np.all(minimum == 0) and np.all(maximum == 1)):
        # gymnasium compares `MultiBinary.n` as given: an int for 1-D spaces.
        return gym_spaces.MultiBinary(shape[0] if len(shape) == 1 else shape)
    if not shape:
        return gym_spaces.Discrete(int(counts), start=int(minimum), dtype=dtype)
    return gym_spaces.MultiDiscrete(counts.astype(dtype), dtype=dtype, start=minimum)
