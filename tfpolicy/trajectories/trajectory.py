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

from typing import Any, Callable, NamedTuple, Optional, Union

import numpy as np
import tensorflow as tf
import tree

from specs import Nest
from specs.nest_utils import nest_error_message
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
    "from_episode",
    "to_transition",
    "to_n_step_transition",
    "to_transition_spec",
    "experience_to_transitions",
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

    def replace(self, **kwargs: Any) -> "Trajectory":
        """A copy with the given fields replaced, e.g. `traj.replace(policy_info=())`.

        Raises:
          ValueError: a keyword is not a field of `Trajectory`.
        """
        return self._replace(**kwargs)


class Transition(NamedTuple):
    """A `(time_step, action_step, next_time_step)` triple, as returned by `to_transition`."""

    time_step: ts.TimeStep
    action_step: ps.PolicyStep
    next_time_step: ts.TimeStep

    def replace(self, **kwargs: Any) -> "Transition":
        """A copy with the given fields replaced, e.g. `transition.replace(action_step=())`.

        Raises:
          ValueError: a keyword is not a field of `Transition`.
        """
        return self._replace(**kwargs)


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
    return _transition(trajectory, _zeros_like, ts.TimeStep(
        step_type=trajectory.next_step_type,
        reward=trajectory.reward,
        discount=trajectory.discount,
        observation=next_trajectory.observation))


def _transition(frame: Trajectory, unknown: Callable[[Any], Any],
                next_time_step: ts.TimeStep) -> Transition:
    """The transition acting on `frame`: its time step carries `unknown(x)` for the
    reward and discount a trajectory does not record, and its policy step the
    action and info with state `()`."""
    time_step = ts.TimeStep(
        step_type=frame.step_type,
        reward=tree.map_structure(unknown, frame.reward),
        discount=unknown(frame.discount),
        observation=frame.observation)
    action_step = ps.PolicyStep(action=frame.action, state=(), info=frame.policy_info)
    return Transition(time_step, action_step, next_time_step)


def _outer_dim(x: Any) -> Union[int, tf.Tensor, None]:
    """The leading dim of `x`: an int when static, a scalar tensor when not,
    None for a scalar."""
    if isinstance(x, tf.SparseTensor):
        static = tf.get_static_value(x.dense_shape)
        return int(static[0]) if static is not None else x.dense_shape[0]
    if tf.is_tensor(x):
        if x.shape.rank == 0:
            return None
        dim = x.shape[0] if x.shape.rank is not None else None
        return int(dim) if dim is not None else tf.shape(x)[0]
    shape = np.shape(x)
    return shape[0] if shape else None


def _as_field(x: Any, tensors: bool) -> Any:
    if tensors:
        return x if tf.is_tensor(x) else tf.convert_to_tensor(x)
    return np.asarray(x)


