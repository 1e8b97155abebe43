"""`LSTMWrapper`: an LSTM over a feed-forward model's features, on folded sequences (`use_lstm`)."""

from typing import Any, Dict, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from tfpolicy.learning import _spaces
from tfpolicy.learning._fcnet import FullyConnectedNetwork
from tfpolicy.learning._model_config import MODEL_DEFAULTS
from tfpolicy.learning._modelv2 import ModelV2, TensorList, ViewRequirement

__all__ = ["LSTMWrapper"]


class LSTMWrapper(ModelV2):
    """A feed-forward model's features, then an LSTM, then the outputs and the value.

    Per row, the wrapped model's outputs (features), the previous action
    (`lstm_use_prev_action`: Discrete/MultiDiscrete parts one-hot, others as
    floats, nested parts concatenated in dm-tree order) and the previous
    reward (`lstm_use_prev_reward`) are concatenated; the rows are folded into
    sequences and run through a Keras 3 `LSTM` layer (`lstm`, `lstm_cell_size`
    units) whose outputs feed the linear layers `logits` (`num_outputs`) and
    `values` (1).

    Shapes: inputs come folded, `[num_seqs * T]` rows (T the padded length:
    `B // num_seqs`), with `seq_lens [num_seqs]` and the state
    `[h [num_seqs, cell], c [num_seqs, cell]]`. Rows past a sequence's length
    are padding: they leave the state alone, so the returned state is each
    sequence's state after its last real step. Outputs are `[num_seqs * T,
    num_outputs]` and `value_function()` is `[num_seqs * T]`.

    Without `seq_lens` every row is one step of its own sequence when no state
    is given, and the rows split evenly over the given state's sequences
    otherwise. Without state the initial state is zeros.

    Args:
      obs_space, action_space, num_outputs, model_config, name, framework: as
        `ModelV2` (`num_outputs=None`: the LSTM's outputs are the outputs).
      wrapped_model: the feed-forward model whose outputs are the features
        (default: a `FullyConnectedNetwork` with `num_outputs=None` and no
        value branch).
    """

    applies_action_mask = True

    def __init__(self, obs_space: Any, action_space: Any, num_outputs: Optional[int],
                 model_config: dict, name: str, framework: str = "tf2", *,
                 wrapped_model: Optional[ModelV2] = None):
        super().__init__(obs_space, action_space, num_outputs, model_config, name, framework)
        config = {**MODEL_DEFAULTS, **model_config}
        if wrapped_model is None:
            wrapped_model = FullyConnectedNetwork(obs_space, action_space, None, model_config,
                                                  f"{name}_wrapped", framework, value_branch=False)
        self.wrapped_model = wrapped_model
        self.cell_size = int(config["lstm_cell_size"])
        self.use_prev_action = bool(config["lstm_use_prev_action"])
        self.use_prev_reward = bool(config["lstm_use_prev_reward"])
        self._action_layout = _spaces.layout(action_space)
        self.action_dim = sum(leaf.feature_width for leaf in self._action_layout.leaves)
        self._input_size = (int(wrapped_model.num_outputs)
                            + (self.action_dim if self.use_prev_action else 0)
                            + (1 if self.use_prev_reward else 0))
        self._lstm = keras.layers.LSTM(self.cell_size, return_sequences=True, return_state=True,
                                       name="lstm")
        self._logits = (keras.layers.Dense(num_outputs, name="logits") if num_outputs
                        else None)
        if not num_outputs:
            self.num_outputs = self.cell_size
        self._values = keras.layers.Dense(1, name="values")
        self._value_out: Optional[tf.Tensor] = None
        if self.use_prev_action:
            self.view_requirements["prev_actions"] = ViewRequirement(
                "actions", shift=-1, space=action_space)
        if self.use_prev_reward:
            self.view_requirements["prev_rewards"] = ViewRequirement("rewards", shift=-1)
        for i in range(2):
            self.view_requirements[f"state_in_{i}"] = ViewRequirement(f"state_out_{i}", shift=-1)
        zeros = tf.zeros([1, self.cell_size])
        self._run(tf.zeros([1, 1, self._input_size]), tf.ones([1], tf.int32), [zeros, zeros])

    def get_initial_state(self) -> List[np.ndarray]:
        """`[h, c]`, zeros of shape `[lstm_cell_size]`."""
        return [np.zeros(self.cell_size, np.float32), np.zeros(self.cell_size, np.float32)]

    def _run(self, inputs: tf.Tensor, seq_lens: tf.Tensor, state: TensorList
             ) -> Tuple[tf.Tensor, tf.Tensor, TensorList]:
        """`inputs [num_seqs, T, F]` -> outputs and values `[num_seqs, T, ...]`, new state."""
        mask = tf.sequence_mask(seq_lens, tf.shape(inputs)[1])
        out, h, c = self._lstm(inputs, mask=mask, initial_state=list(state))
        logits = out if self._logits is None else self._logits(out)
        return logits, self._values(out), [h, c]

    def forward(self, input_dict: Dict[str, Any], state: TensorList,
                seq_lens: Optional[tf.Tensor]) -> Tuple[tf.Tensor, TensorList]:
        wrapped_in = {k: v for k, v in input_dict.items()
                      if k not in ("obs_flat", "seq_lens") and not k.startswith("state_in_")}
        features, _ = self.wrapped_model(wrapped_in)
        parts = [features]
        if self.use_prev_action:
            if "prev_actions" not in input_dict:
                raise ValueError(f"{self.name}: lstm_use_prev_action needs a 'prev_actions' "
                                 f"column; the input dict has {sorted(input_dict)}")
            lay = self._action_layout
            values = _spaces.flat_values(lay, input_dict["prev_actions"], lay.leaves,
                                         "prev_actions")
            parts.append(_spaces.flatten(lay.leaves, values))
        if self.use_prev_reward:
            if "prev_rewards" not in input_dict:
                raise ValueError(f"{self.name}: lstm_use_prev_reward needs a 'prev_rewards' "
                                 f"column; the input dict has {sorted(input_dict)}")
            parts.append(tf.reshape(tf.cast(input_dict["prev_rewards"], tf.float32), [-1, 1]))
        x = parts[0] if len(parts) == 1 else tf.concat(parts, axis=1)
        rows = tf.shape(x)[0]
        if seq_lens is None:
            num_seqs = tf.shape(state[0])[0] if state else rows
            seq_lens = tf.fill([num_seqs], rows // num_seqs)
        num_seqs = tf.shape(seq_lens)[0]
        if not state:
            state = [tf.zeros([num_seqs, self.cell_size])] * 2
        x = tf.reshape(x, [num_seqs, rows // num_seqs, self._input_size])
        outputs, values, new_state = self._run(x, seq_lens, state)
        self._value_out = tf.reshape(values, [-1])
        return tf.reshape(outputs, [-1, self.num_outputs]), new_state

    def value_function(self) -> tf.Tensor:
        """`[num_seqs * T]` values of the last call."""
        if self._value_out is None:
            raise ValueError(f"{self.name}: call the model before value_function()")
        return self._value_out
