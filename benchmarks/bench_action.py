"""Per-step cost of a policy's `action`, as a ratio to its floor measured in the same run.

The policy: a greedy CartPole-sized Q policy (observation [4], 2 actions, a
64x64 MLP). The floor: a `tf.function` with a fixed input signature that runs
the same network weights and takes the argmax, called with one tensor.

Cases (each with the target it is held to):
- the action inside `tf.function`: a function with a fixed input signature
  over the time step that returns `policy.action(time_step).action`, the
  same output as the floor; batch 1 and batch 1024: <= 1.25x and <= 1.1x;
- `tf.function(policy.action)` returning the whole `PolicyStep`: reported,
  no target (the difference to the case above is `tf.function`'s own
  handling of the structured output);
- `PyTFEagerPolicy.action`, numpy in/out, one unbatched step: <= 1.5x;
- eager `policy.action`, batch 1 (compiled by default: a cached concrete
  function per input signature): <= 1.5x;
- eager `policy.action` with `run_eagerly = True` (op by op), batch 1:
  reported, no target;
- `LitePyPolicy.action` (the same policy converted to LiteRT, numpy in/out),
  unbatched and at batch 64, against their own floor: the LiteRT
  interpreter running the same network converted directly (observation in,
  argmax out) with bare `set_tensor`/`invoke`/`get_tensor` calls. Targets:
  unbatched <= 3x that floor and <= 20 us.

It also prints the number of operations in the traced graphs of the floor
and of the action: validation, clipping and state handling run at trace
time, so the action's graph is the floor's plus at most a few cheap ops.

Timings are interleaved: every round times each case once, and each case's
figure is its median over the rounds, so slow phases of a shared machine hit
all cases alike. Run: `python benchmarks/bench_action.py [--rounds N] [--calls N]`.
"""

import argparse
import os
import platform
from typing import Callable, Dict, List, NamedTuple, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from specs import BoundedTensorSpec, TensorSpec  # noqa: E402
from tfpolicy import time_step as ts  # noqa: E402
from tfpolicy.networks import QNetwork  # noqa: E402
from tfpolicy.policies import GreedyPolicy, PyTFEagerPolicy, QPolicy  # noqa: E402
from _floors import lite_argmax  # noqa: E402  (benchmarks/ is on sys.path)
from _timing import interleaved_medians  # noqa: E402


class Case(NamedTuple):
    name: str
    call: Callable[[], object]
    floor: str
    target: Optional[float]
    max_us: Optional[float] = None  # an absolute target, for the microsecond paths


def lite_cases(policy: GreedyPolicy, q_network: QNetwork) -> List[Case]:
    from savers.lite_py_policy import LitePyPolicy

    rng = np.random.default_rng(1)
    unbatched = LitePyPolicy.from_policy(policy)
    batched = LitePyPolicy.from_policy(policy, batch_time_steps=False)
    step_1 = ts.restart(rng.normal(size=4).astype(np.float32))
    step_64 = ts.restart(rng.normal(size=(64, 4)).astype(np.float32), batch_size=64)
    # Greedy actions must be the TF policy's before anything is timed.
    expected = policy.action(ts.restart(tf.constant(step_64.observation), batch_size=64))
    np.testing.assert_array_equal(batched.action(step_64).action, expected.action.numpy())
    floor_1, floor_64 = lite_argmax(q_network, 1), lite_argmax(q_network, 64)
    observation_1 = step_1.observation[None]
    return [
        Case("LiteRT floor, batch 1", lambda: floor_1(observation_1), "LiteRT floor, batch 1",
             None),
        Case("LiteRT floor, batch 64", lambda: floor_64(step_64.observation),
             "LiteRT floor, batch 64", None),
        Case("LitePyPolicy, numpy, unbatched", lambda: unbatched.action(step_1),
             "LiteRT floor, batch 1", 3.0, 20.0),
        Case("LitePyPolicy, numpy, batch 64", lambda: batched.action(step_64),
             "LiteRT floor, batch 64", None),
    ]


