"""What a person sees while an algorithm trains, and what it leaves in the logdir.

Each `Algorithm.train()` call returns a result dict (RLlib's keys); the
loggers take one result at a time through `on_result(result)`:

- `ProgressReporter`: on a terminal, a progress bar of the timesteps with
  the mean return, the greedy (evaluation) return and steps/s; elsewhere (a
  pipe, a file, CI) one line per iteration, as `format_progress_line` writes.
- `CSVLogger(logdir)`: `progress.csv`, one row per result, one column per
  numeric leaf of the result (nested keys joined with '/').
- `TensorBoardLogger(logdir)`: a scalar summary (`tf.summary`) per numeric
  leaf, at step `timesteps_total`, readable by TensorBoard.
- `UnifiedLogger(logdir)`: the CSV and TensorBoard loggers together.

Nested results are flattened with '/' (`flatten_result`): the learner stats
of the default policy appear as
`info/learner/default_policy/learner_stats/policy_loss`, the evaluation's
mean return as `evaluation/episode_reward_mean`. Only numbers are logged:
lists (`hist_stats`), strings and booleans are left out, and so is the
`config` entry.

>>> result = {"training_iteration": 2, "timesteps_total": 8000,
...           "episode_reward_mean": 21.5, "time_this_iter_s": 2.0, "time_total_s": 4.1,
...           "hist_stats": {"episode_reward": [20.0, 23.0]},
...           "info": {"learner": {"default_policy": {"learner_stats": {"policy_loss": -0.25}}}}}
>>> flatten_result(result)["info/learner/default_policy/learner_stats/policy_loss"]
-0.25
>>> format_progress_line(result, steps_per_s=2000.0)
'iter    2  timesteps     8000  return    21.50  eval        -  steps/s    2000  time      4.1s'
"""

import abc
import contextlib
import csv
import io
import math
import numbers
import os
import pathlib
import sys
from typing import Any, Callable, Dict, IO, Iterable, List, Mapping, Optional, Sequence, Union

__all__ = [
    "CSVLogger",
    "Logger",
    "ProgressReporter",
    "TensorBoardLogger",
    "UnifiedLogger",
    "flatten_result",
    "format_progress_line",
]

PathLike = Union[str, "os.PathLike[str]"]

PROGRESS_FILE = "progress.csv"
_SKIPPED_KEYS = ("config",)  # result entries that are not metrics
_EVAL_RETURN = ("evaluation", "episode_reward_mean")


