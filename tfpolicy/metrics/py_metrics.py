"""Episode metrics computed in numpy, as driver observers.

A metric is called with every `Trajectory` a `PyDriver` produces, batched
(`[B]` leaves) or not, and keeps its state between calls, so episodes that
span several `run` calls are measured whole. Per batch entry it follows the
step types: a transition out of a FIRST step starts an episode, one into a
LAST step ends it, and boundary transitions (LAST -> FIRST) carry no step,
reward or length.

>>> import numpy as np
>>> from tfpolicy.trajectories import trajectory as traj
>>> metric = AverageReturnMetric(buffer_size=2)
>>> rows = [traj.first(0, 0, (), 1.0, np.float32(1)), traj.last(0, 0, (), 2.0, np.float32(0)),
...         traj.boundary(0, 0, (), 9.0, np.float32(1)), traj.single_step(0, 0, (), 5.0, np.float32(0))]
>>> for row in rows:
...     metric(row)
>>> float(metric.result()), metric.values()
(4.0, [3.0, 5.0])
"""

import abc
import collections
import logging
from typing import Any, Deque, List, Optional

import numpy as np
import tree

from tfpolicy.trajectories.time_step import StepType
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = [
    "AverageEpisodeLengthMetric",
    "AverageReturnMetric",
    "CounterMetric",
    "EnvironmentSteps",
    "NumberOfEpisodes",
    "PyMetric",
    "PyStepMetric",
    "StreamingMetric",
]


class PyMetric(abc.ABC):
    """A numpy metric: called to update, `result()` to read, `reset()` to start over.

    Subclasses implement `call(*args)`, `result()` and `reset()`; calling the
    metric calls `call` and returns None.

    Args:
      name: the metric's name, e.g. for summaries ('Counter').
    """

    def __init__(self, name: str):
        self._name = name

    @property
    def name(self) -> str:
        """The metric's name."""
        return self._name

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """Updates the metric; see `call`."""
        self.call(*args, **kwargs)

    @abc.abstractmethod
    def call(self, *args: Any, **kwargs: Any) -> None:
        """Updates the metric's state."""

    @abc.abstractmethod
    def result(self) -> Any:
        """The metric's current value."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forgets everything seen so far."""

    def log(self) -> None:
        """Logs `name = result` at INFO level."""
        logging.info("%s = %s", self._name, self.result())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, result={self.result()!r})"


class PyStepMetric(PyMetric):
    """A metric updated with every trajectory a driver produces.

    A subclass implements either TF-Agents' `call(trajectory)`, which gets
    the `Trajectory` as the driver hands it (batched or not), or
    `_update(step_type, next_step_type, reward)`, which gets `[B]` arrays
    with the reward checked to be one scalar per step. It also implements
    `result()` and `reset()`. Calling the metric with a `Trajectory` updates
    it and returns None, so it fits `PyDriver`'s `observers`.

    Args:
      name: the metric's name, e.g. for summaries ('AverageReturn').

    Raises:
      TypeError: the subclass implements neither `call` nor `_update`.
    """

    def __init__(self, name: str):
        super().__init__(name)
        cls = type(self)
        if cls.call is PyStepMetric.call and cls._update is PyStepMetric._update:
            raise TypeError(f"{cls.__name__}: a PyStepMetric implements call(trajectory) or "
                            f"_update(step_type, next_step_type, reward); it has neither")

    def call(self, trajectory: Trajectory) -> None:
        """Updates the metric with one (batched or unbatched) transition."""
        if not isinstance(trajectory, Trajectory):
            raise TypeError(f"{self._name}: expected a Trajectory, got "
                            f"{type(trajectory).__name__}")
        reward = trajectory.reward
        if not hasattr(reward, "shape") and not isinstance(reward, (int, float, np.number)):
            raise TypeError(
                f"{self._name}: the trajectory's reward must be one array per step, got a "
                f"{type(reward).__name__} nest; measure nested rewards with a metric of your own")
        step_type = np.atleast_1d(np.asarray(trajectory.step_type))
        next_step_type = np.atleast_1d(np.asarray(trajectory.next_step_type))
        reward = np.atleast_1d(np.asarray(reward))
        if reward.shape != step_type.shape:
            raise ValueError(
                f"{self._name}: trajectory 'reward' has shape {reward.shape} but 'step_type' "
                f"has {step_type.shape}; rewards must be one scalar per step")
        self._update(step_type, next_step_type, reward)

    def _update(self, step_type: np.ndarray, next_step_type: np.ndarray,
                reward: np.ndarray) -> None:
        """Updates the state with `[B]` step types and rewards of one transition."""
        raise TypeError(f"{type(self).__name__} implements call(trajectory); "
                        f"call the metric with a Trajectory")


