"""Tests for tfpolicy.evaluation.worker_set: the local worker, weights and global vars,
iteration over workers and policies, and the num_workers errors (the remote workers
are tested in test_ray.py, on one Ray session)."""

import numpy as np
import pytest

from tfpolicy.evaluation import RolloutWorker, WorkerSet
from tfpolicy.learning import DEFAULT_POLICY_ID, Policy


class Weighted(Policy):
    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.w = np.zeros(2)

    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        return np.zeros(len(obs_batch), np.int64), [], {}

    def learn_on_batch(self, samples):
        return {}

    def get_weights(self):
        return {"w": self.w.copy()}

    def set_weights(self, weights):
        self.w = np.array(weights["w"])


def make(**config):
    return WorkerSet("CartPole-v1", Weighted, dict({"rollout_fragment_length": 3, "seed": 0},
                                                   **config))


def test_the_local_worker_is_worker_zero_and_there_are_no_remote_workers():
    workers = make(num_envs_per_worker=2)
    local = workers.local_worker()
    assert isinstance(local, RolloutWorker) and local.worker_index == 0
    assert workers.remote_workers() == [] and workers.num_remote_workers() == 0
    assert len(local.sample()) == 6


def test_a_negative_num_workers_is_rejected_naming_the_key_and_range():
    with pytest.raises(ValueError) as info:
        WorkerSet("CartPole-v1", Weighted, {}, num_workers=-1)
    assert str(info.value) == "config key 'num_workers': expected an int in [0, inf), got -1"


def test_without_ray_remote_workers_name_the_extra(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ImportError) as info:
        WorkerSet("CartPole-v1", Weighted, {}, num_workers=1)
    assert 'pip install "tfpolicy[ray]"' in str(info.value)


def test_sync_weights_passes_global_vars_to_the_local_worker():
    workers = make()
    workers.sync_weights(global_vars={"timestep": 42})
    assert workers.local_worker().get_policy().global_timestep == 42
    workers.sync_weights(policies=[DEFAULT_POLICY_ID])


def test_foreach_worker_and_foreach_policy():
    workers = make()
    assert workers.foreach_worker(lambda w: w.worker_index) == [0]
    assert workers.foreach_worker(lambda w: 1, local_worker=False) == []
    assert workers.foreach_policy(lambda policy, pid: (pid, policy.w.sum())) == [
        (DEFAULT_POLICY_ID, 0.0)]


def test_stop_closes_the_environments():
    workers = make()
    closed = []
    workers.local_worker().env.close = lambda: closed.append(True)
    workers.stop()
    assert closed == [True]
