"""Trajectories: one step of experience, as stored by replay buffers.

A `Trajectory` row describes the transition from time step `t` to `t + 1`:
the step type and observation at `t`, the action taken and the policy info,
and then the next step type, reward and discount that arrived with `t + 1`.
Rows are usually batched, `[B]`, or batched over time, `[B, T]`.

The step after a LAST step is the FIRST step of a new episode; the row that
joins them is a *boundary* (step type LAST, next step type FIRST), whose
action, reward and discount carry no meaning.

>>> traj = mid(np.zeros((2, 3)), action=np.array([0, 1]), policy_info=(),
...            reward=np.array([1., 2.], np.float32), discount=np.ones(2, np.float32))
>>> traj.step_type, traj.next_step_type
(array([1, 1], dtype=int32), array([1, 1], dtype=int32))
>>> traj.is_mid()
array([ True,  True])
"""

from typing import Any, NamedTuple, Optional

import numpy as np
import tensorflow as tf
import tree

from specs import Nest
from tfpolicy.trajectories import policy_step as ps
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories._fields import (as_discount, as_reward, contains_tensor, equal, fill,
                                           shape_of)

__all__ = [
    "Trajectory",
    "Transition",
    "first",
    "mid",
    "last",
    "boundary",
    "single_step",
    "from_transition",
    "to_transition",
]


class Trajectory(NamedTuple):
    """The transition from time step `t` to `t + 1`, with outer dims `B` (e.g. `[B]` or `[B, T]`).

    Attributes:
      step_type: int32 of shape `B`, the step type at `t`.
      observation: a nest, the observation at `t`.
      action: a nest, the action taken at `t`.
      policy_info: a nest, the policy's info at `t`.
      next_step_type: int32 of shape `B`, the step type at `t + 1`.
      reward: a nest, the reward received on arriving at `t + 1`.
      discount: float32 of shape `B`, the discount at `t + 1`.
    """

    step_type: Any
    observation: Nest
    action: Nest
    policy_info: Nest
    next_step_type: Any
    reward: Nest
    discount: Any

    def is_first(self) -> Any:
        """Bool of shape `B`: whether `t` starts an episode (step type FIRST)."""
        return equal(self.step_type, ts.StepType.FIRST)

    def is_mid(self) -> Any:
        """Bool of shape `B`: whether both `t` and `t + 1` are MID steps."""
        both = (equal(self.step_type, ts.StepType.MID),
                equal(self.next_step_type, ts.StepType.MID))
        if tf.is_tensor(both[0]):
            return tf.logical_and(*both)
        return np.logical_and(*both)

    def is_last(self) -> Any:
        """Bool of shape `B`: whether `t + 1` ends the episode (next step type LAST)."""
        return equal(self.next_step_type, ts.StepType.LAST)

    def is_boundary(self) -> Any:
        """Bool of shape `B`: whether `t` is a LAST step, so `t + 1` starts a new episode."""
        return equal(self.step_type, ts.StepType.LAST)


class Transition(NamedTuple):
    """A `(time_step, action_step, next_time_step)` triple, as returned by `to_transition`."""

    time_step: ts.TimeStep
    action_step: ps.PolicyStep
    next_time_step: ts.TimeStep


def _create(observation: Nest, action: Nest, policy_info: Nest, reward: Nest,
            discount: Any, step_type: np.int32, next_step_type: np.int32) -> Trajectory:
    """Fills both step types to the shape of `discount`, which has one value per row."""
    tensors = contains_tensor(observation, action, policy_info, reward, discount)
    discount = as_discount(discount, None, tensors)
    shape = shape_of(discount, tensors)
    return Trajectory(
        step_type=fill(shape, step_type, tensors),
        observation=observation,
        action=action,
        policy_info=policy_info,
        next_step_type=fill(shape, next_step_type, tensors),
        reward=as_reward(reward, shape, tensors),
        discount=discount)


def first(observation: Nest, action: Nest, policy_info: Nest, reward: Nest,
          discount: Any) -> Trajectory:
    """Rows that go from a FIRST step to a MID step.

    The outer shape `B` of the rows is the shape of `discount` (one value per
    row); both step types are filled to it. Numpy inputs give numpy step
    types, reward and discount; if any input holds a tensor, they are tensors.

    Args:
      observation: a nest, the observations at `t`; kept as given.
      action: a nest, the actions at `t`; kept as given.
      policy_info: a nest, the policy infos at `t`; kept as given.
      reward: a nest, the rewards received on arriving at `t + 1`. Arrays and
        tensors keep their dtype, Python numbers become float32; scalar leaves
        are broadcast to `B`.
      discount: the discounts at `t + 1`, shape `B`; converted to float32.

    Returns:
      A `Trajectory` with step type FIRST and next step type MID.

    >>> first(np.zeros((2, 4)), np.zeros(2), (), reward=0.5,
    ...       discount=np.ones(2, np.float32)).reward
    array([0.5, 0.5], dtype=float32)
    """
    return _create(observation, action, policy_info, reward, discount,
                   ts.StepType.FIRST, ts.StepType.MID)


def mid(observation: Nest, action: Nest, policy_info: Nest, reward: Nest,
        discount: Any) -> Trajectory:
    """Rows that go from a MID step to a MID step; arguments and shapes as in `first`."""
    return _create(observation, action, policy_info, reward, discount,
                   ts.StepType.MID, ts.StepType.MID)


def last(observation: Nest, action: Nest, policy_info: Nest, reward: Nest,
         discount: Any) -> Trajectory:
    """Rows that go from a MID step to a LAST step; arguments and shapes as in `first`."""
    return _create(observation, action, policy_info, reward, discount,
                   ts.StepType.MID, ts.StepType.LAST)


