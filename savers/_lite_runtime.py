"""Loading LiteRT models for `LitePyPolicy`: the lazy runtime import, reading a
`.tflite` file with its sidecar (both required, hashes checked), and the
per-batch-size interpreter record.

>>> BatchInterpreter(None, [(0, 3)], [5]).feeds
[(0, 3)]
"""

import hashlib
import json
import os
from typing import Any, List, Tuple, Union

from savers import lite_export
from savers.lite_export import LiteModel

__all__ = ["interpreter_class", "read_model", "BatchInterpreter"]

PathLike = Union[str, "os.PathLike[str]"]
_INSTALL = 'LitePyPolicy needs the LiteRT runtime: pip install "tfpolicy[lite]"'


def interpreter_class() -> Any:
    """`ai_edge_litert`'s `Interpreter`, imported now; ImportError with the install hint."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        raise ImportError(f"{_INSTALL} ({e})") from e
    return Interpreter


def read_model(model: Union[PathLike, LiteModel]) -> LiteModel:
    """`model` itself, or the `LiteModel` of a `.tflite` path and its sidecar.

    Raises:
      FileNotFoundError: the file or its sidecar is missing.
      ValueError: a sidecar of another format, or one whose sha256 is not the file's.
    """
    if isinstance(model, LiteModel):
        return model
    path = os.fspath(model)
    sidecar = lite_export.sidecar_path(path)
    for needed in (path, sidecar):
        if not os.path.isfile(needed):
            raise FileNotFoundError(
                f"LitePyPolicy needs both {path} and its sidecar {sidecar} (written by "
                f"savers.lite_export.export_lite); {needed} is missing")
    with open(path, "rb") as f:
        flatbuffer = f.read()
    with open(sidecar, encoding="utf-8") as f:
        document = json.load(f)
    if not isinstance(document, dict) or document.get("format") != lite_export.LITE_FORMAT:
        raise ValueError(f"{sidecar} is not a LiteRT export sidecar (expected \"format\": "
                         f"\"{lite_export.LITE_FORMAT}\")")
    if document.get("sha256") != hashlib.sha256(flatbuffer).hexdigest():
        raise ValueError(
            f"{sidecar} does not describe {path} (the flatbuffer's sha256 differs from the "
            "sidecar's): the export was interrupted or the files come from different "
            "exports; export the policy again")
    return LiteModel(flatbuffer, document)


class BatchInterpreter:
    """One interpreter at one batch size: its `(input leaf position, tensor index)` feeds
    and its output tensor indices, in output-leaf order."""

    def __init__(self, interpreter: Any, feeds: List[Tuple[int, int]], outputs: List[int]):
        self.interpreter = interpreter
        self.feeds = feeds
        self.outputs = outputs
