"""Tests for specs/nest_utils.py: path-aware checks of value nests against spec nests."""

import collections

import numpy as np
import pytest
import tensorflow as tf
import tree
from hypothesis import given
from hypothesis import strategies as st

import spec_strategies
from specs import array_spec
from specs import nest_utils
from specs import tensor_spec
from specs.array_spec import ArraySpec, BoundedArraySpec
from specs.nest_utils import check_nest, flatten_with_paths, path_to_str

Step = collections.namedtuple("Step", ["observation", "reward"])

F32_2 = ArraySpec((2,), np.float32)
I32 = ArraySpec((), np.int32)


def _obs_spec():
    return {
        "observation": {"pos": ArraySpec((2,), np.float32, "pos"),
                        "vel": ArraySpec((2,), np.float32, "vel")},
        "step": ArraySpec((), np.int32, "step"),
    }


def _obs_value(outer=()):
    return {
        "observation": {"pos": np.zeros(outer + (2,), np.float32),
                        "vel": np.zeros(outer + (2,), np.float32)},
        "step": np.zeros(outer, np.int32),
    }


# --------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------


def test_path_to_str():
    assert path_to_str(()) == "<root>"
    assert path_to_str(("observation", "vel")) == "observation/vel"
    assert path_to_str(("a", 0, "b")) == "a/0/b"


def test_flatten_with_paths_dicts_sequences_namedtuples():
    spec = {"b": (F32_2, I32), "a": Step(F32_2, I32)}
    assert flatten_with_paths(spec) == [
        ("a/observation", F32_2), ("a/reward", I32), ("b/0", F32_2), ("b/1", I32)]
    assert flatten_with_paths(I32) == [("<root>", I32)]
    assert flatten_with_paths({}) == []


# --------------------------------------------------------------------------
# check_nest: outer dims
# --------------------------------------------------------------------------


@pytest.mark.parametrize("outer", [(), (5,), (2, 3)])
def test_check_nest_returns_outer_dims(outer):
    assert check_nest(_obs_value(outer), _obs_spec()) == outer


def test_module_docstring_examples():
    spec = {"pos": ArraySpec((2,), np.float32), "id": ArraySpec((), np.int32)}
    assert check_nest({"pos": np.zeros((5, 2), np.float32), "id": np.zeros(5, np.int32)},
                      spec) == (5,)
    with pytest.raises(ValueError) as info:
        check_nest({"pos": np.zeros((5, 3), np.float32), "id": np.zeros(5, np.int32)}, spec)
    assert str(info.value) == (
        "value at 'pos': shape mismatch: expected ArraySpec(shape=(2,), "
        "dtype=dtype('float32'), name=None), got a value with dtype float32 and shape (5, 3)")


def test_check_nest_single_leaf():
    assert check_nest(np.zeros((4, 2), np.float32), F32_2) == (4,)
    assert check_nest(np.zeros(2, np.float32), F32_2) == ()


def test_check_nest_num_outer_dims():
    value = _obs_value((5,))
    assert check_nest(value, _obs_spec(), num_outer_dims=1) == (5,)
    with pytest.raises(ValueError, match="expected 0 outer dim") as info:
        check_nest(value, _obs_spec(), num_outer_dims=0)
    assert "observation/pos" in str(info.value)
    with pytest.raises(ValueError, match="expected 2 outer dim"):
        check_nest(value, _obs_spec(), num_outer_dims=2)
    assert check_nest(_obs_value(), _obs_spec(), num_outer_dims=0) == ()


def test_check_nest_outer_shape():
    value = _obs_value((5,))
    assert check_nest(value, _obs_spec(), outer_shape=(5,)) == (5,)
    assert check_nest(value, _obs_spec(), outer_shape=(None,)) == (5,)
    with pytest.raises(ValueError, match="given outer shape") as info:
        check_nest(value, _obs_spec(), outer_shape=(4,))
    assert "observation/pos" in str(info.value)
    with pytest.raises(ValueError):
        check_nest(value, _obs_spec(), outer_shape=())
    with pytest.raises(ValueError):
        check_nest(value, _obs_spec(), outer_shape=(5, 1))


