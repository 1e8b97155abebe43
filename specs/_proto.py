"""Spec nests to and from TensorFlow's `StructuredValue` proto.

This is the format of the `policy_specs.pbtxt` file that TF-Agents' policy
saver writes next to a SavedModel, and of the specs TensorFlow stores inside a
SavedModel. `tensor_spec.to_proto` and its neighbours are the public names.

The containers, scalars, dtypes, shapes and dense specs are handled here, so
that this package's `BoundedTensorSpec` keeps its bounds both ways (TensorFlow's
own coder knows only its private bounded class, and would write ours as an
unbounded spec). Other `tf.TypeSpec`s (sparse, ragged, ...) go through
TensorFlow's coder, which knows them.
"""

import collections
import collections.abc
import os
import uuid
from typing import Any, Dict, Tuple

import numpy as np
import tensorflow as tf
from google.protobuf import any_pb2
from google.protobuf import text_format
from tensorflow.core.protobuf import struct_pb2

from specs._messages import nest_error_message

__all__ = ["encode", "decode", "unpack", "write_pbtxt", "read_pbtxt"]

StructuredValue = struct_pb2.StructuredValue

_CANNOT_ENCODE = ("cannot be written to a StructuredValue proto: expected a spec, a "
                  "tf.TensorShape, a tf.DType, a Python scalar, None, or a list, tuple, "
                  "namedtuple or dict of these; got {value!r} of type {kind}")

# Decoded namedtuple classes, one per (name, fields): two decodes of the same
# file give specs of the same type, so their structures compare equal.
_NAMEDTUPLES: Dict[Tuple[str, Tuple[str, ...]], type] = {}


def _error(path: tuple, reason: str) -> str:
    return nest_error_message("spec", path, reason)


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _bound_proto(bound: Any, dtype: tf.DType) -> Any:
    # A bound that is the same everywhere is written as a scalar, as TF-Agents'
    # specs usually hold it.
    array = np.asarray(bound, dtype.as_numpy_dtype)
    flat = array.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        array = np.asarray(flat[0], array.dtype)
    return tf.make_tensor_proto(array)


def encode(value: Any, path: tuple = ()) -> StructuredValue:
    """`value` (a nest of specs and the other encodable values) as a proto.

    `ArraySpec`s are written as the tensor specs `tensor_spec.from_spec` gives.

    Raises:
      TypeError: a leaf cannot be encoded (its path named).
    """
    # Imported here: `tensor_spec` imports this module.
    from specs import tensor_spec

    out = StructuredValue()
    if value is None:
        out.none_value.SetInParent()
    elif isinstance(value, (bool, np.bool_)):
        out.bool_value = bool(value)
    elif isinstance(value, (int, np.integer)):
        out.int64_value = int(value)
    elif isinstance(value, (float, np.floating)):
        out.float64_value = float(value)
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, tf.TensorShape):
        out.tensor_shape_value.CopyFrom(value.as_proto())
    elif isinstance(value, tf.DType):
        out.tensor_dtype_value = value.as_datatype_enum
    elif isinstance(value, tensor_spec.ArraySpec):
        return encode(tensor_spec.from_spec(value), path)
    elif isinstance(value, tf.TensorSpec) and tensor_spec.is_bounded(value):
        bounded = out.bounded_tensor_spec_value
        bounded.shape.CopyFrom(value.shape.as_proto())
        bounded.dtype = value.dtype.as_datatype_enum
        bounded.name = value.name or ""
        bounded.minimum.CopyFrom(_bound_proto(value.minimum, value.dtype))
        bounded.maximum.CopyFrom(_bound_proto(value.maximum, value.dtype))
    elif type(value) is tf.TensorSpec:
        spec = out.tensor_spec_value
        spec.shape.CopyFrom(value.shape.as_proto())
        spec.dtype = value.dtype.as_datatype_enum
        spec.name = value.name or ""
    elif isinstance(value, tf.TypeSpec):
        try:
            return tf.__internal__.saved_model.encode_structure(value)
        except Exception as e:  # TensorFlow raises its own NotEncodableError
            raise TypeError(_error(path, _CANNOT_ENCODE.format(
                value=value, kind=type(value).__name__) + f" ({e})")) from None
    elif _is_namedtuple(value):
        named = out.named_tuple_value
        named.name = type(value).__name__
        for key in value._fields:
            pair = named.values.add()
            pair.key = key
            pair.value.CopyFrom(encode(getattr(value, key), path + (key,)))
    elif isinstance(value, (list, tuple)):
        target = out.list_value if isinstance(value, list) else out.tuple_value
        target.SetInParent()  # an empty list or tuple still says which it is
        for i, item in enumerate(value):
            target.values.add().CopyFrom(encode(item, path + (i,)))
    elif isinstance(value, collections.abc.Mapping):
        out.dict_value.SetInParent()
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError(_error(
                    path, f"a StructuredValue dict needs string keys, got key {key!r}"))
            out.dict_value.fields[key].CopyFrom(encode(value[key], path + (key,)))
    else:
        raise TypeError(_error(path, _CANNOT_ENCODE.format(
            value=value, kind=type(value).__name__)))
    return out


