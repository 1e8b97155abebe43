"""Tests of PolicySaver: save -> load round trips for every kind of policy in the catalogue,
signature naming, the specs JSON, batch sizes, initial state, train step and metadata,
distribution notes, checkpoint pushes and construction errors.

Exports are slow, so each catalogue export is built once per module (module-scoped
fixtures) and shared by the tests that read it.
"""

import json
from typing import Any, Callable, Dict, NamedTuple

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from savers import PolicySaver, load, load_specs, restore_checkpoint
from savers import _signatures
from specs import BoundedTensorSpec, TensorSpec, nest_utils, tensor_spec
from tfpolicy import PolicyStep, TFPolicy, networks, policies, time_step as ts

tfd = tfp.distributions

OBS = TensorSpec([3], tf.float32, "obs")
TS = ts.time_step_spec(OBS)
DISCRETE = BoundedTensorSpec([], tf.int32, 1, 3, "action")  # actions 1, 2, 3: a shifted categorical
CONTINUOUS = BoundedTensorSpec([2], tf.float32, -1.0, 1.0, "action")
WIDE = BoundedTensorSpec([2], tf.float32, -50.0, 50.0, "action")
NESTED_OBS = {"pos": TensorSpec([2], tf.float32, "x"), "vel": TensorSpec([1], tf.float32, "x")}
NESTED_ACTION = {"arm": CONTINUOUS, "grip": BoundedTensorSpec([], tf.int32, 0, 1, "grip")}
MASKED_TS = ts.time_step_spec({"obs": OBS, "mask": TensorSpec([3], tf.int32, "mask")})
STEPS = 3


def _q_network():
    return networks.QNetwork(OBS, DISCRETE, fc_layer_params=(8,))


def _q(**kwargs):
    return policies.QPolicy(TS, DISCRETE, _q_network(), **kwargs)


