"""Spec nests <-> JSON, in a form any JSON reader understands (no pickles, no classes).

Exports write the policy's specs as JSON beside the SavedModel so that a
client without this library (another language, a plain-TensorFlow process)
can read what the policy takes and returns, and the loader can rebuild the
exact spec nests.

Schema (version 1). Every node of a nest is a JSON object with a `"kind"`:

Leaves (array specs are written as the tensor specs they convert to)::

  {"kind": "TensorSpec", "shape": [2, null], "dtype": "float32", "name": "pos"}
  {"kind": "BoundedTensorSpec", "shape": [], "dtype": "int32", "name": "action",
   "minimum": 0, "maximum": 2}

- `shape`: a list with one int per dim, `null` for an unknown dim; the
  whole `shape` is `null` for an unknown rank.
- `dtype`: the TensorFlow dtype name, which is also numpy's where numpy has
  the type (`"float32"`, `"int64"`, `"bool"`, `"uint8"`, `"string"`, ...).
- `name`: a string, or `null` for an unnamed spec.
- `minimum` / `maximum` (bounded specs only): a single number when every
  element has the same bound (0 for a spec without elements), else nested
  lists of the spec's shape (1 for unknown dims). Floats
  that JSON cannot hold are the strings `"inf"`, `"-inf"` and `"nan"`.

Nests::

  {"kind": "dict", "keys": ["pos", "vel"], "values": [<node>, <node>]}
  {"kind": "list", "values": [<node>, ...]}
  {"kind": "tuple", "values": [<node>, ...]}          the empty nest () has no values
  {"kind": "namedtuple", "type": "TimeStep",
   "fields": ["step_type", "reward", "discount", "observation"], "values": [...]}
  {"kind": "none"}

Dict keys are strings or ints, in the dict's own order (dm-tree flattens
dicts in sorted key order). A namedtuple is rebuilt as this library's class
of that name and fields (`TimeStep`, `PolicyStep`, `PolicyInfo`,
`Trajectory`) or one given to `decode`, else as a new
`collections.namedtuple` of that name and fields.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec
>>> spec = {"move": BoundedTensorSpec([2], tf.float32, -1.0, [1.0, float("inf")], "move")}
>>> doc = encode(spec)
>>> doc["values"][0]["maximum"]
[1.0, 'inf']
>>> decode(doc) == spec
True
"""

import collections
import math
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from specs import tensor_spec
from specs import NestedTensorSpec
from specs.array_spec import ArraySpec
from specs.nest_utils import nest_error_message
from tfpolicy.trajectories.policy_step import PolicyInfo, PolicyStep
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = ["SpecJSONError", "encode", "decode"]

_KNOWN_NAMEDTUPLES = (TimeStep, PolicyStep, PolicyInfo, Trajectory)
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
_LEAF_KINDS = ("TensorSpec", "BoundedTensorSpec")
_NEST_KINDS = ("dict", "list", "tuple", "namedtuple", "none")
_SUPPORTED_LEAVES = "only TensorSpec, BoundedTensorSpec and array spec leaves are supported"
_created_namedtuples: Dict[Tuple[str, Tuple[str, ...]], type] = {}


class SpecJSONError(ValueError):
    """A JSON document that does not follow the schema (the message names the JSON path)."""


# ---- encoding --------------------------------------------------------------------------------


def _json_number(x: Any) -> Any:
    value = x.item() if isinstance(x, np.generic) else x
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _encode_bound(bound: np.ndarray) -> Any:
    bound = np.asarray(bound)
    if bound.size == 0:
        return 0  # no elements: any scalar broadcasts to the (empty) shape
    if np.all(bound == bound.flat[0]):
        return _json_number(bound.flat[0])
    return _nested_list(bound)


def _nested_list(array: np.ndarray) -> Any:
    if array.ndim == 0:
        return _json_number(array[()])
    return [_nested_list(a) for a in array]


