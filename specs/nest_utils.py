"""Path-aware checks of value nests against spec nests, on dm-tree.

`check_nest` is the engine behind policy validation. Given a nest of values
(numpy arrays, tensors or Python scalars) and a nest of specs it checks, in
order, the structure, each leaf's dtype and inner shape (the trailing dims
the spec describes), and that every leaf has the same outer (batch) dims. It
returns those outer dims. Every error names the nest path of the offending
leaf, the expected spec, and the value's dtype and shape.

It reads only static information (dtypes and static shapes), so inside a
`tf.function` it runs once, at trace time, and costs nothing per step.

The module also holds TF-Agents' public nest helpers under their TF-Agents
names and arguments (`batch_nested_tensors`, `unstack_nested_arrays`,
`get_outer_rank`, `prune_extra_keys`, `where`, ...), with the same errors.

>>> spec = {"pos": ArraySpec((2,), np.float32), "id": ArraySpec((), np.int32)}
>>> check_nest({"pos": np.zeros((5, 2), np.float32), "id": np.zeros(5, np.int32)}, spec)
(5,)
>>> try:
...     check_nest({"pos": np.zeros((5, 3), np.float32), "id": np.zeros(5, np.int32)}, spec)
... except ValueError as error:
...     print(error)
value at 'pos': shape mismatch: expected ArraySpec(shape=(2,), dtype=dtype('float32'), name=None), got a value with dtype float32 and shape (5, 3)
"""

import collections.abc
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np  # noqa: F401  (doctest namespace)
import tensorflow as tf
import tree

from specs._messages import (ROOT_PATH, describe_value, dtype_and_shape, kind,
                             nest_error_message, path_to_str, spec_mismatch_message)
from specs._packing import Flattener, flattener, packer
from specs import tensor_spec as _tensor_spec
from specs.array_spec import ArraySpec  # noqa: F401  (doctest namespace)
from specs.types import NUMPY_LEAF_TYPES, Nest, NestedSpec

__all__ = [
    "check_nest",
    "get_outer_shape",
    "flatten_with_joined_paths",
    "unbatch_nested_tensors_to_arrays",
    "remove_singleton_batch_spec_dim",
    "assert_same_structure",
    "flatten_with_paths",
    "path_to_str",
    "ROOT_PATH",
    "describe_value",
    "nest_error_message",
    "spec_mismatch_message",
    "check_compatible_specs",
    "packer",
    "flattener",
    "Flattener",
    "NestChecker",
    "same_structure",
    "assert_matching_dtypes_and_inner_shapes",
    "batch_nested_array",
    "batch_nested_tensors",
    "flatten_multi_batched_nested_tensors",
    "get_outer_array_shape",
    "get_outer_rank",
    "is_batched_nested_array",
    "is_batched_nested_tensors",
    "prune_extra_keys",
    "split_nested_tensors",
    "stack_nested_arrays",
    "stack_nested_tensors",
    "tile_batch",
    "unbatch_nested_array",
    "unbatch_nested_tensors",
    "unstack_nested_arrays",
    "unstack_nested_arrays_into_flat_items",
    "unstack_nested_tensors",
    "where",
    "has_tensors",
    "fast_map_structure",
    "fast_map_structure_flatten",
    "spec_shape",
    "assert_tensors_matching_dtypes_and_shapes",
    "flatten_and_check_shape_nested_specs",
    "assert_value_spec",
    "flatten_up_to",
    "flatten_with_tuple_paths",
    "map_structure_up_to",
    "map_structure_with_paths",
]

OuterShape = Tuple[Optional[int], ...]

def flatten_with_paths(nest: Nest) -> List[Tuple[str, Any]]:
    """`(path, leaf)` pairs in dm-tree order, paths formatted by `path_to_str`."""
    return [(path_to_str(p), leaf) for p, leaf in tree.flatten_with_path(nest)]


def _is_empty_nest(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, (collections.abc.Mapping, list, tuple)):
        return not tree.flatten(x)
    return False


def _structure_errors(value: Any, spec: Any, path: tuple,
                      allow_shallow: bool = False) -> Iterator[str]:
    """Yields one description per place where `value`'s structure differs from `spec`'s.

    Sequences (tuple, list, namedtuple) match each other by length, mappings by
    keys, so a list may stand for a tuple; a spec's empty nest matches any
    empty nest or None. With `allow_shallow`, a leaf of `value` may stand for
    a whole sub-nest of `spec`.
    """
    if allow_shallow and kind(value) == "leaf" and value is not None:
        return
    if _is_empty_nest(spec):
        if not _is_empty_nest(value):
            yield f"'{path_to_str(path)}': expected an empty nest, got {describe_value(value)}"
        return
    spec_kind, value_kind = kind(spec), kind(value)
    if spec_kind == "leaf":
        if value_kind != "leaf":
            yield f"'{path_to_str(path)}': expected a single value for {spec!r}, got {describe_value(value)}"
        return
    if spec_kind != value_kind:
        yield f"'{path_to_str(path)}': expected a {spec_kind}, got {describe_value(value)}"
        return
    if spec_kind == "mapping":
        missing = [k for k in spec if k not in value]
        extra = [k for k in value if k not in spec]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing keys {sorted(missing, key=str)}")
            if extra:
                parts.append(f"unexpected keys {sorted(extra, key=str)}")
            yield f"'{path_to_str(path)}': " + ", ".join(parts)
        for k in spec:
            if k in value:
                yield from _structure_errors(value[k], spec[k], path + (k,), allow_shallow)
        return
    if spec_kind == "attrs":
        spec_items = [(a.name, getattr(spec, a.name)) for a in spec.__attrs_attrs__]
        if type(value) is not type(spec):
            yield f"'{path_to_str(path)}': expected {type(spec).__name__}, got {describe_value(value)}"
            return
        for k, s in spec_items:
            yield from _structure_errors(getattr(value, k), s, path + (k,), allow_shallow)
        return
    if len(spec) != len(value):
        yield (f"'{path_to_str(path)}': expected a sequence of length {len(spec)}, "
               f"got {describe_value(value)}")
        return
    fields = getattr(spec, "_fields", None)
    for i, (v, s) in enumerate(zip(value, spec)):
        yield from _structure_errors(v, s, path + ((fields[i] if fields else i),), allow_shallow)


class _StructureError(TypeError, ValueError):
    """A structure mismatch. A `TypeError` as this package has always raised, and
    a `ValueError` as TF-Agents raises when the number of elements differs, so
    code written against either catches it."""


def assert_same_structure(value: Nest, spec: NestedSpec, name: str = "value", *,
                          check_types: bool = True, expand_composites: bool = False,
                          allow_shallow_nest1: bool = False,
                          message: Optional[str] = None) -> None:
    """Raises naming every path where `value`'s structure differs from `spec`'s.

    TF-Agents' `assert_same_structure(nest1, nest2, check_types, expand_composites,
    allow_shallow_nest1, message)` with path-naming errors: `value` is `nest1`
    and `spec` is `nest2`, positionally as there.

    Args:
      value, spec: the two nests (`spec` need not hold specs).
      name: what `value` is, for the message.
      check_types: accepted for TF-Agents compatibility. Container types are
        compared by kind either way (a list matches a tuple, any mapping a dict
        with the same keys), as everywhere in this package.
      expand_composites: accepted for TF-Agents compatibility; composite
        tensors (`tf.SparseTensor`, `tf.RaggedTensor`) are always leaves here.
      allow_shallow_nest1: a leaf of `value` may stand for a sub-nest of `spec`.
      message: replaces the message's opening words.

    Raises:
      TypeError: the structures differ. The error is also a `ValueError`.

    >>> try:
    ...     assert_same_structure({"a": 1, "b": (2, 3)}, {"a": 0, "b": (0,)}, name="obs")
    ... except TypeError as error:
    ...     print(error)
    obs does not match the structure of its spec: 'b': expected a sequence of length 1, got a tuple of length 2
    """
    if not isinstance(check_types, bool) or not isinstance(expand_composites, bool):
        raise TypeError(f"check_types and expand_composites must be bools, got "
                        f"{check_types!r} and {expand_composites!r}")
    errors = list(_structure_errors(value, spec, (), allow_shallow_nest1))
    if errors:
        opening = message or f"{name} does not match the structure of its spec"
        raise _StructureError(f"{opening}: " + "; ".join(errors))


