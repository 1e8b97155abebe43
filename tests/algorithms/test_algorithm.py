"""The Algorithm: result dicts, evaluation, acting, exports, seeding, checkpoints that
resume exactly (in a new process too), variants and RLlib's documented training step."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tfpolicy.algorithms import PG, PPO, Algorithm, InvalidConfigError, train_one_step
from tfpolicy.algorithms.algorithm import NUM_AGENT_STEPS_SAMPLED, NUM_ENV_STEPS_SAMPLED
from tfpolicy.learning.postprocessing import standardize_fields

SMALL_PG = {"env": "CartPole-v1", "seed": 3, "train_batch_size": 200,
            "rollout_fragment_length": 100, "num_envs_per_worker": 2,
            "model": {"fcnet_hiddens": [16]}}
SMALL_PPO = {"env": "CartPole-v1", "seed": 5, "train_batch_size": 256,
             "rollout_fragment_length": 128, "sgd_minibatch_size": 64, "num_sgd_iter": 3,
             "lr": 1e-3, "model": {"fcnet_hiddens": [16]}}
TIME_KEYS = {"time_this_iter_s", "time_total_s"}

RESULT_KEYS = {"episode_reward_mean", "episode_reward_min", "episode_reward_max",
               "episode_len_mean", "episodes_this_iter", "timesteps_total",
               "time_this_iter_s", "time_total_s", "training_iteration", "info",
               "num_env_steps_sampled", "num_env_steps_trained", "hist_stats"}


def _comparable(result):
    return json.loads(json.dumps({k: v for k, v in result.items() if k not in TIME_KEYS},
                                 default=float))


def test_train_returns_rllib_result_dict():
    algo = PG(config=SMALL_PG)
    result = algo.train()
    assert RESULT_KEYS <= set(result)
    assert result["training_iteration"] == 1
    assert result["timesteps_total"] == 200 and result["num_env_steps_trained"] == 200
    learner = result["info"]["learner"]["default_policy"]
    assert {"policy_loss", "cur_lr"} <= set(learner["learner_stats"])
    assert result["episodes_this_iter"] == len(result["hist_stats"]["episode_reward"]) > 0
    assert result["episode_reward_min"] <= result["episode_reward_mean"] <= (
        result["episode_reward_max"])
    assert algo.train()["timesteps_total"] == 400
    algo.stop()


def test_same_seed_and_config_give_identical_results():
    first = PPO(config=SMALL_PPO)
    second = PPO(config=SMALL_PPO)
    for _ in range(2):
        assert _comparable(first.train()) == _comparable(second.train())
    first.stop()
    second.stop()


def test_evaluation_runs_greedy_episodes_on_its_own_environments():
    algo = PG(config=dict(SMALL_PG, evaluation_interval=2, evaluation_duration=3))
    assert "evaluation" not in algo.train()
    result = algo.train()
    assert result["evaluation"]["episodes_this_iter"] == 3
    # Evaluation leaves the sampling environments where they were.
    assert algo.train()["timesteps_total"] == 600
    algo.stop()


def test_compute_single_action_is_greedy_by_default():
    algo = PG(config=SMALL_PG)
    obs = np.array([0.01, -0.02, 0.03, 0.04], np.float32)
    actions = {int(algo.compute_single_action(obs)) for _ in range(20)}
    assert len(actions) == 1
    algo.stop()


def test_exports_serve_the_greedy_action(tmp_path):
    from savers import LitePyPolicy, SavedModelPyTFEagerPolicy
    from tfpolicy.trajectories import time_step as ts
    algo = PG(config=SMALL_PG)
    algo.train()
    algo.export_policy_model(tmp_path / "saved")
    algo.export_policy_lite(tmp_path / "policy.tflite")
    obs = np.array([0.01, -0.02, 0.03, 0.04], np.float32)
    expected = int(algo.compute_single_action(obs))
    step = ts.restart(obs)
    assert int(SavedModelPyTFEagerPolicy(str(tmp_path / "saved")).action(step).action) == expected
    assert int(LitePyPolicy(tmp_path / "policy.tflite").action(step).action) == expected
    algo.stop()


def test_resume_continues_exactly(tmp_path):
    uninterrupted = PPO(config=SMALL_PPO)
    for _ in range(3):
        uninterrupted.train()
    path = uninterrupted.save(tmp_path / "checkpoint")
    fourth = uninterrupted.train()
    restored = Algorithm.from_checkpoint(path)
    assert type(restored) is PPO and restored.iteration == 3
    assert _comparable(restored.train()) == _comparable(fourth)
    uninterrupted.stop()
    restored.stop()


def test_resume_in_a_new_process_continues_exactly(tmp_path):
    algo = PPO(config=SMALL_PPO)
    for _ in range(3):
        algo.train()
    path = algo.save(tmp_path / "checkpoint")
    fourth = _comparable(algo.train())
    script = textwrap.dedent(f"""
        import json
        from tfpolicy.algorithms import Algorithm
        algo = Algorithm.from_checkpoint({str(path)!r})
        result = algo.train()
        print(json.dumps({{k: v for k, v in result.items()
                           if k not in ("time_this_iter_s", "time_total_s")}}, default=float))
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert json.loads(out.stdout.strip().splitlines()[-1]) == fourth
    algo.stop()


