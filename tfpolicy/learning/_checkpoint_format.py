"""The names every part of the learning-policy checkpoint format shares, and its error.

`tfpolicy.learning.checkpoint` documents the format and re-exports the public names.
"""

import math
import os
from typing import Any, Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]
NestPath = Tuple[Any, ...]

CHECKPOINT_FILE = "policy_state.json"
CHECKPOINT_FORMAT = "tfpolicy.learning_policy_checkpoint"
FORMAT_VERSION = 1

# The TensorFlow checkpoint of the arrays, relative to the checkpoint directory.
ARRAYS_PREFIX = "arrays/arrays"
# What errors say they expected to find.
WHAT = "a learning policy checkpoint"
# How the JSON spells the floats it cannot hold.
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class PolicyCheckpointError(ValueError):
    """A directory that is not a readable learning-policy checkpoint: foreign,
    truncated, corrupt or of a newer format (the message says which)."""


def short(value: Any) -> str:
    """`repr(value)`, cut to fit in an error message."""
    text = repr(value)
    return text if len(text) < 200 else text[:197] + "..."
