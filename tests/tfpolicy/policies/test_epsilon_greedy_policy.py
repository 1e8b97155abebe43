"""Tests of EpsilonGreedyPolicy: the exact mixture, frequencies, masks, epsilon kinds."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, strategies as st

from policy_toys import (ACTION, KERNEL, MASKED_TS_SPEC, MASKS, TS_SPEC, LinearQ,
                         NormalAroundObservation, RunningSumQ, log_prob_of_each_action,
                         masked_time_step, random_observations, repeated_restart, signature,
                         splitter)
from specs import BoundedTensorSpec, nest_utils
from tfpolicy import time_step as ts
from tfpolicy.policies.epsilon_greedy_policy import EpsilonGreedyPolicy
from tfpolicy.policies.q_policy import QPolicy

OBS = [1.0, 2.0]  # q = [2, 4, -1]: the greedy action is 3


def _q_policy(**kwargs):
    return QPolicy(TS_SPEC, ACTION, LinearQ(), **kwargs)


def _time_step(batch=None):
    return repeated_restart(OBS, batch)


def _frequencies(actions, minimum=2, n=3):
    return np.bincount(np.asarray(actions).reshape(-1) - minimum, minlength=n) / np.size(actions)


# ---- the mixture -----------------------------------------------------------------------------


def test_distribution_is_the_exact_mixture():
    policy = EpsilonGreedyPolicy(_q_policy(), epsilon=0.3)
    probs = policy.distribution(_time_step(2)).action.probs_parameter().numpy()
    np.testing.assert_allclose(probs, [[0.1, 0.8, 0.1]] * 2, rtol=1e-6)


def test_greedy_action_frequency_is_one_minus_eps_plus_eps_over_n():
    policy = EpsilonGreedyPolicy(_q_policy(), epsilon=0.3)
    actions = policy.action(_time_step(6000), seed=tf.constant([4, 5])).action.numpy()
    np.testing.assert_allclose(_frequencies(actions), [0.1, 0.7 + 0.1, 0.1], atol=0.025)


def test_emitted_log_probability_is_the_mixtures():
    policy = EpsilonGreedyPolicy(_q_policy(), epsilon=0.3, emit_log_probability=True)
    time_step = _time_step(64)
    step = policy.action(time_step, seed=tf.constant([1, 1]))
    expected = np.where(step.action.numpy() == 3, np.log(0.8), np.log(0.1))
    np.testing.assert_allclose(step.info.log_probability.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               policy.distribution(time_step).action.log_prob(step.action).numpy(),
                               rtol=1e-6)


def test_epsilon_zero_is_greedy_and_one_is_uniform():
    greedy = EpsilonGreedyPolicy(_q_policy(), epsilon=0.0)
    np.testing.assert_array_equal(greedy.action(_time_step(50)).action.numpy(), [3] * 50)
    uniform = EpsilonGreedyPolicy(_q_policy(), epsilon=1.0)
    actions = uniform.action(_time_step(6000), seed=tf.constant([2, 2])).action.numpy()
    np.testing.assert_allclose(_frequencies(actions), [1 / 3] * 3, atol=0.025)


def test_outputs_conform_batched_unbatched_and_in_tf_function():
    policy = EpsilonGreedyPolicy(_q_policy(), epsilon=0.5, emit_log_probability=True)
    assert nest_utils.check_nest(policy.action(_time_step(3)), policy.policy_step_spec) == (3,)
    single = policy.action(_time_step())
    assert nest_utils.check_nest(single, policy.policy_step_spec) == ()
    action = tf.function(policy.action, input_signature=[signature(TS_SPEC)])
    for batch in (1, 4):
        step = action(_time_step(batch))
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (batch,)


def test_shape_one_action_spec():
    spec = BoundedTensorSpec([1], tf.int32, 2, 4)
    policy = EpsilonGreedyPolicy(QPolicy(TS_SPEC, spec, LinearQ()), epsilon=0.0,
                                 emit_log_probability=True)
    step = policy.action(_time_step(2))
    np.testing.assert_array_equal(step.action.numpy(), [[3], [3]])
    np.testing.assert_allclose(step.info.log_probability.numpy(), [0.0, 0.0], atol=1e-6)


# ---- epsilon kinds -------------------------------------------------------------------------


def test_epsilon_variable_changes_take_effect_without_retracing():
    epsilon = tf.Variable(0.0)
    policy = EpsilonGreedyPolicy(_q_policy(), epsilon=epsilon)
    action = tf.function(lambda t: policy.action(t, seed=tf.constant([6, 7])),
                         input_signature=[signature(TS_SPEC)])
    np.testing.assert_array_equal(action(_time_step(200)).action.numpy(), [3] * 200)
    epsilon.assign(1.0)
    actions = action(_time_step(6000)).action.numpy()
    np.testing.assert_allclose(_frequencies(actions), [1 / 3] * 3, atol=0.025)
    assert action.experimental_get_tracing_count() == 1
    assert any(v is epsilon for v in policy.variables())


def test_callable_schedule_is_read_at_every_call():
    step_count = tf.Variable(0.0)
    schedule = lambda: tf.maximum(1.0 - step_count, 0.0)  # noqa: E731  (1 then 0)
    policy = EpsilonGreedyPolicy(_q_policy(), epsilon=schedule)
    probs = tf.function(lambda t: policy.distribution(t).action.probs_parameter(),
                        input_signature=[signature(TS_SPEC)])
    np.testing.assert_allclose(probs(_time_step(1)).numpy(), [[1 / 3] * 3], rtol=1e-6)
    step_count.assign(1.0)
    np.testing.assert_allclose(probs(_time_step(1)).numpy(), [[0.0, 1.0, 0.0]], atol=1e-7)
    assert probs.experimental_get_tracing_count() == 1


def test_python_callable_in_eager_mode():
    values = iter([0.0, 1.0])
    policy = EpsilonGreedyPolicy(_q_policy(), epsilon=lambda: next(values))
    first = policy.distribution(_time_step(1)).action.probs_parameter().numpy()
    second = policy.distribution(_time_step(1)).action.probs_parameter().numpy()
    np.testing.assert_allclose(first, [[0.0, 1.0, 0.0]], atol=1e-7)
    np.testing.assert_allclose(second, [[1 / 3] * 3], rtol=1e-6)


@pytest.mark.parametrize("epsilon", [-0.1, 1.5])
def test_float_epsilon_outside_unit_interval_is_rejected(epsilon):
    with pytest.raises(ValueError, match=r"epsilon must lie in \[0, 1\]"):
        EpsilonGreedyPolicy(_q_policy(), epsilon=epsilon)


def test_epsilon_of_another_kind_is_rejected():
    with pytest.raises(TypeError, match="epsilon must be a float, a tf.Variable or a zero-argument"):
        EpsilonGreedyPolicy(_q_policy(), epsilon="0.1")


# ---- specs, state and errors --------------------------------------------------------------


def test_continuous_action_spec_is_rejected():
    spec = BoundedTensorSpec([2], tf.float32, -1.0, 1.0)
    with pytest.raises(ValueError, match="EpsilonGreedyPolicy supports a single bounded integer"):
        EpsilonGreedyPolicy(NormalAroundObservation(TS_SPEC, spec), epsilon=0.1)


def test_recurrent_state_flows_and_resets_on_first():
    policy = EpsilonGreedyPolicy(QPolicy(TS_SPEC, ACTION, RunningSumQ()), epsilon=0.0)
    state = policy.get_initial_state(2)
    obs = [[1.0, 0.0], [-1.0, 0.0]]
    mid = ts.transition(tf.constant(obs), reward=tf.zeros([2]))
    for expected in ([[1.0], [-1.0]], [[2.0], [-2.0]]):
        step = policy.action(mid, state)
        np.testing.assert_array_equal(step.state.numpy(), expected)
        np.testing.assert_array_equal(step.action.numpy(), [2, 4])
        state = step.state
    step = policy.action(mid._replace(step_type=tf.constant([ts.StepType.FIRST, ts.StepType.MID])),
                         state)
    np.testing.assert_array_equal(step.state.numpy(), [[1.0], [-3.0]])


# ---- masks -----------------------------------------------------------------------------------


def _masked_policy(epsilon, **kwargs):
    return EpsilonGreedyPolicy(
        QPolicy(MASKED_TS_SPEC, ACTION, LinearQ(),
                observation_and_action_constraint_splitter=splitter), epsilon=epsilon, **kwargs)


def test_random_part_is_uniform_over_allowed_actions():
    policy = _masked_policy(0.6)
    # q = [2, 4, -1]; action 3 masked: greedy is 2, the random part picks 2 or 4.
    step = policy.action(masked_time_step([OBS] * 6000, [[1, 0, 1]] * 6000),
                         seed=tf.constant([3, 9]))
    np.testing.assert_allclose(_frequencies(step.action.numpy()), [0.4 + 0.3, 0.0, 0.3],
                               atol=0.025)


@given(MASKS, st.integers(0, 2**16), st.sampled_from([0.0, 0.25, 1.0]))
def test_masks_are_never_violated(mask, seed, epsilon):
    obs = random_observations(seed, len(mask))
    policy = _masked_policy(epsilon, emit_log_probability=True)
    time_step = masked_time_step(obs, mask)
    step = policy.action(time_step, seed=tf.constant([seed, 5]))
    assert mask[np.arange(len(mask)), step.action.numpy() - 2].all()
    distribution = policy.distribution(time_step).action
    allowed = mask.sum(1)
    greedy = np.where(mask == 1, obs @ np.array(KERNEL, np.float32), -np.inf).argmax(1)
    for a, log_prob in enumerate(log_prob_of_each_action(distribution, len(mask))):
        assert np.all(np.isneginf(log_prob[mask[:, a] == 0]))
        expected = (1 - epsilon) * (greedy == a) + epsilon / allowed
        np.testing.assert_allclose(np.exp(log_prob[mask[:, a] == 1]),
                                   expected[mask[:, a] == 1], rtol=1e-5)
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               distribution.log_prob(step.action).numpy(), rtol=1e-6)
