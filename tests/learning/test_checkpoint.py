"""Tests for tfpolicy.learning.checkpoint: the learning-policy checkpoint format.

Round trips must be exact (types, dtypes, shapes, bits, key order, list
against tuple); every way a directory can be wrong gives a named error and
returns nothing; a failed write leaves the previous checkpoint as it was.
"""

import collections
import json
import math
import os
import pathlib
import struct

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from savers import PolicySaver
from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy.learning import checkpoint
from tfpolicy.learning.checkpoint import (
    CHECKPOINT_FILE,
    CHECKPOINT_FORMAT,
    FORMAT_VERSION,
    PolicyCheckpoint,
    PolicyCheckpointError,
    is_policy_checkpoint,
    read_policy_checkpoint,
    resolve_policy_class,
    write_policy_checkpoint,
)
from tfpolicy.policies import FixedPolicy
from tfpolicy.trajectories import time_step as ts

INDEX = "arrays/arrays.index"
DATA = "arrays/arrays.data-00000-of-00001"
OBS = ArraySpec((2,), np.float32, "obs")
ACT = BoundedArraySpec((), np.int64, 0, 1, "act")


class MyPolicy:
    pass


class OtherPolicy:
    pass


def nan_float32(bits):
    return np.array(bits, np.uint32).view(np.float32)


