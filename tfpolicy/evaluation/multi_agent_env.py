"""`MultiAgentEnv`: environments where several agents act, keyed by agent id (RLlib's API).

The interface is RLlib 2.x's gymnasium-style one:

- `reset(*, seed=None, options=None) -> (obs, infos)`: `{agent_id: observation}`
  and `{agent_id: info}` of the agents that act first;
- `step(action_dict) -> (obs, rewards, terminateds, truncateds, infos)`, all
  dicts keyed by agent id. `action_dict` holds one action per agent that got
  an observation in the previous call; `obs` holds the agents that act next
  (all of them in a simultaneous game, one in a turn-based one). `rewards`
  may name agents without an observation: their rewards add up until their
  next observation. `terminateds` and `truncateds` carry the key `"__all__"`:
  True ends the episode for everyone (`terminateds["__all__"]` a
  termination, `truncateds["__all__"]` a time limit); an agent's own True
  ends only that agent, whose observation in the same step is its last.

Agent ids (`AgentID`) are `str` or `int` (not `bool`, not numpy scalars:
they are dict keys that must compare and hash the same everywhere, and
checkpoints store them as JSON). Spaces are gymnasium spaces, one shared
`observation_space`/`action_space`, or per agent in the dicts
`observation_spaces`/`action_spaces`; `get_observation_space(agent_id)` and
`get_action_space(agent_id)` read either. `possible_agents` lists every
agent id that can appear (the index of an agent there is its
`agent_index` in sample batches), `agents` the ones alive now.

`make_multi_agent(env)` turns a single-agent gymnasium env into a
`MultiAgentEnv` class: `num_agents` independent copies, agents `0..n-1`.

The checks here (`check_agent_id`, `check_action_dict`,
`check_reset_result`, `check_step_result`) give the errors users of
multi-agent envs run into a clear message naming the value, what was
expected and the env.

>>> import gymnasium as gym
>>> TwoCartPoles = make_multi_agent("CartPole-v1")
>>> env = TwoCartPoles({"num_agents": 2})
>>> obs, infos = env.reset(seed=0)
>>> sorted(obs), env.get_action_space(1)
([0, 1], Discrete(2))
>>> obs, rewards, terminateds, truncateds, infos = env.step({0: 1, 1: 0})
>>> rewards, terminateds
({0: 1.0, 1: 1.0}, {0: False, 1: False, '__all__': False})
>>> check_agent_id(True, env)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
TypeError: agent id True has type bool; expected a str or an int (not bool, not a numpy scalar) ...
"""

import abc
import collections.abc
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Tuple, Union

__all__ = ["AgentID", "ALL", "MultiAgentEnv", "make_multi_agent", "check_agent_id",
           "check_action_dict", "check_reset_result", "check_step_result"]

AgentID = Union[str, int]

# The key of `terminateds` and `truncateds` that ends the episode for every agent.
ALL = "__all__"

_ALLOWED = "expected a str or an int (not bool, not a numpy scalar)"


class MultiAgentEnv(abc.ABC):
    """An environment of several agents, each with its own observations, actions and rewards
    (see the module docstring for the protocol).

    Subclasses implement `reset` and `step` and set the spaces (in `__init__`):
    `observation_space`/`action_space` when all agents share them, else the
    dicts `observation_spaces`/`action_spaces`; and `possible_agents`.

    Attributes:
      possible_agents: every agent id that can appear (`[]` when unknown).
      agents: the agents alive in the current episode.
      observation_space, action_space: the spaces shared by all agents (or None).
      observation_spaces, action_spaces: per-agent spaces (or None).
    """

    possible_agents: List[AgentID] = []
    agents: List[AgentID] = []
    observation_space: Any = None
    action_space: Any = None
    observation_spaces: Optional[Dict[AgentID, Any]] = None
    action_spaces: Optional[Dict[AgentID, Any]] = None

    @abc.abstractmethod
    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[Dict[AgentID, Any], Dict[AgentID, Any]]:
        """Starts an episode: `({agent_id: observation}, {agent_id: info})`."""

    @abc.abstractmethod
    def step(self, action_dict: Mapping[AgentID, Any]) -> Tuple[
            Dict[AgentID, Any], Dict[AgentID, float], Dict[Any, bool], Dict[Any, bool],
            Dict[AgentID, Any]]:
        """Acts for the agents in `action_dict`:
        `(obs, rewards, terminateds, truncateds, infos)`, with `"__all__"` in
        `terminateds` and `truncateds`."""

    def get_observation_space(self, agent_id: AgentID) -> Any:
        """The observation space of `agent_id` (its entry of `observation_spaces`, else
        the shared `observation_space`).

        Raises:
          KeyError: per-agent spaces without this agent and no shared space.
        """
        return _space_of(self, "observation", agent_id)

    def get_action_space(self, agent_id: AgentID) -> Any:
        """The action space of `agent_id` (see `get_observation_space`)."""
        return _space_of(self, "action", agent_id)

    def get_agent_ids(self) -> List[AgentID]:
        """`possible_agents` (RLlib's older name)."""
        return list(self.possible_agents)

    def render(self) -> Any:
        """Renders the environment; the default renders nothing."""
        return None

    def close(self) -> None:
        """Releases the environment's resources; the default has none."""


