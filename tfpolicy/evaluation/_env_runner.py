"""`EnvRunner`: a worker's unbatched environments, their episodes and the collection loop.

One `compute_actions` call per step acts for every environment: the
current observations sit in one preallocated `[T + 1, n, ...]` buffer
(row `k + 1` is written as environment `i` steps), and every column is a
preallocated `[T, n, ...]` array, so a step costs one policy call, one
batched action check and `n` environment steps, with no per-step dicts.

An episode ends, and the next one starts right away (`env.seed(s)` then
`env.reset()`), inside the step that ended it: no LAST -> FIRST boundary
step ever reaches the policy, so every step is a sample. Episode `e` of
environment `i` is seeded from `(base_seed, worker_index, i, e)`; a
snapshot holds each environment's episode number and the actions taken
in it so far, and `set_state` replays them to stand where it stood.
"""

import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tree

from tfpolicy.evaluation import _seeding
from tfpolicy.evaluation._actions import EnvActions
from tfpolicy.evaluation.metrics import RolloutMetrics
from tfpolicy.learning.sample_batch import SampleBatch
from tfpolicy.trajectories.time_step import StepType

_LAST = int(StepType.LAST)


def _leaf_specs(spec: Any) -> List[Any]:
    return tree.flatten(spec)


def _wants(policy: Any, column: str) -> bool:
    requirements = getattr(getattr(policy, "model", None), "view_requirements", None) or {}
    return column in requirements


def _grown(array: np.ndarray, rows: int, fill_zero: bool) -> np.ndarray:
    new = (np.zeros if fill_zero else np.empty)((rows,) + array.shape[1:], array.dtype)
    new[:len(array)] = array
    return new


