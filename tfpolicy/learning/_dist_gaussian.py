"""Continuous action distributions: `DiagGaussian`, the `tanh`-squashed
`SquashedGaussian` of SAC, and the point mass `Deterministic` of DDPG-style policies."""

import math
from typing import Any, Optional

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfpolicy.learning._dist_base import ActionDistribution, ModelConfig, single_leaf

tfd = tfp.distributions

# RLlib's constants for the squashed Gaussian.
SMALL_NUMBER = 1e-6
MIN_LOG_NN_OUTPUT = -5.0
MAX_LOG_NN_OUTPUT = 2.0

_LOG_2PI = math.log(2.0 * math.pi)


class DiagGaussian(ActionDistribution):
    """A Gaussian with diagonal covariance; the inputs are the means, then the log-stds.

    With `D` action dims, `σ = exp(log_std)`:

    - `logp(x) = -½ Σ ((x - μ)/σ)² - ½ D log(2π) - Σ log σ`;
    - `entropy = Σ (log σ + ½ log(2πe))`;
    - `kl(q) = Σ (log σ_q - log σ + (σ² + (μ - μ_q)²) / (2 σ_q²) - ½)`.

    Args:
      inputs: `[B, 2 D]`: `μ` then `log σ`.
      model: the model.
      action_space: optional float `Box` (or spec); samples are reshaped to
        `[B] + shape` (`[B]` for a scalar space), else they are `[B, D]`.
    """

    def __init__(self, inputs: Any, model: Any = None, *, action_space: Any = None):
        super().__init__(inputs, model)
        self.mean, self.log_std = tf.split(self.inputs, 2, axis=1)
        self.std = tf.exp(self.log_std)
        self._shape = (None if action_space is None
                       else single_leaf(action_space, "DiagGaussian").shape)

    def _actions(self, x: tf.Tensor) -> tf.Tensor:
        return x if self._shape is None else tf.reshape(x, (-1,) + tuple(self._shape))

    def _build_sample_op(self) -> tf.Tensor:
        return self._actions(self.mean + self.std * tf.random.normal(tf.shape(self.mean),
                                                                     dtype=self.mean.dtype))

    def tfp_distribution(self) -> tfd.Distribution:
        """`Independent(Normal(μ, σ))` over actions `[B] + shape` (scalar space: `Normal`)."""
        mean, std = self._actions(self.mean), self._actions(self.std)
        ndims = 1 if self._shape is None else len(self._shape)
        normal = tfd.Normal(loc=mean, scale=std)
        return tfd.Independent(normal, reinterpreted_batch_ndims=ndims) if ndims else normal

    def deterministic_sample(self) -> tf.Tensor:
        """The mean."""
        return self._actions(self.mean)

    def logp(self, x: Any) -> tf.Tensor:
        """`[B]` log-density of actions `x` (`[B, D]`, `[B] + shape`, or `[B]` when `D = 1`)."""
        x = tf.reshape(tf.cast(x, self.mean.dtype), tf.shape(self.mean))
        dims = tf.cast(tf.shape(self.mean)[-1], self.mean.dtype)
        return (-0.5 * tf.reduce_sum(tf.square((x - self.mean) / self.std), axis=1)
                - 0.5 * _LOG_2PI * dims - tf.reduce_sum(self.log_std, axis=1))

    def entropy(self) -> tf.Tensor:
        return tf.reduce_sum(self.log_std + 0.5 * (_LOG_2PI + 1.0), axis=1)

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        o = other
        return tf.reduce_sum(
            o.log_std - self.log_std  # type: ignore[attr-defined]
            + (tf.square(self.std) + tf.square(self.mean - o.mean))  # type: ignore
            / (2.0 * tf.square(o.std)) - 0.5,  # type: ignore[attr-defined]
            axis=1)

    @staticmethod
    def required_model_output_shape(action_space: Any, model_config: ModelConfig) -> int:
        """`2 D`: a mean and a log-std per action dim."""
        return 2 * single_leaf(action_space, "DiagGaussian").size


