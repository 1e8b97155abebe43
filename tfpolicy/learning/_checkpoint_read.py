"""Reading a checkpoint directory, checked part by part: a directory that is not a
learning-policy checkpoint, or is corrupt, truncated or newer, gets an error saying so
(and what the directory holds instead)."""

import json
import os
import pathlib
from typing import Any, Dict, List, Tuple

import numpy as np
import tensorflow as tf

from specs.nest_utils import path_to_str
from tfpolicy.learning._checkpoint_config import import_path, resolve
from tfpolicy.learning._checkpoint_format import (
    ARRAYS_PREFIX, CHECKPOINT_FILE, CHECKPOINT_FORMAT, FORMAT_VERSION, WHAT, NestPath, PathLike,
    PolicyCheckpointError, short)

# What `savers.PolicySaver.save_checkpoint` writes, named when found instead.
_SAVERS_CHECKPOINT_FILE = "policy_checkpoint.json"
# Other directories a user may hand us by mistake, recognised to say what they are.
_SAVERS_CHECKPOINT_FORMAT = "tfpolicy.policy_checkpoint"
_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
_RLLIB_FILE = "rllib_checkpoint.json"


def existing_dir(export_dir: PathLike) -> pathlib.Path:
    path = pathlib.Path(os.fspath(export_dir))
    if not path.exists():
        stale = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.is_dir() else []
        hint = f"; an interrupted write left the previous one at {stale[0]}" if stale else ""
        raise FileNotFoundError(f"no learning policy checkpoint at {path}: the directory does "
                                f"not exist{hint}")
    if not path.is_dir():
        raise NotADirectoryError(f"no learning policy checkpoint at {path}: it is a file, not "
                                 "a checkpoint directory")
    return path


def _savers_checkpoint(path: pathlib.Path, found: Any) -> PolicyCheckpointError:
    return PolicyCheckpointError(
        f"{path} is a savers checkpoint (PolicySaver.save_checkpoint: the variables of a "
        f"TFPolicy, for pushing weights into an export; restore it with "
        f"savers.restore_checkpoint), not {WHAT}: its format is {found!r}, expected "
        f"{CHECKPOINT_FORMAT!r}")


def _foreign(path: pathlib.Path) -> PolicyCheckpointError:
    """The error for a directory without `policy_state.json`, saying what it holds."""
    savers_file = path / _SAVERS_CHECKPOINT_FILE
    if savers_file.is_file():
        try:
            found = json.loads(savers_file.read_text(encoding="utf-8")).get("format")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            found = None
        if found == _SAVERS_CHECKPOINT_FORMAT:
            return _savers_checkpoint(path, found)
    if any((path / name).exists() for name in _SAVED_MODEL_FILES):
        found = ("a SavedModel export (savers.PolicySaver.save or Policy.export_model); "
                 "load it with savers.load")
    elif (path / _RLLIB_FILE).exists():
        found = "an RLlib checkpoint, which tfpolicy does not read"
    else:
        entries = sorted(p.name for p in path.iterdir())
        found = ("nothing: the directory is empty" if not entries
                 else f"{', '.join(entries[:8])}{', ...' if len(entries) > 8 else ''}")
    return PolicyCheckpointError(f"{path} is not {WHAT} ({CHECKPOINT_FILE} is missing); it "
                                 f"holds {found}")


