"""The numpy-in, numpy-out step over a compiled function of flat tensors.

Shared by `PyTFEagerPolicy` (a live `TFPolicy`) and the saved-model policy
of `savers` (an exported one). Per call it does only this:

1. flatten the time step and state (one dm-tree call) and, for unbatched
   use, add a batch dim (numpy views, no copies);
2. if the leaves' shapes and dtypes differ from the last call's, check them
   against the specs (path-named errors) and ask the subclass for the
   function for that number of outer dims;
3. call that function with the flat arrays;
4. convert the flat outputs to numpy, drop the batch dim, and pack them with
   a packer built once for the `PolicyStep` structure.
"""

import abc
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np
import tree

from specs import nest_utils
from specs._types import NestedArray
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["FlatBridge", "bridge_outer"]

FlatFunction = Callable[..., Sequence[Any]]


def bridge_outer(name: str, outer: Tuple[Optional[int], ...],
                 batch_time_steps: bool) -> Tuple[Optional[int], ...]:
    """The outer dims a numpy bridge runs its model with: `(1,)` for an unbatched
    caller (`batch_time_steps`), else the caller's single batch dim.

    Raises:
      ValueError: the time step's outer dims do not fit the convention.
    """
    if batch_time_steps:
        if outer:
            raise ValueError(
                f"{name}(batch_time_steps=True) takes unbatched time steps; got outer dims "
                f"{outer}. Use batch_time_steps=False for batched input")
        return (1,)
    if len(outer) != 1:
        raise ValueError(
            f"{name}(batch_time_steps=False) takes time steps with one outer (batch) dim; "
            f"got outer dims {outer}")
    return outer


class FlatBridge(PyPolicy):
    """A `PyPolicy` whose step is a function of the flat input leaves.

    Subclasses implement `_flat_function(outer_rank)`: a callable taking the
    flat time step and state leaves (dm-tree order, with `outer_rank` outer
    dims) and returning the flat `PolicyStep` leaves as tensors.

    Args:
      batch_time_steps: callers pass unbatched steps (a batch dim of 1 is
        added and removed); False: callers pass `[B]` batches.
      Other arguments as `PyPolicy`.
    """

    def __init__(self, time_step_spec: TimeStep, action_spec: Any, policy_state_spec: Any,
                 info_spec: Any, observation_and_action_constraint_splitter: Optional[Callable],
                 validate_args: bool, batch_time_steps: bool):
        super().__init__(time_step_spec, action_spec, policy_state_spec, info_spec,
                         observation_and_action_constraint_splitter, validate_args)
        self._batch_time_steps = batch_time_steps
        self._in_spec = (self.time_step_spec, self.policy_state_spec)
        self._in_leaves = tree.flatten(self._in_spec)
        self._num_in = len(self._in_leaves)
        self._np_dtypes = [np.dtype(s.dtype) for s in self._in_leaves]
        self._pack = nest_utils.packer(self.policy_step_spec)
        self._last_key: Optional[Tuple] = None
        self._last_fn: Optional[FlatFunction] = None

    @abc.abstractmethod
    def _flat_function(self, outer_rank: int) -> FlatFunction:
        """The function for inputs with `outer_rank` outer dims (1 for batches)."""

    def _check_outer(self, outer: Tuple[Optional[int], ...]) -> None:
        """Further checks of a new input signature's outer dims (e.g. a fixed batch size)."""

    def action(self, time_step: TimeStep, policy_state: NestedArray = ()) -> PolicyStep:
        """The action for a numpy time step (unbatched when `batch_time_steps`, else `[B]`).

        Raises:
          TypeError, ValueError: inputs that do not match the specs, naming the nest path.
        """
        return self._step(time_step, policy_state, None)

    def _action(self, time_step: TimeStep, policy_state: NestedArray) -> PolicyStep:
        return self._step(time_step, policy_state, None)

    def _step(self, time_step: TimeStep, policy_state: NestedArray,
              call: Optional[FlatFunction]) -> PolicyStep:
        """One step; `call` overrides the compiled function (e.g. a seeded eager call)."""
        inputs = (time_step, policy_state)
        raw = tree.flatten(inputs)
        if len(raw) != self._num_in:
            # `None` for an empty state, or a structure mismatch: the slow,
            # path-naming route decides which.
            raw = self._flatten_checked(time_step, policy_state)
        elif self._validate_args and not nest_utils.same_structure(self._in_spec, inputs):
            raw = self._flatten_checked(time_step, policy_state)
        # Shapes and dtypes identify an input signature; a new one is checked
        # against the specs and picks its function.
        key = tuple((getattr(x, "dtype", type(x)), getattr(x, "shape", None)) for x in raw)
        if key != self._last_key:
            self._last_fn = self._function_for(time_step, policy_state)
            self._last_key = key
        if self._batch_time_steps:
            flat = [np.asarray(x, d)[None] for x, d in zip(raw, self._np_dtypes)]
        else:
            flat = [np.asarray(x, d) for x, d in zip(raw, self._np_dtypes)]
        out = (call or self._last_fn)(*flat)
        if self._batch_time_steps:
            return self._pack([t.numpy()[0, ...] for t in out])  # [0, ...] keeps 0-d arrays
        return self._pack([t.numpy() for t in out])

    def _flatten_checked(self, time_step: TimeStep, policy_state: NestedArray) -> List[Any]:
        try:
            return tree.flatten_up_to(self._in_spec, (time_step, policy_state), check_types=False)
        except (TypeError, ValueError):
            self._check_inputs(time_step, policy_state)
            raise

    def _check_inputs(self, time_step: TimeStep, policy_state: NestedArray) -> tuple:
        outer = nest_utils.check_nest(time_step, self.time_step_spec, name="time_step")
        nest_utils.check_nest(policy_state, self.policy_state_spec, outer_shape=outer,
                              name="policy_state")
        return outer

    def _function_for(self, time_step: TimeStep, policy_state: NestedArray) -> FlatFunction:
        """Checks a new input signature and returns its function."""
        if self._validate_args:
            outer = tuple(self._check_inputs(time_step, policy_state))
        else:
            outer = tuple(np.shape(time_step.step_type))
        outer = bridge_outer(type(self).__name__, outer, self._batch_time_steps)
        self._check_outer(outer)
        return self._flat_function(len(outer))
