"""Episode metrics kept in `tf.Variable`s, as observers of the compiled drivers.

The TensorFlow counterparts of `tfpolicy.metrics.py_metrics`, under
TF-Agents' names. A metric is called with every `Trajectory` a
`DynamicStepDriver` or `DynamicEpisodeDriver` produces (tensors with outer
dim `[B]`) and returns that trajectory, so it is an ordinary driver observer
that runs on every step of the compiled loop. Its state lives in variables
created once, in the constructor; `result()` reads them as a tensor.

Counting follows the numpy metrics: per batch entry, a transition out of a
FIRST step starts an episode, one into a LAST step ends it, and boundary
transitions (LAST -> FIRST) carry no step, reward or length. A driver run
therefore gives the same numbers to both kinds of metrics.

>>> import tensorflow as tf
>>> from tfpolicy.trajectories import trajectory as traj
>>> metric = AverageReturnMetric(buffer_size=2)
>>> rows = [traj.first(0, 0, (), 1.0, 1.0), traj.last(0, 0, (), 2.0, 0.0),
...         traj.boundary(0, 0, (), 9.0, 1.0), traj.single_step(0, 0, (), 5.0, 0.0)]
>>> for row in rows:
...     _ = metric(tf.nest.map_structure(lambda x: tf.constant([x]), row))
>>> float(metric.result()), metric.values().numpy().tolist()
(4.0, [3.0, 5.0])
"""

import abc
import operator
from typing import Any, List, Optional, Sequence

import tensorflow as tf
import tree

from tfpolicy.metrics._summaries import write_scalar
from tfpolicy.trajectories.time_step import StepType
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = [
    "AverageEpisodeLengthMetric",
    "AverageReturnMetric",
    "ChosenActionHistogram",
    "EnvironmentSteps",
    "MaxReturnMetric",
    "MinReturnMetric",
    "NumberOfEpisodes",
    "TFHistogramStepMetric",
    "TFStepMetric",
]


class TFStepMetric(tf.Module, abc.ABC):
    """A metric updated in-graph with every trajectory a driver produces.

    Subclasses create their variables in `__init__` and implement
    `call(trajectory)` with TensorFlow ops (no Python branching on tensor
    values: the drivers trace their observers without AutoGraph),
    `result()` and `reset()`. Calling the metric runs `call`.

    Args:
      name: the metric's name (a valid `tf.Module` name), used in summary tags.
      prefix: the summary tag prefix; tags are `'<prefix>/<name>'`.
    """

    def __init__(self, name: str, prefix: str = "Metrics"):
        super().__init__(name=name)
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        """The summary tag prefix."""
        return self._prefix

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Updates the metric (see `call`); returns what `call` returns."""
        return self.call(*args, **kwargs)

    @abc.abstractmethod
    def call(self, trajectory: Trajectory) -> Trajectory:
        """Updates the state with one batched `Trajectory`; returns the trajectory."""

    @abc.abstractmethod
    def result(self) -> tf.Tensor:
        """The metric's current value, as a tensor."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forgets everything seen so far (zeroes the variables)."""

    def init_variables(self) -> None:
        """Kept for TF-Agents code that calls it; returns None.

        The variables are created initialized in the constructor, and there
        are no TF1 sessions to run an initializer op in, so there is nothing
        to do (TF-Agents too does nothing under eager execution).
        """
        return None

    def _summary(self, name: str, data: tf.Tensor, step: Any) -> Any:
        return write_scalar(name, data, step)

    def tf_summaries(self, train_step: Optional[Any] = None,
                     step_metrics: Sequence["TFStepMetric"] = ()) -> List[Any]:
        """Writes the result to the default `tf.summary` writer.

        Args:
          train_step: if not None, the result is written under
            `'<prefix>/<name>'` at this step.
          step_metrics: metrics whose results serve as steps (e.g.
            `EnvironmentSteps`): the result is written under
            `'<prefix>_vs_<step metric name>/<name>'` at each one's result
            (cast to int64). A metric of this one's name is skipped.

        Returns:
          What `tf.summary` returned for each write (bools, False without
          a default writer).
        """
        result = self.result()
        summaries = []
        if train_step is not None:
            tag = f"{self._prefix}/{self.name}" if self._prefix else self.name
            summaries.append(self._summary(tag, result, tf.cast(train_step, tf.int64)))
        prefix = f"{self._prefix}_" if self._prefix else ""
        for step_metric in step_metrics:
            if step_metric.name == self.name:
                continue
            summaries.append(self._summary(f"{prefix}vs_{step_metric.name}/{self.name}", result,
                                           tf.cast(step_metric.result(), tf.int64)))
        return summaries