def _canonical(dtype: Any) -> Any:
    try:
        return tf.as_dtype(dtype)
    except TypeError:
        return dtype


_PY_KIND_OK = {
    bool: lambda d: d.is_bool,
    int: lambda d: d.is_integer,
    float: lambda d: d.is_floating,
}


def _dtype_matches(value_dtype: Any, spec_dtype: Any) -> bool:
    spec_dtype = _canonical(spec_dtype)
    if isinstance(value_dtype, type) and value_dtype in _PY_KIND_OK:
        # Python scalars are weakly typed: they fit any dtype of their kind.
        return _PY_KIND_OK[value_dtype](spec_dtype)
    if value_dtype is None:
        return False
    return _canonical(value_dtype) == spec_dtype


def _spec_shape(spec: Any) -> Optional[tuple]:
    shape = spec.shape
    if isinstance(shape, tf.TensorShape):
        return None if shape.rank is None else tuple(shape.as_list())
    return tuple(shape)


def _dims_compatible(a: Optional[int], b: Optional[int]) -> bool:
    return a is None or b is None or a == b


def _merge_outer(a: OuterShape, b: OuterShape) -> OuterShape:
    return tuple(x if x is not None else y for x, y in zip(a, b))


def check_nest(value: Nest, spec: NestedSpec, *, num_outer_dims: Optional[int] = None,
               outer_shape: Optional[Sequence[Optional[int]]] = None,
               name: str = "value") -> OuterShape:
    """Checks a nest of values against a nest of specs and returns the outer dims.

    Args:
      value: a nest of numpy arrays, tensors or Python scalars.
      spec: the nest of `ArraySpec`s or `TensorSpec`s it should match.
      num_outer_dims: if given, every leaf must have exactly this many dims
        before the spec's shape (1 for a batch, 0 for a single item).
      outer_shape: if given, the outer dims every leaf must have (e.g. the
        batch shape of the time step this state belongs to). `None` entries
        match any size.
      name: what `value` is, for error messages (`time_step`, `policy_state`).

    Returns:
      The outer dims shared by all leaves, as a tuple (None for a dim unknown
      at trace time). `()` for an unbatched value or an empty nest.

    Raises:
      TypeError: the structure differs (missing or extra keys, wrong lengths,
        a nest where a leaf is expected) or a leaf has the wrong dtype.
      ValueError: a leaf's inner shape differs from its spec's, or the leaves'
        outer dims are inconsistent with each other or with `outer_shape`.
    """
    spec_leaves = tree.flatten(spec)
    if not spec_leaves or _is_empty_nest(spec):  # dm-tree flattens None to [None]
        if not _is_empty_nest(value):
            assert_same_structure(value, spec, name)
        return tuple(outer_shape) if outer_shape is not None else ()
    try:
        value_leaves = tree.flatten_up_to(spec, value, check_types=False)
    except (TypeError, ValueError):
        value_leaves = None
    if value_leaves is None or len(value_leaves) != len(spec_leaves) or any(
            kind(v) != "leaf" for v in value_leaves):
        assert_same_structure(value, spec, name)
        # The structures agree except where dm-tree is stricter: an empty part
        # of the spec met by another kind of empty value (None for `()`).
        path, empty_spec, empty_value = _empty_part_mismatch(value, spec, ())
        raise TypeError(nest_error_message(
            name, path, f"expected the empty nest {empty_spec!r}, got {empty_value!r}"))

    expected_outer: Optional[OuterShape] = None if outer_shape is None else tuple(outer_shape)
    first_path: Optional[str] = None if outer_shape is None else "(given outer shape)"
    paths = None
    for i, (v, s) in enumerate(zip(value_leaves, spec_leaves)):
        v_dtype, v_shape = dtype_and_shape(v)
        if not _dtype_matches(v_dtype, s.dtype):
            paths = paths or _spec_paths(spec)
            raise TypeError(spec_mismatch_message(name, paths[i], "dtype mismatch", s, v))
        if v_shape is None:
            continue  # unknown rank (only inside graphs): nothing static to check
        s_shape = _spec_shape(s)
        inner_rank = len(s_shape)
        outer_rank = len(v_shape) - inner_rank
        if outer_rank < 0 or not all(
                _dims_compatible(a, b) for a, b in zip(v_shape[outer_rank:], s_shape)):
            paths = paths or _spec_paths(spec)
            raise ValueError(spec_mismatch_message(name, paths[i], "shape mismatch", s, v))
        outer = tuple(v_shape[:outer_rank])
        if num_outer_dims is not None and outer_rank != num_outer_dims:
            paths = paths or _spec_paths(spec)
            raise ValueError(spec_mismatch_message(
                name, paths[i], f"expected {num_outer_dims} outer dim(s), found {outer_rank}", s, v))
        if expected_outer is None:
            expected_outer = outer
            paths = paths or _spec_paths(spec)
            first_path = f"'{paths[i]}'"
        elif len(outer) != len(expected_outer) or not all(
                _dims_compatible(a, b) for a, b in zip(outer, expected_outer)):
            paths = paths or _spec_paths(spec)
            raise ValueError(nest_error_message(
                name, paths[i],
                f"inconsistent outer (batch) dims: this leaf has outer shape {outer} (value "
                f"shape {v_shape}, spec shape {s_shape}) but {first_path} has {expected_outer}"))
        else:
            expected_outer = _merge_outer(expected_outer, outer)
    return expected_outer if expected_outer is not None else ()


def check_compatible_specs(given: NestedSpec, expected: NestedSpec, what: str, *,
                           given_name: str = "given", expected_name: str = "expected",
                           owner: Optional[str] = None, exact: bool = False) -> None:
    """Raises unless two spec nests agree in structure and, leaf by leaf, in dtype and shape.

    Array and tensor specs compare by dtype and shape (`exact=False`: names
    and bounds may differ) or by equality (`exact=True`). Two empty nests of
    any kind agree.

    Args:
      given, expected: the two spec nests (array or tensor specs).
      what: what the specs describe, for the message (`time_step_spec`).
      given_name, expected_name: whose each side is (`the policy`, `the environment`).
      owner: the class or function raising, the message's first word.
      exact: compare leaves by equality rather than by dtype and shape.

    Raises:
      ValueError: the structures differ (every differing path named), or a
        leaf differs (its path and both specs named).

    >>> try:
    ...     check_compatible_specs({"a": ArraySpec((2,), np.float32)},
    ...                            {"a": ArraySpec((3,), np.float32)}, "observation_spec",
    ...                            given_name="the policy", expected_name="the environment")
    ... except ValueError as error:
    ...     print(error)
    observation_spec at 'a': the policy has ArraySpec(shape=(2,), dtype=dtype('float32'), name=None), the environment has ArraySpec(shape=(3,), dtype=dtype('float32'), name=None); they must agree in dtype and shape
    """
    if not tree.flatten(given) and not tree.flatten(expected):
        return
    if not same_structure(given, expected):
        places = "; ".join(_structure_errors(given, expected, ())) or (
            f"'{ROOT_PATH}': {given_name} has {given!r}, {expected_name} has {expected!r}")
        message = (f"{what} does not have the structure of {expected_name}'s "
                   f"({given_name} against {expected_name}): {places}")
        raise ValueError(f"{owner}: {message}" if owner else message)
    for (path, g), e in zip(tree.flatten_with_path(given),
                            tree.flatten_up_to(given, expected, check_types=False)):
        if exact:
            differ = g != e
        else:
            differ = (_canonical(g.dtype) != _canonical(e.dtype)
                      or _spec_shape(g) != _spec_shape(e))
        if differ:
            rule = "they must be equal" if exact else "they must agree in dtype and shape"
            raise ValueError(nest_error_message(
                what, path, f"{given_name} has {g!r}, {expected_name} has {e!r}; {rule}",
                owner=owner))


def _empty_part_mismatch(value: Any, spec: Any, path: tuple) -> Tuple[tuple, Any, Any]:
    """The first place where an empty part of `spec` meets an empty value of
    another container type, as `(path, spec part, value part)`; the root when
    there is none."""
    if _is_empty_nest(spec):
        return (path, spec, value) if type(value) is not type(spec) else ((), spec, value)
    if isinstance(spec, collections.abc.Mapping):
        children = [(k, value[k], spec[k]) for k in spec]
    elif isinstance(spec, (list, tuple)):
        fields = getattr(spec, "_fields", None)
        children = [(fields[i] if fields else i, v, s)
                    for i, (v, s) in enumerate(zip(value, spec))]
    else:
        return (), spec, value
    for key, v, s in children:
        found = _empty_part_mismatch(v, s, path + (key,))
        if found[0]:
            return found
    return (), spec, value


