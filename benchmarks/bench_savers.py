"""Export time, load time, and the per-step cost of a served export against the in-process bridge.

The policy: a greedy CartPole-sized Q policy (observation [4], 2 actions, a
64x64 MLP), as in `bench_action.py`.

Per-step latency, numpy in and out. The floor is `PyTFEagerPolicy` on the
policy in this process; the case is `SavedModelPyTFEagerPolicy` on its
export (same weights, checked to give the same actions before timing):

- one unbatched step: <= 1.2x the floor;
- a batch of 256 (`batch_time_steps=False`): <= 1.2x the floor.

Timings are interleaved: every round times each case once, and each
figure is its median over the rounds.

Export and load, in seconds, a fresh policy per round (so every export
traces anew), medians over the rounds; the first export of the process is
reported on its own (it pays one-time costs inside TensorFlow):

- export: `PolicySaver(policy)` + `save(dir)`: faster than TF-Agents 0.19's
  `PolicySaver` on the same network. TF-Agents cannot be installed beside
  TensorFlow 2.21, so its time is a reference constant measured on this
  project's machine in a separate environment (see `TF_AGENTS_REFERENCE`
  and benchmarks/README.md), not in this run;
- `save_checkpoint`, load (`SavedModelPyTFEagerPolicy(path)`, which includes
  `savers.load`'s checks; shown with its ratio to TF-Agents' load) and
  `update_from_checkpoint`: reported, no target.

Run: `python benchmarks/bench_savers.py [--rounds N] [--calls N] [--exports N] [--quick]`.
"""

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from typing import Callable, Dict, List, NamedTuple, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from savers import PolicySaver, SavedModelPyTFEagerPolicy  # noqa: E402
from specs import BoundedTensorSpec, TensorSpec  # noqa: E402
from tfpolicy import time_step as ts  # noqa: E402
from tfpolicy.networks import QNetwork  # noqa: E402
from tfpolicy.policies import GreedyPolicy, PyTFEagerPolicy, QPolicy  # noqa: E402
from _timing import interleaved_medians  # noqa: E402  (benchmarks/ is on sys.path)

# TF-Agents 0.19.0 (TensorFlow 2.15.1, tensorflow-probability 0.23.0, Python 3.11.7) in a
# separate virtual environment on this project's 2-core machine, 2026-11-22, timed the same way
# as `measure_exports`: a fresh GreedyPolicy(QPolicy(QNetwork(fc_layer_params=(64, 64)))) per
# round, `PolicySaver(policy, batch_size=None)` then `save(dir)`; load is its
# `SavedModelPyTFEagerPolicy(dir, load_specs_from_pbtxt=True)`. Each figure is the median of
# three runs' medians (7 export rounds, 5 loads per run).
TF_AGENTS_REFERENCE = {"export": 0.52, "export, first in process": 0.70, "load": 0.16}
BATCH = 256


class LatencyCase(NamedTuple):
    name: str
    call: Callable[[], object]
    floor: str
    target: Optional[float]


def build_policy() -> GreedyPolicy:
    observation_spec = TensorSpec([4], tf.float32, "observation")
    action_spec = BoundedTensorSpec([], tf.int32, 0, 1, "action")
    q_network = QNetwork(observation_spec, action_spec, fc_layer_params=(64, 64))
    return GreedyPolicy(QPolicy(ts.time_step_spec(observation_spec), action_spec, q_network))


def _median_seconds(samples: Dict[str, List[float]]) -> Dict[str, float]:
    return {name: statistics.median(values) for name, values in samples.items() if values}


def measure_exports(root: str, exports: int) -> Dict[str, float]:
    """Median seconds of export, checkpoint, load and checkpoint push over fresh policies."""
    samples: Dict[str, List[float]] = {"export, first in process": [], "export": [],
                                       "save_checkpoint": [], "load": [],
                                       "update_from_checkpoint": []}
    for i in range(exports + 1):
        policy = build_policy()
        export_dir, checkpoint_dir = f"{root}/export_{i}", f"{root}/checkpoint_{i}"
        start = time.perf_counter()
        saver = PolicySaver(policy)
        saver.save(export_dir)
        exported = time.perf_counter()
        saver.save_checkpoint(checkpoint_dir)
        checkpointed = time.perf_counter()
        served = SavedModelPyTFEagerPolicy(export_dir)
        loaded = time.perf_counter()
        served.update_from_checkpoint(checkpoint_dir)
        pushed = time.perf_counter()
        samples["export, first in process" if i == 0 else "export"].append(exported - start)
        samples["save_checkpoint"].append(checkpointed - exported)
        samples["load"].append(loaded - checkpointed)
        samples["update_from_checkpoint"].append(pushed - loaded)
    return _median_seconds(samples)


