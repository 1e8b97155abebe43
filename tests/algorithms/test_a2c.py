"""A2C: the loss by hand, a fast run that improves, and a slow run to 475."""

import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.algorithms import A2C, InvalidConfigError
from tfpolicy.algorithms.a2c import A2CTFPolicy, actor_critic_loss
from tfpolicy.learning.sample_batch import SampleBatch


def test_loss_combines_policy_value_and_entropy_terms():
    policy = A2CTFPolicy(ArraySpec((1,), np.float32), BoundedArraySpec((), np.int64, 0, 1),
                         {"vf_loss_coeff": 0.5, "entropy_coeff": 0.1,
                          "model": {"fcnet_hiddens": []}})
    for variable in policy.model.variables():
        variable.assign(tf.zeros_like(variable))
    batch = {SampleBatch.OBS: tf.zeros([2, 1]), SampleBatch.ACTIONS: tf.constant([0, 1], tf.int64),
             "advantages": tf.constant([1.0, 3.0]), "value_targets": tf.constant([2.0, 4.0])}
    loss = actor_critic_loss(policy, policy.model, policy.dist_class, batch)
    pi_loss = -np.log(0.5) * 2.0          # -mean(log 0.5 * [1, 3])
    vf_loss = 0.5 * (4.0 + 16.0) / 2      # values are 0
    entropy = np.log(2.0)
    assert float(policy.pi_loss) == pytest.approx(pi_loss, rel=1e-6)
    assert float(policy.vf_loss) == pytest.approx(vf_loss, rel=1e-6)
    assert float(loss) == pytest.approx(pi_loss + 0.5 * vf_loss - 0.1 * entropy, rel=1e-6)


def test_fast_iterations_improve_the_return():
    algo = A2C(config={"env": "CartPole-v1", "seed": 2, "lr": 1e-2, "lambda": 0.95,
                       "train_batch_size": 400, "rollout_fragment_length": 50,
                       "num_envs_per_worker": 8, "model": {"fcnet_hiddens": [32]}})
    results = [algo.train() for _ in range(20)]
    stats = results[-1]["info"]["learner"]["default_policy"]["learner_stats"]
    assert {"policy_loss", "vf_loss", "policy_entropy", "vf_explained_var"} <= set(stats)
    # The mean over the last 100 episodes (it lags): about 18 at first, 54 after 8,000 steps.
    assert results[-1]["episode_reward_mean"] > results[0]["episode_reward_mean"] + 20
    algo.stop()


def test_negative_entropy_coeff_is_rejected():
    with pytest.raises(InvalidConfigError, match=r"'entropy_coeff': expected a number in \[0"):
        A2C(config={"env": "CartPole-v1", "entropy_coeff": -0.1})


@pytest.mark.slow
def test_a2c_solves_cartpole_with_the_tuned_example():
    from tfpolicy.algorithms.tuned import load_tuned_example
    example = load_tuned_example("cartpole-a2c.yaml")
    algo = A2C(config=dict(example.full_config(), seed=0))
    for _ in range(1000):
        result = algo.train()
        if result.get("evaluation", {}).get("episode_reward_mean", 0) >= 475:
            break
    assert result["evaluation"]["episode_reward_mean"] >= 475
    algo.stop()
