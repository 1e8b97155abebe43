"""Tests of `GymnasiumVectorEnvironment` and `load_vector`: boundaries, resets, CartPole parity."""

import functools
import importlib.util
import pathlib
import sys

import gymnasium as gym
import numpy as np
import pytest

from specs import BoundedArraySpec
from tfpolicy.environments.gymnasium_vector_environment import (GymnasiumVectorEnvironment,
                                                                load_vector)
from tfpolicy.environments.gymnasium_wrapper import load

SCRIPTED_ID = "TfpolicyTest/Countdown-v0"


class Countdown(gym.Env):
    """Ends after `length` steps, terminated or truncated; reward = action + 1.

    The observation is `{"t": steps taken, "pos": float64 [t, -t]}`; the
    env records its actions, reset seeds and whether it was closed.
    """

    def __init__(self, length=2, terminate=True):
        self.observation_space = gym.spaces.Dict({
            "t": gym.spaces.Discrete(100),
            "pos": gym.spaces.Box(-100.0, 100.0, (2,), np.float64)})
        self.action_space = gym.spaces.Discrete(3)
        self.length = length
        self.terminate = terminate
        self.actions = []
        self.seeds = []
        self.closed = False

    def _obs(self):
        return {"t": self.t, "pos": np.array([self.t, -self.t], np.float64)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.seeds.append(seed)
        self.t = 0
        return self._obs(), {"resets": len(self.seeds)}

    def step(self, action):
        self.actions.append(int(action))
        self.t += 1
        done = self.t == self.length
        return (self._obs(), float(action + 1), done and self.terminate,
                done and not self.terminate, {"t": self.t})

    def close(self):
        self.closed = True


@pytest.fixture(scope="module", autouse=True)
def registered():
    gym.register(SCRIPTED_ID, entry_point=Countdown)
    yield
    del gym.registry[SCRIPTED_ID]


def countdowns(*settings, **vector_kwargs):
    """A SyncVectorEnv of `Countdown(length, terminate)` for each (length, terminate)."""
    return gym.vector.SyncVectorEnv(
        [functools.partial(gym.make, SCRIPTED_ID, length=n, terminate=t) for n, t in settings],
        **vector_kwargs)


def sub_envs(env):
    return [e.unwrapped for e in env.gym.envs]


def stack_steps(steps):
    return [np.stack(field) for field in zip(*steps)]


def assert_same(step, expected):
    assert step.step_type.dtype == np.int32 and step.reward.dtype == np.float32
    assert step.discount.dtype == np.float32 and step.observation.dtype == np.float32
    np.testing.assert_array_equal(step.step_type, expected.step_type)
    np.testing.assert_array_equal(step.reward, expected.reward)
    np.testing.assert_array_equal(step.discount, expected.discount)
    np.testing.assert_array_equal(step.observation, expected.observation)


def test_importing_does_not_import_gymnasium_and_using_it_says_how_to_install(monkeypatch):
    path = pathlib.Path(sys.modules[GymnasiumVectorEnvironment.__module__].__file__)
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # any `import gymnasium` now fails
    spec = importlib.util.spec_from_file_location("vector_env_copy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ImportError, match=r"tfpolicy\[gym\]"):
        module.load_vector("CartPole-v1", 2)
    with pytest.raises(ImportError, match=r"tfpolicy\[gym\]"):
        module.GymnasiumVectorEnvironment(object())


def test_specs_come_from_the_single_spaces():
    venv = countdowns((2, True), (3, True))
    with GymnasiumVectorEnvironment(venv) as env:
        assert env.batched is True and env.batch_size == 2
        assert env.action_spec() == BoundedArraySpec((), np.int64, 0, 2, name="action")
        obs_spec = env.observation_spec()
        assert obs_spec["t"] == BoundedArraySpec((), np.int64, 0, 99, name="observation/t")
        assert obs_spec["pos"].dtype == np.float64 and obs_spec["pos"].name == "observation/pos"
        assert env.gym is venv


def test_hand_checked_boundaries_with_per_entry_resets():
    # Entry 0 terminates after 1 step, entry 1 truncates after 2.
    env = GymnasiumVectorEnvironment(countdowns((1, True), (2, False)), discount=0.9)
    first = env.reset()
    np.testing.assert_array_equal(first.step_type, [0, 0])
    np.testing.assert_array_equal(first.observation["t"], [0, 0])
    actions = [[1, 2], [0, 1], [2, 0], [0, 1], [1, 2], [2, 2], [0, 0]]
    steps = [env.step(np.array(a)) for a in actions]
    np.testing.assert_array_equal(
        [s.step_type for s in steps], [[2, 1], [0, 2], [2, 0], [0, 1], [2, 2], [0, 0], [2, 1]])
    np.testing.assert_array_equal(
        [s.reward for s in steps], [[2, 3], [0, 2], [3, 0], [0, 2], [2, 3], [0, 0], [1, 1]])
    np.testing.assert_array_equal(
        [s.discount for s in steps],
        np.array([[0, .9], [1, .9], [0, 1], [1, .9], [0, .9], [1, 1], [0, .9]], np.float32))
    np.testing.assert_array_equal(
        [s.observation["t"] for s in steps],
        [[1, 1], [0, 2], [1, 0], [0, 1], [1, 2], [0, 0], [1, 1]])
    pos = steps[2].observation["pos"]
    assert pos.dtype == np.float64 and pos.tolist() == [[1, -1], [0, 0]]
    for s in steps:
        assert s.step_type.dtype == np.int32 and s.discount.dtype == np.float32
        assert s.reward.dtype == np.float32 and s.observation["t"].dtype == np.int64
    # Actions given on an entry's FIRST step never reached it.
    left, right = sub_envs(env)
    assert left.actions == [1, 2, 1, 0]
    assert right.actions == [2, 1, 1, 2, 0]
    # Entry 0 reset at the start, after each LAST, and at the full reset.
    assert len(left.seeds) == 4 and len(right.seeds) == 3


def test_step_before_reset_resets():
    env = GymnasiumVectorEnvironment(countdowns((2, True), (2, True)))
    np.testing.assert_array_equal(env.step(np.array([1, 1])).step_type, [0, 0])
    assert [e.actions for e in sub_envs(env)] == [[], []]


def test_load_vector_registered_env_terminated_and_truncated():
    env = load_vector(SCRIPTED_ID, 2, discount=0.5, length=2, terminate=True)
    env.reset()
    mid, last = env.step(np.array([0, 1])), env.step(np.array([1, 1]))
    np.testing.assert_array_equal([mid.step_type, last.step_type], [[1, 1], [2, 2]])
    np.testing.assert_array_equal([mid.discount, last.discount], [[.5, .5], [0, 0]])
    np.testing.assert_array_equal(env.step(np.array([2, 2])).step_type, [0, 0])
    # A time limit truncates: LAST with the discount kept.
    env = load_vector(SCRIPTED_ID, 2, discount=0.5, max_episode_steps=1, length=5)
    env.reset()
    last = env.step(np.array([0, 2]))
    np.testing.assert_array_equal(last.step_type, [2, 2])
    np.testing.assert_array_equal(last.discount, [.5, .5])
    np.testing.assert_array_equal(last.reward, [1, 3])


def test_seeds_reach_the_copies():
    env = load_vector(SCRIPTED_ID, 2, seed=7)
    env.reset()
    assert [e.seeds for e in sub_envs(env)] == [[7], [8]]
    env.seed([3, 11])
    env.reset()
    env.reset()
    env.seed(np.int64(20))
    env.reset()
    assert [e.seeds for e in sub_envs(env)] == [[7, 3, None, 20], [8, 11, None, 21]]


def test_last_info_is_the_vector_info():
    env = GymnasiumVectorEnvironment(countdowns((2, True), (2, True)))
    assert env.last_info == {}
    env.reset()
    np.testing.assert_array_equal(env.get_info()["resets"], [1, 1])
    env.step(np.array([0, 0]))
    np.testing.assert_array_equal(env.last_info["t"], [1, 1])
    np.testing.assert_array_equal(env.last_info["_t"], [True, True])


def test_bad_actions_are_rejected_before_gymnasium_sees_them():
    env = GymnasiumVectorEnvironment(countdowns((3, True), (3, True)))
    env.reset()
    with pytest.raises(ValueError, match=r"action.*\[3\]"):
        env.step(np.array([0, 3]))
    with pytest.raises(ValueError, match="outer"):
        env.step(np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="dtype mismatch"):
        env.step(np.array([0.0, 1.0]))
    assert [e.actions for e in sub_envs(env)] == [[], []]


@pytest.mark.parametrize("mode", [gym.vector.AutoresetMode.SAME_STEP,
                                  gym.vector.AutoresetMode.DISABLED])
def test_other_autoreset_modes_are_rejected(mode):
    with pytest.raises(ValueError, match=r"NEXT_STEP.*got <AutoresetMode\.(SAME_STEP|DISABLED)"):
        GymnasiumVectorEnvironment(countdowns((2, True), autoreset_mode=mode))


def test_missing_autoreset_mode_warns_and_assumes_next_step():
    venv = countdowns((1, True))
    del venv.metadata["autoreset_mode"]
    with pytest.warns(UserWarning, match="assumes AutoresetMode.NEXT_STEP"):
        env = GymnasiumVectorEnvironment(venv)
    env.reset()
    np.testing.assert_array_equal(env.step(np.array([0])).step_type, [2])


def test_constructor_checks():
    with pytest.raises(TypeError, match="VectorEnv.*use GymnasiumEnvironment"):
        GymnasiumVectorEnvironment(gym.make(SCRIPTED_ID))
    with pytest.raises(TypeError, match="VectorEnv.*got int"):
        GymnasiumVectorEnvironment(3)
    with pytest.raises(ValueError, match=r"discount must lie in \[0, 1\]"):
        GymnasiumVectorEnvironment(countdowns((2, True)), discount=1.5)
    with pytest.raises(ValueError, match="num_envs"):
        load_vector(SCRIPTED_ID, 0)


def test_close_closes_the_vector_env_and_its_copies():
    with GymnasiumVectorEnvironment(countdowns((2, True), (2, True))) as env:
        env.reset()
        copies = sub_envs(env)
    assert env.gym.closed and all(e.closed for e in copies)
    env.close()


def run_against_independent_envs(vector, singles, steps, seed):
    """Steps both with the same random actions; returns (entries ended, steps all ended)."""
    first = vector.reset()
    assert_same(first, type(first)(*stack_steps([e.reset() for e in singles])))
    actions = np.random.default_rng(seed).integers(0, 2, size=(steps, len(singles)))
    lasts = all_lasts = 0
    for action in actions:
        step = vector.step(action)
        expected = type(step)(*stack_steps([e.step(a) for e, a in zip(singles, action)]))
        assert_same(step, expected)
        lasts += int(step.is_last().sum())
        all_lasts += int(step.is_last().all())
    return lasts, all_lasts


def test_cartpole_matches_independent_gymnasium_environments():
    vector = load_vector("CartPole-v1", 3, discount=0.9, seed=10)
    singles = [load("CartPole-v1", discount=0.9, seed=10 + i) for i in range(3)]
    assert vector.observation_spec() == singles[0].observation_spec()
    assert vector.action_spec() == singles[0].action_spec()
    lasts, _ = run_against_independent_envs(vector, singles, 200, seed=0)
    assert lasts >= 10


def test_cartpole_with_a_time_limit_matches_including_simultaneous_ends():
    # With a 6-step limit every entry often ends together, which resets the
    # whole vector env (the base class's reset) instead of per-entry resets.
    vector = load_vector("CartPole-v1", 2, discount=0.9, max_episode_steps=6, seed=3)
    singles = [load("CartPole-v1", discount=0.9, max_episode_steps=6, seed=3 + i)
               for i in range(2)]
    lasts, all_lasts = run_against_independent_envs(vector, singles, 60, seed=1)
    assert lasts >= 16 and all_lasts >= 3


def test_async_cartpole_matches_sync():
    sync = load_vector("CartPole-v1", 2, seed=5)
    with load_vector("CartPole-v1", 2, vectorization_mode="async", seed=5) as env:
        assert isinstance(env.gym, gym.vector.AsyncVectorEnv)
        assert_same(env.reset(), sync.reset())
        for action in np.random.default_rng(4).integers(0, 2, size=(40, 2)):
            assert_same(env.step(action), sync.step(action))
