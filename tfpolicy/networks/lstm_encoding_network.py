"""`LSTMEncodingNetwork`: an observation to LSTM features, step by step or over sequences.

observation -> preprocessing layers and combiner -> conv layers -> flatten ->
input fc layers -> stacked LSTM cells -> output fc layers. The output is the
last layer's activations (`[B, N]`, or `[B, T, N]` for sequences), the state
the LSTM's. This is the recurrent core of the Q, value and actor RNN
networks, without a head; the recurrence, the state structure
`[[h_0, c_0], [h_1, c_1], ...]` (one pair per cell, also for one cell) and
the resets on FIRST steps are described in `tfpolicy.networks._lstm`.

The cells come from `lstm_size` (one `keras.layers.LSTMCell` per entry) or
from `rnn_construction_fn(**rnn_construction_kwargs)`, which must build a
Keras LSTM layer (`keras.layers.LSTM`, or `keras.layers.RNN` over an
`LSTMCell` or `StackedRNNCells` of them); its cells, with their options
(dropout, activations, ...), are used.

>>> import tensorflow as tf
>>> net = LSTMEncodingNetwork(tf.TensorSpec([3]), input_fc_layer_params=(8,), lstm_size=(5,),
...                           output_fc_layer_params=(4,))
>>> output, state = net(tf.zeros([2, 6, 3]))
>>> output.shape, [[s.shape for s in cell] for cell in state]
(TensorShape([2, 6, 4]), [[TensorShape([2, 5]), TensorShape([2, 5])]])
"""

from typing import Any, Callable, Dict, List, Optional, Sequence

import keras
import tensorflow as tf

from specs import NestedTensorSpec
from tfpolicy.networks._lstm import LSTMNetwork

__all__ = ["LSTMEncodingNetwork"]


def _lstm_cells(layer: Any) -> List[keras.layers.LSTMCell]:
    """The LSTM cells of the layer `rnn_construction_fn` built."""
    cell = getattr(layer, "cell", None)
    cells = list(cell.cells) if isinstance(cell, keras.layers.StackedRNNCells) else [cell]
    if not isinstance(layer, keras.layers.RNN) or not all(
            isinstance(c, keras.layers.LSTMCell) for c in cells):
        raise ValueError(
            f"LSTMEncodingNetwork: rnn_construction_fn must build a Keras LSTM layer "
            f"(keras.layers.LSTM, or keras.layers.RNN over LSTMCells); it built "
            f"{type(layer).__name__} with cells {[type(c).__name__ for c in cells]}")
    return cells


class LSTMEncodingNetwork(LSTMNetwork):
    """LSTM features per step, `[B, N]`, or per sequence step, `[B, T, N]`.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      preprocessing_layers, preprocessing_combiner, conv_layer_params: as in
        `EncodingNetwork`.
      input_fc_layer_params: units of the fc layers before the LSTM.
      lstm_size: units per stacked `LSTMCell`; exactly one of `lstm_size` and
        `rnn_construction_fn` must be given.
      output_fc_layer_params: units of the fc layers after the LSTM; the
        output has `output_fc_layer_params[-1]` features (the last LSTM size
        when empty).
      activation_fn: activation of the conv and fc layers.
      rnn_construction_fn: a callable returning a Keras LSTM layer, e.g.
        `keras.layers.LSTM`.
      rnn_construction_kwargs: keyword arguments of `rnn_construction_fn`
        (e.g. `{"units": 40}`).
      dtype: the compute dtype; only `tf.float32` (the LSTM state is float32).
      name: the module's name.

    Raises:
      ValueError: both or neither of `lstm_size` and `rnn_construction_fn`,
        a layer from `rnn_construction_fn` that is not an LSTM, a `dtype`
        other than float32, and the encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        input_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        lstm_size: Optional[Sequence[int]] = None,
        output_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
        rnn_construction_fn: Optional[Callable[..., Any]] = None,
        rnn_construction_kwargs: Optional[Dict[str, Any]] = None,
        dtype: tf.DType = tf.float32,
        name: str = "LSTMEncodingNetwork",
    ):
        if (lstm_size is None) == (rnn_construction_fn is None):
            raise ValueError(
                f"LSTMEncodingNetwork takes exactly one of lstm_size and rnn_construction_fn; "
                f"got lstm_size={lstm_size!r}, rnn_construction_fn={rnn_construction_fn!r}")
        if tf.as_dtype(dtype) != tf.float32:
            raise ValueError(f"LSTMEncodingNetwork computes in float32 (its LSTM state specs "
                             f"are float32), got dtype={tf.as_dtype(dtype)!r}")
        cells = None
        if rnn_construction_fn is not None:
            cells = _lstm_cells(rnn_construction_fn(**(rnn_construction_kwargs or {})))
            lstm_size = tuple(int(c.units) for c in cells)
        super().__init__(
            input_tensor_spec, preprocessing_layers=preprocessing_layers,
            preprocessing_combiner=preprocessing_combiner, conv_layer_params=conv_layer_params,
            input_fc_layer_params=input_fc_layer_params, lstm_size=lstm_size,
            output_fc_layer_params=output_fc_layer_params, activation_fn=activation_fn, name=name,
            cells=cells)
        self.create_variables()

    def _head(self, features: tf.Tensor, training: bool) -> tf.Tensor:
        return features
