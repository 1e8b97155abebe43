"""`Algorithm`: trains policies on environments, evaluates, checkpoints and resumes exactly.

RLlib's Algorithm (formerly Trainer), on our workers and learning policies:

- `Algorithm(config=None, env=None)` merges `config` over the class's
  `get_default_config()` (every key known, every value in range), builds a
  `WorkerSet` (the sampling environments and the policy; with a `seed`, the
  initial weights and every episode repeat) and calls `setup(config)`;
- `train()` runs `training_step()` (sample, learn, sync) and returns RLlib's
  result dict; every `evaluation_interval` iterations it adds
  `evaluation/...` from `evaluate()`, greedy episodes on environments of
  their own, acting with the training policy;
- `save(dir)` / `restore(path)` / `Algorithm.from_checkpoint(path)` hold the
  whole state: the policies (weights, optimizers, counters, schedules and
  their acting random state), the algorithm's counters, timers and random
  generator, the workers' position in their episodes and what subclasses
  add (the replay buffer of off-policy algorithms). A restored algorithm's
  next iteration is the one the saved algorithm would have run.

A subclass overrides `get_default_config`, `get_default_policy_class`,
`validate_config` and `training_step` (and `setup`, `get_state`,
`set_state` when it keeps more), as RLlib's documented algorithms do.

Result dict keys: `episode_reward_mean/min/max`, `episode_len_mean`,
`episodes_this_iter`, `episodes_total`, `timesteps_total`,
`timesteps_this_iter`, `num_env_steps_sampled`, `num_env_steps_trained`,
`num_agent_steps_sampled`, `num_agent_steps_trained`, `time_this_iter_s`,
`time_total_s`, `training_iteration`, `hist_stats`, `counters`, and
`info/learner/<policy_id>/learner_stats/...` (plus `evaluation/...`).
"""

import copy
import logging
import os
import pathlib
import time
from collections import deque
from typing import Any, Callable, Dict, List, Mapping, Optional, Type, Union

import numpy as np

from tfpolicy.algorithms import _checkpoint
from tfpolicy.algorithms.algorithm_config import (InvalidConfigError, check_choice,
                                                  check_known_keys, check_range, merge_config)
from tfpolicy.evaluation import WorkerSet, make_env_creator, summarize_episodes
from tfpolicy.learning import sgd
from tfpolicy.learning.models import MODEL_DEFAULTS
from tfpolicy.learning.policy import Policy, class_path
from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch

__all__ = ["Algorithm", "COMMON_CONFIG", "train_one_step", "multi_gpu_train_one_step",
           "NUM_ENV_STEPS_SAMPLED", "NUM_ENV_STEPS_TRAINED", "NUM_AGENT_STEPS_SAMPLED",
           "NUM_AGENT_STEPS_TRAINED", "LAST_TARGET_UPDATE_TS", "NUM_TARGET_UPDATES"]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

NUM_ENV_STEPS_SAMPLED = "num_env_steps_sampled"
NUM_ENV_STEPS_TRAINED = "num_env_steps_trained"
NUM_AGENT_STEPS_SAMPLED = "num_agent_steps_sampled"
NUM_AGENT_STEPS_TRAINED = "num_agent_steps_trained"
LAST_TARGET_UPDATE_TS = "last_target_update_ts"
NUM_TARGET_UPDATES = "num_target_updates"

