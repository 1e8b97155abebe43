"""What `tfpolicy inspect PATH` reports about an export, as data and as text.

PATH is a SavedModel export directory (`PolicySaver.save`) or a LiteRT
export's `.tflite` file (`export_lite`; its specs and signatures, read from
the sidecar JSON). `inspect_path` builds the report of either,
`inspect_export` that of a SavedModel export, and `format_report` its
readable text; the command itself lives in `tfpolicy.cli`.

`saved_model_cli show` lists TensorFlow's view of a SavedModel (signature
keys, `DT_FLOAT`, `(-1, 4)`); `tfpolicy inspect` lists what a user of the
policy needs: the time step, action, state and info specs by nest path with
dtypes, shapes, bounds and spec names; each signature's flat inputs and
outputs; the `distribution` signature's parameters (or why it was not
exported); the model variables; and the train step and metadata values,
read by loading the SavedModel and calling `get_train_step` and
`get_metadata`. `tfpolicy inspect --json` prints the same report as JSON;
`--specs-only` (`load_saved_model=False`) reads `policy_specs.json` alone
(no SavedModel load, so no train step or metadata values).

Shortened output for a greedy Q policy::

  Export           /tmp/policy
  Format           tfpolicy.policy_export, version 1
  Policy           GreedyPolicy
  Batch size       any
  Train step       1200
  Signature names  nest paths

  Metadata
    name       dtype  shape  kind      value
    env_steps  int32  []     constant  1000

  Specs (one item: no batch dim)
    time_step_spec
      path         dtype    shape  bounds      spec name
      step_type    int32    []                 step_type
      reward       float32  []                 reward
      discount     float32  []     [0.0, 1.0]  discount
      observation  float32  [4]                observation
    action_spec
      path    dtype  shape  bounds  spec name
      action  int32  []     [0, 1]  action
  (signatures, metadata and variables follow)

>>> import tempfile
>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from savers.policy_saver import PolicySaver
>>> from tfpolicy.policies import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = FixedPolicy(1, ts.time_step_spec(TensorSpec([3], tf.float32, "obs")),
...                      BoundedTensorSpec([], tf.int32, 0, 2, "move"))
>>> export_dir = tempfile.mkdtemp() + "/policy"
>>> PolicySaver(policy, metadata={"env_steps": 1000}).save(export_dir)
>>> report = inspect_export(export_dir)
>>> report["specs"]["action_spec"]
[{'path': 'action', 'name': 'move', 'dtype': 'int32', 'shape': [], 'minimum': 0, 'maximum': 2}]
>>> report["train_step"], report["metadata"][0]["value"]
(-1, 1000)
>>> try:
...     inspect_path(tempfile.mkdtemp() + "/missing")
... except FileNotFoundError as e:
...     print(str(e).rsplit(": ", 1)[1])
the directory does not exist
"""

import math
import os
import pathlib
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import tree

from savers import _lite_report
from savers import _loading
from savers import spec_json
from savers.policy_saver import CHECKPOINT_FILE
from specs import NestedTensorSpec
from specs import nest_utils

__all__ = ["format_report", "inspect_export", "inspect_path"]

PathLike = Union[str, "os.PathLike[str]"]

# Each spec nest with the root its leaves' paths start from, as the signatures name them.
_SPEC_ROOTS = (("time_step_spec", ()), ("action_spec", ("action",)),
               ("policy_state_spec", ("state",)), ("info_spec", ("info",)))
_MAX_ELEMENTS = 8  # longer arrays (bounds, metadata values) are elided in the text report