def _namedtuple(name: str, fields: Tuple[str, ...]) -> type:
    key = (name, fields)
    if key not in _NAMEDTUPLES:
        _NAMEDTUPLES[key] = collections.namedtuple(name, fields)
    return _NAMEDTUPLES[key]


def decode(proto: StructuredValue, path: tuple = ()) -> Any:
    """The nest a `StructuredValue` proto describes.

    Tensor specs come back as `tf.TensorSpec`s and bounded ones as this
    package's `BoundedTensorSpec`; a named tuple comes back as a
    `collections.namedtuple` of the recorded name and fields.

    Raises:
      ValueError: a part of the proto holds no value, or one TensorFlow
        cannot decode (its path named).
    """
    # Imported here: `tensor_spec` imports this module.
    from specs import tensor_spec

    kind = proto.WhichOneof("kind")
    if kind is None or kind == "none_value":
        if kind is None:
            raise ValueError(_error(path, "the StructuredValue proto holds no value"))
        return None
    if kind in ("bool_value", "int64_value", "float64_value", "string_value"):
        return getattr(proto, kind)
    if kind == "tensor_shape_value":
        return tf.TensorShape(proto.tensor_shape_value)
    if kind == "tensor_dtype_value":
        return tf.as_dtype(proto.tensor_dtype_value)
    if kind == "tensor_spec_value":
        spec = proto.tensor_spec_value
        return tf.TensorSpec(tf.TensorShape(spec.shape), tf.as_dtype(spec.dtype),
                             spec.name or None)
    if kind == "bounded_tensor_spec_value":
        spec = proto.bounded_tensor_spec_value
        try:
            return tensor_spec.BoundedTensorSpec(
                tf.TensorShape(spec.shape), tf.as_dtype(spec.dtype),
                tf.make_ndarray(spec.minimum), tf.make_ndarray(spec.maximum),
                spec.name or None)
        except ValueError as e:
            raise ValueError(_error(path, f"invalid bounded tensor spec: {e}")) from None
    if kind in ("list_value", "tuple_value"):
        items = [decode(v, path + (i,))
                 for i, v in enumerate(getattr(proto, kind).values)]
        return items if kind == "list_value" else tuple(items)
    if kind == "dict_value":
        fields = proto.dict_value.fields
        return {key: decode(fields[key], path + (key,)) for key in sorted(fields)}
    if kind == "named_tuple_value":
        named = proto.named_tuple_value
        keys = tuple(pair.key for pair in named.values)
        values = [decode(pair.value, path + (pair.key,)) for pair in named.values]
        return _namedtuple(named.name, keys)(*values)
    if kind == "numpy_value":
        return tf.make_ndarray(proto.numpy_value)
    if kind == "tensor_value":
        return tf.constant(tf.make_ndarray(proto.tensor_value))
    try:
        return tf.__internal__.saved_model.decode_proto(proto)
    except Exception as e:  # TensorFlow raises its own error types
        raise ValueError(_error(
            path, f"TensorFlow cannot decode this {kind} ({e})")) from None


def unpack(packed: Any) -> StructuredValue:
    """The `StructuredValue` inside a `google.protobuf.Any`.

    Raises:
      TypeError: `packed` is not an `Any` proto.
      ValueError: it holds another message type.
    """
    if not isinstance(packed, any_pb2.Any):
        raise TypeError(f"expected a google.protobuf.Any proto, got {type(packed).__name__}")
    proto = StructuredValue()
    if not packed.Unpack(proto):
        raise ValueError(f"the Any proto holds a {packed.TypeName()!r}, expected a "
                         f"{StructuredValue.DESCRIPTOR.full_name!r}")
    return proto


def write_pbtxt(path: str, proto: StructuredValue) -> None:
    """Writes `proto` as text to `path` (any `tf.io.gfile` path) atomically.

    The text goes to a temporary sibling first, which is then renamed over
    `path`, so a reader never sees a partial file.
    """
    path = os.fspath(path)
    directory, name = os.path.split(path)
    temp = os.path.join(directory, f".{name}.tmp-{uuid.uuid4().hex}")
    try:
        with tf.io.gfile.GFile(temp, "w") as f:
            f.write(text_format.MessageToString(proto))
        tf.io.gfile.rename(temp, path, overwrite=True)
    except BaseException:
        if tf.io.gfile.exists(temp):
            tf.io.gfile.remove(temp)
        raise


def read_pbtxt(path: str) -> StructuredValue:
    """Parses the text `StructuredValue` proto at `path` (any `tf.io.gfile` path).

    Raises:
      FileNotFoundError: there is no file at `path`.
      ValueError: the file is not a text `StructuredValue` proto.
    """
    path = os.fspath(path)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"no spec file at {path!r}")
    with tf.io.gfile.GFile(path, "r") as f:
        text = f.read()
    proto = StructuredValue()
    try:
        text_format.Merge(text, proto)
    except text_format.ParseError as e:
        raise ValueError(f"{path!r} is not a text StructuredValue proto: {e}") from None
    return proto

