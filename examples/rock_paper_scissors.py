"""RLlib's "heuristic vs learned" rock-paper-scissors: a PG policy learns to beat two heuristics.

`player1` acts with the policy `"learned"` (`PGTFPolicy`, trained by `PG`);
`player2` acts, episode by episode, with one of two fixed policies that do
not learn (`tfpolicy.examples.rock_paper_scissors`):

- `"always_same"` draws a move at the start of the episode and plays it every round;
- `"beat_last"` plays the move that beats `player1`'s previous move.

`policy_mapping_fn` picks the heuristic from the episode id's parity
(episode ids are drawn from the seed, so the choice is a coin flip that
repeats with the seed), and `policies_to_train=["learned"]`.

Each player observes only the opponent's previous move, so the learned
policy needs memory. Against `always_same` it beats the move it saw last;
against `beat_last`, which plays `beats(a_{t-1})` where `a_{t-1}` is the
learner's previous move, it must play `beats(beats(a_{t-1}))` (`a_{t-1} - 1`
mod 3), which depends on its own previous move, and it must first tell
the two opponents apart from the moves it has seen. So the model is an LSTM
(`use_lstm`) fed the previous action and reward too
(`lstm_use_prev_action`, `lstm_use_prev_reward`).

`gamma` is 0: a round's reward depends on that round's two moves only, and
whatever the learner plays it can win the next round against either
heuristic, so the myopic best response is the best policy. The policy
gradient then weighs each move by its own round's reward (+1, 0 or -1)
instead of a noisy sum over the rounds after it. With `gamma=0.9` learning
against `beat_last` is slower and can stall: at seed 0 the return against
it stays at +4.0 from iteration 30 to 60 (with `gamma=0` it passes +6 at
iteration 36).

`train` runs until the learned policy's mean return per episode (rounds won
minus rounds lost, of 10) reaches `target` against each heuristic, read from
the result dict: the game is zero-sum, so it is minus the heuristic's
`policy_reward_mean`. `win_rates` then plays fresh episodes with the greedy
learned policy and reports, per heuristic, the share of episodes the
learned policy won (more rounds won than lost), drew and lost.

Run: `python examples/rock_paper_scissors.py [--iterations N] [--target R]
[--seed S] [--episodes E]`.
"""

import argparse
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from tfpolicy.cli import quiet_tensorflow

quiet_tensorflow()  # TensorFlow's log level, and its start-up lines filtered, before it loads

import numpy as np  # noqa: E402

from tfpolicy.algorithms.pg import PG, PGTFPolicy  # noqa: E402
from tfpolicy.evaluation import PolicySpec  # noqa: E402
from tfpolicy.examples import (AlwaysSameHeuristic, BeatLastHeuristic,  # noqa: E402
                               RockPaperScissors)

LEARNED = "learned"
HEURISTICS = ("always_same", "beat_last")
LEARNER, OPPONENT = RockPaperScissors.PLAYERS


def select_policy(agent_id: str, episode: Any, worker: Any = None, **kwargs: Any) -> str:
    """The policy mapping function: `player1` learns; `player2` plays the heuristic
    `HEURISTICS[episode.episode_id % 2]` for the whole episode."""
    if agent_id == LEARNER:
        return LEARNED
    return HEURISTICS[episode.episode_id % 2]


