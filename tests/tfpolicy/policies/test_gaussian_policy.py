"""Tests of GaussianPolicy: Normal noise around the wrapped policy's mode."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from policy_toys import ACTOR_TS_SPEC as TS_SPEC
from policy_toys import (UNIT, WIDE, Accumulator, ActionOnly, ArmAndGrip, NeverCalled,
                         deterministic_policy, mid, restart, signature)
from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy import PolicyInfo
from tfpolicy.policies.actor_policy import ActorPolicy
from tfpolicy.policies.gaussian_policy import GaussianPolicy

tfd = tfp.distributions


class WideNormal(tf.Module):
    """A stochastic actor: Normal(obs[:, :2], 3.0)."""

    state_spec = ()

    def __call__(self, observation, step_type=None, network_state=(), training=False):
        return tfd.Normal(observation[:, :2], 3.0), network_state


def test_specs_state_and_info_come_from_the_wrapped_policy():
    wrapped = ActorPolicy(TS_SPEC, WIDE, Accumulator(), emit_log_probability=True)
    policy = GaussianPolicy(wrapped, scale=0.5)
    assert policy.wrapped_policy is wrapped
    assert policy.time_step_spec == wrapped.time_step_spec
    assert policy.action_spec == wrapped.action_spec
    assert policy.policy_state_spec == wrapped.policy_state_spec
    assert policy.info_spec == wrapped.info_spec
    assert policy.emit_log_probability and policy.validate_args
    step = policy.action(mid(3), policy.get_initial_state(3))
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (3,)
    single = policy.action(mid(), policy.get_initial_state(None))
    assert nest_utils.check_nest(single, policy.policy_step_spec) == ()


def test_distribution_is_independent_normal_around_the_mode():
    policy = GaussianPolicy(deterministic_policy(), scale=0.5)
    dist = policy.distribution(restart(4)).action
    assert isinstance(dist, tfd.Independent) and dist.event_shape == (2,)
    assert dist.batch_shape == (4,)
    np.testing.assert_allclose(dist.mean().numpy(), [[0.2, -0.3]] * 4, rtol=1e-6)
    np.testing.assert_allclose(dist.stddev().numpy(), [[0.5, 0.5]] * 4)


def test_noisy_actions_average_to_the_wrapped_action_with_std_scale():
    tf.random.set_seed(11)
    policy = GaussianPolicy(deterministic_policy(), scale=0.5)
    actions = policy.action(restart(4000), seed=5).action.numpy()
    np.testing.assert_allclose(actions.mean(0), [0.2, -0.3], atol=0.03)
    np.testing.assert_allclose(actions.std(0), [0.5, 0.5], atol=0.03)
    assert abs(np.corrcoef(actions[:, 0], actions[:, 1])[0, 1]) < 0.05


def test_noise_is_around_the_mode_of_a_stochastic_policy_not_a_sample():
    tf.random.set_seed(12)
    wrapped = ActorPolicy(TS_SPEC, WIDE, WideNormal())
    policy = GaussianPolicy(wrapped, scale=0.1)
    actions = policy.action(restart(4000, value=0.7), seed=2).action
    np.testing.assert_allclose(actions.numpy().mean(0), [0.7, 0.7], atol=0.01)
    np.testing.assert_allclose(actions.numpy().std(0), [0.1, 0.1], atol=0.01)


def test_clipping_keeps_actions_within_bounds():
    tf.random.set_seed(13)
    policy = GaussianPolicy(deterministic_policy(spec=UNIT), scale=3.0)
    actions = policy.action(restart(2000)).action.numpy()
    assert actions.min() == -1.0 and actions.max() == 1.0
    unclipped = GaussianPolicy(deterministic_policy(spec=UNIT), scale=3.0, clip=False)
    raw = unclipped.action(restart(2000)).action.numpy()
    assert np.abs(raw).max() > 3.0


def test_scale_per_leaf_and_per_element():
    tf.random.set_seed(14)
    spec = {"arm": WIDE, "grip": BoundedTensorSpec([], tf.float32, -100.0, 100.0)}
    wrapped = ActorPolicy(TS_SPEC, spec, ArmAndGrip(grip=1.0))
    policy = GaussianPolicy(wrapped, scale={"arm": np.array([0.1, 1.0]), "grip": 2.0})
    actions = policy.action(restart(4000)).action
    np.testing.assert_allclose(actions["arm"].numpy().std(0), [0.1, 1.0], rtol=0.05)
    assert actions["grip"].numpy().std() == pytest.approx(2.0, rel=0.05)
    assert actions["grip"].numpy().mean() == pytest.approx(1.0, abs=0.15)
    shared = GaussianPolicy(wrapped, scale=0.3).distribution(restart(1))
    assert float(shared.action["grip"].stddev()[0]) == pytest.approx(0.3)
    np.testing.assert_allclose(shared.action["arm"].stddev().numpy(), [[0.3, 0.3]], rtol=1e-6)


def test_variable_scale_can_be_annealed():
    scale = tf.Variable(1.0)
    policy = GaussianPolicy(deterministic_policy(), scale=scale)
    fn = tf.function(policy.distribution)
    time_step = restart(2)
    assert float(fn(time_step).action.stddev()[0, 0]) == pytest.approx(1.0)
    scale.assign(0.25)
    assert float(fn(time_step).action.stddev()[0, 0]) == pytest.approx(0.25)


def test_emitted_log_probability_is_of_the_noisy_action():
    wrapped = deterministic_policy(emit_log_probability=True)
    policy = GaussianPolicy(wrapped, scale=0.5)
    assert policy.info_spec == PolicyInfo(log_probability=TensorSpec([], tf.float32,
                                                                      "log_probability"))
    time_step = restart(8)
    step = policy.action(time_step, seed=4)
    by_hand = tfd.Normal([0.2, -0.3], 0.5).log_prob(step.action).numpy().sum(-1)
    np.testing.assert_allclose(step.info.log_probability.numpy(), by_hand, rtol=1e-5)
    from_dist = policy.distribution(time_step).action.log_prob(step.action).numpy()
    np.testing.assert_allclose(step.info.log_probability.numpy(), from_dist, rtol=1e-5)


def test_log_probability_of_a_clipped_action_is_the_density_at_the_bound():
    policy = GaussianPolicy(deterministic_policy(value=(5.0, 5.0), spec=UNIT,
                                           emit_log_probability=True), scale=0.01)
    step = policy.action(restart(2))
    np.testing.assert_array_equal(step.action.numpy(), [[1.0, 1.0]] * 2)
    expected = 2 * tfd.Normal(5.0, 0.01).log_prob(1.0).numpy()
    np.testing.assert_allclose(step.info.log_probability.numpy(), [expected] * 2, rtol=1e-5)


def test_wrapped_state_is_passed_through_and_reset_on_first():
    wrapped = ActorPolicy(TS_SPEC, WIDE, Accumulator())
    policy = GaussianPolicy(wrapped, scale=1e-4)
    state = policy.get_initial_state(2)
    for _ in range(3):
        step = policy.action(mid(2, value=1.0), state)
        state = step.state
    np.testing.assert_array_equal(state.numpy(), [[3.0, 3.0]] * 2)
    np.testing.assert_allclose(step.action.numpy(), [[3.0, 3.0]] * 2, atol=1e-2)
    mixed = mid(2, value=1.0)._replace(step_type=tf.constant([0, 1], tf.int32))
    np.testing.assert_array_equal(policy.action(mixed, state).state.numpy(),
                                  [[1.0, 1.0], [4.0, 4.0]])


def test_in_tf_function_with_unknown_batch_and_unbatched():
    wrapped = ActorPolicy(TS_SPEC, UNIT, Accumulator(), emit_log_probability=True)
    policy = GaussianPolicy(wrapped, scale=0.2)
    fn = tf.function(policy.action, input_signature=[signature(TS_SPEC),
                                                     signature(policy.policy_state_spec)])
    for batch in (1, 5):
        step = fn(mid(batch, value=0.1), policy.get_initial_state(batch))
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (batch,)
        assert np.abs(step.action.numpy()).max() <= 1.0
    single = tf.function(policy.action)(mid(value=0.1), policy.get_initial_state(None))
    assert nest_utils.check_nest(single, policy.policy_step_spec) == ()


def test_variables_are_the_wrapped_policys():
    wrapped = deterministic_policy()
    policy = GaussianPolicy(wrapped)
    assert [v.name for v in policy.variables()] == [v.name for v in wrapped.variables()]
    assert len(policy.variables()) == 2


def test_discrete_action_leaf_is_rejected_naming_its_path():
    spec = {"move": WIDE, "fire": BoundedTensorSpec([], tf.int32, 0, 1, "fire")}
    with pytest.raises(ValueError, match="at 'fire': noise applies to continuous actions only.*int32"):
        GaussianPolicy(NeverCalled(TS_SPEC, spec))


def test_wrapped_policy_without_distribution_is_rejected():
    with pytest.raises(TypeError, match="ActionOnly implements `_action` only"):
        GaussianPolicy(ActionOnly(TS_SPEC, WIDE))


@pytest.mark.parametrize("scale, error, message", [
    (0.0, ValueError, "must be > 0"),
    (-1.0, ValueError, "must be > 0"),
    (np.ones(3), ValueError, "must broadcast to"),
    ({"arm": 1.0}, TypeError, "scale does not match the structure"),
])
def test_bad_scales_are_rejected(scale, error, message):
    with pytest.raises(error, match=message):
        GaussianPolicy(deterministic_policy(), scale=scale)