def _encode_leaf(spec: Any, path: Tuple[Any, ...]) -> Dict[str, Any]:
    if isinstance(spec, ArraySpec):
        spec = tensor_spec.from_spec(spec)
    if not isinstance(spec, tf.TensorSpec):
        raise TypeError(nest_error_message(
            "spec", path, f"cannot be written to JSON: {_SUPPORTED_LEAVES}, got {spec!r}"))
    shape = None if spec.shape.rank is None else spec.shape.as_list()
    node: Dict[str, Any] = {"kind": "TensorSpec", "shape": shape, "dtype": spec.dtype.name,
                            "name": spec.name}
    if isinstance(spec, tensor_spec.BoundedTensorSpec):
        node["kind"] = "BoundedTensorSpec"
        node["minimum"] = _encode_bound(spec.minimum)
        node["maximum"] = _encode_bound(spec.maximum)
    return node


def _encode(nest: Any, path: Tuple[Any, ...]) -> Dict[str, Any]:
    if nest is None:
        return {"kind": "none"}
    if isinstance(nest, collections.abc.Mapping):
        keys = list(nest)
        for k in keys:
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(nest_error_message(
                    "spec nest", path,
                    f"has the key {k!r}; only str and int dict keys can be written to JSON"))
        return {"kind": "dict", "keys": keys,
                "values": [_encode(nest[k], path + (k,)) for k in keys]}
    if isinstance(nest, tuple) and hasattr(nest, "_fields"):
        return {"kind": "namedtuple", "type": type(nest).__name__, "fields": list(nest._fields),
                "values": [_encode(v, path + (f,)) for f, v in zip(nest._fields, nest)]}
    if isinstance(nest, (list, tuple)):
        return {"kind": "list" if isinstance(nest, list) else "tuple",
                "values": [_encode(v, path + (i,)) for i, v in enumerate(nest)]}
    return _encode_leaf(nest, path)


def encode(nest: NestedTensorSpec) -> Dict[str, Any]:
    """The JSON-ready form (dicts, lists, strings, numbers) of a spec nest.

    Args:
      nest: a nest (dicts, lists, tuples, namedtuples, None) of `TensorSpec`s,
        `BoundedTensorSpec`s or array specs.

    Returns:
      A JSON-serialisable dict following the schema of this module.

    Raises:
      TypeError: a leaf that is not a spec, or a dict key that is not a str or
        int; the message names the nest path.
    """
    return _encode(nest, ())


# ---- decoding --------------------------------------------------------------------------------


def _fail(path: Sequence[Any], message: str) -> SpecJSONError:
    return SpecJSONError(nest_error_message("spec JSON", path, message))


def _field(node: Dict[str, Any], key: str, path: Sequence[Any]) -> Any:
    if key not in node:
        raise _fail(path, f"missing '{key}' in {_short(node)}")
    return node[key]


def _short(node: Any) -> str:
    text = repr(node)
    return text if len(text) < 200 else text[:197] + "..."


def _decode_number(x: Any, path: Sequence[Any]) -> Any:
    if isinstance(x, str):
        if x not in _NON_FINITE:
            raise _fail(path, f"bound {x!r} is not a number nor one of {sorted(_NON_FINITE)}")
        return _NON_FINITE[x]
    if isinstance(x, list):
        return [_decode_number(v, path) for v in x]
    if not isinstance(x, (int, float, bool)):
        raise _fail(path, f"bound {x!r} is not a number")
    return x


