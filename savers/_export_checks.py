"""Checks of what `PolicySaver` is given: the policy, `batch_size`, `train_step`,
`metadata`, and whether the traced `action` calls back into Python.

Each function returns the normalised value or raises with a message naming
the argument and what was wrong with it.

>>> as_int(4, "batch_size"), as_int(None, "batch_size")
(4, None)
>>> try:
...     as_int(0, "batch_size")
... except ValueError as error:
...     print(error)
batch_size must be None (any batch size) or a positive int, got 0
>>> int(check_train_step(None).numpy())
-1
"""

from typing import Any, Dict, List, Mapping, Optional

import numpy as np
import tensorflow as tf

from savers import _signatures
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.policies.py_tf_eager_policy import PyTFEagerPolicy
from tfpolicy.policies.tf_policy import TFPolicy

__all__ = [
    "as_tf_policy",
    "as_int",
    "check_train_step",
    "check_metadata",
    "python_ops",
    "check_no_python_ops",
]

# Ops that call back into the Python process: a SavedModel cannot carry the code they run.
_PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


def as_tf_policy(policy: Any) -> TFPolicy:
    """The `TFPolicy` to export: `policy` itself, or the one a `PyTFEagerPolicy` wraps.

    Raises:
      TypeError: `policy` is a `PyPolicy` or not a policy at all.
    """
    if isinstance(policy, PyTFEagerPolicy):
        return policy.wrapped_policy
    if isinstance(policy, TFPolicy):
        return policy
    if isinstance(policy, PyPolicy):
        raise TypeError(
            f"PolicySaver exports a TFPolicy; {type(policy).__name__} is a numpy PyPolicy whose "
            "Python code a SavedModel cannot hold (a PyTFEagerPolicy is exported as the TFPolicy "
            "it wraps)")
    raise TypeError(f"PolicySaver exports a TFPolicy, got {type(policy).__name__}")


def as_int(value: Any, what: str) -> Optional[int]:
    """None, or `value` as a positive Python int.

    Raises:
      ValueError: `value` is a bool, not an int, or below 1; the message names `what`.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be None (any batch size) or a positive int, got {value!r}")
    return int(value)


def check_train_step(train_step: Any) -> tf.Variable:
    """`train_step`, or a new int64 variable holding -1 ("unknown") for None.

    Raises:
      TypeError: `train_step` is not a `tf.Variable`.
      ValueError: it is not a scalar of an integer dtype.
    """
    if train_step is None:
        return tf.Variable(-1, dtype=tf.int64, trainable=False, name="train_step")
    if not isinstance(train_step, tf.Variable):
        raise TypeError(
            f"train_step must be a scalar integer tf.Variable (its value is read at every save), "
            f"got {train_step!r}")
    if not train_step.dtype.is_integer or train_step.shape.rank != 0:
        raise ValueError(f"train_step must be a scalar integer tf.Variable, got "
                         f"{train_step.dtype.name}{train_step.shape.as_list()}")
    return train_step


def check_metadata(metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """name -> `tf.Variable` (kept as is) or constant tensor (every other value).

    Raises:
      TypeError: `metadata` is not a mapping, or a value cannot become a tensor.
      ValueError: a name cannot name a signature output.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict of name -> value, got {metadata!r}")
    checked = {}
    for name, value in metadata.items():
        if not isinstance(name, str) or not _signatures.is_valid_name(name):
            raise ValueError(
                f"metadata name {name!r} cannot name a signature output: use letters, digits, "
                "'_', '.', '-' and '/', starting with a letter, digit or '.'")
        if isinstance(value, tf.Variable):
            checked[name] = value
            continue
        try:
            checked[name] = tf.constant(value.numpy() if tf.is_tensor(value) else value)
        except (TypeError, ValueError, AttributeError) as e:
            raise TypeError(f"metadata {name!r}: expected a tf.Variable, tensor, numpy array or "
                            f"Python number, got {value!r} ({e})") from None
    return checked


def python_ops(concrete: Any) -> List[str]:
    """The Python-callback ops in a traced function, nested functions included."""
    graph_def = concrete.graph.as_graph_def()
    types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        types.update(node.op for node in function.node_def)
    return sorted(types & _PYTHON_OPS)


def check_no_python_ops(concrete: Any, policy: TFPolicy) -> None:
    """Raises ValueError when the traced `action` of `policy` calls Python code."""
    ops = python_ops(concrete)
    if ops:
        raise ValueError(
            f"PolicySaver: {type(policy).__name__}.action calls Python code through "
            f"tf.numpy_function or tf.py_function (ops {ops}); a SavedModel cannot "
            "hold Python code, so the export could not run in another process. Export a "
            "policy written in TensorFlow ops (e.g. RandomTFPolicy instead of "
            "TFPyPolicy(RandomPyPolicy))")
