"""Tests for `tfpolicy.algorithms.sac`: the SAC policy (losses by hand on constant
networks, the three optimizers, bounds, state) and the SAC algorithm."""

import math

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.algorithms.algorithm_config import InvalidConfigError
from tfpolicy.algorithms.sac import (SAC, FusedAdam, SACConfig, SACTFModel, SACTFPolicy,
                                     postprocess_nstep)
from tfpolicy.learning import SampleBatch

OBS = ArraySpec((3,), np.float32)
PENDULUM_ACTIONS = BoundedArraySpec((1,), np.float32, -2.0, 2.0)
SMALL = {"fcnet_hiddens": [8, 8], "fcnet_activation": "relu"}


def small_policy(action_spec=PENDULUM_ACTIONS, **config):
    config = {"seed": 0, "q_model_config": SMALL, "policy_model_config": SMALL, **config}
    return SACTFPolicy(OBS, action_spec, config)


def random_batch(rows, seed=0, action_dim=1, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return SampleBatch({
        "obs": rng.standard_normal((rows, 3)).astype(np.float32),
        "new_obs": rng.standard_normal((rows, 3)).astype(np.float32),
        "actions": rng.uniform(low, high, (rows, action_dim)).astype(np.float32),
        "rewards": rng.standard_normal(rows).astype(np.float32),
        "terminateds": rng.random(rows) < 0.3,
    })


def set_constant_net(net, output_bias):
    """Zero every weight of a fully connected net, then its output bias: the net
    outputs `output_bias` for every input."""
    for v in net.variables():
        v.assign(tf.zeros_like(v))
    [bias] = [v for v in net.variables() if v.name.startswith("fc_out/bias")]
    bias.assign(np.asarray(output_bias, np.float32))


# ------------------------------------------------------------------------------------- the model


def test_model_parts_and_auto_target_entropy():
    model = SACTFModel(OBS, BoundedArraySpec((2,), np.float32, -1.0, 1.0), None, {}, "m",
                       policy_model_config=SMALL, q_model_config=SMALL, twin_q=True,
                       initial_alpha=0.5, target_entropy="auto")
    assert model.target_entropy == -2.0
    assert np.isclose(float(model.alpha), 0.5)
    dist_inputs, state = model({"obs": np.zeros((4, 3), np.float32)})
    assert dist_inputs.shape == (4, 4) and state == []
    features = model.flatten_observation(np.zeros((4, 3), np.float32))
    q, _ = model.get_q_values(features, tf.zeros([4, 2]))
    twin, _ = model.get_twin_q_values(features, tf.zeros([4, 2]))
    assert q.shape == (4, 1) and twin.shape == (4, 1)
    # 3 dense layers (kernel + bias) per net.
    assert len(model.policy_variables()) == 6 and len(model.q_variables()) == 12


def test_model_without_twin_has_no_twin_critic():
    model = SACTFModel(OBS, PENDULUM_ACTIONS, None, {}, "m", policy_model_config=SMALL,
                       q_model_config=SMALL, twin_q=False)
    with pytest.raises(ValueError, match="twin_q=False"):
        model.get_twin_q_values(tf.zeros([1, 3]), tf.zeros([1, 1]))


@pytest.mark.parametrize("space, words", [
    (gym.spaces.Discrete(3), "discrete"),
    (BoundedArraySpec((), np.int64, 0, 2), "discrete"),
    (BoundedArraySpec((2, 2), np.float32, -1.0, 1.0), "shape"),
    (ArraySpec((2,), np.float32), "unbounded"),
    (gym.spaces.Box(-np.inf, np.inf, (2,)), "bounds"),
])
def test_non_box_action_spaces_are_rejected_naming_the_space(space, words):
    with pytest.raises(ValueError, match="one-dimensional float Box") as error:
        small_policy(action_spec=space)
    assert words in str(error.value)


# -------------------------------------------------------------------------------------- acting


ASYMMETRIC = gym.spaces.Box(np.array([0.0, -1.0], np.float32), np.array([3.0, 5.0], np.float32))


@pytest.mark.parametrize("normalize_actions, low, high", [
    (True, -np.ones(2), np.ones(2)),
    (False, ASYMMETRIC.low, ASYMMETRIC.high),
])
def test_explored_actions_stay_in_their_bounds(normalize_actions, low, high):
    policy = small_policy(action_spec=ASYMMETRIC, normalize_actions=normalize_actions)
    obs = np.random.default_rng(0).standard_normal((2000, 3)).astype(np.float32) * 5
    actions, _, _ = policy.compute_actions(obs, explore=True)
    assert actions.shape == (2000, 2)
    assert np.all(actions >= low) and np.all(actions <= high)
    # Exploration spreads actions over most of each range.
    assert np.all(actions.max(0) - actions.min(0) > 0.5 * (high - low))


@pytest.mark.parametrize("normalize_actions", [True, False])
def test_greedy_action_is_the_squashed_mean(normalize_actions):
    policy = small_policy(action_spec=ASYMMETRIC, normalize_actions=normalize_actions)
    set_constant_net(policy.model.action_model, [0.5, -2.0, 0.1, 0.1])
    action, _, _ = policy.compute_single_action(np.ones(3, np.float32), explore=False)
    expected = np.tanh([0.5, -2.0])
    if not normalize_actions:
        expected = ASYMMETRIC.low + (expected + 1) / 2 * (ASYMMETRIC.high - ASYMMETRIC.low)
    np.testing.assert_allclose(action, expected, rtol=1e-5)


def test_critics_read_actions_rescaled_to_unit_bounds():
    # The same transitions in env units (normalize_actions=False) and in [-1, 1]
    # give the same losses.
    batch = random_batch(16)
    scaled = SampleBatch(dict(batch, actions=batch["actions"] * 2.0))
    unit = small_policy(normalize_actions=True, _deterministic_loss=True)
    env_units = small_policy(normalize_actions=False, _deterministic_loss=True)
    env_units.set_state(unit.get_state())
    a = unit.learn_on_batch(batch)["learner_stats"]
    b = env_units.learn_on_batch(scaled)["learner_stats"]
    for key in ("critic_loss", "actor_loss", "mean_q"):
        assert a[key] == pytest.approx(b[key], rel=1e-5)


# ------------------------------------------------------------------------------------ the losses


def constant_policy(**config):
    """A policy whose networks are constants: actor [μ, log σ] = [0.3, log 0.5],
    critics 1.5 and -0.5, target critics 2.0 and 1.0, α = 0.4."""
    policy = small_policy(initial_alpha=0.4, _deterministic_loss=True, **config)
    set_constant_net(policy.model.action_model, [0.3, math.log(0.5)])
    set_constant_net(policy.model.q_net, [1.5])
    set_constant_net(policy.model.twin_q_net, [-0.5])
    set_constant_net(policy.target_model.q_net, [2.0])
    set_constant_net(policy.target_model.twin_q_net, [1.0])
    return policy


def constant_logp():
    # Deterministic loss: u = μ = 0.3; log π of tanh(u) in [-1, 1].
    u, log_std = 0.3, math.log(0.5)
    return -log_std - 0.5 * math.log(2 * math.pi) - math.log(1 - math.tanh(u) ** 2)


def test_losses_by_hand_on_constant_networks():
    policy = constant_policy(gamma=0.9)
    batch = SampleBatch({
        "obs": np.zeros((2, 3), np.float32), "new_obs": np.ones((2, 3), np.float32),
        "actions": np.array([[1.0], [-2.0]], np.float32),
        "rewards": np.array([1.0, -1.0], np.float32),
        "terminateds": np.array([False, True])})
    stats = policy.learn_on_batch(batch)["learner_stats"]
    alpha, logp = 0.4, constant_logp()
    # y = r + γ (1 - d) (min(2, 1) - α log π)
    y = np.array([1.0 + 0.9 * (1.0 - alpha * logp), -1.0])
    critic = [0.5 * np.mean((1.5 - y) ** 2), 0.5 * np.mean((-0.5 - y) ** 2)]
    assert stats["critic_loss"] == pytest.approx(np.mean(critic), rel=1e-5)
    assert stats["mean_td_error"] == pytest.approx(
        np.mean(0.5 * (np.abs(1.5 - y) + np.abs(-0.5 - y))), rel=1e-5)
    assert stats["actor_loss"] == pytest.approx(alpha * logp - (-0.5), rel=1e-5)
    assert stats["alpha_loss"] == pytest.approx(-math.log(alpha) * (logp - 1.0), rel=1e-5)
    assert stats["alpha_value"] == pytest.approx(alpha, rel=1e-6)
    assert stats["entropy"] == pytest.approx(-logp, rel=1e-5)
    assert stats["target_entropy"] == -1.0
    assert stats["mean_q"] == pytest.approx(1.5) and stats["min_q"] == pytest.approx(1.5)


def test_one_update_moves_each_group_with_its_own_rate_and_the_targets_by_tau():
    rates = {"actor_learning_rate": 0.01, "critic_learning_rate": 0.02,
             "entropy_learning_rate": 0.03}
    policy = constant_policy(gamma=0.9, tau=0.25, optimization=rates)
    batch = SampleBatch({
        "obs": np.zeros((2, 3), np.float32), "new_obs": np.ones((2, 3), np.float32),
        "actions": np.zeros((2, 1), np.float32), "rewards": np.array([5.0, 5.0], np.float32),
        "terminateds": np.array([False, False])})
    policy.learn_on_batch(batch)
    alpha, logp = 0.4, constant_logp()
    # Adam's first step moves each parameter by -lr * sign(gradient).
    # α: dL/dlog α = -(log π + H) with H = -1.
    expected_log_alpha = math.log(alpha) - 0.03 * np.sign(-(logp - 1.0))
    assert float(policy.model.log_alpha) == pytest.approx(expected_log_alpha, rel=1e-5)
    # Critic output biases: y > both critics, so both rise by the critic rate.
    y = 5.0 + 0.9 * (1.0 - alpha * logp)
    assert y > 1.5
    q_bias = [v for v in policy.model.q_net.variables() if v.name.startswith("fc_out/bias")][0]
    assert float(q_bias[0]) == pytest.approx(1.5 + 0.02, rel=1e-5)
    # Target critics: τ θ + (1 - τ) θ' after the update.
    target_bias = [v for v in policy.target_model.q_net.variables()
                   if v.name.startswith("fc_out/bias")][0]
    assert float(target_bias[0]) == pytest.approx(0.25 * 1.52 + 0.75 * 2.0, rel=1e-5)
    # Actor: the constant critics give no dQ/da, so the mean's gradient is that of
    # α log π: d/dμ [-log(1 - tanh(μ)²)] = 2 tanh(μ) > 0; the mean falls by the actor rate.
    mean_bias = [v for v in policy.model.action_model.variables()
                 if v.name.startswith("fc_out/bias")][0]
    assert float(mean_bias[0]) == pytest.approx(0.3 - 0.01, rel=1e-4)


def test_prioritized_weights_scale_the_critic_loss():
    policy = constant_policy(gamma=0.9)
    batch = SampleBatch({
        "obs": np.zeros((2, 3), np.float32), "new_obs": np.ones((2, 3), np.float32),
        "actions": np.zeros((2, 1), np.float32), "rewards": np.array([1.0, 3.0], np.float32),
        "terminateds": np.array([True, True]), "weights": np.array([0.0, 2.0], np.float32)})
    stats = policy.learn_on_batch(batch)["learner_stats"]
    # Terminated: y = r. Only the second row counts, twice.
    expected = np.mean([0.5 * np.mean([0.0, 2.0 * (1.5 - 3.0) ** 2]),
                        0.5 * np.mean([0.0, 2.0 * (-0.5 - 3.0) ** 2])])
    assert stats["critic_loss"] == pytest.approx(expected, rel=1e-5)


def test_single_critic_uses_its_own_values():
    policy = small_policy(twin_q=False, initial_alpha=0.4, _deterministic_loss=True, gamma=0.9)
    set_constant_net(policy.model.action_model, [0.3, math.log(0.5)])
    set_constant_net(policy.model.q_net, [1.5])
    set_constant_net(policy.target_model.q_net, [2.0])
    assert policy.model.twin_q_net is None
    batch = SampleBatch({
        "obs": np.zeros((1, 3), np.float32), "new_obs": np.ones((1, 3), np.float32),
        "actions": np.zeros((1, 1), np.float32), "rewards": np.array([1.0], np.float32),
        "terminateds": np.array([False])})
    stats = policy.learn_on_batch(batch)["learner_stats"]
    y = 1.0 + 0.9 * (2.0 - 0.4 * constant_logp())
    assert stats["critic_loss"] == pytest.approx(0.5 * (1.5 - y) ** 2, rel=1e-5)
    assert stats["actor_loss"] == pytest.approx(0.4 * constant_logp() - 1.5, rel=1e-5)


def test_sampled_log_prob_is_the_squashed_gaussian_density():
    # log π of a noisy draw is the density of tanh(u) under the [-1, 1] squashed
    # Gaussian (SquashedGaussian adds 1e-6 inside its log(1 - tanh²): atol).
    from tfpolicy.algorithms.sac import _squashed_sample
    from tfpolicy.learning import SquashedGaussian
    inputs = tf.constant([[0.3, math.log(0.5)], [-1.0, math.log(1.5)]])
    noise = tf.constant([[0.7], [-0.2]])
    actions, logp = _squashed_sample(inputs, noise)
    u = np.array([0.3 + 0.5 * 0.7, -1.0 + 1.5 * -0.2])
    np.testing.assert_allclose(actions.numpy()[:, 0], np.tanh(u), rtol=1e-6)
    reference = SquashedGaussian(inputs).logp(actions).numpy()
    np.testing.assert_allclose(logp.numpy(), reference, atol=2e-5)


# ------------------------------------------------------------------------ optimizers, updates


def test_each_optimizer_holds_only_its_group():
    policy = small_policy()
    actor, critic, alpha = policy._optimizers
    assert policy._critic_optimizer == [critic]
    # The step count, then a momentum and a velocity per variable.
    assert len(actor.variables) == 1 + 2 * 6
    assert len(critic.variables) == 1 + 2 * 12
    assert len(alpha.variables) == 1 + 2 * 1
    assert len(policy.get_state()["_optimizer_variables"]) == 3 + 2 * 19


def test_fused_adam_matches_keras_adam():
    import keras
    variable, reference = tf.Variable([1.0, -2.0]), tf.Variable([1.0, -2.0])
    fused = FusedAdam(0.1)
    fused.build([variable])
    keras_adam = keras.optimizers.Adam(0.1)
    for grad in ([0.5, -1.0], [0.2, 3.0], [-0.7, 0.1]):
        fused.apply_gradients([(tf.constant(grad), variable)])
        keras_adam.apply_gradients([(tf.constant(grad), reference)])
    np.testing.assert_allclose(variable.numpy(), reference.numpy(), rtol=1e-5)
    assert int(fused.iterations) == 3


def test_minibatch_updates_in_one_call_equal_consecutive_updates():
    batch = random_batch(64, seed=1)
    policy = small_policy()
    start = policy.get_state()
    info = policy.learn_on_minibatches(batch, 2)
    one_call = policy.get_weights()
    assert policy.num_grad_updates == 2
    policy.set_state(start)
    first = policy.learn_on_batch(batch[:32])
    second = policy.learn_on_batch(batch[32:])
    for name, value in policy.get_weights().items():
        np.testing.assert_allclose(one_call[name], value, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(info["td_error"],
                               np.concatenate([first["td_error"], second["td_error"]]),
                               rtol=1e-4, atol=1e-6)
    assert info["learner_stats"]["critic_loss"] == pytest.approx(
        (first["learner_stats"]["critic_loss"] + second["learner_stats"]["critic_loss"]) / 2,
        rel=1e-4)


def test_minibatches_must_split_evenly():
    with pytest.raises(ValueError, match="10 rows do not split into 3"):
        small_policy().learn_on_minibatches(random_batch(10), 3)


def test_compute_then_apply_gradients_equals_learn_on_batch():
    batch = random_batch(16)
    policy = small_policy()
    start = policy.get_state()
    policy.learn_on_batch(batch)
    learned = policy.get_weights()
    policy.set_state(start)
    grads, info = policy.compute_gradients(batch)
    assert len(grads) == len(policy.model.trainable_variables())
    assert all(g is not None for g in grads)
    assert np.isfinite(info["learner_stats"]["critic_loss"])
    policy.apply_gradients(grads)
    for name, value in learned.items():
        np.testing.assert_allclose(value, policy.get_weights()[name], rtol=1e-4, atol=1e-6)


def test_missing_column_is_named():
    batch = random_batch(4)
    del batch["new_obs"]
    with pytest.raises(KeyError, match="new_obs"):
        small_policy().learn_on_batch(batch)


def test_update_target_moves_the_target_critics_by_tau():
    policy = small_policy()
    for v in policy.model.q_variables():
        v.assign(tf.ones_like(v))
    for v in policy.target_model.q_variables():
        v.assign(tf.zeros_like(v))
    policy.update_target(0.25)
    assert all(np.allclose(v.numpy(), 0.25) for v in policy.target_model.q_variables())
    policy.update_target(1.0)
    assert all(np.allclose(v.numpy(), 1.0) for v in policy.target_model.q_variables())


def test_n_step_postprocessing_sums_rewards():
    policy = small_policy(n_step=2, gamma=0.5)
    batch = SampleBatch({
        "obs": np.arange(9, dtype=np.float32).reshape(3, 3),
        "new_obs": np.arange(3, 12, dtype=np.float32).reshape(3, 3),
        "actions": np.zeros((3, 1), np.float32), "rewards": np.array([1.0, 2.0, 4.0], np.float32),
        "terminateds": np.array([False, False, True])})
    out = postprocess_nstep(policy, batch)
    np.testing.assert_allclose(out["rewards"], [1.0 + 0.5 * 2.0, 2.0 + 0.5 * 4.0, 4.0])
    np.testing.assert_allclose(out["new_obs"][0], batch["obs"][2])
    np.testing.assert_array_equal(out["terminateds"], [False, True, True])


# ---------------------------------------------------------------------------------------- state


def test_restored_policy_continues_identically():
    batch = random_batch(32, seed=2)
    original = small_policy(seed=3)
    original.learn_on_batch(batch)
    state = original.get_state()
    assert state["_learner_rng_state"].shape == (3,)
    restored = small_policy(seed=99)
    restored.set_state(state)
    a = original.learn_on_batch(batch)
    b = restored.learn_on_batch(batch)
    assert a["learner_stats"] == b["learner_stats"]
    for name, value in original.get_weights().items():
        np.testing.assert_array_equal(value, restored.get_weights()[name])
    for x, y in zip(original.target_model.q_variables(), restored.target_model.q_variables()):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_the_learner_generator_follows_the_seed_and_worker_index():
    states = [small_policy(seed=s, worker_index=w).get_state()["_learner_rng_state"]
              for s, w in ((5, 0), (5, 0), (6, 0), (5, 1))]
    np.testing.assert_array_equal(states[0], states[1])
    assert not np.array_equal(states[0], states[2])
    assert not np.array_equal(states[0], states[3])


# ------------------------------------------------------------------------------------ the algorithm

# Small networks, learning from the first steps, one update per env step in
# blocks of 8 (rollout_fragment_length 8, training_intensity = train_batch_size).
FAST = {
    "seed": 1,
    "q_model_config": {"fcnet_hiddens": [32, 32]},
    "policy_model_config": {"fcnet_hiddens": [32, 32]},
    "optimization": {"actor_learning_rate": 3e-3, "critic_learning_rate": 3e-3,
                     "entropy_learning_rate": 3e-3},
    "train_batch_size": 64,
    "rollout_fragment_length": 8,
    "training_intensity": 64,
    "num_steps_sampled_before_learning_starts": 64,
    "min_time_s_per_iteration": 0,
    "min_sample_timesteps_per_iteration": 200,
}


# The tuned Pendulum-v1 config: rl-zoo's (lr 1e-3, batch 256, one update per env
# step) with 128x128 networks, the updates made 8 at a time.
PENDULUM = {
    "optimization": {"actor_learning_rate": 1e-3, "critic_learning_rate": 1e-3,
                     "entropy_learning_rate": 1e-3},
    "q_model_config": {"fcnet_hiddens": [128, 128]},
    "policy_model_config": {"fcnet_hiddens": [128, 128]},
    "num_steps_sampled_before_learning_starts": 256,
    "rollout_fragment_length": 8,
    "training_intensity": 256,
    "min_sample_timesteps_per_iteration": 500,
    "min_time_s_per_iteration": 0,
    "evaluation_interval": 1,
    "evaluation_duration": 10,
}


def test_default_config_is_rllibs():
    config = SAC.get_default_config()
    assert (config["tau"], config["initial_alpha"], config["target_entropy"]) == (
        5e-3, 1.0, "auto")
    assert (config["n_step"], config["twin_q"], config["train_batch_size"]) == (1, True, 256)
    assert config["replay_buffer_config"]["capacity"] == 1_000_000
    assert config["num_steps_sampled_before_learning_starts"] == 1500
    assert (config["target_network_update_freq"], config["rollout_fragment_length"]) == (0, 1)
    assert config["optimization"] == {"actor_learning_rate": 3e-4,
                                      "critic_learning_rate": 3e-4,
                                      "entropy_learning_rate": 3e-4}
    assert config["q_model_config"]["fcnet_hiddens"] == [256, 256]
    assert config["policy_model_config"]["fcnet_activation"] == "relu"
    assert config["training_intensity"] is None and config["normalize_actions"] is True


@pytest.mark.parametrize("override, message", [
    ({"tau": 0.0}, r"'tau': expected a number in \(0, 1\], got 0.0"),
    ({"tau": 1.5}, r"'tau': expected a number in \(0, 1\]"),
    ({"initial_alpha": 0.0}, r"'initial_alpha': expected a number in \(0, inf\)"),
    ({"target_entropy": "max"}, r"'target_entropy': expected 'auto' or a finite number"),
    ({"n_step": 3}, r"'rollout_fragment_length': expected at least n_step \(3\), got 1"),
    ({"optimization": {"actor_learning_rte": 1e-3}},
     r"unknown key 'optimization.actor_learning_rte'; did you mean 'actor_learning_rate'"),
    ({"optimization": {"critic_learning_rate": -1.0}},
     r"'optimization.critic_learning_rate': expected a number in \(0, inf\)"),
    ({"replay_buffer_config": {"type": "Ring"}}, r"'replay_buffer_config.type': expected one of"),
    ({"replay_buffer_config": {"capacity": 0}},
     r"'replay_buffer_config.capacity': expected an integer in \[1, inf\)"),
    ({"training_intensity": 0}, r"'training_intensity': expected a number in \(0, inf\)"),
    ({"_use_beta_distribution": True}, r"'_use_beta_distribution': expected False"),
    ({"taus": 0.1}, r"unknown key 'taus'; did you mean 'tau'"),
])
def test_bad_configs_name_the_key_and_the_allowed_values(override, message):
    with pytest.raises(InvalidConfigError, match=message):
        SAC.merged_config(dict(override), env="Pendulum-v1")


def test_discrete_actions_are_rejected_naming_the_space():
    with pytest.raises(InvalidConfigError, match="SAC needs a continuous action space: a "
                                                 "one-dimensional float Box") as error:
        SAC(env="CartPole-v1", config={"seed": 0})
    assert "discrete" in str(error.value) and "int64" in str(error.value)


def test_config_builder_merges_sub_dicts():
    config = (SACConfig().environment("Pendulum-v1")
              .training(tau=0.01, optimization={"actor_learning_rate": 1e-3},
                        q_model_config={"fcnet_hiddens": [64, 64]})
              .debugging(seed=3))
    d = config.to_dict()
    assert d["tau"] == 0.01 and d["seed"] == 3
    assert d["optimization"] == {"actor_learning_rate": 1e-3, "critic_learning_rate": 3e-4,
                                 "entropy_learning_rate": 3e-4}
    assert d["q_model_config"]["fcnet_hiddens"] == [64, 64]
    assert d["q_model_config"]["fcnet_activation"] == "relu"


def test_a_few_iterations_on_pendulum_learn():
    algo = SAC(env="Pendulum-v1", config=FAST)
    try:
        results = [algo.train() for _ in range(6)]
    finally:
        algo.stop()
    stats = results[-1]["info"]["learner"]["default_policy"]["learner_stats"]
    for key in ("actor_loss", "critic_loss", "alpha_loss", "alpha_value", "mean_q"):
        assert np.isfinite(stats[key]), key
    last = results[-1]
    assert last["timesteps_total"] >= 1200
    # One update of 64 rows per sampled step once learning started.
    assert last["num_env_steps_trained"] == 64 * (last["timesteps_total"] - 64)
    assert algo.get_policy().num_grad_updates == last["timesteps_total"] - 64
    # Lenient signs of learning: the critics learned that Pendulum's rewards are
    # negative, and the temperature fell from 1 as the entropy neared its target.
    assert stats["mean_q"] < -5.0
    assert stats["alpha_value"] < 0.9
    assert np.isfinite(last["episode_reward_mean"])


def test_prioritized_replay_sets_priorities_from_td_errors():
    config = dict(FAST, replay_buffer_config={"type": "MultiAgentPrioritizedReplayBuffer"},
                  min_sample_timesteps_per_iteration=128)
    algo = SAC(env="Pendulum-v1", config=config)
    try:
        result = algo.train()
        state = algo.local_replay_buffer.get_state()
    finally:
        algo.stop()
    assert "td_error" not in result["info"]["learner"]["default_policy"]
    assert result["num_env_steps_trained"] == 64 * (128 - 64)
    # New rows enter at priority 1; replayed rows get |td_error| + eps.
    assert len(np.unique(state["priorities"])) > 30


def test_target_network_update_freq_counts_sampled_steps():
    config = dict(FAST, target_network_update_freq=100, min_sample_timesteps_per_iteration=400,
                  training_intensity=None)
    algo = SAC(env="Pendulum-v1", config=config)
    try:
        algo.train()
        counters = dict(algo._counters)
    finally:
        algo.stop()
    # Learning starts after step 64; sampled in blocks of 8, the targets move at
    # steps 104, 208 and 312 (at least 100 sampled steps apart), not after each update.
    assert counters["num_target_updates"] == 3
    assert counters["last_target_update_ts"] == 312


def test_the_same_seed_gives_the_same_results():
    config = dict(FAST, min_sample_timesteps_per_iteration=96, training_intensity=None)
    runs = []
    for _ in range(2):
        algo = SAC(env="Pendulum-v1", config=config)
        try:
            runs.append([algo.train() for _ in range(2)])
        finally:
            algo.stop()
    for first, second in zip(*runs):
        assert first["episode_reward_mean"] == second["episode_reward_mean"] or (
            np.isnan(first["episode_reward_mean"]) and np.isnan(second["episode_reward_mean"]))
        assert (first["info"]["learner"]["default_policy"]["learner_stats"]
                == second["info"]["learner"]["default_policy"]["learner_stats"])


def test_save_restore_continues_exactly_with_the_replay_buffer(tmp_path):
    # One update per 8 sampled steps: a single compiled update per algorithm.
    config = dict(FAST, min_sample_timesteps_per_iteration=96, training_intensity=None)
    first = SAC(env="Pendulum-v1", config=config)
    try:
        for _ in range(3):
            first.train()
        path = first.save(tmp_path / "checkpoint")
        expected = first.train()
        expected_weights = first.get_policy().get_weights()
        expected_buffer = len(first.local_replay_buffer)
    finally:
        first.stop()
    resumed = SAC.from_checkpoint(path)
    try:
        assert len(resumed.local_replay_buffer) == 3 * 96
        got = resumed.train()
        assert len(resumed.local_replay_buffer) == expected_buffer
        weights = resumed.get_policy().get_weights()
    finally:
        resumed.stop()
    for key in ("timesteps_total", "episode_reward_mean", "num_env_steps_trained",
                "training_iteration"):
        assert got[key] == expected[key], key
    assert (got["info"]["learner"]["default_policy"]["learner_stats"]
            == expected["info"]["learner"]["default_policy"]["learner_stats"])
    for name, value in expected_weights.items():
        np.testing.assert_array_equal(weights[name], value, err_msg=name)


@pytest.mark.slow
def test_pendulum_is_solved_within_20k_steps():
    algo = SAC(env="Pendulum-v1", config=dict(PENDULUM, seed=0))
    try:
        best = -np.inf
        while algo._counters["num_env_steps_sampled"] < 20_000:
            result = algo.train()
            best = max(best, result.get("evaluation", {}).get("episode_reward_mean", -np.inf))
            if best >= -200:
                break
    finally:
        algo.stop()
    assert best >= -200, best
