"""Tests of TemporalActionSmoothing: an exponential moving average over a policy's actions."""

import numpy as np
import pytest
import tensorflow as tf

from policy_toys import ACTOR_TS_SPEC as TS_SPEC
from policy_toys import (ACTION, TS_SPEC as DISCRETE_TS_SPEC, UNIT, WIDE, Accumulator,
                         deterministic_policy, mid, restart)
from specs import nest_utils
from tfpolicy.policies.actor_policy import ActorPolicy
from tfpolicy.policies.fixed_policy import FixedPolicy
from tfpolicy.policies.temporal_action_smoothing import TemporalActionSmoothing
from tfpolicy.trajectories import policy_step


def test_specs_wrap_the_policy_state_with_the_average():
    wrapped = ActorPolicy(TS_SPEC, WIDE, Accumulator(), emit_log_probability=True)
    policy = TemporalActionSmoothing(wrapped, smoothing_coefficient=0.25)
    assert policy.wrapped_policy is wrapped and policy.smoothing_coefficient == 0.25
    assert policy.time_step_spec == wrapped.time_step_spec
    assert policy.action_spec == wrapped.action_spec
    assert policy.policy_state_spec == (wrapped.policy_state_spec, WIDE)
    # The smoothed action has no distribution: no log-probability in the info.
    assert policy_step.get_log_probability(policy.info_spec) is None
    assert not policy.has_distribution
    assert policy.variables() == wrapped.variables()


def test_actions_follow_the_moving_average_from_zero():
    policy = TemporalActionSmoothing(deterministic_policy(), smoothing_coefficient=0.25)
    state = policy.get_initial_state(2)
    np.testing.assert_array_equal(state[1].numpy(), np.zeros((2, 2), np.float32))
    expected = np.zeros(2, np.float32)
    for time_step in (restart(2), mid(2), mid(2)):
        step = policy.action(time_step, state)
        # c * previous + (1 - c) * [0.2, -0.3]
        expected = 0.25 * expected + 0.75 * np.array([0.2, -0.3], np.float32)
        np.testing.assert_allclose(step.action.numpy(), [expected] * 2, rtol=1e-6)
        np.testing.assert_allclose(step.state[1].numpy(), [expected] * 2, rtol=1e-6)
        state = step.state
    np.testing.assert_allclose(expected, [0.196875, -0.2953125], rtol=1e-6)


def test_first_step_resets_the_average_of_that_entry_only():
    policy = TemporalActionSmoothing(deterministic_policy(), smoothing_coefficient=0.5)
    state = ((), tf.constant([[1.0, 1.0], [1.0, 1.0]]))
    first_then_mid = restart(2)._replace(step_type=tf.constant([0, 1], tf.int32))
    step = policy.action(first_then_mid, state)
    np.testing.assert_allclose(step.action.numpy(),
                               [[0.1, -0.15], [0.6, 0.35]], rtol=1e-6)


def test_wrapped_state_is_carried_and_wrapped_info_kept():
    policy = TemporalActionSmoothing(ActorPolicy(TS_SPEC, WIDE, Accumulator()), 0.5)
    state = policy.get_initial_state(1)
    step = policy.action(restart(1, value=1.0), state)  # total = [1, 1]
    step = policy.action(mid(1, value=2.0), step.state)  # total = [3, 3]
    np.testing.assert_allclose(step.state[0].numpy(), [[3.0, 3.0]])
    # 0.5 * (0.5 * 1) + 0.5 * 3
    np.testing.assert_allclose(step.action.numpy(), [[1.75, 1.75]])
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (1,)


def test_unbatched_step_and_variable_coefficient():
    coefficient = tf.Variable(0.0)
    policy = TemporalActionSmoothing(deterministic_policy(), coefficient)
    step = policy.action(restart(), policy.get_initial_state(None))
    np.testing.assert_allclose(step.action.numpy(), [0.2, -0.3], rtol=1e-6)
    coefficient.assign(1.0)  # read on every call: the average no longer moves
    step = policy.action(mid(), step.state)
    np.testing.assert_allclose(step.action.numpy(), [0.2, -0.3], rtol=1e-6)


def test_smoothed_actions_are_clipped_to_bounded_specs():
    fixed = FixedPolicy([0.9, -0.9], TS_SPEC, UNIT, emit_log_probability=False)
    policy = TemporalActionSmoothing(fixed, smoothing_coefficient=0.5)
    step = policy.action(mid(1), ((), tf.constant([[3.0, -3.0]])))
    np.testing.assert_allclose(step.action.numpy(), [[1.0, -1.0]])
    np.testing.assert_allclose(step.state[1].numpy(), [[1.95, -1.95]], rtol=1e-6)


def test_distribution_raises_a_clear_error():
    policy = TemporalActionSmoothing(deterministic_policy(), 0.5)
    with pytest.raises(TypeError, match="has no action distribution"):
        policy.distribution(restart(1), policy.get_initial_state(1))


def test_bad_arguments_are_named():
    integer = FixedPolicy(2, DISCRETE_TS_SPEC, ACTION)
    with pytest.raises(ValueError, match="continuous actions only.*'action'"):
        TemporalActionSmoothing(integer, 0.5)
    with pytest.raises(ValueError, match=r"smoothing_coefficient must lie in \[0, 1\], got 1.5"):
        TemporalActionSmoothing(deterministic_policy(), 1.5)
    with pytest.raises(TypeError, match="wraps a TFPolicy"):
        TemporalActionSmoothing(lambda ts: None, 0.5)
    policy = TemporalActionSmoothing(deterministic_policy(), 0.5)
    with pytest.raises((TypeError, ValueError), match="policy_state"):
        policy.action(restart(2), ((), tf.zeros([2, 3])))