def assert_exact(actual, expected, path="state"):
    """Same types all the way down, same key order, and bit-identical leaves."""
    assert type(actual) is type(expected), (path, type(actual), type(expected))
    if isinstance(expected, dict):
        assert list(actual) == list(expected), path
        for key in expected:
            assert_exact(actual[key], expected[key], f"{path}/{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_exact(a, e, f"{path}/{i}")
    elif isinstance(expected, (np.ndarray, np.generic)):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, path
        assert actual.tobytes() == expected.tobytes(), (path, actual, expected)
    elif isinstance(expected, float):
        assert struct.pack("<d", actual) == struct.pack("<d", expected) or (
            math.isnan(actual) and math.isnan(expected)), (path, actual, expected)
    else:
        assert actual == expected, (path, actual, expected)


def write(directory, state=None, **overrides):
    arguments = dict(policy_class=MyPolicy, observation_space=OBS, action_space=ACT,
                     config={"gamma": 0.99})
    arguments.update(overrides)
    write_policy_checkpoint(directory, {"weights": {}} if state is None else state, **arguments)


def small_checkpoint(tmp_path):
    directory = tmp_path / "ckpt"
    write(directory, {"weights": {"w": np.arange(256, dtype=np.float32)},
                      "step": np.int64(7)})
    return directory


def document(directory):
    return json.loads((directory / CHECKPOINT_FILE).read_text())


def rewrite_document(directory, change):
    doc = document(directory)
    change(doc)
    (directory / CHECKPOINT_FILE).write_text(json.dumps(doc))


def siblings(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


# ---- round trips -------------------------------------------------------------------------------


def test_round_trip_keeps_every_leaf_type_dtype_shape_and_bit(tmp_path):
    state = {
        "weights": {"dense/kernel": np.array([[1.5, -0.0], [np.inf, -np.inf]], np.float32),
                    "nan_payloads": nan_float32([0x7FC00001, 0xFFC00002, 0x7F800001]),
                    "bias": np.array([1e-310, -2.0], np.float64),
                    "half": np.array([65504.0, 6e-8], np.float16),
                    "empty": np.zeros((0, 3), np.float32),
                    "scalar_array": np.array(3.25, np.float32)},
        "ints": [np.array([-128, 127], np.int8), np.array([-(2**15)], np.int16),
                 np.array([2**31 - 1], np.int32), np.array([-(2**63), 2**63 - 1], np.int64),
                 np.array([255], np.uint8), np.array([65535], np.uint16),
                 np.array([2**32 - 1], np.uint32), np.array([2**64 - 1], np.uint64)],
        "flags": np.array([[True, False]]),
        "complex": (np.array([1 + 2j], np.complex64), np.array([-3j], np.complex128)),
        "global_timestep": np.int64(2**62 + 3),
        "num_grad_updates": 2**53 + 1,
        "huge": -(2**80) - 1,
        "nan_scalar": np.float32(np.nan),
        "bool_scalar": np.bool_(True),
        "lr": 0.1,
        "neg_zero": -0.0,
        "inf": math.inf,
        "python_nan": math.nan,
        "explore": False,
        "name": "pólicy ☃",
        "nothing": None,
        "empty_list": [],
        "empty_tuple": (),
        "empty_dict": {},
        "nested": ([{"a": (1, [2.5])}], [(), [[]]]),
        "_optimizer_variables": [np.array(4, np.int64), np.ones((2, 2), np.float32)],
    }
    directory = tmp_path / "ckpt"
    write(directory, state)

    saved = read_policy_checkpoint(directory)

    assert_exact(saved.state, state)
    assert saved.state["weights"]["dense/kernel"].flags.writeable
    assert saved.format_version == FORMAT_VERSION == 1


def test_round_trip_keeps_dict_key_order_and_int_keys(tmp_path):
    state = {"z": 1, "a": {3: "three", 1: "one", "m": None}, 0: [np.float32(1.0)]}
    write(tmp_path / "ckpt", state)

    saved = read_policy_checkpoint(tmp_path / "ckpt").state

    assert list(saved) == ["z", "a", 0]
    assert list(saved["a"]) == [3, 1, "m"]
    assert_exact(saved, state)


_DTYPES = [np.bool_, np.int8, np.uint16, np.int32, np.int64, np.uint64, np.float16,
           np.float32, np.float64, np.complex64]


def _random_bits(dtype, shape, seed):
    """An array of random bytes: every bit pattern (NaN payloads, subnormals), bools 0 or 1."""
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return rng.integers(0, 256, size=size, dtype=np.uint8).view(dtype).reshape(shape)


_arrays = st.builds(_random_bits, st.sampled_from(_DTYPES),
                    st.lists(st.integers(0, 3), max_size=3).map(tuple), st.integers(0, 2**32 - 1))
_leaves = (_arrays | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.text()
           | st.none() | _arrays.map(lambda a: a.reshape(-1)[0] if a.size else a))
_states = st.recursive(
    _leaves, lambda children: (st.lists(children, max_size=3)
                               | st.lists(children, max_size=3).map(tuple)
                               | st.dictionaries(st.text(max_size=5) | st.integers(), children,
                                                 max_size=3)),
    max_leaves=12)


@settings(max_examples=20)
@given(state=st.dictionaries(st.text(max_size=5), _states, max_size=4))
def test_round_trip_of_any_state_nest_is_exact(tmp_path_factory, state):
    directory = tmp_path_factory.mktemp("ckpt") / "policy"

    write(directory, state)

    assert_exact(read_policy_checkpoint(directory).state, state)


def test_round_trip_of_spec_nest_spaces_gives_the_same_specs(tmp_path):
    observation = {"pixels": BoundedArraySpec((2, 2), np.uint8, 0, 255, "pixels"),
                   "vel": ArraySpec((3,), np.float64, "vel"),
                   "pos": (TensorSpec([None, 2], tf.float32, "pos"),
                           BoundedTensorSpec([], tf.int32, -1, 5, "id"))}
    action = ts.TimeStep(ArraySpec((), np.int32), ArraySpec((), np.float32),
                         BoundedArraySpec((), np.float32, 0.0, 1.0), ArraySpec((1,), np.bool_))
    write(tmp_path / "ckpt", observation_space=observation, action_space=action)

    saved = read_policy_checkpoint(tmp_path / "ckpt")

    assert saved.observation_space == observation
    assert list(saved.observation_space) == ["pixels", "vel", "pos"]
    assert type(saved.observation_space["pixels"]) is BoundedArraySpec
    assert type(saved.observation_space["vel"]) is ArraySpec
    assert type(saved.observation_space["pos"][0]) is tf.TensorSpec
    assert type(saved.observation_space["pos"][1]) is BoundedTensorSpec
    assert saved.action_space == action and type(saved.action_space) is ts.TimeStep


def test_round_trip_of_gymnasium_spaces_gives_equal_spaces(tmp_path):
    observation = gym.spaces.Dict(collections.OrderedDict([
        ("zeta", gym.spaces.Box(np.array([-1.0, -np.inf], np.float32),
                                np.array([2.5, np.inf], np.float32))),
        ("count", gym.spaces.Box(0, 10, (2,), np.int64)),
        ("alive", gym.spaces.Box(np.zeros(3, bool), np.ones(3, bool), dtype=bool)),
        ("alpha", gym.spaces.Tuple([gym.spaces.Discrete(3, start=-1, dtype=np.int32),
                                    gym.spaces.MultiBinary(5),
                                    gym.spaces.MultiBinary([2, 3])])),
    ]))
    action = gym.spaces.Tuple([gym.spaces.MultiDiscrete([3, 4], start=[1, -1]),
                               gym.spaces.Discrete(2)])
    write(tmp_path / "ckpt", observation_space=observation, action_space=action)

    saved = read_policy_checkpoint(tmp_path / "ckpt")

    assert saved.observation_space == observation and saved.action_space == action
    assert list(saved.observation_space.spaces) == ["zeta", "count", "alive", "alpha"]
    zeta = saved.observation_space["zeta"]
    assert zeta.low.tobytes() == observation["zeta"].low.tobytes()
    assert zeta.high.tobytes() == observation["zeta"].high.tobytes()
    assert type(saved.observation_space["count"]) is gym.spaces.Box  # not made a MultiDiscrete
    assert saved.observation_space["alpha"][0].dtype == np.int32
    assert saved.observation_space["alpha"][1].n == 5
    assert saved.observation_space["alpha"][2].n == (2, 3)
    assert saved.action_space[0].start.tolist() == [1, -1]


def test_config_round_trips_json_values_tuples_non_finite_floats_and_callables(tmp_path):
    config = {"gamma": 0.99, "lr": 5e-5, "train_batch_size": 4000, "explore": True,
              "env": None, "grad_clip": math.inf, "floor": -math.inf,
              "model": {"fcnet_hiddens": [256, 256], "conv_filters": (16, (4, 4), 2),
                        "custom_model": collections.OrderedDict,
                        "fcnet_activation": np.tanh},
              "callbacks": [json.dumps, resolve_policy_class]}
    write(tmp_path / "ckpt", config=config)

    saved = read_policy_checkpoint(tmp_path / "ckpt")

    assert_exact(saved.config, config)
    assert saved.config["model"]["custom_model"] is collections.OrderedDict
    assert saved.config["model"]["fcnet_activation"] is np.tanh
    assert saved.config["callbacks"][1] is resolve_policy_class
    stored = document(tmp_path / "ckpt")["config"]
    assert stored["model"]["custom_model"] == {"__callable__": "collections:OrderedDict"}
    assert stored["model"]["conv_filters"] == {"__tuple__": [16, {"__tuple__": [4, 4]}, 2]}
    assert stored["grad_clip"] == {"__float__": "inf"}


def test_config_python_nan_comes_back_as_nan(tmp_path):
    write(tmp_path / "ckpt", config={"target": math.nan})

    assert math.isnan(read_policy_checkpoint(tmp_path / "ckpt").config["target"])


def test_document_records_format_class_and_file_sizes(tmp_path):
    directory = small_checkpoint(tmp_path)

    doc = document(directory)

    assert doc["format"] == CHECKPOINT_FORMAT == "tfpolicy.learning_policy_checkpoint"
    assert doc["version"] == 1
    assert doc["policy_class"] == f"{MyPolicy.__module__}:MyPolicy"
    assert doc["arrays"]["prefix"] == "arrays/arrays" and doc["arrays"]["count"] == 2
    assert doc["arrays"]["files"] == {
        name: (directory / name).stat().st_size for name in (INDEX, DATA)}
    assert doc["state"]["values"][0]["values"][0] == {
        "kind": "ndarray", "key": "arrays/0/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "float32",
        "shape": [256]}
    assert doc["observation_space"]["kind"] == "spec_nest"
    assert doc["observation_space"]["leaves"] == ["array"]


def test_files_hold_no_pickle_json_parses_and_tensorflow_reads_the_arrays(tmp_path):
    directory = small_checkpoint(tmp_path)

    files = sorted(p.relative_to(directory).as_posix()
                   for p in directory.rglob("*") if p.is_file())
    doc = json.loads((directory / CHECKPOINT_FILE).read_text(encoding="utf-8"))
    reader = tf.train.load_checkpoint(os.fspath(directory / "arrays" / "arrays"))

    assert files == sorted([CHECKPOINT_FILE, INDEX, DATA])
    w = doc["state"]["values"][0]["values"][0]
    np.testing.assert_array_equal(reader.get_tensor(w["key"]), np.arange(256, dtype=np.float32))
    assert reader.get_tensor(doc["state"]["values"][1]["key"]) == 7
    for path in directory.rglob("*"):
        if path.is_file():
            assert not path.read_bytes().startswith(b"\x80"), path  # pickle's PROTO opcode


def test_module_uses_no_pickle():
    folder = pathlib.Path(checkpoint.__file__).parent
    sources = [folder / "checkpoint.py"] + sorted(folder.glob("_checkpoint_*.py"))
    assert len(sources) > 1
    for path in sources:
        source = path.read_text()
        for module in ("pickle", "cloudpickle", "marshal", "shelve", "dill"):
            assert f"import {module}" not in source, path.name
    for module in ("pickle", "cloudpickle", "marshal", "shelve", "dill"):
        assert module not in vars(checkpoint)


# ---- what may be written -----------------------------------------------------------------------


def _local_function():
    def inner():
        return None
    return inner


@pytest.mark.parametrize("value, named", [
    (lambda x: x, "lambda"),
    (object(), "builtins.object"),
    (np.array([1.0]), "numpy.ndarray"),
    (np.float32(0.5), "numpy.float32"),
    (_local_function(), "<locals>"),
    ({1, 2}, "builtins.set"),
])
def test_config_value_that_checkpoints_cannot_hold_is_refused_before_writing(
        tmp_path, value, named):
    config = {"model": {"custom_model": value}}

    with pytest.raises(ValueError, match=named) as raised:
        write(tmp_path / "ckpt", config=config)

    assert "config at 'model/custom_model'" in str(raised.value)
    assert siblings(tmp_path) == []


def test_config_with_non_string_or_reserved_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"config at 'multiagent': has the key 1 \(int\)"):
        write(tmp_path / "ckpt", config={"multiagent": {1: "a"}})
    with pytest.raises(ValueError, match="'__tuple__', which checkpoints reserve"):
        write(tmp_path / "ckpt", config={"x": {"__tuple__": [1]}})
    assert siblings(tmp_path) == []


@pytest.mark.parametrize("value, named", [
    (np.array(["a", "b"]), "dtype <U1"),
    (np.array([None], object), "dtype |O"),
    (np.array([1.0], ">f4"), "dtype >f4"),
    (np.str_("a"), "dtype <U1"),
    (tf.constant(1.0), "with .numpy()"),
    (range(3), "builtins.range"),
    (collections.namedtuple("Pair", "a b")(1, 2), "Pair"),
    ({1.5: 0}, "has the key 1.5"),
])
def test_state_value_that_checkpoints_cannot_hold_is_refused_before_writing(
        tmp_path, value, named):
    with pytest.raises(ValueError, match=named) as raised:
        write(tmp_path / "ckpt", {"weights": {}, "extra": [value]})

    assert "state at 'extra/0'" in str(raised.value)
    assert siblings(tmp_path) == []


def test_unsupported_spaces_are_refused_naming_the_space(tmp_path):
    class MyBox(gym.spaces.Box):
        pass

    with pytest.raises(ValueError,
                       match=r"observation_space at 'text'.*gymnasium.spaces.text.Text"):
        write(tmp_path / "ckpt", observation_space=gym.spaces.Dict({"text": gym.spaces.Text(5)}))
    with pytest.raises(ValueError, match="action_space at '<root>'.*MyBox"):
        write(tmp_path / "ckpt", action_space=MyBox(0.0, 1.0))
    with pytest.raises(ValueError, match="observation_space at 'a'.*got str"):
        write(tmp_path / "ckpt", observation_space={"a": "not a spec"})
    assert siblings(tmp_path) == []


def test_policy_class_must_be_a_class(tmp_path):
    with pytest.raises(TypeError, match="policy_class must be a class, got MyPolicy"):
        write(tmp_path / "ckpt", policy_class=MyPolicy())


# ---- atomic writing ----------------------------------------------------------------------------


def test_writing_again_replaces_the_previous_checkpoint(tmp_path):
    directory = tmp_path / "ckpt"
    write(directory, {"step": 1, "w": np.zeros(3, np.float32)})

    write(directory, {"step": 2})

    assert read_policy_checkpoint(directory).state == {"step": 2}
    assert siblings(tmp_path) == ["ckpt"]


def test_failure_mid_write_leaves_previous_checkpoint_and_no_partial_directory(
        tmp_path, monkeypatch):
    directory = small_checkpoint(tmp_path)
    before = {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    real_write_arrays = checkpoint._write_arrays

    def write_arrays_then_fail(*args):
        real_write_arrays(*args)  # the arrays are on disk in the temporary directory
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "_write_arrays", write_arrays_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write(directory, {"weights": {"w": np.ones(3, np.float32)}})

    assert siblings(tmp_path) == ["ckpt"]
    assert {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()} == before
    assert read_policy_checkpoint(directory).state["step"] == 7


def test_non_empty_directory_that_is_not_a_checkpoint_is_refused_untouched(tmp_path):
    directory = tmp_path / "home"
    directory.mkdir()
    (directory / "notes.txt").write_text("keep me")

    with pytest.raises(FileExistsError, match="learning policy checkpoint"):
        write(directory)

    assert [p.name for p in directory.iterdir()] == ["notes.txt"]
    assert siblings(tmp_path) == ["home"]


def test_savers_checkpoint_directory_is_not_replaced(tmp_path):
    directory = tmp_path / "weights"
    PolicySaver(_fixed_policy()).save_checkpoint(directory)

    with pytest.raises(FileExistsError):
        write(directory)

    assert json.loads((directory / "policy_checkpoint.json").read_text())["format"] == (
        "tfpolicy.policy_checkpoint")


def test_is_policy_checkpoint_recognises_only_learning_checkpoints(tmp_path):
    directory = small_checkpoint(tmp_path)
    (tmp_path / "other").mkdir()

    assert is_policy_checkpoint(directory)
    assert not is_policy_checkpoint(tmp_path / "other")
    assert not is_policy_checkpoint(tmp_path / "missing")


# ---- errors when reading -----------------------------------------------------------------------


def _fixed_policy():
    return FixedPolicy(1, ts.time_step_spec(TensorSpec([2], tf.float32, "obs")),
                       BoundedTensorSpec([], tf.int32, 0, 3, "action"))


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match="no learning policy checkpoint at .*nowhere: the directory does not"):
        read_policy_checkpoint(tmp_path / "nowhere")


def test_file_instead_of_directory_is_named(tmp_path):
    (tmp_path / "file").write_text("x")

    with pytest.raises(NotADirectoryError, match="it is a file"):
        read_policy_checkpoint(tmp_path / "file")


def test_saved_model_export_is_named(tmp_path):
    PolicySaver(_fixed_policy()).save(tmp_path / "export")

    with pytest.raises(PolicyCheckpointError,
                       match="is not a learning policy checkpoint .*a SavedModel export"):
        read_policy_checkpoint(tmp_path / "export")


def test_savers_checkpoint_is_named(tmp_path):
    PolicySaver(_fixed_policy()).save_checkpoint(tmp_path / "weights")

    with pytest.raises(PolicyCheckpointError) as raised:
        read_policy_checkpoint(tmp_path / "weights")

    message = str(raised.value)
    assert "is a savers checkpoint (PolicySaver.save_checkpoint" in message
    assert "'tfpolicy.policy_checkpoint', expected 'tfpolicy.learning_policy_checkpoint'" in (
        message)


def test_empty_and_foreign_directories_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "weights.h5").write_bytes(b"x")

    with pytest.raises(PolicyCheckpointError, match="holds nothing: the directory is empty"):
        read_policy_checkpoint(tmp_path / "empty")
    with pytest.raises(PolicyCheckpointError,
                       match=r"policy_state.json is missing\); it holds weights.h5"):
        read_policy_checkpoint(tmp_path / "foreign")


