"""Exploration: how a policy turns its action distribution into actions when it explores.

RLlib's names and config form: `config["exploration_config"] = {"type":
"EpsilonGreedy", "epsilon_timesteps": 10_000}` picks the class and its
keyword arguments (`from_config`). `explore=False` always takes the
distribution's most likely action (`deterministic_sample`), whatever the
exploration.

- `StochasticSampling`: sample from the action distribution; the extra
  fetches hold the sample's `action_logp` (RLlib's default for PG, A2C, PPO
  and SAC).
- `EpsilonGreedy`: with probability `ε(t)` a uniformly random action, else
  the greedy one (DQN's). `ε` falls linearly from `initial_epsilon` to
  `final_epsilon` over `epsilon_timesteps` steps after `warmup_timesteps`:

      ε(t) = initial                                           t <= warmup
      ε(t) = initial + (final - initial) (t - warmup) / T      warmup < t < warmup + T
      ε(t) = final                                             t >= warmup + T

  `t` is the `timestep` argument of `compute_actions`, else the policy's
  `global_timestep`. The random action is drawn among the allowed actions:
  those whose distribution input is above `float32.min / 2` (a model that
  applies an observation's `action_mask` pushes a masked action's logit to
  `float32.min`); a row with no allowed action draws among all. As in RLlib,
  `action_logp` is 0 (and `action_prob` 1) for every row. For discrete
  actions only (a `Categorical` or `MultiCategorical` distribution; a
  `MultiCategorical` row explores all its elements together).

Both acting runtimes of `DynamicTFPolicy` (TensorFlow and LiteRT) implement
them, drawing their randomness from the policy's acting generator (the
TensorFlow runtime when `config["seed"]` is set; see `DynamicTFPolicy`).

>>> exploration = from_config({"type": "EpsilonGreedy", "initial_epsilon": 1.0,
...                            "final_epsilon": 0.1, "epsilon_timesteps": 100})
>>> [round(exploration.epsilon(t), 3) for t in (0, 50, 100, 1000)]
[1.0, 0.55, 0.1, 0.1]
>>> exploration.get_state(50)
{'cur_epsilon': 0.55}
>>> type(from_config({"type": "StochasticSampling"})).__name__
'StochasticSampling'
"""

import inspect
from typing import Any, Dict, Mapping, Type

import numpy as np

__all__ = ["Exploration", "StochasticSampling", "EpsilonGreedy", "from_config",
           "EXPLORATION_TYPES", "ALLOWED_THRESHOLD"]

# A distribution input at or below this marks an action as not allowed (masked).
ALLOWED_THRESHOLD = float(np.finfo(np.float32).min) / 2.0


class Exploration:
    """The base of the explorations: the state they report (`get_state`).

    Attributes:
      name: the `exploration_config["type"]` that names the class.
    """

    name = "Exploration"

    def get_state(self, timestep: int) -> Dict[str, Any]:
        """The exploration's state at `timestep` (empty for one without a schedule)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class StochasticSampling(Exploration):
    """Sample from the action distribution (see the module docstring)."""

    name = "StochasticSampling"


class EpsilonGreedy(Exploration):
    """A random allowed action with probability `ε(t)`, else the greedy one.

    Args:
      initial_epsilon: `ε` at the start, in `[0, 1]`.
      final_epsilon: `ε` after the decay, in `[0, 1]`.
      warmup_timesteps: steps at `initial_epsilon` before the decay starts (>= 0).
      epsilon_timesteps: the length `T` of the linear decay (>= 0; 0 jumps
        to `final_epsilon`).

    Raises:
      ValueError: a value outside its range (named with the range).
    """

    name = "EpsilonGreedy"

    def __init__(self, initial_epsilon: float = 1.0, final_epsilon: float = 0.05,
                 warmup_timesteps: int = 0, epsilon_timesteps: int = int(1e5)):
        for key, value in (("initial_epsilon", initial_epsilon),
                           ("final_epsilon", final_epsilon)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    0.0 <= value <= 1.0):
                raise ValueError(f"exploration_config.{key} must be a number in [0, 1], got "
                                 f"{value!r}")
        for key, value in (("warmup_timesteps", warmup_timesteps),
                           ("epsilon_timesteps", epsilon_timesteps)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"exploration_config.{key} must be an integer >= 0, got "
                                 f"{value!r}")
        self.initial_epsilon = float(initial_epsilon)
        self.final_epsilon = float(final_epsilon)
        self.warmup_timesteps = int(warmup_timesteps)
        self.epsilon_timesteps = int(epsilon_timesteps)

    def epsilon(self, timestep: int) -> float:
        """`ε(timestep)` (see the module docstring)."""
        t = timestep - self.warmup_timesteps
        if t <= 0:
            return self.initial_epsilon
        if t >= self.epsilon_timesteps:
            return self.final_epsilon
        return self.initial_epsilon + (self.final_epsilon - self.initial_epsilon) * (
            t / self.epsilon_timesteps)

    def get_state(self, timestep: int) -> Dict[str, Any]:
        """`{"cur_epsilon": ε(timestep)}`."""
        return {"cur_epsilon": self.epsilon(timestep)}


EXPLORATION_TYPES: Dict[str, Type[Exploration]] = {
    cls.name: cls for cls in (StochasticSampling, EpsilonGreedy)}


def from_config(exploration_config: Mapping[str, Any]) -> Exploration:
    """The exploration `exploration_config` describes: `{"type": name or class, **kwargs}`.

    Args:
      exploration_config: `type` is one of `EXPLORATION_TYPES`' names (or the
        class itself); the other keys are the class's keyword arguments.

    Raises:
      ValueError: not a dict, an unknown `type`, an unknown keyword argument
        (named with the allowed ones) or a value out of range.
    """
    if not isinstance(exploration_config, Mapping):
        raise ValueError(f"exploration_config must be a dict like {{'type': "
                         f"'StochasticSampling'}}, got {exploration_config!r}")
    kwargs = dict(exploration_config)
    kind = kwargs.pop("type", None)
    if isinstance(kind, type) and kind in EXPLORATION_TYPES.values():
        cls = kind
    elif isinstance(kind, str) and kind in EXPLORATION_TYPES:
        cls = EXPLORATION_TYPES[kind]
    else:
        raise ValueError(f"exploration_config.type must be one of {sorted(EXPLORATION_TYPES)}, "
                         f"got {kind!r}")
    allowed = [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        names = ", ".join(f"exploration_config.{k}" for k in unknown)
        raise ValueError(f"{names}: {cls.name} takes no argument "
                         f"{', '.join(repr(k) for k in unknown)}; it takes {allowed}")
    return cls(**kwargs)
