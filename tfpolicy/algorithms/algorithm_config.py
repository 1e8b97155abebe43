"""Algorithm configs: plain dicts with RLlib's keys, checked, and a builder for them.

An algorithm's config is a plain dict: its class's `get_default_config()`
with the user's keys merged over it (dict values such as `model` merged key
by key). Every key must be one the algorithm knows: a misspelt key is an
error naming it and its closest matches, never silently ignored. Values are
checked against their allowed ranges by the algorithm's `validate_config`,
with `check_range` and `check_choice`, each error naming the key, the
allowed range and the value.

`AlgorithmConfig` builds the same dict in RLlib's chained style::

    PPOConfig().environment("CartPole-v1").training(lr=3e-4).rollouts(num_envs_per_worker=8).build()

>>> defaults = {"lr": 0.001, "model": {"fcnet_hiddens": [256, 256]}}
>>> merge_config(defaults, {"model": {"fcnet_hiddens": [64]}})
{'lr': 0.001, 'model': {'fcnet_hiddens': [64]}}
>>> try:
...     check_known_keys({"lrr": 0.1}, defaults, owner="PPO")
... except InvalidConfigError as error:
...     print(error)
PPO config: unknown key 'lrr'; did you mean 'lr'?
>>> try:
...     check_range({"lr": -1.0}, "lr", low=0.0, owner="PPO")
... except InvalidConfigError as error:
...     print(error)
PPO config key 'lr': expected a number in [0, inf), got -1.0
"""

import copy
import difflib
import math
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence

__all__ = ["DEPRECATED_KEYS", "InvalidConfigError", "AlgorithmConfig", "merge_config", "check_known_keys",
           "check_range", "check_choice"]

# Keys whose dict values are user data, not configuration: merged as a whole.
_OPAQUE_DICTS = frozenset({"env_config", "custom_model_config", "evaluation_config"})

# RLlib's newer builder argument names, and the config key each sets.
_ALIASES = {
    "num_rollout_workers": "num_workers",
    "num_env_runners": "num_workers",
    "num_envs_per_env_runner": "num_envs_per_worker",
    "evaluation_num_env_runners": "evaluation_num_workers",
}


# Keys RLlib renamed or removed, by their old path: the key that replaced each
# (or, for a removed key, what to do instead). Using one is an error naming it.
DEPRECATED_KEYS = {
    "sample_batch_size": "rollout_fragment_length",
    "timesteps_per_batch": "train_batch_size",
    "timesteps_per_iteration": "min_sample_timesteps_per_iteration",
    "min_iter_time_s": "min_time_s_per_iteration",
    "evaluation_num_episodes": "evaluation_duration",
    "horizon": "(removed: cap episodes in the environment, e.g. gymnasium's max_episode_steps)",
    "soft_horizon": "(removed: cap episodes in the environment)",
    "multiagent.policy_graphs": "multiagent.policies",
    "multiagent.policy_graph": "multiagent.policies",
    "multiagent.replay_mode": "(removed: replay buffers are per policy)",
}


class InvalidConfigError(ValueError):
    """A config key the algorithm does not know, or a value outside its allowed range."""


def merge_config(defaults: Mapping[str, Any], overrides: Optional[Mapping[str, Any]]
                 ) -> Dict[str, Any]:
    """`overrides` over a deep copy of `defaults`; dict values are merged key by key
    (except user-data dicts such as `env_config`, which are replaced)."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in (overrides or {}).items():
        if (isinstance(value, Mapping) and isinstance(merged.get(key), dict)
                and key not in _OPAQUE_DICTS):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _suggestion(key: str, known: Iterable[str]) -> str:
    matches = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.6)
    if not matches:
        return "; no known key is close (see get_default_config())"
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"


def check_known_keys(config: Mapping[str, Any], defaults: Mapping[str, Any], owner: str,
                     prefix: str = "") -> None:
    """Raises `InvalidConfigError` for the first key of `config` that `defaults` lacks.

    Dict values whose default is a dict with keys are checked recursively
    (`model.fcnet_hiddens`); open dicts (default `{}`) and user-data dicts are not.

    Raises:
      InvalidConfigError: `"<owner> config: unknown key '<path>'; did you mean ...?"`.
    """
    for key, value in config.items():
        path = f"{prefix}{key}"
        if key not in defaults and path in DEPRECATED_KEYS:
            replacement = DEPRECATED_KEYS[path]
            instead = (replacement if replacement.startswith("(")
                       else f"use {replacement!r} instead")
            raise InvalidConfigError(f"{owner} config: key {path!r} is deprecated; {instead}")
        if key not in defaults:
            raise InvalidConfigError(f"{owner} config: unknown key {path!r}"
                                     f"{_suggestion(key, defaults)}")
        default = defaults[key]
        if (isinstance(value, Mapping) and isinstance(default, Mapping) and default
                and key not in _OPAQUE_DICTS and not _is_open(default)):
            check_known_keys(value, default, owner, prefix=f"{path}.")


def _is_open(default: Mapping[str, Any]) -> bool:
    """A dict default that names a `type` takes that type's own arguments."""
    return "type" in default


