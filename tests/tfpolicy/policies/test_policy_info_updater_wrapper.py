"""Tests of PolicyInfoUpdaterWrapper: entries computed from each step merged into the info."""

import numpy as np
import pytest
import tensorflow as tf

from policy_toys import ACTION, KERNEL, TS_SPEC, LinearQ, time_step_of
from specs import TensorSpec
from tfpolicy.policies.fixed_policy import FixedPolicy
from tfpolicy.policies.policy_info_updater_wrapper import PolicyInfoUpdaterWrapper
from tfpolicy.policies.q_policy import QPolicy

ID_SPEC = {"model_id": TensorSpec([], tf.int32)}


def _model_id(step):
    # From `distribution` the action is a distribution: take the batch shape from it.
    action = step.action
    shape = tf.shape(action) if isinstance(action, tf.Tensor) else action.batch_shape_tensor()
    return {"model_id": tf.fill(shape, 3)}


def test_action_info_gains_the_updater_entries_and_keeps_the_log_probability():
    q = QPolicy(TS_SPEC, ACTION, LinearQ(), emit_log_probability=True)
    policy = PolicyInfoUpdaterWrapper(q, ID_SPEC, _model_id)
    assert policy.wrapped_policy is q and policy.emit_log_probability
    assert set(policy.info_spec) == {"model_id", "log_probability"}
    assert policy.policy_state_spec == q.policy_state_spec
    tf.random.set_seed(0)
    step = policy.action(time_step_of([[1.0, 0.0], [0.0, 1.0]]), seed=1)
    np.testing.assert_array_equal(step.info["model_id"].numpy(), [3, 3])
    # Log-probabilities of the sampled actions under softmax(obs @ KERNEL).
    logits = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32) @ np.array(KERNEL, np.float32)
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = log_softmax[[0, 1], step.action.numpy() - 2]
    np.testing.assert_allclose(step.info["log_probability"].numpy(), expected, rtol=1e-5)
    assert policy.variables() == q.variables()


def test_distribution_info_is_updated_too():
    q = QPolicy(TS_SPEC, ACTION, LinearQ())
    policy = PolicyInfoUpdaterWrapper(q, ID_SPEC, _model_id)
    assert policy.has_distribution
    step = policy.distribution(time_step_of([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    np.testing.assert_array_equal(step.info["model_id"].numpy(), [3, 3, 3])
    np.testing.assert_allclose(step.action.logits.numpy()[2], [1.5, 2.0, -1.0])


def test_existing_dict_entries_are_kept_and_overwritten_by_the_updater():
    fixed = FixedPolicy(2, TS_SPEC, ACTION, emit_log_probability=False,
                        policy_info={"a": 1.0, "b": 2.0},
                        info_spec={"a": TensorSpec([], tf.float32), "b": TensorSpec([], tf.float32)})
    spec = {"a": TensorSpec([], tf.float32), "b": TensorSpec([], tf.float32)}
    policy = PolicyInfoUpdaterWrapper(
        fixed, spec, lambda step: {"b": tf.fill(tf.shape(step.action), 5.0)})
    info = policy.action(time_step_of([[0.0, 0.0], [1.0, 1.0]])).info
    np.testing.assert_array_equal(info["a"].numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(info["b"].numpy(), [5.0, 5.0])
    # The wrapped policy's own info is not changed in place.
    np.testing.assert_array_equal(fixed.action(time_step_of([[0.0, 0.0]])).info["b"].numpy(),
                                  [2.0])


def test_errors_are_clear():
    with pytest.raises(TypeError, match="wraps a TFPolicy"):
        PolicyInfoUpdaterWrapper(object(), ID_SPEC, _model_id)
    q = QPolicy(TS_SPEC, ACTION, LinearQ(), emit_log_probability=True)
    with pytest.raises(TypeError, match="updater_fn must be callable"):
        PolicyInfoUpdaterWrapper(q, ID_SPEC, updater_fn=3)
    no_dict = PolicyInfoUpdaterWrapper(q, ID_SPEC, lambda step: [step.action])
    with pytest.raises(TypeError, match="must return a dict"):
        no_dict.action(time_step_of([[1.0, 0.0]]))
    wrong = PolicyInfoUpdaterWrapper(q, ID_SPEC, lambda step: {"model_id": tf.zeros([1, 4])})
    with pytest.raises((TypeError, ValueError), match="model_id"):
        wrong.action(time_step_of([[1.0, 0.0]]))
