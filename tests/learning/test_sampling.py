"""Tests for tfpolicy.learning.sampling: `sample` and `evaluate` on CartPole-v1, single
and vectorized, with episodes cut at 5 steps by gymnasium's TimeLimit."""

import numpy as np
import pytest
import tensorflow as tf

from tfpolicy.environments import load, load_vector
from tfpolicy.learning import Policy, SampleBatch, build_tf_policy, sampling


def no_loss(policy, model, dist_class, train_batch):
    return tf.constant(0.0)


def record_fragments(policy, sample_batch, other_agent_batches=None, episode=None):
    policy.fragments = getattr(policy, "fragments", []) + [sample_batch.copy()]
    sample_batch["postprocessed"] = np.ones(len(sample_batch), np.float32)
    return sample_batch


class AlwaysLeft(Policy):
    """RLlib's minimal policy: the four methods only."""

    def compute_actions(self, obs_batch, state_batches=None, prev_action_batch=None,
                        prev_reward_batch=None, info_batch=None, episodes=None, **kwargs):
        return np.zeros(len(obs_batch), np.int64), [], {}

    def learn_on_batch(self, samples):
        return {}

    def get_weights(self):
        return {}

    def set_weights(self, weights):
        pass


def pg_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    return -tf.reduce_mean(logp * train_batch[SampleBatch.REWARDS])


Recording = build_tf_policy("Recording", loss_fn=no_loss, postprocess_fn=record_fragments)
Learner = build_tf_policy("Learner", loss_fn=pg_loss)
CONFIG = {"model": {"fcnet_hiddens": [8]}}
LSTM_CONFIG = {"model": {"use_lstm": True, "lstm_cell_size": 8, "fcnet_hiddens": [8]}}


def make_policy(env, config=CONFIG):
    return Recording(env.observation_spec(), env.action_spec(), config)


def always_left(policy):
    """Zero kernels and logits (5, -5): the greedy action is 0, the pole falls."""
    weights = {name: np.zeros_like(value) for name, value in policy.get_weights().items()}
    weights["fc_out/bias:0"] = np.array([5.0, -5.0], np.float32)
    policy.set_weights(weights)