def _decode_bound(value: Any, dtype: tf.DType, path: Sequence[Any]) -> np.ndarray:
    try:
        return np.asarray(_decode_number(value, path), dtype.as_numpy_dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise _fail(path, f"bound {_short(value)} does not fit dtype {dtype.name}: {e}") from None


def _decode_leaf(node: Dict[str, Any], path: Tuple[Any, ...]) -> tf.TensorSpec:
    shape = _field(node, "shape", path)
    if shape is not None and not (isinstance(shape, list) and all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
            for d in shape)):
        raise _fail(path, f"shape must be null or a list of non-negative ints and nulls, "
                          f"got {shape!r}")
    dtype_name = _field(node, "dtype", path)
    try:
        dtype = tf.as_dtype(dtype_name)
    except TypeError:
        raise _fail(path, f"unknown dtype {dtype_name!r}") from None
    name = node.get("name")
    if name is not None and not isinstance(name, str):
        raise _fail(path, f"name must be a string or null, got {name!r}")
    if node["kind"] == "TensorSpec":
        return tf.TensorSpec(shape, dtype, name)
    minimum = _decode_bound(_field(node, "minimum", path), dtype, path)
    maximum = _decode_bound(_field(node, "maximum", path), dtype, path)
    try:
        return tensor_spec.BoundedTensorSpec(shape, dtype, minimum, maximum, name)
    except ValueError as e:
        raise _fail(path, str(e)) from None


def _namedtuple_type(name: str, fields: Tuple[str, ...], extra: Iterable[type]) -> type:
    for cls in tuple(extra) + _KNOWN_NAMEDTUPLES:
        if cls.__name__ == name and tuple(cls._fields) == fields:
            return cls
    key = (name, fields)
    if key not in _created_namedtuples:
        _created_namedtuples[key] = collections.namedtuple(name, fields)
    return _created_namedtuples[key]


def _values(node: Dict[str, Any], path: Tuple[Any, ...]) -> List[Any]:
    values = _field(node, "values", path)
    if not isinstance(values, list):
        raise _fail(path, f"'values' must be a list, got {_short(values)}")
    return values


def _decode(node: Any, path: Tuple[Any, ...], extra: Tuple[type, ...]) -> Any:
    if not isinstance(node, dict):
        raise _fail(path, f"expected a JSON object with a 'kind', got {_short(node)}")
    kind = _field(node, "kind", path)
    if kind in _LEAF_KINDS:
        return _decode_leaf(node, path)
    if kind == "none":
        return None
    if kind == "dict":
        keys = _field(node, "keys", path)
        values = _values(node, path)
        if not isinstance(keys, list) or len(keys) != len(values):
            raise _fail(path, f"a dict needs as many 'keys' as 'values', got {_short(node)}")
        return {k: _decode(v, path + (k,), extra) for k, v in zip(keys, values)}
    if kind in ("list", "tuple"):
        items = [_decode(v, path + (i,), extra) for i, v in enumerate(_values(node, path))]
        return items if kind == "list" else tuple(items)
    if kind == "namedtuple":
        type_name = _field(node, "type", path)
        fields = _field(node, "fields", path)
        values = _values(node, path)
        if not isinstance(type_name, str) or not isinstance(fields, list) or len(fields) != len(
                values) or not all(isinstance(f, str) and f.isidentifier() for f in fields):
            raise _fail(path, "a namedtuple needs a 'type' name and as many identifier "
                              f"'fields' as 'values', got {_short(node)}")
        cls = _namedtuple_type(type_name, tuple(fields), extra)
        return cls(*[_decode(v, path + (f,), extra) for f, v in zip(fields, values)])
    raise _fail(path, f"unknown kind {kind!r}; expected one of {list(_LEAF_KINDS + _NEST_KINDS)}")


def decode(document: Any, namedtuple_types: Sequence[type] = ()) -> NestedTensorSpec:
    """The spec nest a JSON document (as `encode` writes it) describes.

    Args:
      document: the parsed JSON (dicts and lists).
      namedtuple_types: extra namedtuple classes to rebuild by type name and
        fields (besides `TimeStep`, `PolicyStep`, `PolicyInfo`, `Trajectory`).

    Returns:
      The nest of `tf.TensorSpec`s and `BoundedTensorSpec`s.

    Raises:
      SpecJSONError: the document does not follow the schema; the message
        names the JSON path and what is wrong.
    """
    return _decode(document, (), tuple(namedtuple_types))
