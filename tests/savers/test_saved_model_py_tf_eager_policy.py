"""Tests of SavedModelPyTFEagerPolicy: numpy in/out like PyTFEagerPolicy, specs from the
export, recurrent state, batch-size checks, checkpoint pushes, train step and metadata, speed."""

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from savers import PolicySaver, SavedModelPyTFEagerPolicy
from specs import ArraySpec, BoundedTensorSpec, TensorSpec, tensor_spec
from tfpolicy import networks, policies, time_step as ts
from tfpolicy.policies import PyPolicy, PyTFEagerPolicy

OBS = {"pos": TensorSpec([2], tf.float32, "pos"), "vel": TensorSpec([1], tf.float32, "vel")}
TS = ts.time_step_spec(OBS)
ACTION = BoundedTensorSpec([], tf.int32, 0, 3, "action")


def _greedy_q():
    net = networks.QNetwork(OBS, ACTION, preprocessing_combiner=keras.layers.Concatenate(),
                            fc_layer_params=(8,))
    return policies.GreedyPolicy(policies.QPolicy(TS, ACTION, net, emit_log_probability=True))


def _greedy_q_rnn():
    net = networks.QRnnNetwork(OBS, ACTION, preprocessing_combiner=keras.layers.Concatenate(),
                               input_fc_layer_params=(8,), lstm_size=(4,),
                               output_fc_layer_params=())
    return policies.GreedyPolicy(policies.QPolicy(TS, ACTION, net))


@pytest.fixture(scope="module")
def stateless(tmp_path_factory):
    root = tmp_path_factory.mktemp("stateless")
    policy = _greedy_q()
    train_step = tf.Variable(11, dtype=tf.int64)
    saver = PolicySaver(policy, train_step=train_step, metadata={"env_steps": 5000})
    saver.save(root / "export")
    return {"root": root, "policy": policy, "saver": saver, "train_step": train_step}


@pytest.fixture(scope="module")
def recurrent(tmp_path_factory):
    root = tmp_path_factory.mktemp("recurrent")
    policy = _greedy_q_rnn()
    PolicySaver(policy).save(root / "export")
    PolicySaver(policy, batch_size=2).save(root / "batch2")
    return {"root": root, "policy": policy}


def _obs(rng, batch=None):
    outer = () if batch is None else (batch,)
    return {"pos": (rng.normal(size=outer + (2,)) * 2).astype(np.float32),
            "vel": rng.normal(size=outer + (1,)).astype(np.float32)}


def _step(rng, batch=None, first=False):
    if first:
        return ts.restart(_obs(rng, batch), batch_size=batch)
    reward = np.zeros(() if batch is None else (batch,), np.float32)
    return ts.transition(_obs(rng, batch), reward)


def test_is_a_py_policy_with_the_exported_specs(stateless):
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export")
    policy = stateless["policy"]
    assert isinstance(served, PyPolicy)
    assert served.time_step_spec == tensor_spec.to_array_spec(policy.time_step_spec)
    assert served.action_spec == tensor_spec.to_array_spec(policy.action_spec)
    assert served.info_spec == tensor_spec.to_array_spec(policy.info_spec)
    assert served.policy_state_spec == () and served.get_initial_state() == ()
    assert served.policy_specs.policy_class == "GreedyPolicy"


def test_unbatched_numpy_steps_match_the_in_process_policy(stateless):
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export")
    reference = PyTFEagerPolicy(stateless["policy"])
    rng = np.random.default_rng(0)
    actions = set()
    for i in range(20):
        time_step = _step(rng, first=i == 0)
        step = served.action(time_step)
        expected = reference.action(time_step)
        assert isinstance(step.action, np.ndarray) and step.action.shape == ()
        assert step.action == expected.action
        assert step.info.log_probability == 0.0
        actions.add(int(step.action))
    assert len(actions) > 1  # the observations matter


def test_batched_numpy_steps_match_the_in_process_policy(stateless):
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export", batch_time_steps=False)
    reference = PyTFEagerPolicy(stateless["policy"], batch_time_steps=False)
    rng = np.random.default_rng(1)
    for batch in (1, 5):
        time_step = _step(rng, batch)
        step = served.action(time_step)
        assert step.action.shape == (batch,)
        np.testing.assert_array_equal(step.action, reference.action(time_step).action)


