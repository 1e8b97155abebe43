"""Tests for TF-Agents' nest helpers in specs/nest_utils.py: batching, stacking,
splitting, outer shapes, pruning and `where`, each with path-naming errors."""

import collections

import numpy as np
import pytest
import tensorflow as tf
import tree
from hypothesis import given, settings
from hypothesis import strategies as st

import spec_strategies
from specs import array_spec
from specs import nest_utils
from specs.array_spec import ArraySpec
from specs.tensor_spec import BoundedTensorSpec

Pair = collections.namedtuple("Pair", ["first", "second"])

# A nested time-step-like spec; dm-tree orders leaves by sorted keys:
# observation/pixels, observation/pos, reward, step_type.
SPEC = {
    "step_type": tf.TensorSpec((), tf.int32),
    "reward": tf.TensorSpec((), tf.float32),
    "observation": {"pos": tf.TensorSpec((2,), tf.float32),
                    "pixels": tf.TensorSpec((3, 3), tf.uint8)},
}
ARRAY_SPEC = {
    "step_type": ArraySpec((), np.int32),
    "reward": ArraySpec((), np.float32),
    "observation": {"pos": ArraySpec((2,), np.float32),
                    "pixels": ArraySpec((3, 3), np.uint8)},
}


def _time_step(outer=(), module=tf):
    """A value for SPEC (or ARRAY_SPEC with `module=np`) with distinct entries."""
    size = int(np.prod(outer, dtype=np.int64))
    return {
        "step_type": module.reshape(np.arange(size, dtype=np.int32), outer),
        "reward": module.reshape(np.arange(size, dtype=np.float32) / 2, outer),
        "observation": {
            "pos": module.reshape(np.arange(size * 2, dtype=np.float32), outer + (2,)),
            "pixels": module.reshape(np.arange(size * 9, dtype=np.uint8), outer + (3, 3)),
        },
    }


def _shapes(nest):
    return tree.map_structure(lambda x: tuple(np.shape(x)), nest)


def _numpy(nest):
    return tree.map_structure(lambda x: x.numpy() if hasattr(x, "numpy") else np.asarray(x),
                              nest)


def _assert_nests_equal(a, b):
    tree.assert_same_structure(a, b)
    for x, y in zip(tree.flatten(_numpy(a)), tree.flatten(_numpy(b))):
        np.testing.assert_array_equal(x, y)


def _batched_shapes(outer):
    return {"step_type": outer, "reward": outer,
            "observation": {"pos": outer + (2,), "pixels": outer + (3, 3)}}


# --------------------------------------------------------------------------
# public surface
# --------------------------------------------------------------------------

NEW_NAMES = [
    "batch_nested_tensors", "unbatch_nested_tensors", "batch_nested_array",
    "unbatch_nested_array", "stack_nested_tensors", "unstack_nested_tensors",
    "stack_nested_arrays", "unstack_nested_arrays", "unstack_nested_arrays_into_flat_items",
    "split_nested_tensors", "flatten_multi_batched_nested_tensors", "tile_batch",
    "get_outer_shape", "get_outer_rank", "get_outer_array_shape",
    "is_batched_nested_tensors", "is_batched_nested_array", "prune_extra_keys", "where",
    "assert_same_structure", "assert_matching_dtypes_and_inner_shapes",
    "flatten_with_joined_paths", "unbatch_nested_tensors_to_arrays",
    "remove_singleton_batch_spec_dim",
]


@pytest.mark.parametrize("name", NEW_NAMES)
def test_tf_agents_helpers_are_exported(name):
    assert name in nest_utils.__all__
    assert callable(getattr(nest_utils, name))


# --------------------------------------------------------------------------
# batch_nested_tensors / unbatch_nested_tensors
# --------------------------------------------------------------------------


def test_batch_nested_tensors_without_specs_adds_a_leading_dim():
    batched = nest_utils.batch_nested_tensors(_time_step())
    assert _shapes(batched) == _batched_shapes((1,))
    _assert_nests_equal(batched, _time_step((1,)))


def test_batch_nested_tensors_with_specs_batches_only_unbatched_leaves():
    value = _time_step()
    value["observation"]["pos"] = tf.constant([[1.0, 2.0], [3.0, 4.0]])  # already batched
    batched = nest_utils.batch_nested_tensors(value, SPEC)
    assert _shapes(batched)["observation"]["pos"] == (2, 2)
    assert _shapes(batched)["reward"] == (1,)
    assert _shapes(batched)["observation"]["pixels"] == (1, 3, 3)
    np.testing.assert_array_equal(batched["observation"]["pos"].numpy(), [[1, 2], [3, 4]])


def test_batch_nested_tensors_keeps_the_values_containers():
    spec = (tf.TensorSpec((), tf.float32), tf.TensorSpec((2,), tf.float32))
    batched = nest_utils.batch_nested_tensors(Pair(tf.constant(1.0), tf.zeros(2)), spec)
    assert isinstance(batched, Pair)
    assert batched.first.shape == (1,) and batched.second.shape == (1, 2)


def test_batch_nested_tensors_names_a_leaf_with_two_outer_dims():
    value = _time_step()
    value["observation"]["pos"] = tf.zeros((4, 5, 2))
    with pytest.raises(ValueError) as info:
        nest_utils.batch_nested_tensors(value, SPEC)
    message = str(info.value)
    assert "tensors at 'observation/pos'" in message
    assert "expected 0 or 1 outer dim(s), found 2" in message
    assert "TensorSpec(shape=(2,)" in message
    assert "dtype float32 and shape (4, 5, 2)" in message


