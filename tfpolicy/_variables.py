"""Deliberate variable collection for objects mixing `tf.Module`s and Keras 3 layers.

`tf.Module.variables` finds `tf.Variable`s reachable through attributes, but
Keras 3 layers are not `tf.Module`s and their `keras.Variable`s are not
`tf.Variable`s, so a policy holding a Keras 3 model would report no
variables. This walker finds both, in a deterministic order, and returns the
`tf.Variable` behind each Keras variable so callers can assign, checkpoint and
export them uniformly.
"""

import collections.abc
from typing import Any, List, NamedTuple

import keras
import tensorflow as tf

__all__ = ["CollectedVariable", "collect_variables"]

# tf.Module bookkeeping that would revisit children or carry no variables.
_SKIPPED_PREFIXES = ("_self_", "_name_scope", "_scope_name")


class CollectedVariable(NamedTuple):
    """A variable and whether its owner trains it (Keras' notion wins for Keras variables)."""

    variable: tf.Variable
    trainable: bool


def collect_variables(root: Any) -> List[CollectedVariable]:
    """All variables reachable from `root`, each once, in a stable order.

    Walks attributes of `tf.Module`s (sorted by name, as `tf.Module` does),
    nests (lists, tuples, dicts), and Keras layers and models (in their own
    variable order). `tf.Variable`s are returned as they are; Keras variables as
    the `tf.Variable` backing them.
    """
    out: List[CollectedVariable] = []
    seen_objects: set = set()
    seen_vars: set = set()

    def add(var: tf.Variable, trainable: bool) -> None:
        if id(var) not in seen_vars:
            seen_vars.add(id(var))
            out.append(CollectedVariable(var, bool(trainable)))

    def walk(obj: Any) -> None:
        if id(obj) in seen_objects:
            return
        seen_objects.add(id(obj))
        if isinstance(obj, keras.Variable):
            add(obj.value, obj.trainable)
        elif isinstance(obj, tf.Variable):
            add(obj, obj.trainable)
        elif isinstance(obj, keras.layers.Layer):
            trainable_ids = {id(v) for v in obj.trainable_variables}
            for v in obj.variables:
                add(v.value, id(v) in trainable_ids)
        elif isinstance(obj, tf.Module):
            attrs = vars(obj)
            for key in sorted(attrs):
                if not key.startswith(_SKIPPED_PREFIXES):
                    walk(attrs[key])
        elif isinstance(obj, collections.abc.Mapping):
            for key in sorted(obj, key=str):
                walk(obj[key])
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item)

    walk(root)
    return out
