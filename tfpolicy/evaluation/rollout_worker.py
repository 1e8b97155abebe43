"""`RolloutWorker`: environments plus policies, sampling postprocessed batches (RLlib's name).

A worker holds `num_envs_per_worker` unbatched environments and its
policies (`policy_map`, one `DEFAULT_POLICY_ID` policy for now). `sample()`
steps all environments together, one `compute_actions` call per step, and
returns a `SampleBatch` with RLlib's columns: `obs`, `new_obs`, `actions`,
`rewards`, `terminateds`, `truncateds`, `eps_id`, `t`, `agent_index`,
`unroll_id`, the policy's extra fetches (`action_logp`, `vf_preds`, ...),
`state_in_{i}`/`state_out_{i}` for a recurrent policy and `prev_actions`/
`prev_rewards` when its model reads them (zeros at an episode's start).
Each environment's rows are contiguous and in time order; each episode
fragment went through `policy.postprocess_trajectory` on its own, and a
fragment cut by the end of the sample is bootstrapped by postprocessing
(its last row is neither terminated nor truncated). A gymnasium
truncation is `truncateds`, a termination `terminateds`.

`batch_mode`:

- `"truncate_episodes"`: exactly `rollout_fragment_length` steps per
  environment, so `rollout_fragment_length * num_envs_per_worker` rows;
  running episodes continue in the next call (same `eps_id`, `t`,
  recurrent state).
- `"complete_episodes"`: whole episodes only; environments keep stepping
  until `rollout_fragment_length * num_envs_per_worker` rows are in, and
  each stops when its episode ends after that (episodes that never end
  never return, as in RLlib).

Seeding and exact resume: episode `e` of environment `i` on worker `w` is
reset with the seed `SeedSequence([seed, w, i, e])` (through
`env.seed(...)`), where `seed` is `config["seed"]`, or drawn once from the
OS when None and kept in the state. `get_state()` records each
environment's episode number and the actions taken in its episode so far;
`set_state()` resets it with that seed and replays them, so sampling goes
on exactly where it stopped. An environment without `seed()` cannot be
replayed: after `set_state` it starts a fresh episode.

Config keys read here (defaults in brackets): `num_envs_per_worker` (1),
`rollout_fragment_length` (200, or `"auto"`: `train_batch_size` split over
the workers' environments), `batch_mode` (`"truncate_episodes"`), `seed`
(None), `explore` (the policy's), `env_config` ({}), `normalize_actions`
(True: a bounded float action `a` in `[-1, 1]` is sent as
`clip(low + (a + 1)(high - low) / 2, low, high)`), `clip_actions` (False),
`evaluation_num_envs` (1, for `sample_episodes`). Every policy receives the
whole config plus `worker_index`. With a seed, Python's, numpy's and
TensorFlow's global generators are seeded (from the seed and the worker
index) before the policies are built, so their initial weights repeat.
"""

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from tfpolicy.evaluation import _seeding
from tfpolicy.evaluation._env_runner import EnvRunner
from tfpolicy.evaluation.env_creator import EnvContext, check_env, make_env_creator
from tfpolicy.evaluation.metrics import RolloutMetrics
from tfpolicy.learning.policy import Policy, PolicyID
from tfpolicy.learning.sample_batch import (DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch,
                                            concat_samples)

__all__ = ["RolloutWorker", "BATCH_MODES"]

BATCH_MODES = ("truncate_episodes", "complete_episodes")

_DEFAULTS: Dict[str, Any] = {
    "num_envs_per_worker": 1,
    "rollout_fragment_length": 200,
    "batch_mode": "truncate_episodes",
    "normalize_actions": True,
    "clip_actions": False,
    "evaluation_num_envs": 1,
}


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


