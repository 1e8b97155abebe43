"""Spec nests to and from `StructuredValue` protos and `.pbtxt` files (`tensor_spec.to_proto`,
`from_proto`, `from_packed_proto`, `to_pbtxt_file`, `from_pbtxt_file`).

The reference files are written by TensorFlow's own structure coder with its own
bounded spec class, which is how TF-Agents writes `policy_specs.pbtxt`.
"""

import collections
import os

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import any_pb2
from google.protobuf import text_format
from tensorflow.core.protobuf import struct_pb2
# TensorFlow's bounded spec class, the one TF-Agents' specs are made of.
from tensorflow.python.framework.tensor import BoundedTensorSpec as TFBoundedTensorSpec

from specs import tensor_spec
from specs.array_spec import ArraySpec, BoundedArraySpec
from specs.tensor_spec import BoundedTensorSpec

tf_encode = tf.__internal__.saved_model.encode_structure
tf_decode = tf.__internal__.saved_model.decode_proto

Trajectory = collections.namedtuple(
    "Trajectory", ["step_type", "observation", "action", "policy_info", "next_step_type",
                   "reward", "discount"])


def tf_agents_collect_data_spec():
    """A DQN-style collect data spec as TF-Agents builds it (TF's bounded class)."""
    step_type = tf.TensorSpec([], tf.int32, name="step_type")
    return Trajectory(
        step_type=step_type,
        observation={"pos": TFBoundedTensorSpec([2], tf.float32, -1.0, [1.0, 2.0], name="pos"),
                     "img": tf.TensorSpec([3, 4], tf.uint8, name="img")},
        action=TFBoundedTensorSpec([], tf.int64, 0, 3, name="action"),
        policy_info=(),
        next_step_type=step_type,
        reward=tf.TensorSpec([], tf.float32, name="reward"),
        discount=TFBoundedTensorSpec([], tf.float32, 0.0, 1.0, name="discount"))


def write_tf_agents_pbtxt(path, specs):
    with open(path, "w") as f:
        f.write(text_format.MessageToString(tf_encode(specs)))


def test_from_pbtxt_file_reads_a_file_written_by_tensorflows_coder(tmp_path):
    path = os.path.join(tmp_path, "policy_specs.pbtxt")
    write_tf_agents_pbtxt(path, {"collect_data_spec": tf_agents_collect_data_spec(),
                                 "policy_state_spec": ()})

    specs = tensor_spec.from_pbtxt_file(path)

    assert sorted(specs) == ["collect_data_spec", "policy_state_spec"]
    assert specs["policy_state_spec"] == ()
    data = specs["collect_data_spec"]
    assert type(data).__name__ == "Trajectory"
    assert data._fields == Trajectory._fields
    assert data.action == BoundedTensorSpec((), tf.int64, 0, 3, "action")
    assert data.observation["pos"] == BoundedTensorSpec((2,), tf.float32, -1.0, [1.0, 2.0], "pos")
    np.testing.assert_array_equal(data.observation["pos"].maximum, [1.0, 2.0])
    assert data.observation["img"] == tf.TensorSpec([3, 4], tf.uint8, "img")
    assert data.discount == BoundedTensorSpec((), tf.float32, 0.0, 1.0, "discount")
    assert data.policy_info == ()


def test_to_proto_writes_the_same_text_as_tensorflows_coder():
    ours = tensor_spec.to_proto({
        "collect_data_spec": Trajectory(
            step_type=tf.TensorSpec([], tf.int32, "step_type"),
            observation={"pos": BoundedTensorSpec([2], tf.float32, -1.0, [1.0, 2.0], "pos"),
                         "img": tf.TensorSpec([3, 4], tf.uint8, "img")},
            action=BoundedTensorSpec([], tf.int64, 0, 3, "action"),
            policy_info=(),
            next_step_type=tf.TensorSpec([], tf.int32, "step_type"),
            reward=tf.TensorSpec([], tf.float32, "reward"),
            discount=BoundedTensorSpec([], tf.float32, 0.0, 1.0, "discount")),
        "policy_state_spec": ()})

    reference = tf_encode({"collect_data_spec": tf_agents_collect_data_spec(),
                           "policy_state_spec": ()})
    assert text_format.MessageToString(ours) == text_format.MessageToString(reference)


def test_tensorflows_decoder_reads_our_bounds():
    spec = {"a": BoundedTensorSpec([3], tf.int32, [0, 1, 2], 9, "a")}

    decoded = tf_decode(tensor_spec.to_proto(spec))

    np.testing.assert_array_equal(decoded["a"].minimum, [0, 1, 2])
    np.testing.assert_array_equal(decoded["a"].maximum, 9)
    assert decoded["a"].name == "a" and decoded["a"].dtype == tf.int32


