"""Tests of `savers.load_policy`: a loaded export is a `TFPolicy` that works wherever a
policy does (wrappers, drivers, re-exports, checkpoint pushes, recurrent state) and acts
as the exported policy did.

Exports are slow, so each is built once per module and shared."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tree

from savers import LitePyPolicy, LoadedPolicy, PolicySaver, export_lite, load, load_policy
from savers import restore_checkpoint
from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy import TFPolicy, networks, policies, time_step as ts
from tfpolicy.drivers import DynamicEpisodeDriver, DynamicStepDriver
from tfpolicy.drivers.py_driver import PyDriver
from tfpolicy.environments.random_py_environment import RandomPyEnvironment
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.policies.py_tf_eager_policy import PyTFEagerPolicy

OBS = TensorSpec([3], tf.float32, "obs")
TS = ts.time_step_spec(OBS)
DISCRETE = BoundedTensorSpec([], tf.int32, 0, 2, "action")
SHIFTED = BoundedTensorSpec([], tf.int32, 1, 3, "action")  # a shifted categorical
CONTINUOUS = BoundedTensorSpec([2], tf.float32, -1.0, 1.0, "action")
BATCH = 4


def _q(spec=DISCRETE, **kwargs):
    return policies.QPolicy(TS, spec, networks.QNetwork(OBS, spec, fc_layer_params=(8,)),
                            emit_log_probability=True, **kwargs)


def _actor():
    """A Keras 3 deterministic actor with non-trivial weights."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh")])
    model.set_weights([np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]], np.float32),
                       np.array([0.1, -0.2], np.float32)])
    return policies.ActorPolicy(TS, CONTINUOUS, model)


def _q_rnn():
    return policies.GreedyPolicy(policies.QPolicy(
        TS, DISCRETE, networks.QRnnNetwork(OBS, DISCRETE, input_fc_layer_params=(8,),
                                           lstm_size=(4,), output_fc_layer_params=()),
        emit_log_probability=True))


def _actor_rnn():
    return policies.ActorPolicy(TS, CONTINUOUS, networks.ActorDistributionRnnNetwork(
        OBS, CONTINUOUS, input_fc_layer_params=(8,), lstm_size=(4, 3), output_fc_layer_params=()),
        emit_log_probability=True)


MAKERS = {"q": _q, "shifted_q": lambda: _q(SHIFTED),
          "greedy_q": lambda: policies.GreedyPolicy(_q()), "actor": _actor,
          "actor_stochastic": lambda: policies.ActorPolicy(
              TS, CONTINUOUS, networks.ActorDistributionNetwork(OBS, CONTINUOUS,
                                                                fc_layer_params=(8,)),
              emit_log_probability=True),
          "q_rnn": _q_rnn, "actor_rnn": _actor_rnn}
_EXPORTS = {}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """name -> (original policy, export dir), built on first use."""

    def get(name):
        if name not in _EXPORTS:
            policy = MAKERS[name]()
            path = tmp_path_factory.mktemp(name) / "export"
            PolicySaver(policy).save(path)
            _EXPORTS[name] = (policy, path)
        return _EXPORTS[name]

    yield get
    _EXPORTS.clear()


def _time_step(batch=BATCH, seed=0, step_type=ts.StepType.FIRST):
    rng = np.random.default_rng(seed)
    outer = [] if batch is None else [batch]
    return ts.TimeStep(step_type=tf.fill(outer, tf.constant(step_type, tf.int32)),
                       reward=tf.zeros(outer), discount=tf.ones(outer),
                       observation=tf.constant(rng.normal(size=outer + [3]) * 2.0, tf.float32))


def _equal(actual, expected):
    """Integer leaves equal exactly; float leaves to 1e-6: the exported graph, called inside
    another `tf.function` (the base's compiled `action`, drivers), may be fused differently
    from the original's eager ops, which moves a float by an ulp."""
    tree.assert_same_structure(actual, expected)
    for a, e in zip(tree.flatten(actual), tree.flatten(expected)):
        a, e = np.asarray(a), np.asarray(e)
        assert a.dtype == e.dtype and a.shape == e.shape
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(a, e)


# ---- the policy itself --------------------------------------------------------------------------


def test_load_policy_is_a_tf_policy_with_the_exported_specs_and_variables(export):
    original, path = export("q")
    policy = load_policy(path)
    assert isinstance(policy, TFPolicy) and isinstance(policy, LoadedPolicy)
    assert policy.time_step_spec == original.time_step_spec
    assert policy.action_spec == original.action_spec
    assert policy.policy_state_spec == original.policy_state_spec
    assert policy.info_spec == original.info_spec
    assert policy.emit_log_probability and policy.has_distribution
    model_variables = policy.loaded_model.model_variables
    assert [id(v) for v in policy.variables()] == [id(v) for v in model_variables]
    assert len(policy.trainable_variables) == len(original.trainable_variables)
    assert int(policy.get_train_step()) == -1


