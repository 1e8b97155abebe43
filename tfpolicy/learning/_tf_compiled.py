"""What the compiled acting and learning steps of `DynamicTFPolicy` share: a
concrete function of flat arrays with the packer of its outputs, and the
input signature of flat arrays with a leading (batch) dim left open."""

from typing import Any, Callable, List, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

__all__ = ["Compiled", "leaf_signature", "merge_float_outputs", "tensor_specs", "to_numpy"]


def leaf_signature(leaves: Sequence[np.ndarray]) -> Tuple:
    """The dtypes and inner shapes of flat arrays: what picks a compiled function."""
    return tuple((x.dtype, x.shape[1:]) for x in leaves)


def tensor_specs(leaves: Sequence[np.ndarray]) -> List[tf.TensorSpec]:
    """The input signature of flat arrays, the leading dim left open."""
    return [tf.TensorSpec((None,) + x.shape[1:], x.dtype) for x in leaves]


def to_numpy(value: Any) -> Any:
    """A nest of tensors as numpy (other leaves as they are)."""
    return tree.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, value)


def _identity(values: List[Any]) -> List[Any]:
    return values


class Compiled:
    """A concrete function of flat arrays, the packer of its flat outputs, and
    `unmerge`, which restores the flat outputs from what the function returns
    (the identity unless outputs were merged, see `merge_float_outputs`)."""

    __slots__ = ("function", "pack", "unmerge")

    def __init__(self, function: Any, pack: Callable[[Sequence[Any]], Any],
                 unmerge: Callable[[List[Any]], List[Any]] = _identity):
        self.function = function
        self.pack = pack
        self.unmerge = unmerge


def merge_float_outputs(outputs: List[tf.Tensor]
                        ) -> Tuple[List[tf.Tensor], Callable[[List[Any]], List[Any]]]:
    """Concatenates the float32 outputs `[B, ...]` into one `[B, n]` tensor (traced).

    Every output of a concrete-function call is converted to numpy on its own
    (about 10-15 us each), so an acting step's four float extra fetches cost
    more as four than as one.

    Returns:
      The outputs to return (the merged one first, then the others in order)
      and the numpy-side function that splits them back into the original
      list, each with its leading dim.
    """
    merged = [i for i, t in enumerate(outputs) if t.dtype == tf.float32
              and t.shape.rank is not None and t.shape.rank >= 1
              and t.shape[1:].is_fully_defined()]
    if len(merged) < 2:
        return outputs, _identity
    inner = [tuple(outputs[i].shape[1:].as_list()) for i in merged]
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in inner]
    bounds = np.cumsum(sizes)[:-1].tolist()
    batch = tf.shape(outputs[merged[0]])[:1]
    block = tf.concat([tf.reshape(outputs[i], tf.concat([batch, [n]], 0))
                       for i, n in zip(merged, sizes)], axis=1)
    others = [i for i in range(len(outputs)) if i not in set(merged)]
    count = len(outputs)

    def unmerge(values: List[Any]) -> List[Any]:
        flat: List[Any] = [None] * count
        parts = np.split(values[0], bounds, axis=1)
        for i, part, shape in zip(merged, parts, inner):
            flat[i] = part.reshape(part.shape[:1] + shape)
        for i, value in zip(others, values[1:]):
            flat[i] = value
        return flat

    return [block] + [outputs[i] for i in others], unmerge
