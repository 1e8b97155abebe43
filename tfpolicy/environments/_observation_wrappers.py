"""Wrappers that change the observations: flattening, filtering, histories."""

import collections
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import tree

from specs import array_spec, nest_utils
from specs import NestedArray, NestedArraySpec
from tfpolicy.environments._wrapper_base import PyEnvironmentBaseWrapper, require_unbatched
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories.time_step import TimeStep

__all__ = [
    "FlattenObservation",
    "FlattenObservationsWrapper",
    "ObservationFilterWrapper",
    "HistoryWrapper",
]


class FlattenObservation(PyEnvironmentBaseWrapper):
    """Concatenates a nest of observations into one float32 vector.

    Leaves are taken in `tree.flatten` order (dict keys sorted), each
    flattened, cast to float32 and concatenated. The new spec is a
    `BoundedArraySpec` of shape `[total size]` named 'observation' whose
    bounds are the leaves' bounds (±inf for unbounded leaves), or an
    `ArraySpec` when no leaf is bounded. A batched env keeps its outer dim.

    Args:
      env: a `PyEnvironment` whose observation leaves have bool, integer or
        float dtypes.

    Raises:
      TypeError: a leaf has another dtype (the message names its path).
    """

    def __init__(self, env: PyEnvironment):
        super().__init__(env)
        leaves = nest_utils.flatten_with_paths(env.observation_spec())
        lows, highs, bounded = [], [], False
        for path, spec in leaves:
            dtype = np.dtype(spec.dtype)
            if not (dtype == np.bool_ or np.issubdtype(dtype, np.integer)
                    or np.issubdtype(dtype, np.floating)):
                raise TypeError(nest_utils.nest_error_message(
                    "observation", path,
                    f"dtype {dtype} does not convert to float32: {spec!r}",
                    owner="FlattenObservation"))
            size = int(np.prod(spec.shape, dtype=np.int64))
            if array_spec.is_bounded(spec):
                bounded = True
                lows.append(np.asarray(spec.minimum, np.float32).reshape(-1))
                highs.append(np.asarray(spec.maximum, np.float32).reshape(-1))
            else:
                lows.append(np.full(size, -np.inf, np.float32))
                highs.append(np.full(size, np.inf, np.float32))
        size = int(sum(low.size for low in lows))
        if bounded:
            self._flat_spec: Any = array_spec.BoundedArraySpec(
                (size,), np.float32, np.concatenate(lows), np.concatenate(highs),
                name="observation")
        else:
            self._flat_spec = array_spec.ArraySpec((size,), np.float32, name="observation")

    def observation_spec(self) -> NestedArraySpec:
        return self._flat_spec

    def _flatten(self, time_step: TimeStep) -> TimeStep:
        return time_step._replace(
            observation=_concatenated(time_step.observation, np.float32, self))

    def _reset(self) -> TimeStep:
        return self._flatten(self._env.reset())

    def _step(self, action: NestedArray) -> TimeStep:
        return self._flatten(self._env.step_unchecked(action))