class TFHistogramStepMetric(TFStepMetric):
    """A `TFStepMetric` whose result is a vector, summarized as a histogram."""

    def _summary(self, name: str, data: tf.Tensor, step: Any) -> Any:
        return tf.summary.histogram(name=name, data=data, step=step)  # needs TensorBoard


def _check_positive(value: Any, what: str, metric: str) -> int:
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < 1:
        raise ValueError(f"{metric}: {what} must be a positive integer, got {value!r}")
    return number


def _step_types(trajectory: Any, metric: str) -> tuple:
    """The step types of a trajectory as `[B]` int32 tensors (an unbatched one is `[1]`)."""
    if not isinstance(trajectory, Trajectory):
        raise TypeError(f"{metric}: expected a Trajectory, got {type(trajectory).__name__}")
    step_type = tf.reshape(tf.cast(trajectory.step_type, tf.int32), [-1])
    next_step_type = tf.reshape(tf.cast(trajectory.next_step_type, tf.int32), [-1])
    return step_type, next_step_type


def _passed_through(trajectory: Trajectory, updates: Sequence[Any]) -> Trajectory:
    """The trajectory, ordered after `updates` when traced (so the driver's next step waits)."""
    if tf.executing_eagerly():
        return trajectory
    with tf.control_dependencies(updates):
        return tree.map_structure(tf.identity, trajectory)


class _Window(tf.Module):
    """The last `capacity` values added (a ring buffer in a variable); oldest first."""

    def __init__(self, capacity: int, dtype: tf.DType, name: str):
        super().__init__(name=name)
        self._capacity = capacity
        with self.name_scope:
            self._data = tf.Variable(tf.zeros([capacity], dtype), trainable=False, name="data")
            self._head = tf.Variable(tf.constant(0, tf.int64), trainable=False, name="head")

    def extend(self, values: tf.Tensor) -> Optional[tf.Operation]:
        """Appends the `[K]` values in order; only the last `capacity` of them can stay."""
        count = tf.size(values, out_type=tf.int64)
        keep = tf.minimum(count, self._capacity)
        values = values[count - keep:]
        head = self._head.read_value()
        positions = tf.math.floormod(head + (count - keep) + tf.range(keep), self._capacity)
        write = self._data.scatter_nd_update(positions[:, None], values)
        with tf.control_dependencies([write]):
            return self._head.assign_add(count, read_value=False)

    def length(self) -> tf.Tensor:
        return tf.minimum(self._head.read_value(), self._capacity)

    def values(self) -> tf.Tensor:
        """`[length]`: the values held, oldest first."""
        head = self._head.read_value()
        length = tf.minimum(head, self._capacity)
        return tf.gather(self._data, tf.math.floormod(head - length + tf.range(length),
                                                      self._capacity))

    def mean(self) -> tf.Tensor:
        """Scalar: the mean of the values held; 0 when empty.

        Slots not yet written hold zeros, so the sum needs no gather.
        """
        return tf.math.divide_no_nan(tf.reduce_sum(self._data),
                                     tf.cast(self.length(), self._data.dtype))

    def reset(self) -> None:
        self._data.assign(tf.zeros_like(self._data))
        self._head.assign(0)


class _Counter(TFStepMetric):
    """Sums, over the batch, the entries `_counts` marks in each trajectory."""

    def __init__(self, name: str, prefix: str, dtype: tf.DType, variable_name: str):
        super().__init__(name=name, prefix=prefix)
        self.dtype = tf.as_dtype(dtype)
        with self.name_scope:
            self._count = tf.Variable(tf.zeros([], self.dtype), trainable=False,
                                      name=variable_name)

    @abc.abstractmethod
    def _counts(self, step_type: tf.Tensor, next_step_type: tf.Tensor) -> tf.Tensor:
        """`[B]`: what each entry of this trajectory adds to the count."""

    def call(self, trajectory: Trajectory) -> Trajectory:
        step_type, next_step_type = _step_types(trajectory, self.name)
        counted = tf.reduce_sum(tf.cast(self._counts(step_type, next_step_type), self.dtype))
        return _passed_through(trajectory, [self._count.assign_add(counted, read_value=False)])

    def result(self) -> tf.Tensor:
        """Scalar of `dtype`: the count so far."""
        return tf.identity(self._count)

    def reset(self) -> None:
        self._count.assign(tf.zeros_like(self._count))


