"""Minibatch SGD helpers: standardizing a column, cutting a batch into minibatches, and
`do_minibatch_sgd` (RLlib's name), the learning step the algorithms and the sync
policy optimizer share.

>>> batch = SampleBatch({"obs": np.arange(10.)})
>>> [len(mb) for mb in minibatches(batch, 4, shuffle=False)]
[4, 4, 2]
>>> standardized(np.array([1., 2., 3.]))
array([-1.22474487,  0.        ,  1.22474487])
"""

from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np

from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch, Seed

__all__ = [
    "standardized",
    "minibatches",
    "do_minibatch_sgd",
]


def standardized(array: np.ndarray) -> np.ndarray:
    """`(array - mean) / max(1e-4, std)`, with the mean and (population) std over all elements.

    The std is clamped at 1e-4 rather than offset, so a constant array
    becomes zeros. A float32 array stays float32.

    Args:
      array: any shape.

    Returns:
      An array of the same shape.
    """
    return (array - array.mean()) / max(1e-4, array.std())


def minibatches(samples: SampleBatch, sgd_minibatch_size: int, shuffle: bool = True,
                seed: Seed = None) -> Iterator[SampleBatch]:
    """Yields the minibatches of one SGD epoch over `samples`.

    Rows without sequences are cut into consecutive chunks of
    `sgd_minibatch_size` (the last may be shorter); with `shuffle`, the rows
    of a non-recurrent batch (no `state_in_0`/`state_out_0`) are shuffled
    first, into a new batch (`samples` itself is left as it is). A batch with
    `seq_lens` is cut between whole sequences: a minibatch takes sequences
    until it holds at least `sgd_minibatch_size` rows, and the remaining
    sequences form a last, smaller one. With `shuffle` the order of the
    minibatches is shuffled too. Minibatches of unshuffled rows are views.

    Args:
      samples: one policy's batch.
      sgd_minibatch_size: rows per minibatch; 0 or None yields `samples` whole.
      shuffle: shuffle the rows (non-recurrent batches) and the minibatch order.
      seed: None (numpy's global random state), an int or a `np.random.Generator`.

    Yields:
      `SampleBatch` minibatches that together hold every row once.

    Raises:
      ValueError: `samples` is a `MultiAgentBatch`.
    """
    if not sgd_minibatch_size:
        yield samples
        return
    if isinstance(samples, MultiAgentBatch):
        raise ValueError(
            "minibatches takes one policy's SampleBatch, not a MultiAgentBatch; iterate over "
            "batch.policy_batches.items() and call minibatches on each policy's batch")
    rng: Union[Seed, np.random.Generator] = seed
    if isinstance(seed, (int, np.integer)):
        rng = np.random.default_rng(seed)  # one stream for the rows and the order
    seq_lens = dict.get(samples, SampleBatch.SEQ_LENS)
    if seq_lens is not None and len(seq_lens):
        bounds = _sequence_bounds(np.asarray(seq_lens), sgd_minibatch_size)
    else:
        recurrent = "state_in_0" in samples or "state_out_0" in samples
        if shuffle and not recurrent:
            samples = samples.copy(shallow=True).shuffle(rng)
        count = samples.count
        bounds = [(i, min(i + sgd_minibatch_size, count))
                  for i in range(0, count, sgd_minibatch_size)]
    if shuffle:
        order = rng.permutation(len(bounds)) if rng is not None else \
            np.random.permutation(len(bounds))
        bounds = [bounds[i] for i in order]
    for start, stop in bounds:
        yield samples[start:stop]


def _sequence_bounds(seq_lens: np.ndarray, size: int) -> list:
    """Unpadded row ranges of consecutive whole sequences holding at least `size` rows each
    (the last range may hold fewer)."""
    bounds, start, rows = [], 0, 0
    for length in seq_lens.tolist():
        rows += length
        if rows - start >= size:
            bounds.append((start, rows))
            start = rows
    if rows > start:
        bounds.append((start, rows))
    return bounds


def do_minibatch_sgd(samples: Union[SampleBatch, MultiAgentBatch], policies: Mapping[str, Any],
                     num_sgd_iter: int = 1, sgd_minibatch_size: Optional[int] = None,
                     seed: Seed = None,
                     policies_to_train: Optional[Union[Sequence[str], Callable[..., bool]]] = None
                     ) -> Dict[str, Dict[str, Any]]:
    """Learns on `samples` with each policy's `learn_on_batch`; returns `{policy_id: info}`.

    With `num_sgd_iter == 1` and no `sgd_minibatch_size`, each policy
    learns once on its whole batch. Otherwise it makes `num_sgd_iter`
    passes over its batch in shuffled minibatches of `sgd_minibatch_size`
    rows (whole sequences for recurrent policies, see `minibatches`), and
    its `learner_stats` are the means over the minibatches of the last
    pass (RLlib's `do_minibatch_sgd`).

    Args:
      samples: a `SampleBatch` (the default policy's) or a `MultiAgentBatch`.
      policies: policy id -> policy (a worker's `policy_map`).
      num_sgd_iter: passes over each batch.
      sgd_minibatch_size: rows per minibatch; None (or 0) is the whole batch.
      seed: what shuffles (a `np.random.Generator` keeps a run repeatable).
      policies_to_train: the ids to train (a list, or `fn(policy_id, batch)`);
        None trains every policy with rows in `samples`.

    Returns:
      The learner info of each policy that learned.

    Raises:
      KeyError: a policy id of `samples` missing from `policies`.
    """
    batches = (samples.policy_batches if isinstance(samples, MultiAgentBatch)
               else {DEFAULT_POLICY_ID: samples})
    results: Dict[str, Dict[str, Any]] = {}
    for pid, batch in batches.items():
        if policies_to_train is not None and not (
                policies_to_train(pid, samples) if callable(policies_to_train)
                else pid in policies_to_train):
            continue
        if pid not in policies:
            raise KeyError(f"do_minibatch_sgd: the batch holds policy {pid!r}, the worker has "
                           f"{sorted(policies)}")
        policy = policies[pid]
        if num_sgd_iter == 1 and not sgd_minibatch_size:
            results[pid] = policy.learn_on_batch(batch)
            continue
        size = int(sgd_minibatch_size or len(batch))
        last: Dict[str, Any] = {}
        stats: Dict[str, List[Any]] = {}
        for _ in range(num_sgd_iter):
            stats = {}
            for minibatch in minibatches(batch, size, shuffle=True, seed=seed):
                last = policy.learn_on_batch(minibatch)
                for key, value in last.get("learner_stats", {}).items():
                    stats.setdefault(key, []).append(value)
        info = {k: v for k, v in last.items() if k != "learner_stats"}
        info["learner_stats"] = {k: float(np.mean(v)) for k, v in stats.items()}
        results[pid] = info
    return results
