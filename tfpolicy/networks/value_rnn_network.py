"""`ValueRnnNetwork`: a recurrent value network over an LSTM core.

observation -> input fc layers -> stacked LSTM cells -> output fc layers ->
`Dense(1)`, squeezed: values `[B]` per step or `[B, T]` for sequences. State
and resets are described in `tfpolicy.networks._lstm`.

>>> import tensorflow as tf
>>> from specs import TensorSpec
>>> net = ValueRnnNetwork(TensorSpec([4], tf.float32), input_fc_layer_params=(8,),
...                       lstm_size=(5,), output_fc_layer_params=())
>>> values, state = net(tf.zeros([2, 4]))
>>> values.shape, [[s.shape for s in cell] for cell in state]
(TensorShape([2]), [[TensorShape([2, 5]), TensorShape([2, 5])]])
"""

from typing import Any, Callable, List, Optional, Sequence

import keras
import tensorflow as tf

from specs import NestedTensorSpec
from tfpolicy.networks import _projection
from tfpolicy.networks._lstm import LSTMNetwork

__all__ = ["ValueRnnNetwork"]


class ValueRnnNetwork(LSTMNetwork):
    """Values `[B]` per step (`[B, T]` for sequences) and the next LSTM state.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      preprocessing_layers, preprocessing_combiner, conv_layer_params: as in
        `EncodingNetwork`.
      input_fc_layer_params: units of the fc layers before the LSTM.
      lstm_size: units per stacked LSTM cell.
      output_fc_layer_params: units of the fc layers after the LSTM.
      activation_fn: activation of the conv and fc layers.
      name: the module's name.

    Raises:
      ValueError: a bad `lstm_size` and the encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        input_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        lstm_size: Sequence[int] = (40,),
        output_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
        name: Optional[str] = None,
    ):
        super().__init__(
            input_tensor_spec, preprocessing_layers, preprocessing_combiner, conv_layer_params,
            input_fc_layer_params, None, lstm_size, output_fc_layer_params, activation_fn,
            name=name or "ValueRnnNetwork")
        self._value = _projection.value_layer()
        self.create_variables()

    def _head(self, features: tf.Tensor, training: bool) -> tf.Tensor:
        return tf.squeeze(self._value(features), -1)
