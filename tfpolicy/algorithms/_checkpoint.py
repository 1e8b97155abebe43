"""Algorithm checkpoints: JSON, a numpy archive and policy checkpoints, no pickle.

Layout (the directory appears complete or not at all)::

  <checkpoint>/
    algorithm_state.json     format, version, algorithm class, config, state
    arrays.npz               every numpy array of the state (np.savez, no objects)
    policies/<policy_id>/    one learning-policy checkpoint per policy

In the JSON state, an array is `{"__ndarray__": "<key in arrays.npz>"}`, a
tuple `{"__tuple__": [...]}`, a dict with non-string keys
`{"__items__": [[key, value], ...]}`, and a non-finite float
`{"__float__": "nan" | "inf" | "-inf"}`.
"""

import dataclasses
import io
import json
import math
import os
import pathlib
from typing import Any, Dict, List, Mapping, Union

import numpy as np

from savers import atomic
from tfpolicy.evaluation.policy_spec import PolicySpec, normalize_policy_specs
from tfpolicy.learning import checkpoint as policy_checkpoint

FORMAT = "tfpolicy.algorithm_checkpoint"
VERSION = 1
STATE_FILE = "algorithm_state.json"
ARRAYS_FILE = "arrays.npz"
POLICIES_DIR = "policies"

PathLike = Union[str, os.PathLike]

_ARRAY, _TUPLE, _ITEMS, _FLOAT = "__ndarray__", "__tuple__", "__items__", "__float__"


class AlgorithmCheckpointError(ValueError):
    """A directory that is not an algorithm checkpoint, or a corrupt one."""


@dataclasses.dataclass(frozen=True)
class SavedAlgorithm:
    """What `read` found: the class path, the config, the state and the policies' states."""

    algorithm_class: str
    config: Dict[str, Any]
    state: Dict[str, Any]
    policy_states: Dict[str, Dict[str, Any]]


def _encode(value: Any, path: str, arrays: Dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        if value.dtype == object:
            raise ValueError(f"algorithm state at {path!r}: an object array cannot be "
                             "saved without pickle")
        arrays[key] = value
        return {_ARRAY: key}
    if isinstance(value, np.generic):
        return _encode(value.item(), path, arrays)
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT: "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, f"{path}/{i}", arrays) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{path}/{i}", arrays) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v, f"{path}/{k}", arrays) for k, v in value.items()}
        return {_ITEMS: [[_encode(k, path, arrays), _encode(v, f"{path}/{k}", arrays)]
                         for k, v in value.items()]}
    raise ValueError(f"algorithm state at {path!r}: cannot save a "
                     f"{type(value).__module__}.{type(value).__qualname__} without pickle")


