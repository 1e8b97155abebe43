"""The `tfpolicy` command line: train, evaluate and inspect policies.

::

  tfpolicy train --run PPO --env CartPole-v1          # to greedy mean return >= 475
  tfpolicy train -f pendulum-sac.yaml                 # a packaged tuned example
  tfpolicy evaluate LOGDIR/checkpoint_000012 --episodes 20
  tfpolicy inspect LOGDIR/saved_model

`train` builds the algorithm named by `--run` (`tfpolicy.algorithms`: PG,
A2C, PPO, SimpleQ, DQN, SAC) on `--env` (a gymnasium id or a registered
env), calls `train()` until a stop criterion holds, and writes to the logdir
`progress.csv`, TensorBoard scalars, a checkpoint (`Algorithm.save`) and a
SavedModel (`Algorithm.export_policy_model`); it then prints where they are
and how to serve them. `-f FILE` reads experiments in the shape of `rllib
train -f`::

  cartpole-ppo:
    run: PPO
    env: CartPole-v1
    stop: {evaluation/episode_reward_mean: 475, timesteps_total: 100000}
    config: {lr: 0.0003, evaluation_interval: 1}

A bare file name (`cartpole-ppo.yaml`, or `cartpole-ppo`) is also looked up
among the tuned examples shipped in `tfpolicy/algorithms/tuned_examples`
(`tfpolicy.algorithms.tuned.tuned_examples()` lists them). Flags given with `-f` override the file.

Stop criteria map result keys to thresholds; training stops when any
`result[key] >= threshold` (nested keys joined with '/', e.g.
`evaluation/episode_reward_mean`, `timesteps_total`, `training_iteration`,
`time_total_s`). Without `--stop`: the stop of the tuned example for the
same `--run` and `--env` (whose config is then the base config too), else
the env's gymnasium reward threshold on the greedy evaluation return, with
a cap of `DEFAULT_TIMESTEPS_CAP` timesteps. A stop on an `evaluation/` key
turns on evaluation every iteration unless the config sets
`evaluation_interval`.

The command answers `--help` and usage errors without importing
TensorFlow, and silences TensorFlow's start-up logs (`quiet_tensorflow`)
unless `TF_CPP_MIN_LOG_LEVEL` is set. Exit status: 0 on success, 2 for a
usage or configuration error (the reason on stderr), 130 when interrupted.

>>> main(["train", "--run", "PPO", "--config", "{lr: 1}"])
2
"""

import argparse
import contextlib
import datetime
import json
import logging
import os
import re
import sys
import tempfile
from typing import IO, Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

# Both are light: they import no TensorFlow (the algorithms load on first use).
from tfpolicy.algorithms import tuned
from tfpolicy.algorithms.algorithm_config import merge_config

__all__ = [
    "DEFAULT_TIMESTEPS_CAP",
    "main",
    "native_log_filter",
    "quiet_tensorflow",
    "run_experiment",
]

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_TIMESTEPS_CAP = 500_000  # stop of an env without a tuned example or reward threshold
_DEFAULT_RESULTS_DIR = os.path.join("~", "tfpolicy_results")
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


# ---- quiet TensorFlow -----------------------------------------------------------------------

# A native log line: severity letter, date, time, thread id, file:line] (glog/absl format).
_NATIVE_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")
_NATIVE_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_LITE_INFO = "INFO: "  # LiteRT's minimal logger, e.g. "INFO: Created TensorFlow Lite XNNPACK delegate"


def _min_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def _keep_line(line: str, level: int) -> bool:
    """Whether a stderr line stays at TF_CPP_MIN_LOG_LEVEL `level` (TF's meaning: 1 hides
    INFO, 2 also WARNING, 3 also ERROR)."""
    match = _NATIVE_LINE.match(line)
    if match:
        return _NATIVE_SEVERITY[match.group(1)] >= level
    if line.rstrip("\r\n") == _ABSL_PREAMBLE or line.startswith(_LITE_INFO):
        return level < 1
    return True


