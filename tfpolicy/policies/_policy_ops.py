"""The tensor arithmetic behind `TFPolicy`: spec holder, input conversion,
per-entry log-probabilities and soft variable updates.

`TFPolicy` (in `tf_policy`) owns the control flow and the validation; these
functions do the work that does not depend on the policy object.

>>> import tensorflow_probability as tfp
>>> spec = tf.TensorSpec([2], tf.float32)
>>> normal = tfp.distributions.Normal(tf.zeros([3, 2]), 1.0)
>>> log_prob(normal, tf.zeros([3, 2]), spec).shape  # element log-densities summed
TensorShape([3])
>>> to_tensors([1.0, 2.0], spec).dtype
tf.float32
"""

from typing import Any, List, Union

import tensorflow as tf
import tree

from specs._types import NestedTensorSpec
from tfpolicy import _variables

__all__ = ["Specs", "log_prob_spec", "log_prob", "to_tensors", "check_variable_pairs",
           "soft_update"]


class Specs:
    """Holds the specs outside `tf.Module`'s attribute tracking, which would
    wrap dicts and tuples into its own container types."""

    __slots__ = ("time_step", "action", "policy_state", "info", "clip_bounds")

    def __init__(self, time_step: Any, action: Any, policy_state: Any, info: Any,
                 clip_bounds: list):
        self.time_step = time_step
        self.action = action
        self.policy_state = policy_state
        self.info = info
        # Per action leaf: (minimum, maximum) to clip to, or None.
        self.clip_bounds = clip_bounds


def log_prob_spec(action_spec: NestedTensorSpec) -> NestedTensorSpec:
    """A float32 scalar spec named `log_probability` per action leaf."""
    return tree.map_structure(lambda _: tf.TensorSpec((), tf.float32, "log_probability"),
                              action_spec)


def log_prob(distribution: Any, action: tf.Tensor, spec: tf.TensorSpec) -> tf.Tensor:
    """Log-probability of `action` per outer (batch) entry: a distribution whose
    batch shape covers the action's elements (e.g. a per-element Normal) has its
    element log-densities summed."""
    values = tf.cast(distribution.log_prob(action), tf.float32)
    outer_rank = action.shape.rank - spec.shape.rank
    extra = values.shape.rank - outer_rank
    if extra > 0:
        values = tf.reduce_sum(values, axis=list(range(-extra, 0)))
    return values


def to_tensors(value: Any, spec: Any) -> Any:
    """Converts non-tensor leaves to tensors of the spec's dtype (tensors pass through)."""
    if not tree.flatten(spec):
        return value
    leaves = tree.flatten_up_to(spec, value, check_types=False)
    if all(isinstance(v, tf.Tensor) for v in leaves):
        return value
    converted = [
        v if isinstance(v, tf.Tensor) else tf.convert_to_tensor(v, dtype=s.dtype)
        for v, s in zip(leaves, tree.flatten(spec))
    ]
    return tree.unflatten_as(spec, converted)


def check_variable_pairs(sources: List[_variables.CollectedVariable],
                         targets: List[_variables.CollectedVariable]) -> None:
    """Raises ValueError listing every mismatch (count, shape, dtype) of the pairs."""
    problems: List[str] = []
    if len(sources) != len(targets):
        problems.append(f"the source has {len(sources)} variables, the target {len(targets)}")
    for i, (s, t) in enumerate(zip(sources, targets)):
        sv, tv = s.variable, t.variable
        if sv.shape != tv.shape or sv.dtype != tv.dtype:
            problems.append(
                f"#{i}: source {sv.name} {sv.dtype.name}{sv.shape.as_list()} vs "
                f"target {tv.name} {tv.dtype.name}{tv.shape.as_list()}")
    if problems:
        raise ValueError("update: the policies' variables do not match: " + "; ".join(problems))


def soft_update(sources: List[_variables.CollectedVariable],
                targets: List[_variables.CollectedVariable],
                tau: Union[float, tf.Tensor],
                tau_non_trainable: Union[float, tf.Tensor, None]) -> None:
    """`target = tau * source + (1 - tau) * target` pair by pair (see `TFPolicy.update`).

    Raises:
      ValueError: the lists differ in length, or a pair in shape or dtype.
    """
    check_variable_pairs(sources, targets)
    for src, dst in zip(sources, targets):
        weight = tau if dst.trainable or tau_non_trainable is None else tau_non_trainable
        if isinstance(weight, (int, float)) and weight == 1.0:
            dst.variable.assign(src.variable)
        elif dst.variable.dtype.is_floating:
            weight = tf.cast(weight, dst.variable.dtype)
            dst.variable.assign(weight * src.variable + (1.0 - weight) * dst.variable)
        # Integer and bool variables (e.g. Keras' dropout seed state) cannot be
        # blended: they are copied when tau is 1 and otherwise kept.