def test_recurrent_state_goes_in_and_out(recurrent):
    served = SavedModelPyTFEagerPolicy(recurrent["root"] / "export")
    reference = PyTFEagerPolicy(recurrent["policy"])
    state, expected_state = served.get_initial_state(), reference.get_initial_state()
    assert state[0][0].shape == (4,) and not np.any(state[0][0])
    rng = np.random.default_rng(2)
    for i in range(6):
        time_step = _step(rng, first=i in (0, 4))
        step = served.action(time_step, state)
        expected = reference.action(time_step, expected_state)
        assert step.action == expected.action
        np.testing.assert_allclose(step.state[0][1], expected.state[0][1], rtol=1e-5, atol=1e-6)
        state, expected_state = step.state, expected.state
    assert np.any(state[0][0])


def test_recurrent_batched(recurrent):
    served = SavedModelPyTFEagerPolicy(recurrent["root"] / "export", batch_time_steps=False)
    policy = recurrent["policy"]
    state = served.get_initial_state(3)
    assert state[0][0].shape == (3, 4)
    rng = np.random.default_rng(3)
    expected_state = policy.get_initial_state(3)
    for i in range(3):
        time_step = _step(rng, 3, first=i == 0)
        step = served.action(time_step, state)
        expected = policy.action(time_step, expected_state)
        np.testing.assert_array_equal(step.action, expected.action)
        state, expected_state = step.state, expected.state


def test_fixed_batch_size_export(recurrent):
    served = SavedModelPyTFEagerPolicy(recurrent["root"] / "batch2", batch_time_steps=False)
    rng = np.random.default_rng(4)
    step = served.action(_step(rng, 2, first=True), served.get_initial_state(2))
    assert step.action.shape == (2,)
    state3 = tf.nest.map_structure(np.asarray, recurrent["policy"].get_initial_state(3))
    with pytest.raises(ValueError, match="exported for batch_size=2, got a batch of 3"):
        served.action(_step(rng, 3, first=True), state3)
    with pytest.raises(ValueError, match="exported for batch_size=2"):
        served.get_initial_state(3)
    unbatched = SavedModelPyTFEagerPolicy(recurrent["root"] / "batch2")
    with pytest.raises(ValueError, match="unbatched steps are a batch of 1"):
        unbatched.get_initial_state()


def test_input_errors_name_the_problem(stateless):
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export")
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match="takes unbatched time steps"):
        served.action(_step(rng, 2))
    bad = _step(rng)._replace(observation={"pos": np.zeros(3, np.float32),
                                           "vel": np.zeros(1, np.float32)})
    with pytest.raises(ValueError, match="observation/pos"):
        served.action(bad)
    missing = _step(rng)._replace(observation={"pos": np.zeros(2, np.float32)})
    with pytest.raises((TypeError, ValueError), match="vel"):
        served.action(missing)
    batched = SavedModelPyTFEagerPolicy(stateless["root"] / "export", batch_time_steps=False)
    with pytest.raises(ValueError, match="one outer"):
        batched.action(_step(rng))
    served.action(_step(rng))  # still works after the errors


def test_given_specs_must_match_the_export(stateless):
    array_specs = tensor_spec.to_array_spec(stateless["policy"].time_step_spec)
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export", time_step_spec=array_specs)
    assert served.time_step_spec == array_specs
    wrong = array_specs._replace(observation={"pos": ArraySpec((3,), np.float32),
                                              "vel": ArraySpec((1,), np.float32)})
    with pytest.raises(ValueError, match="time_step_spec at 'observation/pos'"):
        SavedModelPyTFEagerPolicy(stateless["root"] / "export", time_step_spec=wrong)
    # TF-Agents' default `()` for the state of a stateless export is accepted.
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export", policy_state_spec=())
    assert served.policy_state_spec == ()
    with pytest.raises(ValueError, match="info_spec does not have the structure"):
        SavedModelPyTFEagerPolicy(stateless["root"] / "export", info_spec=())
    with pytest.raises(ValueError, match="action_spec does not have the structure"):
        SavedModelPyTFEagerPolicy(stateless["root"] / "export", action_spec=(ACTION, ACTION))


