"""PettingZoo environments as `MultiAgentEnv`s (RLlib's adapter names).

pettingzoo is an optional dependency (`pip install "tfpolicy[pettingzoo]"`);
these adapters take an env that is already built, so nothing here imports
it.

- `PettingZooEnv(aec_env)`: PettingZoo's AEC (turn-based) API. `reset`
  and every `step` return the observation of the next agent to act only,
  and `step` takes `{that agent: action}`. The reward an agent gets with its
  observation is PettingZoo's cumulative reward (`env.last()`): everything
  it received since it last acted, so no reward is lost between turns. An
  agent that terminates or truncates gets its last observation (with its
  flag) when PettingZoo selects it, and the adapter takes the `None` step
  for it; the episode ends (`"__all__"`) when no agent is left:
  `terminateds["__all__"]` when all of them terminated, else
  `truncateds["__all__"]`.
- `ParallelPettingZooEnv(parallel_env)`: PettingZoo's Parallel API, where
  all live agents act at once: dicts in, dicts out; the episode ends when
  no agent is left (or every agent returned is done), `"__all__"` as above.

Both keep PettingZoo's agent ids, `possible_agents` and per-agent spaces
(`observation_spaces`, `action_spaces`; `observation_space` and
`action_space` too when all agents share them).
"""

from typing import Any, Dict, Mapping, Optional, Tuple

from tfpolicy.evaluation.multi_agent_env import (ALL, AgentID, MultiAgentEnv,
                                                 check_action_dict)

__all__ = ["PettingZooEnv", "ParallelPettingZooEnv", "is_pettingzoo_env"]


def is_pettingzoo_env(env: Any) -> bool:
    """Whether `env` is a PettingZoo AEC or Parallel env (False when pettingzoo was
    never imported: then no object can be one)."""
    import sys
    pettingzoo = sys.modules.get("pettingzoo")
    if pettingzoo is None:
        return False
    return isinstance(env, (pettingzoo.AECEnv, pettingzoo.ParallelEnv))


def _spaces(adapter: MultiAgentEnv, env: Any) -> None:
    agents = list(env.possible_agents)
    adapter.possible_agents = agents
    adapter.observation_spaces = {a: env.observation_space(a) for a in agents}
    adapter.action_spaces = {a: env.action_space(a) for a in agents}
    for kind, spaces in (("observation", adapter.observation_spaces),
                         ("action", adapter.action_spaces)):
        values = list(spaces.values())
        shared = values[0] if values and all(v == values[0] for v in values) else None
        setattr(adapter, f"{kind}_space", shared)


class _Adapter(MultiAgentEnv):
    """What both adapters share: the wrapped `env`, its rendering and closing."""

    env: Any

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.env})"


class PettingZooEnv(_Adapter):
    """A PettingZoo `AECEnv` as a turn-based `MultiAgentEnv` (see the module docstring).

    Args:
      env: the AEC environment (e.g. `pettingzoo.classic.rps_v2.env()`).

    Attributes:
      env: the wrapped environment.
    """

    def __init__(self, env: Any):
        self.env = env
        _spaces(self, env)
        self.agents = []
        self._selected: Optional[AgentID] = None

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[Dict[AgentID, Any], Dict[AgentID, Any]]:
        self.env.reset(seed=seed, options=options)
        self.agents = list(self.env.agents)
        agent = self.env.agent_selection
        self._selected = agent
        return {agent: self.env.observe(agent)}, {agent: dict(self.env.infos.get(agent, {}))}

    def step(self, action_dict: Mapping[AgentID, Any]) -> Tuple[Dict[Any, Any], ...]:
        check_action_dict(action_dict, [] if self._selected is None else [self._selected], self)
        if self._selected not in action_dict:
            raise ValueError(f"{type(self).__name__}.step() expects the action of the agent to "
                             f"act, {self._selected!r}; got actions for {list(action_dict)}")
        self.env.step(action_dict[self._selected])
        obs: Dict[Any, Any] = {}
        rewards: Dict[Any, float] = {}
        terminateds: Dict[Any, bool] = {}
        truncateds: Dict[Any, bool] = {}
        infos: Dict[Any, Any] = {}
        self._selected = None
        while self.env.agents:
            agent = self.env.agent_selection
            observation, reward, terminated, truncated, info = self.env.last()
            obs[agent], infos[agent] = observation, info
            rewards[agent] = rewards.get(agent, 0.0) + float(reward)
            terminateds[agent], truncateds[agent] = bool(terminated), bool(truncated)
            if not (terminated or truncated):
                self._selected = agent
                break
            self.env.step(None)
        self.agents = list(self.env.agents)
        over = not self.env.agents
        terminateds[ALL] = over and all(v for k, v in terminateds.items() if k != ALL)
        truncateds[ALL] = over and not terminateds[ALL]
        return obs, rewards, terminateds, truncateds, infos


class ParallelPettingZooEnv(_Adapter):
    """A PettingZoo `ParallelEnv` as a simultaneous `MultiAgentEnv` (see the module docstring).

    Args:
      env: the Parallel environment (e.g. `mpe2.simple_spread_v3.parallel_env()`).

    Attributes:
      env: the wrapped environment (RLlib calls it `par_env`, also available).
    """

    def __init__(self, env: Any):
        self.env = self.par_env = env
        _spaces(self, env)
        self.agents = []
        self._observed: list = []

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[Dict[AgentID, Any], Dict[AgentID, Any]]:
        obs, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.env.agents)
        self._observed = list(obs)
        return dict(obs), dict(infos or {})

    def step(self, action_dict: Mapping[AgentID, Any]) -> Tuple[Dict[Any, Any], ...]:
        check_action_dict(action_dict, self._observed, self)
        obs, rewards, terminateds, truncateds, infos = self.env.step(dict(action_dict))
        obs, infos = dict(obs), dict(infos or {})
        rewards = {agent: float(r) for agent, r in rewards.items()}
        terminateds = {agent: bool(v) for agent, v in terminateds.items()}
        truncateds = {agent: bool(v) for agent, v in truncateds.items()}
        self.agents = list(self.env.agents)
        done = {a for a in obs if terminateds.get(a) or truncateds.get(a)}
        over = not self.env.agents or (bool(action_dict) and all(
            terminateds.get(a) or truncateds.get(a) for a in action_dict))
        terminateds[ALL] = over and all(terminateds.get(a, False) for a in action_dict)
        truncateds[ALL] = over and not terminateds[ALL]
        self._observed = [a for a in obs if a not in done]
        return obs, rewards, terminateds, truncateds, infos