class SquashedGaussian(ActionDistribution):
    """A Gaussian squashed by `tanh` and rescaled into `[low, high]`, as SAC uses.

    `u ~ N(μ, σ)` with `log σ` clipped to `[-5, 2]`; the action is
    `a = low + (tanh(u) + 1) / 2 · (high - low)` (clipped to the bounds). By
    the change of variables (`u = atanh(2 (a - low)/(high - low) - 1)`):

        logp(a) = Σ_d [clip(log N(u_d; μ_d, σ_d), -100, 100)
                       - log(1 - tanh(u_d)² + 1e-6) - log((high_d - low_d) / 2)]

    The last term is the Jacobian of the rescale, which RLlib leaves out (it
    is 0 for the default `[-1, 1]`). `entropy` and `kl` have no closed form
    and raise.

    Args:
      inputs: `[B, 2 D]`: `μ` then `log σ`.
      model: the model.
      low: lower bounds, a float or `[D]`.
      high: upper bounds, a float or `[D]`.

    Raises:
      ValueError: bounds that are not finite or not `low < high`.
    """

    def __init__(self, inputs: Any, model: Any = None, low: Any = -1.0, high: Any = 1.0):
        super().__init__(inputs, model)
        low = np.asarray(low, np.float64)
        high = np.asarray(high, np.float64)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
            raise ValueError(
                f"SquashedGaussian needs finite bounds with low < high, got low={low.tolist()}, "
                f"high={high.tolist()}")
        dtype = self.inputs.dtype.as_numpy_dtype
        self.low, self.high = low.astype(dtype), high.astype(dtype)
        mean, log_std = tf.split(self.inputs, 2, axis=-1)
        self.mean = mean
        self.log_std = tf.clip_by_value(log_std, MIN_LOG_NN_OUTPUT, MAX_LOG_NN_OUTPUT)
        self.std = tf.exp(self.log_std)
        self._log_half_range = np.log((high - low) / 2.0).astype(dtype)
        self._raw_sample: Optional[tf.Tensor] = None

    def _squash(self, raw: tf.Tensor) -> tf.Tensor:
        squashed = (tf.tanh(raw) + 1.0) / 2.0 * (self.high - self.low) + self.low
        return tf.clip_by_value(squashed, self.low, self.high)

    def _unsquash(self, values: tf.Tensor) -> tf.Tensor:
        normed = (values - self.low) / (self.high - self.low) * 2.0 - 1.0
        return tf.atanh(tf.clip_by_value(normed, -1.0 + SMALL_NUMBER, 1.0 - SMALL_NUMBER))

    @property
    def distr(self) -> tfd.Normal:
        """The Gaussian before squashing, `N(μ, σ)` per action dim."""
        return tfd.Normal(loc=self.mean, scale=self.std)

    def _logp_raw(self, u: tf.Tensor) -> tf.Tensor:
        normal = (-0.5 * tf.square((u - self.mean) / self.std) - self.log_std
                  - 0.5 * _LOG_2PI)
        log_prob = tf.clip_by_value(normal, -100.0, 100.0)
        correction = tf.math.log(1.0 - tf.square(tf.tanh(u)) + SMALL_NUMBER) + self._log_half_range
        return tf.reduce_sum(log_prob - correction, axis=-1)

    def _build_sample_op(self) -> tf.Tensor:
        self._raw_sample = self.mean + self.std * tf.random.normal(
            tf.shape(self.mean), dtype=self.mean.dtype)
        return self._squash(self._raw_sample)

    def tfp_distribution(self) -> tfd.Distribution:
        """The Gaussian through `tanh` and the affine map onto `[low, high]`, per action
        `[B, D]` (exact densities, without the `1e-6` and ±100 guards of `logp`)."""
        half = (self.high - self.low) / 2.0
        bijector = tfp.bijectors.Chain(
            [tfp.bijectors.Shift(self.low + half), tfp.bijectors.Scale(half),
             tfp.bijectors.Tanh()])
        return tfd.TransformedDistribution(tfd.Independent(self.distr, 1), bijector)

    def _logp_of_sample(self, sample: Any) -> tf.Tensor:
        # From the Gaussian draw itself: unsquashing the clipped action loses
        # precision where tanh saturates.
        return self._logp_raw(self._raw_sample)

    def deterministic_sample(self) -> tf.Tensor:
        """The squashed mean."""
        return self._squash(self.mean)

    def logp(self, x: Any) -> tf.Tensor:
        """`[B]` log-density of actions `x [B, D]` in `[low, high]`."""
        return self._logp_raw(self._unsquash(tf.cast(x, self.inputs.dtype)))

    def entropy(self) -> tf.Tensor:
        raise ValueError(
            "SquashedGaussian has no closed-form entropy; estimate it from samples, "
            "-logp(sample()), as SAC does")

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        raise ValueError("SquashedGaussian has no closed-form KL divergence")

    @staticmethod
    def required_model_output_shape(action_space: Any, model_config: ModelConfig) -> int:
        """`2 D`: a mean and a log-std per action dim."""
        return 2 * single_leaf(action_space, "SquashedGaussian").size


class Deterministic(ActionDistribution):
    """A point mass at the inputs (the actions of DDPG-style policies).

    `sample()` and `deterministic_sample()` are the inputs and `logp(x)` is
    `0` for every row, `[B]` (RLlib returns `[B, D]` zeros, which does not
    broadcast like every other distribution's `[B]`). Entropy and KL are not
    defined for a point mass and raise.

    Args:
      inputs: the actions, `[B, D]`.
      model: the model.
    """

    def _build_sample_op(self) -> tf.Tensor:
        return self.inputs

    def deterministic_sample(self) -> tf.Tensor:
        return self.inputs

    def tfp_distribution(self) -> tfd.Distribution:
        """`Independent(Deterministic(inputs))`."""
        return tfd.Independent(tfd.Deterministic(self.inputs), reinterpreted_batch_ndims=1)

    def logp(self, x: Any) -> tf.Tensor:
        """Zeros `[B]`."""
        return tf.zeros(tf.shape(self.inputs)[:1], self.inputs.dtype)

    def entropy(self) -> tf.Tensor:
        raise ValueError("Deterministic (a point mass) has no entropy")

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        raise ValueError("Deterministic (a point mass) has no KL divergence")

    @staticmethod
    def required_model_output_shape(action_space: Any, model_config: ModelConfig) -> int:
        """`D`: one output per action dim."""
        return single_leaf(action_space, "Deterministic").size
