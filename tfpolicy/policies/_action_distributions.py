"""Per-leaf action distributions: one event per action spec leaf.

A policy's distribution for an action leaf of shape `S` has batch shape
`[..outer]` and event shape `S`, so its log-probability is one number per
outer entry. `independent` reinterprets the spec's dims of an element-wise
distribution as that event; `deterministic` builds the point masses of
policies whose action is fixed given the time step (greedy, fixed).

>>> from specs import TensorSpec
>>> spec = {"move": TensorSpec([2], tf.float32), "pick": TensorSpec([], tf.int32)}
>>> dists = deterministic({"move": tf.zeros([3, 2]), "pick": tf.ones([3], tf.int32)}, spec)
>>> dists["move"].event_shape, dists["pick"].batch_shape
(TensorShape([2]), TensorShape([3]))
"""

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import NestedTensor, NestedTensorSpec

__all__ = ["independent", "deterministic"]

tfd = tfp.distributions


def independent(distribution: tfd.Distribution, spec: tf.TensorSpec) -> tfd.Distribution:
    """`distribution` (batch shape `[..outer] + spec.shape`) as one event of `spec`'s shape.

    Args:
      distribution: an element-wise distribution over the leaf.
      spec: the leaf's spec; a scalar spec leaves `distribution` unchanged.

    Returns:
      A distribution with batch shape `[..outer]` and event shape `spec.shape`.
    """
    rank = spec.shape.rank
    return tfd.Independent(distribution, reinterpreted_batch_ndims=rank) if rank else distribution


def deterministic(actions: NestedTensor, action_spec: NestedTensorSpec) -> NestedTensor:
    """A nest like `action_spec` of point masses at `actions` (`[..outer] + spec.shape` each)."""
    leaves = tree.flatten_up_to(action_spec, actions, check_types=False)
    return tree.unflatten_as(action_spec, [
        independent(tfd.Deterministic(a), s) for a, s in zip(leaves, tree.flatten(action_spec))])