# RLlib's common keys and defaults (the ones this library acts on).
COMMON_CONFIG: Dict[str, Any] = {
    # Environment.
    "env": None,
    "env_config": {},
    # Collection. `num_workers` remote workers are Ray actors (the `ray` extra);
    # with 0, the local worker samples.
    "num_workers": 0,
    "num_cpus_per_worker": 1,
    "num_gpus_per_worker": 0,
    "num_envs_per_worker": 1,
    "rollout_fragment_length": 200,
    "batch_mode": "truncate_episodes",
    "explore": True,
    "exploration_config": {"type": "StochasticSampling"},
    # Which runtime acts: "auto" (LiteRT where the policy converts, else the TF
    # bridge), "lite" (LiteRT or an error), "tf".
    "acting_runtime": "auto",
    # Float actions in [-1, 1] scaled to the Box bounds; or clipped to them.
    "normalize_actions": True,
    "clip_actions": False,
    # Learning.
    "gamma": 0.99,
    "lr": 0.001,
    "lr_schedule": None,
    "train_batch_size": 4000,
    "sgd_minibatch_size": None,
    "num_sgd_iter": 1,
    "shuffle_sequences": True,
    "grad_clip": None,
    "model": dict(MODEL_DEFAULTS),
    "optimizer": {},
    "simple_optimizer": True,
    "framework": "tf2",
    "eager_tracing": True,
    "num_gpus": 0,
    # Evaluation.
    "evaluation_interval": None,
    "evaluation_duration": 10,
    "evaluation_duration_unit": "episodes",
    "evaluation_num_workers": 0,
    # Only `explore` (default False: greedy) and `num_envs_per_worker` (the
    # evaluation environments stepped together, default 1).
    "evaluation_config": {},
    # Reporting.
    "metrics_num_episodes_for_smoothing": 100,
    "min_time_s_per_iteration": None,
    "min_sample_timesteps_per_iteration": 0,
    "min_train_timesteps_per_iteration": 0,
    "log_level": "WARN",
    # Fault tolerance of the remote workers (see `WorkerSet`).
    "recreate_failed_workers": False,
    "ignore_worker_failures": False,
    # Several policies: policy id -> `PolicySpec(policy_class, observation_space,
    # action_space, config)` (None parts come from the algorithm and the env);
    # `policy_mapping_fn(agent_id, episode, worker, **kwargs) -> policy id`.
    "multiagent": {
        "policies": {},
        "policy_mapping_fn": None,
        "policies_to_train": None,
        "policy_map_capacity": 100,
        "policy_map_cache": None,
        "policy_states_are_swappable": False,
        "count_steps_by": "env_steps",
    },
    # Reproducibility.
    "seed": None,
}

# What `evaluation_config` may change: evaluation acts with the training policy on
# environments of its own (`RolloutWorker.sample_episodes`).
EVALUATION_CONFIG_KEYS = ("explore", "num_envs_per_worker")