class RolloutWorker:
    """Environments and policies that sample batches, learn and move weights (see the module
    docstring).

    Args:
      env_creator: `creator(env_context) -> PyEnvironment` (see `make_env_creator`),
        or an env name or id, which goes through `make_env_creator` with
        `config["env_config"]`.
      default_policy_class: the `Policy` class, built as
        `policy_class(observation_spec, action_spec, config)`.
      config: the algorithm's config (keys above; the rest passes to the policy).
      worker_index: 0 for the local worker, 1.. for remote ones.
      num_workers: the number of remote workers (for `EnvContext` and
        `rollout_fragment_length="auto"`).

    Attributes:
      policy_map: policy id -> policy.
      config: the config with the worker's defaults above filled in (the
        policies get the config as given, plus `worker_index`).
      worker_index, num_workers: as given.
      envs: the sampling environments.
      rollout_fragment_length: steps per environment and `sample()`.
      global_vars: the last `set_global_vars` argument.

    Raises:
      ValueError: a config value out of range (naming the key, the value and
        the allowed values); the errors of `make_env_creator` and `check_env`.
    """

    def __init__(self, env_creator: Union[str, Callable[..., Any]],
                 default_policy_class: type, config: Optional[Mapping[str, Any]] = None,
                 worker_index: int = 0, num_workers: int = 0):
        merged = dict(_DEFAULTS)
        merged.update(config or {})
        self.config = merged
        self._explore = merged.get("explore")
        self.worker_index = int(worker_index)
        self.num_workers = int(num_workers)
        self.num_envs = _positive_int(merged, "num_envs_per_worker")
        self.rollout_fragment_length = _fragment_length(merged, self.num_workers, self.num_envs)
        if merged["batch_mode"] not in BATCH_MODES:
            raise ValueError(f"config key 'batch_mode': expected one of {list(BATCH_MODES)}, "
                             f"got {merged['batch_mode']!r}")
        self.batch_mode = merged["batch_mode"]
        self._evaluation_num_envs = _positive_int(merged, "evaluation_num_envs")
        self._base_seed = _seeding.base_seed(merged.get("seed"))
        if merged.get("seed") is not None:
            _seed_globals(_seeding.global_seed(self._base_seed, self.worker_index))
        if isinstance(env_creator, str):
            env_creator = make_env_creator(env_creator, merged.get("env_config"))
        self.env_creator = env_creator
        self.envs = [self._make_env(i) for i in range(self.num_envs)]
        policy_config = dict(config or {}, worker_index=self.worker_index)
        self.policy_map: Dict[PolicyID, Policy] = {
            DEFAULT_POLICY_ID: default_policy_class(self.envs[0].observation_spec(),
                                                    self.envs[0].action_spec(), policy_config)}
        self.global_vars: Optional[Dict[str, Any]] = None
        self._runner = EnvRunner(self.envs, self.policy_map[DEFAULT_POLICY_ID], self._base_seed,
                                 self.worker_index, bool(merged["normalize_actions"]),
                                 bool(merged["clip_actions"]))
        self._evaluation: Optional[EnvRunner] = None
        self._stopped = False

    def _make_env(self, vector_index: int) -> Any:
        context = EnvContext(self.config.get("env_config") or {}, self.worker_index,
                             vector_index, self.num_workers)
        return check_env(self.env_creator(context), self.env_creator)

    @property
    def env(self) -> Any:
        """The first sampling environment."""
        return self.envs[0]

    # ---- policies -------------------------------------------------------------------------------

    def get_policy(self, policy_id: PolicyID = DEFAULT_POLICY_ID) -> Optional[Policy]:
        """The policy with that id, None if there is none (as RLlib)."""
        return self.policy_map.get(policy_id)

    def foreach_policy(self, func: Callable[..., Any], **kwargs: Any) -> List[Any]:
        """`[func(policy, policy_id, **kwargs)]` over `policy_map`."""
        return [func(policy, pid, **kwargs) for pid, policy in self.policy_map.items()]

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

    def sample(self) -> SampleBatch:
        """The next postprocessed batch (see the module docstring for its rows and columns).

        Returns:
          `rollout_fragment_length * num_envs_per_worker` rows with
          `"truncate_episodes"`, at least that many whole episodes with
          `"complete_episodes"`.
        """
        policy = self.policy_map[DEFAULT_POLICY_ID]
        fragments = self._runner.collect(self.rollout_fragment_length,
                                         self.batch_mode == "complete_episodes",
                                         self._explore, policy.num_grad_updates)
        return concat_samples([policy.postprocess_trajectory(f) for f in fragments])

    def sample_with_count(self) -> tuple:
        """`(sample(), its row count)`."""
        batch = self.sample()
        return batch, batch.count

    def sample_episodes(self, num_episodes: int, explore: bool = False) -> List[RolloutMetrics]:
        """Plays `num_episodes` fresh episodes for evaluation and returns their metrics.

        They run on separate environments (`evaluation_num_envs` of them,
        built on first use), so sampling's episodes are not disturbed; the
        policy's `global_timestep` is put back afterwards, so exploration
        schedules do not move. Evaluation episodes are seeded from their
        own stream, and each call plays new ones.

        Args:
          num_episodes: how many episodes.
          explore: sample actions (True) or act greedily (False).

        Returns:
          One `RolloutMetrics` per episode, in the order they started.

        Raises:
          ValueError: `num_episodes` is negative.
        """
        if isinstance(num_episodes, bool) or not isinstance(num_episodes, int) or num_episodes < 0:
            raise ValueError(f"sample_episodes: num_episodes must be an int in [0, inf), "
                             f"got {num_episodes!r}")
        policy = self.policy_map[DEFAULT_POLICY_ID]
        if self._evaluation is None:
            envs = [self._make_env(self.num_envs + i) for i in range(self._evaluation_num_envs)]
            self._evaluation = EnvRunner(
                envs, policy, self._base_seed, self.worker_index,
                bool(self.config["normalize_actions"]), bool(self.config["clip_actions"]),
                stream=_seeding.EVALUATION_STREAM, start=False)
        timestep = policy.global_timestep
        try:
            return self._evaluation.run_episodes(num_episodes, explore)
        finally:
            policy.global_timestep = timestep

    def env_action(self, action: Any) -> Any:
        """The action the environments take for one unbatched policy action: scaled
        onto the bounds (`normalize_actions`) or clipped (`clip_actions`), as in
        sampling; the action itself when neither applies."""
        actions = self._runner.actions
        return action if actions.identity else actions.one(action)

    def get_metrics(self) -> List[RolloutMetrics]:
        """The episodes finished by `sample()` since the last call (then forgotten)."""
        metrics, self._runner.metrics = self._runner.metrics, []
        return metrics

    # ---- learning and weights -------------------------------------------------------------------

    def learn_on_batch(self, samples: Union[SampleBatch, MultiAgentBatch]
                       ) -> Dict[PolicyID, Dict[str, Any]]:
        """`policy.learn_on_batch` on each policy's part: `{policy_id: learner info}`.

        Raises:
          KeyError: a `MultiAgentBatch` holds a policy id the worker does not have.
        """
        if isinstance(samples, MultiAgentBatch):
            return {pid: self._policy(pid, "learn_on_batch").learn_on_batch(batch)
                    for pid, batch in samples.policy_batches.items()}
        return {DEFAULT_POLICY_ID: self.policy_map[DEFAULT_POLICY_ID].learn_on_batch(samples)}

    def compute_gradients(self, samples: SampleBatch) -> tuple:
        """`(gradients, learner info)` of the default policy on `samples`."""
        return self.policy_map[DEFAULT_POLICY_ID].compute_gradients(samples)

    def apply_gradients(self, gradients: Sequence[Any]) -> None:
        """Applies `compute_gradients`' gradients to the default policy."""
        self.policy_map[DEFAULT_POLICY_ID].apply_gradients(gradients)

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
          `seed`, `eps_id`, `t`, `episode_return`, `actions` (the leaves of
          the policy actions of the episode so far, `[t, ...]`),
          `observation`, `state`, `prev_actions`, `prev_reward`),
          `unroll_counter`, `evaluation_episodes` (per evaluation
          environment, the number of its last episode), `metrics` (episodes
          not yet handed out: `[length, return]`), and `policy_states`
          (`{policy_id: policy.get_state()}` without its `policy_spec`,
          which the worker rebuilds from its class and config).
        """
        state = self._runner.get_state()
        state.update({
            "worker_index": self.worker_index,
            "base_seed": self._base_seed,
            "evaluation_episodes": (None if self._evaluation is None else
                                    [int(e) for e in self._evaluation.episode]),
            "metrics": [[m.episode_length, m.episode_reward] for m in self._runner.metrics],
            "policy_states": {pid: {k: v for k, v in policy.get_state().items()
                                    if k != "policy_spec"}
                              for pid, policy in self.policy_map.items()},
        })
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores `get_state()`'s result: the policies first, then each environment's
        episode, replayed from its seed and actions (see the module docstring).

        Raises:
          ValueError: a state of another worker index or number of environments.
          KeyError: a policy id the worker does not have.
        """
        if int(state["worker_index"]) != self.worker_index:
            raise ValueError(f"RolloutWorker.set_state: the state is worker "
                             f"{state['worker_index']}'s, this is worker {self.worker_index}")
        for pid, policy_state in (state.get("policy_states") or {}).items():
            self._policy(pid, "set_state").set_state(policy_state)
        self._base_seed = int(state["base_seed"])
        self._runner.base_seed = self._base_seed
        self._runner.set_state(state)
        self._runner.metrics = [RolloutMetrics(int(length), float(reward))
                                for length, reward in state.get("metrics", [])]
        episodes = state.get("evaluation_episodes")
        if episodes is not None:
            if self._evaluation is None:
                self.sample_episodes(0)
            self._evaluation.base_seed = self._base_seed
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

    def __repr__(self) -> str:
        return (f"RolloutWorker(worker_index={self.worker_index}, num_envs={self.num_envs}, "
                f"policies={sorted(self.policy_map)})")
