"""Tests of `validate_py_environment` and `get_tf_env`."""

import numpy as np
import pytest

from env_toys import Counter
from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments import (BatchedPyEnvironment, PyEnvironment, RandomTFEnvironment,
                                   TFPyEnvironment, get_tf_env, validate_py_environment)
from tfpolicy.trajectories import time_step as ts


class Masked(PyEnvironment):
    """Observation (value, mask): only action 2 is allowed; any other raises."""

    def __init__(self):
        super().__init__()
        self.steps = 0

    def observation_spec(self):
        return (ArraySpec((), np.float32), ArraySpec((3,), np.int32))

    def action_spec(self):
        return BoundedArraySpec((), np.int64, 0, 2)

    def _obs(self):
        return (np.float32(0), np.array([0, 0, 1], np.int32))

    def _reset(self):
        return ts.restart(self._obs())

    def _step(self, action):
        if int(action) != 2:
            raise ValueError(f"action {action} is masked out")
        self.steps += 1
        return ts.termination(self._obs(), 1.0)


def test_validate_plays_the_requested_number_of_episodes():
    env = Counter(3)
    validate_py_environment(env, episodes=4, seed=0)
    assert env.resets == 4 + 1 and len(env.actions) == 4 * 3


def test_validate_uses_the_action_mask():
    env = Masked()
    validate_py_environment(env, episodes=5, seed=1,
                            observation_and_action_constraint_splitter=lambda o: (o[0], o[1]))
    assert env.steps == 5


def test_validate_names_the_bad_field_and_when():
    class BadReward(Counter):
        def reward_spec(self):
            return BoundedArraySpec((), np.float32, 0.0, 1.0, name="reward")

    # Reward of step t is action + 1, above the maximum 1 once the action is >= 1.
    with pytest.raises(ValueError, match=r"time step at 'reward'.*after step \d of episode 1"):
        validate_py_environment(BadReward(3), episodes=3, seed=0)


def test_validate_handles_batched_environments():
    env = BatchedPyEnvironment([Counter(2), Counter(2)])
    validate_py_environment(env, episodes=2, seed=0)
    assert [e.resets for e in env.envs] == [3, 3]


def test_get_tf_env_wraps_py_environments_only():
    py_env = Counter(2)
    tf_env = get_tf_env(py_env)
    assert isinstance(tf_env, TFPyEnvironment) and tf_env.pyenv is py_env
    assert get_tf_env(tf_env) is tf_env
    random_env = RandomTFEnvironment(tf_env.time_step_spec(), tf_env.action_spec())
    assert get_tf_env(random_env) is random_env
    with pytest.raises(ValueError, match="None"):
        get_tf_env(None)
    with pytest.raises(ValueError, match="got str"):
        get_tf_env("CartPole-v1")