def _spec_paths(spec: NestedSpec) -> List[str]:
    return [path_to_str(p) for p, _ in tree.flatten_with_path(spec)]


def get_outer_shape(value: Nest, spec: NestedSpec) -> tf.Tensor:
    """The runtime outer (batch) dims of `value` relative to `spec`, as TF-Agents returns them.

    The nest is checked first (`check_nest`: path-named errors). Inside
    `tf.function` with unknown batch dims the result is the dynamic shape;
    `check_nest` returns the static dims as a tuple.

    Returns:
      An int32 tensor of shape `[outer_rank]`.

    >>> get_outer_shape({"a": np.zeros((2, 3, 4))}, {"a": ArraySpec((4,), np.float64)}).numpy()
    array([2, 3], dtype=int32)
    """
    outer = check_nest(value, spec)
    leaves = tree.flatten(value)
    if not leaves:
        return tf.zeros([0], tf.int32)
    return tf.shape(leaves[0], out_type=tf.int32)[:len(outer)]


def flatten_with_joined_paths(structure: Nest) -> List[Tuple[str, Any]]:
    """`(path, leaf)` pairs in dm-tree order with the keys joined by `/`, as TF-Agents
    names them (`''` for a structure that is a single leaf; `flatten_with_paths`
    says `<root>` there).

    >>> flatten_with_joined_paths({"b": 1, "a": {"x": 2, "y": [3]}})
    [('a/x', 2), ('a/y/0', 3), ('b', 1)]
    """
    return [("/".join(str(k) for k in p), leaf) for p, leaf in tree.flatten_with_path(structure)]


def unbatch_nested_tensors_to_arrays(nested_tensors: Nest) -> Nest:
    """Eager tensors with a batch dim of 1 to numpy arrays without it (TF-Agents' helper
    for handing a batched TF step to numpy code).

    Raises:
      ValueError: a leaf's first dim is not 1 (path named).

    >>> unbatch_nested_tensors_to_arrays({"a": tf.constant([[1, 2]])})["a"]
    array([1, 2], dtype=int32)
    """
    def to_array(path: tuple, x: Any) -> np.ndarray:
        array = np.asarray(x)
        if array.ndim == 0 or array.shape[0] != 1:
            raise ValueError(f"unbatch_nested_tensors_to_arrays: at '{path_to_str(path)}': "
                             f"expected a batch dim of 1, got shape {array.shape}")
        return array[0, ...]

    return tree.map_structure_with_path(to_array, nested_tensors)


def remove_singleton_batch_spec_dim(spec: NestedSpec, outer_ndim: int) -> NestedSpec:
    """Specs without their first `outer_ndim` dims, which must all be 1 (bounds and names kept).

    Raises:
      ValueError: a spec's outer dims are not all 1 (path named, with its shape).

    >>> remove_singleton_batch_spec_dim(tf.TensorSpec([1, 3], tf.float32, "obs"), 1)
    TensorSpec(shape=(3,), dtype=tf.float32, name='obs')
    """
    def remove(path: tuple, s: Any) -> Any:
        outer = tuple(s.shape)[:outer_ndim]
        if len(outer) != outer_ndim or any(d != 1 for d in outer):
            raise ValueError(f"remove_singleton_batch_spec_dim: at '{path_to_str(path)}': "
                             f"expected {outer_ndim} outer dims of size 1, got shape "
                             f"{tuple(s.shape)}")
        return _tensor_spec.remove_outer_dims_nest(s, outer_ndim)

    return tree.map_structure_with_path(remove, spec)


def same_structure(a: Nest, b: Nest) -> bool:
    """Whether two nests have the same structure, dict keys included.

    Container types may differ (a list matches a tuple of the same length,
    a dict an `OrderedDict` with the same keys), as everywhere in this
    package; dm-tree's `assert_same_structure(check_types=False)` alone
    would also let dicts with different keys pass.

    >>> same_structure({"a": 1, "b": (2, 3)}, {"b": [0, 0], "a": 0})
    True
    >>> same_structure({"a": 1, "b": 2}, {"a": 1, "c": 2})
    False
    """
    try:
        tree.assert_same_structure(a, b, check_types=True)
        return True
    except (TypeError, ValueError):
        pass
    try:
        tree.assert_same_structure(a, b, check_types=False)
        tree.flatten_up_to(a, b, check_types=False)  # raises on differing dict keys
    except (TypeError, ValueError):
        return False
    return True


class NestChecker:
    """`check_nest` for per-step hot paths: the full check runs once per input signature.

    A signature is the value's structure plus each leaf's type, dtype and
    shape. The first value of a signature goes through `check_nest` (same
    errors); later values of an already accepted signature only pay for a
    flatten and a structure comparison. Only numpy arrays and Python or
    numpy scalars are remembered; tensors are checked every time.

    Args:
      spec: the nest of specs values must match.
      num_outer_dims: as in `check_nest`.
      name: what the value is, for error messages.

    >>> checker = NestChecker({"a": ArraySpec((2,), np.float32)}, num_outer_dims=1, name="action")
    >>> leaves, outer = checker({"a": np.zeros((3, 2), np.float32)})
    >>> outer, len(leaves)
    ((3,), 1)
    """

    _MAX_SIGNATURES = 64

    def __init__(self, spec: NestedSpec, *, num_outer_dims: Optional[int] = None,
                 name: str = "value"):
        self._spec = spec
        self._num_outer_dims = num_outer_dims
        self._name = name
        self._num_leaves = len(tree.flatten(spec))
        self._nested = tree.is_nested(spec)
        self._known: dict = {}

    def __call__(self, value: Nest, outer_shape: Optional[Sequence[Optional[int]]] = None
                 ) -> Tuple[List[Any], OuterShape]:
        """Checks `value`; returns its leaves (in the spec's order) and its outer dims.

        Raises:
          TypeError, ValueError: as `check_nest`, naming the nest path.
        """
        outer_key = None if outer_shape is None else tuple(outer_shape)
        if not self._nested and not tree.is_nested(value):  # one leaf: the common fast case
            key = (outer_key, type(value), getattr(value, "dtype", None),
                   getattr(value, "shape", None))
            outer = self._known.get(key)
            if outer is not None:
                return [value], outer
        leaves = tree.flatten(value)
        if len(leaves) == self._num_leaves and self._same_structure(value):
            key = (outer_key,) + tuple(
                (type(x), getattr(x, "dtype", None), getattr(x, "shape", None)) for x in leaves)
            outer = self._known.get(key)
            if outer is not None:
                return leaves, outer
        outer = check_nest(value, self._spec, num_outer_dims=self._num_outer_dims,
                           outer_shape=outer_shape, name=self._name)
        leaves = tree.flatten_up_to(self._spec, value, check_types=False)
        if (len(self._known) < self._MAX_SIGNATURES and len(leaves) == self._num_leaves
                and all(isinstance(x, NUMPY_LEAF_TYPES) for x in leaves)
                and len(tree.flatten(value)) == self._num_leaves):
            if not self._nested:
                key = (outer_key, type(value), getattr(value, "dtype", None),
                       getattr(value, "shape", None))
            else:
                key = (outer_key,) + tuple((type(x), getattr(x, "dtype", None),
                                            getattr(x, "shape", None)) for x in leaves)
            self._known[key] = tuple(outer)
        return leaves, tuple(outer)

    def _same_structure(self, value: Nest) -> bool:
        if not self._nested:
            return not tree.is_nested(value)
        # Exact container types only: the fast C++ comparison, which also
        # compares dict keys. Other matches take the full check every time.
        try:
            tree.assert_same_structure(self._spec, value, check_types=True)
        except (TypeError, ValueError):
            return False
        return True


# --------------------------------------------------------------------------
# TF-Agents' nest helpers: batching, stacking and splitting nests against specs
# --------------------------------------------------------------------------

_Leaf = Tuple[str, Any, Any]  # (formatted path, value leaf, spec leaf)