class EnvironmentSteps(_Counter):
    """The number of environment steps taken (boundary transitions excluded), over the batch.

    Args:
      name: the metric's name.
      prefix: the summary tag prefix.
      dtype: the count's dtype.
    """

    def __init__(self, name: str = "EnvironmentSteps", prefix: str = "Metrics",
                 dtype: tf.DType = tf.int64):
        super().__init__(name, prefix, dtype, "environment_steps")

    @property
    def environment_steps(self) -> tf.Variable:
        """The variable holding the count."""
        return self._count

    def _counts(self, step_type: tf.Tensor, next_step_type: tf.Tensor) -> tf.Tensor:
        return tf.not_equal(step_type, int(StepType.LAST))


class NumberOfEpisodes(_Counter):
    """The number of episodes ended (transitions into a LAST step), over the batch.

    Args:
      name: the metric's name.
      prefix: the summary tag prefix.
      dtype: the count's dtype.
    """

    def __init__(self, name: str = "NumberOfEpisodes", prefix: str = "Metrics",
                 dtype: tf.DType = tf.int64):
        super().__init__(name, prefix, dtype, "number_episodes")

    @property
    def number_episodes(self) -> tf.Variable:
        """The variable holding the count."""
        return self._count

    def _counts(self, step_type: tf.Tensor, next_step_type: tf.Tensor) -> tf.Tensor:
        return tf.equal(next_step_type, int(StepType.LAST))


class _EpisodeWindowMetric(TFStepMetric):
    """Accumulates a per-entry quantity over each episode; keeps the last `buffer_size` totals."""

    def __init__(self, name: str, prefix: str, dtype: tf.DType, batch_size: int,
                 buffer_size: int):
        super().__init__(name=name, prefix=prefix)
        self._batch_size = _check_positive(batch_size, "batch_size", name)
        self._buffer_size = _check_positive(buffer_size, "buffer_size", name)
        self._dtype = tf.as_dtype(dtype)
        with self.name_scope:
            self._accumulator = tf.Variable(tf.zeros([self._batch_size], self._dtype),
                                            trainable=False, name="Accumulator")
            self._window = _Window(self._buffer_size, self._dtype, name="Buffer")

    @abc.abstractmethod
    def _increment(self, trajectory: Trajectory) -> tf.Tensor:
        """`[B]`: what one non-boundary step adds to each entry's episode total."""

    def _check_batch(self, step_type: tf.Tensor) -> List[Any]:
        size = step_type.shape[0]
        if size is not None:
            if size != self._batch_size:
                raise ValueError(
                    f"{self.name}: got a trajectory with batch size {size}, but the metric was "
                    f"made for batch_size={self._batch_size}; pass "
                    f"batch_size=env.batch_size to the metric")
            return []
        return [tf.debugging.assert_equal(
            tf.size(step_type), self._batch_size,
            message=f"{self.name}: the trajectory's batch size differs from batch_size")]

    def call(self, trajectory: Trajectory) -> Trajectory:
        step_type, next_step_type = _step_types(trajectory, self.name)
        checks = self._check_batch(step_type)
        with tf.control_dependencies(checks):
            zeros = tf.zeros([self._batch_size], self._dtype)
            total = tf.where(tf.equal(step_type, int(StepType.FIRST)), zeros,
                             self._accumulator.read_value())
            stepping = tf.not_equal(step_type, int(StepType.LAST))
            total += tf.where(stepping, self._increment(trajectory), zeros)
            ended = tf.equal(next_step_type, int(StepType.LAST))
            added = self._window.extend(tf.boolean_mask(total, ended))
            with tf.control_dependencies([added]):
                stored = self._accumulator.assign(tf.where(ended, zeros, total), read_value=False)
        return _passed_through(trajectory, [stored])

    def values(self) -> tf.Tensor:
        """`[n]`: the episode totals in the window, oldest first (`n <= buffer_size`)."""
        return self._window.values()

    def reset(self) -> None:
        self._window.reset()
        self._accumulator.assign(tf.zeros_like(self._accumulator))


class _ReturnWindowMetric(_EpisodeWindowMetric):
    """Totals the reward, summed over any dims after the batch dim."""

    def _increment(self, trajectory: Trajectory) -> tf.Tensor:
        reward = trajectory.reward
        if tree.is_nested(reward):
            raise TypeError(
                f"{self.name}: the trajectory's reward must be one tensor, got a "
                f"{type(reward).__name__} nest; measure nested rewards with a metric of your own")
        reward = tf.cast(reward, self._dtype)
        return tf.reduce_sum(tf.reshape(reward, [self._batch_size, -1]), axis=1)


