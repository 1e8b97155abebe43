"""`ActorDistributionNetwork`: an observation to a nest of action distributions.

The observation goes through an `EncodingNetwork`; one head per action spec
leaf maps the features to a distribution:

- integer leaves (bounded, shape `()` or `(1,)`): a categorical over
  `minimum..maximum` (`tfpolicy._distributions.categorical_for_spec`);
- float leaves: `Independent(Normal(loc, scale))` over the leaf's shape, so
  `log_prob` is one number per batch entry. `loc` is squashed into the bounds
  with `mean_transform='tanh_squash'` (`minimum + (tanh(x) + 1) / 2 * (maximum
  - minimum)`; elements without finite bounds are left as they are).

The built-in normal heads take keyword options: `init_std` (default 0.35, as
TF-Agents' default head; see `tfpolicy.networks._projection`),
`std_transform` (softplus), `state_dependent_std` (False: one trainable
parameter per action element) and `mean_transform`. As in TF-Agents, the
heads can instead be made by `discrete_projection_net(spec)` and
`continuous_projection_net(spec)`, e.g.
`lambda spec: normal_projection_network.NormalProjectionNetwork(spec,
scale_distribution=True)`; such projection networks are called with the
encoder's features, `outer_rank` and `training`.

For `[B, T]` observations the parameters are computed on the folded `[B * T]`
batch, unfolded, and the distributions built at `[B, T]` (see
`Network._make_output`).

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> net = ActorDistributionNetwork(TensorSpec([4], tf.float32),
...                                BoundedTensorSpec([2], tf.float32, -1.0, 1.0),
...                                fc_layer_params=(8,))
>>> dist, state = net(tf.zeros([5, 3, 4]))
>>> dist.batch_shape, dist.event_shape, state
(TensorShape([5, 3]), TensorShape([2]), ())
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks import _projection
from tfpolicy.networks.encoding_network import EncodingNetwork, check_batch_squash
from tfpolicy.networks.network import DistributionNetwork

__all__ = ["ActorDistributionNetwork"]


class ActorDistributionNetwork(DistributionNetwork):
    """A nest of distributions like `output_tensor_spec`, batch shape the observation's outer dims.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      output_tensor_spec: the nest of action specs.
      preprocessing_layers, preprocessing_combiner, conv_layer_params,
        fc_layer_params, dropout_layer_params, activation_fn,
        kernel_initializer: as in `EncodingNetwork`.
      seed_stream_class, seed: the built-in normal heads' kernel seeds are
        drawn from `seed_stream_class(seed=seed, salt=...)`; `seed=None`
        leaves them unseeded.
      batch_squash: True (TF-Agents' default): `[]`, `[B]` and `[B, T]`
        observations, folded into one batch dim for the layers. False: exactly
        `[B]`, given to the layers unchanged (others raise `ValueError`); see
        `EncodingNetwork`.
      dtype: the float dtype of the encoder's layers.
      discrete_projection_net: None for the built-in categorical head, or a
        callable `spec -> projection network` (e.g.
        `CategoricalProjectionNetwork`) called for each integer action leaf.
      continuous_projection_net: None for the built-in normal head, or a
        callable `spec -> projection network` (e.g. a `NormalProjectionNetwork`
        factory) called for each float action leaf.
      name: the module's name.
      init_std: std of the built-in normal heads at initialization.
      std_transform: increasing map from a parameter to the std.
      state_dependent_std: compute the std from the features (True) or learn
        one per action element (False).
      mean_transform: 'tanh_squash', 'identity' or a callable `x -> loc`.

    Raises:
      ValueError: an action leaf that is neither integer nor float, an integer
        leaf of another shape than `()`/`(1,)`, bad head options; the encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        output_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        fc_layer_params: Optional[Sequence[int]] = (200, 100),
        dropout_layer_params: Optional[Sequence[Any]] = None,
        activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
        kernel_initializer: Any = None,
        seed_stream_class: Any = tfp.util.SeedStream,
        seed: Optional[int] = None,
        batch_squash: bool = True,
        dtype: tf.DType = tf.float32,
        discrete_projection_net: Optional[_projection.ProjectionFactory] = None,
        continuous_projection_net: Optional[_projection.ProjectionFactory] = None,
        name: Optional[str] = None,
        *,
        init_std: float = _projection.DEFAULT_INIT_STD,
        std_transform: Callable[[tf.Tensor], tf.Tensor] = tf.nn.softplus,
        state_dependent_std: bool = False,
        mean_transform: _projection.MeanTransform = "tanh_squash",
    ):
        check_batch_squash(batch_squash)
        encoder = EncodingNetwork(
            input_tensor_spec, preprocessing_layers, preprocessing_combiner, conv_layer_params,
            fc_layer_params, dropout_layer_params, activation_fn=activation_fn,
            kernel_initializer=kernel_initializer, batch_squash=batch_squash, dtype=dtype,
            name="encoder")
        projection = _projection.ProjectionNest(
            output_tensor_spec, init_std=init_std, std_transform=std_transform,
            state_dependent_std=state_dependent_std, mean_transform=mean_transform,
            discrete_projection_net=discrete_projection_net,
            continuous_projection_net=continuous_projection_net, seed=seed,
            seed_stream_class=seed_stream_class)
        super().__init__(input_tensor_spec, (), projection.distribution_specs(),
                         name=name or "ActorDistributionNetwork")
        self._squash_outer_dims = batch_squash
        self._encoder = encoder
        self._projection = projection
        self._training = False
        self.create_variables()

    @property
    def output_tensor_spec(self) -> NestedTensorSpec:
        """The nest of action specs the distributions are over."""
        return self._projection.output_tensor_spec

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[List[Any], NestedTensor]:
        features, _ = self._encoder(observation, training=training)
        # Projection networks made by the factories run in `_make_output`, at the
        # observation's outer dims, and take the flag of the same call.
        self._training = training
        return self._projection.parameters(features), network_state

    def _make_output(self, output: List[Any]) -> Any:
        return self._projection.distributions(output, training=self._training)