# ---- the report -----------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """A JSON-ready form of a numpy value: lists for arrays, str for bytes,
    'inf'/'-inf'/'nan' for non-finite floats (as `policy_specs.json` writes bounds)."""
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value] if value.ndim else _json_value(value[()])
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _spec_leaves(nest: NestedTensorSpec, root: Tuple[str, ...]) -> List[Dict[str, Any]]:
    leaves = []
    for path, spec in tree.flatten_with_path(nest):
        node = spec_json.encode(spec)
        leaves.append({"path": nest_utils.path_to_str((*root, *path)),
                       "name": node["name"], "dtype": node["dtype"], "shape": node["shape"],
                       "minimum": node.get("minimum"), "maximum": node.get("maximum")})
    return leaves


def _signature_leaves(leaves: Sequence[_loading.SignatureLeaf]) -> List[Dict[str, Any]]:
    return [{"name": leaf.name, "path": leaf.path, "dtype": leaf.dtype.name,
             "shape": None if leaf.shape is None else list(leaf.shape)} for leaf in leaves]


def _not_an_export_hint(path: pathlib.Path) -> None:
    """Raises a clearer error than the loader's for a checkpoint directory."""
    if (path / CHECKPOINT_FILE).exists() and not (path / "saved_model.pb").exists():
        raise ValueError(
            f"{path} is a checkpoint (written by PolicySaver.save_checkpoint), not an export: it "
            "holds variable values only; inspect the export directory it belongs to")


def inspect_export(path: PathLike, load_saved_model: bool = True) -> Dict[str, Any]:
    """Everything `tfpolicy inspect` reports about an export, as JSON-ready values.

    Args:
      path: an export directory written by `PolicySaver.save`.
      load_saved_model: load the SavedModel to read the train step and the
        metadata values (False: `policy_specs.json` only; both are None).

    Returns:
      A dict: 'path', 'format', 'version', 'policy_class', 'batch_size' (None
      for any), 'use_nest_path_signatures', 'train_step', 'metadata' (a list
      of {'name', 'dtype', 'shape', 'kind' ('variable' or 'constant'),
      'value'}), 'specs' ({'time_step_spec', 'action_spec',
      'policy_state_spec', 'info_spec'}: lists of leaves {'path', 'name',
      'dtype', 'shape', 'minimum', 'maximum'}; unbatched shapes; bounds as
      `policy_specs.json` writes them, None when unbounded), 'signatures'
      (name -> {'inputs', 'outputs'}: lists of {'name', 'path', 'dtype',
      'shape'}; shapes with the batch dim, None = any size), 'distribution'
      ({'exported', 'note', 'parameters'}), 'model_variables' (a list of
      {'name', 'dtype', 'shape'}) and 'num_parameters'.

    Raises:
      FileNotFoundError, NotADirectoryError: there is no export at `path`.
      ValueError: `path` is a checkpoint, or the export is corrupt, truncated
        or of another format (the message says which file and why).
    """
    directory = pathlib.Path(os.fspath(path))
    _not_an_export_hint(directory)
    if load_saved_model:
        loaded = _loading.load(directory)
        specs = loaded.policy_specs
    else:
        specs = _loading.load_specs(directory)
    document = specs.document
    metadata_types = {leaf.name: leaf for leaf in specs.signatures["get_metadata"][1]}
    variable_names = set(document.get("metadata", {}).get("variables", ()))
    values: Dict[str, Any] = {}
    train_step = None
    if load_saved_model:
        train_step = int(loaded.get_train_step().numpy())
        values = {name: _json_value(t.numpy()) for name, t in loaded.get_metadata().items()}
    metadata = []
    for name in specs.metadata_names:
        leaf = metadata_types.get(name)
        metadata.append({
            "name": name, "dtype": leaf.dtype.name if leaf else None,
            "shape": list(leaf.shape) if leaf and leaf.shape is not None else None,
            "kind": "variable" if name in variable_names else "constant",
            "value": values.get(name)})
    model_variables = [{"name": name, "dtype": dtype, "shape": list(shape)}
                       for name, shape, dtype in specs.model_variables]
    return {
        "path": os.fspath(directory),
        "format": document.get("format"),
        "version": document.get("version"),
        "policy_class": specs.policy_class,
        "batch_size": specs.batch_size,
        "use_nest_path_signatures": document.get("use_nest_path_signatures"),
        "train_step": train_step,
        "metadata": metadata,
        "specs": {key: _spec_leaves(getattr(specs, key), root) for key, root in _SPEC_ROOTS},
        "signatures": {name: {"inputs": _signature_leaves(inputs),
                              "outputs": _signature_leaves(outputs)}
                       for name, (inputs, outputs) in specs.signatures.items()},
        "distribution": {"exported": specs.distribution_note is None,
                         "note": specs.distribution_note,
                         "parameters": [dict(p) for p in specs.distribution_parameters]},
        "model_variables": model_variables,
        "num_parameters": int(sum(math.prod(v["shape"]) for v in model_variables)),
    }


