"""`Episode`: one running multi-agent episode, as the policy mapping function sees it (RLlib's).

A worker makes one `Episode` per episode of each of its environments. It
holds the episode's counters (`length` in environment steps,
`total_reward`, `agent_rewards[(agent_id, policy_id)]`, all of the raw
rewards), free-form `user_data`, and which policy each agent acts with:
`policy_for(agent_id)` calls the policy mapping function the first time it
sees an agent and keeps the answer for the rest of the episode, so an
agent never changes policy mid-episode.

A policy mapping function is RLlib's `fn(agent_id, episode, worker,
**kwargs) -> policy_id`; the older `fn(agent_id)` and `fn(agent_id,
episode, **kwargs)` are accepted too (the arguments are matched to its
signature once). Without one, every agent acts with `"default_policy"`.

>>> episode = Episode(1, policy_mapping_fn=lambda agent_id: f"p{agent_id % 2}",
...                   policy_ids=["p0", "p1"])
>>> episode.policy_for(3), episode.policy_for(4)
('p1', 'p0')
>>> other = Episode(2, policy_mapping_fn=lambda agent_id: "x", policy_ids=["p0"])
>>> other.policy_for(0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: policy_mapping_fn returned the policy id 'x' for agent 0; expected one of ... ['p0'] ...
"""

import functools
import inspect
from typing import Any, Callable, Collection, Dict, Optional, Tuple

from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID

__all__ = ["Episode", "PolicyMappingFn"]

PolicyMappingFn = Callable[..., str]


def _arguments(fn: Callable[..., Any]) -> Tuple[int, bool]:
    """`(number of positional arguments to pass, pass worker as a keyword)` for `fn`."""
    try:
        return _cached_arguments(fn)
    except TypeError:  # an unhashable callable
        return _inspect_arguments(fn)


def _inspect_arguments(fn: Callable[..., Any]) -> Tuple[int, bool]:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        return 3, False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
    var_positional = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    var_keyword = any(p.kind == p.VAR_KEYWORD for p in parameters)
    if var_positional or len(positional) >= 3:
        return 3, False
    keyword_worker = var_keyword or any(p.name == "worker" and p.kind == p.KEYWORD_ONLY
                                        for p in parameters)
    return max(len(positional), 1), keyword_worker


_cached_arguments = functools.lru_cache(maxsize=256)(_inspect_arguments)


def _call_mapping_fn(fn: PolicyMappingFn, agent_id: Any, episode: Any,
                           worker: Any) -> Any:
    """`fn(agent_id, episode, worker)`, or as many of those as `fn` takes
    (`fn(agent_id)`, `fn(agent_id, episode, worker=worker)`, ...)."""
    count, keyword_worker = _arguments(fn)
    args = (agent_id, episode, worker)[:count]
    return fn(*args, worker=worker) if keyword_worker else fn(*args)


class Episode:
    """One episode of one of a worker's environments (see the module docstring).

    Args:
      episode_id: the episode's id (the `eps_id` of its rows).
      env_id: the index of its environment in the worker.
      worker: the `RolloutWorker` (passed to the mapping function).
      policy_mapping_fn: `fn(agent_id, episode, worker, **kwargs) -> policy_id`;
        None maps every agent to `"default_policy"`.
      policy_ids: the policy ids the worker has (`in` is all it needs); None
        skips the check of the mapping function's answers.

    Attributes:
      episode_id, env_id, worker: as given.
      length: environment steps taken so far.
      total_reward: the sum of every agent's raw rewards so far.
      agent_rewards: `{(agent_id, policy_id): return so far}`.
      user_data: a dict for the user's own data.
      custom_metrics, hist_data, media: reported with the episode's metrics
        (`RolloutMetrics`).
    """

    def __init__(self, episode_id: int, env_id: int = 0, worker: Any = None,
                 policy_mapping_fn: Optional[PolicyMappingFn] = None,
                 policy_ids: Optional[Collection[str]] = None):
        self.episode_id = int(episode_id)
        self.env_id = int(env_id)
        self.worker = worker
        self.length = 0
        self.total_reward = 0.0
        self.agent_rewards: Dict[Tuple[Any, str], float] = {}
        self.user_data: Dict[str, Any] = {}
        self.custom_metrics: Dict[str, Any] = {}
        self.hist_data: Dict[str, Any] = {}
        self.media: Dict[str, Any] = {}
        self._mapping_fn = policy_mapping_fn
        self._policy_ids = policy_ids
        self._policies: Dict[Any, str] = {}
        self._last_observations: Dict[Any, Any] = {}
        self._last_actions: Dict[Any, Any] = {}

    def policy_for(self, agent_id: Any) -> str:
        """The policy id `agent_id` acts with in this episode (the mapping function is
        asked once per agent and episode).

        Raises:
          ValueError: the mapping function returned an id the worker does not have
            (naming the id, the agent and the known ids).
        """
        policy_id = self._policies.get(agent_id)
        if policy_id is not None:
            return policy_id
        if self._mapping_fn is None:
            policy_id = DEFAULT_POLICY_ID
        else:
            policy_id = _call_mapping_fn(self._mapping_fn, agent_id, self, self.worker)
        known = self._policy_ids
        if known is not None and (not isinstance(policy_id, str) or policy_id not in known):
            if self._mapping_fn is None:
                raise ValueError(
                    f"no policy_mapping_fn is set, so agent {agent_id!r} acts with "
                    f"{DEFAULT_POLICY_ID!r}, which is not one of the worker's policy ids "
                    f"{list(known)} (config key 'multiagent.policies'); set "
                    f"'multiagent.policy_mapping_fn'")
            raise ValueError(
                f"policy_mapping_fn returned the policy id {policy_id!r} for agent "
                f"{agent_id!r}; expected one of the worker's policy ids {list(known)} "
                f"(config key 'multiagent.policies')")
        self._policies[agent_id] = policy_id
        return policy_id

    def last_observation_for(self, agent_id: Any) -> Any:
        """The last observation `agent_id` got in this episode (None before its first)."""
        return self._last_observations.get(agent_id)

    def last_action_for(self, agent_id: Any) -> Any:
        """The last action `agent_id`'s policy chose in this episode (None before its first)."""
        return self._last_actions.get(agent_id)

    def get_agents(self) -> list:
        """The agents seen so far, in the order they first appeared."""
        return list(self._policies)

    def __repr__(self) -> str:
        return (f"Episode(episode_id={self.episode_id}, env_id={self.env_id}, "
                f"length={self.length}, total_reward={self.total_reward})")