def build_latency_cases(root: str) -> List[LatencyCase]:
    policy = build_policy()
    export_dir = f"{root}/served"
    PolicySaver(policy).save(export_dir)
    in_process = PyTFEagerPolicy(policy)
    in_process_batched = PyTFEagerPolicy(policy, batch_time_steps=False)
    served = SavedModelPyTFEagerPolicy(export_dir)
    served_batched = SavedModelPyTFEagerPolicy(export_dir, batch_time_steps=False)

    rng = np.random.default_rng(0)
    step = ts.restart(rng.normal(size=4).astype(np.float32))
    batch = ts.restart(rng.normal(size=(BATCH, 4)).astype(np.float32), batch_size=BATCH)
    # The served export must act as the policy it was made from before it is timed.
    assert int(served.action(step).action) == int(in_process.action(step).action)
    np.testing.assert_array_equal(served_batched.action(batch).action,
                                  in_process_batched.action(batch).action)
    floor_1 = "in-process PyTFEagerPolicy, unbatched"
    floor_b = f"in-process PyTFEagerPolicy, batch {BATCH}"
    return [
        LatencyCase(floor_1, lambda: in_process.action(step), floor_1, None),
        LatencyCase("SavedModelPyTFEagerPolicy, unbatched", lambda: served.action(step),
                    floor_1, 1.2),
        LatencyCase(floor_b, lambda: in_process_batched.action(batch), floor_b, None),
        LatencyCase(f"SavedModelPyTFEagerPolicy, batch {BATCH}",
                    lambda: served_batched.action(batch), floor_b, 1.2),
    ]


def measure_latency(cases: List[LatencyCase], rounds: int, calls: int) -> Dict[str, float]:
    """Median microseconds per call of each case over interleaved rounds."""
    return interleaved_medians({c.name: c.call for c in cases}, rounds,
                               {c.name: calls for c in cases})


def report(cases: List[LatencyCase], micros: Dict[str, float],
           seconds: Dict[str, float]) -> List[dict]:
    rows = []
    print(f"{'per step, numpy in/out':40s} {'median us':>10s} {'x floor':>8s} {'target':>7s}")
    for case in cases:
        ratio = micros[case.name] / micros[case.floor]
        met = case.target is None or ratio <= case.target
        target = "" if case.target is None else f"<={case.target}"
        verdict = "" if case.target is None else ("ok" if met else "MISS")
        print(f"{case.name:40s} {micros[case.name]:10.1f} {ratio:8.2f} {target:>7s} {verdict}")
        rows.append({"case": case.name, "value": micros[case.name], "unit": "us",
                     "versus": case.floor, "ratio": ratio, "target": case.target, "met": met})
    print()
    print(f"{'export and load, fresh policy per round':40s} {'median s':>10s} "
          f"{'x TF-Agents':>11s} {'target':>7s}")
    for name, value in seconds.items():
        reference = TF_AGENTS_REFERENCE.get(name)
        ratio = None if reference is None else value / reference
        target = 1.0 if name == "export" else None
        met = target is None or (ratio is not None and ratio < target)
        shown = "" if ratio is None else f"{ratio:11.2f}"
        verdict = "" if target is None else (" <1.0 ok" if met else " <1.0 MISS")
        print(f"{name:40s} {value:10.3f} {shown:>11s}{verdict}")
        rows.append({"case": name, "value": value, "unit": "s",
                     "versus": None if reference is None else "TF-Agents 0.19 PolicySaver "
                     f"(reference {reference:.2f} s)", "ratio": ratio, "target": target,
                     "met": met})
    print("(TF-Agents: a reference constant measured on this machine in a separate "
          "environment; see TF_AGENTS_REFERENCE)")
    return rows


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="latency rounds")
    parser.add_argument("--calls", type=int, default=400, help="calls per case per round")
    parser.add_argument("--exports", type=int, default=7,
                        help="export/load rounds after the first export of the process")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 round of 3 calls, 1 export round")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls, args.exports = 1, 3, 1
    print(f"tensorflow {tf.__version__}, numpy {np.__version__}, "
          f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus")
    root = tempfile.mkdtemp(prefix="bench_savers_")
    try:
        seconds = measure_exports(root, args.exports)
        cases = build_latency_cases(root)
        micros = measure_latency(cases, args.rounds, args.calls)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report(cases, micros, seconds)


if __name__ == "__main__":
    main()
