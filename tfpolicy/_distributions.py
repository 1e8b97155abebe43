"""Distribution helpers shared by networks and policies: shifted categoricals and masks."""

from typing import Any, Optional

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

__all__ = ["ShiftedCategorical", "categorical_for_spec", "mask_logits"]


class ShiftedCategorical(tfd.Categorical):
    """A categorical over `shift, shift + 1, ..., shift + K - 1` instead of `0..K-1`.

    Discrete action specs need not start at zero (gymnasium's `Discrete(n, start=s)`);
    this keeps samples, modes and log-probabilities in the spec's own values.

    Args:
      logits: `[..., K]` logits (or `probs`).
      probs: `[..., K]` probabilities.
      shift: the value of class 0 (the spec's minimum), a Python or numpy int.
      dtype: the dtype of samples.
    """

    def __init__(self, logits: Any = None, probs: Any = None, shift: int = 0,
                 dtype: Any = tf.int32, validate_args: bool = False,
                 allow_nan_stats: bool = True, name: str = "ShiftedCategorical"):
        parameters = dict(locals())
        self._shift = int(shift)
        super().__init__(logits=logits, probs=probs, dtype=dtype, validate_args=validate_args,
                         allow_nan_stats=allow_nan_stats, name=name)
        self._parameters = parameters

    @property
    def shift(self) -> int:
        return self._shift

    @classmethod
    def _parameter_properties(cls, dtype: Any, num_classes: Optional[int] = None) -> dict:
        return tfd.Categorical._parameter_properties(dtype, num_classes)

    def _sample_n(self, n: Any, seed: Any = None) -> tf.Tensor:
        return super()._sample_n(n, seed) + tf.cast(self._shift, self.dtype)

    def _log_prob(self, x: Any) -> tf.Tensor:
        return super()._log_prob(x - tf.cast(self._shift, x.dtype))

    def _mode(self) -> tf.Tensor:
        return super()._mode() + tf.cast(self._shift, self.dtype)

    def _mean(self, **kwargs: Any) -> tf.Tensor:
        return super()._mean(**kwargs) + tf.cast(self._shift, self.dtype)


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