def test_check_nest_name_appears_in_messages():
    with pytest.raises(TypeError, match=r"^time_step at 'step'"):
        check_nest({**_obs_value(), "step": np.zeros((), np.int64)}, _obs_spec(),
                   name="time_step")
    with pytest.raises(TypeError, match=r"^policy_state does not match"):
        check_nest({}, _obs_spec(), name="policy_state")


def test_get_outer_shape_is_the_tensor_of_check_nests_outer_dims():
    outer = nest_utils.get_outer_shape(_obs_value((2, 3)), _obs_spec())
    assert outer.dtype == tf.int32
    np.testing.assert_array_equal(outer.numpy(), [2, 3])
    with pytest.raises(ValueError):
        nest_utils.get_outer_shape({**_obs_value(), "step": np.zeros(4, np.int32)}, _obs_spec())


# --------------------------------------------------------------------------
# check_nest: structure errors
# --------------------------------------------------------------------------


def test_missing_key_is_named():
    value = _obs_value()
    del value["observation"]["vel"]
    with pytest.raises(TypeError) as info:
        check_nest(value, _obs_spec())
    msg = str(info.value)
    assert "'observation'" in msg
    assert "missing keys ['vel']" in msg


def test_extra_key_is_named():
    value = _obs_value()
    value["observation"]["acc"] = np.zeros(2, np.float32)
    with pytest.raises(TypeError) as info:
        check_nest(value, _obs_spec())
    msg = str(info.value)
    assert "'observation'" in msg
    assert "unexpected keys ['acc']" in msg


def test_missing_and_extra_keys_both_named():
    value = _obs_value()
    value["reward"] = value.pop("step")
    with pytest.raises(TypeError) as info:
        check_nest(value, _obs_spec())
    msg = str(info.value)
    assert "'<root>'" in msg
    assert "missing keys ['step']" in msg
    assert "unexpected keys ['reward']" in msg


def test_wrong_sequence_length():
    spec = {"a": (F32_2, I32)}
    with pytest.raises(TypeError) as info:
        check_nest({"a": (np.zeros(2, np.float32),)}, spec)
    assert "'a'" in str(info.value) and "length 2" in str(info.value)
    with pytest.raises(TypeError):
        check_nest({"a": (np.zeros(2, np.float32), np.int32(1), np.int32(1))}, spec)


def test_nest_where_leaf_expected():
    spec = {"a": F32_2, "b": I32}
    with pytest.raises(TypeError) as info:
        check_nest({"a": {"x": np.zeros(2, np.float32)}, "b": np.int32(0)}, spec)
    assert "'a'" in str(info.value) and "expected a single value" in str(info.value)
    with pytest.raises(TypeError):
        check_nest({"a": (np.zeros(2, np.float32),), "b": np.int32(0)}, spec)


def test_leaf_where_nest_expected():
    spec = {"a": {"x": F32_2}, "b": I32}
    with pytest.raises(TypeError) as info:
        check_nest({"a": np.zeros(2, np.float32), "b": np.int32(0)}, spec)
    assert "'a'" in str(info.value) and "expected a mapping" in str(info.value)
    with pytest.raises(TypeError):
        check_nest(np.zeros(2, np.float32), (F32_2,))


def test_mapping_where_sequence_expected():
    with pytest.raises(TypeError) as info:
        check_nest({"x": np.zeros(2, np.float32)}, (F32_2,))
    assert "expected a sequence" in str(info.value)


def test_list_accepted_where_spec_has_tuple():
    spec = {"a": (F32_2, I32)}
    assert check_nest({"a": [np.zeros((3, 2), np.float32), np.zeros(3, np.int32)]},
                      spec) == (3,)


