"""The per-step functions of a loaded export, shared by the policies that serve one.

`SavedModelPyTFEagerPolicy` (numpy side) and `LoadedPolicy` (TensorFlow side)
call the same exported functions the same way:

- `action_function(loaded)`: the `action` step as a function of the flat
  inputs (positional, in the signature's order: time step leaves, then state
  leaves, each with the outer batch dim) returning the flat outputs
  (`action`, `state`, `info` leaves, in the `PolicyStep` spec's flat order).
  When the export says which inputs the step reads (`action_used_inputs`), the
  others are never converted or passed.
- `initial_state(loaded, batch_size)`: the exported initial state's flat
  leaves, `[batch_size] + shape` each.
- `ServedExport`: the `loaded_model`, `policy_specs` and
  `update_from_checkpoint` of a policy that serves a loaded export.
- `state_names(specs)`: the `get_initial_state` signature's output names.
- `distributions(entries, parameters, action_spec)`: the `tfp` distributions
  a `distribution` signature's parameter outputs describe (the inverse of
  `savers._distribution_parameters.distribution_parameters`).

>>> concrete(len) is len  # a plain callable passes through
True
"""

import os
from typing import Any, Callable, Dict, List, Mapping, Sequence, Union

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from savers import _signatures
from savers import _loading
from savers._loading import PolicySpecs
from tfpolicy.distributions import ShiftedCategorical
from tfpolicy.policies.input_pruning import select_inputs

__all__ = ["ServedExport", "concrete", "action_function", "state_names", "initial_state",
           "distributions"]

tfd = tfp.distributions


class ServedExport:
    """Mixin of the policies that serve a loaded export held as `self._loaded`."""

    _loaded: Any

    @property
    def loaded_model(self) -> Any:
        """The loaded SavedModel (signatures, nested functions, variables)."""
        return self._loaded

    @property
    def policy_specs(self) -> PolicySpecs:
        """Everything `policy_specs.json` says about the export."""
        return self._loaded.policy_specs

    def update_from_checkpoint(self, checkpoint_path: Union[str, "os.PathLike[str]"]) -> None:
        """Assigns a checkpoint's variables to the served model, all or nothing
        (see `savers.policy_loader.restore_checkpoint`)."""
        _loading.restore_checkpoint(self._loaded, checkpoint_path)


def concrete(function: Any) -> Any:
    """A restored `tf.function`'s one concrete function; a restored concrete function as it is."""
    get = getattr(function, "get_concrete_function", None)
    return function if get is None else get()


def action_function(loaded: Any) -> Callable[..., Sequence[Any]]:
    """The exported `action` step, flat inputs in and flat outputs out (see the module
    docstring); the inputs it never reads are dropped before the call."""
    specs: PolicySpecs = loaded.policy_specs
    used = specs.document.get("action_used_inputs")
    if used is not None and hasattr(loaded, "action_used"):
        return select_inputs(loaded.action_used, used, len(specs.signatures["action"][0]))
    return concrete(loaded.action_flat)


def state_names(specs: PolicySpecs) -> List[str]:
    """The state leaves' names in the signatures, in the state spec's flat order."""
    return [leaf.name for leaf in specs.signatures["get_initial_state"][1]]


def initial_state(loaded: Any, batch_size: Union[int, tf.Tensor]) -> List[tf.Tensor]:
    """The exported initial state's flat leaves, each `[batch_size] + shape`.

    Args:
      loaded: what `savers.load` returned.
      batch_size: an int or an integer scalar tensor.
    """
    names = state_names(loaded.policy_specs)
    if not names:
        return []
    with _signatures.quiet_argument_renaming():
        out = loaded.signatures["get_initial_state"](
            batch_size=tf.cast(tf.reshape(batch_size, []), tf.int32))
    return [out[name] for name in names]


def _distribution(entry: Mapping[str, Any], parameters: Dict[str, tf.Tensor],
                  spec: tf.TensorSpec) -> tfd.Distribution:
    kind = entry["distribution"]
    if kind == "Categorical":
        shift = int(entry.get("shift", 0))
        logits = parameters["logits"]
        inner = (ShiftedCategorical(logits=logits, shift=shift, dtype=spec.dtype) if shift
                 else tfd.Categorical(logits=logits, dtype=spec.dtype))
    elif kind == "Deterministic":
        inner = tfd.Deterministic(parameters["loc"])
    elif kind == "Normal":
        inner = tfd.Normal(parameters["loc"], parameters["scale"])
    elif kind == "Uniform":
        inner = tfd.Uniform(parameters["low"], parameters["high"])
    elif kind == "Bernoulli":
        inner = tfd.Bernoulli(logits=parameters["logits"], dtype=spec.dtype)
    else:
        raise ValueError(f"the export describes a {kind!r} distribution, which this library "
                         "cannot rebuild (exported with a newer library?)")
    event_ndims = int(entry.get("event_ndims", 0))
    return tfd.Independent(inner, reinterpreted_batch_ndims=event_ndims) if event_ndims \
        else inner


def distributions(entries: Sequence[Mapping[str, Any]], parameters: Sequence[tf.Tensor],
                  action_spec: Any) -> Any:
    """A nest like `action_spec` of the distributions an export's parameters describe.

    Args:
      entries: `PolicySpecs.distribution_parameters`, one per parameter output
        ('action_path', 'parameter', 'distribution', 'event_ndims', 'shift').
      parameters: the parameter tensors, in the order of `entries`; each
        `[..outer] + shape` (the outer dims become the batch shape).
      action_spec: the action spec.

    Returns:
      A nest like `action_spec` of `tfp` distributions (`Independent` where the
      export reinterpreted dims), each of batch shape `[..outer]`.
    """
    by_path: Dict[str, Dict[str, tf.Tensor]] = {}
    kinds: Dict[str, Mapping[str, Any]] = {}
    for entry, value in zip(entries, parameters):
        by_path.setdefault(entry["action_path"], {})[entry["parameter"]] = value
        kinds[entry["action_path"]] = entry
    leaves = []
    for path, spec in tree.flatten_with_path(action_spec):
        key = "/".join(str(c) for c in path)
        if key not in kinds:
            raise ValueError(f"the export's distribution has no parameters for the action at "
                             f"{key!r}")
        leaves.append(_distribution(kinds[key], by_path[key], spec))
    return tree.unflatten_as(action_spec, leaves)
