"""Tests of the spec JSON: exact round trips of spec nests, standard JSON only, the namedtuple
rules, and errors that name the JSON path."""

import collections
import json

import numpy as np
import pytest
import tensorflow as tf
import tree
from hypothesis import given, strategies as st

from savers.spec_json import SpecJSONError, decode, encode
from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy import PolicyInfo, PolicyStep, TimeStep, time_step as ts

Custom = collections.namedtuple("Custom", ["left", "right"])

_DTYPES = [tf.float32, tf.float64, tf.int32, tf.int64, tf.uint8, tf.bool]
_NAMES = st.one_of(st.none(), st.text(min_size=0, max_size=8))


@st.composite
def _leaf(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    shape = draw(st.lists(st.integers(0, 3), max_size=2))
    name = draw(_NAMES)
    if dtype == tf.bool or not draw(st.booleans()):
        if draw(st.booleans()) and shape:  # an unknown dim
            shape = [None] + shape[1:]
        return TensorSpec(shape, dtype, name)
    np_dtype = dtype.as_numpy_dtype
    if dtype.is_floating:
        values = st.one_of(st.floats(-1e6, 1e6, width=32), st.sampled_from([-np.inf, np.inf]))
    else:
        info = np.iinfo(np_dtype)
        values = st.integers(int(info.min), int(info.max))
    size = int(np.prod(shape)) if shape else 1
    elementwise = draw(st.booleans())
    lows = draw(st.lists(values, min_size=size, max_size=size)) if elementwise else [draw(values)]
    highs = draw(st.lists(values, min_size=len(lows), max_size=len(lows)))
    low = np.minimum(np.asarray(lows, np_dtype), np.asarray(highs, np_dtype))
    high = np.maximum(np.asarray(lows, np_dtype), np.asarray(highs, np_dtype))
    if elementwise:
        low, high = low.reshape(shape), high.reshape(shape)
    else:
        low, high = low[0], high[0]
    return BoundedTensorSpec(shape, dtype, low, high, name)


def _extend(children):
    keys = st.one_of(st.text(min_size=0, max_size=6), st.integers(0, 9))
    return st.one_of(
        st.dictionaries(keys, children, max_size=3),
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.tuples(children, children).map(lambda t: Custom(*t)),
        st.tuples(children).map(lambda t: PolicyInfo(*t)))


SPEC_NESTS = st.recursive(st.one_of(_leaf(), st.none()), _extend, max_leaves=6)


def _assert_same_nest(actual, expected):
    assert type(actual).__name__ == type(expected).__name__
    if isinstance(expected, dict):
        assert list(actual) == list(expected)
        for k in expected:
            _assert_same_nest(actual[k], expected[k])
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        assert getattr(actual, "_fields", None) == getattr(expected, "_fields", None)
        for a, e in zip(actual, expected):
            _assert_same_nest(a, e)
    else:
        assert actual == expected, (actual, expected)


@given(SPEC_NESTS)
def test_round_trip_is_exact_and_standard_json(nest):
    text = json.dumps(encode(nest), allow_nan=False)
    _assert_same_nest(decode(json.loads(text)), nest)


def test_schema_of_leaves():
    spec = BoundedTensorSpec([2], tf.float32, [-1.0, 0.0], [1.0, np.inf], "move")
    assert encode(spec) == {"kind": "BoundedTensorSpec", "shape": [2], "dtype": "float32",
                            "name": "move", "minimum": [-1.0, 0.0], "maximum": [1.0, "inf"]}
    assert encode(BoundedTensorSpec([3], tf.int32, 0, 4)) == {
        "kind": "BoundedTensorSpec", "shape": [3], "dtype": "int32", "name": None,
        "minimum": 0, "maximum": 4}
    assert encode(TensorSpec(None, tf.uint8)) == {"kind": "TensorSpec", "shape": None,
                                                  "dtype": "uint8", "name": None}


def test_schema_of_nests():
    nest = {"b": [TensorSpec([], tf.int32)], "a": (), "c": None}
    leaf = {"kind": "TensorSpec", "shape": [], "dtype": "int32", "name": None}
    assert encode(nest) == {"kind": "dict", "keys": ["b", "a", "c"], "values": [
        {"kind": "list", "values": [leaf]}, {"kind": "tuple", "values": []}, {"kind": "none"}]}
    assert encode(PolicyInfo(TensorSpec([], tf.int32))) == {
        "kind": "namedtuple", "type": "PolicyInfo", "fields": ["log_probability"],
        "values": [leaf]}


def test_float32_and_int64_bounds_round_trip_exactly():
    spec = BoundedTensorSpec([], tf.float32, np.float32(0.1), np.float32(0.7))
    assert decode(json.loads(json.dumps(encode(spec)))).minimum == np.float32(0.1)
    big = BoundedTensorSpec([], tf.int64, -(2 ** 62) - 1, 2 ** 63 - 1)
    decoded = decode(json.loads(json.dumps(encode(big))))
    assert int(decoded.minimum) == -(2 ** 62) - 1 and int(decoded.maximum) == 2 ** 63 - 1


def test_library_namedtuples_come_back_as_their_classes():
    spec = PolicyStep(action=BoundedTensorSpec([], tf.int32, 0, 2), state=(),
                      info=PolicyInfo(TensorSpec([], tf.float32)))
    decoded = decode(encode(spec))
    assert type(decoded) is PolicyStep and type(decoded.info) is PolicyInfo
    time_step_spec = ts.time_step_spec({"pos": TensorSpec([2], tf.float32, "pos")})
    decoded = decode(encode(time_step_spec))
    assert type(decoded) is TimeStep and decoded == time_step_spec


def test_other_namedtuples_are_given_types_or_rebuilt_by_name_and_fields():
    spec = Custom(TensorSpec([], tf.int32), TensorSpec([], tf.float32))
    assert type(decode(encode(spec), namedtuple_types=[Custom])) is Custom
    rebuilt = decode(encode(spec))
    assert type(rebuilt) is not Custom
    assert type(rebuilt).__name__ == "Custom" and rebuilt._fields == ("left", "right")
    assert type(decode(encode(spec))) is type(rebuilt)
    # Same name, other fields: not the library's class.
    odd = collections.namedtuple("TimeStep", ["a"])(TensorSpec([], tf.int32))
    assert type(decode(encode(odd))) is not TimeStep


def test_array_specs_are_written_as_tensor_specs():
    nest = {"a": ArraySpec((2,), np.float32, "a"),
            "b": BoundedArraySpec((), np.int64, 0, 5, "b")}
    assert decode(encode(nest)) == {"a": TensorSpec([2], tf.float32, "a"),
                                    "b": BoundedTensorSpec([], tf.int64, 0, 5, "b")}


def test_unknown_dims_keep_bounds():
    spec = BoundedTensorSpec([None, 2], tf.float32, [0.0, 1.0], [2.0, 3.0])
    decoded = decode(encode(spec))
    assert decoded.shape.as_list() == [None, 2]
    np.testing.assert_array_equal(decoded.minimum.reshape(-1), [0.0, 1.0])


def test_encode_rejects_leaves_that_are_not_specs_naming_the_path():
    with pytest.raises(TypeError, match="spec at 'obs/1': cannot be written to JSON"):
        encode({"obs": [TensorSpec([], tf.int32), 3.0]})
    with pytest.raises(TypeError, match="key 2.5"):
        encode({2.5: TensorSpec([], tf.int32)})


@pytest.mark.parametrize("document, message", [
    ({"kind": "dict", "keys": ["a"], "values": [{"kind": "TensorSpec", "shape": []}]},
     "at 'a': missing 'dtype'"),
    ({"kind": "list", "values": [{"kind": "Sparse"}]}, "at '0': unknown kind 'Sparse'"),
    ({"kind": "TensorSpec", "shape": [], "dtype": "float99", "name": None},
     "unknown dtype 'float99'"),
    ({"kind": "TensorSpec", "shape": [-1], "dtype": "int32", "name": None}, "shape must be"),
    ({"kind": "BoundedTensorSpec", "shape": [], "dtype": "float32", "name": None,
      "minimum": "infinity", "maximum": 1.0}, "bound 'infinity'"),
    ({"kind": "BoundedTensorSpec", "shape": [2], "dtype": "int32", "name": "a",
      "minimum": 3, "maximum": 1}, "above maximum"),
    ({"kind": "BoundedTensorSpec", "shape": [2], "dtype": "int32", "name": "a",
      "minimum": [0, 0, 0], "maximum": 1}, "does not broadcast"),
    ({"kind": "namedtuple", "type": "T", "fields": ["a", "b"], "values": []},
     "as many identifier 'fields'"),
    ({"kind": "dict", "keys": ["a", "b"], "values": []}, "as many 'keys'"),
    ([1, 2], "expected a JSON object"),
])
def test_decode_errors_name_the_json_path(document, message):
    with pytest.raises(SpecJSONError, match=message):
        decode(document)


def test_decoded_specs_work_in_tf_function_signatures():
    spec = decode(encode(ts.time_step_spec({"pos": TensorSpec([2], tf.float32)})))
    batched = tree.map_structure(lambda s: tf.TensorSpec([None] + s.shape.as_list(), s.dtype),
                                 spec)
    fn = tf.function(lambda t: t.observation["pos"] * 2.0, input_signature=[batched])
    out = fn(ts.restart({"pos": tf.ones([3, 2])}, batch_size=3))
    assert out.shape == (3, 2)
