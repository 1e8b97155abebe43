"""Observation and action spaces in a checkpoint: gymnasium spaces and spec nests, each
written as spec JSON plus what each leaf was, and rebuilt as what it was."""

import collections.abc
import sys
from typing import Any, Callable, Dict, Iterator, List, Tuple

import numpy as np
import tensorflow as tf

from savers import spec_json
from specs import spaces as spec_spaces
from specs import tensor_spec
from specs.array_spec import ArraySpec
from specs.nest_utils import nest_error_message
from tfpolicy.learning._checkpoint_format import NestPath, PolicyCheckpointError, short

_GYM_LEAVES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary")


def _loaded_gym_spaces() -> Any:
    """gymnasium's `spaces` when gymnasium is already imported, else None: a space
    can only be a gymnasium object if its module was imported, so never import it."""
    gymnasium = sys.modules.get("gymnasium")
    return None if gymnasium is None else gymnasium.spaces


def _walk(nest: Any, path: NestPath) -> Iterator[Tuple[NestPath, Any]]:
    """`(path, leaf)` of a spec nest, depth first in the nest's own order."""
    if nest is None:
        return
    if isinstance(nest, collections.abc.Mapping):
        for key, value in nest.items():
            yield from _walk(value, path + (key,))
    elif isinstance(nest, tuple) and hasattr(nest, "_fields"):
        for field, value in zip(nest._fields, nest):
            yield from _walk(value, path + (field,))
    elif isinstance(nest, (list, tuple)):
        for i, value in enumerate(nest):
            yield from _walk(value, path + (i,))
    else:
        yield path, nest


def _map_leaves(fn: Callable[[Any], Any], nest: Any) -> Any:
    """`nest` with each leaf replaced by `fn(leaf)`, called in `_walk`'s order."""
    if nest is None:
        return None
    if isinstance(nest, collections.abc.Mapping):
        return {key: _map_leaves(fn, value) for key, value in nest.items()}
    if isinstance(nest, tuple) and hasattr(nest, "_fields"):
        return type(nest)(*[_map_leaves(fn, value) for value in nest])
    if isinstance(nest, (list, tuple)):
        return type(nest)(_map_leaves(fn, value) for value in nest)
    return fn(nest)


def _gym_leaves(gym_spaces: Any, space: Any, path: NestPath, out: List[Dict[str, Any]],
                what: str) -> None:
    if type(space) is gym_spaces.Dict:
        for key, sub in space.spaces.items():
            _gym_leaves(gym_spaces, sub, path + (key,), out, what)
        return
    if type(space) is gym_spaces.Tuple:
        for i, sub in enumerate(space.spaces):
            _gym_leaves(gym_spaces, sub, path + (i,), out, what)
        return
    name = type(space).__name__
    if name not in _GYM_LEAVES or type(space) is not getattr(gym_spaces, name):
        raise ValueError(nest_error_message(
            what, path, f"a checkpoint cannot hold a {type(space).__module__}.{name} space; "
                        f"it holds gymnasium's Dict, Tuple, {', '.join(_GYM_LEAVES)} and "
                        "spec nests"))
    leaf: Dict[str, Any] = {"class": name}
    if name == "MultiBinary":
        leaf["n"] = space.n if isinstance(space.n, int) else [int(n) for n in space.n]
    out.append(leaf)


def encode_space(space: Any, what: str) -> Dict[str, Any]:
    gym_spaces = _loaded_gym_spaces()
    if gym_spaces is not None and isinstance(space, gym_spaces.Space):
        leaves: List[Dict[str, Any]] = []
        _gym_leaves(gym_spaces, space, (), leaves, what)
        spec = spec_spaces.from_space(space)
        return {"kind": "gymnasium", "spec": spec_json.encode(spec), "leaves": leaves}
    kinds = []
    for path, leaf in _walk(space, ()):
        if isinstance(leaf, ArraySpec):
            kinds.append("array")
        elif isinstance(leaf, tf.TensorSpec):
            kinds.append("tensor")
        else:
            raise ValueError(nest_error_message(
                what, path, f"expected a gymnasium space or a nest of specs, got "
                            f"{type(leaf).__name__}: {leaf!r}"))
    try:
        spec = spec_json.encode(space)
    except TypeError as e:
        raise ValueError(f"{what}: {e}") from None
    return {"kind": "spec_nest", "spec": spec, "leaves": kinds}


def _gym_leaf(gym_spaces: Any, spec: tf.TensorSpec, record: Any) -> Any:
    cls = record.get("class") if isinstance(record, dict) else None
    dtype = np.dtype(spec.dtype.as_numpy_dtype)
    shape = tuple(spec.shape.as_list())
    if cls not in _GYM_LEAVES or not isinstance(spec, tensor_spec.BoundedTensorSpec):
        raise ValueError(f"a gymnasium leaf {record!r} over {spec!r}")
    low = np.array(np.broadcast_to(np.asarray(spec.minimum, dtype), shape))
    high = np.array(np.broadcast_to(np.asarray(spec.maximum, dtype), shape))
    if cls == "Box":
        return gym_spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    if cls == "Discrete":
        return gym_spaces.Discrete(int(high) - int(low) + 1, start=int(low), dtype=dtype)
    if cls == "MultiDiscrete":
        nvec = (high.astype(object) - low.astype(object) + 1).astype(dtype)
        return gym_spaces.MultiDiscrete(nvec, dtype=dtype, start=low)
    n = record.get("n")
    return gym_spaces.MultiBinary(n if isinstance(n, int) else tuple(n))


def _gym_space(gym_spaces: Any, spec: Any, leaves: Iterator[Any]) -> Any:
    if isinstance(spec, dict):
        return gym_spaces.Dict([(k, _gym_space(gym_spaces, v, leaves)) for k, v in spec.items()])
    if isinstance(spec, tuple):
        return gym_spaces.Tuple([_gym_space(gym_spaces, v, leaves) for v in spec])
    return _gym_leaf(gym_spaces, spec, next(leaves))


def decode_space(node: Any, source: str) -> Any:
    if not isinstance(node, dict) or node.get("kind") not in ("gymnasium", "spec_nest"):
        raise PolicyCheckpointError(f"{source}: expected an object with 'kind' 'gymnasium' "
                                    f"or 'spec_nest', got {short(node)}")
    try:
        spec = spec_json.decode(node.get("spec"))
    except spec_json.SpecJSONError as e:
        raise PolicyCheckpointError(f"{source}: {e}") from None
    leaves = node.get("leaves")
    count = sum(1 for _ in _walk(spec, ()))
    if not isinstance(leaves, list) or len(leaves) != count:
        raise PolicyCheckpointError(f"{source}: 'leaves' must list the {count} leaves of the "
                                    f"spec, got {short(leaves)}")
    if node["kind"] == "spec_nest":
        if any(kind not in ("array", "tensor") for kind in leaves):
            raise PolicyCheckpointError(f"{source}: 'leaves' must be 'array' or 'tensor', got "
                                        f"{short(leaves)}")
        kinds = iter(leaves)
        return _map_leaves(
            lambda leaf: tensor_spec.to_array_spec(leaf) if next(kinds) == "array" else leaf,
            spec)
    import gymnasium  # here, not at the top: only gymnasium spaces need it
    try:
        return _gym_space(gymnasium.spaces, spec, iter(leaves))
    except (ValueError, TypeError, AttributeError) as e:
        raise PolicyCheckpointError(f"{source}: cannot rebuild the gymnasium space "
                                    f"({type(e).__name__}: {e})") from None
