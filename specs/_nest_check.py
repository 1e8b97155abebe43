"""The path-aware nest checks behind `specs.nest_utils`: structure, dtype and shape
checks of value nests against spec nests, and the helpers the other nest modules share.

Every error names the nest path of the offending leaf and both sides. The
public names are re-exported by `specs.nest_utils`; see its docstring.
"""

import collections.abc
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs._messages import (ROOT_PATH, describe_value, dtype_and_shape, kind,
                             nest_error_message, path_to_str, spec_mismatch_message)
from specs import tensor_spec as _tensor_spec
from specs.array_spec import ArraySpec  # noqa: F401  (doctest namespace)
from specs.types import NUMPY_LEAF_TYPES, Nest, NestedSpec

OuterShape = Tuple[Optional[int], ...]

def flatten_with_paths(nest: Nest) -> List[Tuple[str, Any]]:
    """`(path, leaf)` pairs in dm-tree order, paths formatted by `path_to_str`."""
    return [(path_to_str(p), leaf) for p, leaf in tree.flatten_with_path(nest)]


def is_empty_nest(x: Any) -> bool:
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
    if is_empty_nest(spec):
        if not is_empty_nest(value):
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


def canonical_dtype(dtype: Any) -> Any:
    try:
        return tf.as_dtype(dtype)
    except TypeError:
        return dtype


_PY_KIND_OK = {
    bool: lambda d: d.is_bool,
    int: lambda d: d.is_integer,
    float: lambda d: d.is_floating,
}


def dtype_matches(value_dtype: Any, spec_dtype: Any) -> bool:
    spec_dtype = canonical_dtype(spec_dtype)
    if isinstance(value_dtype, type) and value_dtype in _PY_KIND_OK:
        # Python scalars are weakly typed: they fit any dtype of their kind.
        return _PY_KIND_OK[value_dtype](spec_dtype)
    if value_dtype is None:
        return False
    return canonical_dtype(value_dtype) == spec_dtype


def static_spec_shape(spec: Any) -> Optional[tuple]:
    shape = spec.shape
    if isinstance(shape, tf.TensorShape):
        return None if shape.rank is None else tuple(shape.as_list())
    return tuple(shape)


def dims_compatible(a: Optional[int], b: Optional[int]) -> bool:
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
    if not spec_leaves or is_empty_nest(spec):  # dm-tree flattens None to [None]
        if not is_empty_nest(value):
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
        if not dtype_matches(v_dtype, s.dtype):
            paths = paths or _spec_paths(spec)
            raise TypeError(spec_mismatch_message(name, paths[i], "dtype mismatch", s, v))
        if v_shape is None:
            continue  # unknown rank (only inside graphs): nothing static to check
        s_shape = static_spec_shape(s)
        inner_rank = len(s_shape)
        outer_rank = len(v_shape) - inner_rank
        if outer_rank < 0 or not all(
                dims_compatible(a, b) for a, b in zip(v_shape[outer_rank:], s_shape)):
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
                dims_compatible(a, b) for a, b in zip(outer, expected_outer)):
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
            differ = (canonical_dtype(g.dtype) != canonical_dtype(e.dtype)
                      or static_spec_shape(g) != static_spec_shape(e))
        if differ:
            rule = "they must be equal" if exact else "they must agree in dtype and shape"
            raise ValueError(nest_error_message(
                what, path, f"{given_name} has {g!r}, {expected_name} has {e!r}; {rule}",
                owner=owner))


def _empty_part_mismatch(value: Any, spec: Any, path: tuple) -> Tuple[tuple, Any, Any]:
    """The first place where an empty part of `spec` meets an empty value of
    another container type, as `(path, spec part, value part)`; the root when
    there is none."""
    if is_empty_nest(spec):
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
