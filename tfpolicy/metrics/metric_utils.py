"""Evaluating a policy with metrics: TF-Agents' `eval.metric_utils`.

`compute` runs a numpy policy in a `PyEnvironment` for some episodes with
`py_metrics` observing; `eager_compute` does the same for a `TFPolicy` in a
TensorFlow environment with `tf_metrics`, compiled, and can write the
results as summaries. Both reset the metrics and the environment first and
return `{metric.name: metric.result()}` in the metrics' order.

>>> from tfpolicy import environments
>>> from tfpolicy.metrics import py_metrics
>>> from tfpolicy.policies import RandomPyPolicy
>>> env = environments.load("CartPole-v1", seed=0)
>>> policy = RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
>>> results = compute([py_metrics.NumberOfEpisodes()], env, policy, num_episodes=2)
>>> int(results["NumberOfEpisodes"])
2
"""

import collections
import contextlib
import logging
from typing import Any, Dict, Iterator, Optional, Sequence

import tensorflow as tf

from tfpolicy.drivers.dynamic_episode_driver import DynamicEpisodeDriver
from tfpolicy.drivers.py_driver import PyDriver
from tfpolicy.metrics._summaries import write_scalar

__all__ = ["compute", "eager_compute", "log_metrics"]


def _results(metrics: Sequence[Any]) -> Dict[str, Any]:
    return collections.OrderedDict((metric.name, metric.result()) for metric in metrics)


def log_metrics(metrics: Sequence[Any], prefix: str = "") -> None:
    """Logs every metric's `name = result` on one INFO record, after `prefix`.

    Args:
      metrics: metrics with `name` and `result()` (numpy or TensorFlow ones).
      prefix: text to start the record with, e.g. the training step.
    """
    lines = [f"{metric.name} = {metric.result()}" for metric in metrics]
    logging.info("%s \n\t\t %s", prefix, "\n\t\t ".join(lines))


def compute(metrics: Sequence[Any], environment: Any, policy: Any,
            num_episodes: int = 1) -> Dict[str, Any]:
    """Runs `policy` in `environment` for `num_episodes` episodes, observed by `metrics`.

    Args:
      metrics: `py_metrics` (or any callables with `name`, `result()` and
        `reset()`) to reset and hand every trajectory.
      environment: a `PyEnvironment`, batched or not; it is reset first.
      policy: a `PyPolicy` (wrap a `TFPolicy` in `PyTFEagerPolicy`).
      num_episodes: episodes to run, summed over the batch.

    Returns:
      `{metric.name: metric.result()}`, in the order of `metrics`.

    Raises:
      ValueError: `num_episodes` is not a positive integer (from `PyDriver`).
    """
    for metric in metrics:
        metric.reset()
    time_step = environment.reset()
    policy_state = policy.get_initial_state(environment.batch_size)
    driver = PyDriver(environment, policy, observers=list(metrics), max_episodes=num_episodes)
    driver.run(time_step, policy_state)
    return _results(metrics)


def eager_compute(metrics: Sequence[Any], environment: Any, policy: Any, num_episodes: int = 1,
                  train_step: Optional[Any] = None,
                  summary_writer: Optional[tf.summary.SummaryWriter] = None,
                  summary_prefix: str = "", use_function: bool = True) -> Dict[str, Any]:
    """Runs a `TFPolicy` in a TensorFlow environment for `num_episodes` episodes.

    Args:
      metrics: `tf_metrics` observers, reset first.
      environment: a `TFEnvironment` (e.g. a `TFPyEnvironment`); it is reset
        first.
      policy: a `TFPolicy` with the environment's specs.
      num_episodes: episodes to run, summed over the batch.
      train_step: the step to write summaries at; with `summary_writer`,
        each result is written as a scalar tagged
        `'<summary_prefix>/<metric.name>'` (just the name without a prefix).
      summary_writer: a `tf.summary` writer, or None for no summaries.
      summary_prefix: the tags' prefix.
      use_function: True runs the episodes in one `tf.function`
        (`DynamicEpisodeDriver`); False runs them op by op, for debugging.

    Returns:
      `{metric.name: metric.result()}`, in the order of `metrics`.
    """
    for metric in metrics:
        metric.reset()
    time_step = environment.reset()
    policy_state = policy.get_initial_state(environment.batch_size)
    driver = DynamicEpisodeDriver(environment, policy, observers=list(metrics),
                                  num_episodes=num_episodes)
    if use_function:
        driver.run(time_step, policy_state)
    else:
        with _op_by_op():
            driver.run(time_step, policy_state)
    results = _results(metrics)
    if train_step is not None and summary_writer is not None:
        with summary_writer.as_default():
            for name, result in results.items():
                tag = f"{summary_prefix}/{name}" if summary_prefix else name
                write_scalar(tag, result, tf.cast(train_step, tf.int64))
    return results


@contextlib.contextmanager
def _op_by_op() -> Iterator[None]:
    """Runs `tf.function`s eagerly inside the block, then restores the setting."""
    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(before)
