"""Path-aware checks of value nests against spec nests, on dm-tree.

`check_nest` is the engine behind policy validation. Given a nest of values
(numpy arrays, tensors or Python scalars) and a nest of specs it checks, in
order, the structure, each leaf's dtype and inner shape (the trailing dims
the spec describes), and that every leaf has the same outer (batch) dims. It
returns those outer dims. Every error names the nest path of the offending
leaf, the expected spec, and the value's dtype and shape.

It reads only static information (dtypes and static shapes), so inside a
`tf.function` it runs once, at trace time, and costs nothing per step.

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

import numpy as np
import tensorflow as tf
import tree

from specs._types import NUMPY_LEAF_TYPES, Nest, NestedSpec
from specs.array_spec import ArraySpec  # noqa: F401  (doctest namespace)

__all__ = [
    "check_nest",
    "get_outer_shape",
    "assert_same_structure",
    "flatten_with_paths",
    "path_to_str",
    "spec_mismatch_message",
    "packer",
    "NestChecker",
    "same_structure",
]

OuterShape = Tuple[Optional[int], ...]

_MISMATCH = "{name} at '{path}': {reason}: expected {spec!r}, got a value with dtype {dtype} and shape {shape}"
_ROOT = "<root>"


def path_to_str(path: Sequence[Any]) -> str:
    """Formats a dm-tree path as `observation/vel`; the empty path is `<root>`."""
    return "/".join(str(p) for p in path) if path else _ROOT


def flatten_with_paths(nest: Nest) -> List[Tuple[str, Any]]:
    """`(path, leaf)` pairs in dm-tree order, paths formatted by `path_to_str`."""
    return [(path_to_str(p), leaf) for p, leaf in tree.flatten_with_path(nest)]


def spec_mismatch_message(name: str, path: str, reason: str, spec: Any, value: Any) -> str:
    """The one wording of every leaf mismatch: path, reason, expected spec, value's dtype and shape."""
    dtype, shape = _dtype_and_shape(value)
    return _MISMATCH.format(name=name, path=path, reason=reason, spec=spec,
                            dtype=_dtype_name(dtype), shape=_shape_str(shape))


def _is_empty_nest(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, (collections.abc.Mapping, list, tuple)):
        return not tree.flatten(x)
    return False


def _kind(x: Any) -> str:
    if isinstance(x, collections.abc.Mapping):
        return "mapping"
    if isinstance(x, (list, tuple)):
        return "sequence"
    if hasattr(x, "__attrs_attrs__"):
        return "attrs"
    return "leaf"


def _structure_errors(value: Any, spec: Any, path: tuple) -> Iterator[str]:
    """Yields one description per place where `value`'s structure differs from `spec`'s.

    Sequences (tuple, list, namedtuple) match each other by length, mappings by
    keys, so a list may stand for a tuple; a spec's empty nest matches any
    empty nest or None.
    """
    if _is_empty_nest(spec):
        if not _is_empty_nest(value):
            yield f"'{path_to_str(path)}': expected an empty nest, got {_describe(value)}"
        return
    spec_kind, value_kind = _kind(spec), _kind(value)
    if spec_kind == "leaf":
        if value_kind != "leaf":
            yield f"'{path_to_str(path)}': expected a single value for {spec!r}, got {_describe(value)}"
        return
    if spec_kind != value_kind:
        yield f"'{path_to_str(path)}': expected a {spec_kind}, got {_describe(value)}"
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
                yield from _structure_errors(value[k], spec[k], path + (k,))
        return
    if spec_kind == "attrs":
        spec_items = [(a.name, getattr(spec, a.name)) for a in spec.__attrs_attrs__]
        if type(value) is not type(spec):
            yield f"'{path_to_str(path)}': expected {type(spec).__name__}, got {_describe(value)}"
            return
        for k, s in spec_items:
            yield from _structure_errors(getattr(value, k), s, path + (k,))
        return
    if len(spec) != len(value):
        yield (f"'{path_to_str(path)}': expected a sequence of length {len(spec)}, "
               f"got {_describe(value)}")
        return
    fields = getattr(spec, "_fields", None)
    for i, (v, s) in enumerate(zip(value, spec)):
        yield from _structure_errors(v, s, path + ((fields[i] if fields else i),))


