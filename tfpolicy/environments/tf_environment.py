"""`TFEnvironment`: what every TensorFlow-side environment answers (TF-Agents' base name).

A TF environment is batched: its time steps and actions are tensors with
an outer batch dim `B`. Subclasses set `self._time_step_spec` (a
`TimeStep` of `TensorSpec`s without the batch dim) and `self._action_spec`,
and implement `batch_size`, `current_time_step()`, `reset()` and
`step(action)`; the spec accessors below are shared.
"""

import abc

from specs import NestedTensor, NestedTensorSpec
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["TFEnvironment"]


class TFEnvironment(abc.ABC):
    """The TensorFlow environment interface (see the module docstring)."""

    _time_step_spec: TimeStep
    _action_spec: NestedTensorSpec

    def time_step_spec(self) -> TimeStep:
        """The `TimeStep` of `TensorSpec`s of one time step (no batch dim)."""
        return self._time_step_spec

    def action_spec(self) -> NestedTensorSpec:
        """The nest of (bounded) `TensorSpec`s of one action (no batch dim)."""
        return self._action_spec

    def observation_spec(self) -> NestedTensorSpec:
        """The nest of `TensorSpec`s of one observation (no batch dim)."""
        return self._time_step_spec.observation

    def reward_spec(self) -> NestedTensorSpec:
        """The nest of `TensorSpec`s of one reward (no batch dim)."""
        return self._time_step_spec.reward

    @property
    def batched(self) -> bool:
        """Always True: time steps and actions carry an outer batch dim."""
        return True

    @property
    @abc.abstractmethod
    def batch_size(self) -> int:
        """The batch size `B`."""

    @abc.abstractmethod
    def current_time_step(self) -> TimeStep:
        """The current `[B]`-batched time step."""

    @abc.abstractmethod
    def reset(self) -> TimeStep:
        """Starts new episodes; returns their first `[B]`-batched time step."""

    @abc.abstractmethod
    def step(self, action: NestedTensor) -> TimeStep:
        """Applies a `[B]`-batched action; returns the next time step."""
