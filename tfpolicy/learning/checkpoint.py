"""Learning-policy checkpoints: JSON plus a TensorFlow checkpoint, no pickle.

`write_policy_checkpoint` stores what `Policy.from_checkpoint` needs to
rebuild a policy and continue training: its class (by import path), its
spaces, its config and its state (`get_state()`: weights, optimizer
variables, counters, mixin state). `read_policy_checkpoint` gives all of it
back exactly: dtypes, shapes and bits of every array (NaN payloads too), int
counters of any size, dict key order, list against tuple.

Directory layout::

  <export_dir>/
    policy_state.json              the description below
    arrays/arrays.index                 a TensorFlow checkpoint (tf.train.Checkpoint)
    arrays/arrays.data-00000-of-00001   holding every numpy array of the state

Nothing is pickled: the JSON parses with any JSON reader, and the arrays are
plain tensors that `tf.train.load_checkpoint(<export_dir>/arrays/arrays)`
reads by key (`get_tensor(key)`) without building any object first. The
directory is written atomically (`savers.atomic.atomic_directory`): it
appears complete or not at all, and replaces only an earlier learning-policy
checkpoint.

policy_state.json (`"format": "tfpolicy.learning_policy_checkpoint"`,
version 1)::

  {"format", "version",
   "policy_class": "module:qualname",
   "observation_space", "action_space": space,
   "config": config value,
   "state": state node,
   "arrays": {"prefix": "arrays/arrays", "count": int,
              "files": {"arrays/arrays.index": size in bytes, ...}}}

A space is a gymnasium space or a nest of specs, kept apart so that each
comes back as what it was::

  {"kind": "gymnasium", "spec": spec JSON of specs.from_space(space),
   "leaves": [{"class": "Box" | "Discrete" | "MultiDiscrete" | "MultiBinary",
               "n": int or [int, ...] (MultiBinary only)}, ...]}
  {"kind": "spec_nest", "spec": spec JSON of the nest,
   "leaves": ["array" | "tensor", ...]}

`spec` follows `savers.spec_json`; `leaves` lists the leaves depth first in
the nest's own order (dict insertion order, which the spec JSON keeps): the
gymnasium class to rebuild, or whether the leaf was an array spec or a
tensor spec.

The config is JSON as it is, with three markers, each a one-key object:
`{"__callable__": "module:qualname"}` for a class or a module-level function
(imported again on reading), `{"__tuple__": [...]}` for a tuple and
`{"__float__": "nan" | "inf" | "-inf"}` for a float JSON cannot hold. Any
other value (an object, a lambda, a numpy array or scalar, a non-string dict
key) is refused when writing, before anything is written.

A state node is one JSON object with a `"kind"`::

  {"kind": "dict", "keys": [str or int, ...], "values": [node, ...]}
  {"kind": "list" | "tuple", "values": [node, ...]}
  {"kind": "ndarray" | "numpy_scalar", "key": checkpoint key, "dtype": "float32",
   "shape": [int, ...]}
  {"kind": "bool" | "int" | "str", "value": ...}
  {"kind": "float", "value": number, or "nan" | "inf" | "-inf"}
  {"kind": "none"}

An array's `key` is its tensor's key in the TensorFlow checkpoint
(`arrays/<i>/.ATTRIBUTES/VARIABLE_VALUE`); `dtype` and `shape` repeat the
tensor's, so a mismatched or truncated checkpoint is caught before anything
is returned. Python ints are JSON integers of any size; Python float NaNs
come back as NaN without their payload (arrays keep theirs).

Reading executes nothing stored in the checkpoint, but it imports the
modules that the config's callables name (and `resolve_policy_class` the
policy class's module), as constructing the policy would: read checkpoints
whose code you trust.

>>> import tempfile
>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> class MyPolicy:
...     pass
>>> directory = tempfile.mkdtemp() + "/policy"
>>> write_policy_checkpoint(
...     directory, {"weights": {"w": np.array([1.5, np.nan], np.float32)},
...                 "global_timestep": 2**60 + 1},
...     policy_class=MyPolicy, observation_space=ArraySpec((2,), np.float32),
...     action_space=BoundedArraySpec((), np.int64, 0, 1), config={"gamma": 0.99})
>>> saved = read_policy_checkpoint(directory, expected_class=MyPolicy)
>>> saved.state["weights"]["w"], saved.state["global_timestep"] == 2**60 + 1
(array([1.5, nan], dtype=float32), True)
>>> saved.observation_space, saved.config
(ArraySpec(shape=(2,), dtype=dtype('float32'), name=None), {'gamma': 0.99})
"""

import collections.abc
import dataclasses
import json
import os
import pathlib
from typing import Any, Dict, List, Mapping, Optional

import numpy as np
import tensorflow as tf

