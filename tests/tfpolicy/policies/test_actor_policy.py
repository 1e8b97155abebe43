"""Tests of ActorPolicy: stochastic, deterministic, nested and recurrent actors, and masks."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from hypothesis import given, strategies as st

from policy_toys import ACTOR_OBS_SPEC as OBS_SPEC
from policy_toys import ACTOR_TS_SPEC as TS_SPEC
from policy_toys import mid, restart, signature
from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy import PolicyStep, time_step as ts
from tfpolicy._distributions import categorical_for_spec
from tfpolicy.networks.network import Network
from tfpolicy.policies.actor_policy import ActorPolicy

tfd = tfp.distributions

DISCRETE = BoundedTensorSpec([], tf.int32, 0, 2, "action")
CONTINUOUS = BoundedTensorSpec([2], tf.float32, -1.0, 1.0, "move")
FIRE = BoundedTensorSpec([], tf.int32, 0, 1, "fire")
NESTED = {"move": CONTINUOUS, "fire": FIRE}


class Categorical(tf.Module):
    """logits = bias + obs @ kernel (obs [B, 3]); records what it is called with."""

    state_spec = ()

    def __init__(self, spec=DISCRETE, bias=(0.0, 1.0, 3.0)):
        super().__init__(name="categorical_actor")
        self.spec = spec
        self.bias = tf.Variable(bias)
        self.kernel = tf.Variable(tf.zeros([3, len(bias)]))
        self.calls = []

    def __call__(self, observation, step_type=None, network_state=(), training=False):
        self.calls.append({"training": training, "step_type": step_type,
                           "obs_shape": tuple(observation.shape.as_list())})
        logits = self.bias + tf.matmul(observation, self.kernel)
        return categorical_for_spec(logits, self.spec), network_state


class NormalActor(tf.Module):
    """Normal(gain * obs[:, :2], 0.5) per element (batch shape [B, 2])."""

    state_spec = ()

    def __init__(self, gain=1.0):
        super().__init__(name="normal_actor")
        self.gain = tf.Variable(gain)

    def __call__(self, observation, step_type=None, network_state=(), training=False):
        return tfd.Normal(self.gain * observation[:, :2], 0.5), network_state


class NestedActor(tf.Module):
    state_spec = ()

    def __call__(self, observation, step_type=None, network_state=(), training=False):
        fire_logits = tf.tile([[0.0, 2.0]], [tf.shape(observation)[0], 1])
        output = {"move": tfd.Normal(observation[:, :2], 0.1),
                  "fire": categorical_for_spec(fire_logits, FIRE)}
        return output, network_state


class Accumulator(Network):
    """Recurrent deterministic actor: total' = total + obs[:, :1]; the action is total'."""

    def __init__(self):
        super().__init__(OBS_SPEC, {"total": TensorSpec([1], tf.float32)}, name="accumulator")

    def _call(self, observation, step_type, network_state, training):
        total = network_state["total"] + observation[:, :1]
        return total, {"total": total}


TOTAL = BoundedTensorSpec([1], tf.float32, -100.0, 100.0, "total")


# ---- stochastic actors ---------------------------------------------------------------


def test_categorical_actor_batched_and_unbatched_conform_to_specs():
    policy = ActorPolicy(TS_SPEC, DISCRETE, Categorical(), emit_log_probability=True)
    batched = policy.action(restart(5))
    assert nest_utils.check_nest(batched, policy.policy_step_spec) == (5,)
    single = policy.action(restart())
    assert nest_utils.check_nest(single, policy.policy_step_spec) == ()
    assert single.action.shape == () and 0 <= int(single.action) <= 2
    assert policy.policy_state_spec == () and policy.action_spec == DISCRETE


def test_categorical_actor_samples_follow_the_network_logits():
    policy = ActorPolicy(TS_SPEC, DISCRETE, Categorical())
    actions = policy.action(restart(4000), seed=7).action.numpy()
    freq = np.bincount(actions, minlength=3) / 4000
    expected = np.exp([0.0, 1.0, 3.0]) / np.exp([0.0, 1.0, 3.0]).sum()
    np.testing.assert_allclose(freq, expected, atol=0.03)


def test_network_sees_batched_observations_even_for_unbatched_time_steps():
    actor = Categorical()
    policy = ActorPolicy(TS_SPEC, DISCRETE, actor)
    actor.calls.clear()
    dist = policy.distribution(restart()).action
    assert actor.calls[-1]["obs_shape"] == (1, 3)
    assert dist.batch_shape == () and dist.logits_parameter().shape == (3,)


def test_normal_actor_emitted_log_probability_equals_distribution_log_prob():
    policy = ActorPolicy(TS_SPEC, CONTINUOUS, NormalActor(gain=0.5), emit_log_probability=True)
    time_step = mid(6, value=0.4)
    step = policy.action(time_step, seed=3)
    expected = policy.distribution(time_step).action.log_prob(step.action).numpy().sum(-1)
    np.testing.assert_allclose(step.info.log_probability.numpy(), expected, rtol=1e-5)
    by_hand = tfd.Normal(0.2, 0.5).log_prob(step.action).numpy().sum(-1)
    np.testing.assert_allclose(step.info.log_probability.numpy(), by_hand, rtol=1e-5)


def test_continuous_samples_are_clipped_by_default_and_not_with_clip_false():
    clipped = ActorPolicy(TS_SPEC, CONTINUOUS, NormalActor(gain=10.0))
    action = clipped.action(mid(32, value=1.0)).action.numpy()
    np.testing.assert_array_equal(action, np.ones((32, 2), np.float32))
    unclipped = ActorPolicy(TS_SPEC, CONTINUOUS, NormalActor(gain=10.0), clip=False)
    assert unclipped.action(mid(32, value=1.0)).action.numpy().min() > 5.0


# ---- deterministic actors ----------------------------------------------------------------


def _keras_actor(bias):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.set_weights([np.array([[0.5, 0.0], [0.0, -0.5], [0.0, 0.0]], np.float32),
                       np.array(bias, np.float32)])
    return model


def test_tensor_output_becomes_deterministic_action():
    policy = ActorPolicy(TS_SPEC, CONTINUOUS, _keras_actor([0.1, 0.2]), emit_log_probability=True)
    obs = tf.constant([[1.0, 1.0, 0.0], [-1.0, 0.0, 5.0]])
    dist = policy.distribution(ts.restart(obs, batch_size=2)).action
    assert isinstance(dist, tfd.Deterministic)
    step = policy.action(ts.restart(obs, batch_size=2))
    np.testing.assert_allclose(step.action.numpy(), [[0.6, -0.3], [-0.4, 0.2]], rtol=1e-6)
    np.testing.assert_array_equal(step.info.log_probability.numpy(), [0.0, 0.0])
    single = policy.action(ts.restart(obs[0]))
    np.testing.assert_allclose(single.action.numpy(), [0.6, -0.3], rtol=1e-6)


def test_deterministic_action_is_clipped_and_its_log_probability_is_minus_infinity():
    policy = ActorPolicy(TS_SPEC, CONTINUOUS, _keras_actor([3.0, 0.0]), emit_log_probability=True)
    step = policy.action(restart(2))
    np.testing.assert_array_equal(step.action.numpy(), [[1.0, 0.0], [1.0, 0.0]])
    assert np.all(np.isneginf(step.info.log_probability.numpy()))
    raw = ActorPolicy(TS_SPEC, CONTINUOUS, _keras_actor([3.0, 0.0]), clip=False)
    np.testing.assert_array_equal(raw.action(restart(2)).action.numpy(), [[3.0, 0.0]] * 2)


def test_keras_actor_variables_are_collected_and_updated():
    source = ActorPolicy(TS_SPEC, CONTINUOUS, _keras_actor([0.3, 0.3]))
    target = ActorPolicy(TS_SPEC, CONTINUOUS, _keras_actor([0.0, 0.0]))
    assert len(source.variables()) == 2
    target.update(source, tau=0.5)
    np.testing.assert_allclose(target.action(restart(1)).action.numpy(), [[0.15, 0.15]],
                               rtol=1e-6)


# ---- nested actions ------------------------------------------------------------------------


def test_nested_action_spec_batched_and_unbatched():
    policy = ActorPolicy(TS_SPEC, NESTED, NestedActor(), emit_log_probability=True)
    step = policy.action(mid(4, value=0.3), seed=1)
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (4,)
    assert set(step.info.log_probability) == {"move", "fire"}
    dist = policy.distribution(mid(4, value=0.3)).action
    np.testing.assert_allclose(step.info.log_probability["fire"].numpy(),
                               dist["fire"].log_prob(step.action["fire"]).numpy(), rtol=1e-6)
    np.testing.assert_allclose(step.info.log_probability["move"].numpy(),
                               dist["move"].log_prob(step.action["move"]).numpy().sum(-1),
                               rtol=1e-5)
    single = policy.action(mid(value=0.3))
    assert nest_utils.check_nest(single, policy.policy_step_spec) == ()
    assert single.action["move"].shape == (2,) and single.action["fire"].shape == ()


def test_output_with_wrong_structure_is_rejected_naming_the_network():
    policy = ActorPolicy(TS_SPEC, NESTED, Categorical(spec=FIRE, bias=(0.0, 1.0)))
    with pytest.raises(TypeError, match="actor network 'categorical_actor'.*expected a mapping"):
        policy.action(restart(2))


def test_output_leaf_that_is_neither_distribution_nor_tensor_is_rejected():
    policy = ActorPolicy(TS_SPEC, DISCRETE, lambda obs: "left")
    with pytest.raises(TypeError, match="at '<root>': must be a tfp distribution or a tensor"):
        policy.action(restart(2))


# ---- recurrent actors ------------------------------------------------------------------------


def test_recurrent_actor_state_flows_and_resets_on_first_for_that_entry_only():
    policy = ActorPolicy(TS_SPEC, TOTAL, Accumulator())
    assert policy.policy_state_spec == {"total": TensorSpec([1], tf.float32)}
    state = policy.get_initial_state(3)
    for expected in (1.0, 2.0, 3.0):
        step = policy.action(mid(3, value=1.0), state)
        np.testing.assert_array_equal(step.action.numpy(), [[expected]] * 3)
        state = step.state
    mixed = mid(3, value=1.0)._replace(step_type=tf.constant([1, 0, 1], tf.int32))
    step = policy.action(mixed, state)
    np.testing.assert_array_equal(step.action.numpy(), [[4.0], [1.0], [4.0]])
    np.testing.assert_array_equal(step.state["total"].numpy(), [[4.0], [1.0], [4.0]])


def test_recurrent_actor_unbatched():
    policy = ActorPolicy(TS_SPEC, TOTAL, Accumulator())
    step = policy.action(mid(value=2.0), {"total": tf.constant([5.0])})
    np.testing.assert_array_equal(step.action.numpy(), [7.0])
    assert step.state["total"].shape == (1,)
    assert nest_utils.check_nest(step, policy.policy_step_spec) == ()


def test_policy_state_spec_can_be_given_explicitly():
    spec = {"total": TensorSpec([1], tf.float32, "custom")}
    policy = ActorPolicy(TS_SPEC, TOTAL, Accumulator(), policy_state_spec=spec)
    assert policy.policy_state_spec == spec


def test_recurrent_actor_in_tf_function_with_unknown_batch():
    policy = ActorPolicy(TS_SPEC, TOTAL, Accumulator())
    fn = tf.function(policy.action, input_signature=[
        signature(TS_SPEC), signature(policy.policy_state_spec)])
    state = policy.get_initial_state(2)
    for _ in range(3):
        step = fn(mid(2, value=0.5), state)
        state = step.state
    np.testing.assert_allclose(step.action.numpy(), [[1.5], [1.5]])
    step = fn(restart(5, value=0.5), policy.get_initial_state(5))
    assert step.action.shape == (5, 1)


def test_categorical_actor_in_tf_function_with_unknown_batch():
    policy = ActorPolicy(TS_SPEC, DISCRETE, Categorical(), emit_log_probability=True)
    fn = tf.function(policy.action, input_signature=[signature(TS_SPEC)])
    for batch in (1, 4):
        step = fn(restart(batch))
        assert step.action.shape == (batch,) and step.info.log_probability.shape == (batch,)


# ---- training flag ----------------------------------------------------------------------------


@pytest.mark.parametrize("training", [False, True])
def test_training_flag_and_step_type_reach_the_network(training):
    actor = Categorical()
    policy = ActorPolicy(TS_SPEC, DISCRETE, actor, training=training)
    # The actor records its inputs in Python, which a compiled call does at trace time only.
    policy.run_eagerly = True
    assert policy.training is training
    actor.calls.clear()
    time_step = mid(2)._replace(step_type=tf.constant([0, 2], tf.int32))
    policy.action(time_step)
    tf.function(policy.distribution)(time_step)
    assert [c["training"] for c in actor.calls] == [training, training]
    np.testing.assert_array_equal(actor.calls[0]["step_type"].numpy(), [0, 2])


# ---- action masks -------------------------------------------------------------------------------

MASKED_OBS_SPEC = {"logits": TensorSpec([4], tf.float32), "mask": TensorSpec([4], tf.int32)}
MASKED_TS_SPEC = ts.time_step_spec(MASKED_OBS_SPEC)
MASKABLE = [BoundedTensorSpec([], tf.int32, 0, 3), BoundedTensorSpec([1], tf.int64, 2, 5)]


def _split(observation):
    return observation["logits"], observation["mask"]


class LogitsAreObservation(Network):
    """The network part of the observation is the logits."""

    def __init__(self, spec):
        super().__init__(MASKED_OBS_SPEC["logits"], name="logits_are_observation")
        self.spec = spec

    def _call(self, observation, step_type, network_state, training):
        return categorical_for_spec(observation, self.spec), network_state


def _masked_policy(spec, **kwargs):
    return ActorPolicy(MASKED_TS_SPEC, spec, LogitsAreObservation(spec),
                       observation_and_action_constraint_splitter=_split, **kwargs)


@given(st.sampled_from(MASKABLE),
       st.lists(st.lists(st.booleans(), min_size=4, max_size=4).filter(any), min_size=1,
                max_size=4),
       st.integers(0, 2**16))
def test_masked_actions_are_never_chosen_and_have_zero_probability(spec, rows, seed):
    policy = _masked_policy(spec, emit_log_probability=True)
    mask = np.repeat(np.array(rows, np.int32), 25, axis=0)
    # The network strongly prefers the disallowed actions.
    obs = {"logits": tf.constant(10.0 * (1 - mask), tf.float32), "mask": tf.constant(mask)}
    time_step = ts.restart(obs, batch_size=len(mask))
    step = policy.action(time_step, seed=seed)
    index = step.action.numpy().reshape(-1) - int(spec.minimum.min())
    assert np.all(mask[np.arange(len(mask)), index] == 1)
    log_prob = step.info.log_probability.numpy()
    assert np.all(np.isfinite(log_prob))
    single = mask.sum(-1) == 1
    np.testing.assert_allclose(log_prob[single], 0.0, atol=1e-6)
    dist = policy.distribution(time_step).action
    for k in range(4):
        value = np.full((len(mask),) + tuple(spec.shape.as_list()), k + int(spec.minimum.min()),
                        spec.dtype.as_numpy_dtype)
        k_log_prob = dist.log_prob(value).numpy()
        assert np.all(np.isneginf(k_log_prob[mask[:, k] == 0]))
        assert np.all(np.isfinite(k_log_prob[mask[:, k] == 1]))


def test_mask_with_one_allowed_action_unbatched_and_in_tf_function():
    policy = _masked_policy(MASKABLE[1], emit_log_probability=True)
    obs = {"logits": tf.constant([9.0, 9.0, 0.0, 9.0]), "mask": tf.constant([0, 0, 1, 0])}
    step = policy.action(ts.restart(obs))
    np.testing.assert_array_equal(step.action.numpy(), [4])
    assert float(step.info.log_probability) == 0.0
    fn = tf.function(policy.action, input_signature=[signature(MASKED_TS_SPEC)])
    batched = {k: tf.stack([v, v]) for k, v in obs.items()}
    np.testing.assert_array_equal(fn(ts.restart(batched, batch_size=2)).action.numpy(), [[4], [4]])


def test_mask_works_with_a_plain_function_actor():
    spec = MASKABLE[0]
    policy = ActorPolicy(MASKED_TS_SPEC, spec, lambda logits: categorical_for_spec(logits, spec),
                         observation_and_action_constraint_splitter=_split)
    obs = {"logits": tf.constant([[0.0, 0.0, 9.0, 0.0]]), "mask": tf.constant([[1, 1, 0, 0]])}
    probs = policy.distribution(ts.restart(obs, batch_size=1)).action.probs_parameter().numpy()
    np.testing.assert_allclose(probs, [[0.5, 0.5, 0.0, 0.0]], atol=1e-6)


@pytest.mark.parametrize("action_spec",
                         [NESTED, CONTINUOUS, BoundedTensorSpec([2], tf.int32, 0, 3)])
def test_mask_needs_a_single_discrete_action(action_spec):
    with pytest.raises(ValueError, match="single discrete action"):
        ActorPolicy(MASKED_TS_SPEC, action_spec, LogitsAreObservation(MASKABLE[0]),
                    observation_and_action_constraint_splitter=_split)


def test_mask_needs_a_categorical_from_the_network():
    class Logits(Network):
        def __init__(self):
            super().__init__(MASKED_OBS_SPEC["logits"])

        def _call(self, observation, step_type, network_state, training):
            return tf.argmax(observation, -1, output_type=tf.int32), network_state

    policy = ActorPolicy(MASKED_TS_SPEC, MASKABLE[0], Logits(),
                         observation_and_action_constraint_splitter=_split)
    obs = {"logits": tf.zeros([2, 4]), "mask": tf.ones([2, 4], tf.int32)}
    with pytest.raises(TypeError, match="masking needs the actor network to return a categorical"):
        policy.action(ts.restart(obs, batch_size=2))


def test_mask_of_the_wrong_width_is_rejected():
    spec = BoundedTensorSpec([], tf.int32, 0, 2)
    policy = ActorPolicy(MASKED_TS_SPEC, spec, LogitsAreObservation(spec),
                         observation_and_action_constraint_splitter=_split)
    obs = {"logits": tf.zeros([2, 4]), "mask": tf.ones([2, 4], tf.int32)}
    with pytest.raises(ValueError, match=r"num_actions=3.*shape \(2, 4\)"):
        policy.action(ts.restart(obs, batch_size=2))


def _split_flat(observation):
    return observation[..., :4], observation[..., 4:]


def test_plain_model_with_a_splitter_that_cannot_split_specs_is_rejected():
    flat = ts.time_step_spec(TensorSpec([8], tf.float32))
    with pytest.raises(TypeError, match="splitter failed on the observation spec"):
        ActorPolicy(flat, MASKABLE[0], lambda x: categorical_for_spec(x, MASKABLE[0]),
                    observation_and_action_constraint_splitter=_split_flat)


def test_splitter_on_tensors_works_with_a_network():
    flat = ts.time_step_spec(TensorSpec([8], tf.float32))
    policy = ActorPolicy(flat, MASKABLE[0], LogitsAreObservation(MASKABLE[0]),
                         observation_and_action_constraint_splitter=_split_flat)
    obs = tf.constant([[5.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
    assert policy.action(ts.restart(obs, batch_size=1)).action.numpy().tolist() == [3]
    assert policy.observation_and_action_constraint_splitter is not None


def test_distribution_step_is_a_policy_step_with_the_network_state():
    policy = ActorPolicy(TS_SPEC, TOTAL, Accumulator())
    step = policy.distribution(mid(2, value=1.0), {"total": tf.constant([[1.0], [2.0]])})
    assert isinstance(step, PolicyStep)
    np.testing.assert_array_equal(step.state["total"].numpy(), [[2.0], [3.0]])
    np.testing.assert_array_equal(step.action.mode().numpy(), [[2.0], [3.0]])
