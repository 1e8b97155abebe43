"""`tfpolicy inspect` (savers.export_report): the printed report of a small export, its JSON
form, and its errors."""

import copy
import json
import pathlib
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from savers import export_report
from savers.policy_saver import PolicySaver
from specs import BoundedTensorSpec, TensorSpec
from tfpolicy._distributions import categorical_for_spec
from tfpolicy.policies import TFPolicy
from tfpolicy.trajectories import time_step as ts
from tfpolicy import cli
from tfpolicy.trajectories.policy_step import PolicyStep

class _Nudge(TFPolicy):
    """Categorical over actions 1..3 from a dict observation; counts steps in its state."""

    def __init__(self):
        observation = {"pos": BoundedTensorSpec([2], tf.float32, [-1.0, -2.0], 1.0, "pos"),
                       "vel": TensorSpec([2], tf.float32, "vel")}
        super().__init__(ts.time_step_spec(observation),
                         BoundedTensorSpec([], tf.int32, 1, 3, "move"),
                         policy_state_spec=TensorSpec([1], tf.float32, "steps"),
                         emit_log_probability=True)
        self.weights = tf.Variable(tf.ones([4, 3]), name="weights")

    def _distribution(self, time_step, policy_state):
        observation = time_step.observation
        logits = tf.concat([observation["pos"], observation["vel"]], -1) @ self.weights
        return PolicyStep(categorical_for_spec(logits, self.action_spec), policy_state + 1.0)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("cli")
    metadata = {"env_steps": 1000, "lr": tf.Variable(0.25), "env": "cartpole",
                "sizes": np.array([1, 2, 3], np.int64)}
    saver = PolicySaver(_Nudge(), metadata=metadata, train_step=tf.Variable(42, dtype=tf.int64))
    saver.save(root / "policy")
    saver.save_checkpoint(root / "checkpoint")
    return root / "policy"


@pytest.fixture(scope="module")
def report(export) -> dict:
    return export_report.inspect_export(export)


def _run(capsys, *argv) -> tuple:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _cells(text: str) -> list:
    """Each line's cells: runs of two or more spaces separate the columns."""
    return [re.split(r" {2,}", line.strip()) for line in text.splitlines() if line.strip()]


def _section(text: str, title: str) -> str:
    """The lines of the report section whose first line starts with `title`."""
    for block in text.split("\n\n"):
        if block.startswith(title):
            return block
    raise AssertionError(f"no section {title!r} in:\n{text}")


def _signature(text: str, name: str) -> str:
    """The lines of one signature inside the Signatures section."""
    section = _section(text, "Signatures")
    match = re.search(rf"^  {name}\n((?:    .*\n?)*)", section, flags=re.M)
    assert match, section
    return match.group(1)


def test_inspect_prints_the_header_with_policy_batch_size_and_train_step(export, capsys):
    code, out, _ = _run(capsys, "inspect", str(export))
    assert code == 0
    header = _cells(_section(out, "Export"))
    assert header == [["Export", str(export)],
                      ["Format", "tfpolicy.policy_export, version 1"],
                      ["Policy", "_Nudge"],
                      ["Batch size", "any"],
                      ["Train step", "42"],
                      ["Signature names", "nest paths"]]


def test_inspect_prints_every_spec_leaf_with_path_dtype_shape_bounds_and_name(export, capsys):
    _, out, _ = _run(capsys, "inspect", str(export))
    assert _cells(_section(out, "Specs")) == [
        ["Specs (one item: no batch dim)"],
        ["time_step_spec"],
        ["path", "dtype", "shape", "bounds", "spec name"],
        ["step_type", "int32", "[]", "step_type"],
        ["reward", "float32", "[]", "reward"],
        ["discount", "float32", "[]", "[0.0, 1.0]", "discount"],
        ["observation/pos", "float32", "[2]", "min [-1.0, -2.0], max 1.0", "pos"],
        ["observation/vel", "float32", "[2]", "vel"],
        ["action_spec"],
        ["path", "dtype", "shape", "bounds", "spec name"],
        ["action", "int32", "[]", "[1, 3]", "move"],
        ["policy_state_spec"],
        ["path", "dtype", "shape", "bounds", "spec name"],
        ["state", "float32", "[1]", "steps"],
        ["info_spec"],
        ["path", "dtype", "shape", "bounds", "spec name"],
        ["info/log_probability", "float32", "[]", "log_probability"],
    ]


