"""Loading exported policies as SavedModel modules and pushing checkpoints into them.

`savers.load`, `load_specs` and `restore_checkpoint` live here; the
TF-Agents-style `policy_loader.load`, which returns a numpy policy, builds
on them.

`load(saved_model_dir, checkpoint_path=None)` checks the export directory
before TensorFlow reads it, loads it, attaches the specs from
`policy_specs.json` as `loaded.policy_specs` (a `PolicySpecs`), and
optionally assigns a checkpoint's variables. `restore_checkpoint(loaded,
checkpoint_path)` assigns a checkpoint to an already loaded policy, which is
how a served policy gets new weights without a re-export.

Nothing is half-loaded: a missing, truncated or foreign directory raises
before anything is returned, and a checkpoint is read and checked whole
(every variable's presence, shape and dtype, and every value read into
memory) before the first variable is assigned, so a bad checkpoint leaves
the served weights as they were.

A checkpoint path is a directory written by `PolicySaver.save_checkpoint`,
an export directory (its `variables/` hold the same variables under the
same keys), or a checkpoint prefix (the path without `.index`).

>>> import tempfile
>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from savers.policy_saver import PolicySaver
>>> from tfpolicy.policies import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = FixedPolicy(1, ts.time_step_spec(TensorSpec([2], tf.float32, "obs")),
...                      BoundedTensorSpec([], tf.int32, 0, 3, "action"))
>>> export_dir = tempfile.mkdtemp() + "/policy"
>>> PolicySaver(policy, train_step=tf.Variable(5, dtype=tf.int64)).save(export_dir)
>>> loaded = load(export_dir)
>>> loaded.policy_specs.action_spec
BoundedTensorSpec(shape=(), dtype=tf.int32, name='action', minimum=0, maximum=3)
>>> int(loaded.get_train_step())
5
"""

import dataclasses
import json
import os
import pathlib
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from savers import spec_json
from savers.policy_saver import EXPORT_FORMAT, FORMAT_VERSION, SPECS_FILE
from specs import NestedTensorSpec
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["PolicySpecs", "SignatureLeaf", "checkpoint_prefix", "load", "load_specs",
           "restore_checkpoint"]

PathLike = Union[str, "os.PathLike[str]"]

_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
_VARIABLE_KEY = "{}/.ATTRIBUTES/VARIABLE_VALUE"
_LIST_KEY = re.compile(r"^(model_variables|metadata_variables)/(\d+)/\.ATTRIBUTES/VARIABLE_VALUE$")
_REQUIRED_SIGNATURES = ("action", "get_initial_state", "get_train_step", "get_metadata")


@dataclasses.dataclass(frozen=True)
class SignatureLeaf:
    """One flat input or output of a signature, as `policy_specs.json` lists it.

    Attributes:
      name: the signature key.
      path: the nest path ('observation/pos', 'state/0/1', 'info/log_probability').
      shape: the shape with the outer batch dim (None entries are unknown dims).
      dtype: the `tf.DType`.
    """

    name: str
    path: str
    shape: Optional[Tuple[Optional[int], ...]]
    dtype: tf.DType


@dataclasses.dataclass(frozen=True)
class PolicySpecs:
    """What an export takes and returns, read from its `policy_specs.json`.

    Attributes:
      time_step_spec, action_spec, policy_state_spec, info_spec: the policy's
        (unbatched) spec nests, with names and bounds.
      batch_size: the batch size the export takes; None for any.
      policy_class: the exported policy's class name.
      signatures: signature name -> `(inputs, outputs)`, each a tuple of
        `SignatureLeaf` in the nests' flat order.
      distribution_note: why `distribution` was not exported; None if it was.
      distribution_parameters: the `distribution` signature's parameters
        (dicts with 'name', 'action_path', 'parameter', 'distribution', ...).
      metadata_names: the keys `get_metadata` returns.
      model_variables: `(name, shape, dtype name)` of each saved model variable.
      document: the whole parsed JSON.
    """

    time_step_spec: TimeStep
    action_spec: NestedTensorSpec
    policy_state_spec: NestedTensorSpec
    info_spec: NestedTensorSpec
    batch_size: Optional[int]
    policy_class: str
    signatures: Mapping[str, Tuple[Tuple[SignatureLeaf, ...], Tuple[SignatureLeaf, ...]]]
    distribution_note: Optional[str]
    distribution_parameters: Tuple[Mapping[str, Any], ...]
    metadata_names: Tuple[str, ...]
    model_variables: Tuple[Tuple[str, Tuple[int, ...], str], ...]
    document: Mapping[str, Any] = dataclasses.field(repr=False, compare=False)

    @property
    def policy_step_spec(self) -> PolicyStep:
        return PolicyStep(self.action_spec, self.policy_state_spec, self.info_spec)