def test_batch_nested_tensors_names_an_inner_shape_mismatch():
    value = _time_step()
    value["observation"]["pixels"] = tf.zeros((3, 4), tf.uint8)
    with pytest.raises(ValueError, match=r"tensors at 'observation/pixels': shape mismatch"):
        nest_utils.batch_nested_tensors(value, SPEC)


def test_batch_nested_tensors_names_a_missing_key():
    value = _time_step()
    del value["observation"]["pos"]
    with pytest.raises(TypeError, match=r"'observation': missing keys \['pos'\]"):
        nest_utils.batch_nested_tensors(value, SPEC)


def test_unbatch_nested_tensors_without_specs_removes_the_leading_dim():
    unbatched = nest_utils.unbatch_nested_tensors(_time_step((1,)))
    assert _shapes(unbatched) == _batched_shapes(())
    _assert_nests_equal(unbatched, _time_step())


def test_unbatch_nested_tensors_with_specs_keeps_unbatched_leaves():
    value = _time_step((1,))
    value["reward"] = tf.constant(7.0)
    unbatched = nest_utils.unbatch_nested_tensors(value, SPEC)
    assert _shapes(unbatched) == _batched_shapes(())
    assert unbatched["reward"].numpy() == 7.0


def test_unbatch_nested_tensors_names_the_bad_leaf():
    value = _time_step((1,))
    value["step_type"] = tf.zeros((1, 1, 1), tf.int32)
    with pytest.raises(ValueError, match=r"tensors at 'step_type': expected 0 or 1 outer dim"):
        nest_utils.unbatch_nested_tensors(value, SPEC)


def test_batch_then_unbatch_round_trips():
    value = _time_step()
    _assert_nests_equal(
        nest_utils.unbatch_nested_tensors(nest_utils.batch_nested_tensors(value, SPEC), SPEC),
        value)


def test_batch_nested_tensors_handles_sparse_leaves():
    sparse = tf.sparse.from_dense(tf.constant([0.0, 2.0, 0.0]))
    spec = {"s": tf.SparseTensorSpec((3,), tf.float32)}
    batched = nest_utils.batch_nested_tensors({"s": sparse}, spec)
    assert isinstance(batched["s"], tf.SparseTensor)
    np.testing.assert_array_equal(tf.sparse.to_dense(batched["s"]).numpy(), [[0, 2, 0]])
    unbatched = nest_utils.unbatch_nested_tensors(batched, spec)
    np.testing.assert_array_equal(tf.sparse.to_dense(unbatched["s"]).numpy(), [0, 2, 0])


# --------------------------------------------------------------------------
# batch_nested_array / unbatch_nested_array
# --------------------------------------------------------------------------


def test_batch_and_unbatch_nested_array():
    value = _time_step(module=np)
    batched = nest_utils.batch_nested_array(value)
    assert _shapes(batched) == _batched_shapes((1,))
    unbatched = nest_utils.unbatch_nested_array(batched)
    assert _shapes(unbatched) == _batched_shapes(())
    _assert_nests_equal(unbatched, value)


def test_batch_nested_array_batches_python_scalars():
    assert nest_utils.batch_nested_array({"a": 3})["a"].tolist() == [3]


def test_unbatch_nested_array_names_a_leaf_with_a_larger_batch():
    value = _time_step((1,), module=np)
    value["observation"]["pos"] = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError) as info:
        nest_utils.unbatch_nested_array(value)
    assert "nested_array at 'observation/pos': expected a leading dim of size 1" in str(info.value)
    assert "shape (2, 2)" in str(info.value)


# --------------------------------------------------------------------------
# stack / unstack, tensors and arrays
# --------------------------------------------------------------------------


