"""Tuned examples and experiment files in `rllib train -f`'s shape.

An experiment file maps experiment names to `{run, env, stop, config}`
(plus `checkpoint_freq` and `checkpoint_at_end`)::

    cartpole-ppo:
      run: PPO
      env: CartPole-v1
      stop: {evaluation/episode_reward_mean: 475, timesteps_total: 100000}
      config: {lr: 0.001, evaluation_interval: 2}

The package ships one tuned example per algorithm and environment in
`TUNED_EXAMPLES_DIR` (`tuned_examples()` lists them); `load_experiments`
reads a file or a packaged example by name, `load_tuned_example` the single
experiment of one. Stop criteria map result keys (nested keys joined with
`/`) to thresholds: a run stops when any `result[key] >= threshold`.

This module imports no TensorFlow, so the command line reads experiments
before it loads anything heavy.

>>> example = load_tuned_example("cartpole-ppo")
>>> example.run, example.env
('PPO', 'CartPole-v1')
>>> stop_reason({"evaluation/episode_reward_mean": 480.0, "timesteps_total": 9000.0},
...             {"evaluation/episode_reward_mean": 475, "timesteps_total": 100000})
'evaluation/episode_reward_mean 480 >= 475'
"""

import dataclasses
import math
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

__all__ = ["TUNED_EXAMPLES_DIR", "EXPERIMENT_KEYS", "TunedExample", "tuned_examples",
           "load_experiments", "load_tuned_example", "tuned_example_for", "check_stop",
           "threshold_stop", "stop_reason", "result_value"]

PathLike = Union[str, "os.PathLike[str]"]

TUNED_EXAMPLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tuned_examples")
EXPERIMENT_KEYS = ("run", "env", "stop", "config", "checkpoint_freq", "checkpoint_at_end")


@dataclasses.dataclass(frozen=True)
class TunedExample:
    """One experiment: its name, algorithm, environment, stop criteria and config."""

    name: str
    run: str
    env: str
    stop: Dict[str, float]
    config: Dict[str, Any]
    checkpoint_freq: int = 0
    checkpoint_at_end: bool = True

    def full_config(self) -> Dict[str, Any]:
        """The config with `env` set."""
        return dict(self.config, env=self.env)


def tuned_examples() -> List[str]:
    """The file names of the tuned examples shipped with the package."""
    if not os.path.isdir(TUNED_EXAMPLES_DIR):
        return []
    return sorted(name for name in os.listdir(TUNED_EXAMPLES_DIR) if name.endswith(".yaml"))


def _experiment_file(path: str) -> str:
    """`path` if it is a file, else the packaged tuned example of that name."""
    if os.path.isfile(path):
        return path
    if os.sep not in path and "/" not in path:
        for name in (path, path + ".yaml"):
            candidate = os.path.join(TUNED_EXAMPLES_DIR, name)
            if os.path.isfile(candidate):
                return candidate
    raise FileNotFoundError(f"-f: no file {path!r}, nor a tuned example of that name "
                            f"(tuned examples: {', '.join(tuned_examples()) or 'none'})")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_stop(stop: Any, where: str) -> Dict[str, float]:
    """`stop` as `{result key: threshold}`.

    Raises:
      ValueError: not a mapping of string keys to numbers (`where` and the key named).
    """
    if not isinstance(stop, Mapping):
        raise ValueError(f"{where}: expected a mapping of result key -> threshold, "
                         f"got {type(stop).__name__} {stop!r}")
    for key, value in stop.items():
        if not isinstance(key, str) or not _is_number(value):
            raise ValueError(f"{where}: key {key!r}: expected a number threshold, "
                             f"got {type(value).__name__} {value!r}")
    return dict(stop)