class CounterMetric(PyMetric):
    """Counts its calls, e.g. training iterations: `counter()` adds one.

    Args:
      name: the metric's name.
    """

    def __init__(self, name: str = "Counter"):
        super().__init__(name)
        self._count = 0

    def call(self) -> None:
        """Adds one to the count."""
        self._count += 1

    def result(self) -> np.int64:
        """int64: the calls counted so far."""
        return np.int64(self._count)

    def reset(self) -> None:
        self._count = 0


class EnvironmentSteps(PyStepMetric):
    """The number of environment steps taken (boundary transitions excluded), over the batch."""

    def __init__(self, name: str = "EnvironmentSteps"):
        super().__init__(name)
        self._count = 0

    def _update(self, step_type: np.ndarray, next_step_type: np.ndarray,
                reward: np.ndarray) -> None:
        self._count += int(np.count_nonzero(step_type != StepType.LAST))

    def result(self) -> np.int64:
        """int64: steps counted so far."""
        return np.int64(self._count)

    def reset(self) -> None:
        self._count = 0


class NumberOfEpisodes(PyStepMetric):
    """The number of episodes ended (transitions into a LAST step), over the batch."""

    def __init__(self, name: str = "NumberOfEpisodes"):
        super().__init__(name)
        self._count = 0

    def _update(self, step_type: np.ndarray, next_step_type: np.ndarray,
                reward: np.ndarray) -> None:
        self._count += int(np.count_nonzero(next_step_type == StepType.LAST))

    def result(self) -> np.int64:
        """int64: episodes counted so far."""
        return np.int64(self._count)

    def reset(self) -> None:
        self._count = 0


def _check_buffer_and_batch(name: str, buffer_size: Any, batch_size: Any) -> None:
    if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) \
            or buffer_size < 1:
        raise ValueError(f"{name}: buffer_size must be a positive integer, got {buffer_size!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f"{name}: batch_size must be a positive integer or None, "
                         f"got {batch_size!r}")


class StreamingMetric(PyStepMetric):
    """A step metric whose result is the mean of its last `buffer_size` values.

    TF-Agents' base for per-episode averages. A subclass implements
    `_reset(batch_size)` (set up per-entry state) and
    `_batched_call(trajectory)` (update from a trajectory with `[B]` leaves,
    appending finished values with `add_to_buffer`). An unbatched trajectory
    is given a batch dim of 1 first, and `batch_size=None` takes the batch
    size from the first trajectory.

    Args:
      name: the metric's name.
      buffer_size: how many of the most recent values the mean covers.
      batch_size: the trajectories' batch size; None infers it.

    Raises:
      ValueError: `buffer_size` is not a positive integer, or `batch_size`
        is neither None nor a positive integer.
    """

    def __init__(self, name: str = "StreamingMetric", buffer_size: int = 10,
                 batch_size: Optional[int] = None):
        super().__init__(name)
        _check_buffer_and_batch(name, buffer_size, batch_size)
        self._buffer_size = int(buffer_size)
        self._batch_size = batch_size
        self._window: Deque[float] = collections.deque(maxlen=self._buffer_size)
        self.reset()

    @abc.abstractmethod
    def _reset(self, batch_size: int) -> None:
        """Sets up the per-entry state for `batch_size` entries."""

    @abc.abstractmethod
    def _batched_call(self, trajectory: Trajectory) -> None:
        """Updates from a trajectory whose leaves have a `[B]` outer dim."""

    def call(self, trajectory: Trajectory) -> None:
        """Updates the metric with one (batched or unbatched) transition."""
        if not isinstance(trajectory, Trajectory):
            raise TypeError(f"{self._name}: expected a Trajectory, got "
                            f"{type(trajectory).__name__}")
        rank = np.ndim(trajectory.step_type)
        if rank > 1:
            raise ValueError(f"{self._name}: trajectory 'step_type' must have shape [] or [B], "
                             f"got {np.shape(trajectory.step_type)}")
        if rank == 0:
            trajectory = tree.map_structure(lambda x: np.expand_dims(np.asarray(x), 0),
                                            trajectory)
        batch_size = np.shape(trajectory.step_type)[0]
        if self._batch_size is None:
            self._batch_size = batch_size
            self._reset(batch_size)
        elif batch_size != self._batch_size:
            raise ValueError(
                f"{self._name}: got a trajectory with batch shape {(batch_size,)} after "
                f"{(self._batch_size,)}; use one metric per environment")
        self._batched_call(trajectory)

    def add_to_buffer(self, values: Any) -> None:
        """Appends values to the window, dropping the oldest beyond `buffer_size`."""
        self._window.extend(np.asarray(values, np.float64).ravel().tolist())

    def values(self) -> List[float]:
        """The values in the window, oldest first (at most `buffer_size`)."""
        return list(self._window)

    def result(self) -> np.float32:
        """float32: the mean over the window; 0 before any value was added."""
        if not self._window:
            return np.float32(0.0)
        return np.float32(np.mean(self._window))

    def reset(self) -> None:
        self._window.clear()
        if self._batch_size is not None:
            self._reset(self._batch_size)