def from_episode(observation: Nest, action: Nest, policy_info: Nest, reward: Nest,
                 discount: Any = None) -> Trajectory:
    """The `Trajectory` of one whole episode of `T` steps, time-major (`[T, ...]`).

    Row 0 goes from a FIRST step, row `T - 1` to a LAST step, the rows between
    are MID to MID (a one-step episode is FIRST to LAST). Every leaf of every
    argument has the leading time dim `T`: `discount`'s if given, else that of
    the first leaf of `reward` (in `tree.flatten` order); a missing `discount`
    is all ones.

    Passed through `to_transition` (after adding a batch dim), the episode
    gives `T - 1` transitions: the reward of the last row is dropped, so record
    one step more than the rewards you need.

    >>> traj = from_episode(np.array([10, 11, 12]), np.array([0, 1, 0]), (),
    ...                     reward=np.array([1., 2., 3.], np.float32))
    >>> traj.step_type, traj.next_step_type, traj.discount
    (array([0, 1, 1], dtype=int32), array([1, 1, 2], dtype=int32), array([1., 1., 1.], dtype=float32))

    Args:
      observation: a nest, each leaf shaped `[T, ...]`.
      action: a nest, each leaf shaped `[T, ...]`.
      policy_info: a nest, each leaf shaped `[T, ...]`.
      reward: a nest, each leaf shaped `[T, ...]`.
      discount: optional float discounts, shape `[T]`; converted to float32.

    Returns:
      A `Trajectory` of numpy arrays, or of tensors if any input holds a tensor.

    Raises:
      ValueError: a leaf is a scalar, or (when `T` is known statically) its
        leading dim is not `T`; the leaf's path is named.
    """
    tensors = contains_tensor(observation, action, policy_info, reward, discount)
    fields = {"observation": observation, "action": action, "policy_info": policy_info,
              "reward": reward}
    if discount is not None:
        fields["discount"] = discount
        time_path, time_source = ("discount",), discount
    else:
        flat = tree.flatten_with_path(reward)
        if not flat:
            raise ValueError("from_episode: without a discount, reward must hold at least "
                             "one leaf to give the episode's length")
        time_path, time_source = ("reward",) + tuple(flat[0][0]), flat[0][1]
    num_frames = _outer_dim(time_source)
    if num_frames is None:
        raise ValueError(nest_error_message(
            "episode", time_path, "expected a leading time dim, got a scalar",
            value=time_source))
    if not tf.is_tensor(num_frames):
        for path, leaf in tree.flatten_with_path(fields):
            dim = _outer_dim(leaf)
            if dim is None or (not tf.is_tensor(dim) and dim != num_frames):
                raise ValueError(nest_error_message(
                    "episode", path, f"expected a leading time dim of {num_frames} "
                    f"(that of '{'/'.join(map(str, time_path))}')", value=leaf))

    if tensors:
        index = tf.range(num_frames)
        step_type = tf.where(index == 0, ts.StepType.FIRST, ts.StepType.MID)
        next_step_type = tf.where(index == num_frames - 1, ts.StepType.LAST, ts.StepType.MID)
        if discount is None:
            discount = tf.ones([num_frames], tf.float32)
    else:
        index = np.arange(num_frames)
        step_type = np.where(index == 0, ts.StepType.FIRST, ts.StepType.MID)
        next_step_type = np.where(index == num_frames - 1, ts.StepType.LAST, ts.StepType.MID)
        if discount is None:
            discount = np.ones([num_frames], np.float32)

    def convert(nest: Nest) -> Nest:
        return tree.map_structure(lambda x: _as_field(x, tensors), nest)

    return Trajectory(
        step_type=step_type,
        observation=convert(observation),
        action=convert(action),
        policy_info=convert(policy_info),
        next_step_type=next_step_type,
        reward=convert(reward),
        discount=as_discount(discount, None, tensors))


def _time_dim(trajectory: Trajectory, what: str) -> Union[int, tf.Tensor]:
    """The time dim of `[B, T]` rows: an int when static, else a scalar tensor."""
    discount = trajectory.discount
    rank = discount.shape.rank if tf.is_tensor(discount) else np.ndim(discount)
    if rank is not None and rank != 2:
        raise ValueError(
            f"{what} needs rows with outer dims [B, T]: expected trajectory.discount of "
            f"rank 2, got shape {tuple(discount.shape)}")
    if tf.is_tensor(discount):
        static = discount.shape[1] if rank is not None else None
        return int(static) if static is not None else tf.shape(discount)[1]
    return np.shape(discount)[1]