def test_round_trip_keeps_containers_names_bounds_and_unknown_dims():
    spec = {
        "seq": [tf.TensorSpec([None, 2], tf.float32, "x"), (tf.TensorSpec([], tf.bool),)],
        "bounded": BoundedTensorSpec([2, 2], tf.float64, -np.inf, [[1.0, 2.0], [3.0, 4.0]]),
        "unknown_rank": tf.TensorSpec(None, tf.string),
        "empty": {},
    }

    back = tensor_spec.from_proto(tensor_spec.to_proto(spec))

    assert back == spec
    assert isinstance(back["seq"], list) and isinstance(back["seq"][1], tuple)
    assert back["seq"][0].shape.as_list() == [None, 2]
    assert back["unknown_rank"].shape.rank is None
    assert back["seq"][1][0].name is None


def test_array_specs_are_written_as_the_tensor_specs_from_spec_makes():
    spec = {"a": BoundedArraySpec((2,), np.int32, 0, 4, "a"), "b": ArraySpec((), np.float32)}

    back = tensor_spec.from_proto(tensor_spec.to_proto(spec))

    assert back == {"a": BoundedTensorSpec((2,), tf.int32, 0, 4, "a"),
                    "b": tf.TensorSpec((), tf.float32)}


def test_sparse_specs_round_trip_through_tensorflows_coder():
    spec = {"s": tf.SparseTensorSpec([None, 5], tf.float32)}

    back = tensor_spec.from_proto(tensor_spec.to_proto(spec))

    assert back == spec


def test_python_values_dtypes_and_shapes_round_trip():
    value = (None, True, 3, 2.5, "text", tf.float16, tf.TensorShape([2, None]))

    assert tensor_spec.from_proto(tensor_spec.to_proto(value)) == value


def test_decoded_namedtuples_of_one_name_and_fields_share_a_class():
    proto = tensor_spec.to_proto(Trajectory(*[tf.TensorSpec([], tf.int32)] * 7))

    first, second = tensor_spec.from_proto(proto), tensor_spec.from_proto(proto)

    assert type(first) is type(second)
    tf.nest.assert_same_structure(first, second)


def test_from_packed_proto_unpacks_an_any():
    packed = any_pb2.Any()
    packed.Pack(tensor_spec.to_proto({"a": BoundedTensorSpec((), tf.int32, 0, 1)}))

    assert tensor_spec.from_packed_proto(packed) == {"a": BoundedTensorSpec((), tf.int32, 0, 1)}


def test_from_packed_proto_rejects_another_message_type():
    packed = any_pb2.Any()
    packed.Pack(struct_pb2.TensorSpecProto(name="x"))

    with pytest.raises(ValueError, match="TensorSpecProto.*tensorflow.StructuredValue"):
        tensor_spec.from_packed_proto(packed)


def test_to_pbtxt_file_round_trips_and_leaves_no_temporary_file(tmp_path):
    spec = {"obs": tf.TensorSpec([4], tf.float32, "obs"),
            "act": BoundedTensorSpec([], tf.int32, 0, 1, "act")}
    path = os.path.join(tmp_path, "policy_specs.pbtxt")

    tensor_spec.to_pbtxt_file(path, spec)
    tensor_spec.to_pbtxt_file(path, spec)  # overwriting an existing file works too

    assert os.listdir(tmp_path) == ["policy_specs.pbtxt"]
    assert tensor_spec.from_pbtxt_file(path) == spec
    assert tf_decode(text_format.Parse(open(path).read(), struct_pb2.StructuredValue()))[
        "act"].maximum == 1


def test_to_proto_names_the_path_of_a_leaf_it_cannot_encode():
    with pytest.raises(TypeError, match=r"spec at 'policy/1': .*object"):
        tensor_spec.to_proto({"policy": [tf.TensorSpec([]), object()]})


def test_to_proto_rejects_non_string_dict_keys():
    with pytest.raises(TypeError, match=r"string keys, got key 3"):
        tensor_spec.to_proto({3: tf.TensorSpec([])})


def test_from_proto_names_the_path_of_an_empty_value():
    proto = struct_pb2.StructuredValue()
    proto.dict_value.fields["obs"].SetInParent()

    with pytest.raises(ValueError, match=r"spec at 'obs': .*holds no value"):
        tensor_spec.from_proto(proto)


def test_from_pbtxt_file_errors_name_the_file(tmp_path):
    missing = os.path.join(tmp_path, "missing.pbtxt")
    with pytest.raises(FileNotFoundError, match="missing.pbtxt"):
        tensor_spec.from_pbtxt_file(missing)
    garbage = os.path.join(tmp_path, "garbage.pbtxt")
    with open(garbage, "w") as f:
        f.write("this is { not a proto")
    with pytest.raises(ValueError, match="garbage.pbtxt.*not a text StructuredValue"):
        tensor_spec.from_pbtxt_file(garbage)