def _deterministic_actor():
    """A Keras 3 deterministic actor with non-trivial weights, inside the wide bounds."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.set_weights([np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]], np.float32),
                       np.array([0.1, -0.2], np.float32)])
    return policies.ActorPolicy(TS, WIDE, model)


def _splitter(observation):
    return observation["obs"], observation["mask"]


class Kind(NamedTuple):
    """How to build a catalogue policy and how to compare the served one with it.

    compare: 'actions' (deterministic: actions, state and info equal), 'distribution'
    (sampling: distribution parameters and state equal, log-probabilities consistent),
    'conformance' (random: actions within the spec).
    """

    make: Callable[[], TFPolicy]
    compare: str


KINDS: Dict[str, Kind] = {
    "random": Kind(lambda: policies.RandomTFPolicy(TS, DISCRETE, emit_log_probability=True),
                   "conformance"),
    "fixed": Kind(lambda: policies.FixedPolicy(2, TS, DISCRETE), "actions"),
    "q": Kind(lambda: _q(emit_log_probability=True), "distribution"),
    "greedy_q": Kind(lambda: policies.GreedyPolicy(_q(emit_log_probability=True)), "actions"),
    "epsilon_greedy": Kind(lambda: policies.EpsilonGreedyPolicy(
        _q(), epsilon=0.2, emit_log_probability=True), "distribution"),
    "boltzmann": Kind(lambda: policies.BoltzmannPolicy(
        _q(emit_log_probability=True), temperature=0.5), "distribution"),
    "actor_discrete": Kind(lambda: policies.ActorPolicy(
        TS, DISCRETE, networks.ActorDistributionNetwork(OBS, DISCRETE, fc_layer_params=(8,)),
        emit_log_probability=True), "distribution"),
    "actor_continuous": Kind(lambda: policies.ActorPolicy(
        TS, CONTINUOUS, networks.ActorDistributionNetwork(OBS, CONTINUOUS, fc_layer_params=(8,)),
        emit_log_probability=True), "distribution"),
    "greedy_actor": Kind(lambda: policies.GreedyPolicy(policies.ActorPolicy(
        TS, CONTINUOUS, networks.ActorDistributionNetwork(OBS, CONTINUOUS, fc_layer_params=(8,)))),
        "actions"),
    "gaussian": Kind(lambda: policies.GaussianPolicy(_deterministic_actor(), scale=0.3),
                     "distribution"),
    "ou_noise": Kind(lambda: policies.OUNoisePolicy(_deterministic_actor(), ou_stddev=0.2,
                                                    ou_damping=0.15), "distribution"),
    "q_rnn": Kind(lambda: policies.GreedyPolicy(policies.QPolicy(
        TS, DISCRETE, networks.QRnnNetwork(OBS, DISCRETE, input_fc_layer_params=(8,),
                                           lstm_size=(4,), output_fc_layer_params=()),
        emit_log_probability=True)), "actions"),
    "actor_rnn": Kind(lambda: policies.ActorPolicy(
        TS, CONTINUOUS, networks.ActorDistributionRnnNetwork(
            OBS, CONTINUOUS, input_fc_layer_params=(8,), lstm_size=(4, 3),
            output_fc_layer_params=()),
        emit_log_probability=True), "distribution"),
    "nested": Kind(lambda: policies.ActorPolicy(
        ts.time_step_spec(NESTED_OBS), NESTED_ACTION, networks.ActorDistributionNetwork(
            NESTED_OBS, NESTED_ACTION, preprocessing_combiner=keras.layers.Concatenate(),
            fc_layer_params=(8,)),
        emit_log_probability=True), "distribution"),
    "masked": Kind(lambda: policies.GreedyPolicy(policies.QPolicy(
        MASKED_TS, DISCRETE, _q_network(), emit_log_probability=True,
        observation_and_action_constraint_splitter=_splitter)), "actions"),
    "masked_sampling": Kind(lambda: policies.QPolicy(
        MASKED_TS, DISCRETE, _q_network(), emit_log_probability=True,
        observation_and_action_constraint_splitter=_splitter), "distribution"),
    "keras_q": Kind(lambda: policies.GreedyPolicy(policies.QPolicy(
        TS, DISCRETE, keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)]))), "actions"),
}
RECURRENT = ("q_rnn", "actor_rnn", "ou_noise")


class Export(NamedTuple):
    policy: TFPolicy
    saver: PolicySaver
    path: Any
    loaded: Any
    doc: Dict[str, Any]


def _export(policy, path, **kwargs) -> Export:
    saver = PolicySaver(policy, **kwargs)
    saver.save(path)
    doc = json.loads((path / "policy_specs.json").read_text())
    return Export(policy, saver, path, load(path), doc)


@pytest.fixture(scope="module", params=sorted(KINDS))
def kind_export(request, tmp_path_factory):
    policy = KINDS[request.param].make()
    return request.param, _export(policy, tmp_path_factory.mktemp(request.param) / "export")


_EXPORTS: Dict[str, Export] = {}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Builds catalogue exports on first use, shared by the module's tests."""

    def get(name: str) -> Export:
        if name not in _EXPORTS:
            _EXPORTS[name] = _export(KINDS[name].make(),
                                     tmp_path_factory.mktemp(name) / "export")
        return _EXPORTS[name]

    yield get
    _EXPORTS.clear()


# ---- helpers ---------------------------------------------------------------------------------


def _observations(spec, batch, rng):
    def leaf(path, s):
        shape = [batch] + s.shape.as_list()
        if path and path[-1] == "mask":
            mask = rng.integers(0, 2, size=shape)
            mask[np.arange(batch), rng.integers(0, shape[-1], size=batch)] = 1
            return tf.constant(mask, tf.int32)
        return tf.constant(rng.normal(size=shape) * 2.0, s.dtype)

    return tree.map_structure_with_path(leaf, spec)


def _time_step(policy, batch, step, rng):
    """Step `step` of an episode for every entry, the last entry restarting at step 1."""
    step_type = np.full([batch], ts.StepType.FIRST if step == 0 else ts.StepType.MID, np.int32)
    if step == 1:
        step_type[-1] = ts.StepType.FIRST
    return ts.TimeStep(step_type=tf.constant(step_type), reward=tf.zeros([batch]),
                       discount=tf.ones([batch]),
                       observation=_observations(policy.time_step_spec.observation, batch, rng))


