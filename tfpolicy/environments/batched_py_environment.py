"""`BatchedPyEnvironment`: N unbatched environments stepped together, serially.

Time steps and actions gain an outer dim `[N]`. Each entry resets on its
own: after entry `i` returns a LAST step, its next step is the FIRST step of
a new episode (whatever action it was given), while the other entries go on.
The environments are stepped one after the other in this process.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class Ends(PyEnvironment):
...     def __init__(self, length):
...         super().__init__()
...         self._length = length
...     def observation_spec(self):
...         return ArraySpec((), np.int32)
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1)
...     def _reset(self):
...         self._t = 0
...         return ts.restart(np.int32(0))
...     def _step(self, action):
...         self._t += 1
...         if self._t == self._length:
...             return ts.termination(np.int32(self._t), 1.0)
...         return ts.transition(np.int32(self._t), 1.0)
>>> env = BatchedPyEnvironment([Ends(1), Ends(2)])
>>> env.reset().step_type
array([0, 0], dtype=int32)
>>> env.step(np.zeros(2, np.int64)).step_type, env.step(np.zeros(2, np.int64)).step_type
(array([2, 1], dtype=int32), array([0, 2], dtype=int32))
"""

from typing import Any, Callable, Optional, Sequence

import numpy as np
import tree

from specs import NestedArray, NestedArraySpec
from specs import nest_utils
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["BatchedPyEnvironment", "check_same_specs"]


class BatchedPyEnvironment(PyEnvironment):
    """Steps N unbatched `PyEnvironment`s with the same specs as one batched env.

    Specs are those of one environment (unbatched); `batched` is True and
    `batch_size` is N. `step` takes actions with outer dim `[N]` and entry
    `i` goes to environment `i`, which resets by itself after its LAST step.
    `close()` closes every environment.

    This is the serial form of TF-Agents' `BatchedPyEnvironment`; for
    environments slow enough to run in worker processes use
    `ParallelPyEnvironment`, and for gymnasium environments
    `GymnasiumVectorEnvironment` (`load_vector`) steps faster.

    Args:
      envs: one or more unbatched `PyEnvironment`s with equal observation,
        action and reward specs.

    Raises:
      ValueError: `envs` is empty, holds a batched env, or the specs differ
        (the message names the first env that differs).
      TypeError: an element is not a `PyEnvironment`.
    """

    def __init__(self, envs: Sequence[PyEnvironment]):
        super().__init__(auto_reset=True)
        envs = list(envs)
        if not envs:
            raise ValueError("BatchedPyEnvironment needs at least one environment")
        for i, env in enumerate(envs):
            if not isinstance(env, PyEnvironment):
                raise TypeError(
                    f"envs[{i}] must be a PyEnvironment, got {type(env).__name__}: {env!r}")
            if env.batched:
                raise ValueError(f"envs[{i}] is batched (batch size {env.batch_size}); "
                                 "BatchedPyEnvironment takes unbatched environments")
        check_same_specs(envs, ("observation_spec", "action_spec", "reward_spec"),
                         lambda i: f"envs[{i}]")
        self._envs = envs
        self._nested_action = tree.is_nested(envs[0].action_spec())

    @property
    def envs(self) -> Sequence[PyEnvironment]:
        """The wrapped environments, in batch order."""
        return tuple(self._envs)

    def observation_spec(self) -> NestedArraySpec:
        return self._envs[0].observation_spec()

    def action_spec(self) -> NestedArraySpec:
        return self._envs[0].action_spec()

    def reward_spec(self) -> NestedArraySpec:
        return self._envs[0].reward_spec()

    @property
    def batched(self) -> bool:
        return True

    @property
    def batch_size(self) -> Optional[int]:
        return len(self._envs)

    def _reset(self) -> TimeStep:
        return _stack([env.reset() for env in self._envs])

    def _step(self, action: NestedArray) -> TimeStep:
        # The batched action was checked against the spec by `step`, so the
        # entries skip the per-environment check.
        if self._nested_action:
            return _stack([
                env.step_unchecked(tree.map_structure(lambda a, i=i: a[i], action))
                for i, env in enumerate(self._envs)])
        return _stack([env.step_unchecked(action[i]) for i, env in enumerate(self._envs)])

    def close(self) -> None:
        """Closes every environment."""
        for env in self._envs:
            env.close()


def check_same_specs(envs: Sequence[Any], methods: Sequence[str],
                     describe: Callable[[int], str]) -> None:
    """Raises naming the first environment, and the spec path, whose specs (the
    results of `methods`) differ from those of `envs[0]`; `describe(i)` names
    environment `i`.

    Raises:
      ValueError: the spec structures differ, or a spec leaf (bounds and names included).
    """
    first = envs[0]
    for i, env in enumerate(envs[1:], start=1):
        for method in methods:
            nest_utils.check_compatible_specs(
                getattr(env, method)(), getattr(first, method)(), f"{describe(i)}.{method}()",
                given_name="it", expected_name=describe(0), exact=True)



def _stack(time_steps: Sequence[TimeStep]) -> TimeStep:
    # np.array over a list of equally shaped arrays stacks them several
    # times faster than np.stack does, which matters on every batched step.
    def stack(*leaves: np.ndarray) -> np.ndarray:
        return np.array(leaves)

    observations = [t.observation for t in time_steps]
    if tree.is_nested(observations[0]):
        observation = tree.map_structure(stack, *observations)
    else:
        observation = np.array(observations)
    rewards = [t.reward for t in time_steps]
    reward = (tree.map_structure(stack, *rewards) if tree.is_nested(rewards[0])
              else np.array(rewards))
    return TimeStep(step_type=np.array([t.step_type for t in time_steps]),
                    reward=reward,
                    discount=np.array([t.discount for t in time_steps]),
                    observation=observation)
