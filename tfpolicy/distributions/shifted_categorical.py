"""`ShiftedCategorical`: a categorical distribution over `shift, ..., shift + K - 1`.

TF-Agents' `tf_agents.distributions.shifted_categorical`. Policies and
networks build one for a discrete action spec whose minimum is not zero, and
`savers.load_policy` rebuilds one from an export's distribution parameters.

>>> dist = ShiftedCategorical(logits=[0.0, 5.0, 0.0], shift=3)
>>> int(dist.mode()), round(float(dist.log_prob(4)), 4)
(4, -0.0134)
"""

from typing import Any, Optional

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

__all__ = ["ShiftedCategorical"]


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
