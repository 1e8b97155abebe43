"""Nest helpers for the functions `PolicySaver` traces: batched signatures and
leaves in a spec's flat order.

>>> import tensorflow as tf
>>> spec = {"a": tf.TensorSpec([2], tf.float32), "b": tf.TensorSpec([], tf.int32)}
>>> batched(spec, (None,))["a"]
TensorSpec(shape=(None, 2), dtype=tf.float32, name=None)
>>> flat_like(spec, {"a": 1, "b": 2}), flat_like((), ())
([1, 2], [])
>>> flat_like((spec["b"], ((),)), (5, ()))  # an empty part may differ in shape
[5]
"""

import collections.abc
from typing import Any, List, Optional, Tuple

import tensorflow as tf
import tree

from specs._types import NestedTensorSpec

__all__ = ["batched", "flat_like"]


def batched(spec: NestedTensorSpec, outer: Tuple[Optional[int], ...]) -> NestedTensorSpec:
    """Unnamed `tf.TensorSpec`s with the outer dims, for the nested functions' signatures."""
    return tree.map_structure(
        lambda s: tf.TensorSpec(list(outer) + s.shape.as_list(), s.dtype), spec)


def flat_like(spec: NestedTensorSpec, value: Any) -> List[Any]:
    """`value`'s leaves in `spec`'s flat order; nothing for a spec without leaves (whose
    value may be any empty nest: `()` for `PolicyInfo(log_probability=())`)."""
    if not tree.flatten(spec):
        return []
    try:
        return tree.flatten_up_to(spec, value, check_types=False)
    except (TypeError, ValueError):
        # A leafless part of the spec may meet a differently shaped empty
        # value (`PolicyInfo(log_probability=())` against `()`): go part by part.
        if not tree.is_nested(spec) or not tree.is_nested(value):
            raise
        if isinstance(spec, collections.abc.Mapping):
            return [leaf for key in sorted(spec) for leaf in flat_like(spec[key], value[key])]
        if len(spec) != len(value):
            raise
        return [leaf for s, v in zip(spec, value) for leaf in flat_like(s, v)]
