"""`MultiAgentRunner`: a worker's multi-agent environments, their episodes and agents' rows.

Each step, every agent that got an observation acts: the agents of all
environments that map to one policy go through one `compute_actions`
call, then every environment steps with its action dict. An agent's row
(transition) opens when it acts and closes at its next observation:
`new_obs` is that observation, `rewards` the sum of the rewards it got in
between (a turn-based game gives them while others move), and
`terminateds`/`truncateds` its own flags, or the episode's (`"__all__"`)
when the episode ended. An agent whose episode ends without a last
observation for it closes its row with its own last observation as
`new_obs` (nothing bootstraps from it after a termination). Rewards an
agent gets before it first acts count in the episode's returns but belong
to no row.

Episodes end, and the environment is reset into the next one, inside the
step that ended them (no boundary step reaches a policy); episode `e` of
environment `i` is reset with `seed=SeedSequence([base_seed, worker, i,
e])`, as in the single-agent `EnvRunner`. At the end of `collect`, each
agent's rows of each episode fragment become one `SampleBatch`,
postprocessed by its policy with the other agents' raw batches of the same
fragment (`other_agent_batches = {agent_id: (policy_id, policy, batch)}`);
a policy's batch lists environment 0's episode fragments first, each
fragment's agents in `agent_index` order.

Observations reach the policies as the env gives them (no preprocessing),
cast to the dtypes of the policy's observation space; actions reach the
env after `normalize_actions`/`clip_actions` and the bounds check, a
scalar one as a numpy scalar (as gymnasium spaces take it).
"""

import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tree

from specs import spaces
from specs.tensor_spec import to_array_spec
from tfpolicy.evaluation import _seeding
from tfpolicy.evaluation._actions import EnvActions
from tfpolicy.evaluation.episode import Episode
from tfpolicy.evaluation.metrics import RolloutMetrics
from tfpolicy.evaluation.multi_agent_env import (ALL, MultiAgentEnv, check_reset_result,
                                                 check_step_result)
from tfpolicy.learning.sample_batch import SampleBatch

SINGLE_AGENT_ID = "agent0"


def as_spec(space: Any, name: str) -> Any:
    """A gymnasium space as a spec nest; a spec nest as array specs."""
    gymnasium = sys.modules.get("gymnasium")
    if gymnasium is not None and isinstance(space, gymnasium.spaces.Space):
        return spaces.from_space(space, name=name)
    return to_array_spec(space)


def _wants(policy: Any, column: str) -> bool:
    requirements = getattr(getattr(policy, "model", None), "view_requirements", None) or {}
    return column in requirements


class SingleAgentEnv(MultiAgentEnv):
    """A `PyEnvironment` as a `MultiAgentEnv` of one agent, `"agent0"` (for a worker whose
    policies are not just the default one).

    Args:
      env: the unbatched `PyEnvironment`; `reset(seed=s)` calls `env.seed(s)`
        when it has `seed`.
    """

    def __init__(self, env: Any):
        self.env = env
        self.possible_agents = [SINGLE_AGENT_ID]
        self.agents = [SINGLE_AGENT_ID]
        self.observation_space = env.observation_spec()
        self.action_space = env.action_spec()
        self._seedable = callable(getattr(env, "seed", None))

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[Dict[Any, Any], Dict[Any, Any]]:
        if seed is not None and self._seedable:
            self.env.seed(seed)
        return {SINGLE_AGENT_ID: self.env.reset().observation}, {SINGLE_AGENT_ID: {}}

    def step(self, action_dict: Any) -> Tuple[Dict[Any, Any], ...]:
        step = self.env.step(action_dict[SINGLE_AGENT_ID])
        last = bool(step.is_last())
        terminated = last and float(step.discount) == 0.0
        truncated = last and not terminated
        return ({SINGLE_AGENT_ID: step.observation}, {SINGLE_AGENT_ID: float(step.reward)},
                {SINGLE_AGENT_ID: terminated, ALL: terminated},
                {SINGLE_AGENT_ID: truncated, ALL: truncated}, {SINGLE_AGENT_ID: {}})

    def close(self) -> None:
        self.env.close()


