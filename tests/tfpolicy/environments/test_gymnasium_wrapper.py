"""Tests of `GymnasiumEnvironment` and `load`, on CartPole and a scripted gymnasium env."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from specs import BoundedArraySpec
from tfpolicy.environments import GymnasiumEnvironment, TimeLimit
from tfpolicy.environments.gymnasium_wrapper import load
from tfpolicy.trajectories.time_step import StepType


class Scripted(gym.Env):
    """Plays back (reward, terminated, truncated) triples; dict observations."""

    def __init__(self, script):
        self.observation_space = gym.spaces.Dict({
            "pos": gym.spaces.Box(-10.0, 10.0, (2,), np.float32),
            "n": gym.spaces.Discrete(5)})
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.script = script
        self.closed = False
        self.seeds = []
        self.actions = []

    def _obs(self):
        # float64 list and python int: the wrapper must cast to the spec dtypes.
        return {"pos": [float(self.t), -float(self.t)], "n": self.t}

    def reset(self, *, seed=None, options=None):
        self.seeds.append(seed)
        self.t = 0
        return self._obs(), {"event": "reset"}

    def step(self, action):
        self.actions.append(action)
        reward, terminated, truncated = self.script[self.t]
        self.t += 1
        return self._obs(), reward, terminated, truncated, {"t": self.t}

    def close(self):
        self.closed = True


def test_cartpole_specs():
    env = load("CartPole-v1", seed=0)
    obs_spec = env.observation_spec()
    assert isinstance(obs_spec, BoundedArraySpec)
    assert obs_spec.shape == (4,) and obs_spec.dtype == np.float32
    assert obs_spec.name == "observation"
    assert env.action_spec() == BoundedArraySpec((), np.int64, 0, 1, name="action")
    assert env.time_step_spec().reward.dtype == np.float32
    assert env.batched is False and env.batch_size is None


def test_cartpole_terminated_episode_ends_with_discount_zero():
    env = load("CartPole-v1", discount=0.9, seed=0)
    first = env.reset()
    assert first.step_type == StepType.FIRST and first.observation.dtype == np.float32
    steps = []
    for _ in range(100):  # always pushing right topples the pole within a few dozen steps
        steps.append(env.step(1))
        if steps[-1].is_last():
            break
    assert steps[-1].is_last()
    assert float(steps[-1].discount) == 0.0
    assert all(s.step_type == StepType.MID and float(s.discount) == np.float32(0.9)
               for s in steps[:-1])
    assert all(s.reward.dtype == np.float32 and float(s.reward) == 1.0 for s in steps)
    assert env.step(0).is_first()


def test_cartpole_max_episode_steps_truncates_with_discount_kept():
    env = load("CartPole-v1", discount=0.9, max_episode_steps=4, seed=0)
    env.reset()
    actions = [0, 1, 0, 1]  # alternating keeps the pole up
    steps = [env.step(a) for a in actions]
    assert [int(s.step_type) for s in steps] == [1, 1, 1, 2]
    assert float(steps[-1].discount) == pytest.approx(0.9)


def test_cartpole_time_limit_wrapper_truncates_with_discount_kept():
    env = TimeLimit(load("CartPole-v1", seed=1), duration=3)
    env.reset()
    steps = [env.step(a) for a in (0, 1, 0)]
    assert [int(s.step_type) for s in steps] == [1, 1, 2]
    assert float(steps[-1].discount) == 1.0
    assert env.step(1).is_first()


def test_seed_makes_episodes_reproducible():
    a, b = load("CartPole-v1", seed=7), load("CartPole-v1", seed=7)
    np.testing.assert_array_equal(a.reset().observation, b.reset().observation)
    first = a.reset().observation  # unseeded reset continues the RNG
    a.seed(7)
    np.testing.assert_array_equal(a.reset().observation, b.current_time_step().observation)
    assert not np.array_equal(first, b.current_time_step().observation)


def test_out_of_bounds_action_is_a_value_error_naming_action_and_bounds():
    env = load("CartPole-v1", seed=0)
    env.reset()
    with pytest.raises(ValueError) as info:
        env.step(5)
    message = str(info.value)
    assert "action at" in message and "name='action'" in message
    assert "minimum=0" in message and "maximum=1" in message and "[5]" in message


def test_wrong_action_dtype_or_shape():
    env = load("CartPole-v1", seed=0)
    env.reset()
    with pytest.raises(TypeError, match="dtype mismatch"):
        env.step(0.0)
    with pytest.raises(TypeError, match="dtype mismatch"):
        env.step(np.float32(1))
    with pytest.raises(ValueError, match="outside the bounds"):
        env.step(np.int32(2))  # another integer dtype is cast, then bounds-checked
    with pytest.raises(ValueError, match="shape mismatch|outer dim"):
        env.step(np.array([1], np.int64))


def test_scripted_dict_observations_are_cast_to_spec_dtypes():
    env = GymnasiumEnvironment(Scripted([(1.5, False, False)] * 3))
    assert env.observation_spec()["pos"].name == "observation/pos"
    first = env.reset()
    assert first.observation["pos"].dtype == np.float32
    assert first.observation["n"].dtype == np.int64
    step = env.step(np.array([0.5], np.float32))
    np.testing.assert_array_equal(step.observation["pos"], [1.0, -1.0])
    assert int(step.observation["n"]) == 1
    assert step.reward.dtype == np.float32 and float(step.reward) == 1.5


def test_terminated_truncated_and_transition_mapping():
    script = [(1.0, False, False), (2.0, False, True), (3.0, True, True), (4.0, True, False)]
    raw = Scripted(script)
    env = GymnasiumEnvironment(raw, discount=0.5)
    env.reset()
    mid = env.step(np.zeros(1, np.float32))
    truncated = env.step(np.zeros(1, np.float32))
    assert (int(mid.step_type), float(mid.discount)) == (StepType.MID, 0.5)
    assert (int(truncated.step_type), float(truncated.discount)) == (StepType.LAST, 0.5)
    assert env.step(np.zeros(1, np.float32)).is_first()
    raw.t = 2  # jump to the terminated-and-truncated entry
    both = env.step(np.zeros(1, np.float32))
    assert (int(both.step_type), float(both.discount), float(both.reward)) == (2, 0.0, 3.0)


def test_last_info_and_seed_passing():
    raw = Scripted([(0.0, False, False)] * 3)
    env = GymnasiumEnvironment(raw, seed=11)
    assert env.last_info == {}
    env.reset()
    assert env.last_info == {"event": "reset"}
    env.step(np.zeros(1, np.float32))
    assert env.last_info == {"t": 1} and env.get_info() == {"t": 1}
    env.reset()
    env.seed(3)
    env.reset()
    assert raw.seeds == [11, None, 3]


def test_actions_reach_gymnasium_as_numpy_of_spec_dtype():
    raw = Scripted([(0.0, False, False)] * 3)
    env = GymnasiumEnvironment(raw)
    env.reset()
    env.step(np.array([0.25], np.float32))
    assert raw.actions[-1].dtype == np.float32
    np.testing.assert_array_equal(raw.actions[-1], [0.25])
    with pytest.raises(ValueError, match=r"\[1.5\]"):
        env.step(np.array([1.5], np.float32))
    assert len(raw.actions) == 1


def test_without_auto_reset_stepping_after_last_raises():
    env = GymnasiumEnvironment(Scripted([(0.0, True, False)]), auto_reset=False)
    env.reset()
    assert env.step(np.zeros(1, np.float32)).is_last()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(1, np.float32))


def test_discount_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="discount"):
        GymnasiumEnvironment(Scripted([]), discount=1.5)


def test_close_and_context_manager_close_the_gym_env():
    raw = Scripted([])
    with GymnasiumEnvironment(raw) as env:
        env.reset()
        assert not raw.closed
    assert raw.closed


def test_importing_environments_does_not_import_gymnasium():
    code = ("import sys, tfpolicy.environments; "
            "print('gymnasium' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