def test_namedtuple_value_for_namedtuple_spec_and_paths_use_field_names():
    spec = {"s": Step(observation=F32_2, reward=I32)}
    assert check_nest({"s": Step(np.zeros(2, np.float32), np.int32(1))}, spec) == ()
    with pytest.raises(TypeError) as info:
        check_nest({"s": Step(np.zeros(2, np.float32), np.float32(1))}, spec)
    assert "'s/reward'" in str(info.value)
    with pytest.raises(ValueError) as info:
        check_nest({"s": Step(np.zeros(3, np.float32), np.int32(1))}, spec)
    assert "'s/observation'" in str(info.value)


def test_empty_spec_nest_accepts_empty_values():
    for empty_spec in ((), [], {}, None):
        for empty_value in ((), [], {}, None):
            assert check_nest(empty_value, empty_spec) == ()
    assert check_nest(None, (), outer_shape=(3,)) == (3,)


def test_empty_spec_nest_rejects_values():
    with pytest.raises(TypeError, match="empty nest"):
        check_nest(np.zeros(2), ())
    with pytest.raises(TypeError):
        check_nest({"a": np.zeros(2)}, {})
    with pytest.raises(TypeError, match="empty nest"):
        check_nest(np.zeros(2), None)
    with pytest.raises(TypeError):
        check_nest((np.zeros(2),), None)


# --------------------------------------------------------------------------
# check_nest: dtype and shape errors
# --------------------------------------------------------------------------


def test_dtype_mismatch_message():
    value = _obs_value((5,))
    value["observation"]["vel"] = np.zeros((5, 2), np.float64)
    spec = _obs_spec()
    with pytest.raises(TypeError) as info:
        check_nest(value, spec)
    msg = str(info.value)
    assert "'observation/vel'" in msg
    assert "dtype mismatch" in msg
    assert repr(spec["observation"]["vel"]) in msg
    assert "float64" in msg and "(5, 2)" in msg
    assert msg == (
        "value at 'observation/vel': dtype mismatch: expected ArraySpec(shape=(2,), "
        "dtype=dtype('float32'), name='vel'), got a value with dtype float64 and shape (5, 2)")


def test_dtype_mismatch_of_tensor_against_tensor_spec():
    spec = {"obs": tensor_spec.BoundedTensorSpec((3,), tf.float32, 0.0, 1.0, name="o")}
    with pytest.raises(TypeError) as info:
        check_nest({"obs": tf.zeros((4, 3), tf.int32)}, spec)
    msg = str(info.value)
    assert "'obs'" in msg and repr(spec["obs"]) in msg
    assert "int32" in msg and "(4, 3)" in msg


def test_inner_shape_mismatch_message():
    value = _obs_value((5,))
    value["observation"]["vel"] = np.zeros((5, 3), np.float32)
    spec = _obs_spec()
    with pytest.raises(ValueError) as info:
        check_nest(value, spec)
    msg = str(info.value)
    assert "'observation/vel'" in msg and "shape mismatch" in msg
    assert repr(spec["observation"]["vel"]) in msg
    assert "float32" in msg and "(5, 3)" in msg


def test_value_with_too_few_dims_is_a_shape_mismatch():
    with pytest.raises(ValueError, match="'m'"):
        check_nest({"m": np.zeros((2,), np.float32)}, {"m": ArraySpec((2, 2), np.float32)})


def test_inconsistent_batch_dims_name_both_paths():
    value = _obs_value((5,))
    value["step"] = np.zeros(4, np.int32)
    with pytest.raises(ValueError) as info:
        check_nest(value, _obs_spec())
    msg = str(info.value)
    assert "'step'" in msg and "'observation/pos'" in msg
    assert "(4,)" in msg and "(5,)" in msg
    assert "inconsistent outer" in msg


def test_inconsistent_outer_rank_is_rejected():
    value = _obs_value((5,))
    value["step"] = np.zeros((5, 1), np.int32)
    with pytest.raises(ValueError, match="'step'"):
        check_nest(value, _obs_spec())