def make_config(seed: int = 0, num_rounds: int = 10, lr: float = 0.01,
                train_batch_size: int = 1000, num_envs: int = 10) -> Dict[str, Any]:
    """The PG config: three policies, the mapping function, only `"learned"` trains.

    Each sample steps `num_envs` games `num_rounds` rounds, whole episodes; an
    iteration learns on `train_batch_size` rounds (`train_batch_size /
    num_rounds` episodes, about half against each heuristic), and the
    result's metrics cover that iteration's episodes.
    """
    learned_model = {"use_lstm": True, "lstm_use_prev_action": True,
                     "lstm_use_prev_reward": True, "lstm_cell_size": 64,
                     "fcnet_hiddens": [32], "max_seq_len": num_rounds}
    return {
        "env": RockPaperScissors,
        "env_config": {"num_rounds": num_rounds},
        "seed": seed,
        "gamma": 0.0,
        "lr": lr,
        "num_envs_per_worker": num_envs,
        "rollout_fragment_length": num_rounds,
        "train_batch_size": train_batch_size,
        "metrics_num_episodes_for_smoothing": max(1, train_batch_size // num_rounds),
        "evaluation_config": {"num_envs_per_worker": num_envs},
        "multiagent": {
            "policies": {
                LEARNED: PolicySpec(PGTFPolicy, config={"model": learned_model}),
                "always_same": PolicySpec(AlwaysSameHeuristic),
                "beat_last": PolicySpec(BeatLastHeuristic),
            },
            "policy_mapping_fn": select_policy,
            "policies_to_train": [LEARNED],
        },
    }


def learned_rewards(result: Mapping[str, Any]) -> Dict[str, float]:
    """The learned policy's mean return per episode against each heuristic, from a
    result dict: minus the heuristic's `policy_reward_mean` (the game is zero-sum).
    A heuristic that played no episode is left out."""
    means = result["policy_reward_mean"]
    return {h: -float(means[h]) for h in HEURISTICS if h in means}


def train(iterations: int = 100, target: float = 6.0, seed: int = 0,
          log: Callable[[str], None] = print, **config: Any) -> Dict[str, Any]:
    """Trains until the learned policy's mean return reaches `target` against each heuristic.

    Args:
      iterations: the most `train()` calls.
      target: the mean return per episode (rounds won minus rounds lost) to
        reach against both heuristics in one iteration.
      seed: the config's seed.
      log: called with one line per iteration.
      **config: passed to `make_config`.

    Returns:
      `{"algo": the PG algorithm, "rewards": [learned_rewards(result) per
      iteration], "beaten_at": the iteration that reached `target` (None if
      none did), "seconds": wall time}`.
    """
    start = time.perf_counter()
    algo = PG(make_config(seed=seed, **config))
    rewards: List[Dict[str, float]] = []
    beaten_at = None
    for _ in range(iterations):
        result = algo.train()
        rewards.append(learned_rewards(result))
        log(f"iteration {result['training_iteration']:3d}  learned return against "
            + "  ".join(f"{h} {rewards[-1].get(h, float('nan')):+5.2f}" for h in HEURISTICS)
            + f"  {time.perf_counter() - start:5.1f} s")
        if all(rewards[-1].get(h, -np.inf) >= target for h in HEURISTICS):
            beaten_at = result["training_iteration"]
            break
    return {"algo": algo, "rewards": rewards, "beaten_at": beaten_at,
            "seconds": time.perf_counter() - start}


def win_rates(algo: PG, num_episodes: int = 100, explore: bool = False
              ) -> Dict[str, Dict[str, float]]:
    """Plays `num_episodes` fresh episodes and tallies them by heuristic.

    The episodes run on the local worker's evaluation environments
    (`sample_episodes`), the learned policy acting greedily unless `explore`.
    An episode is a win for the learned policy when it won more rounds than
    it lost (its return is positive), a loss when negative, a draw at 0.

    Returns:
      `{heuristic: {"win": share, "draw": share, "loss": share,
      "mean_return": the learned policy's mean return, "episodes": count}}`.
    """
    returns: Dict[str, List[float]] = {h: [] for h in HEURISTICS}
    for episode in algo.workers.local_worker().sample_episodes(num_episodes, explore=explore):
        opponent = next(pid for (agent, pid) in episode.agent_rewards if agent == OPPONENT)
        returns[opponent].append(episode.agent_rewards[(LEARNER, LEARNED)])
    rates = {}
    for heuristic, values in returns.items():
        values = np.asarray(values, np.float64)
        count = max(len(values), 1)
        rates[heuristic] = {"win": float(np.sum(values > 0)) / count,
                            "draw": float(np.sum(values == 0)) / count,
                            "loss": float(np.sum(values < 0)) / count,
                            "mean_return": float(values.mean()) if len(values) else float("nan"),
                            "episodes": int(len(values))}
    return rates


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--target", type=float, default=6.0,
                        help="mean return per episode to reach against each heuristic")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=200,
                        help="fresh episodes for the win rates")
    args = parser.parse_args(argv)
    run = train(args.iterations, args.target, args.seed)
    rates = win_rates(run["algo"], args.episodes)
    for heuristic, rate in rates.items():
        print(f"against {heuristic:11s}  won {rate['win']:6.1%}  drew {rate['draw']:6.1%}  "
              f"lost {rate['loss']:6.1%}  mean return {rate['mean_return']:+5.2f}  "
              f"({rate['episodes']} episodes)")
    run["algo"].stop()
    if run["beaten_at"] is None:
        print(f"target {args.target} not reached against both heuristics in "
              f"{args.iterations} iterations")
        return 1
    print(f"beat both heuristics at iteration {run['beaten_at']}, {run['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
