"""`QNetwork`: an observation to one Q-value per discrete action.

The observation goes through an `EncodingNetwork` (preprocessing, combiner,
conv and fc layers) and a last `Dense` layer with `num_actions = maximum -
minimum + 1` units; Q-value `i` belongs to action `minimum + i`. The network
is feed-forward: `state_spec` is `()` and `step_type` is ignored.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> net = QNetwork(TensorSpec([4], tf.float32), BoundedTensorSpec([], tf.int32, 0, 2),
...                fc_layer_params=(8,))
>>> q_values, state = net(tf.zeros([5, 4]))
>>> q_values.shape, state, len(net.trainable_variables)
(TensorShape([5, 3]), (), 4)
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple

import keras
import tensorflow as tf

from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks import _projection
from tfpolicy.networks.encoding_network import EncodingNetwork, check_batch_squash
from tfpolicy.networks.network import Network

__all__ = ["QNetwork"]


class QNetwork(Network):
    """Q-values `[B, num_actions]` (or `[B, T, num_actions]`, or `[num_actions]`).

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation (the
        network part, without any action mask).
      action_spec: one bounded integer spec of shape `()` or `(1,)`.
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
      ValueError: a nested, non-integer or unbounded action spec, one of
        another shape, or per-element bounds that differ; and the encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        action_spec: NestedTensorSpec,
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
        count = _projection.num_actions(action_spec, "QNetwork")
        super().__init__(input_tensor_spec, (), name=name or "QNetwork")
        self._squash_outer_dims = check_batch_squash(batch_squash)
        self._encoder = EncodingNetwork(
            input_tensor_spec, preprocessing_layers, preprocessing_combiner, conv_layer_params,
            fc_layer_params, dropout_layer_params, activation_fn=activation_fn,
            kernel_initializer=kernel_initializer, batch_squash=batch_squash, dtype=dtype,
            name="encoder")
        self._q_values = _projection.q_value_layer(count, dtype)
        self.create_variables()

    @property
    def num_actions(self) -> int:
        return self._q_values.units

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[tf.Tensor, NestedTensor]:
        features, _ = self._encoder(observation, training=training)
        return self._q_values(features), network_state
