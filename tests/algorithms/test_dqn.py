"""DQN: dueling heads, double-Q and n-step targets by hand, importance weights, action
masks, prioritized replay driven by the TD errors, training intensity, exact resume with the
prioritized buffer, config errors, and a slow run to 475 on CartPole."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.algorithms import Algorithm, InvalidConfigError
from tfpolicy.algorithms.dqn import (DQN, DQNConfig, DQNModel, DQNTFPolicy,
                                     calculate_rr_weights, postprocess_nstep_and_prio)
from tfpolicy.algorithms.replay_buffers import PrioritizedReplayBuffer
from tfpolicy.learning.sample_batch import SampleBatch

from algorithm_toys import register_toys

OBS = ArraySpec((3,), np.float32)
ACTIONS = BoundedArraySpec((), np.int64, 0, 2)
SMALL = {"env": "CartPole-v1", "seed": 4, "num_steps_sampled_before_learning_starts": 64,
         "min_sample_timesteps_per_iteration": 128, "rollout_fragment_length": 16,
         "training_intensity": 32.0, "target_network_update_freq": 64, "n_step": 2,
         "replay_buffer_config": {"capacity": 400}, "hiddens": [16],
         "model": {"fcnet_hiddens": [16]}}
STATS = {"cur_lr", "q_loss", "mean_q", "min_q", "max_q", "mean_td_error"}
# Tuned for wall time to a greedy mean of 475 on CartPole-v1 (benchmarks/bench_train.py):
# rl-zoo's SB3 DQN settings (network, lr, batch, buffer, exploration, grad clip, a target
# copied once per 256-step rollout) plus double Q, a dueling head and 3-step returns, with
# 64 updates per 256 sampled steps; evaluation plays its 20 episodes on 10 environments.
TUNED_CARTPOLE = {
    "env": "CartPole-v1", "lr": 2.3e-3, "gamma": 0.99, "train_batch_size": 64,
    "model": {"fcnet_hiddens": [256, 256], "fcnet_activation": "relu"}, "hiddens": [],
    "dueling": True, "double_q": True, "n_step": 3, "grad_clip": 10.0,
    "replay_buffer_config": {"type": "ReplayBuffer", "capacity": 100000},
    "num_steps_sampled_before_learning_starts": 1000, "target_network_update_freq": 10,
    "rollout_fragment_length": 256, "training_intensity": 16.0,
    "exploration_config": {"type": "EpsilonGreedy", "initial_epsilon": 1.0,
                           "final_epsilon": 0.04, "epsilon_timesteps": 8000},
    "min_sample_timesteps_per_iteration": 1000,
    "evaluation_interval": 1, "evaluation_duration": 20,
    "evaluation_config": {"explore": False, "num_envs_per_worker": 10},
}


def _comparable(result):
    return json.loads(json.dumps({k: v for k, v in result.items()
                                  if k not in ("time_this_iter_s", "time_total_s")},
                                 default=float))


def _q(model, obs):
    return model({"obs": obs})[0].numpy()


def _batch(rows=6, seed=0, obs_space_dict=False):
    rng = np.random.default_rng(seed)
    return SampleBatch({
        "obs": rng.normal(size=(rows, 3)).astype(np.float32),
        "new_obs": rng.normal(size=(rows, 3)).astype(np.float32),
        "actions": rng.integers(0, 3, rows),
        "rewards": rng.normal(size=rows).astype(np.float32),
        "terminateds": np.arange(rows) % 3 == 0,
        "weights": np.linspace(0.5, 2.0, rows).astype(np.float32),
    })


def _policy(**config):
    keras.utils.set_random_seed(0)
    policy = DQNTFPolicy(OBS, ACTIONS, dict({"model": {"fcnet_hiddens": [8]}, "hiddens": [6],
                                             "seed": 0}, **config))
    # A target network different from the online one, so the tests tell them apart.
    for variable in policy.target_model.variables():
        variable.assign(variable * 0.5 + 0.1)
    return policy


def _huber(x):
    return np.where(np.abs(x) < 1.0, 0.5 * x ** 2, np.abs(x) - 0.5)


def test_dueling_q_is_the_state_value_plus_centered_advantages():
    model = DQNModel(OBS, ACTIONS, 3, {"fcnet_hiddens": [8]}, "q", q_hiddens=[5], dueling=True)
    obs = tf.constant(np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32))
    features = model.features({"obs": obs, "obs_flat": obs})
    advantages = features
    for layer in model.action_head:
        advantages = layer(advantages)
    value = features
    for layer in model.state_head:
        value = layer(value)
    advantages, value = advantages.numpy(), value.numpy()
    expected = value + advantages - advantages.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(_q(model, obs), expected, rtol=1e-5, atol=1e-6)
    names = {v.name for v in model.variables()}
    assert {"value_hidden_1/kernel:0", "state_value/kernel:0", "hidden_1/kernel:0"} <= names
    plain = DQNModel(OBS, ACTIONS, 3, {"fcnet_hiddens": [8]}, "q", q_hiddens=[5],
                     dueling=False)
    assert not any(v.name.startswith(("state_value", "value_hidden"))
                   for v in plain.variables())


def test_double_q_target_rates_the_online_argmax_with_the_target_network():
    policy = _policy(gamma=0.9, n_step=2)
    batch = _batch()
    rows = np.arange(len(batch))
    q_t, q_tp1 = _q(policy.model, batch["obs"]), _q(policy.target_model, batch["new_obs"])
    best = _q(policy.model, batch["new_obs"]).argmax(axis=1)
    assert not np.array_equal(best, q_tp1.argmax(axis=1))  # the two choices differ here
    target = batch["rewards"] + 0.9 ** 2 * np.where(batch["terminateds"], 0.0,
                                                    q_tp1[rows, best])
    td_error = q_t[rows, batch["actions"]] - target
    _, info = policy.compute_gradients(batch)
    np.testing.assert_allclose(info["td_error"], td_error, rtol=1e-5, atol=1e-6)
    # The importance weights scale each row's Huber loss.
    expected = np.mean(batch["weights"] * _huber(td_error))
    assert info["learner_stats"]["q_loss"] == pytest.approx(expected, rel=1e-5)


def test_without_double_q_the_target_takes_its_own_max_and_mse_halves_squares():
    policy = _policy(gamma=0.5, double_q=False, td_error_loss_fn="mse")
    batch = _batch(seed=3)
    rows = np.arange(len(batch))
    q_t, q_tp1 = _q(policy.model, batch["obs"]), _q(policy.target_model, batch["new_obs"])
    target = batch["rewards"] + 0.5 * np.where(batch["terminateds"], 0.0, q_tp1.max(axis=1))
    td_error = q_t[rows, batch["actions"]] - target
    _, info = policy.compute_gradients(batch)
    np.testing.assert_allclose(info["td_error"], td_error, rtol=1e-5, atol=1e-6)
    expected = np.mean(batch["weights"] * 0.5 * td_error ** 2)
    assert info["learner_stats"]["q_loss"] == pytest.approx(expected, rel=1e-5)


def test_masked_next_actions_are_left_out_of_the_target():
    obs_space = {"action_mask": BoundedArraySpec((3,), np.float32, 0.0, 1.0),
                 "observations": ArraySpec((3,), np.float32)}
    keras.utils.set_random_seed(0)
    policy = DQNTFPolicy(obs_space, ACTIONS, {"model": {"fcnet_hiddens": [8]}, "hiddens": [],
                                              "gamma": 0.5, "seed": 0})
    rng = np.random.default_rng(0)
    features = rng.normal(size=(4, 3)).astype(np.float32)
    only_last = np.tile(np.array([[0.0, 0.0, 1.0]], np.float32), (4, 1))
    batch = SampleBatch({
        "obs": {"action_mask": np.ones((4, 3), np.float32), "observations": features},
        "new_obs": {"action_mask": only_last, "observations": -features},
        "actions": np.array([0, 1, 2, 0]), "rewards": np.ones(4, np.float32),
        "terminateds": np.zeros(4, bool), "weights": np.ones(4, np.float32)})
    unmasked = {"action_mask": np.ones((4, 3), np.float32), "observations": -features}
    q_next = _q(policy.target_model, unmasked)[:, 2]
    q_t = _q(policy.model, batch["obs"])[np.arange(4), batch["actions"]]
    _, info = policy.compute_gradients(batch)
    np.testing.assert_allclose(info["td_error"], q_t - (1.0 + 0.5 * q_next), rtol=1e-5,
                               atol=1e-6)


def test_postprocessing_makes_n_step_returns_and_unit_weights():
    policy = _policy(gamma=0.5, n_step=3)
    batch = SampleBatch({
        "obs": np.arange(4, dtype=np.float32)[:, None].repeat(3, axis=1),
        "new_obs": np.arange(1, 5, dtype=np.float32)[:, None].repeat(3, axis=1),
        "actions": np.zeros(4, np.int64), "rewards": np.array([1.0, 2.0, 3.0, 4.0], np.float32),
        "terminateds": np.array([False, False, False, True]),
    })
    out = postprocess_nstep_and_prio(policy, batch)
    # r_t + 0.5 r_{t+1} + 0.25 r_{t+2}, cut at the end of the episode.
    np.testing.assert_allclose(out["rewards"], [2.75, 4.5, 5.0, 4.0])
    np.testing.assert_array_equal(out["new_obs"][:, 0], [3.0, 4.0, 4.0, 4.0])
    np.testing.assert_array_equal(out["terminateds"], [False, True, True, True])
    np.testing.assert_array_equal(out["weights"], np.ones(4, np.float32))


def test_training_intensity_sets_sampling_rounds_and_updates():
    base = {"train_batch_size": 32, "rollout_fragment_length": 4, "num_envs_per_worker": 1,
            "num_workers": 0}
    assert calculate_rr_weights(dict(base, training_intensity=None)) == [1, 1]
    # The natural ratio is 32 / 4 = 8 replayed rows per sampled row.
    assert calculate_rr_weights(dict(base, training_intensity=2.0)) == [4, 1]
    assert calculate_rr_weights(dict(base, training_intensity=64.0)) == [1, 8]
    algo = DQN(config=dict(SMALL, min_sample_timesteps_per_iteration=0))
    for _ in range(5):
        algo.training_step()
    # 80 sampled steps; the fifth step (past 64) made 32 / (32 / 16) = 16 updates of 32 rows.
    assert algo._counters["num_env_steps_trained"] == 16 * 32
    algo.stop()


def test_priorities_follow_the_learners_td_errors():
    algo = DQN(config=dict(SMALL, min_sample_timesteps_per_iteration=0, training_intensity=None))
    buffer = algo.local_replay_buffer
    assert isinstance(buffer, PrioritizedReplayBuffer) and buffer.alpha == 0.6
    policy = algo.get_policy()
    seen = {}
    learn, sample = policy.learn_on_batch, buffer.sample

    def learn_and_keep(batch):
        info = learn(batch)
        seen["td_error"] = np.array(info["td_error"])
        return info

    def sample_and_keep(num_items, beta):
        seen["beta"] = beta
        seen["batch"] = sample(num_items, beta=beta)
        return seen["batch"]

    policy.learn_on_batch, buffer.sample = learn_and_keep, sample_and_keep
    for _ in range(5):
        algo.training_step()
    assert seen["beta"] == 0.4
    index = seen["batch"]["batch_indexes"]
    expected = (np.abs(seen["td_error"]) + 1e-6) ** 0.6
    leaves = buffer.get_state()["priorities"]
    # A row replayed twice keeps the priority of its last occurrence.
    last = {i: e for i, e in zip(index, expected)}
    np.testing.assert_allclose([leaves[i] for i in last], list(last.values()), rtol=1e-6)
    algo.stop()


def test_action_mask_keeps_exploration_to_allowed_arms_and_learns_the_best():
    register_toys()
    algo = DQN(config={
        "env": "MaskedBandit", "seed": 0, "gamma": 0.0, "lr": 1e-2,
        "rollout_fragment_length": 16, "num_envs_per_worker": 4,
        "num_steps_sampled_before_learning_starts": 64, "min_sample_timesteps_per_iteration": 256,
        "exploration_config": {"type": "EpsilonGreedy", "epsilon_timesteps": 512,
                               "final_epsilon": 0.02},
        "training_intensity": 8.0, "target_network_update_freq": 64,
        "model": {"fcnet_hiddens": [16]}, "hiddens": [16]})
    results = [algo.train() for _ in range(4)]
    # A masked arm would pay -10: none was ever pulled, exploring or not.
    assert min(r["episode_reward_min"] for r in results) >= 0.0
    # Lenient: the best allowed arm (pays 1) wins as epsilon decays.
    assert results[-1]["episode_reward_mean"] > 0.9 > results[0]["episode_reward_mean"]
    algo.stop()


def test_fast_iterations_on_cartpole_report_finite_q_stats():
    algo = DQN(config=dict(SMALL, lr=5e-3))
    results = [algo.train() for _ in range(3)]
    stats = [r["info"]["learner"]["default_policy"]["learner_stats"] for r in results]
    assert STATS <= set(stats[-1]) and all(np.isfinite(v) for v in stats[-1].values())
    assert results[-1]["num_env_steps_sampled"] == 3 * 128
    assert results[-1]["counters"]["num_target_updates"] >= 4
    # Lenient: the Q values grow towards CartPole's discounted returns (each step pays 1).
    assert stats[-1]["mean_q"] > stats[0]["mean_q"] + 0.5
    algo.stop()


def test_resume_continues_exactly_with_the_prioritized_buffer(tmp_path):
    uninterrupted = DQN(config=SMALL)
    for _ in range(2):
        uninterrupted.train()
    path = uninterrupted.save(tmp_path / "checkpoint")
    third = uninterrupted.train()
    restored = Algorithm.from_checkpoint(path)
    assert type(restored) is DQN
    assert _comparable(restored.train()) == _comparable(third)
    for name in ("priorities", "next_index", "num_added", "max_priority"):
        assert np.array_equal(restored.local_replay_buffer.get_state()[name],
                              uninterrupted.local_replay_buffer.get_state()[name])
    uninterrupted.stop()
    restored.stop()


def test_exports_serve_the_greedy_q_action(tmp_path):
    from savers import LitePyPolicy, SavedModelPyTFEagerPolicy
    from tfpolicy.trajectories import time_step as ts
    algo = DQN(config=dict(SMALL, min_sample_timesteps_per_iteration=96))
    algo.train()
    algo.export_policy_model(tmp_path / "saved")
    algo.export_policy_lite(tmp_path / "policy.tflite")
    saved = SavedModelPyTFEagerPolicy(str(tmp_path / "saved"))
    lite = LitePyPolicy(tmp_path / "policy.tflite")
    policy = algo.get_policy()
    for obs in np.random.default_rng(0).normal(scale=0.1, size=(5, 4)).astype(np.float32):
        q_values = policy.compute_single_action(obs, explore=False)[2]["action_dist_inputs"]
        greedy = int(np.argmax(q_values))
        assert int(algo.compute_single_action(obs)) == greedy
        assert int(saved.action(ts.restart(obs)).action) == greedy
        assert int(lite.action(ts.restart(obs)).action) == greedy
    algo.stop()


def test_config_builder_builds_dqn_with_a_prioritized_buffer():
    algo = DQNConfig().environment("CartPole-v1").training(
        replay_buffer_config={"capacity": 1000, "prioritized_replay_alpha": 0.5},
        hiddens=[8], model={"fcnet_hiddens": [8]}).debugging(seed=0).build()
    buffer = algo.local_replay_buffer
    assert isinstance(buffer, PrioritizedReplayBuffer)
    assert buffer.capacity == 1000 and buffer.alpha == 0.5
    assert algo.config["replay_buffer_config"]["prioritized_replay_beta"] == 0.4
    algo.stop()


@pytest.mark.parametrize("overrides, message", [
    ({"n_step": 0}, "'n_step': expected an integer in [1, inf), got 0"),
    ({"n_step": 20}, "'rollout_fragment_length': expected at least n_step (20), got 16"),
    ({"num_atoms": 51}, "'num_atoms': expected 1 (distributional Q-learning is not provided)"),
    ({"noisy": True}, "'noisy': expected False"),
    ({"td_error_loss_fn": "l1"}, "'td_error_loss_fn': expected one of ['huber', 'mse']"),
    ({"hiddens": [0]}, "'hiddens': expected a list of positive layer sizes, got [0]"),
    ({"training_intensity": 0}, "'training_intensity': expected a number in (0, inf) or None"),
    ({"replay_buffer_config": {"prioritized_replay_beta": 1.5}},
     "'replay_buffer_config.prioritized_replay_beta': expected a number in [0, 1], got 1.5"),
    ({"replay_buffer_config": {"prioritized_replay_alpha": 0.0}},
     "'replay_buffer_config.prioritized_replay_alpha': expected a number in (0, inf)"),
    ({"replay_buffer_config": {"prioritized_replay_eps": 0}},
     "'replay_buffer_config.prioritized_replay_eps': expected a number in (0, inf), got 0"),
    ({"replay_buffer_config": {"worker_side_prioritization": True}},
     "'replay_buffer_config.worker_side_prioritization': expected False"),
    ({"double_q": "yes"}, "'double_q': expected one of [True, False], got 'yes'"),
])
def test_bad_configs_name_the_key_and_the_allowed_range(overrides, message):
    with pytest.raises(InvalidConfigError) as error:
        DQN(config=dict(SMALL, **overrides))
    assert message in str(error.value)


def test_the_tuned_example_is_the_tuned_config():
    from tfpolicy.algorithms.tuned import load_tuned_example
    assert load_tuned_example("cartpole-dqn").full_config() == TUNED_CARTPOLE


def test_continuous_action_spaces_are_rejected():
    with pytest.raises(InvalidConfigError, match="one discrete action .* got the action space"):
        DQN(config={"env": "Pendulum-v1"})


@pytest.mark.slow
def test_dqn_solves_cartpole_with_the_tuned_example():
    from tfpolicy.algorithms.tuned import load_tuned_example
    algo = DQN(config=dict(load_tuned_example("cartpole-dqn").full_config(), seed=0))
    for _ in range(60):
        result = algo.train()
        if result["evaluation"]["episode_reward_mean"] >= 475:
            break
    assert result["evaluation"]["episode_reward_mean"] >= 475
    assert result["evaluation"]["episodes_this_iter"] == 20
    algo.stop()