def read_document(path: pathlib.Path) -> Dict[str, Any]:
    source = path / CHECKPOINT_FILE
    if not source.is_file():
        raise _foreign(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PolicyCheckpointError(f"{source} is corrupt or truncated: it is not valid JSON "
                                    f"({e})") from None
    if not isinstance(document, dict):
        raise PolicyCheckpointError(f"{source} is corrupt: expected a JSON object, got "
                                    f"{type(document).__name__}")
    found = document.get("format")
    if found == _SAVERS_CHECKPOINT_FORMAT:
        raise _savers_checkpoint(path, found)
    if found != CHECKPOINT_FORMAT:
        raise PolicyCheckpointError(f"{path} is not {WHAT}: the format of {source} is "
                                    f"{found!r}, expected {CHECKPOINT_FORMAT!r}")
    version = document.get("version")
    if type(version) is not int or version < 1:
        raise PolicyCheckpointError(f"{source} is corrupt: its format version is {version!r}, "
                                    f"expected an integer from 1 to {FORMAT_VERSION}")
    if version > FORMAT_VERSION:
        raise PolicyCheckpointError(
            f"{path} was written by a newer tfpolicy: format version {version}, this library "
            f"reads up to {FORMAT_VERSION}; upgrade tfpolicy to read it")
    missing = [key for key in ("policy_class", "observation_space", "action_space", "config",
                               "state", "arrays") if key not in document]
    if missing:
        raise PolicyCheckpointError(f"{source} is incomplete: it has no {missing}")
    if not isinstance(document["policy_class"], str):
        raise PolicyCheckpointError(f"{source} is corrupt: 'policy_class' is "
                                    f"{short(document['policy_class'])}, expected a string")
    return document


def check_class(stored: str, expected: type, path: pathlib.Path) -> None:
    expected_name = import_path(expected)
    if stored == expected_name:
        return
    try:
        found = resolve(stored, "the policy class")
    except ImportError as e:
        raise TypeError(f"{path} holds a checkpoint of {stored}, expected {expected_name} "
                        f"(and {stored} cannot be imported: {e})") from None
    if not (isinstance(found, type) and issubclass(found, expected)):
        raise TypeError(f"{path} holds a checkpoint of {stored}, expected {expected_name} "
                        "or a subclass of it")


def check_files(path: pathlib.Path, arrays: Any) -> Dict[str, int]:
    files = arrays.get("files") if isinstance(arrays, dict) else None
    if (not isinstance(files, dict) or arrays.get("prefix") != ARRAYS_PREFIX
            or f"{ARRAYS_PREFIX}.index" not in files):
        raise PolicyCheckpointError(f"{path / CHECKPOINT_FILE} is corrupt: 'arrays' must name "
                                    f"the prefix {ARRAYS_PREFIX!r} and its files, got "
                                    f"{short(arrays)}")
    for name, size in files.items():
        if not (isinstance(name, str) and name.startswith(ARRAYS_PREFIX + ".")
                and "/" not in name[len(ARRAYS_PREFIX):] and type(size) is int):
            raise PolicyCheckpointError(f"{path / CHECKPOINT_FILE} is corrupt: unexpected file "
                                        f"entry {name!r}: {size!r}")
        file = path / name
        if not file.is_file():
            raise PolicyCheckpointError(f"{path} is incomplete: {name} is missing (expected "
                                        f"{size} bytes)")
        found = file.stat().st_size
        if found != size:
            state = "truncated" if found < size else "corrupt"
            raise PolicyCheckpointError(f"{path} is {state}: {name} has {found} bytes, expected "
                                        f"{size}")
    return files


def read_arrays(path: pathlib.Path, nodes: List[Tuple[NestPath, Dict[str, Any]]],
                 count: Any) -> Dict[str, np.ndarray]:
    prefix = os.fspath(path / ARRAYS_PREFIX)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
    except Exception as e:  # noqa: BLE001 -- TensorFlow raises many kinds; name the file
        raise PolicyCheckpointError(f"cannot read the arrays of {path}: {ARRAYS_PREFIX} is "
                                    f"corrupt or truncated ({type(e).__name__}: "
                                    f"{str(e).strip()[:300]})") from None
    stored = {key for key in shapes if key.startswith("arrays/")}
    problems = []
    if count != len(nodes):
        problems.append(f"'arrays' counts {count!r} arrays, the state references {len(nodes)}")
    for node_path, node in nodes:
        key, dtype, shape = node.get("key"), node.get("dtype"), node.get("shape")
        where = f"state at '{path_to_str(node_path)}'"
        try:
            expected_dtype = tf.as_dtype(np.dtype(dtype))
        except TypeError:
            problems.append(f"{where} has the unknown dtype {dtype!r}")
            continue
        if key not in shapes:
            problems.append(f"{where}: the array {key!r} ({dtype}{shape}) is missing")
        elif dtypes[key] != expected_dtype or list(shapes[key]) != shape:
            problems.append(f"{where}: the array {key!r} is {dtypes[key].name}"
                            f"{list(shapes[key])}, expected {dtype}{shape}")
    extra = sorted(stored - {node.get("key") for _, node in nodes})
    if extra:
        problems.append(f"the TensorFlow checkpoint holds arrays the JSON does not reference: "
                        f"{extra[:5]}")
    if problems:
        raise PolicyCheckpointError(f"the arrays of {path} do not match its {CHECKPOINT_FILE}: "
                                    + "; ".join(problems))
    try:
        return {node["key"]: np.asarray(reader.get_tensor(node["key"])) for _, node in nodes}
    except Exception as e:  # noqa: BLE001 -- TensorFlow raises many kinds; name the file
        raise PolicyCheckpointError(f"cannot read the arrays of {path}: their data is corrupt "
                                    f"or truncated ({type(e).__name__}: "
                                    f"{str(e).strip()[:300]})") from None
