"""Time steps: what an environment hands to a policy at every step.

A `TimeStep` holds where the step lies in its episode (`step_type`), the
reward and discount that came with arriving at it, and the observation. The
constructors build the four kinds an environment emits:

| constructor    | step type | reward         | discount       |
|----------------|-----------|----------------|----------------|
| `restart`      | FIRST     | zeros          | 1              |
| `transition`   | MID       | given          | given (def. 1) |
| `termination`  | LAST      | given          | 0              |
| `truncation`   | LAST      | given          | given (def. 1) |

Numpy (or Python) inputs give numpy outputs; if any input holds a
`tf.Tensor`, every field but the observation comes out as a tensor, and the
constructors work inside `tf.function` with an unknown batch size.

>>> ts = restart(np.zeros((3, 2), np.float32), batch_size=3)
>>> ts.step_type, ts.discount
(array([0, 0, 0], dtype=int32), array([1., 1., 1.], dtype=float32))
>>> termination(np.zeros(2, np.float32), reward=1.5).is_last()
array(True)
"""

from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np
import tensorflow as tf
import tree

from specs import array_spec
from specs import tensor_spec
from specs import Nest, NestedSpec
from tfpolicy.trajectories._fields import (Shape, as_discount, as_reward, contains_tensor, equal,
                                           fill, shape_of)

__all__ = [
    "StepType",
    "TimeStep",
    "restart",
    "transition",
    "termination",
    "truncation",
    "time_step_spec",
]

OuterDims = Union[Sequence[int], tf.Tensor, None]


class StepType:
    """Where a time step lies in its episode.

    The members are `np.int32` scalars, so they compare with Python ints,
    numpy arrays and int32 tensors alike, and `np.array([StepType.MID])` is
    int32.

    >>> StepType.FIRST == 0, StepType.MID, StepType.LAST.dtype
    (np.True_, np.int32(1), dtype('int32'))
    """

    FIRST = np.int32(0)
    """The first step of an episode; its reward and discount carry no meaning."""
    MID = np.int32(1)
    """Any step between the first and the last."""
    LAST = np.int32(2)
    """The last step of an episode (terminated or truncated)."""

    def __new__(cls, value: Any) -> np.int32:
        """The member equal to `value`: `StepType(2)` is `StepType.LAST`.

        >>> StepType(np.int64(1)) is StepType.MID
        True

        Raises:
          ValueError: `value` is not 0, 1 or 2.
        """
        for member in (cls.FIRST, cls.MID, cls.LAST):
            if np.ndim(value) == 0 and value == member:
                return member
        raise ValueError(f"no StepType has the value {value!r}: expected 0 (FIRST), "
                         "1 (MID) or 2 (LAST)")


class TimeStep(NamedTuple):
    """One step of an environment, unbatched or with outer (batch) dims `B`.

    Attributes:
      step_type: int32 of shape `B`: `StepType.FIRST`, `MID` or `LAST`.
      reward: a nest; each leaf has shape `B + spec.shape` (float32 `B` by default).
      discount: float32 of shape `B`, in [0, 1]: 0 when the episode terminated.
      observation: a nest; each leaf has shape `B + spec.shape`.
    """

    step_type: Any
    reward: Nest
    discount: Any
    observation: Nest

    def is_first(self) -> Any:
        """Bool of shape `B`: whether each step starts an episode."""
        return equal(self.step_type, StepType.FIRST)

    def is_mid(self) -> Any:
        """Bool of shape `B`: whether each step is inside an episode."""
        return equal(self.step_type, StepType.MID)

    def is_last(self) -> Any:
        """Bool of shape `B`: whether each step ends an episode."""
        return equal(self.step_type, StepType.LAST)


def _as_outer_dims(outer_dims: Any, tensors: bool) -> Shape:
    if tf.is_tensor(outer_dims):
        return tf.reshape(tf.cast(outer_dims, tf.int32), [-1])
    dims = tuple(outer_dims)
    if not tensors or all(isinstance(d, (int, np.integer)) for d in dims):
        return tuple(int(d) for d in dims)
    return tf.stack([tf.cast(d, tf.int32) for d in dims])


def _batch_shape(reward: Nest, outer_dims: OuterDims, tensors: bool) -> Shape:
    """`outer_dims` if given; else the leading dim of the first reward leaf (none if scalar)."""
    if outer_dims is not None:
        return _as_outer_dims(outer_dims, tensors)
    leaves = tree.flatten(reward)
    if not leaves:
        return ()
    return shape_of(leaves[0], tensors)[:1]


