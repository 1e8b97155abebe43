"""PPO: the loss's parts by hand, a few fast iterations that learn, discrete and
continuous actions, recurrent models, action masks, and a slow run to 475."""

import numpy as np
import pytest
import tensorflow as tf

from tfpolicy.algorithms import PPO, PPOConfig
from tfpolicy.algorithms.ppo import PPOTFPolicy, ppo_surrogate_loss
from tfpolicy.learning.postprocessing import Postprocessing
from tfpolicy.learning.sample_batch import SampleBatch

from algorithm_toys import register_toys

FAST = {"env": "CartPole-v1", "seed": 0, "train_batch_size": 512, "sgd_minibatch_size": 128,
        "num_sgd_iter": 4, "lr": 3e-3, "num_envs_per_worker": 4, "rollout_fragment_length": 128,
        "model": {"fcnet_hiddens": [32, 32]}}

STATS = {"cur_kl_coeff", "cur_lr", "total_loss", "policy_loss", "vf_loss", "kl", "entropy",
         "entropy_coeff", "vf_explained_var"}


def test_loss_matches_the_clipped_surrogate_by_hand():
    # Two actions, logits 0 (pi = 0.5 each): with action_logp log(0.25) for the first
    # row the ratio is 2, clipped to 1.3 for a positive advantage; the second row has
    # ratio 0.5 and a negative advantage, so min(-0.5, -0.7) = -0.7 (the clip binds).
    from specs import ArraySpec, BoundedArraySpec
    policy = PPOTFPolicy(ArraySpec((1,), np.float32), BoundedArraySpec((), np.int64, 0, 1),
                         {"kl_coeff": 0.0, "model": {"fcnet_hiddens": []}})
    for variable in policy.model.variables():
        variable.assign(tf.zeros_like(variable))
    batch = {
        SampleBatch.OBS: tf.zeros([2, 1]),
        SampleBatch.ACTIONS: tf.constant([0, 1], tf.int64),
        SampleBatch.ACTION_LOGP: tf.math.log(tf.constant([0.25, 1.0])),
        SampleBatch.ACTION_DIST_INPUTS: tf.zeros([2, 2]),
        Postprocessing.ADVANTAGES: tf.constant([1.0, -1.0]),
        Postprocessing.VALUE_TARGETS: tf.constant([3.0, 1.0]),
    }
    ppo_surrogate_loss(policy, policy.model, policy.dist_class, batch)
    # surrogate: row 0 min(2, 1.3) = 1.3; row 1 min(-0.5, -0.7) = -0.7; mean -> -0.3
    assert float(policy._mean_policy_loss) == pytest.approx(-0.3, abs=1e-6)
    # values are 0: squared errors 9 and 1, under vf_clip_param 10 -> mean 5
    assert float(policy._mean_vf_loss) == pytest.approx(5.0, abs=1e-6)
    assert float(policy._mean_entropy) == pytest.approx(np.log(2.0), abs=1e-6)
    assert float(policy._total_loss) == pytest.approx(-0.3 + 5.0, abs=1e-5)


def test_fast_iterations_learn_with_rllib_stats():
    algo = PPO(config=FAST)
    results = [algo.train() for _ in range(6)]
    stats = results[-1]["info"]["learner"]["default_policy"]["learner_stats"]
    assert STATS <= set(stats)
    assert all(np.isfinite(v) for v in stats.values())
    assert results[-1]["timesteps_total"] == 6 * 512
    # Lenient: the mean return of the last iteration beats the first one's.
    assert results[-1]["episode_reward_mean"] > results[0]["episode_reward_mean"] + 10
    algo.stop()


def test_kl_coefficient_adapts_after_each_iteration():
    algo = PPO(config=dict(FAST, kl_coeff=0.2, kl_target=1e-9))
    result = algo.train()
    # The sampled KL exceeds twice the tiny target: 0.2 * 1.5.
    assert algo.get_policy().kl_coeff_val == pytest.approx(0.3)
    assert result["info"]["learner"]["default_policy"]["learner_stats"]["cur_kl_coeff"] == (
        pytest.approx(0.2))
    algo.stop()


def test_continuous_actions_on_pendulum():
    algo = PPOConfig().environment("Pendulum-v1").training(
        train_batch_size=256, sgd_minibatch_size=64, num_sgd_iter=2,
        model={"fcnet_hiddens": [16]}).debugging(seed=1).build()
    result = algo.train()
    stats = result["info"]["learner"]["default_policy"]["learner_stats"]
    assert np.isfinite(stats["total_loss"])
    obs = np.array([1.0, 0.0, 0.5], np.float32)
    action = algo.compute_single_action(obs)
    assert action.shape == (1,) and -2.0 <= float(action[0]) <= 2.0
    # normalize_actions: the policy's greedy action a in [-1, 1] scaled onto [-2, 2].
    a = algo.get_policy().compute_single_action(obs, explore=False)[0]
    np.testing.assert_allclose(action, np.clip(-2.0 + (a + 1.0) * 2.0, -2.0, 2.0), atol=1e-6)
    algo.stop()


def test_recurrent_model_trains_with_use_lstm():
    algo = PPO(config=dict(FAST, train_batch_size=256, sgd_minibatch_size=64, num_sgd_iter=2,
                           num_envs_per_worker=2, model={"use_lstm": True, "lstm_cell_size": 8,
                                                         "max_seq_len": 8,
                                                         "fcnet_hiddens": [16]}))
    result = algo.train()
    assert np.isfinite(result["info"]["learner"]["default_policy"]["learner_stats"]["total_loss"])
    policy = algo.get_policy()
    action, state, _ = algo.compute_single_action(np.zeros(4, np.float32),
                                                  policy.get_initial_state())
    assert len(state) == 2 and state[0].shape == (8,)
    algo.stop()


def test_action_mask_keeps_actions_to_the_allowed_ones_and_learns():
    register_toys()
    algo = PPO(config={"env": "MaskedBandit", "seed": 0, "train_batch_size": 256,
                       "sgd_minibatch_size": 64, "num_sgd_iter": 4, "lr": 1e-2,
                       "rollout_fragment_length": 64, "num_envs_per_worker": 4,
                       "model": {"fcnet_hiddens": [16]}})
    for _ in range(4):
        result = algo.train()
    # Every sampled action was allowed (a masked one ends the episode with -10).
    assert result["episode_reward_min"] >= 0.0
    # The best allowed arm pays 1: the mean approaches it.
    assert result["episode_reward_mean"] > 0.6
    algo.stop()


@pytest.mark.slow
def test_ppo_solves_cartpole_with_the_tuned_example():
    from tfpolicy.algorithms.tuned import load_tuned_example
    example = load_tuned_example("cartpole-ppo.yaml")
    algo = PPO(config=dict(example.full_config(), seed=0))
    for _ in range(200):
        result = algo.train()
        if result.get("evaluation", {}).get("episode_reward_mean", 0) >= 475:
            break
    assert result["evaluation"]["episode_reward_mean"] >= 475
    algo.stop()
