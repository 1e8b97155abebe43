"""The remote half of tfpolicy.evaluation, on one Ray session shared by this whole module.

Remote workers (`RolloutWorker.as_remote`), `WorkerSet` weight syncing and fault
tolerance (a worker killed with `ray.kill` in the middle of `sample()`), the policy
optimizers, the documented `PolicyEvaluator` loop, a multi-agent remote worker whose
`PolicyMap` stashes policies to disk, and the algorithms with `num_workers > 0`.
"""

import sys
import threading
import time

import cloudpickle
import gymnasium as gym
import numpy as np
import pytest

ray = pytest.importorskip("ray")

from tfpolicy.algorithms import A3C, PPO  # noqa: E402
from tfpolicy.algorithms.pg import PGTFPolicy  # noqa: E402
from tfpolicy.environments import GymnasiumEnvironment  # noqa: E402
from tfpolicy.evaluation import (AsyncGradientsOptimizer, AsyncSamplesOptimizer,  # noqa: E402
                                 PolicyEvaluator, RolloutWorker, SyncSamplesOptimizer,
                                 WorkerFailureError, WorkerSet, init_ray,
                                 synchronous_parallel_sample)
from tfpolicy.learning import DEFAULT_POLICY_ID, MultiAgentBatch, Policy, SampleBatch  # noqa

# The actors import what they run by reference; this module is not importable there.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

TINY = {"model": {"fcnet_hiddens": [16]}, "seed": 0, "lr": 0.01}


@pytest.fixture(scope="module", autouse=True)
def ray_session():
    """One local Ray for the module: 8 logical CPUs, so a few worker sets fit at once."""
    module = init_ray(num_cpus=8)
    yield module
    module.shutdown()


class SlowCartPole(gym.Wrapper):
    """CartPole that takes 2 ms a step, so a `sample()` lasts long enough to be killed."""

    def step(self, action):
        time.sleep(0.002)
        return self.env.step(action)


def slow_cartpole(env_context):
    return GymnasiumEnvironment(SlowCartPole(gym.make("CartPole-v1")))


def _kill_soon(actor, delay):
    timer = threading.Timer(delay, lambda: ray.kill(actor))
    timer.start()
    return timer


def _weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(_leaves(a), _leaves(b)))


def _leaves(weights):
    import tree
    return [np.asarray(leaf) for leaf in tree.flatten(weights)]


# ---- WorkerSet --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_workers():
    workers = WorkerSet("CartPole-v1", PGTFPolicy,
                        dict(TINY, rollout_fragment_length=25, num_envs_per_worker=2),
                        num_workers=2)
    yield workers
    workers.stop()


def test_remote_workers_have_their_indices_and_the_local_weights(pg_workers):
    assert pg_workers.num_remote_workers() == 2
    assert pg_workers.remote_worker_indices() == [1, 2]
    assert pg_workers.foreach_worker(lambda w: w.worker_index) == [0, 1, 2]
    assert pg_workers.foreach_policy(lambda policy, pid: pid) == [DEFAULT_POLICY_ID] * 3
    local = pg_workers.local_worker().get_weights()
    for actor in pg_workers.remote_workers():
        assert _weights_equal(ray.get(actor.get_weights.remote()), local)


def test_after_sync_weights_every_worker_has_the_learned_weights(pg_workers):
    local = pg_workers.local_worker()
    before = local.get_weights()
    batch = synchronous_parallel_sample(pg_workers, max_env_steps=100)
    local.learn_on_batch(batch)
    after = local.get_weights()
    assert not _weights_equal(before, after)
    pg_workers.sync_weights(global_vars={"timestep": 1234})
    for actor in pg_workers.remote_workers():
        assert _weights_equal(ray.get(actor.get_weights.remote()), after)
    timesteps = pg_workers.foreach_worker(lambda w: w.get_policy().global_timestep)
    assert timesteps == [1234, 1234, 1234]


def test_a_round_samples_every_remote_worker_once(pg_workers):
    # 2 workers x 2 envs x 25 steps = 100 rows a round; 150 steps need two rounds.
    batch = synchronous_parallel_sample(pg_workers, max_env_steps=150)
    assert batch.count == 200
    assert sorted(set(np.asarray(batch[SampleBatch.UNROLL_ID]) >> 32)) == [1, 2]


