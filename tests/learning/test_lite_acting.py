"""Tests for LiteRT acting (tfpolicy.learning.lite_acting) through DynamicTFPolicy: the
runtime choice and fallbacks, outputs equal to the TensorFlow step's, the numpy
distributions, the weight refresh, the acting generator's seeding and state."""

import functools
import math
import sys

import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf
import tree

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.learning import Categorical, DiagGaussian, Policy, SampleBatch, build_tf_policy
from tfpolicy.learning import ModelV2, SquashedGaussian
from tfpolicy.learning._lite_acting_dists import numpy_dist
from tfpolicy.learning.lite_acting import LiteActingError, static_fallback_reason

OBS = ArraySpec((4,), np.float32)
ACT = BoundedArraySpec((), np.int64, 0, 1)
MODEL = {"fcnet_hiddens": [16, 16]}


def pg_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    return -tf.reduce_mean(logp * train_batch[SampleBatch.REWARDS])


PG = build_tf_policy("PG", loss_fn=pg_loss)


def pair(obs_space=OBS, action_space=ACT, **config):
    """A LiteRT policy and a TensorFlow one with the same weights."""
    config = {"model": MODEL, **config}
    lite = PG(obs_space, action_space, {**config, "acting_runtime": "lite"})
    tf_policy = PG(obs_space, action_space, {**config, "acting_runtime": "tf"})
    tf_policy.set_weights(lite.get_weights())
    return lite, tf_policy


def observations(n=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return SampleBatch({SampleBatch.OBS: rng.normal(size=(n, 4)).astype(np.float32),
                        SampleBatch.ACTIONS: rng.integers(0, 2, n),
                        SampleBatch.REWARDS: rng.normal(size=n).astype(np.float32)})


def assert_same_outputs(a, b, rtol=1e-5, atol=1e-6):
    """Equal actions and extra fetches: same keys in the same order, dtypes and shapes."""
    (actions_a, state_a, extra_a), (actions_b, state_b, extra_b) = a, b
    tree.assert_same_structure(actions_a, actions_b)
    for x, y in zip(tree.flatten(actions_a), tree.flatten(actions_b)):
        assert (np.asarray(x).dtype, np.shape(x)) == (np.asarray(y).dtype, np.shape(y))
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
    assert state_a == state_b == []
    assert list(extra_a) == list(extra_b)
    tree.assert_same_structure(extra_a, extra_b)
    for (path, x), y in zip(tree.flatten_with_path(extra_a), tree.flatten(extra_b)):
        x, y = np.asarray(x), np.asarray(y)
        assert (x.dtype, x.shape) == (y.dtype, y.shape), path
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=str(path))


# ---- config and runtime choice -------------------------------------------------------------------

def test_policy_default_runtime_is_tf():
    policy = PG(OBS, ACT, {"model": MODEL})
    assert policy.config["acting_runtime"] == "tf"
    assert (policy.acting_runtime, policy.acting_fallback_reason) == ("tf", None)
    assert policy.config["exploration_config"] == {"type": "StochasticSampling"}
    assert (policy.config["seed"], policy.config["worker_index"]) == (None, 0)


@pytest.mark.parametrize("key, value, message", [
    ("acting_runtime", "gpu", r"acting_runtime must be one of \['auto', 'lite', 'tf'\], got "
                              r"'gpu'"),
    ("seed", -1, "seed must be None or an integer >= 0, got -1"),
    ("seed", True, "seed must be None or an integer >= 0, got True"),
    ("worker_index", None, "worker_index must be an integer >= 0, got None"),
])
def test_invalid_acting_config_names_the_key_and_allowed_values(key, value, message):
    with pytest.raises(ValueError, match=message):
        PG(OBS, ACT, {"model": MODEL, key: value})


def test_auto_acts_through_lite_for_a_stateless_policy():
    policy = PG(OBS, ACT, {"model": MODEL, "acting_runtime": "auto"})
    assert (policy.acting_runtime, policy.acting_fallback_reason) == ("lite", None)