def test_train_step_and_metadata(stateless):
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export")
    assert served.get_train_step() == 11
    assert served.get_metadata() == {"env_steps": 5000}


def test_update_from_checkpoint_changes_the_served_actions(stateless, tmp_path):
    policy, saver = stateless["policy"], stateless["saver"]
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export", batch_time_steps=False)
    rng = np.random.default_rng(6)
    time_step = _step(rng, 64)
    before = served.action(time_step).action
    original = [v.numpy().copy() for v in policy.variables()]
    try:
        weights_rng = np.random.default_rng(7)
        for variable in policy.variables():
            variable.assign(weights_rng.normal(size=variable.shape).astype(np.float32))
        stateless["train_step"].assign(12)
        saver.save_checkpoint(tmp_path / "checkpoint")
        expected = PyTFEagerPolicy(policy, batch_time_steps=False).action(time_step).action
    finally:
        for variable, value in zip(policy.variables(), original):
            variable.assign(value)
        stateless["train_step"].assign(11)
    served.update_from_checkpoint(tmp_path / "checkpoint")
    after = served.action(time_step).action
    np.testing.assert_array_equal(after, expected)
    assert not np.array_equal(after, before)
    assert served.get_train_step() == 12
    reloaded = SavedModelPyTFEagerPolicy(stateless["root"] / "export", batch_time_steps=False,
                                         checkpoint_path=tmp_path / "checkpoint")
    np.testing.assert_array_equal(reloaded.action(time_step).action, expected)


def test_a_mismatched_checkpoint_leaves_the_served_policy_unchanged(stateless, recurrent):
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export", batch_time_steps=False)
    time_step = _step(np.random.default_rng(8), 16)
    before = served.action(time_step).action
    with pytest.raises(ValueError, match="does not match the loaded policy"):
        served.update_from_checkpoint(recurrent["root"] / "export")
    np.testing.assert_array_equal(served.action(time_step).action, before)


def _seconds_per_step(policy, time_step, calls=100):
    start = time.perf_counter()
    for _ in range(calls):
        policy.action(time_step)
    return (time.perf_counter() - start) / calls


def test_per_step_cost_is_close_to_py_tf_eager_policy(stateless):
    served = SavedModelPyTFEagerPolicy(stateless["root"] / "export")
    reference = PyTFEagerPolicy(stateless["policy"])
    time_step = _step(np.random.default_rng(9))
    served.action(time_step)
    reference.action(time_step)
    # Interleaved rounds, best of each: robust to other load on the machine.
    rounds = [(_seconds_per_step(served, time_step), _seconds_per_step(reference, time_step))
              for _ in range(8)]
    ratio = min(r[0] for r in rounds) / min(r[1] for r in rounds)
    # Both call one compiled function per step; TensorFlow's wrapper of a loaded
    # signature costs a little more per call than an in-process concrete function.
    assert ratio < 2.0, f"SavedModelPyTFEagerPolicy is {ratio:.2f}x slower per step"


def test_the_served_step_passes_only_the_inputs_the_export_reads(stateless):
    document = SavedModelPyTFEagerPolicy(stateless["root"] / "export").policy_specs.document
    # TimeStep leaves in dm-tree order: step_type, reward, discount, observation/pos,
    # observation/vel; the greedy Q policy never reads the reward and the discount.
    assert document["action_used_inputs"] == [0, 3, 4]


def test_an_export_without_used_inputs_serves_through_action_flat(stateless, tmp_path):
    import json
    import shutil
    copy = tmp_path / "older"
    shutil.copytree(stateless["root"] / "export", copy)
    document = json.loads((copy / "policy_specs.json").read_text())
    del document["action_used_inputs"]
    (copy / "policy_specs.json").write_text(json.dumps(document))
    served = SavedModelPyTFEagerPolicy(copy)
    reference = SavedModelPyTFEagerPolicy(stateless["root"] / "export")
    rng = np.random.default_rng(4)
    for i in range(5):
        time_step = _step(rng, first=i == 0)
        assert served.action(time_step).action == reference.action(time_step).action
