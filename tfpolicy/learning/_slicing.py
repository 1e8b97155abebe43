"""Slices of a `SampleBatch`: row ranges, time slices, episodes and environment steps.

Slices are numpy views; a slice of a batch with `seq_lens` snaps to whole
sequences, so it never cuts one. `timeslices` and `split_by_episode` are
`SampleBatch` methods.
"""

import numbers
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from tfpolicy.learning._columns import _SEQ_LENS, _STATE_IN, _leading_dim, _map, _map_with_path

if TYPE_CHECKING:
    from tfpolicy.learning.sample_batch import SampleBatch


def slice_rows(batch: "SampleBatch", index: slice) -> "SampleBatch":
    """`batch[index]`: rows `index` as a new batch of views."""
    if index.step not in (None, 1):
        raise ValueError(f"SampleBatch slices take a step of 1; got {index.step}")
    start, stop, _ = index.indices(batch.count)
    stop = max(start, stop)
    seq_lens = dict.get(batch, _SEQ_LENS)
    if isinstance(seq_lens, np.ndarray) and seq_lens.size:
        return _slice_sequences(batch, start, stop)
    data = {key: _map(lambda v: v[start:stop], value) for key, value in dict.items(batch)}
    return batch._wrap(data, stop - start, is_training=batch._is_training,
                       time_major=batch.time_major, num_grad_updates=batch.num_grad_updates)


def _slice_sequences(batch: "SampleBatch", start: int, stop: int) -> "SampleBatch":
    """Rows `[start, stop)` snapped to whole sequences: from the sequence holding `start`
    up to, not including, the one holding `stop`."""
    offsets = batch._seq_offsets()
    num_seqs, total = len(offsets) - 1, int(offsets[-1])

    def sequence_at(row: int) -> int:
        if row >= total:
            return num_seqs
        return int(np.searchsorted(offsets, row, side="right")) - 1

    s0, s1 = sequence_at(start), sequence_at(stop)
    u0, u1 = int(offsets[s0]), int(offsets[s1])
    step = batch.max_seq_len if batch.zero_padded else None
    padded_rows = num_seqs * step if step else None

    def cutter(key: str) -> Callable[[str, Any], Any]:
        per_sequence = key.startswith(_STATE_IN)

        def cut(path: str, leaf: Any) -> Any:
            rows = _leading_dim(leaf)
            if per_sequence and rows == num_seqs:
                return leaf[s0:s1]
            if padded_rows is not None and rows == padded_rows:
                return leaf[s0 * step:s1 * step]
            if rows == total:
                return leaf[u0:u1]
            padded = f" ({padded_rows} zero-padded)" if padded_rows is not None else ""
            raise ValueError(
                f"SampleBatch cannot slice column '{path}': it has {rows} rows, but the batch "
                f"has {total} rows{padded} in {num_seqs} sequences")

        return cut

    data = {}
    for key, value in dict.items(batch):
        if key == _SEQ_LENS:
            data[key] = value[s0:s1]
        else:
            data[key] = _map_with_path(cutter(key), key, value)
    seq_lens = data[_SEQ_LENS]
    max_seq_len = step if step else (int(seq_lens.max()) if seq_lens.size else None)
    return batch._wrap(data, u1 - u0, is_training=batch._is_training,
                       time_major=batch.time_major, zero_padded=batch.zero_padded,
                       max_seq_len=max_seq_len, num_grad_updates=batch.num_grad_updates)


def timeslices(batch: "SampleBatch", size: Optional[int] = None,
               num_slices: Optional[int] = None) -> List["SampleBatch"]:
    """Consecutive slices (views) of `size` rows, or `num_slices` slices of near-equal size.

    With `size` the last slice may be shorter. With `num_slices` each next
    slice takes `remaining // slices_left` rows, so later slices are the
    longer ones. Slices of a `seq_lens` batch snap to whole sequences.

    Args:
      size: rows per slice, > 0.
      num_slices: how many slices, > 0.

    Returns:
      The list of slices.

    Raises:
      ValueError: unless exactly one of `size` and `num_slices` is a positive int.

    >>> from tfpolicy.learning.sample_batch import SampleBatch
    >>> [len(s) for s in SampleBatch({"a": np.arange(5)}).timeslices(num_slices=2)]
    [2, 3]
    """
    if (size is None) == (num_slices is None):
        raise ValueError(f"SampleBatch.timeslices takes exactly one of size and num_slices; "
                         f"got size={size!r}, num_slices={num_slices!r}")
    given = size if size is not None else num_slices
    if isinstance(given, bool) or not isinstance(given, numbers.Integral) or given <= 0:
        name = "size" if size is not None else "num_slices"
        raise ValueError(
            f"SampleBatch.timeslices: {name} must be a positive int; got {given!r}")
    count = batch.count
    if size is not None:
        return [batch[start:start + size] for start in range(0, count, size)]
    slices, start, left = [], 0, count
    while left:
        length = left // (num_slices - len(slices))
        slices.append(batch[start:start + length])
        start, left = start + length, left - length
    return slices


