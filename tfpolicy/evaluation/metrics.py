"""Episode metrics: what a worker reports per finished episode, and RLlib's summary of them.

A worker records one `RolloutMetrics` per episode that ends while it
samples (`RolloutWorker.get_metrics()` hands them out once);
`summarize_episodes` turns a list of them into the keys of RLlib's result
dict. Returns are sums of the environment's raw rewards, taken before any
postprocessing (n-step returns, reward clipping) changes the batch.

With rewards `r_1..r_T` of an episode, `episode_reward = Σ r_t` and
`episode_length = T`; over episodes `e_1..e_n`, `episode_reward_mean =
(1/n) Σ episode_reward(e_i)`, NaN when `n = 0` (as RLlib reports it).
A multi-agent episode also carries `agent_rewards[(agent_id, policy_id)]`,
each agent's return; `policy_reward_mean[policy_id]` averages them over
every agent-episode of that policy.

>>> summary = summarize_episodes([RolloutMetrics(3, 3.0), RolloutMetrics(5, 1.0)])
>>> summary["episode_reward_mean"], summary["episode_len_mean"], summary["episodes_this_iter"]
(2.0, 4.0, 2)
>>> summary["hist_stats"]
{'episode_reward': [3.0, 1.0], 'episode_lengths': [3, 5]}
"""

import collections
import types
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID

__all__ = ["RolloutMetrics", "collect_episodes", "summarize_episodes"]

_EMPTY: Mapping[Any, Any] = types.MappingProxyType({})


class RolloutMetrics(NamedTuple):
    """One finished episode (RLlib's fields).

    Attributes:
      episode_length: the number of steps `T`.
      episode_reward: the undiscounted return `Σ r_t` of the raw rewards.
      agent_rewards: `(agent_id, policy_id) -> return`, for multi-agent episodes.
      custom_metrics: name -> value, set by callbacks.
      perf_stats: sampler timings.
      hist_data: name -> list of values, added to the summary's `hist_stats`.
      media: name -> object, passed through as `episode_media`.
      episode_faulty: the episode broke off (an environment error); it is
        counted in `num_faulty_episodes` and left out of every statistic.
    """

    episode_length: int = 0
    episode_reward: float = 0.0
    agent_rewards: Mapping[Tuple[Any, str], float] = _EMPTY
    custom_metrics: Mapping[str, Any] = _EMPTY
    perf_stats: Mapping[str, float] = _EMPTY
    hist_data: Mapping[str, List[Any]] = _EMPTY
    media: Mapping[str, Any] = _EMPTY
    episode_faulty: bool = False

    def __repr__(self) -> str:
        extra = "".join(f", {name}={value!r}" for name, value in zip(self._fields[2:], self[2:])
                        if value != self._field_defaults[name])
        return (f"RolloutMetrics(episode_length={self.episode_length!r}, "
                f"episode_reward={self.episode_reward!r}{extra})")


def _stat(values: Sequence[float], reduce: Any) -> float:
    return float(reduce(values)) if len(values) else float("nan")


def summarize_episodes(episodes: Sequence[RolloutMetrics],
                       new_episodes: Optional[Sequence[RolloutMetrics]] = None,
                       keep_custom_metrics: bool = False) -> Dict[str, Any]:
    """RLlib's episode summary of a result dict.

    Args:
      episodes: the episodes to compute statistics over (e.g. the last 100,
        for smoothing).
      new_episodes: the episodes of this iteration (default `episodes`),
        counted in `episodes_this_iter`.
      keep_custom_metrics: keep every custom metric value as a list instead
        of its `_mean`, `_min` and `_max`.

    Returns:
      `episode_reward_mean`, `episode_reward_min`, `episode_reward_max`,
      `episode_len_mean` (Python floats, NaN without episodes),
      `episodes_this_iter`, `num_faulty_episodes`, `policy_reward_mean`,
      `policy_reward_min`, `policy_reward_max` (`{policy_id: value}` over
      the agents' returns in `agent_rewards`, for every policy other than
      the default one, as RLlib), `custom_metrics`, `hist_stats`
      (`episode_reward`, `episode_lengths`, `policy_<policy_id>_reward`
      and the episodes' `hist_data`), `sampler_perf` (means of
      `perf_stats`) and `episode_media`.
    """
    if new_episodes is None:
        new_episodes = episodes
    healthy = [e for e in episodes if not e.episode_faulty]
    num_faulty = len(episodes) - len(healthy)
    rewards = [float(e.episode_reward) for e in healthy]
    lengths = [int(e.episode_length) for e in healthy]
    policy_rewards: Dict[str, List[float]] = collections.defaultdict(list)
    custom: Dict[str, List[Any]] = collections.defaultdict(list)
    perf: Dict[str, List[float]] = collections.defaultdict(list)
    hist: Dict[str, List[Any]] = collections.defaultdict(list)
    media: Dict[str, List[Any]] = collections.defaultdict(list)
    for episode in healthy:
        for (_, policy_id), reward in episode.agent_rewards.items():
            if policy_id != DEFAULT_POLICY_ID:
                policy_rewards[policy_id].append(float(reward))
        for key, value in episode.custom_metrics.items():
            custom[key].append(value)
        for key, value in episode.perf_stats.items():
            perf[key].append(float(value))
        for key, values in episode.hist_data.items():
            hist[key].extend(values)
        for key, value in episode.media.items():
            media[key].append(value)
    hist["episode_reward"] = rewards
    hist["episode_lengths"] = lengths
    for policy_id, values in policy_rewards.items():
        hist[f"policy_{policy_id}_reward"] = values
    custom_metrics: Dict[str, Any] = {}
    for key, values in custom.items():
        if keep_custom_metrics:
            custom_metrics[key] = values
            continue
        finite = [v for v in values if np.isfinite(v)]
        custom_metrics[f"{key}_mean"] = _stat(finite, np.mean)
        custom_metrics[f"{key}_min"] = _stat(finite, np.min)
        custom_metrics[f"{key}_max"] = _stat(finite, np.max)
    return {
        "episode_reward_max": _stat(rewards, max),
        "episode_reward_min": _stat(rewards, min),
        "episode_reward_mean": _stat(rewards, np.mean),
        "episode_len_mean": _stat(lengths, np.mean),
        "episode_media": dict(media),
        "episodes_this_iter": len(new_episodes),
        "policy_reward_min": {p: min(v) for p, v in policy_rewards.items()},
        "policy_reward_max": {p: max(v) for p, v in policy_rewards.items()},
        "policy_reward_mean": {p: float(np.mean(v)) for p, v in policy_rewards.items()},
        "custom_metrics": custom_metrics,
        "hist_stats": dict(hist),
        "sampler_perf": {k: float(np.mean(v)) for k, v in perf.items()},
        "num_faulty_episodes": num_faulty,
    }


def collect_episodes(worker_set: Any) -> List[RolloutMetrics]:
    """The episodes every worker of `worker_set` finished since it was last asked
    (`get_metrics()` of each, local worker first)."""
    episodes: List[RolloutMetrics] = []
    for metrics in worker_set.foreach_worker(lambda worker: worker.get_metrics()):
        episodes.extend(metrics)
    return episodes
