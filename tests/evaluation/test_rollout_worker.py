"""Tests for tfpolicy.evaluation.rollout_worker: sampling (both batch modes), episode
seeding, exact resume from a snapshot, evaluation episodes, metrics, weights and errors;
the worker's policy API (keyword overrides, policy specs, adding and removing policies,
policies to train, the PolicyEvaluator alias, as_remote). Multi-agent sampling itself is
tested in test_multi_agent_worker.py.

Most expectations are hand-computed on `Counter`, whose episode of length `n` returns
`1 + 2 + ... + n` and whose first observation is derived from its reset seed.
"""

import json
import sys
import warnings

import gymnasium as gym

import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments import GymnasiumEnvironment, PyEnvironment
from tfpolicy.evaluation import (PolicyEvaluator, PolicyMap, PolicySpec, RolloutMetrics,
                                 RolloutWorker, summarize_episodes)
from tfpolicy.evaluation import _seeding
from tfpolicy.learning import (DEFAULT_POLICY_ID, MultiAgentBatch, Policy, SampleBatch,
                               ValueNetworkMixin,
                               build_tf_policy, compute_gae_for_sample_batch)
from tfpolicy.trajectories import time_step as ts


class Counter(PyEnvironment):
    """Observation `[start + t]`; the reward of step `t` (1-based) is `t`; the episode ends
    after `env_config["length"]` steps (a termination, or a truncation with `truncate`).
    `start` is `(seed % 1000) * 10` for a seeded reset, 0 otherwise."""

    def __init__(self, env_config=None, seedable=True):
        super().__init__()
        env_config = env_config or {}
        self.length = env_config.get("length", 3)
        self.truncate = env_config.get("truncate", False)
        self.context = env_config
        self.next_seed = None
        self.seeds = []
        self.actions = []
        self.closed = False
        if seedable:
            self.seed = self._seed

    def observation_spec(self):
        return ArraySpec((1,), np.float32, name="observation")

    def action_spec(self):
        return BoundedArraySpec((), np.int64, 0, 1, name="action")

    def _seed(self, seed):
        self.next_seed = seed

    def _reset(self):
        self.seeds.append(self.next_seed)
        self.start = 0 if self.next_seed is None else (self.next_seed % 1000) * 10
        self.next_seed = None
        self.t = 0
        return ts.restart(np.array([self.start], np.float32))

    def _step(self, action):
        self.t += 1
        self.actions.append(int(action))
        obs = np.array([self.start + self.t], np.float32)
        if self.t == self.length:
            end = ts.truncation if self.truncate else ts.termination
            return end(obs, reward=np.float32(self.t))
        return ts.transition(obs, reward=np.float32(self.t))

    def close(self):
        self.closed = True


class Lengths(Counter):
    """A counter whose episode lengths cycle through `env_config["lengths"]`."""

    def _reset(self):
        lengths = self.context.get("lengths", [3])
        self.length = lengths[len(self.seeds) % len(lengths)]
        return super()._reset()


class Counting(Policy):
    """Action `obs % 2`, with a call log; `explore` adds noise from a numpy generator
    whose state is the policy's (`get_state`)."""

    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.calls = []
        self.rng = np.random.default_rng(0)
        self.w = np.zeros(2, np.float32)

    def compute_actions(self, obs_batch, state_batches=None, prev_action_batch=None,
                        prev_reward_batch=None, info_batch=None, episodes=None, explore=None,
                        timestep=None, **kwargs):
        obs = np.asarray(obs_batch)
        self.calls.append(len(obs))
        self.global_timestep += len(obs)
        actions = obs[:, 0].astype(np.int64) % 2
        if explore:
            actions = self.rng.integers(0, 2, len(obs))
        return actions, [], {"seen": obs[:, 0] * 2}

    def learn_on_batch(self, samples):
        self.w += 1
        return {"learner_stats": {"rows": len(samples)}}

    def get_weights(self):
        return {"w": self.w.copy()}

    def set_weights(self, weights):
        self.w = np.array(weights["w"])

    def get_state(self):
        state = super().get_state()
        state["rng"] = self.rng.bit_generator.state
        return state

    def set_state(self, state):
        super().set_state(state)
        self.rng.bit_generator.state = state["rng"]


def no_loss(policy, model, dist_class, train_batch):
    return tf.constant(0.0)


def pg_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    return -tf.reduce_mean(logp * train_batch[SampleBatch.REWARDS])


def init_value(policy, observation_space, action_space, config):
    ValueNetworkMixin.__init__(policy, config)


GAE = build_tf_policy("GAE", loss_fn=no_loss, postprocess_fn=compute_gae_for_sample_batch,
                      mixins=[ValueNetworkMixin], before_loss_init=init_value)
Plain = build_tf_policy("Plain", loss_fn=pg_loss)
SMALL = {"model": {"fcnet_hiddens": [8]}}
LSTM = {"model": {"use_lstm": True, "lstm_cell_size": 4, "fcnet_hiddens": [8],
                  "lstm_use_prev_action": True, "lstm_use_prev_reward": True}}


