"""Type aliases shared across the packages (re-exported by `specs`)."""

from typing import Any, Mapping, Sequence, Union

import numpy as np
import tensorflow as tf

__all__ = [
    "Nest",
    "NestedTensorSpec",
    "NestedArraySpec",
    "NestedSpec",
    "NestedTensor",
    "NestedArray",
    "NUMPY_LEAF_TYPES",
]

# A nest is a leaf, or a (possibly nested) tuple, list, namedtuple or mapping of nests.
Nest = Any
NestedTensorSpec = Union[tf.TensorSpec, Sequence[Any], Mapping[str, Any]]
NestedArraySpec = Union["ArraySpec", Sequence[Any], Mapping[str, Any]]  # noqa: F821
NestedSpec = Union[NestedTensorSpec, NestedArraySpec]
NestedTensor = Union[tf.Tensor, Sequence[Any], Mapping[str, Any]]
NestedArray = Union[np.ndarray, Sequence[Any], Mapping[str, Any]]

# Leaf types known not to be tensors: checked with isinstance before the (slow)
# tf.is_tensor on per-step paths.
NUMPY_LEAF_TYPES = (np.ndarray, np.generic, int, float, bool)