def test_sample_on_a_single_env_truncated_by_time_limit():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    policy = make_policy(env)
    batch = sampling.sample(policy, env, 12)
    assert len(batch) == 12
    assert {"obs", "new_obs", "actions", "rewards", "terminateds", "truncateds", "eps_id", "t",
            "agent_index", "unroll_id", "action_logp", "action_prob", "action_dist_inputs",
            "vf_preds", "postprocessed"} == set(batch)
    np.testing.assert_array_equal(batch["t"], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
    np.testing.assert_array_equal(batch["truncateds"], batch["t"] == 4)
    assert not batch["terminateds"].any()
    np.testing.assert_array_equal(batch["rewards"], np.ones(12, np.float32))
    np.testing.assert_array_equal(batch["agent_index"], np.zeros(12))
    np.testing.assert_array_equal(batch["unroll_id"], np.zeros(12))
    # 5 + boundary + 5 + boundary + 2 action computations: the resets are not samples.
    assert policy.global_timestep == 14


def test_eps_id_changes_exactly_at_episode_starts():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    batch = sampling.sample(make_policy(env), env, 12)
    changes = batch["eps_id"][1:] != batch["eps_id"][:-1]
    np.testing.assert_array_equal(changes, batch["t"][1:] == 0)
    assert len(np.unique(batch["eps_id"])) == 3


def test_new_obs_is_the_next_rows_obs_within_an_episode():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    batch = sampling.sample(make_policy(env), env, 12)
    same_episode = batch["eps_id"][1:] == batch["eps_id"][:-1]
    np.testing.assert_array_equal(batch["new_obs"][:-1][same_episode],
                                  batch["obs"][1:][same_episode])
    # Across a reset the next episode starts from a fresh observation.
    assert not np.array_equal(batch["new_obs"][4], batch["obs"][5])


def test_postprocess_runs_once_per_episode_fragment():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    policy = make_policy(env)
    sampling.sample(policy, env, 12)
    assert [len(f) for f in policy.fragments] == [5, 5, 2]
    for fragment in policy.fragments:
        assert len(np.unique(fragment["eps_id"])) == 1
        np.testing.assert_array_equal(fragment["t"], np.arange(len(fragment)))
    assert "postprocessed" not in policy.fragments[0]  # each got the batch before the change


def test_sample_without_postprocessing():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    policy = make_policy(env)
    batch = sampling.sample(policy, env, 7, postprocess=False)
    assert not hasattr(policy, "fragments") and "postprocessed" not in batch


def test_consecutive_samples_continue_the_episodes():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    policy = make_policy(env)
    first = sampling.sample(policy, env, 7)
    second = sampling.sample(policy, env, 4)
    np.testing.assert_array_equal(second["t"], [2, 3, 4, 0])
    np.testing.assert_array_equal(second["eps_id"][:3], np.full(3, first["eps_id"][-1]))
    assert second["eps_id"][3] not in first["eps_id"]
    np.testing.assert_array_equal(second["obs"][0], first["new_obs"][-1])
    np.testing.assert_array_equal(second["truncateds"], [False, False, True, False])


def test_sample_on_a_vector_env():
    env = load_vector("CartPole-v1", 4, max_episode_steps=5, seed=0)
    policy = make_policy(env)
    batch = sampling.sample(policy, env, 40)
    assert len(batch) == 40
    # Eleven steps of four environments: 5 + the reset + 5 each.
    assert policy.global_timestep == 44
    assert [len(f) for f in policy.fragments] == [5] * 8
    for entry in range(4):
        rows = batch["unroll_id"] == entry
        np.testing.assert_array_equal(batch["t"][rows], [0, 1, 2, 3, 4] * 2)
        np.testing.assert_array_equal(batch["truncateds"][rows], batch["t"][rows] == 4)
        assert len(np.unique(batch["eps_id"][rows])) == 2
    assert not batch["terminateds"].any()
    assert len(np.unique(batch["eps_id"])) == 8


def test_terminated_episodes_are_terminateds_not_truncateds():
    env = load("CartPole-v1", seed=0)
    policy = make_policy(env)
    always_left(policy)
    batch = sampling.sample(policy, env, 40, explore=False)
    np.testing.assert_array_equal(batch["actions"], np.zeros(len(batch)))
    ends = np.flatnonzero(batch["eps_id"][1:] != batch["eps_id"][:-1])
    assert len(ends) >= 2  # pushing left drops the pole in about ten steps
    expected = np.zeros(len(batch), bool)
    expected[ends] = True
    np.testing.assert_array_equal(batch["terminateds"], expected)
    assert not batch["truncateds"].any()


def test_recurrent_state_columns_chain_within_episodes_and_across_calls():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    policy = make_policy(env, LSTM_CONFIG)
    first = sampling.sample(policy, env, 7)
    assert {"state_in_0", "state_in_1", "state_out_0", "state_out_1"} <= set(first)
    starts = first["t"] == 0
    np.testing.assert_array_equal(first["state_in_0"][starts], np.zeros((2, 8)))
    assert np.abs(first["state_out_0"]).max() > 0
    within = first["eps_id"][1:] == first["eps_id"][:-1]
    for i in range(2):
        np.testing.assert_array_equal(first[f"state_in_{i}"][1:][within],
                                      first[f"state_out_{i}"][:-1][within])
    second = sampling.sample(policy, env, 2)
    for i in range(2):
        np.testing.assert_array_equal(second[f"state_in_{i}"][0], first[f"state_out_{i}"][-1])


def test_previous_actions_and_rewards_for_a_model_that_reads_them():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    model = dict(LSTM_CONFIG["model"], lstm_use_prev_action=True, lstm_use_prev_reward=True)
    policy = Learner(env.observation_spec(), env.action_spec(), {"model": model})
    first = sampling.sample(policy, env, 7)
    within = first["t"][1:] != 0
    np.testing.assert_array_equal(first["prev_actions"][1:][within],
                                  first["actions"][:-1][within])
    np.testing.assert_array_equal(first["prev_rewards"][1:][within],
                                  first["rewards"][:-1][within])
    starts = first["t"] == 0
    np.testing.assert_array_equal(first["prev_actions"][starts], [0, 0])
    np.testing.assert_array_equal(first["prev_rewards"][starts], [0.0, 0.0])
    assert first["prev_actions"].dtype == np.int64
    assert first["prev_rewards"].dtype == np.float32
    second = sampling.sample(policy, env, 2)
    assert second["prev_actions"][0] == first["actions"][-1]
    assert second["prev_rewards"][0] == 1.0
    assert policy.learn_on_batch(first)["num_grad_updates_lifetime"] == 1


def test_sample_needs_a_positive_step_count():
    env = load("CartPole-v1", seed=0)
    with pytest.raises(ValueError, match="num_steps must be positive, got 0"):
        sampling.sample(make_policy(env), env, 0)


def test_evaluate_returns_undiscounted_episode_returns():
    env = load("CartPole-v1", max_episode_steps=5, seed=0)
    returns = sampling.evaluate(make_policy(env), env, 3)
    assert returns.dtype == np.float64
    np.testing.assert_array_equal(returns, [5.0, 5.0, 5.0])


def test_evaluate_on_a_vector_env():
    env = load_vector("CartPole-v1", 4, max_episode_steps=5, seed=0)
    np.testing.assert_array_equal(sampling.evaluate(make_policy(env), env, 6), np.full(6, 5.0))


def test_evaluate_returns_are_the_greedy_episode_lengths():
    policy = make_policy(load("CartPole-v1"))
    always_left(policy)
    returns = sampling.evaluate(policy, load("CartPole-v1", seed=3), 3)
    batch = sampling.sample(policy, load("CartPole-v1", seed=3), 60, explore=False)
    _, lengths = np.unique(batch["eps_id"], return_counts=True)
    np.testing.assert_array_equal(returns, lengths[:3])
    assert returns.max() < 20


@pytest.mark.parametrize("model", [
    {"use_lstm": True, "lstm_cell_size": 8, "fcnet_hiddens": [8]},
    {"use_lstm": True, "lstm_cell_size": 8, "fcnet_hiddens": [8],
     "lstm_use_prev_action": True, "lstm_use_prev_reward": True},
])
def test_recurrent_evaluate_starts_every_episode_from_the_initial_state(model):
    # sample() and evaluate() on equally seeded environments play the same greedy episodes.
    policy = make_policy(load("CartPole-v1"), {"model": model})
    returns = sampling.evaluate(policy, load("CartPole-v1", max_episode_steps=30, seed=3), 6)
    batch = sampling.sample(policy, load("CartPole-v1", max_episode_steps=30, seed=3), 200,
                            explore=False)
    _, first_rows, lengths = np.unique(batch["eps_id"], return_index=True, return_counts=True)
    np.testing.assert_array_equal(returns, lengths[np.argsort(first_rows)][:6])


def test_sample_and_evaluate_with_a_minimal_policy():
    env = load("CartPole-v1", seed=3)
    policy = AlwaysLeft(env.observation_spec(), env.action_spec(), {})
    returns = sampling.evaluate(policy, env, 2)
    batch = sampling.sample(policy, load("CartPole-v1", seed=3), 30)
    _, lengths = np.unique(batch["eps_id"], return_counts=True)
    np.testing.assert_array_equal(returns, lengths[:2])
    assert set(batch) == {"obs", "new_obs", "actions", "rewards", "terminateds", "truncateds",
                          "eps_id", "t", "agent_index", "unroll_id"}
    assert batch["terminateds"].sum() >= 2
