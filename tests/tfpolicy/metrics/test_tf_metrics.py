"""Tests of the in-graph metrics: hand-checked rows, windows, batches, drivers, summaries."""

import numpy as np
import pytest
import tensorflow as tf

from env_toys import Rewarding
from tfpolicy.drivers import DynamicEpisodeDriver, DynamicStepDriver, numpy_observer
from tfpolicy.environments import BatchedPyEnvironment
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.metrics import py_metrics, tf_metrics
from tfpolicy.policies import RandomTFPolicy
from tfpolicy.trajectories import trajectory as traj

F, M, L = 0, 1, 2  # step types


def _row(step_types, next_step_types, rewards, actions=None):
    """A batched trajectory of tensors; one entry per list element."""
    batch = len(step_types)
    return traj.Trajectory(
        step_type=tf.constant(step_types, tf.int32),
        observation=tf.zeros([batch]),
        action=tf.constant(actions if actions is not None else [0] * batch, tf.int64),
        policy_info=(),
        next_step_type=tf.constant(next_step_types, tf.int32),
        reward=tf.constant(rewards, tf.float32),
        discount=tf.ones([batch]))


# One entry: episode (1 + 2), boundary (reward 9 ignored), episode (5), a half episode (4).
ROWS = [([F], [M], [1.0]), ([M], [L], [2.0]), ([L], [F], [9.0]), ([F], [L], [5.0]),
        ([L], [F], [0.0]), ([F], [M], [4.0])]


def _feed(metric, rows=ROWS):
    for row in rows:
        metric(_row(*row))
    return metric


def test_environment_steps_skip_boundaries():
    assert int(_feed(tf_metrics.EnvironmentSteps()).result()) == 4


def test_number_of_episodes_counts_transitions_into_last():
    assert int(_feed(tf_metrics.NumberOfEpisodes()).result()) == 2


def test_average_return_window_and_half_episode():
    metric = _feed(tf_metrics.AverageReturnMetric())
    assert metric.values().numpy().tolist() == [3.0, 5.0]
    assert float(metric.result()) == 4.0


def test_average_episode_length_leaves_out_boundaries():
    metric = _feed(tf_metrics.AverageEpisodeLengthMetric())
    assert metric.values().numpy().tolist() == [2.0, 1.0]
    assert float(metric.result()) == 1.5


def test_max_and_min_return():
    assert float(_feed(tf_metrics.MaxReturnMetric()).result()) == 5.0
    assert float(_feed(tf_metrics.MinReturnMetric()).result()) == 3.0


def test_empty_results_follow_tf_agents():
    assert float(tf_metrics.AverageReturnMetric().result()) == 0.0
    assert float(tf_metrics.AverageEpisodeLengthMetric().result()) == 0.0
    assert float(tf_metrics.MaxReturnMetric().result()) == np.finfo(np.float32).min
    assert float(tf_metrics.MinReturnMetric().result()) == np.finfo(np.float32).max


def test_window_keeps_the_last_buffer_size_episodes_in_order():
    metric = tf_metrics.AverageReturnMetric(buffer_size=2)
    for reward in [1.0, 2.0, 3.0, 4.0, 5.0]:  # five one-step episodes
        metric(_row([F], [L], [reward]))
        metric(_row([L], [F], [0.0]))
    assert metric.values().numpy().tolist() == [4.0, 5.0]
    assert float(metric.result()) == 4.5


def test_more_episodes_in_one_call_than_the_window_holds():
    metric = tf_metrics.AverageReturnMetric(batch_size=3, buffer_size=2)
    metric(_row([F, F, F], [L, L, L], [1.0, 2.0, 3.0]))
    assert metric.values().numpy().tolist() == [2.0, 3.0]  # batch order, the last two stay
    assert float(metric.result()) == 2.5


def test_batch_entries_accumulate_separately():
    metric = tf_metrics.AverageReturnMetric(batch_size=2)
    metric(_row([F, F], [M, L], [1.0, 10.0]))  # entry 1 ends: 10
    metric(_row([M, L], [L, F], [2.0, 7.0]))  # entry 0 ends: 3; entry 1's boundary is ignored
    assert metric.values().numpy().tolist() == [10.0, 3.0]


def test_vector_rewards_are_summed_over_inner_dims():
    metric = tf_metrics.AverageReturnMetric()
    row = _row([F], [L], [0.0])._replace(reward=tf.constant([[1.0, 2.5]]))
    metric(row)
    assert float(metric.result()) == 3.5


def test_reset_zeroes_counts_windows_and_accumulators():
    steps, returns = tf_metrics.EnvironmentSteps(), tf_metrics.AverageReturnMetric()
    for metric in (steps, returns):
        _feed(metric)
        metric.reset()
    assert int(steps.result()) == 0
    assert returns.values().numpy().tolist() == []
    returns(_row([M], [L], [2.0]))  # the half episode (4) was forgotten
    assert returns.values().numpy().tolist() == [2.0]
    assert float(returns.result()) == 2.0  # the mean over one episode, not over the window


def test_call_returns_the_trajectory():
    row = _row([F], [M], [1.0])
    assert tf_metrics.EnvironmentSteps()(row) is row


def test_chosen_action_histogram_keeps_the_last_actions():
    metric = tf_metrics.ChosenActionHistogram(buffer_size=3)
    metric(_row([F, F], [M, M], [0.0, 0.0], actions=[1, 2]))
    metric(_row([M, M], [M, M], [0.0, 0.0], actions=[3, 4]))
    assert metric.result().numpy().tolist() == [2, 3, 4]
    assert metric.result().dtype == tf.int32


