"""Tests for tfpolicy.trajectories.time_step: StepType, TimeStep, its constructors and specs."""

import hypothesis.strategies as st
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given

import tfpolicy.trajectories as trajectories
from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec
from specs.nest_utils import check_nest
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories.time_step import StepType


def assert_array(actual, expected, dtype):
    """`actual` is a numpy array (not a tensor) of `dtype` equal to `expected` cast to `dtype`."""
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == dtype
    np.testing.assert_array_equal(actual, np.asarray(expected, dtype))
    assert actual.shape == np.shape(expected)


def assert_tensor(actual, expected, dtype):
    """`actual` is a tensor with `expected`'s values and shape, and `dtype`."""
    assert tf.is_tensor(actual), type(actual)
    assert actual.dtype == dtype
    np.testing.assert_allclose(actual.numpy(), np.asarray(expected), rtol=1e-6)
    assert tuple(actual.shape) == np.shape(expected)


# StepType


def test_step_type_members_are_int32_scalars():
    assert (StepType.FIRST, StepType.MID, StepType.LAST) == (0, 1, 2)
    for member in (StepType.FIRST, StepType.MID, StepType.LAST):
        assert isinstance(member, np.int32)
    assert np.array([StepType.MID, StepType.LAST]).dtype == np.int32


def test_step_type_compares_with_int32_tensors():
    step_type = tf.constant([0, 1, 2], tf.int32)
    np.testing.assert_array_equal(tf.equal(step_type, StepType.FIRST).numpy(), [True, False, False])
    np.testing.assert_array_equal(tf.equal(step_type, StepType.LAST).numpy(), [False, False, True])


# restart


def test_restart_unbatched_numpy_has_scalar_fields():
    obs = np.array([1.0, 2.0], np.float32)
    step = ts.restart(obs)
    assert_array(step.step_type, 0, np.int32)
    assert_array(step.reward, 0.0, np.float32)
    assert_array(step.discount, 1.0, np.float32)
    assert step.observation is obs


def test_restart_batched_numpy_has_batch_shape():
    step = ts.restart(np.zeros((3, 2), np.float32), batch_size=3)
    assert_array(step.step_type, [0, 0, 0], np.int32)
    assert_array(step.reward, [0.0, 0.0, 0.0], np.float32)
    assert_array(step.discount, [1.0, 1.0, 1.0], np.float32)


def test_restart_nested_observation_is_passed_through():
    obs = {"pos": np.zeros((3, 2), np.float32), "id": np.arange(3, dtype=np.int32)}
    step = ts.restart(obs, batch_size=3)
    assert step.observation is obs
    assert_array(step.step_type, [0, 0, 0], np.int32)


def test_restart_reward_follows_nested_reward_spec_numpy():
    reward_spec = {"a": ArraySpec((), np.float32), "b": ArraySpec((2,), np.float64)}
    step = ts.restart(np.zeros((3, 4)), batch_size=3, reward_spec=reward_spec)
    assert set(step.reward) == {"a", "b"}
    assert_array(step.reward["a"], np.zeros(3), np.float32)
    assert_array(step.reward["b"], np.zeros((3, 2)), np.float64)


def test_restart_unbatched_reward_spec_numpy():
    step = ts.restart(np.zeros(4), reward_spec={"b": ArraySpec((2,), np.float64)})
    assert_array(step.reward["b"], np.zeros(2), np.float64)
    assert_array(step.step_type, 0, np.int32)


def test_restart_tensor_observation_gives_tensors():
    step = ts.restart(tf.zeros([3, 2]), batch_size=3)
    assert_tensor(step.step_type, [0, 0, 0], tf.int32)
    assert_tensor(step.reward, [0.0, 0.0, 0.0], tf.float32)
    assert_tensor(step.discount, [1.0, 1.0, 1.0], tf.float32)


def test_restart_unbatched_tensors_are_scalars():
    step = ts.restart({"x": tf.zeros([2])})
    assert_tensor(step.step_type, 0, tf.int32)
    assert_tensor(step.reward, 0.0, tf.float32)
    assert_tensor(step.discount, 1.0, tf.float32)


def test_restart_reward_follows_nested_reward_spec_tensors():
    reward_spec = {"a": TensorSpec([], tf.float32), "b": TensorSpec([2], tf.float64)}
    step = ts.restart(tf.zeros([3, 4]), batch_size=3, reward_spec=reward_spec)
    assert_tensor(step.reward["a"], np.zeros(3), tf.float32)
    assert_tensor(step.reward["b"], np.zeros((3, 2)), tf.float64)