def test_a_remote_worker_samples_what_a_local_worker_with_its_index_samples(pg_workers):
    pg_workers.sync_weights()
    actor = pg_workers.remote_workers()[0]
    twin = RolloutWorker("CartPole-v1", PGTFPolicy,
                         dict(TINY, rollout_fragment_length=25, num_envs_per_worker=2),
                         worker_index=1, num_workers=2)
    twin.set_state(ray.get(actor.get_state.remote()))
    twin.set_weights(pg_workers.local_worker().get_weights())
    remote, local = ray.get(actor.sample.remote()), twin.sample()
    for column in ("obs", "actions", "rewards", "action_logp", "advantages", "unroll_id"):
        np.testing.assert_array_equal(np.asarray(remote[column]), np.asarray(local[column]))
    twin.stop()


def test_sync_samples_optimizer_gathers_learns_and_broadcasts(pg_workers):
    optimizer = SyncSamplesOptimizer(pg_workers, train_batch_size=100)
    fetches = optimizer.step()
    assert set(fetches) == {DEFAULT_POLICY_ID}
    assert optimizer.stats()["num_steps_sampled"] == 100
    assert optimizer.stats()["num_weight_syncs"] == 1
    local = pg_workers.local_worker().get_weights()
    for actor in pg_workers.remote_workers():
        assert _weights_equal(ray.get(actor.get_weights.remote()), local)


def test_async_gradients_optimizer_applies_every_gradient(pg_workers):
    optimizer = AsyncGradientsOptimizer(pg_workers, grads_per_step=6)
    before = pg_workers.local_worker().get_weights()
    optimizer.step()
    stats = optimizer.stats()
    assert stats["num_gradients_applied"] == 6
    # Each gradient is one sample(): 2 envs x 25 steps.
    assert stats["num_steps_sampled"] == 6 * 50
    assert not _weights_equal(before, pg_workers.local_worker().get_weights())
    optimizer.stop()


def test_the_seeds_async_samples_loop_runs_as_written(pg_workers):
    local_evaluator = pg_workers.local_worker()
    remote_evaluators = pg_workers.remote_workers()
    optimizer = AsyncSamplesOptimizer(local_evaluator, remote_evaluators, train_batch_size=500)
    try:
        while True:
            optimizer.step()
            if optimizer.stats()["num_steps_trained"] >= 1500:
                break
    finally:
        optimizer.stop()
    stats = optimizer.stats()
    assert stats["num_learner_updates"] >= 3
    assert stats["learner_queue_max"] <= stats["learner_queue_capacity"] == 16
    assert stats["policy_lag_max"] >= stats["policy_lag_mean"] >= 0.0
    # Every batch was sampled before the update that consumes it.
    assert stats["num_steps_sampled"] >= stats["num_steps_trained"]


def test_a_failing_learner_thread_is_reported_by_the_next_step(pg_workers):
    optimizer = AsyncSamplesOptimizer(pg_workers, train_batch_size=100)

    def learn(batch, version):
        raise ValueError(f"no update on {batch.count} rows")

    optimizer.learner.learn = learn
    try:
        with pytest.raises(RuntimeError) as info:
            for _ in range(50):
                optimizer.step()
        assert str(info.value) == ("AsyncSamplesOptimizer: the learner thread failed: "
                                   "ValueError: no update on 100 rows")
    finally:
        optimizer.stop()


# ---- fault tolerance -------------------------------------------------------------------------
# One set of two slow workers (a sample() takes at least 0.4 s) goes through the three
# policies in turn: recreate, then ignore, then neither.


@pytest.fixture(scope="module")
def slow_workers():
    workers = WorkerSet(slow_cartpole, PGTFPolicy,
                        dict(TINY, rollout_fragment_length=200, recreate_failed_workers=True),
                        num_workers=2)
    yield workers
    workers.stop()


def test_a_killed_worker_is_recreated_and_the_round_still_has_every_step(slow_workers):
    workers = slow_workers
    local = workers.local_worker()
    local.learn_on_batch(local.sample())
    workers.sync_weights()
    victim = workers.remote_workers()[0]
    timer = _kill_soon(victim, 0.2)
    batch = synchronous_parallel_sample(workers, max_env_steps=400)
    timer.join()
    assert batch.count == 400  # one whole fragment from each worker, none twice
    assert workers.num_worker_restarts == 1
    assert workers.remote_worker_indices() == [1, 2]
    assert workers.remote_workers()[0] is not victim
    assert _weights_equal(ray.get(workers.remote_workers()[0].get_weights.remote()),
                          local.get_weights())
    unrolls = np.asarray(batch[SampleBatch.UNROLL_ID])
    assert sorted(set(unrolls >> 32)) == [1, 2]
    assert len(set(unrolls)) == 2  # one unroll per worker: no partial batch