def test_bounds_are_not_checked():
    # check_nest reads only static information; values out of bounds pass.
    spec = {"a": BoundedArraySpec((), np.int32, 0, 1)}
    assert check_nest({"a": np.int32(7)}, spec) == ()


# --------------------------------------------------------------------------
# check_nest: Python scalars and tensors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value, dtype", [
    (3, np.int32), (3, np.int64), (3, np.uint8),
    (1.5, np.float32), (1.5, np.float64),
    (True, np.bool_),
])
def test_python_scalars_accepted_for_matching_kind(value, dtype):
    assert check_nest(value, ArraySpec((), dtype)) == ()
    assert check_nest({"x": value}, {"x": tf.TensorSpec((), tf.as_dtype(dtype))}) == ()


@pytest.mark.parametrize("value, dtype, shown", [
    (3, np.float32, "python int"),
    (1.5, np.int32, "python float"),
    (True, np.int32, "python bool"),
    (1, np.bool_, "python int"),
    (0.0, np.bool_, "python float"),
])
def test_python_scalars_rejected_for_other_kinds(value, dtype, shown):
    with pytest.raises(TypeError) as info:
        check_nest({"x": value}, {"x": ArraySpec((), dtype)})
    assert "'x'" in str(info.value) and shown in str(info.value)


def test_python_scalar_for_non_scalar_spec_is_shape_mismatch():
    with pytest.raises(ValueError, match="'x'"):
        check_nest({"x": 1.0}, {"x": ArraySpec((2,), np.float32)})


def test_numpy_scalar_must_match_dtype_exactly():
    assert check_nest(np.float32(1.0), ArraySpec((), np.float32)) == ()
    with pytest.raises(TypeError):
        check_nest(np.float64(1.0), ArraySpec((), np.float32))


def test_none_leaf_is_rejected():
    with pytest.raises(TypeError, match="'b'"):
        check_nest({"a": np.zeros(2, np.float32), "b": None}, {"a": F32_2, "b": I32})


def test_eager_tensors_and_array_specs_mix():
    spec = {"a": F32_2, "b": tf.TensorSpec((), tf.int32)}
    value = {"a": tf.zeros((3, 2)), "b": np.zeros(3, np.int32)}
    assert check_nest(value, spec) == (3,)


def test_tensor_spec_with_unknown_inner_dim():
    spec = tf.TensorSpec((None, 2), tf.float32)
    assert check_nest(np.zeros((4, 7, 2), np.float32), spec) == (4,)
    with pytest.raises(ValueError):
        check_nest(np.zeros((4, 7, 3), np.float32), spec)


def test_variables_are_checked():
    assert check_nest(tf.Variable(np.zeros((3, 2), np.float32)), F32_2) == (3,)


# --------------------------------------------------------------------------
# check_nest inside tf.function
# --------------------------------------------------------------------------


def test_check_nest_in_tf_function_unknown_batch_runs_once():
    spec = {"pos": F32_2, "id": I32}
    results = []

    @tf.function(input_signature=[{"pos": tf.TensorSpec([None, 2], tf.float32),
                                   "id": tf.TensorSpec([None], tf.int32)}])
    def f(x):
        results.append(check_nest(x, spec))
        return x["pos"] * 2.0

    f({"pos": tf.ones((3, 2)), "id": tf.zeros(3, tf.int32)})
    f({"pos": tf.ones((5, 2)), "id": tf.zeros(5, tf.int32)})
    assert results == [(None,)]


def test_check_nest_in_tf_function_runs_only_at_trace_time():
    spec = F32_2
    traces = []

    @tf.function
    def f(x):
        traces.append(check_nest(x, spec))
        return x + 1.0

    f(tf.ones((4, 2)))
    f(tf.ones((4, 2)))
    assert traces == [(4,)]
    f(tf.ones((6, 2)))  # new shape: new trace, checked again
    assert len(traces) == 2


def test_check_nest_in_tf_function_raises_at_trace_time():
    calls = []

    @tf.function
    def f(x):
        calls.append(1)
        check_nest({"v": x}, {"v": F32_2})
        return x

    with pytest.raises(ValueError, match="'v'"):
        f(tf.ones((4, 3)))
    with pytest.raises(TypeError, match="'v'"):
        f(tf.ones((4, 2), tf.float64))