def test_inspect_aligns_each_column_under_its_header(export, capsys):
    _, out, _ = _run(capsys, "inspect", str(export))
    lines = _section(out, "Specs").splitlines()[2:8]  # the time step table
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", lines[0])]
    assert [lines[0][s:].split("  ")[0] for s in starts] == [
        "path", "dtype", "shape", "bounds", "spec name"]
    discount, pos = lines[3], lines[4]
    assert [discount[s:].split("  ")[0] for s in starts] == [
        "discount", "float32", "[]", "[0.0, 1.0]", "discount"]
    assert [pos[s:].split("  ")[0] for s in starts] == [
        "observation/pos", "float32", "[2]", "min [-1.0, -2.0], max 1.0", "pos"]
    assert all(line[s - 2:s] == "  " for line in lines for s in starts)


def test_inspect_prints_the_action_signature_inputs_and_outputs(export, capsys):
    _, out, _ = _run(capsys, "inspect", str(export))
    assert _cells(_signature(out, "action")) == [
        ["inputs"],
        ["name", "dtype", "shape"],
        ["step_type", "int32", "[None]"],
        ["reward", "float32", "[None]"],
        ["discount", "float32", "[None]"],
        ["observation/pos", "float32", "[None, 2]"],
        ["observation/vel", "float32", "[None, 2]"],
        ["state", "float32", "[None, 1]"],
        ["outputs"],
        ["name", "dtype", "shape"],
        ["action", "int32", "[None]"],
        ["state", "float32", "[None, 1]"],
        ["info/log_probability", "float32", "[None]"],
    ]


def test_inspect_prints_the_other_signatures(export, capsys):
    _, out, _ = _run(capsys, "inspect", str(export))
    section = _section(out, "Signatures")
    names = re.findall(r"^  (\S+)$", section, flags=re.M)
    assert sorted(names) == ["action", "distribution", "get_initial_state", "get_metadata",
                             "get_train_step"]
    assert _cells(_signature(out, "get_initial_state")) == [
        ["inputs"], ["name", "dtype", "shape"], ["batch_size", "int32", "[]"],
        ["outputs"], ["name", "dtype", "shape"], ["state", "float32", "[None, 1]"]]
    assert _cells(_signature(out, "get_train_step")) == [
        ["inputs: none"], ["outputs"], ["name", "dtype", "shape"], ["train_step", "int64", "[]"]]
    assert _cells(_signature(out, "get_metadata"))[3:] == [
        ["env", "string", "[]"], ["env_steps", "int32", "[]"], ["lr", "float32", "[]"],
        ["sizes", "int64", "[3]"]]
    assert _cells(_signature(out, "distribution"))[-3:] == [
        ["name", "dtype", "shape"], ["distribution/logits", "float32", "[None, 3]"],
        ["state", "float32", "[None, 1]"]]


def test_inspect_prints_metadata_values_read_from_the_saved_model(export, capsys):
    _, out, _ = _run(capsys, "inspect", str(export))
    assert _cells(_section(out, "Metadata")) == [
        ["Metadata"],
        ["name", "dtype", "shape", "kind", "value"],
        ["env", "string", "[]", "constant", "'cartpole'"],
        ["env_steps", "int32", "[]", "constant", "1000"],
        ["lr", "float32", "[]", "variable", "0.25"],
        ["sizes", "int64", "[3]", "constant", "[1, 2, 3]"],
    ]