def test_ignore_worker_failures_carries_on_with_the_others(slow_workers):
    workers = slow_workers
    workers.recreate_failed_workers, workers.ignore_worker_failures = False, True
    timer = _kill_soon(workers.remote_workers()[1], 0.2)
    batch = synchronous_parallel_sample(workers, max_env_steps=400)
    timer.join()
    assert workers.remote_worker_indices() == [1]
    assert batch.count == 400  # two rounds of the one worker left
    assert sorted(set(np.asarray(batch[SampleBatch.UNROLL_ID]) >> 32)) == [1]


def test_without_either_flag_the_error_names_the_worker_and_the_cause(slow_workers):
    workers = slow_workers
    workers.recreate_failed_workers, workers.ignore_worker_failures = False, False
    timer = _kill_soon(workers.remote_workers()[0], 0.2)
    with pytest.raises(WorkerFailureError) as info:
        synchronous_parallel_sample(workers, max_env_steps=200)
    timer.join()
    message = str(info.value)
    assert message.startswith("remote worker 1 (of 2) failed during sample(): ")
    assert "ActorDiedError" in message or "RayActorError" in message
    assert "killed" in message
    assert "recreate_failed_workers=True" in message


# ---- the documented loop --------------------------------------------------------------------


class CustomPolicy(Policy):
    """A linear softmax policy on numpy, trained by REINFORCE on whole batches."""

    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.w = np.zeros((4, 2))
        self.rng = np.random.default_rng(0)

    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        logits = np.asarray(obs_batch) @ self.w
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        return (self.rng.random(len(p)) > p[:, 0]).astype(np.int64), [], {}

    def learn_on_batch(self, samples):
        self.w += 0.001 * np.asarray(samples["obs"]).T @ np.eye(2)[samples["actions"]]
        return {}

    def get_weights(self):
        return {"w": self.w.copy()}

    def set_weights(self, weights):
        self.w = np.array(weights["w"])


def test_the_documented_policy_evaluator_loop_runs_as_written():
    env = gym.make("CartPole-v1")
    policy = CustomPolicy(env.observation_space, env.action_space, {})
    workers = [PolicyEvaluator.as_remote().remote(lambda c: gym.make("CartPole-v1"),
                                                  CustomPolicy)
               for _ in range(2)]
    try:
        for _ in range(2):
            # Gather a batch of samples
            T1 = SampleBatch.concat_samples(ray.get([w.sample.remote() for w in workers]))
            # Improve the policy using the T1 batch
            policy.learn_on_batch(T1)
            # Broadcast weights to the policy evaluation workers
            weights = ray.put({"default_policy": policy.get_weights()})
            for w in workers:
                w.set_weights.remote(weights)
        assert T1.count == 2 * 200  # RLlib's default rollout_fragment_length
        for w in workers:
            remote = ray.get(w.get_weights.remote())["default_policy"]["w"]
            np.testing.assert_array_equal(remote, policy.w)
        assert PolicyEvaluator is RolloutWorker
    finally:
        for w in workers:
            ray.kill(w)


# ---- multi-agent on a remote worker ------------------------------------------------------------


def rps_mapping(agent_id, episode, worker, **kwargs):
    """player1 learns; player2 is a heuristic, a different one every other episode."""
    if agent_id == "player1":
        return "learned"
    return "always_same" if episode.episode_id % 2 else "beat_last"


