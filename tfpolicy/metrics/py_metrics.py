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
from typing import Any, Deque, List, Optional

import numpy as np

from tfpolicy.trajectories.time_step import StepType
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = [
    "AverageEpisodeLengthMetric",
    "AverageReturnMetric",
    "EnvironmentSteps",
    "NumberOfEpisodes",
    "PyStepMetric",
]


class PyStepMetric(abc.ABC):
    """A metric updated with every trajectory a driver produces.

    Subclasses implement `_update(step_type, next_step_type, reward)` on
    `[B]` arrays, `result()` and `reset()`. Calling the metric with a
    `Trajectory` updates it and returns None, so it fits `PyDriver`'s
    `observers`.

    Args:
      name: the metric's name, e.g. for summaries ('AverageReturn').
    """

    def __init__(self, name: str):
        self._name = name

    @property
    def name(self) -> str:
        """The metric's name."""
        return self._name

    def __call__(self, trajectory: Trajectory) -> None:
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

    @abc.abstractmethod
    def _update(self, step_type: np.ndarray, next_step_type: np.ndarray,
                reward: np.ndarray) -> None:
        """Updates the state with `[B]` step types and rewards of one transition."""

    @abc.abstractmethod
    def result(self) -> Any:
        """The metric's current value."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forgets everything seen so far."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, result={self.result()!r})"


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


class _EpisodeWindowMetric(PyStepMetric):
    """Accumulates a per-entry quantity over each episode; averages the last `buffer_size`."""

    def __init__(self, name: str, buffer_size: int, batch_size: Optional[int]):
        super().__init__(name)
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) \
                or buffer_size < 1:
            raise ValueError(f"{name}: buffer_size must be a positive integer, got {buffer_size!r}")
        if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
            raise ValueError(f"{name}: batch_size must be a positive integer or None, "
                             f"got {batch_size!r}")
        self._buffer_size = int(buffer_size)
        self._fixed_batch_size = batch_size
        self._window: Deque[float] = collections.deque(maxlen=self._buffer_size)
        self._accumulated: Optional[np.ndarray] = None
        self.reset()

    @abc.abstractmethod
    def _increment(self, reward: np.ndarray) -> np.ndarray:
        """What one non-boundary step adds to each entry's episode total."""

    def _update(self, step_type: np.ndarray, next_step_type: np.ndarray,
                reward: np.ndarray) -> None:
        if self._accumulated is None:
            self._accumulated = np.zeros(step_type.shape, np.float64)
        elif self._accumulated.shape != step_type.shape:
            raise ValueError(
                f"{self._name}: got a trajectory with batch shape {step_type.shape} after "
                f"{self._accumulated.shape}; use one metric per environment (or call reset())")
        accumulated = self._accumulated
        accumulated[step_type == StepType.FIRST] = 0.0
        stepping = step_type != StepType.LAST
        accumulated[stepping] += self._increment(reward)[stepping]
        ended = np.flatnonzero(next_step_type == StepType.LAST)
        self._window.extend(accumulated[ended].tolist())
        accumulated[ended] = 0.0

    def values(self) -> List[float]:
        """The episode values in the window, oldest first (at most `buffer_size`)."""
        return list(self._window)

    def result(self) -> np.float32:
        """float32: the mean over the window's episodes; 0 before any episode ended."""
        if not self._window:
            return np.float32(0.0)
        return np.float32(np.mean(self._window))

    def reset(self) -> None:
        self._window.clear()
        self._accumulated = (None if self._fixed_batch_size is None
                             else np.zeros((self._fixed_batch_size,), np.float64))


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
