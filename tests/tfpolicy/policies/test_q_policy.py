"""Tests of QPolicy: Q-values as logits, masks, recurrent state, construction checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, strategies as st

from policy_toys import (ACTION, MASKED_TS_SPEC, MASKS, NET_SPEC, TS_SPEC, LinearQ, RunningSumQ,
                         log_prob_of_each_action, masked_time_step, random_observations,
                         signature, softmax, splitter, time_step_of)
from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy import time_step as ts
from tfpolicy.policies.q_policy import QPolicy


# ---- outputs and spec conformance ---------------------------------------------------------


def test_actions_conform_batched_and_unbatched():
    policy = QPolicy(TS_SPEC, ACTION, LinearQ(), emit_log_probability=True)
    batched = policy.action(time_step_of([[1.0, 2.0], [0.0, 1.0]]))
    assert nest_utils.check_nest(batched, policy.policy_step_spec) == (2,)
    single = policy.action(time_step_of([1.0, 2.0]))
    assert nest_utils.check_nest(single, policy.policy_step_spec) == ()
    assert 2 <= int(single.action) <= 4


def test_tf_function_with_unknown_batch():
    policy = QPolicy(TS_SPEC, ACTION, LinearQ(), emit_log_probability=True)
    action = tf.function(policy.action, input_signature=[signature(TS_SPEC)])
    for batch in (1, 4):
        step = action(time_step_of(np.ones([batch, 2], np.float32)))
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (batch,)
    assert action.experimental_get_tracing_count() == 1


def test_distribution_has_the_q_values_as_logits():
    policy = QPolicy(TS_SPEC, ACTION, LinearQ())
    distribution = policy.distribution(time_step_of([[1.0, 2.0]])).action
    # q = [1 + 1, 4, -1]
    np.testing.assert_allclose(distribution.probs_parameter().numpy()[0],
                               softmax(np.array([2.0, 4.0, -1.0])), rtol=1e-5)
    np.testing.assert_allclose(distribution.log_prob([3]).numpy(),
                               np.log(softmax(np.array([2.0, 4.0, -1.0])))[1], rtol=1e-5)


def test_samples_follow_softmax_of_q_from_minimum_two():
    policy = QPolicy(TS_SPEC, ACTION, LinearQ())
    obs = np.tile([[0.5, 0.25]], (6000, 1)).astype(np.float32)  # q = [0.625, 0.5, -0.5]
    actions = policy.action(time_step_of(obs), seed=tf.constant([1, 2])).action.numpy()
    assert actions.min() >= 2 and actions.max() <= 4
    np.testing.assert_allclose(np.bincount(actions - 2, minlength=3) / 6000,
                               softmax(np.array([0.625, 0.5, -0.5])), atol=0.025)


def test_emitted_log_probability_equals_the_distributions():
    policy = QPolicy(TS_SPEC, ACTION, LinearQ(), emit_log_probability=True)
    time_step = time_step_of(np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32))
    step = policy.action(time_step)
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               policy.distribution(time_step).action.log_prob(step.action).numpy(),
                               rtol=1e-5)


def test_shape_one_action_spec():
    spec = BoundedTensorSpec([1], tf.int32, 2, 4)
    policy = QPolicy(TS_SPEC, spec, LinearQ(), emit_log_probability=True)
    step = policy.action(time_step_of([[1.0, 2.0], [3.0, 0.0]]))
    assert step.action.shape == (2, 1) and step.info.log_probability.shape == (2,)
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (2,)


def test_one_leaf_nested_action_spec():
    policy = QPolicy(TS_SPEC, {"a": ACTION}, LinearQ())
    step = policy.action(time_step_of([[1.0, 2.0]]))
    assert set(step.action) == {"a"} and step.action["a"].shape == (1,)


# ---- plain Keras models and variables -----------------------------------------------------------


def test_plain_keras_model_is_wrapped_built_and_its_variables_collected():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8), keras.layers.Dense(3)])
    policy = QPolicy(TS_SPEC, ACTION, model)
    assert len(policy.variables()) == 4 and len(policy.trainable_variables) == 4
    step = tf.function(policy.action)(time_step_of(np.zeros([3, 2], np.float32)))
    assert step.action.shape == (3,)


def test_unbuilt_keras_model_is_built_at_construction():
    model = keras.Sequential([keras.layers.Dense(3)])
    policy = QPolicy(TS_SPEC, ACTION, model)
    assert len(policy.variables()) == 2


# ---- construction checks -----------------------------------------------------------------


@pytest.mark.parametrize("spec", [
    BoundedTensorSpec([], tf.float32, 0.0, 1.0),
    BoundedTensorSpec([2], tf.int32, 0, 2),
    BoundedTensorSpec([1, 1], tf.int32, 0, 2),
    TensorSpec([], tf.int32),
    (ACTION, ACTION),
], ids=["float", "shape_2", "shape_1x1", "unbounded", "two_actions"])
def test_action_spec_must_be_a_single_discrete_action(spec):
    with pytest.raises(ValueError, match="QPolicy supports a single bounded integer action"):
        QPolicy(TS_SPEC, spec, LinearQ())


def test_network_width_is_checked_at_construction():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match=r"Q-values of shape \(1, 4\), .*followed by 3"):
        QPolicy(TS_SPEC, ACTION, model)


def test_network_width_is_checked_at_trace_time_for_unknown_observation_dims():
    spec = ts.time_step_spec(TensorSpec([None], tf.float32))
    policy = QPolicy(spec, ACTION, lambda obs: tf.zeros([tf.shape(obs)[0], 4]))
    with pytest.raises(ValueError, match=r"Q-values of shape \(2, 4\)"):
        policy.action(ts.restart(tf.zeros([2, 5]), batch_size=2))


def test_mask_width_is_checked_at_construction():
    spec = ts.time_step_spec({"obs": NET_SPEC, "mask": TensorSpec([4], tf.int32)})
    with pytest.raises(ValueError, match=r"mask .*shape \(4,\), expected .* followed by 3"):
        QPolicy(spec, ACTION, LinearQ(), observation_and_action_constraint_splitter=splitter)


def test_time_step_spec_must_be_a_time_step():
    with pytest.raises(TypeError, match="time_step_spec must be a TimeStep"):
        QPolicy(NET_SPEC, ACTION, LinearQ())


# ---- masks ----------------------------------------------------------------------------------


def test_network_sees_only_the_network_part_of_the_observation():
    net = LinearQ()
    policy = QPolicy(MASKED_TS_SPEC, ACTION, net,
                     observation_and_action_constraint_splitter=splitter)
    policy.action(masked_time_step([[1.0, 2.0]] * 5, [[1, 1, 0]] * 5))
    tf.function(policy.action, input_signature=[signature(MASKED_TS_SPEC)])(
        masked_time_step([[1.0, 2.0]], [[0, 1, 1]]))
    assert net.seen == [(1, 2), (5, 2), (None, 2)]


def test_masked_best_action_is_never_sampled():
    policy = QPolicy(MASKED_TS_SPEC, ACTION, LinearQ(),
                     observation_and_action_constraint_splitter=splitter)
    # q = [2, 4, -1]; the best action (3) is masked.
    step = policy.action(masked_time_step([[1.0, 2.0]] * 2000, [[1, 0, 1]] * 2000))
    actions = step.action.numpy()
    assert 3 not in set(actions)
    expected = softmax(np.array([2.0, -1.0]))[0]
    assert abs((actions == 2).mean() - expected) < 0.03


@given(MASKS, st.integers(0, 2**16))
def test_masks_are_never_violated(mask, seed):
    obs = random_observations(seed, len(mask))
    policy = QPolicy(MASKED_TS_SPEC, ACTION, LinearQ(), emit_log_probability=True,
                     observation_and_action_constraint_splitter=splitter)
    time_step = masked_time_step(obs, mask)
    step = policy.action(time_step, seed=tf.constant([seed, 3]))
    assert mask[np.arange(len(mask)), step.action.numpy() - 2].all()
    distribution = policy.distribution(time_step).action
    for a, log_prob in enumerate(log_prob_of_each_action(distribution, len(mask))):
        assert np.all(np.isneginf(log_prob[mask[:, a] == 0]))
        assert np.all(np.isfinite(log_prob[mask[:, a] == 1]))
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               distribution.log_prob(step.action).numpy(), rtol=1e-6)


# ---- recurrent Q networks -------------------------------------------------------------


def test_recurrent_state_flows_across_steps_and_resets_on_first():
    policy = QPolicy(TS_SPEC, ACTION, RunningSumQ("total"))
    assert policy.policy_state_spec == TensorSpec([1], tf.float32, "total")
    state = policy.get_initial_state(2)
    np.testing.assert_array_equal(state.numpy(), [[0.0], [0.0]])
    obs = [[1.0, 0.0], [-2.0, 0.0]]
    for expected in ([[1.0], [-2.0]], [[2.0], [-4.0]], [[3.0], [-6.0]]):
        step = policy.action(time_step_of(obs, first=False), state)
        np.testing.assert_array_equal(step.state.numpy(), expected)
        state = step.state
    mixed = time_step_of(obs, first=False)._replace(
        step_type=tf.constant([ts.StepType.FIRST, ts.StepType.MID]))
    step = policy.action(mixed, state)
    np.testing.assert_array_equal(step.state.numpy(), [[1.0], [-8.0]])


def test_recurrent_state_drives_the_q_values_in_tf_function():
    policy = QPolicy(TS_SPEC, ACTION, RunningSumQ())
    distribution = tf.function(
        lambda t, s: policy.distribution(t, s).action.logits,
        input_signature=[signature(TS_SPEC), tf.TensorSpec([None, 1], tf.float32)])
    logits = distribution(time_step_of([[1.0, 0.0]], first=False), tf.constant([[4.0]]))
    np.testing.assert_array_equal(logits.numpy(), [[5.0, 0.0, -5.0]])
    logits = distribution(time_step_of([[1.0, 0.0]], first=True), tf.constant([[4.0]]))
    np.testing.assert_array_equal(logits.numpy(), [[1.0, 0.0, -1.0]])


def test_unbatched_recurrent_step():
    policy = QPolicy(TS_SPEC, ACTION, RunningSumQ())
    step = policy.action(time_step_of([2.0, 0.0], first=False), policy.get_initial_state(None))
    assert step.state.shape == (1,) and float(step.state[0]) == 2.0
