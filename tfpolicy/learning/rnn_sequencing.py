"""Recurrent batches: chopping rows into zero-padded sequences, and the loss mask.

A recurrent policy learns on sequences of at most `max_seq_len` rows that
never cross an episode, a sample fragment (`unroll_id`) or an agent. Every
feature column is right-zero-padded to `[num_seqs * T, ...]` (T the padded
length), `state_in_{i}` keeps one row per sequence (its first row's state),
and `seq_lens` holds the true lengths. The model folds the rows into
`[num_seqs, T, ...]` (`add_time_dimension`), and the loss averages over the
valid rows only (`sequence_mask`, `reduce_mean_valid`).

>>> features, states, seq_lens = chop_into_sequences(
...     feature_columns=[np.array([4, 4, 8, 8, 8, 8])],
...     state_columns=[np.array([4, 5, 4, 5, 5, 5])],
...     max_seq_len=3, episode_ids=np.array([1, 1, 5, 5, 5, 5]))
>>> features[0], states[0], seq_lens
(array([4, 4, 0, 8, 8, 8, 8, 0, 0]), array([4, 4, 5]), array([2, 3, 1], dtype=int32))
"""

from typing import Any, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs.types import Nest
from tfpolicy.learning._padding import _padded_positions, _permutation, _zero_pad_rows
from tfpolicy.learning.sample_batch import SampleBatch, Seed

__all__ = [
    "chop_into_sequences",
    "pad_batch_to_sequences_of_same_size",
    "add_time_dimension",
    "sequence_mask",
    "reduce_mean_valid",
    "valid_mean_fn",
]


