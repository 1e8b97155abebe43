"""Tests of `savers.lite_export`: the flatbuffer's signatures and weights, the sidecar,
atomic writing, and export-time errors for unsupported ops."""

import json

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from savers import atomic
from savers import lite_export
from savers import spec_json
from savers.lite_export import LiteConversionError, LiteModel
from savers.lite_py_policy import LitePyPolicy
from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks.q_network import QNetwork
from tfpolicy.networks.q_rnn_network import QRnnNetwork
from tfpolicy.policies.greedy_policy import GreedyPolicy
from tfpolicy.policies.q_policy import QPolicy
from tfpolicy.trajectories import time_step as ts

OBS = TensorSpec([4], tf.float32)
ACTION = BoundedTensorSpec([], tf.int64, 0, 1)


@pytest.fixture(scope="module")
def greedy():
    tf.random.set_seed(0)
    return GreedyPolicy(QPolicy(ts.time_step_spec(OBS), ACTION,
                                QNetwork(OBS, ACTION, fc_layer_params=(64, 64))))


@pytest.fixture(scope="module")
def model(greedy):
    return lite_export.convert_lite(greedy, batch_size=8)


def test_flatbuffer_signature_names_and_frozen_weights(greedy, model):
    assert isinstance(model, LiteModel) and isinstance(model.flatbuffer, bytes)
    interpreter = Interpreter(model_content=model.flatbuffer)
    assert interpreter.get_signature_list() == {
        "action": {"inputs": ["observation"], "outputs": ["action"]}}
    runner = interpreter.get_signature_runner("action")
    obs = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32) * 3
    out = runner(observation=obs)["action"]
    np.testing.assert_array_equal(
        out, greedy.action(ts.restart(tf.constant(obs), 8)).action.numpy())
    # 4*64 + 64*64 + 64*2 float32 weights are in the file, not left as variables.
    assert len(model.flatbuffer) > 4 * (4 * 64 + 64 * 64 + 64 * 2)


def test_document_describes_specs_and_signatures(greedy, model):
    document = json.loads(json.dumps(model.document))
    assert document["format"] == "tfpolicy.lite_export" and document["version"] == 1
    assert document["batch_size"] == 8 and document["action_mode"] == "graph"
    assert spec_json.decode(document["action_spec"]) == ACTION
    assert spec_json.decode(document["time_step_spec"]) == greedy.time_step_spec
    action = document["signatures"]["action"]
    assert action["inputs"] == [{"name": "observation", "path": "observation",
                                 "shape": [8, 4], "dtype": "float32"}]
    assert [leaf["name"] for leaf in action["unused_inputs"]] == [
        "step_type", "reward", "discount"]
    assert action["outputs"] == [{"name": "action", "path": "action", "shape": [8],
                                  "dtype": "int64"}]
    assert "get_initial_state" not in document["signatures"]


def test_recurrent_policy_exports_state_and_initial_state():
    tf.random.set_seed(1)
    policy = QPolicy(ts.time_step_spec(OBS), ACTION, QRnnNetwork(OBS, ACTION, lstm_size=(8,)))
    model = lite_export.convert_lite(GreedyPolicy(policy), batch_size=None)
    signatures = Interpreter(model_content=model.flatbuffer).get_signature_list()
    assert sorted(signatures["action"]["inputs"]) == [
        "observation", "state/0/0", "state/0/1", "step_type"]
    assert sorted(signatures["action"]["outputs"]) == ["action", "state/0/0", "state/0/1"]
    assert signatures["get_initial_state"] == {"inputs": ["batch_size"],
                                               "outputs": ["state/0/0", "state/0/1"]}
    described = model.document["signatures"]["action"]["inputs"]
    assert [leaf["shape"] for leaf in described] == [[None], [None, 4], [None, 8], [None, 8]]


def test_export_writes_flatbuffer_then_sidecar(greedy, tmp_path):
    path = tmp_path / "policy.tflite"
    written = lite_export.export_lite(greedy, path)
    assert path.read_bytes() == written.flatbuffer
    sidecar = json.loads((tmp_path / "policy.tflite.json").read_text())
    assert sidecar == json.loads(json.dumps(written.document))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.tflite", "policy.tflite.json"]


def test_failed_sidecar_write_never_loads_a_torn_pair(greedy, tmp_path, monkeypatch):
    path = tmp_path / "policy.tflite"
    real_write = atomic.atomic_write_file

    def failing_sidecar(target, data):
        if str(target).endswith(".json"):
            raise OSError("disk full")
        real_write(target, data)

    monkeypatch.setattr(atomic, "atomic_write_file", failing_sidecar)
    with pytest.raises(OSError, match="disk full"):
        lite_export.export_lite(greedy, path)
    with pytest.raises(FileNotFoundError, match="policy.tflite.json is missing"):
        LitePyPolicy(path)
    monkeypatch.setattr(atomic, "atomic_write_file", real_write)
    lite_export.export_lite(greedy, path)
    # An export of other weights whose sidecar write fails leaves the old sidecar.
    monkeypatch.setattr(atomic, "atomic_write_file", failing_sidecar)
    other = GreedyPolicy(QPolicy(ts.time_step_spec(OBS), ACTION,
                                 QNetwork(OBS, ACTION, fc_layer_params=(8,))))
    with pytest.raises(OSError):
        lite_export.export_lite(other, path)
    with pytest.raises(ValueError, match="sha256"):
        LitePyPolicy(path)
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_unsupported_op_fails_at_export_naming_it():
    # At a dynamic batch size categorical log-probabilities need
    # SparseSoftmaxCrossEntropyWithLogits, which the LiteRT builtins lack (at a
    # fixed one the converter lowers it to builtins).
    policy = QPolicy(ts.time_step_spec(OBS), ACTION, QNetwork(OBS, ACTION, fc_layer_params=(8,)),
                     emit_log_probability=True)
    with pytest.raises(LiteConversionError, match="SparseSoftmaxCrossEntropyWithLogits") as info:
        lite_export.convert_lite(policy, batch_size=None)
    assert info.value.ops == ["SparseSoftmaxCrossEntropyWithLogits"]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="batch_size"):
        lite_export.convert_lite(GreedyPolicy(QPolicy(
            ts.time_step_spec(OBS), ACTION, QNetwork(OBS, ACTION, fc_layer_params=(8,)))), 0)
    with pytest.raises(TypeError, match="TFPolicy"):
        lite_export.convert_lite("not a policy")


def test_sidecar_path_appends_json():
    assert lite_export.sidecar_path("a/b.tflite") == "a/b.tflite.json"