def inspect_path(path: PathLike, load_saved_model: bool = True) -> Dict[str, Any]:
    """The report of whatever export `path` names: a LiteRT `.tflite` file or a SavedModel.

    Args:
      path: a LiteRT export file (`export_lite`; its sidecar JSON beside it)
        or an export directory (`PolicySaver.save`).
      load_saved_model: for a SavedModel export, as in `inspect_export`.

    Returns:
      For a SavedModel export, `inspect_export`'s dict. For a LiteRT export,
      a dict with 'path', 'kind' ('litert'), 'format', 'version',
      'policy_class', 'batch_size', 'action_mode', 'size_bytes', 'sha256',
      'specs' (as `inspect_export`'s) and 'signatures' (name -> {'inputs',
      'outputs', 'unused_inputs'}).

    Raises:
      FileNotFoundError, NotADirectoryError: there is no export at `path`
        (for a LiteRT file: the file or its sidecar is missing).
      ValueError: as `inspect_export`; for a LiteRT file, a foreign sidecar
        or one that does not describe the file.
    """
    if _lite_report.is_lite_export(path):
        return _lite_report.inspect_lite(path, _spec_leaves, _SPEC_ROOTS)
    return inspect_export(path, load_saved_model=load_saved_model)


# ---- text -----------------------------------------------------------------------------------


def _scalar(x: Any) -> str:
    if isinstance(x, float):
        text = f"{x:.6g}"
        return text if any(c in text for c in ".en") else text + ".0"
    return str(x)


def _value(x: Any, quote: bool = False) -> str:
    """A JSON-ready value as text; lists longer than `_MAX_ELEMENTS` are elided."""
    if isinstance(x, list):
        items = [_value(v, quote) for v in x[:_MAX_ELEMENTS]]
        if len(x) > _MAX_ELEMENTS:
            items.append(f"... ({len(x)} in all)")
        return "[" + ", ".join(items) + "]"
    if quote and isinstance(x, str):
        return repr(x)
    return _scalar(x)


def _shape(shape: Optional[List[Optional[int]]]) -> str:
    if shape is None:
        return "unknown rank"
    return "[" + ", ".join("None" if d is None else str(d) for d in shape) + "]"


