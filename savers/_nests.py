"""Leaves of a value in a spec's flat order, for the functions `PolicySaver` traces.

>>> import tensorflow as tf
>>> spec = {"a": tf.TensorSpec([2], tf.float32), "b": tf.TensorSpec([], tf.int32)}
>>> flat_like(spec, {"a": 1, "b": 2}), flat_like((), ())
([1, 2], [])
>>> flat_like((spec["b"], ((),)), (5, ()))  # an empty part may differ in shape
[5]
"""

import collections.abc
from typing import Any, List

import tree

from specs import NestedTensorSpec

__all__ = ["flat_like"]


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
