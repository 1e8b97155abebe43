"""Action constraints: the one place where masks are split off, checked and applied.

Policies over a single discrete action accept an
`observation_and_action_constraint_splitter`: a function
`observation -> (network_observation, mask)`. The mask has shape
`[B, num_actions]` (`[num_actions]` for an unbatched step) and is nonzero or
True where an action is allowed. A masked action gets the logit `-inf`, so it
is never sampled or chosen as a mode and its log-probability is `-inf`, even
when a row allows exactly one action. Every row must allow at least one.

>>> from specs import BoundedTensorSpec
>>> action = discrete_action(BoundedTensorSpec((), tf.int32, 2, 4), "MyPolicy")
>>> action.minimum, action.num_actions
(2, 3)
>>> mask = tf.constant([[1, 0, 1], [0, 1, 0]])
>>> apply_mask(tf.zeros([2, 3]), mask).numpy().tolist()
[[0.0, -inf, 0.0], [-inf, 0.0, -inf]]
>>> num_allowed(mask).numpy().tolist()
[2.0, 1.0]
"""

from typing import Any, Callable, NamedTuple, Optional, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy import _distributions

__all__ = [
    "DiscreteAction",
    "discrete_action",
    "split_observation",
    "network_observation_spec",
    "check_mask_shape",
    "check_mask",
    "apply_mask",
    "num_allowed",
    "uniform_logits",
]

Splitter = Callable[[NestedTensor], tuple]

_SINGLE_DISCRETE = (
    "{owner} supports a single bounded integer action of shape () or (1,) with scalar "
    "bounds; got {what}")


class DiscreteAction(NamedTuple):
    """A validated single discrete action spec.

    Attributes:
      spec: the `BoundedTensorSpec` leaf (shape `()` or `(1,)`).
      minimum: the smallest action, a Python int.
      num_actions: `maximum - minimum + 1`, a Python int.
    """

    spec: tensor_spec.BoundedTensorSpec
    minimum: int
    num_actions: int


def discrete_action(action_spec: NestedTensorSpec, owner: str) -> DiscreteAction:
    """Checks that `action_spec` holds exactly one discrete action and describes it.

    Args:
      action_spec: a spec, or a nest with a single spec leaf.
      owner: the policy's name, for error messages.

    Returns:
      The `DiscreteAction` of the single leaf.

    Raises:
      ValueError: the nest has several leaves, or the leaf is not a bounded
        integer spec of shape `()` or `(1,)` with one minimum and one maximum.
    """
    leaves = tree.flatten(tensor_spec.from_spec(action_spec))
    if len(leaves) != 1:
        raise ValueError(_SINGLE_DISCRETE.format(
            owner=owner, what=f"{len(leaves)} action specs in {action_spec!r}"))
    spec = leaves[0]
    if not (isinstance(spec, tensor_spec.BoundedTensorSpec) and spec.dtype.is_integer):
        raise ValueError(_SINGLE_DISCRETE.format(owner=owner, what=repr(spec)))
    if spec.shape.rank not in (0, 1) or (spec.shape.rank == 1 and spec.shape[0] != 1):
        raise ValueError(_SINGLE_DISCRETE.format(owner=owner, what=f"shape {spec.shape} in {spec!r}"))
    minimum, maximum = np.unique(spec.minimum), np.unique(spec.maximum)
    if minimum.size != 1 or maximum.size != 1:
        raise ValueError(_SINGLE_DISCRETE.format(owner=owner, what=f"per-element bounds in {spec!r}"))
    return DiscreteAction(spec, int(minimum[0]), int(maximum[0]) - int(minimum[0]) + 1)


def split_observation(splitter: Optional[Splitter],
                      observation: NestedTensor) -> Tuple[NestedTensor, Optional[Any]]:
    """`(network_observation, mask)` from a splitter; `(observation, None)` without one.

    Raises:
      TypeError: the splitter does not return a pair.
    """
    if splitter is None:
        return observation, None
    parts = splitter(observation)
    if not isinstance(parts, (tuple, list)) or len(parts) != 2:
        raise TypeError(
            "observation_and_action_constraint_splitter must return a pair "
            f"(network_observation, mask), got {type(parts).__name__}: {parts!r}")
    return parts[0], parts[1]