def _inputs(doc, time_step, state, signature="action"):
    names = [leaf["name"] for leaf in doc["signatures"][signature]["inputs"]]
    values = tree.flatten((time_step, state))
    assert len(names) == len(values)
    return dict(zip(names, values))


def _outputs(doc, out, structure, signature="action"):
    names = [leaf["name"] for leaf in doc["signatures"][signature]["outputs"]]
    assert sorted(names) == sorted(out)
    return tree.unflatten_as(structure, [out[name] for name in names])


def _allclose(actual, expected, what):
    for (path, a), e in zip(nest_utils.flatten_with_paths(actual), tree.flatten(expected)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=1e-5, atol=1e-5,
                                   err_msg=f"{what} at '{path}'")


def _expected_parameters(distribution):
    """Parameters of a tfp distribution, computed independently of the saver."""
    while isinstance(distribution, tfd.Independent):
        distribution = distribution.distribution
    if isinstance(distribution, tfd.Categorical):
        return {"logits": distribution.logits_parameter()}
    if isinstance(distribution, tfd.Deterministic):
        return {"loc": distribution.mean()}
    if isinstance(distribution, tfd.Normal):
        return {"loc": distribution.mean(), "scale": distribution.stddev()}
    raise AssertionError(f"unexpected distribution {distribution!r}")


def _served_parameters(export, out):
    parameters = export.doc["distribution"]["parameters"]
    by_leaf: Dict[str, Dict[str, Any]] = {}
    for entry in parameters:
        by_leaf.setdefault(entry["action_path"], {})[entry["parameter"]] = out[entry["name"]]
    paths = ["/".join(str(c) for c in p) for p, _ in tree.flatten_with_path(
        export.policy.action_spec)]
    return tree.unflatten_as(export.policy.action_spec, [by_leaf[p] for p in paths])


def _check_conformance(step, policy):
    nest_utils.check_nest(step.action, policy.action_spec, num_outer_dims=1)
    for (path, action), spec in zip(nest_utils.flatten_with_paths(step.action),
                                    tree.flatten(policy.action_spec)):
        action = np.asarray(action)
        assert np.all(action >= spec.minimum) and np.all(action <= spec.maximum), path


# ---- round trips for every kind ----------------------------------------------------------------


def test_round_trip_matches_the_in_process_policy(kind_export):
    name, export = kind_export
    policy, compare = export.policy, KINDS[name].compare
    rng = np.random.default_rng(0)
    for batch in (1, 4):
        served_state = export.loaded.get_initial_state(tf.constant(batch))
        for step in range(STEPS):
            time_step = _time_step(policy, batch, step, rng)
            inputs = _inputs(export.doc, time_step, served_state)
            served = _outputs(export.doc, export.loaded.signatures["action"](**inputs),
                              policy.policy_step_spec)
            _check_conformance(served, policy)
            nest_utils.check_nest(served.state, policy.policy_state_spec, outer_shape=(batch,))
            if compare == "actions":
                expected = policy.action(time_step, served_state)
                _allclose(served, expected, f"{name} step {step}")
                nested = export.loaded.action(time_step, served_state)
                assert type(nested).__name__ == "PolicyStep"
                _allclose(nested, expected, f"{name} nested action, step {step}")
            elif compare == "distribution":
                dist_out = export.loaded.signatures["distribution"](**inputs)
                expected = policy.distribution(time_step, served_state)
                _allclose(_served_parameters(export, dist_out),
                          tree.map_structure(_expected_parameters, expected.action),
                          f"{name} distribution, step {step}")
                state_names = [leaf["name"] for leaf in
                               export.doc["signatures"]["get_initial_state"]["outputs"]]
                _allclose(tree.unflatten_as(policy.policy_state_spec,
                                            [dist_out[n] for n in state_names]),
                          expected.state, f"{name} distribution state, step {step}")
                if policy.emit_log_probability:
                    log_probs = tree.map_structure(
                        lambda d, a: d.log_prob(a), expected.action, served.action)
                    _allclose(served.info.log_probability, log_probs,
                              f"{name} log-probability, step {step}")
            else:
                _allclose(served.info.log_probability, np.full([batch], -np.log(3.0)),
                          f"{name} log-probability")
            served_state = served.state


