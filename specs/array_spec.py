"""Numpy-side specs: `ArraySpec` and `BoundedArraySpec`, with sampling and checks.

An array spec describes one numpy array: its shape and dtype, and for the
bounded kind the inclusive range `[minimum, maximum]` of every element. The
bounds are stored broadcast to the spec's shape, so `spec.minimum[i]` is the
lower bound of element `i`.

>>> spec = BoundedArraySpec((2,), np.float32, minimum=-1.0, maximum=[1.0, 2.0])
>>> spec.minimum
array([-1., -1.], dtype=float32)
>>> spec.check_array(np.array([0.5, 1.5], np.float32))
True
"""

from typing import Any, Optional, Sequence, Union

import numpy as np
import tree

from specs.types import NestedArray, NestedArraySpec

__all__ = [
    "ArraySpec",
    "BoundedArraySpec",
    "RandomSource",
    "sample_bounded_spec",
    "sample_spec_nest",
    "zero_spec_nest",
    "add_outer_dims_nest",
    "check_arrays_nest",
    "assert_arrays_spec_nest",
    "is_bounded",
    "is_discrete",
    "is_continuous",
]

# Shared with `tensor_spec`'s sampling, which refuses the same specs.
UNSAMPLEABLE_DTYPE = "cannot sample values for {spec!r}: its dtype is not bool, integer or float"

ShapeLike = Union[Sequence[int], int, np.ndarray]
# TF-Agents' samplers take a legacy `RandomState`; new code passes a `Generator`.
RandomSource = Union[np.random.Generator, np.random.RandomState]
_BoundLike = Union[float, int, bool, Sequence[Any], np.ndarray, None]


def _as_shape(shape: Any) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        dims = tuple(shape)
    except TypeError as e:
        raise TypeError(f"an array spec's shape must be a sequence of ints, got {shape!r}") from e
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0
               for d in dims):
        raise TypeError(f"an array spec's shape must be non-negative ints, got {shape!r}")
    return tuple(int(d) for d in dims)


def _as_dtype(dtype: Any) -> np.dtype:
    # Accepts numpy dtypes, Python types and tf.DType (through `as_numpy_dtype`).
    dtype = getattr(dtype, "as_numpy_dtype", dtype)
    return np.dtype(dtype)