def test_other_format_tag_is_named(tmp_path):
    directory = small_checkpoint(tmp_path)
    rewrite_document(directory, lambda doc: doc.update(format="someone.else"))

    with pytest.raises(PolicyCheckpointError,
                       match="format of .* is 'someone.else', expected "
                             "'tfpolicy.learning_policy_checkpoint'"):
        read_policy_checkpoint(directory)


@pytest.mark.parametrize("keep", [0, 1, 0.5, 0.99])
def test_truncated_json_is_named(tmp_path, keep):
    directory = small_checkpoint(tmp_path)
    source = directory / CHECKPOINT_FILE
    data = source.read_bytes()
    source.write_bytes(data[:int(len(data) * keep) if keep < 1 else 1])

    with pytest.raises(PolicyCheckpointError,
                       match="is corrupt or truncated: it is not valid JSON"):
        read_policy_checkpoint(directory)


@pytest.mark.parametrize("name", [INDEX, DATA])
@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
def test_truncated_array_file_is_named(tmp_path, name, keep):
    directory = small_checkpoint(tmp_path)
    path = directory / name
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])

    with pytest.raises(PolicyCheckpointError,
                       match=f"is truncated: {name} has {int(len(data) * keep)} bytes, "
                             f"expected {len(data)}"):
        read_policy_checkpoint(directory)