def test_recurrent_policy_falls_back_with_the_reason():
    model = {"use_lstm": True, "lstm_cell_size": 4, "fcnet_hiddens": [8], "max_seq_len": 4}
    policy = PG(OBS, ACT, {"model": model, "acting_runtime": "auto"})
    assert policy.acting_runtime == "tf"
    assert "the model is recurrent" in policy.acting_fallback_reason
    with pytest.raises(LiteActingError, match="acting_runtime is 'lite' but .* recurrent"):
        PG(OBS, ACT, {"model": model, "acting_runtime": "lite"})


def test_action_sampler_fn_falls_back_with_the_reason():
    def sampler(policy, model, obs, explore, timestep):
        return tf.zeros(tf.shape(obs)[:1], tf.int64), tf.zeros(tf.shape(obs)[:1])

    def make_model(policy, obs_space, action_space, config):
        from tfpolicy.learning import ModelCatalog
        return ModelCatalog.get_model_v2(obs_space, action_space, 2, config["model"])

    cls = build_tf_policy("Sampler", loss_fn=pg_loss, action_sampler_fn=sampler,
                          make_model=make_model)
    policy = cls(OBS, ACT, {"model": MODEL, "acting_runtime": "auto"})
    assert policy.acting_runtime == "tf"
    assert "action_sampler_fn" in policy.acting_fallback_reason
    assert int(policy.compute_single_action(np.zeros(4, np.float32))[0]) == 0


class _SubclassedCategorical(Categorical):
    """A categorical that may sample otherwise: not covered by the numpy twins."""


def test_custom_distribution_falls_back_naming_the_class():
    policy = PG(OBS, ACT, {"model": {**MODEL, "custom_action_dist": _SubclassedCategorical},
                           "acting_runtime": "auto"})
    assert policy.acting_runtime == "tf"
    assert "_SubclassedCategorical has no numpy sampler" in policy.acting_fallback_reason


class _PrevActionModel(ModelV2):
    """Reads prev_actions, which LiteRT acting does not feed."""

    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.dense = keras.layers.Dense(num_outputs)

    def forward(self, input_dict, state, seq_lens):
        prev = tf.cast(input_dict["prev_actions"], tf.float32)[:, None]
        return self.dense(input_dict["obs_flat"] + prev), state


def test_model_that_reads_more_than_the_observation_falls_back():
    policy = PG(OBS, ACT, {"model": {"custom_model": _PrevActionModel},
                           "acting_runtime": "auto"})
    assert policy.acting_runtime == "tf"
    assert "does not trace" in policy.acting_fallback_reason
    assert "prev_actions" in policy.acting_fallback_reason


class _ObservationLogits(ModelV2):
    """The first two observation features are the logits: no variables at all."""

    def forward(self, input_dict, state, seq_lens):
        return input_dict["obs_flat"][:, :2], state


def test_model_without_variables_acts_through_lite():
    lite, tf_policy = pair(model={"custom_model": _ObservationLogits})
    obs = observations()
    assert_same_outputs(lite.compute_actions(obs, explore=False),
                        tf_policy.compute_actions(obs, explore=False))
    np.testing.assert_array_equal(lite.compute_actions(obs, explore=False)[0],
                                  np.argmax(obs[:, :2], axis=1))


def test_lite_raises_at_first_act_when_conversion_fails():
    policy = PG(OBS, ACT, {"model": {"custom_model": _PrevActionModel},
                           "acting_runtime": "lite"})
    for _ in range(2):
        with pytest.raises(LiteActingError, match="acting_runtime is 'lite' .* does not trace"):
            policy.compute_actions(observations())


def test_missing_runtime_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    policy = PG(OBS, ACT, {"model": MODEL, "acting_runtime": "auto"})
    assert policy.acting_runtime == "tf"
    assert 'pip install "tfpolicy[lite]"' in policy.acting_fallback_reason
    assert 'pip install "tfpolicy[lite]"' in static_fallback_reason(policy)


# ---- same outputs as the TensorFlow step --------------------------------------------------------

MASKED = gym.spaces.Dict({"obs": gym.spaces.Box(-1, 1, (3,)), "d": gym.spaces.Discrete(3),
                          "action_mask": gym.spaces.Box(0, 1, (4,))})
