"""Tracing a `TFPolicy` into the functions a LiteRT model holds, and converting them.

`LiteFunctions(policy, batch_size)` traces:

- `action`: a dict of named inputs -> a dict of named outputs (names from
  `savers._signatures`, nest paths). Inputs the traced graph never reads
  are left out (each costs a `set_tensor` per step in the runtime); they are
  listed in `unused_inputs` and fed as zeros inside the function
  (`tfpolicy.policies.input_pruning`; the policy is traced once).
- `action_flat`: the same step with the kept inputs as positional arguments
  and the outputs as a list in output-leaf order, for the quick re-conversion
  of `LitePyPolicy.update_from_policy` (no SavedModel round trip).
- `get_initial_state` (policies with a state only): int32 scalar
  `batch_size` -> the named state leaves.

`convert_signatures` makes a flatbuffer with the signatures `action` (and
`get_initial_state`) through a temporary SavedModel; `convert_flat` converts
`action_flat` alone without one (about three times faster, no signature
defs: inputs keep their names, outputs are `Identity`, `Identity_1`, ... in
list order). Both freeze the variables' current values into constants.

A conversion that needs ops the LiteRT builtins lack raises
`LiteConversionError` naming them.

>>> unsupported_ops("'tf.Svd' op is neither a custom op nor a flex op\\nx 'tf.Svd' op")
['Svd']
"""

import logging
import re
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import tensorflow as tf
import tree

from savers import _nests
from savers import _signatures
from savers._signatures import FlatLeaf
from tfpolicy.policies.input_pruning import prune_unused_inputs
from tfpolicy.policies.tf_policy import TFPolicy

__all__ = ["LiteConversionError", "LiteFunctions", "name_leaves", "leaf_pairs", "unsupported_ops", "convert_signatures",
           "convert_flat"]

_STATE = "state"
_UNSUPPORTED = re.compile(r"'tf\.([A-Za-z0-9_]+)' op is neither a custom op nor a flex op")
_UNSUPPORTED_LIST = re.compile(r"Ops that need custom implementation \(enabled via setting the "
                               r"-emit-custom-ops flag\):\s*([^\n]*)")


class LiteConversionError(ValueError):
    """The policy uses TensorFlow ops that the LiteRT builtin op set lacks (named in the
    message and in `ops`), or the converter failed for another reason."""

    def __init__(self, message: str, ops: Sequence[str] = ()):
        super().__init__(message)
        self.ops = list(ops)


def unsupported_ops(message: str) -> List[str]:
    """The TensorFlow op names a converter error message reports as unsupported."""
    found = set(_UNSUPPORTED.findall(message))
    for listed in _UNSUPPORTED_LIST.findall(message):
        found.update(re.findall(r"tf\.([A-Za-z0-9_]+)", listed))
    return sorted(found)


def name_leaves(time_step_spec: Any, policy_state_spec: Any, action_spec: Any, info_spec: Any,
                outer: Tuple[Optional[int], ...]) -> Tuple[List[FlatLeaf], List[FlatLeaf],
                                                           List[FlatLeaf]]:
    """`(input leaves, state leaves, output leaves)` named by nest path (tensor specs)."""
    state_leaves = _signatures.flat_leaves([((_STATE,), policy_state_spec)], True, outer)
    state_names = [leaf.name for leaf in state_leaves]
    input_leaves = _signatures.flat_leaves(
        [((), time_step_spec)], True, outer, reserved=state_names) + state_leaves
    action_leaves = _signatures.flat_leaves(
        [(("action",), action_spec)], True, outer, reserved=state_names)
    info_leaves = _signatures.flat_leaves(
        [(("info",), info_spec)], True, outer,
        reserved=state_names + [leaf.name for leaf in action_leaves])
    return input_leaves, state_leaves, action_leaves + state_leaves + info_leaves