def test_stack_nested_tensors_stacks_leaf_by_leaf():
    items = [{"a": tf.constant([1, 2]), "b": (tf.constant(1.0),)},
             {"a": tf.constant([3, 4]), "b": (tf.constant(2.0),)}]
    stacked = nest_utils.stack_nested_tensors(items)
    np.testing.assert_array_equal(stacked["a"].numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(stacked["b"][0].numpy(), [1.0, 2.0])
    along_1 = nest_utils.stack_nested_tensors([{"a": x["a"]} for x in items], axis=1)
    np.testing.assert_array_equal(along_1["a"].numpy(), [[1, 3], [2, 4]])


def test_stack_nested_tensors_names_the_item_and_path_that_differ():
    items = [{"a": tf.zeros(2), "b": tf.zeros(())}, {"a": tf.zeros(2)}]
    with pytest.raises(TypeError) as info:
        nest_utils.stack_nested_tensors(items)
    assert "tensors[1] does not match the structure of tensors[0]" in str(info.value)
    assert "missing keys ['b']" in str(info.value)


def test_unstack_nested_tensors_gives_one_nest_per_batch_item():
    items = nest_utils.unstack_nested_tensors(_time_step((3,)), SPEC)
    assert len(items) == 3
    for i, item in enumerate(items):
        assert _shapes(item) == _batched_shapes(())
        assert item["step_type"].numpy() == i
        np.testing.assert_array_equal(item["observation"]["pos"].numpy(), [2 * i, 2 * i + 1])
    _assert_nests_equal(nest_utils.stack_nested_tensors(items), _time_step((3,)))


def test_unstack_nested_tensors_rejects_an_unbatched_leaf_by_path():
    value = _time_step((3,))
    value["reward"] = tf.constant(1.0)
    with pytest.raises(ValueError) as info:
        nest_utils.unstack_nested_tensors(value, SPEC)
    assert "tensors at 'reward': can only unstack tensors with a batch dim" in str(info.value)
    assert "dtype float32 and shape ()" in str(info.value)


def test_stack_and_unstack_nested_arrays():
    items = [_time_step(module=np), _time_step(module=np)]
    items[1]["reward"] = np.float32(5.0)
    stacked = nest_utils.stack_nested_arrays(items)
    assert _shapes(stacked) == _batched_shapes((2,))
    np.testing.assert_array_equal(stacked["reward"], [0.0, 5.0])
    unstacked = nest_utils.unstack_nested_arrays(stacked)
    assert len(unstacked) == 2
    _assert_nests_equal(unstacked[1], items[1])


def test_unstack_nested_arrays_gives_views():
    array = np.arange(6).reshape(3, 2)
    items = nest_utils.unstack_nested_arrays({"a": array})
    assert np.shares_memory(items[1]["a"], array)
    np.testing.assert_array_equal(items[1]["a"], [2, 3])


def test_unstack_nested_arrays_into_flat_items_in_dm_tree_order():
    value = {"b": np.array([10, 20]), "a": (np.array([1, 2]), np.array([[1, 1], [2, 2]]))}
    items = nest_utils.unstack_nested_arrays_into_flat_items(value)
    assert len(items) == 2
    assert [type(i) for i in items] == [tuple, tuple]
    first, second = items
    assert (first[0], first[2]) == (1, 10)
    np.testing.assert_array_equal(second[1], [2, 2])
    assert second[2] == 20


def test_unstack_nested_arrays_names_a_leaf_with_another_batch_size():
    value = _time_step((3,), module=np)
    value["step_type"] = np.zeros(2, np.int32)
    with pytest.raises(ValueError) as info:
        nest_utils.unstack_nested_arrays(value)
    assert "nested_array at 'step_type': expected a leading (batch) dim of 3" in str(info.value)
    assert "like 'observation/pixels'" in str(info.value)


def test_unstack_nested_arrays_of_an_empty_nest_is_empty():
    assert nest_utils.unstack_nested_arrays({}) == []


def test_stack_nested_arrays_errors_name_paths():
    with pytest.raises(ValueError, match="at least one nest"):
        nest_utils.stack_nested_arrays([])
    with pytest.raises(ValueError,
                       match=r"nested_arrays at 'a': cannot stack shapes \[\(2,\), \(3,\)\]"):
        nest_utils.stack_nested_arrays([{"a": np.zeros(2)}, {"a": np.zeros(3)}])
    with pytest.raises(TypeError,
                       match=r"nested_arrays\[1\].*'a': expected a sequence of length 2"):
        nest_utils.stack_nested_arrays([{"a": (1, 2)}, {"a": (1,)}])


# --------------------------------------------------------------------------
# split_nested_tensors
# --------------------------------------------------------------------------


def test_split_nested_tensors_into_equal_parts():
    parts = nest_utils.split_nested_tensors(_time_step((4,)), SPEC, 2)
    assert len(parts) == 2
    assert _shapes(parts[1]) == _batched_shapes((2,))
    np.testing.assert_array_equal(parts[1]["step_type"].numpy(), [2, 3])
    np.testing.assert_array_equal(parts[1]["observation"]["pos"].numpy(), [[4, 5], [6, 7]])


def test_split_nested_tensors_by_sizes():
    parts = nest_utils.split_nested_tensors(_time_step((4,)), SPEC, [1, 3])
    assert [p["reward"].shape.as_list() for p in parts] == [[1], [3]]
    np.testing.assert_array_equal(parts[1]["reward"].numpy(), [0.5, 1.0, 1.5])


def test_split_nested_tensors_rejects_an_unbatched_leaf_by_path():
    value = _time_step((4,))
    value["observation"]["pixels"] = tf.zeros((3, 3), tf.uint8)
    with pytest.raises(ValueError, match=r"tensors at 'observation/pixels': can only split"):
        nest_utils.split_nested_tensors(value, SPEC, 2)


def test_split_nested_tensors_sparse_leaves_take_only_a_number():
    spec = {"s": tf.SparseTensorSpec((2,), tf.float32)}
    sparse = tf.sparse.from_dense(tf.constant([[1.0, 0.0], [0.0, 2.0]]))
    parts = nest_utils.split_nested_tensors({"s": sparse}, spec, 2)
    np.testing.assert_array_equal(tf.sparse.to_dense(parts[1]["s"]).numpy(), [[0, 2]])
    with pytest.raises(ValueError, match=r"tensors at 's': a sparse tensor splits only"):
        nest_utils.split_nested_tensors({"s": sparse}, spec, [1, 1])


# --------------------------------------------------------------------------
# flatten_multi_batched_nested_tensors
# --------------------------------------------------------------------------


def test_flatten_multi_batched_nested_tensors_merges_outer_dims():
    flat, batch_dims = nest_utils.flatten_multi_batched_nested_tensors(_time_step((2, 3)), SPEC)
    assert _shapes(flat) == _batched_shapes((6,))
    assert batch_dims.dtype == tf.int64
    assert batch_dims.numpy().tolist() == [2, 3]
    np.testing.assert_array_equal(flat["step_type"].numpy(), np.arange(6))
    np.testing.assert_array_equal(flat["observation"]["pos"].numpy()[4], [8, 9])


def test_flatten_multi_batched_nested_tensors_with_unknown_dims_in_a_graph():
    spec = {"a": tf.TensorSpec((2,), tf.float32)}

    @tf.function(input_signature=[tf.TensorSpec((None, None, 2), tf.float32)])
    def run(x):
        flat, dims = nest_utils.flatten_multi_batched_nested_tensors({"a": x}, spec)
        assert flat["a"].shape.as_list() == [None, 2]
        return flat["a"], dims

    flat, dims = run(tf.zeros((2, 5, 2)))
    assert flat.shape == (10, 2)
    assert dims.numpy().tolist() == [2, 5]


def test_flatten_multi_batched_nested_tensors_names_inconsistent_outer_ranks():
    value = _time_step((2, 3))
    value["step_type"] = tf.zeros((6,), tf.int32)
    with pytest.raises(ValueError) as info:
        nest_utils.flatten_multi_batched_nested_tensors(value, SPEC)
    assert ("tensors at 'step_type': expected 2 outer dim(s) like 'observation/pixels', "
            "found 1") in str(info.value)


# --------------------------------------------------------------------------
# tile_batch
# --------------------------------------------------------------------------


def test_tile_batch_repeats_each_item_in_place():
    value = {"a": tf.constant([[1, 2], [3, 4]]), "b": (tf.constant([5.0, 6.0]),)}
    tiled = nest_utils.tile_batch(value, 3)
    np.testing.assert_array_equal(tiled["a"].numpy(),
                                  [[1, 2], [1, 2], [1, 2], [3, 4], [3, 4], [3, 4]])
    np.testing.assert_array_equal(tiled["b"][0].numpy(), [5, 5, 5, 6, 6, 6])


def test_tile_batch_keeps_static_shapes_for_an_int_multiplier():
    @tf.function(input_signature=[tf.TensorSpec((None, 2), tf.float32)])
    def dynamic(x):
        out = nest_utils.tile_batch(x, 2)
        assert out.shape.as_list() == [None, 2]
        return out

    assert nest_utils.tile_batch(tf.zeros((3, 2)), 2).shape.as_list() == [6, 2]
    assert dynamic(tf.zeros((3, 2))).shape == (6, 2)
    assert nest_utils.tile_batch(tf.zeros((3, 2)), tf.constant(4)).shape == (12, 2)


def test_tile_batch_names_a_scalar_leaf():
    with pytest.raises(ValueError) as info:
        nest_utils.tile_batch({"a": tf.zeros(2), "b": {"c": tf.constant(1.0)}}, 2)
    assert "tensors at 'b/c': tile_batch needs a statically known rank of at least 1" in str(
        info.value)
    assert "shape ()" in str(info.value)


# --------------------------------------------------------------------------
# outer shapes and ranks
# --------------------------------------------------------------------------


def test_get_outer_shape_is_a_runtime_shape_tensor():
    np.testing.assert_array_equal(nest_utils.get_outer_shape(_time_step((2, 3)), SPEC).numpy(),
                                  [2, 3])
    assert nest_utils.get_outer_shape(_time_step(), SPEC).shape == (0,)


def test_get_outer_shape_inside_tf_function_reads_the_unknown_batch():
    signature = [tf.nest.map_structure(
        lambda s: tf.TensorSpec((None,) + tuple(s.shape), s.dtype), SPEC)]

    @tf.function(input_signature=signature)
    def outer(value):
        return nest_utils.get_outer_shape(value, SPEC)

    np.testing.assert_array_equal(outer(_time_step((5,))).numpy(), [5])


def test_flatten_with_joined_paths_joins_keys_with_slashes():
    flat = nest_utils.flatten_with_joined_paths({"b": 1, "a": {"x": 2, "y": (3, 4)}})
    assert flat == [("a/x", 2), ("a/y/0", 3), ("a/y/1", 4), ("b", 1)]
    assert nest_utils.flatten_with_joined_paths(7) == [("", 7)]


def test_unbatch_nested_tensors_to_arrays_drops_a_batch_of_one():
    arrays = nest_utils.unbatch_nested_tensors_to_arrays(_time_step((1,)))
    assert isinstance(arrays["observation"]["pos"], np.ndarray)
    np.testing.assert_array_equal(arrays["observation"]["pos"], [0.0, 1.0])
    assert arrays["step_type"].shape == ()
    with pytest.raises(ValueError, match="at 'reward': expected a batch dim of 1, got shape "
                                         r"\(2,\)"):
        nest_utils.unbatch_nested_tensors_to_arrays({"reward": tf.zeros([2])})


def test_remove_singleton_batch_spec_dim_keeps_bounds_and_names():
    spec = {"a": BoundedTensorSpec((1, 2), tf.int32, 0, 5, "a"),
            "b": tf.TensorSpec((1, 1, 3), tf.float32, "b")}
    out = nest_utils.remove_singleton_batch_spec_dim(spec, 1)
    assert out["a"] == BoundedTensorSpec((2,), tf.int32, 0, 5, "a")
    assert out["b"] == tf.TensorSpec((1, 3), tf.float32, "b")
    with pytest.raises(ValueError, match=r"at 'b': expected 2 outer dims of size 1, got shape "
                                         r"\(1, 2, 3\)"):
        nest_utils.remove_singleton_batch_spec_dim({"b": tf.TensorSpec((1, 2, 3), tf.float32)}, 2)


@pytest.mark.parametrize("outer", [(), (4,), (2, 3)])
def test_get_outer_rank(outer):
    assert nest_utils.get_outer_rank(_time_step(outer), SPEC) == len(outer)


def test_get_outer_rank_of_an_empty_nest_is_zero():
    assert nest_utils.get_outer_rank((), ()) == 0
    assert nest_utils.get_outer_rank({}, {}) == 0


def test_get_outer_rank_ignores_dtypes():
    value = _time_step((4,))
    value["reward"] = tf.zeros(4, tf.float64)
    assert nest_utils.get_outer_rank(value, SPEC) == 1


def test_get_outer_rank_names_a_leaf_with_another_number_of_outer_dims():
    value = _time_step((4,))
    value["step_type"] = tf.constant(1)
    with pytest.raises(ValueError) as info:
        nest_utils.get_outer_rank(value, SPEC)
    message = str(info.value)
    assert "tensors at 'step_type': a mix of batched and unbatched values" in message
    assert "this leaf has 0 outer dim(s), 'observation/pixels' has 1" in message


def test_get_outer_rank_names_an_inner_shape_mismatch():
    value = _time_step((4,))
    value["observation"]["pos"] = tf.zeros((4, 3))
    with pytest.raises(ValueError, match=r"tensors at 'observation/pos': shape mismatch"):
        nest_utils.get_outer_rank(value, SPEC)


def test_get_outer_rank_needs_known_ranks():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def run(x):
        return nest_utils.get_outer_rank({"a": x}, {"a": tf.TensorSpec((2,), tf.float32)})

    with pytest.raises(ValueError, match=r"tensors at 'a': the rank must be known statically"):
        run(tf.zeros((1, 2)))


def test_get_outer_array_shape_reads_the_first_leaf():
    assert nest_utils.get_outer_array_shape(_time_step((5, 2), module=np), ARRAY_SPEC) == (5, 2)
    assert nest_utils.get_outer_array_shape(_time_step(module=np), ARRAY_SPEC) == ()
    assert nest_utils.get_outer_array_shape((), ()) == ()


def test_get_outer_array_shape_names_a_too_small_first_leaf():
    value = _time_step(module=np)
    value["observation"]["pixels"] = np.zeros(3, np.uint8)
    with pytest.raises(ValueError, match=r"nested_array at 'observation/pixels': fewer dims"):
        nest_utils.get_outer_array_shape(value, ARRAY_SPEC)


# --------------------------------------------------------------------------
# is_batched_nested_tensors / is_batched_nested_array
# --------------------------------------------------------------------------


def test_is_batched_nested_tensors():
    assert nest_utils.is_batched_nested_tensors(_time_step((4,)), SPEC) is True
    assert nest_utils.is_batched_nested_tensors(_time_step(), SPEC) is False
    assert nest_utils.is_batched_nested_tensors(_time_step((4, 2)), SPEC,
                                                num_outer_dims=2) is True


def test_is_batched_nested_tensors_with_another_consistent_outer_rank_is_false():
    # As in TF-Agents: consistent leaves with the wrong number of outer dims.
    assert nest_utils.is_batched_nested_tensors(_time_step((4, 2)), SPEC) is False


def test_is_batched_nested_tensors_names_a_mix_of_batched_and_unbatched():
    value = _time_step((4,))
    value["observation"]["pos"] = tf.zeros(2)
    with pytest.raises(ValueError) as info:
        nest_utils.is_batched_nested_tensors(value, SPEC)
    message = str(info.value)
    assert "tensors at 'observation/pos': a mix of batched and unbatched values" in message
    assert "TensorSpec(shape=(2,)" in message and "shape (2,)" in message


def test_is_batched_nested_tensors_checks_dtypes_by_path():
    value = _time_step((4,))
    value["reward"] = tf.zeros(4, tf.float64)
    with pytest.raises(TypeError) as info:
        nest_utils.is_batched_nested_tensors(value, SPEC)
    assert "tensors at 'reward': dtype mismatch" in str(info.value)
    assert "dtype float64 and shape (4,)" in str(info.value)
    assert nest_utils.is_batched_nested_tensors(value, SPEC, check_dtypes=False) is True


def test_is_batched_nested_tensors_allow_extra_fields():
    value = {"a": tf.zeros((3, 4)), "b": tf.zeros((5, 6))}
    spec = {"a": tf.TensorSpec((4,), tf.float32)}
    with pytest.raises(TypeError, match=r"unexpected keys \['b'\]"):
        nest_utils.is_batched_nested_tensors(value, spec)
    assert nest_utils.is_batched_nested_tensors(value, spec, allow_extra_fields=True) is True


def test_is_batched_nested_array():
    assert nest_utils.is_batched_nested_array(_time_step((4,), np), ARRAY_SPEC) is True
    assert nest_utils.is_batched_nested_array(_time_step((), np), ARRAY_SPEC) is False
    value = _time_step((4,), np)
    value["step_type"] = np.int32(0)
    with pytest.raises(ValueError, match=r"arrays at 'step_type': a mix of batched"):
        nest_utils.is_batched_nested_array(value, ARRAY_SPEC)
    value["step_type"] = np.zeros(4, np.int64)
    with pytest.raises(TypeError, match=r"arrays at 'step_type': dtype mismatch"):
        nest_utils.is_batched_nested_array(value, ARRAY_SPEC)


# --------------------------------------------------------------------------
# prune_extra_keys
# --------------------------------------------------------------------------


def test_prune_extra_keys_on_nested_dicts():
    wide = {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": 3}
    assert nest_utils.prune_extra_keys({"a": {"b": 0}, "d": None}, wide) == {
        "a": {"b": 1}, "d": [1, 2]}


def test_prune_extra_keys_follows_narrows_key_order_and_wides_type():
    wide = collections.OrderedDict([("x", 1), ("y", 2), ("z", 3)])
    pruned = nest_utils.prune_extra_keys({"z": 0, "x": 0}, wide)
    assert type(pruned) is collections.OrderedDict
    assert list(pruned.items()) == [("z", 3), ("x", 1)]
    default = collections.defaultdict(list, {"x": 1, "y": 2})
    pruned = nest_utils.prune_extra_keys({"x": 0}, default)
    assert type(pruned) is collections.defaultdict and pruned.default_factory is list
    assert dict(pruned) == {"x": 1}


def test_prune_extra_keys_returns_wide_where_they_disagree():
    wide = [{"a": "a", "b": "b"}]
    assert nest_utils.prune_extra_keys([{"a": 1}], wide) == [{"a": "a"}]
    assert nest_utils.prune_extra_keys([{"c": 1}], wide) == wide  # "c" is missing
    assert nest_utils.prune_extra_keys("scalar", wide) == wide  # other kind
    assert nest_utils.prune_extra_keys([1, 2], wide) == wide  # other length
    assert nest_utils.prune_extra_keys((1,), wide) == wide  # tuple vs list


def test_prune_extra_keys_through_namedtuples_and_lists():
    narrow = Pair(first={"a": 0}, second=[{"b": 0}, 1])
    wide = Pair(first={"a": 1, "x": 2}, second=[{"b": 3, "y": 4}, {"kept": 5}])
    pruned = nest_utils.prune_extra_keys(narrow, wide)
    assert type(pruned) is Pair
    assert pruned == Pair(first={"a": 1}, second=[{"b": 3}, {"kept": 5}])


def test_prune_extra_keys_through_attrs_classes():
    attr = pytest.importorskip("attr")

    @attr.s
    class Holder:
        x = attr.ib()
        y = attr.ib()

    pruned = nest_utils.prune_extra_keys(Holder({"a": 0}, 0), Holder({"a": 1, "b": 2}, 3))
    assert pruned == Holder({"a": 1}, 3)


def test_prune_extra_keys_sees_through_trackable_containers():
    module = tf.Module()
    module.state = {"a": 1, "b": {"c": 2, "d": 3}}  # tracked as a `_DictWrapper`
    assert nest_utils.prune_extra_keys({"b": {"c": 0}}, module.state) == {"b": {"c": 2}}


def test_prune_extra_keys_empty_tuple_prunes_everything():
    assert nest_utils.prune_extra_keys((), {"a": 1}) == ()
    assert nest_utils.prune_extra_keys({"a": ()}, {"a": {"b": 1}, "c": 2}) == {"a": ()}


def test_prune_extra_keys_then_structures_agree():
    spec = {"observation": ARRAY_SPEC["observation"], "reward": ARRAY_SPEC["reward"]}
    value = _time_step(module=np)
    value["observation"]["extra"] = np.zeros(1)
    pruned = nest_utils.prune_extra_keys(spec, value)
    nest_utils.assert_same_structure(pruned, spec)
    assert sorted(pruned) == ["observation", "reward"]
    assert sorted(pruned["observation"]) == ["pixels", "pos"]


# --------------------------------------------------------------------------
# where
# --------------------------------------------------------------------------


def test_where_broadcasts_a_batch_condition_over_every_leaf():
    condition = tf.constant([True, False, True])
    yes = {"pos": tf.zeros((3, 2)), "step": tf.constant([1, 2, 3]),
           "pixels": tf.zeros((3, 2, 2), tf.uint8)}
    no = {"pos": tf.ones((3, 2)), "step": tf.constant([10, 20, 30]),
          "pixels": tf.ones((3, 2, 2), tf.uint8)}
    out = nest_utils.where(condition, yes, no)
    np.testing.assert_array_equal(out["pos"].numpy(), [[0, 0], [1, 1], [0, 0]])
    np.testing.assert_array_equal(out["step"].numpy(), [1, 20, 3])
    np.testing.assert_array_equal(out["pixels"].numpy()[:, 0, 0], [0, 1, 0])


def test_where_with_a_full_rank_condition_is_elementwise():
    condition = tf.constant([[True, False], [False, True]])
    out = nest_utils.where(condition, (tf.zeros((2, 2)),), (tf.ones((2, 2)),))
    np.testing.assert_array_equal(out[0].numpy(), [[0, 1], [1, 0]])


def test_where_in_a_graph_with_unknown_ranks():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.bool), tf.TensorSpec(None, tf.float32)])
    def run(condition, x):
        return nest_utils.where(condition, {"a": x}, {"a": -x})["a"]

    np.testing.assert_array_equal(run(tf.constant([True, False]), tf.ones((2, 2))).numpy(),
                                  [[1, 1], [-1, -1]])