def test_check_nest_in_tf_function_unknown_rank_is_skipped():
    results = []

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def f(x):
        results.append(check_nest(x, F32_2))
        return x

    f(tf.ones((2, 2)))
    assert results == [()]


def test_check_nest_in_tf_function_unknown_dim_merges_with_known():
    results = []

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32),
                                  tf.TensorSpec([3], tf.int32)])
    def f(a, b):
        results.append(check_nest((a, b), (F32_2, I32)))
        return a

    f(tf.ones((3, 2)), tf.zeros(3, tf.int32))
    assert results == [(3,)]


# --------------------------------------------------------------------------
# assert_same_structure / spec_mismatch_message
# --------------------------------------------------------------------------


def test_assert_same_structure_names_every_path():
    spec = {"a": {"x": F32_2, "y": I32}, "b": (F32_2, I32)}
    value = {"a": {"x": 1.0}, "b": (1.0,)}
    with pytest.raises(TypeError) as info:
        nest_utils.assert_same_structure(value, spec, name="obs")
    msg = str(info.value)
    assert msg.startswith("obs does not match the structure of its spec")
    assert "'a': missing keys ['y']" in msg
    assert "'b': expected a sequence of length 2" in msg


def test_assert_same_structure_passes_matching_nests():
    spec = {"a": (F32_2, I32), "b": Step(F32_2, I32)}
    nest_utils.assert_same_structure({"a": [1, 2], "b": Step(3, 4)}, spec)


def test_spec_mismatch_message_format():
    msg = nest_utils.spec_mismatch_message(
        "time_step", "obs/x", "dtype mismatch", I32, np.zeros((3,), np.float64))
    assert msg == ("time_step at 'obs/x': dtype mismatch: expected " + repr(I32)
                   + ", got a value with dtype float64 and shape (3,)")
    msg = nest_utils.spec_mismatch_message("v", "a", "r", I32, 2.0)
    assert msg.endswith("got a value with dtype python float and shape ()")


# --------------------------------------------------------------------------
# property tests
# --------------------------------------------------------------------------

_OTHER_DTYPE = {
    np.dtype(np.float32): np.float64,
    np.dtype(np.float64): np.float32,
    np.dtype(np.int32): np.int64,
    np.dtype(np.int64): np.int32,
    np.dtype(np.uint8): np.int32,
    np.dtype(np.bool_): np.uint8,
}


def _sample(spec, seed, outer):
    return array_spec.sample_spec_nest(spec, np.random.default_rng(seed), outer)


def _cast(array, dtype):
    with np.errstate(over="ignore", invalid="ignore"):  # e.g. float64 1e300 -> float32 inf
        return array.astype(dtype)


def _with_leaf(nest, index, new_leaf):
    leaves = tree.flatten(nest)
    leaves[index] = new_leaf
    return tree.unflatten_as(nest, leaves)


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), spec_strategies.outer_dims,
       st.data())
def test_property_dtype_mutation_is_rejected_with_path(spec, seed, outer, data):
    sample = _sample(spec, seed, outer)
    paths = flatten_with_paths(spec)
    i = data.draw(st.integers(0, len(paths) - 1))
    leaf = tree.flatten(sample)[i]
    mutated = _with_leaf(sample, i, _cast(leaf, _OTHER_DTYPE[leaf.dtype]))
    with pytest.raises(TypeError) as info:
        check_nest(mutated, spec)
    assert f"'{paths[i][0]}'" in str(info.value)
    assert repr(paths[i][1]) in str(info.value)


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), spec_strategies.outer_dims,
       st.data())
