"""The training layer: RLlib's Algorithm and its algorithms on tfpolicy's learning policies.

Import it explicitly (`import tfpolicy.algorithms`); `import tfpolicy` does not load it.

- `Algorithm`: `train()`, `evaluate()`, `save()`/`restore()`/`from_checkpoint()`,
  `compute_single_action`, `export_policy_model`/`export_policy_lite`, `stop()`.
- `AlgorithmConfig` and one builder per algorithm (`PPOConfig()...build()`).
- The algorithms, one module each: `PG`, `A2C`, `A3C`, `PPO`, `SimpleQ`, `DQN`, `SAC`.
- `get_algorithm_class(name)`: an algorithm class by its name ("PPO").
- `replay_buffers`, `tuned` (the packaged tuned examples), `logger` (progress
  bar, TensorBoard, progress.csv).

The names load on first use (PEP 562), so `get_algorithm_class` and
`tuned` answer without importing TensorFlow until an algorithm is needed.

>>> get_algorithm_class("PPO").__name__
'PPO'
"""

import importlib
from typing import Any, List

# Each re-exported name -> (the module that defines it, its name there; None = the module itself).
_EXPORTS = {
    "a2c": ("tfpolicy.algorithms.a2c", None),
    "a3c": ("tfpolicy.algorithms.a3c", None),
    "algorithm": ("tfpolicy.algorithms.algorithm", None),
    "algorithm_config": ("tfpolicy.algorithms.algorithm_config", None),
    "dqn": ("tfpolicy.algorithms.dqn", None),
    "logger": ("tfpolicy.algorithms.logger", None),
    "pg": ("tfpolicy.algorithms.pg", None),
    "ppo": ("tfpolicy.algorithms.ppo", None),
    "replay_buffers": ("tfpolicy.algorithms.replay_buffers", None),
    "sac": ("tfpolicy.algorithms.sac", None),
    "simple_q": ("tfpolicy.algorithms.simple_q", None),
    "tuned": ("tfpolicy.algorithms.tuned", None),
    "A2C": ("tfpolicy.algorithms.a2c", "A2C"),
    "A2CConfig": ("tfpolicy.algorithms.a2c", "A2CConfig"),
    "A3C": ("tfpolicy.algorithms.a3c", "A3C"),
    "A3CConfig": ("tfpolicy.algorithms.a3c", "A3CConfig"),
    "Algorithm": ("tfpolicy.algorithms.algorithm", "Algorithm"),
    "AlgorithmConfig": ("tfpolicy.algorithms.algorithm_config", "AlgorithmConfig"),
    "COMMON_CONFIG": ("tfpolicy.algorithms.algorithm", "COMMON_CONFIG"),
    "DQN": ("tfpolicy.algorithms.dqn", "DQN"),
    "DQNConfig": ("tfpolicy.algorithms.dqn", "DQNConfig"),
    "InvalidConfigError": ("tfpolicy.algorithms.algorithm_config", "InvalidConfigError"),
    "PG": ("tfpolicy.algorithms.pg", "PG"),
    "PGConfig": ("tfpolicy.algorithms.pg", "PGConfig"),
    "PPO": ("tfpolicy.algorithms.ppo", "PPO"),
    "PPOConfig": ("tfpolicy.algorithms.ppo", "PPOConfig"),
    "PrioritizedReplayBuffer": ("tfpolicy.algorithms.replay_buffers", "PrioritizedReplayBuffer"),
    "ReplayBuffer": ("tfpolicy.algorithms.replay_buffers", "ReplayBuffer"),
    "SAC": ("tfpolicy.algorithms.sac", "SAC"),
    "SACConfig": ("tfpolicy.algorithms.sac", "SACConfig"),
    "SimpleQ": ("tfpolicy.algorithms.simple_q", "SimpleQ"),
    "SimpleQConfig": ("tfpolicy.algorithms.simple_q", "SimpleQConfig"),
    "multi_gpu_train_one_step": ("tfpolicy.algorithms.algorithm", "multi_gpu_train_one_step"),
    "train_one_step": ("tfpolicy.algorithms.algorithm", "train_one_step"),
}

# The algorithms by RLlib's names.
ALGORITHMS = ("A2C", "A3C", "DQN", "PG", "PPO", "SAC", "SimpleQ")

__all__ = sorted(_EXPORTS) + ["ALGORITHMS", "get_algorithm_class"]


def get_algorithm_class(name: str) -> type:
    """The algorithm class registered as `name` (RLlib's names: "PPO", "DQN", ...).

    Raises:
      ValueError: an unknown name; the message lists the known ones.
    """
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; known: {list(ALGORITHMS)}")
    return __getattr__(name)


def __getattr__(name: str) -> Any:
    """Imports a re-exported name on first access (PEP 562) and caches it here."""
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'tfpolicy.algorithms' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))