class FlattenObservationsWrapper(PyEnvironmentBaseWrapper):
    """TF-Agents' flattening: concatenates the observation leaves, keeping their common dtype.

    Leaves are taken in `tree.flatten` order (dict keys sorted), each
    reshaped to one dim and concatenated. The new spec is an unbounded
    `ArraySpec` of shape `[total size]` and the leaves' dtype, named
    'packed_observations'; bounds are dropped. A batched env keeps its outer
    dim. (`FlattenObservation` instead casts to float32 and keeps bounds.)

    Args:
      env: a `PyEnvironment` whose observation leaves share one dtype.
      observations_allowlist: keys of a dict observation to keep; the others
        are dropped. None keeps every leaf.
      observations_whitelist: the older name of `observations_allowlist`.

    Raises:
      ValueError: an allowlist is given for a non-dict observation or names
        unknown keys; both allowlist names are given; the (kept) leaves have
        different dtypes.
    """

    def __init__(self, env: PyEnvironment, observations_allowlist: Optional[Sequence[str]] = None,
                 observations_whitelist: Optional[Sequence[str]] = None):
        super().__init__(env)
        if observations_allowlist is not None and observations_whitelist is not None:
            raise ValueError("FlattenObservationsWrapper: give observations_allowlist or "
                             "observations_whitelist, not both")
        keys = observations_allowlist if observations_allowlist is not None else observations_whitelist
        spec = env.observation_spec()
        if keys is not None:
            if not isinstance(spec, Mapping):
                raise ValueError(
                    f"FlattenObservationsWrapper: an observations allowlist needs a dict "
                    f"observation spec, got {type(spec).__name__}: {spec!r}")
            unknown = [k for k in keys if k not in spec]
            if unknown:
                raise ValueError(f"FlattenObservationsWrapper: the allowlist names unknown "
                                 f"keys {unknown}; the observation has keys {list(spec)}")
            keys = list(keys)
        self._keys = keys
        spec = self._filter(spec)
        leaves = nest_utils.flatten_with_paths(spec)
        dtypes = {np.dtype(leaf.dtype) for _, leaf in leaves}
        if len(dtypes) != 1:
            listed = ", ".join(f"'{path}': {np.dtype(leaf.dtype)}" for path, leaf in leaves)
            raise ValueError("FlattenObservationsWrapper: the observation leaves must share one "
                             f"dtype, got {listed}")
        self._dtype = dtypes.pop()
        size = sum(int(np.prod(leaf.shape, dtype=np.int64)) for _, leaf in leaves)
        self._packed_spec = array_spec.ArraySpec((size,), self._dtype, name="packed_observations")

    def observation_spec(self) -> NestedArraySpec:
        return self._packed_spec

    def _filter(self, observation: Any) -> Any:
        if self._keys is None:
            return observation
        return {key: observation[key] for key in self._keys}

    def _pack(self, time_step: TimeStep) -> TimeStep:
        return time_step._replace(
            observation=_concatenated(self._filter(time_step.observation), self._dtype, self))

    def _reset(self) -> TimeStep:
        return self._pack(self._env.reset())

    def _step(self, action: NestedArray) -> TimeStep:
        return self._pack(self._env.step_unchecked(action))


def _concatenated(observation: NestedArray, dtype: Any, env: PyEnvironment) -> np.ndarray:
    """The observation's leaves (in `tree.flatten` order) cast to `dtype` and concatenated
    into one vector per batch entry of `env`."""
    outer = (env.batch_size,) if env.batched else ()
    parts = [np.reshape(np.asarray(leaf, dtype), outer + (-1,)) for leaf in tree.flatten(observation)]
    return np.concatenate(parts, axis=-1)


class ObservationFilterWrapper(PyEnvironmentBaseWrapper):
    """Keeps the entries `idx` of the observation's first (non-batch) dim.

    The new spec is the old one with first dim `len(idx)` (bounds indexed
    alike). A batched env keeps its outer dim.

    Args:
      env: a `PyEnvironment` whose observation spec is a single array spec
        of rank >= 1.
      idx: a non-empty 1-D sequence of integer indexes into the first dim
        (negative ones count from the end).

    Raises:
      ValueError: the observation spec is a nest or a scalar; `idx` is not a
        non-empty 1-D integer sequence, or an index is out of range.
    """

    def __init__(self, env: PyEnvironment, idx: Union[Sequence[int], np.ndarray]):
        super().__init__(env)
        spec = env.observation_spec()
        if tree.is_nested(spec) or len(spec.shape) == 0:
            raise ValueError("ObservationFilterWrapper needs a single observation spec of rank "
                             f">= 1, got {spec!r}")
        idx = np.asarray(idx)
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError("ObservationFilterWrapper: idx must be a non-empty 1-D sequence of "
                             f"integers, got {idx.tolist()!r}")
        n = spec.shape[0]
        if np.any(idx >= n) or np.any(idx < -n):
            raise ValueError(f"ObservationFilterWrapper: indexes {idx.tolist()} out of range for "
                             f"the observation's first dim {n}: {spec!r}")
        self._idx = idx
        shape = (idx.size,) + tuple(spec.shape[1:])
        if array_spec.is_bounded(spec):
            self._filtered_spec: Any = array_spec.BoundedArraySpec(
                shape, spec.dtype, np.broadcast_to(spec.minimum, spec.shape)[idx],
                np.broadcast_to(spec.maximum, spec.shape)[idx], name=spec.name)
        else:
            self._filtered_spec = array_spec.ArraySpec(shape, spec.dtype, name=spec.name)

    def observation_spec(self) -> NestedArraySpec:
        return self._filtered_spec

    def _filter(self, time_step: TimeStep) -> TimeStep:
        axis = 1 if self.batched else 0
        return time_step._replace(
            observation=np.take(np.asarray(time_step.observation), self._idx, axis=axis))

    def _reset(self) -> TimeStep:
        return self._filter(self._env.reset())

    def _step(self, action: NestedArray) -> TimeStep:
        return self._filter(self._env.step_unchecked(action))