def test_checkpoint_is_json_npz_and_policy_checkpoints_without_pickle(tmp_path):
    algo = PG(config=SMALL_PG)
    algo.train()
    path = pathlib.Path(algo.save(tmp_path / "checkpoint"))
    document = json.loads((path / "algorithm_state.json").read_text())
    assert document["format"] == "tfpolicy.algorithm_checkpoint"
    assert document["algorithm_class"] == "tfpolicy.algorithms.pg:PG"
    np.load(path / "arrays.npz", allow_pickle=False).files  # no object arrays
    assert (path / "policies" / "default_policy" / "policy_state.json").is_file()
    assert not list(path.rglob("*.pkl"))
    algo.stop()


def test_save_replaces_an_earlier_checkpoint_but_not_other_directories(tmp_path):
    algo = PG(config=SMALL_PG)
    algo.save(tmp_path / "checkpoint")
    algo.train()
    algo.save(tmp_path / "checkpoint")
    assert Algorithm.from_checkpoint(tmp_path / "checkpoint").iteration == 1
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        algo.save(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    algo.stop()


def test_from_checkpoint_of_a_policy_checkpoint_says_what_it_is(tmp_path):
    algo = PG(config=SMALL_PG)
    algo.get_policy().export_checkpoint(tmp_path / "policy")
    with pytest.raises(ValueError, match="it is a policy checkpoint"):
        Algorithm.from_checkpoint(tmp_path / "policy")
    with pytest.raises(FileNotFoundError):
        Algorithm.from_checkpoint(tmp_path / "missing")
    algo.stop()


def test_from_checkpoint_on_another_subclass_is_an_error(tmp_path):
    algo = PG(config=SMALL_PG)
    path = algo.save(tmp_path / "checkpoint")
    with pytest.raises(TypeError, match="holds a PG"):
        PPO.from_checkpoint(path)
    algo.stop()


def test_with_updates_replaces_the_policy_name_and_defaults():
    from tfpolicy.algorithms.pg import PGTFPolicy
    Custom = PG.with_updates(name="CustomPG", default_policy=PGTFPolicy.with_updates(
        name="OtherPolicy"), default_config={"lr": 0.5})
    assert Custom.__name__ == "CustomPG" and Custom.get_default_config()["lr"] == 0.5
    algo = Custom(config=SMALL_PG)
    assert type(algo.get_policy()).__name__ == "OtherPolicy"
    assert algo.get_default_policy_class(algo.config).__name__ == "OtherPolicy"
    algo.stop()


def test_rllib_documented_training_step_runs_as_written():
    # The shape of RLlib's documented PPO training_step, written against our API.
    from tfpolicy.algorithms.algorithm import synchronous_parallel_sample

    def training_step(self):
        train_batch = synchronous_parallel_sample(
            worker_set=self.workers, max_env_steps=self.config["train_batch_size"])
        train_batch = train_batch.as_multi_agent()
        self._counters[NUM_AGENT_STEPS_SAMPLED] += train_batch.agent_steps()
        self._counters[NUM_ENV_STEPS_SAMPLED] += train_batch.env_steps()
        train_batch = standardize_fields(train_batch, ["advantages"])
        train_results = train_one_step(self, train_batch)
        global_vars = {"timestep": self._counters[NUM_AGENT_STEPS_SAMPLED]}
        if self.workers.remote_workers():
            self.workers.sync_weights(global_vars=global_vars)
        for policy_id, policy_info in train_results.items():
            self.get_policy(policy_id).update_kl(policy_info["learner_stats"].get("kl"))
        self.workers.local_worker().set_global_vars(global_vars)
        return train_results

    MyPPO = PPO.with_updates(name="MyPPO", training_step=training_step)
    result = MyPPO(config=SMALL_PPO).train()
    assert result["timesteps_total"] == 256
    assert "kl" in result["info"]["learner"]["default_policy"]["learner_stats"]


def test_unknown_env_id_is_named_with_close_matches():
    with pytest.raises(ValueError, match=r"'env'.*CartPole-v9.*CartPole-v1"):
        PG(config=dict(SMALL_PG, env="CartPole-v9"))


def test_unsupported_space_is_named():
    from tfpolicy.algorithms import get_algorithm_class
    with pytest.raises(InvalidConfigError, match="action space"):
        get_algorithm_class("DQN")(config={"env": "Pendulum-v1"})


def test_get_algorithm_class_lists_known_names():
    from tfpolicy.algorithms import get_algorithm_class
    assert get_algorithm_class("PPO") is PPO
    with pytest.raises(ValueError, match=r"unknown algorithm 'PPO2'; known: \["):
        get_algorithm_class("PPO2")
