"""Environment wrappers: time limits, action repeat, flat observations, action clipping.

Each wrapper is a `PyEnvironment` around another one. The base,
`PyEnvironmentBaseWrapper`, forwards everything (specs, reset, step, close,
and unknown attributes) to the wrapped env; the others change one thing.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class Forever(PyEnvironment):
...     def observation_spec(self):
...         return {"a": ArraySpec((2,), np.float32), "b": ArraySpec((), np.int32)}
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1)
...     def _reset(self):
...         return ts.restart({"a": np.ones(2, np.float32), "b": np.int32(7)})
...     def _step(self, action):
...         return ts.transition({"a": np.ones(2, np.float32), "b": np.int32(7)}, 1.0)
>>> env = FlattenObservation(TimeLimit(Forever(), duration=2))
>>> env.reset().observation
array([1., 1., 7.], dtype=float32)
>>> [(int(t.step_type), float(t.discount)) for t in (env.step(0), env.step(0))]
[(1, 1.0), (2, 1.0)]
"""

from typing import Any, Optional

import numpy as np
import tree

from specs import array_spec, nest_utils
from specs import NestedArray, NestedArraySpec
from tfpolicy.environments.py_environment import ActionChecker, PyEnvironment
from tfpolicy.trajectories.time_step import StepType, TimeStep

__all__ = [
    "PyEnvironmentBaseWrapper",
    "TimeLimit",
    "ActionRepeat",
    "FlattenObservation",
    "ActionClip",
]


class PyEnvironmentBaseWrapper(PyEnvironment):
    """Forwards specs, `reset`, `step`, `close` and unknown attributes to `env`.

    The wrapper keeps its own auto-reset state, which mirrors the wrapped
    env's since every step goes through the wrapper. The wrapper's `step`
    checks the action against its action spec (the wrapped env's), so the
    wrapped env is stepped without checking it again; a wrapper that changes
    the action spec converts the action and calls `self._env.step`, which
    checks it.

    Args:
      env: the `PyEnvironment` to wrap.
    """

    def __init__(self, env: PyEnvironment):
        super().__init__(auto_reset=True)
        if not isinstance(env, PyEnvironment):
            raise TypeError(f"env must be a PyEnvironment, got {type(env).__name__}: {env!r}")
        self._env = env

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally; `_env` itself must
        # not recurse (e.g. during unpickling, before __init__ ran).
        if name == "_env":
            raise AttributeError(name)
        return getattr(self._env, name)

    @property
    def wrapped_env(self) -> PyEnvironment:
        """The environment this wrapper wraps."""
        return self._env

    def observation_spec(self) -> NestedArraySpec:
        return self._env.observation_spec()

    def action_spec(self) -> NestedArraySpec:
        return self._env.action_spec()

    def reward_spec(self) -> NestedArraySpec:
        return self._env.reward_spec()

    @property
    def batched(self) -> bool:
        return self._env.batched

    @property
    def batch_size(self) -> Optional[int]:
        return self._env.batch_size

    def _reset(self) -> TimeStep:
        return self._env.reset()

    def _step(self, action: NestedArray) -> TimeStep:
        return self._env.step_unchecked(action)

    def close(self) -> None:
        """Closes the wrapped environment."""
        self._env.close()


def _require_unbatched(env: PyEnvironment, wrapper: str) -> None:
    if env.batched:
        raise ValueError(
            f"{wrapper} wraps unbatched environments; got a batched one (batch size "
            f"{env.batch_size}): wrap each environment before batching them")


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
        _require_unbatched(env, "TimeLimit")
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
        _require_unbatched(env, "ActionRepeat")
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


class FlattenObservation(PyEnvironmentBaseWrapper):
    """Concatenates a nest of observations into one float32 vector.

    Leaves are taken in `tree.flatten` order (dict keys sorted), each
    flattened, cast to float32 and concatenated. The new spec is a
    `BoundedArraySpec` of shape `[total size]` named 'observation' whose
    bounds are the leaves' bounds (±inf for unbounded leaves), or an
    `ArraySpec` when no leaf is bounded. A batched env keeps its outer dim.

    Args:
      env: a `PyEnvironment` whose observation leaves have bool, integer or
        float dtypes.

    Raises:
      TypeError: a leaf has another dtype (the message names its path).
    """

    def __init__(self, env: PyEnvironment):
        super().__init__(env)
        leaves = nest_utils.flatten_with_paths(env.observation_spec())
        lows, highs, bounded = [], [], False
        for path, spec in leaves:
            dtype = np.dtype(spec.dtype)
            if not (dtype == np.bool_ or np.issubdtype(dtype, np.integer)
                    or np.issubdtype(dtype, np.floating)):
                raise TypeError(nest_utils.nest_error_message(
                    "observation", path,
                    f"dtype {dtype} does not convert to float32: {spec!r}",
                    owner="FlattenObservation"))
            size = int(np.prod(spec.shape, dtype=np.int64))
            if array_spec.is_bounded(spec):
                bounded = True
                lows.append(np.asarray(spec.minimum, np.float32).reshape(-1))
                highs.append(np.asarray(spec.maximum, np.float32).reshape(-1))
            else:
                lows.append(np.full(size, -np.inf, np.float32))
                highs.append(np.full(size, np.inf, np.float32))
        size = int(sum(low.size for low in lows))
        if bounded:
            self._flat_spec: Any = array_spec.BoundedArraySpec(
                (size,), np.float32, np.concatenate(lows), np.concatenate(highs),
                name="observation")
        else:
            self._flat_spec = array_spec.ArraySpec((size,), np.float32, name="observation")

    def observation_spec(self) -> NestedArraySpec:
        return self._flat_spec

    def _flatten(self, time_step: TimeStep) -> TimeStep:
        outer = (self.batch_size,) if self.batched else ()
        parts = [np.reshape(np.asarray(leaf, np.float32), outer + (-1,))
                 for leaf in tree.flatten(time_step.observation)]
        return time_step._replace(observation=np.concatenate(parts, axis=-1))

    def _reset(self) -> TimeStep:
        return self._flatten(self._env.reset())

    def _step(self, action: NestedArray) -> TimeStep:
        return self._flatten(self._env.step_unchecked(action))


class ActionClip(PyEnvironmentBaseWrapper):
    """Clips float actions into their spec's bounds before the wrapped env sees them.

    Float leaves outside `[minimum, maximum]` are accepted and clipped (NaN
    stays NaN and is rejected, naming its path); integer leaves are still
    checked strictly.

    Args:
      env: a `PyEnvironment`.
    """

    def _validate_action(self, action: NestedArray) -> NestedArray:
        if self._action_checker is None:
            outer = (self.batch_size,) if self.batched else ()
            self._action_checker = ActionChecker(self.action_spec(), outer,
                                                 check_float_bounds=False)
            # After clipping only NaN can be out of bounds; this check names it.
            self._clipped_checker = ActionChecker(self.action_spec(), outer)
        action = self._action_checker(action)

        def clip(spec: Any, value: np.ndarray) -> np.ndarray:
            if array_spec.is_bounded(spec) and np.issubdtype(spec.dtype, np.floating):
                return np.clip(value, spec.minimum, spec.maximum).astype(spec.dtype)
            return value

        clipped = tree.map_structure_up_to(self.action_spec(), clip, self.action_spec(), action)
        return self._clipped_checker(clipped)
