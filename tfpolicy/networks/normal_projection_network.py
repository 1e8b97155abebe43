"""`NormalProjectionNetwork`: features to a normal distribution over a float spec.

A projection network (the head TF-Agents' `ActorDistributionNetwork` builds
per float action leaf through `continuous_projection_net`), called as

    distribution, () = projection(inputs, outer_rank, training=False, mask=None)

with `inputs` `[*outer, F]` (`outer_rank` outer dims) of the spec's dtype.
The mean is a `Dense` layer's output passed through `mean_transform(means,
spec)` (default `tanh_squash_to_spec`); the std is `std_transform` of either a
trainable bias (`state_dependent_std=False`) or a second `Dense` layer, both
starting at `std_bias_initializer_value`. The distribution is
`Independent(Normal(loc, scale))` over the spec's shape (batch shape `outer`),
or with `scale_distribution=True` that normal (unsquashed mean) pushed through
`tanh` and scaled to the spec's bounds, so every sample lies inside them.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec
>>> projection = NormalProjectionNetwork(BoundedTensorSpec([2], tf.float32, -1.0, 1.0))
>>> dist, state = projection(tf.zeros([3, 4]), outer_rank=1)
>>> dist.batch_shape, dist.event_shape, state
(TensorShape([3]), TensorShape([2]), ())
>>> [round(float(s), 4) for s in dist.stddev()[0]]   # softplus(0)
[0.6931, 0.6931]
"""

from typing import Any, Callable, Optional, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import tensor_spec
from specs import NestedTensorSpec
from tfpolicy.networks import _projection
from tfpolicy.networks.network import DistributionNetwork, DistributionSpec

__all__ = ["NormalProjectionNetwork", "tanh_squash_to_spec"]

tfd = tfp.distributions


def tanh_squash_to_spec(inputs: tf.Tensor, spec: tf.TensorSpec) -> tf.Tensor:
    """Maps `inputs [..., *spec.shape]` into the spec's bounds with tanh.

    `minimum + (tanh(x) + 1) / 2 * (maximum - minimum)` (equal to `(maximum +
    minimum) / 2 + (maximum - minimum) / 2 * tanh(x)`); elements without
    finite bounds are returned unchanged. The bounds themselves are never
    reached.

    Args:
      inputs: a float tensor whose last dims are the spec's shape.
      spec: a float spec, bounded where the squash should apply.

    Returns:
      A tensor like `inputs`.

    >>> from specs import BoundedTensorSpec
    >>> spec = BoundedTensorSpec([2], tf.float32, [0.0, -2.0], [4.0, 2.0])
    >>> tanh_squash_to_spec(tf.zeros([2]), spec).numpy()
    array([2., 0.], dtype=float32)
    """
    return _projection.tanh_squash(inputs, spec)


def _scaled_to_spec(distribution: tfd.Distribution, spec: tf.TensorSpec) -> tfd.Distribution:
    """`distribution` through tanh, then shifted and scaled onto the spec's bounds."""
    lo = np.broadcast_to(np.asarray(spec.minimum, spec.dtype.as_numpy_dtype), spec.shape)
    hi = np.broadcast_to(np.asarray(spec.maximum, spec.dtype.as_numpy_dtype), spec.shape)
    bijector = tfp.bijectors.Chain([
        tfp.bijectors.Shift((hi + lo) / 2.0), tfp.bijectors.Scale((hi - lo) / 2.0),
        tfp.bijectors.Tanh()])
    return tfd.TransformedDistribution(distribution, bijector)


