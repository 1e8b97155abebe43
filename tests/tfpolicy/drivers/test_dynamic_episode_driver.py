"""Tests of `DynamicEpisodeDriver`: episode counting on boundaries or LAST steps, resets,
resumption with the policy state, numpy metrics, errors and a CartPole smoke run.

The batched world: entry 0 is an episode of 2 steps, entry 1 one of 3 steps. The policy's
state counts the steps since the entry's FIRST step (the TFPolicy base resets it there); its
info is that count and its action the count mod 4, so reward = action + 1. From a reset:

    turn  step_type  next_step_type  info     boundaries so far  LAST steps so far
    1     [F, F]     [M, M]          [0, 0]   0                  0
    2     [M, M]     [L, M]          [1, 1]   0                  1
    3     [L, M]     [F, L]          [2, 2]   1                  2
    4     [F, L]     [M, F]          [0, 3]   2                  2
    5     [M, F]     [L, M]          [1, 0]   2                  3
    6     [L, M]     [F, M]          [2, 1]   3                  3
    7     [F, M]     [M, L]          [0, 2]   3                  4
    8     [M, L]     [L, F]          [1, 3]   4                  5
"""

import numpy as np
import pytest
import tensorflow as tf

from env_toys import Counter
from specs import TensorSpec
from tfpolicy.drivers.dynamic_episode_driver import DynamicEpisodeDriver
from tfpolicy.drivers import numpy_observer
from tfpolicy.environments import BatchedPyEnvironment, load
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.metrics import py_metrics
from tfpolicy.policies import RandomTFPolicy, TFPolicy
from tfpolicy.replay import UniformReplayBuffer
from tfpolicy.trajectories.policy_step import PolicyStep

F, M, L = 0, 1, 2
STEP_TYPE = [[F, F], [M, M], [L, M], [F, L], [M, F], [L, M], [F, M], [M, L]]
INFO = [[0, 0], [1, 1], [2, 2], [0, 3], [1, 0], [2, 1], [0, 2], [1, 3]]


def counter(length):
    """Terminates after `length` steps; observation = {"count": step count}; reward = action + 1."""
    return Counter(length, observation="count")


class StepCountPolicy(TFPolicy):
    """State: steps since FIRST (reset there by the base); info = state; action = state mod 4."""

    def __init__(self, time_step_spec, action_spec, offset=0):
        super().__init__(time_step_spec, action_spec,
                         policy_state_spec=TensorSpec([], tf.int32, "count"),
                         info_spec=TensorSpec([], tf.int32, "count"))
        self._offset = offset

    def _action(self, time_step, policy_state, seed):
        action = tf.cast(policy_state % 4 + self._offset, tf.int64)
        return PolicyStep(action, policy_state + 1, policy_state)


def make(lengths=(2, 3), offset=0, more_observers=(), **kwargs):
    """A driver over Counter envs of these lengths, recording every trajectory in `rows`."""
    envs = [counter(n) for n in lengths]
    env = TFPyEnvironment(BatchedPyEnvironment(envs) if len(envs) > 1 else envs[0])
    rows = []
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec(), offset)
    observers = [numpy_observer(rows.append)] + list(more_observers)
    return DynamicEpisodeDriver(env, policy, observers=observers, **kwargs), rows, envs


def column(rows, field):
    return np.array([np.asarray(getattr(r, field)) for r in rows])


def test_counts_episodes_on_boundaries_summed_over_the_batch():
    driver, rows, envs = make()
    for num_episodes, turns in [(1, 3), (2, 4), (3, 6), (4, 8)]:
        driver.run(num_episodes=num_episodes)  # each call resets the env
        assert len(rows) == turns, num_episodes
        np.testing.assert_array_equal(column(rows, "step_type"), STEP_TYPE[:turns])
        np.testing.assert_array_equal(column(rows, "policy_info"), INFO[:turns])
        rows.clear()


def test_counts_episodes_on_last_steps_without_boundaries():
    driver, rows, envs = make(end_episode_on_boundary=False)
    for num_episodes, turns in [(1, 2), (2, 3), (3, 5), (4, 7), (5, 8)]:
        time_step, _ = driver.run(num_episodes=num_episodes)
        assert len(rows) == turns, num_episodes
        rows.clear()
    np.testing.assert_array_equal(time_step.step_type, [L, F])


def test_default_num_episodes_and_returned_first_step():
    driver, rows, envs = make(lengths=(3,), num_episodes=1)
    assert driver.num_episodes == 1
    time_step, policy_state = driver.run()
    np.testing.assert_array_equal(column(rows, "step_type"), [[F], [M], [M], [L]])
    np.testing.assert_array_equal(column(rows, "next_step_type"), [[M], [M], [L], [F]])
    np.testing.assert_array_equal(column(rows, "reward"), [[1], [2], [3], [0]])
    np.testing.assert_allclose(column(rows, "discount"), np.float32([[0.9], [0.9], [0], [1]]))
    np.testing.assert_array_equal(time_step.step_type, [F])
    np.testing.assert_array_equal(policy_state, [4])


