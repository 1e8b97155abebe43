"""Tests of BoltzmannPolicy: logits / temperature, frequencies, masks, temperature variables."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from hypothesis import given, strategies as st

from policy_toys import (ACTION, KERNEL, MASKED_TS_SPEC, MASKS, TS_SPEC, LinearQ,
                         NormalAroundObservation, log_prob_of_each_action, masked_time_step,
                         random_observations, repeated_restart, signature, softmax, splitter)
from specs import BoundedTensorSpec, nest_utils
from tfpolicy import PolicyStep, TFPolicy
from tfpolicy.policies.boltzmann_policy import BoltzmannPolicy
from tfpolicy.policies.q_policy import QPolicy

tfd = tfp.distributions

OBS = [0.5, 0.25]  # q = [0.625, 0.5, -0.5]
Q = np.array([0.625, 0.5, -0.5])


def _q_policy(spec=ACTION, **kwargs):
    return QPolicy(TS_SPEC, spec, LinearQ(), **kwargs)


def _time_step(batch=None):
    return repeated_restart(OBS, batch)


def test_logits_are_divided_by_the_temperature():
    policy = BoltzmannPolicy(_q_policy(), temperature=0.25)
    logits = policy.distribution(_time_step(2)).action.logits.numpy()
    np.testing.assert_allclose(logits, [Q * 4] * 2, rtol=1e-6)


@pytest.mark.parametrize("temperature", [0.2, 3.0])
def test_sample_frequencies_follow_softmax_of_q_over_temperature(temperature):
    policy = BoltzmannPolicy(_q_policy(), temperature=temperature)
    actions = policy.action(_time_step(6000), seed=tf.constant([8, 1])).action.numpy()
    assert actions.min() >= 2 and actions.max() <= 4
    np.testing.assert_allclose(np.bincount(actions - 2, minlength=3) / 6000,
                               softmax(Q / temperature), atol=0.025)


def test_emitted_log_probability_equals_the_distributions():
    policy = BoltzmannPolicy(_q_policy(emit_log_probability=True), temperature=0.5)
    assert policy.emit_log_probability
    time_step = _time_step(32)
    step = policy.action(time_step)
    expected = np.log(softmax(Q / 0.5))[step.action.numpy() - 2]
    np.testing.assert_allclose(step.info.log_probability.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               policy.distribution(time_step).action.log_prob(step.action).numpy(),
                               rtol=1e-6)


def test_outputs_conform_batched_unbatched_and_in_tf_function():
    policy = BoltzmannPolicy(_q_policy(emit_log_probability=True), temperature=2.0)
    assert nest_utils.check_nest(policy.action(_time_step(3)), policy.policy_step_spec) == (3,)
    assert nest_utils.check_nest(policy.action(_time_step()), policy.policy_step_spec) == ()
    action = tf.function(policy.action, input_signature=[signature(TS_SPEC)])
    for batch in (1, 5):
        step = action(_time_step(batch))
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (batch,)


def test_shape_one_spec_keeps_shift_and_event_shape():
    spec = BoundedTensorSpec([1], tf.int32, 2, 4)
    policy = BoltzmannPolicy(_q_policy(spec), temperature=0.5)
    distribution = policy.distribution(_time_step(2)).action
    assert distribution.event_shape == (1,)
    np.testing.assert_allclose(distribution.log_prob([[2], [4]]).numpy(),
                               np.log(softmax(Q / 0.5))[[0, 2]], rtol=1e-5)
    actions = policy.action(_time_step(100)).action.numpy()
    assert actions.shape == (100, 1) and actions.min() >= 2 and actions.max() <= 4


def test_temperature_variable_changes_take_effect_without_retracing():
    temperature = tf.Variable(1.0)
    policy = BoltzmannPolicy(_q_policy(), temperature=temperature)
    logits = tf.function(lambda t: policy.distribution(t).action.logits,
                         input_signature=[signature(TS_SPEC)])
    np.testing.assert_allclose(logits(_time_step(1)).numpy(), [Q], rtol=1e-6)
    temperature.assign(0.5)
    np.testing.assert_allclose(logits(_time_step(1)).numpy(), [Q * 2], rtol=1e-6)
    assert logits.experimental_get_tracing_count() == 1


def test_categorical_built_from_probs_is_scaled_too():
    class FromProbs(TFPolicy):
        def _distribution(self, time_step, policy_state):
            probs = tf.broadcast_to([0.2, 0.3, 0.5], [tf.shape(time_step.step_type)[0], 3])
            return PolicyStep(tfd.Categorical(probs=probs))

    policy = BoltzmannPolicy(FromProbs(TS_SPEC, BoundedTensorSpec([], tf.int32, 0, 2)), 0.5)
    probs = policy.distribution(_time_step(1)).action.probs_parameter().numpy()
    np.testing.assert_allclose(probs, [softmax(np.log([0.2, 0.3, 0.5]) * 2)], rtol=1e-5)


def test_invalid_temperatures_and_specs_are_rejected():
    with pytest.raises(ValueError, match="temperature must be positive, got 0"):
        BoltzmannPolicy(_q_policy(), temperature=0)
    with pytest.raises(TypeError, match="temperature must be a positive float or a tf.Variable"):
        BoltzmannPolicy(_q_policy(), temperature="hot")

    with pytest.raises(TypeError, match="at '<root>': needs discrete"):
        BoltzmannPolicy(NormalAroundObservation(TS_SPEC,
                                                BoundedTensorSpec([2], tf.float32, -1.0, 1.0)))


def test_non_categorical_distribution_of_integer_action_is_rejected_naming_the_path():
    class Poisson(TFPolicy):
        def _distribution(self, time_step, policy_state):
            return PolicyStep({"n": tfd.Deterministic(tf.zeros_like(time_step.step_type))})

    policy = BoltzmannPolicy(Poisson(TS_SPEC, {"n": BoundedTensorSpec([], tf.int32, 0, 5)}))
    with pytest.raises(TypeError, match="action at 'n': a Deterministic"):
        policy.distribution(_time_step(1))


def test_variables_are_the_wrapped_policys_plus_the_temperature():
    temperature = tf.Variable(2.0)
    wrapped = _q_policy()
    policy = BoltzmannPolicy(wrapped, temperature)
    ids = {id(v) for v in policy.variables()}
    assert ids == {id(v) for v in wrapped.variables()} | {id(temperature)}
    assert policy.wrapped_policy is wrapped


# ---- masks -----------------------------------------------------------------------------------


@given(MASKS, st.integers(0, 2**16), st.sampled_from([0.1, 1.0, 10.0]))
def test_masks_are_never_violated(mask, seed, temperature):
    obs = random_observations(seed, len(mask))
    policy = BoltzmannPolicy(
        QPolicy(MASKED_TS_SPEC, ACTION, LinearQ(), emit_log_probability=True,
                observation_and_action_constraint_splitter=splitter), temperature)
    time_step = masked_time_step(obs, mask)
    step = policy.action(time_step, seed=tf.constant([seed, 7]))
    assert mask[np.arange(len(mask)), step.action.numpy() - 2].all()
    distribution = policy.distribution(time_step).action
    logits = distribution.logits.numpy()
    assert np.all(np.isneginf(logits[mask == 0]))
    q = obs @ np.array(KERNEL, np.float32)
    np.testing.assert_allclose(logits[mask == 1], q[mask == 1] / temperature, rtol=1e-5)
    for a, log_prob in enumerate(log_prob_of_each_action(distribution, len(mask))):
        assert np.all(np.isneginf(log_prob[mask[:, a] == 0]))
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               distribution.log_prob(step.action).numpy(), rtol=1e-6)
