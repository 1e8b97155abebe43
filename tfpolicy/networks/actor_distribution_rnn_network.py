"""`ActorDistributionRnnNetwork`: a recurrent actor over an LSTM core.

observation -> input fc layers (optionally with dropout) -> stacked LSTM cells
-> output fc layers -> one head per action leaf, as in
`ActorDistributionNetwork` (categorical for integer leaves, squashed
`Independent(Normal)` for float leaves, with the same head options). State
and resets are described in `tfpolicy.networks._lstm`.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> net = ActorDistributionRnnNetwork(
...     TensorSpec([4], tf.float32), BoundedTensorSpec([], tf.int32, 0, 2),
...     input_fc_layer_params=(8,), lstm_size=(5,), output_fc_layer_params=())
>>> dist, state = net(tf.zeros([2, 6, 4]))
>>> dist.batch_shape, state[0][1].shape
(TensorShape([2, 6]), TensorShape([2, 5]))
"""

from typing import Any, Callable, List, Optional, Sequence

import keras
import tensorflow as tf

from specs import NestedTensorSpec
from tfpolicy.networks import _projection
from tfpolicy.networks._lstm import LSTMNetwork

__all__ = ["ActorDistributionRnnNetwork"]


class ActorDistributionRnnNetwork(LSTMNetwork):
    """A nest of distributions like `output_tensor_spec` per step, and the next LSTM state.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      output_tensor_spec: the nest of action specs.
      preprocessing_layers, preprocessing_combiner, conv_layer_params: as in
        `EncodingNetwork`.
      input_fc_layer_params: units of the fc layers before the LSTM.
      input_dropout_layer_params: None or one dropout rate (or None) per input fc layer.
      lstm_size: units per stacked LSTM cell.
      output_fc_layer_params: units of the fc layers after the LSTM.
      activation_fn: activation of the conv and fc layers.
      init_std, std_transform, state_dependent_std, mean_transform: options of
        the normal heads, as in `ActorDistributionNetwork`.
      name: the module's name.

    Raises:
      ValueError: action specs or head options `ActorDistributionNetwork`
        rejects, a bad `lstm_size`, and the encoder's errors.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        output_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        input_fc_layer_params: Optional[Sequence[int]] = (200, 100),
        input_dropout_layer_params: Optional[Sequence[Optional[float]]] = None,
        lstm_size: Sequence[int] = (40,),
        output_fc_layer_params: Optional[Sequence[int]] = (200, 100),
        activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
        init_std: float = _projection.DEFAULT_INIT_STD,
        std_transform: Callable[[tf.Tensor], tf.Tensor] = tf.nn.softplus,
        state_dependent_std: bool = False,
        mean_transform: _projection.MeanTransform = "tanh_squash",
        name: Optional[str] = None,
    ):
        super().__init__(
            input_tensor_spec, preprocessing_layers, preprocessing_combiner, conv_layer_params,
            input_fc_layer_params, input_dropout_layer_params, lstm_size, output_fc_layer_params,
            activation_fn, name=name or "ActorDistributionRnnNetwork")
        self._projection = _projection.ProjectionNest(
            output_tensor_spec, init_std=init_std, std_transform=std_transform,
            state_dependent_std=state_dependent_std, mean_transform=mean_transform)
        self.create_variables()

    @property
    def output_tensor_spec(self) -> NestedTensorSpec:
        """The nest of action specs the distributions are over."""
        return self._projection.output_tensor_spec

    def _head(self, features: tf.Tensor, training: bool) -> List[Any]:
        return self._projection.parameters(features)

    def _make_output(self, output: List[Any]) -> Any:
        return self._projection.distributions(output)
