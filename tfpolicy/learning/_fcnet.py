"""`FullyConnectedNetwork`: RLlib's default fully connected model, from Keras 3 layers."""

from typing import Any, Dict, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from tfpolicy.learning._model_config import MODEL_DEFAULTS, get_activation_fn
from tfpolicy.learning._modelv2 import ModelV2, TensorList

__all__ = ["FullyConnectedNetwork", "NormcInitializer"]


class NormcInitializer(keras.initializers.Initializer):
    """RLlib's `normc_initializer`: standard normal columns rescaled to norm `std`.

    Each output unit's incoming weights (a kernel column) get Euclidean norm
    `std`, so a layer's initial outputs have a scale independent of its fan-in.

    Args:
      std: the norm of each column.
      seed: an int, or None for a fresh seed per instance (from Keras' global
        seeding, `keras.utils.set_random_seed`).
    """

    def __init__(self, std: float = 1.0, seed: Optional[int] = None):
        self.std = float(std)
        self._init_seed = seed
        self._normal = keras.initializers.RandomNormal(0.0, 1.0, seed=seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        x = self._normal(shape, dtype=dtype)
        norms = keras.ops.sqrt(keras.ops.sum(keras.ops.square(x), axis=0, keepdims=True))
        return x * (self.std / norms)

    def get_config(self) -> Dict[str, Any]:
        return {"std": self.std, "seed": self._init_seed}


def _dense(units: int, activation: Any, std: float, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(units, activation=activation,
                              kernel_initializer=NormcInitializer(std), name=name)


def _run(layers: List[keras.layers.Layer], x: tf.Tensor) -> tf.Tensor:
    for layer in layers:
        x = layer(x)
    return x


class FullyConnectedNetwork(ModelV2):
    """RLlib's default model: dense layers to the distribution inputs, and a value branch.

    From `model_config`:

    - hidden layers `fcnet_hiddens` with `fcnet_activation` (`"tanh"`, `"relu"`,
      `"swish"`, `"linear"`, ...), then `post_fcnet_hiddens` with
      `post_fcnet_activation`, named `fc_1, fc_2, ...`; kernels initialized
      by `NormcInitializer(1.0)`;
    - the output layer `fc_out`: linear with `NormcInitializer(0.01)`, or with
      `no_final_linear` it replaces the last hidden layer (same activation);
      with `num_outputs=None` there is no output layer and the outputs are the
      last hidden layer's (`num_outputs` becomes its width);
    - `free_log_std`: the layers output the `num_outputs / 2` means, followed
      by a state-independent trainable log-std vector (initially 0);
    - the value branch `value_out` (linear, `NormcInitializer(0.01)`) reads the
      last hidden layer (`vf_share_layers=True`) or its own copy of the hidden
      layers `fc_value_1, ...` (`vf_share_layers=False`).

    `value_function()` is `[B]`. The action mask is applied (see `ModelV2`).

    Args:
      obs_space, action_space, num_outputs, model_config, name, framework: as `ModelV2`.
      value_branch: False leaves the value branch out (a feature extractor
        whose value comes from elsewhere, as inside `LSTMWrapper`).

    Raises:
      ValueError: `free_log_std` with an odd or no `num_outputs`, an unknown activation.
    """

    applies_action_mask = True

    def __init__(self, obs_space: Any, action_space: Any, num_outputs: Optional[int],
                 model_config: dict, name: str, framework: str = "tf2", *,
                 value_branch: bool = True):
        super().__init__(obs_space, action_space, num_outputs, model_config, name, framework)
        config = {**MODEL_DEFAULTS, **model_config}
        activation = get_activation_fn(config["fcnet_activation"])
        post_activation = get_activation_fn(config["post_fcnet_activation"])
        sizes = ([(int(n), activation) for n in config["fcnet_hiddens"]]
                 + [(int(n), post_activation) for n in config["post_fcnet_hiddens"]])
        free_log_std = bool(config["free_log_std"])
        means = num_outputs
        self.log_std_var: Optional[tf.Variable] = None
        if free_log_std:
            if not num_outputs or num_outputs % 2:
                raise ValueError(
                    f"free_log_std needs an even num_outputs (means and log-stds), got "
                    f"{num_outputs}")
            means = num_outputs // 2
            self.log_std_var = tf.Variable(np.zeros(means, np.float32), name="log_std")

        self._hidden = [_dense(n, act, 1.0, f"fc_{i}")
                        for i, (n, act) in enumerate(sizes[:-1], start=1)]
        self._logits: Optional[keras.layers.Dense] = None
        if config["no_final_linear"] and means:
            self._logits = _dense(means, sizes[-1][1] if sizes else activation, 1.0, "fc_out")
        else:
            if sizes:
                self._hidden.append(_dense(sizes[-1][0], sizes[-1][1], 1.0, f"fc_{len(sizes)}"))
            if means:
                self._logits = _dense(means, None, 0.01, "fc_out")
            else:
                self.num_outputs = sizes[-1][0] if sizes else self.obs_flat_size
        self._value_hidden = [] if config["vf_share_layers"] or not value_branch else [
            _dense(n, act, 1.0, f"fc_value_{i}") for i, (n, act) in enumerate(sizes, start=1)]
        self._value_layer = _dense(1, None, 0.01, "value_out") if value_branch else None
        self._value_out: Optional[tf.Tensor] = None
        self._outputs(tf.zeros([1, self.obs_flat_size]))  # creates the variables

    def _outputs(self, obs_flat: tf.Tensor) -> Tuple[tf.Tensor, Optional[tf.Tensor]]:
        last = _run(self._hidden, obs_flat)
        if self._logits is None:
            outputs = last
        else:
            outputs = self._logits(last)
            if self.log_std_var is not None:
                log_std = tf.tile(self.log_std_var[None], [tf.shape(outputs)[0], 1])
                outputs = tf.concat([outputs, log_std], axis=1)
        if self._value_layer is None:
            return outputs, None
        value_in = _run(self._value_hidden, obs_flat) if self._value_hidden else last
        return outputs, self._value_layer(value_in)

    def forward(self, input_dict: Dict[str, Any], state: TensorList,
                seq_lens: Optional[tf.Tensor]) -> Tuple[tf.Tensor, TensorList]:
        outputs, value = self._outputs(input_dict["obs_flat"])
        self._value_out = value
        return outputs, state

    def value_function(self) -> tf.Tensor:
        """`[B]` values of the last call."""
        if self._value_layer is None:
            raise ValueError(f"{self.name} was built with value_branch=False")
        if self._value_out is None:
            raise ValueError(f"{self.name}: call the model before value_function()")
        return tf.reshape(self._value_out, [-1])