def test_property_inner_dim_change_is_rejected_with_path(spec, seed, outer, data):
    paths = flatten_with_paths(spec)
    candidates = [i for i, (_, s) in enumerate(paths) if s.shape]
    if not candidates:
        return  # only scalar specs: no inner dim to change
    i = data.draw(st.sampled_from(candidates))
    sample = _sample(spec, seed, outer)
    leaf = tree.flatten(sample)[i]
    axis = data.draw(st.integers(len(outer), leaf.ndim - 1))
    bigger = list(leaf.shape)
    bigger[axis] += data.draw(st.integers(1, 2))
    mutated = _with_leaf(sample, i, np.zeros(bigger, leaf.dtype))
    with pytest.raises(ValueError) as info:
        check_nest(mutated, spec)
    assert f"'{paths[i][0]}'" in str(info.value)


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), spec_strategies.outer_dims,
       st.data())
def test_property_appended_dim_is_rejected_with_path(spec, seed, outer, data):
    paths = flatten_with_paths(spec)
    i = data.draw(st.integers(0, len(paths) - 1))
    sample = _sample(spec, seed, outer)
    leaf = tree.flatten(sample)[i]
    inner = paths[i][1].shape
    # A trailing dim one larger than the last inner dim can never line up.
    extra = (inner[-1] + 1) if inner else data.draw(st.integers(1, 3))
    mutated = _with_leaf(sample, i, np.zeros(leaf.shape + (extra,), leaf.dtype))
    with pytest.raises(ValueError) as info:
        check_nest(mutated, spec, num_outer_dims=len(outer))
    assert f"'{paths[i][0]}'" in str(info.value)
    if inner or len(paths) > 1:
        # Without num_outer_dims a non-scalar leaf still fails its inner shape, and a
        # scalar leaf gets an extra outer dim that disagrees with the other leaves.
        with pytest.raises(ValueError) as info:
            check_nest(mutated, spec)
        assert f"'{paths[i][0]}'" in str(info.value)


@given(spec_strategies.dict_spec_nests(), st.integers(0, 2 ** 32 - 1),
       spec_strategies.outer_dims, st.data())
def test_property_dropped_key_is_rejected_with_path(spec, seed, outer, data):
    sample = _sample(spec, seed, outer)
    dict_path, node = data.draw(st.sampled_from(list(spec_strategies.dict_paths(sample))))
    key = data.draw(st.sampled_from(sorted(node)))
    mutated = spec_strategies.replace_at(
        sample, dict_path, lambda d: {k: v for k, v in d.items() if k != key})
    with pytest.raises(TypeError) as info:
        check_nest(mutated, spec)
    msg = str(info.value)
    assert f"'{path_to_str(dict_path)}'" in msg
    assert f"missing keys [{key!r}]" in msg


@given(spec_strategies.dict_spec_nests(), st.integers(0, 2 ** 32 - 1),
       spec_strategies.outer_dims, st.data())
def test_property_added_key_is_rejected_with_path(spec, seed, outer, data):
    sample = _sample(spec, seed, outer)
    dict_path, _ = data.draw(st.sampled_from(list(spec_strategies.dict_paths(sample))))
    extra = spec_strategies.EXTRA_KEY
    mutated = spec_strategies.replace_at(
        sample, dict_path, lambda d: {**d, extra: np.zeros(outer, np.float32)})
    with pytest.raises(TypeError) as info:
        check_nest(mutated, spec)
    msg = str(info.value)
    assert f"'{path_to_str(dict_path)}'" in msg
    assert f"unexpected keys [{extra!r}]" in msg


def _outcome(fn):
    try:
        return ("ok", fn())
    except (TypeError, ValueError) as e:
        return (type(e).__name__, None)


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), spec_strategies.outer_dims,
       st.sampled_from(["none", "dtype", "shape"]), st.data())