@pytest.mark.parametrize("name", ["greedy_q", "actor", "q_rnn"])
def test_deterministic_actions_equal_the_original(export, name):
    original, path = export(name)
    policy = load_policy(path)
    for batch in (BATCH, None):
        time_step = _time_step(batch)
        state = original.get_initial_state(batch)
        _equal(policy.action(time_step, policy.get_initial_state(batch)),
               original.action(time_step, state))


@pytest.mark.parametrize("name", ["q", "shifted_q", "actor_stochastic"])
def test_seeded_sampling_equals_the_original_and_the_distribution_is_rebuilt(export, name):
    original, path = export(name)
    policy = load_policy(path)
    time_step = _time_step()
    seed = tf.constant([7, 11])
    _equal(policy.action(time_step, seed=seed), original.action(time_step, seed=seed))
    loaded_dist = policy.distribution(time_step).action
    original_dist = original.distribution(time_step).action
    _equal(loaded_dist.mode(), original_dist.mode())
    action = original.action(time_step, seed=seed).action
    np.testing.assert_allclose(loaded_dist.log_prob(action), original_dist.log_prob(action),
                               rtol=1e-6)
    unseeded = policy.action(time_step).action.numpy()  # sampled inside the export
    spec = policy.action_spec
    assert np.all(unseeded >= spec.minimum) and np.all(unseeded <= spec.maximum)


def test_time_steps_with_two_outer_dims_are_folded_for_the_export(export):
    original, path = export("greedy_q")
    policy = load_policy(path)
    time_step = tf.nest.map_structure(lambda t: tf.reshape(t, [2, 2] + t.shape[1:].as_list()),
                                      _time_step())
    _equal(policy.action(time_step), original.action(time_step))


# ---- wrappers -----------------------------------------------------------------------------------


def test_greedy_policy_wraps_a_loaded_q_policy(export):
    original, path = export("q")
    greedy, expected = policies.GreedyPolicy(load_policy(path)), policies.GreedyPolicy(original)
    for batch in (BATCH, None):
        _equal(greedy.action(_time_step(batch)), expected.action(_time_step(batch)))


def test_epsilon_greedy_policy_wraps_a_loaded_q_policy(export):
    original, path = export("q")
    policy = load_policy(path)
    greedy = policies.GreedyPolicy(original)
    never = policies.EpsilonGreedyPolicy(policy, epsilon=0.0)
    always = policies.EpsilonGreedyPolicy(policy, epsilon=1.0)
    for batch in (BATCH, None):
        _equal(never.action(_time_step(batch)).action, greedy.action(_time_step(batch)).action)
        random_action = always.action(_time_step(batch)).action.numpy()
        assert random_action.shape == (() if batch is None else (BATCH,))
        assert np.all((random_action >= 0) & (random_action <= 2))
    seed = tf.constant([3, 4])
    _equal(policies.EpsilonGreedyPolicy(policy, epsilon=0.5).action(_time_step(), seed=seed),
           policies.EpsilonGreedyPolicy(original, epsilon=0.5).action(_time_step(), seed=seed))


def test_gaussian_policy_wraps_a_loaded_actor(export):
    original, path = export("actor")
    noisy = policies.GaussianPolicy(load_policy(path), scale=0.3)
    expected = policies.GaussianPolicy(original, scale=0.3)
    seed = tf.constant([5, 6])
    for batch in (BATCH, None):
        _equal(noisy.distribution(_time_step(batch)).action.mean(),
               expected.distribution(_time_step(batch)).action.mean())
        _equal(noisy.action(_time_step(batch), seed=seed),
               expected.action(_time_step(batch), seed=seed))


# ---- drivers ------------------------------------------------------------------------------------


def _py_env(batch_size=None):
    return RandomPyEnvironment(ArraySpec((3,), np.float32, "obs"),
                               BoundedArraySpec((), np.int32, 0, 2, "action"),
                               episode_end_probability=0.3, batch_size=batch_size, seed=1)


def test_py_tf_eager_policy_of_a_loaded_policy_steps_a_py_environment(export):
    _, path = export("greedy_q")
    policy = PyTFEagerPolicy(load_policy(path))
    trajectories = []
    PyDriver(_py_env(), policy, [trajectories.append], max_steps=6).run()
    assert len(trajectories) >= 6
    assert all(0 <= int(t.action) <= 2 for t in trajectories)


@pytest.mark.parametrize("driver", [DynamicStepDriver, DynamicEpisodeDriver])
def test_dynamic_drivers_run_a_loaded_policy_on_a_tf_environment(export, driver):
    original, path = export("q_rnn")
    policy = load_policy(path)
    env = TFPyEnvironment(_py_env(batch_size=2))
    actions = []
    kwargs = {"num_steps": 5} if driver is DynamicStepDriver else {"num_episodes": 2}
    time_step, state = driver(env, policy, [lambda t: actions.append(t.action)], **kwargs).run()
    assert time_step.step_type.shape == (2,)
    tree.assert_same_structure(state, original.get_initial_state(2))