def boundary(observation: Nest, action: Nest, policy_info: Nest, reward: Nest,
             discount: Any) -> Trajectory:
    """Rows that go from a LAST step to the next episode's FIRST step.

    Arguments and shapes as in `first`. The action, reward and discount of a
    boundary row carry no meaning; learners mask these rows out.
    """
    return _create(observation, action, policy_info, reward, discount,
                   ts.StepType.LAST, ts.StepType.FIRST)


def single_step(observation: Nest, action: Nest, policy_info: Nest, reward: Nest,
                discount: Any) -> Trajectory:
    """Rows of one-step episodes, from a FIRST step to a LAST step (e.g. bandits).

    Arguments and shapes as in `first`.
    """
    return _create(observation, action, policy_info, reward, discount,
                   ts.StepType.FIRST, ts.StepType.LAST)


def from_transition(time_step: ts.TimeStep, action_step: ps.PolicyStep,
                    next_time_step: ts.TimeStep) -> Trajectory:
    """The `Trajectory` of one transition, as a driver records it.

    Args:
      time_step: the time step at `t`; gives `step_type` and `observation`.
      action_step: the policy's output at `t`; gives `action` and
        `policy_info` (its state is dropped).
      next_time_step: the time step at `t + 1`; gives `next_step_type`,
        `reward` and `discount`.

    Returns:
      A `Trajectory` with the outer shape of the inputs.
    """
    return Trajectory(
        step_type=time_step.step_type,
        observation=time_step.observation,
        action=action_step.action,
        policy_info=action_step.info,
        next_step_type=next_time_step.step_type,
        reward=next_time_step.reward,
        discount=next_time_step.discount)


def _zeros_like(x: Any) -> Any:
    return tf.zeros_like(x) if tf.is_tensor(x) else np.zeros_like(x)


def _check_time_dim(trajectory: Trajectory) -> None:
    rank = (trajectory.step_type.shape.rank if tf.is_tensor(trajectory.step_type)
            else np.ndim(trajectory.step_type))
    if rank is not None and rank < 2:
        raise ValueError(
            "to_transition without next_trajectory needs rows with outer dims [B, T]; "
            f"step_type has rank {rank}")


def to_transition(trajectory: Trajectory,
                  next_trajectory: Optional[Trajectory] = None) -> Transition:
    """Splits trajectory rows back into `(time_step, action_step, next_time_step)`.

    With `next_trajectory`, `trajectory` holds the rows at `t` and
    `next_trajectory` the rows at `t + 1` (same outer shape). Without it,
    `trajectory` must have outer dims `[B, T]` (T >= 2); the rows at `t` are
    `trajectory[:, :-1]` and the rows at `t + 1` are `trajectory[:, 1:]`,
    so every field of the result has outer dims `[B, T - 1]`.

    A row's reward and discount belong to its transition `t -> t + 1`, so:

    - `time_step`: step type and observation of the rows at `t`; its reward
      and discount are zeros (they would belong to the transition into `t`,
      which the rows do not record).
    - `action_step`: action and policy info of the rows at `t`; state `()`.
    - `next_time_step`: the rows' `next_step_type`, reward and discount at
      `t`, with the observation of the rows at `t + 1`.

    For a 3-step episode (observations 10, 11, 12; rewards 1 and 2 for the
    two transitions; the last row is the boundary into the next episode):

    >>> traj = Trajectory(
    ...     step_type=np.array([[0, 1, 2]], np.int32),
    ...     observation=np.array([[10, 11, 12]]),
    ...     action=np.array([[5, 6, 7]]),
    ...     policy_info=(),
    ...     next_step_type=np.array([[1, 2, 0]], np.int32),
    ...     reward=np.array([[1., 2., 0.]], np.float32),
    ...     discount=np.array([[1., 0., 1.]], np.float32))
    >>> time_step, action_step, next_time_step = to_transition(traj)
    >>> time_step.step_type, time_step.observation, time_step.reward
    (array([[0, 1]], dtype=int32), array([[10, 11]]), array([[0., 0.]], dtype=float32))
    >>> action_step.action
    array([[5, 6]])
    >>> next_time_step.step_type, next_time_step.observation
    (array([[1, 2]], dtype=int32), array([[11, 12]]))
    >>> next_time_step.reward, next_time_step.discount
    (array([[1., 2.]], dtype=float32), array([[1., 0.]], dtype=float32))

    Args:
      trajectory: rows with outer dims `[B, T]`, or any outer dims when
        `next_trajectory` is given.
      next_trajectory: optional rows at `t + 1`; only its observation is used.

    Returns:
      A `Transition(time_step, action_step, next_time_step)`.

    Raises:
      ValueError: if `next_trajectory` is None and the rows have no time dim.
    """
    if next_trajectory is None:
        _check_time_dim(trajectory)
        next_trajectory = tree.map_structure(lambda x: x[:, 1:], trajectory)
        trajectory = tree.map_structure(lambda x: x[:, :-1], trajectory)
    time_step = ts.TimeStep(
        step_type=trajectory.step_type,
        reward=tree.map_structure(_zeros_like, trajectory.reward),
        discount=_zeros_like(trajectory.discount),
        observation=trajectory.observation)
    action_step = ps.PolicyStep(action=trajectory.action, state=(),
                                info=trajectory.policy_info)
    next_time_step = ts.TimeStep(
        step_type=trajectory.next_step_type,
        reward=trajectory.reward,
        discount=trajectory.discount,
        observation=next_trajectory.observation)
    return Transition(time_step, action_step, next_time_step)