def test_distribution_is_exported_for_every_catalogue_kind(kind_export):
    name, export = kind_export
    assert export.doc["distribution"]["exported"], export.doc["distribution"]["note"]
    assert export.doc["distribution"]["note"] is None
    assert "distribution" in export.loaded.signatures
    assert export.saver.distribution_note is None


def test_distribution_parameters_are_described(exports):
    q = exports("q").doc["distribution"]["parameters"]
    assert q == [{"name": "distribution/logits", "action_path": "", "parameter": "logits",
                  "distribution": "Categorical", "shift": 1, "event_ndims": 0}]
    nested = exports("nested").doc["distribution"]["parameters"]
    assert [(p["name"], p["distribution"], p["event_ndims"]) for p in nested] == [
        ("distribution/arm/loc", "Normal", 1), ("distribution/arm/scale", "Normal", 1),
        ("distribution/grip/logits", "Categorical", 0)]


def test_shifted_categorical_logits_index_actions_from_the_minimum(exports):
    export = exports("greedy_q")
    time_step = _time_step(export.policy, 4, 0, np.random.default_rng(3))
    inputs = _inputs(export.doc, time_step, ())
    logits = exports("q").loaded.signatures["distribution"](**inputs)["distribution/logits"]
    served_greedy = exports("greedy_q").loaded.signatures["action"](**inputs)["action"]
    # Both exports were built from differently initialised networks: compare each to its own.
    own_logits = export.policy.wrapped_policy.distribution(time_step).action.logits_parameter()
    np.testing.assert_array_equal(served_greedy, np.argmax(own_logits, -1) + DISCRETE.minimum)
    assert logits.shape == (4, 3)


def test_ou_noise_action_is_the_mode_plus_the_next_noise(exports):
    export = exports("ou_noise")
    policy = export.policy
    rng = np.random.default_rng(1)
    state = export.loaded.get_initial_state(tf.constant(5))
    for step in range(STEPS):
        time_step = _time_step(policy, 5, step, rng)
        served = _outputs(export.doc, export.loaded.signatures["action"](
            **_inputs(export.doc, time_step, state)), policy.policy_step_spec)
        mode = policy.wrapped_policy.action(time_step).action
        np.testing.assert_allclose(served.action, mode + served.state["ou_noise"], atol=1e-5)
        if step:
            assert not np.allclose(served.state["ou_noise"], state["ou_noise"])
        state = served.state


def test_masked_actions_are_never_served(exports):
    export = exports("masked")
    rng = np.random.default_rng(2)
    time_step = _time_step(export.policy, 64, 0, rng)
    out = export.loaded.signatures["action"](**_inputs(export.doc, time_step, ()))
    mask = time_step.observation["mask"].numpy()
    chosen = out["action"].numpy() - DISCRETE.minimum
    assert np.all(mask[np.arange(64), chosen] == 1)
    np.testing.assert_array_equal(out["info/log_probability"], np.zeros(64))


def test_get_initial_state_matches_the_policy(exports):
    for name in RECURRENT:
        export = exports(name)
        for batch in (1, 3):
            flat = export.loaded.signatures["get_initial_state"](batch_size=tf.constant(batch))
            served = _outputs(export.doc, flat, export.policy.policy_state_spec,
                              "get_initial_state")
            expected = export.policy.get_initial_state(batch)
            _allclose(served, expected, f"{name} initial state")
            _allclose(export.loaded.get_initial_state(tf.constant(batch)), expected, name)


def test_stateless_initial_state_is_empty(exports):
    export = exports("greedy_q")
    assert export.loaded.signatures["get_initial_state"](batch_size=tf.constant(2)) == {}
    assert export.loaded.get_initial_state(tf.constant(2)) == ()


# ---- names -------------------------------------------------------------------------------------


def _names(doc, signature, side):
    return [leaf["name"] for leaf in doc["signatures"][signature][side]]