class AverageReturnMetric(_ReturnWindowMetric):
    """The mean undiscounted return of the last `buffer_size` episodes.

    Args:
      name: the metric's name.
      prefix: the summary tag prefix.
      dtype: the dtype returns are summed in.
      batch_size: the batch size `B` of the trajectories (the env's).
      buffer_size: how many of the most recent episodes (over all batch
        entries, in the order they end) the mean covers.

    Raises:
      ValueError: `batch_size` or `buffer_size` is not a positive integer.
    """

    def __init__(self, name: str = "AverageReturn", prefix: str = "Metrics",
                 dtype: tf.DType = tf.float32, batch_size: int = 1, buffer_size: int = 10):
        super().__init__(name, prefix, dtype, batch_size, buffer_size)

    def result(self) -> tf.Tensor:
        """Scalar: the mean return over the window; 0 before any episode ended."""
        return self._window.mean()


class MaxReturnMetric(_ReturnWindowMetric):
    """The largest undiscounted return of the last `buffer_size` episodes.

    Args: as `AverageReturnMetric`.
    """

    def __init__(self, name: str = "MaxReturn", prefix: str = "Metrics",
                 dtype: tf.DType = tf.float32, batch_size: int = 1, buffer_size: int = 10):
        super().__init__(name, prefix, dtype, batch_size, buffer_size)

    def result(self) -> tf.Tensor:
        """Scalar: the largest return in the window; `dtype.min` before any episode ended."""
        return tf.reduce_max(tf.concat([[self._dtype.min], self._window.values()], 0))


class MinReturnMetric(_ReturnWindowMetric):
    """The smallest undiscounted return of the last `buffer_size` episodes.

    Args: as `AverageReturnMetric`.
    """

    def __init__(self, name: str = "MinReturn", prefix: str = "Metrics",
                 dtype: tf.DType = tf.float32, batch_size: int = 1, buffer_size: int = 10):
        super().__init__(name, prefix, dtype, batch_size, buffer_size)

    def result(self) -> tf.Tensor:
        """Scalar: the smallest return in the window; `dtype.max` before any episode ended."""
        return tf.reduce_min(tf.concat([[self._dtype.max], self._window.values()], 0))


class AverageEpisodeLengthMetric(_EpisodeWindowMetric):
    """The mean length (non-boundary steps) of the last `buffer_size` episodes.

    Args: as `AverageReturnMetric`.
    """

    def __init__(self, name: str = "AverageEpisodeLength", prefix: str = "Metrics",
                 dtype: tf.DType = tf.float32, batch_size: int = 1, buffer_size: int = 10):
        super().__init__(name, prefix, dtype, batch_size, buffer_size)

    def _increment(self, trajectory: Trajectory) -> tf.Tensor:
        return tf.ones([self._batch_size], self._dtype)

    def result(self) -> tf.Tensor:
        """Scalar: the mean episode length over the window; 0 before any episode ended."""
        return self._window.mean()


class ChosenActionHistogram(TFHistogramStepMetric):
    """The last `buffer_size` actions chosen, for a histogram of their frequencies.

    Every action element of every batch entry (boundary transitions
    included, as in TF-Agents) is appended, in batch order.

    Args:
      name: the metric's name.
      dtype: the dtype actions are stored in.
      buffer_size: how many of the most recent action elements are kept.

    Raises:
      ValueError: `buffer_size` is not a positive integer.
    """

    def __init__(self, name: str = "ChosenActionHistogram", dtype: tf.DType = tf.int32,
                 buffer_size: int = 100):
        super().__init__(name=name)
        self._dtype = tf.as_dtype(dtype)
        with self.name_scope:
            self._window = _Window(_check_positive(buffer_size, "buffer_size", name),
                                   self._dtype, name="Buffer")

    def call(self, trajectory: Trajectory) -> Trajectory:
        if not isinstance(trajectory, Trajectory):
            raise TypeError(f"{self.name}: expected a Trajectory, got "
                            f"{type(trajectory).__name__}")
        if tree.is_nested(trajectory.action):
            raise TypeError(f"{self.name}: the trajectory's action must be one tensor, got a "
                            f"{type(trajectory.action).__name__} nest")
        action = tf.reshape(tf.cast(trajectory.action, self._dtype), [-1])
        return _passed_through(trajectory, [self._window.extend(action)])

    def result(self) -> tf.Tensor:
        """`[n]`: the actions held, oldest first (`n <= buffer_size`)."""
        return self._window.values()

    def reset(self) -> None:
        self._window.reset()