def _describe(value: Any) -> str:
    if _kind(value) == "leaf" and value is not None:
        dtype, shape = _dtype_and_shape(value)
        return f"a value with dtype {_dtype_name(dtype)} and shape {_shape_str(shape)}"
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return f"{type(value).__name__} with fields {list(value._fields)}"
    if isinstance(value, collections.abc.Mapping):
        return f"a mapping with keys {sorted(value, key=str)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return repr(value)


def assert_same_structure(value: Nest, spec: NestedSpec, name: str = "value") -> None:
    """Raises `TypeError` naming every path where `value`'s structure differs from `spec`'s."""
    errors = list(_structure_errors(value, spec, ()))
    if errors:
        raise TypeError(f"{name} does not match the structure of its spec: " + "; ".join(errors))


def _dtype_and_shape(value: Any) -> Tuple[Any, Optional[tuple]]:
    """The value's dtype and static shape; shape None when its rank is unknown."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return value.dtype, value.shape
    if isinstance(value, (tf.Tensor, tf.Variable)) or hasattr(value, "dtype") and hasattr(value, "shape"):
        shape = value.shape
        if isinstance(shape, tf.TensorShape):
            shape = None if shape.rank is None else tuple(shape.as_list())
        return value.dtype, (None if shape is None else tuple(shape))
    if isinstance(value, (bool, int, float)):
        return type(value), ()
    return None, None


def _dtype_name(dtype: Any) -> str:
    if dtype is None:
        return "<none>"
    if isinstance(dtype, type) and dtype in (bool, int, float):
        return f"python {dtype.__name__}"
    return getattr(dtype, "name", str(dtype))


def _shape_str(shape: Optional[tuple]) -> str:
    return "<unknown rank>" if shape is None else str(tuple(shape))


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
            _kind(v) != "leaf" for v in value_leaves):
        assert_same_structure(value, spec, name)
        raise TypeError(f"{name} does not match the structure of its spec {spec!r}")

    expected_outer: Optional[OuterShape] = None if outer_shape is None else tuple(outer_shape)
    first_path: Optional[str] = None if outer_shape is None else "(given outer shape)"
    paths = None
    for i, (v, s) in enumerate(zip(value_leaves, spec_leaves)):
        v_dtype, v_shape = _dtype_and_shape(v)
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
            raise ValueError(
                f"{name} at '{paths[i]}': inconsistent outer (batch) dims: this leaf has outer "
                f"shape {outer} (value shape {v_shape}, spec shape {s_shape}) but {first_path} "
                f"has {expected_outer}")
        else:
            expected_outer = _merge_outer(expected_outer, outer)
    return expected_outer if expected_outer is not None else ()


def _spec_paths(spec: NestedSpec) -> List[str]:
    return [path_to_str(p) for p, _ in tree.flatten_with_path(spec)]


def get_outer_shape(value: Nest, spec: NestedSpec) -> OuterShape:
    """The outer (batch) dims of `value` relative to `spec`, after checking it (see `check_nest`)."""
    return check_nest(value, spec)


def packer(structure: Nest) -> Callable[[Sequence[Any]], Nest]:
    """A function that packs a flat list of leaves into `structure`, built once.

    Equivalent to `tree.unflatten_as(structure, leaves)` (dm-tree leaf order,
    dict keys sorted), but the structure is analysed when the packer is made,
    so each call only rebuilds the containers. For per-step hot paths.

    >>> pack = packer({"b": 0, "a": (0, 0)})
    >>> pack([1, 2, 3])
    {'a': (1, 2), 'b': 3}
    """
    counter = [0]

    def build(node: Any) -> Callable[[Sequence[Any]], Any]:
        if isinstance(node, collections.abc.Mapping):
            keys = sorted(node)
            parts = [build(node[k]) for k in keys]
            kind = type(node)
            if kind is dict:
                return lambda flat: {k: part(flat) for k, part in zip(keys, parts)}
            order = list(node)  # other mappings keep their own key order

            def pack_mapping(flat: Sequence[Any]) -> Any:
                values = {k: part(flat) for k, part in zip(keys, parts)}
                return kind((k, values[k]) for k in order)

            return pack_mapping
        if isinstance(node, (list, tuple)):
            parts = [build(child) for child in node]
            if isinstance(node, tuple) and hasattr(node, "_fields"):
                kind = type(node)
                return lambda flat: kind(*[part(flat) for part in parts])
            kind = type(node)
            return lambda flat: kind(part(flat) for part in parts)
        index = counter[0]
        counter[0] += 1
        return lambda flat: flat[index]

    return build(structure)


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
