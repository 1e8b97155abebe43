"""The recurrent core shared by `QRnnNetwork`, `ActorDistributionRnnNetwork` and `ValueRnnNetwork`.

`LSTMNetwork` runs observation -> input `EncodingNetwork` -> stacked
`keras.layers.LSTMCell`s -> output fc `EncodingNetwork` -> `_head`, the one
method a subclass adds (the Q, value or distribution-parameter layer).

State: `state_spec` is a list with one entry per cell, each the list
`[h, c]` of `TensorSpec([size], tf.float32)` (hidden state, then cell state):

    [[h_0, c_0], [h_1, c_1], ...]

The structure is the same for one cell or several (TF-Agents flattens a single
cell's state to `[h, c]`; one shape for every depth is simpler to consume).

Inputs and resets:

- `[B]`: one step; the state comes in and the next state goes out.
- `[B, T]`: sequences, unrolled with `tf.while_loop` over `T` (works inside
  `tf.function` with unknown `B` and `T`); the returned state is the one after
  the last step.
- `[]`: one unbatched step (state without a batch dim).

Wherever `step_type` is FIRST, that entry's state is set to zeros before the
step, in every mode: inside a `[B, T]` sequence this is what makes a sequence
that crosses an episode boundary correct; for `[B]` steps it repeats the
policy's `automatic_state_reset` (zeros too), so both paths agree. An empty
`network_state` (`()` or None) means the zero state.

>>> import tensorflow as tf
>>> class Features(LSTMNetwork):
...     def __init__(self):
...         super().__init__(tf.TensorSpec([3]), input_fc_layer_params=(4,), lstm_size=(2,),
...                          output_fc_layer_params=())
...         self.create_variables()
...     def _head(self, features, training):
...         return features
>>> out, state = Features()(tf.zeros([5, 7, 3]))
>>> out.shape, [[s.shape for s in cell] for cell in state]
(TensorShape([5, 7, 2]), [[TensorShape([5, 2]), TensorShape([5, 2])]])
"""

import abc
from typing import Any, Callable, List, Optional, Sequence, Tuple

import keras
import tensorflow as tf
import tree

from specs import nest_utils
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks.encoding_network import EncodingNetwork, check_layer_sizes
from tfpolicy.networks.network import Network
from tfpolicy.trajectories.time_step import StepType

__all__ = ["LSTMNetwork", "lstm_state_spec"]

State = List[List[tf.Tensor]]


def lstm_state_spec(lstm_size: Sequence[int]) -> List[List[tf.TensorSpec]]:
    """`[[h_i, c_i] for each cell i]`, each a float32 `TensorSpec([size_i])`."""
    return [[tf.TensorSpec([n], tf.float32, f"lstm_{i}_h"),
             tf.TensorSpec([n], tf.float32, f"lstm_{i}_c")]
            for i, n in enumerate(lstm_size)]


def _reset(state: State, is_first: tf.Tensor) -> State:
    """Zeros where `is_first` ([B] bool) is True."""
    mask = is_first[:, None]
    return tree.map_structure(lambda s: tf.where(mask, tf.zeros_like(s), s), state)


