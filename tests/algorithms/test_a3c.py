"""A3C: the defaults, the local (num_workers=0) execution by hand, a fast run that improves,
and the multi-agent and worker config errors shared by every algorithm. The remote
workers are tested in tests/evaluation/test_ray.py."""

import numpy as np
import pytest

from tfpolicy.algorithms import A3C, PG, PPO, InvalidConfigError
from tfpolicy.evaluation import PolicySpec


def test_defaults_are_rllibs():
    config = A3C.get_default_config()
    assert (config["num_workers"], config["rollout_fragment_length"], config["lr"],
            config["grads_per_step"]) == (2, 10, 0.0001, 100)


def test_a_local_step_applies_grads_per_step_gradients_of_one_fragment_each():
    algo = A3C(config={"env": "CartPole-v1", "seed": 0, "num_workers": 0,
                       "grads_per_step": 3, "num_envs_per_worker": 2,
                       "model": {"fcnet_hiddens": [8]}})
    before = algo.get_policy().get_weights()
    result = algo.train()
    # 3 gradients x (10 steps x 2 environments).
    assert result["timesteps_this_iter"] == 60 and result["num_env_steps_trained"] == 60
    assert algo.optimizer.num_gradients_applied == 3
    assert algo.get_policy().global_timestep == 60
    changed = [not np.array_equal(a, b) for a, b in
               zip(before.values(), algo.get_policy().get_weights().values())]
    assert any(changed)
    algo.stop()


def test_fast_local_iterations_improve_the_return():
    algo = A3C(config={"env": "CartPole-v1", "seed": 1, "num_workers": 0, "lr": 5e-3,
                       "lambda": 0.95, "grads_per_step": 40, "rollout_fragment_length": 25,
                       "num_envs_per_worker": 4, "model": {"fcnet_hiddens": [32]}})
    results = [algo.train() for _ in range(10)]
    # 4,000 steps an iteration; the 100-episode mean starts near 20.
    assert results[-1]["episode_reward_mean"] > results[0]["episode_reward_mean"] + 20
    algo.stop()


def test_grads_per_step_below_one_is_rejected():
    with pytest.raises(InvalidConfigError, match=r"'grads_per_step': expected an integer in \[1"):
        A3C(config={"env": "CartPole-v1", "grads_per_step": 0})


@pytest.mark.parametrize("key, replacement", [
    ("sample_batch_size", "rollout_fragment_length"),
    ("timesteps_per_iteration", "min_sample_timesteps_per_iteration"),
])
def test_a_deprecated_key_names_its_replacement(key, replacement):
    with pytest.raises(InvalidConfigError) as info:
        PG(config={"env": "CartPole-v1", key: 100})
    assert str(info.value) == (f"PG config: key {key!r} is deprecated; use {replacement!r} "
                               f"instead")


def test_the_old_policy_graphs_key_names_multiagent_policies():
    with pytest.raises(InvalidConfigError) as info:
        PG(config={"env": "CartPole-v1", "multiagent": {"policy_graphs": {}}})
    assert str(info.value) == ("PG config: key 'multiagent.policy_graphs' is deprecated; "
                               "use 'multiagent.policies' instead")


def test_policies_to_train_must_name_known_policies():
    with pytest.raises(InvalidConfigError) as info:
        PG(config={"env": "CartPole-v1", "multiagent": {
            "policies": {"a": PolicySpec(), "b": PolicySpec()}, "policies_to_train": ["c"]}})
    assert str(info.value) == ("PG config key 'multiagent.policies_to_train': ['c'] not in "
                               "multiagent.policies ['a', 'b']")


def test_a_mapping_function_that_is_not_callable_is_named():
    with pytest.raises(InvalidConfigError, match="'multiagent.policy_mapping_fn': expected a "
                                                 "function"):
        PPO(config={"env": "CartPole-v1", "multiagent": {"policy_mapping_fn": "shared"}})


def test_count_steps_by_is_checked():
    with pytest.raises(InvalidConfigError) as info:
        PG(config={"env": "CartPole-v1", "multiagent": {"count_steps_by": "episodes"}})
    assert str(info.value) == ("PG config key 'multiagent.count_steps_by': expected one of "
                               "['env_steps', 'agent_steps'], got 'episodes'")


def test_negative_num_workers_is_rejected_naming_the_range():
    with pytest.raises(InvalidConfigError) as info:
        PG(config={"env": "CartPole-v1", "num_workers": -1})
    assert str(info.value) == "PG config key 'num_workers': expected an integer in [0, inf), got -1"