class ArraySpec:
    """Describes a numpy array: shape and dtype.

    Args:
      shape: the array's shape, a sequence of non-negative ints.
      dtype: anything `np.dtype` accepts (also a `tf.DType`).
      name: optional name, used for nest paths in exports.
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape: ShapeLike, dtype: Any, name: Optional[str] = None):
        self._shape = _as_shape(shape)
        self._dtype = _as_dtype(dtype)
        self._name = name

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def name(self) -> Optional[str]:
        return self._name

    def __repr__(self) -> str:
        return f"ArraySpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"

    def __eq__(self, other: object) -> bool:
        # A bounded spec never equals an unbounded one.
        if type(other) is not type(self):
            return NotImplemented
        return (self._shape, self._dtype, self._name) == (other._shape, other._dtype, other._name)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype, self._name))

    def __reduce__(self):
        return (ArraySpec, (self._shape, self._dtype, self._name))

    def check_array(self, array: Any) -> bool:
        """Whether `array` is an array (or numpy scalar) of this exact shape and dtype.

        A Python number counts as a scalar of `np.dtype(type(number))`
        (`int` is int64, `float` float64), as in TF-Agents; lists are not arrays.

        >>> ArraySpec((), np.int64).check_array(3), ArraySpec((1,), np.int64).check_array([3])
        (True, False)
        """
        if isinstance(array, (bool, int, float, complex)):
            array = np.asarray(array, np.dtype(type(array)))
        elif isinstance(array, np.generic):
            array = np.asarray(array)
        return (
            isinstance(array, np.ndarray)
            and array.shape == self._shape
            and array.dtype == self._dtype
        )

    def replace(self, shape: Optional[ShapeLike] = None, dtype: Any = None,
                name: Optional[str] = None) -> "ArraySpec":
        """A copy with the given fields replaced."""
        return ArraySpec(
            self._shape if shape is None else shape,
            self._dtype if dtype is None else dtype,
            self._name if name is None else name,
        )

    @classmethod
    def from_array(cls, array: Any, name: Optional[str] = None) -> "ArraySpec":
        """The spec of an existing array."""
        array = np.asarray(array)
        return cls(array.shape, array.dtype, name=name)

    @classmethod
    def from_spec(cls, spec: Any, name: Optional[str] = None) -> "ArraySpec":
        """An unbounded array spec with the shape and dtype of any spec, named
        `name` or, when that is None, as `spec` is."""
        return cls(tuple(spec.shape), spec.dtype,
                   getattr(spec, "name", None) if name is None else name)


def dtype_range(dtype: np.dtype) -> tuple:
    """The widest (minimum, maximum) a value of `dtype` can take."""
    if dtype == np.bool_:
        return False, True
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.min, info.max
    if np.issubdtype(dtype, np.floating):
        return -np.inf, np.inf
    raise TypeError(f"bounds are defined for bool, integer and float dtypes, not {dtype}")


class BoundedArraySpec(ArraySpec):
    """An `ArraySpec` whose elements lie in the inclusive range [minimum, maximum].

    Args:
      shape: the array's shape.
      dtype: bool, integer or float dtype.
      minimum: lower bound, broadcastable to `shape`; defaults to the dtype's
        lowest value (`-inf` for floats).
      maximum: upper bound, broadcastable to `shape`; defaults to the dtype's
        highest value (`inf` for floats).
      name: optional name.

    Raises:
      ValueError: when a bound does not broadcast to `shape`, or
        `minimum > maximum` anywhere.
    """

    __slots__ = ("_minimum", "_maximum")

    def __init__(self, shape: ShapeLike, dtype: Any, minimum: _BoundLike = None,
                 maximum: _BoundLike = None, name: Optional[str] = None):
        super().__init__(shape, dtype, name)
        self._minimum, self._maximum = broadcast_bounds(
            self._shape, self._dtype, minimum, maximum, name)

    @property
    def minimum(self) -> np.ndarray:
        return self._minimum

    @property
    def maximum(self) -> np.ndarray:
        return self._maximum

    @property
    def num_values(self) -> Optional[np.ndarray]:
        """For integer specs: how many values each element can take (int64, the
        spec's shape); None for other dtypes, as in TF-Agents."""
        if not np.issubdtype(self._dtype, np.integer):
            return None
        return self._maximum.astype(np.int64) - self._minimum.astype(np.int64) + 1

    def __repr__(self) -> str:
        return (f"BoundedArraySpec(shape={self._shape}, dtype={self._dtype!r}, "
                f"name={self._name!r}, minimum={format_bound(self._minimum)}, "
                f"maximum={format_bound(self._maximum)})")

    def __eq__(self, other: object) -> bool:
        base = super().__eq__(other)
        if base is NotImplemented or not base:
            return base
        return (np.array_equal(self._minimum, other._minimum)
                and np.array_equal(self._maximum, other._maximum))

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype, self._name))

    def __reduce__(self):
        return (BoundedArraySpec,
                (self._shape, self._dtype, self._minimum, self._maximum, self._name))

    def check_array(self, array: Any) -> bool:
        """Whether `array` has this shape and dtype and lies within the bounds."""
        if not super().check_array(array):
            return False
        array = np.asarray(array)
        return bool(np.all(array >= self._minimum) and np.all(array <= self._maximum))

    def replace(self, shape: Optional[ShapeLike] = None, dtype: Any = None,
                name: Optional[str] = None, minimum: _BoundLike = None,
                maximum: _BoundLike = None) -> "BoundedArraySpec":
        """A copy with the given fields replaced; bounds re-broadcast to the new shape."""
        return BoundedArraySpec(
            self._shape if shape is None else shape,
            self._dtype if dtype is None else dtype,
            _squeeze_bound(self._minimum) if minimum is None else minimum,
            _squeeze_bound(self._maximum) if maximum is None else maximum,
            self._name if name is None else name,
        )

    @classmethod
    def from_spec(cls, spec: Any, name: Optional[str] = None) -> "BoundedArraySpec":
        """A bounded array spec from any spec (unbounded ones get the dtype's
        range), named `name` or, when that is None, as `spec` is.

        >>> BoundedArraySpec.from_spec(ArraySpec((), np.int8, "a"), name="b")
        BoundedArraySpec(shape=(), dtype=dtype('int8'), name='b', minimum=-128, maximum=127)
        """
        return cls(tuple(spec.shape), spec.dtype, getattr(spec, "minimum", None),
                   getattr(spec, "maximum", None),
                   getattr(spec, "name", None) if name is None else name)


def _squeeze_bound(bound: np.ndarray) -> Any:
    # A bound that is the same everywhere is kept as a scalar, so it broadcasts
    # to any new shape in `replace`.
    flat = bound.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return flat[0]
    return bound


def format_bound(bound: np.ndarray) -> str:
    """A bound as spec reprs and errors show it: one number when it is the same
    everywhere, else the whole array.

    >>> format_bound(np.full((2, 2), 1.5)), format_bound(np.array([0, 3]))
    ('1.5', '[0, 3]')
    """
    squeezed = _squeeze_bound(bound)
    if isinstance(squeezed, np.ndarray):
        return np.array2string(squeezed, separator=", ")
    return repr(squeezed.item())