def _checked_leaves(values: Nest, specs: NestedSpec, name: str,
                    message: Optional[str] = None) -> List[_Leaf]:
    """`(path, value, spec)` per spec leaf, after checking the structures agree."""
    assert_same_structure(values, specs, name, message=message)
    spec_items = tree.flatten_with_path(specs)
    if not spec_items or _is_empty_nest(specs):
        return []
    try:
        value_leaves = tree.flatten_up_to(specs, values, check_types=False)
    except (TypeError, ValueError):  # e.g. a namedtuple value for a tuple spec
        value_leaves = list(_leaves_up_to(specs, values))
    return [(path_to_str(p), v, s) for (p, s), v in zip(spec_items, value_leaves)]


def _leaves_up_to(spec: Any, value: Any) -> Iterator[Any]:
    """`value`'s leaves at `spec`'s leaves, for structures that agree by kind."""
    if _is_empty_nest(spec):
        return
    spec_kind = kind(spec)
    if spec_kind == "leaf":
        yield value
    elif spec_kind == "mapping":
        for k in sorted(spec):
            yield from _leaves_up_to(spec[k], value[k])
    elif spec_kind == "attrs":
        for a in spec.__attrs_attrs__:
            yield from _leaves_up_to(getattr(spec, a.name), getattr(value, a.name))
    else:
        for s, v in zip(spec, value):
            yield from _leaves_up_to(s, v)


def _known_shape(name: str, path: str, value: Any, spec: Any) -> Tuple[tuple, tuple]:
    """The value's and the spec's static shapes; a `ValueError` if either rank is unknown."""
    _, v_shape = dtype_and_shape(value)
    s_shape = _spec_shape(spec)
    if v_shape is None or s_shape is None:
        raise ValueError(spec_mismatch_message(
            name, path, "the rank must be known statically", spec, value))
    return tuple(v_shape), s_shape


def _compatible(shape: Sequence[Optional[int]], spec_shape: Sequence[Optional[int]]) -> bool:
    return len(shape) == len(spec_shape) and all(
        _dims_compatible(a, b) for a, b in zip(shape, spec_shape))


def _inner_compatible(shape: tuple, spec_shape: tuple, outer_rank: int) -> bool:
    return outer_rank >= 0 and _compatible(shape[outer_rank:], spec_shape)


def _outer_rank_of(name: str, path: str, value: Any, spec: Any,
                   allowed: Sequence[int]) -> int:
    """The leaf's number of outer dims, which must be in `allowed` with matching inner dims."""
    v_shape, s_shape = _known_shape(name, path, value, spec)
    outer_rank = len(v_shape) - len(s_shape)
    if outer_rank not in allowed:
        expected = " or ".join(str(a) for a in allowed)
        raise ValueError(spec_mismatch_message(
            name, path, f"expected {expected} outer dim(s), found {outer_rank}", spec, value))
    if not _inner_compatible(v_shape, s_shape, outer_rank):
        raise ValueError(spec_mismatch_message(name, path, "shape mismatch", spec, value))
    return outer_rank


def _as_tensor(x: Any, dtype_hint: Any = None) -> Any:
    if tf.is_tensor(x) or isinstance(x, (tf.SparseTensor, tf.RaggedTensor)):
        return x
    return tf.convert_to_tensor(x, dtype_hint=dtype_hint)


def _expand_dims0(x: Any) -> Any:
    if isinstance(x, tf.SparseTensor):
        return tf.sparse.expand_dims(x, 0)
    return tf.expand_dims(_as_tensor(x), 0)


def _squeeze0(x: Any) -> Any:
    if isinstance(x, tf.SparseTensor):
        return tf.sparse.reshape(x, tf.shape(x, out_type=tf.int64)[1:])
    return tf.squeeze(_as_tensor(x), 0)


def _pack(structure: Nest, flat: Sequence[Any]) -> Nest:
    return tree.unflatten_as(structure, list(flat))


def _pack_like(values: Nest, specs: NestedSpec, flat: Sequence[Any]) -> Nest:
    """Packs leaves taken in `specs`' order into `values`' containers where they
    line up leaf for leaf (they may not where `values` has None for an empty
    part of `specs`), else into `specs`'."""
    if len(tree.flatten(values)) == len(flat):
        return _pack(values, flat)
    return _pack(specs, flat)


def batch_nested_tensors(tensors: Nest, specs: Optional[NestedSpec] = None) -> Nest:
    """Adds a batch dim of size 1 to every tensor that does not have one yet.

    Without `specs` every leaf gains a leading dim. With `specs`, a leaf with
    exactly its spec's rank gains one and a leaf with one extra outer dim is
    kept as it is. Dtypes are not checked.

    Raises:
      TypeError: the structures differ (every differing path named).
      ValueError: a leaf has neither 0 nor 1 outer dims, or inner dims that
        differ from its spec's (its path, spec, dtype and shape named).

    >>> spec = {"pos": tf.TensorSpec((2,), tf.float32), "step": tf.TensorSpec((), tf.int32)}
    >>> batched = batch_nested_tensors({"pos": tf.zeros((3, 2)), "step": tf.constant(1)}, spec)
    >>> batched["pos"].shape, batched["step"].shape
    (TensorShape([3, 2]), TensorShape([1]))
    """
    return _change_batch(tensors, specs, 0, _expand_dims0)


def unbatch_nested_tensors(tensors: Nest, specs: Optional[NestedSpec] = None) -> Nest:
    """Removes the batch dim (of size 1) from every tensor that has one.

    Without `specs` every leaf loses its leading dim. With `specs`, a leaf with
    one outer dim loses it and a leaf with its spec's rank is kept.

    Raises:
      TypeError: the structures differ.
      ValueError: a leaf has neither 0 nor 1 outer dims or mismatched inner dims.
    """
    return _change_batch(tensors, specs, 1, _squeeze0)


def _change_batch(tensors: Nest, specs: Optional[NestedSpec], rank: int,
                  change: Any) -> Nest:
    """`change` applied to the leaves with `rank` outer dims (all leaves without
    `specs`); the others, which must have the other of 0 and 1, pass as tensors."""
    if specs is None:
        return tree.map_structure(change, tensors)
    leaves = _checked_leaves(tensors, specs, "tensors")
    out = [change(x) if _outer_rank_of("tensors", path, x, s, (0, 1)) == rank
           else _as_tensor(x, s.dtype) for path, x, s in leaves]
    return _pack_like(tensors, specs, out) if leaves else tensors


def _batched_leaves(tensors: Nest, specs: NestedSpec, what: str) -> List[_Leaf]:
    leaves = _checked_leaves(tensors, specs, "tensors")
    for path, x, s in leaves:
        if _outer_rank_of("tensors", path, x, s, (0, 1)) == 0:
            raise ValueError(spec_mismatch_message(
                "tensors", path, f"can only {what} tensors with a batch dim", s, x))
    return leaves


def _zip_items(values: Nest, specs: NestedSpec, per_leaf: List[List[Any]]) -> List[Nest]:
    return [_pack_like(values, specs, items) for items in zip(*per_leaf)]


def split_nested_tensors(tensors: Nest, specs: NestedSpec,
                         num_or_size_splits: Any) -> List[Nest]:
    """Splits batched nested tensors along the batch dim into a list of nests.

    `num_or_size_splits` is as in `tf.split` (a number of equal splits, or the
    list of their sizes); a `tf.SparseTensor` leaf takes only a number.

    Raises:
      TypeError: the structures differ.
      ValueError: a leaf is not batched (exactly one outer dim), or the splits
        are sizes and a leaf is sparse.

    >>> spec = {"a": tf.TensorSpec((2,), tf.float32)}
    >>> parts = split_nested_tensors({"a": tf.zeros((4, 2))}, spec, [1, 3])
    >>> [p["a"].shape.as_list() for p in parts]
    [[1, 2], [3, 2]]
    """
    leaves = _batched_leaves(tensors, specs, "split")
    per_leaf = []
    for path, x, s in leaves:
        if isinstance(x, tf.SparseTensor):
            if not isinstance(num_or_size_splits, int):
                raise ValueError(spec_mismatch_message(
                    "tensors", path, "a sparse tensor splits only into a number of equal "
                    f"parts, got num_or_size_splits={num_or_size_splits!r}", s, x))
            per_leaf.append(tf.sparse.split(sp_input=x, num_split=num_or_size_splits, axis=0))
        else:
            per_leaf.append(tf.split(_as_tensor(x, s.dtype), num_or_size_splits, axis=0))
    return _zip_items(tensors, specs, per_leaf)


