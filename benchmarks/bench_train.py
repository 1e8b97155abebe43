"""Time to solve, side by side with Stable-Baselines3, and the training loop's overhead.

Each case trains one algorithm from its packaged tuned example until the
example's stop criterion (greedy evaluation included in the wall time) and
reports the median over seeds of the wall time and env steps to solve:

- `PPO`: CartPole-v1, greedy mean return >= 475 over 20 episodes;
- `DQN`: CartPole-v1, >= 475 over 20 episodes;
- `SAC`: Pendulum-v1, >= -200 over 10 episodes within 20k env steps;
- `PPO-Pendulum`, `A2C`, `PG`: steps and time reported.

When `stable_baselines3` is importable (installed for this benchmark only,
never a dependency), the same script runs SB3 with rl-baselines3-zoo's
hyperparameters, 2 torch threads, and the same evaluation protocol (the
same episodes per evaluation, evaluated every as many env steps as ours),
and prints the ratio ours / SB3. Without it, SB3's numbers recorded on this
machine (2026-11-30) are printed beside ours.

`--overhead` splits one PPO iteration into its floors measured in the same
run: the raw environment (our `GymnasiumEnvironment.step` with constant
actions), the acting floor (the LiteRT `compute_actions` calls alone) and
the learning floor (the `learn_on_batch` calls alone), against the
iteration's wall time.

Run: `python benchmarks/bench_train.py [--cases PPO,DQN,SAC] [--seeds 0,1,2]
[--no-sb3] [--overhead] [--curves DIR]`.
"""

import argparse
import os
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from tfpolicy.algorithms import get_algorithm_class  # noqa: E402
from tfpolicy.algorithms.tuned import load_tuned_example, result_value, stop_reason  # noqa: E402

# case -> (tuned example, evaluation key and threshold, env-step cap)
CASES: Dict[str, Tuple[str, float, int]] = {
    "PPO": ("cartpole-ppo.yaml", 475.0, 100_000),
    "DQN": ("cartpole-dqn.yaml", 475.0, 100_000),
    "SAC": ("pendulum-sac.yaml", -200.0, 20_000),
    "PPO-Pendulum": ("pendulum-ppo.yaml", -200.0, 400_000),
    "A2C": ("cartpole-a2c.yaml", 475.0, 500_000),
    "PG": ("cartpole-pg.yaml", 475.0, 500_000),
}

# SB3 on this machine: rl-zoo hyperparameters, 2 torch threads, 3 seeds (2026-11-30).
SB3_RECORDED = {"PPO": [9.9, 14.2, 11.3], "DQN": [25.1, 17.4, 71.8], "SAC": [80.6, 36.7, 34.7]}
SB3_RECORDED_DATE = "2026-11-30"

EVAL_KEY = "evaluation/episode_reward_mean"


def run_ours(case: str, seed: int, max_steps: Optional[int] = None) -> Dict[str, Any]:
    """Trains until the stop criterion; returns seconds, steps, solved and the curve."""
    name, threshold, cap = CASES[case]
    cap = cap if max_steps is None else max_steps
    example = load_tuned_example(name)
    start = time.perf_counter()
    algo = get_algorithm_class(example.run)(config=dict(example.full_config(), seed=seed))
    curve: List[Tuple[int, float]] = []
    solved = False
    result: Dict[str, Any] = {}
    while True:
        result = algo.train()
        value = result_value(result, EVAL_KEY)
        if value is not None:
            curve.append((int(result["timesteps_total"]), value))
            if value >= threshold:
                solved = True
                break
        if result["timesteps_total"] >= cap or stop_reason(
                result, {k: v for k, v in example.stop.items() if k != EVAL_KEY}):
            break
    seconds = time.perf_counter() - start
    algo.stop()
    return {"seconds": seconds, "steps": int(result["timesteps_total"]), "solved": solved,
            "curve": curve}


# ---- Stable-Baselines3, side by side -------------------------------------------------------