class HistoryWrapper(PyEnvironmentBaseWrapper):
    """Replaces the observation by the last `history_length` observations (and actions).

    Each observation leaf of shape `S` becomes `[history_length] + S`,
    oldest first, the current observation last. At the FIRST step the older
    entries are zeros, or copies of the first observation with
    `tile_first_step_obs`. With `include_actions` the observation is
    `{'observation': <history>, 'action': <history of the actions that led
    to each step>}`; the action entry of a FIRST step is zeros.

    Args:
      env: an unbatched `PyEnvironment`.
      history_length: how many steps to keep, >= 1.
      include_actions: whether to add the action history.
      tile_first_step_obs: fill the history at a FIRST step with its observation.

    Raises:
      ValueError: `history_length < 1`, or `env` is batched.
    """

    def __init__(self, env: PyEnvironment, history_length: int = 3,
                 include_actions: bool = False, tile_first_step_obs: bool = False):
        super().__init__(env)
        require_unbatched(env, "HistoryWrapper")
        if int(history_length) < 1:
            raise ValueError(f"HistoryWrapper: history_length must be >= 1, got {history_length!r}")
        self._history_length = int(history_length)
        self._include_actions = bool(include_actions)
        self._tile_first_step_obs = bool(tile_first_step_obs)
        self._zero_observation = array_spec.zero_spec_nest(env.observation_spec())
        self._zero_action = array_spec.zero_spec_nest(env.action_spec())
        self._observations: collections.deque = collections.deque(maxlen=self._history_length)
        self._actions: collections.deque = collections.deque(maxlen=self._history_length)

        def longer(spec: Any) -> Any:
            return spec.replace(shape=(self._history_length,) + tuple(spec.shape))

        observation_spec = tree.map_structure(longer, env.observation_spec())
        if self._include_actions:
            observation_spec = {"observation": observation_spec,
                                "action": tree.map_structure(longer, env.action_spec())}
        self._history_spec = observation_spec

    def observation_spec(self) -> NestedArraySpec:
        return self._history_spec

    def _with_history(self, time_step: TimeStep, action: NestedArray) -> TimeStep:
        self._observations.append(time_step.observation)
        self._actions.append(action)
        observation = _stack_nests(self._observations)
        if self._include_actions:
            observation = {"observation": observation, "action": _stack_nests(self._actions)}
        return time_step._replace(observation=observation)

    def _reset(self) -> TimeStep:
        time_step = self._env.reset()
        fill = (tree.map_structure(np.copy, time_step.observation) if self._tile_first_step_obs
                else self._zero_observation)
        self._observations.extend([fill] * (self._history_length - 1))
        self._actions.extend([self._zero_action] * (self._history_length - 1))
        return self._with_history(time_step, self._zero_action)

    def _step(self, action: NestedArray) -> TimeStep:
        return self._with_history(self._env.step_unchecked(action), action)


def _stack_nests(nests: Sequence[NestedArray]) -> NestedArray:
    return tree.map_structure(lambda *leaves: np.stack(leaves), *nests)
