"""What every `SampleBatch` operation shares: column names, leaf helpers and row counts.

A column is an array of shape `[N, ...]` or a dm-tree nest of such arrays;
the helpers here treat both alike (a plain array is its own single leaf).
"""

import numbers
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np
import tree

from specs import nest_utils
from specs.types import Nest

# The policy id of single-agent data (RLlib's name and value).
DEFAULT_POLICY_ID = "default_policy"

# A seed for `shuffle`: None draws from numpy's global random state (as
# RLlib does), an int seeds a fresh `np.random.Generator`, a Generator is used.
Seed = Union[None, int, np.random.Generator]

_SEQ_LENS = "seq_lens"
_INFOS = "infos"
_STATE_IN = "state_in_"
_STATE_PREFIXES = ("state_in_", "state_out_")
_DONES_MESSAGE = (
    "SampleBatch has no settable 'dones' column: set 'terminateds' and 'truncateds'; "
    "reading batch['dones'] gives terminateds | truncateds")


def _map(fn: Callable[[Any], Any], value: Nest) -> Nest:
    """`fn` over the leaves of a column (a plain array is its own single leaf)."""
    return tree.map_structure(fn, value) if tree.is_nested(value) else fn(value)


def _map_with_path(fn: Callable[[str, Any], Any], key: str, value: Nest) -> Nest:
    """`fn(path, leaf)` over a column's leaves, with paths such as `obs/pixels`."""
    if not tree.is_nested(value):
        return fn(key, value)
    return tree.map_structure_with_path(
        lambda path, leaf: fn(nest_utils.path_to_str((key,) + tuple(path)), leaf), value)


def _leaves(value: Nest) -> list:
    return tree.flatten(value) if tree.is_nested(value) else [value]


def _leaves_with_paths(key: str, value: Nest) -> list:
    if not tree.is_nested(value):
        return [(key, value)]
    return [(nest_utils.path_to_str((key,) + tuple(path)), leaf)
            for path, leaf in tree.flatten_with_path(value)]


def _leading_dim(leaf: Any) -> Optional[int]:
    """The row count of an array or tensor leaf; None for scalars and unknown dims."""
    try:
        return int(leaf.shape[0])
    except (AttributeError, IndexError, TypeError, ValueError):
        return None


def _count_rows(data: Mapping[str, Any]) -> int:
    """RLlib's count: `sum(seq_lens)` if present, else the first countable column's rows."""
    seq_lens = dict.get(data, _SEQ_LENS)
    if isinstance(seq_lens, np.ndarray) and seq_lens.size:
        return int(seq_lens.sum())
    for key, value in dict.items(data):
        if key == _SEQ_LENS or key == _INFOS or key.startswith(_STATE_PREFIXES):
            continue
        leaves = _leaves(value)
        if leaves:
            rows = _leading_dim(leaves[0])
            if rows:
                return rows
    return 0


def _as_column(key: str, value: Any) -> Any:
    """Lists and Python/numpy scalars become arrays; an `infos` list becomes a 1-D object array."""
    if key == _INFOS:
        if isinstance(value, list):
            infos = np.empty(len(value), dtype=object)
            for i, info in enumerate(value):  # element-wise: a list of lists must stay 1-D
                infos[i] = info
            return infos
        return value
    if isinstance(value, (list, numbers.Number, np.generic)):
        try:
            return np.asarray(value)
        except ValueError as error:
            raise ValueError(
                f"SampleBatch: column {key!r} cannot be made an array: {error}") from None
    return value