class Algorithm:
    """Trains a policy on an environment (see the module docstring).

    Args:
      config: a dict (or an `AlgorithmConfig`) merged over `get_default_config()`.
      env: the environment (overrides `config["env"]`): a gymnasium id, a name
        given to `tfpolicy.evaluation.register_env`, or a creator
        `env_config -> PyEnvironment`.
      logdir: where `save()` writes by default (created on the first save);
        default `~/tfpolicy_results/<name>_<env>_<date>`.

    Attributes:
      config: the merged config.
      workers: the `WorkerSet` (its local worker samples and learns).
      iteration: the number of `train()` calls so far.
      acting_summary: which runtime acts ("LiteRT", or "the TF bridge" with
        the reason the policy did not convert, under `acting_runtime="auto"`).

    Raises:
      InvalidConfigError: an unknown key (its closest matches named) or a value
        out of range (the key and the allowed range named).
    """

    _name = "Algorithm"
    _override_all_subkeys_if_type_changes = ("exploration_config", "replay_buffer_config")

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        """The algorithm's config defaults (a fresh copy)."""
        return copy.deepcopy(COMMON_CONFIG)

    @classmethod
    def get_default_policy_class(cls, config: Mapping[str, Any]) -> Type[Policy]:
        """The policy class the workers build."""
        raise TypeError(f"{cls.__name__} has no default policy class; override "
                        "get_default_policy_class or use with_updates(default_policy=...)")

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        """Checks value ranges; subclasses call this and add their own keys.

        Raises:
          InvalidConfigError: naming the key, the allowed range and the value.
        """
        owner = cls._name
        check_range(config, "lr", 0.0, owner=owner)
        check_range(config, "gamma", 0.0, 1.0, owner=owner)
        check_range(config, "train_batch_size", 1, integer=True, owner=owner)
        if config["rollout_fragment_length"] != "auto":
            check_range(config, "rollout_fragment_length", 1, integer=True, owner=owner)
        check_range(config, "num_envs_per_worker", 1, integer=True, owner=owner)
        check_range(config, "num_sgd_iter", 1, integer=True, owner=owner)
        check_range(config, "sgd_minibatch_size", 1, integer=True, allow_none=True, owner=owner)
        check_range(config, "grad_clip", 0.0, low_open=True, allow_none=True, owner=owner)
        check_range(config, "evaluation_interval", 1, integer=True, allow_none=True, owner=owner)
        check_range(config, "evaluation_duration", 1, integer=True, owner=owner)
        check_range(config, "metrics_num_episodes_for_smoothing", 1, integer=True, owner=owner)
        check_range(config, "min_time_s_per_iteration", 0.0, allow_none=True, owner=owner)
        check_range(config, "min_sample_timesteps_per_iteration", 0, integer=True, owner=owner)
        check_range(config, "min_train_timesteps_per_iteration", 0, integer=True, owner=owner)
        check_range(config, "seed", 0, integer=True, allow_none=True, owner=owner)
        check_range(config, "num_gpus", 0, owner=owner)
        check_choice(config, "batch_mode", ["truncate_episodes", "complete_episodes"], owner)
        check_choice(config, "acting_runtime", ["auto", "lite", "tf"], owner)
        check_choice(config, "framework", ["tf2", "tf"], owner)
        check_choice(config, "evaluation_duration_unit", ["episodes"], owner)
        check_range(config, "num_workers", 0, integer=True, owner=owner)
        check_range(config, "num_cpus_per_worker", 0.0, owner=owner)
        check_range(config, "num_gpus_per_worker", 0.0, owner=owner)
        if config["evaluation_num_workers"] != 0:
            raise InvalidConfigError(
                f"{owner} config key 'evaluation_num_workers': expected an integer in [0, 0] "
                f"(evaluation runs on the local worker's own environments), got "
                f"{config['evaluation_num_workers']!r}")
        _validate_multiagent(config["multiagent"], owner)
        for key in config["evaluation_config"]:
            if key not in EVALUATION_CONFIG_KEYS:
                raise InvalidConfigError(
                    f"{owner} config key 'evaluation_config.{key}': evaluation acts with the "
                    f"training policy on environments of its own, so evaluation_config takes "
                    f"only {list(EVALUATION_CONFIG_KEYS)}")
        check_range(config["evaluation_config"], "num_envs_per_worker", 1, integer=True,
                    allow_none=True, owner=f"{owner} evaluation_config")
        if config["env"] is None:
            raise InvalidConfigError(f"{owner} config key 'env': expected a gymnasium id, a "
                                     "registered name or a creator function, got None")

    @classmethod
    def validate_spaces(cls, observation_spec: Any, action_spec: Any,
                        config: Mapping[str, Any]) -> None:
        """Rejects spaces the algorithm cannot learn on (subclasses override).

        Raises:
          InvalidConfigError: naming the space and what the algorithm needs.
        """

    @classmethod
    def merged_config(cls, config: Optional[Mapping[str, Any]] = None,
                      env: Any = None) -> Dict[str, Any]:
        """`config` checked and merged over the defaults (what `__init__` uses)."""
        if hasattr(config, "to_dict"):
            config = config.to_dict()
        config = dict(config or {})
        defaults = cls.get_default_config()
        check_known_keys(config, defaults, owner=cls._name)
        merged = merge_config(defaults, config)
        # A new exploration or replay type takes its own arguments, not the old type's.
        for key in cls._override_all_subkeys_if_type_changes:
            given = config.get(key)
            if isinstance(given, Mapping) and "type" in given and given["type"] != (
                    defaults.get(key) or {}).get("type"):
                merged[key] = copy.deepcopy(dict(given))
        if env is not None:
            merged["env"] = env
        cls.validate_config(merged)
        return merged

    def __init__(self, config: Optional[Mapping[str, Any]] = None, env: Any = None,
                 logdir: Optional[PathLike] = None):
        self.config = self.merged_config(config, env)
        logging.getLogger("tfpolicy").setLevel(str(self.config["log_level"]).upper())
        self._rng = np.random.default_rng(
            None if self.config["seed"] is None else [int(self.config["seed"]), 1])
        self.env_creator = make_env_creator(self.config["env"], self.config["env_config"])
        self._logdir = None if logdir is None else pathlib.Path(logdir)
        self.iteration = 0
        self._time_total = 0.0
        self._episodes_total = 0
        self._episode_history: deque = deque(maxlen=self.config["metrics_num_episodes_for_smoothing"])
        self._counters: Dict[str, int] = {
            NUM_ENV_STEPS_SAMPLED: 0, NUM_ENV_STEPS_TRAINED: 0,
            NUM_AGENT_STEPS_SAMPLED: 0, NUM_AGENT_STEPS_TRAINED: 0,
            LAST_TARGET_UPDATE_TS: 0, NUM_TARGET_UPDATES: 0}
        self._timers: Dict[str, float] = {}
        policy_class = self.get_default_policy_class(self.config)
        worker_config = dict(self.config, evaluation_num_envs=int(
            self.config["evaluation_config"].get("num_envs_per_worker") or 1))
        self.workers = WorkerSet(self.env_creator, policy_class, worker_config,
                                 num_workers=self.config["num_workers"])
        for pid in self.workers.local_worker().policy_map:
            policy = self.get_policy(pid)
            self.validate_spaces(policy.observation_space, policy.action_space, self.config)
        policy = self.get_policy() or self.get_policy(next(iter(
            self.workers.local_worker().policy_map)))
        runtime = getattr(policy, "acting_runtime", "tf")
        reason = getattr(policy, "acting_fallback_reason", None)
        self.acting_summary = ("LiteRT" if runtime == "lite" else "the TF bridge") + (
            f" ({reason})" if reason else "")
        logger.info("%s acts through %s", type(self).__name__, self.acting_summary)
        self.setup(self.config)

    # ---- hooks ---------------------------------------------------------------------------------

    def setup(self, config: Dict[str, Any]) -> None:
        """Called at the end of `__init__`, with the workers built (subclasses add state)."""

    def training_step(self) -> Dict[str, Any]:
        """One round of sampling and learning; returns `{policy_id: learner info}`.

        The default is on-policy, `SyncSamplesOptimizer`'s strategy: at least
        `train_batch_size` env steps from every remote worker (the local one
        when there are none), one `train_one_step` (minibatch SGD when
        `sgd_minibatch_size` is set), then the new weights and the global
        timestep to every worker (one `ray.put`).
        """
        train_batch = synchronous_parallel_sample(
            worker_set=self.workers, max_env_steps=self.config["train_batch_size"])
        self._counters[NUM_AGENT_STEPS_SAMPLED] += train_batch.agent_steps()
        self._counters[NUM_ENV_STEPS_SAMPLED] += train_batch.env_steps()
        train_results = train_one_step(self, train_batch)
        self.workers.sync_weights(global_vars=self._global_vars())
        return train_results

    def _global_vars(self) -> Dict[str, int]:
        return {"timestep": self._counters[NUM_AGENT_STEPS_SAMPLED]}

    # ---- training ------------------------------------------------------------------------------

    def train(self) -> Dict[str, Any]:
        """One iteration: `training_step()` until the minimum time and steps are
        reached, episode metrics, and evaluation when due. Returns the result dict."""
        start = time.perf_counter()
        sampled_before = self._counters[NUM_ENV_STEPS_SAMPLED]
        trained_before = self._counters[NUM_ENV_STEPS_TRAINED]
        learner: Dict[str, Any] = {}
        while True:
            learner = self.training_step() or learner
            elapsed = time.perf_counter() - start
            if (elapsed >= (self.config["min_time_s_per_iteration"] or 0)
                    and self._counters[NUM_ENV_STEPS_SAMPLED] - sampled_before
                    >= self.config["min_sample_timesteps_per_iteration"]
                    and self._counters[NUM_ENV_STEPS_TRAINED] - trained_before
                    >= self.config["min_train_timesteps_per_iteration"]):
                break
        episodes = []
        for worker_episodes in self.workers.foreach_worker(_worker_metrics):
            episodes.extend(worker_episodes)
        self._episode_history.extend(episodes)
        self._episodes_total += len(episodes)
        self.iteration += 1
        result = summarize_episodes(list(self._episode_history))
        result["episodes_this_iter"] = len(episodes)
        result["episodes_total"] = self._episodes_total
        result["info"] = {"learner": _numpy_free(learner), **dict(self._counters)}
        sampled = self._counters[NUM_ENV_STEPS_SAMPLED]
        result.update({
            "timesteps_total": sampled,
            "timesteps_this_iter": sampled - sampled_before,
            NUM_ENV_STEPS_SAMPLED: sampled,
            NUM_ENV_STEPS_TRAINED: self._counters[NUM_ENV_STEPS_TRAINED],
            NUM_AGENT_STEPS_SAMPLED: self._counters[NUM_AGENT_STEPS_SAMPLED],
            NUM_AGENT_STEPS_TRAINED: self._counters[NUM_AGENT_STEPS_TRAINED],
            "agent_timesteps_total": self._counters[NUM_AGENT_STEPS_SAMPLED],
            "counters": dict(self._counters),
            "training_iteration": self.iteration,
            "num_healthy_workers": self.workers.num_healthy_remote_workers(),
            "num_remote_worker_restarts": self.workers.num_worker_restarts,
        })
        interval = self.config["evaluation_interval"]
        if interval and self.iteration % interval == 0:
            result.update(self.evaluate())
        this_iter = time.perf_counter() - start
        self._time_total += this_iter
        result["time_this_iter_s"] = this_iter
        result["time_total_s"] = self._time_total
        result["done"] = False
        return result

    def evaluate(self) -> Dict[str, Any]:
        """`evaluation_duration` fresh episodes on the evaluation environments, acting
        with the training policy, greedily unless `evaluation_config` says `explore: True`.

        Returns:
          `{"evaluation": {episode_reward_mean/min/max, episode_len_mean,
          episodes_this_iter, hist_stats}}`.
        """
        explore = bool(self.config["evaluation_config"].get("explore", False))
        episodes = self.workers.local_worker().sample_episodes(
            self.config["evaluation_duration"], explore=explore)
        return {"evaluation": summarize_episodes(episodes)}

    # ---- policies and acting -------------------------------------------------------------------

    def get_policy(self, policy_id: str = DEFAULT_POLICY_ID) -> Policy:
        """The training policy `policy_id` (of the local worker)."""
        return self.workers.local_worker().get_policy(policy_id)

    def compute_single_action(self, observation: Any = None, state: Optional[List[Any]] = None,
                              *, prev_action: Any = None, prev_reward: Any = None,
                              explore: bool = False, policy_id: str = DEFAULT_POLICY_ID,
                              full_fetch: bool = False, **kwargs: Any) -> Any:
        """The action for one observation, greedy by default, through the policy's
        acting path (LiteRT when it converts), as the environment takes it: with
        `normalize_actions` (the default) a float action in `[-1, 1]` is scaled
        onto the Box bounds, with `clip_actions` clipped to them (RLlib's
        `unsquash_action`).

        Returns:
          The action; with a state (recurrent policies) or `full_fetch`,
          `(action, state_out, extra_fetches)`.
        """
        worker = self.workers.local_worker()
        action, state_out, extra = worker.get_policy(policy_id).compute_single_action(
            observation, state, prev_action=prev_action, prev_reward=prev_reward,
            explore=explore, **kwargs)
        action = worker.env_action(action)
        if state or full_fetch:
            return action, state_out, extra
        return action

    def export_policy_model(self, export_dir: PathLike,
                            policy_id: str = DEFAULT_POLICY_ID) -> None:
        """Writes the greedy policy as a savers SavedModel (serve it with
        `savers.SavedModelPyTFEagerPolicy`)."""
        self.get_policy(policy_id).export_model(export_dir)

    def export_policy_lite(self, path: PathLike, policy_id: str = DEFAULT_POLICY_ID,
                           batch_size: Optional[int] = 1) -> None:
        """Writes the greedy policy as a LiteRT model (serve it with `savers.LitePyPolicy`)."""
        self.get_policy(policy_id).export_lite(path, batch_size=batch_size)

    def stop(self) -> None:
        """Closes the environments."""
        self.workers.stop()

    # ---- state and checkpoints -----------------------------------------------------------------

    def get_state(self) -> Dict[str, Any]:
        """Everything a resumed run needs but the policies (saved on their own):
        counters, timers, the random generator, episode history, the workers'
        positions, and the replay buffer of an off-policy algorithm
        (`local_replay_buffer`, unless `store_buffer_in_checkpoints` is False).
        Subclasses add entries (numpy arrays allowed anywhere)."""
        worker = self.workers.local_worker().get_state()
        worker.pop("policy_states", None)  # the policies are saved on their own
        state = {
            "iteration": self.iteration,
            "time_total_s": self._time_total,
            "episodes_total": self._episodes_total,
            "counters": dict(self._counters),
            "rng": self._rng.bit_generator.state,
            "episode_history": [_episode_entry(e) for e in self._episode_history],
            "worker": worker,
        }
        buffer = getattr(self, "local_replay_buffer", None)
        if buffer is not None and self.config.get("store_buffer_in_checkpoints", True):
            state["replay_buffer"] = buffer.get_state()
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores what `get_state` returned (the policies are restored first)."""
        self.iteration = int(state["iteration"])
        self._time_total = float(state["time_total_s"])
        self._episodes_total = int(state["episodes_total"])
        self._counters.update({k: int(v) for k, v in state["counters"].items()})
        self._rng.bit_generator.state = state["rng"]
        self._episode_history.clear()
        self._episode_history.extend(_episode_from_entry(e) for e in state["episode_history"])
        self.workers.local_worker().set_state(state["worker"])
        if "replay_buffer" in state:
            self.local_replay_buffer.set_state(state["replay_buffer"])
        self.workers.sync_weights(global_vars=self._global_vars())

    @property
    def logdir(self) -> pathlib.Path:
        """Where `save()` writes by default."""
        if self._logdir is None:
            env = self.config["env"] if isinstance(self.config["env"], str) else "env"
            stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
            self._logdir = pathlib.Path.home() / "tfpolicy_results" / (
                f"{type(self).__name__}_{env}_{stamp}")
        return self._logdir

    def save(self, checkpoint_dir: Optional[PathLike] = None) -> str:
        """Writes a checkpoint, atomically; returns its directory.

        Args:
          checkpoint_dir: the directory to write (replacing an earlier
            checkpoint there); default `<logdir>/checkpoint_<iteration>`.

        Raises:
          InvalidConfigError: a config value a checkpoint cannot hold (named by key).
        """
        path = pathlib.Path(checkpoint_dir) if checkpoint_dir is not None else (
            self.logdir / f"checkpoint_{self.iteration:06d}")
        policies = {pid: policy for pid, policy in
                    self.workers.local_worker().policy_map.items()}
        _checkpoint.write(path, algorithm_class=class_path(type(self)),
                          config=self.config, state=self.get_state(), policies=policies)
        return str(path)

    def restore(self, checkpoint_path: PathLike) -> None:
        """Restores a checkpoint written by `save` into this algorithm.

        Raises:
          FileNotFoundError, ValueError: not an algorithm checkpoint, or a
            policy the checkpoint lacks.
        """
        saved = _checkpoint.read(checkpoint_path)
        for pid, policy_state in saved.policy_states.items():
            self.workers.local_worker().get_policy(pid).set_state(policy_state)
        self.set_state(saved.state)

    @classmethod
    def from_checkpoint(cls, checkpoint: PathLike) -> "Algorithm":
        """The algorithm saved at `checkpoint`, rebuilt from its config and restored.

        Called on `Algorithm`, builds the saved class (imported by its path);
        called on a subclass, the checkpoint must hold that subclass.
        """
        saved = _checkpoint.read(checkpoint)
        algorithm_class = cls
        if cls is Algorithm or saved.algorithm_class != class_path(cls):
            algorithm_class = _checkpoint.resolve_class(saved.algorithm_class)
            if not issubclass(algorithm_class, cls):
                raise TypeError(f"{cls.__name__}.from_checkpoint: {checkpoint} holds a "
                                f"{algorithm_class.__name__}")
        algorithm = algorithm_class(config=saved.config)
        algorithm.restore(checkpoint)
        return algorithm

    # ---- variants ------------------------------------------------------------------------------

    @classmethod
    def with_updates(cls, *, name: Optional[str] = None,
                     default_policy: Optional[Type[Policy]] = None,
                     default_config: Optional[Mapping[str, Any]] = None,
                     training_step: Optional[Callable[["Algorithm"], Dict[str, Any]]] = None,
                     validate_config: Optional[Callable[[Mapping[str, Any]], None]] = None
                     ) -> Type["Algorithm"]:
        """A subclass with some parts replaced (RLlib's `with_updates`).

        Args:
          name: the new class name.
          default_policy: the policy class the workers build.
          default_config: keys merged over the defaults (new keys allowed).
          training_step: `fn(algorithm) -> learner info`, replacing `training_step`.
          validate_config: `fn(config)`, run after the class's own checks.
        """
        namespace: Dict[str, Any] = {"_name": name or cls._name, "__module__": cls.__module__}
        if default_policy is not None:
            namespace["get_default_policy_class"] = classmethod(
                lambda klass, config: default_policy)
        if default_config is not None:
            extra = copy.deepcopy(dict(default_config))
            namespace["get_default_config"] = classmethod(
                lambda klass: merge_config(cls.get_default_config(), extra))
        if training_step is not None:
            namespace["training_step"] = training_step
        if validate_config is not None:
            def validate(klass: type, config: Mapping[str, Any]) -> None:
                cls.validate_config.__func__(klass, config)
                validate_config(config)
            namespace["validate_config"] = classmethod(validate)
        new_name = name or cls.__name__
        namespace["__qualname__"] = new_name
        return type(new_name, (cls,), namespace)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(env={self.config['env']!r})"


def _worker_metrics(worker: Any) -> List[Any]:
    """The episodes a worker finished since it was last asked (runs on remote workers too)."""
    return worker.get_metrics()


def _validate_multiagent(multiagent: Mapping[str, Any], owner: str) -> None:
    """Checks `config["multiagent"]`: the policy ids, the mapping function and
    `count_steps_by` (each error names the key, what was expected and the value)."""
    policies = multiagent["policies"]
    if not isinstance(policies, (Mapping, list, tuple, set)):
        raise InvalidConfigError(
            f"{owner} config key 'multiagent.policies': expected a dict policy id -> "
            f"PolicySpec (or a collection of policy ids), got {type(policies).__name__}")
    for pid in policies:
        if not isinstance(pid, str):
            raise InvalidConfigError(
                f"{owner} config key 'multiagent.policies': policy ids must be str, got "
                f"{pid!r} ({type(pid).__name__})")
    fn = multiagent["policy_mapping_fn"]
    if fn is not None and not callable(fn):
        raise InvalidConfigError(
            f"{owner} config key 'multiagent.policy_mapping_fn': expected a function "
            f"(agent_id, episode, worker, **kwargs) -> policy id, got {fn!r}")
    to_train = multiagent["policies_to_train"]
    if to_train is not None and not callable(to_train):
        unknown = [pid for pid in to_train if policies and pid not in policies]
        if unknown:
            raise InvalidConfigError(
                f"{owner} config key 'multiagent.policies_to_train': {unknown} not in "
                f"multiagent.policies {sorted(policies)}")
    check_range({"multiagent": multiagent}, "multiagent.policy_map_capacity", 1, integer=True,
                owner=owner)
    if multiagent["count_steps_by"] not in ("env_steps", "agent_steps"):
        raise InvalidConfigError(
            f"{owner} config key 'multiagent.count_steps_by': expected one of "
            f"['env_steps', 'agent_steps'], got {multiagent['count_steps_by']!r}")


def _numpy_free(value: Any) -> Any:
    """Numpy scalars and 0-d arrays as Python numbers (the result dict is plain data)."""
    if isinstance(value, Mapping):
        return {k: _numpy_free(v) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _episode_entry(episode: Any) -> Dict[str, Any]:
    return {"episode_reward": float(episode.episode_reward),
            "episode_length": int(episode.episode_length)}


def _episode_from_entry(entry: Mapping[str, Any]) -> Any:
    from tfpolicy.evaluation import RolloutMetrics
    return RolloutMetrics(episode_length=int(entry["episode_length"]),
                          episode_reward=float(entry["episode_reward"]))


# ---- the execution helpers RLlib's training steps call --------------------------------------


def synchronous_parallel_sample(*, worker_set: WorkerSet, max_agent_steps: Optional[int] = None,
                                max_env_steps: Optional[int] = None) -> SampleBatch:
    """Samples the workers until at least that many steps (see `tfpolicy.evaluation`)."""
    from tfpolicy.evaluation import synchronous_parallel_sample as sample
    return sample(worker_set=worker_set, max_agent_steps=max_agent_steps,
                  max_env_steps=max_env_steps)


def train_one_step(algorithm: Algorithm, train_batch: Union[SampleBatch, MultiAgentBatch],
                   policies_to_train: Optional[List[str]] = None) -> Dict[str, Any]:
    """Learns on `train_batch` with the local worker's policies; returns `{policy_id: info}`.

    With `num_sgd_iter > 1` or `sgd_minibatch_size` set, each policy makes
    `num_sgd_iter` passes over its batch in shuffled minibatches of
    `sgd_minibatch_size` (sequences kept whole for recurrent policies), and
    its `learner_stats` are the means over the last pass (RLlib's
    `do_minibatch_sgd`). The algorithm's generator shuffles, so runs repeat.
    """
    config = algorithm.config
    worker = algorithm.workers.local_worker()
    results = sgd.do_minibatch_sgd(
        train_batch, worker.policy_map, num_sgd_iter=int(config["num_sgd_iter"]),
        sgd_minibatch_size=config["sgd_minibatch_size"], seed=algorithm._rng,
        policies_to_train=(policies_to_train if policies_to_train is not None
                           else worker.is_policy_to_train))
    steps = (train_batch.env_steps() if hasattr(train_batch, "env_steps") else len(train_batch))
    algorithm._counters[NUM_ENV_STEPS_TRAINED] += int(steps)
    algorithm._counters[NUM_AGENT_STEPS_TRAINED] += int(
        train_batch.agent_steps() if hasattr(train_batch, "agent_steps") else steps)
    return results


# RLlib's name for the same step on several devices; TensorFlow places ops itself.
multi_gpu_train_one_step = train_one_step