SPACES = {
    "discrete": (OBS, ACT),
    "discrete_start": (gym.spaces.Discrete(5), gym.spaces.Discrete(3, start=2)),
    "multi_discrete": (gym.spaces.Box(-1, 1, (3,)), gym.spaces.MultiDiscrete([3, 2])),
    "box": (gym.spaces.Box(-1, 1, (3,)), gym.spaces.Box(-2, 2, (2,))),
    "dict_action": (gym.spaces.Box(-1, 1, (3,)),
                    gym.spaces.Dict({"a": gym.spaces.Discrete(3),
                                     "b": gym.spaces.Box(-1, 1, (2,))})),
    "masked_dict_obs": (MASKED, gym.spaces.Discrete(4)),
}


def sample_obs(space, n, seed=0):
    if isinstance(space, ArraySpec):
        return observations(n, seed)
    space.seed(seed)
    rows = [space.sample() for _ in range(n)]
    if space is MASKED:
        for i, row in enumerate(rows):
            row["action_mask"] = np.roll(np.array([1, 0, 1, 0], np.float32), i)
    return tree.map_structure(lambda *xs: np.stack(xs), *rows)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_greedy_outputs_equal_the_tf_step(name):
    lite, tf_policy = pair(*SPACES[name])
    obs = sample_obs(SPACES[name][0], 7)
    assert lite.acting_runtime == "lite"
    assert_same_outputs(lite.compute_actions(obs, explore=False),
                        tf_policy.compute_actions(obs, explore=False))
    one = tree.map_structure(lambda x: x[0], obs)
    assert_same_outputs(lite.compute_single_action(one, explore=False),
                        tf_policy.compute_single_action(one, explore=False))


