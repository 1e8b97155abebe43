"""Training output: the progress line and bar, progress.csv and the TensorBoard scalars,
fed with hand-built result dicts."""

import csv
import io
import math

import numpy as np
import pytest

from tfpolicy.algorithms import logger


def _result(iteration, timesteps, reward, seconds, evaluation=None, **extra):
    result = {
        "episode_reward_mean": reward,
        "episode_len_mean": 20.0,
        "episodes_this_iter": 5,
        "timesteps_total": timesteps,
        "training_iteration": iteration,
        "time_this_iter_s": seconds,
        "time_total_s": 2.0 * iteration,
        "done": False,
        "hist_stats": {"episode_reward": [reward, reward]},
        "config": {"lr": 0.001},
        "info": {"learner": {"default_policy": {"learner_stats": {
            "policy_loss": -0.5 * iteration, "cur_lr": np.float32(0.001)}}}},
    }
    if evaluation is not None:
        result["evaluation"] = {"episode_reward_mean": evaluation}
    result.update(extra)
    return result


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


# ---- flattening and the progress line -------------------------------------------------------


def test_flatten_result_joins_nested_keys_and_keeps_only_numbers():
    flat = logger.flatten_result(_result(3, 1200, float("nan"), 2.0, evaluation=150.0))
    assert list(flat) == [
        "episode_reward_mean", "episode_len_mean", "episodes_this_iter", "timesteps_total",
        "training_iteration", "time_this_iter_s", "time_total_s",
        "info/learner/default_policy/learner_stats/policy_loss",
        "info/learner/default_policy/learner_stats/cur_lr",
        "evaluation/episode_reward_mean"]
    assert math.isnan(flat["episode_reward_mean"])
    assert flat["info/learner/default_policy/learner_stats/policy_loss"] == -1.5
    cur_lr = flat["info/learner/default_policy/learner_stats/cur_lr"]
    assert type(cur_lr) is float and cur_lr == pytest.approx(0.001)
    assert flat["evaluation/episode_reward_mean"] == 150.0


def test_format_progress_line_has_fixed_width_fields():
    line = logger.format_progress_line(_result(12, 48000, 195.25, 2.5, evaluation=500.0),
                                       steps_per_s=1600.0)
    assert line == ("iter   12  timesteps    48000  return   195.25  eval   500.00  "
                    "steps/s    1600  time     24.0s")


def test_format_progress_line_writes_a_dash_for_missing_and_nan_values():
    line = logger.format_progress_line({"training_iteration": 1, "timesteps_total": 200,
                                        "episode_reward_mean": float("nan")}, steps_per_s=None)
    assert line == ("iter    1  timesteps      200  return        -  eval        -  "
                    "steps/s       -  time        -s")


# ---- ProgressReporter -----------------------------------------------------------------------


def test_progress_reporter_writes_one_line_per_iteration_off_a_terminal():
    stream = io.StringIO()
    reporter = logger.ProgressReporter(stream, total_timesteps=10000)
    assert not reporter.is_bar
    reporter.on_result(_result(1, 4000, 20.0, 2.0))
    reporter.on_result(_result(2, 8000, 35.5, 4.0, evaluation=120.0))
    reporter.close()
    assert stream.getvalue().splitlines() == [
        "iter    1  timesteps     4000  return    20.00  eval        -  steps/s    2000  "
        "time      2.0s",
        "iter    2  timesteps     8000  return    35.50  eval   120.00  steps/s    1000  "
        "time      4.0s"]


def test_progress_reporter_uses_timesteps_this_iter_when_the_result_has_it():
    stream = io.StringIO()
    reporter = logger.ProgressReporter(stream)
    reporter.on_result(_result(5, 90000, 20.0, 2.0, timesteps_this_iter=1000))
    assert "steps/s     500" in stream.getvalue()


def test_progress_reporter_draws_a_bar_on_a_terminal():
    stream = _Terminal()
    reporter = logger.ProgressReporter(stream, total_timesteps=8000, description="PPO CartPole-v1")
    assert reporter.is_bar
    reporter.on_result(_result(1, 4000, 20.0, 2.0, evaluation=120.0))
    reporter.on_result(_result(2, 8000, 35.5, 4.0))
    reporter.write("a message")
    reporter.close()
    text = stream.getvalue()
    last = text.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("PPO CartPole-v1: 100%|")
    assert "8.00k/8.00k steps" in last
    assert "iter 2, return 35.5, greedy 120.0, 1,000 steps/s" in last
    assert "a message\n" in text
    assert "iter    1  timesteps" not in text  # no line output on a terminal