def test_property_numpy_and_tf_checks_agree(spec, seed, outer, mutation, data):
    tspec = spec_strategies.to_tensor_specs(spec)
    sample = _sample(spec, seed, outer)
    if mutation != "none":
        i = data.draw(st.integers(0, len(tree.flatten(spec)) - 1))
        leaf = tree.flatten(sample)[i]
        if mutation == "dtype":
            leaf = _cast(leaf, _OTHER_DTYPE[leaf.dtype])
        else:
            leaf = np.zeros(leaf.shape + (2,), leaf.dtype)
        sample = _with_leaf(sample, i, leaf)
    tensors = tree.map_structure(tf.constant, sample)
    results = {
        "np/array": _outcome(lambda: check_nest(sample, spec)),
        "np/tensor": _outcome(lambda: check_nest(sample, tspec)),
        "tf/array": _outcome(lambda: check_nest(tensors, spec)),
        "tf/tensor": _outcome(lambda: check_nest(tensors, tspec)),
    }
    assert len(set(results.values())) == 1, results
    if mutation == "none":
        assert results["np/array"] == ("ok", outer)
    elif mutation == "dtype":
        assert results["np/array"][0] == "TypeError"


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), spec_strategies.outer_dims)
def test_property_unknown_batch_in_tf_function_gives_none_dims(spec, seed, outer):
    tspec = spec_strategies.to_tensor_specs(spec)
    sample = tree.map_structure(tf.constant, _sample(spec, seed, outer))
    signature = tree.map_structure(
        lambda t: tf.TensorSpec([None] * len(outer) + t.shape.as_list()[len(outer):], t.dtype),
        sample)
    results = []

    @tf.function(input_signature=[signature])
    def f(x):
        results.append(check_nest(x, tspec))
        return tf.constant(0)

    f(sample)
    assert results == [(None,) * len(outer)]


def test_nest_checker_remembers_accepted_signatures_only():
    spec = {"a": ArraySpec((2,), np.float32), "b": ArraySpec((), np.int32)}
    checker = nest_utils.NestChecker(spec, num_outer_dims=1, name="items")
    value = {"a": np.zeros((3, 2), np.float32), "b": np.zeros(3, np.int32)}
    leaves, outer = checker(value)
    assert outer == (3,) and leaves[0] is value["a"] and leaves[1] is value["b"]
    assert checker(value)[1] == (3,)
    with pytest.raises(TypeError, match="items at 'a': dtype mismatch"):
        checker({"a": np.zeros((3, 2), np.float64), "b": np.zeros(3, np.int32)})
    with pytest.raises(TypeError, match="items"):
        checker({"a": np.zeros((3, 2), np.float32), "c": np.zeros(3, np.int32)})
    with pytest.raises(ValueError, match="items at 'a': shape mismatch"):
        checker({"a": np.zeros((3, 4), np.float32), "b": np.zeros(3, np.int32)})
    with pytest.raises(ValueError, match="inconsistent outer"):
        checker({"a": np.zeros((3, 2), np.float32), "b": np.zeros(4, np.int32)})
    with pytest.raises(ValueError, match="expected 1 outer dim"):
        checker({"a": np.zeros(2, np.float32), "b": np.int32(0)})


def test_nest_checker_checks_the_given_outer_shape_per_call():
    checker = nest_utils.NestChecker(ArraySpec((), np.float32), name="state")
    checker(np.zeros(2, np.float32), outer_shape=(2,))
    with pytest.raises(ValueError, match="state at '<root>'"):
        checker(np.zeros(2, np.float32), outer_shape=(3,))


@given(spec_strategies.spec_nests(), st.integers(0, 3))
def test_nest_checker_agrees_with_check_nest(spec, batch):
    value = array_spec.sample_spec_nest(spec, np.random.default_rng(0), outer_dims=(batch,))
    checker = nest_utils.NestChecker(spec, num_outer_dims=1)
    expected = check_nest(value, spec, num_outer_dims=1)
    assert checker(value)[1] == expected
    assert checker(value)[1] == expected
    assert len(checker(value)[0]) == len(tree.flatten(spec))


# --------------------------------------------------------------------------
# the error vocabulary
# --------------------------------------------------------------------------


def test_path_to_str_takes_formatted_paths_and_spells_the_root_once():
    assert path_to_str("observation/vel") == "observation/vel"
    assert path_to_str("") == path_to_str(()) == nest_utils.ROOT_PATH == "<root>"