def build_cases() -> List[Case]:
    observation_spec = TensorSpec([4], tf.float32, "observation")
    action_spec = BoundedTensorSpec([], tf.int32, 0, 1, "action")
    time_step_spec = ts.time_step_spec(observation_spec)
    q_network = QNetwork(observation_spec, action_spec, fc_layer_params=(64, 64))
    policy = GreedyPolicy(QPolicy(time_step_spec, action_spec, q_network))

    @tf.function(input_signature=[TensorSpec([None, 4], tf.float32)])
    def floor(observation: tf.Tensor) -> tf.Tensor:
        q_values, _ = q_network(observation)
        return tf.argmax(q_values, axis=-1, output_type=tf.int32)

    batched_signature = tf.nest.map_structure(
        lambda s: TensorSpec([None] + s.shape.as_list(), s.dtype), time_step_spec)

    @tf.function(input_signature=[batched_signature])
    def action_fn(time_step: ts.TimeStep) -> tf.Tensor:
        return policy.action(time_step).action

    policy_step_fn = tf.function(policy.action)

    rng = np.random.default_rng(0)
    obs_1 = tf.constant(rng.normal(size=(1, 4)), tf.float32)
    obs_1024 = tf.constant(rng.normal(size=(1024, 4)), tf.float32)
    step_1 = ts.restart(obs_1, batch_size=1)
    step_1024 = ts.restart(obs_1024, batch_size=1024)
    py_policy = PyTFEagerPolicy(policy)
    op_by_op = GreedyPolicy(QPolicy(time_step_spec, action_spec, q_network))
    op_by_op.run_eagerly = True
    py_step = ts.restart(rng.normal(size=4).astype(np.float32))

    # The cases must agree with their floor before they are timed.
    np.testing.assert_array_equal(action_fn(step_1024).numpy(), floor(obs_1024).numpy())
    np.testing.assert_array_equal(policy_step_fn(step_1).action.numpy(), floor(obs_1).numpy())
    assert int(py_policy.action(py_step).action) == int(floor(py_step.observation[None])[0])
    for eager in (policy, op_by_op):
        np.testing.assert_array_equal(eager.action(step_1).action.numpy(), floor(obs_1).numpy())
    print(f"graph ops: floor {len(floor.get_concrete_function().graph.get_operations())}, "
          f"action {len(action_fn.get_concrete_function().graph.get_operations())}")

    return [
        Case("floor, batch 1", lambda: floor(obs_1), "floor, batch 1", None),
        Case("floor, batch 1024", lambda: floor(obs_1024), "floor, batch 1024", None),
        Case("tf.function action, batch 1", lambda: action_fn(step_1), "floor, batch 1", 1.25),
        Case("tf.function action, batch 1024", lambda: action_fn(step_1024),
             "floor, batch 1024", 1.1),
        Case("tf.function(policy.action), batch 1", lambda: policy_step_fn(step_1),
             "floor, batch 1", None),
        Case("PyTFEagerPolicy, numpy, unbatched", lambda: py_policy.action(py_step),
             "floor, batch 1", 1.5),
        Case("eager action, batch 1", lambda: policy.action(step_1), "floor, batch 1", 1.5),
        Case("eager action, run_eagerly, batch 1", lambda: op_by_op.action(step_1),
             "floor, batch 1", None),
    ] + lite_cases(policy, q_network)


def measure(cases: List[Case], rounds: int, calls: int) -> Dict[str, float]:
    """Median microseconds per call of each case over interleaved rounds (eager: fewer calls)."""
    def calls_for(case: Case) -> int:
        if "run_eagerly" in case.name:
            return max(1, calls // 20)
        return calls * 25 if "Lite" in case.name else calls  # microsecond calls

    return interleaved_medians({c.name: c.call for c in cases}, rounds,
                               {c.name: calls_for(c) for c in cases})


def report(cases: List[Case], micros: Dict[str, float]) -> List[dict]:
    rows = []
    print(f"{'case':36s} {'median us':>10s} {'x floor':>8s} {'target':>7s}")
    for case in cases:
        us = micros[case.name]
        ratio = us / micros[case.floor]
        met = ((case.target is None or ratio <= case.target)
               and (case.max_us is None or us <= case.max_us))
        verdict = "" if case.target is None else ("ok" if met else "MISS")
        target = "" if case.target is None else f"<={case.target}"
        if case.max_us is not None:
            target += f", <={case.max_us:g}us"
        print(f"{case.name:36s} {us:10.1f} {ratio:8.2f} {target:>7s} {verdict}")
        rows.append({"case": case.name, "us": us, "ratio": ratio, "target": case.target,
                     "max_us": case.max_us, "met": met})
    return rows


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args(argv)
    print(f"tensorflow {tf.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} cpus")
    cases = build_cases()
    return report(cases, measure(cases, args.rounds, args.calls))


if __name__ == "__main__":
    main()
