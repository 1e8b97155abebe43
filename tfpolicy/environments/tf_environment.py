"""`TFEnvironment`: what every TensorFlow-side environment answers (TF-Agents' base name).

A TF environment is batched: its time steps and actions are tensors with
an outer batch dim `B`. As in TF-Agents, a subclass passes its specs to
`__init__(time_step_spec, action_spec, batch_size)` (a `TimeStep` of
`TensorSpec`s and a nest of action specs, both without the batch dim) and
implements `_current_time_step()`, `_reset()` and `_step(action)`; the
public `current_time_step()`, `reset()` and `step(action)` call them. An
environment that can draw itself adds `render()`.
"""

import abc
from typing import Optional

from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["TFEnvironment"]


class TFEnvironment(abc.ABC):
    """The TensorFlow environment interface (see the module docstring).

    Args:
      time_step_spec: the `TimeStep` of `TensorSpec`s of one time step (no
        batch dim).
      action_spec: the nest of (bounded) `TensorSpec`s of one action (no
        batch dim).
      batch_size: the batch size `B`.
    """

    def __init__(self, time_step_spec: Optional[TimeStep] = None,
                 action_spec: Optional[NestedTensorSpec] = None, batch_size: int = 1):
        self._time_step_spec = time_step_spec
        self._action_spec = action_spec
        self._batch_size = batch_size

    def time_step_spec(self) -> TimeStep:
        """The `TimeStep` of `TensorSpec`s of one time step (no batch dim)."""
        return self._time_step_spec

    def action_spec(self) -> NestedTensorSpec:
        """The nest of (bounded) `TensorSpec`s of one action (no batch dim)."""
        return self._action_spec

    def observation_spec(self) -> NestedTensorSpec:
        """The nest of `TensorSpec`s of one observation (no batch dim)."""
        return self.time_step_spec().observation

    def reward_spec(self) -> NestedTensorSpec:
        """The nest of `TensorSpec`s of one reward (no batch dim)."""
        return self.time_step_spec().reward

    def discount_spec(self) -> NestedTensorSpec:
        """The `TensorSpec` of one discount (no batch dim): float32 in [0, 1]."""
        spec = self.time_step_spec().discount
        if tensor_spec.is_bounded(spec):
            return spec
        return tensor_spec.BoundedTensorSpec(spec.shape, spec.dtype, 0.0, 1.0, name="discount")

    @property
    def batched(self) -> bool:
        """Always True: time steps and actions carry an outer batch dim."""
        return True

    @property
    def batch_size(self) -> int:
        """The batch size `B`."""
        return self._batch_size

    def current_time_step(self) -> TimeStep:
        """The current `[B]`-batched time step (resetting first if there is none)."""
        return self._current_time_step()

    def reset(self) -> TimeStep:
        """Starts new episodes; returns their first `[B]`-batched time step."""
        return self._reset()

    def step(self, action: NestedTensor) -> TimeStep:
        """Applies a `[B]`-batched action; returns the next time step.

        After a LAST step (or before the first reset) the step starts a new
        episode instead and the action is ignored.
        """
        return self._step(action)

    @abc.abstractmethod
    def _current_time_step(self) -> TimeStep:
        """Returns the current `[B]`-batched time step."""

    @abc.abstractmethod
    def _reset(self) -> TimeStep:
        """Starts new episodes; returns their first `[B]`-batched time step."""

    @abc.abstractmethod
    def _step(self, action: NestedTensor) -> TimeStep:
        """Applies a `[B]`-batched action; returns the next time step."""