def _make(step_type: np.int32, observation: Nest, reward: Nest, discount: Any,
          outer_dims: OuterDims) -> TimeStep:
    tensors = contains_tensor(observation, reward, discount, outer_dims)
    shape = _batch_shape(reward, outer_dims, tensors)
    return TimeStep(
        step_type=fill(shape, step_type, tensors),
        reward=as_reward(reward, shape, tensors),
        discount=as_discount(discount, shape, tensors),
        observation=observation)


def _batch_size_shape(batch_size: Union[int, Sequence[int], tf.Tensor, None]) -> Shape:
    """The outer dims of a step with `batch_size` entries: `()` for None; a
    sequence (or 1-D tensor) is taken as the whole outer shape."""
    if batch_size is None:
        return ()
    if tf.is_tensor(batch_size):
        return tf.reshape(tf.cast(batch_size, tf.int32), [-1])
    if np.ndim(batch_size) > 0:
        return tuple(int(d) for d in np.reshape(batch_size, [-1]))
    return (int(batch_size),)


def restart(observation: Nest, batch_size: Union[int, Sequence[int], tf.Tensor, None] = None,
            reward_spec: Optional[NestedSpec] = None) -> TimeStep:
    """The first time step of an episode: step type FIRST, reward 0, discount 1.

    Args:
      observation: the first observation, a nest; returned unchanged.
      batch_size: None for an unbatched step (scalar fields), else the batch
        size `B` (an int, or a scalar int tensor inside `tf.function`). A
        sequence of ints (or a 1-D int tensor) gives several outer dims, e.g.
        `[B, T]`.
      reward_spec: the nest of reward specs; the reward is zeros of each spec's
        dtype and shape `[B] + spec.shape`. Defaults to one float32 scalar.

    Returns:
      A `TimeStep`; numpy fields, or tensors if `observation` or `batch_size`
      holds a tensor.

    >>> restart({"pos": np.zeros((2, 3))}, batch_size=2,
    ...         reward_spec={"a": array_spec.ArraySpec((2,), np.float64)}).reward
    {'a': array([[0., 0.],
           [0., 0.]])}
    """
    tensors = contains_tensor(observation, batch_size)
    if reward_spec is None:
        reward_spec = tf.TensorSpec([], tf.float32, name="reward")
    shape = _batch_size_shape(batch_size)
    if tensors:
        reward = tensor_spec.zero_spec_nest(reward_spec, shape)
    else:
        reward = array_spec.zero_spec_nest(reward_spec, shape)
    return TimeStep(
        step_type=fill(shape, StepType.FIRST, tensors),
        reward=reward,
        discount=as_discount(1.0, shape, tensors),
        observation=observation)


def transition(observation: Nest, reward: Nest, discount: Any = 1.0,
               outer_dims: OuterDims = None) -> TimeStep:
    """A time step inside an episode: step type MID.

    The batch shape `B` is `outer_dims` when given. Otherwise it comes from
    the first leaf of `reward` (in `tree.flatten` order): `()` if that leaf is
    a scalar, else its leading dim. So a non-scalar reward (e.g. a vector of
    objectives) without a batch needs `outer_dims=()`, and a batch of shape
    `[B, T]` needs `outer_dims`.

    Args:
      observation: a nest; returned unchanged.
      reward: a nest of rewards. Arrays and tensors keep their dtype, Python
        numbers become float32; scalar leaves are broadcast to `B`.
      discount: broadcastable to `B`; converted to float32.
      outer_dims: the batch shape, ints or a 1-D int tensor.

    Returns:
      A `TimeStep`; numpy fields, or tensors if any input holds a tensor.

    >>> ts = transition(np.zeros((3, 2)), reward=np.array([1., 2., 3.], np.float32),
    ...                 discount=0.5)
    >>> ts.step_type, ts.discount
    (array([1, 1, 1], dtype=int32), array([0.5, 0.5, 0.5], dtype=float32))
    """
    return _make(StepType.MID, observation, reward, discount, outer_dims)


def termination(observation: Nest, reward: Nest, outer_dims: OuterDims = None) -> TimeStep:
    """The last time step of an episode that ended: step type LAST, discount 0.

    The batch shape follows the rule of `transition`.

    Args:
      observation: a nest; returned unchanged.
      reward: a nest of rewards, converted as in `transition`.
      outer_dims: the batch shape, ints or a 1-D int tensor.

    Returns:
      A `TimeStep`; numpy fields, or tensors if any input holds a tensor.

    >>> termination(np.zeros((2, 4)), reward=np.array([1., 0.], np.float32)).discount
    array([0., 0.], dtype=float32)
    """
    return _make(StepType.LAST, observation, reward, 0.0, outer_dims)


