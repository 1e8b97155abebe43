"""`RolloutWorker`: environments plus policies, sampling postprocessed batches (RLlib's name).

A worker holds `num_envs_per_worker` unbatched environments and its
policies (`policy_map`, a `PolicyMap`). With a single-agent environment
and only the `DEFAULT_POLICY_ID` policy, `sample()` steps all environments
together, one `compute_actions` call per step, and returns a `SampleBatch`
with RLlib's columns: `obs`, `new_obs`, `actions`,
`rewards`, `terminateds`, `truncateds`, `eps_id`, `t`, `agent_index`,
`unroll_id`, the policy's extra fetches (`action_logp`, `vf_preds`, ...),
`state_in_{i}`/`state_out_{i}` for a recurrent policy and `prev_actions`/
`prev_rewards` when its model reads them (zeros at an episode's start).
Each environment's rows are contiguous and in time order; each episode
fragment went through `policy.postprocess_trajectory` on its own, and a
fragment cut by the end of the sample is bootstrapped by postprocessing
(its last row is neither terminated nor truncated). A gymnasium
truncation is `truncateds`, a termination `terminateds`.

Multi-agent: when the environment is a `MultiAgentEnv` (or a PettingZoo
env, wrapped by the adapters), or the worker has other policies than the
default one (a single-agent env then has one agent, `"agent0"`),
`sample()` returns a `MultiAgentBatch`: one `SampleBatch` per policy, with
the columns above, where each agent's rows are contiguous and in time
order, `agent_index` is the agent's index in the env's `possible_agents`
(else the order agents first appeared in the episode), and each agent's
episode fragment went through its policy's
`postprocess_trajectory(batch, other_agent_batches, episode)` with the
other agents' raw fragments of the same episode
(`{agent_id: (policy_id, policy, batch)}`). Each step makes one
`compute_actions` call per policy for all the agents (of all
environments) mapped to it. Which policy an agent uses is
`policy_mapping_fn(agent_id, episode, worker, **kwargs)` (see `Episode`),
asked once per agent and episode; for turn-based environments and agents
that end early, see `_multi_agent_runner` (rows span from an agent's
observation to its next one, with the rewards in between summed).
`env_steps()` of the batch is the environment steps taken.

`batch_mode`:

- `"truncate_episodes"`: exactly `rollout_fragment_length` steps per
  environment, so `rollout_fragment_length * num_envs_per_worker` rows
  (multi-agent: environment steps, or with `count_steps_by="agent_steps"`
  agent steps, an environment stopping at the step that reaches them);
  running episodes continue in the next call (same `eps_id`, `t`,
  recurrent state).
- `"complete_episodes"`: whole episodes only; environments keep stepping
  until `rollout_fragment_length * num_envs_per_worker` rows (steps) are
  in, and each stops when its episode ends after that (episodes that never
  end never return, as in RLlib).

Seeding and exact resume: episode `e` of environment `i` on worker `w` is
reset with the seed `SeedSequence([seed, w, i, e])` (through
`env.seed(...)`, or `reset(seed=...)` for a multi-agent env), where `seed`
is `config["seed"]`, or drawn once from the OS when None and kept in the
state. Single-agent: `get_state()` records each
environment's episode number and the actions taken in its episode so far;
`set_state()` resets it with that seed and replays them, so sampling goes
on exactly where it stopped. An environment without `seed()` cannot be
replayed: after `set_state` it starts a fresh episode. Multi-agent:
`get_state()` holds the policies, the episode numbers and counters only;
after `set_state()` every environment starts its next episode.

Config keys read here (defaults in brackets): `num_envs_per_worker` (1),
`rollout_fragment_length` (200, or `"auto"`: `train_batch_size` split over
the workers' environments), `batch_mode` (`"truncate_episodes"`), `seed`
(None), `explore` (the policy's), `env_config` ({}), `normalize_actions`
(True: a bounded float action `a` in `[-1, 1]` is sent as
`clip(low + (a + 1)(high - low) / 2, low, high)`), `clip_actions` (False),
`evaluation_num_envs` (1, for `sample_episodes`), and `multiagent`:
`policies` ({}: `{policy_id: PolicySpec}`), `policy_mapping_fn` (None:
every agent acts with `"default_policy"`), `policies_to_train` (None: all;
a collection of ids or `fn(policy_id, batch) -> bool`),
`policy_map_capacity` (100), `policy_map_cache` (None: the `PolicyMap`'s
stash directory), `policy_states_are_swappable` (False, see `PolicyMap`),
`count_steps_by` (`"env_steps"` or `"agent_steps"`); a None value stands
for the default.
The keyword arguments `policy_spec`, `policy_mapping_fn`,
`policies_to_train`, `rollout_fragment_length`, `batch_mode`, `num_envs`
and `seed` override the config when given. Every policy receives the
config (without its `multiagent` section, whose functions and spaces a
policy checkpoint could not hold) merged with its spec's config, plus
`worker_index`. With a seed, Python's, numpy's and TensorFlow's global
generators are seeded (from the seed and the worker index) before the
policies are built, so their initial weights repeat.
"""

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from tfpolicy.evaluation import _seeding
from tfpolicy.evaluation._env_runner import EnvRunner
from tfpolicy.evaluation._multi_agent_runner import MultiAgentRunner, SingleAgentEnv
from tfpolicy.evaluation.env_creator import EnvContext, as_worker_env, make_env_creator
from tfpolicy.evaluation.episode import Episode
from tfpolicy.evaluation.metrics import RolloutMetrics
from tfpolicy.evaluation.multi_agent_env import MultiAgentEnv
from tfpolicy.evaluation.policy_map import PolicyMap
from tfpolicy.evaluation.policy_spec import PolicySpec, normalize_policy_specs
from tfpolicy.learning.policy import Policy, PolicyID
from tfpolicy.learning.sample_batch import (DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch,
                                            concat_samples)