def broadcast_bounds(shape: tuple, dtype: np.dtype, minimum: _BoundLike,
                     maximum: _BoundLike, name: Optional[str]) -> tuple:
    """Validates bounds and returns them as read-only arrays of `shape` and `dtype`."""
    low, high = dtype_range(dtype)
    out = []
    for label, bound, default in (("minimum", minimum, low), ("maximum", maximum, high)):
        bound = default if bound is None else bound
        arr = np.asarray(bound)
        if arr.dtype != dtype:
            if np.issubdtype(dtype, np.integer) and np.issubdtype(arr.dtype, np.number):
                if np.any(arr < low) or np.any(arr > high):
                    raise ValueError(
                        f"spec {name!r}: {label} {bound!r} does not fit dtype {dtype}")
            arr = arr.astype(dtype)
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError as e:
            raise ValueError(
                f"spec {name!r}: {label} of shape {arr.shape} does not broadcast to "
                f"the spec's shape {shape}") from e
        arr = np.array(arr)
        arr.flags.writeable = False
        out.append(arr)
    if np.any(out[0] > out[1]):
        raise ValueError(
            f"spec {name!r}: minimum {format_bound(out[0])} is above maximum "
            f"{format_bound(out[1])}")
    return tuple(out)


def is_bounded(spec: Any) -> bool:
    """Whether `spec` carries bounds (a `BoundedArraySpec` or `BoundedTensorSpec`)."""
    return hasattr(spec, "minimum") and hasattr(spec, "maximum")


def is_discrete(spec: Any) -> bool:
    """Whether `spec` has an integer dtype."""
    return np.issubdtype(_as_dtype(spec.dtype), np.integer)


def is_continuous(spec: Any) -> bool:
    """Whether `spec` has a floating dtype."""
    return np.issubdtype(_as_dtype(spec.dtype), np.floating)


def _check_rng(rng: Any) -> None:
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TypeError(
            f"rng must be a numpy Generator or RandomState, got {type(rng).__name__}")


def _integers(rng: RandomSource, low: np.ndarray, high: np.ndarray, shape: tuple,
              dtype: np.dtype) -> np.ndarray:
    """Uniform integers in the inclusive ranges [low, high], elementwise."""
    low = np.broadcast_to(np.asarray(low, dtype), shape)
    high = np.broadcast_to(np.asarray(high, dtype), shape)
    if isinstance(rng, np.random.Generator):
        return rng.integers(low, high, endpoint=True, size=shape, dtype=dtype)
    # RandomState.randint excludes `high`, and `high + 1` overflows at the
    # dtype's top: there draw from [low - 1, high) and add one, and for the
    # full range take raw bytes, which are uniform over every value.
    info = np.iinfo(dtype)
    top = high == info.max
    full = top & (low == info.min)
    shift = top & ~full
    out = rng.randint(low - shift.astype(dtype), high + (~top).astype(dtype),
                      size=shape, dtype=dtype) + shift.astype(dtype)
    if np.any(full):
        raw = np.frombuffer(rng.bytes(out.size * dtype.itemsize), dtype).reshape(shape)
        out = np.where(full, raw, out).astype(dtype)
    return np.asarray(out, dtype)


def sample_bounded_spec(spec: Any, rng: RandomSource,
                        outer_dims: Sequence[int] = ()) -> np.ndarray:
    """Samples one array for `spec`, with `outer_dims` prepended to its shape.

    Integer and bool elements are uniform over `[minimum, maximum]`. Float
    elements are uniform between finite bounds; with one infinite bound they
    are the finite bound plus (or minus) an exponential sample, and with
    none, standard normal. A `RandomState` and a `Generator` follow the same
    law (they draw different numbers for the same seed).

    >>> spec = BoundedArraySpec((2,), np.int32, 0, 3)
    >>> sample_bounded_spec(spec, np.random.RandomState(0), outer_dims=(4,)).shape
    (4, 2)

    Args:
      spec: an array or tensor spec; unbounded ones use the dtype's range.
      rng: a numpy `Generator` or `RandomState` (TF-Agents passes the latter).
      outer_dims: leading dims to prepend, e.g. `(batch_size,)`.

    Returns:
      An array of shape `outer_dims + spec.shape` and the spec's dtype.

    Raises:
      TypeError: for an `rng` of another type, or a dtype that is not bool,
        integer or float.
    """
    _check_rng(rng)
    dtype = _as_dtype(spec.dtype)
    shape = tuple(outer_dims) + tuple(spec.shape)
    if is_bounded(spec):
        low, high = np.asarray(spec.minimum), np.asarray(spec.maximum)
    else:
        low, high = dtype_range(dtype)
    if dtype == np.bool_:
        return _integers(rng, low, high, shape, np.dtype(np.int64)).astype(np.bool_)
    if np.issubdtype(dtype, np.integer):
        return _integers(rng, low, high, shape, dtype)
    if np.issubdtype(dtype, np.floating):
        return _sample_float(dtype, shape, low, high, rng)
    raise TypeError(UNSAMPLEABLE_DTYPE.format(spec=spec))


