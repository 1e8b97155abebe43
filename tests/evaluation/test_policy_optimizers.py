"""The policy optimizers with the local worker only (the remote strategies are tested in
test_ray.py): step counts by hand, the learner's fetches, and the argument errors."""

import numpy as np
import pytest

from tfpolicy.evaluation import (AsyncGradientsOptimizer, AsyncSamplesOptimizer, RolloutWorker,
                                 SyncSamplesOptimizer, WorkerSet)
from tfpolicy.learning import Policy


class Counting(Policy):
    """Always pushes left; `learn_on_batch` and `apply_gradients` count what they get."""

    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.rows_learned = []
        self.applied = []

    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        return np.zeros(len(obs_batch), np.int64), [], {}

    def learn_on_batch(self, samples):
        self.rows_learned.append(len(samples))
        return {"learner_stats": {"rows": float(len(samples))}}

    def compute_gradients(self, samples):
        return [np.full(2, float(len(samples)))], {"learner_stats": {"rows": float(len(samples))}}

    def apply_gradients(self, gradients):
        self.applied.append(float(gradients[0][0]))

    def get_weights(self):
        return {}

    def set_weights(self, weights):
        pass


def local(fragment=30):
    return RolloutWorker("CartPole-v1", Counting, {"rollout_fragment_length": fragment,
                                                   "seed": 0})


def test_sync_samples_learns_on_whole_rounds_of_the_local_worker():
    worker = local()
    optimizer = SyncSamplesOptimizer(worker, [], train_batch_size=70, num_sgd_iter=2,
                                     sgd_minibatch_size=40, seed=0)
    fetches = optimizer.step()
    # 70 steps take three 30-step samples (90 rows); each of the two passes cuts them
    # into minibatches of 40, 40 and 10 rows, in a shuffled order.
    learned = worker.get_policy().rows_learned
    assert sorted(learned[:3]) == sorted(learned[3:]) == [10, 40, 40]
    assert optimizer.stats()["num_steps_sampled"] == optimizer.stats()["num_steps_trained"] == 90
    # The stats are the last pass's means: (40 + 40 + 10) / 3.
    assert fetches["default_policy"]["learner_stats"]["rows"] == pytest.approx(30.0)


def test_async_gradients_applies_grads_per_step_local_gradients():
    worker = local(fragment=20)
    optimizer = AsyncGradientsOptimizer(worker, [], grads_per_step=3)
    fetches = optimizer.step()
    assert worker.get_policy().applied == [20.0, 20.0, 20.0]
    assert optimizer.stats()["num_gradients_applied"] == 3
    assert optimizer.stats()["num_steps_sampled"] == 60
    assert worker.get_policy().global_timestep == 60
    assert fetches == {"default_policy": {"learner_stats": {"rows": 20.0}}}


def test_async_samples_without_remote_workers_learns_in_the_calling_thread():
    worker = local(fragment=100)
    optimizer = AsyncSamplesOptimizer(worker, [], train_batch_size=250)
    optimizer.step()
    optimizer.step()
    stats = optimizer.stats()
    assert worker.get_policy().rows_learned == [300, 300]
    assert (stats["num_steps_sampled"], stats["num_steps_trained"]) == (600, 600)
    assert stats["num_learner_updates"] == 2 and stats["policy_lag_max"] == 0
    assert not optimizer.learner.is_alive()
    optimizer.stop()


def test_collect_metrics_summarises_the_finished_episodes():
    worker = local(fragment=100)
    optimizer = SyncSamplesOptimizer(worker, [], train_batch_size=100)
    optimizer.step()
    result = optimizer.collect_metrics()
    # Always pushing left ends CartPole episodes within 100 steps.
    assert result["episodes_this_iter"] >= 1 and result["episode_reward_mean"] < 100
    assert result["info"]["num_steps_sampled"] == 100


@pytest.mark.parametrize("cls, kwargs, message", [
    (SyncSamplesOptimizer, {"train_batch_size": 0},
     "SyncSamplesOptimizer: train_batch_size must be an int in [1, inf), got 0"),
    (AsyncGradientsOptimizer, {"grads_per_step": 0},
     "AsyncGradientsOptimizer: grads_per_step must be an int in [1, inf), got 0"),
    (AsyncSamplesOptimizer, {"learner_queue_size": 0},
     "AsyncSamplesOptimizer: learner_queue_size must be an int in [1, inf), got 0"),
])
def test_sizes_out_of_range_are_named(cls, kwargs, message):
    with pytest.raises(ValueError) as info:
        cls(local(), [], **kwargs)
    assert str(info.value) == message


def test_a_worker_set_with_a_list_of_remote_workers_is_refused():
    workers = WorkerSet("CartPole-v1", Counting, {"rollout_fragment_length": 10})
    with pytest.raises(TypeError, match="give a WorkerSet or a local worker with "
                                        "remote_evaluators, not both"):
        SyncSamplesOptimizer(workers, [])
    workers.stop()