def _existing_dir(saved_model_dir: PathLike) -> pathlib.Path:
    path = pathlib.Path(os.fspath(saved_model_dir))
    if not path.exists():
        stale = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.exists() else []
        hint = (f"; an interrupted save left the previous export at {stale[0]}" if stale else "")
        raise FileNotFoundError(f"no exported policy at {path}: the directory does not exist{hint}")
    if not path.is_dir():
        raise NotADirectoryError(f"no exported policy at {path}: it is a file, not an export "
                                 "directory")
    return path


def _read_json(path: pathlib.Path, what: str) -> Dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is corrupt or truncated: it is not valid JSON ({e})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not {what}: expected a JSON object, got "
                         f"{type(document).__name__}")
    return document


def _leaves(entries: Any, where: str) -> Tuple[SignatureLeaf, ...]:
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a list of leaves, got {entries!r}")
    leaves = []
    for entry in entries:
        try:
            shape = entry["shape"]
            leaves.append(SignatureLeaf(str(entry["name"]), str(entry["path"]),
                                        None if shape is None else tuple(shape),
                                        tf.as_dtype(entry["dtype"])))
        except (KeyError, TypeError) as e:
            raise ValueError(f"{where}: malformed leaf {entry!r} ({type(e).__name__}: {e})") \
                from None
    return tuple(leaves)


def _specs_from_document(document: Dict[str, Any], source: pathlib.Path) -> PolicySpecs:
    if document.get("format") != EXPORT_FORMAT:
        raise ValueError(f"{source} is not a tfpolicy export description: its 'format' is "
                         f"{document.get('format')!r}, expected {EXPORT_FORMAT!r}")
    version = document.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{source} has format version {version!r}; this library reads versions "
                         f"up to {FORMAT_VERSION} (export with the same or an older library)")
    try:
        nests = {key: spec_json.decode(document[key]) for key in (
            "time_step_spec", "action_spec", "policy_state_spec", "info_spec")}
        signatures = {
            name: (_leaves(entry["inputs"], f"{source}: signature {name!r} inputs"),
                   _leaves(entry["outputs"], f"{source}: signature {name!r} outputs"))
            for name, entry in document["signatures"].items()}
        distribution = document["distribution"]
        model_variables = tuple(
            (v["name"], tuple(v["shape"]), v["dtype"]) for v in document["model_variables"])
        metadata_names = tuple(document["metadata"]["names"])
    except KeyError as e:
        raise ValueError(f"{source} is incomplete: missing {e}") from None
    except spec_json.SpecJSONError as e:
        raise ValueError(f"{source}: {e}") from None
    except (TypeError, AttributeError) as e:
        raise ValueError(f"{source} is malformed: {type(e).__name__}: {e}") from None
    if not isinstance(nests["time_step_spec"], TimeStep):
        raise ValueError(f"{source}: 'time_step_spec' is not a TimeStep nest")
    missing = [name for name in _REQUIRED_SIGNATURES if name not in signatures]
    if missing:
        raise ValueError(f"{source} lists no signatures {missing}")
    return PolicySpecs(
        time_step_spec=nests["time_step_spec"], action_spec=nests["action_spec"],
        policy_state_spec=nests["policy_state_spec"], info_spec=nests["info_spec"],
        batch_size=document.get("batch_size"), policy_class=str(document.get("policy_class")),
        signatures=signatures, distribution_note=distribution.get("note"),
        distribution_parameters=tuple(distribution.get("parameters", ())),
        metadata_names=metadata_names, model_variables=model_variables, document=document)


