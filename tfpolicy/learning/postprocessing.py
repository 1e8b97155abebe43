"""Trajectory postprocessing: discounted returns, GAE advantages, n-step rewards.

RLlib's `ray.rllib.evaluation.postprocessing` functions with the same names,
arguments and numbers (dtypes, in-place updates and edge cases included; the
tests compare against outputs recorded from RLlib 2.40). Each function works on
one trajectory of `T` rows held in a `SampleBatch` or a plain dict of numpy
columns, and adds or rewrites columns of that same object.

Missing columns or config keys and malformed inputs raise `ValueError` naming
what is missing and what was expected, where RLlib asserts or fails deep inside
numpy.

>>> batch = {"rewards": np.array([1.0, 0.0, 2.0], np.float32),
...          "vf_preds": np.array([0.5, 0.5, 0.5], np.float32)}
>>> batch = compute_advantages(batch, last_r=0.0, gamma=0.5, lambda_=1.0)
>>> batch[Postprocessing.ADVANTAGES]
array([1. , 0.5, 1.5], dtype=float32)
>>> batch[Postprocessing.VALUE_TARGETS]
array([1.5, 1. , 2. ], dtype=float32)
"""

from typing import Any, Dict, List, Mapping, MutableMapping, Optional, Sequence, TypeVar, Union

import numpy as np
import tensorflow as tf
import tree

from tfpolicy.learning.sample_batch import MultiAgentBatch, SampleBatch
from tfpolicy.learning.sgd import standardized

__all__ = [
    "Postprocessing",
    "adjust_nstep",
    "compute_advantages",
    "compute_gae_for_sample_batch",
    "discount_cumsum",
    "explained_variance",
    "standardize_fields",
]

# RLlib's `SMALL_NUMBER`, added to the target variance in `explained_variance`.
_SMALL_NUMBER = 1e-6

_Batch = TypeVar("_Batch", bound=MutableMapping[str, Any])
_Samples = TypeVar("_Samples", bound=Union[MultiAgentBatch, MutableMapping[str, Any]])
_Scalar = Union[float, np.ndarray, np.generic, tf.Tensor]

_MISSING_COLUMN = ("{owner}: the batch has no {column!r} column ({meaning}); "
                   "its columns are {columns}")
_MISSING_CONFIG = ("compute_gae_for_sample_batch: policy.config has no {key!r} ({meaning}); it "
                   "reads 'gamma', 'use_gae', 'lambda' (when 'use_gae' is true) and 'use_critic' "
                   "(default True)")


class Postprocessing:
    """Names of the columns that postprocessing adds."""

    ADVANTAGES = "advantages"
    VALUE_TARGETS = "value_targets"


def _column(batch: Mapping[str, Any], column: str, meaning: str, owner: str) -> Any:
    if column not in batch:
        raise ValueError(_MISSING_COLUMN.format(
            owner=owner, column=column, meaning=meaning, columns=sorted(batch.keys())))
    return batch[column]


def _to_numpy(value: Any) -> Any:
    """RLlib's `convert_to_numpy`: tensors to numpy; float arrays to float32, int64 ones to int32.

    Numpy scalars (what a scalar tensor's `.numpy()` gives) keep their dtype.
    """
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        if np.issubdtype(value.dtype, np.floating):
            value = value.astype(np.float32)
        elif value.dtype == np.int64:
            value = value.astype(np.int32)
    return value


def _scalar(value: _Scalar, name: str, owner: str) -> Any:
    """`_to_numpy(value)`, with a one-element array made 0-d."""
    value = _to_numpy(value)
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"{owner}: {name} must be a single value, got shape {value.shape}")
        value = value.reshape(())
    return value


