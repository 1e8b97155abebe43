"""Tests of GreedyPolicy: modes of categoricals and Normals, masks, state, variables."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from hypothesis import given, strategies as st

from policy_toys import (ACTION, ACTION_CHECKS, DISTRIBUTION_CHECKS, KERNEL, MASKED_TS_SPEC,
                         MASKS, TS_SPEC, ActionOnly, LinearQ, RunningSumQ,
                         log_prob_of_each_action, masked_time_step, random_observations,
                         record_checks, signature, splitter, time_step_of)
from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy import PolicyStep, TFPolicy, time_step as ts
from tfpolicy.policies.greedy_policy import GreedyPolicy
from tfpolicy.policies.q_policy import QPolicy

tfd = tfp.distributions


class GaussianPolicy(TFPolicy):
    """Normal(3 * observation, 1) over a bounded two-dimensional force."""

    def __init__(self):
        super().__init__(TS_SPEC, BoundedTensorSpec([2], tf.float32, -1.0, 1.0),
                         emit_log_probability=True)
        self.gain = tf.Variable(3.0)

    def _distribution(self, time_step, policy_state):
        return PolicyStep(tfd.Normal(self.gain * time_step.observation, 1.0), policy_state)


# q = obs @ KERNEL: for [1, 2] -> [2, 4, -1] (argmax 3); for [3, 0] -> [3, 0, -3] (argmax 2).
OBS = [[1.0, 2.0], [3.0, 0.0], [-1.0, 0.0]]  # the last: [-1, 0, 1] (argmax 4)
GREEDY = [3, 2, 4]


def test_greedy_action_is_the_argmax_of_q_from_minimum_two():
    policy = GreedyPolicy(QPolicy(TS_SPEC, ACTION, LinearQ()))
    for _ in range(3):
        np.testing.assert_array_equal(policy.action(time_step_of(OBS)).action.numpy(), GREEDY)


def test_outputs_conform_batched_unbatched_and_in_tf_function():
    policy = GreedyPolicy(QPolicy(TS_SPEC, ACTION, LinearQ(), emit_log_probability=True))
    step = policy.action(time_step_of(OBS))
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (3,)
    single = policy.action(time_step_of(OBS[0]))
    assert nest_utils.check_nest(single, policy.policy_step_spec) == () and int(single.action) == 3
    action = tf.function(policy.action, input_signature=[signature(TS_SPEC)])
    for obs in (OBS, OBS[:1]):
        step = action(time_step_of(obs))
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (len(obs),)
        np.testing.assert_array_equal(step.action.numpy(), GREEDY[:len(obs)])


def test_shape_one_action_spec():
    policy = GreedyPolicy(QPolicy(TS_SPEC, BoundedTensorSpec([1], tf.int32, 2, 4), LinearQ()))
    np.testing.assert_array_equal(policy.action(time_step_of(OBS)).action.numpy(), [[3], [2], [4]])


def test_distribution_is_deterministic_at_the_greedy_action():
    policy = GreedyPolicy(QPolicy(TS_SPEC, ACTION, LinearQ(), emit_log_probability=True))
    assert policy.emit_log_probability
    time_step = time_step_of(OBS)
    step = policy.action(time_step)
    distribution = policy.distribution(time_step).action
    np.testing.assert_array_equal(distribution.log_prob(GREEDY).numpy(), [0.0] * 3)
    np.testing.assert_array_equal(distribution.log_prob([2, 3, 3]).numpy(), [-np.inf, -np.inf,
                                                                             -np.inf])
    np.testing.assert_array_equal(step.info.log_probability.numpy(), [0.0] * 3)


def test_normal_mode_is_the_mean_clipped_to_the_bounds():
    policy = GreedyPolicy(GaussianPolicy())
    step = policy.action(time_step_of([[0.1, -0.2], [0.5, -1.0]]))
    np.testing.assert_allclose(step.action.numpy(), [[0.3, -0.6], [1.0, -1.0]], rtol=1e-6)
    np.testing.assert_array_equal(step.info.log_probability.numpy(), [0.0, 0.0])
    distribution = policy.distribution(time_step_of([[0.5, -1.0]])).action
    assert distribution.event_shape == (2,)
    np.testing.assert_array_equal(distribution.log_prob([[1.0, -1.0]]).numpy(), [0.0])


def test_wrapped_policy_variables_and_specs():
    wrapped = GaussianPolicy()
    policy = GreedyPolicy(wrapped)
    assert policy.wrapped_policy is wrapped
    assert policy.variables() == wrapped.variables() and len(policy.variables()) == 1
    assert policy.time_step_spec == wrapped.time_step_spec
    assert policy.action_spec == wrapped.action_spec
    assert policy.info_spec == wrapped.info_spec
    policy.wrapped_policy.gain.assign(0.0)
    np.testing.assert_array_equal(policy.action(time_step_of([[0.5, 0.5]])).action.numpy(),
                                  [[0, 0]])


def test_policy_without_distribution_is_rejected():
    with pytest.raises(TypeError, match="GreedyPolicy needs a policy with an action distribution"):
        GreedyPolicy(ActionOnly(TS_SPEC, ACTION))


def test_recurrent_state_flows_and_resets_on_first():
    policy = GreedyPolicy(QPolicy(TS_SPEC, ACTION, RunningSumQ()))
    assert policy.policy_state_spec == TensorSpec([1], tf.float32)
    state = policy.get_initial_state(2)
    obs = [[1.0, 0.0], [-1.0, 0.0]]
    for expected in ([[1.0], [-1.0]], [[2.0], [-2.0]]):
        step = policy.action(time_step_of(obs, first=False), state)
        np.testing.assert_array_equal(step.state.numpy(), expected)
        np.testing.assert_array_equal(step.action.numpy(), [2, 4])
        state = step.state
    # Entry 1 restarts with observation +3: the total resets before adding, so it is positive.
    mixed = time_step_of([[1.0, 0.0], [3.0, 0.0]], first=False)._replace(
        step_type=tf.constant([ts.StepType.MID, ts.StepType.FIRST]))
    step = policy.action(mixed, state)
    np.testing.assert_array_equal(step.state.numpy(), [[3.0], [3.0]])
    np.testing.assert_array_equal(step.action.numpy(), [2, 2])


def test_an_eager_step_validates_once(monkeypatch):
    # The wrapped QPolicy runs unchecked: its inputs are this policy's, checked already.
    policy = GreedyPolicy(QPolicy(TS_SPEC, ACTION, RunningSumQ(), emit_log_probability=True))
    checks = record_checks(monkeypatch)
    step = policy.action(time_step_of(OBS), policy.get_initial_state(3))
    np.testing.assert_array_equal(step.action.numpy(), [2, 2, 4])
    assert checks == ACTION_CHECKS
    checks.clear()
    policy.distribution(time_step_of(OBS), policy.get_initial_state(3))
    assert checks == DISTRIBUTION_CHECKS


# ---- masks -----------------------------------------------------------------------------------


def test_masked_argmax_is_never_chosen():
    policy = GreedyPolicy(QPolicy(MASKED_TS_SPEC, ACTION, LinearQ(),
                                  observation_and_action_constraint_splitter=splitter))
    assert policy.observation_and_action_constraint_splitter is splitter
    # q = [2, 4, -1] with action 3 masked: the best allowed is 2; with only 4 allowed, 4.
    step = policy.action(masked_time_step([[1.0, 2.0]] * 2, [[1, 0, 1], [0, 0, 1]]))
    np.testing.assert_array_equal(step.action.numpy(), [2, 4])


@given(MASKS, st.integers(0, 2**16))
def test_masks_are_never_violated(mask, seed):
    obs = random_observations(seed, len(mask))
    policy = GreedyPolicy(QPolicy(MASKED_TS_SPEC, ACTION, LinearQ(), emit_log_probability=True,
                                  observation_and_action_constraint_splitter=splitter))
    time_step = masked_time_step(obs, mask)
    step = policy.action(time_step)
    chosen = step.action.numpy() - 2
    assert mask[np.arange(len(mask)), chosen].all()
    q = np.where(mask == 1, obs @ np.array(KERNEL, np.float32), -np.inf)
    np.testing.assert_array_equal(chosen, q.argmax(1))
    distribution = policy.distribution(time_step).action
    for a, log_prob in enumerate(log_prob_of_each_action(distribution, len(mask))):
        assert np.all(np.isneginf(log_prob[mask[:, a] == 0]))
    np.testing.assert_array_equal(step.info.log_probability.numpy(),
                                  distribution.log_prob(step.action).numpy())