def test_variables_are_created_once_in_the_constructor():
    metric = tf_metrics.AverageReturnMetric()
    before = [v.ref() for v in metric.variables]

    @tf.function
    def observe(row):
        return metric(row).reward

    observe(_row([F], [L], [1.0]))
    observe(_row([F], [L], [0.0])._replace(reward=tf.constant([2.0], tf.float64)))  # retraces
    assert observe.experimental_get_tracing_count() == 2
    assert [v.ref() for v in metric.variables] == before and len(before) == 3
    assert metric.values().numpy().tolist() == [1.0, 2.0]


def test_wrong_batch_size_is_reported():
    with pytest.raises(ValueError, match=r"batch size 2.*batch_size=1"):
        tf_metrics.AverageReturnMetric()(_row([F, F], [M, M], [0.0, 0.0]))


def test_bad_arguments_and_inputs_are_rejected():
    with pytest.raises(ValueError, match="buffer_size must be a positive integer, got 0"):
        tf_metrics.AverageReturnMetric(buffer_size=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 1.5"):
        tf_metrics.MaxReturnMetric(batch_size=1.5)
    with pytest.raises(TypeError, match="expected a Trajectory, got dict"):
        tf_metrics.NumberOfEpisodes()({"step_type": 0})
    nested = _row([F], [L], [0.0])._replace(reward={"a": tf.constant([1.0])})
    with pytest.raises(TypeError, match="reward must be one tensor"):
        tf_metrics.AverageReturnMetric()(nested)


def test_step_driver_gives_hand_computed_counts_and_matches_py_metrics():
    # Entry 0 has 2-step episodes, entry 1 3-step ones. Each loop turn steps both;
    # boundaries (B) count no step. Turns 1-5 start from: entry 0 F,M,B,F,M; entry 1
    # F,M,M,B,F. Steps per turn: 2,2,1,1,2 -> 8 after turn 5. Ended episodes: entry 0
    # at turns 2 and 5 (return 1 + 2 = 3), entry 1 at turn 3 (1 + 2 + 3 = 6).
    env = TFPyEnvironment(BatchedPyEnvironment([Rewarding(2), Rewarding(3)]))
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
    tf_ones = [tf_metrics.EnvironmentSteps(), tf_metrics.NumberOfEpisodes(),
               tf_metrics.AverageReturnMetric(batch_size=2),
               tf_metrics.AverageEpisodeLengthMetric(batch_size=2)]
    py_ones = [py_metrics.EnvironmentSteps(), py_metrics.NumberOfEpisodes(),
               py_metrics.AverageReturnMetric(), py_metrics.AverageEpisodeLengthMetric()]
    DynamicStepDriver(env, policy, observers=tf_ones + [numpy_observer(m) for m in py_ones],
                      num_steps=8).run()
    steps, episodes, returns, lengths = tf_ones
    assert int(steps.result()) == 8
    assert int(episodes.result()) == 3
    assert returns.values().numpy().tolist() == [3.0, 6.0, 3.0]
    assert lengths.values().numpy().tolist() == [2.0, 3.0, 2.0]
    assert float(returns.result()) == 4.0
    assert [int(m.result()) for m in tf_ones[:2]] == [int(m.result()) for m in py_ones[:2]]
    assert returns.values().numpy().tolist() == py_ones[2].values()
    assert lengths.values().numpy().tolist() == py_ones[3].values()


def test_episode_driver_counts_across_runs():
    env = TFPyEnvironment(Rewarding(3))
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
    steps, episodes, returns = (tf_metrics.EnvironmentSteps(), tf_metrics.NumberOfEpisodes(),
                                tf_metrics.AverageReturnMetric())
    driver = DynamicEpisodeDriver(env, policy, observers=[steps, episodes, returns],
                                  num_episodes=2)
    driver.run()
    driver.run()
    assert (int(steps.result()), int(episodes.result())) == (12, 4)
    assert returns.values().numpy().tolist() == [6.0] * 4


def test_tf_summaries_write_tags_against_train_step_and_step_metrics(tmp_path):
    steps, returns = tf_metrics.EnvironmentSteps(), tf_metrics.AverageReturnMetric()
    _feed(steps)
    _feed(returns)
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        written = returns.tf_summaries(train_step=tf.constant(7, tf.int64),
                                       step_metrics=[steps, returns])
        assert steps.tf_summaries(step_metrics=[steps]) == []
    writer.flush()
    assert len(written) == 2
    events = []
    for path in tmp_path.iterdir():
        for record in tf.compat.v1.train.summary_iterator(str(path)):
            for value in record.summary.value:
                events.append((value.tag, record.step,
                               float(tf.make_ndarray(value.tensor))))
    assert sorted(events) == [("Metrics/AverageReturn", 7, 4.0),
                              ("Metrics_vs_EnvironmentSteps/AverageReturn", 4, 4.0)]


def test_init_variables_is_a_no_op():
    metric = _feed(tf_metrics.NumberOfEpisodes())
    assert metric.init_variables() is None
    assert int(metric.result()) == 2


def test_a_metric_without_result_and_reset_cannot_be_built():
    class OnlyCall(tf_metrics.TFStepMetric):
        def call(self, trajectory):
            return trajectory

    with pytest.raises(TypeError, match="abstract.*(reset|result)"):
        OnlyCall(name="only_call")
