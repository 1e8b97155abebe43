"""The weights of `DynamicTFPolicy`: its model's variables by stable names, and
the optimizer's variables.

The functions are `DynamicTFPolicy` methods (`policy` is `self`).
"""

from typing import Any, Dict, List, Mapping

import numpy as np
import tensorflow as tf

__all__ = ["named_variables", "get_weights", "set_weights", "optimizer_variables"]

def named_variables(self) -> Dict[str, tf.Variable]:
    """The model's variables by name, in order (`ModelV2.variables(as_dict=True)`:
    names that two policies of one class share, in any process)."""
    return self.model.variables(as_dict=True)


def get_weights(self) -> Dict[str, np.ndarray]:
    """Every model variable's value by name (Keras 3 ones included)."""
    return {name: v.numpy() for name, v in self._named_variables().items()}


def set_weights(self, weights: Mapping[str, Any]) -> None:
    """Assigns `get_weights()`-style values, all or nothing.

    Raises:
      ValueError: missing or unknown names, or a value of another shape
        (every offending name with both shapes).
    """
    variables = self._named_variables()
    missing = sorted(set(variables) - set(weights))
    unknown = sorted(set(weights) - set(variables))
    problems = []
    if missing:
        problems.append(f"missing {missing}")
    if unknown:
        problems.append(f"unknown {unknown}")
    values = {}
    for name, variable in variables.items():
        if name in weights:
            value = np.asarray(weights[name])
            if value.shape != tuple(variable.shape):
                problems.append(f"{name!r}: expected shape {tuple(variable.shape)}, got "
                                f"{value.shape}")
            values[name] = value
    if problems:
        raise ValueError(f"{type(self).__name__}.set_weights: the weights do not fit the "
                         "model: " + "; ".join(problems))
    for name, variable in variables.items():
        variable.assign(tf.cast(values[name], variable.dtype))
    self._weights_version += 1  # the LiteRT actor refreshes before its next act


def optimizer_variables(self) -> List[Any]:
    return [v for optimizer in self._optimizers for v in optimizer.variables]
