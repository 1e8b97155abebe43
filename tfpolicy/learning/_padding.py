"""Moving rows in place: right-zero-padding sequences, and shuffling rows.

`right_zero_pad` and `shuffle` are `SampleBatch` methods; `rnn_sequencing`
pads and shuffles whole sequences with the helpers here.
"""

from typing import TYPE_CHECKING, Any

import numpy as np

from tfpolicy.learning._columns import _SEQ_LENS, _STATE_IN, Seed, _leading_dim, _map, _map_with_path

if TYPE_CHECKING:
    from tfpolicy.learning.sample_batch import SampleBatch


def _permutation(n: int, seed: Seed) -> np.ndarray:
    if seed is None:
        return np.random.permutation(n)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.permutation(n)


def _padded_positions(seq_lens: np.ndarray, max_seq_len: int) -> np.ndarray:
    """Where each unpadded row goes in the zero-padded `[len(seq_lens) * max_seq_len]` rows.

    Sequence `j` (of `seq_lens[j]` rows) starts at padded row `j * max_seq_len`.
    """
    seq_lens = np.asarray(seq_lens, np.int64)
    starts = np.cumsum(seq_lens) - seq_lens
    shift = np.arange(len(seq_lens), dtype=np.int64) * max_seq_len - starts
    return np.arange(int(seq_lens.sum()), dtype=np.int64) + np.repeat(shift, seq_lens)


def _zero_pad_rows(value: Any, positions: np.ndarray, length: int) -> np.ndarray:
    """`value`'s rows at `positions` of a new array of `length` rows; zeros (None for objects
    and strings) elsewhere. The dtype is kept."""
    value = np.asarray(value)
    if value.dtype == object or value.dtype.kind in "US":
        out = np.full((length,) + value.shape[1:], None, dtype=object)
    else:
        out = np.zeros((length,) + value.shape[1:], dtype=value.dtype)
    out[positions] = value
    return out


def shuffle(batch: "SampleBatch", seed: Seed = None) -> "SampleBatch":
    """Shuffles the rows in place with one permutation for every column; returns `self`.

    Args:
      seed: None for numpy's global random state, an int, or a
        `np.random.Generator`.

    Raises:
      ValueError: if the batch has `seq_lens` (shuffling rows would break
        its sequences).

    >>> from tfpolicy.learning.sample_batch import SampleBatch
    >>> batch = SampleBatch({"a": np.arange(4), "b": np.arange(4) * 10}).shuffle(seed=0)
    >>> bool((batch["b"] == batch["a"] * 10).all()), sorted(batch["a"].tolist())
    (True, [0, 1, 2, 3])
    """
    if dict.get(batch, _SEQ_LENS) is not None:
        raise ValueError(
            "SampleBatch.shuffle not possible when your data has `seq_lens` defined: shuffling "
            "rows would break the sequences; shuffle whole sequences with "
            "pad_batch_to_sequences_of_same_size(..., shuffle=True) instead")
    permutation = _permutation(batch.count, seed)
    for key, value in list(dict.items(batch)):
        dict.__setitem__(batch, key, _map(lambda v: v[permutation], value))
    batch.intercepted_values = {}
    return batch


def right_zero_pad(batch: "SampleBatch", max_seq_len: int,
                   exclude_states: bool = True) -> "SampleBatch":
    """Right-zero-pads every sequence to `max_seq_len` rows, in place; returns `self`.

    Each column of `count` rows becomes `len(seq_lens) * max_seq_len` rows,
    sequence `j` starting at row `j * max_seq_len`; the dtype is kept
    (object and string columns are padded with None). `seq_lens` is left
    as it is, and so is `state_in_*` unless `exclude_states` is False.
    `count` stays `sum(seq_lens)`.

    Args:
      max_seq_len: the padded length of every sequence, >= `max(seq_lens)`.
      exclude_states: leave `state_in_*` unpadded.

    Raises:
      ValueError: without `seq_lens`, with a sequence longer than
        `max_seq_len`, if already padded to another length, or if a column
        to pad does not have `count` rows.

    >>> from tfpolicy.learning.sample_batch import SampleBatch
    >>> batch = SampleBatch({"a": np.array([1, 2, 3]), "seq_lens": [1, 2]})
    >>> batch.right_zero_pad(max_seq_len=3)["a"]
    array([1, 0, 0, 2, 3, 0])
    """
    seq_lens = dict.get(batch, _SEQ_LENS)
    if seq_lens is None:
        raise ValueError(f"SampleBatch.right_zero_pad needs a '{_SEQ_LENS}' column; "
                         f"the batch has {sorted(map(str, batch))}")
    if batch.zero_padded:
        if max_seq_len == batch.max_seq_len:
            return batch
        raise ValueError(f"SampleBatch.right_zero_pad: the batch is already zero-padded to "
                         f"{batch.max_seq_len}, not {max_seq_len}")
    seq_lens = np.asarray(seq_lens)
    if seq_lens.size and int(seq_lens.max()) > max_seq_len:
        raise ValueError(f"SampleBatch.right_zero_pad: max_seq_len={max_seq_len} is shorter "
                         f"than the longest sequence ({int(seq_lens.max())} rows)")
    total = int(seq_lens.sum())
    length = len(seq_lens) * max_seq_len
    positions = _padded_positions(seq_lens, max_seq_len)

    def pad(path: str, leaf: Any) -> np.ndarray:
        if _leading_dim(leaf) != total:
            raise ValueError(f"SampleBatch.right_zero_pad: column '{path}' has "
                             f"{_leading_dim(leaf)} rows, expected sum(seq_lens) = {total}")
        return _zero_pad_rows(leaf, positions, length)

    for key, value in list(dict.items(batch)):
        if key == _SEQ_LENS or (exclude_states and key.startswith(_STATE_IN)):
            continue
        dict.__setitem__(batch, key, _map_with_path(pad, key, value))
    batch.zero_padded = True
    batch.max_seq_len = max_seq_len
    batch.intercepted_values = {}
    return batch