# ---- CSVLogger ------------------------------------------------------------------------------


def test_csv_logger_writes_a_header_and_a_row_per_result(tmp_path):
    with logger.CSVLogger(tmp_path) as csv_logger:
        csv_logger.on_result(_result(1, 4000, 20.0, 2.0))
        csv_logger.on_result(_result(2, 8000, 35.5, 4.0))
    rows = _csv_rows(tmp_path / "progress.csv")
    assert rows[0] == ["episode_reward_mean", "episode_len_mean", "episodes_this_iter",
                       "timesteps_total", "training_iteration", "time_this_iter_s",
                       "time_total_s", "info/learner/default_policy/learner_stats/policy_loss",
                       "info/learner/default_policy/learner_stats/cur_lr"]
    assert rows[1][:8] == ["20.0", "20.0", "5", "4000", "1", "2.0", "2.0", "-0.5"]
    assert rows[2][:8] == ["35.5", "20.0", "5", "8000", "2", "4.0", "4.0", "-1.0"]
    assert len(rows) == 3


def test_csv_logger_extends_the_header_when_new_keys_appear(tmp_path):
    csv_logger = logger.CSVLogger(tmp_path)
    csv_logger.on_result({"training_iteration": 1, "episode_reward_mean": 10.0})
    csv_logger.on_result({"training_iteration": 2, "episode_reward_mean": 12.0,
                          "evaluation": {"episode_reward_mean": 50.0}})
    csv_logger.on_result({"training_iteration": 3})
    csv_logger.close()
    assert _csv_rows(tmp_path / "progress.csv") == [
        ["training_iteration", "episode_reward_mean", "evaluation/episode_reward_mean"],
        ["1", "10.0", ""],
        ["2", "12.0", "50.0"],
        ["3", "", ""]]
    assert [p.name for p in tmp_path.iterdir()] == ["progress.csv"]  # no temporary left


def test_csv_logger_continues_an_existing_file(tmp_path):
    with logger.CSVLogger(tmp_path) as first:
        first.on_result({"training_iteration": 1, "timesteps_total": 100})
    with logger.CSVLogger(tmp_path) as resumed:
        resumed.on_result({"training_iteration": 2, "timesteps_total": 200})
    assert _csv_rows(tmp_path / "progress.csv") == [
        ["training_iteration", "timesteps_total"], ["1", "100"], ["2", "200"]]


# ---- TensorBoardLogger and UnifiedLogger ----------------------------------------------------


def _scalars(logdir):
    """{tag: [(step, value)]} read back from the event files in `logdir`."""
    import tensorflow as tf

    scalars = {}
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "scalars"
                scalars.setdefault(value.tag, []).append(
                    (event.step, float(tf.make_ndarray(value.tensor))))
    return scalars


def test_tensorboard_logger_writes_every_numeric_leaf_at_the_timesteps(tmp_path):
    with logger.TensorBoardLogger(tmp_path) as tb:
        tb.on_result(_result(1, 4000, 20.0, 2.0))
        tb.on_result(_result(2, 8000, 35.5, 4.0, evaluation=120.0))
    scalars = _scalars(tmp_path)
    assert set(scalars) == set(logger.flatten_result(_result(2, 8000, 35.5, 4.0,
                                                             evaluation=120.0)))
    assert scalars["episode_reward_mean"] == [(4000, 20.0), (8000, 35.5)]
    assert scalars["info/learner/default_policy/learner_stats/policy_loss"] == [
        (4000, -0.5), (8000, -1.0)]
    assert scalars["evaluation/episode_reward_mean"] == [(8000, 120.0)]


def test_unified_logger_feeds_csv_tensorboard_and_the_reporter(tmp_path):
    stream = io.StringIO()
    reporter = logger.ProgressReporter(stream)
    with logger.UnifiedLogger(tmp_path / "run", reporter=reporter) as unified:
        unified.on_result(_result(1, 4000, 20.0, 2.0))
    assert len(_csv_rows(tmp_path / "run" / "progress.csv")) == 2
    assert _scalars(tmp_path / "run")["timesteps_total"] == [(4000, 4000.0)]
    assert stream.getvalue().startswith("iter    1  timesteps     4000")