def unstack_nested_tensors(tensors: Nest, specs: NestedSpec) -> List[Nest]:
    """Unstacks batched nested tensors into a list of unbatched nests, one per batch item.

    Raises:
      TypeError: the structures differ.
      ValueError: a leaf is not batched (exactly one outer dim).
    """
    leaves = _batched_leaves(tensors, specs, "unstack")
    return _zip_items(tensors, specs, [tf.unstack(_as_tensor(x, s.dtype), axis=0)
                              for _, x, s in leaves])


def _check_items_structure(items: Sequence[Nest], name: str) -> None:
    if not len(items):
        raise ValueError(f"{name} must hold at least one nest, got an empty sequence")
    for i, item in enumerate(items[1:], start=1):
        assert_same_structure(item, items[0], f"{name}[{i}]",
                              message=f"{name}[{i}] does not match the structure of {name}[0]")


def stack_nested_tensors(tensors: Sequence[Nest], axis: int = 0) -> Nest:
    """Stacks a list of nests of tensors leaf by leaf along `axis`.

    Raises:
      TypeError: an item's structure differs from the first's (path named).

    >>> stacked = stack_nested_tensors([{"a": tf.zeros(2)}, {"a": tf.ones(2)}])
    >>> stacked["a"].numpy().tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    _check_items_structure(tensors, "tensors")
    flat = [tree.flatten_up_to(tensors[0], t, check_types=False) for t in tensors]
    return _pack(tensors[0], [tf.stack(leaves, axis=axis) for leaves in zip(*flat)])


def flatten_multi_batched_nested_tensors(tensors: Nest, specs: NestedSpec
                                         ) -> Tuple[Nest, Any]:
    """Merges all outer dims of each tensor into a single batch dim.

    Returns:
      The reshaped nest, and the outer dims that were merged: an int64 tensor
      when the first leaf's outer dims are static, else its runtime int32 shape.

    Raises:
      TypeError: the structures differ.
      ValueError: a leaf's inner dims differ from its spec's, or its number of
        outer dims differs from the first leaf's.

    >>> spec = {"a": tf.TensorSpec((2,), tf.float32), "b": tf.TensorSpec((), tf.int32)}
    >>> flat, dims = flatten_multi_batched_nested_tensors(
    ...     {"a": tf.zeros((3, 4, 2)), "b": tf.zeros((3, 4), tf.int32)}, spec)
    >>> flat["a"].shape.as_list(), flat["b"].shape.as_list(), dims.numpy().tolist()
    ([12, 2], [12], [3, 4])
    """
    leaves = _checked_leaves(tensors, specs, "tensors")
    if not leaves:
        return tensors, tf.constant([], tf.int64)
    out = []
    first_rank, first_path = None, None
    batch_dims: Any = None
    batch_size: Any = None
    for path, x, s in leaves:
        v_shape, s_shape = _known_shape("tensors", path, x, s)
        outer_rank = len(v_shape) - len(s_shape)
        if first_rank is None:
            first_rank, first_path = outer_rank, path
            if not _inner_compatible(v_shape, s_shape, outer_rank):
                raise ValueError(spec_mismatch_message("tensors", path, "shape mismatch", s, x))
            outer = v_shape[:outer_rank]
            if all(d is not None for d in outer):
                batch_dims = tf.constant(outer, tf.int64, shape=(outer_rank,))
                batch_size = int(np.prod(outer, dtype=np.int64))
            else:
                batch_dims = tf.shape(x)[:outer_rank]
                batch_size = tf.reduce_prod(batch_dims)
        elif outer_rank != first_rank or not _inner_compatible(v_shape, s_shape, outer_rank):
            reason = (f"expected {first_rank} outer dim(s) like '{first_path}', found {outer_rank}"
                      if outer_rank != first_rank else "shape mismatch")
            raise ValueError(spec_mismatch_message("tensors", path, reason, s, x))
        out.append(_reshape_outer(x, batch_size, s_shape, outer_rank))
    return _pack_like(tensors, specs, out), batch_dims


def _reshape_outer(x: Any, batch_size: Any, spec_shape: tuple, outer_rank: int) -> Any:
    if isinstance(x, tf.SparseTensor):
        dense = tf.shape(x, out_type=tf.int64)
        return tf.sparse.reshape(x, tf.concat([[-1], dense[outer_rank:]], 0))
    x = _as_tensor(x)
    if all(d is not None for d in spec_shape) and not tf.is_tensor(batch_size):
        return tf.reshape(x, [batch_size, *spec_shape])
    return tf.reshape(x, tf.concat([[-1], tf.shape(x)[outer_rank:]], 0))


def tile_batch(tensors: Nest, multiplier: Any) -> Nest:
    """Repeats every batch item `multiplier` times in place: `[a, b]` becomes `[a, a, b, b]`.

    Each leaf of shape `[B, ...]` becomes `[B * multiplier, ...]`; the static
    batch size is kept when `multiplier` is a Python int.

    Raises:
      ValueError: a leaf's rank is unknown or 0 (its path named).

    >>> tile_batch({"a": tf.constant([[1], [2]])}, 2)["a"].numpy().ravel().tolist()
    [1, 1, 2, 2]
    """
    static = not tf.is_tensor(multiplier)

    def tile(path, x):
        x = _as_tensor(x)
        if x.shape.rank is None or x.shape.rank < 1:
            raise ValueError(nest_error_message(
                "tensors", path, "tile_batch needs a statically known rank of at least 1",
                value=x))
        tiled = tf.repeat(x, multiplier, axis=0)
        if static:
            batch = x.shape[0]
            tiled = tf.ensure_shape(
                tiled, tf.TensorShape([None if batch is None else batch * multiplier])
                .concatenate(x.shape[1:]))
        return tiled

    return tree.map_structure_with_path(tile, tensors)


def _outer_ranks(leaves: List[_Leaf], name: str) -> Tuple[List[int], List[bool]]:
    """Per leaf: its number of outer dims and whether its inner dims match its spec."""
    ranks, inner_ok = [], []
    for path, x, s in leaves:
        v_shape, s_shape = _known_shape(name, path, x, s)
        ranks.append(len(v_shape) - len(s_shape))
        inner_ok.append(_inner_compatible(v_shape, s_shape, ranks[-1]))
    return ranks, inner_ok


def _mixed_error(name: str, leaves: List[_Leaf], ranks: List[int], inner_ok: List[bool],
                 expected: int) -> ValueError:
    """The error naming the first leaf that breaks a nest's common number of outer dims."""
    for (path, x, s), rank, ok in zip(leaves, ranks, inner_ok):
        if not ok:
            return ValueError(spec_mismatch_message(name, path, "shape mismatch", s, x))
    # Every inner shape matches, so some leaf's number of outer dims differs.
    (path, x, s), rank = next((leaf, rank) for leaf, rank in zip(leaves, ranks)
                              if rank != expected)
    return ValueError(spec_mismatch_message(
        name, path, f"a mix of batched and unbatched values: this leaf has {rank} "
        f"outer dim(s), '{leaves[0][0]}' has {expected}", s, x))


def get_outer_rank(tensors: Nest, specs: NestedSpec) -> int:
    """The number of outer (batch) dims all leaves share; 0 if all are unbatched or empty.

    Dtypes are not checked.

    Raises:
      TypeError: the structures differ.
      ValueError: a rank is unknown, a leaf's inner dims differ from its spec's,
        or leaves have different numbers of outer dims (the first such path named).

    >>> spec = {"pos": tf.TensorSpec((2,), tf.float32), "step": tf.TensorSpec((), tf.int32)}
    >>> get_outer_rank({"pos": tf.zeros((5, 3, 2)), "step": tf.zeros((5, 3), tf.int32)}, spec)
    2
    """
    leaves = _checked_leaves(tensors, specs, "tensors")
    if not leaves:
        return 0
    ranks, inner_ok = _outer_ranks(leaves, "tensors")
    if all(r == 0 and ok for r, ok in zip(ranks, inner_ok)):
        return 0
    if all(ok and r == ranks[0] for r, ok in zip(ranks, inner_ok)):
        return ranks[0]
    raise _mixed_error("tensors", leaves, ranks, inner_ok, ranks[0])