def truncation(observation: Nest, reward: Nest, discount: Any = 1.0,
               outer_dims: OuterDims = None) -> TimeStep:
    """The last time step of an episode cut short (e.g. a time limit).

    Step type LAST, but the discount is kept, so a learner may still bootstrap
    from the value of this observation. The batch shape follows the rule of
    `transition`.

    Args:
      observation: a nest; returned unchanged.
      reward: a nest of rewards, converted as in `transition`.
      discount: broadcastable to the batch shape; converted to float32.
      outer_dims: the batch shape, ints or a 1-D int tensor.

    Returns:
      A `TimeStep`; numpy fields, or tensors if any input holds a tensor.

    >>> ts = truncation(np.zeros(4), reward=1.0, discount=0.9)
    >>> ts.step_type, ts.discount
    (array(2, dtype=int32), array(0.9, dtype=float32))
    """
    return _make(StepType.LAST, observation, reward, discount, outer_dims)


def _spec_kind(spec: NestedSpec, what: str) -> Optional[str]:
    """'array' or 'tensor' for a nest of one kind of spec; None for an empty nest."""
    kinds = set()
    for leaf in tree.flatten(spec):
        if isinstance(leaf, array_spec.ArraySpec):
            kinds.add("array")
        elif isinstance(leaf, tf.TypeSpec):
            kinds.add("tensor")
        else:
            raise TypeError(f"{what} must be a nest of ArraySpecs or TensorSpecs, got {leaf!r}")
    if len(kinds) > 1:
        raise TypeError(f"{what} mixes ArraySpecs and TensorSpecs: {spec!r}")
    return kinds.pop() if kinds else None


def time_step_spec(observation_spec: Optional[NestedSpec] = None,
                   reward_spec: Optional[NestedSpec] = None) -> TimeStep:
    """The `TimeStep` of specs for a given observation (and reward) spec.

    The specs mirror the kind of `observation_spec`: `ArraySpec`s for a nest of
    `ArraySpec`s, `TensorSpec`s otherwise (also for an empty nest). With no
    `observation_spec` (TF-Agents' default), every field is `()`: the time step
    spec of a policy or environment that has none.

    Args:
      observation_spec: a nest of `ArraySpec`s or of `TensorSpec`s, or None.
      reward_spec: a nest of specs of the same kind; defaults to a float32
        scalar named 'reward'.

    Returns:
      `TimeStep(step_type=<int32 scalar 'step_type'>, reward=reward_spec,
      discount=<bounded float32 scalar in [0, 1] 'discount'>,
      observation=observation_spec)`.

    Raises:
      TypeError: if a spec nest holds something other than specs, or mixes
        array and tensor specs.

    >>> time_step_spec(array_spec.ArraySpec((2,), np.float32)).discount
    BoundedArraySpec(shape=(), dtype=dtype('float32'), name='discount', minimum=0.0, maximum=1.0)
    """
    if observation_spec is None:
        if reward_spec is not None:
            raise TypeError("time_step_spec: a reward_spec needs an observation_spec (got "
                            "observation_spec=None)")
        return TimeStep(step_type=(), reward=(), discount=(), observation=())
    kind = _spec_kind(observation_spec, "observation_spec") or "tensor"
    if reward_spec is not None:
        reward_kind = _spec_kind(reward_spec, "reward_spec")
        if reward_kind not in (None, kind):
            raise TypeError(
                f"reward_spec holds {reward_kind} specs but observation_spec holds {kind} "
                "specs; convert one with specs.from_spec or specs.to_array_spec")
    if kind == "array":
        return TimeStep(
            step_type=array_spec.ArraySpec((), np.int32, name="step_type"),
            reward=(array_spec.ArraySpec((), np.float32, name="reward")
                    if reward_spec is None else reward_spec),
            discount=array_spec.BoundedArraySpec(
                (), np.float32, minimum=0.0, maximum=1.0, name="discount"),
            observation=observation_spec)
    return TimeStep(
        step_type=tf.TensorSpec([], tf.int32, name="step_type"),
        reward=(tf.TensorSpec([], tf.float32, name="reward")
                if reward_spec is None else reward_spec),
        discount=tensor_spec.BoundedTensorSpec(
            [], tf.float32, minimum=0.0, maximum=1.0, name="discount"),
        observation=observation_spec)
