"""An exported policy served in a process that has never imported this library.

The child process blocks every import of `specs`, `tfpolicy` and `savers` (a `sys.meta_path`
finder raising ImportError), reads `policy_specs.json` with the `json` module, loads the
SavedModel with plain TensorFlow, and runs the flat `action` signature (state fed back from
its outputs) and the nested `action` function (with its own namedtuples). Its actions and
states must equal the in-process policy's, for stateless and recurrent policies at batch 1
and batch > 1.
"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
import tree

from savers import PolicySaver
from specs import BoundedTensorSpec, TensorSpec
from tfpolicy import networks, policies, time_step as ts

BATCHES = (1, 3)
STEPS = 4

_CHILD = textwrap.dedent("""
    import sys


    class BlockOurPackages:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("specs", "tfpolicy", "savers"):
                raise ImportError(f"{name} may not be imported in the serving process")
            return None


    sys.meta_path.insert(0, BlockOurPackages())

    import collections
    import json

    import numpy as np
    import tensorflow as tf


    def build(node, feed, prefix):
        # Rebuilds a nest from the specs JSON, leaves taken from `feed` by nest path.
        kind = node["kind"]
        if kind in ("TensorSpec", "BoundedTensorSpec"):
            return feed["/".join(prefix)]
        if kind == "dict":
            return {k: build(v, feed, prefix + [str(k)])
                    for k, v in zip(node["keys"], node["values"])}
        if kind == "namedtuple":
            cls = collections.namedtuple(node["type"], node["fields"])
            return cls(*[build(v, feed, prefix + [f])
                         for f, v in zip(node["fields"], node["values"])])
        items = [build(v, feed, prefix + [str(i)]) for i, v in enumerate(node["values"])]
        return items if kind == "list" else tuple(items)


    def flatten(nest):
        if isinstance(nest, dict):
            return [leaf for k in sorted(nest) for leaf in flatten(nest[k])]
        if isinstance(nest, (list, tuple)):
            return [leaf for item in nest for leaf in flatten(item)]
        return [nest]


    outputs_file, jobs = sys.argv[1], sys.argv[2:]
    results = {}
    for export_dir, inputs_file in zip(jobs[::2], jobs[1::2]):
        with open(export_dir + "/policy_specs.json") as f:
            doc = json.load(f)
        loaded = tf.saved_model.load(export_dir)
        inputs = doc["signatures"]["action"]["inputs"]
        outputs = [leaf["name"] for leaf in doc["signatures"]["action"]["outputs"]]
        state_leaves = doc["signatures"]["get_initial_state"]["outputs"]
        state_names = [leaf["name"] for leaf in state_leaves]
        data = np.load(inputs_file, allow_pickle=False)
        tag = export_dir.rstrip("/").split("/")[-1]
        for batch in [int(b) for b in data["batches"]]:
            state = loaded.signatures["get_initial_state"](batch_size=tf.constant(batch))
            for step in range(int(data["steps"])):
                feed = {leaf["name"]: data[f"{batch}|{step}|{leaf['name']}"]
                        for leaf in inputs if leaf["name"] not in state_names}
                feed.update({name: state[name] for name in state_names})
                out = loaded.signatures["action"](**feed)
                for name in outputs:
                    results[f"{tag}|{batch}|{step}|{name}"] = out[name].numpy()
                # The nested function, called with this process's own namedtuples.
                by_path = {leaf["path"]: feed[leaf["name"]] for leaf in inputs}
                time_step = build(doc["time_step_spec"], by_path, [])
                policy_state = build(doc["policy_state_spec"], by_path, ["state"])
                nested = loaded.action(time_step, policy_state)
                assert type(nested).__name__ == "PolicyStep", type(nested)
                results[f"{tag}|{batch}|{step}|nested_action"] = flatten(nested.action)[0].numpy()
                state = {name: out[name] for name in state_names}
    ours = sorted(m for m in sys.modules if m.split(".")[0] in ("specs", "tfpolicy", "savers"))
    assert not ours, ours
    np.savez(outputs_file, **results)