def test_a_remote_multi_agent_worker_routes_rows_and_stashes_policies():
    from tfpolicy.evaluation import PolicySpec
    from tfpolicy.examples import AlwaysSameHeuristic, BeatLastHeuristic, RockPaperScissors

    config = dict(TINY, rollout_fragment_length=30, multiagent={
        "policies": {"learned": PolicySpec(PGTFPolicy),
                     "always_same": PolicySpec(AlwaysSameHeuristic),
                     "beat_last": PolicySpec(BeatLastHeuristic)},
        "policy_mapping_fn": rps_mapping, "policies_to_train": ["learned"],
        # Two policies fit in memory: the heuristic of the other episodes is stashed.
        "policy_map_capacity": 2})
    workers = WorkerSet(lambda context: RockPaperScissors(), None, config, num_workers=1)
    try:
        (actor,) = workers.remote_workers()
        batch = ray.get(actor.sample.remote())
        assert isinstance(batch, MultiAgentBatch) and batch.env_steps() == 30
        learned = batch.policy_batches["learned"]
        assert learned.count == 30  # player1 acts every round
        assert set(np.asarray(learned[SampleBatch.AGENT_INDEX])) == {0}
        heuristics = [batch.policy_batches[p] for p in ("always_same", "beat_last")
                      if p in batch.policy_batches]
        assert sum(b.count for b in heuristics) == 30
        for b in heuristics:
            assert set(np.asarray(b[SampleBatch.AGENT_INDEX])) == {1}
        # beat_last answers the move it sees: its action beats player1's previous move.
        if "beat_last" in batch.policy_batches:
            b = batch.policy_batches["beat_last"]
            np.testing.assert_array_equal(np.asarray(b["actions"]),
                                          (np.asarray(b["obs"]) + 1) % 3)
        stashed = ray.get(actor.apply.remote(lambda w: w.policy_map.stashed_ids()))
        assert len(stashed) == 1 and stashed[0] in ("always_same", "beat_last")
        # The learner's weights reach the remote worker, and its stash round-trips them.
        local = workers.local_worker()
        local.learn_on_batch(batch)
        workers.sync_weights(policies=["learned"])
        assert _weights_equal(ray.get(actor.get_weights.remote(["learned"]))["learned"],
                              local.get_policy("learned").get_weights())

        def stash_and_restore(worker):
            from tfpolicy.evaluation import PolicyMap
            policy = worker.get_policy("learned")
            before = policy.get_state()
            small = PolicyMap(capacity=1)
            small["learned"] = policy
            small["other"] = worker.get_policy("beat_last")  # stashes "learned"
            assert small.stashed_ids() == ["learned"]
            after = small["learned"].get_state()  # rebuilt from the stash
            small.close()
            import tree
            return all(np.array_equal(np.asarray(a), np.asarray(b))
                       for a, b in zip(tree.flatten(before["weights"]),
                                       tree.flatten(after["weights"])))

        assert ray.get(actor.apply.remote(stash_and_restore))
    finally:
        workers.stop()


# ---- algorithms with remote workers ------------------------------------------------------------


def test_ppo_with_two_remote_workers_counts_every_step_and_syncs():
    algo = PPO(config=dict(TINY, env="CartPole-v1", num_workers=2, num_envs_per_worker=2,
                           rollout_fragment_length=50, train_batch_size=200,
                           sgd_minibatch_size=100, num_sgd_iter=2))
    try:
        first = algo.train()
        second = algo.train()
        assert first["timesteps_this_iter"] == 200 and second["timesteps_total"] == 400
        assert second["num_env_steps_trained"] == 400
        assert second["num_healthy_workers"] == 2
        assert second["episodes_total"] == first["episodes_total"] + second["episodes_this_iter"]
        local = algo.workers.local_worker().get_weights()
        for actor in algo.workers.remote_workers():
            assert _weights_equal(ray.get(actor.get_weights.remote()), local)
    finally:
        algo.stop()


def test_a3c_applies_its_workers_gradients_as_they_arrive():
    algo = A3C(config=dict(TINY, env="CartPole-v1", num_workers=2, grads_per_step=8))
    try:
        before = algo.get_policy().get_weights()
        result = algo.train()
        # 8 gradients of one 10-step fragment each.
        assert result["timesteps_this_iter"] == 80
        assert algo.optimizer.num_gradients_applied == 8
        assert not _weights_equal(before, algo.get_policy().get_weights())
        assert "policy_loss" in result["info"]["learner"]["default_policy"]["learner_stats"]
    finally:
        algo.stop()


# ---- learning with remote workers (slow) -------------------------------------------------------


@pytest.mark.slow
def test_ppo_with_two_remote_workers_solves_cartpole():
    from tfpolicy.algorithms.tuned import load_tuned_example
    example = load_tuned_example("cartpole-ppo.yaml")
    # The tuned 8 x 128 steps per round, split over two workers of 4 environments.
    algo = PPO(config=dict(example.full_config(), seed=0, num_workers=2,
                           num_envs_per_worker=4))
    try:
        for _ in range(100):
            result = algo.train()
            if result.get("evaluation", {}).get("episode_reward_mean", 0) >= 475:
                break
        assert result["evaluation"]["episode_reward_mean"] >= 475
        assert result["timesteps_total"] == 1024 * result["training_iteration"]
    finally:
        algo.stop()


@pytest.mark.slow
def test_a3c_with_two_remote_workers_learns_cartpole():
    algo = A3C(config={"env": "CartPole-v1", "seed": 0, "num_workers": 2, "lr": 5e-3,
                       "lambda": 0.95, "grads_per_step": 40, "rollout_fragment_length": 25,
                       "num_envs_per_worker": 4, "model": {"fcnet_hiddens": [32]}})
    try:
        results = [algo.train() for _ in range(25)]
        assert results[-1]["episode_reward_mean"] > 150
    finally:
        algo.stop()
