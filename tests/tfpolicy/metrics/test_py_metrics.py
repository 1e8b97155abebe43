"""Tests of the numpy episode metrics: hand-checked episodes, batches, windows, spans, errors."""

import logging

import numpy as np
import pytest

from env_toys import Rewarding
from tfpolicy.drivers import PyDriver
from tfpolicy.environments import BatchedPyEnvironment
from tfpolicy.metrics import py_metrics
from tfpolicy.metrics import (AverageEpisodeLengthMetric, AverageReturnMetric, EnvironmentSteps,
                              NumberOfEpisodes)
from tfpolicy.policies import RandomPyPolicy
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories import trajectory as traj


def _metrics():
    return [EnvironmentSteps(), NumberOfEpisodes(), AverageReturnMetric(buffer_size=100),
            AverageEpisodeLengthMetric(buffer_size=100)]


def _drive(env, metrics, **limits):
    policy = RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
    return PyDriver(env, policy, metrics, **limits)


def test_unbatched_episodes_are_hand_checked():
    steps, episodes, returns, lengths = metrics = _metrics()
    _drive(Rewarding(3), metrics, max_episodes=2).run()
    assert int(steps.result()) == 6
    assert int(episodes.result()) == 2
    assert returns.values() == [6.0, 6.0]  # 1 + 2 + 3
    assert lengths.values() == [3.0, 3.0]
    assert returns.result() == np.float32(6.0)


def test_batched_episodes_of_different_lengths():
    steps, episodes, returns, lengths = metrics = _metrics()
    env = BatchedPyEnvironment([Rewarding(1, scale=10.0), Rewarding(3)])
    _drive(env, metrics, max_steps=8).run()
    # Step types before each call: [F,F] [L,M] [F,M] [L,L] [F,F] [L,M]; steps counted
    # (non-LAST entries) 2+1+2+0+2+1 = 8. Episodes end in calls 1 (e0), 3 (e0, e1), 5 (e0).
    assert int(steps.result()) == 8
    assert int(episodes.result()) == 4
    # Episodes enter the window in the order they end (entry order within a step).
    assert returns.values() == [10.0, 10.0, 6.0, 10.0]
    assert lengths.values() == [1.0, 1.0, 3.0, 1.0]


def test_episodes_spanning_run_calls_are_measured_whole():
    metrics = _metrics()
    driver = _drive(Rewarding(5), metrics, max_steps=2)
    time_step, state = None, None
    for _ in range(5):
        time_step, state = driver.run(time_step, state)
    _, episodes, returns, lengths = metrics
    assert int(episodes.result()) == 2
    assert returns.values() == [15.0, 15.0]
    assert lengths.values() == [5.0, 5.0]


def test_window_keeps_the_last_buffer_size_episodes():
    returns = AverageReturnMetric(buffer_size=2)
    for reward in (1.0, 2.0, 4.0):
        returns(traj.single_step(0, 0, (), reward, np.float32(0)))
    assert returns.values() == [2.0, 4.0]
    assert returns.result() == np.float32(3.0)


def test_empty_window_gives_zero_and_reset_forgets():
    returns = AverageReturnMetric()
    assert returns.result() == np.float32(0.0)
    returns(traj.first(0, 0, (), 5.0, np.float32(1)))
    assert returns.result() == np.float32(0.0)  # the episode has not ended yet
    returns(traj.last(0, 0, (), 1.0, np.float32(0)))
    assert returns.result() == np.float32(6.0)
    returns.reset()
    assert returns.values() == [] and returns.result() == np.float32(0.0)
    counter = EnvironmentSteps()
    counter(traj.mid(0, 0, (), 1.0, np.float32(1)))
    counter.reset()
    assert int(counter.result()) == 0


def test_boundary_rows_add_no_reward_step_or_length():
    returns, lengths, steps = AverageReturnMetric(), AverageEpisodeLengthMetric(), EnvironmentSteps()
    rows = [traj.first(0, 0, (), 1.0, np.float32(1)), traj.last(0, 0, (), 1.0, np.float32(0)),
            traj.boundary(0, 0, (), 100.0, np.float32(1)),
            traj.first(0, 0, (), 2.0, np.float32(1)), traj.last(0, 0, (), 2.0, np.float32(0))]
    for row in rows:
        for metric in (returns, lengths, steps):
            metric(row)
    assert returns.values() == [2.0, 4.0]
    assert lengths.values() == [2.0, 2.0]
    assert int(steps.result()) == 4


def test_first_step_resets_a_partial_episode():
    returns = AverageReturnMetric()
    returns(traj.mid(0, 0, (), 7.0, np.float32(1)))  # seen mid-episode, then a new one starts
    returns(traj.single_step(0, 0, (), 3.0, np.float32(0)))
    assert returns.values() == [3.0]


