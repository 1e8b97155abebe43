"""TF-Agents' remaining nest helpers: mapping, flattening and spec assertions.

Re-exported by `specs.nest_utils` under TF-Agents' names and arguments.
"""

from typing import Any, Callable, List, Sequence, Tuple

import numpy as np  # noqa: F401  (doctest namespace)
import tensorflow as tf
import tree

from specs._messages import nest_error_message
from specs._nest_batching import checked_leaves
from specs._nest_check import canonical_dtype
from specs.types import NUMPY_LEAF_TYPES, Nest, NestedSpec

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
        return spec_shape(x), canonical_dtype(x.dtype)
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
    leaves = checked_leaves(
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
    leaves = checked_leaves(specs, reference_specs, "specs",
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