def test_nest_error_message_joins_owner_what_path_reason_and_both_sides():
    value = np.zeros((5, 3), np.float32)
    assert nest_utils.nest_error_message(
        "action", ("move", 0), "shape mismatch", owner="Env", spec=F32_2, value=value) == (
        "Env: action at 'move/0': shape mismatch: expected " + repr(F32_2)
        + ", got a value with dtype float32 and shape (5, 3)")
    assert nest_utils.nest_error_message("spec", (), "unsupported") == (
        "spec at '<root>': unsupported")
    assert nest_utils.nest_error_message("spec", "a", "bad", spec=I32) == (
        "spec at 'a': bad: expected " + repr(I32))
    assert nest_utils.nest_error_message("x", "a", "bad", value=[1, 2]) == (
        "x at 'a': bad: got a list of length 2")


def test_spec_mismatch_message_is_the_nest_error_with_both_sides():
    value = np.zeros(3, np.int64)
    assert nest_utils.spec_mismatch_message("obs", "a/b", "dtype mismatch", I32, value) == (
        nest_utils.nest_error_message("obs", ("a", "b"), "dtype mismatch", spec=I32,
                                      value=value))


def test_check_compatible_specs_accepts_other_names_and_bounds():
    given = {"a": BoundedArraySpec((2,), np.float32, -1.0, 1.0, "x")}
    expected = {"a": tensor_spec.TensorSpec([2], tf.float32, "y")}
    nest_utils.check_compatible_specs(given, expected, "action_spec")
    nest_utils.check_compatible_specs((), {"info": ()}, "info_spec")  # both empty


def test_check_compatible_specs_exact_compares_bounds():
    a = BoundedArraySpec((), np.int64, 0, 3, "action")
    b = BoundedArraySpec((), np.int64, 0, 1, "action")
    nest_utils.check_compatible_specs(a, a, "action_spec", exact=True)
    with pytest.raises(ValueError) as info:
        nest_utils.check_compatible_specs({"m": a}, {"m": b}, "action_spec", given_name="left",
                                          expected_name="right", exact=True)
    assert str(info.value) == (f"action_spec at 'm': left has {a!r}, right has {b!r}; "
                               "they must be equal")


def test_check_compatible_specs_names_structure_differences():
    with pytest.raises(ValueError, match=r"Owner: observation_spec does not have the structure "
                                         r"of expected's \(given against expected\): "
                                         r"'<root>': missing keys \['b'\]"):
        nest_utils.check_compatible_specs({"a": I32}, {"a": I32, "b": I32}, "observation_spec",
                                          owner="Owner")


def test_an_empty_part_given_as_another_empty_kind_is_named_by_path():
    spec = {"a": (), "b": F32_2}
    with pytest.raises(TypeError) as info:
        check_nest({"a": None, "b": np.zeros(2, np.float32)}, spec, name="obs")
    assert str(info.value) == "obs at 'a': expected the empty nest (), got None"
    assert check_nest({"a": [], "b": np.zeros(2, np.float32)}, spec) == ()


def test_flattener_flattens_in_dm_tree_order_and_compares_the_structure():
    structure = {"b": (0, {"y": 0, "x": 0}), "a": 0}
    flat = nest_utils.flattener(structure)
    out = []
    assert flat({"a": 1, "b": [2, {"x": 3, "y": 4}]}, out) is True
    assert out == tree.flatten({"a": 1, "b": (2, {"x": 3, "y": 4})}) == [1, 2, 3, 4]
    assert flat({"a": 1, "b": (2, {"x": 3, "z": 4})}, []) is False  # another key
    assert flat({"a": 1, "b": (2,)}, []) is False  # another length
    assert flat({"a": 1}, []) is False
    assert nest_utils.flattener(collections.OrderedDict(a=0)) is not None
    assert nest_utils.flattener({1, 2}) is not None  # a set is a leaf for dm-tree