def _is_batched(values: Nest, specs: NestedSpec, num_outer_dims: int,
                allow_extra_fields: bool, check_dtypes: bool, name: str) -> bool:
    if allow_extra_fields:
        values = prune_extra_keys(specs, values)
    leaves = _checked_leaves(values, specs, name)
    if not leaves:
        return False
    if check_dtypes:
        for path, x, s in leaves:
            if not _dtype_matches(dtype_and_shape(x)[0], s.dtype):
                raise TypeError(spec_mismatch_message(name, path, "dtype mismatch", s, x))
    ranks, inner_ok = _outer_ranks(leaves, name)
    if all(r == 0 and ok for r, ok in zip(ranks, inner_ok)):
        return False
    if all(ok and r == ranks[0] for r, ok in zip(ranks, inner_ok)):
        # Consistently batched, but with another number of outer dims: not
        # batched in the sense asked about.
        return ranks[0] == num_outer_dims
    raise _mixed_error(name, leaves, ranks, inner_ok, ranks[0])


def is_batched_nested_tensors(tensors: Nest, specs: NestedSpec, num_outer_dims: int = 1,
                              allow_extra_fields: bool = False,
                              check_dtypes: bool = True) -> bool:
    """Whether all tensors have `num_outer_dims` outer dims (True) or none (False).

    As in TF-Agents, leaves that agree with each other on another number of
    outer dims also give False.

    Args:
      tensors: the nest of tensors.
      specs: the nest of specs describing unbatched tensors.
      num_outer_dims: how many outer dims count as batched.
      allow_extra_fields: `tensors` may hold keys or fields beyond `specs`'
        (see `prune_extra_keys`); they are not checked.
      check_dtypes: check each leaf's dtype against its spec's.

    Raises:
      TypeError: the structures differ, or a dtype differs (path named).
      ValueError: a rank is unknown, a leaf's inner dims differ from its spec's,
        or batched and unbatched leaves are mixed (the first such path named).

    >>> spec = {"pos": tf.TensorSpec((2,), tf.float32)}
    >>> is_batched_nested_tensors({"pos": tf.zeros((4, 2))}, spec)
    True
    >>> is_batched_nested_tensors({"pos": tf.zeros(2)}, spec)
    False
    """
    return _is_batched(tensors, specs, num_outer_dims, allow_extra_fields, check_dtypes,
                       "tensors")


def is_batched_nested_array(arrays: Nest, specs: NestedSpec, num_outer_dims: int = 1,
                            allow_extra_fields: bool = False,
                            check_dtypes: bool = True) -> bool:
    """`is_batched_nested_tensors` for nests of numpy arrays (and array specs).

    >>> spec = {"pos": ArraySpec((2,), np.float32)}
    >>> is_batched_nested_array({"pos": np.zeros((4, 2), np.float32)}, spec)
    True
    """
    return _is_batched(arrays, specs, num_outer_dims, allow_extra_fields, check_dtypes,
                       "arrays")


def get_outer_array_shape(nested_array: Nest, spec: NestedSpec) -> Tuple[int, ...]:
    """The outer (batch) dims of a nest of arrays, read from its first leaf.

    Cheap by design (for per-step use): the other leaves are not checked.

    Raises:
      ValueError: the first leaf has fewer dims than its spec (path named).

    >>> get_outer_array_shape({"a": np.zeros((5, 3, 2))}, {"a": ArraySpec((2,), np.float32)})
    (5, 3)
    """
    spec_items = tree.flatten_with_path(spec)
    if not spec_items or _is_empty_nest(spec):
        return ()
    path, first_spec = spec_items[0]
    first = tree.flatten(nested_array)[0]
    shape = np.shape(first)
    outer_rank = len(shape) - len(first_spec.shape)
    if outer_rank < 0:
        raise ValueError(spec_mismatch_message(
            "nested_array", path, "fewer dims than its spec", first_spec, first))
    return tuple(shape[:outer_rank])


def batch_nested_array(nested_array: Nest) -> Nest:
    """Adds a leading dim of size 1 to every array of a nest.

    >>> batch_nested_array({"a": np.zeros(2), "b": 3})["b"].shape
    (1,)
    """
    return tree.map_structure(lambda x: np.expand_dims(x, 0), nested_array)


def unbatch_nested_array(nested_array: Nest) -> Nest:
    """Removes the leading dim, of size 1, from every array of a nest.

    Raises:
      ValueError: a leaf is a scalar or its leading dim is not 1 (path named).
    """
    def squeeze(path, x):
        if np.ndim(x) < 1 or np.shape(x)[0] != 1:
            raise ValueError(nest_error_message(
                "nested_array", path, "expected a leading dim of size 1", value=x))
        return np.squeeze(x, 0)

    return tree.map_structure_with_path(squeeze, nested_array)


def _unstacked_leaves(nested_array: Nest) -> List[List[Any]]:
    flat = tree.flatten_with_path(nested_array)
    if not flat:
        return []
    first_path, first = flat[0]
    if np.ndim(first) < 1:
        raise ValueError(nest_error_message(
            "nested_array", first_path, "cannot unstack a scalar", value=first))
    size = len(first)
    for path, x in flat:
        if np.ndim(x) < 1 or len(x) != size:
            raise ValueError(nest_error_message(
                "nested_array", path,
                f"expected a leading (batch) dim of {size} like '{path_to_str(first_path)}'",
                value=x))
    # Indexing gives views, much cheaper than np.split's copies.
    return [[x[i] for _, x in flat] for i in range(size)]


def unstack_nested_arrays(nested_array: Nest) -> List[Nest]:
    """Unstacks a nest of arrays of shape `[B, ...]` into a list of B nests.

    Raises:
      ValueError: a leaf is a scalar or its leading dim differs from the
        first leaf's (path named).

    >>> items = unstack_nested_arrays({"a": np.arange(3), "b": (np.zeros((3, 2)),)})
    >>> len(items), int(items[2]["a"]), items[2]["b"][0].shape
    (3, 2, (2,))
    """
    return [_pack(nested_array, leaves) for leaves in _unstacked_leaves(nested_array)]


def unstack_nested_arrays_into_flat_items(nested_array: Nest) -> List[Tuple[Any, ...]]:
    """`unstack_nested_arrays` without rebuilding the nests: B tuples of flat leaves.

    >>> unstack_nested_arrays_into_flat_items({"b": np.array([1, 2]), "a": np.array([3, 4])})
    [(np.int64(3), np.int64(1)), (np.int64(4), np.int64(2))]
    """
    return [tuple(leaves) for leaves in _unstacked_leaves(nested_array)]


def stack_nested_arrays(nested_arrays: Sequence[Nest]) -> Nest:
    """Stacks a list of nests of arrays leaf by leaf into one nest with a leading batch dim.

    Raises:
      TypeError: an item's structure differs from the first's (path named).
      ValueError: the list is empty, or `np.stack` rejects a leaf's shapes.

    >>> stack_nested_arrays([{"a": np.zeros(2)}, {"a": np.ones(2)}])["a"].shape
    (2, 2)
    """
    _check_items_structure(nested_arrays, "nested_arrays")
    flat = [tree.flatten_up_to(nested_arrays[0], n, check_types=False) for n in nested_arrays]
    paths = [path_to_str(p) for p, _ in tree.flatten_with_path(nested_arrays[0])]
    stacked = []
    for path, leaves in zip(paths, zip(*flat)):
        try:
            stacked.append(np.stack(leaves))
        except ValueError as error:
            shapes = [np.shape(x) for x in leaves]
            raise ValueError(nest_error_message(
                "nested_arrays", path, f"cannot stack shapes {shapes}")) from error
    return _pack(nested_arrays[0], stacked)


def _unwrap(x: Any) -> Any:
    # TF's trackable containers (`_DictWrapper`, ...) proxy a plain container.
    return x.__wrapped__ if tree.is_nested(x) and hasattr(x, "__wrapped__") else x


