"""`ExpandDims`: a Keras layer adding a dim of size 1 to its input.

The axis counts after the batch dim when it is non-negative (`axis=0` puts
the new dim right after the batch dim) and from the right when it is
negative (`axis=-1` appends it). Used, e.g., to give a `[B]` input the
`[B, 1]` shape a `Dense` layer needs inside a `Sequential`.

>>> import tensorflow as tf
>>> ExpandDims(-1)(tf.zeros([4, 3])).shape
TensorShape([4, 3, 1])
>>> ExpandDims(0)(tf.zeros([4, 3])).shape
TensorShape([4, 1, 3])
"""

from typing import Any, Dict, Optional, Sequence

import keras
import tensorflow as tf

__all__ = ["ExpandDims"]


@keras.saving.register_keras_serializable(package="tfpolicy")
class ExpandDims(keras.layers.Layer):
    """Inserts a dim of size 1 at `axis`.

    Input shape `(batch_size,) + shape`; output shape:

    - `(batch_size,) + shape + (1,)` for `axis == -1`;
    - `(batch_size,) + shape[:axis + 1] + (1,) + shape[axis + 1:]` for `axis < -1`;
    - `(batch_size,) + shape[:axis] + (1,) + shape[axis:]` for `axis >= 0`.

    Args:
      axis: where the new dim goes (an int, not a tensor): after the batch
        dim for non-negative values, counted from the right for negative ones.
      **kwargs: Keras layer arguments (`name`, `dtype`, ...).

    Raises:
      TypeError: `axis` is not an int.
    """

    def __init__(self, axis: int, **kwargs: Any):
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"ExpandDims: axis must be a Python int, got {axis!r}")
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.expand_dims(inputs, self.axis if self.axis < 0 else self.axis + 1)

    def compute_output_shape(self, input_shape: Sequence[Optional[int]]) -> tuple:
        shape = list(input_shape)
        position = len(shape) + 1 + self.axis if self.axis < 0 else self.axis + 1
        return tuple(shape[:position] + [1] + shape[position:])

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}
