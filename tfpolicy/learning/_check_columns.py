"""`check_columns`: a batch's columns against the specs a loss expects, with named errors."""

from typing import TYPE_CHECKING, Mapping, Optional

from specs import nest_utils
from specs.types import NestedSpec
from tfpolicy.learning._columns import _SEQ_LENS, _STATE_IN, _leading_dim, _leaves_with_paths

if TYPE_CHECKING:
    from tfpolicy.learning.sample_batch import SampleBatch


def check_columns(batch: "SampleBatch", expected: Mapping[str, NestedSpec],
                  owner: Optional[str] = None) -> None:
    """Checks that `batch` has the expected columns, each matching its spec, all of one length.

    Every leaf of every column must have the batch's row count (`state_in_*`
    of a `seq_lens` batch: one row per sequence; a zero-padded batch's
    columns may also have the padded row count). Each expected column must be
    present and match its spec nest with one outer (row) dim: structure,
    dtype and inner shape.

    Args:
      batch: the batch.
      expected: column name to the spec nest (`ArraySpec`s or `TensorSpec`s)
        of one row.
      owner: who checks, the message's first word (e.g. `MyPolicy.learn_on_batch`).

    Raises:
      ValueError: a missing column (named, with the columns present); columns
        of different lengths (every column's length named); a column whose
        structure, dtype or shape differs from its spec (the column, the nest
        path, the expected spec and the value's dtype and shape named).

    >>> import numpy as np
    >>> from specs import ArraySpec
    >>> from tfpolicy.learning.sample_batch import SampleBatch
    >>> batch = SampleBatch({"obs": np.zeros((4, 3)), "actions": np.zeros(4, np.int64)})
    >>> try:
    ...     check_columns(batch, {"obs": ArraySpec((2,), np.float64)}, owner="MyPolicy")
    ... except ValueError as error:
    ...     print(error)
    MyPolicy: column 'obs' at '<root>': shape mismatch: expected ArraySpec(shape=(2,), dtype=dtype('float64'), name=None), got a value with dtype float64 and shape (4, 3)
    """
    prefix = f"{owner}: " if owner else ""
    missing = [key for key in expected if not dict.__contains__(batch, key)]
    if missing:
        raise ValueError(f"{prefix}the batch has no column(s) {missing}; its columns are "
                         f"{sorted(map(str, dict.keys(batch)))}")
    _check_lengths(batch, prefix)
    for key, spec in expected.items():
        try:
            nest_utils.check_nest(dict.__getitem__(batch, key), spec, num_outer_dims=1,
                                  name=f"column {key!r}")
        except (TypeError, ValueError) as error:
            raise ValueError(f"{prefix}{error}") from None


def _check_lengths(batch: "SampleBatch", prefix: str) -> None:
    count = batch.count
    seq_lens = dict.get(batch, _SEQ_LENS)
    num_seqs = len(seq_lens) if seq_lens is not None else None
    padded = None
    if batch.zero_padded and num_seqs is not None and batch.max_seq_len:
        padded = num_seqs * batch.max_seq_len
    for key, value in dict.items(batch):
        if key == _SEQ_LENS:
            continue
        allowed = {count} if padded is None else {count, padded}
        if num_seqs is not None and key.startswith(_STATE_IN):
            allowed = {num_seqs}
        for _, leaf in _leaves_with_paths(key, value):
            if _leading_dim(leaf) not in allowed:
                rows = f"{count} rows" + (
                    f" in {num_seqs} sequences" if num_seqs is not None else "")
                raise ValueError(f"{prefix}the batch's columns have different lengths "
                                 f"(the batch has {rows}): {_lengths_message(batch)}")



def _lengths_message(batch: "SampleBatch") -> str:
    """Every leaf's row count, as `obs: 5, obs/pos: 5, actions: 4`."""
    parts = []
    for key, value in dict.items(batch):
        for path, leaf in _leaves_with_paths(key, value):
            parts.append(f"{path}: {_leading_dim(leaf)}")
    return ", ".join(parts)