def test_restart_in_tf_function_with_unknown_batch():
    reward_spec = {"a": TensorSpec([], tf.float32), "b": TensorSpec([2], tf.float32)}
    static_shapes = {}

    @tf.function(input_signature=[TensorSpec([None, 2], tf.float32)])
    def start(obs):
        step = ts.restart(obs, batch_size=tf.shape(obs)[0], reward_spec=reward_spec)
        static_shapes["step_type"] = step.step_type.shape.as_list()
        static_shapes["b"] = step.reward["b"].shape.as_list()
        return step

    step = start(tf.zeros([4, 2]))
    assert static_shapes == {"step_type": [None], "b": [None, 2]}
    assert_tensor(step.step_type, [0] * 4, tf.int32)
    assert_tensor(step.discount, [1.0] * 4, tf.float32)
    assert_tensor(step.reward["a"], np.zeros(4), tf.float32)
    assert_tensor(step.reward["b"], np.zeros((4, 2)), tf.float32)


# transition, termination, truncation


def test_transition_batched_numpy_broadcasts_discount():
    reward = np.array([1.0, 2.0, 3.0], np.float32)
    step = ts.transition(np.zeros((3, 2)), reward, discount=0.5)
    assert_array(step.step_type, [1, 1, 1], np.int32)
    assert_array(step.reward, [1.0, 2.0, 3.0], np.float32)
    assert_array(step.discount, [0.5, 0.5, 0.5], np.float32)


def test_transition_keeps_per_element_discount():
    step = ts.transition(np.zeros((3, 2)), np.ones(3, np.float32),
                         discount=np.array([1.0, 0.5, 0.0]))
    assert_array(step.discount, [1.0, 0.5, 0.0], np.float32)


def test_transition_unbatched_python_reward_becomes_float32():
    step = ts.transition(np.zeros(2), 1.5)
    assert_array(step.step_type, 1, np.int32)
    assert_array(step.reward, 1.5, np.float32)
    assert_array(step.discount, 1.0, np.float32)


def test_transition_numpy_reward_keeps_its_dtype():
    step = ts.transition(np.zeros((2, 2)), np.array([0.25, 0.5], np.float64))
    assert_array(step.reward, [0.25, 0.5], np.float64)
    assert_array(step.step_type, [1, 1], np.int32)


def test_transition_outer_dims_sets_batch_shape_and_broadcasts_scalar_reward():
    step = ts.transition(np.zeros((2, 3, 4)), 2.0, discount=0.9, outer_dims=(2, 3))
    assert_array(step.step_type, np.ones((2, 3)), np.int32)
    assert_array(step.reward, np.full((2, 3), 2.0), np.float32)
    assert_array(step.discount, np.full((2, 3), 0.9), np.float32)


def test_transition_outer_dims_for_vector_reward():
    # A [2]-vector reward of one unbatched step: the leading dim is not a batch.
    step = ts.transition(np.zeros(4), np.array([1.0, -1.0], np.float32), outer_dims=())
    assert_array(step.step_type, 1, np.int32)
    assert_array(step.reward, [1.0, -1.0], np.float32)


def test_transition_nested_reward_batch_from_first_leaf():
    reward = {"b": np.zeros((3, 2), np.float32), "a": np.array([1.0, 2.0, 3.0], np.float32)}
    step = ts.transition({"x": np.zeros((3, 5))}, reward, discount=0.9)
    assert_array(step.step_type, [1, 1, 1], np.int32)
    assert_array(step.discount, [0.9, 0.9, 0.9], np.float32)
    assert_array(step.reward["a"], [1.0, 2.0, 3.0], np.float32)
    assert_array(step.reward["b"], np.zeros((3, 2)), np.float32)


def test_transition_nested_reward_first_leaf_in_flatten_order_decides():
    # Keys flatten sorted, so 'a' (a scalar) is first: the step is unbatched
    # and 'b' is left as given.
    reward = {"b": np.zeros(4, np.float32), "a": np.float32(1.0)}
    step = ts.transition(np.zeros(3), reward)
    assert_array(step.step_type, 1, np.int32)
    assert_array(step.reward["a"], 1.0, np.float32)
    assert_array(step.reward["b"], np.zeros(4), np.float32)


def test_transition_nested_reward_scalar_leaf_broadcast_to_batch():
    reward = {"a": np.array([1.0, 2.0, 3.0], np.float32), "b": 0.5}
    step = ts.transition(np.zeros((3, 2)), reward)
    assert_array(step.reward["b"], [0.5, 0.5, 0.5], np.float32)


