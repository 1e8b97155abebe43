"""Tests of `savers.lite_py_policy.LitePyPolicy`: equivalence with the TF policy,
sampling frequencies, masks, recurrent state, errors, weight refresh and drivers."""

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from savers import lite_export
from savers.lite_export import LiteModel
from savers.lite_py_policy import LitePyPolicy
from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks.actor_distribution_network import ActorDistributionNetwork
from tfpolicy.networks.network import as_network
from tfpolicy.networks.q_network import QNetwork
from tfpolicy.networks.q_rnn_network import QRnnNetwork
from tfpolicy.policies.actor_policy import ActorPolicy
from tfpolicy.policies.epsilon_greedy_policy import EpsilonGreedyPolicy
from tfpolicy.policies.gaussian_policy import GaussianPolicy
from tfpolicy.policies.greedy_policy import GreedyPolicy
from tfpolicy.policies.ou_noise_policy import OUNoisePolicy
from tfpolicy.policies.q_policy import QPolicy
from tfpolicy.trajectories import time_step as ts

OBS = TensorSpec([4], tf.float32, "obs")
ACTION = BoundedTensorSpec([], tf.int64, 0, 1, "action")
# |z| > 5.5 has probability 3.8e-8 per check: every statistical test below stays
# under a 1e-6 false-failure rate.
Z = 5.5


def _time_steps(obs, batch, step_type=None):
    step = ts.restart(obs, batch)
    if step_type is not None:
        step = step._replace(step_type=np.asarray(step_type, np.int32))
    return step


@pytest.fixture(scope="module")
def greedy():
    tf.random.set_seed(0)
    spec = ts.time_step_spec(OBS)
    return GreedyPolicy(QPolicy(spec, ACTION, QNetwork(OBS, ACTION, fc_layer_params=(64, 64))))


@pytest.fixture(scope="module")
def greedy_lite(greedy):
    return LitePyPolicy.from_policy(greedy, batch_time_steps=False)


