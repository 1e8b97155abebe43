"""Tests of `suite_gym.load` / `wrap_env` on gymnasium environments."""

import gymnasium
import numpy as np
import pytest

from tfpolicy.environments import GymnasiumEnvironment, RunStats, TimeLimit, suite_gym


def test_load_applies_the_registered_limit_with_our_time_limit():
    env = suite_gym.load("CartPole-v1", discount=0.9)
    assert isinstance(env, TimeLimit) and env.duration == 500
    gym_env = env.wrapped_env().gym
    assert gym_env.spec.max_episode_steps is None  # no gymnasium TimeLimit inside
    env.reset()
    assert float(env.step(0).discount) == pytest.approx(0.9)


def test_max_episode_steps_overrides_and_zero_disables():
    short = suite_gym.load("CartPole-v1", max_episode_steps=3)
    short.reset()
    steps = [short.step(0) for _ in range(3)]
    assert [int(s.step_type) for s in steps] == [1, 1, 2] or steps[-1].is_last()
    unlimited = suite_gym.load("CartPole-v1", max_episode_steps=0)
    assert isinstance(unlimited, GymnasiumEnvironment)


def test_wrappers_apply_in_tf_agents_order():
    seen = []

    def gym_wrapper(gym_env):
        seen.append(("gym", type(gym_env).__name__))
        return gymnasium.wrappers.RecordEpisodeStatistics(gym_env)

    env = suite_gym.load("CartPole-v1", max_episode_steps=5, gym_env_wrappers=[gym_wrapper],
                         env_wrappers=[RunStats])
    assert seen == [("gym", "OrderEnforcing")]
    assert isinstance(env, RunStats) and isinstance(env.wrapped_env(), TimeLimit)
    assert isinstance(env.wrapped_env().wrapped_env().gym, gymnasium.wrappers.RecordEpisodeStatistics)


def test_spec_dtype_map_and_render_kwargs():
    env = suite_gym.load("CartPole-v1",
                         spec_dtype_map={gymnasium.spaces.Discrete: np.int32,
                                         gymnasium.spaces.Box: np.float64},
                         render_kwargs={"render_mode": "rgb_array"})
    assert env.action_spec().dtype == np.int32 and env.observation_spec().dtype == np.float64
    first = env.reset()
    assert first.observation.dtype == np.float64
    env.step(np.int32(1))
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    with pytest.raises(ValueError, match="when the env is made"):
        suite_gym.wrap_env(gymnasium.make("CartPole-v1"), render_kwargs={"render_mode": "human"})
