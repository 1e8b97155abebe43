"""Wrappers that change how episodes run: time limits, fixed lengths, action repeat,
run statistics and profiling."""

import cProfile
from typing import Any, Callable, Optional

import numpy as np
import tree

from specs import NestedArray
from tfpolicy.environments._wrapper_base import PyEnvironmentBaseWrapper, require_unbatched
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories.time_step import StepType, TimeStep

__all__ = [
    "TimeLimit",
    "ActionRepeat",
    "FixedLength",
    "PerformanceProfiler",
    "RunStats",
]


class TimeLimit(PyEnvironmentBaseWrapper):
    """Ends episodes after `duration` steps with a truncation.

    The `duration`-th step of an episode (not counting the FIRST one) becomes
    LAST with its discount kept, unless the wrapped env ended the episode
    first. The next `step` resets.

    Args:
      env: an unbatched `PyEnvironment`.
      duration: the maximum number of steps per episode, >= 1.

    Raises:
      ValueError: `duration < 1`, or `env` is batched.
    """

    def __init__(self, env: PyEnvironment, duration: int):
        super().__init__(env)
        require_unbatched(env, "TimeLimit")
        if int(duration) < 1:
            raise ValueError(f"TimeLimit: duration must be >= 1, got {duration!r}")
        self._duration = int(duration)
        self._num_steps = 0

    @property
    def duration(self) -> int:
        return self._duration

    def _reset(self) -> TimeStep:
        self._num_steps = 0
        return self._env.reset()

    def _step(self, action: NestedArray) -> TimeStep:
        time_step = self._env.step_unchecked(action)
        self._num_steps += 1
        if self._num_steps >= self._duration and not time_step.is_last():
            time_step = time_step._replace(step_type=np.asarray(StepType.LAST))
        return time_step


class ActionRepeat(PyEnvironmentBaseWrapper):
    """Applies each action `times` times, summing the rewards.

    The repetition stops early at a LAST step. The returned step is the last
    inner step, with the summed reward (of the reward's dtype) and that
    step's own discount, as in TF-Agents.

    Args:
      env: an unbatched `PyEnvironment`.
      times: how many inner steps per outer step, >= 1.

    Raises:
      ValueError: `times < 1`, or `env` is batched.
    """

    def __init__(self, env: PyEnvironment, times: int):
        super().__init__(env)
        require_unbatched(env, "ActionRepeat")
        if int(times) < 1:
            raise ValueError(f"ActionRepeat: times must be >= 1, got {times!r}")
        self._times = int(times)

    def _step(self, action: NestedArray) -> TimeStep:
        time_step = self._env.step_unchecked(action)
        total = time_step.reward
        for _ in range(self._times - 1):
            if time_step.is_last():
                break
            time_step = self._env.step_unchecked(action)
            total = tree.map_structure(
                lambda a, b: np.asarray(a + b, dtype=np.asarray(a).dtype), total, time_step.reward)
        return time_step._replace(reward=total)


class FixedLength(PyEnvironmentBaseWrapper):
    """Makes every episode last exactly `fix_length` steps after its FIRST one.

    A longer episode is cut: its `fix_length`-th step becomes LAST (the
    discount is kept). A shorter one is padded: after the wrapped env's LAST
    step the wrapper keeps returning that step, with reward and discount 0,
    until `fix_length` steps have passed; the next `step` resets.

    Args:
      env: an unbatched `PyEnvironment`.
      fix_length: the number of steps per episode, >= 1.

    Raises:
      ValueError: `fix_length < 1`, or `env` is batched.
    """

    def __init__(self, env: PyEnvironment, fix_length: int):
        super().__init__(env)
        require_unbatched(env, "FixedLength")
        if int(fix_length) < 1:
            raise ValueError(f"FixedLength: fix_length must be >= 1, got {fix_length!r}")
        self._fix_length = int(fix_length)
        self._num_steps = 0
        self._padding: Optional[TimeStep] = None

    @property
    def fix_length(self) -> int:
        return self._fix_length

    def should_reset(self, current_time_step: TimeStep) -> bool:
        # Steps after an early LAST step still belong to the episode (padding).
        return bool(current_time_step.is_last()) and self._num_steps >= self._fix_length

    def _reset(self) -> TimeStep:
        self._num_steps = 0
        self._padding = None
        return self._env.reset()

    def _step(self, action: NestedArray) -> TimeStep:
        self._num_steps += 1
        current = self.current_time_step()
        if current.is_last():
            if self._padding is None:
                self._padding = current._replace(
                    reward=tree.map_structure(np.zeros_like, current.reward),
                    discount=np.zeros_like(current.discount))
            return self._padding
        time_step = self._env.step_unchecked(action)
        if self._num_steps >= self._fix_length and not time_step.is_last():
            time_step = time_step._replace(step_type=np.asarray(StepType.LAST))
        return time_step