def to_n_step_transition(trajectory: Trajectory, gamma: Any) -> Transition:
    """The N-step transition of rows with `T = N + 1` time steps, outer dims `[B, T]`.

    With `r_k = trajectory.reward[:, k]` and `d_k = trajectory.discount[:, k]`:

        next_time_step.reward   = sum_{n=0}^{N-1} gamma^n (d_0 ... d_{n-1}) r_n
        next_time_step.discount = gamma^(N-1) d_0 d_1 ... d_{N-1}

    (the last row's reward and discount are not used). The discount has one
    factor of `gamma` fewer than the reward's weights would suggest, so a
    learner that multiplies by `gamma` itself (as DQN's target does) applies
    it exactly N times.

    The time step is the first row (its reward and discount, unknown, are
    NaN); the action step is the first row's action and info (state `()`);
    the next time step has the last row's step type and observation. No field
    has a time dim.

    >>> traj = Trajectory(
    ...     step_type=np.array([[0, 1, 1]], np.int32), observation=np.array([[10, 11, 12]]),
    ...     action=np.array([[5, 6, 7]]), policy_info=(),
    ...     next_step_type=np.array([[1, 1, 1]], np.int32),
    ...     reward=np.array([[1., 2., 4.]], np.float32),
    ...     discount=np.array([[1., 1., 1.]], np.float32))
    >>> t = to_n_step_transition(traj, gamma=0.5)
    >>> t.next_time_step.reward.numpy(), t.next_time_step.discount.numpy()
    (array([2.], dtype=float32), array([0.5], dtype=float32))
    >>> t.time_step.observation.numpy(), t.next_time_step.observation.numpy()
    (array([10]), array([12]))

    Args:
      trajectory: rows with outer dims `[B, T]`, `T >= 2`; dense tensors or arrays.
      gamma: the discount factor, a float scalar.

    Returns:
      A `Transition` of tensors with outer dims `[B]`.

    Raises:
      ValueError: `trajectory.discount` is not of rank 2, or `T < 2` statically.
    """
    time_dim = _time_dim(trajectory, "to_n_step_transition")
    if not tf.is_tensor(time_dim) and time_dim < 2:
        raise ValueError(
            f"to_n_step_transition needs at least 2 time steps, got T={time_dim} "
            f"(trajectory.discount has shape {tuple(np.shape(trajectory.discount))})")
    first_frame = tree.map_structure(lambda x: tf.convert_to_tensor(x)[:, 0], trajectory)
    final_frame = tree.map_structure(lambda x: tf.convert_to_tensor(x)[:, -1], trajectory)
    discount = tf.convert_to_tensor(trajectory.discount)[:, :-1]  # [B, N]
    gamma = tf.cast(gamma, discount.dtype)
    # Weight of r_n: gamma^n d_0 ... d_{n-1}, an exclusive cumulative product.
    weights = tf.math.cumprod(gamma * discount, axis=1, exclusive=True)

    def n_step_return(r: Any) -> tf.Tensor:
        r = tf.convert_to_tensor(r)[:, :-1]
        w = tf.cast(weights, r.dtype)
        w = tf.reshape(w, tf.concat([tf.shape(w), tf.ones([tf.rank(r) - 2], tf.int32)], 0))
        return tf.reduce_sum(w * r, axis=1)

    n = tf.cast(time_dim - 1, discount.dtype)
    final_discount = tf.pow(gamma, n - 1) * tf.reduce_prod(discount, axis=1)

    def nan_like(x: tf.Tensor) -> tf.Tensor:
        return tf.fill(tf.shape(x), tf.constant(np.nan, x.dtype))

    return _transition(first_frame, nan_like, ts.TimeStep(
        step_type=final_frame.step_type,
        reward=tree.map_structure(n_step_return, trajectory.reward),
        discount=final_discount,
        observation=final_frame.observation))


def to_transition_spec(trajectory_spec: Trajectory) -> Transition:
    """The `Transition` of specs that `to_transition` gives for rows of `trajectory_spec`.

    Both time step specs take the step type, reward, discount and observation
    specs of `trajectory_spec`; the policy step spec has its action and info
    specs and state `()` (trajectories do not record the policy state).

    >>> spec = Trajectory(*"abcdefg")
    >>> to_transition_spec(spec).next_time_step
    TimeStep(step_type='a', reward='f', discount='g', observation='b')
    """
    time_step_spec = ts.TimeStep(
        step_type=trajectory_spec.step_type,
        reward=trajectory_spec.reward,
        discount=trajectory_spec.discount,
        observation=trajectory_spec.observation)
    policy_step_spec = ps.PolicyStep(action=trajectory_spec.action, state=(),
                                     info=trajectory_spec.policy_info)
    return Transition(time_step_spec, policy_step_spec, time_step_spec)


def experience_to_transitions(experience: Trajectory, squeeze_time_dim: bool) -> Transition:
    """`to_transition(experience)`, optionally without its time dim.

    `experience` has outer dims `[B, T]` (e.g. a replay batch sampled with
    `num_steps=T`); the transitions have outer dims `[B, T - 1]`. With
    `squeeze_time_dim` (for `T = 2`, as one-step agents sample) that dim of
    size 1 is removed, leaving `[B]`.

    Args:
      experience: a `Trajectory` with outer dims `[B, T]`, `T >= 2`.
      squeeze_time_dim: remove the time dim, which must then be 1.

    Returns:
      A `Transition(time_step, action_step, next_time_step)`.

    Raises:
      ValueError: `experience` has no time dim, or `squeeze_time_dim` and a
        leaf's time dim is statically not 1 (its path named).
    """
    transitions = to_transition(experience)
    if not squeeze_time_dim:
        return transitions

    def squeeze(path: tuple, x: Any) -> Any:
        if tf.is_tensor(x):
            dim = x.shape[1] if x.shape.rank is not None and x.shape.rank > 1 else None
        else:
            dim = np.shape(x)[1] if np.ndim(x) > 1 else None
        if dim is not None and dim != 1:
            raise ValueError(nest_error_message(
                "transitions", path, "squeeze_time_dim needs a time dim of 1 (experience "
                f"with T=2), got a time dim of {dim}", value=x))
        return tf.squeeze(x, 1) if tf.is_tensor(x) else np.squeeze(x, 1)

    return tree.map_structure_with_path(squeeze, transitions)