class _PolicyInfo:
    """What the runner needs to know of one policy: spaces as specs, action handling,
    which optional columns its model reads, and the nest structures of its outputs."""

    def __init__(self, policy_id: str, policy: Any, normalize_actions: bool,
                 clip_actions: bool):
        self.policy_id = policy_id
        self.obs_spec = as_spec(policy.observation_space, "observation")
        self.action_spec = as_spec(policy.action_space, "action")
        self.obs_dtypes = [np.dtype(s.dtype) for s in tree.flatten(self.obs_spec)]
        self.single_obs = not tree.is_nested(self.obs_spec)
        self.single_action = not tree.is_nested(self.action_spec)
        self.actions = EnvActions(self.action_spec, normalize_actions, clip_actions)
        self.num_state = len(policy.get_initial_state())
        self.wants_prev_actions = _wants(policy, SampleBatch.PREV_ACTIONS)
        self.wants_prev_rewards = _wants(policy, SampleBatch.PREV_REWARDS)
        self.action_structure: Any = None
        self.extra_structures: Dict[str, Any] = {}

    def obs_leaves(self, observation: Any, agent_id: Any) -> List[np.ndarray]:
        """The observation's leaves (copies) in the observation spec's dtypes."""
        if self.single_obs:
            return [np.array(observation, dtype=self.obs_dtypes[0])]
        try:
            leaves = tree.flatten_up_to(self.obs_spec, observation)
        except (TypeError, ValueError) as e:
            raise ValueError(f"the observation of agent {agent_id!r} does not match the "
                             f"observation space of its policy {self.policy_id!r}: {e}") from None
        return [np.array(v, dtype=d) for v, d in zip(leaves, self.obs_dtypes)]

    def obs_nest(self, leaves: List[Any]) -> Any:
        return leaves[0] if self.single_obs else tree.unflatten_as(self.obs_spec, leaves)

    def action_nest(self, leaves: List[Any]) -> Any:
        if self.action_structure is None or not tree.is_nested(self.action_structure):
            return leaves[0]
        return tree.unflatten_as(self.action_structure, leaves)


class _Agent:
    """One agent of a running episode: the observation it is to act on, its open row,
    its closed rows of this fragment, and what carries from step to step."""

    __slots__ = ("agent_id", "policy_id", "index", "obs", "done", "state", "prev_action",
                 "prev_reward", "t", "reward", "open", "rows")

    def __init__(self, agent_id: Any, policy_id: str, index: int, state: List[np.ndarray]):
        self.agent_id = agent_id
        self.policy_id = policy_id
        self.index = index
        self.obs: Optional[List[np.ndarray]] = None
        self.done = False
        self.state = state
        self.prev_action: Optional[List[np.ndarray]] = None
        self.prev_reward = 0.0
        self.t = 0
        self.reward = 0.0
        self.open: Optional[Dict[str, Any]] = None
        self.rows: List[Dict[str, Any]] = []


class _Slot:
    """One environment and its running episode."""

    def __init__(self, env: Any, index: int):
        self.env = env
        self.index = index
        self.possible = {agent: i for i, agent in
                         enumerate(getattr(env, "possible_agents", None) or [])}
        self.episode_number = -1
        self.seed = 0
        self.episode: Optional[Episode] = None
        self.agents: Dict[Any, _Agent] = {}


def _to_env(action: Any) -> Any:
    """0-d arrays as numpy scalars, which gymnasium spaces and `if a == 1` code accept."""
    if isinstance(action, np.ndarray):
        return action[()] if action.ndim == 0 else action
    return tree.map_structure(lambda a: a[()] if np.ndim(a) == 0 else a, action)