class PerformanceProfiler(PyEnvironmentBaseWrapper):
    """Profiles the wrapped env's `reset` and `step` with `cProfile`.

    Every `process_steps` calls of `step` (a `step` that starts a new
    episode counts too), `process_profile_fn` receives the `cProfile.Profile`
    gathered so far, and profiling starts afresh.

    Args:
      env: a `PyEnvironment`.
      process_profile_fn: called with the `cProfile.Profile`.
      process_steps: how many `step` calls between two calls of
        `process_profile_fn`, >= 1.

    Raises:
      ValueError: `process_steps < 1`.
    """

    def __init__(self, env: PyEnvironment, process_profile_fn: Callable[[cProfile.Profile], Any],
                 process_steps: int):
        super().__init__(env)
        if int(process_steps) < 1:
            raise ValueError(
                f"PerformanceProfiler: process_steps must be >= 1, got {process_steps!r}")
        self._process_profile_fn = process_profile_fn
        self._process_steps = int(process_steps)
        self._num_steps = 0
        self._profile = cProfile.Profile()

    def _reset(self) -> TimeStep:
        self._profile.enable()
        try:
            return self._env.reset()
        finally:
            self._profile.disable()

    def _step(self, action: NestedArray) -> TimeStep:
        self._profile.enable()
        try:
            return self._env.step_unchecked(action)
        finally:
            self._profile.disable()

    def step_unchecked(self, action: NestedArray) -> TimeStep:
        time_step = super().step_unchecked(action)
        self._num_steps += 1
        if self._num_steps >= self._process_steps:
            self._process_profile_fn(self._profile)
            self._profile = cProfile.Profile()
            self._num_steps = 0
        return time_step


class RunStats(PyEnvironmentBaseWrapper):
    """Counts episodes, resets and steps as the environment runs.

    `resets` counts FIRST steps, `episodes` LAST steps, `total_steps` the
    steps that are not FIRST, and `episode_steps` those of the current
    episode.

    Args:
      env: an unbatched `PyEnvironment`.

    Raises:
      ValueError: `env` is batched.
    """

    def __init__(self, env: PyEnvironment):
        super().__init__(env)
        require_unbatched(env, "RunStats")
        self._episodes = 0
        self._resets = 0
        self._episode_steps = 0
        self._total_steps = 0

    @property
    def episodes(self) -> int:
        return self._episodes

    @property
    def resets(self) -> int:
        return self._resets

    @property
    def episode_steps(self) -> int:
        return self._episode_steps

    @property
    def total_steps(self) -> int:
        return self._total_steps

    def _reset(self) -> TimeStep:
        self._resets += 1
        self._episode_steps = 0
        return self._env.reset()

    def _step(self, action: NestedArray) -> TimeStep:
        time_step = self._env.step_unchecked(action)
        if time_step.is_first():
            self._resets += 1
            self._episode_steps = 0
        else:
            self._total_steps += 1
            self._episode_steps += 1
        if time_step.is_last():
            self._episodes += 1
        return time_step
