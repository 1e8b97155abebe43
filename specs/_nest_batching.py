"""TF-Agents' nest helpers that batch, stack, split and tile nests against specs.

Re-exported by `specs.nest_utils` under TF-Agents' names and arguments, with
this project's path-naming errors.
"""

import collections.abc
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs._messages import (dtype_and_shape, kind, nest_error_message, path_to_str,
                             spec_mismatch_message)
from specs._nest_check import (assert_same_structure, canonical_dtype, dims_compatible,
                               dtype_matches, is_empty_nest, static_spec_shape)
from specs.array_spec import ArraySpec  # noqa: F401  (doctest namespace)
from specs.types import Nest, NestedSpec

_Leaf = Tuple[str, Any, Any]  # (formatted path, value leaf, spec leaf)


def checked_leaves(values: Nest, specs: NestedSpec, name: str,
                   message: Optional[str] = None) -> List[_Leaf]:
    """`(path, value, spec)` per spec leaf, after checking the structures agree."""
    assert_same_structure(values, specs, name, message=message)
    spec_items = tree.flatten_with_path(specs)
    if not spec_items or is_empty_nest(specs):
        return []
    try:
        value_leaves = tree.flatten_up_to(specs, values, check_types=False)
    except (TypeError, ValueError):  # e.g. a namedtuple value for a tuple spec
        value_leaves = list(_leaves_up_to(specs, values))
    return [(path_to_str(p), v, s) for (p, s), v in zip(spec_items, value_leaves)]


def _leaves_up_to(spec: Any, value: Any) -> Iterator[Any]:
    """`value`'s leaves at `spec`'s leaves, for structures that agree by kind."""
    if is_empty_nest(spec):
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
    s_shape = static_spec_shape(spec)
    if v_shape is None or s_shape is None:
        raise ValueError(spec_mismatch_message(
            name, path, "the rank must be known statically", spec, value))
    return tuple(v_shape), s_shape


def _compatible(shape: Sequence[Optional[int]], spec_shape: Sequence[Optional[int]]) -> bool:
    return len(shape) == len(spec_shape) and all(
        dims_compatible(a, b) for a, b in zip(shape, spec_shape))


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
    leaves = checked_leaves(tensors, specs, "tensors")
    out = [change(x) if _outer_rank_of("tensors", path, x, s, (0, 1)) == rank
           else _as_tensor(x, s.dtype) for path, x, s in leaves]
    return _pack_like(tensors, specs, out) if leaves else tensors


def _batched_leaves(tensors: Nest, specs: NestedSpec, what: str) -> List[_Leaf]:
    leaves = checked_leaves(tensors, specs, "tensors")
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
    leaves = checked_leaves(tensors, specs, "tensors")
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
    leaves = checked_leaves(tensors, specs, "tensors")
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
    leaves = checked_leaves(values, specs, name)
    if not leaves:
        return False
    if check_dtypes:
        for path, x, s in leaves:
            if not dtype_matches(dtype_and_shape(x)[0], s.dtype):
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
    if not spec_items or is_empty_nest(spec):
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
    leaves = checked_leaves(
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
    leaves = checked_leaves(
        tensors_or_specs, specs, tensors_name,
        message=f"{caller}: {tensors_name} and {specs_name} do not have matching structures")
    for path, x, s in leaves:
        if isinstance(x, (bool, int, float)):
            x = tf.convert_to_tensor(x, dtype_hint=canonical_dtype(s.dtype))
        v_dtype, v_shape = dtype_and_shape(x)
        if canonical_dtype(v_dtype) != canonical_dtype(s.dtype):
            raise ValueError(nest_error_message(
                tensors_name, path, f"dtype does not match {specs_name}", owner=str(caller),
                spec=s, value=x))
        s_shape = static_spec_shape(s)
        if not s_shape or v_shape is None:
            continue
        if not _inner_compatible(v_shape, s_shape, len(v_shape) - len(s_shape)):
            raise ValueError(nest_error_message(
                tensors_name, path, f"inner shape does not match {specs_name}",
                owner=str(caller), spec=s, value=x))