def load_specs(saved_model_dir: PathLike) -> PolicySpecs:
    """The specs and signature names of an export, from its `policy_specs.json`.

    Raises:
      FileNotFoundError: the directory, its SavedModel or its `policy_specs.json`
        is missing (a SavedModel without it was not written by `PolicySaver`).
      NotADirectoryError: the path is a file.
      ValueError: `policy_specs.json` is corrupt, truncated or of another format.
    """
    path = _existing_dir(saved_model_dir)
    if not any((path / name).exists() for name in _SAVED_MODEL_FILES):
        raise FileNotFoundError(
            f"no exported policy at {path}: saved_model.pb is missing (is it the export "
            "directory, and did the save finish?)")
    specs_file = path / SPECS_FILE
    if not specs_file.exists():
        raise FileNotFoundError(
            f"{path} holds a SavedModel without {SPECS_FILE}: it was not exported by "
            "savers.PolicySaver (or the file was removed), so its specs are unknown")
    return _specs_from_document(_read_json(specs_file, "a policy description"), specs_file)


def _check_loaded(loaded: Any, specs: PolicySpecs, path: pathlib.Path) -> None:
    problems = []
    for attribute in ("model_variables", "train_step", "metadata_variables", "action",
                      "get_initial_state"):
        if not hasattr(loaded, attribute):
            problems.append(f"the loaded object has no '{attribute}'")
    for name, (inputs, outputs) in specs.signatures.items():
        if name not in loaded.signatures:
            problems.append(f"signature {name!r} is missing")
            continue
        function = loaded.signatures[name]
        got_inputs = {spec.name for spec in function.structured_input_signature[1].values()}
        got_outputs = set(function.structured_outputs)
        if got_inputs != {leaf.name for leaf in inputs} or got_outputs != {
                leaf.name for leaf in outputs}:
            problems.append(
                f"signature {name!r} takes {sorted(got_inputs)} and returns "
                f"{sorted(got_outputs)}, but {SPECS_FILE} lists "
                f"{[leaf.name for leaf in inputs]} and {[leaf.name for leaf in outputs]}")
    if problems:
        raise ValueError(f"{path / SPECS_FILE} does not describe the SavedModel in {path}: "
                         + "; ".join(problems))


def load(saved_model_dir: PathLike, checkpoint_path: Optional[PathLike] = None) -> Any:
    """Loads an export written by `PolicySaver.save`.

    Args:
      saved_model_dir: the export directory.
      checkpoint_path: optionally, a checkpoint whose variables replace the
        exported ones (see `restore_checkpoint`).

    Returns:
      The loaded module: signatures in `.signatures`, the nested functions
      `action`, `get_initial_state`, `get_train_step`, `get_metadata` (and
      `distribution` when exported), the variables `model_variables`,
      `train_step`, `metadata_variables`, and the specs as `.policy_specs`.

    Raises:
      FileNotFoundError: the directory, `saved_model.pb`, `variables/`,
        `policy_specs.json` or the checkpoint is missing.
      NotADirectoryError: `saved_model_dir` is a file.
      ValueError: a file is corrupt or truncated, `policy_specs.json` does not
        describe this SavedModel, or the checkpoint does not match.
    """
    specs = load_specs(saved_model_dir)
    path = pathlib.Path(os.fspath(saved_model_dir))
    if not (path / "variables" / "variables.index").exists():
        raise FileNotFoundError(
            f"the export at {path} is incomplete: variables/variables.index is missing")
    try:
        loaded = tf.saved_model.load(os.fspath(path))
    except Exception as e:  # noqa: BLE001 -- TensorFlow raises many kinds; name the file
        if "parse" in str(e).lower():
            culprit = "saved_model.pb is corrupt or truncated"
        else:
            culprit = "its files (saved_model.pb, variables/) could not be read"
        raise ValueError(f"cannot load the export at {path}: {culprit} "
                         f"({type(e).__name__}: {str(e).strip()[:500]})") from None
    _check_loaded(loaded, specs, path)
    loaded.policy_specs = specs
    if checkpoint_path is not None:
        restore_checkpoint(loaded, checkpoint_path)
    return loaded