def _logit_policy(logits, action_spec=ACTION):
    """A QPolicy whose Q-values are `logits` for every observation (a Keras 3 model)."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        len(logits), kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(np.asarray(logits, np.float32)))])
    return QPolicy(ts.time_step_spec(OBS), action_spec, as_network(model, OBS))


def test_greedy_actions_equal_tf_policy_batched(greedy, greedy_lite):
    obs = np.random.default_rng(1).normal(size=(64, 4)).astype(np.float32) * 3
    lite = greedy_lite.action(_time_steps(obs, 64))
    expected = greedy.action(ts.restart(tf.constant(obs), 64)).action.numpy()
    np.testing.assert_array_equal(lite.action, expected)
    assert lite.action.dtype == np.int64 and lite.action.shape == (64,)
    assert lite.state == () and lite.info == ()


def test_unbatched_steps_and_batch_size_changes(greedy):
    policy = LitePyPolicy.from_policy(greedy)
    rng = np.random.default_rng(2)
    for _ in range(5):
        obs = rng.normal(size=4).astype(np.float32) * 3
        step = policy.action(ts.restart(obs))
        assert step.action.shape == ()
        assert int(step.action) == int(greedy.action(ts.restart(obs[None], 1)).action[0])
    batched = LitePyPolicy(policy.model, batch_time_steps=False)
    for batch in (3, 7, 3):  # a new batch size, then back to one seen before
        obs = rng.normal(size=(batch, 4)).astype(np.float32)
        np.testing.assert_array_equal(
            batched.action(_time_steps(obs, batch)).action,
            greedy.action(ts.restart(tf.constant(obs), batch)).action.numpy())


def test_reward_and_discount_are_not_model_inputs(greedy_lite):
    signature = greedy_lite.model.document["signatures"]["action"]
    assert [leaf["name"] for leaf in signature["inputs"]] == ["observation"]
    assert [leaf["name"] for leaf in signature["unused_inputs"]] == [
        "step_type", "reward", "discount"]


def test_file_round_trip_equals_in_memory(greedy, tmp_path):
    path = tmp_path / "policy.tflite"
    lite_export.export_lite(greedy, path, batch_size=None)
    policy = LitePyPolicy(path, batch_time_steps=False)
    obs = np.random.default_rng(3).normal(size=(10, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        policy.action(_time_steps(obs, 10)).action,
        greedy.action(ts.restart(tf.constant(obs), 10)).action.numpy())


def test_fixed_batch_model_rejects_other_batch_sizes(greedy):
    policy = LitePyPolicy(lite_export.convert_lite(greedy, batch_size=2), batch_time_steps=False)
    obs = np.zeros((2, 4), np.float32)
    assert policy.action(_time_steps(obs, 2)).action.shape == (2,)
    with pytest.raises(ValueError, match="batch_size=2, got a batch of 3"):
        policy.action(_time_steps(np.zeros((3, 4), np.float32), 3))


def test_bad_inputs_name_the_nest_path(greedy_lite, greedy):
    with pytest.raises((TypeError, ValueError), match="observation"):
        greedy_lite.action(_time_steps(np.zeros((2, 5), np.float32), 2))
    unbatched = LitePyPolicy(greedy_lite.model)
    with pytest.raises(ValueError, match="batch_time_steps=True"):
        unbatched.action(_time_steps(np.zeros((2, 4), np.float32), 2))
    # After a good step the fast path is armed; a bad one still fails clearly.
    unbatched.action(ts.restart(np.zeros(4, np.float32)))
    with pytest.raises((TypeError, ValueError), match="observation"):
        unbatched.action(ts.restart(np.zeros(3, np.float32)))


def test_python_numbers_and_float64_take_the_checked_path(greedy_lite, greedy):
    policy = LitePyPolicy(greedy_lite.model)
    obs = np.random.default_rng(4).normal(size=4).astype(np.float32)
    step = ts.TimeStep(np.asarray(0, np.int32), 0.0, 1.0, obs)
    expected = int(greedy.action(ts.restart(obs[None], 1)).action[0])
    assert int(policy.action(step).action) == expected
    assert int(policy.action(step).action) == expected


def test_continuous_deterministic_actor_within_tolerance():
    tf.random.set_seed(5)
    spec = BoundedTensorSpec([2], tf.float32, -0.5, 0.5)
    actor = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2, activation="tanh")])
    adn = ActorPolicy(ts.time_step_spec(OBS), spec,
                      ActorDistributionNetwork(OBS, spec, fc_layer_params=(16,)))
    obs = np.random.default_rng(5).normal(size=(32, 4)).astype(np.float32)
    for tf_policy in (ActorPolicy(ts.time_step_spec(OBS), spec, actor), GreedyPolicy(adn)):
        lite = LitePyPolicy.from_policy(tf_policy, batch_time_steps=False)
        np.testing.assert_allclose(
            lite.action(_time_steps(obs, 32)).action,
            tf_policy.action(ts.restart(tf.constant(obs), 32)).action.numpy(), atol=1e-5)


def test_categorical_sampling_frequencies():
    logits = [0.0, 1.0, -1.0]
    spec = BoundedTensorSpec([], tf.int32, 3, 5)
    policy = LitePyPolicy.from_policy(_logit_policy(logits, spec), batch_time_steps=False)
    n = 20000
    actions = policy.action(_time_steps(np.zeros((n, 4), np.float32), n)).action
    p = np.exp(logits) / np.exp(logits).sum()
    counts = np.bincount(actions - 3, minlength=3)
    assert counts.sum() == n
    assert np.all(np.abs(counts - n * p) <= Z * np.sqrt(n * p * (1 - p))), (counts, n * p)


def test_epsilon_greedy_frequencies():
    policy = LitePyPolicy.from_policy(
        EpsilonGreedyPolicy(_logit_policy([0.0, 3.0]), 0.3), batch_time_steps=False)
    n = 20000
    actions = policy.action(_time_steps(np.zeros((n, 4), np.float32), n)).action
    p = 0.7 + 0.3 / 2  # greedy action 1, plus its share of the uniform draws
    ones = int(actions.sum())
    assert abs(ones - n * p) <= Z * np.sqrt(n * p * (1 - p)), ones


def test_mask_is_respected_with_dict_observation():
    obs_spec = {"obs": OBS, "mask": TensorSpec([3], tf.int32)}
    spec = BoundedTensorSpec([], tf.int64, 0, 2)
    tf.random.set_seed(6)
    q = QPolicy(ts.time_step_spec(obs_spec), spec, QNetwork(OBS, spec, fc_layer_params=(8,)),
                observation_and_action_constraint_splitter=lambda o: (o["obs"], o["mask"]))
    rng = np.random.default_rng(6)
    n = 400
    mask = np.zeros((n, 3), np.int32)
    mask[np.arange(n), rng.integers(0, 3, n)] = 1
    mask[rng.random((n, 3)) < 0.3] = 1
    obs = {"obs": rng.normal(size=(n, 4)).astype(np.float32), "mask": mask}
    for tf_policy in (GreedyPolicy(q), q):
        lite = LitePyPolicy.from_policy(tf_policy, batch_time_steps=False)
        actions = lite.action(_time_steps(obs, n)).action
        assert np.all(mask[np.arange(n), actions] == 1)
    greedy_lite = LitePyPolicy.from_policy(GreedyPolicy(q), batch_time_steps=False)
    np.testing.assert_array_equal(
        greedy_lite.action(_time_steps(obs, n)).action,
        GreedyPolicy(q).action(ts.restart(tf.nest.map_structure(tf.constant, obs), n))
        .action.numpy())


def test_gaussian_noise_mean_and_std():
    spec = BoundedTensorSpec([2], tf.float32, -10.0, 10.0)
    actor = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        2, kernel_initializer="zeros", bias_initializer="ones")])
    policy = LitePyPolicy.from_policy(
        GaussianPolicy(ActorPolicy(ts.time_step_spec(OBS), spec, actor), scale=0.5),
        batch_time_steps=False)
    n = 10000
    noise = policy.action(_time_steps(np.zeros((n, 4), np.float32), n)).action - 1.0
    assert np.all(np.abs(noise.mean(0)) <= Z * 0.5 / np.sqrt(n))
    # the sample variance of n normals has standard deviation sigma^2 * sqrt(2 / (n - 1))
    assert np.all(np.abs(noise.var(0) - 0.25) <= Z * 0.25 * np.sqrt(2 / (n - 1)))


def test_ou_noise_lives_in_the_state_and_resets_on_first():
    spec = BoundedTensorSpec([2], tf.float32, -10.0, 10.0)
    actor = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        2, kernel_initializer="zeros", bias_initializer="zeros")])
    tf_policy = OUNoisePolicy(ActorPolicy(ts.time_step_spec(OBS), spec, actor),
                              ou_stddev=0.2, ou_damping=0.15)
    policy = LitePyPolicy.from_policy(tf_policy, batch_time_steps=False)
    state = policy.get_initial_state(3)
    np.testing.assert_array_equal(state["ou_noise"], np.zeros((3, 2), np.float32))
    obs = np.zeros((3, 4), np.float32)
    first = policy.action(_time_steps(obs, 3), state)
    np.testing.assert_allclose(first.action, first.state["ou_noise"], atol=1e-6)
    mid = policy.action(_time_steps(obs, 3, step_type=[1, 0, 1]), first.state)
    # x_{t+1} = 0.85 x_t + 0.2 eps: entry 1 restarted from 0, the others kept theirs.
    residual = mid.state["ou_noise"] - 0.85 * first.state["ou_noise"]
    assert np.all(np.abs(residual[[0, 2]]) < 0.2 * Z)
    assert np.all(np.abs(mid.state["ou_noise"][1]) < 0.2 * Z)
    np.testing.assert_allclose(mid.action, mid.state["ou_noise"], atol=1e-6)


def test_recurrent_state_matches_tf_policy_with_reset_in_the_middle():
    tf.random.set_seed(7)
    q = QPolicy(ts.time_step_spec(OBS), ACTION, QRnnNetwork(OBS, ACTION, lstm_size=(8,)))
    tf_policy = GreedyPolicy(q)
    policy = LitePyPolicy.from_policy(tf_policy, batch_time_steps=False)
    rng = np.random.default_rng(7)
    lite_state = policy.get_initial_state(3)
    tf_state = tf_policy.get_initial_state(3)
    step_types = [[0, 0, 0], [1, 1, 1], [1, 0, 1], [1, 1, 2], [0, 1, 1]]
    for step_type in step_types:
        obs = rng.normal(size=(3, 4)).astype(np.float32)
        lite = policy.action(_time_steps(obs, 3, step_type), lite_state)
        expected = tf_policy.action(ts.TimeStep(
            tf.constant(step_type, tf.int32), tf.zeros([3]), tf.ones([3]), tf.constant(obs)),
            tf_state)
        np.testing.assert_array_equal(lite.action, expected.action.numpy())
        for got, want in zip(tf.nest.flatten(lite.state), tf.nest.flatten(expected.state)):
            np.testing.assert_allclose(got, want.numpy(), atol=1e-5)
        lite_state, tf_state = lite.state, expected.state
    unbatched = LitePyPolicy(policy.model).get_initial_state()
    assert [s.shape for s in tf.nest.flatten(unbatched)] == [(8,), (8,)]


def test_update_from_policy_refreshes_weights():
    tf_policy = GreedyPolicy(_logit_policy([1.0, 0.0]))
    policy = LitePyPolicy.from_policy(tf_policy, batch_time_steps=False)
    obs = np.zeros((4, 4), np.float32)
    np.testing.assert_array_equal(policy.action(_time_steps(obs, 4)).action, [0, 0, 0, 0])
    for variable in tf_policy.variables():
        if variable.shape.rank == 1:
            variable.assign([0.0, 1.0])
    policy.update_from_policy(tf_policy)
    np.testing.assert_array_equal(policy.action(_time_steps(obs, 4)).action, [1, 1, 1, 1])
    other = GreedyPolicy(_logit_policy([0.0, 0.0, 0.0], BoundedTensorSpec([], tf.int64, 0, 2)))
    with pytest.raises(ValueError, match="specs or action signature differ"):
        policy.update_from_policy(other)


def test_runs_in_py_driver_single_and_vector_env(greedy_lite):
    from tfpolicy.drivers.py_driver import PyDriver
    from tfpolicy.environments import load, load_vector
    env = load("CartPole-v1", seed=0)
    spec = env.time_step_spec()
    tf.random.set_seed(8)
    tf_policy = GreedyPolicy(QPolicy(spec, env.action_spec(), QNetwork(
        spec.observation, env.action_spec(), fc_layer_params=(16,))))
    steps = []
    PyDriver(env, LitePyPolicy.from_policy(tf_policy), [steps.append], max_steps=30).run()
    assert len(steps) >= 30  # boundary transitions are not counted as steps
    for trajectory in steps:
        if trajectory.step_type != 2:
            expected = tf_policy.action(ts.restart(trajectory.observation[None], 1)).action
            assert int(trajectory.action) == int(expected[0])
    vector = load_vector("CartPole-v1", 4, seed=0)
    batched = []
    PyDriver(vector, LitePyPolicy.from_policy(tf_policy, batch_time_steps=False),
             [batched.append], max_steps=40).run()
    assert sum(int(np.size(t.step_type)) for t in batched) >= 40
    assert all(np.shape(t.action) == (4,) for t in batched)


def test_missing_runtime_gives_install_hint(monkeypatch, greedy_lite):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(ImportError, match=r'pip install "tfpolicy\[lite\]"'):
        LitePyPolicy(greedy_lite.model)


def test_lite_model_is_accepted_as_given(greedy_lite):
    model = LiteModel(greedy_lite.model.flatbuffer, dict(greedy_lite.model.document))
    assert LitePyPolicy(model).action_spec == greedy_lite.action_spec


def test_wrapper_without_log_probability_over_one_with_it_converts(tmp_path):
    # The wrapped QPolicy emits log-probabilities, the epsilon-greedy wrapper does
    # not: its info is `()` against the spec `PolicyInfo(log_probability=())`.
    inner = QPolicy(ts.time_step_spec(OBS), ACTION,
                    QNetwork(OBS, ACTION, fc_layer_params=(8,)), emit_log_probability=True)
    policy = EpsilonGreedyPolicy(inner, 0.0)
    lite = LitePyPolicy.from_policy(policy, batch_time_steps=False)
    obs = np.random.default_rng(3).normal(size=(16, 4)).astype(np.float32)
    expected = policy.action(ts.restart(tf.constant(obs), 16)).action.numpy()
    np.testing.assert_array_equal(lite.action(_time_steps(obs, 16)).action, expected)
    from savers import PolicySaver

    PolicySaver(policy).save(str(tmp_path / "policy"))  # the SavedModel export too


def test_dict_observation_with_one_key():
    from tfpolicy.policies.fixed_policy import FixedPolicy

    spec = ts.time_step_spec({"x": TensorSpec([2], tf.float32)})
    policy = LitePyPolicy.from_policy(FixedPolicy(np.int64(1), spec, ACTION))
    step = policy.action(ts.restart({"x": np.zeros(2, np.float32)}))
    assert int(step.action) == 1
    with pytest.raises((TypeError, ValueError), match="observation"):
        policy.action(ts.restart({"y": np.zeros(2, np.float32)}))


def test_a_seed_is_refused(greedy_lite):
    with pytest.raises(TypeError, match="LitePyPolicy.action takes no seed"):
        greedy_lite.action(_time_steps(np.zeros((2, 4), np.float32), 2), seed=1)