@pytest.mark.parametrize("name", [INDEX, DATA])
def test_missing_array_file_is_named(tmp_path, name):
    directory = small_checkpoint(tmp_path)
    (directory / name).unlink()

    with pytest.raises(PolicyCheckpointError, match=f"is incomplete: {name} is missing"):
        read_policy_checkpoint(directory)


def test_corrupt_array_bytes_are_caught_by_tensorflow_checksums(tmp_path):
    directory = small_checkpoint(tmp_path)
    path = directory / DATA
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # inside the weights, same size
    path.write_bytes(bytes(data))

    with pytest.raises(PolicyCheckpointError, match="data is corrupt or truncated.*Checksum"):
        read_policy_checkpoint(directory)


def test_arrays_of_another_checkpoint_are_caught(tmp_path):
    directory = small_checkpoint(tmp_path)
    write(tmp_path / "other", {"weights": {"w": np.zeros((2, 2), np.int32)}})
    for name in (INDEX, DATA):
        (directory / name).write_bytes((tmp_path / "other" / name).read_bytes())
    sizes = {name: (directory / name).stat().st_size for name in (INDEX, DATA)}
    rewrite_document(directory, lambda doc: doc["arrays"].update(files=sizes))

    with pytest.raises(PolicyCheckpointError) as raised:
        read_policy_checkpoint(directory)

    message = str(raised.value)
    assert "do not match its policy_state.json" in message
    assert ("state at 'weights/w': the array 'arrays/0/.ATTRIBUTES/VARIABLE_VALUE' is "
            "int32[2, 2], expected float32[256]") in message
    assert "state at 'step': the array 'arrays/1/.ATTRIBUTES/VARIABLE_VALUE' (int64[]) is " \
           "missing" in message


