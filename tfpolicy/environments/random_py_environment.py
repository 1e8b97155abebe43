"""`RandomPyEnvironment`: a numpy environment whose observations are random draws from a spec.

It stands in for a real environment where only the specs matter: testing a
policy, a driver, a replay buffer or a metric. Every observation is sampled
from `observation_spec` with the environment's own seeded `Generator`, so
two environments built with the same seed produce the same episodes for the
same calls. After each step the episode ends with probability
`episode_end_probability`, never before `min_duration` steps and always at
`max_duration`; in a batched environment the whole batch ends together.

>>> import numpy as np
>>> from specs import BoundedArraySpec
>>> env = RandomPyEnvironment(BoundedArraySpec((2,), np.float32, 0.0, 1.0),
...                           BoundedArraySpec((), np.int64, 0, 3),
...                           min_duration=2, max_duration=2, seed=0)
>>> [int(env.step(1).step_type) for _ in range(4)]
[0, 1, 2, 0]
>>> env.current_time_step().observation.shape
(2,)
"""

import numbers
from typing import Any, Callable, Optional, Sequence

import numpy as np

from specs import array_spec
from specs import NestedArray, NestedArraySpec
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories import time_step as ts_lib
from tfpolicy.trajectories.time_step import StepType, TimeStep

__all__ = ["RandomPyEnvironment", "RewardFn"]

RewardFn = Callable[[np.int32, NestedArray, NestedArray], Any]
"""`reward_fn(step_type, action, observation) -> reward`, as in TF-Agents."""

_RENDER_MODES = ("rgb_array",)


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"RandomPyEnvironment: {name} must be an integer >= {minimum}, "
                         f"got {value!r}")
    return int(value)