def test_transition_discount_that_does_not_broadcast_is_an_error():
    with pytest.raises(ValueError, match=r"discount of shape \(2,\) does not broadcast .*\(3,\)"):
        ts.transition(np.zeros((3, 2)), np.zeros(3, np.float32), discount=np.ones(2))


def test_transition_tensor_reward_gives_tensors():
    step = ts.transition(np.zeros((3, 2)), tf.constant([1.0, 2.0, 3.0]), discount=0.5)
    assert_tensor(step.step_type, [1, 1, 1], tf.int32)
    assert_tensor(step.reward, [1.0, 2.0, 3.0], tf.float32)
    assert_tensor(step.discount, [0.5, 0.5, 0.5], tf.float32)


def test_transition_tensor_observation_converts_python_reward():
    step = ts.transition({"x": tf.zeros([2])}, 1.0)
    assert_tensor(step.step_type, 1, tf.int32)
    assert_tensor(step.reward, 1.0, tf.float32)
    assert_tensor(step.discount, 1.0, tf.float32)


def test_transition_tensor_float64_discount_becomes_float32():
    step = ts.transition(tf.zeros([2, 1]), tf.ones([2]), discount=tf.constant([0.5, 1.0], tf.float64))
    assert_tensor(step.discount, [0.5, 1.0], tf.float32)


def test_transition_tensor_outer_dims():
    step = ts.transition(tf.zeros([2, 3, 1]), 1.0, outer_dims=tf.constant([2, 3]))
    assert_tensor(step.step_type, np.ones((2, 3)), tf.int32)
    assert_tensor(step.reward, np.ones((2, 3)), tf.float32)
    assert_tensor(step.discount, np.ones((2, 3)), tf.float32)


def test_transition_nested_tensor_reward_in_tf_function_with_unknown_batch():
    static_shapes = {}

    @tf.function(input_signature=[
        {"pos": TensorSpec([None, 2], tf.float32)},
        {"a": TensorSpec([None], tf.float32), "b": TensorSpec([None, 2], tf.float32)},
    ])
    def step_fn(obs, reward):
        step = ts.transition(obs, reward, discount=0.9)
        static_shapes["step_type"] = step.step_type.shape.as_list()
        static_shapes["discount"] = step.discount.shape.as_list()
        return step

    reward = {"a": tf.constant([1.0, 2.0, 3.0]), "b": tf.ones([3, 2])}
    step = step_fn({"pos": tf.zeros([3, 2])}, reward)
    assert static_shapes == {"step_type": [None], "discount": [None]}
    assert_tensor(step.step_type, [1, 1, 1], tf.int32)
    assert_tensor(step.discount, [0.9, 0.9, 0.9], tf.float32)
    assert_tensor(step.reward["a"], [1.0, 2.0, 3.0], tf.float32)
    assert_tensor(step.reward["b"], np.ones((3, 2)), tf.float32)


def test_termination_has_last_step_and_zero_discount_numpy():
    step = ts.termination(np.zeros((3, 2)), np.array([1.0, 0.0, -1.0], np.float32))
    assert_array(step.step_type, [2, 2, 2], np.int32)
    assert_array(step.reward, [1.0, 0.0, -1.0], np.float32)
    assert_array(step.discount, [0.0, 0.0, 0.0], np.float32)


def test_termination_unbatched_numpy():
    step = ts.termination(np.zeros(2), 3.0)
    assert_array(step.step_type, 2, np.int32)
    assert_array(step.reward, 3.0, np.float32)
    assert_array(step.discount, 0.0, np.float32)


def test_termination_tensors():
    step = ts.termination(tf.zeros([3, 2]), tf.constant([1.0, 0.0, -1.0]))
    assert_tensor(step.step_type, [2, 2, 2], tf.int32)
    assert_tensor(step.discount, [0.0, 0.0, 0.0], tf.float32)


def test_termination_in_tf_function_with_unknown_batch():
    @tf.function(input_signature=[TensorSpec([None, 2]), TensorSpec([None])])
    def end(obs, reward):
        return ts.termination(obs, reward)

    step = end(tf.zeros([2, 2]), tf.constant([4.0, 5.0]))
    assert_tensor(step.step_type, [2, 2], tf.int32)
    assert_tensor(step.reward, [4.0, 5.0], tf.float32)
    assert_tensor(step.discount, [0.0, 0.0], tf.float32)


