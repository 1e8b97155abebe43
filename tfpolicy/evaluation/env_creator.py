"""Environment creators: from a config's `env` and `env_config` to a `PyEnvironment`.

`make_env_creator(env, env_config)` accepts what RLlib's `env` key does:

- a name registered with `register_env(name, creator)`;
- a gymnasium id, made with `tfpolicy.environments.load(id, **env_config)`
  (so keys such as `max_episode_steps` or `discount` pass through);
- a callable `creator(env_config) -> PyEnvironment`, e.g. an environment
  class whose constructor takes the env config.

The creator it returns is called by each worker with an `EnvContext`: the
env config plus `worker_index`, `vector_index` and `num_workers` as
attributes. Every creator must return one unbatched `PyEnvironment` (a
worker steps `num_envs_per_worker` of them side by side itself), a
`gymnasium.Env` (wrapped in `GymnasiumEnvironment`, so RLlib's
`lambda config: gym.make(...)` works), or a multi-agent env: a
`MultiAgentEnv`, or a PettingZoo AEC or Parallel env, which `as_worker_env`
wraps in `PettingZooEnv` / `ParallelPettingZooEnv`.

>>> creator = make_env_creator("CartPole-v1", {"max_episode_steps": 5})
>>> env = creator(EnvContext({}, worker_index=0))
>>> type(env).__name__, env.batched
('GymnasiumEnvironment', False)
>>> make_env_creator("CartPol-v1", {})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: config key 'env': unknown environment 'CartPol-v1' ...; close matches: ['CartPole-v1'...
"""

import difflib
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.evaluation import pettingzoo_env
from tfpolicy.evaluation.multi_agent_env import MultiAgentEnv

__all__ = ["EnvContext", "EnvCreator", "as_worker_env", "check_env", "make_env_creator",
           "register_env", "registered_envs"]

EnvCreator = Callable[[Mapping[str, Any]], PyEnvironment]

_EXPECTED = ("expected a name registered with register_env, a gymnasium id or a callable "
             "env_config -> PyEnvironment")

_registry: Dict[str, EnvCreator] = {}


class EnvContext(dict):
    """The env config a creator receives, plus where the environment runs (RLlib's name).

    A dict of the env config's keys; the position is in attributes, so
    `creator(**env_config)`-style code never sees them.

    Args:
      env_config: the config's `env_config`.
      worker_index: the worker's index (0 for the local worker).
      vector_index: the environment's index within its worker.
      num_workers: the number of remote workers.

    >>> ctx = EnvContext({"size": 3}, worker_index=1, vector_index=2)
    >>> dict(ctx), ctx.worker_index, ctx.vector_index
    ({'size': 3}, 1, 2)
    """

    def __init__(self, env_config: Optional[Mapping[str, Any]] = None, worker_index: int = 0,
                 vector_index: int = 0, num_workers: int = 0):
        super().__init__(env_config or {})
        self.worker_index = int(worker_index)
        self.vector_index = int(vector_index)
        self.num_workers = int(num_workers)

    def copy_with_overrides(self, env_config: Optional[Mapping[str, Any]] = None,
                            worker_index: Optional[int] = None,
                            vector_index: Optional[int] = None,
                            num_workers: Optional[int] = None) -> "EnvContext":
        """A copy with some of the config or the position replaced."""
        return EnvContext(
            dict(self) if env_config is None else env_config,
            self.worker_index if worker_index is None else worker_index,
            self.vector_index if vector_index is None else vector_index,
            self.num_workers if num_workers is None else num_workers)

    def __repr__(self) -> str:
        return (f"EnvContext({dict(self)!r}, worker_index={self.worker_index}, "
                f"vector_index={self.vector_index}, num_workers={self.num_workers})")


def register_env(name: str, creator: EnvCreator) -> None:
    """Makes `name` usable as a config's `env`: `creator(env_config)` builds it.

    A registered name takes precedence over a gymnasium id of the same name.

    Raises:
      TypeError: `name` is not a str or `creator` is not callable.
    """
    if not isinstance(name, str):
        raise TypeError(f"register_env: name must be a str, got {type(name).__name__}: {name!r}")
    if not callable(creator):
        raise TypeError(f"register_env({name!r}, ...): creator must be callable "
                        f"(env_config -> PyEnvironment), got {type(creator).__name__}")
    _registry[name] = creator


def registered_envs() -> List[str]:
    """The names registered with `register_env`, sorted."""
    return sorted(_registry)


class _Creator:
    """What `make_env_creator` returns: builds and checks one environment per call."""

    def __init__(self, env: Any, env_config: Mapping[str, Any], build: Callable[..., Any]):
        self.env = env
        self.env_config = dict(env_config)
        self._build = build

    def __call__(self, env_context: Optional[Mapping[str, Any]] = None) -> Any:
        """One unbatched environment (or multi-agent env, see `as_worker_env`); the
        context's keys override the bound env config."""
        merged = dict(self.env_config)
        merged.update(env_context or {})
        if isinstance(env_context, EnvContext):
            context = env_context.copy_with_overrides(env_config=merged)
        else:
            context = EnvContext(merged)
        return as_worker_env(self._build(context), self.env)

    def __repr__(self) -> str:
        return f"make_env_creator({self.env!r}, {self.env_config!r})"