def _sample_float(dtype: np.dtype, shape: tuple, low: Any, high: Any,
                  rng: RandomSource) -> np.ndarray:
    finfo = np.finfo(dtype)
    # Bounds at the edge of the dtype's range count as unbounded, so that a
    # spec built with finfo.min/max samples sensible numbers.
    low = np.broadcast_to(np.asarray(low, np.float64), shape)
    high = np.broadcast_to(np.asarray(high, np.float64), shape)
    has_low = low > float(finfo.min) / 2
    has_high = high < float(finfo.max) / 2
    # Both kinds of rng have these three methods with the same laws.
    uniform = rng.uniform(size=shape)
    exp = rng.exponential(size=shape)
    normal = rng.standard_normal(size=shape)
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.where(
            has_low & has_high, low + uniform * (high - low),
            np.where(has_low, low + exp, np.where(has_high, high - exp, normal)))
    out = np.clip(out, np.maximum(low, float(finfo.min)), np.minimum(high, float(finfo.max)))
    return np.asarray(out, dtype=dtype)  # a 0-d array, not a numpy scalar, for shape ()


def sample_spec_nest(structure: NestedArraySpec, rng: RandomSource,
                     outer_dims: Sequence[int] = ()) -> NestedArray:
    """Samples a nest of arrays matching a nest of specs (see `sample_bounded_spec`).

    `rng` is a numpy `Generator` or `RandomState`.
    """
    _check_rng(rng)
    return tree.map_structure(lambda s: sample_bounded_spec(s, rng, outer_dims), structure)


def add_outer_dims_nest(structure: NestedArraySpec,
                        outer_dims: Sequence[int]) -> NestedArraySpec:
    """Array specs with `outer_dims` prepended to every shape; bounds and names kept.

    >>> add_outer_dims_nest({"a": BoundedArraySpec((2,), np.int32, 0, 3)}, (5,))["a"].shape
    (5, 2)
    """
    outer = tuple(outer_dims)

    def add(spec: Any) -> ArraySpec:
        shape = outer + tuple(spec.shape)
        if is_bounded(spec):
            return BoundedArraySpec(shape, spec.dtype, spec.minimum, spec.maximum,
                                    getattr(spec, "name", None))
        return ArraySpec(shape, spec.dtype, getattr(spec, "name", None))

    return tree.map_structure(add, structure)


def zero_spec_nest(structure: NestedArraySpec, outer_dims: Sequence[int] = ()) -> NestedArray:
    """A nest of zero arrays of shape `outer_dims + spec.shape` and the specs' dtypes."""
    return tree.map_structure(
        lambda s: np.zeros(tuple(outer_dims) + tuple(s.shape), _as_dtype(s.dtype)), structure)


def check_arrays_nest(arrays: NestedArray, structure: NestedArraySpec) -> bool:
    """Whether `arrays` has the structure of `structure` and each array passes `check_array`."""
    try:
        tree.assert_same_structure(arrays, structure, check_types=False)
    except (TypeError, ValueError):
        return False
    return all(s.check_array(a) for a, s in zip(tree.flatten(arrays), tree.flatten(structure)))


def assert_arrays_spec_nest(arrays: NestedArray, spec: NestedArraySpec) -> None:
    """Raises unless `check_arrays_nest(arrays, spec)` holds, naming the first
    offending path with the expected spec and the array's dtype and shape.

    >>> assert_arrays_spec_nest({"a": np.zeros(3, np.float32)}, {"a": ArraySpec((2,), np.float32)})
    Traceback (most recent call last):
    ...
    ValueError: arrays at 'a': does not match its spec: expected ArraySpec(shape=(2,), dtype=dtype('float32'), name=None), got a value with dtype float32 and shape (3,)

    Raises:
      TypeError, ValueError: when the structures differ (as
        `nest_utils.assert_same_structure`), or a leaf fails its spec.
    """
    # Imported here: both modules import this one.
    from specs import _messages, nest_utils

    nest_utils.assert_same_structure(arrays, spec, "arrays", check_types=False)
    for (path, s), a in zip(tree.flatten_with_path(spec), tree.flatten(arrays)):
        if not s.check_array(a):
            raise ValueError(_messages.nest_error_message(
                "arrays", path, "does not match its spec", spec=s, value=a))