def test_where_names_structure_and_rank_errors():
    with pytest.raises(TypeError) as info:
        nest_utils.where(tf.constant([True]), {"a": tf.zeros(1)}, {"b": tf.zeros(1)})
    assert '"true_outputs" and "false_outputs" structures do not match' in str(info.value)
    assert "missing keys ['a']" in str(info.value)
    with pytest.raises(ValueError) as info:
        nest_utils.where(tf.constant([[True]]), {"a": tf.zeros((1, 1)), "b": tf.zeros(1)},
                         {"a": tf.zeros((1, 1)), "b": tf.zeros(1)})
    assert "true_outputs at 'b': fewer dims than the condition of shape (1, 1)" in str(
        info.value)


# --------------------------------------------------------------------------
# assert_same_structure (TF-Agents' keywords)
# --------------------------------------------------------------------------


def test_assert_same_structure_message_replaces_the_opening():
    with pytest.raises(TypeError) as info:
        nest_utils.assert_same_structure({"a": 1}, {"a": 1, "b": 2}, message="Tensors and specs")
    assert str(info.value) == "Tensors and specs: '<root>': missing keys ['b']"


def test_assert_same_structure_error_is_also_a_value_error():
    with pytest.raises(ValueError, match=r"'1': expected a sequence of length 2"):
        nest_utils.assert_same_structure((1, (2,)), (1, (2, 3)))


