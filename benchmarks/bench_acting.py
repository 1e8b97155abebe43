"""The learning policy's LiteRT acting path, as ratios to floors measured in the same run.

The policy: `build_tf_policy` with the default model, `fcnet_hiddens=[64, 64]`
(policy and value branches), on CartPole-sized data (observation [4], 2
actions), `acting_runtime="lite"`.

Cases:
- a Python loop of `compute_single_action(obs, explore=False)`: at most
  about 20 us per call (the issue's target), against two floors:
  `lite_floor`, a bare interpreter call (`set_tensor`/`invoke`/`get_tensor`)
  of a 64x64 Q network converted directly (`_floors.lite_argmax`, the floor
  of the other benchmarks), and `own_floor`, the bare calls of the policy's
  own `action` subgraph (observation in, its outputs out) without any of
  the policy's Python;
- `Algorithm.compute_single_action(obs)` of a PPO on CartPole-v1 (greedy),
  the loop the issue measures against SB3's `predict` (about 215 us here):
  at most about 20 us;
- the same with `explore=True` (sampling in numpy), with `EpsilonGreedy`
  exploration, and `compute_actions` on a batch of 8;
- the TensorFlow runtime's `compute_single_action` on the same policy, for
  comparison;
- the weight refresh after an update (reading the variables and running the
  `set_weights` signature once) against a re-conversion (`LiteActor(policy)`).

Timings are interleaved (`_timing.interleaved_medians`). Run:
`python benchmarks/bench_acting.py [--rounds N] [--quick]`.
"""

import argparse
import os
import platform
import statistics
import time
from typing import Callable, Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from _floors import lite_argmax  # noqa: E402  (benchmarks/ is on sys.path)
from _timing import interleaved_medians  # noqa: E402
from specs import ArraySpec, BoundedArraySpec, TensorSpec  # noqa: E402
from tfpolicy.learning import build_tf_policy  # noqa: E402
from tfpolicy.learning.lite_acting import LiteActor  # noqa: E402
from tfpolicy.networks import QNetwork  # noqa: E402

CONFIG = {"model": {"fcnet_hiddens": [64, 64]}, "acting_runtime": "lite", "seed": 0}
OBS_SPEC = ArraySpec((4,), np.float32, "obs")
ACTION_SPEC = BoundedArraySpec((), np.int64, 0, 1, "action")
TARGET_US = 20.0

BenchPolicy = build_tf_policy(name="BenchActingPolicy",
                              loss_fn=lambda policy, model, dist_class, batch: 0.0)


def own_floor(actor: LiteActor) -> Callable[[], None]:
    """The bare calls of the policy's `action` subgraph at batch 1."""
    sized = actor._interpreter(1)
    subgraph, (index,), outputs = actor._action_subgraph, actor._inputs, actor._outputs
    set_tensor, invoke, get_tensor = sized.set_tensor, sized.invoke, sized.get_tensor
    x = np.zeros((1, 4), np.float32)

    def call() -> None:
        set_tensor(index, x, subgraph)
        invoke(subgraph)
        for out in outputs:
            get_tensor(out, subgraph)

    return call


def seconds(fn: Callable[[], object], repeats: int) -> float:
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        values.append(time.perf_counter() - start)
    return statistics.median(values)


