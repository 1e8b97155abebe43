"""`SampleBatch` rows from a `Trajectory` and back (`from_trajectory`, `to_trajectory`).

A `[T]` or `[B, T]` trajectory becomes one row per step, each batch entry's
steps contiguous; `to_trajectory` inverts it exactly, and derives step types,
discounts and boundary rows for a batch sampled without them.
"""

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import tree

from specs import nest_utils
from specs.types import Nest
from tfpolicy.learning._columns import _map
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.time_step import StepType
from tfpolicy.trajectories.trajectory import Trajectory

if TYPE_CHECKING:
    from tfpolicy.learning.sample_batch import SampleBatch


def from_trajectory(cls: type, trajectory: Trajectory, next_observation: Nest = None, *,
                    drop_boundaries: bool = False) -> "SampleBatch":
    """The rows of a `Trajectory` (`[T]` or `[B, T]`) as batch columns.

    The rows of batch entry `b` are rows `b * T ... b * T + T - 1` (each
    batch entry's steps stay contiguous, so episodes and sequences do).
    Columns:

    - `obs`, `actions`, `rewards`: the observation, action and reward.
    - `terminateds`: the next step is LAST with discount 0; `truncateds`:
      LAST with a nonzero discount (gymnasium truncation).
    - `eps_id` (int64): a new id at every FIRST step, unique across batch
      entries; `unroll_id` (int64): the batch entry, so recurrent
      sequences never join two entries.
    - `action_logp`: the policy info's `log_probability`, when it has one;
      `policy_info`: the whole policy info, unless it is `()`.
    - `step_type`, `next_step_type`, `discount`: kept for `to_trajectory`.
    - `new_obs`, when every row's next observation is known: the next
      row's observation, and `next_observation` after each entry's final
      row; without `next_observation`, only when `drop_boundaries`
      removes every final row.

    A boundary row (step type LAST, into the next episode's FIRST step)
    holds no transition. Keep it (the default) and `to_trajectory` gives
    the trajectory back exactly; pass `drop_boundaries=True` for RLlib's
    rows, one per transition, before postprocessing and learning.

    Args:
      trajectory: numpy (or eager tensor) rows with outer dims `[T]` or `[B, T]`.
      next_observation: optional, the observation after each batch entry's
        final row, with outer dims `[B]` (none for a `[T]` trajectory).
      drop_boundaries: leave out the boundary rows.

    Returns:
      The `SampleBatch`.

    Raises:
      ValueError: the outer dims are not `[T]` or `[B, T]` for every leaf,
        or `next_observation` does not match the observation.

    >>> from tfpolicy.learning.sample_batch import SampleBatch
    >>> from tfpolicy.trajectories import Trajectory
    >>> traj = Trajectory(step_type=np.array([0, 1, 2], np.int32),
    ...                   observation=np.array([10, 11, 12]),
    ...                   action=np.array([5, 6, 0]), policy_info=(),
    ...                   next_step_type=np.array([1, 2, 0], np.int32),
    ...                   reward=np.array([1., 2., 0.], np.float32),
    ...                   discount=np.array([1., 0., 1.], np.float32))
    >>> batch = SampleBatch.from_trajectory(traj, drop_boundaries=True)
    >>> batch["obs"], batch["new_obs"], batch["terminateds"]
    (array([10, 11]), array([11, 12]), array([False,  True]))
    """
    traj = tree.map_structure(np.asarray, trajectory)
    rank = np.ndim(traj.step_type)
    if rank not in (1, 2):
        raise ValueError(f"SampleBatch.from_trajectory needs rows with outer dims [T] or [B, T]; "
                         f"step_type has shape {np.shape(traj.step_type)}")
    if rank == 1:
        traj = tree.map_structure(lambda x: x[None], traj)
        if next_observation is not None:
            next_observation = tree.map_structure(lambda x: np.asarray(x)[None], next_observation)
    batch_size, steps = traj.step_type.shape
    for path, leaf in nest_utils.flatten_with_paths(traj._asdict()):
        if np.shape(leaf)[:2] != (batch_size, steps):
            raise ValueError(nest_utils.nest_error_message(
                "trajectory", path,
                f"expected outer dims {(batch_size, steps)[2 - rank:]} (those of step_type)",
                value=leaf[0] if rank == 1 else leaf))
    rows = batch_size * steps

    def flat(x: np.ndarray) -> np.ndarray:
        return x.reshape((rows,) + x.shape[2:])

    boundary = traj.step_type == StepType.LAST
    final_rows_dropped = drop_boundaries and bool(boundary[:, -1].all())
    data = {cls.OBS: _map(flat, traj.observation)}
    if next_observation is not None:
        if not nest_utils.same_structure(traj.observation, next_observation):
            raise ValueError(
                f"SampleBatch.from_trajectory: next_observation has the structure "
                f"{nest_utils.describe_value(next_observation)}, the observation "
                f"{nest_utils.describe_value(traj.observation)}")

        def shift(x: np.ndarray, after: Any) -> np.ndarray:
            after = np.asarray(after)
            if after.shape != (batch_size,) + x.shape[2:]:
                raise ValueError(
                    f"SampleBatch.from_trajectory: next_observation has shape "
                    f"{after.shape[1:] if rank == 1 else after.shape}, expected "
                    f"{x.shape[2:] if rank == 1 else (batch_size,) + x.shape[2:]}")
            return flat(np.concatenate([x[:, 1:], after[:, None].astype(x.dtype)], axis=1))

        data[cls.NEXT_OBS] = tree.map_structure(
            shift, traj.observation, tree.map_structure(np.asarray, next_observation))
    elif final_rows_dropped:
        # The final rows are boundaries, dropped below: their next observation is never used.
        data[cls.NEXT_OBS] = _map(
            lambda x: flat(np.concatenate([x[:, 1:], x[:, -1:]], axis=1)), traj.observation)
    data[cls.ACTIONS] = _map(flat, traj.action)
    data[cls.REWARDS] = _map(flat, traj.reward)
    episode_end = traj.next_step_type == StepType.LAST
    data[cls.TERMINATEDS] = flat(episode_end & (traj.discount == 0))
    data[cls.TRUNCATEDS] = flat(episode_end & (traj.discount != 0))
    episode = np.cumsum(traj.step_type == StepType.FIRST, axis=1)
    data[cls.EPS_ID] = flat(
        episode + np.arange(batch_size)[:, None] * (steps + 1)).astype(np.int64)
    data[cls.UNROLL_ID] = np.repeat(np.arange(batch_size, dtype=np.int64), steps)
    log_probability = policy_step.get_log_probability(traj.policy_info)
    if log_probability is not None:
        data[cls.ACTION_LOGP] = _map(flat, log_probability)
    if not (type(traj.policy_info) is tuple and not traj.policy_info):
        data[cls.POLICY_INFO] = _map(flat, traj.policy_info)
    data[cls.STEP_TYPE] = flat(traj.step_type)
    data[cls.NEXT_STEP_TYPE] = flat(traj.next_step_type)
    data[cls.DISCOUNT] = flat(traj.discount)
    if drop_boundaries and boundary.any():
        keep = ~flat(boundary)
        data = {key: _map(lambda v: v[keep], value) for key, value in data.items()}
    return cls(data)