def test_assert_same_structure_allow_shallow_nest1():
    nest_utils.assert_same_structure({"a": 1, "b": 2}, {"a": (1, 2), "b": {"c": 3}},
                                     allow_shallow_nest1=True)
    with pytest.raises(TypeError,
                       match=r"'a': expected a sequence, got a value with dtype python int"):
        nest_utils.assert_same_structure({"a": 1}, {"a": (1, 2)})
    with pytest.raises(TypeError, match=r"'b': expected a sequence of length 1"):
        nest_utils.assert_same_structure({"a": 1, "b": (1, 2)}, {"a": (1, 2), "b": (1,)},
                                         allow_shallow_nest1=True)


def test_assert_same_structure_accepts_tf_agents_keywords():
    nest_utils.assert_same_structure([1, 2], (3, 4), check_types=False, expand_composites=False)
    with pytest.raises(TypeError, match="must be bools"):
        nest_utils.assert_same_structure(1, 1, check_types="yes")


# --------------------------------------------------------------------------
# assert_matching_dtypes_and_inner_shapes
# --------------------------------------------------------------------------


def test_matching_dtypes_and_inner_shapes_passes_batched_values_and_specs():
    for outer in [(), (4,), (2, 3)]:
        nest_utils.assert_matching_dtypes_and_inner_shapes(
            _time_step(outer), SPEC, "caller", "time_step", "time_step_spec")
    nest_utils.assert_matching_dtypes_and_inner_shapes(SPEC, SPEC, "caller", "spec", "spec")
    nest_utils.assert_matching_dtypes_and_inner_shapes(
        {"a": 1, "b": 2.0},
        {"a": tf.TensorSpec((), tf.float32), "b": tf.TensorSpec((), tf.float64)},
        "caller", "values", "specs")


