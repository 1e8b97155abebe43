"""The JSON files beside an export and a checkpoint: `policy_specs.json` and
`policy_checkpoint.json`, their names and format tags.

policy_specs.json (`"format": "tfpolicy.policy_export"`, version 1)::

  {"format", "version", "policy_class", "batch_size", "use_nest_path_signatures",
   "time_step_spec", "action_spec", "policy_state_spec", "info_spec":
       spec nests (savers.spec_json),
   "signatures": {name: {"inputs": [leaf], "outputs": [leaf]}},
       leaf = {"name", "path", "shape", "dtype"}, in the nests' flat (dm-tree) order,
   "distribution": {"exported": bool, "note": str or null,
                    "parameters": [{"name", "action_path", "parameter", "distribution",
                                    "event_ndims", "shift" (Categorical only)}]},
   "model_variables": [{"name", "shape", "dtype"}],
   "metadata": {"names": [...], "variables": [names of variable-backed entries]},
   "action_used_inputs": [positions in the action signature's inputs] (only when
       the step leaves some inputs unread: the inputs of the `action_used` function)}

A distribution parameter's "action_path" is '' for a single action leaf.

policy_checkpoint.json (`"format": "tfpolicy.policy_checkpoint"`, version 1)::

  {"format", "version", "policy_class",
   "model_variables": [{"name", "shape", "dtype"}],
   "train_step": {"name", "shape", "dtype"},
   "metadata_variables": [names of variable-backed metadata entries]}

>>> import tensorflow as tf
>>> variable_entry(tf.Variable(tf.zeros([2, 3]), name="w"))
{'name': 'w:0', 'shape': [2, 3], 'dtype': 'float32'}
"""

import pathlib
from typing import Any, Dict, List, Optional

import tensorflow as tf

from savers import spec_json
from specs import NestedTensorSpec

__all__ = [
    "SPECS_FILE",
    "CHECKPOINT_FILE",
    "EXPORT_FORMAT",
    "CHECKPOINT_FORMAT",
    "FORMAT_VERSION",
    "variable_entry",
    "is_export",
    "is_checkpoint",
    "export_document",
    "checkpoint_document",
]

SPECS_FILE = "policy_specs.json"
CHECKPOINT_FILE = "policy_checkpoint.json"
EXPORT_FORMAT = "tfpolicy.policy_export"
CHECKPOINT_FORMAT = "tfpolicy.policy_checkpoint"
FORMAT_VERSION = 1


def variable_entry(variable: tf.Variable) -> Dict[str, Any]:
    """`{"name", "shape", "dtype"}` of a variable."""
    return {"name": variable.name, "shape": variable.shape.as_list(),
            "dtype": variable.dtype.name}


def is_export(path: pathlib.Path) -> bool:
    """Whether `path` holds an export (which a new export may replace)."""
    return (path / SPECS_FILE).exists() or (path / "saved_model.pb").exists()


def is_checkpoint(path: pathlib.Path) -> bool:
    """Whether `path` holds a checkpoint and not an export."""
    return (path / CHECKPOINT_FILE).exists() and not (path / "saved_model.pb").exists()


def export_document(*, policy_class: str, batch_size: Optional[int],
                    use_nest_paths: bool, time_step_spec: NestedTensorSpec,
                    action_spec: NestedTensorSpec, policy_state_spec: NestedTensorSpec,
                    info_spec: NestedTensorSpec, signatures: Dict[str, Any],
                    distribution_note: Optional[str],
                    distribution_parameters: List[Dict[str, Any]],
                    model_variables: List[tf.Variable], metadata_names: List[str],
                    metadata_variable_names: List[str],
                    action_used_inputs: Optional[List[int]] = None) -> Dict[str, Any]:
    """The content of `policy_specs.json` (see the module docstring)."""
    document = {
        "format": EXPORT_FORMAT,
        "version": FORMAT_VERSION,
        "policy_class": policy_class,
        "batch_size": batch_size,
        "use_nest_path_signatures": use_nest_paths,
        "time_step_spec": spec_json.encode(time_step_spec),
        "action_spec": spec_json.encode(action_spec),
        "policy_state_spec": spec_json.encode(policy_state_spec),
        "info_spec": spec_json.encode(info_spec),
        "signatures": signatures,
        "distribution": {"exported": distribution_note is None,
                         "note": distribution_note,
                         "parameters": distribution_parameters},
        "model_variables": [variable_entry(v) for v in model_variables],
        "metadata": {"names": metadata_names,
                     "variables": metadata_variable_names},
    }
    if action_used_inputs is not None:
        document["action_used_inputs"] = list(action_used_inputs)
    return document


def checkpoint_document(*, policy_class: str, model_variables: List[tf.Variable],
                        train_step: tf.Variable,
                        metadata_variable_names: List[str]) -> Dict[str, Any]:
    """The content of `policy_checkpoint.json` (see the module docstring)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "version": FORMAT_VERSION,
        "policy_class": policy_class,
        "model_variables": [variable_entry(v) for v in model_variables],
        "train_step": variable_entry(train_step),
        "metadata_variables": metadata_variable_names,
    }