class RandomPyEnvironment(PyEnvironment):
    """Generates random observations that follow `observation_spec`.

    Actions are checked against `action_spec` like in every `PyEnvironment`
    (structure, dtype, shape and bounds, with errors naming the nest path);
    without an `action_spec` any action is accepted and passed to
    `reward_fn` as given.

    Each `step` inside an episode draws the observation first, then (unless
    `min_duration` or `max_duration` decides) one uniform number that ends
    the episode when below `episode_end_probability`; the reward is
    `reward_fn(StepType.LAST or StepType.MID, action, observation)`. MID steps
    carry `discount`, LAST steps 0.

    Args:
      observation_spec: a nest of `ArraySpec`s (bounded or not) to sample.
      action_spec: a nest of `ArraySpec`s the actions must match, or None for
        no check (`action_spec()` then returns `[]`, as in TF-Agents).
      episode_end_probability: the probability, in `[0, 1]`, that a step ends
        the episode.
      discount: the discount of MID steps: a scalar, or one per batch entry.
      reward_fn: called as `reward_fn(step_type, action, observation)` with
        the step type (a scalar `StepType.MID` or `StepType.LAST`), the checked
        action and the new observation; returns a reward of shape `()`, or
        `[batch_size]` when batched. None gives reward 0.
      batch_size: None for an unbatched environment; else every observation,
        reward and action carries an outer dim of this size.
      auto_reset: as in `PyEnvironment`: `step` after a LAST step starts a new
        episode (True), or raises `RuntimeError` asking for `reset()`.
      seed: the seed of the environment's `np.random.Generator` (None for
        fresh entropy); `seed(...)` re-seeds it.
      render_size: the shape of the random uint8 image `render()` returns.
      min_duration: the number of steps at the start of an episode during
        which it cannot end (the step with this count may end it).
      max_duration: the episode ends at the step with this count, whatever
        the probability; None for no limit.

    Raises:
      ValueError: `batch_size`, `min_duration` or `max_duration` is not a
        positive (or, for `min_duration`, non-negative) integer;
        `max_duration < min_duration`; `episode_end_probability` is outside
        `[0, 1]`; or `discount` does not match the batch.
    """

    def __init__(self, observation_spec: NestedArraySpec,
                 action_spec: Optional[NestedArraySpec] = None,
                 episode_end_probability: float = 0.1, discount: Any = 1.0,
                 reward_fn: Optional[RewardFn] = None, batch_size: Optional[int] = None,
                 auto_reset: bool = True, seed: Optional[int] = 42,
                 render_size: Sequence[int] = (2, 2, 3), min_duration: int = 0,
                 max_duration: Optional[int] = None):
        super().__init__(auto_reset=auto_reset)
        self._observation_spec = observation_spec
        self._has_action_spec = action_spec is not None
        self._action_spec = action_spec if action_spec is not None else []
        self._batch_size = None if batch_size is None else _check_int(batch_size, "batch_size", 1)
        probability = float(episode_end_probability)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"RandomPyEnvironment: episode_end_probability must lie in [0, 1], "
                             f"got {episode_end_probability!r}")
        self._episode_end_probability = probability
        self._min_duration = _check_int(min_duration, "min_duration", 0)
        self._max_duration = (None if max_duration is None
                              else _check_int(max_duration, "max_duration", 1))
        if self._max_duration is not None and self._max_duration < self._min_duration:
            raise ValueError(f"RandomPyEnvironment: max_duration ({self._max_duration}) is below "
                             f"min_duration ({self._min_duration})")
        self._outer_dims = () if self._batch_size is None else (self._batch_size,)
        discount = np.asarray(discount, np.float32)
        try:
            self._discount = np.broadcast_to(discount, self._outer_dims).copy()
        except ValueError:
            raise ValueError(f"RandomPyEnvironment: discount of shape {discount.shape} does not "
                             f"match the batch shape {self._outer_dims}") from None
        self._reward_fn = reward_fn
        self._render_size = tuple(render_size)
        self._rng = np.random.default_rng(seed)
        self._num_steps = 0
        self.time_step_spec()  # a malformed observation spec fails here, not on the first step

    # -- specs -----------------------------------------------------------------

    def observation_spec(self) -> NestedArraySpec:
        """The observation spec given to the constructor."""
        return self._observation_spec

    def action_spec(self) -> NestedArraySpec:
        """The action spec given to the constructor; `[]` if it was None."""
        return self._action_spec

    @property
    def batched(self) -> bool:
        """Whether the environment was built with a `batch_size`."""
        return self._batch_size is not None

    @property
    def batch_size(self) -> Optional[int]:
        """The `batch_size` given to the constructor (None when unbatched)."""
        return self._batch_size

    # -- randomness ------------------------------------------------------------

    def seed(self, seed: Optional[int]) -> None:
        """Re-seeds the generator behind observations, episode ends and renders."""
        self._rng = np.random.default_rng(seed)

    def render(self, mode: str = "rgb_array") -> np.ndarray:
        """A random uint8 image of shape `render_size`.

        Raises:
          ValueError: `mode` is not 'rgb_array'.
        """
        if mode not in _RENDER_MODES:
            raise ValueError(f"RandomPyEnvironment.render: mode must be one of {_RENDER_MODES}, "
                             f"got {mode!r}")
        return self._rng.integers(0, 256, size=self._render_size, dtype=np.uint8)

    # -- stepping --------------------------------------------------------------

    def _validate_action(self, action: NestedArray) -> NestedArray:
        if not self._has_action_spec:
            return action
        return super()._validate_action(action)

    def _observation(self) -> NestedArray:
        return array_spec.sample_spec_nest(self._observation_spec, self._rng, self._outer_dims)

    def _reset(self) -> TimeStep:
        self._num_steps = 0
        return ts_lib.restart(self._observation(), self._batch_size)

    def _step(self, action: NestedArray) -> TimeStep:
        self._num_steps += 1
        observation = self._observation()
        if self._num_steps < self._min_duration:
            done = False
        elif self._max_duration is not None and self._num_steps >= self._max_duration:
            done = True
        else:
            done = bool(self._rng.uniform() < self._episode_end_probability)
        step_type = StepType.LAST if done else StepType.MID
        reward = self._reward(step_type, action, observation)
        if done:
            return ts_lib.termination(observation, reward, outer_dims=self._outer_dims)
        return ts_lib.transition(observation, reward, self._discount, outer_dims=self._outer_dims)

    def _reward(self, step_type: np.int32, action: NestedArray,
                observation: NestedArray) -> np.ndarray:
        if self._reward_fn is None:
            return np.zeros(self._outer_dims, np.float32)
        reward = np.asarray(self._reward_fn(step_type, action, observation), np.float32)
        if reward.shape != self._outer_dims:
            raise ValueError(
                f"RandomPyEnvironment: reward_fn returned a reward of shape {reward.shape}; "
                f"expected shape {self._outer_dims} (batch_size={self._batch_size})")
        return reward

