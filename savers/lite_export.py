"""LiteRT export: a `TFPolicy` as a `.tflite` flatbuffer plus a JSON sidecar.

The flatbuffer runs in any LiteRT runtime (Python `ai_edge_litert`, Android,
iOS, microcontrollers with the builtin ops) and in `savers.lite_py_policy.
LitePyPolicy`, the per-step fast path for Python environments. The policy's
variables are frozen into it as constants: a later training step does not
change an exported model (`LitePyPolicy.update_from_policy` re-converts).

Signatures (names by nest path, as `savers._signatures` names the SavedModel's):

- `action`: inputs `step_type`, `reward`, `discount`, `observation` (or
  `observation/<path>`), `state/<path>`, *minus the inputs the graph never
  reads* (often `reward` and `discount`; listed in the sidecar as
  `unused_inputs`, each would cost a copy per step); outputs `action` (or
  `action/<path>`), `state/<path>`, `info/<path>`;
- `get_initial_state` (policies with a state only): input `batch_size`
  (int32 scalar), outputs `state/<path>` with that outer dim. With a fixed
  `batch_size` export pass that size.

Every `action` leaf has the outer dim `batch_size` (a fixed size, or -1 in
the shape signature for `batch_size=None`, resized by the runtime).

Actions are computed in the graph (`document["action_mode"] == "graph"`):
random ops (`MULTINOMIAL`, `RANDOM_STANDARD_NORMAL`) are LiteRT builtins, so
categorical, epsilon-greedy, Boltzmann, Gaussian and OU-noise policies
convert. A policy whose graph needs an op LiteRT lacks fails here with a
`LiteConversionError` naming the op (e.g. `SparseSoftmaxCrossEntropyWithLogits`,
which categorical log-probabilities use at `batch_size=None`: export such
policies at a fixed batch size, where the converter lowers it to builtins, or
with `emit_log_probability=False`).

Sidecar `<path>.json` (`"format": "tfpolicy.lite_export"`, version 1)::

  {"format", "version", "library_version", "policy_class", "batch_size",
   "time_step_spec", "action_spec", "policy_state_spec", "info_spec":
       spec nests with bounds (savers.spec_json),
   "signatures": {"action": {"inputs": [leaf], "outputs": [leaf],
                             "unused_inputs": [leaf]},
                  "get_initial_state": {"inputs": [leaf], "outputs": [leaf]}},
       leaf = {"name", "path", "shape", "dtype"}, in the nests' flat order,
   "action_mode": "graph", "sha256": of the flatbuffer}

`export_lite` writes the `.tflite` file and then the sidecar, each
atomically (a temporary sibling, fsync, rename). The sidecar records the
flatbuffer's sha256 and `LitePyPolicy` refuses a pair that does not match,
so an export interrupted between the two renames (or a sidecar copied
beside the wrong file) fails at load with a clear error, never runs.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = FixedPolicy(2, ts.time_step_spec(TensorSpec([3], tf.float32)),
...                      BoundedTensorSpec([], tf.int32, 0, 4), emit_log_probability=False)
>>> model = convert_lite(policy)
>>> [leaf["name"] for leaf in model.document["signatures"]["action"]["outputs"]]
['action']
"""

import hashlib
import json
import os
from typing import Any, Dict, NamedTuple, Optional, Union

from savers import _export_checks
from savers import _lite_convert
from savers import _signatures
from savers import atomic
from savers import spec_json
from savers._lite_convert import LiteConversionError
from tfpolicy.policies.tf_policy import TFPolicy

__all__ = ["LiteModel", "LiteConversionError", "convert_lite", "export_lite", "LITE_FORMAT",
           "LITE_FORMAT_VERSION", "SIDECAR_SUFFIX", "sidecar_path"]

LITE_FORMAT = "tfpolicy.lite_export"
LITE_FORMAT_VERSION = 1
SIDECAR_SUFFIX = ".json"

