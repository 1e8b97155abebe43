"""Cost of the replay path of DQN: adding to and sampling from the replay buffers.

The data: CartPole-sized DQN rows as the sampler and DQN's postprocessing
produce them (14 columns: `obs`/`new_obs` [4] float32, actions, rewards,
flags, ids, the Q values as `action_dist_inputs` [2], `weights`, ...), in a
buffer of 100k rows (SB3's DQN buffer on CartPole), filled before timing.

Cases, each against a numpy floor on the same arrays:
- `ReplayBuffer.add` of a 1-row and of a 32-row batch; floor: one slice
  assignment per column into preallocated arrays;
- `ReplayBuffer.sample(32)`; floor: 32 uniform indices and one fancy-index
  gather (`take`) per column;
- `PrioritizedReplayBuffer.sample(32, beta)` followed by
  `update_priorities` with 32 new priorities (what a DQN step does); floor:
  the uniform floor above (so the ratio is the price of prioritisation);
- for scale, a DQN learning step on 32 rows (`learn_on_batch`, a [256, 256]
  Q network with dueling heads and double Q), the step the replay path sits
  beside: the replay share of a step is reported.

Timings are interleaved (see `_timing`). Run: `python benchmarks/bench_replay.py
[--rounds N] [--quick]`.
"""

import argparse
import os
import platform
from typing import Callable, Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfpolicy.algorithms.replay_buffers import (PrioritizedReplayBuffer,  # noqa: E402
                                                ReplayBuffer)
from tfpolicy.learning import SampleBatch  # noqa: E402
from _timing import interleaved_medians  # noqa: E402  (benchmarks/ is on sys.path)

CAPACITY = 100_000
TRAIN_ROWS = 32


def make_batch(rows: int, rng: np.random.Generator) -> SampleBatch:
    """DQN rows for CartPole, with every column the sampler and postprocessing add."""
    obs = rng.normal(size=(rows + 1, 4)).astype(np.float32)
    q = rng.normal(size=(rows, 2)).astype(np.float32)
    return SampleBatch({
        "obs": obs[:-1], "new_obs": obs[1:],
        "actions": rng.integers(0, 2, rows).astype(np.int64),
        "rewards": np.ones(rows, np.float32),
        "terminateds": np.zeros(rows, bool), "truncateds": np.zeros(rows, bool),
        "eps_id": np.full(rows, 7, np.int64), "t": np.arange(rows, dtype=np.int64),
        "agent_index": np.zeros(rows, np.int64), "unroll_id": np.zeros(rows, np.int64),
        "action_dist_inputs": q, "action_logp": np.zeros(rows, np.float32),
        "action_prob": np.ones(rows, np.float32), "weights": np.ones(rows, np.float32),
    })


class NumpyFloor:
    """The same columns in preallocated arrays, written and read with bare numpy."""

    def __init__(self, batch: SampleBatch, capacity: int):
        self.arrays = {key: np.zeros((capacity,) + value.shape[1:], value.dtype)
                       for key, value in batch.items()}
        self.capacity = capacity
        self.next_index = 0
        self.rng = np.random.default_rng(0)

    def add(self, batch: SampleBatch) -> None:
        start = self.next_index
        end = start + len(batch)
        for key, store in self.arrays.items():
            store[start:end] = dict.__getitem__(batch, key)
        self.next_index = end % (self.capacity - 64)

    def sample(self, rows: int) -> Dict[str, np.ndarray]:
        index = self.rng.integers(0, self.capacity, rows)
        return {key: store.take(index, axis=0) for key, store in self.arrays.items()}


def filled(buffer: ReplayBuffer, rng: np.random.Generator) -> ReplayBuffer:
    buffer.add(make_batch(CAPACITY, rng))
    return buffer


def learn_step(rng: np.random.Generator) -> Optional[Callable[[], object]]:
    """A DQN `learn_on_batch` on 32 rows, or None if the policy cannot be built here."""
    from specs import ArraySpec, BoundedArraySpec
    from tfpolicy.algorithms.dqn import DQNTFPolicy

    policy = DQNTFPolicy(ArraySpec((4,), np.float32), BoundedArraySpec((), np.int64, 0, 1),
                         {"model": {"fcnet_hiddens": [256, 256]}, "seed": 0})
    batch = make_batch(TRAIN_ROWS, rng)
    return lambda: policy.learn_on_batch(batch)


