"""Collecting postprocessed sample batches from an environment with a learning policy.

`sample(policy, env, num_steps)` steps a `PyEnvironment` (batched or not,
e.g. `environments.load_vector("CartPole-v1", 8)`) with
`policy.compute_actions`, one call per step for the whole batch, and
returns the steps as a `SampleBatch`: `obs`, `new_obs`, `actions`,
`rewards`, `terminateds`, `truncateds`, `eps_id`, `t`, `agent_index`,
`unroll_id`, the state columns of a recurrent policy, `prev_actions` and
`prev_rewards` when its model reads them (`lstm_use_prev_action`,
`lstm_use_prev_reward`; zeros at an episode's start) and the policy's extra
fetches. Each episode fragment goes through `policy.postprocess_trajectory`
on its own; an episode still running at the end is a fragment cut by the
sample (RLlib's `batch_mode="truncate_episodes"`), so GAE bootstraps it from
the value of its last next observation. `evaluate(policy, env, num_episodes)`
returns episode returns.

A gymnasium truncation (a LAST step whose discount is kept) is `truncateds`,
a termination (discount 0) `terminateds`. Boundary steps of the environment
(LAST -> FIRST, whose action is ignored) are not samples.
"""

import itertools
import weakref
from typing import Any, Dict, List, NamedTuple, Optional

import numpy as np
import tree

from tfpolicy.learning.policy import Policy
from tfpolicy.learning.sample_batch import SampleBatch, concat_samples
from tfpolicy.trajectories.time_step import StepType

__all__ = ["sample", "evaluate"]

_episode_ids = itertools.count()


class _Carry(NamedTuple):
    """Where `sample` left an environment's episodes: the time step it stopped at, the
    episode ids, the step counts within them, the policy's recurrent state and the
    previous actions and rewards."""

    time_step: Any
    episode: np.ndarray
    t: np.ndarray
    policy: Any  # a weak reference
    state: List[np.ndarray]
    previous: Dict[str, Any]


_carried: "weakref.WeakKeyDictionary[Any, _Carry]" = weakref.WeakKeyDictionary()


def _batched(env: Any) -> bool:
    return bool(getattr(env, "batched", False))


def _rows(value: Any, batched: bool) -> Any:
    return value if batched else tree.map_structure(lambda x: np.asarray(x)[None], value)


def _initial_state(policy: Policy, batch: int) -> List[np.ndarray]:
    return [np.repeat(np.asarray(s)[None], batch, axis=0) for s in policy.get_initial_state()]


def _initial_previous(policy: Policy, env: Any, batch: int) -> Dict[str, Any]:
    """Zero `prev_actions` / `prev_rewards` for the ones the policy's model reads."""
    requirements = getattr(getattr(policy, "model", None), "view_requirements", None) or {}
    previous: Dict[str, Any] = {}
    if SampleBatch.PREV_ACTIONS in requirements:
        previous[SampleBatch.PREV_ACTIONS] = tree.map_structure(
            lambda s: np.zeros((batch,) + tuple(s.shape), s.dtype), env.action_spec())
    if SampleBatch.PREV_REWARDS in requirements:
        previous[SampleBatch.PREV_REWARDS] = np.zeros(batch, np.float32)
    return previous


def _restart_rows(policy: Policy, state: List[np.ndarray], previous: Dict[str, Any],
                  rows: np.ndarray) -> None:
    """Puts the initial state and zero previous actions and rewards in `rows`, in place."""
    for i, initial in enumerate(policy.get_initial_state()):
        state[i][rows] = initial
    for leaf in tree.flatten(previous):
        leaf[rows] = 0


def _act(policy: Policy, obs: Any, state: List[np.ndarray], previous: Dict[str, Any],
         explore: Optional[bool]) -> Any:
    return policy.compute_actions(obs, state or None,
                                  prev_action_batch=previous.get(SampleBatch.PREV_ACTIONS),
                                  prev_reward_batch=previous.get(SampleBatch.PREV_REWARDS),
                                  explore=explore)


def _next_previous(previous: Dict[str, Any], actions: Any, rewards: np.ndarray
                   ) -> Dict[str, Any]:
    """The previous actions and rewards for the next step (copies the caller may change)."""
    return {key: tree.map_structure(np.array, actions if key == SampleBatch.PREV_ACTIONS
                                    else rewards)
            for key in previous}