def _bounds(leaf: Dict[str, Any]) -> str:
    low, high = leaf["minimum"], leaf["maximum"]
    if low is None and high is None:
        return ""
    if not isinstance(low, list) and not isinstance(high, list):
        return f"[{_value(low)}, {_value(high)}]"
    return f"min {_value(low)}, max {_value(high)}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str) -> List[str]:
    """Left-aligned columns two spaces apart, a header line first."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    return [(indent + "  ".join(str(c).ljust(w) for c, w in zip(row, widths))).rstrip()
            for row in [headers, *rows]]


def _spec_section(report: Dict[str, Any]) -> List[str]:
    lines = ["Specs (one item: no batch dim)"]
    for key, _ in _SPEC_ROOTS:
        leaves = report["specs"][key]
        lines.append(f"  {key}")
        if not leaves:
            lines.append("    (empty)")
            continue
        lines += _table(("path", "dtype", "shape", "bounds", "spec name"),
                        [(l["path"], l["dtype"], _shape(l["shape"]), _bounds(l),
                          l["name"] if l["name"] is not None else "-") for l in leaves], "    ")
    return lines


def _leaf_table(leaves: List[Dict[str, Any]], indent: str) -> List[str]:
    with_path = any(leaf["path"] != leaf["name"] for leaf in leaves)
    headers: Tuple[str, ...] = ("name", "dtype", "shape") + (("path",) if with_path else ())
    rows = [(l["name"], l["dtype"], _shape(l["shape"])) + ((l["path"],) if with_path else ())
            for l in leaves]
    return _table(headers, rows, indent)


def _signature_section(report: Dict[str, Any]) -> List[str]:
    lines = ["Signatures (flat dicts of tensors; shapes include the batch dim, None = any size)"]
    for name, entry in report["signatures"].items():
        lines.append(f"  {name}")
        for side in ("inputs", "outputs"):
            if entry[side]:
                lines.append(f"    {side}")
                lines += _leaf_table(entry[side], "      ")
            else:
                lines.append(f"    {side}: none")
    return lines


def _distribution_section(report: Dict[str, Any]) -> List[str]:
    distribution = report["distribution"]
    if not distribution["exported"]:
        return [f"Distribution: not exported: {distribution['note']}"]
    rows = []
    for p in distribution["parameters"]:
        extra = [f"event dims {p['event_ndims']}"] if p.get("event_ndims") else []
        if p.get("shift"):
            extra.append(f"index k is action {p['shift']} + k")
        action_path = p.get("action_path")
        rows.append((p["name"], f"action/{action_path}" if action_path else "action",
                     p.get("distribution", ""), p.get("parameter", ""), "; ".join(extra)))
    return (["Distribution (outputs of the 'distribution' signature)"]
            + _table(("output", "action", "distribution", "parameter", "notes"), rows, "  "))


def _metadata_section(report: Dict[str, Any]) -> List[str]:
    if not report["metadata"]:
        return ["Metadata: none"]
    rows = [(m["name"], m["dtype"] or "?", _shape(m["shape"]), m["kind"],
             "(not loaded)" if m["value"] is None else _value(m["value"], m["dtype"] == "string"))
            for m in report["metadata"]]
    return ["Metadata"] + _table(("name", "dtype", "shape", "kind", "value"), rows, "  ")


def _variables_section(report: Dict[str, Any]) -> List[str]:
    variables = report["model_variables"]
    head = f"Model variables ({len(variables)}, {report['num_parameters']:,} parameters)"
    if not variables:
        return [head]
    return [head] + _table(("name", "dtype", "shape"),
                           [(v["name"], v["dtype"], _shape(v["shape"])) for v in variables], "  ")


def _format_lite_report(report: Dict[str, Any]) -> str:
    batch = report["batch_size"]
    header = _table(("LiteRT export", report["path"]), [
        ("Format", f"{report['format']}, version {report['version']}"),
        ("Policy", report["policy_class"]),
        ("Batch size", "any" if batch is None else str(batch)),
        ("Actions", "sampled in the model" if report["action_mode"] == "graph"
         else str(report["action_mode"])),
        ("Size", f"{report['size_bytes']:,} bytes, sha256 {report['sha256'][:16]}..."),
    ], "")
    signatures = _signature_section(report)
    for name, entry in report["signatures"].items():
        if entry["unused_inputs"]:
            unused = ", ".join(leaf["name"] for leaf in entry["unused_inputs"])
            signatures.append(f"  {name}: not model inputs (never read): {unused}")
    sections = [header, _spec_section(report), signatures]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def format_report(report: Dict[str, Any]) -> str:
    """The readable text of an `inspect_export` report: aligned columns, one
    section each for the header, metadata, specs, signatures, distribution
    and model variables (a LiteRT report: header, specs and signatures)."""
    if report.get("kind") == "litert":
        return _format_lite_report(report)
    batch = report["batch_size"]
    train_step = report["train_step"]
    header = _table(("Export", report["path"]), [
        ("Format", f"{report['format']}, version {report['version']}"),
        ("Policy", report["policy_class"]),
        ("Batch size", "any" if batch is None else str(batch)),
        ("Train step", "(not loaded)" if train_step is None else (
            f"{train_step} (none given at export)" if train_step == -1 else str(train_step))),
        ("Signature names", "nest paths" if report["use_nest_path_signatures"]
         else "spec names where unique, else nest paths"),
    ], "")
    sections = [header, _metadata_section(report), _spec_section(report),
                _signature_section(report), _distribution_section(report),
                _variables_section(report)]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"