def test_signature_names_are_nest_paths(exports):
    nested = exports("nested").doc
    assert _names(nested, "action", "inputs") == [
        "step_type", "reward", "discount", "observation/pos", "observation/vel"]
    assert _names(nested, "action", "outputs") == [
        "action/arm", "action/grip", "info/log_probability/arm", "info/log_probability/grip"]
    q_rnn = exports("q_rnn").doc
    assert _names(q_rnn, "action", "inputs")[-2:] == ["state/0/0", "state/0/1"]
    assert _names(q_rnn, "action", "outputs") == [
        "action", "state/0/0", "state/0/1", "info/log_probability"]
    assert _names(q_rnn, "get_initial_state", "outputs") == ["state/0/0", "state/0/1"]
    ou = exports("ou_noise").doc
    assert _names(ou, "action", "inputs")[-1:] == ["state/ou_noise"]
    assert _names(ou, "distribution", "outputs") == [
        "distribution/loc", "distribution/scale", "state/ou_noise"]


def test_spec_names_are_used_when_unique_and_nest_paths_replace_missing_or_colliding_ones(
        tmp_path):
    # Both observation specs are named 'x' (a collision); the reward spec has no name.
    time_step_spec = ts.time_step_spec(NESTED_OBS, reward_spec=TensorSpec([], tf.float32))
    policy = policies.FixedPolicy({"arm": [0.5, -0.5], "grip": 1}, time_step_spec,
                                  NESTED_ACTION)
    export = _export(policy, tmp_path / "export", use_nest_path_signatures=False)
    assert _names(export.doc, "action", "inputs") == [
        "step_type", "reward", "discount", "observation/pos", "observation/vel"]
    # 'action' and 'grip' are unique spec names; both log-probabilities are 'log_probability'.
    assert _names(export.doc, "action", "outputs") == [
        "action", "grip", "info/log_probability/arm", "info/log_probability/grip"]
    out = export.loaded.signatures["action"](
        step_type=tf.zeros([2], tf.int32), reward=tf.zeros([2]), discount=tf.ones([2]),
        **{"observation/pos": tf.zeros([2, 2]), "observation/vel": tf.zeros([2, 1])})
    np.testing.assert_allclose(out["action"], [[0.5, -0.5]] * 2)
    np.testing.assert_array_equal(out["grip"], [1, 1])


def test_recurrent_state_names_are_spec_names_on_every_signature(exports, tmp_path):
    export = _export(exports("q_rnn").policy, tmp_path / "export", use_nest_path_signatures=False)
    for signature, side in (("action", "inputs"), ("action", "outputs"),
                            ("get_initial_state", "outputs"), ("distribution", "outputs")):
        assert [n for n in _names(export.doc, signature, side) if "lstm" in n] == [
            "lstm_0_h", "lstm_0_c"], (signature, side)


def test_names_equal_after_tensorflow_renaming_get_suffixes(tmp_path):
    # 'observation/a/b' and 'observation/a_b' both become the parameter 'observation_a_b'.
    observation = {"a": {"b": TensorSpec([1], tf.float32)}, "a/b": TensorSpec([2], tf.float32)}
    leaves = _signatures.flat_leaves([((), ts.time_step_spec(observation))], True, (None,))
    names = [leaf.name for leaf in leaves]
    assert names == ["step_type", "reward", "discount", "observation/a/b", "observation/a_b_2"]
    assert len({_signatures.argument_key(n) for n in names}) == len(names)
    policy = policies.FixedPolicy(1, ts.time_step_spec(observation), DISCRETE)
    export = _export(policy, tmp_path / "export")
    out = export.loaded.signatures["action"](
        step_type=tf.zeros([1], tf.int32), reward=tf.zeros([1]), discount=tf.ones([1]),
        **{"observation/a/b": tf.zeros([1, 1]), "observation/a_b_2": tf.zeros([1, 2])})
    assert out["action"].numpy().tolist() == [1]


def test_path_components_with_unusual_characters_are_sanitized():
    observation = {"pixel values": TensorSpec([1], tf.float32), "": TensorSpec([1], tf.float32)}
    leaves = _signatures.flat_leaves([((), ts.time_step_spec(observation))], True, (None,))
    assert [leaf.name for leaf in leaves][3:] == ["observation/_", "observation/pixel_values"]
    assert [leaf.path for leaf in leaves][3:] == ["observation/", "observation/pixel values"]


