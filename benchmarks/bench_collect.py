"""Collection speed: CartPole steps per second through `PyDriver`, and replay throughput.

Stepping: CartPole-v1 with a greedy 64x64 Q policy behind `PyTFEagerPolicy`,
driven by `PyDriver`, at 1, 8 and 64 environments (one `load`ed env, then
`load_vector` envs over gymnasium's `SyncVectorEnv`). Each width is timed
next to two floors measured in the same run on raw gymnasium: the same loop
over `gymnasium.make` (reset by hand when an episode ends) or over
`gymnasium.make_vec` (which resets finished copies itself):

- "raw env + random": a random numpy action per env; the cost of the
  environments alone;
- "raw env + raw policy": the Q network's concrete function (the floor of
  `bench_action.py`) called on the stacked observations, its argmax taken
  in the graph; the least any TF policy can cost per step.

Target: the driver's time per step stays below 1.5x the "raw env + raw
policy" floor. Reference: RLlib reported 2,720 / 13,773 / 37,903 actions/s
for a 64x64 MLP at vector widths 1 / 8 / 64 on one core.

The same policy converted to LiteRT (`LitePyPolicy.from_policy`) runs the
same driver loop at the same widths, against "raw env + raw LiteRT": the
raw gymnasium loop with the network converted directly and called through
bare interpreter calls (see `_floors.py`); no target.

Replay: `UniformReplayBuffer.add_batch` of CartPole trajectories (numpy, as
a `PyDriver` observer hands them) at batch 1 and 64, against a concrete
function that assigns the same tensors into the same variables; and
`as_dataset(sample_batch_size=64, num_steps=2)` samples per second,
against a `tf.data` pipeline that gathers the same number of random frames
from the same variables without windows or checks.

Timings are interleaved medians (see `_timing.py`). Run:
`python benchmarks/bench_collect.py [--rounds N] [--steps N]`.
"""

import argparse
import os
import platform
from typing import Any, Callable, Dict, List, NamedTuple, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from specs import TensorSpec  # noqa: E402
from tfpolicy.drivers import PyDriver  # noqa: E402
from tfpolicy.environments import load, load_vector  # noqa: E402
from tfpolicy.networks import QNetwork  # noqa: E402
from tfpolicy.policies import GreedyPolicy, PyTFEagerPolicy, QPolicy  # noqa: E402
from tfpolicy.replay import UniformReplayBuffer  # noqa: E402
from tfpolicy.trajectories import time_step as ts  # noqa: E402
from tfpolicy.trajectories.trajectory import Trajectory  # noqa: E402
from _floors import lite_argmax  # noqa: E402  (benchmarks/ is on sys.path)
from _timing import interleaved_medians  # noqa: E402

WIDTHS = (1, 8, 64)
RLLIB_ACTIONS_PER_SECOND = {1: 2720, 8: 13773, 64: 37903}
TARGET = 1.5


class Case(NamedTuple):
    name: str
    call: Callable[[], object]
    work: int  # env steps (actions) or frames/samples per call
    floor: Optional[str]
    target: Optional[float]
    reference: Optional[float]  # RLlib's actions/s, for stepping rows


def _raw_env(width: int, seed: int) -> Any:
    """One raw gymnasium env, or a raw gymnasium `SyncVectorEnv` of `width` copies."""
    if width == 1:
        env = gymnasium.make("CartPole-v1")
    else:
        env = gymnasium.make_vec("CartPole-v1", width, vectorization_mode="sync")
    env.reset(seed=seed)
    return env


def _raw_loop(width: int, seed: int, steps: int, choose: Callable) -> Callable[[], None]:
    """`steps` iterations of: choose actions for the observations, step the raw env(s)."""
    env = _raw_env(width, seed)
    state = {"observation": env.reset(seed=seed)[0]}

    def run_single() -> None:
        observation = state["observation"]
        for _ in range(steps):
            action = choose(observation[None])[0]
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                observation, _ = env.reset()
        state["observation"] = observation

    def run_vector() -> None:  # the vector env resets finished copies itself
        observation = state["observation"]
        for _ in range(steps):
            observation, _, _, _, _ = env.step(choose(observation))
        state["observation"] = observation

    return run_single if width == 1 else run_vector