__all__ = ["RolloutWorker", "PolicyEvaluator", "BATCH_MODES", "COUNT_STEPS_BY"]

BATCH_MODES = ("truncate_episodes", "complete_episodes")
COUNT_STEPS_BY = ("env_steps", "agent_steps")

_DEFAULTS: Dict[str, Any] = {
    "num_envs_per_worker": 1,
    "rollout_fragment_length": 200,
    "batch_mode": "truncate_episodes",
    "normalize_actions": True,
    "clip_actions": False,
    "evaluation_num_envs": 1,
}

_MULTIAGENT_DEFAULTS: Dict[str, Any] = {
    "policies": {},
    "policy_mapping_fn": None,
    "policies_to_train": None,
    "policy_map_capacity": 100,
    "policy_map_cache": None,
    "count_steps_by": "env_steps",
}

# Old RLlib names of `multiagent` keys, and the keys that replaced them.
_DEPRECATED_MULTIAGENT_KEYS = {"policy_graphs": "policies"}


def _positive_int(config: Mapping[str, Any], key: str) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"config key {key!r}: expected an int in [1, inf), got {value!r}")
    return int(value)


def _fragment_length(config: Mapping[str, Any], num_workers: int, num_envs: int) -> int:
    value = config["rollout_fragment_length"]
    if value == "auto":
        train_batch_size = config.get("train_batch_size", 200)
        return max(1, math.ceil(train_batch_size / (max(num_workers, 1) * num_envs)))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"config key 'rollout_fragment_length': expected an int in [1, inf) "
                         f"or 'auto', got {value!r}")
    return int(value)


def _seed_globals(seed: int) -> None:
    import keras
    keras.utils.set_random_seed(seed)


def _multiagent_config(value: Any) -> Dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise TypeError(f"config key 'multiagent': expected a dict, got "
                        f"{type(value).__name__}: {value!r}")
    for old, new in _DEPRECATED_MULTIAGENT_KEYS.items():
        if old in value:
            raise ValueError(f"config key 'multiagent.{old}' is deprecated; use "
                             f"'multiagent.{new}' (same meaning: policy id -> PolicySpec)")
    merged = dict(_MULTIAGENT_DEFAULTS)
    # None stands for the default (an algorithm config may list every key).
    merged.update({k: v for k, v in value.items() if v is not None or merged.get(k) is None})
    if merged["count_steps_by"] not in COUNT_STEPS_BY:
        raise ValueError(f"config key 'multiagent.count_steps_by': expected one of "
                         f"{list(COUNT_STEPS_BY)}, got {merged['count_steps_by']!r}")
    return merged