def test_nested_rewards_and_single_leaf_states_are_named_by_path():
    spec = ts.time_step_spec(OBS, reward_spec={"speed": TensorSpec([], tf.float32),
                                               "cost": TensorSpec([2], tf.float32)})
    leaves = _signatures.flat_leaves([((), spec)], True, (None,))
    assert [leaf.name for leaf in leaves] == [
        "step_type", "reward/cost", "reward/speed", "discount", "observation"]
    assert leaves[1].spec.shape.as_list() == [None, 2]
    state = _signatures.flat_leaves([(("state",), TensorSpec([3], tf.float32))], True, (2,))
    assert [(leaf.name, leaf.spec.shape.as_list()) for leaf in state] == [("state", [2, 3])]


def test_invalid_spec_names_fall_back_to_nest_paths():
    spec = ts.time_step_spec({"a": TensorSpec([1], tf.float32, "has space"),
                              "b": TensorSpec([1], tf.float32, "fine")})
    names = [leaf.name for leaf in _signatures.flat_leaves([((), spec)], False)]
    assert names[3:] == ["observation/a", "fine"]


# ---- the specs JSON ----------------------------------------------------------------------------


def _reject_constant(token):
    raise ValueError(f"non-standard JSON constant {token}")


def test_specs_json_is_standard_json_and_restores_the_specs(exports):
    for name in ("nested", "q_rnn", "masked"):
        export = exports(name)
        json.loads((export.path / "policy_specs.json").read_text(),
                   parse_constant=_reject_constant)
        specs = load_specs(export.path)
        policy = export.policy
        assert specs.time_step_spec == policy.time_step_spec
        assert specs.action_spec == policy.action_spec
        assert specs.policy_state_spec == policy.policy_state_spec
        assert specs.info_spec == policy.info_spec
        assert export.loaded.policy_specs == specs
        assert specs.batch_size is None


def test_specs_json_lists_model_variables_including_keras_seed_generators(exports):
    export = exports("q_rnn")
    entries = export.doc["model_variables"]
    assert len(entries) == len(export.policy.variables()) == len(export.loaded.model_variables)
    assert [e["name"] for e in entries] == [v.name for v in export.policy.variables()]
    assert any(e["dtype"] == "int64" and "seed" in e["name"] for e in entries)


# ---- batch sizes -------------------------------------------------------------------------------


