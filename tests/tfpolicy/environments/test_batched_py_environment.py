"""Tests of `BatchedPyEnvironment`: stacking, per-entry auto-reset, checks, closing."""

import numpy as np
import pytest

from env_toys import Counter
from specs import BoundedArraySpec
from tfpolicy.environments import BatchedPyEnvironment


def test_batched_properties_and_specs():
    envs = [Counter(2), Counter(3)]
    env = BatchedPyEnvironment(envs)
    assert env.batched is True and env.batch_size == 2
    assert env.action_spec() == envs[0].action_spec()
    assert env.time_step_spec() == envs[0].time_step_spec()
    assert env.envs == tuple(envs)


def test_reset_stacks_time_steps():
    env = BatchedPyEnvironment([Counter(2), Counter(3)])
    first = env.reset()
    np.testing.assert_array_equal(first.step_type, [0, 0])
    np.testing.assert_array_equal(first.reward, [0, 0])
    np.testing.assert_array_equal(first.discount, [1, 1])
    assert first.observation["pair"].shape == (2, 2)
    assert first.step_type.dtype == np.int32 and first.reward.dtype == np.float32


def test_entries_end_and_reset_independently():
    envs = [Counter(1), Counter(3)]
    env = BatchedPyEnvironment(envs)
    env.reset()
    steps = [env.step(np.array([a, 2 * a], np.int64)) for a in (1, 0, 1, 0)]
    np.testing.assert_array_equal([s.step_type for s in steps],
                                  [[2, 1], [0, 1], [2, 2], [0, 0]])
    np.testing.assert_array_equal([s.reward for s in steps],
                                  [[2, 3], [0, 1], [2, 3], [0, 0]])
    np.testing.assert_array_equal([s.discount for s in steps],
                                  np.array([[0, 0.9], [1, 0.9], [0, 0], [1, 1]], np.float32))
    np.testing.assert_array_equal([s.observation["count"] for s in steps],
                                  [[1, 1], [0, 2], [1, 3], [0, 0]])
    # Each entry got an action only on its non-reset steps.
    assert envs[0].actions == [1, 1]
    assert envs[1].actions == [2, 0, 2]


def test_step_before_reset_resets_all():
    env = BatchedPyEnvironment([Counter(2), Counter(2)])
    np.testing.assert_array_equal(env.step(np.zeros(2, np.int64)).step_type, [0, 0])


def test_actions_need_the_batch_dim_and_bounds():
    env = BatchedPyEnvironment([Counter(2), Counter(2)])
    env.reset()
    with pytest.raises(ValueError, match="outer"):
        env.step(np.int64(0))
    with pytest.raises(ValueError, match="outer"):
        env.step(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"\[4\]"):
        env.step(np.array([0, 4], np.int64))
    with pytest.raises(TypeError, match="dtype mismatch"):
        env.step(np.zeros(2, np.float32))


def test_constructor_checks():
    with pytest.raises(ValueError, match="at least one"):
        BatchedPyEnvironment([])
    with pytest.raises(TypeError, match=r"envs\[1\]"):
        BatchedPyEnvironment([Counter(2), object()])
    with pytest.raises(ValueError, match="batched"):
        BatchedPyEnvironment([BatchedPyEnvironment([Counter(2)])])

    class OtherAction(Counter):
        def action_spec(self):
            return BoundedArraySpec((), np.int64, 0, 1, name="action")

    with pytest.raises(ValueError, match=r"envs\[1\].action_spec"):
        BatchedPyEnvironment([Counter(2), OtherAction(2)])


def test_close_closes_every_env():
    envs = [Counter(2), Counter(2)]
    with BatchedPyEnvironment(envs) as env:
        env.reset()
    assert [e.closed for e in envs] == [1, 1]
