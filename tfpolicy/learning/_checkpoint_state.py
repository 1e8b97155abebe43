"""The state in a checkpoint: a tree of JSON nodes whose numpy arrays are stored apart,
by key, in a TensorFlow checkpoint; `StateDecoder` checks the nodes and rebuilds the tree."""

import collections.abc
import math
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import tensorflow as tf

from specs.nest_utils import nest_error_message
from tfpolicy.learning._checkpoint_format import (
    NON_FINITE, NestPath, PolicyCheckpointError, short)

_ARRAY_KEY = "arrays/{}/.ATTRIBUTES/VARIABLE_VALUE"
_ARRAY_KINDS = "biufc"  # bool, signed and unsigned ints, floats, complex


def _non_finite_name(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _check_array_dtype(dtype: np.dtype, path: NestPath) -> None:
    ok = dtype.kind in _ARRAY_KINDS and dtype.isnative
    if ok:
        try:
            ok = np.dtype(tf.as_dtype(dtype).as_numpy_dtype) == dtype
        except TypeError:
            ok = False
    if not ok:
        raise ValueError(nest_error_message(
            "state", path, f"a checkpoint cannot hold an array of dtype {dtype.str} "
                           f"({dtype}): only native-byte-order bool, integer, float and complex "
                           "arrays"))


def encode_state(value: Any, path: NestPath, arrays: List[np.ndarray]) -> Dict[str, Any]:
    if type(value) is np.ndarray or isinstance(value, np.generic):
        _check_array_dtype(value.dtype, path)
        node = {"kind": "ndarray" if isinstance(value, np.ndarray) else "numpy_scalar",
                "key": _ARRAY_KEY.format(len(arrays)), "dtype": value.dtype.name,
                "shape": list(np.shape(value))}
        arrays.append(np.asarray(value))
        return node
    if value is None:
        return {"kind": "none"}
    if type(value) in (bool, int, str):
        return {"kind": type(value).__name__, "value": value}
    if type(value) is float:
        return {"kind": "float",
                "value": value if math.isfinite(value) else _non_finite_name(value)}
    if isinstance(value, collections.abc.Mapping):
        keys = list(value)
        for key in keys:
            if type(key) not in (str, int):
                raise ValueError(nest_error_message(
                    "state", path, f"has the key {key!r} ({type(key).__name__}); a checkpoint "
                                   "holds only str and int dict keys"))
        return {"kind": "dict", "keys": keys,
                "values": [encode_state(value[k], path + (k,), arrays) for k in keys]}
    if type(value) in (list, tuple):
        return {"kind": type(value).__name__,
                "values": [encode_state(v, path + (i,), arrays) for i, v in enumerate(value)]}
    hint = " (convert tensors and variables with .numpy())" if isinstance(
        value, (tf.Tensor, tf.Variable)) else ""
    raise ValueError(nest_error_message(
        "state", path, f"a checkpoint cannot hold a value of type "
                       f"{type(value).__module__}.{type(value).__qualname__}{hint}: only "
                       "dicts, lists, tuples, numpy arrays and scalars, bool, int, float, str "
                       "and None"))


class StateDecoder:
    """Rebuilds the state nest from its JSON nodes.

    A first `decode` without arrays checks every node and collects the array
    nodes (`array_nodes`); after the arrays were read (`set_arrays`), a
    second `decode` builds the state.
    """

    def __init__(self, source: str):
        self._source = source
        self._arrays: Optional[Mapping[str, np.ndarray]] = None
        self.array_nodes: List[Tuple[NestPath, Dict[str, Any]]] = []

    def set_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._arrays = arrays

    def fail(self, path: NestPath, message: str) -> PolicyCheckpointError:
        return PolicyCheckpointError(nest_error_message(f"state in {self._source}", path,
                                                        message))

    def _array(self, node: Dict[str, Any], path: NestPath) -> Any:
        if self._arrays is None:
            shape = node.get("shape")
            if not (isinstance(node.get("key"), str) and isinstance(node.get("dtype"), str)
                    and isinstance(shape, list)
                    and all(type(d) is int and d >= 0 for d in shape)):
                raise self.fail(path, f"an array node needs a 'key', a 'dtype' and a 'shape', "
                                      f"got {short(node)}")
            self.array_nodes.append((path, node))
            return None
        array = self._arrays[node["key"]]
        if node["kind"] == "numpy_scalar":
            return array[()]
        return array if array.flags.writeable else array.copy()

    def decode(self, node: Any, path: NestPath) -> Any:
        kind = node.get("kind") if isinstance(node, dict) else None
        if kind in ("ndarray", "numpy_scalar"):
            return self._array(node, path)
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            value = node.get("value")
            if type(value).__name__ != kind:
                raise self.fail(path, f"a {kind} node holds {short(value)}")
            return value
        if kind == "float":
            value = node.get("value")
            if value in NON_FINITE:
                return NON_FINITE[value]
            if type(value) not in (int, float):
                raise self.fail(path, f"a float node holds {short(value)}")
            return float(value)
        if kind == "dict":
            keys, values = node.get("keys"), node.get("values")
            if not (isinstance(keys, list) and isinstance(values, list)
                    and len(keys) == len(values)
                    and all(type(k) in (str, int) for k in keys)):
                raise self.fail(path, f"a dict node needs as many str or int 'keys' as "
                                      f"'values', got {short(node)}")
            return {k: self.decode(v, path + (k,)) for k, v in zip(keys, values)}
        if kind in ("list", "tuple"):
            values = node.get("values")
            if not isinstance(values, list):
                raise self.fail(path, f"a {kind} node needs a list of 'values'")
            items = [self.decode(v, path + (i,)) for i, v in enumerate(values)]
            return items if kind == "list" else tuple(items)
        raise self.fail(path, f"unknown node {short(node)}")
