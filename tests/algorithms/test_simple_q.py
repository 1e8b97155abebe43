"""SimpleQ: the Q model, the loss by hand, the target network, the replay-driven training
step, exact resume with the replay buffer, and config errors."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.algorithms import Algorithm, InvalidConfigError
from tfpolicy.algorithms.replay_buffers import ReplayBuffer
from tfpolicy.algorithms.simple_q import (QModel, SimpleQ, SimpleQConfig, SimpleQTFPolicy,
                                          huber_loss)
from tfpolicy.learning.sample_batch import SampleBatch

OBS = ArraySpec((3,), np.float32)
ACTIONS = BoundedArraySpec((), np.int64, 0, 1)
SMALL = {"env": "CartPole-v1", "seed": 2, "num_steps_sampled_before_learning_starts": 64,
         "min_sample_timesteps_per_iteration": 128, "rollout_fragment_length": 16,
         "target_network_update_freq": 64, "replay_buffer_config": {"capacity": 500},
         "model": {"fcnet_hiddens": [16]}}
STATS = {"cur_lr", "q_loss", "mean_q", "min_q", "max_q", "mean_td_error"}


def _comparable(result):
    return json.loads(json.dumps({k: v for k, v in result.items()
                                  if k not in ("time_this_iter_s", "time_total_s")},
                                 default=float))


def _batch(rows=6, seed=0):
    rng = np.random.default_rng(seed)
    return SampleBatch({
        "obs": rng.normal(size=(rows, 3)).astype(np.float32),
        "new_obs": rng.normal(size=(rows, 3)).astype(np.float32),
        "actions": rng.integers(0, 2, rows),
        "rewards": rng.normal(size=rows).astype(np.float32),
        "terminateds": np.arange(rows) % 3 == 0,
    })


def _q(model, obs):
    return model({"obs": tf.constant(obs)})[0].numpy()


def test_huber_loss_is_quadratic_inside_delta_and_linear_outside():
    values = huber_loss(tf.constant([0.5, -0.5, 2.0, -3.0])).numpy()
    np.testing.assert_allclose(values, [0.125, 0.125, 1.5, 2.5])


def test_q_model_has_one_value_per_action_from_the_fcnet_features():
    model = QModel(OBS, BoundedArraySpec((), np.int64, 0, 4), 5, {"fcnet_hiddens": [8, 6]},
                   "q", q_hiddens=[7])
    assert _q(model, np.zeros((2, 3), np.float32)).shape == (2, 5)
    shapes = {v.name: tuple(v.shape) for v in model.variables()}
    assert shapes["fc_1/kernel:0"] == (3, 8) and shapes["fc_2/kernel:0"] == (8, 6)
    assert shapes["hidden_1/kernel:0"] == (6, 7) and shapes["action_value/kernel:0"] == (7, 5)


def test_q_model_pushes_masked_actions_to_float32_min():
    obs_space = {"action_mask": BoundedArraySpec((3,), np.float32, 0.0, 1.0),
                 "observations": ArraySpec((2,), np.float32)}
    model = QModel(obs_space, BoundedArraySpec((), np.int64, 0, 2), 3, {"fcnet_hiddens": [4]},
                   "q")
    q, _ = model({"obs": {"action_mask": tf.constant([[1.0, 0.0, 1.0]]),
                          "observations": tf.ones([1, 2])}})
    q = q.numpy()[0]
    assert q[1] <= np.finfo(np.float32).min / 2
    assert abs(q[0]) < 10 and abs(q[2]) < 10


def test_loss_and_td_errors_match_the_bellman_targets_by_hand():
    keras.utils.set_random_seed(0)
    policy = SimpleQTFPolicy(OBS, ACTIONS, {"model": {"fcnet_hiddens": [8]}, "gamma": 0.9,
                                           "seed": 0})
    # A target network different from the online one, so the test tells them apart.
    for variable in policy.target_model.variables():
        variable.assign(variable * 0.5 + 0.1)
    batch = _batch()
    q_t, q_tp1 = _q(policy.model, batch["obs"]), _q(policy.target_model, batch["new_obs"])
    rows = np.arange(len(batch))
    target = batch["rewards"] + 0.9 * np.where(batch["terminateds"], 0.0, q_tp1.max(axis=1))
    td_error = q_t[rows, batch["actions"]] - target
    grads, info = policy.compute_gradients(batch)
    np.testing.assert_allclose(info["td_error"], td_error, rtol=1e-5, atol=1e-6)
    expected_loss = np.mean(np.where(np.abs(td_error) < 1, 0.5 * td_error ** 2,
                                     np.abs(td_error) - 0.5))
    stats = info["learner_stats"]
    assert stats["q_loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert stats["mean_q"] == pytest.approx(q_t[rows, batch["actions"]].mean(), rel=1e-5)
    assert stats["mean_td_error"] == pytest.approx(td_error.mean(), rel=1e-4, abs=1e-6)
    assert len(grads) == len(policy.model.trainable_variables())


def test_target_network_copies_the_model_on_update_target():
    policy = SimpleQTFPolicy(OBS, ACTIONS, {"model": {"fcnet_hiddens": [8]}, "lr": 0.05,
                                           "seed": 0})
    obs = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(_q(policy.model, obs), _q(policy.target_model, obs))
    policy.learn_on_batch(_batch())
    assert not np.allclose(_q(policy.model, obs), _q(policy.target_model, obs))
    policy.update_target()
    np.testing.assert_allclose(_q(policy.model, obs), _q(policy.target_model, obs))


def test_optimizer_uses_adam_epsilon_and_grad_clip_from_the_config():
    policy = SimpleQTFPolicy(OBS, ACTIONS, {"model": {"fcnet_hiddens": [8]},
                                           "adam_epsilon": 1e-3})
    assert policy._optimizer.epsilon == 1e-3
    assert policy.config["grad_clip"] == 40.0 and policy.config["lr"] == 5e-4


def test_a_custom_keras_model_gives_the_features_and_is_cloned_for_the_target():
    network = keras.Sequential([keras.layers.Dense(12, activation="relu")])
    policy = SimpleQTFPolicy(OBS, ACTIONS, {"model": {"custom_model": network,
                                                     "fcnet_hiddens": [12]}})
    assert _q(policy.model, np.zeros((2, 3), np.float32)).shape == (2, 2)
    online = {id(v) for v in policy.model.variables()}
    assert len(online) == 4 and not online & {id(v) for v in policy.target_model.variables()}


def test_continuous_actions_are_rejected_by_name():
    with pytest.raises(ValueError, match="one discrete action"):
        SimpleQTFPolicy(OBS, BoundedArraySpec((2,), np.float32, -1.0, 1.0), {})


def test_training_step_fills_the_buffer_and_learns_once_started():
    algo = SimpleQ(config=dict(SMALL, min_sample_timesteps_per_iteration=0))
    assert isinstance(algo.local_replay_buffer, ReplayBuffer)
    assert algo.training_step() == {}  # 16 steps sampled: learning has not started
    assert len(algo.local_replay_buffer) == 16
    for _ in range(4):
        info = algo.training_step()
    assert algo._counters["num_env_steps_sampled"] == 80
    assert algo._counters["num_env_steps_trained"] == 32  # one batch of 32 after step 64
    assert STATS <= set(info["default_policy"]["learner_stats"])
    assert "td_error" not in info["default_policy"]  # priorities only, kept out of results
    algo.stop()


def test_fast_iterations_report_finite_q_stats_and_update_the_target():
    algo = SimpleQ(config=dict(SMALL, lr=5e-3))
    results = [algo.train() for _ in range(3)]
    stats = results[-1]["info"]["learner"]["default_policy"]["learner_stats"]
    first = results[0]["info"]["learner"]["default_policy"]["learner_stats"]
    assert STATS <= set(stats) and all(np.isfinite(v) for v in stats.values())
    counters = results[-1]["counters"]
    assert counters["num_env_steps_sampled"] == 3 * 128
    # Learning starts once more than 64 steps are in (at 80, fragments of 16), and the
    # target is copied when 64 more were sampled: at 80, 144, 208, 272 and 336.
    assert counters["num_target_updates"] == 5 and counters["last_target_update_ts"] == 336
    # Lenient: the Q values start near 0 and grow towards CartPole's discounted returns
    # (every step pays 1).
    assert stats["mean_q"] > first["mean_q"] + 0.25
    algo.stop()


def test_resume_continues_exactly_with_the_replay_buffer(tmp_path):
    uninterrupted = SimpleQ(config=SMALL)
    for _ in range(2):
        uninterrupted.train()
    path = uninterrupted.save(tmp_path / "checkpoint")
    third = uninterrupted.train()
    restored = Algorithm.from_checkpoint(path)
    assert type(restored) is SimpleQ and len(restored.local_replay_buffer) == 256
    assert _comparable(restored.train()) == _comparable(third)
    np.testing.assert_array_equal(
        restored.local_replay_buffer.sample(8)["obs"],
        uninterrupted.local_replay_buffer.sample(8)["obs"])
    uninterrupted.stop()
    restored.stop()


def test_a_checkpoint_without_the_buffer_restores_an_empty_one(tmp_path):
    algo = SimpleQ(config=dict(SMALL, store_buffer_in_checkpoints=False))
    algo.train()
    restored = Algorithm.from_checkpoint(algo.save(tmp_path / "checkpoint"))
    assert len(restored.local_replay_buffer) == 0
    algo.stop()
    restored.stop()


def test_config_builder_merges_replay_buffer_config():
    config = SimpleQConfig().environment("CartPole-v1").training(
        lr=1e-3, replay_buffer_config={"capacity": 1000}).to_dict()
    assert config["replay_buffer_config"] == {"type": "MultiAgentReplayBuffer",
                                              "capacity": 1000, "replay_sequence_length": 1}
    assert config["lr"] == 1e-3 and config["exploration_config"]["type"] == "EpsilonGreedy"


@pytest.mark.parametrize("overrides, message", [
    ({"target_network_update_freq": -1},
     "'target_network_update_freq': expected an integer in [0, inf), got -1"),
    ({"tau": 0.0}, "'tau': expected a number in (0, 1], got 0.0"),
    ({"adam_epsilon": 0}, "'adam_epsilon': expected a number in (0, inf), got 0"),
    ({"num_steps_sampled_before_learning_starts": 1.5},
     "'num_steps_sampled_before_learning_starts': expected an integer"),
    ({"replay_buffer_config": {"capacity": 0}},
     "'replay_buffer_config.capacity': expected an integer in [1, inf), got 0"),
    ({"replay_buffer_config": {"capacty": 10}},
     "unknown key 'replay_buffer_config.capacty'; did you mean 'capacity'?"),
    ({"replay_buffer_config": {"type": "EpisodeReplayBuffer"}},
     "'replay_buffer_config.type': expected one of ['MultiAgentPrioritizedReplayBuffer'"),
    ({"replay_buffer_config": {"replay_sequence_length": 20}},
     "'replay_buffer_config.replay_sequence_length': expected an integer in [1, 1]"),
    ({"target_network_update_frequency": 10},
     "unknown key 'target_network_update_frequency'; did you mean "
     "'target_network_update_freq'?"),
])
def test_bad_configs_name_the_key_and_the_allowed_range(overrides, message):
    with pytest.raises(InvalidConfigError) as error:
        SimpleQ(config=dict(SMALL, **overrides))
    assert message in str(error.value)