def sample(policy: Policy, env: Any, num_steps: int, explore: Optional[bool] = None,
           postprocess: bool = True) -> SampleBatch:
    """At least `num_steps` samples (whole steps of the batch), postprocessed per episode.

    Continues the environment's current episodes (it resets only an
    environment that was never reset), so consecutive calls collect
    consecutive fragments: an episode keeps its `eps_id`, its `t` and the
    policy's recurrent state across calls (as long as nothing else stepped
    the environment in between).

    Args:
      policy: the learning policy.
      env: a `PyEnvironment`, batched or not.
      num_steps: how many samples to collect at least (over the batch).
      explore: passed to `compute_actions` (None: the policy's config).
      postprocess: run `policy.postprocess_trajectory` on each episode fragment.

    Returns:
      The fragments concatenated, each episode's rows in time order.

    Raises:
      ValueError: `num_steps` is not positive.
    """
    if num_steps <= 0:
        raise ValueError(f"sample: num_steps must be positive, got {num_steps}")
    batched = _batched(env)
    time_step = env.current_time_step() or env.reset()
    width = int(np.shape(time_step.step_type)[0]) if batched else 1
    carry = _carried.get(env)
    if carry is not None and carry.time_step is time_step:
        episode, t = carry.episode, carry.t
        same_policy = carry.policy() is policy
        state = carry.state if same_policy else _initial_state(policy, width)
        previous = carry.previous if same_policy else _initial_previous(policy, env, width)
    else:
        episode = np.array([next(_episode_ids) for _ in range(width)])
        t = np.zeros(width, np.int64)
        state = _initial_state(policy, width)
        previous = _initial_previous(policy, env, width)
    steps: List[Dict[str, Any]] = []
    collected = 0
    while collected < num_steps:
        step_type = np.asarray(time_step.step_type).reshape(width)
        first = step_type == StepType.FIRST
        if first.any():
            episode = np.where(first, [next(_episode_ids) for _ in range(width)], episode)
            t = np.where(first, 0, t)
            _restart_rows(policy, state, previous, first)
        obs = _rows(time_step.observation, batched)
        actions, state_out, extra = _act(policy, obs, state, previous, explore)
        next_step = env.step(actions if batched else tree.map_structure(lambda a: a[0], actions))
        next_type = np.asarray(next_step.step_type).reshape(width)
        last = next_type == StepType.LAST
        discount = np.asarray(next_step.discount).reshape(width)
        row = {
            SampleBatch.OBS: obs, SampleBatch.ACTIONS: actions,
            SampleBatch.REWARDS: np.asarray(next_step.reward, np.float32).reshape(width),
            SampleBatch.NEXT_OBS: _rows(next_step.observation, batched),
            SampleBatch.TERMINATEDS: last & (discount == 0),
            SampleBatch.TRUNCATEDS: last & (discount != 0),
            SampleBatch.EPS_ID: episode.copy(), SampleBatch.T: t.copy(),
            "_valid": step_type != StepType.LAST,
        }
        for i, s in enumerate(state):
            row[f"state_in_{i}"] = s
            row[f"state_out_{i}"] = np.asarray(state_out[i])
        row.update(previous)
        row.update(extra)
        steps.append(row)
        collected += int(np.sum(row["_valid"]))
        t = t + 1
        state = [np.array(s) for s in state_out]
        previous = _next_previous(previous, actions, row[SampleBatch.REWARDS])
        time_step = next_step
    _carried[env] = _Carry(time_step, episode, t, weakref.ref(policy), state, previous)
    return _fragments(policy, steps, width, postprocess)


def _fragments(policy: Policy, steps: List[Dict[str, Any]], width: int,
               postprocess: bool) -> SampleBatch:
    """Per batch entry, the valid rows in time order, split into episodes and postprocessed."""
    stacked = {key: tree.map_structure(lambda *xs: np.stack(xs, axis=1),
                                       *[step[key] for step in steps])
               for key in steps[0]}
    batches = []
    for i in range(width):
        valid = stacked["_valid"][i]
        columns = {key: tree.map_structure(lambda x: x[i][valid], value)
                   for key, value in stacked.items() if key != "_valid"}
        columns[SampleBatch.AGENT_INDEX] = np.zeros(int(valid.sum()), np.int64)
        columns[SampleBatch.UNROLL_ID] = np.full(int(valid.sum()), i, np.int64)
        entry = SampleBatch(columns)
        for fragment in entry.split_by_episode(SampleBatch.EPS_ID):
            batches.append(policy.postprocess_trajectory(fragment) if postprocess
                           else fragment)
    return concat_samples(batches)


def evaluate(policy: Policy, env: Any, num_episodes: int, explore: bool = False) -> np.ndarray:
    """The undiscounted returns of `num_episodes` episodes started afresh.

    Args:
      policy: the learning policy.
      env: a `PyEnvironment`, batched or not (a batched one runs its
        entries' episodes side by side; the first `num_episodes` to end count).
      num_episodes: how many episodes.
      explore: passed to `compute_actions`; greedy by default.

    Returns:
      float64 `[num_episodes]`, in the order the episodes ended.
    """
    batched = _batched(env)
    time_step = env.reset()
    width = int(np.shape(time_step.step_type)[0]) if batched else 1
    state = _initial_state(policy, width)
    previous = _initial_previous(policy, env, width)
    returns: List[float] = []
    running = np.zeros(width)
    while len(returns) < num_episodes:
        # An episode starts at FIRST: the boundary step before it (LAST -> FIRST,
        # action ignored) must not leave its state behind.
        _restart_rows(policy, state, previous,
                      np.asarray(time_step.step_type).reshape(width) == StepType.FIRST)
        actions, state_out, _ = _act(policy, _rows(time_step.observation, batched), state,
                                     previous, explore)
        time_step = env.step(actions if batched else tree.map_structure(lambda a: a[0], actions))
        step_type = np.asarray(time_step.step_type).reshape(width)
        rewards = np.asarray(time_step.reward, np.float64).reshape(width)
        running += np.where(step_type == StepType.FIRST, 0.0, rewards)
        state = [np.array(s) for s in state_out]
        previous = _next_previous(previous, actions, rewards.astype(np.float32))
        for i in np.flatnonzero(step_type == StepType.LAST):
            returns.append(float(running[i]))
            running[i] = 0.0
    return np.asarray(returns[:num_episodes])