def stepping_cases(width: int, steps: int, policy: GreedyPolicy, floor_fn: Callable) -> List[Case]:
    rng = np.random.default_rng(width)
    random_loop = _raw_loop(width, 100, steps, lambda obs: rng.integers(0, 2, size=len(obs)))
    raw_policy_loop = _raw_loop(width, 200, steps, lambda obs: floor_fn(obs).numpy())
    if width == 1:
        env = load("CartPole-v1", seed=300)
        py_policy = PyTFEagerPolicy(policy)
    else:
        env = load_vector("CartPole-v1", width, seed=300)
        py_policy = PyTFEagerPolicy(policy, batch_time_steps=False)
    driver = PyDriver(env, py_policy, observers=[], max_steps=steps * width)
    state = {"time_step": None}

    def drive() -> None:
        state["time_step"], _ = driver.run(state["time_step"], ())

    floor = f"raw env + raw policy, {width} env(s)"
    return [
        Case(f"raw env + random, {width} env(s)", random_loop, steps * width, None, None, None),
        Case(floor, raw_policy_loop, steps * width, None, None, None),
        Case(f"PyDriver + PyTFEagerPolicy, {width} env(s)", drive, steps * width, floor, TARGET,
             RLLIB_ACTIONS_PER_SECOND[width]),
    ]


def lite_stepping_cases(width: int, steps: int, policy: GreedyPolicy,
                        q_network: QNetwork) -> List[Case]:
    """The same loop with the policy on LiteRT, against raw gymnasium + the raw interpreter."""
    from savers.lite_py_policy import LitePyPolicy

    floor_call = lite_argmax(q_network, width)
    raw_loop = _raw_loop(width, 400, steps, floor_call)
    if width == 1:
        env = load("CartPole-v1", seed=500)
        py_policy = LitePyPolicy.from_policy(policy)
    else:
        env = load_vector("CartPole-v1", width, seed=500)
        py_policy = LitePyPolicy.from_policy(policy, batch_time_steps=False)
    driver = PyDriver(env, py_policy, observers=[], max_steps=steps * width)
    state = {"time_step": None}

    def drive() -> None:
        state["time_step"], _ = driver.run(state["time_step"], ())

    floor = f"raw env + raw LiteRT, {width} env(s)"
    return [
        Case(floor, raw_loop, steps * width, None, None, None),
        Case(f"PyDriver + LitePyPolicy, {width} env(s)", drive, steps * width, floor, None,
             RLLIB_ACTIONS_PER_SECOND[width]),
    ]


