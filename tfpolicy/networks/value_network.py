"""`ValueNetwork`: an observation to one state value.

An `EncodingNetwork` followed by a one-unit `Dense` layer whose last dim is
squeezed: values are `[B]` for `[B]` observations, `[B, T]` for `[B, T]`.
Feed-forward: `state_spec` is `()` and `step_type` is ignored.

>>> import tensorflow as tf
>>> from specs import TensorSpec
>>> net = ValueNetwork(TensorSpec([4], tf.float32), fc_layer_params=(8,))
>>> values, state = net(tf.zeros([5, 3, 4]))
>>> values.shape, state
(TensorShape([5, 3]), ())
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple

import keras
import tensorflow as tf

from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks import _projection
from tfpolicy.networks.encoding_network import EncodingNetwork, check_batch_squash
from tfpolicy.networks.network import Network

__all__ = ["ValueNetwork"]


class ValueNetwork(Network):
    """Values `[B]` (or `[B, T]`, or a scalar for an unbatched observation).

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      preprocessing_layers, preprocessing_combiner, conv_layer_params,
        fc_layer_params, dropout_layer_params, activation_fn,
        kernel_initializer: as in `EncodingNetwork` (dropout acts when the
        network is called with `training=True`).
      batch_squash: True (TF-Agents' default): `[]`, `[B]` and `[B, T]`
        observations, folded into one batch dim for the layers. False: exactly
        `[B]`, given to the layers unchanged (others raise `ValueError`); see
        `EncodingNetwork`.
      dtype: the float dtype of the layers, the output's included.
      name: the module's name.

    Raises:
      ValueError, TypeError: the encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        fc_layer_params: Optional[Sequence[int]] = (75, 40),
        dropout_layer_params: Optional[Sequence[Any]] = None,
        activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
        kernel_initializer: Any = None,
        batch_squash: bool = True,
        dtype: tf.DType = tf.float32,
        name: Optional[str] = None,
    ):
        super().__init__(input_tensor_spec, (), name=name or "ValueNetwork")
        self._squash_outer_dims = check_batch_squash(batch_squash)
        self._encoder = EncodingNetwork(
            input_tensor_spec, preprocessing_layers, preprocessing_combiner, conv_layer_params,
            fc_layer_params, dropout_layer_params, activation_fn=activation_fn,
            kernel_initializer=kernel_initializer, batch_squash=batch_squash, dtype=dtype,
            name="encoder")
        self._value = _projection.value_layer(dtype)
        self.create_variables()

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[tf.Tensor, NestedTensor]:
        features, _ = self._encoder(observation, training=training)
        return tf.squeeze(self._value(features), -1), network_state