def load_experiments(path: PathLike) -> Dict[str, Dict[str, Any]]:
    """Reads experiments from a YAML file in the shape of `rllib train -f`.

    Args:
      path: the YAML file, or a packaged tuned example's name (`cartpole-ppo`
        or `cartpole-ppo.yaml`).

    Returns:
      Experiment name -> a dict with every key of `EXPERIMENT_KEYS` ('stop'
      {} and 'config' {} when absent, 'checkpoint_freq' 0,
      'checkpoint_at_end' True).

    Raises:
      FileNotFoundError: no such file nor tuned example.
      ValueError: the file is not valid YAML, or an experiment lacks 'run'
        or 'env', has an unknown key, or a stop threshold is not a number
        (the message names the file, the experiment and the key).
    """
    import yaml

    filename = _experiment_file(os.fspath(path))
    try:
        with open(filename, encoding="utf-8") as f:
            document = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise ValueError(f"{filename}: not valid YAML: {e}") from None
    if not isinstance(document, Mapping) or not document:
        raise ValueError(f"{filename}: expected a mapping of experiment name -> "
                         f"{{run, env, stop, config}}, got {type(document).__name__}")
    experiments = {}
    for name, spec in document.items():
        where = f"{filename}: experiment {name!r}"
        if not isinstance(spec, Mapping):
            raise ValueError(f"{where}: expected a mapping with keys {', '.join(EXPERIMENT_KEYS)}"
                             f", got {type(spec).__name__}")
        unknown = sorted(set(spec) - set(EXPERIMENT_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} "
                             f"(allowed: {', '.join(EXPERIMENT_KEYS)})")
        config = spec.get("config") or {}
        if not isinstance(config, Mapping):
            raise ValueError(f"{where}: 'config' must be a mapping, got {config!r}")
        config = dict(config)
        env = spec.get("env", config.pop("env", None))
        run = spec.get("run")
        if not isinstance(run, str) or not isinstance(env, str):
            raise ValueError(f"{where}: 'run' (an algorithm name) and 'env' (an env id) are "
                             f"required strings, got run={run!r}, env={env!r}")
        checkpoint_freq = spec.get("checkpoint_freq", 0)
        if not isinstance(checkpoint_freq, int) or checkpoint_freq < 0:
            raise ValueError(f"{where}: 'checkpoint_freq' must be an int >= 0, "
                             f"got {checkpoint_freq!r}")
        experiments[str(name)] = {
            "run": run, "env": env, "stop": check_stop(spec.get("stop") or {}, f"{where}: stop"),
            "config": config, "checkpoint_freq": checkpoint_freq,
            "checkpoint_at_end": bool(spec.get("checkpoint_at_end", True))}
    return experiments


def load_tuned_example(name_or_path: PathLike) -> TunedExample:
    """The single experiment of a file or packaged tuned example.

    Raises:
      FileNotFoundError, ValueError: as `load_experiments`; also a file with
        more than one experiment.
    """
    experiments = load_experiments(name_or_path)
    if len(experiments) != 1:
        raise ValueError(f"{os.fspath(name_or_path)}: expected one experiment, found "
                         f"{sorted(experiments)}")
    (name, experiment), = experiments.items()
    return TunedExample(name=name, **experiment)


def tuned_example_for(run: str, env: str) -> Optional[Tuple[str, Dict[str, Any]]]:
    """The first packaged tuned example `(file name, experiment)` for `run` on `env`."""
    for name in tuned_examples():
        for experiment in load_experiments(os.path.join(TUNED_EXAMPLES_DIR, name)).values():
            if experiment["run"] == run and experiment["env"] == env:
                return name, experiment
    return None


def threshold_stop(env: str, timesteps_cap: int) -> Dict[str, float]:
    """The env's gymnasium reward threshold on the greedy return, with a timesteps cap."""
    stop: Dict[str, float] = {}
    try:
        import gymnasium

        threshold = gymnasium.spec(env).reward_threshold
    except Exception:  # not a gymnasium id (a registered env), or gymnasium missing
        threshold = None
    if threshold is not None:
        stop["evaluation/episode_reward_mean"] = threshold
    stop["timesteps_total"] = timesteps_cap
    return stop


def result_value(result: Mapping[str, Any], key: str) -> Optional[float]:
    """The number at a `/`-separated key of a nested or flattened result dict (None if
    absent or NaN)."""
    value: Any = result.get(key) if key in result else result
    if key not in result:
        for part in key.split("/"):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
    if not _is_number(value) or math.isnan(value):
        return None
    return float(value)


def stop_reason(result: Mapping[str, Any], stop: Mapping[str, float]) -> Optional[str]:
    """Why the run stops (`"key value >= threshold"`), or None to go on."""
    for key, threshold in stop.items():
        value = result_value(result, key)
        if value is not None and value >= threshold:
            return f"{key} {value:g} >= {threshold:g}"
    return None
