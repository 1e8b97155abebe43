"""Soft (Polyak) updates between two lists of collected variables.

Pair by pair, `target = tau * source + (1 - tau) * target`: `tau = 1` copies,
a small `tau` moves a target network slowly towards the online one. A
variable its owner does not train may get its own weight
(`tau_non_trainable`). Integer and bool variables (e.g. Keras' dropout seed
state) cannot be blended: they are copied when the weight is exactly 1 and
otherwise kept.

>>> from tfpolicy._variables import CollectedVariable
>>> source = [CollectedVariable(tf.Variable(4.0), True), CollectedVariable(tf.Variable(7), False)]
>>> target = [CollectedVariable(tf.Variable(0.0), True), CollectedVariable(tf.Variable(1), False)]
>>> soft_update(source, target, tau=0.25, tau_non_trainable=None)
>>> float(target[0].variable), int(target[1].variable)
(1.0, 1)
"""

from typing import List, Union

import tensorflow as tf

from tfpolicy._variables import CollectedVariable

__all__ = ["check_variable_pairs", "soft_update"]


def check_variable_pairs(sources: List[CollectedVariable],
                         targets: List[CollectedVariable]) -> None:
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


def soft_update(sources: List[CollectedVariable], targets: List[CollectedVariable],
                tau: Union[float, tf.Tensor],
                tau_non_trainable: Union[float, tf.Tensor, None]) -> None:
    """`target = tau * source + (1 - tau) * target` pair by pair (see the module docstring).

    Args:
      sources: the variables to move towards.
      targets: the variables to assign, paired with `sources` by position.
      tau: the source's weight for targets whose owner trains them.
      tau_non_trainable: the same for the other targets; `tau` if None.

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