class MultiAgentRunner:
    """`n` multi-agent environments stepped together with a worker's policies.

    Args:
      envs: the `MultiAgentEnv`s.
      worker: the `RolloutWorker` (its `policy_map`, `policy_mapping_fn` and
        itself are read when episodes start and agents act).
      base_seed, worker_index: where the episode seeds come from.
      normalize_actions, clip_actions: see `_actions`.
      count_agent_steps: `collect`'s `steps` count agent steps instead of env steps.
      stream: None for sampling, `_seeding.EVALUATION_STREAM` for evaluation.
      start: reset every environment into its first episode now.
    """

    def __init__(self, envs: Sequence[Any], worker: Any, base_seed: int, worker_index: int,
                 normalize_actions: bool, clip_actions: bool, count_agent_steps: bool = False,
                 stream: Optional[int] = None, start: bool = True):
        self.envs = list(envs)
        self.worker = worker
        self.base_seed = int(base_seed)
        self.worker_index = int(worker_index)
        self.normalize_actions = bool(normalize_actions)
        self.clip_actions = bool(clip_actions)
        self.count_agent_steps = bool(count_agent_steps)
        self.stream = stream
        self.slots = [_Slot(env, i) for i, env in enumerate(self.envs)]
        self.metrics: List[RolloutMetrics] = []
        self.unroll_counter = 0
        self._infos: Dict[str, _PolicyInfo] = {}
        if start:
            for slot in self.slots:
                self.start_episode(slot)

    # ---- policies ------------------------------------------------------------------------------

    def _info(self, policy_id: str, policy: Any = None) -> _PolicyInfo:
        info = self._infos.get(policy_id)
        if info is None:
            if policy is None:
                policy = self.worker.policy_map[policy_id]
            info = self._infos[policy_id] = _PolicyInfo(
                policy_id, policy, self.normalize_actions, self.clip_actions)
        return info

    def forget_policy(self, policy_id: str, restart: bool = True) -> None:
        """Drops what the runner knows of a removed policy and (with `restart`) restarts
        the episodes in which an agent acts with it (their unfinished rows are dropped)."""
        self._infos.pop(policy_id, None)
        for slot in self.slots if restart else ():
            if any(agent.policy_id == policy_id for agent in slot.agents.values()):
                self.start_episode(slot)

    # ---- episodes ------------------------------------------------------------------------------

    def start_episode(self, slot: _Slot, episode: Optional[int] = None) -> None:
        """Resets `slot`'s environment into its next episode (or episode number `episode`)."""
        slot.episode_number = slot.episode_number + 1 if episode is None else int(episode)
        seeded = _seeding.episode_seed(self.base_seed, self.worker_index, slot.index,
                                       slot.episode_number, self.stream)
        slot.seed = seeded.seed
        slot.episode = Episode(seeded.eps_id, slot.index, self.worker,
                               self.worker.policy_mapping_fn, self.worker.policy_map)
        slot.agents = {}
        obs, _ = check_reset_result(slot.env.reset(seed=seeded.seed), slot.env)
        self._receive(slot, obs, {}, {ALL: False}, {ALL: False})

    def _agent(self, slot: _Slot, agent_id: Any) -> _Agent:
        agent = slot.agents.get(agent_id)
        if agent is None:
            policy_id = slot.episode.policy_for(agent_id)
            policy = self.worker.policy_map[policy_id]
            self._info(policy_id, policy)
            index = slot.possible.get(agent_id)
            # Asked per agent and episode: a policy may start each episode differently.
            state = [np.asarray(s) for s in policy.get_initial_state()]
            agent = slot.agents[agent_id] = _Agent(
                agent_id, policy_id, len(slot.agents) if index is None else index, state)
        return agent

    def _receive(self, slot: _Slot, obs: Dict[Any, Any], rewards: Dict[Any, Any],
                 terminateds: Dict[Any, Any], truncateds: Dict[Any, Any]) -> bool:
        """Books one reset's or step's results into the agents; True when the episode ended."""
        episode = slot.episode
        all_terminated = bool(terminateds[ALL])
        over = all_terminated or bool(truncateds[ALL])
        for agent_id, reward in rewards.items():
            agent = self._agent(slot, agent_id)
            reward = float(reward)
            agent.reward += reward
            episode.total_reward += reward
            key = (agent_id, agent.policy_id)
            episode.agent_rewards[key] = episode.agent_rewards.get(key, 0.0) + reward
        for agent_id, observation in obs.items():
            agent = self._agent(slot, agent_id)
            if agent.done:
                raise ValueError(
                    f"{type(slot.env).__name__} sent an observation for agent {agent_id!r} "
                    f"after it terminated or truncated in this episode; expected none "
                    f"until the episode ends (\"__all__\")")
            leaves = self._info(agent.policy_id).obs_leaves(observation, agent_id)
            terminated, truncated = _flags(agent_id, terminateds, truncateds, over,
                                           all_terminated)
            if agent.open is not None:
                self._close(agent, leaves, terminated, truncated)
            else:  # rewards before an agent's first action belong to no row
                agent.reward = 0.0
            episode._last_observations[agent_id] = observation
            if terminated or truncated:
                agent.done, agent.obs = True, None
            else:
                agent.obs = leaves
        for flags in (terminateds, truncateds):
            for agent_id, flag in flags.items():
                if flag and agent_id != ALL and agent_id not in obs:
                    self._end_agent(slot, agent_id, terminateds, truncateds, over,
                                    all_terminated)
        if over:
            for agent_id in list(slot.agents):
                self._end_agent(slot, agent_id, terminateds, truncateds, over, all_terminated)
        return over

    def _end_agent(self, slot: _Slot, agent_id: Any, terminateds: Dict[Any, Any],
                   truncateds: Dict[Any, Any], over: bool, all_terminated: bool) -> None:
        """An agent done without a last observation: its open row closes on the
        observation it acted on."""
        agent = slot.agents.get(agent_id)
        if agent is None or agent.done:
            return
        if agent.open is not None:
            terminated, truncated = _flags(agent_id, terminateds, truncateds, over,
                                           all_terminated)
            self._close(agent, agent.open["obs"], terminated, truncated)
        agent.done, agent.obs = True, None

    @staticmethod
    def _close(agent: _Agent, new_obs: List[np.ndarray], terminated: bool,
               truncated: bool) -> None:
        row = agent.open
        row["new_obs"] = new_obs
        row["rewards"] = agent.reward
        row["terminateds"] = terminated
        row["truncateds"] = truncated
        agent.prev_reward = agent.reward
        agent.reward = 0.0
        agent.rows.append(row)
        agent.open = None

    def _finish(self, slot: _Slot) -> Tuple[Episode, Dict[Any, _Agent]]:
        """Records the ended episode's metrics and starts the next one; returns the ended
        episode and its agents."""
        episode, agents = slot.episode, slot.agents
        self.metrics.append(RolloutMetrics(
            episode.length, float(episode.total_reward), dict(episode.agent_rewards),
            dict(episode.custom_metrics), hist_data=dict(episode.hist_data),
            media=dict(episode.media)))
        self.start_episode(slot)
        return episode, agents

    # ---- acting --------------------------------------------------------------------------------

    def _act(self, slots: Sequence[_Slot], explore: Optional[bool]) -> Dict[int, Dict[Any, Any]]:
        """One `compute_actions` call per policy for every agent with an observation; the
        action dict of each environment."""
        groups: Dict[str, List[Tuple[_Slot, _Agent]]] = {}
        action_dicts: Dict[int, Dict[Any, Any]] = {slot.index: {} for slot in slots}
        for slot in slots:
            for agent in slot.agents.values():
                if agent.obs is not None:
                    groups.setdefault(agent.policy_id, []).append((slot, agent))
        for policy_id, members in groups.items():
            policy = self.worker.policy_map[policy_id]
            info = self._info(policy_id, policy)
            agents = [agent for _, agent in members]
            size = len(agents)
            obs = info.obs_nest([np.stack(leaf) for leaf in zip(*[a.obs for a in agents])])
            state = [np.stack(s) for s in zip(*[a.state for a in agents])]
            prev_actions = prev_rewards = None
            if info.wants_prev_actions:
                prev_actions = self._prev_actions(info, agents)
            if info.wants_prev_rewards:
                prev_rewards = np.asarray([a.prev_reward for a in agents], np.float32)
            actions, state_out, extra = policy.compute_actions(
                obs, state or None, prev_action_batch=prev_actions,
                prev_reward_batch=prev_rewards, explore=explore,
                episodes=[slot.episode for slot, _ in members])
            if info.single_action:
                actions = np.asarray(actions)  # RLlib's minimal policies return lists
            if info.action_structure is None:
                info.action_structure = actions
            if len(state_out) != info.num_state:
                raise ValueError(
                    f"policy {policy_id!r} returned {len(state_out)} state outputs from "
                    f"compute_actions; its get_initial_state() has {info.num_state}: the "
                    f"multi-agent sampler carries each agent's state from one step to the "
                    f"next")
            env_actions = info.actions.split(actions, size)
            action_leaves = [np.asarray(a) for a in tree.flatten(actions)]
            state_out = [np.asarray(s) for s in state_out]
            extra_leaves = {}
            for key, value in extra.items():
                info.extra_structures.setdefault(key, value)
                extra_leaves[key] = [np.asarray(v) for v in tree.flatten(value)]
            for j, (slot, agent) in enumerate(members):
                leaves = [a[j] for a in action_leaves]
                agent.open = {
                    "obs": agent.obs, "actions": leaves, "eps_id": slot.episode.episode_id,
                    "t": agent.t, "state_in": agent.state,
                    "state_out": [s[j] for s in state_out],
                    "prev_actions": agent.prev_action, "prev_rewards": agent.prev_reward,
                    "extra": {key: [v[j] for v in value] for key, value in extra_leaves.items()},
                }
                agent.t += 1
                agent.state = agent.open["state_out"]
                agent.prev_action = leaves
                agent.obs = None
                slot.episode._last_actions[agent.agent_id] = info.action_nest(leaves)
                action_dicts[slot.index][agent.agent_id] = _to_env(env_actions[j])
        return action_dicts

    @staticmethod
    def _prev_actions(info: _PolicyInfo, agents: List[_Agent]) -> Any:
        zeros = [np.zeros(tuple(s.shape), s.dtype) for s in tree.flatten(info.action_spec)]
        leaves = [np.stack(column) for column in
                  zip(*[a.prev_action if a.prev_action is not None else zeros for a in agents])]
        return leaves[0] if info.single_action else tree.unflatten_as(info.action_spec, leaves)

    def _step(self, slot: _Slot, actions: Dict[Any, Any]) -> bool:
        result = check_step_result(slot.env.step(actions), slot.env)
        slot.episode.length += 1
        obs, rewards, terminateds, truncateds, _ = result
        return self._receive(slot, obs, rewards, terminateds, truncateds)

    # ---- collection ----------------------------------------------------------------------------

    def collect(self, steps: int, complete_episodes: bool, explore: Optional[bool]
                ) -> Tuple[Dict[str, List[SampleBatch]], int]:
        """Steps the environments and returns each policy's postprocessed fragments.

        Args:
          steps: with `complete_episodes=False`, the env steps (agent steps
            with `count_agent_steps`) per environment: an environment stops
            stepping once it reached them; otherwise environments go on until
            `steps * n` are in, then each stops at the end of its episode.
          explore: passed to `compute_actions`.

        Returns:
          `({policy_id: [fragments]}, env steps taken)`; the fragments of
          environment 0 come first, episode by episode, agents in
          `agent_index` order.
        """
        n = len(self.slots)
        counts = [0] * n
        total = env_steps = 0
        target = steps * n
        parts: List[List[Tuple[Episode, Dict[Any, _Agent]]]] = [[] for _ in range(n)]
        active = list(range(n))
        while active:
            if not complete_episodes:
                active = [i for i in active if counts[i] < steps]
                if not active:
                    break
            action_dicts = self._act([self.slots[i] for i in active], explore)
            ended = []
            for i in active:
                slot = self.slots[i]
                actions = action_dicts[i]
                over = self._step(slot, actions)
                units = len(actions) if self.count_agent_steps else 1
                counts[i] += units
                total += units
                env_steps += 1
                if over:
                    parts[i].append(self._finish(slot))
                    ended.append(i)
            # With complete episodes, every environment whose episode ended on the step
            # that brought the total to the target stops (the step is counted whole).
            if complete_episodes and ended and total >= target:
                active = [i for i in active if i not in ended]
        batches: Dict[str, List[SampleBatch]] = {}
        for slot, finished in zip(self.slots, parts):
            for episode, agents in finished + [(slot.episode, slot.agents)]:
                for policy_id, batch in self._postprocessed(episode, agents):
                    batches.setdefault(policy_id, []).append(batch)
        return batches, env_steps

    def _postprocessed(self, episode: Episode, agents: Dict[Any, _Agent]
                       ) -> List[Tuple[str, SampleBatch]]:
        """Each agent's closed rows of one episode fragment, postprocessed (and taken
        from the agents)."""
        raw = {}
        policy_map = self.worker.policy_map
        for agent in sorted(agents.values(), key=lambda a: a.index):
            if agent.rows:
                updates = policy_map[agent.policy_id].num_grad_updates
                raw[agent.agent_id] = (agent.policy_id, self._batch(agent, updates))
                agent.rows = []
        out = []
        for agent_id, (policy_id, batch) in raw.items():
            others = {other: (pid, policy_map[pid], other_batch)
                      for other, (pid, other_batch) in raw.items() if other != agent_id}
            own = batch.copy() if others else batch  # the others see the raw rows
            out.append((policy_id,
                        policy_map[policy_id].postprocess_trajectory(own, others, episode)))
        return out

    def _batch(self, agent: _Agent, num_grad_updates: Optional[int]) -> SampleBatch:
        info = self._info(agent.policy_id)
        rows = agent.rows
        size = len(rows)

        def stacked(key: str) -> List[np.ndarray]:
            return [np.stack(leaf) for leaf in zip(*[row[key] for row in rows])]

        data: Dict[str, Any] = {
            SampleBatch.OBS: info.obs_nest(stacked("obs")),
            SampleBatch.NEXT_OBS: info.obs_nest(stacked("new_obs")),
            SampleBatch.ACTIONS: info.action_nest(stacked("actions")),
            SampleBatch.REWARDS: np.asarray([row["rewards"] for row in rows], np.float32),
            SampleBatch.TERMINATEDS: np.asarray([row["terminateds"] for row in rows], bool),
            SampleBatch.TRUNCATEDS: np.asarray([row["truncateds"] for row in rows], bool),
            SampleBatch.EPS_ID: np.asarray([row["eps_id"] for row in rows], np.int64),
            SampleBatch.T: np.asarray([row["t"] for row in rows], np.int64),
            SampleBatch.AGENT_INDEX: np.full(size, agent.index, np.int64),
            SampleBatch.UNROLL_ID: np.full(
                size, (self.worker_index << 32) + self.unroll_counter, np.int64),
        }
        self.unroll_counter += 1
        for j, state in enumerate(stacked("state_in")):
            data[f"state_in_{j}"] = state
        for j, state in enumerate(stacked("state_out")):
            data[f"state_out_{j}"] = state
        if info.wants_prev_actions:
            zeros = [np.zeros(tuple(s.shape), s.dtype) for s in tree.flatten(info.action_spec)]
            leaves = [np.stack(c) for c in zip(*[row["prev_actions"] if row["prev_actions"]
                                                 is not None else zeros for row in rows])]
            data[SampleBatch.PREV_ACTIONS] = info.action_nest(leaves)
        if info.wants_prev_rewards:
            data[SampleBatch.PREV_REWARDS] = np.asarray([row["prev_rewards"] for row in rows],
                                                        np.float32)
        for key, structure in info.extra_structures.items():
            if key in rows[0]["extra"]:
                leaves = [np.stack(leaf) for leaf in zip(*[row["extra"][key] for row in rows])]
                data[key] = (leaves[0] if not tree.is_nested(structure)
                             else tree.unflatten_as(structure, leaves))
        return SampleBatch(data, _num_grad_updates=num_grad_updates)

    # ---- evaluation ----------------------------------------------------------------------------

    def run_episodes(self, num_episodes: int, explore: Optional[bool]) -> List[RolloutMetrics]:
        """`num_episodes` fresh episodes spread over the environments (no rows kept);
        their metrics in the order they started."""
        results: List[Optional[RolloutMetrics]] = [None] * num_episodes
        which = [-1] * len(self.slots)
        started = 0
        for slot in self.slots[:num_episodes]:
            self.start_episode(slot)
            which[slot.index], started = started, started + 1
        while True:
            active = [slot for slot in self.slots if which[slot.index] >= 0]
            if not active:
                return [r for r in results if r is not None]
            action_dicts = self._act(active, explore)
            for slot in active:
                if self._step(slot, action_dicts[slot.index]):
                    episode = slot.episode
                    results[which[slot.index]] = RolloutMetrics(
                        episode.length, float(episode.total_reward),
                        dict(episode.agent_rewards))
                    if started < num_episodes:
                        self.start_episode(slot)
                        which[slot.index], started = started, started + 1
                    else:
                        which[slot.index] = -1
                for agent in slot.agents.values():
                    agent.rows = []

    # ---- snapshots -----------------------------------------------------------------------------

    def get_state(self) -> Dict[str, Any]:
        """Each environment's episode number and the unroll counter."""
        return {"envs": [{"episode": int(slot.episode_number)} for slot in self.slots],
                "unroll_counter": int(self.unroll_counter)}

    def set_state(self, state: Dict[str, Any]) -> None:
        """Each environment starts the episode after its saved one (running episodes
        are not replayed).

        Raises:
          ValueError: a state for another number of environments.
        """
        envs = state["envs"]
        if len(envs) != len(self.slots):
            raise ValueError(f"config key 'num_envs_per_worker': the state holds {len(envs)} "
                             f"environments, this worker has {len(self.slots)}")
        self.unroll_counter = int(state.get("unroll_counter", 0))
        for slot, saved in zip(self.slots, envs):
            self.start_episode(slot, int(saved["episode"]) + 1)


def _flags(agent_id: Any, terminateds: Dict[Any, Any], truncateds: Dict[Any, Any],
           over: bool, all_terminated: bool) -> Tuple[bool, bool]:
    """`(terminated, truncated)` of an agent: its own flags (a termination wins), else
    the episode's when it ended."""
    if terminateds.get(agent_id):
        return True, False
    if truncateds.get(agent_id):
        return False, True
    if over:
        return all_terminated, not all_terminated
    return False, False
