"""Distribution helpers shared by networks and policies: shifted categoricals and masks."""

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfpolicy.distributions.shifted_categorical import ShiftedCategorical

tfd = tfp.distributions

__all__ = ["ShiftedCategorical", "categorical_for_spec", "mask_logits"]


def categorical_for_spec(logits: tf.Tensor, spec: Any) -> tfd.Distribution:
    """A categorical over the values of a bounded integer spec of shape `()` or `(1,)`.

    Args:
      logits: `[..., K]` with `K = maximum - minimum + 1`.
      spec: the action spec.

    Returns:
      Samples of shape `[...] + spec.shape` in `[minimum, maximum]`; for a
      `(1,)` spec the extra dim is an event dim, so `log_prob` is `[...]`.
    """
    if spec.shape.rank not in (0, 1) or (spec.shape.rank == 1 and spec.shape[0] != 1):
        raise ValueError(f"a categorical needs a scalar (or shape (1,)) integer spec, got {spec!r}")
    minimum = int(np.min(spec.minimum))
    if spec.shape.rank == 1:
        logits = logits[..., None, :]
    dist: tfd.Distribution = (
        ShiftedCategorical(logits=logits, shift=minimum, dtype=spec.dtype) if minimum
        else tfd.Categorical(logits=logits, dtype=spec.dtype))
    if spec.shape.rank == 1:
        dist = tfd.Independent(dist, reinterpreted_batch_ndims=1)
    return dist


def mask_logits(logits: tf.Tensor, mask: Any) -> tf.Tensor:
    """Logits with disallowed actions at `-inf`: they are never sampled and their
    log-probability is `-inf`. `mask` is `[..., K]`, nonzero/True where allowed."""
    allowed = tf.cast(mask, tf.bool)
    return tf.where(allowed, logits, tf.constant(-np.inf, logits.dtype))
