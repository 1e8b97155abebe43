"""Algorithms with `config["multiagent"]`: only the policies to train learn, the result dict
reports each policy's return, and checkpoints hold the policy specs."""

import gymnasium as gym
import numpy as np
import pytest

from tfpolicy.algorithms import PG, Algorithm
from tfpolicy.evaluation import PolicySpec
from tfpolicy.examples import AlwaysSameHeuristic, BeatLastHeuristic, RockPaperScissors

from algorithm_toys import rps_policy_mapping


def make(mapping=rps_policy_mapping):
    return PG(config={
        "env": RockPaperScissors, "seed": 0, "train_batch_size": 100,
        "rollout_fragment_length": 100, "model": {"fcnet_hiddens": [8]},
        "multiagent": {
            "policies": {"learned": PolicySpec(None, gym.spaces.Discrete(3),
                                               gym.spaces.Discrete(3), {"lr": 0.01}),
                         "always_same": PolicySpec(AlwaysSameHeuristic),
                         "beat_last": PolicySpec(BeatLastHeuristic)},
            "policy_mapping_fn": mapping, "policies_to_train": ["learned"]}})


def test_only_the_policies_to_train_learn_and_every_policy_reports_its_return():
    algo = make()
    before = algo.get_policy("learned").get_weights()
    result = algo.train()
    assert set(result["info"]["learner"]) == {"learned"}
    assert result["timesteps_total"] == 100  # env steps: 10 episodes of 10 rounds
    assert result["num_agent_steps_sampled"] == 200
    # Zero-sum: over the same episodes, player1's return is minus player2's.
    rewards = result["policy_reward_mean"]
    assert set(rewards) == {"learned", "always_same", "beat_last"}
    hist = result["hist_stats"]
    heuristic_total = sum(sum(hist.get(f"policy_{p}_reward", []))
                          for p in ("always_same", "beat_last"))
    assert sum(hist["policy_learned_reward"]) == pytest.approx(-heuristic_total)
    after = algo.get_policy("learned").get_weights()
    assert any(not np.array_equal(before[k], after[k]) for k in before)
    algo.stop()


def test_a_checkpoint_holds_the_policy_specs_and_restores_every_policy(tmp_path):
    algo = make()
    algo.train()
    path = algo.save(tmp_path / "checkpoint")
    restored = Algorithm.from_checkpoint(path)
    spec = restored.config["multiagent"]["policies"]["learned"]
    assert spec == PolicySpec(None, gym.spaces.Discrete(3), gym.spaces.Discrete(3), {"lr": 0.01})
    assert restored.config["multiagent"]["policies"]["beat_last"].policy_class is BeatLastHeuristic
    assert restored.config["multiagent"]["policy_mapping_fn"] is rps_policy_mapping
    saved, loaded = algo.get_policy("learned").get_weights(), \
        restored.get_policy("learned").get_weights()
    assert all(np.array_equal(saved[k], loaded[k]) for k in saved)
    assert restored.train()["training_iteration"] == 2
    algo.stop()
    restored.stop()


def test_a_lambda_mapping_function_cannot_be_checkpointed_and_says_why(tmp_path):
    algo = make(mapping=lambda agent_id, episode, worker, **kw: rps_policy_mapping(
        agent_id, episode, worker))
    with pytest.raises(ValueError) as info:
        algo.save(tmp_path / "checkpoint")
    message = str(info.value)
    assert "multiagent/policy_mapping_fn" in message and "module-level function" in message
    assert not (tmp_path / "checkpoint").exists()
    algo.stop()