def _merged(base: Mapping[str, Any], override: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """`base` updated with `override`, dict values merged key by key (RLlib's merge_dicts)."""
    out = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


class RolloutWorker:
    """Environments and policies that sample batches, learn and move weights (see the module
    docstring).

    Args:
      env_creator: `creator(env_context) -> env` (see `make_env_creator`;
        the env may be a `PyEnvironment`, a `gymnasium.Env`, a
        `MultiAgentEnv` or a PettingZoo env), or an env name or id, which goes
        through `make_env_creator` with `config["env_config"]`.
      default_policy_class: the `Policy` class of the default policy and of
        specs without a class, built as
        `policy_class(observation_space, action_space, config)`.
      config: the algorithm's config (keys above; the rest passes to the policies).
      worker_index: 0 for the local worker, 1.. for remote ones.
      num_workers: the number of remote workers (for `EnvContext` and
        `rollout_fragment_length="auto"`).
      policy_spec: the policies, overriding `config["multiagent"]["policies"]`:
        `{policy_id: PolicySpec}`, or one `Policy` class (or `PolicySpec`)
        for the default policy alone.
      policy_mapping_fn: overrides `config["multiagent"]["policy_mapping_fn"]`.
      policies_to_train: overrides `config["multiagent"]["policies_to_train"]`.
      rollout_fragment_length, batch_mode, num_envs, seed: override the
        config keys `rollout_fragment_length`, `batch_mode`,
        `num_envs_per_worker` and `seed`.

    Attributes:
      policy_map: the `PolicyMap`, policy id -> policy.
      policy_mapping_fn: the mapping function (None: all to the default policy).
      config: the config with the worker's defaults above filled in (the
        policies get the config as given, without `multiagent`, merged with
        their spec's config, plus `worker_index`).
      worker_index, num_workers: as given.
      envs: the sampling environments.
      multi_agent: whether `sample()` returns `MultiAgentBatch`es.
      rollout_fragment_length: steps per environment and `sample()`.
      count_steps_by: `"env_steps"` or `"agent_steps"`.
      global_vars: the last `set_global_vars` argument.

    Raises:
      ValueError: a config value out of range (naming the key, the value and
        the allowed values), a deprecated key (naming its replacement), a
        policy without a class or whose spaces cannot be inferred, an unknown
        policy id in `policies_to_train`; the errors of `make_env_creator`
        and `check_env`.
      TypeError: a policy spec or mapping function of the wrong type.
    """

    def __init__(self, env_creator: Union[str, Callable[..., Any]],
                 default_policy_class: Optional[type] = None,
                 config: Optional[Mapping[str, Any]] = None, worker_index: int = 0,
                 num_workers: int = 0, *, policy_spec: Any = None,
                 policy_mapping_fn: Optional[Callable[..., PolicyID]] = None,
                 policies_to_train: Any = None,
                 rollout_fragment_length: Union[int, str, None] = None,
                 batch_mode: Optional[str] = None, num_envs: Optional[int] = None,
                 seed: Optional[int] = None):
        given = dict(config or {})
        for key, value in (("rollout_fragment_length", rollout_fragment_length),
                           ("batch_mode", batch_mode), ("num_envs_per_worker", num_envs),
                           ("seed", seed)):
            if value is not None:
                given[key] = value
        merged = dict(_DEFAULTS)
        merged.update(given)
        self.config = merged
        multiagent = _multiagent_config(merged.get("multiagent"))
        self._explore = merged.get("explore")
        self.worker_index = int(worker_index)
        self.num_workers = int(num_workers)
        self.num_envs = _positive_int(merged, "num_envs_per_worker")
        self.rollout_fragment_length = _fragment_length(merged, self.num_workers, self.num_envs)
        if merged["batch_mode"] not in BATCH_MODES:
            raise ValueError(f"config key 'batch_mode': expected one of {list(BATCH_MODES)}, "
                             f"got {merged['batch_mode']!r}")
        self.batch_mode = merged["batch_mode"]
        self.count_steps_by = multiagent["count_steps_by"]
        self._evaluation_num_envs = _positive_int(merged, "evaluation_num_envs")
        self.policy_mapping_fn = (policy_mapping_fn if policy_mapping_fn is not None
                                  else multiagent["policy_mapping_fn"])
        if self.policy_mapping_fn is not None and not callable(self.policy_mapping_fn):
            raise TypeError(f"config key 'multiagent.policy_mapping_fn': expected "
                            f"fn(agent_id, episode, worker, **kwargs) -> policy_id, got "
                            f"{type(self.policy_mapping_fn).__name__}: "
                            f"{self.policy_mapping_fn!r}")
        self.default_policy_class = default_policy_class
        specs = self._policy_specs(policy_spec, multiagent["policies"])
        self._base_seed = _seeding.base_seed(merged.get("seed"))
        if merged.get("seed") is not None:
            _seed_globals(_seeding.global_seed(self._base_seed, self.worker_index))
        if isinstance(env_creator, str):
            env_creator = make_env_creator(env_creator, merged.get("env_config"))
        self.env_creator = env_creator
        self.envs = [self._make_env(i) for i in range(self.num_envs)]
        self.multi_agent = (isinstance(self.envs[0], MultiAgentEnv)
                            or set(specs) != {DEFAULT_POLICY_ID})
        if self.multi_agent:
            self.envs = [self._as_multi_agent(env) for env in self.envs]
        self._policy_config = {k: v for k, v in given.items() if k != "multiagent"}
        self._policy_config["worker_index"] = self.worker_index
        self.policy_map = PolicyMap(
            capacity=multiagent["policy_map_capacity"],
            policy_states_are_swappable=bool(multiagent.get("policy_states_are_swappable",
                                                            False)),
            path=multiagent["policy_map_cache"])
        for policy_id, spec in specs.items():
            self._build_policy(policy_id, spec, specs)
        self._policies_to_train: Any = None
        self._set_policies_to_train(policies_to_train if policies_to_train is not None
                                    else multiagent["policies_to_train"])
        self.global_vars: Optional[Dict[str, Any]] = None
        normalize, clip = bool(merged["normalize_actions"]), bool(merged["clip_actions"])
        if self.multi_agent:
            self._runner: Any = MultiAgentRunner(
                self.envs, self, self._base_seed, self.worker_index, normalize, clip,
                count_agent_steps=self.count_steps_by == "agent_steps")
        else:
            self._runner = EnvRunner(self.envs, self.policy_map[DEFAULT_POLICY_ID],
                                     self._base_seed, self.worker_index, normalize, clip)
        self._evaluation: Any = None
        self._stopped = False

    def _make_env(self, vector_index: int) -> Any:
        context = EnvContext(self.config.get("env_config") or {}, self.worker_index,
                             vector_index, self.num_workers)
        return as_worker_env(self.env_creator(context), self.env_creator)

    @staticmethod
    def _as_multi_agent(env: Any) -> MultiAgentEnv:
        return env if isinstance(env, MultiAgentEnv) else SingleAgentEnv(env)

    @property
    def env(self) -> Any:
        """The first sampling environment."""
        return self.envs[0]

    # ---- policies -------------------------------------------------------------------------------

    def _policy_specs(self, policy_spec: Any, configured: Any) -> Dict[PolicyID, PolicySpec]:
        if policy_spec is None:
            policy_spec = configured
        if isinstance(policy_spec, type) or isinstance(policy_spec, PolicySpec):
            policy_spec = {DEFAULT_POLICY_ID: policy_spec}
        specs = normalize_policy_specs(policy_spec)
        if not specs:
            specs = {DEFAULT_POLICY_ID: PolicySpec()}
        return specs

    def _spaces_for(self, policy_id: PolicyID, spec: PolicySpec,
                    policy_ids: Any) -> Tuple[Any, Any]:
        """The spec's spaces; missing ones from the env (see `PolicySpec`)."""
        observation_space, action_space = spec.observation_space, spec.action_space
        if observation_space is not None and action_space is not None:
            return observation_space, action_space
        env = self.envs[0]
        if not self.multi_agent:
            inferred = (env.observation_spec(), env.action_spec())
        else:
            inferred = None
            agents = list(getattr(env, "possible_agents", None) or [])
            probe = Episode(-1, 0, self, self.policy_mapping_fn, policy_ids)
            for agent_id in agents:
                if probe.policy_for(agent_id) == policy_id:
                    inferred = (env.get_observation_space(agent_id),
                                env.get_action_space(agent_id))
                    break
            if inferred is None and env.observation_spaces is None and (
                    env.observation_space is not None and env.action_space is not None):
                inferred = (env.observation_space, env.action_space)
            if inferred is None:
                raise ValueError(
                    f"config key 'multiagent.policies': policy {policy_id!r} has no "
                    f"observation/action space and none can be inferred: the "
                    f"policy_mapping_fn maps none of the env's possible_agents {agents} to "
                    f"it; give the spaces in its PolicySpec")
        return (inferred[0] if observation_space is None else observation_space,
                inferred[1] if action_space is None else action_space)

    def _build_policy(self, policy_id: PolicyID, spec: PolicySpec, policy_ids: Any) -> Policy:
        policy_class = spec.policy_class or self.default_policy_class
        if policy_class is None:
            raise ValueError(f"policy {policy_id!r} has no class: give the worker a "
                             f"default_policy_class or the policy_class in its PolicySpec "
                             f"(config key 'multiagent.policies')")
        observation_space, action_space = self._spaces_for(policy_id, spec, policy_ids)
        config = _merged(self._policy_config, spec.config)
        config["worker_index"] = self.worker_index
        return self.policy_map.create_policy(policy_id, policy_class, observation_space,
                                             action_space, config)

    def _set_policies_to_train(self, policies_to_train: Any) -> None:
        if policies_to_train is None or callable(policies_to_train):
            self._policies_to_train = policies_to_train
            return
        if isinstance(policies_to_train, str) or not isinstance(
                policies_to_train, (list, tuple, set, frozenset)):
            raise TypeError(f"config key 'multiagent.policies_to_train': expected None, a "
                            f"list of policy ids or fn(policy_id, batch) -> bool, got "
                            f"{type(policies_to_train).__name__}: {policies_to_train!r}")
        unknown = [pid for pid in policies_to_train if pid not in self.policy_map]
        if unknown:
            raise ValueError(f"config key 'multiagent.policies_to_train': unknown policy ids "
                             f"{unknown}; the worker's policies are {list(self.policy_map)}")
        self._policies_to_train = set(policies_to_train)

    def get_policy(self, policy_id: PolicyID = DEFAULT_POLICY_ID) -> Optional[Policy]:
        """The policy with that id, None if there is none (as RLlib)."""
        return self.policy_map.get(policy_id)

    def foreach_policy(self, func: Callable[..., Any], **kwargs: Any) -> List[Any]:
        """`[func(policy, policy_id, **kwargs)]` over `policy_map`."""
        return [func(policy, pid, **kwargs) for pid, policy in self.policy_map.items()]

    def is_policy_to_train(self, policy_id: PolicyID,
                           batch: Optional[Union[SampleBatch, MultiAgentBatch]] = None) -> bool:
        """Whether `policy_id` learns: in `policies_to_train`, or what its function says
        (`fn(policy_id, batch)`); every policy when it is None."""
        chosen = self._policies_to_train
        if chosen is None:
            return policy_id in self.policy_map
        if callable(chosen):
            return bool(chosen(policy_id, batch))
        return policy_id in chosen

    def foreach_policy_to_train(self, func: Callable[..., Any], **kwargs: Any) -> List[Any]:
        """`[func(policy, policy_id, **kwargs)]` over the policies to train."""
        return [func(self.policy_map[pid], pid, **kwargs) for pid in list(self.policy_map)
                if self.is_policy_to_train(pid)]

    def add_policy(self, policy_id: PolicyID, policy_cls: Optional[type] = None,
                   policy: Optional[Policy] = None, *, observation_space: Any = None,
                   action_space: Any = None, config: Optional[Mapping[str, Any]] = None,
                   policy_state: Optional[Mapping[str, Any]] = None,
                   policy_mapping_fn: Optional[Callable[..., PolicyID]] = None,
                   policies_to_train: Any = None) -> Policy:
        """Adds a policy (built from a spec, or `policy` itself) to the worker (RLlib's).

        Args:
          policy_id: the new id.
          policy_cls: its class (None: `default_policy_class`); exclusive with `policy`.
          policy: an existing policy object to add.
          observation_space, action_space: its spaces (None: inferred as for a spec).
          config: merged over the worker's config for this policy.
          policy_state: a `get_state()` to restore into the new policy.
          policy_mapping_fn: a new mapping function (for episodes that start from now).
          policies_to_train: a new `policies_to_train`.

        Returns:
          The new policy.

        Raises:
          ValueError: `policy_id` exists already, or both `policy_cls` and `policy` are given.
        """
        if policy_id in self.policy_map:
            raise ValueError(f"add_policy: policy id {policy_id!r} exists already; the "
                             f"worker's policies are {list(self.policy_map)}")
        if policy_cls is not None and policy is not None:
            raise ValueError(f"add_policy({policy_id!r}): give policy_cls or policy, not both")
        if policy_mapping_fn is not None:
            self.policy_mapping_fn = policy_mapping_fn
        if policy is not None:
            self.policy_map[policy_id] = policy
        else:
            known = set(self.policy_map) | {policy_id}
            policy = self._build_policy(
                policy_id, PolicySpec(policy_cls, observation_space, action_space, config),
                known)
        if policy_state is not None:
            policy.set_state(policy_state)
        if policies_to_train is not None:
            self._set_policies_to_train(policies_to_train)
        if not self.multi_agent:
            self._to_multi_agent()
        return policy

    def remove_policy(self, policy_id: PolicyID, *,
                      policy_mapping_fn: Optional[Callable[..., PolicyID]] = None,
                      policies_to_train: Any = None) -> None:
        """Removes a policy (RLlib's); episodes in which an agent acts with it restart.

        Raises:
          KeyError: an unknown policy id.
        """
        if policy_id not in self.policy_map:
            raise KeyError(f"RolloutWorker.remove_policy: unknown policy id {policy_id!r}; "
                           f"the worker has {sorted(self.policy_map)}")
        del self.policy_map[policy_id]
        if policy_mapping_fn is not None:
            self.policy_mapping_fn = policy_mapping_fn
        if isinstance(self._policies_to_train, set):
            self._policies_to_train.discard(policy_id)
        if policies_to_train is not None:
            self._set_policies_to_train(policies_to_train)
        if self.multi_agent:
            self._runner.forget_policy(policy_id)
            if self._evaluation is not None:
                self._evaluation.forget_policy(policy_id, restart=False)

    def _to_multi_agent(self) -> None:
        """A single-agent worker given more policies samples multi-agent from now on: its
        environments (as agent `"agent0"`) start their next episodes."""
        single = self._runner
        self.multi_agent = True
        self.envs = [SingleAgentEnv(env) for env in self.envs]
        self._runner = MultiAgentRunner(
            self.envs, self, self._base_seed, self.worker_index,
            bool(self.config["normalize_actions"]), bool(self.config["clip_actions"]),
            count_agent_steps=self.count_steps_by == "agent_steps", start=False)
        self._runner.metrics = single.metrics
        self._runner.unroll_counter = single.unroll_counter
        for slot, episode in zip(self._runner.slots, single.episode):
            self._runner.start_episode(slot, int(episode) + 1)
        if self._evaluation is not None:  # rebuilt, multi-agent, on demand
            for env in self._evaluation.envs:
                env.close()
            self._evaluation = None

    def foreach_env(self, func: Callable[[Any], Any]) -> List[Any]:
        """`[func(env)]` over the sampling environments."""
        return [func(env) for env in self.envs]

    def apply(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`func(self, *args, **kwargs)` (what a remote worker runs for the caller)."""
        return func(self, *args, **kwargs)

    def _policy(self, policy_id: PolicyID, where: str) -> Policy:
        policy = self.policy_map.get(policy_id)
        if policy is None:
            raise KeyError(f"RolloutWorker.{where}: unknown policy id {policy_id!r}; the "
                           f"worker has {sorted(self.policy_map)}")
        return policy

    # ---- sampling -------------------------------------------------------------------------------

    def sample(self) -> Union[SampleBatch, MultiAgentBatch]:
        """The next postprocessed batch (see the module docstring for its rows and columns).

        Returns:
          Single-agent: a `SampleBatch` of `rollout_fragment_length *
          num_envs_per_worker` rows with `"truncate_episodes"`, at least that
          many of whole episodes with `"complete_episodes"`. Multi-agent: a
          `MultiAgentBatch` of one `SampleBatch` per policy that acted.

        Raises:
          ValueError: the mapping function returned an unknown policy id, or the
            env an agent id of another type or not in its `possible_agents`, or
            no `"__all__"` (each naming the value and what was expected).
          TypeError: an agent id of another type than str or int.
        """
        complete = self.batch_mode == "complete_episodes"
        if self.multi_agent:
            fragments, env_steps = self._runner.collect(self.rollout_fragment_length,
                                                        complete, self._explore)
            return MultiAgentBatch({pid: concat_samples(batches)
                                    for pid, batches in fragments.items()}, env_steps)
        policy = self.policy_map[DEFAULT_POLICY_ID]
        fragments = self._runner.collect(self.rollout_fragment_length, complete,
                                         self._explore, policy.num_grad_updates)
        return concat_samples([policy.postprocess_trajectory(f) for f in fragments])

    def sample_with_count(self) -> tuple:
        """`(sample(), its count)` (environment steps for a `MultiAgentBatch`)."""
        batch = self.sample()
        return batch, batch.count

    def sample_episodes(self, num_episodes: int, explore: bool = False) -> List[RolloutMetrics]:
        """Plays `num_episodes` fresh episodes for evaluation and returns their metrics.

        They run on separate environments (`evaluation_num_envs` of them,
        built on first use), so sampling's episodes are not disturbed; the
        policies' `global_timestep` is put back afterwards, so exploration
        schedules do not move. Evaluation episodes are seeded from their
        own stream, and each call plays new ones.

        Args:
          num_episodes: how many episodes.
          explore: sample actions (True) or act greedily (False).

        Returns:
          One `RolloutMetrics` per episode, in the order they started
          (multi-agent ones with `agent_rewards`).

        Raises:
          ValueError: `num_episodes` is negative.
        """
        if isinstance(num_episodes, bool) or not isinstance(num_episodes, int) or num_episodes < 0:
            raise ValueError(f"sample_episodes: num_episodes must be an int in [0, inf), "
                             f"got {num_episodes!r}")
        normalize, clip = bool(self.config["normalize_actions"]), bool(self.config["clip_actions"])
        if self._evaluation is None:
            envs = [self._make_env(self.num_envs + i) for i in range(self._evaluation_num_envs)]
            if self.multi_agent:
                self._evaluation = MultiAgentRunner(
                    [self._as_multi_agent(env) for env in envs], self, self._base_seed,
                    self.worker_index, normalize, clip, stream=_seeding.EVALUATION_STREAM,
                    start=False)
            else:
                self._evaluation = EnvRunner(
                    envs, self.policy_map[DEFAULT_POLICY_ID], self._base_seed,
                    self.worker_index, normalize, clip, stream=_seeding.EVALUATION_STREAM,
                    start=False)
        if not self.multi_agent:
            policy = self.policy_map[DEFAULT_POLICY_ID]
            timestep = policy.global_timestep
            try:
                return self._evaluation.run_episodes(num_episodes, explore)
            finally:
                policy.global_timestep = timestep
        timesteps = {pid: policy.global_timestep for pid, policy in self.policy_map.items()}
        try:
            return self._evaluation.run_episodes(num_episodes, explore)
        finally:
            for pid, timestep in timesteps.items():
                self.policy_map[pid].global_timestep = timestep

    def env_action(self, action: Any, policy_id: PolicyID = DEFAULT_POLICY_ID) -> Any:
        """The action the environments take for one unbatched action of policy
        `policy_id`: scaled onto the bounds (`normalize_actions`) or clipped
        (`clip_actions`), as in sampling; the action itself when neither applies."""
        if self.multi_agent:
            actions = self._runner._info(policy_id, self._policy(policy_id, "env_action")).actions
        else:
            actions = self._runner.actions
        return action if actions.identity else actions.one(action)

    def get_metrics(self) -> List[RolloutMetrics]:
        """The episodes finished by `sample()` since the last call (then forgotten)."""
        metrics, self._runner.metrics = self._runner.metrics, []
        return metrics

    # ---- learning and weights -------------------------------------------------------------------

    def _policies_in(self, samples: MultiAgentBatch, where: str) -> List[PolicyID]:
        """The policy ids of `samples` to train (each checked to be known)."""
        for pid in samples.policy_batches:
            self._policy(pid, where)
        return [pid for pid in samples.policy_batches if self.is_policy_to_train(pid, samples)]

    def learn_on_batch(self, samples: Union[SampleBatch, MultiAgentBatch]
                       ) -> Dict[PolicyID, Dict[str, Any]]:
        """`policy.learn_on_batch` on each policy's part: `{policy_id: learner info}`, for
        the policies to train only (a `SampleBatch` is the default policy's).

        Raises:
          KeyError: a `MultiAgentBatch` holds a policy id the worker does not have.
        """
        if isinstance(samples, MultiAgentBatch):
            return {pid: self.policy_map[pid].learn_on_batch(samples.policy_batches[pid])
                    for pid in self._policies_in(samples, "learn_on_batch")}
        if not self.is_policy_to_train(DEFAULT_POLICY_ID, samples):
            return {}
        return {DEFAULT_POLICY_ID: self._policy(DEFAULT_POLICY_ID,
                                                "learn_on_batch").learn_on_batch(samples)}

    def compute_gradients(self, samples: Union[SampleBatch, MultiAgentBatch]) -> tuple:
        """`(gradients, learner info)` of the default policy on a `SampleBatch`;
        `({policy_id: gradients}, {policy_id: info})` of the policies to train in a
        `MultiAgentBatch`.

        Raises:
          KeyError: a policy id the worker does not have.
        """
        if isinstance(samples, MultiAgentBatch):
            grads, infos = {}, {}
            for pid in self._policies_in(samples, "compute_gradients"):
                grads[pid], infos[pid] = self.policy_map[pid].compute_gradients(
                    samples.policy_batches[pid])
            return grads, infos
        return self._policy(DEFAULT_POLICY_ID, "compute_gradients").compute_gradients(samples)

    def apply_gradients(self, gradients: Union[Sequence[Any], Mapping[PolicyID, Any]]) -> None:
        """Applies `compute_gradients`' gradients: a `{policy_id: gradients}` dict to each
        policy, a list to the default policy.

        Raises:
          KeyError: a policy id the worker does not have.
        """
        if isinstance(gradients, Mapping):
            for pid, grads in gradients.items():
                self._policy(pid, "apply_gradients").apply_gradients(grads)
            return
        self._policy(DEFAULT_POLICY_ID, "apply_gradients").apply_gradients(gradients)

    def get_weights(self, policies: Optional[Sequence[PolicyID]] = None
                    ) -> Dict[PolicyID, Any]:
        """`{policy_id: policy.get_weights()}` for `policies` (default: all).

        Raises:
          KeyError: an unknown policy id.
        """
        ids = list(self.policy_map) if policies is None else list(policies)
        return {pid: self._policy(pid, "get_weights").get_weights() for pid in ids}

    def set_weights(self, weights: Mapping[PolicyID, Any],
                    global_vars: Optional[Mapping[str, Any]] = None) -> None:
        """Sets each policy's weights from `{policy_id: weights}`, then the global vars.

        Raises:
          KeyError: an unknown policy id.
        """
        for pid, value in weights.items():
            self._policy(pid, "set_weights").set_weights(value)
        if global_vars is not None:
            self.set_global_vars(global_vars)

    def set_global_vars(self, global_vars: Mapping[str, Any]) -> None:
        """`policy.on_global_var_update(global_vars)` on every policy (`timestep` required)."""
        self.global_vars = dict(global_vars)
        for policy in self.policy_map.values():
            policy.on_global_var_update(global_vars)

    def get_global_vars(self) -> Optional[Dict[str, Any]]:
        """The last global vars set."""
        return self.global_vars

    # ---- state ----------------------------------------------------------------------------------

    def get_state(self) -> Dict[str, Any]:
        """Where sampling stands, JSON-able with numpy arrays as leaves.

        Returns:
          `worker_index`, `base_seed`, `envs` (per environment: `episode`,
          and for a single-agent worker `seed`, `eps_id`, `t`,
          `episode_return`, `actions` (the leaves of the policy actions of
          the episode so far, `[t, ...]`), `observation`, `state`,
          `prev_actions`, `prev_reward`), `unroll_counter`,
          `evaluation_episodes` (per evaluation environment, the number of
          its last episode), `metrics` (episodes not yet handed out:
          `[length, return]`, plus `[[agent_id, policy_id, return], ...]`
          for a multi-agent worker), and `policy_states`
          (`{policy_id: policy.get_state()}` without its `policy_spec`,
          which the worker rebuilds from its class and config).
        """
        state = self._runner.get_state()
        evaluation = self._evaluation
        state.update({
            "worker_index": self.worker_index,
            "base_seed": self._base_seed,
            "evaluation_episodes": (None if evaluation is None else self._evaluation_numbers()),
            "metrics": [self._metric_entry(m) for m in self._runner.metrics],
            "policy_states": {pid: {k: v for k, v in
                                    self.policy_map.get_policy_state(pid).items()
                                    if k != "policy_spec"}
                              for pid in self.policy_map},
        })
        if self.multi_agent:
            state["multi_agent"] = True
        return state

    def _evaluation_numbers(self) -> List[int]:
        if self.multi_agent:
            return [int(slot.episode_number) for slot in self._evaluation.slots]
        return [int(e) for e in self._evaluation.episode]

    def _metric_entry(self, metrics: RolloutMetrics) -> List[Any]:
        entry: List[Any] = [metrics.episode_length, metrics.episode_reward]
        if self.multi_agent:
            entry.append([[agent_id, pid, float(reward)]
                          for (agent_id, pid), reward in metrics.agent_rewards.items()])
        return entry

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores `get_state()`'s result: the policies first, then each environment's
        episode (see the module docstring: a single-agent one is replayed from its
        seed and actions, a multi-agent one starts its next episode).

        Raises:
          ValueError: a state of another worker index or number of environments, or of
            a single-agent worker restored into a multi-agent one (or back).
          KeyError: a policy id the worker does not have.
        """
        if int(state["worker_index"]) != self.worker_index:
            raise ValueError(f"RolloutWorker.set_state: the state is worker "
                             f"{state['worker_index']}'s, this is worker {self.worker_index}")
        if bool(state.get("multi_agent", False)) != self.multi_agent:
            kinds = ("single-agent", "multi-agent")
            raise ValueError(f"RolloutWorker.set_state: the state is a "
                             f"{kinds[bool(state.get('multi_agent', False))]} worker's, this "
                             f"worker is {kinds[self.multi_agent]}")
        for pid, policy_state in (state.get("policy_states") or {}).items():
            self._policy(pid, "set_state")
            self.policy_map.set_policy_state(pid, policy_state)
        self._base_seed = int(state["base_seed"])
        self._runner.base_seed = self._base_seed
        self._runner.set_state(state)
        self._runner.metrics = [
            RolloutMetrics(int(entry[0]), float(entry[1]),
                           {(agent_id, pid): float(r) for agent_id, pid, r in
                            (entry[2] if len(entry) > 2 else [])})
            for entry in state.get("metrics", [])]
        episodes = state.get("evaluation_episodes")
        if episodes is not None:
            if self._evaluation is None:
                self.sample_episodes(0)
            self._evaluation.base_seed = self._base_seed
            if self.multi_agent:
                for slot, number in zip(self._evaluation.slots, episodes):
                    slot.episode_number = int(number)
            else:
                self._evaluation.episode[:len(episodes)] = episodes

    # ---- lifetime -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Closes every environment (sampling and evaluation); calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        envs = list(self.envs) + ([] if self._evaluation is None else self._evaluation.envs)
        for env in envs:
            env.close()

    @classmethod
    def as_remote(cls, num_cpus: Optional[float] = None, num_gpus: Optional[float] = None,
                  memory: Optional[int] = None,
                  resources: Optional[Mapping[str, float]] = None) -> Any:
        """The Ray actor class of this worker class (`ray.remote(...)(cls)`), for
        `RolloutWorker.as_remote().remote(env_creator, policy_class, config, ...)`.

        Args:
          num_cpus, num_gpus, memory, resources: the actor's Ray resources (None:
            Ray's defaults).

        Raises:
          ImportError: Ray is not installed (naming `pip install "tfpolicy[ray]"`).
        """
        try:
            import ray
        except ImportError as error:
            raise ImportError(f"{cls.__name__}.as_remote() makes a Ray actor class, and Ray "
                              f"is not installed: pip install \"tfpolicy[ray]\"") from error
        options = {key: value for key, value in (("num_cpus", num_cpus),
                                                 ("num_gpus", num_gpus), ("memory", memory),
                                                 ("resources", resources)) if value is not None}
        return ray.remote(**options)(cls) if options else ray.remote(cls)

    def __repr__(self) -> str:
        return (f"RolloutWorker(worker_index={self.worker_index}, num_envs={self.num_envs}, "
                f"policies={sorted(self.policy_map)})")


PolicyEvaluator = RolloutWorker
"""The older documented name of `RolloutWorker` (the same class)."""