def test_truncation_keeps_the_given_discount_numpy():
    step = ts.truncation(np.zeros((3, 2)), np.ones(3, np.float32), discount=0.9)
    assert_array(step.step_type, [2, 2, 2], np.int32)
    assert_array(step.discount, np.full(3, 0.9), np.float32)


def test_truncation_default_discount_is_one():
    step = ts.truncation(np.zeros(2), 0.5)
    assert_array(step.step_type, 2, np.int32)
    assert_array(step.reward, 0.5, np.float32)
    assert_array(step.discount, 1.0, np.float32)


def test_truncation_in_tf_function_with_unknown_batch():
    @tf.function(input_signature=[TensorSpec([None, 2]), TensorSpec([None])])
    def cut(obs, reward):
        return ts.truncation(obs, reward, discount=0.9)

    step = cut(tf.zeros([3, 2]), tf.constant([1.0, 2.0, 3.0]))
    assert_tensor(step.step_type, [2, 2, 2], tf.int32)
    assert_tensor(step.discount, [0.9, 0.9, 0.9], tf.float32)


# TimeStep predicates


def test_is_first_mid_last_on_numpy_batch():
    step = ts.TimeStep(np.array([0, 1, 2, 1], np.int32), np.zeros(4), np.ones(4), np.zeros(4))
    assert_array(step.is_first(), [True, False, False, False], np.bool_)
    assert_array(step.is_mid(), [False, True, False, True], np.bool_)
    assert_array(step.is_last(), [False, False, True, False], np.bool_)


def test_is_first_mid_last_on_unbatched_numpy():
    assert_array(ts.restart(np.zeros(2)).is_first(), True, np.bool_)
    assert_array(ts.transition(np.zeros(2), 0.0).is_mid(), True, np.bool_)
    assert_array(ts.transition(np.zeros(2), 0.0).is_last(), False, np.bool_)


def test_is_first_mid_last_on_tensors():
    step = ts.TimeStep(tf.constant([0, 1, 2]), tf.zeros([3]), tf.ones([3]), tf.zeros([3]))
    assert_tensor(step.is_first(), [True, False, False], tf.bool)
    assert_tensor(step.is_mid(), [False, True, False], tf.bool)
    assert_tensor(step.is_last(), [False, False, True], tf.bool)


# time_step_spec


def test_time_step_spec_tensor_fields():
    obs_spec = {"pos": TensorSpec([2], tf.float32)}
    spec = ts.time_step_spec(obs_spec)
    assert spec.step_type == TensorSpec([], tf.int32, name="step_type")
    assert spec.reward == TensorSpec([], tf.float32, name="reward")
    assert spec.discount == BoundedTensorSpec([], tf.float32, 0.0, 1.0, name="discount")
    assert isinstance(spec.discount, BoundedTensorSpec)
    assert spec.observation is obs_spec


def test_time_step_spec_array_fields():
    obs_spec = {"pos": ArraySpec((2,), np.float32)}
    spec = ts.time_step_spec(obs_spec)
    assert spec.step_type == ArraySpec((), np.int32, name="step_type")
    assert spec.reward == ArraySpec((), np.float32, name="reward")
    assert spec.discount == BoundedArraySpec((), np.float32, 0.0, 1.0, name="discount")
    assert spec.observation is obs_spec


def test_time_step_spec_keeps_nested_reward_spec():
    reward_spec = {"a": TensorSpec([], tf.float32), "b": TensorSpec([2], tf.float32)}
    spec = ts.time_step_spec(TensorSpec([3], tf.float32), reward_spec)
    assert spec.reward is reward_spec


def test_time_step_spec_empty_observation_gives_tensor_specs():
    assert ts.time_step_spec(()).step_type == TensorSpec([], tf.int32, name="step_type")


def test_time_step_spec_rejects_mixed_spec_kinds():
    with pytest.raises(TypeError, match="reward_spec holds tensor specs but observation_spec holds array"):
        ts.time_step_spec(ArraySpec((2,), np.float32), TensorSpec([], tf.float32))
    with pytest.raises(TypeError, match="observation_spec mixes ArraySpecs and TensorSpecs"):
        ts.time_step_spec({"a": ArraySpec((2,), np.float32), "b": TensorSpec([], tf.float32)})


def test_time_step_spec_rejects_non_specs():
    with pytest.raises(TypeError, match="observation_spec must be a nest of ArraySpecs or TensorSpecs"):
        ts.time_step_spec({"a": np.zeros(2)})