def _sequence_lengths(num_rows: int, ids: Sequence[Optional[np.ndarray]],
                      max_seq_len: int) -> np.ndarray:
    """Lengths of the runs of equal id tuples, each run cut into pieces of `max_seq_len`."""
    if num_rows == 0:
        return np.zeros(0, np.int32)
    new_run = np.zeros(num_rows, dtype=bool)
    new_run[0] = True
    for column in ids:
        if column is not None:
            column = np.asarray(column)
            # Each id compared on its own: (episode, unroll, agent) tuples never collide.
            new_run[1:] |= column[1:] != column[:-1]
    starts = np.flatnonzero(new_run)
    runs = np.diff(np.append(starts, num_rows))
    pieces = -(-runs // max_seq_len)
    run_of_piece = np.repeat(np.arange(len(runs)), pieces)
    piece_in_run = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    return np.minimum(max_seq_len, runs[run_of_piece] - piece_in_run * max_seq_len).astype(np.int32)


def chop_into_sequences(*, feature_columns: Sequence[Nest], state_columns: Sequence[Nest],
                        max_seq_len: int, episode_ids: Optional[np.ndarray] = None,
                        unroll_ids: Optional[np.ndarray] = None,
                        agent_indices: Optional[np.ndarray] = None, dynamic_max: bool = True,
                        shuffle: bool = False, seq_lens: Optional[np.ndarray] = None,
                        states_already_reduced_to_init: bool = False,
                        handle_nested_data: bool = False, _extra_padding: int = 0,
                        seed: Seed = None) -> Tuple[List[Any], List[Any], np.ndarray]:
    """Chops rows into sequences and right-zero-pads every feature column.

    Without `seq_lens`, a sequence ends where the episode id, the unroll id
    or the agent index changes (each compared on its own), or after
    `max_seq_len` rows. With `dynamic_max` the padded length T is
    `max(seq_lens) + _extra_padding`, else `max_seq_len`.

    Args:
      feature_columns: per-row columns, each `[N, ...]` (a nest of them with
        `handle_nested_data`).
      state_columns: per-row state columns `[N, ...]`, or one row per
        sequence with `states_already_reduced_to_init`.
      max_seq_len: the longest sequence.
      episode_ids, unroll_ids, agent_indices: optional `[N]` ids; a missing
        one never breaks a sequence.
      dynamic_max: shrink T to the longest sequence.
      shuffle: shuffle the sequences (features, states and lengths together).
      seq_lens: the sequence lengths, when already known.
      states_already_reduced_to_init: the state columns already hold one
        row per sequence.
      handle_nested_data: feature columns may be nests; each output is then
        the list of the column's padded leaves (dm-tree order).
      _extra_padding: extra rows of padding on every sequence (dynamic_max only).
      seed: the shuffle's seed: None (numpy's global state), an int or a
        `np.random.Generator`.

    Returns:
      `(feature_sequences, initial_states, seq_lens)`: one padded
      `[num_seqs * T, ...]` array per feature column (object and string
      columns padded with None), one `[num_seqs, ...]` array per state
      column (the state at each sequence's first row), and int32
      `seq_lens` of shape `[num_seqs]`.

    Raises:
      ValueError: `seq_lens` does not add up to the rows, or a feature
        column does not have one row per row of the batch.
    """
    first_leaves = [tree.flatten(column) if tree.is_nested(column) else [column]
                    for column in feature_columns]
    num_rows = None
    for leaves in first_leaves:
        if leaves:
            num_rows = len(leaves[0])
            break
    if num_rows is None:
        reference = next((c for c in (episode_ids, unroll_ids, agent_indices) if c is not None),
                         None)
        num_rows = len(reference) if reference is not None else 0
    if seq_lens is None or len(seq_lens) == 0:
        seq_lens = _sequence_lengths(num_rows, (episode_ids, unroll_ids, agent_indices),
                                     max_seq_len)
    else:
        seq_lens = np.asarray(seq_lens, dtype=np.int32)
        if int(seq_lens.sum()) != num_rows:
            raise ValueError(f"chop_into_sequences: seq_lens add up to {int(seq_lens.sum())} "
                             f"rows, the feature columns have {num_rows}")
    if dynamic_max:
        max_seq_len = (int(seq_lens.max()) if seq_lens.size else 0) + _extra_padding
    length = len(seq_lens) * max_seq_len
    positions = _padded_positions(seq_lens, max_seq_len)

    def pad(leaf: Any) -> np.ndarray:
        leaf = np.asarray(leaf)
        if len(leaf) != num_rows:
            raise ValueError(f"chop_into_sequences: a feature column has {len(leaf)} rows, "
                             f"expected {num_rows}")
        return _zero_pad_rows(leaf, positions, length)

    feature_sequences = []
    for column, leaves in zip(feature_columns, first_leaves):
        if handle_nested_data:
            feature_sequences.append([pad(leaf) for leaf in leaves])
        else:
            feature_sequences.append(pad(column))
    if states_already_reduced_to_init:
        initial_states = [np.asarray(s) if not tree.is_nested(s) else s for s in state_columns]
    else:
        starts = np.cumsum(seq_lens) - seq_lens
        initial_states = [tree.map_structure(lambda s: np.asarray(s)[starts], s)
                          for s in state_columns]
    if shuffle and len(seq_lens):
        order = _permutation(len(seq_lens), seed)

        def by_sequence(padded: np.ndarray) -> np.ndarray:
            folded = padded.reshape((len(seq_lens), max_seq_len) + padded.shape[1:])
            return folded[order].reshape(padded.shape)

        feature_sequences = [[by_sequence(leaf) for leaf in f] if handle_nested_data
                             else by_sequence(f) for f in feature_sequences]
        initial_states = [tree.map_structure(lambda s: s[order], s) for s in initial_states]
        seq_lens = seq_lens[order]
    return feature_sequences, initial_states, seq_lens


def pad_batch_to_sequences_of_same_size(batch: SampleBatch, max_seq_len: int,
                                        shuffle: bool = False, batch_divisibility_req: int = 1,
                                        feature_keys: Optional[Sequence[str]] = None,
                                        view_requirements: Optional[Mapping[str, Any]] = None
                                        ) -> None:
    """Chops a batch into zero-padded sequences, in place (RLlib's train-batch preparation).

    Recurrent batches (with `state_in_0` or `state_out_0`) are chopped with
    `chop_into_sequences` on the batch's `eps_id`, `unroll_id` and
    `agent_index`; `state_in_{i}` becomes one row per sequence (kept as is
    when it already is), `seq_lens` is set and `max_seq_len` becomes the
    padded length T. Other batches are chopped into sequences of
    `batch_divisibility_req` rows only when their row count is not a
    multiple of it (or the batch has several agents); otherwise they are
    just shuffled if `shuffle`. `state_out_*` and `infos` stay unpadded, and
    `count` stays the number of real rows. Sets `zero_padded`; a batch
    already zero-padded is left as it is.

    Args:
      batch: the batch, changed in place.
      max_seq_len: the longest sequence.
      shuffle: shuffle the sequences (or, for a batch that needs no
        padding, the rows).
      batch_divisibility_req: the row count the learner needs a multiple of.
      feature_keys: the columns to pad; default every column but
        `state_in_*`, `state_out_*`, `infos` and `seq_lens`.
      view_requirements: optional RLlib-style requirements; a `state_in_0`
        requirement with a `shift_from` (attention nets) pads to
        `max_seq_len` instead of the longest sequence.

    >>> batch = SampleBatch({"obs": np.arange(5.), "eps_id": np.array([0, 0, 0, 1, 1]),
    ...                      "state_in_0": np.arange(5.) * 10})
    >>> pad_batch_to_sequences_of_same_size(batch, max_seq_len=2)
    >>> batch["obs"], batch["state_in_0"], batch["seq_lens"], len(batch)
    (array([0., 1., 2., 0., 3., 4.]), array([ 0., 20., 30.]), array([2, 1, 2], dtype=int32), 5)
    """
    if batch.zero_padded:
        return
    batch.zero_padded = True
    agent_index = dict.get(batch, SampleBatch.AGENT_INDEX)
    single_agent = agent_index is None or len(agent_index) == 0 or int(np.max(agent_index)) == 0
    meets_divisibility = batch_divisibility_req <= 1 or (
        batch.count % batch_divisibility_req == 0 and single_agent)
    states_already_reduced_to_init = False
    if "state_in_0" in batch or "state_out_0" in batch:
        seq_lens = dict.get(batch, SampleBatch.SEQ_LENS)
        states_already_reduced_to_init = (
            seq_lens is not None and "state_in_0" in batch
            and len(dict.__getitem__(batch, "state_in_0")) == len(seq_lens))
        requirement = (view_requirements or {}).get("state_in_0")
        dynamic_max = getattr(requirement, "shift_from", None) is None
    elif not meets_divisibility:
        max_seq_len = batch_divisibility_req
        dynamic_max = False
    else:
        if shuffle:
            batch.shuffle()
        return
    state_keys = [k for k in dict.keys(batch) if k.startswith("state_in_")]
    if feature_keys is None:
        feature_keys = [k for k in dict.keys(batch)
                        if not k.startswith(("state_in_", "state_out_"))
                        and k not in (SampleBatch.INFOS, SampleBatch.SEQ_LENS)]
    columns = [dict.__getitem__(batch, k) for k in feature_keys]
    features, initial_states, seq_lens = chop_into_sequences(
        feature_columns=columns,
        state_columns=[dict.__getitem__(batch, k) for k in state_keys],
        max_seq_len=max_seq_len,
        episode_ids=dict.get(batch, SampleBatch.EPS_ID),
        unroll_ids=dict.get(batch, SampleBatch.UNROLL_ID),
        agent_indices=agent_index,
        dynamic_max=dynamic_max,
        shuffle=shuffle,
        seq_lens=dict.get(batch, SampleBatch.SEQ_LENS),
        states_already_reduced_to_init=states_already_reduced_to_init,
        handle_nested_data=True)
    for key, column, leaves in zip(feature_keys, columns, features):
        batch[key] = tree.unflatten_as(column, leaves) if tree.is_nested(column) else leaves[0]
    for key, state in zip(state_keys, initial_states):
        batch[key] = state
    batch[SampleBatch.SEQ_LENS] = seq_lens
    padded_rows = len(features[0][0]) if features and features[0] else 0
    batch.max_seq_len = padded_rows // len(seq_lens) if len(seq_lens) else max_seq_len


def add_time_dimension(padded_inputs: Any, *, seq_lens: Any, time_major: bool = False
                       ) -> tf.Tensor:
    """Folds zero-padded rows `[num_seqs * T, ...]` into `[num_seqs, T, ...]`.

    T is the row count divided by `len(seq_lens)`.

    Raises:
      ValueError: `time_major=True` (the rows are always batch-major here).

    >>> add_time_dimension(np.arange(6.), seq_lens=np.array([2, 3])).shape
    TensorShape([2, 3])
    """
    if time_major:
        raise ValueError("add_time_dimension: time-major rows are not supported; the padded rows "
                         "are sequence after sequence")
    padded_inputs = tf.convert_to_tensor(padded_inputs)
    num_seqs = tf.shape(seq_lens)[0]
    rows = tf.shape(padded_inputs)[0]
    new_shape = tf.concat([[num_seqs, rows // num_seqs], tf.shape(padded_inputs)[1:]], axis=0)
    return tf.reshape(padded_inputs, new_shape)


def sequence_mask(seq_lens: Any, max_seq_len: Optional[Any] = None) -> tf.Tensor:
    """The flat validity mask of zero-padded rows: bool `[num_seqs * T]`.

    Row `j * T + t` is valid iff `t < seq_lens[j]`. T is `max_seq_len`, or
    the longest sequence when None (pass the padded length T when the rows
    are padded further, e.g. `logits.shape[0] // len(seq_lens)`).

    >>> sequence_mask(np.array([2, 1]), 3).numpy()
    array([ True,  True, False,  True, False, False])
    """
    seq_lens = tf.convert_to_tensor(seq_lens)
    if max_seq_len is None:
        max_seq_len = tf.reduce_max(seq_lens)
    return tf.reshape(tf.sequence_mask(seq_lens, max_seq_len), [-1])


def reduce_mean_valid(x: Any, mask: Any) -> tf.Tensor:
    """The mean of `x` over the rows where `mask` is True.

    Args:
      x: `[num_seqs * T, ...]` per-row values.
      mask: bool `[num_seqs * T]`, from `sequence_mask`.

    >>> float(reduce_mean_valid(np.array([1., 3., 100.]), np.array([True, True, False])))
    2.0
    """
    return tf.reduce_mean(tf.boolean_mask(x, mask))


def valid_mean_fn(train_batch: Any, state: Sequence[Any], outputs: Any) -> Any:
    """The mean a loss takes over its rows: `tf.reduce_mean` for a feed-forward model
    (no `state`), else the mean over the valid rows of the zero-padded sequences
    (`seq_lens` from `train_batch`, `T` from the rows of `outputs`).

    Args:
      train_batch: the training batch (with `seq_lens` when `state` is not empty).
      state: the model's state outputs (empty for a feed-forward model).
      outputs: the model's outputs `[num_seqs * T, ...]`.

    Returns:
      A function `x -> scalar mean`.

    >>> mean = valid_mean_fn({"seq_lens": np.array([1, 2])}, [np.zeros(2)], np.zeros((4, 3)))
    >>> float(mean(np.array([1.0, 100.0, 3.0, 5.0])))
    3.0
    """
    if not state:
        return tf.reduce_mean
    seq_lens = train_batch[SampleBatch.SEQ_LENS]
    mask = sequence_mask(seq_lens, tf.shape(outputs)[0] // tf.shape(seq_lens)[0])
    return lambda x: reduce_mean_valid(x, mask)