def prune_extra_keys(narrow: Nest, wide: Nest) -> Nest:
    """`wide` with, at every mapping, only the keys found at the same place in `narrow`.

    Lenient by design: where the two disagree (other container types, a key of
    `narrow` missing from `wide`, other sequence lengths) `wide`'s part is
    returned as it is; check the result with `assert_same_structure`. Lists
    match any list, mappings any mapping; an empty tuple in `narrow` prunes
    anything to `()`.

    >>> prune_extra_keys({"a": {"b": 1}, "d": None}, {"a": {"b": 2, "c": 3}, "d": [1, 2]})
    {'a': {'b': 2}, 'd': [1, 2]}
    >>> prune_extra_keys([{"c": 1}], [{"a": 1, "b": 2}])
    [{'a': 1, 'b': 2}]
    """
    narrow, wide = _unwrap(narrow), _unwrap(wide)
    if type(narrow) is tuple and not narrow:
        return narrow
    same_kind = (type(narrow) is type(wide)
                 or (isinstance(narrow, list) and isinstance(wide, list))
                 or (isinstance(narrow, collections.abc.Mapping)
                     and isinstance(wide, collections.abc.Mapping)))
    if not same_kind:
        return wide
    if isinstance(narrow, collections.abc.Mapping):
        if any(k not in wide for k in narrow):
            return wide
        items = [(k, prune_extra_keys(v, wide[k])) for k, v in narrow.items()]
        if isinstance(wide, collections.defaultdict):
            return type(wide)(wide.default_factory, items)
        return type(wide)(items)
    if hasattr(type(wide), "__attrs_attrs__"):
        names = [a.name for a in type(wide).__attrs_attrs__]
        return type(wide)(*[prune_extra_keys(getattr(narrow, n), getattr(wide, n))
                            for n in names])
    if isinstance(narrow, (list, tuple)):
        if len(narrow) != len(wide):
            return wide
        items = [prune_extra_keys(n, w) for n, w in zip(narrow, wide)]
        if isinstance(wide, tuple) and hasattr(wide, "_fields"):
            return type(wide)(*items)
        return type(wide)(items)
    return wide


