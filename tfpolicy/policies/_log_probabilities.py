"""Log-probabilities of actions, one float32 number per batch entry and action leaf.

For an action leaf `a` of spec shape `S` drawn from a distribution `p`,

    log_probability(a) = sum over the elements e of S of log p(a_e)

when `p` is element-wise (batch shape `[..outer] + S`), and `log p(a)` when
`S` is already `p`'s event shape: either way the result has shape
`[..outer]`, in float32. An action that is certain given the time step (a
point mass at it) has log-probability 0.

>>> import tensorflow_probability as tfp
>>> spec = {"move": tf.TensorSpec([2], tf.float32), "pick": tf.TensorSpec([], tf.int32)}
>>> dists = {"move": tfp.distributions.Normal(tf.zeros([3, 2]), 1.0),
...          "pick": tfp.distributions.Categorical(logits=tf.zeros([3, 4]))}
>>> actions = {"move": tf.zeros([3, 2]), "pick": tf.ones([3], tf.int32)}
>>> log_probs = log_probabilities(dists, actions, spec)
>>> log_probs["move"].shape, round(float(log_probs["pick"][0]), 4)  # summed; log(1/4)
(TensorShape([3]), -1.3863)
>>> certain_log_probabilities(tf.constant([3]), spec)["move"].numpy()
array([0., 0., 0.], dtype=float32)
>>> log_prob_spec(spec)["pick"]
TensorSpec(shape=(), dtype=tf.float32, name='log_probability')
"""

from typing import Any

import tensorflow as tf
import tree

from specs import NestedTensor, NestedTensorSpec

__all__ = ["log_prob_spec", "log_probabilities", "certain_log_probabilities"]


def log_prob_spec(action_spec: NestedTensorSpec) -> NestedTensorSpec:
    """A float32 scalar spec named `log_probability` per action leaf."""
    return tree.map_structure(lambda _: tf.TensorSpec((), tf.float32, "log_probability"),
                              action_spec)


def log_probabilities(distributions: Any, actions: NestedTensor,
                      action_spec: NestedTensorSpec) -> NestedTensor:
    """The log-probability of each action leaf under its distribution (see the module docstring).

    Args:
      distributions: a nest like `action_spec` of objects with
        `log_prob(action)` (tfp distributions, or a policy's own laws)
        returning one value per element or per outer entry.
      actions: a nest like `action_spec`, each `[..outer] + spec.shape`.
      action_spec: the nest of action specs.

    Returns:
      A nest like `action_spec` of float32 tensors of shape `[..outer]`.
    """
    specs = tree.flatten(action_spec)
    dists = tree.flatten_up_to(action_spec, distributions, check_types=False)
    leaves = tree.flatten_up_to(action_spec, actions, check_types=False)
    return tree.unflatten_as(action_spec, [
        _log_probability(d, a, s) for d, a, s in zip(dists, leaves, specs)])


def certain_log_probabilities(outer: tf.Tensor, action_spec: NestedTensorSpec) -> NestedTensor:
    """The log-probability of a certain action: float32 zeros of shape `outer` (a 1-D int
    tensor, the outer dims) per action leaf."""
    return tree.map_structure(lambda _: tf.zeros(outer, tf.float32), action_spec)


def _log_probability(distribution: Any, action: tf.Tensor, spec: tf.TensorSpec) -> tf.Tensor:
    values = tf.cast(distribution.log_prob(action), tf.float32)
    outer_rank = action.shape.rank - spec.shape.rank
    extra = values.shape.rank - outer_rank
    if extra > 0:
        values = tf.reduce_sum(values, axis=list(range(-extra, 0)))
    return values
