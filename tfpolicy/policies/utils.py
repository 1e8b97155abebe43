"""General helpers for policies over a discrete action.

- `get_num_actions_from_tensor_spec(action_spec)`: the number of actions of a
  scalar integer `BoundedTensorSpec` whose minimum is 0.
- `masked_argmax(input_tensor, mask)`: the row-wise argmax over the allowed
  entries, -1 for a row that allows none.

>>> from specs import BoundedTensorSpec
>>> get_num_actions_from_tensor_spec(BoundedTensorSpec((), tf.int32, 0, 4))
5
>>> masked_argmax(tf.constant([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0]]),
...               tf.constant([[0, 1, 1], [0, 0, 0]])).numpy()
array([ 2, -1], dtype=int32)
"""

from typing import Any

import numpy as np
import tensorflow as tf

from specs import tensor_spec
from tfpolicy.policies import _constraints

__all__ = ["get_num_actions_from_tensor_spec", "masked_argmax"]


def get_num_actions_from_tensor_spec(action_spec: tensor_spec.BoundedTensorSpec) -> int:
    """The number of actions `maximum + 1` of a scalar integer action spec with minimum 0.

    Args:
      action_spec: a `BoundedTensorSpec` of shape `()`, dtype int32 or int64,
        minimum 0 (a `BoundedArraySpec` is converted).

    Returns:
      `maximum + 1`, a Python int.

    Raises:
      ValueError: `action_spec` is not a bounded spec, is not a scalar, is not
        int32 or int64, has a minimum other than 0, or has per-element bounds;
        the message shows the spec.
    """
    spec = tensor_spec.from_spec(action_spec)
    if not isinstance(spec, tensor_spec.BoundedTensorSpec):
        raise ValueError(f"action_spec must be a BoundedTensorSpec, got "
                         f"{type(action_spec).__name__}: {action_spec!r}")
    if spec.shape.rank != 0:
        raise ValueError(f"action_spec must be a scalar (shape ()), got shape {spec.shape} in "
                         f"{spec!r}")
    if spec.dtype not in (tf.int32, tf.int64):
        raise ValueError(f"action_spec must have dtype int32 or int64, got {spec.dtype.name} in "
                         f"{spec!r}")
    minimum, maximum = np.unique(spec.minimum), np.unique(spec.maximum)
    if minimum.size != 1 or maximum.size != 1:
        raise ValueError(f"action_spec must have one minimum and one maximum, got {spec!r}")
    if int(minimum[0]) != 0:
        raise ValueError(f"action_spec must have minimum 0, got minimum {int(minimum[0])} in "
                         f"{spec!r}")
    return int(maximum[0]) + 1


def masked_argmax(input_tensor: Any, mask: Any, output_type: tf.DType = tf.int32) -> tf.Tensor:
    """The argmax of each row of `input_tensor` among the entries `mask` allows.

    Args:
      input_tensor: float values of shape `[B, N]`.
      mask: `[B, N]`, nonzero (or True) where an entry is allowed.
      output_type: the integer dtype of the result.

    Returns:
      `[B]` indices of `output_type`; -1 for a row whose mask allows nothing.
      Ties go to the smallest index.

    Raises:
      ValueError: the shapes of `input_tensor` and `mask` are incompatible, or
        the inputs are not of rank 2.
    """
    input_tensor = tf.convert_to_tensor(input_tensor)
    mask = tf.convert_to_tensor(mask)
    if input_tensor.shape.rank not in (None, 2) or mask.shape.rank not in (None, 2):
        raise ValueError(f"masked_argmax takes rank-2 [B, N] inputs, got input_tensor of shape "
                         f"{input_tensor.shape} and mask of shape {mask.shape}")
    if not input_tensor.shape.is_compatible_with(mask.shape):
        raise ValueError(f"masked_argmax: input_tensor has shape {input_tensor.shape} and mask "
                         f"{mask.shape}; they must be equal")
    allowed = tf.cast(mask, tf.bool)
    argmax = tf.argmax(_constraints.apply_mask(input_tensor, allowed), axis=-1,
                       output_type=output_type)
    return tf.where(tf.reduce_any(allowed, axis=-1), argmax, tf.constant(-1, output_type))