def split_by_episode(batch: "SampleBatch", key: Optional[str] = None) -> List["SampleBatch"]:
    """Splits into one slice (a view) per episode.

    By `eps_id` (a new slice wherever it changes, so an id that comes back
    later starts another slice), or by `dones` (a slice ends after each
    terminated or truncated row; rows after the last one form a final
    slice). `key=None` uses `eps_id` when the batch has it, else `dones`.

    Args:
      key: None, `"eps_id"` or `"dones"`.

    Returns:
      The slices, in order; `[]` for an empty batch.

    Raises:
      ValueError: for another `key`, or if the slices do not add up to the
        batch (episode boundaries inside sequences of a `seq_lens` batch).
      KeyError: if the column to split by is missing.

    >>> from tfpolicy.learning.sample_batch import SampleBatch
    >>> batch = SampleBatch({"a": np.arange(5), "terminateds": np.array([0, 0, 1, 0, 0])})
    >>> [s["a"].tolist() for s in batch.split_by_episode()]
    [[0, 1, 2], [3, 4]]
    """
    if key not in (None, batch.EPS_ID, batch.DONES):
        raise ValueError(f"SampleBatch.split_by_episode: key must be one of None, "
                         f"'{batch.EPS_ID}', '{batch.DONES}'; got {key!r}")
    count = batch.count
    if key == batch.EPS_ID or (key is None and dict.__contains__(batch, batch.EPS_ID)):
        eps_id = np.asarray(batch[batch.EPS_ID])[:count]
        starts = np.flatnonzero(eps_id[1:] != eps_id[:-1]) + 1
        bounds = [0, *starts.tolist(), count]
    else:
        ends = (np.flatnonzero(batch._dones()[:count]) + 1).tolist()
        bounds = [0, *ends] + ([count] if not ends or ends[-1] != count else [])
    if count == 0:
        return []
    slices = [batch[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    if sum(s.count for s in slices) != count:
        raise ValueError(
            f"SampleBatch.split_by_episode: the episode boundaries {bounds} cut sequences of "
            f"this batch (seq_lens {dict.get(batch, _SEQ_LENS)}); split before chopping into "
            f"sequences")
    return slices


def env_step_slices(policy_batches: Mapping[Any, "SampleBatch"], k: int
                    ) -> List[Tuple[Dict[Any, np.ndarray], int]]:
    """`MultiAgentBatch.timeslices`: per slice of `k` environment steps, the rows of each
    policy batch it holds (policies without rows left out) and its number of steps."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k <= 0:
        raise ValueError(f"MultiAgentBatch.timeslices: k must be a positive int; got {k!r}")
    policy_ids = list(policy_batches)
    rank = {pid: r for r, pid in enumerate(sorted(policy_ids, key=str))}
    eps, t, agent, policy, row = [], [], [], [], []
    for pid in policy_ids:
        batch = policy_batches[pid]
        if dict.__contains__(batch, _SEQ_LENS):
            raise ValueError(f"MultiAgentBatch.timeslices: policy {pid!r}'s batch has "
                             f"seq_lens; slice it before chopping into sequences")
        n = batch.count
        eps.append(np.asarray(batch[batch.EPS_ID])[:n])
        t.append(np.asarray(batch[batch.T])[:n])
        agent.append(np.asarray(batch[batch.AGENT_INDEX])[:n])
        policy.append(np.full(n, rank[pid]))
        row.append(np.arange(n))
    if not eps or not sum(len(e) for e in eps):
        return []
    eps, t, agent, policy, row = map(np.concatenate, (eps, t, agent, policy, row))
    order = np.lexsort((row, policy, agent, t, eps))
    new_step = np.ones(len(order), dtype=bool)
    new_step[1:] = (eps[order][1:] != eps[order][:-1]) | (t[order][1:] != t[order][:-1])
    step = np.cumsum(new_step) - 1
    num_steps = int(step[-1]) + 1
    out = []
    for first_step in range(0, num_steps, k):
        chosen = order[(step >= first_step) & (step < first_step + k)]
        rows_by_policy = {}
        for pid in policy_ids:
            rows = row[chosen[policy[chosen] == rank[pid]]]
            if rows.size:
                rows_by_policy[pid] = rows
        out.append((rows_by_policy, min(k, num_steps - first_step)))
    return out