""")


def _stateless():
    observation = {"pos": TensorSpec([2], tf.float32, "pos"), "vel": TensorSpec([1], tf.float32)}
    action = BoundedTensorSpec([2], tf.float32, -1.0, 1.0, "move")
    net = networks.ActorDistributionNetwork(
        observation, action, preprocessing_combiner=keras.layers.Concatenate(),
        fc_layer_params=(8,))
    return policies.GreedyPolicy(policies.ActorPolicy(ts.time_step_spec(observation), action, net))


def _recurrent():
    observation = TensorSpec([3], tf.float32, "obs")
    action = BoundedTensorSpec([], tf.int32, 0, 4, "action")
    net = networks.QRnnNetwork(observation, action, input_fc_layer_params=(8,), lstm_size=(6,),
                               output_fc_layer_params=())
    return policies.GreedyPolicy(policies.QPolicy(ts.time_step_spec(observation), action, net))


def _time_step(policy, batch, step, rng):
    step_type = np.full([batch], 0 if step == 0 else 1, np.int32)
    if step == 2:
        step_type[-1] = 0  # the last entry starts a new episode: its state is reset
    observation = tree.map_structure(
        lambda s: (rng.normal(size=[batch] + s.shape.as_list()) * 2).astype(np.float32),
        policy.time_step_spec.observation)
    return ts.TimeStep(step_type, np.zeros([batch], np.float32), np.ones([batch], np.float32),
                       observation)


def _in_process_run(policy, doc, rng):
    """The inputs to feed (by signature name) and the in-process outputs (by name)."""
    inputs = {"batches": np.array(BATCHES), "steps": np.array(STEPS)}
    expected = {}
    in_leaves = doc["signatures"]["action"]["inputs"]
    out_names = [leaf["name"] for leaf in doc["signatures"]["action"]["outputs"]]
    for batch in BATCHES:
        state = policy.get_initial_state(batch)
        for step in range(STEPS):
            time_step = _time_step(policy, batch, step, rng)
            for leaf, value in zip(in_leaves, tree.flatten(time_step)):
                inputs[f"{batch}|{step}|{leaf['name']}"] = value
            out = policy.action(tree.map_structure(tf.convert_to_tensor, time_step), state)
            for name, value in zip(out_names, tree.flatten(out)):
                expected[f"{batch}|{step}|{name}"] = value.numpy()
            state = out.state
    return inputs, expected


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    rng = np.random.default_rng(0)
    jobs, expected = [], {}
    for tag, make in (("stateless", _stateless), ("recurrent", _recurrent)):
        policy = make()
        saver = PolicySaver(policy)
        saver.save(root / tag)
        inputs, outputs = _in_process_run(policy, saver.specs_document, rng)
        np.savez(root / f"{tag}_inputs.npz", **inputs)
        jobs += [str(root / tag), str(root / f"{tag}_inputs.npz")]
        expected.update({f"{tag}|{k}": v for k, v in outputs.items()})
    result = subprocess.run([sys.executable, "-c", _CHILD, str(root / "outputs.npz"), *jobs],
                            capture_output=True, text=True, timeout=300, cwd=str(root))
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(root / "outputs.npz", allow_pickle=False) as data:
        got = {k: data[k] for k in data.files}
    return got, expected, root


def test_served_actions_and_states_equal_the_in_process_policy(served):
    got, expected, _ = served
    assert sorted(k for k in got if "nested_action" not in k) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-5, err_msg=key)
    for tag in ("stateless", "recurrent"):
        for batch in BATCHES:
            assert got[f"{tag}|{batch}|0|action"].shape[0] == batch


def test_recurrent_state_flows_through_the_signatures(served):
    got, _, _ = served
    states = [got[f"recurrent|3|{step}|state/0/0"] for step in range(STEPS)]
    assert not np.allclose(states[0], states[1])  # the state changes from step to step


def test_nested_function_with_plain_namedtuples_gives_the_same_actions(served):
    got, _, _ = served
    for tag in ("stateless", "recurrent"):
        for batch in BATCHES:
            for step in range(STEPS):
                np.testing.assert_allclose(got[f"{tag}|{batch}|{step}|nested_action"],
                                           got[f"{tag}|{batch}|{step}|action"], atol=1e-6)


def test_the_child_really_cannot_import_our_packages(tmp_path):
    code = _CHILD.split("import collections")[0] + "import savers\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=str(tmp_path))
    assert result.returncode != 0
    assert "savers may not be imported in the serving process" in result.stderr


def test_specs_json_alone_tells_a_client_what_to_feed(served):
    _, _, root = served
    doc = json.loads((root / "stateless" / "policy_specs.json").read_text())
    assert [leaf["name"] for leaf in doc["signatures"]["action"]["inputs"]] == [
        "step_type", "reward", "discount", "observation/pos", "observation/vel"]
    observation = doc["time_step_spec"]["values"][3]
    assert observation["kind"] == "dict" and observation["keys"] == ["pos", "vel"]
    assert doc["action_spec"] == {"kind": "BoundedTensorSpec", "shape": [2], "dtype": "float32",
                                  "name": "move", "minimum": -1.0, "maximum": 1.0}
