"""Tests of loading: clear errors for missing, truncated and foreign directories, specs
restored from the JSON, and all-or-nothing checkpoint restores."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from savers import PolicySaver, PolicySpecs, load, load_specs, policy_loader, restore_checkpoint
from savers import SavedModelPyTFEagerPolicy
from specs import BoundedTensorSpec, TensorSpec, tensor_spec
from tfpolicy import networks, policies, time_step as ts

OBS = TensorSpec([3], tf.float32, "obs")
TS = ts.time_step_spec(OBS)
ACTION = BoundedTensorSpec([], tf.int32, 0, 2, "action")


def _greedy(fc=(8,)):
    return policies.GreedyPolicy(
        policies.QPolicy(TS, ACTION, networks.QNetwork(OBS, ACTION, fc_layer_params=fc)))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """An export and a checkpoint of one policy, a checkpoint of another architecture,
    and the policy's weights at export time."""
    root = tmp_path_factory.mktemp("saved")
    train_step = tf.Variable(3, dtype=tf.int64)
    policy = _greedy()
    saver = PolicySaver(policy, train_step=train_step, metadata={"steps": tf.Variable(10)})
    saver.save(root / "export")
    exported = [v.numpy().copy() for v in policy.variables()]
    for variable in policy.variables():
        variable.assign(variable + 1.0)
    train_step.assign(4)
    saver.save_checkpoint(root / "checkpoint")
    pushed = [v.numpy().copy() for v in policy.variables()]
    PolicySaver(_greedy(fc=(5,)), metadata={"steps": tf.Variable(1)}).save_checkpoint(
        root / "other_architecture")
    PolicySaver(_greedy()).save_checkpoint(root / "no_metadata")
    return {"root": root, "policy": policy, "exported": exported, "pushed": pushed}


def _values(loaded):
    return [v.numpy() for v in loaded.model_variables]


