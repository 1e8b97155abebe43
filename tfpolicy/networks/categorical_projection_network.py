"""`CategoricalProjectionNetwork`: features to a categorical over a bounded integer spec.

A projection network (the head TF-Agents' `ActorDistributionNetwork` builds
per integer action leaf through `discrete_projection_net`), called as

    distribution, () = projection(inputs, outer_rank, training=False, mask=None)

with `inputs` `[*outer, F]`. One `Dense` layer gives `K = maximum - minimum
+ 1` logits per action element; samples are in `minimum..maximum`. For specs
of shape `()` or `(1,)` the distribution is the categorical `ActorDistributionNetwork`
builds; for other shapes (same bounds for every element) it is one
`Independent` categorical over the elements, so `log_prob` is `[*outer]`.
A `mask` (`[*outer, K]`, or `[*outer, *shape, K]`, nonzero where allowed)
gives disallowed actions logit `-inf`.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec
>>> projection = CategoricalProjectionNetwork(BoundedTensorSpec([], tf.int32, 1, 3))
>>> dist, _ = projection(tf.zeros([2, 4]), 1, mask=tf.constant([[1, 0, 0], [0, 0, 1]]))
>>> dist.sample(seed=(1, 2)).numpy()
array([1, 3], dtype=int32)
"""

from typing import Optional, Tuple

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import tensor_spec
from specs import NestedTensorSpec
from tfpolicy import _distributions
from tfpolicy.networks import _projection
from tfpolicy.networks.network import DistributionNetwork, DistributionSpec

__all__ = ["CategoricalProjectionNetwork"]

tfd = tfp.distributions


class CategoricalProjectionNetwork(DistributionNetwork):
    """Features `[*outer, F]` -> a categorical over `sample_spec` with batch shape `outer`.

    Args:
      sample_spec: one bounded integer spec with the same bounds for every
        element (a nest with a single leaf is accepted).
      logits_init_output_factor: scale of the logits kernel's variance-scaling
        initializer (small: near-uniform categoricals at the start).
      name: the module's name.

    Raises:
      ValueError: a nest of several specs, a non-integer or unbounded spec, or
        bounds that differ between elements.
    """

    def __init__(self, sample_spec: NestedTensorSpec, logits_init_output_factor: float = 0.1,
                 name: str = "CategoricalProjectionNetwork"):
        flat = tree.flatten(sample_spec)
        if len(flat) != 1:
            raise ValueError(f"CategoricalProjectionNetwork projects onto a single spec; "
                             f"sample_spec has {len(flat)} leaves: {sample_spec!r}")
        spec = tensor_spec.from_spec(flat[0])
        head = _projection.CategoricalProjection(
            spec, init_output_factor=logits_init_output_factor, any_shape=True)
        distribution_spec = head.distribution_spec()
        output_spec = DistributionSpec(
            self._build, distribution_spec.input_params_spec, sample_spec=spec)
        super().__init__(None, (), output_spec, name=name)
        self._head = head

    @property
    def sample_spec(self) -> tf.TensorSpec:
        """The spec of one sample."""
        return self.output_spec.sample_spec

    def _build(self, logits: tf.Tensor) -> tfd.Distribution:
        return self._head.distribution(logits)

    def call(self, inputs: tf.Tensor, outer_rank: int, training: bool = False,
             mask: Optional[tf.Tensor] = None) -> Tuple[tfd.Distribution, Tuple[()]]:
        """The categorical for `inputs [*outer, F]` (cast to float32), `outer_rank = len(outer)`.

        Raises:
          ValueError: inputs of another rank than `outer_rank + 1`, or a mask
            whose shape does not match the logits'.
        """
        owner = type(self).__name__
        _projection.check_outer_rank(owner, inputs, outer_rank)
        logits = _projection.parameters_at_outer_rank(
            self._head, tf.cast(inputs, tf.float32), outer_rank)
        if mask is not None:
            mask = tf.convert_to_tensor(mask)
            if not mask.shape.is_compatible_with(logits.shape):
                raise ValueError(f"{owner}: mask must have the logits' shape {logits.shape} "
                                 f"(nonzero where an action is allowed), got {mask.shape}")
            logits = _distributions.mask_logits(logits, mask)
        return self._build(logits), ()