def test_matching_dtypes_and_inner_shapes_names_a_dtype_mismatch():
    value = _time_step((4,))
    value["step_type"] = tf.zeros(4, tf.int64)
    with pytest.raises(ValueError) as info:
        nest_utils.assert_matching_dtypes_and_inner_shapes(
            value, SPEC, "MyPolicy", "time_step", "time_step_spec")
    message = str(info.value)
    assert message.startswith(
        "MyPolicy: time_step at 'step_type': dtype does not match time_step_spec")
    assert "TensorSpec(shape=(), dtype=tf.int32" in message
    assert "dtype int64 and shape (4,)" in message


def test_matching_dtypes_and_inner_shapes_names_an_inner_shape_mismatch():
    value = _time_step((4,))
    value["observation"]["pixels"] = tf.zeros((4, 3, 2), tf.uint8)
    with pytest.raises(ValueError, match=r"time_step at 'observation/pixels': inner shape"):
        nest_utils.assert_matching_dtypes_and_inner_shapes(
            value, SPEC, "MyPolicy", "time_step", "time_step_spec")


def test_matching_dtypes_and_inner_shapes_structure_and_extra_fields():
    value = _time_step((4,))
    value["extra"] = tf.zeros(3)
    with pytest.raises(TypeError) as info:
        nest_utils.assert_matching_dtypes_and_inner_shapes(
            value, SPEC, "MyPolicy", "time_step", "time_step_spec")
    assert str(info.value) == ("MyPolicy: time_step and time_step_spec do not have matching "
                               "structures: '<root>': unexpected keys ['extra']")
    nest_utils.assert_matching_dtypes_and_inner_shapes(
        value, SPEC, "MyPolicy", "time_step", "time_step_spec", allow_extra_fields=True)


