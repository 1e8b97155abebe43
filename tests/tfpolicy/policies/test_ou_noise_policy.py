"""Tests of OUNoisePolicy: Ornstein-Uhlenbeck noise carried in the policy state."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from policy_toys import ACTOR_TS_SPEC as TS_SPEC
from policy_toys import (ACTION_CHECKS, DISTRIBUTION_CHECKS, MODE, UNIT, WIDE, Accumulator,
                         ActionOnly, ArmAndGrip, NeverCalled, deterministic_policy, mid,
                         record_checks, restart, signature)
from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy.policies.actor_policy import ActorPolicy
from tfpolicy.policies.ou_noise_policy import OUNoisePolicy

tfd = tfp.distributions


def _state(noise, wrapped=()):
    return {"wrapped": wrapped, "ou_noise": tf.constant(noise, tf.float32)}


def test_policy_state_holds_the_wrapped_state_and_the_noise():
    policy = OUNoisePolicy(deterministic_policy(), ou_stddev=0.3, ou_damping=0.15)
    assert policy.policy_state_spec == {"wrapped": (),
                                        "ou_noise": TensorSpec([2], tf.float32, "ou_noise")}
    state = policy.get_initial_state(3)
    np.testing.assert_array_equal(state["ou_noise"].numpy(), np.zeros((3, 2)))
    assert policy.get_initial_state(None)["ou_noise"].shape == (2,)
    recurrent = OUNoisePolicy(ActorPolicy(TS_SPEC, WIDE, Accumulator()))
    assert recurrent.policy_state_spec["wrapped"] == TensorSpec([2], tf.float32)
    assert recurrent.action_spec == WIDE and recurrent.time_step_spec == TS_SPEC
    assert policy.ou_stddev == 0.3 and policy.ou_damping == 0.15
    assert recurrent.wrapped_policy.action_spec == WIDE


def test_nested_action_spec_gets_a_nested_noise_state():
    spec = {"arm": WIDE, "grip": BoundedTensorSpec([], tf.float32, -1.0, 1.0)}
    policy = OUNoisePolicy(ActorPolicy(TS_SPEC, spec, ArmAndGrip(grip=0.0)), ou_stddev=0.1)
    step = policy.action(restart(4), policy.get_initial_state(4))
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (4,)
    assert step.state["ou_noise"]["grip"].shape == (4,)
    np.testing.assert_allclose(step.action["arm"].numpy(), step.state["ou_noise"]["arm"].numpy())


def test_action_is_mode_plus_the_new_noise_in_the_state():
    policy = OUNoisePolicy(deterministic_policy(), ou_stddev=0.5, ou_damping=0.15)
    state = policy.get_initial_state(5)
    for _ in range(4):
        step = policy.action(mid(5), state)
        np.testing.assert_allclose(step.action.numpy() - MODE, step.state["ou_noise"].numpy(),
                                   atol=1e-6)
        assert not np.allclose(step.state["ou_noise"].numpy(), state["ou_noise"].numpy())
        state = step.state
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (5,)


def test_distribution_given_the_state_is_normal_around_the_damped_noise():
    policy = OUNoisePolicy(deterministic_policy(), ou_stddev=0.5, ou_damping=0.25)
    noise = [[1.0, -2.0], [0.0, 0.4]]
    step = policy.distribution(mid(2), _state(noise))
    np.testing.assert_allclose(step.action.mean().numpy(), MODE + 0.75 * np.array(noise),
                               atol=1e-6)
    np.testing.assert_allclose(step.action.stddev().numpy(), np.full((2, 2), 0.5))
    assert step.action.event_shape == (2,)
    # The next noise depends on the sample: distribution's state keeps x_t.
    np.testing.assert_array_equal(step.state["ou_noise"].numpy(), np.float32(noise))


@pytest.mark.parametrize("damping", [0.15, 1.0])
def test_noise_lag_one_autocorrelation_is_one_minus_damping(damping):
    tf.random.set_seed(21)
    stddev, batch, steps = 0.3, 64, 250
    policy = OUNoisePolicy(deterministic_policy(), ou_stddev=stddev, ou_damping=damping)
    fn = tf.function(policy.action, input_signature=[signature(TS_SPEC),
                                                     signature(policy.policy_state_spec)])
    time_step = mid(batch)
    state = policy.get_initial_state(batch)
    noises = []
    for _ in range(steps):
        state = fn(time_step, state).state
        noises.append(state["ou_noise"].numpy())
    x = np.stack(noises)  # [T, B, 2]
    phi = (x[1:] * x[:-1]).sum() / (x[:-1] ** 2).sum()
    assert phi == pytest.approx(1.0 - damping, abs=0.03)
    residual = x[1:] - (1.0 - damping) * x[:-1]
    assert residual.std() == pytest.approx(stddev, rel=0.03)


def test_first_step_resets_the_noise_of_that_batch_entry_only():
    policy = OUNoisePolicy(deterministic_policy(), ou_stddev=1e-6, ou_damping=0.5)
    noise = [[0.8, -0.4]] * 3
    time_step = mid(3)._replace(step_type=tf.constant([1, 0, 1], tf.int32))
    step = policy.action(time_step, _state(noise))
    np.testing.assert_allclose(step.state["ou_noise"].numpy(),
                               [[0.4, -0.2], [0.0, 0.0], [0.4, -0.2]], atol=1e-4)
    np.testing.assert_allclose(step.action.numpy(), MODE + step.state["ou_noise"].numpy(),
                               atol=1e-6)
    means = policy.distribution(time_step, _state(noise)).action.mean().numpy()
    np.testing.assert_allclose(means, MODE + np.array([[0.4, -0.2], [0.0, 0.0], [0.4, -0.2]]),
                               atol=1e-6)


def test_wrapped_state_is_carried_and_reset_with_the_noise():
    policy = OUNoisePolicy(ActorPolicy(TS_SPEC, WIDE, Accumulator()), ou_stddev=1e-6)
    state = policy.get_initial_state(2)
    for _ in range(3):
        step = policy.action(mid(2, value=1.0), state)
        state = step.state
    np.testing.assert_array_equal(state["wrapped"].numpy(), [[3.0, 3.0]] * 2)
    np.testing.assert_allclose(step.action.numpy(), [[3.0, 3.0]] * 2, atol=1e-4)
    mixed = mid(2, value=1.0)._replace(step_type=tf.constant([1, 0], tf.int32))
    np.testing.assert_array_equal(policy.action(mixed, state).state["wrapped"].numpy(),
                                  [[4.0, 4.0], [1.0, 1.0]])


def test_an_eager_step_validates_once(monkeypatch):
    # The wrapped ActorPolicy runs unchecked, yet still resets its state on FIRST steps.
    policy = OUNoisePolicy(ActorPolicy(TS_SPEC, WIDE, Accumulator(), emit_log_probability=True),
                           ou_stddev=1e-6)
    checks = record_checks(monkeypatch)
    state = {"wrapped": tf.constant([[5.0, 5.0]] * 2), "ou_noise": tf.zeros([2, 2])}
    mixed = mid(2, value=1.0)._replace(step_type=tf.constant([1, 0], tf.int32))
    step = policy.action(mixed, state)
    np.testing.assert_array_equal(step.state["wrapped"].numpy(), [[6.0, 6.0], [1.0, 1.0]])
    assert checks == ACTION_CHECKS
    checks.clear()
    policy.distribution(mixed, state)
    assert checks == DISTRIBUTION_CHECKS


def test_actions_stay_within_bounds_when_clipped():
    tf.random.set_seed(22)
    clipped = OUNoisePolicy(deterministic_policy(spec=UNIT), ou_stddev=2.0, ou_damping=0.1)
    unclipped = OUNoisePolicy(deterministic_policy(spec=UNIT), ou_stddev=2.0, ou_damping=0.1,
                              clip=False)
    lows, highs = [], []
    for policy, out in ((clipped, lows), (unclipped, highs)):
        state = policy.get_initial_state(16)
        for _ in range(30):
            step = policy.action(mid(16), state)
            state = step.state
            out.append(np.abs(step.action.numpy()).max())
    assert max(lows) == 1.0
    assert max(highs) > 3.0
    # The process itself is not clipped.
    assert np.abs(state["ou_noise"].numpy()).max() > 1.5


def test_emitted_log_probability_equals_distribution_log_prob():
    policy = OUNoisePolicy(deterministic_policy(spec=UNIT, emit_log_probability=True),
                           ou_stddev=0.4, ou_damping=0.3)
    assert policy.emit_log_probability
    noise = [[0.5, 0.5], [-3.0, 0.1], [0.0, 0.0]]
    time_step = mid(3)
    step = policy.action(time_step, _state(noise))
    from_dist = policy.distribution(time_step, _state(noise)).action.log_prob(step.action)
    np.testing.assert_allclose(step.info.log_probability.numpy(), from_dist.numpy(), rtol=1e-5)
    by_hand = tfd.Normal(MODE + 0.7 * np.array(noise, np.float32), 0.4).log_prob(
        step.action).numpy().sum(-1)
    np.testing.assert_allclose(step.info.log_probability.numpy(), by_hand, rtol=1e-5)
    assert np.all(np.abs(step.action.numpy()) <= 1.0)


def test_in_tf_function_with_state_in_and_out_batched_and_unbatched():
    policy = OUNoisePolicy(ActorPolicy(TS_SPEC, UNIT, Accumulator(), emit_log_probability=True),
                           ou_stddev=0.2, ou_damping=0.15)
    fn = tf.function(policy.action, input_signature=[signature(TS_SPEC),
                                                     signature(policy.policy_state_spec)])
    for batch in (1, 3):
        state = policy.get_initial_state(batch)
        for _ in range(5):
            step = fn(mid(batch, value=0.1), state)
            state = step.state
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (batch,)
        np.testing.assert_allclose(state["wrapped"].numpy(), np.full((batch, 2), 0.5), rtol=1e-6)
    single_fn = tf.function(policy.action)
    state = policy.get_initial_state(None)
    for _ in range(3):
        step = single_fn(mid(value=0.1), state)
        state = step.state
    assert nest_utils.check_nest(step, policy.policy_step_spec) == ()
    assert step.state["ou_noise"].shape == (2,)


def test_discrete_action_leaf_is_rejected():
    spec = {"move": WIDE, "fire": BoundedTensorSpec([], tf.int32, 0, 1)}
    with pytest.raises(ValueError, match="OUNoisePolicy: .*'fire': noise applies to continuous actions"):
        OUNoisePolicy(NeverCalled(TS_SPEC, spec))


def test_wrapped_policy_without_distribution_is_rejected():
    with pytest.raises(TypeError, match="OUNoisePolicy adds noise around the mode"):
        OUNoisePolicy(ActionOnly(TS_SPEC, WIDE))


@pytest.mark.parametrize("kwargs, message", [
    ({"ou_stddev": 0.0}, "ou_stddev must be > 0"),
    ({"ou_damping": -0.1}, r"ou_damping must be in \[0, 1\]"),
    ({"ou_damping": 1.5}, r"ou_damping must be in \[0, 1\]"),
])
def test_bad_process_parameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OUNoisePolicy(deterministic_policy(), **kwargs)