class LiteFunctions:
    """The traced functions of one policy at one batch size (see the module docstring).

    Args:
      policy: the policy.
      batch_size: the outer dim of every leaf; None for any batch size.

    Attributes:
      input_leaves: every input leaf of the step (time step then state), named.
      used_inputs: the input leaves the `action` functions take.
      unused_inputs: the others (never read by the graph).
      state_leaves, output_leaves: named state and output leaves.
      action, action_flat, get_initial_state: concrete functions (the last is
        None for a policy without a state).
    """

    def __init__(self, policy: TFPolicy, batch_size: Optional[int]):
        self.policy = policy
        self.input_leaves, self.state_leaves, self.output_leaves = name_leaves(
            policy.time_step_spec, policy.policy_state_spec, policy.action_spec,
            policy.info_spec, (batch_size,))
        self._in_spec = (policy.time_step_spec, policy.policy_state_spec)
        self._step_spec = policy.policy_step_spec
        self._step, used, _ = prune_unused_inputs(
            self._flat_step, [leaf.spec for leaf in self.input_leaves], outer_rank=1)
        self.used_inputs = [self.input_leaves[i] for i in used]
        self.unused_inputs = [leaf for i, leaf in enumerate(self.input_leaves) if i not in used]
        self.action = tf.function(
            self._named_action, input_signature=[{leaf.name: leaf.spec for leaf in
                                                  self.used_inputs}],
            autograph=False).get_concrete_function()
        self.action_flat = tf.function(
            self._flat_action, input_signature=[leaf.spec for leaf in self.used_inputs],
            autograph=False).get_concrete_function()
        self.get_initial_state = None
        if self.state_leaves:
            self.get_initial_state = tf.function(
                self._initial_state,
                input_signature=[tf.TensorSpec([], tf.int32, "batch_size")],
                autograph=False).get_concrete_function()

    @property
    def concrete_functions(self) -> List[Any]:
        """`[action]`, plus `get_initial_state` for a policy with a state."""
        return [self.action] + ([self.get_initial_state] if self.get_initial_state else [])

    def _flat_step(self, *flat: tf.Tensor) -> List[tf.Tensor]:
        time_step, policy_state = tree.unflatten_as(self._in_spec, list(flat))
        return _nests.flat_like(self._step_spec, self.policy.action(time_step, policy_state))

    def _flat_action(self, *kept: tf.Tensor) -> List[tf.Tensor]:
        return [tf.identity(t) for t in self._step(*kept)]

    def _named_action(self, inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        outputs = self._step(*[inputs[leaf.name] for leaf in self.used_inputs])
        return {leaf.name: t for leaf, t in zip(self.output_leaves, outputs)}

    def _initial_state(self, batch_size: tf.Tensor) -> Dict[str, tf.Tensor]:
        state = self.policy.get_initial_state(batch_size)
        return {leaf.name: tf.convert_to_tensor(t) for leaf, t in
                zip(self.state_leaves, _nests.flat_like(self.policy.policy_state_spec, state))}

    def variables(self) -> List[tf.Variable]:
        """Every variable the traced functions read (frozen into the model)."""
        seen, out = set(), []
        for fn in self.concrete_functions + [self.action_flat]:
            for variable in fn.variables:
                if id(variable) not in seen:
                    seen.add(id(variable))
                    out.append(variable)
        return out


def _run_converter(converter: Any, what: str) -> bytes:
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        return converter.convert()
    except Exception as e:  # noqa: BLE001 -- re-raised with the op names extracted
        ops = unsupported_ops(str(e))
        if ops:
            raise LiteConversionError(
                f"{what} uses TensorFlow ops that the LiteRT builtin op set does not have: "
                f"{ops}. Export a policy without them (a network built from dense, conv, "
                "recurrent and elementwise layers converts), or run it with "
                "PyTFEagerPolicy", ops) from None
        raise LiteConversionError(f"converting {what} to LiteRT failed: "
                                  f"{type(e).__name__}: {e}") from e


class _QuietConverter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("trackable_obj" in message or "is not a valid tf.function parameter"
                    in message or "Assets written to" in message)


_QUIET = _QuietConverter()


def convert_signatures(functions: LiteFunctions, what: str) -> bytes:
    """The flatbuffer with the signatures `action` and (for a state) `get_initial_state`.

    Raises:
      LiteConversionError: unsupported ops (named) or another converter failure.
    """
    module = tf.Module(name="lite_policy")
    module.model_variables = functions.variables()  # what the SavedModel step must keep
    signatures = {"action": functions.action}
    if functions.get_initial_state is not None:
        signatures["get_initial_state"] = functions.get_initial_state
    loggers = [logging.getLogger("absl"), tf.get_logger()]
    for logger in loggers:
        logger.addFilter(_QUIET)
    try:
        with tempfile.TemporaryDirectory(prefix="tfpolicy_lite_") as tmp:
            tf.saved_model.save(module, tmp, signatures=signatures)
            converter = tf.lite.TFLiteConverter.from_saved_model(
                tmp, signature_keys=list(signatures))
            return _run_converter(converter, what)
    finally:
        for logger in loggers:
            logger.removeFilter(_QUIET)


def convert_flat(functions: LiteFunctions, what: str) -> bytes:
    """The flatbuffer of `action_flat` alone (no signature defs; see the module docstring).

    Raises:
      LiteConversionError: unsupported ops (named) or another converter failure.
    """
    logger = logging.getLogger("absl")
    logger.addFilter(_QUIET)
    tf_logger = tf.get_logger()
    tf_logger.addFilter(_QUIET)
    try:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([functions.action_flat])
        return _run_converter(converter, what)
    finally:
        logger.removeFilter(_QUIET)
        tf_logger.removeFilter(_QUIET)


def leaf_pairs(leaves: Sequence[FlatLeaf]) -> List[Tuple[str, List[Optional[int]], str]]:
    """`(name, shape, dtype)` of named leaves."""
    return [(leaf.name, leaf.spec.shape.as_list(), leaf.spec.dtype.name) for leaf in leaves]