def counter_worker(num_envs=2, length=3, steps=4, policy=Counting, env=Counter, **config):
    config = dict({"num_envs_per_worker": num_envs, "rollout_fragment_length": steps,
                   "seed": 7, "env_config": {"length": length}}, **config)
    return RolloutWorker(env, policy, config)


def env_rows(batch, i):
    """Environment `i`'s rows (contiguous: one unroll id per environment and sample)."""
    rows = np.flatnonzero(batch["unroll_id"] == np.unique(batch["unroll_id"])[i])
    assert np.array_equal(rows, np.arange(rows[0], rows[-1] + 1))
    return batch[int(rows[0]):int(rows[-1]) + 1]


def assert_batches_equal(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# ---- sampling ----------------------------------------------------------------------------


def test_truncate_episodes_gives_fragment_length_steps_per_env():
    worker = counter_worker(num_envs=2, length=3, steps=4)
    batch = worker.sample()
    assert len(batch) == 8
    assert set(batch) == {"obs", "new_obs", "actions", "rewards", "terminateds", "truncateds",
                          "eps_id", "t", "agent_index", "unroll_id", "seen"}
    for i in range(2):
        rows = env_rows(batch, i)
        np.testing.assert_array_equal(rows["t"], [0, 1, 2, 0])
        np.testing.assert_array_equal(rows["rewards"], [1, 2, 3, 1])
        np.testing.assert_array_equal(rows["terminateds"], [False, False, True, False])
        assert not rows["truncateds"].any()
        start = rows["obs"][0, 0]
        np.testing.assert_array_equal(rows["obs"][:3, 0], start + np.arange(3))
        np.testing.assert_array_equal(rows["new_obs"][:3, 0], start + np.arange(1, 4))
        assert rows["eps_id"][0] == rows["eps_id"][2] != rows["eps_id"][3]
    # The environments' rows are contiguous, environment 0 first.
    assert len(np.unique(batch["unroll_id"][:4])) == 1
    np.testing.assert_array_equal(batch["agent_index"], np.zeros(8))


def test_one_compute_actions_call_per_step_for_all_envs():
    worker = counter_worker(num_envs=3, length=2, steps=5)
    worker.sample()
    assert worker.get_policy().calls == [3] * 5


def test_extra_fetches_are_columns():
    worker = counter_worker()
    batch = worker.sample()
    np.testing.assert_array_equal(batch["seen"], batch["obs"][:, 0] * 2)


def test_consecutive_samples_continue_the_episodes():
    worker = counter_worker(num_envs=1, length=5, steps=3)
    first, second = worker.sample(), worker.sample()
    np.testing.assert_array_equal(first["t"], [0, 1, 2])
    np.testing.assert_array_equal(second["t"], [3, 4, 0])
    assert second["eps_id"][0] == first["eps_id"][-1] != second["eps_id"][2]
    np.testing.assert_array_equal(second["obs"][0], first["new_obs"][-1])
    assert not first["terminateds"].any() and not first["truncateds"].any()


def test_truncation_is_truncateds_and_termination_terminateds():
    truncating = counter_worker(num_envs=1, length=2, steps=4, env_config={"length": 2,
                                                                         "truncate": True})
    batch = truncating.sample()
    np.testing.assert_array_equal(batch["truncateds"], [False, True, False, True])
    assert not batch["terminateds"].any()
    cartpole = RolloutWorker("CartPole-v1", Counting, {
        "rollout_fragment_length": 12, "seed": 0, "env_config": {"max_episode_steps": 5}})
    batch = cartpole.sample()
    np.testing.assert_array_equal(batch["t"], [0, 1, 2, 3, 4] * 2 + [0, 1])
    np.testing.assert_array_equal(batch["truncateds"], batch["t"] == 4)


def test_boundary_steps_are_not_samples():
    # CartPole truncated at 5: every row is a transition of an episode, new_obs follows obs.
    worker = RolloutWorker("CartPole-v1", Counting, {
        "num_envs_per_worker": 2, "rollout_fragment_length": 12, "seed": 0,
        "env_config": {"max_episode_steps": 5}})
    batch = worker.sample()
    assert worker.get_policy().global_timestep == 24
    same = (batch["eps_id"][1:] == batch["eps_id"][:-1])
    np.testing.assert_array_equal(batch["new_obs"][:-1][same], batch["obs"][1:][same])


def test_complete_episodes_returns_whole_episodes_only():
    worker = counter_worker(num_envs=2, steps=4, env=Lengths, batch_mode="complete_episodes",
                            env_config={"lengths": [3, 5]})
    batch = worker.sample()
    # Each env plays 3 then 5 steps; 8 rows are due, so both stop after their second episode.
    assert len(batch) == 16
    for i in range(2):
        rows = env_rows(batch, i)
        np.testing.assert_array_equal(rows["t"], [0, 1, 2, 0, 1, 2, 3, 4])
        np.testing.assert_array_equal(np.flatnonzero(rows["terminateds"]), [2, 7])
    nxt = worker.sample()
    np.testing.assert_array_equal(env_rows(nxt, 0)["t"][:3], [0, 1, 2])
    assert len(worker.get_metrics()) == 8


def test_complete_episodes_waits_for_the_longest_episode():
    # Env 0 plays episodes of 1 step, env 1 one of 6: env 0 keeps going until 6 rows are in.
    class Mixed(Counter):
        def __init__(self, env_config):
            super().__init__({"length": 1 if env_config.vector_index == 0 else 6})

    worker = RolloutWorker(Mixed, Counting, {"num_envs_per_worker": 2, "seed": 0,
                                             "rollout_fragment_length": 3,
                                             "batch_mode": "complete_episodes"})
    batch = worker.sample()
    assert len(env_rows(batch, 1)) == 6
    assert len(env_rows(batch, 0)) == 3  # 3 + 3 rows after its third episode: 6 >= 6
    assert batch["terminateds"][batch["t"] == 0].sum() == 3
    assert len(batch) >= 6


def test_postprocess_runs_once_per_episode_fragment_on_raw_rows():
    seen = []

    def postprocess(policy, batch, other_agent_batches=None, episode=None):
        seen.append(batch.copy())
        batch["rewards"] *= 100  # in place, as adjust_nstep does
        return batch

    Policy_ = build_tf_policy("Recording", loss_fn=no_loss, postprocess_fn=postprocess)
    worker = counter_worker(num_envs=2, length=3, steps=4, policy=Policy_, **SMALL)
    batch = worker.sample()
    assert [len(f) for f in seen] == [3, 1, 3, 1]
    for fragment in seen:
        assert len(np.unique(fragment["eps_id"])) == 1
    np.testing.assert_array_equal(batch["rewards"], [100, 200, 300, 100] * 2)
    # Metrics come from the raw rewards.
    assert [m.episode_reward for m in worker.get_metrics()] == [6.0, 6.0]


def test_cut_fragments_are_bootstrapped_by_postprocessing():
    worker = counter_worker(num_envs=1, length=5, steps=3, policy=GAE, gamma=0.5,
                            use_gae=True, use_critic=True, **{"lambda": 1.0}, **SMALL)
    batch = worker.sample()
    # The fragment is cut at t=2: value_targets[-1] = r + gamma * V(new_obs[-1]).
    policy = worker.get_policy()
    last_value = policy._value(**batch.get_single_step_input_dict(index="last"))
    np.testing.assert_allclose(batch["value_targets"][-1], 3 + 0.5 * last_value, rtol=1e-5)
    terminated = counter_worker(num_envs=1, length=3, steps=3, policy=GAE, gamma=0.5,
                                use_gae=True, use_critic=True, **{"lambda": 1.0},
                                **SMALL).sample()
    np.testing.assert_allclose(terminated["value_targets"], [1 + 0.5 * 2 + 0.25 * 3,
                                                             2 + 0.5 * 3, 3], rtol=1e-6)


def test_recurrent_state_and_previous_actions_chain_within_episodes_and_across_calls():
    worker = RolloutWorker("CartPole-v1", Plain, dict(
        LSTM, num_envs_per_worker=2, rollout_fragment_length=6, seed=0,
        env_config={"max_episode_steps": 4}))
    first = worker.sample()
    assert {"state_in_0", "state_in_1", "state_out_0", "state_out_1", "prev_actions",
            "prev_rewards"} <= set(first)
    starts = first["t"] == 0
    np.testing.assert_array_equal(first["state_in_0"][starts], 0)
    np.testing.assert_array_equal(first["prev_actions"][starts], 0)
    np.testing.assert_array_equal(first["prev_rewards"][starts], 0)
    within = first["eps_id"][1:] == first["eps_id"][:-1]
    for key, source in (("state_in_0", "state_out_0"), ("state_in_1", "state_out_1"),
                        ("prev_actions", "actions"), ("prev_rewards", "rewards")):
        np.testing.assert_array_equal(first[key][1:][within], first[source][:-1][within])
    second = worker.sample()
    for i in range(2):
        a, b = env_rows(first, i), env_rows(second, i)
        np.testing.assert_array_equal(b["state_in_0"][0], a["state_out_0"][-1])
        assert b["prev_actions"][0] == a["actions"][-1]
    assert worker.get_policy().learn_on_batch(first)["num_grad_updates_lifetime"] == 1


def test_nested_observations_are_nested_columns():
    class DictObs(Counter):
        def observation_spec(self):
            return {"a": ArraySpec((1,), np.float32), "b": ArraySpec((), np.int64)}

        def _reset(self):
            first = super()._reset()
            return first._replace(observation={"a": first.observation,
                                               "b": np.int64(self.t)})

        def _step(self, action):
            step = super()._step(action)
            return step._replace(observation={"a": step.observation, "b": np.int64(self.t)})

    class Zero(Counting):
        def compute_actions(self, obs_batch, state_batches=None, **kwargs):
            return np.zeros(len(obs_batch["b"]), np.int64), [], {}

    worker = counter_worker(num_envs=2, length=3, steps=4, env=DictObs, policy=Zero)
    batch = worker.sample()
    np.testing.assert_array_equal(batch["obs"]["b"], [0, 1, 2, 0] * 2)
    np.testing.assert_array_equal(batch["new_obs"]["b"], [1, 2, 3, 1] * 2)
    assert batch["obs"]["a"].shape == (8, 1)


# ---- actions ----------------------------------------------------------------------------


class Continuous(Counter):
    def action_spec(self):
        return BoundedArraySpec((1,), np.float32, -2.0, 2.0, name="action")

    def _step(self, action):
        self.actions.append(float(action[0]))
        self.t += 1
        return ts.transition(np.array([self.t], np.float32), reward=np.float32(0))


class Constant(Counting):
    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        return np.full((len(obs_batch), 1), self.config["value"], np.float32), [], {}


@pytest.mark.parametrize("config, sent", [
    ({"value": 1.0}, 2.0),  # normalize_actions (the default): [-1, 1] -> [-2, 2]
    ({"value": -0.5}, -1.0),
    ({"value": 5.0}, 2.0),  # ... and clipped
    ({"value": 5.0, "normalize_actions": False, "clip_actions": True}, 2.0),
    ({"value": 0.5, "normalize_actions": False}, 0.5),
])
def test_normalize_and_clip_change_only_what_the_env_receives(config, sent):
    worker = RolloutWorker(Continuous, Constant, dict(config, rollout_fragment_length=2, seed=0))
    batch = worker.sample()
    assert worker.env.actions == [sent, sent]
    np.testing.assert_array_equal(batch["actions"], np.full((2, 1), config["value"]))


def test_out_of_bounds_actions_without_clipping_name_the_bounds():
    worker = RolloutWorker(Continuous, Constant, {"value": 5.0, "normalize_actions": False,
                                                  "rollout_fragment_length": 2, "seed": 0})
    with pytest.raises(ValueError, match=r"value\(s\) \[\[?5.0\]?\] outside the bounds"):
        worker.sample()


# ---- seeding and resume ------------------------------------------------------------------


def test_each_episode_is_reset_with_its_own_seed():
    worker = counter_worker(num_envs=2, length=2, steps=4)
    batch = worker.sample()
    for i, env in enumerate(worker.envs):
        expected = [_seeding.episode_seed(7, 0, i, e) for e in range(3)]
        assert env.seeds == [e.seed for e in expected]
        np.testing.assert_array_equal(env_rows(batch, i)["eps_id"],
                                      np.repeat([e.eps_id for e in expected[:2]], 2))
        np.testing.assert_array_equal(env_rows(batch, i)["obs"][::2, 0],
                                      [(e.seed % 1000) * 10 for e in expected[:2]])


def test_same_seed_same_batches_other_worker_index_other_episodes():
    a, b = counter_worker(), counter_worker()
    assert_batches_equal(a.sample(), b.sample())
    other = RolloutWorker(Counter, Counting, dict(num_envs_per_worker=2, seed=7,
                                                  rollout_fragment_length=4), worker_index=1)
    assert other.envs[0].seeds != a.envs[0].seeds[:1]


def test_without_a_seed_the_base_seed_is_drawn_and_kept_in_the_state():
    worker = counter_worker(seed=None)
    state = worker.get_state()
    assert isinstance(state["base_seed"], int)
    assert worker.envs[0].seeds == [_seeding.episode_seed(state["base_seed"], 0, 0, 0).seed]


def test_policies_get_the_config_with_the_worker_index():
    worker = RolloutWorker(Counter, Counting, {"lr": 0.5, "seed": 1}, worker_index=3)
    assert worker.get_policy().config["worker_index"] == 3
    assert worker.get_policy().config["lr"] == 0.5


def test_a_seeded_worker_builds_the_same_initial_weights():
    a = RolloutWorker(Counter, Plain, dict(SMALL, seed=3))
    b = RolloutWorker(Counter, Plain, dict(SMALL, seed=3))
    for name, value in a.get_weights()[DEFAULT_POLICY_ID].items():
        np.testing.assert_array_equal(value, b.get_weights()[DEFAULT_POLICY_ID][name])


def _json_safe(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def test_state_is_json_able_with_numpy_leaves():
    worker = RolloutWorker("CartPole-v1", Plain, dict(LSTM, num_envs_per_worker=2, seed=0,
                                                      rollout_fragment_length=5))
    worker.sample()
    state = worker.get_state()
    text = json.dumps(state, default=_json_safe)
    assert json.loads(text)["envs"][0]["t"] == state["envs"][0]["t"]
    assert len(state["envs"][0]["actions"][0]) == state["envs"][0]["t"]
    assert set(state["policy_states"]) == {DEFAULT_POLICY_ID}
    assert "policy_spec" not in state["policy_states"][DEFAULT_POLICY_ID]


def _checkpointed(state):
    """`state` through JSON with its arrays kept aside, as a checkpoint writer stores it."""
    arrays = []

    def encode(value):
        if isinstance(value, np.ndarray):
            arrays.append(value.copy())
            return {"__array__": len(arrays) - 1}
        raise TypeError(f"not JSON-able: {type(value).__name__}")

    return json.loads(json.dumps(state, default=encode),
                      object_hook=lambda d: arrays[d["__array__"]] if "__array__" in d else d)


def _resume(make_worker, rounds=2):
    original = make_worker()
    for _ in range(rounds):
        original.sample()
    original.get_metrics()
    state = _checkpointed(original.get_state())
    expected = original.sample()
    restored = make_worker()
    restored.set_state(state)
    assert_batches_equal(restored.sample(), expected)
    assert original.get_metrics() == restored.get_metrics()
    return original, restored


def test_resume_continues_exactly_with_a_stochastic_numpy_policy():
    _resume(lambda: counter_worker(num_envs=3, length=4, steps=3, explore=True))


def test_resume_continues_exactly_on_cartpole_with_a_recurrent_tf_policy():
    def make():
        return RolloutWorker("CartPole-v1", GAE, dict(
            LSTM, num_envs_per_worker=2, rollout_fragment_length=7, seed=5, use_gae=True,
            use_critic=True, explore=False, **{"lambda": 0.9}))

    original, restored = _resume(make)
    assert restored.get_policy().global_timestep == original.get_policy().global_timestep


def test_resume_continues_exactly_when_the_policy_explores():
    def make():
        return RolloutWorker("CartPole-v1", Plain, dict(
            SMALL, num_envs_per_worker=2, rollout_fragment_length=9, seed=5))

    _resume(make)


def test_resume_continues_exactly_with_complete_episodes():
    _resume(lambda: counter_worker(num_envs=2, steps=4, env=Lengths, explore=True,
                                   batch_mode="complete_episodes",
                                   env_config={"lengths": [3, 6, 2]}))


def test_resume_after_a_drawn_seed_uses_the_saved_seed():
    original = counter_worker(seed=None, explore=True)
    original.sample()
    state = original.get_state()
    expected = original.sample()
    restored = counter_worker(seed=None, explore=True)
    restored.set_state(state)
    assert_batches_equal(restored.sample(), expected)


def test_an_env_without_seed_starts_a_fresh_episode_on_resume():
    def make():
        return RolloutWorker(lambda config: Counter(config, seedable=False), Counting,
                             {"rollout_fragment_length": 2, "seed": 1,
                              "env_config": {"length": 5}})

    original = make()
    original.sample()
    state = original.get_state()
    restored = make()
    restored.set_state(state)
    batch = restored.sample()
    np.testing.assert_array_equal(batch["t"], [0, 1])
    assert batch["eps_id"][0] == _seeding.episode_seed(1, 0, 0, 1).eps_id
    assert restored.envs[0].seeds == [None, None]


def test_an_env_that_ignores_its_seed_warns_on_resume():
    class Unseeded(Counter):
        def _reset(self):
            step = super()._reset()
            # Not from the seed, nor from the global generators a seeded worker seeds.
            self.start = float(np.random.default_rng().integers(1, 10**6))
            return step._replace(observation=np.array([self.start], np.float32))

    def make():
        return RolloutWorker(Unseeded, Counting, {"rollout_fragment_length": 2, "seed": 1,
                                                  "env_config": {"length": 5}})

    original = make()
    original.sample()
    restored = make()
    with pytest.warns(RuntimeWarning, match="did not reproduce its episode"):
        restored.set_state(original.get_state())


def test_set_state_checks_the_worker_and_env_count():
    state = counter_worker(num_envs=2).get_state()
    with pytest.raises(ValueError, match="'num_envs_per_worker': the state holds 2 "
                                         "environments, this worker has 3"):
        counter_worker(num_envs=3).set_state(state)
    other = RolloutWorker(Counter, Counting, {"num_envs_per_worker": 2}, worker_index=2)
    with pytest.raises(ValueError, match="the state is worker 0's, this is worker 2"):
        other.set_state(state)


# ---- evaluation and metrics ----------------------------------------------------------------


def test_sample_episodes_plays_fresh_episodes_on_separate_envs():
    worker = counter_worker(num_envs=1, length=5, steps=2, evaluation_num_envs=2)
    reference = counter_worker(num_envs=1, length=5, steps=2, evaluation_num_envs=2)
    worker.sample(), reference.sample()
    timestep = worker.get_policy().global_timestep
    episodes = worker.sample_episodes(3)
    assert episodes == [RolloutMetrics(5, 15.0)] * 3
    assert worker.get_policy().global_timestep == timestep
    assert_batches_equal(worker.sample(), reference.sample())
    assert len(worker._evaluation.envs) == 2
    assert worker.get_metrics() == reference.get_metrics()


def test_sample_episodes_seeds_each_call_anew():
    worker = counter_worker(num_envs=1, length=2)
    worker.sample_episodes(1)
    worker.sample_episodes(1)
    env = worker._evaluation.envs[0]
    assert env.seeds == [_seeding.episode_seed(7, 0, 0, e, _seeding.EVALUATION_STREAM).seed
                         for e in range(2)]


def test_sample_episodes_passes_explore():
    worker = counter_worker(num_envs=1, length=40)
    greedy = worker.sample_episodes(1)[0]
    assert greedy.episode_length == 40
    assert worker._evaluation.envs[0].actions[:4] == [0, 1, 0, 1]
    worker.sample_episodes(1, explore=True)
    assert worker._evaluation.envs[0].actions[40:80] != [0, 1] * 20


def test_get_metrics_hands_out_finished_episodes_once():
    worker = counter_worker(num_envs=2, length=3, steps=7)
    worker.sample()
    metrics = worker.get_metrics()
    assert metrics == [RolloutMetrics(3, 6.0)] * 4
    assert worker.get_metrics() == []
    assert summarize_episodes(metrics)["episode_reward_mean"] == 6.0


# ---- learning, weights, policies ------------------------------------------------------------


def test_learn_on_batch_returns_stats_per_policy():
    worker = counter_worker()
    stats = worker.learn_on_batch(worker.sample())
    assert stats == {DEFAULT_POLICY_ID: {"learner_stats": {"rows": 8}}}
    multi = SampleBatch({"obs": np.zeros((2, 1))}).as_multi_agent()
    assert worker.learn_on_batch(multi)[DEFAULT_POLICY_ID]["learner_stats"]["rows"] == 2


def test_weights_move_between_workers_and_global_vars_reach_the_policies():
    a, b = counter_worker(), counter_worker()
    a.learn_on_batch(a.sample())
    b.set_weights(a.get_weights(), global_vars={"timestep": 123})
    np.testing.assert_array_equal(b.get_weights()[DEFAULT_POLICY_ID]["w"], [1, 1])
    assert b.get_policy().global_timestep == 123
    assert b.get_global_vars() == {"timestep": 123}
    with pytest.raises(KeyError, match="unknown policy id 'other'"):
        b.set_weights({"other": {}})
    with pytest.raises(KeyError, match="unknown policy id 'other'"):
        b.get_weights(["other"])


def test_policy_access():
    worker = counter_worker()
    assert worker.get_policy() is worker.policy_map[DEFAULT_POLICY_ID]
    assert worker.get_policy("other") is None
    assert worker.foreach_policy(lambda policy, pid: pid) == [DEFAULT_POLICY_ID]
    assert worker.foreach_env(lambda env: env.length) == [3, 3]
    assert worker.apply(lambda w, x: w.num_envs + x, 1) == 3


def test_stop_closes_every_env():
    worker = counter_worker()
    worker.sample_episodes(1)
    worker.stop()
    assert all(env.closed for env in worker.envs + worker._evaluation.envs)
    worker.stop()


def test_env_creator_gets_the_env_config_and_position():
    worker = RolloutWorker(Counter, Counting, {"num_envs_per_worker": 2, "env_config": {
        "length": 4}}, worker_index=2, num_workers=3)
    contexts = [env.context for env in worker.envs]
    assert [c.vector_index for c in contexts] == [0, 1]
    assert {(c.worker_index, c.num_workers) for c in contexts} == {(2, 3)}
    assert dict(contexts[0]) == {"length": 4}


# ---- config errors -------------------------------------------------------------------------


@pytest.mark.parametrize("key, value, message", [
    ("batch_mode", "episodes", "config key 'batch_mode': expected one of "
                               "['truncate_episodes', 'complete_episodes'], got 'episodes'"),
    ("num_envs_per_worker", 0, "config key 'num_envs_per_worker': expected an int in "
                               "[1, inf), got 0"),
    ("rollout_fragment_length", -1, "config key 'rollout_fragment_length': expected an int "
                                    "in [1, inf) or 'auto', got -1"),
    ("seed", -3, "config key 'seed': expected None or a non-negative int, got -3"),
])
def test_bad_config_values_name_the_key_and_the_allowed_values(key, value, message):
    with pytest.raises(ValueError) as info:
        RolloutWorker(Counter, Counting, {key: value})
    assert str(info.value) == message


def test_auto_fragment_length_splits_the_train_batch_over_the_envs():
    worker = RolloutWorker(Counter, Counting, {"rollout_fragment_length": "auto",
                                               "train_batch_size": 10,
                                               "num_envs_per_worker": 4})
    assert worker.rollout_fragment_length == 3
    assert len(worker.sample()) == 12


def test_a_gym_id_works_as_env_creator():
    worker = RolloutWorker("CartPole-v1", Counting, {"rollout_fragment_length": 3,
                                                     "env_config": {"max_episode_steps": 2}})
    np.testing.assert_array_equal(worker.sample()["t"], [0, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        worker.stop()


def test_sampling_collects_cartpole_with_a_gae_policy():
    worker = RolloutWorker("CartPole-v1", GAE, dict(SMALL, num_envs_per_worker=4, seed=0,
                                                    rollout_fragment_length=50, use_gae=True,
                                                    use_critic=True, **{"lambda": 0.95}))
    batch = worker.sample()
    assert len(batch) == 200
    assert {"advantages", "value_targets", "action_logp", "vf_preds"} <= set(batch)
    metrics = worker.get_metrics()
    assert metrics
    assert [m.episode_reward for m in metrics] == [float(m.episode_length) for m in metrics]


def test_complete_episodes_grow_every_column_of_a_recurrent_policy():
    worker = RolloutWorker(Lengths, Plain, dict(
        LSTM, num_envs_per_worker=2, rollout_fragment_length=2, seed=0,
        batch_mode="complete_episodes", env_config={"lengths": [7]}))
    batch = worker.sample()
    assert len(batch) == 14
    within = batch["t"][1:] != 0
    for key, source in (("state_in_0", "state_out_0"), ("prev_actions", "actions"),
                        ("prev_rewards", "rewards")):
        np.testing.assert_array_equal(batch[key][1:][within], batch[source][:-1][within])
    np.testing.assert_array_equal(batch["rewards"], list(range(1, 8)) * 2)


def test_a_minimal_policy_may_return_a_list_of_actions():
    class Listing(Counting):
        def compute_actions(self, obs_batch, state_batches=None, **kwargs):
            return [1 for _ in obs_batch], [], {}

    worker = counter_worker(policy=Listing)
    np.testing.assert_array_equal(worker.sample()["actions"], np.ones(8))
    assert worker.sample_episodes(1) == [RolloutMetrics(3, 6.0)]


def test_resume_restores_the_evaluation_episodes():
    original = counter_worker(length=2)
    original.sample_episodes(2)
    restored = counter_worker(length=2)
    restored.set_state(original.get_state())
    original.sample_episodes(1), restored.sample_episodes(1)
    assert original._evaluation.envs[0].seeds[-1] == restored._evaluation.envs[0].seeds[-1]


# ---- the worker's policy API ----------------------------------------------------------------


def test_keyword_arguments_override_the_config():
    worker = RolloutWorker(Counter, Counting, {"rollout_fragment_length": 9, "seed": 3,
                                               "num_envs_per_worker": 1},
                           rollout_fragment_length=2, num_envs=3, seed=1,
                           batch_mode="complete_episodes")
    assert (worker.rollout_fragment_length, worker.num_envs, worker.batch_mode) == (
        2, 3, "complete_episodes")
    assert len(worker.sample()) == 9  # 3 envs, each one 3-step episode for its 2 steps
    assert worker.envs[2].seeds[0] == _seeding.episode_seed(1, 0, 2, 0).seed
    assert worker.get_policy().config["seed"] == 1


def test_policy_spec_as_a_class_or_spec_is_the_default_policy():
    by_class = RolloutWorker(Counter, policy_spec=Counting, config={"seed": 0,
                                                                   "rollout_fragment_length": 2})
    assert isinstance(by_class.sample(), SampleBatch)
    assert isinstance(by_class.policy_map, PolicyMap)
    assert list(by_class.policy_map) == [DEFAULT_POLICY_ID] and not by_class.multi_agent
    spec = RolloutWorker(Counter, policy_spec=PolicySpec(Counting, config={"lr": 2.0}))
    assert spec.get_policy().config["lr"] == 2.0


def test_a_single_agent_env_with_several_policies_samples_multi_agent():
    worker = counter_worker(num_envs=2, steps=3, multiagent={
        "policies": {"main": PolicySpec(), "other": PolicySpec()},
        "policy_mapping_fn": lambda agent_id, episode, worker, **kw: (
            "main" if episode.env_id == 0 else "other")})
    batch = worker.sample()
    assert isinstance(batch, MultiAgentBatch) and batch.env_steps() == 6
    # The env's one agent is "agent0"; env 0's rows go to "main", env 1's to "other".
    for pid, env in (("main", 0), ("other", 1)):
        rows = batch[pid]
        np.testing.assert_array_equal(rows["t"], [0, 1, 2])
        np.testing.assert_array_equal(rows["rewards"], [1, 2, 3])
        np.testing.assert_array_equal(rows["terminateds"], [False, False, True])
        assert rows["obs"][0, 0] == (_seeding.episode_seed(7, 0, env, 0).seed % 1000) * 10
    assert worker.get_metrics()[0].agent_rewards == {("agent0", "main"): 6.0}
    assert worker.get_policy("main").observation_space == worker.env.env.observation_spec()


def test_add_and_remove_policies():
    worker = counter_worker(num_envs=1, steps=2)
    assert isinstance(worker.sample(), SampleBatch)
    added = worker.add_policy("new", Counting, policy_mapping_fn=lambda agent_id: "new",
                              config={"lr": 3.0}, policies_to_train=["new"])
    assert added is worker.get_policy("new") and added.config["lr"] == 3.0
    assert worker.multi_agent  # a second policy: the worker samples multi-agent from now
    batch = worker.sample()
    assert set(batch.policy_batches) == {"new"} and len(batch["new"]) == 2
    assert worker.learn_on_batch(batch) == {"new": {"learner_stats": {"rows": 2}}}
    with pytest.raises(ValueError, match="add_policy: policy id 'new' exists already"):
        worker.add_policy("new", Counting)
    state = worker.get_policy().get_state()
    copy = worker.add_policy("copy", policy=Counting(added.observation_space,
                                                     added.action_space, {}),
                             policy_state=state)
    np.testing.assert_array_equal(copy.w, worker.get_policy().w)
    worker.remove_policy("new", policy_mapping_fn=lambda agent_id: DEFAULT_POLICY_ID)
    assert "new" not in worker.policy_map and not worker.is_policy_to_train("new")
    assert set(worker.sample().policy_batches) == {DEFAULT_POLICY_ID}
    with pytest.raises(KeyError, match="unknown policy id 'new'"):
        worker.remove_policy("new")


def test_policies_to_train_decides_who_learns():
    worker = RolloutWorker(Counter, Counting, {"seed": 0, "rollout_fragment_length": 2},
                           policies_to_train=[])
    assert worker.learn_on_batch(worker.sample()) == {}
    assert not worker.is_policy_to_train(DEFAULT_POLICY_ID)
    assert worker.foreach_policy_to_train(lambda policy, pid: pid) == []


def test_gradients_of_a_sample_batch_belong_to_the_default_policy():
    class Grads(Counting):
        def compute_gradients(self, batch):
            return [np.full(2, len(batch), np.float32)], {"rows": len(batch)}

        def apply_gradients(self, gradients):
            self.w += gradients[0]

    worker = counter_worker(policy=Grads)
    grads, info = worker.compute_gradients(worker.sample())
    assert info == {"rows": 8}
    worker.apply_gradients(grads)
    np.testing.assert_array_equal(worker.get_weights()[DEFAULT_POLICY_ID]["w"], [8, 8])
    worker.apply_gradients({DEFAULT_POLICY_ID: grads})
    np.testing.assert_array_equal(worker.get_weights()[DEFAULT_POLICY_ID]["w"], [16, 16])


def test_a_creator_returning_a_gymnasium_env_is_wrapped():
    worker = RolloutWorker(lambda config: gym.make("CartPole-v1", max_episode_steps=2),
                           Counting, {"rollout_fragment_length": 3, "seed": 0})
    assert isinstance(worker.env, GymnasiumEnvironment)
    np.testing.assert_array_equal(worker.sample()["t"], [0, 1, 0])


def test_the_documented_policy_evaluator_loop_runs():
    assert PolicyEvaluator is RolloutWorker
    policy = Counting(gym.spaces.Box(-np.inf, np.inf, (4,)), gym.spaces.Discrete(2), {})
    evaluators = [PolicyEvaluator(lambda c: gym.make("CartPole-v1"), Counting,
                                  {"rollout_fragment_length": 5, "seed": i}, worker_index=i)
                  for i in range(2)]
    samples = SampleBatch.concat_samples([e.sample() for e in evaluators])
    assert len(samples) == 10
    policy.learn_on_batch(samples)
    for e in evaluators:
        e.set_weights({DEFAULT_POLICY_ID: policy.get_weights()})
        np.testing.assert_array_equal(e.get_policy().w, [1, 1])


def test_as_remote_makes_a_ray_actor_class_or_names_the_extra(monkeypatch):
    pytest.importorskip("ray")
    actor_class = RolloutWorker.as_remote(num_cpus=1)
    assert callable(actor_class.remote) and callable(actor_class.options)
    assert callable(PolicyEvaluator.as_remote().remote)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match='Ray is not installed: pip install "tfpolicy\\[ray\\]"'):
        RolloutWorker.as_remote()


def test_set_state_of_another_kind_of_worker_is_an_error():
    single = counter_worker()
    multi = counter_worker(multiagent={"policies": ["a", "b"],
                                       "policy_mapping_fn": lambda agent_id: "a"})
    with pytest.raises(ValueError, match="the state is a multi-agent worker's, this worker is "
                                         "single-agent"):
        single.set_state(multi.get_state())
