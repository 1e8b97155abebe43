"""Conversion of a policy's inputs (numpy arrays, Python numbers) to tensors of their specs' dtypes.

>>> to_tensors([1.0, 2.0], tf.TensorSpec([2], tf.float32)).dtype
tf.float32
>>> to_tensors({"a": 1, "b": tf.constant(2.5)},
...            {"a": tf.TensorSpec([], tf.int64), "b": tf.TensorSpec([], tf.float32)})["a"].dtype
tf.int64
"""

from typing import Any

import tensorflow as tf
import tree

__all__ = ["to_tensors"]


def to_tensors(value: Any, spec: Any) -> Any:
    """Converts non-tensor leaves to tensors of the spec's dtype (tensors pass through).

    Args:
      value: a nest with the structure of `spec`.
      spec: a nest of `TensorSpec`s.

    Returns:
      `value` itself when every leaf is a tensor already (or `spec` is empty),
      otherwise a nest like `spec` of tensors.
    """
    if not tree.flatten(spec):
        return value
    leaves = tree.flatten_up_to(spec, value, check_types=False)
    if all(isinstance(v, tf.Tensor) for v in leaves):
        return value
    converted = [
        v if isinstance(v, tf.Tensor) else tf.convert_to_tensor(v, dtype=s.dtype)
        for v, s in zip(leaves, tree.flatten(spec))
    ]
    return tree.unflatten_as(spec, converted)
