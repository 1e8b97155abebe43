"""`QRnnNetwork`: a recurrent Q network over an LSTM core.

observation -> input fc layers -> stacked LSTM cells -> output fc layers ->
`Dense(num_actions)`. The recurrent core (state structure, `[B]`/`[B, T]`/`[]`
inputs, resets on FIRST steps) is described in `tfpolicy.networks._lstm`:
`state_spec` is `[[h_0, c_0], ...]`, one `[h, c]` pair of
`TensorSpec([size], tf.float32)` per entry of `lstm_size`.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> net = QRnnNetwork(TensorSpec([4], tf.float32), BoundedTensorSpec([], tf.int32, 0, 2),
...                   input_fc_layer_params=(8,), lstm_size=(5,), output_fc_layer_params=())
>>> [[(s.name, s.shape) for s in cell] for cell in net.state_spec]
[[('lstm_0_h', TensorShape([5])), ('lstm_0_c', TensorShape([5]))]]
>>> q_values, state = net(tf.zeros([2, 6, 4]))
>>> q_values.shape, state[0][0].shape
(TensorShape([2, 6, 3]), TensorShape([2, 5]))
"""

from typing import Any, Callable, List, Optional, Sequence

import keras
import tensorflow as tf

from specs import NestedTensorSpec
from tfpolicy.networks import _projection
from tfpolicy.networks._lstm import LSTMNetwork

__all__ = ["QRnnNetwork"]


class QRnnNetwork(LSTMNetwork):
    """Q-values `[B, num_actions]` per step, or `[B, T, num_actions]` for sequences.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      action_spec: one bounded integer spec of shape `()` or `(1,)`.
      preprocessing_layers, preprocessing_combiner, conv_layer_params: as in
        `EncodingNetwork`.
      input_fc_layer_params: units of the fc layers before the LSTM.
      lstm_size: units per stacked LSTM cell.
      output_fc_layer_params: units of the fc layers after the LSTM.
      activation_fn: activation of the conv and fc layers.
      name: the module's name.

    Raises:
      ValueError: an action spec `QNetwork` rejects, a bad `lstm_size`, and the
        encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        action_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        input_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        lstm_size: Sequence[int] = (40,),
        output_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
        name: Optional[str] = None,
    ):
        count = _projection.num_actions(action_spec, "QRnnNetwork")
        super().__init__(
            input_tensor_spec, preprocessing_layers, preprocessing_combiner, conv_layer_params,
            input_fc_layer_params, None, lstm_size, output_fc_layer_params, activation_fn,
            name=name or "QRnnNetwork")
        self._q_values = _projection.q_value_layer(count)
        self.create_variables()

    @property
    def num_actions(self) -> int:
        return self._q_values.units

    def _head(self, features: tf.Tensor, training: bool) -> tf.Tensor:
        return self._q_values(features)