class NormalProjectionNetwork(DistributionNetwork):
    """Features `[*outer, F]` -> a normal over `sample_spec` with batch shape `outer`.

    Args:
      sample_spec: one float spec (a nest with a single leaf is accepted).
      activation_fn: activation of the mean and std `Dense` layers.
      init_means_output_factor: scale of their kernels' variance-scaling
        initializer (small: means start near the transform of 0).
      std_bias_initializer_value: the initial pre-transform std (`softplus(0)
        ~ 0.69` by default).
      mean_transform: `(means, spec) -> loc`, or None for the identity; not
        applied with `scale_distribution=True`.
      std_transform: `pre_std -> std`, or None for the identity. The std is
        floored at 1e-6 so log-probabilities stay finite.
      state_dependent_std: compute the std from the inputs (True) or learn one
        bias per action element (False).
      scale_distribution: squash samples into the bounds with tanh (see the
        module docstring); needs finite bounds. Such a distribution has no
        closed-form mean, mode or entropy.
      seed: seed of the kernels' initializers (drawn from `seed_stream_class`);
        None for unseeded initializers.
      seed_stream_class: called as `seed_stream_class(seed=seed, salt=...)`,
        then once per kernel for its seed.
      name: the module's name.

    Raises:
      ValueError: a nest of several specs, a non-float spec or one of unknown
        shape, or `scale_distribution=True` without finite bounds.
    """

    def __init__(
        self,
        sample_spec: NestedTensorSpec,
        activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
        init_means_output_factor: float = 0.1,
        std_bias_initializer_value: float = 0.0,
        mean_transform: Optional[Callable[[tf.Tensor, Any], tf.Tensor]] = tanh_squash_to_spec,
        std_transform: Optional[Callable[[tf.Tensor], tf.Tensor]] = tf.nn.softplus,
        state_dependent_std: bool = False,
        scale_distribution: bool = False,
        seed: Optional[int] = None,
        seed_stream_class: Any = tfp.util.SeedStream,
        name: str = "NormalProjectionNetwork",
    ):
        flat = tree.flatten(sample_spec)
        if len(flat) != 1:
            raise ValueError(f"NormalProjectionNetwork projects onto a single spec; sample_spec "
                             f"has {len(flat)} leaves: {sample_spec!r}")
        spec = tensor_spec.from_spec(flat[0])
        if scale_distribution and not (tensor_spec.is_bounded(spec) and np.all(
                np.isfinite(spec.minimum)) and np.all(np.isfinite(spec.maximum))):
            raise ValueError(f"NormalProjectionNetwork with scale_distribution=True needs finite "
                             f"bounds to scale onto, got sample_spec={spec!r}")
        if scale_distribution or mean_transform is None:
            transform: _projection.MeanTransform = "identity"
        elif mean_transform is tanh_squash_to_spec:
            transform = "tanh_squash"
        else:
            transform = lambda means: mean_transform(means, spec)  # noqa: E731
        head = _projection.NormalProjection(
            spec, std_transform=std_transform, state_dependent_std=state_dependent_std,
            mean_transform=transform, activation_fn=activation_fn,
            init_output_factor=init_means_output_factor,
            std_bias_initializer_value=std_bias_initializer_value, seed=seed,
            seed_stream_class=seed_stream_class, dtype=spec.dtype)
        output_spec = DistributionSpec(
            self._build, head.distribution_spec().input_params_spec, sample_spec=spec)
        super().__init__(None, (), output_spec, name=name)
        self._head = head
        self._scale_distribution = scale_distribution

    @property
    def sample_spec(self) -> tf.TensorSpec:
        """The spec of one sample."""
        return self.output_spec.sample_spec

    def _build(self, loc: tf.Tensor, scale: tf.Tensor) -> tfd.Distribution:
        distribution = self._head.distribution([loc, scale])
        if self._scale_distribution:
            return _scaled_to_spec(distribution, self.sample_spec)
        return distribution

    def call(self, inputs: tf.Tensor, outer_rank: int, training: bool = False,
             mask: Optional[tf.Tensor] = None) -> Tuple[tfd.Distribution, Tuple[()]]:
        """The normal for `inputs [*outer, F]` with `outer_rank = len(outer)`.

        Raises:
          ValueError: inputs of another dtype than the spec's or another rank
            than `outer_rank + 1`, or a mask (masks apply to discrete actions).
        """
        spec = self.sample_spec
        owner = type(self).__name__
        if mask is not None:
            raise ValueError(f"{owner} cannot mask a continuous action (sample_spec={spec!r}); "
                             f"got mask={mask!r}")
        if inputs.dtype != spec.dtype:
            raise ValueError(f"{owner}: inputs must have the sample_spec's dtype {spec.dtype!r}, "
                             f"got {inputs.dtype!r} (shape {inputs.shape})")
        _projection.check_outer_rank(owner, inputs, outer_rank)
        loc, scale = _projection.parameters_at_outer_rank(self._head, inputs, outer_rank)
        return self._build(loc, scale), ()