def to_trajectory(batch: "SampleBatch", batch_size: Optional[int] = None) -> Trajectory:
    """The rows as a `Trajectory`: `[N]`, or `[batch_size, N // batch_size]`.

    A batch made by `from_trajectory` (with its `step_type`,
    `next_step_type` and `discount` columns) gives its trajectory back
    exactly. Other batches (e.g. sampled RLlib-style) get derived step
    types: FIRST where `t == 0` (without a `t` column: the first row and
    every row after an episode end), LAST after terminated or truncated
    rows, discount 0 on termination; and a boundary row (observation
    `new_obs`, zero action, reward and info, discount 1) is inserted after
    every episode end, as a driver records it. The policy info is the
    `policy_info` column, else `PolicyInfo(log_probability=action_logp)`,
    else `()`.

    Args:
      batch_size: split the rows into this many batch entries of equal length.

    Returns:
      The `Trajectory` (numpy).

    Raises:
      KeyError: a needed column is missing.
      ValueError: the batch is zero-padded, or the rows do not split evenly.
    """
    if batch.zero_padded:
        raise ValueError("SampleBatch.to_trajectory needs unpadded rows; this batch is zero-padded")
    if dict.__contains__(batch, batch.POLICY_INFO):
        policy_info = batch[batch.POLICY_INFO]
    elif dict.__contains__(batch, batch.ACTION_LOGP):
        policy_info = policy_step.PolicyInfo(log_probability=batch[batch.ACTION_LOGP])
    else:
        policy_info = ()
    if dict.__contains__(batch, batch.STEP_TYPE):
        traj = Trajectory(
            step_type=batch[batch.STEP_TYPE], observation=batch[batch.OBS],
            action=batch[batch.ACTIONS], policy_info=policy_info,
            next_step_type=batch[batch.NEXT_STEP_TYPE], reward=batch[batch.REWARDS],
            discount=batch[batch.DISCOUNT])
    else:
        traj = _derived_trajectory(batch, policy_info)
    if batch_size is None:
        return traj
    rows = len(traj.step_type)
    if batch_size <= 0 or rows % batch_size:
        raise ValueError(f"SampleBatch.to_trajectory: {rows} rows do not split into "
                         f"batch_size={batch_size} entries of equal length")
    return tree.map_structure(
        lambda x: x.reshape((batch_size, rows // batch_size) + x.shape[1:]), traj)


def _derived_trajectory(batch: "SampleBatch", policy_info: Nest) -> Trajectory:
    """Step types, discounts and boundary rows of a batch sampled without them."""
    count = batch.count
    terminated = np.asarray(batch[batch.TERMINATEDS], dtype=bool)
    truncated = dict.get(batch, batch.TRUNCATEDS)
    ends = terminated if truncated is None else terminated | np.asarray(truncated, dtype=bool)
    if dict.__contains__(batch, batch.T):
        first = np.asarray(batch[batch.T]) == 0
    else:
        first = np.zeros(count, dtype=bool)
        first[:1] = True
        first[1:] = ends[:-1]
    step_type = np.where(first, StepType.FIRST, StepType.MID).astype(np.int32)
    next_step_type = np.where(ends, StepType.LAST, StepType.MID).astype(np.int32)
    discount = np.where(terminated, 0.0, 1.0).astype(np.float32)
    observation = batch[batch.OBS]
    action, reward = batch[batch.ACTIONS], batch[batch.REWARDS]
    end_rows = np.flatnonzero(ends)
    if end_rows.size:
        if not dict.__contains__(batch, batch.NEXT_OBS):
            raise KeyError(
                f"SampleBatch.to_trajectory needs 'new_obs' for the boundary rows after the "
                f"episode ends at rows {end_rows.tolist()}; the batch has "
                f"{sorted(map(str, dict.keys(batch)))}")
        at = end_rows + 1

        def zeros_inserted(x: np.ndarray) -> np.ndarray:
            return np.insert(x, at, np.zeros_like(x[end_rows]), axis=0)

        observation = tree.map_structure(
            lambda x, after: np.insert(x, at, after[end_rows], axis=0),
            observation, batch[batch.NEXT_OBS])
        action, reward = _map(zeros_inserted, action), _map(zeros_inserted, reward)
        policy_info = _map(zeros_inserted, policy_info)
        step_type = np.insert(step_type, at, StepType.LAST)
        next_step_type = np.insert(next_step_type, at, StepType.FIRST)
        discount = np.insert(discount, at, np.float32(1.0))
    return Trajectory(step_type=step_type, observation=observation, action=action,
                      policy_info=policy_info, next_step_type=next_step_type, reward=reward,
                      discount=discount)
