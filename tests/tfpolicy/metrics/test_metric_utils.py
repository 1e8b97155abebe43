"""Tests of tfpolicy.metrics.metric_utils: hand-counted evaluations, summaries and logs."""

import logging

import numpy as np
import tensorflow as tf

from env_toys import Rewarding
from tfpolicy.environments import BatchedPyEnvironment
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.metrics import metric_utils, py_metrics, tf_metrics
from tfpolicy.policies import RandomPyPolicy, RandomTFPolicy


def test_compute_runs_whole_episodes_and_returns_results_in_order():
    env = Rewarding(3)
    policy = RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
    metrics = [py_metrics.AverageReturnMetric(), py_metrics.NumberOfEpisodes(),
               py_metrics.EnvironmentSteps()]
    results = metric_utils.compute(metrics, env, policy, num_episodes=2)
    # Each episode returns 1 + 2 + 3 = 6 over 3 steps.
    assert list(results) == ["AverageReturn", "NumberOfEpisodes", "EnvironmentSteps"]
    assert (float(results["AverageReturn"]), int(results["NumberOfEpisodes"]),
            int(results["EnvironmentSteps"])) == (6.0, 2, 6)


def test_compute_resets_metrics_and_the_environment_first():
    env = Rewarding(2)
    policy = RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
    episodes, steps = py_metrics.NumberOfEpisodes(), py_metrics.EnvironmentSteps()
    metric_utils.compute([episodes, steps], env, policy, num_episodes=1)
    env.reset()
    env.step(np.int64(0))                      # left mid-episode: one step to go
    results = metric_utils.compute([episodes, steps], env, policy, num_episodes=1)
    # A fresh episode of 2 steps; without the resets: 2 episodes and 2 + 1 steps.
    assert (int(results["NumberOfEpisodes"]), int(results["EnvironmentSteps"])) == (1, 2)


def test_eager_compute_matches_the_hand_count_and_writes_summaries(tmp_path):
    env = TFPyEnvironment(BatchedPyEnvironment([Rewarding(2), Rewarding(3)]))
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
    metrics = [tf_metrics.AverageReturnMetric(batch_size=2), tf_metrics.NumberOfEpisodes()]
    writer = tf.summary.create_file_writer(str(tmp_path))
    results = metric_utils.eager_compute(metrics, env, policy, num_episodes=3,
                                         train_step=tf.constant(5, tf.int64),
                                         summary_writer=writer, summary_prefix="Eval")
    writer.flush()
    # Entry 0 ends episodes (return 1 + 2 = 3) at turns 2 and 4, entry 1 (1 + 2 + 3 = 6)
    # at turn 3: three episodes after four turns, mean (3 + 6 + 3) / 3 = 4.
    assert int(results["NumberOfEpisodes"]) == 3
    assert float(results["AverageReturn"]) == 4.0
    events = sorted((value.tag, record.step, float(tf.make_ndarray(value.tensor)))
                    for path in tmp_path.iterdir()
                    for record in tf.compat.v1.train.summary_iterator(str(path))
                    for value in record.summary.value)
    assert events == [("Eval/AverageReturn", 5, 4.0), ("Eval/NumberOfEpisodes", 5, 3.0)]


def test_eager_compute_op_by_op_gives_the_same_results_and_restores_the_setting():
    env = TFPyEnvironment(Rewarding(2))
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
    returns = tf_metrics.AverageReturnMetric()
    results = metric_utils.eager_compute([returns], env, policy, num_episodes=2,
                                         use_function=False)
    assert float(results["AverageReturn"]) == 3.0
    assert not tf.config.functions_run_eagerly()


def test_log_metrics_writes_one_record_with_every_metric(caplog):
    counter = py_metrics.CounterMetric()
    counter()
    with caplog.at_level(logging.INFO):
        metric_utils.log_metrics([counter, py_metrics.NumberOfEpisodes()], prefix="step 3")
    assert caplog.records[-1].getMessage() == "step 3 \n\t\t Counter = 1\n\t\t NumberOfEpisodes = 0"