from savers import atomic
from tfpolicy.learning import _checkpoint_config
from tfpolicy.learning import _checkpoint_format
from tfpolicy.learning import _checkpoint_read
from tfpolicy.learning import _checkpoint_spaces
from tfpolicy.learning import _checkpoint_state
from tfpolicy.learning._checkpoint_format import CHECKPOINT_FILE
from tfpolicy.learning._checkpoint_format import CHECKPOINT_FORMAT
from tfpolicy.learning._checkpoint_format import FORMAT_VERSION
from tfpolicy.learning._checkpoint_format import PathLike
from tfpolicy.learning._checkpoint_format import PolicyCheckpointError

__all__ = [
    "CHECKPOINT_FILE",
    "CHECKPOINT_FORMAT",
    "FORMAT_VERSION",
    "PolicyCheckpoint",
    "PolicyCheckpointError",
    "decode_config",
    "decode_space",
    "encode_config",
    "encode_space",
    "is_policy_checkpoint",
    "read_policy_checkpoint",
    "resolve_policy_class",
    "write_policy_checkpoint",
]


@dataclasses.dataclass(frozen=True)
class PolicyCheckpoint:
    """What `read_policy_checkpoint` found.

    Attributes:
      policy_class: the policy's class as `"module:qualname"`; import it with
        `resolve_policy_class`.
      observation_space, action_space: gymnasium spaces or spec nests, as
        they were written.
      config: the config, with classes and functions imported again.
      state: the state, arrays included.
      format_version: the version of the format the directory was written in.
    """

    policy_class: str
    observation_space: Any
    action_space: Any
    config: Dict[str, Any]
    state: Dict[Any, Any]
    format_version: int


def encode_config(config: Mapping[str, Any]) -> Dict[str, Any]:
    """A config as the JSON value a checkpoint stores (classes and functions by import path).

    Raises:
      ValueError: a value a checkpoint cannot hold (a lambda, an object, a numpy
        value); the message names its key path.
    """
    return _checkpoint_config.encode_config(dict(config), ())


def decode_config(value: Mapping[str, Any], source: str) -> Dict[str, Any]:
    """The config `encode_config` encoded, classes and functions imported again.

    Args:
      value: the JSON value.
      source: the file it came from, for error messages.
    """
    return _checkpoint_config.decode_config(dict(value), (), source)


def encode_space(space: Any, what: str = "space") -> Dict[str, Any]:
    """A gymnasium space or spec nest as the JSON value a checkpoint stores (as the
    policy checkpoint stores its own spaces).

    Args:
      space: a gymnasium space or a nest of array/tensor specs.
      what: names the space in errors.

    Raises:
      ValueError: a leaf that is neither (its nest path named).
    """
    return _checkpoint_spaces.encode_space(space, what)


def decode_space(node: Mapping[str, Any], source: str) -> Any:
    """The space `encode_space` encoded, rebuilt as what it was.

    Raises:
      PolicyCheckpointError: a malformed entry (`source` named).
    """
    return _checkpoint_spaces.decode_space(node, source)


def resolve_policy_class(name: str) -> type:
    """Imports the class a checkpoint names (`"module:qualname"`).

    Args:
      name: `PolicyCheckpoint.policy_class`, e.g. `"my_project.policies:MyPolicy"`.

    Returns:
      The class.

    Raises:
      ImportError: the module cannot be imported, has no such attribute, or
        the class was defined inside a function (its qualname holds
        `<locals>`); the message names the class.
      TypeError: the name refers to something that is not a class.

    >>> resolve_policy_class("collections:OrderedDict")
    <class 'collections.OrderedDict'>
    """
    cls = _checkpoint_config.resolve(name, "the policy class")
    if not isinstance(cls, type):
        raise TypeError(f"the policy class {name!r} is not a class: it is a "
                        f"{type(cls).__name__}")
    return cls


# ---- writing -----------------------------------------------------------------------------------