def test_newer_format_version_is_named(tmp_path):
    directory = small_checkpoint(tmp_path)
    rewrite_document(directory, lambda doc: doc.update(version=2))

    with pytest.raises(PolicyCheckpointError,
                       match="written by a newer tfpolicy: format version 2, this library "
                             "reads up to 1"):
        read_policy_checkpoint(directory)


def test_invalid_format_version_is_named(tmp_path):
    directory = small_checkpoint(tmp_path)
    rewrite_document(directory, lambda doc: doc.update(version="1"))

    with pytest.raises(PolicyCheckpointError, match="its format version is '1', expected an "
                                                    "integer from 1 to 1"):
        read_policy_checkpoint(directory)


def test_incomplete_document_is_named(tmp_path):
    directory = small_checkpoint(tmp_path)
    rewrite_document(directory, lambda doc: doc.pop("action_space"))

    with pytest.raises(PolicyCheckpointError, match=r"is incomplete: it has no \['action_space'\]"):
        read_policy_checkpoint(directory)


def test_malformed_state_node_is_named_by_path(tmp_path):
    directory = small_checkpoint(tmp_path)
    rewrite_document(directory, lambda doc: doc["state"]["values"][0].update(kind="set"))

    with pytest.raises(PolicyCheckpointError, match="state in .* at 'weights': unknown node"):
        read_policy_checkpoint(directory)