def test_inspect_prints_the_distribution_parameters_and_model_variables(export, capsys):
    _, out, _ = _run(capsys, "inspect", str(export))
    assert _cells(_section(out, "Distribution")) == [
        ["Distribution (outputs of the 'distribution' signature)"],
        ["output", "action", "distribution", "parameter", "notes"],
        ["distribution/logits", "action", "Categorical", "logits", "index k is action 1 + k"],
    ]
    assert _cells(_section(out, "Model variables")) == [
        ["Model variables (1, 12 parameters)"], ["name", "dtype", "shape"],
        ["weights:0", "float32", "[4, 3]"]]


def test_inspect_json_prints_the_report_as_json(export, report, capsys):
    code, out, _ = _run(capsys, "inspect", "--json", str(export))
    assert code == 0
    document = json.loads(out)
    assert document == json.loads(json.dumps(report))
    assert document["train_step"] == 42 and document["batch_size"] is None
    assert document["specs"]["time_step_spec"][3] == {
        "path": "observation/pos", "name": "pos", "dtype": "float32", "shape": [2],
        "minimum": [-1.0, -2.0], "maximum": 1.0}
    assert {m["name"]: (m["kind"], m["value"]) for m in document["metadata"]} == {
        "env": ("constant", "cartpole"), "env_steps": ("constant", 1000),
        "lr": ("variable", 0.25), "sizes": ("constant", [1, 2, 3])}
    assert document["signatures"]["action"]["inputs"][5] == {
        "name": "state", "path": "state", "dtype": "float32", "shape": [None, 1]}
    assert document["distribution"]["parameters"][0]["shift"] == 1
    assert document["num_parameters"] == 12


def test_inspect_specs_only_skips_the_saved_model_values(export, capsys):
    code, out, _ = _run(capsys, "inspect", "--specs-only", str(export))
    assert code == 0
    assert ["Train step", "(not loaded)"] in _cells(_section(out, "Export"))
    assert ["lr", "float32", "[]", "variable", "(not loaded)"] in _cells(_section(out, "Metadata"))
    assert ["action", "int32", "[]", "[1, 3]", "move"] in _cells(_section(out, "Specs"))


def test_format_report_states_missing_parts_and_fixed_batch_size(report):
    changed = copy.deepcopy(report)
    changed.update(batch_size=4, train_step=-1, metadata=[], use_nest_path_signatures=False,
                   distribution={"exported": False, "note": "_Nudge has no distribution",
                                 "parameters": []})
    text = export_report.format_report(changed)
    header = _cells(_section(text, "Export"))
    assert ["Batch size", "4"] in header
    assert ["Train step", "-1 (none given at export)"] in header
    assert ["Signature names", "spec names where unique, else nest paths"] in header
    assert "\nMetadata: none\n" in text
    assert "\nDistribution: not exported: _Nudge has no distribution\n" in text


def test_format_report_elides_long_values_and_writes_non_finite_bounds(report):
    changed = copy.deepcopy(report)
    changed["metadata"] = [{"name": "ramp", "dtype": "int64", "shape": [10], "kind": "constant",
                            "value": list(range(10))}]
    changed["specs"]["action_spec"] = [{"path": "action", "name": None, "dtype": "float32",
                                        "shape": [], "minimum": "-inf", "maximum": 2.5}]
    text = export_report.format_report(changed)
    assert ["ramp", "int64", "[10]", "constant", "[0, 1, 2, 3, 4, 5, 6, 7, ... (10 in all)]"] in (
        _cells(_section(text, "Metadata")))
    assert ["action", "float32", "[]", "[-inf, 2.5]", "-"] in _cells(_section(text, "Specs"))


def test_inspect_a_signature_path_column_appears_only_when_names_differ(report):
    changed = copy.deepcopy(report)
    changed["signatures"] = {"action": {"inputs": [
        {"name": "pos", "path": "observation/pos", "dtype": "float32", "shape": [None, 2]},
        {"name": "step_type", "path": "step_type", "dtype": "int32", "shape": [None]}],
        "outputs": []}}
    assert _cells(_signature(export_report.format_report(changed), "action")) == [
        ["inputs"], ["name", "dtype", "shape", "path"],
        ["pos", "float32", "[None, 2]", "observation/pos"],
        ["step_type", "int32", "[None]", "step_type"], ["outputs: none"]]