def is_policy_checkpoint(path: PathLike) -> bool:
    """Whether `path` is a directory holding a learning-policy checkpoint (of any version)."""
    try:
        document = json.loads((pathlib.Path(os.fspath(path)) / CHECKPOINT_FILE).read_text(
            encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict) and document.get("format") == CHECKPOINT_FORMAT


def _write_arrays(directory: pathlib.Path, arrays: List[np.ndarray]) -> Dict[str, int]:
    """Writes the arrays as a TF checkpoint; returns each file's size by relative path."""
    with tf.device("CPU:0"):  # staging copies only: keep them off accelerators
        variables = [tf.Variable(a, trainable=False) for a in arrays]
    prefix = directory / _checkpoint_format.ARRAYS_PREFIX
    tf.train.Checkpoint(arrays=variables).write(os.fspath(prefix))
    files = sorted(p for p in prefix.parent.iterdir() if p.is_file())
    return {p.relative_to(directory).as_posix(): p.stat().st_size for p in files}


def write_policy_checkpoint(export_dir: PathLike, state: Mapping[Any, Any], *,
                            policy_class: type, observation_space: Any, action_space: Any,
                            config: Mapping[str, Any]) -> None:
    """Writes a learning-policy checkpoint to `export_dir`, atomically.

    Everything is checked before the first byte is written; the directory then
    appears complete or not at all (see the module docstring for the format).

    Args:
      export_dir: the directory; an earlier learning-policy checkpoint there
        is replaced.
      state: the policy's state (`Policy.get_state()` without `policy_spec`):
        a nest of dicts (str or int keys), lists and tuples whose leaves are
        numpy arrays and scalars (bool, integer, float, complex), bool, int,
        float, str or None.
      policy_class: the policy's class, recorded as `"module:qualname"`.
      observation_space, action_space: gymnasium spaces (`Box`, `Discrete`,
        `MultiDiscrete`, `MultiBinary`, `Dict`, `Tuple`) or spec nests.
      config: JSON values, tuples, classes and module-level functions.

    Raises:
      TypeError: `policy_class` is not a class.
      ValueError: a value of `state`, `config` or a space that a checkpoint
        cannot hold; the message names its path and type.
      FileExistsError: `export_dir` is a file, or a non-empty directory that
        is not a learning-policy checkpoint.
    """
    if not isinstance(policy_class, type):
        raise TypeError(f"policy_class must be a class, got {type(policy_class).__name__}: "
                        f"{_checkpoint_format.short(policy_class)}")
    if not isinstance(config, collections.abc.Mapping):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    if not isinstance(state, collections.abc.Mapping):
        raise ValueError(f"state must be a dict, got {type(state).__name__}")
    arrays: List[np.ndarray] = []
    document: Dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": FORMAT_VERSION,
        "policy_class": _checkpoint_config.import_path(policy_class),
        "observation_space": _checkpoint_spaces.encode_space(observation_space,
                                                             "observation_space"),
        "action_space": _checkpoint_spaces.encode_space(action_space, "action_space"),
        "config": _checkpoint_config.encode_config(dict(config), ()),
        "state": _checkpoint_state.encode_state(state, (), arrays),
    }
    with atomic.atomic_directory(export_dir, replaceable=is_policy_checkpoint,
                                 what=_checkpoint_format.WHAT) as tmp:
        files = _write_arrays(tmp, arrays)
        document["arrays"] = {"prefix": _checkpoint_format.ARRAYS_PREFIX, "count": len(arrays),
                              "files": files}
        (tmp / CHECKPOINT_FILE).write_text(json.dumps(document, indent=2, allow_nan=False),
                                           encoding="utf-8")


# ---- reading -----------------------------------------------------------------------------------


def read_policy_checkpoint(export_dir: PathLike, *,
                           expected_class: Optional[type] = None) -> PolicyCheckpoint:
    """Reads a checkpoint written by `write_policy_checkpoint`, whole or not at all.

    The JSON, the config's callables and every array are read and checked
    before anything is returned; the policy class itself is not imported
    (`resolve_policy_class` does that).

    Args:
      export_dir: the checkpoint directory.
      expected_class: if given, the checkpoint must hold this class or a
        subclass of it.

    Returns:
      A `PolicyCheckpoint`.

    Raises:
      FileNotFoundError: `export_dir` does not exist.
      NotADirectoryError: `export_dir` is a file.
      PolicyCheckpointError: (a `ValueError`) the directory is not a
        learning-policy checkpoint (the message says what it is instead: a
        SavedModel export, a savers checkpoint, ...), its JSON is corrupt or
        truncated, an array file is missing, truncated or corrupt, or it was
        written in a newer format version.
      TypeError: the checkpoint holds another class than `expected_class`
        (the message names both).
      ImportError: a class or function of the config cannot be imported (the
        message names its config key).
    """
    path = _checkpoint_read.existing_dir(export_dir)
    document = _checkpoint_read.read_document(path)
    if expected_class is not None:
        _checkpoint_read.check_class(document["policy_class"], expected_class, path)
    source = os.fspath(path / CHECKPOINT_FILE)
    observation_space = _checkpoint_spaces.decode_space(document["observation_space"],
                                                        f"{source}: observation_space")
    action_space = _checkpoint_spaces.decode_space(document["action_space"],
                                                   f"{source}: action_space")
    if not isinstance(document["config"], dict):
        raise PolicyCheckpointError(f"{source} is corrupt: 'config' is not a JSON object")
    config = _checkpoint_config.decode_config(document["config"], (), source)
    if not (isinstance(document["state"], dict) and document["state"].get("kind") == "dict"):
        raise PolicyCheckpointError(f"{source} is corrupt: 'state' is not a dict node")
    decoder = _checkpoint_state.StateDecoder(source)
    decoder.decode(document["state"], ())  # checks every node, collects the array nodes
    _checkpoint_read.check_files(path, document["arrays"])
    decoder.set_arrays(_checkpoint_read.read_arrays(path, decoder.array_nodes,
                                                    document["arrays"].get("count")))
    state = decoder.decode(document["state"], ())
    return PolicyCheckpoint(policy_class=document["policy_class"],
                            observation_space=observation_space, action_space=action_space,
                            config=config, state=state, format_version=document["version"])