def test_restart_matches_time_step_spec_numpy():
    obs_spec = {"pos": ArraySpec((2,), np.float32), "id": ArraySpec((), np.int32)}
    reward_spec = {"a": ArraySpec((), np.float32), "b": ArraySpec((2,), np.float64)}
    spec = ts.time_step_spec(obs_spec, reward_spec)
    obs = {"pos": np.zeros((3, 2), np.float32), "id": np.zeros(3, np.int32)}
    assert check_nest(ts.restart(obs, batch_size=3, reward_spec=reward_spec), spec) == (3,)
    single = {"pos": np.zeros(2, np.float32), "id": np.zeros((), np.int32)}
    assert check_nest(ts.restart(single, reward_spec=reward_spec), spec) == ()
    assert check_nest(ts.restart(single), ts.time_step_spec(obs_spec)) == ()


def test_restart_matches_time_step_spec_tensors():
    obs_spec = {"pos": TensorSpec([2], tf.float32), "id": TensorSpec([], tf.int32)}
    obs = {"pos": tf.zeros([3, 2]), "id": tf.zeros([3], tf.int32)}
    assert check_nest(ts.restart(obs, batch_size=3), ts.time_step_spec(obs_spec)) == (3,)


def test_transition_matches_time_step_spec_in_tf_function():
    obs_spec = {"pos": TensorSpec([2], tf.float32)}
    spec = ts.time_step_spec(obs_spec)
    outer = {}

    @tf.function(input_signature=[{"pos": TensorSpec([None, 2])}, TensorSpec([None])])
    def step_fn(obs, reward):
        outer["shape"] = check_nest(ts.transition(obs, reward), spec)
        return reward

    step_fn({"pos": tf.zeros([3, 2])}, tf.zeros([3]))
    assert outer["shape"] == (None,)


_SHAPES = st.lists(st.integers(0, 3), max_size=2).map(tuple)
_DTYPES = st.sampled_from([np.float32, np.float64, np.int32])
_REWARD_SPECS = st.dictionaries(
    st.sampled_from(["a", "b", "c"]), st.builds(ArraySpec, _SHAPES, _DTYPES), min_size=1)


@given(reward_spec=_REWARD_SPECS, batch_size=st.one_of(st.none(), st.integers(0, 4)))
def test_restart_reward_matches_any_reward_spec(reward_spec, batch_size):
    obs_spec = ArraySpec((2,), np.float32)
    outer = () if batch_size is None else (batch_size,)
    step = ts.restart(np.zeros(outer + (2,), np.float32), batch_size, reward_spec)
    assert check_nest(step, ts.time_step_spec(obs_spec, reward_spec), outer_shape=outer) == outer
    for key, spec in reward_spec.items():
        assert_array(step.reward[key], np.zeros(outer + spec.shape), spec.dtype)


def test_package_reexports_time_step_names():
    for name in ts.__all__:
        assert getattr(trajectories, name) is getattr(ts, name)
    assert trajectories.time_step is ts


def test_time_step_spec_without_an_observation_spec_is_all_empty_as_in_tf_agents():
    spec = ts.time_step_spec()
    assert spec == ts.TimeStep(step_type=(), reward=(), discount=(), observation=())
    assert ts.time_step_spec(observation_spec=None, reward_spec=None) == spec


def test_time_step_spec_refuses_a_reward_spec_without_an_observation_spec():
    with pytest.raises(TypeError, match="a reward_spec needs an observation_spec"):
        ts.time_step_spec(reward_spec=tf.TensorSpec([], tf.float32))


def test_step_type_called_with_a_value_returns_its_member():
    assert StepType(0) is StepType.FIRST
    assert StepType(np.int64(1)) is StepType.MID
    assert StepType(np.array(2, np.int32)) is StepType.LAST
    with pytest.raises(ValueError, match=r"no StepType has the value 3"):
        StepType(3)
    with pytest.raises(ValueError, match=r"no StepType has the value"):
        StepType(np.array([0, 1]))


def test_restart_with_a_shape_as_batch_size_gives_those_outer_dims():
    step = ts.restart(np.zeros((2, 3, 4), np.float32), batch_size=[2, 3],
                      reward_spec=ArraySpec((5,), np.float64))
    assert_array(step.step_type, np.zeros((2, 3)), np.int32)
    assert_array(step.discount, np.ones((2, 3)), np.float32)
    assert_array(step.reward, np.zeros((2, 3, 5)), np.float64)

    tensor_step = ts.restart(tf.zeros((2, 3, 4)), batch_size=tf.constant([2, 3]))
    assert tensor_step.step_type.shape.as_list() == [2, 3]
    assert tensor_step.reward.shape.as_list() == [2, 3]