class _EpisodeWindowMetric(StreamingMetric):
    """Accumulates a per-entry quantity over each episode; averages the last `buffer_size`."""

    def __init__(self, name: str, buffer_size: int, batch_size: Optional[int]):
        self._accumulated = np.zeros((0,), np.float64)
        super().__init__(name, buffer_size, batch_size)

    @abc.abstractmethod
    def _increment(self, reward: np.ndarray) -> np.ndarray:
        """What one non-boundary step adds to each entry's episode total."""

    def _reset(self, batch_size: int) -> None:
        self._accumulated = np.zeros((batch_size,), np.float64)

    def _batched_call(self, trajectory: Trajectory) -> None:
        reward = trajectory.reward
        if not hasattr(reward, "shape") and not isinstance(reward, (int, float, np.number)):
            raise TypeError(
                f"{self._name}: the trajectory's reward must be one array per step, got a "
                f"{type(reward).__name__} nest; measure nested rewards with a metric of your own")
        step_type = np.asarray(trajectory.step_type)
        next_step_type = np.asarray(trajectory.next_step_type)
        reward = np.asarray(reward)
        if reward.shape != step_type.shape:
            raise ValueError(
                f"{self._name}: trajectory 'reward' has shape {reward.shape} but 'step_type' "
                f"has {step_type.shape}; rewards must be one scalar per step")
        accumulated = self._accumulated
        accumulated[step_type == StepType.FIRST] = 0.0
        stepping = step_type != StepType.LAST
        accumulated[stepping] += self._increment(reward)[stepping]
        ended = np.flatnonzero(next_step_type == StepType.LAST)
        self.add_to_buffer(accumulated[ended])
        accumulated[ended] = 0.0


class AverageReturnMetric(_EpisodeWindowMetric):
    """The mean undiscounted return of the last `buffer_size` episodes.

    Args:
      name: the metric's name.
      buffer_size: how many of the most recent episodes (over all batch
        entries, in the order they end) the mean covers.
      batch_size: the batch size of the trajectories; None infers it from
        the first one (an unbatched trajectory counts as batch size 1).
    """

    def __init__(self, name: str = "AverageReturn", buffer_size: int = 10,
                 batch_size: Optional[int] = None):
        super().__init__(name, buffer_size, batch_size)

    def _increment(self, reward: np.ndarray) -> np.ndarray:
        return reward


class AverageEpisodeLengthMetric(_EpisodeWindowMetric):
    """The mean length (non-boundary steps) of the last `buffer_size` episodes.

    Args:
      name: the metric's name.
      buffer_size: how many of the most recent episodes the mean covers.
      batch_size: as in `AverageReturnMetric`.
    """

    def __init__(self, name: str = "AverageEpisodeLength", buffer_size: int = 10,
                 batch_size: Optional[int] = None):
        super().__init__(name, buffer_size, batch_size)

    def _increment(self, reward: np.ndarray) -> np.ndarray:
        return np.ones(reward.shape, np.float64)