def _format_bound(value: Optional[float], low: bool) -> str:
    if value is None:
        return "-inf" if low else "inf"
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_range(config: Mapping[str, Any], key: str, low: Optional[float] = None,
                high: Optional[float] = None, *, low_open: bool = False,
                high_open: bool = False, allow_none: bool = False, integer: bool = False,
                owner: str = "Algorithm") -> None:
    """Raises `InvalidConfigError` unless `config[key]` is a number in the range.

    `key` may be a dotted path into nested dicts (`replay_buffer_config.capacity`).

    Args:
      config: the merged config.
      key: the key (or dotted path).
      low, high: the bounds (None: unbounded).
      low_open, high_open: exclude the bound itself.
      allow_none: None is also allowed.
      integer: the value must be an int.
      owner: the algorithm's name, for the message.

    Raises:
      InvalidConfigError: `"<owner> config key '<key>': expected <range>, got <value>"`.
    """
    value: Any = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None and allow_none:
        return
    kind = "an integer" if integer else "a number"
    interval = (("(" if low_open else "[") + _format_bound(low, True) + ", "
                + _format_bound(high, False) + (")" if high_open or high is None else "]"))
    expected = f"{kind} in {interval}" + (" or None" if allow_none else "")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = number and not (isinstance(value, float) and math.isnan(value))
    if ok and integer and not float(value).is_integer():
        ok = False
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise InvalidConfigError(f"{owner} config key {key!r}: expected {expected}, "
                                 f"got {value!r}")


def check_choice(config: Mapping[str, Any], key: str, choices: Sequence[Any],
                 owner: str = "Algorithm") -> None:
    """Raises `InvalidConfigError` unless `config[key]` is one of `choices`."""
    value = config.get(key)
    if value not in choices:
        raise InvalidConfigError(f"{owner} config key {key!r}: expected one of "
                                 f"{list(choices)}, got {value!r}")


class AlgorithmConfig:
    """RLlib's chained config builder over an algorithm's plain config dict.

    Every setter takes the config's own keys as keyword arguments (RLlib's
    newer names such as `num_rollout_workers` are accepted for their keys),
    checks them against the algorithm's defaults, and returns the builder.
    The groups (`training`, `rollouts`, ...) are for reading: any known key
    is accepted by any of them.

    Args:
      algo_class: the algorithm class; subclasses such as `PPOConfig` set it.

    Raises:
      InvalidConfigError: an unknown key (with its closest matches).
    """

    algo_class: Optional[type] = None

    def __init__(self, algo_class: Optional[type] = None):
        algo_class = algo_class or type(self).algo_class
        if algo_class is None:
            raise TypeError("AlgorithmConfig needs an algorithm class, e.g. "
                            "AlgorithmConfig(PPO) or PPOConfig()")
        self.algo_class = algo_class
        self._defaults = algo_class.get_default_config()
        self._config = copy.deepcopy(self._defaults)

    def _set(self, values: Mapping[str, Any]) -> "AlgorithmConfig":
        values = {_ALIASES.get(k, k): v for k, v in values.items()}
        check_known_keys(values, self._defaults, owner=self.algo_class.__name__)
        self._config = merge_config(self._config, values)
        return self

    def environment(self, env: Any = None, *, env_config: Optional[Mapping[str, Any]] = None,
                    **kwargs: Any) -> "AlgorithmConfig":
        """Sets `env` (a gymnasium id, a registered name or a creator) and `env_config`."""
        values = dict(kwargs)
        if env is not None:
            values["env"] = env
        if env_config is not None:
            values["env_config"] = dict(env_config)
        return self._set(values)

    def training(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets learning keys: `lr`, `gamma`, `train_batch_size`, `model`, the algorithm's own."""
        return self._set(kwargs)

    def rollouts(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets collection keys: `num_envs_per_worker`, `rollout_fragment_length`, `batch_mode`."""
        return self._set(kwargs)

    env_runners = rollouts

    def evaluation(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `evaluation_interval`, `evaluation_duration`, `evaluation_config`, ..."""
        return self._set(kwargs)

    def exploration(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `explore` and `exploration_config`."""
        return self._set(kwargs)

    def debugging(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `seed` and `log_level`."""
        return self._set(kwargs)

    def resources(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `num_gpus` (TensorFlow places ops itself) and worker counts."""
        return self._set(kwargs)

    def framework(self, framework: Optional[str] = None, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `framework` ("tf2" only) and `eager_tracing`."""
        values = dict(kwargs)
        if framework is not None:
            values["framework"] = framework
        return self._set(values)

    def multi_agent(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `multiagent` keys: `policies`, `policy_mapping_fn`, `policies_to_train`,
        `policy_map_capacity`, `policy_map_cache`, `count_steps_by`."""
        values = {"multiagent": dict(kwargs)}
        check_known_keys(values, self._defaults, owner=self.algo_class.__name__)
        self._config["multiagent"] = merge_config(self._config["multiagent"], kwargs)
        return self

    def fault_tolerance(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `recreate_failed_workers` and `ignore_worker_failures`."""
        return self._set(kwargs)

    def reporting(self, **kwargs: Any) -> "AlgorithmConfig":
        """Sets `metrics_num_episodes_for_smoothing`, `min_time_s_per_iteration`, ..."""
        return self._set(kwargs)

    def update_from_dict(self, config: Mapping[str, Any]) -> "AlgorithmConfig":
        """Sets every key of `config`."""
        return self._set(config)

    def to_dict(self) -> Dict[str, Any]:
        """The config as a plain dict (a copy)."""
        return copy.deepcopy(self._config)

    def __getitem__(self, key: str) -> Any:
        return self._config[key]

    def __getattr__(self, key: str) -> Any:
        config = self.__dict__.get("_config")
        if config is not None and key in config:
            return config[key]
        raise AttributeError(f"{type(self).__name__} has no attribute or config key {key!r}")

    def build(self, env: Any = None) -> Any:
        """The algorithm, built from this config (and `env`, if given)."""
        return self.algo_class(config=self.to_dict(), env=env)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.algo_class.__name__})"
