"""The `tfpolicy` command line: quick usage errors without TensorFlow, quiet TensorFlow,
tuned examples, and train / evaluate / inspect driven through a subprocess."""

import json
import os
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

from tfpolicy import cli
from tfpolicy.algorithms import ALGORITHMS, tuned

ROOT = pathlib.Path(__file__).resolve().parents[1]
NATIVE_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] ", flags=re.M)


def _env(**overrides) -> dict:
    """The subprocess environment: this one without a TF log level unless given."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(overrides)
    return env


def _tfpolicy(*argv, timeout=600, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tfpolicy.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=_env(**env), check=False)


# ---- usage errors answer without TensorFlow -------------------------------------------------


def test_help_exits_0_listing_the_commands_without_importing_tensorflow():
    code = ("import sys\n"
            "from tfpolicy import cli\n"
            "status = cli.main(['--help'])\n"
            "print('status', status, 'tensorflow' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=ROOT, env=_env(), check=True)
    assert result.stdout.rstrip().endswith("status 0 False")
    for command in ("train", "evaluate", "inspect"):
        assert command in result.stdout
    assert result.stderr == ""


def test_python_dash_m_help_exits_0_with_nothing_on_stderr():
    result = _tfpolicy("train", "--help", timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    for flag in ("--run", "--env", "-f", "--config", "--stop", "--checkpoint-freq",
                 "--checkpoint-at-end", "--logdir", "--seed", "--quiet", "--num-workers",
                 "--ray-address"):
        assert flag in result.stdout


@pytest.mark.parametrize("argv, flag", [
    (["train", "--run", "PPO", "--env", "CartPole-v1", "--config", "{lr: 1}"], "--config"),
    (["train", "--run", "PPO", "--env", "CartPole-v1", "--config", "[1, 2]"], "--config"),
    (["train", "--run", "PPO", "--env", "CartPole-v1", "--stop", "{\"timesteps_total\": \"x\"}"],
     "--stop"),
    (["train", "--run", "PPO", "--env", "CartPole-v1", "--checkpoint-freq", "-3"],
     "--checkpoint-freq"),
    (["evaluate", "somewhere", "--episodes", "0"], "--episodes"),
])
def test_a_bad_flag_value_exits_2_naming_the_flag(argv, flag, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}:" in err


def test_usage_errors_exit_2_without_importing_tensorflow(tmp_path):
    code = ("import sys\n"
            "from tfpolicy import cli\n"
            "codes = [cli.main(argv) for argv in (\n"
            "    [], ['train', '--bogus'], ['train', '--env', 'CartPole-v1'],\n"
            "    ['train', '--run', 'PPO', '--env', 'CartPole-v1', '--stop', '{'],\n"
            "    ['train', '-f', 'no-such-example.yaml'],\n"
            f"    ['inspect', {str(tmp_path / 'missing')!r}],\n"
            f"    ['evaluate', {str(tmp_path / 'missing')!r}])]\n"
            "print(codes, 'tensorflow' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=ROOT, env=_env(), check=True)
    assert result.stdout.strip() == "[2, 2, 2, 2, 2, 2, 2] False"
    err = result.stderr
    assert "unrecognized arguments: --bogus" in err
    assert "tfpolicy train: error: --run and --env are required (or -f FILE)" in err
    assert "argument --stop: not valid JSON" in err
    assert "-f: no file 'no-such-example.yaml', nor a tuned example" in err
    assert "cartpole-ppo.yaml" in err  # the tuned examples are listed
    assert f"tfpolicy inspect: error: no exported policy at {tmp_path / 'missing'}" in err
    assert f"tfpolicy evaluate: error: no checkpoint at {tmp_path / 'missing'}" in err
    assert not NATIVE_LOG_LINE.search(err)


def test_console_script_entry_point_is_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["tfpolicy"] == "tfpolicy.cli:main"


def test_num_workers_sets_the_config_key_and_rejects_negatives(capsys):
    args = cli._parser().parse_args(["train", "--run", "PPO", "--env", "CartPole-v1",
                                     "--num-workers", "3"])
    (experiment,) = cli._experiments_from_args(args).values()
    assert experiment["config"]["num_workers"] == 3
    assert cli.main(["train", "--run", "PPO", "--env", "CartPole-v1",
                     "--num-workers", "-1"]) == 2
    assert "--num-workers" in capsys.readouterr().err


def test_main_returns_2_for_usage_errors_and_0_for_help(capsys):
    assert cli.main([]) == 2
    assert "inspect" in capsys.readouterr().err
    assert cli.main(["inspect"]) == 2
    assert "PATH" in capsys.readouterr().err
    assert cli.main(["inspect", "--help"]) == 0
    assert "--specs-only" in capsys.readouterr().out


# ---- quiet TensorFlow -----------------------------------------------------------------------


def test_native_log_filter_drops_native_lines_below_the_level_and_keeps_the_rest(
        monkeypatch, capfd):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    with cli.native_log_filter():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\n")
        os.write(2, b"I0000 00:00:1796056587.942951   26644 port.cc:153] oneDNN custom "
                    b"operations are on.\n")
        os.write(2, b"W0000 00:00:1796056587.95   26644 loader.cc:9] a warning\n")
        os.write(2, b"E0000 00:00:1796056587.96   26644 cuda_platform.cc:52] failed call to "
                    b"cuInit\n")
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"a Python traceback line\n")
    err = capfd.readouterr().err
    assert err == ("E0000 00:00:1796056587.96   26644 cuda_platform.cc:52] failed call to "
                   "cuInit\na Python traceback line\n")


def test_native_log_filter_keeps_everything_at_level_0(monkeypatch, capfd):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    line = b"I0000 00:00:1796056587.942951   26644 port.cc:153] oneDNN custom operations\n"
    with cli.native_log_filter():
        os.write(2, line)
    assert capfd.readouterr().err == line.decode()


def test_quiet_tensorflow_imports_tensorflow_with_nothing_on_stderr():
    code = ("from tfpolicy.cli import quiet_tensorflow\n"
            "quiet_tensorflow()\n"
            "import os, tensorflow as tf\n"
            "print(float(tf.reduce_sum(tf.ones([3]))), os.environ['TF_CPP_MIN_LOG_LEVEL'])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT, env=_env(), check=True)
    assert result.stdout.strip() == "3.0 3"
    assert result.stderr == ""


def test_quiet_tensorflow_keeps_a_log_level_the_user_set(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    cli.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


# ---- inspect --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> pathlib.Path:
    import tensorflow as tf

    from savers import PolicySaver
    from specs import BoundedTensorSpec, TensorSpec
    from tfpolicy.policies import FixedPolicy
    from tfpolicy.trajectories import time_step as ts

    policy = FixedPolicy(1, ts.time_step_spec(TensorSpec([3], tf.float32, "obs")),
                         BoundedTensorSpec([], tf.int32, 0, 2, "move"))
    path = tmp_path_factory.mktemp("cli") / "policy"
    PolicySaver(policy, metadata={"lr": tf.Variable(0.25)},
                train_step=tf.Variable(42, dtype=tf.int64)).save(path)
    return path


def test_python_dash_m_inspect_prints_the_report_without_tensorflow_logs(export):
    result = _tfpolicy("inspect", export, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Export", str(export)]
    assert "Train step       42" in result.stdout
    assert result.stderr == ""


def test_inspect_of_a_missing_path_exits_2_with_the_loaders_message(tmp_path, capsys):
    assert cli.main(["inspect", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err == (f"tfpolicy inspect: error: no exported policy at {tmp_path / 'nowhere'}: "
                   "the directory does not exist\n")


# ---- tuned examples -------------------------------------------------------------------------


def test_every_tuned_example_parses_and_names_a_known_algorithm_and_env():
    import gymnasium

    names = tuned.tuned_examples()
    assert names == ["cartpole-a2c.yaml", "cartpole-dqn.yaml", "cartpole-pg.yaml",
                     "cartpole-ppo.yaml", "pendulum-ppo.yaml", "pendulum-sac.yaml"]
    seen = set()
    for name in names:
        experiments = tuned.load_experiments(name)
        assert len(experiments) == 1, name
        (experiment_name, experiment), = experiments.items()
        assert experiment_name == name.removesuffix(".yaml")
        assert experiment["run"] in ALGORITHMS, name
        assert gymnasium.spec(experiment["env"]).id == experiment["env"]
        stop = experiment["stop"]
        assert set(stop) == {"evaluation/episode_reward_mean", "timesteps_total"}, name
        assert experiment["config"]["evaluation_config"]["explore"] is False, name
        assert experiment["config"]["evaluation_interval"] >= 1, name
        seen.add((experiment["run"], experiment["env"], stop["evaluation/episode_reward_mean"]))
    assert seen == {("PPO", "CartPole-v1", 475), ("DQN", "CartPole-v1", 475),
                    ("A2C", "CartPole-v1", 475), ("PG", "CartPole-v1", 475),
                    ("SAC", "Pendulum-v1", -200), ("PPO", "Pendulum-v1", -200)}
    assert tuned.load_experiments("pendulum-sac")["pendulum-sac"]["stop"]["timesteps_total"] == 20000


def test_every_tuned_example_config_uses_only_its_algorithms_keys():
    import tfpolicy.algorithms as algorithms
    for name in tuned.tuned_examples():
        (experiment,) = tuned.load_experiments(name).values()
        defaults = algorithms.get_algorithm_class(experiment["run"]).get_default_config()
        unknown = sorted(set(experiment["config"]) - set(defaults))
        assert not unknown, f"{name}: keys not in {experiment['run']}'s config: {unknown}"


def test_load_experiments_reads_rllib_train_files_and_names_bad_keys(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("mine:\n  run: PPO\n  stop: {timesteps_total: 1000}\n"
                    "  config: {env: CartPole-v1, lr: 0.001}\n")
    assert tuned.load_experiments(path) == {"mine": {
        "run": "PPO", "env": "CartPole-v1", "stop": {"timesteps_total": 1000},
        "config": {"lr": 0.001}, "checkpoint_freq": 0, "checkpoint_at_end": True}}
    path.write_text("mine:\n  run: PPO\n  env: CartPole-v1\n  num_samples: 4\n")
    with pytest.raises(ValueError, match=r"experiment 'mine': unknown key\(s\) num_samples "
                                         r"\(allowed: run, env, stop, config"):
        tuned.load_experiments(path)
    path.write_text("mine:\n  env: CartPole-v1\n")
    with pytest.raises(ValueError, match=r"'run' \(an algorithm name\) and 'env' .* got "
                                         r"run=None, env='CartPole-v1'"):
        tuned.load_experiments(path)
    path.write_text("mine:\n  run: PPO\n  env: CartPole-v1\n  stop: {timesteps_total: many}\n")
    with pytest.raises(ValueError, match=r"stop: key 'timesteps_total': expected a number "
                                         r"threshold, got str 'many'"):
        tuned.load_experiments(path)
    with pytest.raises(FileNotFoundError, match="nor a tuned example"):
        tuned.load_experiments(tmp_path / "absent.yaml")


# ---- train and evaluate (need tfpolicy.algorithms) ------------------------------------------

TINY_PG = {"num_envs_per_worker": 1, "batch_mode": "truncate_episodes",
           "rollout_fragment_length": 100, "train_batch_size": 100, "evaluation_interval": 1,
           "evaluation_duration": 2, "model": {"fcnet_hiddens": [8]}}


def test_unknown_run_exits_2_naming_the_known_algorithms():
    result = _tfpolicy("train", "--run", "PPOO", "--env", "CartPole-v1", timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith("tfpolicy train: error: --run 'PPOO': ")
    for name in ALGORITHMS:
        assert name in result.stderr
    assert not NATIVE_LOG_LINE.search(result.stderr)


def test_an_unknown_run_in_a_file_or_a_bad_env_exits_2(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text("mine:\n  run: Nope\n  env: CartPole-v1\n")
    assert cli.main(["train", "-f", str(path), "--logdir", str(tmp_path / "logs")]) == 2
    assert capsys.readouterr().err.startswith("tfpolicy train: error: run 'Nope': ")
    assert cli.main(["train", "--run", "PG", "--env", "CartPol-v1",
                     "--logdir", str(tmp_path / "logs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfpolicy train: error: ") and "CartPol-v1" in err
    assert not (tmp_path / "logs").exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("train") / "run"
    result = _tfpolicy("train", "--run", "PG", "--env", "CartPole-v1", "--seed", 3,
                       "--config", json.dumps(TINY_PG), "--logdir", logdir,
                       "--stop", json.dumps({"training_iteration": 2, "episode_reward_man": 1e9}))
    return logdir, result


def test_train_prints_one_progress_line_per_iteration(trained):
    _, result = trained
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("iter ")]
    assert [line.split()[1] for line in lines] == ["1", "2"]
    assert re.fullmatch(r"iter +2  timesteps +200  return +\S+  eval +[\d.]+  steps/s +\d+  "
                        r"time +[\d.]+s", lines[1])
    assert "Training PG on CartPole-v1 (tuned example cartpole-pg.yaml)" in result.stdout
    assert "acting through LiteRT" in result.stdout
    assert "Stopped after 2 iterations (200 timesteps" in result.stdout
    assert "training_iteration 2 >= 2" in result.stdout


def test_train_writes_a_checkpoint_a_saved_model_and_logs(trained):
    logdir, result = trained
    assert result.returncode == 0, result.stderr[-3000:]
    assert (logdir / "checkpoint_000002").is_dir()
    assert (logdir / "saved_model" / "saved_model.pb").is_file()
    assert f"Checkpoint  {logdir / 'checkpoint_000002'}" in result.stdout
    assert f"SavedModel  {logdir / 'saved_model'}" in result.stdout
    assert f"SavedModelPyTFEagerPolicy({str(logdir / 'saved_model')!r})" in result.stdout
    rows = (logdir / "progress.csv").read_text().splitlines()
    assert len(rows) == 3
    header = rows[0].split(",")
    assert "episode_reward_mean" in header and "evaluation/episode_reward_mean" in header
    assert any(key.startswith("info/learner/default_policy/") for key in header)
    assert list(logdir.glob("events.out.tfevents.*"))


def test_train_warns_about_a_stop_key_the_results_lack_and_logs_nothing_native(trained):
    _, result = trained
    assert ("tfpolicy train: warning: stop key 'episode_reward_man' is not in the results, so "
            "it never stops the run (close: episode_reward_mean") in result.stderr
    assert not NATIVE_LOG_LINE.search(result.stderr), result.stderr[-3000:]
    assert "XNNPACK" not in result.stderr


def test_evaluate_runs_greedy_episodes_from_the_checkpoint(trained):
    logdir, _ = trained
    result = _tfpolicy("evaluate", logdir / "checkpoint_000002", "--episodes", 3, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["episodes"] == 3 and report["explore"] is False
    assert report["env"] == "CartPole-v1"
    returns = report["episode_rewards"]
    assert len(returns) == 3
    assert report["episode_reward_mean"] == pytest.approx(sum(returns) / 3)
    assert report["episode_reward_min"] == min(returns)
    assert report["episode_reward_max"] == max(returns)
    assert not NATIVE_LOG_LINE.search(result.stderr)


@pytest.mark.slow
def test_readme_main_command_trains_ppo_to_475(tmp_path):
    result = _tfpolicy("train", "--run", "PPO", "--env", "CartPole-v1", "--seed", "0",
                       "--logdir", tmp_path / "run", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"evaluation/episode_reward_mean \d+(\.\d+)? >= 475", result.stdout)
    assert (tmp_path / "run" / "saved_model" / "saved_model.pb").is_file()
