"""Tests for tfpolicy.evaluation.rollout_ops.synchronous_parallel_sample."""

import numpy as np
import pytest

from tfpolicy.evaluation import WorkerSet, synchronous_parallel_sample
from tfpolicy.learning import Policy, SampleBatch


class Left(Policy):
    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        return np.zeros(len(obs_batch), np.int64), [], {}

    def learn_on_batch(self, samples):
        return {}

    def get_weights(self):
        return {}

    def set_weights(self, weights):
        pass


@pytest.fixture
def workers():
    return WorkerSet("CartPole-v1", Left, {"rollout_fragment_length": 5,
                                           "num_envs_per_worker": 2, "seed": 0})


def test_one_round_without_a_limit(workers):
    assert len(synchronous_parallel_sample(workers)) == 10


@pytest.mark.parametrize("limit, rows", [(1, 10), (10, 10), (11, 20), (25, 30)])
def test_rounds_until_at_least_the_limit(workers, limit, rows):
    assert len(synchronous_parallel_sample(workers, max_env_steps=limit)) == rows
    assert len(synchronous_parallel_sample(workers, max_agent_steps=limit)) == rows


def test_the_list_of_batches_without_concat(workers):
    batches = synchronous_parallel_sample(workers, max_env_steps=15, concat=False)
    assert [len(b) for b in batches] == [10, 10]
    assert all(isinstance(b, SampleBatch) for b in batches)


def test_consecutive_rounds_continue_the_episodes(workers):
    batches = synchronous_parallel_sample(workers, max_env_steps=20, concat=False)
    before, after = batches[0][:5], batches[1][:5]  # environment 0's rows of each round
    ended = before["terminateds"][-1] or before["truncateds"][-1]
    assert after["t"][0] == (0 if ended else before["t"][-1] + 1)
    assert (after["eps_id"][0] == before["eps_id"][-1]) != ended


def test_limits_are_checked(workers):
    with pytest.raises(ValueError, match="give max_agent_steps or max_env_steps, not both"):
        synchronous_parallel_sample(workers, max_agent_steps=1, max_env_steps=1)
    with pytest.raises(ValueError, match="max_env_steps must be positive, got 0"):
        synchronous_parallel_sample(workers, max_env_steps=0)
