"""Minibatch SGD helpers: standardizing a column and cutting a batch into minibatches.

>>> batch = SampleBatch({"obs": np.arange(10.)})
>>> [len(mb) for mb in minibatches(batch, 4, shuffle=False)]
[4, 4, 2]
>>> standardized(np.array([1., 2., 3.]))
array([-1.22474487,  0.        ,  1.22474487])
"""

from typing import Iterator, Union

import numpy as np

from tfpolicy.learning.sample_batch import MultiAgentBatch, SampleBatch, Seed

__all__ = [
    "standardized",
    "minibatches",
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
