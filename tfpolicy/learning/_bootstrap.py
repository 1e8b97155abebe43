"""Where a `SampleBatch` ends, and the one-row model input for bootstrapping a value there.

All three functions are `SampleBatch` methods; postprocessing (e.g. GAE)
calls them on one trajectory's batch.
"""

from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

import numpy as np

from tfpolicy.learning._columns import _SEQ_LENS, _STATE_IN, _map

if TYPE_CHECKING:
    from tfpolicy.learning.sample_batch import SampleBatch


def is_terminated_or_truncated(batch: "SampleBatch") -> bool:
    """Whether the last row ends its episode (terminated, or truncated if present)."""
    truncateds = dict.get(batch, batch.TRUNCATEDS)
    return bool(batch[batch.TERMINATEDS][-1]) or (
        truncateds is not None and bool(truncateds[-1]))


def is_single_trajectory(batch: "SampleBatch") -> bool:
    """Whether no row but possibly the last ends an episode."""
    truncateds = dict.get(batch, batch.TRUNCATEDS)
    return not np.any(batch[batch.TERMINATEDS][:-1]) and (
        truncateds is None or not np.any(truncateds[:-1]))


def get_single_step_input_dict(batch: "SampleBatch",
                               view_requirements: Optional[Mapping[str, Any]] = None,
                               index: Union[str, int] = "last") -> "SampleBatch":
    """A one-row batch to call the model with, e.g. for value bootstrapping.

    With `index="last"` it is the step after the last row: `obs` is
    `new_obs[-1:]`, `prev_actions` is `actions[-1:]` and `prev_rewards` is
    `rewards[-1:]` (each when the batch has a `prev_*` column), and
    `state_in_{i}` is `state_out_{i}[-1:]`. With an int index it is that
    row of `obs`, `prev_actions`, `prev_rewards` and `state_in_*`. When
    there is state, `seq_lens` is `[1]` (int32).

    Args:
      view_requirements: optional RLlib-style mapping from input column to
        a requirement with `data_col` and `used_for_compute_actions`
        attributes; when given, its columns are the inputs (requirements
        with `used_for_compute_actions=False` are skipped).
      index: `"last"` or a row index.

    Returns:
      A `SampleBatch` of one row.

    Raises:
      KeyError: a needed column (e.g. `new_obs`) is missing.
      ValueError: an int index on a batch whose `state_in_*` holds one row
        per sequence, or a requirement over a range of rows.

    >>> from tfpolicy.learning.sample_batch import SampleBatch
    >>> batch = SampleBatch({"obs": np.array([[0.], [1.]]), "new_obs": np.array([[1.], [2.]]),
    ...                      "state_out_0": np.array([[5.], [6.]])})
    >>> step = batch.get_single_step_input_dict(index="last")
    >>> step["obs"], step["state_in_0"], step["seq_lens"]
    (array([[2.]]), array([[6.]]), array([1], dtype=int32))
    """
    last = index == "last"
    if last:
        sources = {batch.OBS: batch.NEXT_OBS, batch.PREV_ACTIONS: batch.ACTIONS,
                   batch.PREV_REWARDS: batch.REWARDS}
    else:
        sources = {}
    if view_requirements is None:
        columns = {batch.OBS: batch.OBS}
        for prev in (batch.PREV_ACTIONS, batch.PREV_REWARDS):
            if dict.__contains__(batch, prev):
                columns[prev] = prev
        i = 0
        state_key = "state_out_" if last else _STATE_IN
        while dict.__contains__(batch, f"{state_key}{i}"):
            columns[f"state_in_{i}"] = f"{state_key}{i}"
            i += 1
    else:
        columns = {}
        for view_col, requirement in view_requirements.items():
            if getattr(requirement, "used_for_compute_actions", True) is False:
                continue
            if getattr(requirement, "shift_from", None) is not None:
                raise ValueError(
                    f"SampleBatch.get_single_step_input_dict: the requirement of "
                    f"{view_col!r} spans a range of rows, which is not supported")
            columns[view_col] = getattr(requirement, "data_col", None) or view_col
    has_state = any(k.startswith(_STATE_IN) for k in columns)
    if not last and has_state and dict.__contains__(batch, _SEQ_LENS):
        raise ValueError(
            "SampleBatch.get_single_step_input_dict: an int index needs state_in_* with one "
            "row per timestep, but this batch has seq_lens (one state row per sequence)")
    if last:
        take = lambda v: v[-1:]  # noqa: E731
    else:
        take = lambda v: v[index:index + 1] if index != -1 else v[-1:]  # noqa: E731
    data = {view_col: _map(take, batch[sources.get(col, col)])
            for view_col, col in columns.items()}
    if has_state:
        data[_SEQ_LENS] = np.array([1], dtype=np.int32)
    return type(batch)(data)
