"""What the compiled acting and learning steps of `DynamicTFPolicy` share: a
concrete function of flat arrays with the packer of its outputs, and the
input signature of flat arrays with a leading (batch) dim left open."""

from typing import Any, Callable, List, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

__all__ = ["Compiled", "leaf_signature", "tensor_specs", "to_numpy"]


def leaf_signature(leaves: Sequence[np.ndarray]) -> Tuple:
    """The dtypes and inner shapes of flat arrays: what picks a compiled function."""
    return tuple((x.dtype, x.shape[1:]) for x in leaves)


def tensor_specs(leaves: Sequence[np.ndarray]) -> List[tf.TensorSpec]:
    """The input signature of flat arrays, the leading dim left open."""
    return [tf.TensorSpec((None,) + x.shape[1:], x.dtype) for x in leaves]


def to_numpy(value: Any) -> Any:
    """A nest of tensors as numpy (other leaves as they are)."""
    return tree.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, value)


class Compiled:
    """A concrete function of flat arrays and the packer of its flat outputs."""

    __slots__ = ("function", "pack")

    def __init__(self, function: Any, pack: Callable[[Sequence[Any]], Any]):
        self.function = function
        self.pack = pack