def _sb3_model(case: str, seed: int) -> Tuple[Any, Any, int, int]:
    """(model, eval env, episodes per evaluation, evaluate every this many steps)."""
    import gymnasium as gym
    import torch
    from stable_baselines3 import DQN, PPO, SAC
    from stable_baselines3.common.env_util import make_vec_env
    torch.set_num_threads(2)

    def linear(start: float) -> Callable[[float], float]:
        return lambda progress: progress * start

    if case == "PPO":
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98,
                    n_epochs=20, ent_coef=0.0, learning_rate=linear(0.001),
                    clip_range=linear(0.2), seed=seed, verbose=0)
        return model, gym.make("CartPole-v1"), 20, 2048
    if case == "DQN":
        env = gym.make("CartPole-v1")
        model = DQN("MlpPolicy", env, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
                    learning_starts=1000, gamma=0.99, target_update_interval=10,
                    train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                    exploration_final_eps=0.04, policy_kwargs={"net_arch": [256, 256]},
                    seed=seed, verbose=0)
        return model, gym.make("CartPole-v1"), 20, 2048
    if case == "SAC":
        env = gym.make("Pendulum-v1")
        model = SAC("MlpPolicy", env, learning_rate=1e-3, seed=seed, verbose=0)
        return model, gym.make("Pendulum-v1"), 10, 500
    raise ValueError(f"no SB3 setting for {case!r}")