# --------------------------------------------------------------------------
# properties on random spec nests
# --------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), spec_strategies.outer_dims)
def test_property_outer_rank_and_array_batching(spec, seed, outer):
    value = array_spec.sample_spec_nest(spec, np.random.default_rng(seed), outer)
    assert nest_utils.get_outer_array_shape(value, spec) == outer
    assert nest_utils.is_batched_nested_array(value, spec, num_outer_dims=len(outer)) == bool(
        outer)
    batched = nest_utils.batch_nested_array(value)
    assert nest_utils.get_outer_array_shape(batched, spec) == (1,) + outer
    _assert_nests_equal(nest_utils.unbatch_nested_array(batched), value)


@settings(max_examples=30, deadline=None)
@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), st.integers(1, 3))
def test_property_unstack_then_stack_round_trips(spec, seed, batch):
    value = array_spec.sample_spec_nest(spec, np.random.default_rng(seed), (batch,))
    items = nest_utils.unstack_nested_arrays(value)
    assert len(items) == batch
    _assert_nests_equal(nest_utils.stack_nested_arrays(items), value)


# --------------------------------------------------------------------------
# has_tensors, fast_map_structure, spec_shape and the remaining checks
# --------------------------------------------------------------------------


def test_has_tensors_sees_dense_and_sparse_tensors_only():
    assert not nest_utils.has_tensors({"a": np.zeros(2)}, [1.0, True], None)
    assert nest_utils.has_tensors({"a": np.zeros(2)}, (tf.constant(1),))
    assert nest_utils.has_tensors([tf.sparse.eye(2)])
    assert not nest_utils.has_tensors()


def test_fast_map_structure_maps_leaves_into_the_first_structure():
    out = nest_utils.fast_map_structure(lambda a, b: a - b, Pair(5, {"x": 3}), [1, {"x": 1}])
    assert out == Pair(4, {"x": 2})


