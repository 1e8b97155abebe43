"""Tests for tfpolicy.learning.exploration: the epsilon schedule, the config form, and
StochasticSampling / EpsilonGreedy in both acting runtimes of DynamicTFPolicy."""

import gymnasium as gym
import numpy as np
import pytest

from tfpolicy.learning import build_tf_policy
from tfpolicy.learning import exploration
from tfpolicy.learning._lite_acting_dists import random_allowed_index

Policy = build_tf_policy("ExplorePolicy", loss_fn=lambda policy, model, dist_class, batch: 0.0)
MODEL = {"fcnet_hiddens": [8]}
MASKED_OBS = gym.spaces.Dict({"obs": gym.spaces.Box(-1, 1, (3,)),
                              "action_mask": gym.spaces.Box(0, 1, (4,))})
RUNTIMES = ["tf", "lite"]


def greedy_config(initial=1.0, final=0.0, steps=100, **kwargs):
    return {"type": "EpsilonGreedy", "initial_epsilon": initial, "final_epsilon": final,
            "epsilon_timesteps": steps, **kwargs}


def masked_policy(runtime, exploration_config, seed=3):
    return Policy(MASKED_OBS, gym.spaces.Discrete(4),
                  {"model": MODEL, "seed": seed, "acting_runtime": runtime,
                   "exploration_config": exploration_config})


def masked_batch(n, mask=(1, 0, 1, 1)):
    return {"obs": np.zeros((n, 3), np.float32),
            "action_mask": np.tile(np.asarray(mask, np.float32), (n, 1))}


# ---- the schedule and the config form ------------------------------------------------------------

def test_epsilon_schedule_is_linear_after_the_warmup():
    e = exploration.EpsilonGreedy(initial_epsilon=1.0, final_epsilon=0.2, warmup_timesteps=10,
                                  epsilon_timesteps=40)
    # 1.0 until t = 10, then 1.0 - 0.8 (t - 10) / 40 until t = 50, then 0.2.
    assert [e.epsilon(t) for t in (0, 10, 20, 30, 50, 10**6)] == pytest.approx(
        [1.0, 1.0, 0.8, 0.6, 0.2, 0.2])


def test_epsilon_schedule_defaults_are_rllibs():
    e = exploration.EpsilonGreedy()
    assert (e.initial_epsilon, e.final_epsilon, e.warmup_timesteps, e.epsilon_timesteps) == (
        1.0, 0.05, 0, 100_000)
    assert e.epsilon(50_000) == pytest.approx(0.525)


def test_zero_epsilon_timesteps_jumps_to_the_final_value():
    e = exploration.EpsilonGreedy(initial_epsilon=0.9, final_epsilon=0.1, epsilon_timesteps=0)
    assert (e.epsilon(0), e.epsilon(1)) == (0.9, 0.1)


def test_from_config_builds_the_named_class_with_its_arguments():
    e = exploration.from_config(greedy_config(0.5, 0.25, 8))
    assert isinstance(e, exploration.EpsilonGreedy)
    assert e.get_state(4) == {"cur_epsilon": pytest.approx(0.375)}
    assert isinstance(exploration.from_config({"type": exploration.StochasticSampling}),
                      exploration.StochasticSampling)


def test_from_config_unknown_type_names_the_key_and_the_choices():
    with pytest.raises(ValueError, match=r"exploration_config.type must be one of "
                                         r"\['EpsilonGreedy', 'StochasticSampling'\], got 'Soft"):
        exploration.from_config({"type": "SoftQ"})


def test_from_config_unknown_argument_names_it_and_the_allowed_ones():
    with pytest.raises(ValueError, match=r"exploration_config.epsilon: EpsilonGreedy takes no "
                                         r"argument 'epsilon'; it takes \['initial_epsilon'"):
        exploration.from_config({"type": "EpsilonGreedy", "epsilon": 0.1})


@pytest.mark.parametrize("kwargs, key", [({"initial_epsilon": 1.5}, "initial_epsilon"),
                                         ({"final_epsilon": -0.1}, "final_epsilon"),
                                         ({"epsilon_timesteps": -1}, "epsilon_timesteps"),
                                         ({"warmup_timesteps": 2.5}, "warmup_timesteps")])
def test_out_of_range_arguments_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=f"exploration_config.{key} must be"):
        exploration.EpsilonGreedy(**kwargs)


def test_policy_exploration_config_errors_name_the_key():
    with pytest.raises(ValueError, match="exploration_config.type"):
        Policy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2),
               {"model": MODEL, "exploration_config": {"type": "Curiosity"}})


def test_epsilon_greedy_refuses_continuous_actions():
    with pytest.raises(ValueError, match="EpsilonGreedy needs discrete actions .* DiagGaussian"):
        Policy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Box(-1, 1, (2,)),
               {"model": MODEL, "exploration_config": greedy_config()})


# ---- the numpy draw among allowed actions --------------------------------------------------------

def test_random_allowed_index_is_uniform_over_the_allowed_actions():
    low = np.finfo(np.float32).min
    inputs = np.tile(np.array([[0.5, low, 3.0, -2.0]], np.float32), (6000, 1))
    counts = np.bincount(random_allowed_index(inputs, np.random.default_rng(0)), minlength=4)
    assert counts[1] == 0
    np.testing.assert_allclose(counts[[0, 2, 3]] / 6000, 1 / 3, atol=0.03)