def test_batch_shape_change_is_an_error():
    returns = AverageReturnMetric()
    returns(traj.mid(np.zeros(2), np.zeros(2), (), np.ones(2, np.float32), np.ones(2, np.float32)))
    with pytest.raises(ValueError, match=r"batch shape \(3,\) after \(2,\)"):
        returns(traj.mid(np.zeros(3), np.zeros(3), (), np.ones(3, np.float32),
                         np.ones(3, np.float32)))


def test_fixed_batch_size_is_enforced():
    lengths = AverageEpisodeLengthMetric(batch_size=2)
    with pytest.raises(ValueError, match="batch shape"):
        lengths(traj.mid(0, 0, (), 1.0, np.float32(1)))


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match="buffer_size must be a positive integer"):
        AverageReturnMetric(buffer_size=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        AverageReturnMetric(batch_size=0)
    with pytest.raises(TypeError, match="expected a Trajectory"):
        NumberOfEpisodes()((0, 1, 2))
    nested = traj.mid(0, 0, (), {"a": 1.0, "b": 2.0}, np.float32(1))
    with pytest.raises(TypeError, match="reward must be one array per step"):
        AverageReturnMetric()(nested)


def test_names_and_repr():
    metric = AverageReturnMetric(name="charts/episodic_return")
    assert metric.name == "charts/episodic_return"
    assert "charts/episodic_return" in repr(metric)
    assert NumberOfEpisodes().name == "NumberOfEpisodes"


# ---- TF-Agents' metric bases: PyMetric, PyStepMetric.call, StreamingMetric, CounterMetric ------


def test_a_step_metric_implementing_call_gets_the_trajectory_as_given():
    class LastRewards(py_metrics.PyStepMetric):
        def __init__(self):
            super().__init__("LastRewards")
            self.seen = []

        def call(self, trajectory):
            self.seen.append(trajectory.reward)

        def result(self):
            return self.seen[-1]

        def reset(self):
            self.seen = []

    metric = LastRewards()
    metric(traj.mid(0, 0, (), 2.5, np.float32(1)))
    metric(traj.mid(np.zeros(2), np.zeros(2), (), np.array([1.0, 4.0]), np.ones(2)))
    assert metric.seen[0] == 2.5
    np.testing.assert_array_equal(metric.result(), [1.0, 4.0])


def test_a_step_metric_with_neither_call_nor_update_is_refused():
    class Empty(py_metrics.PyStepMetric):
        def result(self):
            return 0

        def reset(self):
            pass

    with pytest.raises(TypeError, match=r"Empty: a PyStepMetric implements call\(trajectory\) "
                                        r"or _update"):
        Empty("empty")


def test_streaming_metric_subclass_in_tf_agents_style_averages_its_window():
    class MaxRewardPerEpisode(py_metrics.StreamingMetric):
        """The largest single reward of each episode."""

        def _reset(self, batch_size):
            self.best = np.full(batch_size, -np.inf)

        def _batched_call(self, trajectory):
            self.best = np.maximum(self.best, trajectory.reward)
            ended = trajectory.is_last()
            self.add_to_buffer(self.best[ended])
            self.best[ended] = -np.inf

    metric = MaxRewardPerEpisode(buffer_size=2)
    step_types = ([ts.StepType.FIRST, ts.StepType.MID], [ts.StepType.MID, ts.StepType.LAST])
    rewards = np.array([[1.0, 5.0], [3.0, 2.0], [4.0, 0.0]])
    nexts = ([ts.StepType.MID, ts.StepType.LAST], [ts.StepType.LAST, ts.StepType.FIRST],
             [ts.StepType.LAST, ts.StepType.MID])
    for step, (step_type, next_step_type) in enumerate(zip(step_types + ([0, 0],), nexts)):
        metric(traj.Trajectory(np.array(step_type), np.zeros(2), np.zeros(2), (),
                               np.array(next_step_type), rewards[step], np.ones(2)))
    # Entry 1 ends at step 0 with max 5; entry 0 ends at step 1 with max(1, 3) = 3;
    # entry 0 ends again at step 2 with 4. The window keeps the last two: 3 and 4.
    assert metric.values() == [3.0, 4.0]
    assert metric.result() == np.float32(3.5)
    metric.reset()
    assert metric.result() == np.float32(0.0) and metric.best.tolist() == [-np.inf, -np.inf]


def test_streaming_metric_batches_an_unbatched_trajectory():
    lengths = AverageEpisodeLengthMetric()
    for trajectory in (traj.first(0, 0, (), 1.0, np.float32(1)),
                       traj.last(0, 0, (), 1.0, np.float32(0))):
        lengths(trajectory)
    assert lengths.values() == [2.0]
    assert isinstance(lengths, py_metrics.StreamingMetric)


def test_counter_metric_counts_calls_and_logs(caplog):
    counter = py_metrics.CounterMetric()
    counter()
    counter()
    assert counter.result() == 2 and counter.result().dtype == np.int64
    with caplog.at_level(logging.INFO):
        counter.log()
    assert "Counter = 2" in caplog.text
    counter.reset()
    assert counter.result() == 0