def _assert_values(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


def _copy_export(saved, tmp_path, name="copy"):
    target = tmp_path / name
    shutil.copytree(saved["root"] / "export", target)
    return target


# ---- loading -----------------------------------------------------------------------------------


def test_load_returns_the_module_with_specs(saved):
    loaded = load(saved["root"] / "export")
    policy = saved["policy"]
    assert isinstance(loaded.policy_specs, PolicySpecs)
    assert loaded.policy_specs.time_step_spec == policy.time_step_spec
    assert loaded.policy_specs.action_spec == policy.action_spec
    assert loaded.policy_specs.policy_class == "GreedyPolicy"
    assert loaded.policy_specs.policy_step_spec == policy.policy_step_spec
    inputs, outputs = loaded.policy_specs.signatures["action"]
    assert [leaf.name for leaf in inputs] == ["step_type", "reward", "discount", "observation"]
    assert inputs[3].shape == (None, 3) and inputs[3].dtype == tf.float32
    assert [leaf.name for leaf in outputs] == ["action"]
    _assert_values(_values(loaded), saved["exported"])
    assert int(loaded.get_train_step()) == 3


def test_load_with_a_checkpoint_assigns_its_variables(saved):
    loaded = load(saved["root"] / "export", checkpoint_path=saved["root"] / "checkpoint")
    _assert_values(_values(loaded), saved["pushed"])
    assert int(loaded.get_train_step()) == 4


def test_checkpoint_paths_may_be_a_directory_an_export_or_a_prefix(saved):
    loaded = load(saved["root"] / "export")
    restore_checkpoint(loaded, saved["root"] / "checkpoint" / "variables" / "variables")
    _assert_values(_values(loaded), saved["pushed"])
    restore_checkpoint(loaded, saved["root"] / "export")  # an export's variables
    _assert_values(_values(loaded), saved["exported"])
    assert int(loaded.get_train_step()) == 3


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load(tmp_path / "nowhere")


def test_missing_directory_points_to_an_interrupted_swap(tmp_path):
    (tmp_path / ".export.old-1234").mkdir()
    with pytest.raises(FileNotFoundError, match=r"previous export at .*\.export\.old-1234"):
        load(tmp_path / "export")


def test_a_file_is_not_an_export(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        load(tmp_path / "file")


def test_directory_without_saved_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="saved_model.pb is missing"):
        load(tmp_path / "empty")


@pytest.mark.parametrize("content", [b"garbage\x00\x01\x02", "truncate"])
def test_corrupt_or_truncated_saved_model(saved, tmp_path, content):
    export = _copy_export(saved, tmp_path)
    pb = export / "saved_model.pb"
    data = pb.read_bytes()
    pb.write_bytes(data[:len(data) // 2] if content == "truncate" else content)
    with pytest.raises(ValueError, match="saved_model.pb is corrupt or truncated"):
        load(export)


def test_missing_variables(saved, tmp_path):
    export = _copy_export(saved, tmp_path)
    shutil.rmtree(export / "variables")
    with pytest.raises(FileNotFoundError, match="variables/variables.index is missing"):
        load(export)


def test_truncated_variables(saved, tmp_path):
    export = _copy_export(saved, tmp_path)
    (data,) = (export / "variables").glob("variables.data-*")
    data.write_bytes(data.read_bytes()[:10])
    with pytest.raises(ValueError, match="could not be read"):
        load(export)


def test_foreign_saved_model_without_specs(tmp_path):
    module = tf.Module()
    module.v = tf.Variable(1.0)
    module.f = tf.function(lambda: module.v * 2, input_signature=[])
    tf.saved_model.save(module, str(tmp_path / "foreign"))
    with pytest.raises(FileNotFoundError, match="without policy_specs.json: it was not exported"):
        load(tmp_path / "foreign")


@pytest.mark.parametrize("edit, message", [
    (lambda text: text[:len(text) // 2], "is corrupt or truncated: it is not valid JSON"),
    (lambda text: "[1, 2]", "expected a JSON object"),
    (lambda text: json.dumps({**json.loads(text), "format": "other"}), "is not a tfpolicy export"),
    (lambda text: json.dumps({**json.loads(text), "version": 99}), "format version 99"),
    (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "action_spec"}),
     "missing 'action_spec'"),
])
def test_corrupt_specs_json(saved, tmp_path, edit, message):
    export = _copy_export(saved, tmp_path)
    specs_file = export / "policy_specs.json"
    specs_file.write_text(edit(specs_file.read_text()))
    with pytest.raises(ValueError, match=message):
        load(export)


def test_specs_json_of_another_export_is_detected(saved, tmp_path):
    other = tmp_path / "other"
    policy = policies.FixedPolicy(1, ts.time_step_spec({"a": OBS, "b": OBS}), ACTION)
    PolicySaver(policy).save(other)
    export = _copy_export(saved, tmp_path)
    shutil.copy(other / "policy_specs.json", export / "policy_specs.json")
    with pytest.raises(ValueError, match="does not describe the SavedModel"):
        load(export)


def test_load_specs_reads_without_loading_the_model(saved):
    specs = load_specs(saved["root"] / "export")
    assert specs.action_spec == ACTION and specs.metadata_names == ("steps",)
    assert len(specs.model_variables) == len(saved["exported"])


# ---- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_of_another_architecture_names_the_differences(saved):
    loaded = load(saved["root"] / "export")
    with pytest.raises(ValueError) as error:
        restore_checkpoint(loaded, saved["root"] / "other_architecture")
    message = str(error.value)
    assert "does not match the loaded policy" in message and "no variable was changed" in message
    assert "model_variables[0]" in message and "float32[3, 5]" in message
    assert "float32[3, 8]" in message
    _assert_values(_values(loaded), saved["exported"])


def test_checkpoint_missing_variables_names_them(saved):
    loaded = load(saved["root"] / "export")
    with pytest.raises(ValueError, match=r"metadata_variables\[0\] .* is missing"):
        restore_checkpoint(loaded, saved["root"] / "no_metadata")
    _assert_values(_values(loaded), saved["exported"])
    assert int(loaded.get_metadata()["steps"]) == 10


def test_checkpoint_with_extra_variables_names_them(saved, tmp_path):
    policy = saved["policy"]
    extra = tf.train.Checkpoint(model_variables=policy.variables() + [tf.Variable([1.0, 2.0])],
                                train_step=tf.Variable(0, dtype=tf.int64),
                                metadata_variables=[tf.Variable(1)])
    extra.write(str(tmp_path / "extra" / "variables" / "variables"))
    loaded = load(saved["root"] / "export")
    n = len(policy.variables())
    with pytest.raises(ValueError, match=rf"has model_variables\[{n}\] float32\[2\], which the "):
        restore_checkpoint(loaded, tmp_path / "extra")
    _assert_values(_values(loaded), saved["exported"])


def test_foreign_checkpoint_is_explained(saved, tmp_path):
    tf.train.Checkpoint(weights=tf.Variable(1.0)).write(str(tmp_path / "f" / "variables" /
                                                            "variables"))
    loaded = load(saved["root"] / "export")
    with pytest.raises(ValueError, match="holds no model_variables"):
        restore_checkpoint(loaded, tmp_path / "f")


def test_missing_checkpoint(saved, tmp_path):
    loaded = load(saved["root"] / "export")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="variables/variables.index is missing"):
        restore_checkpoint(loaded, tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="neither a checkpoint directory nor"):
        restore_checkpoint(loaded, tmp_path / "nowhere")


def test_truncated_checkpoint_changes_nothing(saved, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(saved["root"] / "checkpoint", checkpoint)
    (data,) = (checkpoint / "variables").glob("variables.data-*")
    data.write_bytes(data.read_bytes()[:40])
    loaded = load(saved["root"] / "export")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        restore_checkpoint(loaded, checkpoint)
    _assert_values(_values(loaded), saved["exported"])
    assert int(loaded.get_train_step()) == 3


# ---- policy_loader: TF-Agents' load and materialize_saved_model ------------------------------


def _observations():
    return np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [2.0, 2.0, 2.0]], np.float32)


def _served_actions(policy):
    return [int(policy.action(ts.restart(obs)).action) for obs in _observations()]


def _tf_actions(policy):
    return policy.action(ts.restart(tf.constant(_observations()), batch_size=3)).action.numpy()


def test_policy_loader_load_returns_a_numpy_policy(saved):
    policy = policy_loader.load(saved["root"] / "export")
    assert isinstance(policy, SavedModelPyTFEagerPolicy)
    assert policy.time_step_spec == tensor_spec.to_array_spec(saved["policy"].time_step_spec)
    assert policy.action_spec == tensor_spec.to_array_spec(saved["policy"].action_spec)
    _assert_values([v.numpy() for v in policy.variables()], saved["exported"])
    assert policy.get_train_step() == 3
    # An empty checkpoint path counts as none, as in TF-Agents.
    assert policy_loader.load(saved["root"] / "export", checkpoint_path="").get_train_step() == 3


def test_policy_loader_load_with_a_checkpoint_serves_its_weights(saved):
    policy = policy_loader.load(saved_model_path=str(saved["root"] / "export"),
                                checkpoint_path=str(saved["root"] / "checkpoint"))
    _assert_values([v.numpy() for v in policy.variables()], saved["pushed"])
    assert policy.get_train_step() == 4
    # The policy in the fixture holds the pushed weights.
    assert _served_actions(policy) == _tf_actions(saved["policy"]).tolist()


def test_materialize_saved_model_writes_the_export_with_the_checkpoint_weights(saved, tmp_path):
    output = tmp_path / "materialized"
    policy_loader.materialize_saved_model(saved["root"] / "export", saved["root"] / "checkpoint",
                                          output)
    assert sorted(p.name for p in output.iterdir()) == [
        "assets", "policy_specs.json", "saved_model.pb", "variables"]
    assert load_specs(output) == load_specs(saved["root"] / "export")
    policy = policy_loader.load(output)
    _assert_values([v.numpy() for v in policy.variables()], saved["pushed"])
    assert policy.get_train_step() == 4
    assert policy.get_metadata() == {"steps": 10}
    assert _served_actions(policy) == _tf_actions(saved["policy"]).tolist()
    # The source export is untouched.
    _assert_values(_values(load(saved["root"] / "export")), saved["exported"])


def test_materialize_saved_model_refuses_an_existing_output(saved, tmp_path):
    output = tmp_path / "existing"
    output.mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        policy_loader.materialize_saved_model(saved["root"] / "export",
                                              saved["root"] / "checkpoint", output)
    assert list(output.iterdir()) == []


def test_materialize_saved_model_with_a_mismatched_checkpoint_writes_nothing(saved, tmp_path):
    output = tmp_path / "never"
    message = (r"does not match.*model_variables\[0\] \([^)]*kernel[^)]*\): "
               r"the checkpoint has float32\[3, 5\]")
    with pytest.raises(ValueError, match=message):
        policy_loader.materialize_saved_model(saved["root"] / "export",
                                              saved["root"] / "other_architecture", output)
    assert not output.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        policy_loader.materialize_saved_model(saved["root"] / "export", tmp_path / "missing",
                                              output)
