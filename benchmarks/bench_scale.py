"""Scale-out on Ray: CartPole sampling with 0, 1 and 2 remote workers, `sync_weights`, PPO to 475.

All cases run on CartPole-v1, with a local Ray started in this process
(`init_ray(num_cpus=...)`) unless one is running already.

- **Sampling** (env steps per second): PPO's policy class with PPO's
  default config, a 2x256 fcnet, 8 environments per worker and
  `rollout_fragment_length=128` (1,024 steps per `sample()`).
  `synchronous_parallel_sample(worker_set, max_env_steps=--steps)` on a
  `WorkerSet` with 0 remote workers (the local worker samples), 1 and 2.
  Floor: the local worker's bare `sample()`, timed again in each phase
  (phase 1 with 1 remote worker alive, phase 2 after `add_workers(1)`);
  each case is reported as its steps/s divided by its phase's floor's (a
  speed-up: above 1 is faster). For scale, the raw environment:
  gymnasium's CartPole stepped with random actions in a plain loop.
- **`sync_weights`** with 2 remote workers (the same 2x256 policy and value
  towers): median latency of `WorkerSet.sync_weights()`, which waits until
  both workers applied the weights. Floors: `ray.get(ray.put(weights))` of
  the same weights dict in this process, and one `set_weights` on the
  local worker.
- **PPO time to 475**: the packaged tuned example (`cartpole-ppo.yaml`, as
  `bench_train.py`'s PPO case: greedy mean return >= 475 over 20 episodes,
  evaluation and building the algorithm included in the wall time) with
  `num_workers=2` against `num_workers=0`, per seed, medians and their
  ratio. Every iteration learns on the same 1,024 steps of 128-step
  fragments: the tuned 8 environments on the local worker, 8 / n on each
  of n remote workers (shorter fragments, e.g. `"auto"`'s 64 with 8
  environments on 2 workers, need about twice the steps to solve, so the
  fragment length is kept).

Caveat: on a 2-core machine the remote workers compete with the learner
(and with each other) for the same cores, so scale-out cannot show its
gains there: the ratios show what moving samples and weights through Ray
costs, not what more cores would give.

Timings are interleaved medians: `sync_weights` with `_timing.py`, sampling
with the order of the cases rotated every round (`rotated_medians`).
Run: `python benchmarks/bench_scale.py [--cases sampling,sync,train] [--rounds N]
[--steps N] [--repeats N] [--seeds 0,1,2] [--train-workers 0,2] [--max-iterations N]
[--quick]`.
"""

import argparse
import os
import platform
import statistics
import time
from types import ModuleType
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import tree  # noqa: E402

from tfpolicy.algorithms.ppo import PPO  # noqa: E402
from tfpolicy.algorithms.tuned import load_tuned_example, result_value  # noqa: E402
from tfpolicy.evaluation import WorkerSet, synchronous_parallel_sample  # noqa: E402
from tfpolicy.evaluation.ray_session import init_ray, require_ray  # noqa: E402
from bench_train import CASES as TRAIN_CASES, EVAL_KEY  # noqa: E402  (benchmarks/ on sys.path)
from _timing import interleaved_medians  # noqa: E402

SAMPLING_CONFIG = {"env": "CartPole-v1", "num_envs_per_worker": 8,
                   "rollout_fragment_length": 128, "model": {"fcnet_hiddens": [256, 256]},
                   "seed": 0}
REMOTE_COUNTS = (1, 2)
MAX_REMOTE = max(REMOTE_COUNTS)
FLOOR = "local worker sample() (floor)"
ALL_CASES = ("sampling", "sync", "train")
# The smoke run leaves out PPO with remote workers: starting its two actors (TensorFlow in
# each) is most of a minute on 2 busy cores.
QUICK = {"rounds": 2, "steps": 1024, "repeats": 3, "seeds": "0", "train_workers": "0",
         "max_iterations": 2}


def _start_ray() -> Tuple[ModuleType, bool]:
    """(ray, whether this call started it), with a CPU for each remote worker."""
    started = not require_ray("bench_scale's remote workers").is_initialized()
    # The actors' start-up chatter stays in Ray's log files; their errors still
    # reach this process through the failed calls.
    ray = init_ray(num_cpus=max(os.cpu_count() or 1, MAX_REMOTE), log_to_driver=False)
    cpus = ray.cluster_resources().get("CPU", 0)
    if cpus < MAX_REMOTE:
        raise SystemExit(f"bench_scale: the running Ray has {cpus:g} CPUs; the cases need "
                         f"{MAX_REMOTE} one-CPU actors alive at once")
    return ray, started


def _raw_env_loop(steps: int, seed: int = 0) -> Callable[[], None]:
    """`steps` steps of gymnasium's CartPole with random actions, reset by hand."""
    env = gymnasium.make("CartPole-v1")
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, 2, size=steps)

    def run() -> None:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(int(action))
            if terminated or truncated:
                env.reset()

    return run


