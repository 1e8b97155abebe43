"""Sample batches: RLlib's column-oriented experience, for the learning layer.

A `SampleBatch` is a dict of columns that share their leading (row) dim: one
row per environment step of one agent. A column is a numpy array of shape
`[N, ...]`, or a dict/tuple nest of such arrays (dm-tree) for nested
observations and actions. Column names are RLlib's (`SampleBatch.OBS` is
`"obs"`, ...); recurrent state lives in `state_in_{i}`/`state_out_{i}`, and a
batch chopped into sequences carries `seq_lens` (then `state_in_{i}` holds one
row per sequence, see `tfpolicy.learning.rnn_sequencing`).

Slices are numpy views; a slice of a batch with `seq_lens` snaps to whole
sequences, so it never cuts one.

>>> batch = SampleBatch({"obs": np.arange(8.).reshape(4, 2),
...                      "rewards": np.array([1., 0., 2., 3.], np.float32),
...                      "eps_id": np.array([7, 7, 9, 9])})
>>> len(batch), batch[1:3]["rewards"]
(4, array([0., 2.], dtype=float32))
>>> [len(episode) for episode in batch.split_by_episode()]
[2, 2]
>>> concat_samples([batch, batch[:1]])["eps_id"]
array([7, 7, 9, 9, 7])
"""

from typing import Any, Dict, List, Sequence, Union

import numpy as np

from tfpolicy.learning import _bootstrap, _columns, _concat, _padding, _slicing, _trajectory
from tfpolicy.learning._check_columns import check_columns
from tfpolicy.learning._column_dict import ColumnDict
from tfpolicy.learning._columns import DEFAULT_POLICY_ID, _map

__all__ = [
    "DEFAULT_POLICY_ID",
    "SampleBatch",
    "MultiAgentBatch",
    "concat_samples",
    "concat_samples_into_ma_batch",
    "check_columns",
]

# `sgd` and `rnn_sequencing` type their seeds with it.
Seed = _columns.Seed


class SampleBatch(ColumnDict):
    """A dict of columns with one row per step, with RLlib's names and semantics.

    Construction takes what `dict` takes, plus RLlib's private keywords
    `_time_major`, `_max_seq_len`, `_zero_padded`, `_is_training` and
    `_num_grad_updates`. Lists and scalars become numpy arrays (an `infos` list
    becomes a 1-D object array), `seq_lens` becomes int32 and is dropped when
    None or empty, and `max_seq_len` defaults to `max(seq_lens)`.

    `count` (also `len`) is `sum(seq_lens)` when the batch has `seq_lens`,
    otherwise the row count of the first column that is not `infos` or state.
    It follows the columns: setting or deleting a column recounts.

    Reading `batch["dones"]` gives `terminateds | truncateds`; setting it
    raises `KeyError`. Reading a missing column raises a `KeyError` that names
    the column and the columns present.

    Attributes:
      count: the number of rows (timesteps).
      max_seq_len: the sequence length of a batch with `seq_lens` (the padded
        length once `zero_padded`), else None.
      zero_padded: whether the sequences are right-zero-padded to `max_seq_len`.
      time_major: RLlib's flag; kept for concatenation checks.
      num_grad_updates: how many updates the sampling policy had seen.
      accessed_keys, added_keys, deleted_keys: the columns read, added and
        deleted since construction.
    """

    # Slicing; `batch[start:stop]` too (see `_slicing`).

    timeslices = _slicing.timeslices

    # Reordering and splitting (see `_padding` and `_slicing`).

    shuffle = _padding.shuffle
    split_by_episode = _slicing.split_by_episode
    right_zero_pad = _padding.right_zero_pad

    # Episodes and bootstrapping (see `_bootstrap`).

    is_terminated_or_truncated = _bootstrap.is_terminated_or_truncated
    is_single_trajectory = _bootstrap.is_single_trajectory
    get_single_step_input_dict = _bootstrap.get_single_step_input_dict

    # Multi-agent and concatenation.

    def as_multi_agent(self) -> "MultiAgentBatch":
        """This batch as the only policy batch (`DEFAULT_POLICY_ID`) of a `MultiAgentBatch`."""
        return MultiAgentBatch({DEFAULT_POLICY_ID: self}, self.count)

    def concat(self, other: "SampleBatch") -> "SampleBatch":
        """`concat_samples([self, other])`."""
        return concat_samples([self, other])

    @staticmethod
    def concat_samples(samples: Sequence[Union["SampleBatch", "MultiAgentBatch"]]
                       ) -> Union["SampleBatch", "MultiAgentBatch"]:
        """The module-level `concat_samples`."""
        return concat_samples(samples)

    # Trajectories (see `_trajectory`).

    from_trajectory = classmethod(_trajectory.from_trajectory)
    to_trajectory = _trajectory.to_trajectory


def _take_rows(batch: SampleBatch, rows: np.ndarray) -> SampleBatch:
    """A batch of the given rows (copies), for batches without sequences."""
    data = {key: _map(lambda v: v[rows], value) for key, value in dict.items(batch)}
    return SampleBatch._wrap(data, len(rows), is_training=batch._is_training,
                             time_major=batch.time_major,
                             num_grad_updates=batch.num_grad_updates)