def where(condition: Any, true_outputs: Nest, false_outputs: Nest) -> Nest:
    """`tf.where` over two nests, with a condition of lower rank broadcast from the left.

    A condition of shape `[B]` picks whole batch items: it is given trailing
    dims of size 1 up to each leaf's rank, so it applies to every leaf of shape
    `[B, ...]`.

    Raises:
      TypeError: the two nests' structures differ (paths named).
      ValueError: a leaf has fewer dims than the condition (path named).

    >>> out = where(tf.constant([True, False]), {"a": tf.zeros((2, 3))}, {"a": tf.ones((2, 3))})
    >>> out["a"].numpy().tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    leaves = _checked_leaves(
        false_outputs, true_outputs, "false_outputs",
        message='"true_outputs" and "false_outputs" structures do not match')
    condition = tf.convert_to_tensor(condition)
    cond_rank = condition.shape.rank

    def pick(path, t, f):
        t = _as_tensor(t)
        rank = t.shape.rank
        if rank is not None and cond_rank is not None:
            if rank < cond_rank:
                raise ValueError(nest_error_message(
                    "true_outputs", path,
                    f"fewer dims than the condition of shape {tuple(condition.shape)}", value=t))
            cond = tf.reshape(condition, tf.concat(
                [tf.shape(condition), tf.ones([rank - cond_rank], tf.int32)], 0))
        else:
            extra = tf.rank(t) - tf.rank(condition)
            cond = tf.reshape(condition, tf.concat(
                [tf.shape(condition), tf.ones(extra, tf.int32)], 0))
        return tf.where(cond, t, f)

    if not leaves:
        return true_outputs
    return _pack(true_outputs, [pick(path, t, f) for path, f, t in leaves])


def assert_matching_dtypes_and_inner_shapes(tensors_or_specs: Nest, specs: NestedSpec,
                                            caller: Any, tensors_name: str, specs_name: str,
                                            allow_extra_fields: bool = False) -> None:
    """Raises unless each leaf has its spec's dtype and ends in its spec's shape.

    Leaves may be tensors, arrays, Python scalars (converted with the spec's
    dtype as a hint, so `1` fits a float spec) or specs. A spec of rank 0
    matches any shape.

    Args:
      tensors_or_specs: the nest to check.
      specs: the nest of specs.
      caller: who checks, the first word of the message (`str(caller)`).
      tensors_name, specs_name: what the two nests are, for the message.
      allow_extra_fields: `tensors_or_specs` may hold keys or fields beyond
        `specs`' (see `prune_extra_keys`).

    Raises:
      TypeError: the structures differ (a `ValueError` too, as in TF-Agents).
      ValueError: a leaf's dtype or inner shape differs (path, spec, dtype and
        shape named).

    >>> try:
    ...     assert_matching_dtypes_and_inner_shapes(
    ...         {"a": np.zeros((4, 3), np.float32)}, {"a": ArraySpec((2,), np.float32)},
    ...         "MyPolicy", "observation", "observation_spec")
    ... except ValueError as error:
    ...     print(error)
    MyPolicy: observation at 'a': inner shape does not match observation_spec: expected ArraySpec(shape=(2,), dtype=dtype('float32'), name=None), got a value with dtype float32 and shape (4, 3)
    """
    if allow_extra_fields:
        tensors_or_specs = prune_extra_keys(specs, tensors_or_specs)
    leaves = _checked_leaves(
        tensors_or_specs, specs, tensors_name,
        message=f"{caller}: {tensors_name} and {specs_name} do not have matching structures")
    for path, x, s in leaves:
        if isinstance(x, (bool, int, float)):
            x = tf.convert_to_tensor(x, dtype_hint=_canonical(s.dtype))
        v_dtype, v_shape = dtype_and_shape(x)
        if _canonical(v_dtype) != _canonical(s.dtype):
            raise ValueError(nest_error_message(
                tensors_name, path, f"dtype does not match {specs_name}", owner=str(caller),
                spec=s, value=x))
        s_shape = _spec_shape(s)
        if not s_shape or v_shape is None:
            continue
        if not _inner_compatible(v_shape, s_shape, len(v_shape) - len(s_shape)):
            raise ValueError(nest_error_message(
                tensors_name, path, f"inner shape does not match {specs_name}",
                owner=str(caller), spec=s, value=x))


# --------------------------------------------------------------------------
# TF-Agents' remaining nest helpers
# --------------------------------------------------------------------------


def has_tensors(*x: Nest) -> bool:
    """Whether any leaf of the given nests is a tensor (composite tensors count).

    >>> has_tensors({"a": np.zeros(2)}, [1.0]), has_tensors((), {"b": tf.zeros(2)})
    (False, True)
    """
    return any(not isinstance(leaf, NUMPY_LEAF_TYPES) and tf.is_tensor(leaf)
               for leaf in tree.flatten(x))


def _expand_composites(kwargs: dict, caller: str) -> bool:
    unknown = sorted(set(kwargs) - {"expand_composites"})
    if unknown:
        raise TypeError(f"{caller} got unexpected keyword arguments {unknown}; it takes "
                        "only expand_composites")
    return bool(kwargs.get("expand_composites", False))


def fast_map_structure_flatten(func: Callable[..., Any], structure: Nest,
                               *flat_structure: Sequence[Any], **kwargs: Any) -> Nest:
    """`func` applied across already flattened lists, packed into `structure`.

    The structures are not compared (that is what makes it fast): only the
    leaf counts must agree. Takes `expand_composites` as `tf.nest` does.

    >>> fast_map_structure_flatten(lambda a, b: a + b, {"x": 0, "y": 0}, [1, 2], [10, 20])
    {'x': 11, 'y': 22}

    Raises:
      ValueError: the flat lists differ in length from each other or from
        `structure`'s leaves.
    """
    expand = _expand_composites(kwargs, "fast_map_structure_flatten")
    size = len(tf.nest.flatten(structure, expand_composites=expand))
    lengths = [len(flat) for flat in flat_structure]
    if any(n != size for n in lengths):
        raise ValueError(f"fast_map_structure_flatten: structure has {size} leaves but the "
                         f"flat lists have lengths {lengths}")
    return tf.nest.pack_sequence_as(structure, [func(*items) for items in zip(*flat_structure)],
                                    expand_composites=expand)


def fast_map_structure(func: Callable[..., Any], *structure: Nest, **kwargs: Any) -> Nest:
    """`tf.nest.map_structure` without the structure check: the nests are
    flattened, `func` is applied leaf by leaf, and the result has the
    structure of the first nest.

    Cheaper than `map_structure` on hot paths where the nests are known to
    agree (e.g. a value and its spec already checked). Takes
    `expand_composites` as `tf.nest` does.

    >>> fast_map_structure(lambda a, b: a * b, {"x": 2, "y": (3,)}, {"x": 5, "y": [7]})
    {'x': 10, 'y': (21,)}

    Raises:
      ValueError: the nests have different numbers of leaves.
    """
    if not structure:
        raise TypeError("fast_map_structure needs at least one structure")
    expand = _expand_composites(kwargs, "fast_map_structure")
    flats = [tf.nest.flatten(s, expand_composites=expand) for s in structure]
    if len({len(flat) for flat in flats}) > 1:
        raise ValueError(f"fast_map_structure: the structures have different numbers of "
                         f"leaves: {[len(flat) for flat in flats]}")
    return tf.nest.pack_sequence_as(structure[0], [func(*items) for items in zip(*flats)],
                                    expand_composites=expand)


def spec_shape(t: Any) -> tf.TensorShape:
    """The static shape of a spec or tensor; for a `tf.SparseTensor`, its rank
    with every dim unknown (its dense shape is a run-time value).

    >>> spec_shape(tf.TensorSpec([2, 3])), spec_shape(tf.sparse.eye(3))
    (TensorShape([2, 3]), TensorShape([None, None]))
    """
    if isinstance(t, tf.SparseTensor):
        rank = t.dense_shape.shape[0]
        return tf.TensorShape(None if rank is None else [None] * rank)
    return tf.TensorShape(t.shape)


def _shape_and_dtype(x: Any) -> Tuple[tf.TensorShape, Any]:
    if isinstance(x, tf.TypeSpec) or tf.is_tensor(x) or hasattr(x, "dtype"):
        return spec_shape(x), _canonical(x.dtype)
    x = tf.convert_to_tensor(x)
    return x.shape, x.dtype


def assert_tensors_matching_dtypes_and_shapes(tensors_1: Nest, tensors_2: Nest, caller: Any,
                                              tensors_1_name: str, tensors_2_name: str) -> None:
    """Raises unless two nests agree in structure and, leaf by leaf, in dtype and rank.

    Only the ranks of the shapes are compared, as in TF-Agents (a batch of 3
    matches a batch of 5); leaves may be tensors, arrays, Python numbers or specs.

    Raises:
      TypeError: the structures differ (a `ValueError` too).
      ValueError: a leaf's dtype or rank differs; the path and both sides'
        dtype and shape are named.

    >>> try:
    ...     assert_tensors_matching_dtypes_and_shapes(
    ...         {"a": tf.zeros([3, 2])}, {"a": tf.zeros([3], tf.int32)}, "Agent", "x", "y")
    ... except ValueError as error:
    ...     print(error)
    Agent: x at 'a': dtype or rank does not match y: x has dtype float32 and shape (3, 2), y has dtype int32 and shape (3,)
    """
    leaves = _checked_leaves(
        tensors_1, tensors_2, tensors_1_name,
        message=f"{caller}: {tensors_1_name} and {tensors_2_name} do not have matching "
                f"structures")
    for path, x, y in leaves:
        (x_shape, x_dtype), (y_shape, y_dtype) = _shape_and_dtype(x), _shape_and_dtype(y)
        if x_dtype != y_dtype or x_shape.rank != y_shape.rank:
            raise ValueError(nest_error_message(
                tensors_1_name, path,
                f"dtype or rank does not match {tensors_2_name}: {tensors_1_name} has "
                f"{_dtype_shape_text(x_dtype, x_shape)}, {tensors_2_name} has "
                f"{_dtype_shape_text(y_dtype, y_shape)}", owner=str(caller)))


def _dtype_shape_text(dtype: Any, shape: tf.TensorShape) -> str:
    shape_text = "<unknown rank>" if shape.rank is None else str(tuple(shape.as_list()))
    return f"dtype {getattr(dtype, 'name', dtype)} and shape {shape_text}"


def flatten_and_check_shape_nested_specs(specs: NestedSpec, reference_specs: NestedSpec
                                         ) -> Tuple[List[Any], List[tf.TensorShape]]:
    """The leaves of `specs` and the shapes of `reference_specs`, after checking
    that each spec's shape is compatible with its reference's.

    Returns:
      `(flat_specs, flat_reference_shapes)`, in `tree.flatten` order.

    Raises:
      TypeError: the structures differ (a `ValueError` too).
      ValueError: a spec's shape is not compatible with its reference's
        (its path and both specs named).

    >>> flatten_and_check_shape_nested_specs({"a": tf.TensorSpec([None, 2])},
    ...                                      {"a": tf.TensorSpec([4, 2])})
    ([TensorSpec(shape=(None, 2), dtype=tf.float32, name=None)], [TensorShape([4, 2])])
    """
    leaves = _checked_leaves(specs, reference_specs, "specs",
                             message="specs must be compatible with reference_specs")
    flat_specs, flat_shapes = [], []
    for path, s, reference in leaves:
        shape, reference_shape = spec_shape(s), spec_shape(reference)
        if not shape.is_compatible_with(reference_shape):
            raise ValueError(nest_error_message(
                "specs", path, f"shape {shape} is not compatible with the reference "
                f"spec's shape {reference_shape}: got {s!r}, reference {reference!r}"))
        flat_specs.append(s)
        flat_shapes.append(reference_shape)
    return flat_specs, flat_shapes


def assert_value_spec(output_spec: NestedSpec, network_name: str) -> None:
    """Raises unless every leaf of `output_spec` describes values: a float
    `tf.TensorSpec` of shape `()` or `(1,)`.

    Args:
      output_spec: a network's output spec (`network.create_variables()`).
      network_name: the network's name, the message's first word.

    Raises:
      ValueError: a leaf is not a tensor spec, not of shape `()` or `(1,)`,
        or not floating (its path named).

    >>> assert_value_spec({"v": tf.TensorSpec([1])}, "ValueNet")
    >>> try:
    ...     assert_value_spec({"v": tf.TensorSpec([2])}, "ValueNet")
    ... except ValueError as error:
    ...     print(error)
    ValueNet: output_spec at 'v': emits more than one value per batch item, expected shape () or (1,): expected TensorSpec(shape=(2,), dtype=tf.float32, name=None)
    """
    for path, s in tree.flatten_with_path(output_spec):
        if not isinstance(s, tf.TensorSpec):
            reason = "is not a tensor spec"
        elif s.shape.rank is None or tuple(s.shape.as_list()) not in ((), (1,)):
            reason = "emits more than one value per batch item, expected shape () or (1,)"
        elif not s.dtype.is_floating:
            reason = "does not emit real numbers, expected a floating dtype"
        else:
            continue
        raise ValueError(nest_error_message("output_spec", path, reason, owner=network_name,
                                            spec=s))


def flatten_up_to(shallow_tree: Nest, input_tree: Nest, check_types: bool = True) -> List[Any]:
    """`input_tree` flattened down to the leaves of `shallow_tree` (sub-nests of
    `input_tree` below them are kept whole).

    >>> flatten_up_to({"a": 0, "b": 0}, {"a": (1, 2), "b": 3})
    [(1, 2), 3]

    Raises:
      TypeError, ValueError: `input_tree` does not have `shallow_tree`'s
        structure down to its leaves.
    """
    return tree.flatten_up_to(shallow_tree, input_tree, check_types=check_types)


def flatten_with_tuple_paths(structure: Nest) -> List[Tuple[tuple, Any]]:
    """`(path, leaf)` pairs in `tree.flatten` order, each path a tuple of keys.

    >>> flatten_with_tuple_paths({"b": 1, "a": [2]})
    [(('a', 0), 2), (('b',), 1)]
    """
    return tree.flatten_with_path(structure)


def map_structure_up_to(shallow_tree: Nest, func: Callable[..., Any], *inputs: Nest) -> Nest:
    """`func` applied to the parts of `inputs` at the leaves of `shallow_tree`.

    >>> map_structure_up_to({"a": 0}, len, {"a": (1, 2, 3)})
    {'a': 3}
    """
    return tree.map_structure_up_to(shallow_tree, func, *inputs)


def map_structure_with_paths(func: Callable[..., Any], *structure: Nest) -> Nest:
    """`func(path, *leaves)` over nests of one structure; `path` is the keys
    joined by `/` (`''` for a nest that is a single leaf).

    >>> map_structure_with_paths(lambda p, x: f"{p}={x}", {"a": {"b": 1}, "c": [2]})
    {'a': {'b': 'a/b=1'}, 'c': ['c/0=2']}
    """
    return tree.map_structure_with_path(
        lambda path, *leaves: func("/".join(str(k) for k in path), *leaves), *structure)