def checkpoint_prefix(checkpoint_path: PathLike) -> str:
    """The prefix (path without `.index`) of the checkpoint a checkpoint path names.

    Raises:
      FileNotFoundError: there is no checkpoint at `checkpoint_path`.
    """
    path = pathlib.Path(os.fspath(checkpoint_path))
    if path.is_dir():
        prefix = path / "variables" / "variables"
        if not pathlib.Path(f"{prefix}.index").exists():
            raise FileNotFoundError(
                f"no checkpoint in {path}: variables/variables.index is missing (expected a "
                "directory written by PolicySaver.save_checkpoint or save)")
        return os.fspath(prefix)
    if pathlib.Path(f"{path}.index").exists():
        return os.fspath(path)
    raise FileNotFoundError(
        f"no checkpoint at {path}: it is neither a checkpoint directory nor a checkpoint prefix "
        "with a .index file")


def _describe(shape: Any, dtype: Any) -> str:
    return f"{tf.as_dtype(dtype).name}{list(shape)}"


def _targets(loaded: Any) -> List[Tuple[str, str, tf.Variable]]:
    """`(label, checkpoint key, variable)` of every variable a checkpoint updates."""
    targets = [(f"model_variables[{i}] ({v.name})", _VARIABLE_KEY.format(f"model_variables/{i}"), v)
               for i, v in enumerate(loaded.model_variables)]
    targets.append(("train_step", _VARIABLE_KEY.format("train_step"), loaded.train_step))
    targets += [(f"metadata_variables[{i}] ({v.name})",
                 _VARIABLE_KEY.format(f"metadata_variables/{i}"), v)
                for i, v in enumerate(loaded.metadata_variables)]
    return targets


def restore_checkpoint(loaded: Any, checkpoint_path: PathLike) -> None:
    """Assigns a checkpoint's variables to a loaded export, all or nothing.

    Every variable of `model_variables`, `train_step` and
    `metadata_variables` must be in the checkpoint with the same shape and
    dtype, and the checkpoint must hold no other model or metadata variable.
    All values are read before the first assignment.

    Args:
      loaded: what `load` returned, or a policy serving it (anything with a
        `loaded_model`: `load_policy`'s `LoadedPolicy`, `SavedModelPyTFEagerPolicy`).
      checkpoint_path: a checkpoint directory, an export directory, or a
        checkpoint prefix.

    Raises:
      FileNotFoundError: there is no checkpoint at `checkpoint_path`.
      ValueError: the checkpoint is corrupt, or its variables do not match
        (the message lists each missing, extra or different variable with
        its shape and dtype); no variable was changed.
    """
    loaded = getattr(loaded, "loaded_model", loaded)
    prefix = checkpoint_prefix(checkpoint_path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
    except Exception as e:  # noqa: BLE001 -- TensorFlow raises many kinds; name the file
        raise ValueError(f"cannot read the checkpoint {prefix}: it is corrupt or truncated "
                         f"({type(e).__name__}: {str(e).strip()[:300]})") from None
    targets = _targets(loaded)
    expected = {key for _, key, _ in targets}
    problems = []
    for label, key, variable in targets:
        if key not in shapes:
            problems.append(f"{label} {_describe(variable.shape, variable.dtype)} is missing "
                            "from the checkpoint")
        elif list(shapes[key]) != variable.shape.as_list() or dtypes[key] != variable.dtype:
            problems.append(f"{label}: the checkpoint has {_describe(shapes[key], dtypes[key])}, "
                            f"the loaded policy {_describe(variable.shape, variable.dtype)}")
    for key in sorted(shapes):
        match = _LIST_KEY.match(key)
        if match and key not in expected:
            problems.append(f"the checkpoint has {match.group(1)}[{match.group(2)}] "
                            f"{_describe(shapes[key], dtypes[key])}, which the loaded policy "
                            "does not have")
    if problems:
        hint = "" if any(_LIST_KEY.match(k) for k in shapes) else (
            " (it holds no model_variables: was it written by PolicySaver?)")
        raise ValueError(f"the checkpoint {prefix} does not match the loaded policy{hint}; no "
                         "variable was changed: " + "; ".join(problems))
    try:
        values = [np.asarray(reader.get_tensor(key)) for _, key, _ in targets]
    except Exception as e:  # noqa: BLE001 -- TensorFlow raises many kinds; name the file
        raise ValueError(f"cannot read the values of the checkpoint {prefix}: its data is "
                         f"corrupt or truncated ({type(e).__name__}: {str(e).strip()[:300]}); "
                         "no variable was changed") from None
    for (_, _, variable), value in zip(targets, values):
        variable.assign(value)