def test_fast_map_structure_expands_composites_when_asked():
    sparse = tf.SparseTensor([[0, 1]], [4.0], [2, 2])
    # The components are indices, values and dense shape; only values are floats.
    doubled = nest_utils.fast_map_structure(lambda t: t * 2 if t.dtype.is_floating else t,
                                            {"s": sparse}, expand_composites=True)
    assert isinstance(doubled["s"], tf.SparseTensor)
    np.testing.assert_array_equal(tf.sparse.to_dense(doubled["s"]), [[0, 8], [0, 0]])


def test_fast_map_structure_rejects_different_leaf_counts_and_unknown_keywords():
    with pytest.raises(ValueError, match=r"different numbers of leaves: \[2, 1\]"):
        nest_utils.fast_map_structure(lambda a, b: a, [1, 2], [1])
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['check_types'\]"):
        nest_utils.fast_map_structure(lambda a: a, [1], check_types=False)


def test_fast_map_structure_flatten_packs_flat_lists():
    out = nest_utils.fast_map_structure_flatten(lambda a, b: a * b, {"b": 0, "a": 0},
                                                [2, 3], [10, 100])
    assert out == {"a": 20, "b": 300}  # flat order is sorted keys: a, b
    with pytest.raises(ValueError, match="structure has 2 leaves but the flat lists have "
                                         r"lengths \[3\]"):
        nest_utils.fast_map_structure_flatten(lambda a: a, {"b": 0, "a": 0}, [1, 2, 3])


def test_spec_shape_of_specs_tensors_and_sparse_tensors():
    assert nest_utils.spec_shape(ArraySpec((2, 3), np.float32)).as_list() == [2, 3]
    assert nest_utils.spec_shape(tf.zeros([4])).as_list() == [4]
    assert nest_utils.spec_shape(tf.SparseTensor([[0, 0, 0]], [1.0], [2, 3, 4])).as_list() == [
        None, None, None]


def test_assert_tensors_matching_dtypes_and_shapes_compares_dtype_and_rank_only():
    nest_utils.assert_tensors_matching_dtypes_and_shapes(
        {"a": tf.zeros([3, 2]), "b": 1.0}, {"a": np.zeros([5, 7], np.float32), "b": 2.0},
        "Agent", "x", "y")
    with pytest.raises(ValueError, match=r"Agent: x at 'a': dtype or rank does not match y: "
                                         r"x has dtype float32 and shape \(3, 2\), y has dtype "
                                         r"float32 and shape \(3,\)"):
        nest_utils.assert_tensors_matching_dtypes_and_shapes(
            {"a": tf.zeros([3, 2])}, {"a": tf.zeros([3])}, "Agent", "x", "y")


def test_assert_tensors_matching_dtypes_and_shapes_names_structure_mismatch():
    with pytest.raises(ValueError, match="Agent: x and y do not have matching structures"):
        nest_utils.assert_tensors_matching_dtypes_and_shapes(
            {"a": tf.zeros([3])}, {"b": tf.zeros([3])}, "Agent", "x", "y")


def test_flatten_and_check_shape_nested_specs_returns_specs_and_reference_shapes():
    specs = {"a": tf.TensorSpec([None, 2]), "b": tf.TensorSpec([], tf.int32)}
    reference = {"a": tf.TensorSpec([4, 2]), "b": tf.TensorSpec([], tf.int32)}
    flat_specs, flat_shapes = nest_utils.flatten_and_check_shape_nested_specs(specs, reference)
    assert flat_specs == [specs["a"], specs["b"]]
    assert [s.as_list() for s in flat_shapes] == [[4, 2], []]


def test_flatten_and_check_shape_nested_specs_names_the_incompatible_path():
    with pytest.raises(ValueError, match=r"specs at 'a': shape \(3,\) is not compatible with "
                                         r"the reference spec's shape \(2,\)"):
        nest_utils.flatten_and_check_shape_nested_specs({"a": tf.TensorSpec([3])},
                                                        {"a": tf.TensorSpec([2])})


@pytest.mark.parametrize("spec, reason", [
    (ArraySpec((), np.float32), "is not a tensor spec"),
    (tf.TensorSpec([2]), "emits more than one value"),
    (tf.TensorSpec([1], tf.int32), "does not emit real numbers"),
])
def test_assert_value_spec_rejects_non_value_specs(spec, reason):
    nest_utils.assert_value_spec({"v": tf.TensorSpec([]), "w": tf.TensorSpec([1], tf.float64)},
                                 "Net")
    with pytest.raises(ValueError, match=rf"Net: output_spec at 'x/0': {reason}"):
        nest_utils.assert_value_spec({"x": [spec]}, "Net")


def test_tree_aliases_follow_tf_nests_semantics():
    nest = {"b": 1, "a": {"y": (2, 3), "x": 4}}
    assert nest_utils.flatten_up_to({"a": 0, "b": 0}, nest) == [{"y": (2, 3), "x": 4}, 1]
    assert nest_utils.flatten_with_tuple_paths(nest) == [
        (("a", "x"), 4), (("a", "y", 0), 2), (("a", "y", 1), 3), (("b",), 1)]
    assert nest_utils.map_structure_up_to({"a": 0, "b": 0}, tree.flatten, nest) == {
        "a": [4, 2, 3], "b": [1]}
    assert nest_utils.map_structure_with_paths(lambda p, x, y: f"{p}:{x + y}", nest, nest) == {
        "b": "b:2", "a": {"y": ("a/y/0:4", "a/y/1:6"), "x": "a/x:8"}}