def discount_cumsum(x: Union[np.ndarray, Sequence[float]], gamma: float) -> np.ndarray:
    """Discounted cumulative sums along the first axis, back to front.

        y_t = x_t + γ y_{t+1},   y_{T-1} = x_{T-1},   so   y_t = Σ_{k=0}^{T-1-t} γ^k x_{t+k}.

    The recurrence runs in float64 (the promotion of `x` with float64) and in
    the same operation order as `scipy.signal.lfilter([1], [1, -γ], x[::-1])`,
    which RLlib uses, so the results are identical bit for bit, infinities and
    NaNs included.

    >>> discount_cumsum(np.array([1.0, 2.0, 4.0]), 0.5)
    array([3., 4., 4.])

    Args:
      x: `[T, ...]` values over time steps `t = 0 .. T-1` (any real dtype).
      gamma: the discount γ.

    Returns:
      A new `[T, ...]` float64 array `y` (longdouble for longdouble `x`).

    Raises:
      ValueError: `x` is a scalar (it has no time axis).
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError(f"discount_cumsum: x must have a time axis [T, ...], got a scalar {x!r}")
    dtype = np.result_type(np.float64, x.dtype)
    # lfilter keeps one state value z; per step: y = z + 1*x, z = 0*x - a1*y with
    # a1 = -γ. The `x * 0` term is kept because it turns an infinite x into NaN.
    a1 = float(-gamma)
    if x.ndim == 1 and dtype == np.float64:
        # Python floats are IEEE doubles: a plain loop is exact and fast.
        values = x.astype(np.float64, copy=False).tolist()
        out = [0.0] * len(values)
        z = 0.0
        for t in range(len(values) - 1, -1, -1):
            xt = values[t]
            y = z + xt
            z = xt * 0.0 - y * a1
            out[t] = y
        return np.array(out, dtype=np.float64)
    xd = x.astype(dtype, copy=False)
    a1_d = np.asarray(a1, dtype=dtype)
    zero = np.zeros((), dtype=dtype)
    result = np.empty(x.shape, dtype=dtype)
    z = np.zeros(x.shape[1:], dtype=dtype)
    for t in range(x.shape[0] - 1, -1, -1):
        y = z + xd[t]
        z = xd[t] * zero - y * a1_d
        result[t] = y
    return result


def compute_advantages(rollout: _Batch,
                       last_r: _Scalar,
                       gamma: float = 0.9,
                       lambda_: float = 1.0,
                       use_gae: bool = True,
                       use_critic: bool = True,
                       rewards: Optional[np.ndarray] = None,
                       vf_preds: Optional[np.ndarray] = None) -> _Batch:
    """Adds `advantages` and `value_targets` (float32, `[T]`) to one trajectory.

    With rewards `r_t` and values `V(s_t)` for `t = 0 .. T-1`, and
    `V(s_T) = last_r` (0 after a termination, otherwise the value of the
    observation that follows the last step):

    * GAE (`use_gae`; Schulman et al. 2016, "High-Dimensional Continuous
      Control Using Generalized Advantage Estimation", eq. 16):

          δ_t = r_t + γ V(s_{t+1}) − V(s_t),
          A_t = Σ_{k=0}^{T-1-t} (γλ)^k δ_{t+k},      value target = A_t + V(s_t),

      the value target being the λ-return. λ = 0 gives the one-step TD error,
      λ = 1 the discounted return minus `V(s_t)`.
    * Discounted returns with a critic (`use_gae=False`):

          G_t = Σ_{k=0}^{T-1-t} γ^k r_{t+k} + γ^{T-t} V(s_T),
          A_t = G_t − V(s_t),      value target = G_t.

    * No critic (`use_critic=False`, `use_gae=False`): `A_t = G_t` and the
      value targets are zeros.

    The sums run in float64 (`discount_cumsum`); the columns are cast to
    float32 at the end, exactly where RLlib casts.

    Args:
      rollout: one trajectory (`SampleBatch` or dict of columns); it is changed
        in place and returned.
      last_r: `V(s_T)`: a number, or a one-element array or tensor.
      gamma: the discount γ.
      lambda_: the GAE λ (only with `use_gae`).
      use_gae: GAE advantages, or else discounted returns.
      use_critic: whether values `V(s_t)` are used (required by GAE).
      rewards: `[T]` rewards `r_t`; the `rewards` column when None.
      vf_preds: `[T]` values `V(s_t)`; the `vf_preds` column when None.

    Returns:
      `rollout`, with the `advantages` and `value_targets` columns set.

    Raises:
      ValueError: GAE without a critic; a needed column is missing; rewards
        are not `[T]`, or the values' shape differs from the rewards'; or
        `last_r` holds more than one value.
    """
    owner = "compute_advantages"
    if use_gae and not use_critic:
        raise ValueError(f"{owner}: use_gae=True needs a value function: set use_critic=True "
                         "(with 'vf_preds' in the batch) or use_gae=False")
    if rewards is None:
        rewards = _column(rollout, SampleBatch.REWARDS, "rewards r_t, shape [T]", owner)
    rewards = np.asarray(rewards)
    if rewards.ndim != 1:
        raise ValueError(f"{owner}: rewards must have shape [T], got {rewards.shape}")
    if use_critic:
        if vf_preds is None:
            vf_preds = _column(
                rollout, SampleBatch.VF_PREDS,
                "value predictions V(s_t), shape [T], needed with use_critic=True", owner)
        vf_preds = np.asarray(vf_preds)
        if vf_preds.shape != rewards.shape:
            raise ValueError(f"{owner}: vf_preds must have the rewards' shape {rewards.shape}, "
                             f"got {vf_preds.shape}")
    last_r = _scalar(last_r, "last_r", owner)

    if use_gae:
        vpred_t = np.concatenate([vf_preds, np.array([last_r])])
        delta_t = rewards + gamma * vpred_t[1:] - vpred_t[:-1]
        advantages = discount_cumsum(delta_t, gamma * lambda_)
        value_targets = (advantages + vf_preds).astype(np.float32)
    else:
        rewards_plus_v = np.concatenate([rewards, np.array([last_r])])
        discounted_returns = discount_cumsum(rewards_plus_v, gamma)[:-1].astype(np.float32)
        if use_critic:
            advantages = discounted_returns - vf_preds
            value_targets = discounted_returns
        else:
            advantages = discounted_returns
            value_targets = np.zeros_like(advantages)
    rollout[Postprocessing.ADVANTAGES] = advantages.astype(np.float32)
    rollout[Postprocessing.VALUE_TARGETS] = value_targets
    return rollout


def _config(config: Mapping[str, Any], key: str, meaning: str) -> Any:
    if key not in config:
        raise ValueError(_MISSING_CONFIG.format(key=key, meaning=meaning))
    return config[key]


def compute_gae_for_sample_batch(policy: Any,
                                 sample_batch: _Batch,
                                 other_agent_batches: Optional[Dict[Any, Any]] = None,
                                 episode: Any = None) -> _Batch:
    """Bootstraps the end of one trajectory and adds advantages (RLlib's PPO/A2C postprocess).

    `V(s_T)` is 0 when the last row is terminated, and otherwise (the fragment
    was cut, or gymnasium truncated the episode) the policy's value of the
    observation after the last step:
    `policy._value(**sample_batch.get_single_step_input_dict(index="last"))`,
    whose inputs are `new_obs[-1:]`, `actions[-1:]` as `prev_actions`,
    `rewards[-1:]` as `prev_rewards` and the last `state_out_i` as `state_in_i`.
    It is rounded to float32 and appended to the values in the new column
    `values_bootstrapped = [V(s_1), .., V(s_{T-1}), V(s_T)]` (float32 for float
    values, as RLlib's `convert_to_numpy` casts); its last entry is the
    `last_r` of `compute_advantages`, which runs with `policy.config`'s
    `gamma`, `lambda`, `use_gae` and `use_critic` (default True).

    `vf_preds` and `rewards` may both be `[T, 1]`: they are squeezed for the
    computation, `values_bootstrapped` and `advantages` come back `[T, 1]` and
    `value_targets` `[T]`, as RLlib intends (RLlib 2.40 itself fails there).

    Args:
      policy: has `config` and, unless the trajectory terminated, `_value(**input_dict)`
        returning a number or a one-element array or tensor.
      sample_batch: one episode's trajectory for one agent (`SampleBatch` or
        dict of columns with `rewards`, `terminateds`, `vf_preds`, and
        `new_obs` to bootstrap from); changed in place and returned.
      other_agent_batches: unused; kept for RLlib's `postprocess_fn` signature.
      episode: unused; kept for RLlib's `postprocess_fn` signature.

    Returns:
      `sample_batch` with `values_bootstrapped` (when it has `vf_preds`),
      `advantages` and `value_targets`.

    Raises:
      ValueError: a config key or column is missing, the batch is empty, or the
        shapes of `vf_preds` and `rewards` are not `[T]` or both `[T, 1]`.
    """
    del other_agent_batches, episode
    owner = "compute_gae_for_sample_batch"
    config = policy.config
    gamma = _config(config, "gamma", "the discount")
    use_gae = _config(config, "use_gae", "whether to compute GAE advantages")
    if use_gae:
        lambda_ = _config(config, "lambda", "the GAE lambda")
    else:
        lambda_ = config.get("lambda", 1.0)
    use_critic = config.get("use_critic", True)

    terminateds = _column(sample_batch, SampleBatch.TERMINATEDS,
                          "episode terminations, shape [T]", owner)
    rewards = np.array(_column(sample_batch, SampleBatch.REWARDS, "rewards r_t, shape [T]", owner))
    if len(terminateds) == 0:
        raise ValueError(f"{owner}: the batch has no rows, so there is no last step to "
                         "bootstrap from")
    if use_critic:
        _column(sample_batch, SampleBatch.VF_PREDS,
                "value predictions V(s_t), needed with use_critic=True", owner)

    if terminateds[-1]:
        last_r = 0.0
    else:
        if not isinstance(sample_batch, SampleBatch):
            single_step = SampleBatch(sample_batch).get_single_step_input_dict(index="last")
        else:
            single_step = sample_batch.get_single_step_input_dict(index="last")
        last_r = policy._value(**single_step)
    last_r = np.array([_scalar(last_r, "policy._value(...)", owner)], dtype=np.float32)

    squeezed = False
    vf_preds = None
    if SampleBatch.VF_PREDS in sample_batch:
        vf_preds = np.array(sample_batch[SampleBatch.VF_PREDS])
        if vf_preds.ndim == 2:
            if vf_preds.shape != rewards.shape or vf_preds.shape[1] != 1:
                raise ValueError(f"{owner}: [T, 1] vf_preds need [T, 1] rewards, got vf_preds "
                                 f"{vf_preds.shape} and rewards {rewards.shape}")
            vf_preds, rewards, squeezed = vf_preds[:, 0], rewards[:, 0], True
        values_bootstrapped = np.concatenate([_to_numpy(vf_preds[1:]), last_r], axis=0)
        last_r = values_bootstrapped[-1]
        if squeezed:
            sample_batch[SampleBatch.VF_PREDS] = np.expand_dims(vf_preds, axis=1)
            values_bootstrapped = np.expand_dims(values_bootstrapped, axis=1)
        sample_batch[SampleBatch.VALUES_BOOTSTRAPPED] = values_bootstrapped
    else:
        last_r = last_r[0]

    batch = compute_advantages(sample_batch, last_r, gamma=gamma, lambda_=lambda_, use_gae=use_gae,
                               use_critic=use_critic, rewards=rewards, vf_preds=vf_preds)
    if squeezed:
        batch[Postprocessing.ADVANTAGES] = np.expand_dims(batch[Postprocessing.ADVANTAGES], axis=1)
    return batch


def adjust_nstep(n_step: int, gamma: float, batch: MutableMapping[str, Any]) -> None:
    """Rewrites one trajectory, in place, for n-step Q-learning targets.

    For each row `t` of a trajectory of `L` rows, with `m = min(n, L - t)`:

        r_t ← Σ_{k=0}^{m-1} γ^k r_{t+k},
        new_obs_t ← obs_{t+n} (new_obs_{L-1} when t + n ≥ L),
        terminateds_t ← terminateds_{min(t+n-1, L-1)}   (truncateds likewise),

    so a target `r_t + γ^n (1 − terminated_t) max_a Q(new_obs_t, a)` is the
    n-step return (exact up to the end of the trajectory, where fewer terms
    remain). The rewards are updated inside the existing array, so an integer
    reward column stays integer and each partial sum is truncated, as in RLlib.
    `obs`, `actions` and the other columns are not touched. An empty batch is
    left as it is.

    Args:
      n_step: `n >= 1`, the number of rewards summed per row.
      gamma: the discount γ.
      batch: one trajectory with `obs`, `new_obs` (arrays or nests of arrays),
        `rewards` (a numpy array) and `terminateds` (and optionally
        `truncateds`), terminated or truncated at most on its last row.

    Raises:
      ValueError: `n_step < 1`, a column is missing, or a row before the last
        is terminated or truncated.
    """
    owner = "adjust_nstep"
    if isinstance(n_step, bool) or not isinstance(n_step, (int, np.integer)) or n_step < 1:
        raise ValueError(f"{owner}: n_step must be an integer >= 1, got {n_step!r}")
    obs = _column(batch, SampleBatch.OBS, "observations", owner)
    next_obs = _column(batch, SampleBatch.NEXT_OBS, "next observations", owner)
    rewards = _column(batch, SampleBatch.REWARDS, "rewards, updated in place", owner)
    _column(batch, SampleBatch.TERMINATEDS, "episode terminations", owner)
    if not isinstance(rewards, np.ndarray):
        raise ValueError(f"{owner}: the 'rewards' column must be a numpy array (it is updated in "
                         f"place), got {type(rewards).__name__}")
    ends = [SampleBatch.TERMINATEDS, SampleBatch.TRUNCATEDS]
    early = {col: np.flatnonzero(np.asarray(batch[col][:-1])).tolist()
             for col in ends if col in batch}
    early = {col: rows for col, rows in early.items() if rows}
    if early:
        found = ", ".join(f"{col} at rows {rows}" for col, rows in early.items())
        raise ValueError(f"{owner}: the batch must hold a single trajectory, terminated or "
                         f"truncated only on its last row (of {len(rewards)}); found {found}")
    length = len(rewards)
    if length == 0:
        return

    batch[SampleBatch.NEXT_OBS] = tree.map_structure(
        lambda o, no: np.concatenate([o[n_step:], np.repeat(no[-1:], min(n_step, length), axis=0)],
                                     axis=0),
        obs, next_obs)
    for col in ends:
        if col in batch:
            done = batch[col]
            batch[col] = np.concatenate(
                [done[n_step - 1:], np.tile(done[-1], min(n_step - 1, length))], axis=0)

    # Row t adds γ^j r_{t+j} for j = 1, 2, ... in turn: each partial sum is rounded
    # (or truncated, for integers) to the column's dtype, reading unchanged rewards.
    original = rewards.copy()
    for j in range(1, min(n_step, length)):
        rewards[:length - j] = rewards[:length - j] + gamma**j * original[j:]


def standardize_fields(samples: _Samples, fields: List[str]) -> _Samples:
    """Standardizes columns in place: `x ← (x − mean(x)) / max(1e-4, std(x))`.

    Mean and (population) standard deviation are taken over all elements of a
    column, per policy batch of a `MultiAgentBatch`. Fields a batch does not
    have are skipped; each standardized column is replaced by a new array.

    Args:
      samples: a `SampleBatch`, a dict of columns or a `MultiAgentBatch`.
      fields: the column names, e.g. `["advantages"]` as PPO does.

    Returns:
      `samples` itself.
    """
    batches = samples.policy_batches.values() if isinstance(samples, MultiAgentBatch) else [samples]
    for batch in batches:
        for field in fields:
            if field in batch:
                batch[field] = standardized(batch[field])
    return samples


def explained_variance(
        y: Union[np.ndarray, tf.Tensor],
        pred: Union[np.ndarray, tf.Tensor]) -> Union[np.ndarray, np.generic, tf.Tensor]:
    """`max(−1, 1 − Var[y − pred] / (Var[y] + 1e-6))` over the first axis.

    1 for a perfect value function, 0 for one that predicts only the mean,
    clipped at −1 below. Variances are population variances (`tf.nn.moments`),
    as in RLlib's TF version (its Torch version uses unbiased ones).

    Args:
      y: `[T, ...]` targets, e.g. value targets.
      pred: `[T, ...]` predictions, e.g. `vf_preds`.

    Returns:
      A tensor when a tensor is given (also inside `tf.function`); otherwise a
      numpy value computed with the same TF ops, so both agree bit for bit.
    """
    to_numpy = not (tf.is_tensor(y) or tf.is_tensor(pred))
    if to_numpy:
        y, pred = np.asarray(y), np.asarray(pred)
    _, y_var = tf.nn.moments(y, axes=[0])
    _, diff_var = tf.nn.moments(y - pred, axes=[0])
    ev = tf.maximum(-1.0, 1 - (diff_var / (y_var + _SMALL_NUMBER)))
    return ev.numpy() if to_numpy and tf.executing_eagerly() else ev
