"""Parameter sharing on a PettingZoo environment: every agent acts with one PPO policy.

MPE's `simple_spread` (the `mpe2` package, PettingZoo's Parallel API): `N`
agents (3 by default) must cover `N` landmarks. Each step an agent is
rewarded with minus the sum, over the landmarks, of the distance to the
nearest agent (shared by all) and penalised for its collisions; it observes
its own velocity and position, the landmarks' and the other agents'
relative positions (`Box(6N,)`) and moves with `Discrete(5)` (stay, left,
right, down, up). An episode lasts `max_cycles` steps (25).

The env is wrapped by `ParallelPettingZooEnv` and registered under
`"simple_spread"` with `register_env`. The config has one policy,
`"shared"`, and `policy_mapping_fn` sends every agent to it, so each
iteration's batch holds the rows of all the agents under that one policy
(their `agent_index` tells them apart) and PPO learns one set of weights
from all of them.

`train` returns the shared policy's mean return per agent and episode
(`policy_reward_mean["shared"]`) for every iteration; `main` prints them
and whether the last iterations improved on the first ones.

Run: `python examples/pettingzoo_parameter_sharing.py [--iterations N] [--agents N]
[--seed S]` (needs `pip install mpe2`).
"""

import argparse
import sys
import time
from typing import Any, Callable, Dict, List, Optional

from tfpolicy.cli import quiet_tensorflow

quiet_tensorflow()  # TensorFlow's log level, and its start-up lines filtered, before it loads

import numpy as np  # noqa: E402

from tfpolicy.algorithms.ppo import PPO  # noqa: E402
from tfpolicy.evaluation import ParallelPettingZooEnv, PolicySpec, register_env  # noqa: E402

ENV_NAME = "simple_spread"
SHARED = "shared"


def env_creator(env_config: Dict[str, Any]) -> ParallelPettingZooEnv:
    """`simple_spread_v3.parallel_env(**env_config)` as a `MultiAgentEnv`."""
    from mpe2 import simple_spread_v3  # the optional dependency, imported when an env is built

    return ParallelPettingZooEnv(simple_spread_v3.parallel_env(**env_config))


register_env(ENV_NAME, env_creator)


def shared_policy(agent_id: str, episode: Any, worker: Any = None, **kwargs: Any) -> str:
    """The policy mapping function: every agent acts with the one shared policy."""
    return SHARED


def make_config(seed: int = 0, num_agents: int = 3, max_cycles: int = 25, lr: float = 0.001,
                train_batch_size: int = 2000, num_envs: int = 4) -> Dict[str, Any]:
    """The PPO config: one policy for all the agents.

    An iteration samples `train_batch_size` environment steps
    (`train_batch_size * num_agents` rows, all for `"shared"`) from `num_envs`
    environments and makes 10 passes of SGD over them in minibatches of 512
    rows (fewer for a smaller batch; the agents' rows shuffled together); the
    result's metrics cover that iteration's episodes.
    """
    return {
        "env": ENV_NAME,
        "env_config": {"N": num_agents, "max_cycles": max_cycles, "continuous_actions": False},
        "seed": seed,
        "lr": lr,
        "gamma": 0.95,
        "lambda": 0.95,
        "entropy_coeff": 0.01,
        "train_batch_size": train_batch_size,
        "rollout_fragment_length": "auto",
        "num_envs_per_worker": num_envs,
        "num_sgd_iter": 10,
        "sgd_minibatch_size": min(512, train_batch_size),  # PPO: at most the batch
        "model": {"fcnet_hiddens": [64, 64]},
        "metrics_num_episodes_for_smoothing": max(1, train_batch_size // max_cycles),
        "multiagent": {
            "policies": {SHARED: PolicySpec()},
            "policy_mapping_fn": shared_policy,
        },
    }


def train(iterations: int = 30, seed: int = 0, log: Callable[[str], None] = print,
          **config: Any) -> Dict[str, Any]:
    """Trains the shared policy for `iterations` iterations.

    Args:
      iterations: the `train()` calls.
      seed: the config's seed.
      log: called with one line per iteration.
      **config: passed to `make_config`.

    Returns:
      `{"algo": the PPO algorithm, "returns": [the shared policy's mean return
      per agent and episode, per iteration], "seconds": wall time}`.
    """
    start = time.perf_counter()
    algo = PPO(make_config(seed=seed, **config))
    returns: List[float] = []
    for _ in range(iterations):
        result = algo.train()
        returns.append(float(result["policy_reward_mean"][SHARED]))
        log(f"iteration {result['training_iteration']:3d}  env steps "
            f"{result['timesteps_total']:6d}  agent steps {result['num_agent_steps_sampled']:6d}  "
            f"mean return per agent {returns[-1]:7.2f}  {time.perf_counter() - start:5.1f} s")
    return {"algo": algo, "returns": returns, "seconds": time.perf_counter() - start}


def improvement(returns: List[float], window: int = 3) -> float:
    """The mean of the last `window` returns minus the mean of the first `window`.

    >>> improvement([-30.0, -28.0, -29.0, -25.0, -21.0, -20.0, -19.0])
    9.0
    """
    return float(np.mean(returns[-window:]) - np.mean(returns[:window]))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--margin", type=float, default=3.0,
                        help="improvement of the mean return per agent that counts as learning")
    args = parser.parse_args(argv)
    run = train(args.iterations, args.seed, num_agents=args.agents)
    run["algo"].stop()
    gain = improvement(run["returns"])
    window = min(3, len(run["returns"]))
    print(f"mean return per agent: first {window} iterations "
          f"{np.mean(run['returns'][:window]):.2f}, last {window} "
          f"{np.mean(run['returns'][-window:]):.2f} ({gain:+.2f}), {run['seconds']:.1f} s")
    return 0 if gain >= args.margin else 1


if __name__ == "__main__":
    sys.exit(main())