# ---- re-exports ---------------------------------------------------------------------------------


def test_policy_saver_re_exports_a_loaded_policy(export, tmp_path):
    original, path = export("q")
    policy = load_policy(path)
    PolicySaver(policy).save(tmp_path / "again")
    again = load_policy(tmp_path / "again")
    assert again.policy_specs.distribution_note is None
    assert again.policy_specs.policy_class == "LoadedPolicy"
    time_step = _time_step()
    seed = tf.constant([1, 2])
    _equal(again.action(time_step, seed=seed), original.action(time_step, seed=seed))
    _equal(policies.GreedyPolicy(again).action(time_step),
           policies.GreedyPolicy(original).action(time_step))


def test_export_lite_converts_a_loaded_policy(export, tmp_path):
    pytest.importorskip("ai_edge_litert")
    _, path = export("greedy_q")
    policy = load_policy(path)
    export_lite(policy, tmp_path / "policy.tflite", batch_size=None)
    lite = LitePyPolicy(tmp_path / "policy.tflite", batch_time_steps=False)
    time_step = _time_step()
    expected = policy.action(time_step).action.numpy()
    got = lite.action(tf.nest.map_structure(lambda t: t.numpy(), time_step)).action
    np.testing.assert_array_equal(got, expected)


# ---- checkpoints --------------------------------------------------------------------------------


def test_restore_checkpoint_updates_a_loaded_policy(export, tmp_path):
    _, path = export("greedy_q")
    policy = load_policy(path)
    other = policies.GreedyPolicy(_q())
    PolicySaver(other).save_checkpoint(tmp_path / "checkpoint")
    time_step = _time_step(batch=32)
    before = policy.action(time_step).action.numpy()
    expected = other.action(time_step).action.numpy()
    assert not np.array_equal(before, expected)  # different weights, different actions
    restore_checkpoint(policy, tmp_path / "checkpoint")
    np.testing.assert_array_equal(policy.action(time_step).action, expected)
    for variable, wanted in zip(policy.variables(), other.variables()):
        np.testing.assert_array_equal(variable, wanted)
    policy.update_from_checkpoint(path)  # the export's own weights back
    np.testing.assert_array_equal(policy.action(time_step).action, before)
    again = load_policy(path, checkpoint_path=tmp_path / "checkpoint")
    np.testing.assert_array_equal(again.action(time_step).action, expected)


# ---- recurrent state ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["q_rnn", "actor_rnn"])
def test_recurrent_export_keeps_its_state_across_steps(export, name):
    original, path = export(name)
    policy = load_policy(path)
    assert policy.policy_state_spec == original.policy_state_spec
    _equal(policy.get_initial_state(BATCH), original.get_initial_state(BATCH))
    _equal(policy.get_initial_state(None), original.get_initial_state(None))
    state, expected_state = policy.get_initial_state(BATCH), original.get_initial_state(BATCH)
    for step in range(3):
        time_step = _time_step(seed=step, step_type=ts.StepType.FIRST if step == 0
                               else ts.StepType.MID)
        if name == "q_rnn":
            out, expected = policy.action(time_step, state), original.action(
                time_step, expected_state)
            _equal(out, expected)
        else:  # stochastic: the distribution's parameters and the state
            out = policy.distribution(time_step, state)
            expected = original.distribution(time_step, expected_state)
            np.testing.assert_allclose(out.action.mean(), expected.action.mean(), atol=1e-6)
            np.testing.assert_allclose(out.action.stddev(), expected.action.stddev(), atol=1e-6)
            tree.map_structure(lambda a, e: np.testing.assert_allclose(a, e, atol=1e-6),
                               out.state, expected.state)
        state, expected_state = out.state, expected.state
        assert not all(np.all(np.asarray(s) == 0) for s in tree.flatten(state)) or step == 0


# ---- errors -------------------------------------------------------------------------------------


def test_a_directory_that_is_not_an_export_raises_the_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_policy(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="saved_model.pb is missing"):
        load_policy(tmp_path / "empty")


def test_a_time_step_of_the_wrong_spec_is_a_path_named_error(export):
    _, path = export("greedy_q")
    policy = load_policy(path)
    bad = _time_step()._replace(observation=tf.zeros([BATCH, 5]))
    with pytest.raises((TypeError, ValueError), match="time_step.*observation"):
        policy.action(bad)


def test_load_policy_refuses_what_load_did_not_return(export):
    _, path = export("greedy_q")
    with pytest.raises(TypeError, match="savers.load"):
        LoadedPolicy(tf.saved_model.load(str(path)))
    assert isinstance(LoadedPolicy(load(path)), TFPolicy)