def test_random_allowed_index_one_row_draws_among_the_allowed_actions():
    low = np.finfo(np.float32).min
    rng = np.random.default_rng(2)
    row = np.array([[0.5, low, 3.0]], np.float32)
    draws = [int(random_allowed_index(row, rng)[0]) for _ in range(600)]
    assert set(draws) == {0, 2}
    assert np.mean(np.array(draws) == 0) == pytest.approx(0.5, abs=0.07)


def test_random_allowed_index_draws_among_all_when_none_is_allowed():
    low = np.finfo(np.float32).min
    inputs = np.full((3000, 3), low, np.float32)
    counts = np.bincount(random_allowed_index(inputs, np.random.default_rng(1)), minlength=3)
    np.testing.assert_allclose(counts / 3000, 1 / 3, atol=0.04)


# ---- EpsilonGreedy in both runtimes --------------------------------------------------------------

@pytest.mark.parametrize("runtime", RUNTIMES)
def test_epsilon_one_draws_uniformly_among_allowed_actions(runtime):
    policy = masked_policy(runtime, greedy_config(1.0, 1.0))
    actions, _, extra = policy.compute_actions(masked_batch(1200), explore=True)
    counts = np.bincount(actions, minlength=4)
    assert counts[1] == 0
    np.testing.assert_allclose(counts[[0, 2, 3]] / 1200, 1 / 3, atol=0.05)
    # RLlib's EpsilonGreedy reports logp 0 (prob 1) for every row.
    np.testing.assert_array_equal(extra["action_logp"], np.zeros(1200, np.float32))
    np.testing.assert_array_equal(extra["action_prob"], np.ones(1200, np.float32))
    assert policy.acting_runtime == runtime


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_epsilon_follows_the_timestep_argument(runtime):
    policy = masked_policy(runtime, greedy_config(1.0, 0.0, 100))
    batch = masked_batch(1000)
    greedy, _, _ = policy.compute_actions(batch, explore=False)
    at_end, _, _ = policy.compute_actions(batch, explore=True, timestep=100)
    np.testing.assert_array_equal(at_end, greedy)
    # At t = 50, epsilon = 0.5: a row is greedy when not chosen (1/2) or when the
    # random draw among 3 allowed actions hits the greedy one (1/2 * 1/3).
    halfway, _, _ = policy.compute_actions(batch, explore=True, timestep=50)
    assert np.mean(halfway == greedy) == pytest.approx(2 / 3, abs=0.06)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_epsilon_greedy_single_action_respects_the_mask(runtime):
    policy = masked_policy(runtime, greedy_config(1.0, 1.0))
    obs = {"obs": np.zeros(3, np.float32), "action_mask": np.array([0, 0, 1, 0], np.float32)}
    for _ in range(10):
        action, state, extra = policy.compute_single_action(obs, explore=True)
        assert int(action) == 2 and state == [] and float(extra["action_prob"]) == 1.0


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_explore_false_is_greedy_whatever_epsilon(runtime):
    policy = masked_policy(runtime, greedy_config(1.0, 1.0))
    batch = masked_batch(50)
    greedy, _, extra = policy.compute_actions(batch, explore=False)
    logits = extra["action_dist_inputs"]
    np.testing.assert_array_equal(greedy, np.argmax(logits, axis=1))


def test_tf_runtime_feeds_epsilon_without_a_new_trace():
    policy = masked_policy("tf", greedy_config(1.0, 0.0, 100))
    batch = masked_batch(4)
    for t in (0, 30, 60, 90):
        policy.compute_actions(batch, explore=True, timestep=t)
    assert len(policy._act_functions) == 1


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_epsilon_greedy_multi_discrete_explores_each_element(runtime):
    policy = Policy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.MultiDiscrete([2, 3]),
                    {"model": MODEL, "seed": 0, "acting_runtime": runtime,
                     "exploration_config": greedy_config(1.0, 1.0)})
    actions, _, _ = policy.compute_actions(np.zeros((900, 3), np.float32), explore=True)
    assert actions.shape == (900, 2)
    np.testing.assert_allclose(np.bincount(actions[:, 0], minlength=2) / 900, 1 / 2, atol=0.06)
    np.testing.assert_allclose(np.bincount(actions[:, 1], minlength=3) / 900, 1 / 3, atol=0.06)


def test_get_exploration_state_reports_epsilon_at_the_global_timestep():
    policy = masked_policy("lite", greedy_config(1.0, 0.0, 10))
    assert policy.get_exploration_state() == {"cur_epsilon": 1.0}
    policy.compute_actions(masked_batch(4), explore=True)
    assert policy.global_timestep == 4
    assert policy.get_exploration_state() == {"cur_epsilon": pytest.approx(0.6)}


def test_stochastic_sampling_has_no_exploration_state():
    policy = Policy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2), {"model": MODEL})
    assert isinstance(policy.exploration, exploration.StochasticSampling)
    assert policy.get_exploration_state() == {}
