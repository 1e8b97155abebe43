"""`BiasLayer`: a Keras layer that only adds a trainable bias to its input.

`output = input + bias`, the bias one value per entry of the last dim
(`[input_dim]`), or a single value for inputs of rank 1 (`[B]`). A state
independent learned offset, e.g. the log standard deviation of a normal
projection.

>>> import tensorflow as tf
>>> layer = BiasLayer(bias_initializer="ones")
>>> layer(tf.zeros([2, 3])).numpy().tolist()
[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
>>> [tuple(v.shape) for v in layer.trainable_variables]
[(3,)]
"""

from typing import Any, Dict, Optional, Sequence

import keras
import tensorflow as tf

__all__ = ["BiasLayer"]


@keras.saving.register_keras_serializable(package="tfpolicy")
class BiasLayer(keras.layers.Layer):
    """Adds a bias of shape `[input_shape[-1]]` (`[1]` for rank-1 inputs).

    Input shape `(batch_size, ..., input_dim)` or `(batch_size,)`; the output
    has the input's shape.

    Args:
      bias_initializer: a Keras initializer (or its name) for the bias.
      **kwargs: Keras layer arguments (`name`, `dtype`, `input_dim`, ...).
    """

    def __init__(self, bias_initializer: Any = "zeros", **kwargs: Any):
        super().__init__(**kwargs)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True
        self.bias: Optional[keras.Variable] = None

    def build(self, input_shape: Sequence[Optional[int]]) -> None:
        size = 1 if len(input_shape) == 1 else input_shape[-1]
        if size is None:
            raise ValueError(f"BiasLayer needs a known last dim to size its bias; got an "
                             f"input of shape {tuple(input_shape)}")
        self.bias = self.add_weight(name="bias", shape=(int(size),),
                                    initializer=self.bias_initializer, trainable=True)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        # A rank-1 input broadcasts against the one-entry bias.
        return inputs + tf.cast(self.bias, inputs.dtype)

    def compute_output_shape(self, input_shape: Sequence[Optional[int]]) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}
