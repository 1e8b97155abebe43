"""Builds the fields of time steps and trajectories from numpy or tensor inputs alike.

`time_step` and `trajectory` share these: each helper takes `tensors`, the
caller's one decision (from `contains_tensor`) on whether the fields come
out as numpy arrays or as tensors, so numpy steps never touch TensorFlow
ops and tensor steps work inside `tf.function` with unknown batch sizes.

>>> shape = shape_of(np.ones(3, np.float32), tensors=False)
>>> shape, fill(shape, np.int32(1), tensors=False)
((3,), array([1, 1, 1], dtype=int32))
>>> as_reward(2.0, shape, tensors=False)
array([2., 2., 2.], dtype=float32)
"""

from typing import Any, Optional, Tuple, Union

import numpy as np
import tensorflow as tf
import tree

from specs import NUMPY_LEAF_TYPES, Nest

# A batch shape: static ints, or (inside a graph, when some dim is unknown)
# a 1-D int32 tensor.
Shape = Union[Tuple[int, ...], tf.Tensor]

_NUMPY_LEAVES = NUMPY_LEAF_TYPES + (type(None),)


def equal(step_type: Any, value: np.int32) -> Any:
    """Elementwise `step_type == value`: a bool tensor for a tensor, else a bool array.

    Args:
      step_type: int32 step types, a numpy array or scalar, or a tensor.
      value: a `StepType` member.

    Returns:
      Bool of the shape of `step_type`, of the same kind.
    """
    if not isinstance(step_type, (np.ndarray, np.generic)) and tf.is_tensor(step_type):
        return tf.equal(step_type, value)
    return np.asarray(np.equal(step_type, value))


def contains_tensor(*nests: Nest) -> bool:
    """Whether any leaf of `nests` is a tensor (numpy leaves and None are not)."""
    # The isinstance test first: tf.is_tensor is slow on numpy leaves, and
    # numpy time steps are built on every environment step.
    return any(not isinstance(leaf, _NUMPY_LEAVES) and tf.is_tensor(leaf)
               for nest in nests for leaf in tree.flatten(nest))


def shape_of(x: Any, tensors: bool) -> Shape:
    """The shape of `x`: static ints when known, else a 1-D int32 tensor.

    Args:
      x: an array, a tensor, or anything `np.shape` / `tf.convert_to_tensor` takes.
      tensors: whether the caller builds tensors; if False, `np.shape(x)`.

    Raises:
      ValueError: `tensors` and `x` has unknown rank.
    """
    if not tensors:
        return np.shape(x)
    x = tf.convert_to_tensor(x)
    if x.shape.is_fully_defined():
        return tuple(x.shape.as_list())
    if x.shape.rank is None:
        raise ValueError(
            f"cannot infer the batch shape from a value of unknown rank ({x!r}); "
            "pass outer_dims")
    return tf.shape(x)


def _is_empty_shape(shape: Shape) -> bool:
    if isinstance(shape, tuple):
        return not shape
    return shape.shape.as_list() == [0]


def fill(shape: Shape, value: np.int32, tensors: bool) -> Any:
    """An int32 array (or tensor, if `tensors`) of `shape` filled with `value`."""
    if tensors:
        return tf.fill(shape, tf.constant(value, tf.int32))
    return np.full(shape, value, np.int32)


def as_reward(reward: Nest, shape: Shape, tensors: bool) -> Nest:
    """`reward` with each leaf as an array (or tensor, if `tensors`).

    Arrays and tensors keep their dtype, Python numbers become float32;
    scalar leaves are broadcast to `shape` unless it is empty.
    """
    broadcast = not _is_empty_shape(shape)

    def convert(leaf: Any) -> Any:
        if tensors:
            if not tf.is_tensor(leaf):
                is_array = isinstance(leaf, (np.ndarray, np.generic))
                leaf = tf.convert_to_tensor(leaf, None if is_array else tf.float32)
            if broadcast and leaf.shape.rank == 0:
                leaf = tf.broadcast_to(leaf, shape)
            return leaf
        if isinstance(leaf, (np.ndarray, np.generic)):
            leaf = np.asarray(leaf)
        else:
            leaf = np.asarray(leaf, np.float32)
        if broadcast and leaf.ndim == 0:
            leaf = np.full(shape, leaf, leaf.dtype)
        return leaf

    return tree.map_structure(convert, reward)


def as_discount(discount: Any, shape: Optional[Shape], tensors: bool) -> Any:
    """`discount` as float32 (a tensor if `tensors`), broadcast to `shape` unless that is None.

    Raises:
      ValueError: a numpy `discount` does not broadcast to `shape`.
    """
    if tensors:
        discount = tf.cast(discount, tf.float32)
        return discount if shape is None else tf.broadcast_to(discount, shape)
    discount = np.asarray(discount, np.float32)
    if shape is None:
        return discount
    try:
        return np.array(np.broadcast_to(discount, shape))
    except ValueError:
        raise ValueError(
            f"discount of shape {discount.shape} does not broadcast to the batch "
            f"shape {shape}") from None