class MultiAgentBatch:
    """One `SampleBatch` per policy, and the number of environment steps they cover.

    Args:
      policy_batches: policy id to that policy's `SampleBatch`.
      env_steps: environment steps in the batch (each may hold several agent steps).

    Raises:
      TypeError: a value of `policy_batches` is not a `SampleBatch`.

    >>> ma = MultiAgentBatch({"a": SampleBatch({"obs": np.zeros(3)}),
    ...                       "b": SampleBatch({"obs": np.zeros(2)})}, env_steps=3)
    >>> ma.env_steps(), ma.agent_steps()
    (3, 5)
    """

    def __init__(self, policy_batches: Dict[Any, SampleBatch], env_steps: int):
        for policy_id, batch in policy_batches.items():
            if not isinstance(batch, SampleBatch):
                raise TypeError(f"MultiAgentBatch: policy {policy_id!r} has a "
                                f"{type(batch).__name__}, not a SampleBatch")
        self.policy_batches = policy_batches
        self.count = env_steps

    def env_steps(self) -> int:
        """The number of environment steps."""
        return self.count

    def agent_steps(self) -> int:
        """The number of agent steps: the sum of the policy batches' counts."""
        return sum(batch.count for batch in self.policy_batches.values())

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, policy_id: Any) -> SampleBatch:
        return self.policy_batches[policy_id]

    def copy(self) -> "MultiAgentBatch":
        """A deep copy."""
        return MultiAgentBatch({k: v.copy() for k, v in self.policy_batches.items()}, self.count)

    def as_multi_agent(self) -> "MultiAgentBatch":
        """`self`."""
        return self

    def size_bytes(self) -> int:
        """The bytes held by all policy batches."""
        return sum(batch.size_bytes() for batch in self.policy_batches.values())

    @staticmethod
    def wrap_as_needed(policy_batches: Dict[Any, SampleBatch],
                       env_steps: int) -> Union[SampleBatch, "MultiAgentBatch"]:
        """The `DEFAULT_POLICY_ID` batch itself when it is the only one, else a MultiAgentBatch."""
        if len(policy_batches) == 1 and DEFAULT_POLICY_ID in policy_batches:
            return policy_batches[DEFAULT_POLICY_ID]
        return MultiAgentBatch(policy_batches, env_steps)

    def timeslices(self, k: int) -> List["MultiAgentBatch"]:
        """Batches of `k` environment steps each (the last may hold fewer), all policies together.

        The rows of all policies are ordered by `(eps_id, t, agent_index,
        policy id)`; rows with the same `(eps_id, t)` form one environment
        step. Every policy batch needs `eps_id`, `t` and `agent_index`.

        Raises:
          ValueError: `k` is not a positive int, or a policy batch has `seq_lens`.
          KeyError: a policy batch lacks one of the columns above.
        """
        return [MultiAgentBatch({pid: _take_rows(self.policy_batches[pid], rows)
                                 for pid, rows in rows_by_policy.items()}, env_steps)
                for rows_by_policy, env_steps in _slicing.env_step_slices(self.policy_batches, k)]

    def __repr__(self) -> str:
        return f"MultiAgentBatch({self.policy_batches}, env_steps={self.count})"


def concat_samples(samples: Sequence[Union[SampleBatch, MultiAgentBatch]]
                   ) -> Union[SampleBatch, MultiAgentBatch]:
    """Concatenates batches row-wise (a new batch; the inputs are unchanged).

    Empty batches are skipped. With any `MultiAgentBatch` among the inputs the
    result is a `MultiAgentBatch` (see `concat_samples_into_ma_batch`).
    Every non-empty batch must have the same columns with the same nest
    structure; leaves are concatenated along axis 0 (numpy dtype promotion),
    `seq_lens` too. `zero_padded` and `time_major` must agree, `max_seq_len`
    must be given by all or none (and agree when zero-padded; the result
    takes the largest), `num_grad_updates` is averaged weighted by count, and
    `is_training` is kept when all agree.

    Args:
      samples: the batches.

    Returns:
      The concatenated batch; an empty `SampleBatch` if all are empty.

    Raises:
      ValueError: a column only some batches have, a different nest
        structure or inner shape under a column, or inconsistent flags.

    >>> a = SampleBatch({"obs": {"x": np.zeros((2, 3))}, "seq_lens": [2]})
    >>> b = SampleBatch({"obs": {"x": np.ones((1, 3))}, "seq_lens": [1]})
    >>> c = concat_samples([a, b])
    >>> c["obs"]["x"].shape, c["seq_lens"], c.max_seq_len
    ((3, 3), array([2, 1], dtype=int32), 2)
    """
    if any(isinstance(s, MultiAgentBatch) for s in samples):
        return concat_samples_into_ma_batch(samples)
    indexed = [(i, s) for i, s in enumerate(samples) if s.count > 0]
    if not indexed:
        return SampleBatch()
    flags = _concat.merged_flags(indexed)
    return SampleBatch._wrap(_concat.concat_columns(indexed), sum(s.count for _, s in indexed),
                             **flags)


def concat_samples_into_ma_batch(samples: Sequence[Union[SampleBatch, MultiAgentBatch]]
                                 ) -> MultiAgentBatch:
    """Concatenates into a `MultiAgentBatch`, policy by policy.

    A non-empty `SampleBatch` counts as the `DEFAULT_POLICY_ID` batch; empty
    ones are skipped. `env_steps` is the sum of the inputs' `env_steps()`.

    Raises:
      ValueError: an input is neither a `SampleBatch` nor a `MultiAgentBatch`.
    """
    per_policy: Dict[Any, List[SampleBatch]] = {}
    env_steps = 0
    for s in samples:
        if isinstance(s, SampleBatch):
            if s.count <= 0:
                continue
            s = s.as_multi_agent()
        elif not isinstance(s, MultiAgentBatch):
            raise ValueError(f"concat_samples_into_ma_batch concatenates SampleBatch and "
                             f"MultiAgentBatch objects, not {type(s).__name__}")
        for policy_id, batch in s.policy_batches.items():
            per_policy.setdefault(policy_id, []).append(batch)
        env_steps += s.env_steps()
    return MultiAgentBatch({pid: concat_samples(b) for pid, b in per_policy.items()}, env_steps)
