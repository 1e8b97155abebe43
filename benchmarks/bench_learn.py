"""The learning policy's hot paths, as ratios to floors measured in the same run.

The policy: RLlib's documented policy-gradient loss built with
`build_tf_policy`, the default model with `fcnet_hiddens=[256, 256]` and
tanh, on CartPole-sized data (observation [4], 2 actions).

Cases (each with the target it is held to):
- `learn_on_batch` on a 4,000-row batch (numpy columns in, stats out)
  against a bare `tf.function` training step with a fixed input signature
  that runs the same forward pass (a model of the same architecture), the
  same loss, backward pass and Adam update on the same arrays: <= 1.2x;
- `compute_single_action(obs, explore=False)` against
  `PyTFEagerPolicy(policy.as_tf_policy()).action` on the same observation,
  unbatched: <= 1.3x;
- `get_weights`, `set_weights`, `export_checkpoint`, `Policy.from_checkpoint`:
  times reported, no target.

Timings are interleaved (`_timing.interleaved_medians`). Run:
`python benchmarks/bench_learn.py [--rounds N] [--quick]`.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from _timing import interleaved_medians  # noqa: E402  (benchmarks/ is on sys.path)
from specs import ArraySpec, BoundedArraySpec  # noqa: E402
from tfpolicy.learning import Policy, SampleBatch, build_tf_policy  # noqa: E402
from tfpolicy.policies import PyTFEagerPolicy  # noqa: E402
from tfpolicy.trajectories import time_step as ts  # noqa: E402

ROWS = 4000
CONFIG = {"lr": 0.001, "model": {"fcnet_hiddens": [256, 256], "fcnet_activation": "tanh"}}
OBS_SPEC = ArraySpec((4,), np.float32, "obs")
ACTION_SPEC = BoundedArraySpec((), np.int64, 0, 1, "action")


def policy_gradient_loss(policy, model, dist_class, train_batch):
    """RLlib's documented loss: -mean(log pi(a|s) * advantages)."""
    logits, _ = model.from_batch(train_batch)
    return -tf.reduce_mean(dist_class(logits, model).logp(train_batch["actions"])
                           * train_batch["advantages"])


BenchPolicy = build_tf_policy(name="BenchPolicy", loss_fn=policy_gradient_loss)


def make_batch(rows: int, seed: int = 0) -> SampleBatch:
    rng = np.random.default_rng(seed)
    return SampleBatch({
        "obs": rng.normal(size=(rows, 4)).astype(np.float32),
        "actions": rng.integers(0, 2, rows).astype(np.int64),
        "rewards": np.ones(rows, np.float32),
        "advantages": rng.normal(size=rows).astype(np.float32),
    })


def floor_step(policy: Policy) -> Callable[..., tf.Tensor]:
    """The bare training step: fixed signature, same forward, loss, backward and Adam."""
    model = policy.model
    variables = model.trainable_variables()
    optimizer = tf.keras.optimizers.Adam(learning_rate=CONFIG["lr"])

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32),
                                  tf.TensorSpec([None], tf.int64),
                                  tf.TensorSpec([None], tf.float32)], autograph=False)
    def step(obs: tf.Tensor, actions: tf.Tensor, advantages: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            logits, _ = model({"obs": obs}, [], None)
            logp = -tf.nn.sparse_softmax_cross_entropy_with_logits(actions, logits)
            loss = -tf.reduce_mean(logp * advantages)
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return loss

    return step


def seconds(fn: Callable[[], object], repeats: int) -> float:
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        values.append(time.perf_counter() - start)
    return statistics.median(values)


def main(argv: Optional[List[str]] = None) -> List[Dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds and rows")
    args = parser.parse_args(argv)
    rounds, rows, learn_calls, act_calls, repeats = (
        (1, 256, 1, 5, 1) if args.quick else (args.rounds, ROWS, 4, 300, 5))
    print(f"tensorflow {tf.__version__}, numpy {np.__version__}, python "
          f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus")
    tf.random.set_seed(0)
    policy = BenchPolicy(OBS_SPEC, ACTION_SPEC, CONFIG)
    floor_policy = BenchPolicy(OBS_SPEC, ACTION_SPEC, CONFIG)
    floor = floor_step(floor_policy)
    batch = make_batch(rows)
    obs, actions, advantages = batch["obs"], batch["actions"], batch["advantages"]
    bridge = PyTFEagerPolicy(policy.as_tf_policy(explore=False))
    single = np.zeros(4, np.float32)
    time_step = ts.restart(single)
    if policy.compute_single_action(single, explore=False)[0] != bridge.action(time_step).action:
        raise AssertionError("compute_single_action and the TF-Agents view disagree")

    learn = interleaved_medians(
        {"floor": lambda: floor(obs, actions, advantages),
         "learn": lambda: policy.learn_on_batch(batch)},
        rounds, {"floor": learn_calls, "learn": learn_calls}, warmup=2)
    act = interleaved_medians(
        {"floor": lambda: bridge.action(time_step),
         "single": lambda: policy.compute_single_action(single, explore=False)},
        rounds, {"floor": act_calls, "single": act_calls})
    rows_out: List[Dict[str, object]] = [
        {"case": f"bare tf.function train step, {rows} rows", "unit": "ms",
         "value": learn["floor"] / 1e3, "ratio": 1.0, "target": None},
        {"case": f"learn_on_batch, {rows} rows", "unit": "ms", "value": learn["learn"] / 1e3,
         "ratio": learn["learn"] / learn["floor"], "target": 1.2},
        {"case": "PyTFEagerPolicy(as_tf_policy()).action, unbatched", "unit": "us",
         "value": act["floor"], "ratio": 1.0, "target": None},
        {"case": "compute_single_action, unbatched", "unit": "us", "value": act["single"],
         "ratio": act["single"] / act["floor"], "target": 1.3},
    ]
    weights = policy.get_weights()
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "checkpoint")
        for case, fn in (("get_weights", policy.get_weights),
                         ("set_weights", lambda: policy.set_weights(weights)),
                         ("export_checkpoint", lambda: policy.export_checkpoint(path)),
                         ("Policy.from_checkpoint", lambda: Policy.from_checkpoint(path))):
            rows_out.append({"case": case, "unit": "ms", "value": seconds(fn, repeats) * 1e3,
                             "ratio": None, "target": None})
    print(f"{'case':50s} {'median':>10s} {'x floor':>8s}  target")
    for row in rows_out:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        verdict = ""
        if row["target"] is not None:
            verdict = f"<={row['target']} " + ("ok" if row["ratio"] <= row["target"] else "MISS")
        print(f"{row['case']:50s} {row['value']:8.2f}{row['unit']:>2s} {ratio:>8s}  {verdict}")
    return rows_out


if __name__ == "__main__":
    main()