def _space_of(env: Any, kind: str, agent_id: AgentID) -> Any:
    per_agent = getattr(env, f"{kind}_spaces", None)
    if per_agent is not None and agent_id in per_agent:
        return per_agent[agent_id]
    shared = getattr(env, f"{kind}_space", None)
    if shared is None:
        raise KeyError(f"{type(env).__name__}: no {kind} space for agent id {agent_id!r}; "
                       f"expected it in `{kind}_spaces` (ids "
                       f"{list(per_agent or {})}) or a shared `{kind}_space`")
    return shared


# ---- checks -----------------------------------------------------------------------------------


def _env_name(env: Any) -> str:
    return type(env).__name__ if env is not None else "the env"


def check_agent_id(agent_id: Any, env: Any = None,
                   possible_agents: Optional[Collection[Any]] = None) -> AgentID:
    """`agent_id` if it is a valid agent id of `env`.

    Args:
      agent_id: the id to check.
      env: the environment it came from (named in the errors).
      possible_agents: the allowed ids; default `env.possible_agents` (no
        membership check when that is empty).

    Raises:
      TypeError: an id that is not a `str` or `int` (naming the id, its type,
        the allowed types and the env).
      ValueError: an id not in `possible_agents` (naming both).
    """
    kind = type(agent_id)
    if kind is not str and kind is not int and (
            isinstance(agent_id, bool) or not isinstance(agent_id, (str, int))):
        module = "" if kind.__module__ == "builtins" else kind.__module__ + "."
        hint = "; convert it with int() or str()" if module.startswith("numpy") else ""
        raise TypeError(f"agent id {agent_id!r} has type {module}{kind.__qualname__}; "
                        f"{_ALLOWED} (env {_env_name(env)}){hint}")
    if possible_agents is None:
        possible_agents = getattr(env, "possible_agents", None) or ()
    if possible_agents and agent_id not in possible_agents:
        raise ValueError(f"agent id {agent_id!r} from env {_env_name(env)} is not one of its "
                         f"possible_agents {list(possible_agents)}")
    return agent_id


def _check_dict(value: Any, what: str, env: Any, allow_all: bool) -> Dict[Any, Any]:
    if not isinstance(value, collections.abc.Mapping):
        raise TypeError(f"{_env_name(env)}: {what} must be a dict keyed by agent id, got "
                        f"{type(value).__name__}: {value!r}")
    possible = getattr(env, "possible_agents", None) or ()
    for key in value:
        if allow_all and key == ALL:
            continue
        check_agent_id(key, env, possible)
    return value  # type: ignore[return-value]


def check_reset_result(result: Any, env: Any = None
                       ) -> Tuple[Dict[AgentID, Any], Dict[AgentID, Any]]:
    """`(obs, infos)` of `env.reset()`, checked.

    Raises:
      TypeError: not a 2-tuple of dicts, or an agent id of the wrong type.
      ValueError: an agent id not in `possible_agents`.
    """
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"{_env_name(env)}.reset() must return (obs, infos), two dicts keyed "
                        f"by agent id (RLlib 2.x / gymnasium API), got "
                        f"{type(result).__name__}: {result!r:.200}")
    obs, infos = result
    return (_check_dict(obs, "reset()'s obs", env, False),
            _check_dict(infos if infos is not None else {}, "reset()'s infos", env, False))


def check_step_result(result: Any, env: Any = None) -> Tuple[Dict[Any, Any], ...]:
    """`(obs, rewards, terminateds, truncateds, infos)` of `env.step()`, checked.

    Raises:
      TypeError: not a 5-tuple of dicts, or an agent id of the wrong type.
      ValueError: an agent id not in `possible_agents`, or `"__all__"` missing
        from `terminateds` or `truncateds`.
    """
    if not (isinstance(result, tuple) and len(result) == 5):
        raise TypeError(f"{_env_name(env)}.step() must return (obs, rewards, terminateds, "
                        f"truncateds, infos), five dicts keyed by agent id (RLlib 2.x / "
                        f"gymnasium API), got {type(result).__name__} of "
                        f"{len(result) if isinstance(result, tuple) else '?'} items")
    obs, rewards, terminateds, truncateds, infos = result
    for flags, name in ((terminateds, "terminateds"), (truncateds, "truncateds")):
        _check_dict(flags, f"step()'s {name}", env, True)
        if ALL not in flags:
            raise ValueError(f"{_env_name(env)}.step() returned {name} without the key "
                             f"{ALL!r}: expected it (True ends the episode for every agent), "
                             f"got the keys {list(flags)}")
    return (_check_dict(obs, "step()'s obs", env, False),
            _check_dict(rewards, "step()'s rewards", env, False), terminateds, truncateds,
            _check_dict(infos if infos is not None else {}, "step()'s infos", env, False))