def run_sb3(case: str, seed: int) -> Dict[str, Any]:
    """SB3's time to the same threshold, evaluated with its `evaluate_policy`."""
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.evaluation import evaluate_policy
    _, threshold, cap = CASES[case]
    start = time.perf_counter()
    model, eval_env, episodes, every = _sb3_model(case, seed)
    curve: List[Tuple[int, float]] = []

    class StopAtThreshold(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_eval = every
            self.solved = False

        def _on_step(self) -> bool:
            if self.num_timesteps < self.next_eval:
                return True
            self.next_eval += every
            mean, _ = evaluate_policy(self.model, eval_env, n_eval_episodes=episodes,
                                      deterministic=True)
            curve.append((self.num_timesteps, float(mean)))
            self.solved = mean >= threshold
            return not self.solved

    callback = StopAtThreshold()
    model.learn(total_timesteps=cap, callback=callback)
    return {"seconds": time.perf_counter() - start, "steps": int(model.num_timesteps),
            "solved": callback.solved, "curve": curve}


def sb3_available() -> bool:
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


# ---- the loop's overhead against its floors --------------------------------------------------


def overhead(iterations: int = 5) -> Dict[str, float]:
    """One PPO CartPole iteration's wall time against its parts measured alone (seconds)."""
    from tfpolicy.environments import load
    example = load_tuned_example("cartpole-ppo.yaml")
    config = dict(example.full_config(), seed=0, evaluation_interval=None)
    algo = get_algorithm_class("PPO")(config=config)
    algo.train()  # traces and converts
    walls = []
    for _ in range(iterations):
        start = time.perf_counter()
        algo.train()
        walls.append(time.perf_counter() - start)
    policy = algo.get_policy()
    num_envs = config["num_envs_per_worker"]
    batch = config["train_batch_size"]
    steps_per_env = batch // num_envs
    # Raw environment: the same number of steps with constant actions.
    envs = [load("CartPole-v1", seed=i) for i in range(num_envs)]
    for env in envs:
        env.reset()
    action = np.array(0, np.int64)

    def fastest(run: Callable[[], None], repeats: int = 3) -> float:
        """The fastest of a few timed runs (each floor is a best case)."""
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    env_floor = fastest(lambda: [env.step(action) for _ in range(steps_per_env)
                                 for env in envs])
    # Acting: the same number of batched calls alone.
    obs = np.zeros((num_envs, 4), np.float32)
    act_floor = fastest(lambda: [policy.compute_actions(obs) for _ in range(steps_per_env)])
    # Learning: the same minibatch updates alone.
    sample = algo.workers.local_worker().sample()
    from tfpolicy.learning.sgd import minibatches
    from tfpolicy.learning.postprocessing import standardize_fields
    sample = standardize_fields(sample, ["advantages"])
    mbs = list(minibatches(sample, config["sgd_minibatch_size"], seed=0))
    learn_floor = fastest(lambda: [policy.learn_on_batch(mb)
                                   for _ in range(config["num_sgd_iter"]) for mb in mbs])
    algo.stop()
    wall = statistics.median(walls)
    return {"iteration": wall, "env": env_floor, "acting": act_floor, "learning": learn_floor,
            "runtime": 1.0 if policy.acting_runtime == "lite" else 0.0}


# ---- report ----------------------------------------------------------------------------------


def _plot(case: str, ours: List[Dict[str, Any]], sb3: List[Dict[str, Any]], directory: str,
          threshold: float) -> Optional[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    os.makedirs(directory, exist_ok=True)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for label, runs, colour in (("tfpolicy", ours, "tab:blue"), ("SB3", sb3, "tab:orange")):
        for i, run in enumerate(runs):
            if run["curve"]:
                steps, values = zip(*run["curve"])
                axis.plot(steps, values, color=colour, alpha=0.8,
                          label=label if i == 0 else None)
    axis.axhline(threshold, color="grey", linestyle="--", linewidth=1)
    axis.set_xlabel("env steps")
    axis.set_ylabel("greedy mean return")
    axis.set_title(f"{case}: {CASES[case][0]}")
    axis.legend()
    figure.tight_layout()
    path = os.path.join(directory, f"{case.lower()}.png")
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="PPO,DQN,SAC")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--no-sb3", action="store_true", help="skip SB3 even if installed")
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--curves", default=None, help="write a learning-curve PNG per case")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="a smoke run: stop each run after this many env steps")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows: List[Dict[str, Any]] = []
    with_sb3 = not args.no_sb3 and sb3_available()
    print(f"seeds {seeds}; SB3 {'side by side' if with_sb3 else 'recorded ' + SB3_RECORDED_DATE}")
    print(f"{'case':14s} {'ours s (median)':>16s} {'steps':>8s} {'solved':>7s} "
          f"{'SB3 s (median)':>15s} {'SB3 steps':>9s} {'ours/SB3':>9s}")
    for case in [c for c in args.cases.split(",") if c]:
        if case not in CASES:
            raise SystemExit(f"unknown case {case!r}; known: {sorted(CASES)}")
        ours = [run_ours(case, seed, args.max_steps) for seed in seeds]
        for seed, run in zip(seeds, ours):
            print(f"  ours seed {seed}: {run['seconds']:.1f} s, {run['steps']} steps, "
                  f"solved {run['solved']}", flush=True)
        sb3: List[Dict[str, Any]] = []
        if with_sb3 and case in SB3_RECORDED:
            sb3 = [run_sb3(case, seed) for seed in seeds]
            for seed, run in zip(seeds, sb3):
                print(f"  SB3  seed {seed}: {run['seconds']:.1f} s, {run['steps']} steps, "
                      f"solved {run['solved']}", flush=True)
        ours_s = statistics.median(r["seconds"] for r in ours)
        ours_steps = int(statistics.median(r["steps"] for r in ours))
        solved = sum(r["solved"] for r in ours)
        if sb3:
            sb3_s = statistics.median(r["seconds"] for r in sb3)
            sb3_steps = str(int(statistics.median(r["steps"] for r in sb3)))
        elif case in SB3_RECORDED:
            sb3_s, sb3_steps = statistics.median(SB3_RECORDED[case]), "recorded"
        else:
            sb3_s, sb3_steps = float("nan"), "-"
        ratio = ours_s / sb3_s if sb3_s == sb3_s else float("nan")
        rows.append({"case": case, "seconds": ours_s, "steps": ours_steps, "solved": solved,
                     "sb3_seconds": sb3_s, "ratio": ratio})
        print(f"{case:14s} {ours_s:16.1f} {ours_steps:8d} {solved:>4d}/{len(seeds)} "
              f"{sb3_s:15.1f} {sb3_steps:>9s} {ratio:9.2f}", flush=True)
        if args.curves:
            path = _plot(case, ours, sb3, args.curves, CASES[case][1])
            if path:
                print(f"  curve: {path}")
    if args.overhead:
        parts = overhead()
        wall = parts["iteration"]
        print(f"PPO CartPole iteration {wall * 1e3:.0f} ms (evaluation off); as fractions of it:")
        for key in ("env", "acting", "learning"):
            print(f"  {key:9s} floor {parts[key] / wall:5.2f}")
        rest = 1.0 - (parts["env"] + parts["acting"] + parts["learning"]) / wall
        print(f"  loop overhead (the rest) {rest:5.2f}; acting runtime "
              f"{'LiteRT' if parts['runtime'] else 'TF'}")
        rows.append({"case": "overhead", **parts})
    return rows


if __name__ == "__main__":
    main()