def test_checkpoint_of_another_class_names_both(tmp_path):
    directory = tmp_path / "ckpt"
    write(directory, policy_class=collections.OrderedDict)

    with pytest.raises(TypeError) as raised:
        read_policy_checkpoint(directory, expected_class=MyPolicy)

    assert str(raised.value) == (
        f"{directory} holds a checkpoint of collections:OrderedDict, expected "
        f"{MyPolicy.__module__}:MyPolicy or a subclass of it")


def test_checkpoint_of_an_unimportable_class_names_both_and_why(tmp_path):
    directory = tmp_path / "ckpt"
    write(directory, policy_class=OtherPolicy)
    rewrite_document(directory, lambda doc: doc.update(policy_class="no_such_module_xyz:P"))

    with pytest.raises(TypeError, match="holds a checkpoint of no_such_module_xyz:P, expected "
                                        ".*:MyPolicy .*cannot be imported"):
        read_policy_checkpoint(directory, expected_class=MyPolicy)


def test_checkpoint_of_a_subclass_is_accepted(tmp_path):
    write(tmp_path / "ckpt", policy_class=collections.OrderedDict)

    saved = read_policy_checkpoint(tmp_path / "ckpt", expected_class=dict)

    assert saved.policy_class == "collections:OrderedDict"
    assert resolve_policy_class(saved.policy_class) is collections.OrderedDict