def check_action_dict(action_dict: Mapping[Any, Any], observed: Collection[Any],
                      env: Any = None) -> None:
    """Checks that every agent in `action_dict` got an observation from the last call.

    Args:
      action_dict: `{agent_id: action}` passed to `step`.
      observed: the agent ids of the last observation dict.
      env: the environment (named in the error).

    Raises:
      TypeError: `action_dict` is not a dict.
      ValueError: an action for an agent that did not get an observation
        (naming it and the agents that did).
    """
    if not isinstance(action_dict, collections.abc.Mapping):
        raise TypeError(f"{_env_name(env)}.step() takes a dict of actions keyed by agent id, "
                        f"got {type(action_dict).__name__}")
    for agent_id in action_dict:
        if agent_id not in observed:
            raise ValueError(f"{_env_name(env)}.step() got an action for agent {agent_id!r}, "
                             f"which did not get an observation; expected actions only for "
                             f"{list(observed)}")


# ---- make_multi_agent -------------------------------------------------------------------------


def make_multi_agent(env_name_or_creator: Union[str, Callable[[Mapping[str, Any]], Any]]
                     ) -> type:
    """A `MultiAgentEnv` class whose agents each run their own copy of a gymnasium env.

    The class takes a config dict: `num_agents` (default 1) copies are made
    with `gymnasium.make(name)` or `creator(config)` (the config without
    `num_agents`); agent `i` acts in copy `i`. `reset(seed=s)` resets copy
    `i` with seed `s + i` (None stays None), so the copies differ. An agent
    whose copy terminates or truncates is done (its last observation comes
    in that step); the episode ends when every agent is done.

    Args:
      env_name_or_creator: a gymnasium id, or `creator(config) -> gymnasium.Env`.

    Returns:
      The `MultiAgentEnv` subclass.
    """

    class MultiEnv(MultiAgentEnv):
        """`num_agents` independent copies of one gymnasium env, agents `0..n-1`."""

        def __init__(self, config: Optional[Mapping[str, Any]] = None):
            config = dict(config or {})
            num_agents = config.pop("num_agents", 1)
            if isinstance(num_agents, bool) or not isinstance(num_agents, int) or num_agents < 1:
                raise ValueError(f"make_multi_agent: config key 'num_agents' must be an int "
                                 f">= 1, got {num_agents!r}")
            if isinstance(env_name_or_creator, str):
                import gymnasium
                self.envs = [gymnasium.make(env_name_or_creator, **config)
                             for _ in range(num_agents)]
            else:
                self.envs = [env_name_or_creator(config) for _ in range(num_agents)]
            self.possible_agents = list(range(num_agents))
            self.agents = list(self.possible_agents)
            self.observation_space = self.envs[0].observation_space
            self.action_space = self.envs[0].action_space
            self._done: set = set()
            self._observed: List[int] = []

        def reset(self, *, seed: Optional[int] = None,
                  options: Optional[Dict[str, Any]] = None
                  ) -> Tuple[Dict[AgentID, Any], Dict[AgentID, Any]]:
            self._done = set()
            obs, infos = {}, {}
            for i, env in enumerate(self.envs):
                obs[i], infos[i] = env.reset(seed=None if seed is None else seed + i,
                                             options=options)
            self.agents = list(self.possible_agents)
            self._observed = list(obs)
            return obs, infos

        def step(self, action_dict: Mapping[AgentID, Any]) -> Tuple[Dict[Any, Any], ...]:
            check_action_dict(action_dict, self._observed, self)
            obs, rewards, terminateds, truncateds, infos = {}, {}, {}, {}, {}
            for i, action in action_dict.items():
                (obs[i], rewards[i], terminateds[i], truncateds[i],
                 infos[i]) = self.envs[i].step(action)
                rewards[i] = float(rewards[i])
                if terminateds[i] or truncateds[i]:
                    self._done.add(i)
            self.agents = [i for i in self.possible_agents if i not in self._done]
            over = not self.agents
            terminateds[ALL] = over and all(terminateds.values())
            truncateds[ALL] = over and not terminateds[ALL]
            self._observed = [i for i in obs if i not in self._done]
            return obs, rewards, terminateds, truncateds, infos

        def render(self) -> Any:
            return self.envs[0].render()

        def close(self) -> None:
            for env in self.envs:
                env.close()

        def __repr__(self) -> str:
            return f"make_multi_agent({env_name_or_creator!r})(num_agents={len(self.envs)})"

    MultiEnv.__name__ = MultiEnv.__qualname__ = "MultiEnv"
    return MultiEnv
