"""`BatchedPyPolicy`: N unbatched numpy policies acting as one batched policy.

Entry `i` of a batched time step (and of the state) goes to policy `i`; the
N policy steps are stacked back into one with outer dim `[N]`. It pairs with
`BatchedPyEnvironment`, whose entry `i` is environment `i`. With
`multithreading=True` (the default) the policies act in a thread pool, so
policies that release the GIL (a TensorFlow call, I/O) overlap; a policy
that shares Python state with another must guard it with a lock.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.policies.scripted_py_policy import ScriptedPyPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> spec = BoundedArraySpec((), np.int32, 0, 9)
>>> time_step_spec = ts.time_step_spec(ArraySpec((2,), np.float32))
>>> policy = BatchedPyPolicy([ScriptedPyPolicy(time_step_spec, spec, [(1, np.int32(k))])
...                           for k in (4, 7)], multithreading=False)
>>> state = policy.get_initial_state()
>>> policy.action(ts.restart(np.zeros((2, 2), np.float32), batch_size=2), state).action
array([4, 7], dtype=int32)
"""

import concurrent.futures
import weakref
from typing import Any, Callable, List, Optional, Sequence

import numpy as np
import tree

from specs import nest_utils
from specs import NestedArray
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["BatchedPyPolicy"]

_OWNER = "BatchedPyPolicy"
_SPECS = ("time_step_spec", "action_spec", "policy_state_spec", "info_spec")


class BatchedPyPolicy(PyPolicy):
    """Acts with N unbatched `PyPolicy`s on a batch of N time steps.

    The specs are those of one policy (unbatched); `action` takes time steps
    and states with outer dim `[N]` and returns a `PolicyStep` with outer dim
    `[N]`. `get_initial_state()` stacks the policies' own initial states.

    Args:
      policies: a list or tuple of one or more unbatched `PyPolicy`s with
        equal specs (names and bounds included) and the same
        `observation_and_action_constraint_splitter`.
      multithreading: act with the policies in a pool of N threads; False
        runs them one after the other in the calling thread.

    Raises:
      ValueError: `policies` is not a list or tuple, is empty, or the specs or
        splitters differ (the message names the first policy that differs
        and the spec path).
      TypeError: an element is not a `PyPolicy`.
    """

    def __init__(self, policies: Sequence[PyPolicy], multithreading: bool = True):
        if not isinstance(policies, (list, tuple)):
            raise ValueError(f"{_OWNER}: policies must be a list or tuple of PyPolicy, got "
                             f"{type(policies).__name__}: {policies!r}")
        if not policies:
            raise ValueError(f"{_OWNER}: policies is empty; it takes one or more policies")
        for i, policy in enumerate(policies):
            if not isinstance(policy, PyPolicy):
                raise TypeError(f"{_OWNER}: policies[{i}] must be a PyPolicy, got "
                                f"{type(policy).__name__}: {policy!r}")
        first = policies[0]
        for i, policy in enumerate(policies[1:], start=1):
            for name in _SPECS:
                nest_utils.check_compatible_specs(
                    getattr(policy, name), getattr(first, name), f"policies[{i}].{name}",
                    given_name="it", expected_name="policies[0]", owner=_OWNER, exact=True)
            splitter = policy.observation_and_action_constraint_splitter
            if splitter != first.observation_and_action_constraint_splitter:
                raise ValueError(
                    f"{_OWNER}: policies[{i}].observation_and_action_constraint_splitter is "
                    f"{splitter!r}, policies[0]'s is "
                    f"{first.observation_and_action_constraint_splitter!r}; they must be the same")
        super().__init__(first.time_step_spec, first.action_spec, first.policy_state_spec,
                         first.info_spec, first.observation_and_action_constraint_splitter,
                         validate_args=first.validate_args)
        self._policies = tuple(policies)
        self._has_state = bool(tree.flatten(first.policy_state_spec))
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        if multithreading:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=len(policies), thread_name_prefix=_OWNER)
            # Threads end with the policy even when `close` is never called.
            self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False)

    @property
    def policies(self) -> Sequence[PyPolicy]:
        """The wrapped policies, in batch order."""
        return self._policies

    @property
    def batch_size(self) -> int:
        """N, the number of policies (the outer dim of every input and output)."""
        return len(self._policies)

    @property
    def multithreading(self) -> bool:
        """Whether the policies act in a thread pool."""
        return self._pool is not None

    def close(self) -> None:
        """Stops the thread pool (after running calls finish); `action` then runs serially."""
        if self._pool is not None:
            self._finalizer()
            self._pool = None

    def get_initial_state(self, batch_size: Optional[int] = None) -> NestedArray:
        """The policies' initial states stacked, with outer dim `[N]`.

        Args:
          batch_size: None or N (the state of a batched policy is always `[N]`).

        Raises:
          ValueError: `batch_size` is neither None nor N.
        """
        if batch_size is not None and batch_size != len(self._policies):
            raise ValueError(f"{_OWNER}: get_initial_state(batch_size={batch_size}), but this "
                             f"policy batches {len(self._policies)} policies; pass None or "
                             f"{len(self._policies)}")
        return self._get_initial_state(batch_size)

    def _get_initial_state(self, batch_size: Optional[int]) -> NestedArray:
        if not self._has_state:
            return super()._get_initial_state(len(self._policies))
        return nest_utils.stack_nested_arrays(
            self._map(lambda policy: policy.get_initial_state(None), self._policies))

    def _action(self, time_step: TimeStep, policy_state: NestedArray) -> PolicyStep:
        n = len(self._policies)
        shape = np.shape(time_step.step_type)
        if shape != (n,):
            raise ValueError(f"{_OWNER}: time_step.step_type has shape {shape}; a batch of {n} "
                             f"policies takes time steps with outer dims ({n},)")
        time_steps = nest_utils.unstack_nested_arrays(time_step)
        if self._has_state:
            states = nest_utils.unstack_nested_arrays(policy_state)
            if len(states) != n:
                raise ValueError(f"{_OWNER}: policy_state has a batch dim of {len(states)}, "
                                 f"expected {n} (one state per policy)")
        else:
            states = [policy_state] * n
        steps = self._map(lambda args: args[0].action(args[1], args[2]),
                          list(zip(self._policies, time_steps, states)))
        return PolicyStep(*nest_utils.stack_nested_arrays([tuple(step) for step in steps]))

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> List[Any]:
        if self._pool is None:
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))