PathLike = Union[str, "os.PathLike[str]"]


class LiteModel(NamedTuple):
    """A converted policy, in memory.

    Attributes:
      flatbuffer: the `.tflite` model bytes.
      document: the JSON-able sidecar (see the module docstring).
    """

    flatbuffer: bytes
    document: Dict[str, Any]


def sidecar_path(path: PathLike) -> str:
    """The sidecar's path for a `.tflite` path: the same path plus `.json`."""
    return os.fspath(path) + SIDECAR_SUFFIX


def _library_version() -> str:
    try:
        from importlib import metadata
        return metadata.version("tfpolicy")
    except Exception:  # noqa: BLE001 -- a source checkout without metadata
        return "unknown"


def document_for(functions: _lite_convert.LiteFunctions, flatbuffer: bytes,
                 batch_size: Optional[int]) -> Dict[str, Any]:
    """The sidecar of a conversion (see the module docstring)."""
    policy = functions.policy
    signatures: Dict[str, Any] = {"action": {
        "inputs": _signatures.describe(functions.used_inputs),
        "outputs": _signatures.describe(functions.output_leaves),
        "unused_inputs": _signatures.describe(functions.unused_inputs)}}
    if functions.get_initial_state is not None:
        signatures["get_initial_state"] = {
            "inputs": [{"name": "batch_size", "path": "batch_size", "shape": [],
                        "dtype": "int32"}],
            "outputs": _signatures.describe(functions.state_leaves)}
    return {
        "format": LITE_FORMAT,
        "version": LITE_FORMAT_VERSION,
        "library_version": _library_version(),
        "policy_class": type(policy).__name__,
        "batch_size": batch_size,
        "time_step_spec": spec_json.encode(policy.time_step_spec),
        "action_spec": spec_json.encode(policy.action_spec),
        "policy_state_spec": spec_json.encode(policy.policy_state_spec),
        "info_spec": spec_json.encode(policy.info_spec),
        "signatures": signatures,
        "action_mode": "graph",
        "sha256": hashlib.sha256(flatbuffer).hexdigest(),
    }



def convert_lite(policy: TFPolicy, batch_size: Optional[int] = 1) -> LiteModel:
    """Converts `policy` to a LiteRT model in memory.

    Args:
      policy: the `TFPolicy` (a `PyTFEagerPolicy` is converted as the policy it wraps).
      batch_size: the outer dim of every `action` leaf; None for any (the
        runtime resizes it).

    Returns:
      `LiteModel(flatbuffer, document)`.

    Raises:
      TypeError: `policy` is not a `TFPolicy`.
      ValueError: a bad `batch_size`.
      LiteConversionError: the policy needs ops LiteRT lacks (named), or the
        converter failed.
    """
    policy = _export_checks.as_tf_policy(policy)
    batch_size = _export_checks.as_int(batch_size, "batch_size")
    with _signatures.quiet_argument_renaming():
        functions = _lite_convert.LiteFunctions(policy, batch_size)
        flatbuffer = _lite_convert.convert_signatures(functions, type(policy).__name__)
    return LiteModel(flatbuffer, document_for(functions, flatbuffer, batch_size))


def export_lite(policy: TFPolicy, path: PathLike, batch_size: Optional[int] = 1) -> LiteModel:
    """Converts `policy` and writes `path` (the flatbuffer) and `path + ".json"`.

    Both files are written atomically, the flatbuffer first; see the module
    docstring for what a failure between the two leaves.

    Args:
      policy: as `convert_lite`.
      path: the `.tflite` file to write (replaced if it exists).
      batch_size: as `convert_lite`.

    Returns:
      The `LiteModel` written.

    Raises:
      As `convert_lite` (nothing is written then); OSError from writing.
    """
    model = convert_lite(policy, batch_size)
    atomic.atomic_write_file(path, model.flatbuffer)
    atomic.atomic_write_file(sidecar_path(path), json.dumps(model.document, indent=2))
    return model