class LSTMNetwork(Network, abc.ABC):
    """Input encoder, stacked LSTM cells, output fc layers, and a subclass's `_head`.

    Subclasses create their head layers after calling this constructor, then
    call `self.create_variables()`.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      preprocessing_layers, preprocessing_combiner, conv_layer_params: as in
        `EncodingNetwork`.
      input_fc_layer_params: units of the fc layers before the LSTM.
      input_dropout_layer_params: None or one dropout rate (or None) per input fc layer.
      lstm_size: units per stacked `LSTMCell`, at least one.
      output_fc_layer_params: units of the fc layers after the LSTM.
      activation_fn: activation of the conv and fc layers.
      kernel_initializer: initializer of the conv and fc kernels (see `EncodingNetwork`).
      name: the module's name.
      cells: the `LSTMCell`s, one per `lstm_size` entry with its units; None
        for new ones.

    Raises:
      ValueError: an empty or malformed `lstm_size`, and the encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        input_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        input_dropout_layer_params: Optional[Sequence[Optional[float]]] = None,
        lstm_size: Sequence[int] = (40,),
        output_fc_layer_params: Optional[Sequence[int]] = (75, 40),
        activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
        kernel_initializer: Any = None,
        name: Optional[str] = None,
        *,
        cells: Optional[Sequence[keras.layers.LSTMCell]] = None,
    ):
        lstm_size = check_layer_sizes("lstm_size", lstm_size, allow_empty=False)
        super().__init__(input_tensor_spec, lstm_state_spec(lstm_size),
                         name=name or type(self).__name__)
        self._input_encoder = EncodingNetwork(
            input_tensor_spec, preprocessing_layers, preprocessing_combiner, conv_layer_params,
            input_fc_layer_params, input_dropout_layer_params, activation_fn=activation_fn,
            kernel_initializer=kernel_initializer, name="input_encoder")
        self._cells = (list(cells) if cells is not None
                       else [keras.layers.LSTMCell(n) for n in lstm_size])
        self._output_encoder = EncodingNetwork(
            tf.TensorSpec([lstm_size[-1]], tf.float32), fc_layer_params=output_fc_layer_params,
            activation_fn=activation_fn, kernel_initializer=kernel_initializer,
            name="output_encoder")

    @abc.abstractmethod
    def _head(self, features: tf.Tensor, training: bool) -> Any:
        """Maps features `[..., F]` (outer dims `[B]` or `[B, T]`) to the output's tensors."""

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[Any, State]:
        return self._run(observation, step_type, network_state, training, sequence=False)

    def _call_sequence(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
                       network_state: NestedTensor, training: bool) -> Tuple[Any, State]:
        return self._run(observation, step_type, network_state, training, sequence=True)

    def _run(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
             network_state: NestedTensor, training: bool, sequence: bool) -> Tuple[Any, State]:
        features, _ = self._input_encoder(observation, training=training)
        state = self._initial_or(network_state, tf.shape(features)[0])
        is_first = None if step_type is None else tf.equal(step_type, StepType.FIRST)
        if sequence:
            outputs, state = self._unroll(features, is_first, state, training)
        else:
            if is_first is not None:
                state = _reset(state, is_first)
            outputs, state = self._step(features, state, training)
        outputs, _ = self._output_encoder(outputs, training=training)
        return self._head(outputs, training), state

    def _initial_or(self, network_state: NestedTensor, batch_size: tf.Tensor) -> State:
        if network_state is None or not tree.flatten(network_state):
            return [[tf.zeros([batch_size, s.shape[0]], s.dtype) for s in cell]
                    for cell in self.state_spec]
        nest_utils.assert_same_structure(network_state, self.state_spec, name="network_state")
        return [[h, c] for h, c in network_state]

    def _step(self, x: tf.Tensor, state: State, training: bool) -> Tuple[tf.Tensor, State]:
        new_state = []
        for cell, (h, c) in zip(self._cells, state):
            x, (h, c) = cell(x, [h, c], training=training)
            new_state.append([h, c])
        return x, new_state

    def _unroll(self, features: tf.Tensor, is_first: Optional[tf.Tensor], state: State,
                training: bool) -> Tuple[tf.Tensor, State]:
        """Features `[B, T, F]` -> outputs `[B, T, H]` and the state after step T."""
        inputs = tf.transpose(features, [1, 0, 2])
        resets = None if is_first is None else tf.transpose(is_first, [1, 0])
        steps = tf.shape(inputs)[0]
        size = self.state_spec[-1][0].shape[0]
        outputs = tf.TensorArray(features.dtype, size=steps, element_shape=[None, size])

        def body(t: tf.Tensor, state: State, outputs: tf.TensorArray) -> tuple:
            if resets is not None:
                state = _reset(state, resets[t])
            out, state = self._step(inputs[t], state, training)
            return t + 1, state, outputs.write(t, out)

        invariants = (tf.TensorShape([]),
                      tree.map_structure(lambda s: tf.TensorShape([None, s.shape[-1]]), state),
                      tf.TensorShape(None))
        _, state, outputs = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), state, outputs),
            shape_invariants=invariants)
        # The reshape gives an empty stack (T = 0) its [0, B, H] shape.
        stacked = tf.reshape(outputs.stack(), [steps, tf.shape(features)[0], size])
        return tf.transpose(stacked, [1, 0, 2]), state