def test_inspect_of_a_missing_path_exits_2_with_the_reason(tmp_path, capsys):
    code, out, err = _run(capsys, "inspect", str(tmp_path / "nowhere"))
    assert code == 2 and out == ""
    assert err.startswith("tfpolicy inspect: error: no exported policy at")
    assert "does not exist" in err


def test_inspect_of_a_file_or_an_empty_directory_exits_2(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("hello")
    code, _, err = _run(capsys, "inspect", str(tmp_path / "file.txt"))
    assert code == 2 and "it is a file, not an export directory" in err
    (tmp_path / "empty").mkdir()
    code, _, err = _run(capsys, "inspect", str(tmp_path / "empty"))
    assert code == 2 and "saved_model.pb is missing" in err


def test_inspect_of_a_checkpoint_exits_2_naming_it_a_checkpoint(export, capsys):
    code, _, err = _run(capsys, "inspect", str(export.parent / "checkpoint"))
    assert code == 2
    assert "is a checkpoint (written by PolicySaver.save_checkpoint), not an export" in err


def test_inspect_of_an_export_without_or_with_corrupt_specs_exits_2(export, tmp_path, capsys):
    copied = tmp_path / "copied"
    shutil.copytree(export, copied)
    (copied / "policy_specs.json").write_text('{"format": "tfpolicy.policy_export", "vers')
    code, _, err = _run(capsys, "inspect", str(copied))
    assert code == 2 and "not valid JSON" in err
    (copied / "policy_specs.json").unlink()
    code, _, err = _run(capsys, "inspect", "--specs-only", str(copied))
    assert code == 2 and "without policy_specs.json" in err


@pytest.fixture(scope="module")
def lite_file(tmp_path_factory) -> pathlib.Path:
    from savers import export_lite
    from tfpolicy.networks import QNetwork
    from tfpolicy.policies import GreedyPolicy, QPolicy

    observation = BoundedTensorSpec([4], tf.float32, -2.0, 2.0, "observation")
    action = BoundedTensorSpec([], tf.int64, 0, 1, "action")
    policy = GreedyPolicy(QPolicy(ts.time_step_spec(observation), action,
                                  QNetwork(observation, action, fc_layer_params=(8,))))
    path = tmp_path_factory.mktemp("cli_lite") / "greedy.tflite"
    export_lite(policy, path, batch_size=None)
    return path


def test_inspect_a_lite_export_prints_header_specs_and_signatures(lite_file, capsys):
    code, out, _ = _run(capsys, "inspect", str(lite_file))
    assert code == 0
    header = dict(_cells(_section(out, "LiteRT export"))[1:])
    assert header["Policy"] == "GreedyPolicy" and header["Batch size"] == "any"
    assert header["Actions"] == "sampled in the model"
    assert header["Size"].endswith("...") and "bytes, sha256" in header["Size"]
    specs = _section(out, "Specs")
    assert ["observation", "float32", "[4]", "[-2.0, 2.0]", "observation"] in _cells(specs)
    action = _signature(out, "action")
    assert ["observation", "float32", "[None, 4]"] in _cells(action)
    assert ["action", "int64", "[None]"] in _cells(action)
    assert "action: not model inputs (never read): step_type, reward, discount" in out


def test_inspect_a_lite_export_as_json(lite_file, capsys):
    code, out, _ = _run(capsys, "inspect", "--json", str(lite_file))
    report = json.loads(out)
    assert code == 0 and report["kind"] == "litert" and report["batch_size"] is None
    assert [leaf["name"] for leaf in report["signatures"]["action"]["inputs"]] == ["observation"]
    assert report["size_bytes"] == lite_file.stat().st_size


def test_inspect_a_lite_export_without_its_sidecar_exits_2(lite_file, tmp_path, capsys):
    lonely = tmp_path / "lonely.tflite"
    shutil.copy(lite_file, lonely)
    code, _, err = _run(capsys, "inspect", str(lonely))
    assert code == 2 and "lonely.tflite.json is missing" in err