def network_observation_spec(observation_spec: NestedTensorSpec, splitter: Optional[Splitter],
                             owner: str) -> Tuple[NestedTensorSpec, Optional[tf.TensorShape]]:
    """The spec of the observation part a network sees, and the mask's unbatched shape.

    The splitter runs once on a zero observation of batch 1 (so splitters
    written with tensor ops work); when the observation spec has unknown dims
    it runs on the spec nest itself and must return specs.

    Args:
      observation_spec: the policy's full observation spec (network part and mask).
      splitter: the observation_and_action_constraint_splitter, or None.
      owner: the policy's name, for error messages.

    Returns:
      `(network_observation_spec, mask_shape)`; `(observation_spec, None)`
      without a splitter. `mask_shape` is None when it cannot be known here.

    Raises:
      TypeError: a splitter run on specs does not return specs.
    """
    if splitter is None:
        return observation_spec, None
    leaves = tree.flatten(observation_spec)
    if all(s.shape.is_fully_defined() for s in leaves):
        zeros = tensor_spec.zero_spec_nest(observation_spec, (1,))
        network_obs, mask = split_observation(splitter, zeros)
        spec = tree.map_structure(lambda t: tf.TensorSpec(t.shape[1:], t.dtype), network_obs)
        return spec, tf.TensorShape(tf.convert_to_tensor(mask).shape[1:])
    network_spec, _ = split_observation(splitter, observation_spec)
    if not all(isinstance(s, tf.TensorSpec) for s in tree.flatten(network_spec)):
        raise TypeError(
            f"{owner}: the observation spec {observation_spec!r} has unknown dims, so the "
            "splitter is applied to the spec itself and must return specs; it returned "
            f"{network_spec!r}")
    return network_spec, None


def check_mask_shape(shape: tf.TensorShape, num_actions: int, outer_rank: Optional[int],
                     owner: str) -> None:
    """Checks a mask's static shape: the outer dims, then one entry per action.

    Args:
      shape: the mask's (possibly partly unknown) shape.
      num_actions: how many actions the action spec has.
      outer_rank: the time step's number of outer dims (None if unknown).
      owner: the policy's name, for error messages.

    Raises:
      ValueError: the last dim is not `num_actions` or the rank is not
        `outer_rank + 1` (where known).
    """
    shape = tf.TensorShape(shape)
    if shape.rank is None:
        return
    bad_rank = outer_rank is not None and shape.rank != outer_rank + 1
    bad_width = shape.rank == 0 or (shape[-1] is not None and shape[-1] != num_actions)
    if bad_rank or bad_width:
        raise ValueError(
            f"{owner}: the action spec has num_actions={num_actions}, but the mask from "
            f"observation_and_action_constraint_splitter has shape {shape}, expected the time "
            f"step's outer dims followed by {num_actions} (one entry per action)")


def check_mask(mask: Any, num_actions: int, outer_rank: Optional[int], owner: str) -> tf.Tensor:
    """The mask as a bool tensor, after `check_mask_shape` on its static shape."""
    mask = tf.convert_to_tensor(mask)
    check_mask_shape(mask.shape, num_actions, outer_rank, owner)
    return tf.cast(mask, tf.bool)


def apply_mask(logits: tf.Tensor, mask: Optional[Any]) -> tf.Tensor:
    """`logits` with `-inf` where `mask` disallows an action; unchanged when `mask` is None."""
    if mask is None:
        return logits
    return _distributions.mask_logits(logits, mask)


def num_allowed(mask: Any, dtype: tf.DType = tf.float32) -> tf.Tensor:
    """How many actions each row of `mask` (`[..., K]`) allows, shape `[...]`."""
    return tf.reduce_sum(tf.cast(tf.cast(mask, tf.bool), dtype), axis=-1)


def uniform_logits(outer_shape: tf.Tensor, num_actions: int, mask: Optional[Any],
                   dtype: tf.DType = tf.float32) -> tf.Tensor:
    """Logits `[..outer, K]` of the uniform distribution over the allowed actions.

    Args:
      outer_shape: a 1-D int tensor, the outer dims (`[]` for an unbatched step).
      num_actions: K.
      mask: `[..outer, K]` or None (every action allowed).
      dtype: the logits' dtype.
    """
    zeros = tf.zeros(tf.concat([outer_shape, [num_actions]], 0), dtype)
    return apply_mask(zeros, mask)