@contextlib.contextmanager
def native_log_filter() -> Iterator[None]:
    """Holds back native log lines below `TF_CPP_MIN_LOG_LEVEL` that the block writes to stderr.

    TensorFlow's own level does not reach every native line: the ones
    logged while TensorFlow loads, before absl's logging is set up (the
    oneDNN notice from `port.cc`, `cudart_stub.cc`'s "Could not find cuda
    drivers"), and LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate"
    ignore it. Inside the block, file descriptor 2 goes to a temporary file;
    at its end every line is written back to stderr except native lines
    (glog format `I0000 00:00:... file.cc:12] ...`, absl's "All log messages
    before absl::InitializeLog()" preamble, LiteRT's `INFO: ` lines) below
    the level. Everything else, Python warnings and tracebacks included,
    comes out unchanged, when the block ends. With the level unset or 0, or
    no usable file descriptor 2, the block runs unfiltered.
    """
    level = _min_log_level()
    saved = None
    if level >= 1:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
            saved = os.dup(2)
    if saved is None:
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = "".join(line for line in text.splitlines(keepends=True)
                           if _keep_line(line, level))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def quiet_tensorflow() -> None:
    """Imports TensorFlow without its start-up logs, unless the user chose a log level.

    Sets `TF_CPP_MIN_LOG_LEVEL=3` when it is not set (TensorFlow then logs
    only fatal native errors: no CPU-feature notice, no `cuInit` error), and
    imports TensorFlow inside `native_log_filter`, which drops the lines
    that ignore that level (the oneDNN notice, the CUDA stub's message).
    Call it before anything imports TensorFlow; once TensorFlow is loaded it
    only sets the variable. GPUs stay visible: nothing here changes
    placement or numerics.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    with native_log_filter():
        import tensorflow  # noqa: F401


# ---- experiments ----------------------------------------------------------------------------


class _UsageError(Exception):
    """A mistake in the command's arguments or files: exit status 2, the message on stderr."""


# ---- training -------------------------------------------------------------------------------


def _missing_stop_keys(flat: Mapping[str, float], keys: Sequence[str]) -> List[str]:
    """A warning for each stop key the results do not have (a typo would never stop the run)."""
    import difflib

    messages = []
    for key in keys:
        if key not in flat:
            close = difflib.get_close_matches(key, list(flat), n=3)
            messages.append(f"stop key {key!r} is not in the results, so it never stops the run"
                            + (f" (close: {', '.join(close)})" if close else ""))
    return messages


def _default_logdir(name: str) -> str:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    safe = re.sub(r"[^A-Za-z0-9_.=-]", "_", name)
    return os.path.join(os.path.expanduser(_DEFAULT_RESULTS_DIR), f"{safe}_{stamp}")


def _describe_stop(stop: Mapping[str, float]) -> str:
    return " or ".join(f"{key} >= {value:g}" for key, value in stop.items()) or "never (no stop)"


