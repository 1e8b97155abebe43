"""The config in a checkpoint: JSON with markers for tuples, non-finite floats and
classes or functions, which are stored by import path (`"module:qualname"`)."""

import collections.abc
import importlib
import math
from typing import Any

import numpy as np

from specs.nest_utils import nest_error_message
from tfpolicy.learning._checkpoint_format import (
    NON_FINITE, NestPath, PolicyCheckpointError, short)

_CALLABLE, _TUPLE, _FLOAT = "__callable__", "__tuple__", "__float__"
_MARKERS = (_CALLABLE, _TUPLE, _FLOAT)


def import_path(obj: Any) -> str:
    """The `"module:qualname"` that `resolve` imports `obj` back by."""
    return f"{obj.__module__}:{obj.__qualname__}"


def resolve(name: str, what: str) -> Any:
    """The object at `"module:qualname"`; ImportError naming `what` when there is none."""
    module_name, sep, qualname = name.partition(":") if isinstance(name, str) else ("", "", "")
    if not (sep and module_name and qualname):
        raise ImportError(f"cannot import {what} {name!r}: expected a 'module:qualname' string")
    if "<locals>" in qualname.split("."):
        raise ImportError(
            f"cannot import {what} {name!r}: it was defined inside a function, so no module "
            "holds it; define it at module level")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise ImportError(f"cannot import {what} {name!r}: importing module {module_name!r} "
                          f"failed ({type(e).__name__}: {e})") from e
    for i, part in enumerate(qualname.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            owner = ".".join([module_name] + qualname.split(".")[:i])
            raise ImportError(f"cannot import {what} {name!r}: {owner} has no attribute "
                              f"{part!r}") from None
    return obj


def encode_config(value: Any, path: NestPath) -> Any:
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        return {_FLOAT: "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if type(value) is list:
        return [encode_config(v, path + (i,)) for i, v in enumerate(value)]
    if type(value) is tuple:
        return {_TUPLE: [encode_config(v, path + (i,)) for i, v in enumerate(value)]}
    if isinstance(value, collections.abc.Mapping):
        encoded = {}
        for key, item in value.items():
            if type(key) is not str:
                raise ValueError(nest_error_message(
                    "config", path, f"has the key {key!r} ({type(key).__name__}); a checkpoint "
                                    "holds only string keys in the config"))
            if key in _MARKERS:
                raise ValueError(nest_error_message(
                    "config", path, f"has the key {key!r}, which checkpoints reserve "
                                    f"(one of {list(_MARKERS)})"))
            encoded[key] = encode_config(item, path + (key,))
        return encoded
    if isinstance(value, type) or callable(value):
        return {_CALLABLE: _callable_name(value, path)}
    hint = " (use .item() or .tolist() for a JSON value)" if isinstance(
        value, (np.ndarray, np.generic)) else ""
    raise ValueError(nest_error_message(
        "config", path, f"a checkpoint cannot hold a value of type "
                        f"{type(value).__module__}.{type(value).__qualname__} ({short(value)})"
                        f"{hint}: only JSON values (dict with str keys, list, tuple, str, int, "
                        "float, bool, None), classes and module-level functions"))


def _callable_name(value: Any, path: NestPath) -> str:
    """The import path of a class or function, checked to import back to `value` itself."""
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    kind = "class" if isinstance(value, type) else type(value).__name__
    if not (isinstance(module, str) and isinstance(qualname, str)):
        reason = "it has no module-level name to import it by"
    elif qualname == "<lambda>" or qualname.endswith(".<lambda>"):
        reason = "a lambda has no name to import it by; define a module-level function"
    else:
        name = f"{module}:{qualname}"
        try:
            if resolve(name, "the callable") is value:
                return name
            reason = f"importing {name!r} gives another object"
        except ImportError as e:
            reason = str(e)
    raise ValueError(nest_error_message(
        "config", path, f"a checkpoint stores classes and functions by import path, and this "
                        f"{kind} ({short(value)}) cannot be stored: {reason}"))


def decode_config(value: Any, path: NestPath, source: str) -> Any:
    if isinstance(value, list):
        return [decode_config(v, path + (i,), source) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and next(iter(value)) in _MARKERS:
        marker, inner = next(iter(value.items()))
        if marker == _TUPLE and isinstance(inner, list):
            return tuple(decode_config(v, path + (i,), source) for i, v in enumerate(inner))
        if marker == _FLOAT and inner in NON_FINITE:
            return NON_FINITE[inner]
        if marker == _CALLABLE and isinstance(inner, str):
            try:
                return resolve(inner, "the callable")
            except ImportError as e:
                raise ImportError(nest_error_message(
                    f"config of the checkpoint {source}", path, str(e))) from None
        raise PolicyCheckpointError(nest_error_message(
            f"config in {source}", path, f"malformed {marker} entry {short(inner)}"))
    return {k: decode_config(v, path + (k,), source) for k, v in value.items()}