def _gymnasium_builder(env_id: str) -> Callable[[EnvContext], PyEnvironment]:
    from tfpolicy.environments import gymnasium_wrapper

    def build(context: EnvContext) -> PyEnvironment:
        return gymnasium_wrapper.load(env_id, **dict(context))

    return build


def _check_gymnasium_id(env_id: str) -> None:
    """Raises the ValueError of an unknown id, with close matches."""
    try:
        import gymnasium
    except ImportError as e:
        raise ImportError(
            f"config key 'env': {env_id!r} is not registered with register_env, and "
            f"gymnasium ids need gymnasium: install it with `pip install \"tfpolicy[gym]\"`"
        ) from e
    try:
        gymnasium.spec(env_id)
    except gymnasium.error.Error as e:
        candidates = list(gymnasium.envs.registry) + list(_registry)
        matches = difflib.get_close_matches(env_id, candidates, n=3)
        raise ValueError(
            f"config key 'env': unknown environment {env_id!r} ({e}); close matches: "
            f"{matches}; {_EXPECTED}") from None


def make_env_creator(env: Union[str, EnvCreator],
                     env_config: Optional[Mapping[str, Any]] = None) -> EnvCreator:
    """The creator of the environments a config's `env` names (see the module docstring).

    Args:
      env: a registered name, a gymnasium id or a callable
        `creator(env_config) -> PyEnvironment`.
      env_config: the config's `env_config`; the keys of the context a
        worker passes override it.

    Returns:
      `creator(env_context=None) -> PyEnvironment`, which checks that it
      built one unbatched `PyEnvironment`.

    Raises:
      ValueError: an unknown id (naming the config key `env`, the value and
        its close matches among gymnasium's and the registered names).
      TypeError: `env` is neither a str nor callable, or `env_config` is not a mapping.
      ImportError: a gymnasium id without gymnasium installed.
    """
    if env_config is not None and not isinstance(env_config, Mapping):
        raise TypeError(f"config key 'env_config': expected a dict, got "
                        f"{type(env_config).__name__}: {env_config!r}")
    env_config = env_config or {}
    if isinstance(env, str):
        if env in _registry:
            return _Creator(env, env_config, _registry[env])
        _check_gymnasium_id(env)
        return _Creator(env, env_config, _gymnasium_builder(env))
    if callable(env):
        return _Creator(env, env_config, env)
    raise TypeError(f"config key 'env': got {type(env).__name__} {env!r}; {_EXPECTED}")


def check_env(env: Any, source: Any) -> PyEnvironment:
    """`env` if it is an unbatched `PyEnvironment`; else the error naming what was expected.

    Raises:
      TypeError: not a `PyEnvironment` (a gymnasium env gets a hint to wrap it).
      ValueError: a batched environment.
    """
    if not isinstance(env, PyEnvironment):
        hint = ""
        if type(env).__module__.startswith("gymnasium") or hasattr(env, "observation_space"):
            hint = (" (wrap a gymnasium.Env in tfpolicy.environments.GymnasiumEnvironment, or "
                    "give its id)")
        raise TypeError(f"config key 'env': the creator of {source!r} returned a "
                        f"{type(env).__name__}; expected an unbatched "
                        f"tfpolicy.environments.PyEnvironment{hint}")
    if env.batched:
        raise ValueError(f"config key 'env': the creator of {source!r} returned a batched "
                         f"environment (batch_size={env.batch_size}); expected an unbatched "
                         f"PyEnvironment: a worker steps num_envs_per_worker of them itself")
    return env


def _is_gymnasium_env(env: Any) -> bool:
    gymnasium = sys.modules.get("gymnasium")
    return gymnasium is not None and isinstance(env, gymnasium.Env)


def as_worker_env(env: Any, source: Any, wrap_gymnasium: bool = True) -> Any:
    """What a worker steps, from what an env creator returned.

    Args:
      env: the creator's result.
      source: the creator or env name (named in errors).
      wrap_gymnasium: wrap a `gymnasium.Env` in `GymnasiumEnvironment`
        (else it is the `check_env` error that says to wrap it).

    Returns:
      A `MultiAgentEnv` as it is; a PettingZoo AEC env in `PettingZooEnv`, a
      Parallel one in `ParallelPettingZooEnv`; a `gymnasium.Env` in
      `GymnasiumEnvironment` (with `wrap_gymnasium`); otherwise `env` once
      `check_env` accepts it.

    Raises:
      TypeError, ValueError: the errors of `check_env`.
    """
    if isinstance(env, MultiAgentEnv):
        return env
    if pettingzoo_env.is_pettingzoo_env(env):
        import pettingzoo
        if isinstance(env, pettingzoo.AECEnv):
            return pettingzoo_env.PettingZooEnv(env)
        return pettingzoo_env.ParallelPettingZooEnv(env)
    if wrap_gymnasium and _is_gymnasium_env(env):
        from tfpolicy.environments.gymnasium_wrapper import GymnasiumEnvironment
        return GymnasiumEnvironment(env)
    return check_env(env, source)