def main(argv: Optional[List[str]] = None) -> List[Dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds")
    args = parser.parse_args(argv)
    rounds, calls, tf_calls, refreshes, conversions = (
        (2, 200, 20, 20, 1) if args.quick else (args.rounds, 2000, 100, 200, 3))
    print(f"tensorflow {tf.__version__}, numpy {np.__version__}, python "
          f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus")
    tf.random.set_seed(0)
    policy = BenchPolicy(OBS_SPEC, ACTION_SPEC, CONFIG)
    greedy_policy = BenchPolicy(OBS_SPEC, ACTION_SPEC, dict(CONFIG, exploration_config={
        "type": "EpsilonGreedy", "initial_epsilon": 0.1, "final_epsilon": 0.1}))
    tf_policy = BenchPolicy(OBS_SPEC, ACTION_SPEC, dict(CONFIG, acting_runtime="tf"))
    tf_policy.set_weights(policy.get_weights())
    greedy_policy.set_weights(policy.get_weights())
    if policy.acting_runtime != "lite":
        raise SystemExit(f"the policy does not act through LiteRT: "
                         f"{policy.acting_fallback_reason}")
    single = np.zeros(4, np.float32)
    batch = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    lite_action = policy.compute_single_action(single, explore=False)[0]
    if lite_action != tf_policy.compute_single_action(single, explore=False)[0]:
        raise AssertionError("the LiteRT and TensorFlow runtimes disagree")
    actor = policy._lite_actor
    q_network = QNetwork(TensorSpec([4], tf.float32), BoundedArraySpec((), np.int64, 0, 1),
                         fc_layer_params=(64, 64))
    floor = lite_argmax(q_network, 1)
    own = own_floor(actor)
    floor_obs = single[None]
    from tfpolicy.algorithms import PPO
    algo = PPO(config={"env": "CartPole-v1", "seed": 0, "model": {"fcnet_hiddens": [64, 64]}})

    cases = {
        "lite_floor": lambda: floor(floor_obs),
        "own_floor": own,
        "greedy": lambda: policy.compute_single_action(single, explore=False),
        "sample": lambda: policy.compute_single_action(single, explore=True),
        "epsilon": lambda: greedy_policy.compute_single_action(single, explore=True),
        "batch8": lambda: policy.compute_actions(batch, explore=True),
        "algorithm": lambda: algo.compute_single_action(single),
    }
    act = interleaved_medians(cases, rounds, {name: calls for name in cases})
    tf_act = interleaved_medians(
        {"tf": lambda: tf_policy.compute_single_action(single, explore=False)},
        max(1, rounds // 3), {"tf": tf_calls})

    def refresh() -> None:
        policy._weights_version += 1  # as after an update
        actor.refresh()

    refresh_us = seconds(lambda: [refresh() for _ in range(refreshes)], 3) / refreshes * 1e6
    convert_s = seconds(lambda: LiteActor(policy), conversions)

    base = act["lite_floor"]
    rows: List[Dict[str, object]] = [
        {"case": "lite_floor: bare interpreter, 64x64 Q network", "unit": "us",
         "value": base, "ratio": 1.0, "target": None},
        {"case": "own_floor: bare calls of the policy's subgraph", "unit": "us",
         "value": act["own_floor"], "ratio": act["own_floor"] / base, "target": None},
        {"case": "compute_single_action(explore=False), LiteRT", "unit": "us",
         "value": act["greedy"], "ratio": act["greedy"] / base, "target": TARGET_US},
        {"case": "compute_single_action(explore=True), LiteRT", "unit": "us",
         "value": act["sample"], "ratio": act["sample"] / base, "target": TARGET_US},
        {"case": "compute_single_action, EpsilonGreedy, LiteRT", "unit": "us",
         "value": act["epsilon"], "ratio": act["epsilon"] / base, "target": TARGET_US},
        {"case": "PPO.compute_single_action(obs) (greedy), LiteRT", "unit": "us",
         "value": act["algorithm"], "ratio": act["algorithm"] / base, "target": TARGET_US},
        {"case": "compute_actions(batch of 8, explore=True), LiteRT", "unit": "us",
         "value": act["batch8"], "ratio": act["batch8"] / base, "target": None},
        {"case": "compute_single_action(explore=False), TF runtime", "unit": "us",
         "value": tf_act["tf"], "ratio": tf_act["tf"] / base, "target": None},
        {"case": "weight refresh (variables read + set_weights)", "unit": "us",
         "value": refresh_us, "ratio": None, "target": None},
        {"case": "re-conversion (LiteActor(policy))", "unit": "ms",
         "value": convert_s * 1e3, "ratio": None, "target": None},
    ]
    print(f"{'case':52s} {'median':>10s} {'x floor':>8s}  target")
    for row in rows:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        verdict = ""
        if row["target"] is not None:
            verdict = f"<={row['target']:.0f}us " + ("ok" if row["value"] <= row["target"]
                                                      else "MISS")
        print(f"{row['case']:52s} {row['value']:8.2f}{row['unit']:>2s} {ratio:>8s}  {verdict}")
    print(f"refresh / re-conversion: {refresh_us / (convert_s * 1e6):.2e}")
    algo.stop()
    return rows


if __name__ == "__main__":
    main()
