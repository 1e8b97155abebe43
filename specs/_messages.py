"""The wording of every error about a place in a nest: one helper, one root spelling.

Re-exported by `specs.nest_utils`, the public home of these names.

>>> nest_error_message("obs", ("pos",), "shape mismatch", spec=ArraySpec((2,), np.float32),
...                    value=np.zeros(3, np.float32))
"obs at 'pos': shape mismatch: expected ArraySpec(shape=(2,), dtype=dtype('float32'), name=None), got a value with dtype float32 and shape (3,)"
"""

import collections.abc
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from specs.array_spec import ArraySpec  # noqa: F401  (doctest namespace)

__all__ = ["ROOT_PATH", "path_to_str", "nest_error_message", "spec_mismatch_message",
           "describe_value", "dtype_and_shape", "dtype_name", "kind"]

# How every error message spells the path of a whole nest (the empty path).
ROOT_PATH = "<root>"
# `nest_error_message`'s second part when the value is a leaf.
_GOT_LEAF = "a value with dtype {dtype} and shape {shape}"
_UNSET = object()


def path_to_str(path: Union[str, Sequence[Any]]) -> str:
    """Formats a dm-tree path as `observation/vel`; the empty path is `<root>`.

    A string is taken as already formatted (the empty string is the root).
    """
    if isinstance(path, str):
        return path or ROOT_PATH
    return "/".join(str(p) for p in path) if path else ROOT_PATH


def nest_error_message(what: str, path: Union[str, Sequence[Any]], reason: str, *,
                       owner: Optional[str] = None, spec: Any = _UNSET,
                       value: Any = _UNSET) -> str:
    """The one wording of every error about a place in a nest.

    `Owner: what at 'path': reason: expected <spec>, got <value's dtype and shape>`;
    the owner, the expected spec and the value are each optional. The path is
    a dm-tree path or an already formatted one; the root is `<root>`.

    >>> nest_error_message("action", ("move",), "out of bounds", owner="PyEnvironment",
    ...                    spec=ArraySpec((), np.int32), value=np.int32(7))
    "PyEnvironment: action at 'move': out of bounds: expected ArraySpec(shape=(), dtype=dtype('int32'), name=None), got a value with dtype int32 and shape ()"
    >>> nest_error_message("spec", (), "cannot be written to JSON")
    "spec at '<root>': cannot be written to JSON"
    """
    message = f"{what} at '{path_to_str(path)}': {reason}"
    if spec is not _UNSET and value is not _UNSET:
        message += f": expected {spec!r}, got {describe_value(value)}"
    elif spec is not _UNSET:
        message += f": expected {spec!r}"
    elif value is not _UNSET:
        message += f": got {describe_value(value)}"
    return f"{owner}: {message}" if owner else message


def spec_mismatch_message(name: str, path: Union[str, Sequence[Any]], reason: str, spec: Any,
                          value: Any) -> str:
    """A leaf that does not match its spec: `nest_error_message` with both sides."""
    return nest_error_message(name, path, reason, spec=spec, value=value)


def kind(x: Any) -> str:
    """"mapping", "sequence", "attrs" or "leaf": how the nest checks see `x`."""
    if isinstance(x, collections.abc.Mapping):
        return "mapping"
    if isinstance(x, (list, tuple)):
        return "sequence"
    if hasattr(x, "__attrs_attrs__"):
        return "attrs"
    return "leaf"


def describe_value(value: Any) -> str:
    """What an error shows of a value: its dtype and shape for a leaf, its
    container kind and keys or length for a nest."""
    if kind(value) == "leaf" and value is not None:
        dtype, shape = dtype_and_shape(value)
        return _GOT_LEAF.format(dtype=dtype_name(dtype), shape=_shape_str(shape))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return f"{type(value).__name__} with fields {list(value._fields)}"
    if isinstance(value, collections.abc.Mapping):
        return f"a mapping with keys {sorted(value, key=str)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return repr(value)


def dtype_and_shape(value: Any) -> Tuple[Any, Optional[tuple]]:
    """The value's dtype and static shape; shape None when its rank is unknown."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return value.dtype, value.shape
    if isinstance(value, (tf.Tensor, tf.Variable)) or hasattr(value, "dtype") and hasattr(value, "shape"):
        shape = value.shape
        if isinstance(shape, tf.TensorShape):
            shape = None if shape.rank is None else tuple(shape.as_list())
        return value.dtype, (None if shape is None else tuple(shape))
    if isinstance(value, (bool, int, float)):
        return type(value), ()
    return None, None


def dtype_name(dtype: Any) -> str:
    """A dtype as errors spell it (`float32`, `python int`, `<none>` for no dtype)."""
    if dtype is None:
        return "<none>"
    if isinstance(dtype, type) and dtype in (bool, int, float):
        return f"python {dtype.__name__}"
    return getattr(dtype, "name", str(dtype))


def _shape_str(shape: Optional[tuple]) -> str:
    return "<unknown rank>" if shape is None else str(tuple(shape))