def _decode(value: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (marker, inner), = value.items()
        if marker == _ARRAY:
            return arrays[inner]
        if marker == _TUPLE:
            return tuple(_decode(v, arrays) for v in inner)
        if marker == _ITEMS:
            return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in inner}
        if marker == _FLOAT:
            return float(inner)
    return {k: _decode(v, arrays) for k, v in value.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def is_algorithm_checkpoint(path: pathlib.Path) -> bool:
    """True for a directory holding an algorithm checkpoint (which `write` may replace)."""
    return (path / STATE_FILE).is_file()


def write(path: PathLike, *, algorithm_class: str, config: Mapping[str, Any],
          state: Mapping[str, Any], policies: Mapping[str, Any]) -> None:
    """Writes the checkpoint; everything is encoded before the first byte is written."""
    arrays: Dict[str, np.ndarray] = {}
    document = {
        "format": FORMAT,
        "version": VERSION,
        "algorithm_class": algorithm_class,
        "config": policy_checkpoint.encode_config(_encode_policy_specs(config)),
        "state": _encode(dict(state), "", arrays),
        "policies": list(policies),
    }
    text = json.dumps(document, indent=1, allow_nan=False)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic.atomic_directory(path, replaceable=is_algorithm_checkpoint,
                                 what="an algorithm checkpoint") as tmp:
        (tmp / ARRAYS_FILE).write_bytes(buffer.getvalue())
        for pid, policy in policies.items():
            policy.export_checkpoint(tmp / POLICIES_DIR / pid)
        (tmp / STATE_FILE).write_text(text, encoding="utf-8")


def read(path: PathLike) -> SavedAlgorithm:
    """Reads a checkpoint written by `write`.

    Raises:
      FileNotFoundError: `path` does not exist.
      AlgorithmCheckpointError: it is not an algorithm checkpoint (a policy
        checkpoint or an export is named as such), or it is corrupt.
    """
    root = pathlib.Path(path)
    if not root.exists():
        raise FileNotFoundError(f"no algorithm checkpoint at {root}: it does not exist")
    state_file = root / STATE_FILE
    if not state_file.is_file():
        if policy_checkpoint.is_policy_checkpoint(root):
            hint = " (it is a policy checkpoint: use Policy.from_checkpoint)"
        elif (root / "saved_model.pb").is_file():
            hint = " (it is a SavedModel export: use savers.SavedModelPyTFEagerPolicy)"
        else:
            hint = ""
        raise AlgorithmCheckpointError(f"{root} is not an algorithm checkpoint: it has no "
                                       f"{STATE_FILE}{hint}")
    try:
        document = json.loads(state_file.read_text(encoding="utf-8"))
    except ValueError as error:
        raise AlgorithmCheckpointError(f"{state_file} is corrupt: {error}") from None
    if document.get("format") != FORMAT:
        raise AlgorithmCheckpointError(f"{state_file}: expected format {FORMAT!r}, got "
                                       f"{document.get('format')!r}")
    if int(document.get("version", 0)) > VERSION:
        raise AlgorithmCheckpointError(f"{state_file} was written in format version "
                                       f"{document['version']}; this version reads up to "
                                       f"{VERSION}")
    try:
        with np.load(root / ARRAYS_FILE, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise AlgorithmCheckpointError(f"{root / ARRAYS_FILE} is missing or corrupt: "
                                       f"{error}") from None
    policy_states: Dict[str, Dict[str, Any]] = {}
    for pid in document["policies"]:
        saved = policy_checkpoint.read_policy_checkpoint(root / POLICIES_DIR / pid)
        policy_states[pid] = saved.state
    return SavedAlgorithm(
        algorithm_class=document["algorithm_class"],
        config=_decode_policy_specs(policy_checkpoint.decode_config(
            document["config"], os.fspath(state_file)), os.fspath(state_file)),
        state=_decode(document["state"], arrays),
        policy_states=policy_states)


# `multiagent.policies` entries are `PolicySpec`s, whose spaces are objects: each is
# stored as a dict of its fields, the spaces encoded as policy checkpoints encode them.
_SPEC_MARKER = "__policy_spec__"


def _encode_policy_specs(config: Mapping[str, Any]) -> Dict[str, Any]:
    multiagent = config.get("multiagent")
    if not isinstance(multiagent, Mapping) or not multiagent.get("policies"):
        return dict(config)
    specs = normalize_policy_specs(multiagent["policies"])
    encoded = {}
    for pid, spec in specs.items():
        where = f"config key 'multiagent.policies.{pid}'"
        encoded[pid] = {_SPEC_MARKER: {
            "policy_class": spec.policy_class,
            "observation_space": (None if spec.observation_space is None else
                                  policy_checkpoint.encode_space(spec.observation_space,
                                                                 f"{where} observation_space")),
            "action_space": (None if spec.action_space is None else
                             policy_checkpoint.encode_space(spec.action_space,
                                                            f"{where} action_space")),
            "config": None if spec.config is None else dict(spec.config)}}
    return dict(config, multiagent=dict(multiagent, policies=encoded))


def _decode_policy_specs(config: Dict[str, Any], source: str) -> Dict[str, Any]:
    multiagent = config.get("multiagent")
    if not isinstance(multiagent, Mapping) or not isinstance(multiagent.get("policies"),
                                                             Mapping):
        return config
    decoded = {}
    for pid, entry in multiagent["policies"].items():
        fields = entry.get(_SPEC_MARKER) if isinstance(entry, Mapping) else None
        if not isinstance(fields, Mapping):
            raise AlgorithmCheckpointError(f"{source}: config key 'multiagent.policies.{pid}' "
                                           f"is not a stored PolicySpec: {entry!r}")
        spaces = [None if fields.get(key) is None else policy_checkpoint.decode_space(
            fields[key], f"{source} multiagent.policies.{pid}.{key}")
            for key in ("observation_space", "action_space")]
        decoded[pid] = PolicySpec(fields.get("policy_class"), spaces[0], spaces[1],
                                  fields.get("config"))
    return dict(config, multiagent=dict(multiagent, policies=decoded))


def resolve_class(name: str) -> type:
    """Imports the algorithm class a checkpoint names."""
    return policy_checkpoint.resolve_policy_class(name)


__all__: List[str] = ["AlgorithmCheckpointError", "SavedAlgorithm", "is_algorithm_checkpoint",
                      "write", "read", "resolve_class", "FORMAT", "VERSION"]
