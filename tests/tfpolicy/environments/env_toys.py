"""Small deterministic environments shared by the environment, driver and metric tests.

They live in a plain module, imported as `env_toys`: the root conftest.py
puts this directory on `sys.path` (pytest's `--import-mode=importlib` leaves
test directories off the path), and the worker processes of
`ParallelPyEnvironment`, which unpickle their constructors by module name,
inherit that `sys.path`.
"""

import os
import threading
from typing import Optional

import numpy as np

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories import time_step as ts

__all__ = ["Counter", "LockedError", "NestedCounter", "Rewarding", "Unpicklable",
           "not_an_env"]

_OBSERVATIONS = ("count_pair", "count", "scalar")
_REWARDS = ("action + 1", "action", "step")


class Counter(PyEnvironment):
    """Terminates after `length` steps; the observation counts the steps `t` taken.

    MID steps have discount `discount`, the terminating step 0. For the
    tests it records the actions it receives (`actions`, as ints), its
    resets (`resets`), `close()` calls (`closed`) and the threads that reset
    or stepped it (`threads`).

    Args:
      length: the episode length in steps.
      observation: "count_pair" for `{"count": int32 t, "pair": float32
        [t + offset, -t]}`, where `seed(s)` sets `offset = s` from the next
        reset on; "count" for `{"count": int32 t}`; "scalar" for int32 t.
        Specs are named after their keys, or 'observation' for "scalar".
      reward: what step t pays, as float32: "action + 1", "action", or
        "step" (t itself).
      discount: the discount of MID steps.
      max_action: the action spec's maximum (an int64 scalar from 0).
      auto_reset: as for `PyEnvironment`.
      fail_at: raise `ValueError` instead of taking this step of an episode.
      exit_at: kill the process (exit code 3) instead of taking this step.
      close_marker: a file path written on `close()`.
      fail_on_close: raise `OSError` from `close()`.
    """

    def __init__(self, length: int, observation: str = "count_pair",
                 reward: str = "action + 1", discount: float = 0.9, max_action: int = 3,
                 auto_reset: bool = True, fail_at: Optional[int] = None,
                 exit_at: Optional[int] = None, close_marker: Optional[str] = None,
                 fail_on_close: bool = False):
        super().__init__(auto_reset=auto_reset)
        if observation not in _OBSERVATIONS or reward not in _REWARDS:
            raise ValueError(f"observation must be one of {_OBSERVATIONS} and reward one of "
                             f"{_REWARDS}, got {observation!r} and {reward!r}")
        self.length = length
        self._observation = observation
        self._reward = reward
        self._discount = discount
        self.max_action = max_action
        self.fail_at = fail_at
        self.exit_at = exit_at
        self.close_marker = close_marker
        self.fail_on_close = fail_on_close
        self.actions = []
        self.resets = 0
        self.closed = 0
        self.threads = set()
        self.offset = 0.0
        self.next_offset = 0.0

    def observation_spec(self):
        if self._observation == "scalar":
            return ArraySpec((), np.int32, name="observation")
        spec = {"count": ArraySpec((), np.int32, "count")}
        if self._observation == "count_pair":
            spec["pair"] = ArraySpec((2,), np.float32, "pair")
        return spec

    def action_spec(self):
        return BoundedArraySpec((), np.int64, 0, self.max_action, name="action")

    def _obs(self):
        if self._observation == "scalar":
            return np.int32(self.t)
        obs = {"count": np.int32(self.t)}
        if self._observation == "count_pair":
            obs["pair"] = np.array([self.t + self.offset, -self.t], np.float32)
        return obs

    def _reset(self):
        self.threads.add(threading.get_ident())
        self.resets += 1
        self.t = 0
        self.offset = self.next_offset
        return ts.restart(self._obs())

    def _step(self, action):
        self.threads.add(threading.get_ident())
        if self.t + 1 == self.fail_at:
            raise ValueError(f"scripted failure at step {self.fail_at}")
        if self.t + 1 == self.exit_at:
            os._exit(3)
        self.actions.append(int(action))
        self.t += 1
        if self._reward == "step":
            reward = np.float32(self.t)
        else:
            reward = np.float32(action + 1 if self._reward == "action + 1" else action)
        if self.t == self.length:
            return ts.termination(self._obs(), reward)
        return ts.transition(self._obs(), reward, discount=self._discount)

    def seed(self, seed: float) -> float:
        self.next_offset = float(seed)
        return seed

    def close(self):
        self.closed += 1
        if self.close_marker is not None:
            with open(self.close_marker, "a") as f:
                f.write("closed\n")
        if self.fail_on_close:
            raise OSError("scripted failure in close")


class NestedCounter(PyEnvironment):
    """A nested action `{"a": int64 in [0, 2], "b": float32 [2] in [-1, 1]}`.

    Truncates (LAST, discount kept at 1) after `length` steps; the observation
    is the last action's `b` plus the step count; reward = a + b[0] - b[1].
    """

    def __init__(self, length: int):
        super().__init__()
        self.length = length

    def observation_spec(self):
        return ArraySpec((3,), np.float32, name="observation")

    def action_spec(self):
        return {"a": BoundedArraySpec((), np.int64, 0, 2, name="a"),
                "b": BoundedArraySpec((2,), np.float32, -1.0, 1.0, name="b")}

    def _reset(self):
        self.t = 0
        return ts.restart(np.zeros(3, np.float32))

    def _step(self, action):
        self.t += 1
        b = action["b"]
        observation = np.array([b[0], b[1], self.t], np.float32)
        reward = np.float32(action["a"] + b[0] - b[1])
        if self.t == self.length:
            return ts.truncation(observation, reward, np.float32(1.0))
        return ts.transition(observation, reward)


class Rewarding(PyEnvironment):
    """Episodes of `length` steps whatever the action; step t (1-based) pays `scale * t`.

    The observation is `t` (float32), the action an int64 in [0, 1], so the
    return of an episode is `scale * length * (length + 1) / 2`.
    """

    def __init__(self, length: int, scale: float = 1.0):
        super().__init__()
        self.length, self.scale = length, scale

    def observation_spec(self) -> ArraySpec:
        return ArraySpec((), np.float32, name="observation")

    def action_spec(self) -> BoundedArraySpec:
        return BoundedArraySpec((), np.int64, 0, 1, name="action")

    def _reset(self) -> ts.TimeStep:
        self.t = 0
        return ts.restart(np.float32(0))

    def _step(self, action: np.ndarray) -> ts.TimeStep:
        self.t += 1
        reward = np.float32(self.scale * self.t)
        if self.t == self.length:
            return ts.termination(np.float32(self.t), reward)
        return ts.transition(np.float32(self.t), reward)


class LockedError(Exception):
    """An exception holding a lock: it cannot be pickled."""


class Unpicklable(Counter):
    """A `Counter` holding a lock: neither it nor `explode()`'s exception pickle."""

    def __init__(self, length: int):
        super().__init__(length)
        self.lock = threading.Lock()

    def explode(self):
        raise LockedError(self.lock)


def not_an_env() -> str:
    """A constructor that returns no environment."""
    return "not an environment"