def test_fixed_batch_size_export_takes_only_that_batch(exports, tmp_path):
    export = _export(exports("q_rnn").policy, tmp_path / "export", batch_size=2)
    assert all(leaf["shape"][0] == 2 for leaf in export.doc["signatures"]["action"]["inputs"])
    assert load_specs(export.path).batch_size == 2
    policy = export.policy
    state = export.loaded.get_initial_state(tf.constant(2))
    time_step = _time_step(policy, 2, 0, np.random.default_rng(0))
    out = export.loaded.signatures["action"](**_inputs(export.doc, time_step, state))
    _allclose(out["action"], policy.action(time_step, state).action, "fixed batch")
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        export.loaded.signatures["action"](**_inputs(
            export.doc, _time_step(policy, 3, 0, np.random.default_rng(0)),
            policy.get_initial_state(3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="exported for batch_size=2"):
        export.loaded.signatures["get_initial_state"](batch_size=tf.constant(3))


# ---- train step and metadata ---------------------------------------------------------------------


def test_train_step_and_metadata_are_exported(tmp_path):
    train_step = tf.Variable(42, dtype=tf.int64)
    env_steps = tf.Variable(7)
    policy = policies.FixedPolicy(2, TS, DISCRETE)
    saver = PolicySaver(policy, train_step=train_step,
                        metadata={"env_steps": env_steps, "lr": 0.5,
                                  "layers": np.array([64, 32], np.int32),
                                  "tag": tf.constant([1.0, 2.0])})
    saver.save(tmp_path / "v1")
    train_step.assign(50)
    env_steps.assign(9)
    saver.save(tmp_path / "v2")
    v1, v2 = load(tmp_path / "v1"), load(tmp_path / "v2")
    assert int(v1.signatures["get_train_step"]()["train_step"]) == 42
    assert v1.signatures["get_train_step"]()["train_step"].dtype == tf.int64
    assert int(v2.get_train_step()) == 50
    metadata = {k: v.numpy() for k, v in v1.signatures["get_metadata"]().items()}
    assert sorted(metadata) == ["env_steps", "layers", "lr", "tag"]
    assert metadata["env_steps"] == 7 and metadata["lr"] == np.float32(0.5)
    np.testing.assert_array_equal(metadata["layers"], [64, 32])
    np.testing.assert_array_equal(metadata["tag"], [1.0, 2.0])
    assert int(v2.get_metadata()["env_steps"]) == 9
    assert v1.policy_specs.metadata_names == ("env_steps", "layers", "lr", "tag")


def test_train_step_without_a_variable_is_minus_one(exports):
    export = exports("fixed")
    assert int(export.loaded.get_train_step()) == -1
    assert export.loaded.get_metadata() == {}


# ---- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_push_changes_the_served_actions(tmp_path):
    train_step = tf.Variable(1, dtype=tf.int64)
    policy = policies.GreedyPolicy(_q())
    saver = PolicySaver(policy, train_step=train_step)
    saver.save(tmp_path / "export")
    served = load(tmp_path / "export")
    time_step = _time_step(policy, 64, 0, np.random.default_rng(4))
    doc = saver.specs_document
    before = served.signatures["action"](**_inputs(doc, time_step, ()))["action"].numpy()
    np.testing.assert_array_equal(before, policy.action(time_step).action)
    # "Training": new weights in place, then a weight push.
    rng = np.random.default_rng(5)
    for variable in policy.variables():
        variable.assign(rng.normal(size=variable.shape).astype(np.float32))
    train_step.assign(2)
    saver.save_checkpoint(tmp_path / "checkpoint")
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == [
        "policy_checkpoint.json", "variables"]
    restore_checkpoint(served, tmp_path / "checkpoint")
    after = served.signatures["action"](**_inputs(doc, time_step, ()))["action"].numpy()
    np.testing.assert_array_equal(after, policy.action(time_step).action)
    assert not np.array_equal(after, before)
    assert int(served.get_train_step()) == 2


def test_checkpoint_description_lists_its_variables(tmp_path):
    policy = KINDS["q_rnn"].make()
    PolicySaver(policy, metadata={"steps": tf.Variable(3)}).save_checkpoint(tmp_path / "ckpt")
    description = json.loads((tmp_path / "ckpt" / "policy_checkpoint.json").read_text())
    assert description["format"] == "tfpolicy.policy_checkpoint"
    assert [v["name"] for v in description["model_variables"]] == [
        v.name for v in policy.variables()]
    assert description["train_step"]["dtype"] == "int64"
    assert description["metadata_variables"] == ["steps"]


def test_variables_read_by_the_policy_but_not_listed_are_saved(tmp_path):
    epsilon = tf.Variable(0.25)
    policy = policies.EpsilonGreedyPolicy(_q(), epsilon=lambda: epsilon * 1.0)
    assert all(v is not epsilon for v in policy.variables())
    export = _export(policy, tmp_path / "export")
    assert len(export.loaded.model_variables) == len(policy.variables()) + 1
    assert float(export.loaded.model_variables[-1].numpy()) == 0.25
    time_step = _time_step(policy, 2, 0, np.random.default_rng(0))
    probs = tf.nn.softmax(export.loaded.signatures["distribution"](
        **_inputs(export.doc, time_step, ()))["distribution/logits"]).numpy()
    np.testing.assert_allclose(np.sort(probs, -1)[:, :2], np.full([2, 2], 0.25 / 3), rtol=1e-5)


# ---- distribution notes ----------------------------------------------------------------------


class _ZerosOnly(TFPolicy):
    """Implements only `_action`: it has no distribution."""

    def _action(self, time_step, policy_state, seed):
        return PolicyStep(tf.fill(tf.shape(time_step.step_type), 2), policy_state)


def test_policy_without_distribution_is_exported_without_that_signature(tmp_path, caplog):
    caplog.set_level("INFO", logger="savers.policy_saver")
    export = _export(_ZerosOnly(TS, DISCRETE), tmp_path / "export")
    assert "distribution" not in export.loaded.signatures
    assert not hasattr(export.loaded, "distribution")
    assert export.doc["distribution"]["exported"] is False
    assert "has no distribution" in export.doc["distribution"]["note"]
    assert "not exported" in caplog.text
    assert load_specs(export.path).distribution_note == export.doc["distribution"]["note"]
    out = export.loaded.signatures["action"](step_type=tf.zeros([2], tf.int32),
                                             reward=tf.zeros([2]), discount=tf.ones([2]),
                                             observation=tf.zeros([2, 3]))
    assert out["action"].numpy().tolist() == [2, 2]


def test_unrepresentable_distribution_is_skipped_with_a_note(tmp_path):
    # A float action bounded on one side only: a shifted exponential, no exported form.
    spec = BoundedTensorSpec([], tf.float32, 0.0, np.inf, "action")
    export = _export(policies.RandomTFPolicy(TS, spec), tmp_path / "export")
    note = export.doc["distribution"]["note"]
    assert "distribution" not in export.loaded.signatures
    assert "no exported parameter form" in note and "Categorical" in note
    out = export.loaded.signatures["action"](step_type=tf.zeros([5], tf.int32),
                                             reward=tf.zeros([5]), discount=tf.ones([5]),
                                             observation=tf.zeros([5, 3]))
    assert np.all(out["action"].numpy() >= 0.0)


# ---- errors ------------------------------------------------------------------------------------


def test_constructor_rejects_bad_arguments():
    policy = policies.FixedPolicy(2, TS, DISCRETE)
    with pytest.raises(TypeError, match="exports a TFPolicy"):
        PolicySaver(object())
    with pytest.raises(ValueError, match="batch_size"):
        PolicySaver(policy, batch_size=0)
    with pytest.raises(TypeError, match="train_step must be a scalar integer tf.Variable"):
        PolicySaver(policy, train_step=3)
    with pytest.raises(ValueError, match="float32"):
        PolicySaver(policy, train_step=tf.Variable(1.0))
    with pytest.raises(ValueError, match="metadata name 'bad name'"):
        PolicySaver(policy, metadata={"bad name": 1})
    with pytest.raises(TypeError, match="metadata 'obj'"):
        PolicySaver(policy, metadata={"obj": object()})


def test_py_tf_eager_policy_is_exported_as_its_tf_policy_and_py_policies_are_refused(exports):
    greedy = exports("greedy_q").policy
    saver = PolicySaver(policies.PyTFEagerPolicy(greedy))
    assert saver.policy is greedy
    py_policy = policies.RandomPyPolicy(tensor_spec.to_array_spec(TS),
                                        tensor_spec.to_array_spec(DISCRETE))
    with pytest.raises(TypeError, match="numpy PyPolicy whose Python code"):
        PolicySaver(py_policy)
    with pytest.raises(ValueError, match="calls Python code through tf.numpy_function"):
        PolicySaver(policies.TFPyPolicy(py_policy))


def test_save_refuses_to_replace_a_directory_that_is_not_an_export(tmp_path, exports):
    saver = exports("fixed").saver
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="does not hold an export"):
        saver.save(tmp_path / "home")
    assert (tmp_path / "home" / "notes.txt").read_text() == "keep me"
    with pytest.raises(FileExistsError, match="a checkpoint"):
        saver.save_checkpoint(exports("fixed").path)
    assert (exports("fixed").path / "saved_model.pb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_saving_over_an_export_replaces_it(tmp_path):
    policy = policies.GreedyPolicy(_q())
    saver = PolicySaver(policy)
    saver.save(tmp_path / "export")
    for variable in policy.variables():
        variable.assign(variable * -1.0)
    saver.save(tmp_path / "export")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    loaded = load(tmp_path / "export")
    for got, want in zip(loaded.model_variables, policy.variables()):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
