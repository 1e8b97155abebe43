"""The exported functions besides `action` and `distribution`: `get_initial_state`,
`get_train_step` and `get_metadata`.

Each `add_*` function traces the nested function (set as an attribute of the
exported module), the flat signature (added to `signatures`) and its
`policy_specs.json` description (added to `descriptions`), and returns the
concrete functions it traced.

>>> import tensorflow as tf
>>> module, signatures, descriptions = tf.Module(), {}, {}
>>> traced = add_train_step_and_metadata(module, signatures, descriptions,
...                                      tf.Variable(7, dtype=tf.int64), {"n": tf.constant(3)})
>>> int(module.get_train_step()), int(module.get_metadata()["n"]), sorted(signatures)
(7, 3, ['get_metadata', 'get_train_step'])
"""

from typing import Any, Dict, List, Optional

import tensorflow as tf

from savers import _nests
from savers import _signatures
from specs import NestedTensorSpec
from tfpolicy.policies.tf_policy import TFPolicy

__all__ = ["add_initial_state", "add_train_step_and_metadata"]


def add_initial_state(module: tf.Module, signatures: Dict[str, Any],
                      descriptions: Dict[str, Any], policy: TFPolicy,
                      exported_batch_size: Optional[int], state_spec: NestedTensorSpec,
                      state_leaves: List[Any]) -> List[Any]:
    """`get_initial_state(batch_size)`; with a fixed `exported_batch_size` (not None)
    its input must equal it."""

    def initial_state(batch_size: tf.Tensor) -> Any:
        if exported_batch_size is None:
            return policy.get_initial_state(batch_size)
        tf.debugging.assert_equal(
            batch_size, exported_batch_size,
            message=f"this policy was exported for batch_size={exported_batch_size}")
        return policy.get_initial_state(exported_batch_size)

    batch_spec = tf.TensorSpec([], tf.int32, name="batch_size")
    nested = tf.function(initial_state, input_signature=[batch_spec], autograph=False)
    module.get_initial_state = nested

    def flat_fn(batch_size: tf.Tensor) -> Dict[str, tf.Tensor]:
        state = _nests.flat_like(state_spec, initial_state(batch_size))
        return {leaf.name: t for leaf, t in zip(state_leaves, state)}

    flat = tf.function(flat_fn, input_signature=[batch_spec],
                       autograph=False).get_concrete_function()
    signatures["get_initial_state"] = flat
    descriptions["get_initial_state"] = {
        "inputs": [{"name": "batch_size", "path": "batch_size", "shape": [], "dtype": "int32"}],
        "outputs": _signatures.describe(state_leaves)}
    return [nested.get_concrete_function(), flat]


def add_train_step_and_metadata(module: tf.Module, signatures: Dict[str, Any],
                                descriptions: Dict[str, Any], train_step: tf.Variable,
                                metadata: Dict[str, Any]) -> List[Any]:
    """`get_train_step()` (the variable as int64) and `get_metadata()` (name -> tensor)."""

    def get_train_step() -> tf.Tensor:
        return tf.cast(train_step, tf.int64)

    def get_metadata() -> Dict[str, tf.Tensor]:
        return {name: tf.identity(value) for name, value in metadata.items()}

    concrete = []
    for name, fn in (("get_train_step", get_train_step), ("get_metadata", get_metadata)):
        nested = tf.function(fn, input_signature=[], autograph=False)
        setattr(module, name, nested)
        concrete.append(nested.get_concrete_function())
    flat_train_step = tf.function(lambda: {"train_step": get_train_step()}, input_signature=[],
                                  autograph=False).get_concrete_function()
    signatures["get_train_step"] = flat_train_step
    signatures["get_metadata"] = concrete[1]
    descriptions["get_train_step"] = {"inputs": [], "outputs": [
        {"name": "train_step", "path": "train_step", "shape": [], "dtype": "int64"}]}
    descriptions["get_metadata"] = {"inputs": [], "outputs": [
        {"name": name, "path": name, "shape": value.shape.as_list(),
         "dtype": value.dtype.name} for name, value in sorted(metadata.items())]}
    return concrete + [flat_train_step]
