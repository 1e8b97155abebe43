"""What `tfpolicy inspect` reports about a LiteRT export (`export_lite`'s `.tflite` file).

The report comes from the sidecar JSON (checked against the flatbuffer's
hash), so inspecting needs neither TensorFlow's converter nor the LiteRT
runtime; its text form shares the SavedModel report's spec and signature
sections.
"""

import os
from typing import Any, Callable, Dict, List, Union

from savers import _lite_runtime
from savers import lite_export
from savers import spec_json

__all__ = ["inspect_lite", "is_lite_export"]

PathLike = Union[str, "os.PathLike[str]"]


def is_lite_export(path: PathLike) -> bool:
    """Whether `path` names a LiteRT export file (a `.tflite` name, or a file with
    an export sidecar beside it) rather than a SavedModel directory."""
    path = os.fspath(path)
    return path.endswith(".tflite") or (
        os.path.isfile(path) and os.path.isfile(lite_export.sidecar_path(path)))


def inspect_lite(path: PathLike, spec_leaves: Callable[[Any, tuple], List[Dict[str, Any]]],
                 spec_roots: tuple) -> Dict[str, Any]:
    """The JSON-ready report of a LiteRT export.

    Args:
      path: the `.tflite` file; its sidecar must be beside it.
      spec_leaves, spec_roots: the SavedModel report's spec-leaf builder and
        the nests' roots, so both reports describe specs alike.

    Returns:
      A dict: 'path', 'kind' ('litert'), 'format', 'version', 'policy_class',
      'batch_size' (None for any), 'action_mode', 'size_bytes', 'sha256',
      'specs' (as `inspect_export`'s) and 'signatures' (name -> {'inputs',
      'outputs', 'unused_inputs'}: lists of {'name', 'path', 'dtype', 'shape'}).

    Raises:
      FileNotFoundError: the file or its sidecar is missing.
      ValueError: a foreign sidecar, or one that does not describe the file.
    """
    model = _lite_runtime.read_model(path)
    document = model.document
    signatures = {}
    for name, entry in document["signatures"].items():
        signatures[name] = {side: [dict(leaf) for leaf in entry.get(side, [])]
                            for side in ("inputs", "outputs", "unused_inputs")}
    return {
        "path": os.fspath(path),
        "kind": "litert",
        "format": document.get("format"),
        "version": document.get("version"),
        "policy_class": document.get("policy_class"),
        "batch_size": document.get("batch_size"),
        "action_mode": document.get("action_mode"),
        "size_bytes": len(model.flatbuffer),
        "sha256": document.get("sha256"),
        "specs": {key: spec_leaves(spec_json.decode(document[key]), root)
                  for key, root in spec_roots},
        "signatures": signatures,
    }