def rotated_medians(calls: Mapping[str, Callable[[], Any]], rounds: int) -> Dict[str, float]:
    """Median microseconds per call of each case over `rounds` rounds of one call each,
    after one warm-up call each; the order of the cases rotates every round.

    Work that outlasts a remote call (in the actors or in Ray) would otherwise
    always fall on the case timed next; rotating spreads it over all of them.
    """
    names = list(calls)
    for name in names:
        calls[name]()
    samples: Dict[str, List[float]] = {name: [] for name in names}
    for turn in range(rounds):
        shift = turn % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            calls[name]()
            samples[name].append((time.perf_counter() - start) * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def worker_set(num_workers: int) -> WorkerSet:
    """A `WorkerSet` of PPO's policy class with PPO's defaults and `SAMPLING_CONFIG`."""
    config = PPO.merged_config(SAMPLING_CONFIG)
    return WorkerSet(config["env"], PPO.get_default_policy_class(config), config,
                     num_workers=num_workers)


def _parallel_sample(workers: WorkerSet, steps: int) -> Callable[[], Any]:
    return lambda: synchronous_parallel_sample(workers, max_env_steps=steps)


def sampling(local_set: WorkerSet, remote_set: WorkerSet, rounds: int,
             steps: int) -> List[dict]:
    """Steps/s of each sampling case, one phase per count of `REMOTE_COUNTS`.

    `remote_set` grows (`add_workers`) to each count in turn. Each phase times
    the floor (`local_set`'s local worker's `sample()`) interleaved with its
    cases and reports them against it; the raw environment and 0 remote
    workers (`local_set`) are timed in the first phase.
    """
    print(f"{'sampling, CartPole-v1':34s} {'steps/call':>10s} {'steps/s':>10s} "
          f"{'x local sample()':>16s}")
    rows = []
    for phase, count in enumerate(REMOTE_COUNTS):
        remote_set.add_workers(count - remote_set.num_remote_workers())
        calls: Dict[str, Callable[[], Any]] = {FLOOR: local_set.local_worker().sample}
        if phase == 0:
            calls["raw env, random actions"] = _raw_env_loop(steps)
            calls["parallel sample, 0 remote workers"] = _parallel_sample(local_set, steps)
        calls[f"parallel sample, {count} remote worker{'' if count == 1 else 's'}"] = (
            _parallel_sample(remote_set, steps))
        # The work per call: one call of each (an extra warm-up).
        work = {name: (steps if name.startswith("raw") else call().env_steps())
                for name, call in calls.items()}
        micros = rotated_medians(calls, rounds)
        rates = {name: work[name] / micros[name] * 1e6 for name in calls}
        print(f"-- phase {phase + 1}: {count} remote worker{'' if count == 1 else 's'} alive")
        for name in calls:
            speedup = rates[name] / rates[FLOOR]
            print(f"{name:34s} {work[name]:10d} {rates[name]:10,.0f} {speedup:16.2f}",
                  flush=True)
            rows.append({"section": "sampling", "phase": phase + 1, "case": name,
                         "steps_per_call": work[name], "steps_per_second": rates[name],
                         "ratio": speedup})
    return rows


def sync_weights(workers: WorkerSet, ray: Any, rounds: int, repeats: int) -> List[dict]:
    """Median ms of `sync_weights()` with the set's remote workers, against its two floors."""
    local = workers.local_worker()
    weights = local.get_weights()
    megabytes = sum(np.asarray(leaf).nbytes for leaf in tree.flatten(weights)) / 1e6
    put_get, set_local = "ray.get(ray.put(weights)) (floor)", "local set_weights (floor)"
    case = f"sync_weights, {workers.num_remote_workers()} remote workers"
    calls = {put_get: lambda: ray.get(ray.put(weights)),
             set_local: lambda: local.set_weights(weights),
             case: workers.sync_weights}
    micros = interleaved_medians(calls, rounds, {name: repeats for name in calls},
                                 warmup=max(1, repeats // 3))
    print(f"{'sync_weights, ' + f'{megabytes:.2f} MB of weights':34s} {'ms':>8s} "
          f"{'x put+get':>10s} {'x set_weights':>13s}")
    rows = []
    for name in calls:
        ratios = micros[name] / micros[put_get], micros[name] / micros[set_local]
        print(f"{name:34s} {micros[name] / 1e3:8.2f} {ratios[0]:10.2f} {ratios[1]:13.2f}",
              flush=True)
        rows.append({"section": "sync", "case": name, "milliseconds": micros[name] / 1e3,
                     "ratio_put_get": ratios[0], "ratio_set_weights": ratios[1],
                     "megabytes": megabytes})
    return rows


def run_ppo(seed: int, num_workers: int, max_iterations: Optional[int] = None
            ) -> Dict[str, Any]:
    """PPO from the tuned example until greedy 475 (or the step cap, or `max_iterations`)."""
    name, threshold, cap = TRAIN_CASES["PPO"]
    example = load_tuned_example(name)
    full = example.full_config()
    envs = full["num_envs_per_worker"] // max(num_workers, 1)
    if envs * max(num_workers, 1) != full["num_envs_per_worker"]:
        raise ValueError(f"--train-workers: {num_workers} workers do not split the tuned "
                         f"{full['num_envs_per_worker']} environments evenly")
    config = dict(full, seed=seed, num_workers=num_workers, num_envs_per_worker=envs)
    start = time.perf_counter()
    algo = PPO(config=config)
    build = time.perf_counter() - start
    solved, iterations, result = False, 0, {}
    while max_iterations is None or iterations < max_iterations:
        result = algo.train()
        iterations += 1
        value = result_value(result, EVAL_KEY)
        if value is not None and value >= threshold:
            solved = True
            break
        if result["timesteps_total"] >= cap:
            break
    seconds = time.perf_counter() - start
    algo.stop()
    return {"seconds": seconds, "build_seconds": build, "iterations": iterations,
            "steps": int(result.get("timesteps_total", 0)), "solved": solved}


def time_to_solve(seeds: List[int], worker_counts: List[int],
                  max_iterations: Optional[int]) -> List[dict]:
    """Each seed with each of `worker_counts` remote workers, back to back; medians and
    their ratio to the first count's."""
    runs: Dict[int, List[Dict[str, Any]]] = {n: [] for n in worker_counts}
    for seed in seeds:
        for n in runs:
            run = run_ppo(seed, n, max_iterations)
            runs[n].append(run)
            print(f"  PPO num_workers={n} seed {seed}: {run['seconds']:.1f} s (building "
                  f"{run['build_seconds']:.1f} s), {run['steps']} steps, {run['iterations']} "
                  f"iterations, solved {run['solved']}", flush=True)
    rows = []
    for n, group in runs.items():
        rows.append({"section": "train", "case": f"PPO to 475, num_workers={n}",
                     "seconds": statistics.median(r["seconds"] for r in group),
                     "build_seconds": statistics.median(r["build_seconds"] for r in group),
                     "steps": int(statistics.median(r["steps"] for r in group)),
                     "solved": sum(r["solved"] for r in group), "runs": len(group)})
    for row in rows:
        row["ratio"] = row["seconds"] / rows[0]["seconds"]
    print(f"{'PPO to 475, CartPole-v1':34s} {'median s':>9s} {'build s':>8s} {'steps':>7s} "
          f"{'solved':>7s} {f'x {worker_counts[0]} workers':>11s}")
    for row in rows:
        print(f"{row['case']:34s} {row['seconds']:9.1f} {row['build_seconds']:8.1f} "
              f"{row['steps']:7d} {row['solved']:4d}/{row['runs']:<2d} {row['ratio']:11.2f}",
              flush=True)
    return rows


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(ALL_CASES),
                        help=f"a comma-separated subset of {','.join(ALL_CASES)}")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--steps", type=int, default=4096,
                        help="env steps per sampling call (max_env_steps)")
    parser.add_argument("--repeats", type=int, default=20, help="sync_weights calls per round")
    parser.add_argument("--seeds", default="0,1,2", help="PPO seeds")
    parser.add_argument("--train-workers", default="0,2",
                        help="PPO's num_workers settings; ratios are to the first")
    parser.add_argument("--max-iterations", type=int, default=None,
                        help="stop each PPO run after this many iterations")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {', '.join(f'{k}={v}' for k, v in QUICK.items())}")
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    cases = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(cases) - set(ALL_CASES))
    if unknown:
        raise SystemExit(f"unknown cases {unknown}; known: {list(ALL_CASES)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    ray, started = _start_ray()
    print(f"ray {ray.__version__}, gymnasium {gymnasium.__version__}, numpy {np.__version__}, "
          f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus, "
          f"Ray CPUs {ray.cluster_resources().get('CPU', 0):g}")
    print(f"caveat: this machine has {os.cpu_count()} cores; remote workers compete with the "
          "learner and with each other for them: the ratios show what moving samples and "
          "weights through Ray costs, not what more cores would give")
    rows: List[dict] = []
    try:
        sets: List[WorkerSet] = []
        try:
            if "sampling" in cases:
                sets.append(worker_set(0))
                sets.append(worker_set(REMOTE_COUNTS[0]))
                rows += sampling(*sets, args.rounds, args.steps)
            if "sync" in cases:
                if not sets:
                    sets.append(worker_set(MAX_REMOTE))
                remote_set = sets[-1]
                remote_set.add_workers(MAX_REMOTE - remote_set.num_remote_workers())
                rows += sync_weights(remote_set, ray, args.rounds, args.repeats)
        finally:
            for workers in sets:
                workers.stop()
        if "train" in cases:
            rows += time_to_solve(seeds, [int(n) for n in args.train_workers.split(",")],
                                  args.max_iterations)
    finally:
        if started:
            ray.shutdown()
    return rows


if __name__ == "__main__":
    main()