def _algorithm_class(run: str) -> Any:
    """`tfpolicy.algorithms.get_algorithm_class(run)`, its import's native logs filtered."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_log_filter():
        from tfpolicy.algorithms import get_algorithm_class

        return get_algorithm_class(run)


def _build_algorithm(cls: Any, env: str, config: Mapping[str, Any]) -> Any:
    with native_log_filter():  # building creates the acting runtimes, which log natively
        return cls(config=dict(config), env=env)


def _prepare_config(config: Mapping[str, Any], stop: Mapping[str, float]) -> Dict[str, Any]:
    config = dict(config)
    if any(key.startswith("evaluation/") for key in stop) and (
            config.get("evaluation_interval") is None):
        config["evaluation_interval"] = 1
    return config


def _train(algo: Any, stop: Mapping[str, float], logdir: str, *, checkpoint_freq: int,
           checkpoint_at_end: bool, description: str, stream: IO[str],
           verbose: bool) -> Dict[str, Any]:
    """Calls `algo.train()` until a stop criterion holds, logging each result; then saves."""
    from tfpolicy.algorithms.logger import ProgressReporter, UnifiedLogger, flatten_result

    total = stop.get("timesteps_total")
    reporter = (ProgressReporter(stream, total_timesteps=int(total) if total else None,
                                 description=description) if verbose else None)

    def warn(message: str) -> None:
        if reporter is not None and reporter.is_bar:
            reporter.write(f"warning: {message}")
        else:
            print(f"tfpolicy train: warning: {message}", file=sys.stderr)

    redirect: Any = contextlib.nullcontext()
    if reporter is not None and reporter.is_bar:
        from tqdm.contrib.logging import logging_redirect_tqdm

        redirect = logging_redirect_tqdm(loggers=[logging.getLogger("tfpolicy")])
    logger = UnifiedLogger(logdir, reporter=reporter)
    checkpoint = None
    checkpointed_iteration = None
    result: Mapping[str, Any] = {}
    reason = None
    unchecked = list(stop)  # stop keys not yet looked up in a result
    try:
        with redirect:
            while reason is None:
                if not result:  # the first iteration creates the acting runtimes: filter their logs
                    with native_log_filter():
                        result = algo.train()
                else:
                    result = algo.train()
                logger.on_result(result)
                flat = flatten_result(result)
                evaluated = "evaluation" in result
                ready = [k for k in unchecked if evaluated or not k.startswith("evaluation/")]
                for message in _missing_stop_keys(flat, ready):
                    warn(message)
                unchecked = [k for k in unchecked if k not in ready]
                iteration = int(result.get("training_iteration", 0))
                if checkpoint_freq and iteration % checkpoint_freq == 0:
                    checkpoint = algo.save(os.path.join(logdir, f"checkpoint_{iteration:06d}"))
                    checkpointed_iteration = iteration
                reason = tuned.stop_reason(flat, stop)
    finally:
        logger.close()
    iteration = int(result.get("training_iteration", 0))
    if checkpoint_at_end and checkpointed_iteration != iteration:
        checkpoint = algo.save(os.path.join(logdir, f"checkpoint_{iteration:06d}"))
    export = os.path.join(logdir, "saved_model")
    with native_log_filter():
        algo.export_policy_model(export)
    return {"result": dict(result), "stop_reason": reason, "iterations": iteration,
            "checkpoint": None if checkpoint is None else os.fspath(checkpoint),
            "export": export, "logdir": logdir}


def run_experiment(run: str, env: str, config: Optional[Mapping[str, Any]] = None,
                   stop: Optional[Mapping[str, float]] = None, *,
                   logdir: Optional[PathLike] = None, checkpoint_freq: int = 0,
                   checkpoint_at_end: bool = True, verbose: bool = True,
                   stream: Optional[IO[str]] = None) -> Dict[str, Any]:
    """Trains an algorithm until a stop criterion holds, as `tfpolicy train` does.

    Builds `get_algorithm_class(run)(config=config, env=env)`, calls
    `train()` until `result[key] >= threshold` for some `key` of `stop`,
    writing each result to `logdir` (`progress.csv`, TensorBoard scalars)
    and, when `verbose`, to `stream` (a `ProgressReporter`: a bar on a
    terminal, lines elsewhere). Then writes a checkpoint
    (`logdir/checkpoint_<iteration>`, `algo.save`) and a SavedModel
    (`logdir/saved_model`, `algo.export_policy_model`), and stops the
    algorithm.

    Args:
      run: an algorithm name (`tfpolicy.algorithms.get_algorithm_class`).
      env: an env id.
      config: the algorithm's config overrides. A stop on an `evaluation/`
        key sets `evaluation_interval` to 1 unless the config sets it.
      stop: result key (nested keys joined with '/') -> threshold; None: the
        env's gymnasium reward threshold on `evaluation/episode_reward_mean`
        with a `timesteps_total` cap of `DEFAULT_TIMESTEPS_CAP`.
      logdir: where to write; None: `~/tfpolicy_results/<run>_<env>_<time>`.
      checkpoint_freq: also save every this many iterations (0: never).
      checkpoint_at_end: save after the last iteration.
      verbose: report progress to `stream`.
      stream: the progress stream; default `sys.stdout`.

    Returns:
      A dict: 'result' (the last result dict), 'stop_reason' (e.g.
      "timesteps_total 100000 >= 100000"), 'iterations', 'checkpoint' (the
      last checkpoint's path, or None), 'export' (the SavedModel's path)
      and 'logdir'.

    Raises:
      ValueError: an unknown algorithm name, an invalid config or env id
        (the algorithm's errors).
    """
    quiet_tensorflow()
    stop = tuned.threshold_stop(env, DEFAULT_TIMESTEPS_CAP) if stop is None else dict(stop)
    logdir = os.path.abspath(os.fspath(logdir) if logdir is not None
                             else _default_logdir(f"{run}_{env}"))
    algo = _build_algorithm(_algorithm_class(run), env, _prepare_config(config or {}, stop))
    try:
        return _train(algo, stop, logdir, checkpoint_freq=checkpoint_freq,
                      checkpoint_at_end=checkpoint_at_end, description=f"{run} {env}",
                      stream=sys.stdout if stream is None else stream, verbose=verbose)
    finally:
        algo.stop()


# ---- command line ---------------------------------------------------------------------------


def _error(command: str, message: str) -> int:
    print(f"tfpolicy {command}: error: {message}", file=sys.stderr)
    return _EXIT_USAGE


def _setup_logging(quiet: bool) -> None:
    """Shows the library's INFO logs (which acting runtime runs, ...) on stderr, once."""
    logger = logging.getLogger("tfpolicy")
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    if not any(getattr(h, "_tfpolicy_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._tfpolicy_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def _json_argument(flag: str) -> Callable[[str], Dict[str, Any]]:
    def parse(text: str) -> Dict[str, Any]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise argparse.ArgumentTypeError(f"not valid JSON ({e}): {text!r}") from None
        if not isinstance(value, dict):
            raise argparse.ArgumentTypeError(
                f"expected a JSON object, got {type(value).__name__}: {text!r}")
        if flag == "--stop":
            try:
                tuned.check_stop(value, "--stop")
            except ValueError as e:
                raise argparse.ArgumentTypeError(str(e).removeprefix("--stop: ")) from None
        return value

    parse.__name__ = f"{flag} JSON"
    return parse


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected an int >= 1, got 0")
    return value


def _experiments_from_args(args: argparse.Namespace) -> Dict[str, Dict[str, Any]]:
    """The experiments to run, with the command-line flags applied; `_UsageError` if unusable."""
    if args.config_file:
        experiments = tuned.load_experiments(args.config_file)
        source = f"from {args.config_file}"
    else:
        if not args.run or not args.env:
            raise _UsageError("--run and --env are required (or -f FILE)")
        found = tuned.tuned_example_for(args.run, args.env)
        if found is not None:
            source = f"tuned example {found[0]}"
            experiment = dict(found[1], config=dict(found[1]["config"]))
        else:
            source = None
            experiment = {"run": args.run, "env": args.env, "stop": tuned.threshold_stop(
                args.env, DEFAULT_TIMESTEPS_CAP),
                          "config": {}, "checkpoint_freq": 0, "checkpoint_at_end": True}
        experiments = {f"{args.run}_{args.env}": experiment}
    for experiment in experiments.values():
        experiment["source"] = source
        if args.run:
            experiment["run"] = args.run
        if args.env:
            experiment["env"] = args.env
        if args.config is not None:
            experiment["config"] = merge_config(experiment["config"], args.config)
        if args.seed is not None:
            experiment["config"]["seed"] = args.seed
        if args.num_workers is not None:
            experiment["config"]["num_workers"] = args.num_workers
        if args.stop is not None:
            experiment["stop"] = args.stop
        if args.checkpoint_freq is not None:
            experiment["checkpoint_freq"] = args.checkpoint_freq
        if args.checkpoint_at_end is not None:
            experiment["checkpoint_at_end"] = args.checkpoint_at_end
    return experiments


def _print_summary(summary: Mapping[str, Any], stream: IO[str]) -> None:
    result = summary["result"]
    timesteps = int(result.get("timesteps_total", 0))
    seconds = float(result.get("time_total_s", 0.0))
    lines = [f"Stopped after {summary['iterations']} iterations ({timesteps:,} timesteps, "
             f"{seconds:.1f} s): {summary['stop_reason']}"]
    if summary["checkpoint"]:
        lines.append(f"Checkpoint  {summary['checkpoint']}")
    lines += [f"SavedModel  {summary['export']}",
              f"Logs        {summary['logdir']} (progress.csv; tensorboard --logdir "
              f"{summary['logdir']})",
              "",
              "Serve the policy from Python (numpy time steps in, actions out):",
              "    from savers import SavedModelPyTFEagerPolicy",
              f"    policy = SavedModelPyTFEagerPolicy({summary['export']!r})"
              "  # policy.action(time_step).action"]
    if summary["checkpoint"]:
        lines.append(f"Evaluate it:  tfpolicy evaluate {summary['checkpoint']} --episodes 10")
    lines.append(f"Describe it:  tfpolicy inspect {summary['export']}")
    stream.write("\n".join(lines) + "\n")
    stream.flush()


def _train_command(args: argparse.Namespace) -> int:
    try:
        experiments = _experiments_from_args(args)
    except (_UsageError, FileNotFoundError, ValueError) as e:
        return _error("train", str(e))
    _setup_logging(args.quiet)
    stream = sys.stdout
    for name, experiment in experiments.items():
        run, env, stop = experiment["run"], experiment["env"], experiment["stop"]
        if args.logdir is None:
            logdir = _default_logdir(name)
        elif len(experiments) == 1:
            logdir = args.logdir
        else:
            logdir = os.path.join(args.logdir, name)
        logdir = os.path.abspath(logdir)
        try:
            cls = _algorithm_class(run)
        except ValueError as e:  # an unknown name: the message lists the known ones
            return _error("train", f"{'--run' if args.run else 'run'} {run!r}: {e}")
        quiet_tensorflow()
        if args.ray_address is not None:
            from tfpolicy.evaluation.ray_session import init_ray
            try:
                init_ray(address=args.ray_address)
            except (ImportError, ConnectionError, RuntimeError) as e:
                return _error("train", f"--ray-address {args.ray_address!r}: {e}")
        try:
            algo = _build_algorithm(cls, env, _prepare_config(experiment["config"], stop))
        except ValueError as e:  # an invalid config or env: the message names the key
            return _error("train", str(e))
        if not args.quiet:
            source = f" ({experiment['source']})" if experiment["source"] else ""
            stream.write(f"Training {run} on {env}{source}\n"
                         f"  stop when {_describe_stop(stop)}\n  logdir {logdir}\n"
                         f"  acting through {getattr(algo, 'acting_summary', 'the TF bridge')}\n")
            stream.flush()
        try:
            summary = _train(algo, stop, logdir, checkpoint_freq=experiment["checkpoint_freq"],
                             checkpoint_at_end=experiment["checkpoint_at_end"],
                             description=f"{run} {env}", stream=stream, verbose=not args.quiet)
        except KeyboardInterrupt:
            print(f"\ntfpolicy train: interrupted; logs in {logdir}", file=sys.stderr)
            return _EXIT_INTERRUPTED
        finally:
            algo.stop()
        _print_summary(summary, stream)
    return 0


def _evaluate_command(args: argparse.Namespace) -> int:
    path = os.path.abspath(args.checkpoint)
    if not os.path.exists(path):
        return _error("evaluate", f"no checkpoint at {path}: it does not exist")
    _setup_logging(quiet=True)
    quiet_tensorflow()
    with native_log_filter():
        from tfpolicy.algorithms import Algorithm

        try:
            algo = Algorithm.from_checkpoint(path)
        except (OSError, ValueError) as e:
            inside = sorted(name for name in os.listdir(path)
                            if name.startswith("checkpoint_")) if os.path.isdir(path) else []
            hint = (f" (a logdir? its checkpoints: {', '.join(inside)}; the last is "
                    f"{os.path.join(path, inside[-1])})" if inside else "")
            return _error("evaluate", f"{e}{hint}")
    try:
        workers = getattr(algo, "evaluation_workers", None)
        worker = (algo.workers if workers is None else workers).local_worker()
        with native_log_filter():
            episodes = worker.sample_episodes(args.episodes, explore=args.explore)
    finally:
        algo.stop()
    returns = [float(episode.episode_reward) for episode in episodes]  # RolloutMetrics
    lengths = [int(episode.episode_length) for episode in episodes]
    report = {"checkpoint": path, "env": algo.config.get("env"), "explore": args.explore,
              "episodes": len(returns),
              "episode_reward_mean": sum(returns) / len(returns),
              "episode_reward_min": min(returns), "episode_reward_max": max(returns),
              "episode_len_mean": sum(lengths) / len(lengths),
              "episode_rewards": returns, "episode_lengths": lengths}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    mode = "exploring" if args.explore else "greedy"
    print(f"Checkpoint  {path}\n"
          f"Episodes    {len(returns)} {mode} episodes of {report['env']}\n"
          f"Return      mean {report['episode_reward_mean']:.2f}  "
          f"min {report['episode_reward_min']:.2f}  max {report['episode_reward_max']:.2f}\n"
          f"Length      mean {report['episode_len_mean']:.1f}")
    return 0


def _looks_missing(path: str) -> bool:
    """Nothing at `path` and no interrupted save beside it: answer without loading TensorFlow."""
    if os.path.lexists(path) or path.endswith(".tflite"):
        return False
    parent, name = os.path.split(os.path.abspath(path))
    return not (os.path.isdir(parent) and any(
        entry.startswith(f".{name}.old-") for entry in os.listdir(parent)))


def _inspect_command(args: argparse.Namespace) -> int:
    if _looks_missing(args.path):
        return _error("inspect", f"no exported policy at {args.path}: the directory does not "
                                 "exist")
    quiet_tensorflow()
    with native_log_filter():
        from savers import export_report

        try:
            report = export_report.inspect_path(args.path, load_saved_model=not args.specs_only)
        except (OSError, ValueError) as e:
            return _error("inspect", str(e))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        sys.stdout.write(export_report.format_report(report))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfpolicy",
        description="Train reinforcement-learning policies, evaluate checkpoints, and inspect "
                    "exported policies.",
        epilog="Example: tfpolicy train --run PPO --env CartPole-v1")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train an algorithm on an environment until a stop criterion holds",
        description="Train an algorithm (PG, A2C, PPO, SimpleQ, DQN or SAC) on an environment "
                    "until a stop criterion holds, then write a checkpoint and a SavedModel to "
                    "the logdir. Progress: a bar on a terminal, one line per iteration "
                    "otherwise; progress.csv and TensorBoard scalars in the logdir. When a "
                    "packaged tuned example matches --run and --env, its config and stop are "
                    "the defaults.",
        epilog="Examples: tfpolicy train --run PPO --env CartPole-v1;  "
               "tfpolicy train -f pendulum-sac.yaml --seed 1;  "
               "tfpolicy train --run DQN --env CartPole-v1 --config '{\"lr\": 0.0005}' "
               "--stop '{\"timesteps_total\": 50000}'")
    train.add_argument("--run", metavar="ALGO",
                       help="the algorithm: PG, A2C, PPO, SimpleQ, DQN or SAC")
    train.add_argument("--env", metavar="ENV", help="a gymnasium env id, e.g. CartPole-v1")
    train.add_argument("-f", "--config-file", metavar="FILE",
                       help="a YAML file of experiments ({name: {run, env, stop, config}}), or "
                            "the name of a packaged tuned example, e.g. cartpole-ppo.yaml; "
                            "other flags override it")
    train.add_argument("--config", metavar="JSON", type=_json_argument("--config"),
                       help="config overrides as a JSON object, e.g. '{\"lr\": 0.0003}'")
    train.add_argument("--stop", metavar="JSON", type=_json_argument("--stop"),
                       help="stop criteria, result key -> threshold, e.g. "
                            "'{\"evaluation/episode_reward_mean\": 475, "
                            "\"timesteps_total\": 100000}' (default: the tuned example's, else "
                            "the env's reward threshold)")
    train.add_argument("--checkpoint-freq", metavar="N", type=_non_negative_int,
                       help="also save a checkpoint every N iterations (default 0: never)")
    train.add_argument("--checkpoint-at-end", action=argparse.BooleanOptionalAction,
                       default=None, help="save a checkpoint after the last iteration "
                                          "(default: yes)")
    train.add_argument("--logdir", metavar="DIR",
                       help="where to write logs, checkpoints and the SavedModel (default: "
                            "~/tfpolicy_results/<run>_<env>_<time>)")
    train.add_argument("--seed", metavar="S", type=int, help="the config's seed")
    train.add_argument("--num-workers", metavar="N", type=_non_negative_int,
                       help="remote sampling workers on Ray (the config's num_workers; needs "
                            "the ray extra)")
    train.add_argument("--ray-address", metavar="ADDR",
                       help="join this Ray cluster ('auto': the one started on this machine "
                            "with `ray start --head`) instead of starting Ray in-process")
    train.add_argument("--quiet", action="store_true",
                       help="no progress output; only the final summary")
    train.set_defaults(handler=_train_command)

    evaluate = commands.add_parser(
        "evaluate", help="run episodes with a checkpoint's policy and print the returns",
        description="Restore an algorithm from a checkpoint (Algorithm.from_checkpoint) and run "
                    "episodes with its policy, greedy unless --explore; print the mean, min and "
                    "max return.")
    evaluate.add_argument("checkpoint", metavar="CHECKPOINT",
                          help="a checkpoint directory written by train (Algorithm.save)")
    evaluate.add_argument("--episodes", metavar="N", type=_positive_int, default=10,
                          help="how many episodes (default 10)")
    evaluate.add_argument("--explore", action="store_true",
                          help="sample actions as in training instead of acting greedily")
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.set_defaults(handler=_evaluate_command)

    inspect = commands.add_parser(
        "inspect", help="print the specs, signatures, metadata and train step of an export",
        description="Print the specs, signatures, distribution parameters, model variables, "
                    "metadata and train step of an export written by PolicySaver.save, or "
                    "the specs and signatures of a .tflite file written by export_lite. "
                    "Exit status 2 if PATH is not an export.")
    inspect.add_argument("path", metavar="PATH",
                         help="the export directory, or a LiteRT export's .tflite file")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.add_argument("--specs-only", action="store_true",
                         help="read policy_specs.json only, without loading the SavedModel "
                              "(fast; no train step or metadata values)")
    inspect.set_defaults(handler=_inspect_command)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the `tfpolicy` command line.

    Args:
      argv: the arguments after the program name; None reads `sys.argv`.

    Returns:
      The exit status: 0 on success, 2 for a usage error, an unusable file
      or config, or a path that is not an export (the reason on stderr), 130
      when training is interrupted.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits on --help and usage errors; report its status
        return e.code if isinstance(e.code, int) else _EXIT_USAGE
    handler: Optional[Callable[[argparse.Namespace], int]] = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return _EXIT_USAGE
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