def flatten_result(result: Mapping[str, Any], sep: str = "/") -> Dict[str, float]:
    """The numeric leaves of a result dict, nested keys joined with `sep`.

    Args:
      result: a result dict as `Algorithm.train()` returns it (nested dicts
        of numbers, lists, strings, ...).
      sep: the separator of nested keys.

    Returns:
      An insertion-ordered dict of flat key -> Python int or float, for
      every int, float or 0-d numpy number in `result` (NaN included;
      booleans, strings, lists, arrays and the `config` entry left out).
    """
    flat: Dict[str, float] = {}

    def visit(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                visit(value, name + sep)
            elif getattr(value, "shape", None) == () and hasattr(value, "item"):
                value = value.item()  # a numpy scalar or 0-d array
                if isinstance(value, numbers.Real) and not isinstance(value, bool):
                    flat[name] = value
            elif isinstance(value, numbers.Real) and not isinstance(value, bool):
                flat[name] = value

    visit({k: v for k, v in result.items() if k not in _SKIPPED_KEYS}, "")
    return flat


def _number(result: Mapping[str, Any], *path: str) -> Optional[float]:
    """`result[path[0]][path[1]]...` as a float, None when absent or not a number."""
    node: Any = result
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    try:
        return float(node)
    except (TypeError, ValueError):
        return None


def _fmt(value: Optional[float], width: int, digits: int) -> str:
    if value is None or math.isnan(value):
        return "-".rjust(width)
    return f"{value:>{width}.{digits}f}"


def format_progress_line(result: Mapping[str, Any], steps_per_s: Optional[float]) -> str:
    """One line about one training iteration, for logs that are not a terminal.

    Fixed-width fields, so successive lines align: the iteration
    (`training_iteration`), `timesteps_total`, the mean return of the
    recent training episodes (`episode_reward_mean`), the greedy return of
    this iteration's evaluation (`evaluation/episode_reward_mean`; '-' when
    the iteration did not evaluate), the steps per second of this iteration
    and the total time (`time_total_s`). A missing or NaN value prints '-'.

    Args:
      result: one result dict.
      steps_per_s: the env steps per second of this iteration, or None.

    Returns:
      The line, without a newline.
    """
    iteration = _number(result, "training_iteration")
    timesteps = _number(result, "timesteps_total")
    return (f"iter {_fmt(iteration, 4, 0)}  timesteps {_fmt(timesteps, 8, 0)}  "
            f"return {_fmt(_number(result, 'episode_reward_mean'), 8, 2)}  "
            f"eval {_fmt(_number(result, *_EVAL_RETURN), 8, 2)}  "
            f"steps/s {_fmt(steps_per_s, 7, 0)}  "
            f"time {_fmt(_number(result, 'time_total_s'), 8, 1)}s")


class Logger(abc.ABC):
    """Receives each training result; subclasses write it somewhere."""

    @abc.abstractmethod
    def on_result(self, result: Mapping[str, Any]) -> None:
        """Records one result dict (one `train()` call)."""

    def flush(self) -> None:
        """Pushes buffered output to its destination."""

    def close(self) -> None:
        """Flushes and releases files; the logger takes no results afterwards."""
        self.flush()

    def __enter__(self) -> "Logger":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class ProgressReporter(Logger):
    """Training progress for a person: a bar on a terminal, one line per iteration elsewhere.

    On a terminal (`stream.isatty()`) a tqdm bar counts the env timesteps up
    to `total_timesteps` (the timesteps stop criterion; an open count when
    None) and shows the iteration, the mean training return, the latest
    greedy (evaluation) return and this iteration's steps/s. Elsewhere each
    result prints one `format_progress_line`.

    Steps per second are the iteration's env steps over `time_this_iter_s`
    (evaluation time included); the steps are `timesteps_this_iter` when the
    result has it, else the growth of `timesteps_total` since the previous
    result (since 0 for the first).

    Args:
      stream: where to write; default `sys.stdout`.
      total_timesteps: the bar's total, or None.
      description: the bar's label (e.g. "PPO CartPole-v1").
      tty: True for the bar, False for lines; None (default) asks the stream.
    """

    def __init__(self, stream: Optional[IO[str]] = None, total_timesteps: Optional[int] = None,
                 description: str = "", tty: Optional[bool] = None):
        self._stream = sys.stdout if stream is None else stream
        if tty is None:
            isatty = getattr(self._stream, "isatty", None)
            tty = bool(isatty()) if isatty is not None else False
        self._tty = tty
        self._total = total_timesteps
        self._description = description
        self._last_timesteps = 0.0
        self._last_eval: Optional[float] = None
        self._bar: Any = self._open_bar() if tty else None  # shown at once, elapsed time from now

    @property
    def is_bar(self) -> bool:
        """Whether the output is a progress bar (a terminal) rather than lines."""
        return self._tty

    def _open_bar(self) -> Any:
        from tqdm import tqdm

        if self._total:
            bar_format = ("{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps "
                          "[{elapsed}<{remaining}]{postfix}")
        else:
            bar_format = "{desc}{n_fmt} steps [{elapsed}]{postfix}"
        columns = None  # follow the terminal's width, unless it reports none (a bare pty)
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if os.get_terminal_size(self._stream.fileno()).columns <= 0:
                columns = 100
        return tqdm(total=self._total or None, file=self._stream, unit="step", unit_scale=True,
                    ncols=columns, dynamic_ncols=columns is None, bar_format=bar_format,
                    desc=f"{self._description}: " if self._description else "")

    def on_result(self, result: Mapping[str, Any]) -> None:
        timesteps = _number(result, "timesteps_total")
        seconds = _number(result, "time_this_iter_s")
        steps = _number(result, "timesteps_this_iter")
        if steps is None and timesteps is not None:
            steps = timesteps - self._last_timesteps
        steps_per_s = steps / seconds if steps is not None and seconds else None
        if timesteps is not None:
            self._last_timesteps = timesteps
        evaluated = _number(result, *_EVAL_RETURN)
        if evaluated is not None:
            self._last_eval = evaluated
        if not self._tty:
            self._stream.write(format_progress_line(result, steps_per_s) + "\n")
            self._stream.flush()
            return
        if self._bar is None:  # closed, and given another result
            self._bar = self._open_bar()
        if timesteps is not None and timesteps > self._bar.n:
            self._bar.update(timesteps - self._bar.n)
        parts = [f"iter {int(_number(result, 'training_iteration') or 0)}",
                 f"return {_fmt(_number(result, 'episode_reward_mean'), 0, 1)}"]
        if self._last_eval is not None:
            parts.append(f"greedy {_fmt(self._last_eval, 0, 1)}")
        if steps_per_s is not None:
            parts.append(f"{steps_per_s:,.0f} steps/s")
        self._bar.set_postfix_str(", ".join(parts))

    def write(self, message: str) -> None:
        """Prints a message line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(message, file=self._stream)
        else:
            self._stream.write(message + "\n")
            self._stream.flush()

    def flush(self) -> None:
        if self._bar is not None:
            self._bar.refresh()
        self._stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._stream.flush()


def _csv_text(header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


class CSVLogger(Logger):
    """Writes `progress.csv`: one row per result, one column per numeric leaf.

    The header is the first result's flattened keys (`flatten_result`), in
    order. A later result with new keys (the first evaluation, say) extends
    the header: the file is rewritten atomically (`savers.atomic`) with the
    new columns at the end, earlier rows empty there; a key missing from a
    result leaves its cell empty. An existing non-empty `progress.csv` (a run
    resumed into the same logdir) is continued, not replaced.

    Args:
      logdir: the directory; created if needed.
    """

    def __init__(self, logdir: PathLike):
        self._path = pathlib.Path(os.fspath(logdir)) / PROGRESS_FILE
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._header: List[str] = []
        self._file: Optional[IO[str]] = None
        if self._path.exists() and self._path.stat().st_size > 0:
            with open(self._path, newline="", encoding="utf-8") as f:
                self._header = next(csv.reader(f), [])

    @property
    def path(self) -> pathlib.Path:
        """The CSV file."""
        return self._path

    def _extend_header(self, new_keys: List[str]) -> None:
        from savers import atomic  # TensorFlow comes with savers: only when the header grows

        self.close()
        rows: List[Dict[str, str]] = []
        if self._path.exists():
            with open(self._path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        self._header = self._header + new_keys
        atomic.atomic_write_file(self._path, _csv_text(self._header, rows))

    def on_result(self, result: Mapping[str, Any]) -> None:
        flat = flatten_result(result)
        if not self._header:
            self._header = list(flat)
            self._path.write_text("", encoding="utf-8")
        else:
            new_keys = [key for key in flat if key not in self._header]
            if new_keys:
                self._extend_header(new_keys)
        if self._file is None:
            self._file = open(self._path, "a", newline="", encoding="utf-8")
            if self._path.stat().st_size == 0:
                self._file.write(_csv_text(self._header, []))
        csv.DictWriter(self._file, fieldnames=self._header, restval="",
                       lineterminator="\n").writerow(flat)
        self._file.flush()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TensorBoardLogger(Logger):
    """Writes each numeric leaf of each result as a TensorBoard scalar.

    The tag is the flattened key (`episode_reward_mean`,
    `info/learner/default_policy/learner_stats/policy_loss`), the step the
    result's `timesteps_total` (its `training_iteration` when absent), as
    RLlib's TensorBoard logger does. Summaries go through `tf.summary.write`
    with the scalar plugin's metadata, so TensorBoard shows them and the
    `tensorboard` package is not needed to write them. The event file is
    flushed after each result.

    Args:
      logdir: the directory of the event file; created if needed.
    """

    def __init__(self, logdir: PathLike):
        import tensorflow as tf

        self._tf = tf
        self._writer = tf.summary.create_file_writer(os.fspath(logdir))
        metadata = tf.compat.v1.SummaryMetadata(
            plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))
        metadata.data_class = 1  # DATA_CLASS_SCALAR
        self._metadata = metadata

    def on_result(self, result: Mapping[str, Any]) -> None:
        tf = self._tf
        step = _number(result, "timesteps_total")
        if step is None:
            step = _number(result, "training_iteration") or 0.0
        with self._writer.as_default(step=int(step)):
            for tag, value in flatten_result(result).items():
                tf.summary.write(tag, tf.constant(value, tf.float32), metadata=self._metadata)
        self._writer.flush()

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class UnifiedLogger(Logger):
    """Several loggers as one: by default `progress.csv` and TensorBoard scalars in `logdir`.

    Args:
      logdir: the directory every logger writes to.
      loggers: the loggers to build, each called as `make(logdir)`; default
        `(CSVLogger, TensorBoardLogger)`.
      reporter: optionally a `ProgressReporter` (or any logger) that also
        receives each result.
    """

    def __init__(self, logdir: PathLike,
                 loggers: Sequence[Callable[[pathlib.Path], Logger]] = (CSVLogger,
                                                                        TensorBoardLogger),
                 reporter: Optional[Logger] = None):
        self.logdir = pathlib.Path(os.fspath(logdir))
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._loggers: List[Logger] = [make(self.logdir) for make in loggers]
        if reporter is not None:
            self._loggers.append(reporter)

    def on_result(self, result: Mapping[str, Any]) -> None:
        for logger in self._loggers:
            logger.on_result(result)

    def flush(self) -> None:
        for logger in self._loggers:
            logger.flush()

    def close(self) -> None:
        for logger in self._loggers:
            logger.close()
