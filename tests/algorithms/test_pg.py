"""PG: returns-to-go by hand, the loss, a fast run that improves, and a slow run to 475."""

import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.algorithms import PG
from tfpolicy.algorithms.pg import PGTFPolicy, pg_tf_loss, post_process_advantages
from tfpolicy.learning.sample_batch import SampleBatch


def _policy(**config):
    return PGTFPolicy(ArraySpec((1,), np.float32), BoundedArraySpec((), np.int64, 0, 1),
                      dict({"model": {"fcnet_hiddens": []}}, **config))


def test_advantages_are_discounted_returns_to_go():
    policy = _policy(gamma=0.5)
    batch = SampleBatch({SampleBatch.OBS: np.zeros((3, 1), np.float32),
                         SampleBatch.ACTIONS: np.zeros(3, np.int64),
                         SampleBatch.REWARDS: np.array([1.0, 2.0, 4.0], np.float32),
                         SampleBatch.TERMINATEDS: np.array([False, False, True])})
    out = post_process_advantages(policy, batch)
    # G_2 = 4, G_1 = 2 + 0.5 * 4 = 4, G_0 = 1 + 0.5 * 4 = 3
    np.testing.assert_allclose(out["advantages"], [3.0, 4.0, 4.0])


def test_loss_is_minus_mean_logp_times_return():
    policy = _policy()
    for variable in policy.model.variables():
        variable.assign(tf.zeros_like(variable))
    batch = {SampleBatch.OBS: tf.zeros([2, 1]), SampleBatch.ACTIONS: tf.constant([0, 1], tf.int64),
             "advantages": tf.constant([2.0, 4.0])}
    loss = pg_tf_loss(policy, policy.model, policy.dist_class, batch)
    # log pi = log 0.5 for both: -mean(log 0.5 * [2, 4]) = 3 log 2
    assert float(loss) == pytest.approx(3 * np.log(2.0), rel=1e-6)


def test_fast_iterations_improve_the_return():
    algo = PG(config={"env": "CartPole-v1", "seed": 1, "lr": 0.01, "train_batch_size": 1000,
                      "rollout_fragment_length": 250, "num_envs_per_worker": 4,
                      "model": {"fcnet_hiddens": [32]}})
    results = [algo.train() for _ in range(8)]
    assert all(np.isfinite(r["info"]["learner"]["default_policy"]["learner_stats"]["policy_loss"])
               for r in results)
    assert results[-1]["episode_reward_mean"] > results[0]["episode_reward_mean"] + 10
    algo.stop()


@pytest.mark.slow
def test_pg_solves_cartpole_with_the_tuned_example():
    from tfpolicy.algorithms.tuned import load_tuned_example
    example = load_tuned_example("cartpole-pg.yaml")
    algo = PG(config=dict(example.full_config(), seed=0))
    for _ in range(500):
        result = algo.train()
        if result.get("evaluation", {}).get("episode_reward_mean", 0) >= 475:
            break
    assert result["evaluation"]["episode_reward_mean"] >= 475
    algo.stop()
