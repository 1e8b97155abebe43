"""Config dicts: merged over the defaults, unknown keys named with close matches,
values checked against their ranges, and the chained builder."""

import pytest

from tfpolicy.algorithms import PPO, PPOConfig, InvalidConfigError
from tfpolicy.algorithms.algorithm_config import (AlgorithmConfig, check_choice,
                                                  check_known_keys, check_range, merge_config)


def test_merge_config_merges_nested_dicts_key_by_key():
    defaults = {"lr": 0.1, "model": {"fcnet_hiddens": [256, 256], "use_lstm": False}}
    merged = merge_config(defaults, {"model": {"use_lstm": True}})
    assert merged == {"lr": 0.1, "model": {"fcnet_hiddens": [256, 256], "use_lstm": True}}
    assert defaults["model"]["use_lstm"] is False  # the defaults are left alone


def test_merge_config_replaces_env_config_whole():
    merged = merge_config({"env_config": {"a": 1}}, {"env_config": {"b": 2}})
    assert merged["env_config"] == {"b": 2}


def test_unknown_key_names_it_and_its_closest_matches():
    with pytest.raises(InvalidConfigError, match=r"PPO config: unknown key 'clip_parm'; did you "
                                                 r"mean 'clip_param' or 'vf_clip_param'\?"):
        PPO.merged_config({"clip_parm": 0.2, "env": "CartPole-v1"})


def test_unknown_nested_model_key_is_named_with_its_path():
    with pytest.raises(InvalidConfigError, match=r"unknown key 'model.fcnet_hidden'; did you "
                                                 r"mean 'fcnet_hiddens'"):
        PPO.merged_config({"model": {"fcnet_hidden": [64]}, "env": "CartPole-v1"})


def test_unknown_key_without_close_match_says_so():
    with pytest.raises(InvalidConfigError, match="no known key is close"):
        check_known_keys({"zzzzzz": 1}, {"lr": 0.1}, owner="PG")


@pytest.mark.parametrize("key, value, expected", [
    ("lr", -0.1, r"PPO config key 'lr': expected a number in \[0, inf\), got -0.1"),
    ("clip_param", 0.0, r"PPO config key 'clip_param': expected a number in \(0, inf\), got 0.0"),
    ("gamma", 1.5, r"'gamma': expected a number in \[0, 1\], got 1.5"),
    ("train_batch_size", 2.5, r"'train_batch_size': expected an integer in \[1, inf\), got 2.5"),
    ("lambda", -1, r"'lambda': expected a number in \[0, 1\], got -1"),
    ("num_workers", -2, r"'num_workers': expected an integer in \[0, inf\)"),
    ("evaluation_num_workers", 2, r"'evaluation_num_workers': expected an integer in \[0, 0\]"),
])
def test_invalid_value_names_the_key_and_the_allowed_range(key, value, expected):
    with pytest.raises(InvalidConfigError, match=expected):
        PPO.merged_config({key: value, "env": "CartPole-v1"})


def test_invalid_choice_lists_the_allowed_values():
    with pytest.raises(InvalidConfigError, match=r"'batch_mode': expected one of "
                                                 r"\['truncate_episodes', 'complete_episodes'\], "
                                                 r"got 'whole'"):
        PPO.merged_config({"batch_mode": "whole", "env": "CartPole-v1"})


def test_missing_env_is_an_error_naming_the_key():
    with pytest.raises(InvalidConfigError, match="config key 'env'"):
        PPO.merged_config({})


def test_check_range_reads_dotted_paths_and_allows_none():
    check_range({"replay": {"capacity": 10}}, "replay.capacity", 1, integer=True)
    check_range({"x": None}, "x", 0, allow_none=True)
    with pytest.raises(InvalidConfigError, match=r"'replay.capacity': expected an integer in "
                                                 r"\[1, inf\), got 0"):
        check_range({"replay": {"capacity": 0}}, "replay.capacity", 1, integer=True)
    with pytest.raises(InvalidConfigError, match="got True"):
        check_range({"x": True}, "x", 0)  # a bool is not a number here


def test_check_choice_accepts_a_listed_value():
    check_choice({"mode": "a"}, "mode", ["a", "b"])


def test_builder_sets_keys_and_builds_the_same_dict_as_the_constructor():
    builder = (PPOConfig().environment("CartPole-v1").training(lr=3e-4, num_sgd_iter=5)
               .rollouts(num_envs_per_worker=8).debugging(seed=3))
    config = builder.to_dict()
    assert config["lr"] == 3e-4 and config["num_sgd_iter"] == 5
    assert config["num_envs_per_worker"] == 8 and config["seed"] == 3
    assert config["env"] == "CartPole-v1" and builder.lr == 3e-4
    assert config == PPO.merged_config({"env": "CartPole-v1", "lr": 3e-4, "num_sgd_iter": 5,
                                        "num_envs_per_worker": 8, "seed": 3})


def test_builder_accepts_rllib_newer_argument_names():
    config = PPOConfig().rollouts(num_rollout_workers=0).to_dict()
    assert config["num_workers"] == 0


def test_builder_rejects_an_unknown_key_at_once():
    with pytest.raises(InvalidConfigError, match="did you mean 'sgd_minibatch_size'"):
        PPOConfig().training(sgd_minibatch_sise=64)


def test_builder_needs_an_algorithm_class():
    with pytest.raises(TypeError, match="needs an algorithm class"):
        AlgorithmConfig()