@pytest.mark.parametrize("name", sorted(SPACES))
def test_sampled_actions_have_the_tf_columns_and_their_logp(name):
    lite, tf_policy = pair(*SPACES[name], seed=1)
    obs = sample_obs(SPACES[name][0], 7)
    actions, state, extra = lite.compute_actions(obs, explore=True)
    tf_actions, _, tf_extra = tf_policy.compute_actions(obs, explore=True)
    assert list(extra) == list(tf_extra)
    for x, y in zip(tree.flatten(actions), tree.flatten(tf_actions)):
        assert (x.dtype, x.shape) == (y.dtype, y.shape)
    np.testing.assert_allclose(extra["action_logp"],
                               tf_policy.compute_log_likelihoods(actions, obs),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(extra["action_prob"], np.exp(extra["action_logp"]), rtol=1e-6)


def test_masked_actions_are_never_sampled():
    lite, _ = pair(MASKED, gym.spaces.Discrete(4), seed=2)
    obs = sample_obs(MASKED, 200)
    actions, _, _ = lite.compute_actions(obs, explore=True)
    assert np.all(obs["action_mask"][np.arange(200), actions] == 1)


def test_extra_action_out_fn_outputs_come_through():
    def extra(policy):
        return {"vf_preds": policy.model.value_function() * 2.0,
                "twice": {"logits": policy.model.last_output() * 2.0}}

    cls = build_tf_policy("Extra", loss_fn=pg_loss, extra_action_out_fn=extra)
    lite = cls(OBS, ACT, {"model": MODEL, "acting_runtime": "lite"})
    tf_policy = cls(OBS, ACT, {"model": MODEL})
    tf_policy.set_weights(lite.get_weights())
    obs = observations()
    assert_same_outputs(lite.compute_actions(obs, explore=False),
                        tf_policy.compute_actions(obs, explore=False))
    _, _, fetches = lite.compute_single_action(obs[0], explore=False)
    np.testing.assert_allclose(fetches["twice"]["logits"], 2 * fetches["action_dist_inputs"],
                               rtol=1e-6)


def test_compute_actions_from_input_dict_and_global_timestep():
    lite, tf_policy = pair()
    obs = observations(5)
    assert_same_outputs(lite.compute_actions_from_input_dict({"obs": obs}, explore=False),
                        tf_policy.compute_actions_from_input_dict({"obs": obs}, explore=False))
    strided = obs.T[:, 1]
    assert_same_outputs(lite.compute_single_action(strided, explore=False),
                        tf_policy.compute_single_action(strided, explore=False))
    as_list = list(obs[2])  # float32 scalars: checked once, then converted
    assert_same_outputs(lite.compute_single_action(as_list, explore=False),
                        tf_policy.compute_single_action(as_list, explore=False))
    assert lite.global_timestep == 7


def test_observation_errors_name_the_problem():
    lite, _ = pair()
    with pytest.raises(ValueError, match="obs"):
        lite.compute_single_action(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="obs"):
        lite.compute_actions(np.zeros((2, 5), np.float32))


# ---- the numpy distributions against hand-computed values and the TF classes ---------------------

def test_categorical_logp_and_frequencies_hand_computed():
    # logits [0, log 3]: p = [1/4, 3/4]; logp(0) = log 1/4, logp(1) = log 3/4.
    logits = np.tile(np.array([[0.0, math.log(3.0)]], np.float32), (4000, 1))
    dist = numpy_dist(Categorical(tf.ones([1, 2])))
    actions, logp = dist.sample(logits, np.random.default_rng(0))
    assert actions.dtype == np.int64 and logp.dtype == np.float32
    assert np.mean(actions) == pytest.approx(0.75, abs=0.03)
    np.testing.assert_allclose(logp, np.where(actions == 1, math.log(0.75), math.log(0.25)),
                               rtol=1e-6)
    one_action, one_logp = dist.sample(logits[:1], np.random.default_rng(0))
    assert one_logp[0] == pytest.approx(math.log(0.75 if one_action[0] else 0.25), rel=1e-6)
    np.testing.assert_array_equal(dist.greedy(logits[:2]), [1, 1])


def test_categorical_temperature_and_start_follow_the_class():
    spec = BoundedArraySpec((), np.int32, 3, 4)
    cls = functools.partial(Categorical, temperature=0.5, action_space=spec)
    dist = numpy_dist(cls(tf.ones([1, 2])))
    logits = np.array([[0.0, math.log(3.0)]], np.float32)
    actions, logp = dist.sample(logits, np.random.default_rng(0))
    assert actions.dtype == np.int32 and actions[0] in (3, 4)
    # Temperature 1/2 doubles the logits: p = [1, 9] / 10.
    assert logp[0] == pytest.approx(math.log(0.9 if actions[0] == 4 else 0.1), rel=1e-6)
    tf_logp = cls(tf.constant(logits)).logp(tf.constant(actions)).numpy()
    np.testing.assert_allclose(logp, tf_logp, rtol=1e-6)


def test_diag_gaussian_logp_equals_the_formula_and_the_class():
    inputs = np.array([[0.5, -1.0, math.log(2.0), 0.0]] * 3, np.float32)  # mu, log sigma
    dist = numpy_dist(DiagGaussian(tf.ones([1, 4])))
    x, logp = dist.sample(inputs, np.random.default_rng(0))
    mu, sigma = np.array([0.5, -1.0]), np.array([2.0, 1.0])
    expected = (-0.5 * np.sum(((x - mu) / sigma) ** 2, axis=1) - math.log(2 * math.pi)
                - math.log(2.0))
    np.testing.assert_allclose(logp, expected, rtol=1e-5)
    np.testing.assert_allclose(logp, DiagGaussian(tf.constant(inputs)).logp(x).numpy(),
                               rtol=1e-5)
    np.testing.assert_array_equal(dist.greedy(inputs), inputs[:, :2])


def test_squashed_gaussian_logp_and_bounds_follow_the_class():
    inputs = np.array([[0.3, -0.2, -1.0, 0.5]] * 5, np.float32)
    cls = functools.partial(SquashedGaussian, low=[-2.0, 0.0], high=[2.0, 1.0])
    dist = numpy_dist(cls(tf.ones([1, 4])))
    actions, logp = dist.sample(inputs, np.random.default_rng(0))
    assert np.all(actions >= [-2.0, 0.0]) and np.all(actions <= [2.0, 1.0])
    np.testing.assert_allclose(logp, cls(tf.constant(inputs)).logp(actions).numpy(),
                               rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(dist.greedy(inputs),
                               cls(tf.constant(inputs)).deterministic_sample().numpy(),
                               rtol=1e-6)


# ---- the weight refresh --------------------------------------------------------------------------

def test_refresh_after_learn_on_batch_gives_the_tf_outputs():
    lite, tf_policy = pair()
    obs = observations()
    before = lite.compute_actions(obs, explore=False)[2]["action_dist_inputs"]
    for seed in range(3):
        lite.learn_on_batch(batch(seed=seed))
        tf_policy.learn_on_batch(batch(seed=seed))
    after = lite.compute_actions(obs, explore=False)
    assert not np.allclose(before, after[2]["action_dist_inputs"])
    assert_same_outputs(after, tf_policy.compute_actions(obs, explore=False))


def test_refresh_covers_every_batch_size():
    lite, tf_policy = pair()
    obs = observations(3)
    lite.compute_actions(obs, explore=False)
    lite.compute_single_action(obs[0], explore=False)
    assert lite._lite_actor.batch_sizes == [1, 3]
    lite.learn_on_batch(batch())
    tf_policy.learn_on_batch(batch())
    assert_same_outputs(lite.compute_single_action(obs[0], explore=False),
                        tf_policy.compute_single_action(obs[0], explore=False))
    assert_same_outputs(lite.compute_actions(obs, explore=False),
                        tf_policy.compute_actions(obs, explore=False))


@pytest.mark.parametrize("update", ["set_weights", "set_state", "apply_gradients"])
def test_refresh_after_each_kind_of_update(update):
    lite, tf_policy = pair()
    obs = observations()
    lite.compute_actions(obs, explore=False)
    if update == "apply_gradients":
        grads, _ = tf_policy.compute_gradients(batch())
        tf_policy.apply_gradients(grads)
        lite.apply_gradients(grads)
    else:
        tf_policy.learn_on_batch(batch())
        if update == "set_weights":
            lite.set_weights(tf_policy.get_weights())
        else:
            lite.set_state(tf_policy.get_state())
    assert_same_outputs(lite.compute_actions(obs, explore=False),
                        tf_policy.compute_actions(obs, explore=False))


# ---- seeding and the acting generator's state ----------------------------------------------------

def seeded(runtime, seed=7, worker_index=0):
    keras.utils.set_random_seed(seed)
    return PG(OBS, ACT, {"model": MODEL, "seed": seed, "worker_index": worker_index,
                         "acting_runtime": runtime})


def action_stream(policy, steps=12):
    obs = observations(4, seed=5)
    out = [policy.compute_actions(obs, explore=True)[0] for _ in range(2)]
    out += [policy.compute_single_action(obs[i % 4], explore=True)[0] for i in range(steps)]
    return np.concatenate([np.ravel(a) for a in out])


@pytest.mark.parametrize("runtime", ["lite", "tf"])
def test_same_seed_acts_identically(runtime):
    np.testing.assert_array_equal(action_stream(seeded(runtime)), action_stream(seeded(runtime)))


def test_unseeded_tf_runtime_follows_the_tf_seed():
    streams = []
    for _ in range(2):
        keras.utils.set_random_seed(4)
        streams.append(action_stream(PG(OBS, ACT, {"model": MODEL})))
    np.testing.assert_array_equal(*streams)


def test_worker_index_changes_the_stream():
    a, b = action_stream(seeded("lite", worker_index=0), 40), action_stream(
        seeded("lite", worker_index=1), 40)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("runtime", ["lite", "tf"])
def test_rng_state_round_trips_through_get_state_and_set_state(runtime):
    policy = seeded(runtime)
    action_stream(policy, 5)
    state = policy.get_state()
    assert state["_acting_rng"]["bit_generator"] == "PCG64"
    expected = action_stream(policy)
    # Another seed: the saved generator state decides.
    restored = PG(OBS, ACT, {"model": MODEL, "acting_runtime": runtime, "seed": 99})
    restored.set_state(state)
    np.testing.assert_array_equal(action_stream(restored), expected)


@pytest.mark.parametrize("runtime", ["lite", "tf"])
def test_rng_state_round_trips_through_a_checkpoint(runtime, tmp_path):
    policy = seeded(runtime)
    action_stream(policy, 5)
    policy.export_checkpoint(tmp_path / "ckpt")
    expected = action_stream(policy)
    restored = Policy.from_checkpoint(tmp_path / "ckpt")
    assert restored.acting_runtime == runtime
    np.testing.assert_array_equal(action_stream(restored), expected)


def test_set_state_rejects_another_bit_generator():
    policy = seeded("tf")
    state = policy.get_state()
    state["_acting_rng"] = np.random.MT19937(0).state
    with pytest.raises(ValueError, match="'_acting_rng' must be the state of a PCG64"):
        policy.set_state(state)