def test_config_callable_that_no_longer_imports_names_its_key(tmp_path):
    directory = tmp_path / "ckpt"
    write(directory, config={"model": {"custom_model": collections.OrderedDict}})
    rewrite_document(directory, lambda doc: doc["config"]["model"].update(
        custom_model={"__callable__": "collections:NoSuchModel"}))

    with pytest.raises(ImportError,
                       match="config of the checkpoint .* at 'model/custom_model': cannot import "
                             "the callable 'collections:NoSuchModel': collections has no "
                             "attribute 'NoSuchModel'"):
        read_policy_checkpoint(directory)


def test_read_checkpoint_is_a_frozen_value(tmp_path):
    saved = read_policy_checkpoint(small_checkpoint(tmp_path))

    assert isinstance(saved, PolicyCheckpoint)
    with pytest.raises(AttributeError):
        saved.config = {}


# ---- resolve_policy_class ----------------------------------------------------------------------


def test_resolve_policy_class_imports_by_module_and_qualname():
    assert resolve_policy_class("collections:OrderedDict") is collections.OrderedDict
    assert resolve_policy_class(
        "tfpolicy.learning.checkpoint:PolicyCheckpoint") is PolicyCheckpoint


def test_resolve_policy_class_names_a_class_built_inside_a_function():
    def build():
        class Local:
            pass
        return Local

    name = f"{build().__module__}:{build().__qualname__}"

    with pytest.raises(ImportError, match="cannot import the policy class .*<locals>.Local.*: it "
                                          "was defined inside a function"):
        resolve_policy_class(name)


@pytest.mark.parametrize("name, error, message", [
    ("no_such_module_xyz:Policy", ImportError,
     "cannot import the policy class 'no_such_module_xyz:Policy': importing module "
     "'no_such_module_xyz' failed"),
    ("collections:Missing", ImportError, "collections has no attribute 'Missing'"),
    ("collections.OrderedDict", ImportError, "expected a 'module:qualname' string"),
    ("json:dumps", TypeError, "'json:dumps' is not a class: it is a function"),
])
def test_resolve_policy_class_errors_name_the_class(name, error, message):
    with pytest.raises(error, match=message):
        resolve_policy_class(name)