def test_resuming_carries_time_step_and_state_without_a_reset():
    driver, rows, envs = make(num_episodes=1)
    time_step, policy_state = driver.run()
    assert len(rows) == 3 and [e.resets for e in envs] == [2, 1]
    time_step, policy_state = driver.run(time_step, policy_state)
    # Turn 4 ends entry 1's episode: the second run continues the same episodes.
    assert len(rows) == 4 and [e.resets for e in envs] == [2, 2]
    np.testing.assert_array_equal(column(rows, "policy_info"), INFO[:4])
    np.testing.assert_array_equal(policy_state, [1, 4])
    driver.run(time_step, policy_state, num_episodes=2)
    np.testing.assert_array_equal(column(rows, "step_type"), STEP_TYPE[:8])
    np.testing.assert_array_equal(column(rows, "policy_info"), INFO[:8])


def test_run_without_time_step_resets_the_env():
    driver, rows, envs = make(num_episodes=1)
    driver.run(maximum_iterations=2)
    np.testing.assert_array_equal(column(rows, "step_type"), STEP_TYPE[:2])
    driver.run(maximum_iterations=1)
    np.testing.assert_array_equal(column(rows, "step_type")[2], [F, F])
    assert [e.resets for e in envs] == [2, 2]


def test_episode_returns_through_a_numpy_metric():
    returns = py_metrics.AverageReturnMetric()
    lengths = py_metrics.AverageEpisodeLengthMetric()
    episodes = py_metrics.NumberOfEpisodes()
    driver, rows, envs = make(lengths=(3,), num_episodes=2,
                              more_observers=[numpy_observer(m) for m in (returns, lengths, episodes)])
    driver.run()
    assert int(episodes.result()) == 2
    assert float(returns.result()) == pytest.approx(1 + 2 + 3)
    assert float(lengths.result()) == pytest.approx(3)


def test_replay_buffer_collects_whole_episodes():
    env = TFPyEnvironment(counter(2))
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec())
    buffer = UniformReplayBuffer(policy.collect_data_spec, capacity=20)
    DynamicEpisodeDriver(env, policy, observers=[buffer.add_batch], num_episodes=3).run()
    data = buffer.gather_all()
    np.testing.assert_array_equal(data.step_type, [[F, M, L] * 3])
    np.testing.assert_array_equal(data.reward, [[1, 2, 0] * 3])


def test_out_of_bounds_action_raises_the_environments_error():
    driver, rows, envs = make(offset=2, num_episodes=5)
    with pytest.raises(ValueError, match=r"action at '<root>': value\(s\) \[4, 4\] outside"):
        driver.run()


def test_constructor_and_run_checks():
    env = TFPyEnvironment(counter(2))
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec())
    with pytest.raises(ValueError, match="num_episodes must be a non-negative integer"):
        DynamicEpisodeDriver(env, policy, num_episodes=-1)
    with pytest.raises(ValueError, match="num_episodes must be a non-negative integer"):
        DynamicEpisodeDriver(env, policy).run(num_episodes=1.5)
    with pytest.raises(TypeError, match="policy must be a TFPolicy"):
        DynamicEpisodeDriver(env, "policy")
    with pytest.raises(TypeError, match=r"transition_observers\[0\] must be callable"):
        DynamicEpisodeDriver(env, policy, transition_observers=[None])


def test_cartpole_smoke_with_random_policy():
    env = TFPyEnvironment(BatchedPyEnvironment([load("CartPole-v1", seed=s) for s in (0, 1)]))
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
    episodes, lengths = py_metrics.NumberOfEpisodes(), py_metrics.AverageEpisodeLengthMetric()
    rows = []
    driver = DynamicEpisodeDriver(env, policy, observers=[
        numpy_observer(rows.append), numpy_observer(episodes), numpy_observer(lengths)],
        num_episodes=3)
    time_step, policy_state = driver.run()
    assert time_step.observation.shape == (2, 4) and policy_state == ()
    boundaries = int(sum(np.count_nonzero(r.step_type == L) for r in rows))
    assert boundaries in (3, 4)  # 4 when both entries cross a boundary in the last turn
    assert np.count_nonzero(rows[-1].step_type == L) >= 1
    # Every ended episode is counted: those past their boundary, and those just at LAST.
    pending = int(np.count_nonzero(time_step.step_type.numpy() == L))
    assert int(episodes.result()) == boundaries + pending
    assert float(lengths.result()) >= 8  # no CartPole episode is shorter