def main(argv: Optional[List[str]] = None) -> List[Dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="a smoke run: one short round")
    args = parser.parse_args(argv)
    rounds, calls, learn_calls = (1, 20, 2) if args.quick else (args.rounds, 500, 30)
    print(f"numpy {np.__version__}, python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} cpus; buffers of {CAPACITY} rows")
    rng = np.random.default_rng(0)
    one, thirty_two = make_batch(1, rng), make_batch(32, rng)
    uniform = filled(ReplayBuffer(CAPACITY, seed=0), rng)
    prioritized = filled(PrioritizedReplayBuffer(CAPACITY, alpha=0.6, seed=0), rng)
    floor = NumpyFloor(one, CAPACITY)
    new_priorities = np.abs(rng.normal(size=TRAIN_ROWS)) + 1e-6

    def prioritized_step() -> None:
        batch = prioritized.sample(TRAIN_ROWS, beta=0.4)
        prioritized.update_priorities(batch["batch_indexes"], new_priorities)

    cases: Dict[str, Callable[[], object]] = {
        "floor add 1": lambda: floor.add(one),
        "add 1": lambda: uniform.add(one),
        "floor add 32": lambda: floor.add(thirty_two),
        "add 32": lambda: uniform.add(thirty_two),
        "floor sample 32": lambda: floor.sample(TRAIN_ROWS),
        "sample 32": lambda: uniform.sample(TRAIN_ROWS),
        "prioritized add 32": lambda: prioritized.add(thirty_two),
        "prioritized sample 32 + update": prioritized_step,
    }
    timings = interleaved_medians(cases, rounds, {name: calls for name in cases})
    learn = learn_step(rng)
    learn_us = interleaved_medians({"learn": learn}, rounds, {"learn": learn_calls},
                                   warmup=3)["learn"]
    rows: List[Dict[str, object]] = []

    def row(case: str, key: str, floor_key: Optional[str], target: Optional[float]) -> None:
        ratio = timings[key] / timings[floor_key] if floor_key else None
        rows.append({"case": case, "us": timings[key], "ratio": ratio, "target": target})

    row("numpy floor: add 1 row (slice writes)", "floor add 1", None, None)
    row("ReplayBuffer.add, 1 row", "add 1", "floor add 1", 3.0)
    row("numpy floor: add 32 rows", "floor add 32", None, None)
    row("ReplayBuffer.add, 32 rows", "add 32", "floor add 32", 3.0)
    row("PrioritizedReplayBuffer.add, 32 rows", "prioritized add 32", "floor add 32", None)
    row("numpy floor: sample 32 (take)", "floor sample 32", None, None)
    row("ReplayBuffer.sample(32)", "sample 32", "floor sample 32", 1.5)
    row("PrioritizedReplayBuffer.sample(32) + update_priorities", "prioritized sample 32 + update",
        "floor sample 32", None)
    share = timings["prioritized sample 32 + update"] / (
        timings["prioritized sample 32 + update"] + learn_us)
    rows.append({"case": f"DQN learn_on_batch, {TRAIN_ROWS} rows, [256, 256] dueling",
                 "us": learn_us, "ratio": None, "target": None})
    rows.append({"case": "prioritized replay share of a train step", "us": None,
                 "ratio": share, "target": 0.25})
    print(f"{'case':58s} {'median':>10s} {'x floor':>8s}  target")
    for entry in rows:
        us = "" if entry["us"] is None else f"{entry['us']:8.1f}us"
        ratio = "" if entry["ratio"] is None else f"{entry['ratio']:.2f}"
        verdict = ""
        if entry["target"] is not None:
            verdict = f"<={entry['target']} " + ("ok" if entry["ratio"] <= entry["target"]
                                                 else "MISS")
        print(f"{entry['case']:58s} {us:>10s} {ratio:>8s}  {verdict}")
    return rows


if __name__ == "__main__":
    main()