def replay_cases(policy_spec: object, adds: int) -> List[Case]:
    cases = []
    rng = np.random.default_rng(0)
    for batch in (1, 64):
        buffer = UniformReplayBuffer(policy_spec, capacity=1000, batch_size=batch)
        shape = () if batch == 1 else (batch,)
        items = Trajectory(
            step_type=np.zeros(shape, np.int32),
            observation=rng.normal(size=shape + (4,)).astype(np.float32),
            action=np.zeros(shape, np.int64), policy_info=(),
            next_step_type=np.ones(shape, np.int32), reward=np.ones(shape, np.float32),
            discount=np.ones(shape, np.float32))
        variables = [tf.Variable(tf.zeros([batch, 1000] + s.shape.as_list(), s.dtype))
                     for s in tf.nest.flatten(buffer.data_spec)]
        counter = tf.Variable(0, dtype=tf.int64)
        signature = [TensorSpec([batch] + s.shape.as_list(), s.dtype)
                     for s in tf.nest.flatten(buffer.data_spec)]

        @tf.function(input_signature=signature, autograph=False)
        def raw_assign(*leaves: tf.Tensor) -> None:
            index = counter % 1000
            for variable, value in zip(variables, leaves):
                variable[:, index].assign(value)
            counter.assign_add(1)

        raw_assign = raw_assign.get_concrete_function()
        flat = [np.reshape(leaf, (batch,) + np.shape(leaf)[len(shape):])
                for leaf in tf.nest.flatten(items)]

        def add_loop(buffer: UniformReplayBuffer = buffer, items: object = items) -> None:
            for _ in range(adds):
                buffer.add_batch(items)

        def raw_loop(raw_assign: Callable = raw_assign, flat: list = flat) -> None:
            for _ in range(adds):
                raw_assign(*flat)

        floor = f"raw variable assign, batch {batch}"
        cases += [Case(floor, raw_loop, adds * batch, None, None, None),
                  Case(f"add_batch, numpy, batch {batch}", add_loop, adds * batch, floor, None,
                       None)]
    for _ in range(1000):
        buffer.add_batch(items)  # the batch-64 buffer, now full
    dataset = iter(buffer.as_dataset(sample_batch_size=64, num_steps=2).prefetch(4))
    storage = [v for v in buffer.variables if v.shape.rank >= 2]  # the frames, not the counter

    def raw_sample(_: tf.Tensor) -> list:
        rows = tf.random.uniform([64, 1], 0, 64, tf.int64)
        ids = tf.random.uniform([64, 1], 0, 999, tf.int64) + tf.range(2, dtype=tf.int64)
        indices = tf.stack([tf.broadcast_to(rows, [64, 2]), ids], axis=-1)
        return [tf.gather_nd(variable, indices) for variable in storage]

    raw_dataset = iter(tf.data.Dataset.range(1).repeat().map(raw_sample).prefetch(4))
    draws = max(1, adds // 4)

    def sample_loop() -> None:
        for _ in range(draws):
            next(dataset)

    def raw_sample_loop() -> None:
        for _ in range(draws):
            next(raw_dataset)

    floor = "raw tf.data gather, 64 x 2 frames"
    return cases + [
        Case(floor, raw_sample_loop, draws * 64, None, None, None),
        Case("as_dataset(64, num_steps=2)", sample_loop, draws * 64, floor, None, None)]


def build_cases(steps: int, adds: int) -> List[Case]:
    observation_spec = TensorSpec([4], tf.float32, "observation")
    env = load("CartPole-v1")
    q_network = QNetwork(observation_spec, env.action_spec(), fc_layer_params=(64, 64))
    policy = GreedyPolicy(QPolicy(ts.time_step_spec(observation_spec), env.action_spec(),
                                  q_network))

    @tf.function(input_signature=[TensorSpec([None, 4], tf.float32)])
    def floor(observation: tf.Tensor) -> tf.Tensor:
        q_values, _ = q_network(observation)
        return tf.argmax(q_values, axis=-1)

    floor_fn = floor.get_concrete_function()
    cases = []
    for width in WIDTHS:
        cases += stepping_cases(width, max(1, steps // width), policy, floor_fn)
    for width in WIDTHS:
        cases += lite_stepping_cases(width, max(1, 8 * steps // width), policy, q_network)
    return cases + replay_cases(policy.collect_data_spec, adds)


def report(cases: List[Case], micros: Dict[str, float]) -> List[dict]:
    rows = []
    print(f"{'case':44s} {'per second':>11s} {'x floor':>8s} {'target':>7s} {'RLlib':>7s}")
    for case in cases:
        rate = case.work / micros[case.name] * 1e6
        ratio = None if case.floor is None else micros[case.name] / micros[case.floor]
        met = case.target is None or ratio <= case.target
        cells = [f"{case.name:44s}", f"{rate:11,.0f}",
                 f"{ratio:8.2f}" if ratio is not None else f"{'':8s}",
                 f"{'<=' + str(case.target):>7s}" if case.target else f"{'':7s}",
                 f"{case.reference:7,d}" if case.reference else f"{'':7s}"]
        if case.target is not None:
            cells.append("ok" if met else "MISS")
        if case.reference:
            cells.append(f"({rate / case.reference:.1f}x RLlib)")
        print(" ".join(cells))
        rows.append({"case": case.name, "per_second": rate, "ratio": ratio,
                     "target": case.target, "met": met, "reference": case.reference})
    return rows


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=512,
                        help="env steps per timed call (divided over the batch)")
    parser.add_argument("--adds", type=int, default=200, help="add_batch calls per timed call")
    args = parser.parse_args(argv)
    print(f"tensorflow {tf.__version__}, gymnasium {gymnasium.__version__}, numpy "
          f"{np.__version__}, python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cpus")
    cases = build_cases(args.steps, args.adds)
    micros = interleaved_medians({c.name: c.call for c in cases}, args.rounds,
                                 {c.name: 1 for c in cases}, warmup=2)
    return report(cases, micros)


if __name__ == "__main__":
    main()