class EnvRunner:
    """`n` environments stepped together with one policy.

    Args:
      envs: the unbatched environments.
      policy: the policy acting in them.
      base_seed, worker_index: where the episode seeds come from.
      normalize_actions, clip_actions: see `_actions`.
      stream: None for sampling, `_seeding.EVALUATION_STREAM` for evaluation.
      start: reset every environment into its first episode now.
    """

    def __init__(self, envs: Sequence[Any], policy: Any, base_seed: int, worker_index: int,
                 normalize_actions: bool, clip_actions: bool, stream: Optional[int] = None,
                 start: bool = True):
        self.envs = list(envs)
        self.n = len(self.envs)
        self.policy = policy
        self.base_seed = int(base_seed)
        self.worker_index = int(worker_index)
        self.stream = stream
        env = self.envs[0]
        self.observation_spec = env.observation_spec()
        self.action_spec = env.action_spec()
        self._obs_specs = _leaf_specs(self.observation_spec)
        self._action_specs = _leaf_specs(self.action_spec)
        self._single_obs = not tree.is_nested(self.observation_spec)
        self._single_action = not tree.is_nested(self.action_spec)
        self.actions = EnvActions(self.action_spec, normalize_actions, clip_actions)
        self.seedable = [callable(getattr(e, "seed", None)) for e in self.envs]
        n = self.n
        self.episode = np.full(n, -1, np.int64)
        self.seed = [0] * n
        self.eps_id = np.zeros(n, np.int64)
        self.t = np.zeros(n, np.int64)
        self.episode_return = np.zeros(n, np.float64)
        self.obs = [np.zeros((n,) + tuple(s.shape), s.dtype) for s in self._obs_specs]
        self.state = [np.repeat(np.asarray(s)[None], n, axis=0)
                      for s in policy.get_initial_state()]
        self.prev_actions = ([np.zeros((n,) + tuple(s.shape), s.dtype)
                              for s in self._action_specs]
                             if _wants(policy, SampleBatch.PREV_ACTIONS) else None)
        self.prev_rewards = (np.zeros(n, np.float32)
                             if _wants(policy, SampleBatch.PREV_REWARDS) else None)
        # Per environment, the actions of its current episode taken in earlier
        # `collect` calls, as chunks of action leaves `[k, ...]`.
        self.episode_actions: List[List[List[np.ndarray]]] = [[] for _ in range(n)]
        self.metrics: List[RolloutMetrics] = []
        self.unroll_counter = 0
        if start:
            for i in range(n):
                self.start_episode(i)

    # ---- episodes ------------------------------------------------------------------------------

    def start_episode(self, i: int, episode: Optional[int] = None) -> None:
        """Starts the next episode (or episode number `episode`) of environment `i`."""
        self.episode[i] = self.episode[i] + 1 if episode is None else episode
        seeded = _seeding.episode_seed(self.base_seed, self.worker_index, i,
                                       int(self.episode[i]), self.stream)
        self.seed[i] = seeded.seed
        self.eps_id[i] = seeded.eps_id
        env = self.envs[i]
        if self.seedable[i]:
            env.seed(seeded.seed)
        self._set_obs(i, env.reset().observation)
        self._restart_rows(i)

    def _restart_rows(self, i: int) -> None:
        self.t[i] = 0
        self.episode_return[i] = 0.0
        for s, initial in zip(self.state, self.policy.get_initial_state()):
            s[i] = initial
        if self.prev_actions is not None:
            for leaf in self.prev_actions:
                leaf[i] = 0
        if self.prev_rewards is not None:
            self.prev_rewards[i] = 0.0
        self.episode_actions[i] = []

    def _set_obs(self, i: int, observation: Any) -> None:
        if self._single_obs:
            self.obs[0][i] = observation
        else:
            for leaf, value in zip(self.obs, tree.flatten(observation)):
                leaf[i] = value

    def _obs_nest(self, leaves: List[Any]) -> Any:
        return leaves[0] if self._single_obs else tree.unflatten_as(self.observation_spec, leaves)

    # ---- collection ----------------------------------------------------------------------------

    def collect(self, steps: int, complete_episodes: bool, explore: Optional[bool],
                num_grad_updates: Optional[int] = None) -> List[SampleBatch]:
        """Steps every environment and returns the rows as episode fragments.

        Args:
          steps: with `complete_episodes=False`, the steps per environment;
            otherwise, environments keep going until `steps * n` rows are
            collected and then stop each at the end of its episode (so an
            environment whose episodes never end keeps it going forever).
          explore: passed to `compute_actions`.
          num_grad_updates: recorded on the batches (the policy's update count).

        Returns:
          The episode fragments (not postprocessed): environment 0's in
          time order, then environment 1's, ...
        """
        policy, n, envs = self.policy, self.n, self.envs
        step_fns = [env.step_unchecked for env in envs]
        capacity = steps
        target = steps * n
        obs_buf = [np.empty((capacity + 1, n) + leaf.shape[1:], leaf.dtype) for leaf in self.obs]
        for buf, leaf in zip(obs_buf, self.obs):
            buf[0] = leaf
        rewards = np.zeros((capacity, n), np.float32)
        terminateds = np.zeros((capacity, n), bool)
        truncateds = np.zeros((capacity, n), bool)
        eps_ids = np.empty((capacity, n), np.int64)
        ts_buf = np.empty((capacity, n), np.int64)
        state_in = [np.empty((capacity,) + s.shape, s.dtype) for s in self.state]
        prev_a_buf = (None if self.prev_actions is None else
                      [np.empty((capacity,) + p.shape, p.dtype) for p in self.prev_actions])
        prev_r_buf = None if self.prev_rewards is None else np.empty((capacity, n), np.float32)
        action_buf: Optional[List[np.ndarray]] = None
        action_structure = None
        state_out: List[np.ndarray] = []
        extra_buf: Dict[str, Tuple[Any, List[np.ndarray]]] = {}
        terminal_obs: List[Tuple[int, int, Any]] = []
        episode_start = np.zeros(n, np.int64)
        rows_of = np.full(n, -1, np.int64)  # rows per env once it stopped
        active = list(range(n))
        sel: Any = slice(None)
        rows_total = 0
        k = 0
        while active:
            if not complete_episodes and k == steps:
                break
            if k == capacity:  # complete episodes only
                capacity *= 2
                obs_buf = [_grown(b, capacity + 1, False) for b in obs_buf]
                rewards = _grown(rewards, capacity, True)
                terminateds = _grown(terminateds, capacity, True)
                truncateds = _grown(truncateds, capacity, True)
                eps_ids, ts_buf = _grown(eps_ids, capacity, False), _grown(ts_buf, capacity, False)
                state_in = [_grown(b, capacity, False) for b in state_in]
                state_out = [_grown(b, capacity, False) for b in state_out]
                if prev_a_buf is not None:
                    prev_a_buf = [_grown(b, capacity, False) for b in prev_a_buf]
                if prev_r_buf is not None:
                    prev_r_buf = _grown(prev_r_buf, capacity, False)
                action_buf = [_grown(b, capacity, False) for b in action_buf]
                extra_buf = {key: (s, [_grown(b, capacity, False) for b in leaves])
                             for key, (s, leaves) in extra_buf.items()}
            width = len(active)
            obs_in = self._obs_nest([b[k, sel] for b in obs_buf])
            state = [s[sel] for s in self.state]
            for buf, s in zip(state_in, state):
                buf[k, sel] = s
            prev_a = prev_r = None
            if prev_a_buf is not None:
                prev_a = [p[sel] for p in self.prev_actions]
                for buf, p in zip(prev_a_buf, prev_a):
                    buf[k, sel] = p
                prev_a = tree.unflatten_as(self.action_spec, prev_a)
            if prev_r_buf is not None:
                prev_r = self.prev_rewards[sel]
                prev_r_buf[k, sel] = prev_r
            actions, out, extra = policy.compute_actions(
                obs_in, state or None, prev_action_batch=prev_a, prev_reward_batch=prev_r,
                explore=explore)
            if self._single_action:
                actions = np.asarray(actions)  # RLlib's minimal policies return lists
            action_leaves = tree.flatten(actions)
            if action_buf is None:
                action_structure = actions
                action_buf = [np.empty((capacity, n) + np.shape(a)[1:], np.asarray(a).dtype)
                              for a in action_leaves]
                state_out = [np.empty((capacity, n) + np.shape(s)[1:], np.asarray(s).dtype)
                             for s in out]
            for buf, a in zip(action_buf, action_leaves):
                buf[k, sel] = a
            for buf, s in zip(state_out, out):
                buf[k, sel] = s
            for key, value in extra.items():
                entry = extra_buf.get(key)
                if entry is None:
                    entry = extra_buf[key] = (value, [
                        np.zeros((capacity, n) + np.shape(v)[1:], np.asarray(v).dtype)
                        for v in tree.flatten(value)])
                for buf, v in zip(entry[1], tree.flatten(value)):
                    buf[k, sel] = v
            eps_ids[k, sel] = self.eps_id[sel]
            ts_buf[k, sel] = self.t[sel]
            env_actions = self.actions.split(actions, width)
            reward_row = rewards[k]
            next_obs = obs_buf[0][k + 1]
            ended = []
            for position, i in enumerate(active):
                step = step_fns[i](env_actions[position])
                reward_row[i] = step.reward
                if self._single_obs:
                    next_obs[i] = step.observation
                else:
                    for buf, v in zip(obs_buf, tree.flatten(step.observation)):
                        buf[k + 1, i] = v
                if int(step.step_type) == _LAST:
                    ended.append((i, step))
            rows_total += width
            self.episode_return[sel] += reward_row[sel]
            self.t[sel] += 1
            for s, o in zip(self.state, out):
                s[sel] = o
            if self.prev_actions is not None:
                for p, a in zip(self.prev_actions, action_leaves):
                    p[sel] = a
            if self.prev_rewards is not None:
                self.prev_rewards[sel] = reward_row[sel]
            stopped = False
            for i, step in ended:
                if float(step.discount) == 0.0:
                    terminateds[k, i] = True
                else:
                    truncateds[k, i] = True
                terminal_obs.append((k, i, step.observation))
                self.metrics.append(RolloutMetrics(int(self.t[i]),
                                                   float(self.episode_return[i])))
                self.start_episode(i)
                for buf, leaf in zip(obs_buf, self.obs):
                    buf[k + 1, i] = leaf[i]
                episode_start[i] = k + 1
                if complete_episodes and rows_total >= target:
                    rows_of[i] = k + 1
                    stopped = True
            if stopped:
                active = [i for i in active if rows_of[i] < 0]
                sel = np.asarray(active, np.int64)
            k += 1
        rows_of[rows_of < 0] = k
        return self._fragments(rows_of, obs_buf, terminal_obs, episode_start, {
            SampleBatch.ACTIONS: (action_structure, action_buf),
            SampleBatch.REWARDS: (None, [rewards]),
            SampleBatch.TERMINATEDS: (None, [terminateds]),
            SampleBatch.TRUNCATEDS: (None, [truncateds]),
            SampleBatch.EPS_ID: (None, [eps_ids]),
            SampleBatch.T: (None, [ts_buf]),
            **{f"state_in_{j}": (None, [b]) for j, b in enumerate(state_in)},
            **{f"state_out_{j}": (None, [b]) for j, b in enumerate(state_out)},
            **({} if prev_a_buf is None else
               {SampleBatch.PREV_ACTIONS: (self.action_spec, prev_a_buf)}),
            **({} if prev_r_buf is None else {SampleBatch.PREV_REWARDS: (None, [prev_r_buf])}),
            **extra_buf,
        }, num_grad_updates)

    def _fragments(self, rows_of: np.ndarray, obs_buf: List[np.ndarray],
                   terminal_obs: List[Tuple[int, int, Any]], episode_start: np.ndarray,
                   columns: Dict[str, Tuple[Any, List[np.ndarray]]],
                   num_grad_updates: Optional[int]) -> List[SampleBatch]:
        """Per environment, its rows as a batch, split into episode fragments (views)."""
        patches: Dict[int, List[Tuple[int, Any]]] = {}
        for k, i, observation in terminal_obs:
            patches.setdefault(i, []).append((k, observation))
        action_leaves = columns[SampleBatch.ACTIONS][1]
        fragments = []
        for i in range(self.n):
            rows = int(rows_of[i])
            for buf, leaf in zip(obs_buf, self.obs):
                leaf[i] = buf[rows, i]
            # The actions of the episode still running, for a snapshot's replay.
            start = int(episode_start[i])
            if start < rows:
                self.episode_actions[i].append([b[start:rows, i].copy() for b in action_leaves])
            if rows == 0:
                continue
            new_obs = [b[1:rows + 1, i].copy() for b in obs_buf]
            for k, observation in patches.get(i, ()):
                for leaf, value in zip(new_obs, tree.flatten(observation)):
                    leaf[k] = value
            data = {SampleBatch.OBS: self._obs_nest([b[:rows, i] for b in obs_buf]),
                    SampleBatch.NEXT_OBS: self._obs_nest(new_obs)}
            for key, (structure, leaves) in columns.items():
                values = [b[:rows, i] for b in leaves]
                data[key] = (values[0] if structure is None or not tree.is_nested(structure)
                             else tree.unflatten_as(structure, values))
            data[SampleBatch.AGENT_INDEX] = np.zeros(rows, np.int64)
            data[SampleBatch.UNROLL_ID] = np.full(
                rows, (self.worker_index << 32) + self.unroll_counter, np.int64)
            self.unroll_counter += 1
            batch = SampleBatch(data, _num_grad_updates=num_grad_updates)
            fragments.extend(batch.split_by_episode(SampleBatch.EPS_ID))
        return fragments

    # ---- evaluation ----------------------------------------------------------------------------

    def run_episodes(self, num_episodes: int, explore: Optional[bool]) -> List[RolloutMetrics]:
        """`num_episodes` fresh episodes, spread over the environments; their metrics in
        the order they started."""
        policy, n = self.policy, self.n
        results: List[Optional[RolloutMetrics]] = [None] * num_episodes
        which = np.full(n, -1, np.int64)  # the episode each environment plays
        started = 0
        for i in range(min(n, num_episodes)):
            self.start_episode(i)
            which[i], started = started, started + 1
        while True:
            active = np.flatnonzero(which >= 0)
            if not active.size:
                return [r for r in results if r is not None]
            prev_a = (None if self.prev_actions is None else
                      tree.unflatten_as(self.action_spec, [p[active] for p in self.prev_actions]))
            prev_r = None if self.prev_rewards is None else self.prev_rewards[active]
            actions, out, _ = policy.compute_actions(
                self._obs_nest([leaf[active] for leaf in self.obs]),
                [s[active] for s in self.state] or None, prev_action_batch=prev_a,
                prev_reward_batch=prev_r, explore=explore)
            if self._single_action:
                actions = np.asarray(actions)
            env_actions = self.actions.split(actions, len(active))
            for s, o in zip(self.state, out):
                s[active] = o
            if self.prev_actions is not None:
                for p, a in zip(self.prev_actions, tree.flatten(actions)):
                    p[active] = a
            for position, i in enumerate(active):
                step = self.envs[i].step_unchecked(env_actions[position])
                reward = float(step.reward)
                self.episode_return[i] += reward
                self.t[i] += 1
                if self.prev_rewards is not None:
                    self.prev_rewards[i] = reward
                self._set_obs(i, step.observation)
                if int(step.step_type) == _LAST:
                    results[which[i]] = RolloutMetrics(int(self.t[i]),
                                                       float(self.episode_return[i]))
                    if started < num_episodes:
                        self.start_episode(i)
                        which[i], started = started, started + 1
                    else:
                        which[i] = -1

    # ---- snapshots -----------------------------------------------------------------------------

    def get_state(self) -> Dict[str, Any]:
        """Each environment's position: episode number and seed, the actions so far,
        episode id, step, running return, current observation, recurrent state and
        previous action and reward."""
        envs = []
        for i in range(self.n):
            chunks = self.episode_actions[i]
            if chunks:
                actions = [np.concatenate(parts) for parts in zip(*chunks)]
            else:
                actions = [np.zeros((0,) + tuple(s.shape), s.dtype) for s in self._action_specs]
            envs.append({
                "episode": int(self.episode[i]),
                "seed": int(self.seed[i]),
                "eps_id": int(self.eps_id[i]),
                "t": int(self.t[i]),
                "episode_return": float(self.episode_return[i]),
                "actions": actions,
                "observation": [np.array(leaf[i]) for leaf in self.obs],
                "state": [np.array(s[i]) for s in self.state],
                "prev_actions": (None if self.prev_actions is None else
                                 [np.array(p[i]) for p in self.prev_actions]),
                "prev_reward": (None if self.prev_rewards is None else
                                float(self.prev_rewards[i])),
            })
        return {"envs": envs, "unroll_counter": int(self.unroll_counter)}

    def set_state(self, state: Dict[str, Any]) -> None:
        """Replays each environment's episode from its seed and actions (see `get_state`);
        an environment without `seed()` starts its next episode instead.

        Raises:
          ValueError: a state for another number of environments, or whose
            action count differs from its step count.
        """
        envs = state["envs"]
        if len(envs) != self.n:
            raise ValueError(f"config key 'num_envs_per_worker': the state holds {len(envs)} "
                             f"environments, this worker has {self.n}")
        self.unroll_counter = int(state.get("unroll_counter", 0))
        for i, saved in enumerate(envs):
            actions = [np.asarray(a) for a in saved["actions"]]
            t = int(saved["t"])
            if actions and len(actions[0]) != t:
                raise ValueError(f"set_state: environment {i} holds {len(actions[0])} actions "
                                 f"for t={t}")
            if not self.seedable[i] or not self._replay(i, saved, actions):
                self.episode[i] = int(saved["episode"])
                self.start_episode(i)
                continue
            self.episode[i] = int(saved["episode"])
            self.seed[i] = int(saved["seed"])
            self.eps_id[i] = int(saved["eps_id"])
            self.t[i] = t
            self.episode_return[i] = float(saved["episode_return"])
            for s, value in zip(self.state, saved["state"]):
                s[i] = value
            if self.prev_actions is not None and saved.get("prev_actions") is not None:
                for p, value in zip(self.prev_actions, saved["prev_actions"]):
                    p[i] = value
            if self.prev_rewards is not None and saved.get("prev_reward") is not None:
                self.prev_rewards[i] = saved["prev_reward"]
            self.episode_actions[i] = [actions] if t else []

    def _replay(self, i: int, saved: Dict[str, Any], actions: List[np.ndarray]) -> bool:
        """Resets environment `i` with the saved seed and takes the saved actions;
        False (with a warning) when the episode ends before they are all taken."""
        env = self.envs[i]
        env.seed(int(saved["seed"]))
        step = env.reset()
        count = len(actions[0]) if actions else 0
        for j in range(count):
            if int(step.step_type) == _LAST:
                warnings.warn(
                    f"environment {i} ended its episode after {j} of the {count} saved actions "
                    f"when replayed from seed {saved['seed']}; it starts its next episode",
                    RuntimeWarning, stacklevel=3)
                return False
            action = tree.unflatten_as(self.action_spec, [a[j] for a in actions])
            step = env.step(self.actions.one(action))
        self._set_obs(i, step.observation)
        expected = saved.get("observation")
        if expected is not None and not all(
                np.array_equal(leaf[i], np.asarray(value))
                for leaf, value in zip(self.obs, expected)):
            warnings.warn(
                f"environment {i} did not reproduce its episode: after replaying {count} "
                f"actions from seed {saved['seed']} the observation differs from the saved "
                f"one; sampling continues from the replayed position", RuntimeWarning,
                stacklevel=3)
        return True
