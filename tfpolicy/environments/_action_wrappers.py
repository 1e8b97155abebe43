"""Wrappers that change the action space: clipping, discretization, offsets, one-hot."""

from typing import Any

import numpy as np
import tree

from specs import array_spec, nest_utils
from specs import NestedArray, NestedArraySpec
from tfpolicy.environments._wrapper_base import PyEnvironmentBaseWrapper, single_leaf
from tfpolicy.environments.py_environment import ActionChecker, PyEnvironment
from tfpolicy.trajectories.time_step import TimeStep

__all__ = [
    "ActionClip",
    "ActionClipWrapper",
    "ActionDiscretizeWrapper",
    "ActionOffsetWrapper",
    "OneHotActionWrapper",
]


class ActionClip(PyEnvironmentBaseWrapper):
    """Clips float actions into their spec's bounds before the wrapped env sees them.

    Float leaves outside `[minimum, maximum]` are accepted and clipped (NaN
    stays NaN and is rejected, naming its path); integer leaves are still
    checked strictly. `ActionClipWrapper` clips integer leaves too.

    Args:
      env: a `PyEnvironment`.
    """

    _clip_integers = False

    def _validate_action(self, action: NestedArray) -> NestedArray:
        if self._action_checker is None:
            self._build_checkers()
        flat = tree.flatten(self._action_checker(action))
        for index, low, high, dtype in self._clipped_leaves:
            flat[index] = np.clip(flat[index], low, high).astype(dtype)
        clipped = self._pack_action(flat)
        # After clipping only a NaN float can be out of bounds; this check names it.
        if any(np.isnan(flat[index]).any() for index in self._float_clipped):
            self._clipped_checker(clipped)
        return clipped

    def _build_checkers(self) -> None:
        spec = self.action_spec()
        outer = (self.batch_size,) if self.batched else ()
        loose = spec
        if self._clip_integers:
            # Structure, dtype and shape checks only: every bound is clipped to.
            loose = tree.map_structure(
                lambda s: array_spec.ArraySpec(s.shape, s.dtype, s.name), spec)
        self._action_checker = ActionChecker(loose, outer, check_float_bounds=False)
        self._clipped_checker = ActionChecker(spec, outer)
        self._pack_action = nest_utils.packer(spec)
        self._clipped_leaves = [
            (index, leaf.minimum, leaf.maximum, leaf.dtype)
            for index, leaf in enumerate(tree.flatten(spec))
            if array_spec.is_bounded(leaf)
            and (self._clip_integers or np.issubdtype(leaf.dtype, np.floating))]
        self._float_clipped = [index for index, _, _, dtype in self._clipped_leaves
                               if np.issubdtype(dtype, np.floating)]


class ActionClipWrapper(ActionClip):
    """TF-Agents' `ActionClipWrapper`: clips every bounded action leaf into its bounds.

    Unlike `ActionClip`, integer leaves are clipped as well (an action of 7
    for a spec with maximum 3 becomes 3). Structure, dtypes and shapes are
    still checked, and a NaN float is rejected naming its path.

    Args:
      env: a `PyEnvironment`.
    """

    _clip_integers = True


class ActionDiscretizeWrapper(PyEnvironmentBaseWrapper):
    """Turns a continuous action into integers, each picking one of evenly spaced values.

    Element `i` of the wrapped env's action (of shape `S`) gets
    `num_actions[i]` choices, `linspace(minimum[i], maximum[i], num_actions[i])`.
    The new action spec is an int32 `BoundedArraySpec` with bounds
    `[0, num_actions - 1]` and shape `S`, or `()` when `S == (1,)`; it keeps
    the old spec's name. A batched env takes actions of shape `[B] + shape`.

    Args:
      env: a `PyEnvironment` whose action spec is one bounded leaf (possibly
        inside a nest) with finite bounds.
      num_actions: how many choices per element, broadcastable to `S`, each >= 2.

    Raises:
      ValueError: the action spec has several leaves, is unbounded or has
        infinite bounds; `num_actions` does not broadcast to `S` or has an
        entry below 2.
    """

    def __init__(self, env: PyEnvironment, num_actions: Any):
        super().__init__(env)
        spec = single_leaf(env.action_spec(), "action", "ActionDiscretizeWrapper")
        if not array_spec.is_bounded(spec):
            raise ValueError(f"ActionDiscretizeWrapper needs a bounded action spec, got {spec!r}")
        low = np.broadcast_to(spec.minimum, spec.shape).astype(np.float64)
        high = np.broadcast_to(spec.maximum, spec.shape).astype(np.float64)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError(
                f"ActionDiscretizeWrapper needs finite action bounds, got {spec!r}")
        try:
            counts = np.broadcast_to(np.asarray(num_actions), spec.shape)
        except ValueError as e:
            raise ValueError(
                f"ActionDiscretizeWrapper: num_actions of shape {np.shape(num_actions)} does "
                f"not broadcast to the action shape {spec.shape} of {spec!r}") from e
        if not np.all(counts >= 2):
            raise ValueError(f"ActionDiscretizeWrapper: every num_actions entry must be >= 2, "
                             f"got {np.asarray(num_actions).tolist()}")
        counts = counts.astype(np.int64)
        self._inner_spec = spec
        self._pack_inner = nest_utils.packer(env.action_spec())
        self._values = [np.linspace(lo, hi, int(n))
                        for lo, hi, n in zip(low.flat, high.flat, counts.flat)]
        shape = () if spec.shape == (1,) else spec.shape
        maximum = counts.flat[0] - 1 if (counts == counts.flat[0]).all() else counts - 1
        self._discrete_spec = array_spec.BoundedArraySpec(
            shape, np.int32, 0, np.reshape(maximum, () if np.ndim(maximum) == 0 else shape),
            name=spec.name)

    def action_spec(self) -> NestedArraySpec:
        return self._discrete_spec

    def _step(self, action: NestedArray) -> TimeStep:
        spec = self._inner_spec
        outer = (self.batch_size,) if self.batched else ()
        flat = np.reshape(action, outer + (-1,))
        values = np.stack([table[flat[..., i]] for i, table in enumerate(self._values)], axis=-1)
        if np.issubdtype(spec.dtype, np.integer):
            values = np.rint(values)
        continuous = values.reshape(outer + spec.shape).astype(spec.dtype)
        return self._env.step(self._pack_inner([continuous]))


class ActionOffsetWrapper(PyEnvironmentBaseWrapper):
    """Shifts a bounded integer action to start at 0.

    The new spec has bounds `[0, maximum - minimum]` (same shape, dtype and
    name); the wrapped env receives `action + minimum`.

    Args:
      env: a `PyEnvironment` whose action spec is a single bounded integer
        `BoundedArraySpec` (not a nest).

    Raises:
      ValueError: the action spec is a nest, unbounded, or not integer.
    """

    def __init__(self, env: PyEnvironment):
        super().__init__(env)
        spec = env.action_spec()
        if tree.is_nested(spec):
            raise ValueError(f"ActionOffsetWrapper needs a single action spec, not a nest: {spec!r}")
        if not (array_spec.is_bounded(spec) and array_spec.is_discrete(spec)):
            raise ValueError(
                f"ActionOffsetWrapper needs a bounded integer action spec, got {spec!r}")
        self._minimum = spec.minimum
        self._offset_spec = array_spec.BoundedArraySpec(
            spec.shape, spec.dtype, 0, spec.maximum - spec.minimum, name=spec.name)

    def action_spec(self) -> NestedArraySpec:
        return self._offset_spec

    def _step(self, action: NestedArray) -> TimeStep:
        return self._env.step((action + self._minimum).astype(self._offset_spec.dtype))


class OneHotActionWrapper(PyEnvironmentBaseWrapper):
    """Takes integer actions as one-hot vectors.

    Each bounded integer leaf of shape `()` or `[n]` with bounds `[lo, hi]`
    becomes a `BoundedArraySpec` of shape `shape + [hi - lo + 1]` (same dtype,
    bounds [0, 1], named 'one_hot_action_spec'); the wrapped env receives
    `lo + argmax(one_hot, axis=-1)`. Other leaves pass through unchanged.

    Args:
      env: a `PyEnvironment`.

    Raises:
      ValueError: an integer leaf has rank > 1, is unbounded, or has bounds
        that differ between its elements (the message names its path).
    """

    def __init__(self, env: PyEnvironment):
        super().__init__(env)
        self._minimums = []

        def one_hot(path: Any, spec: Any) -> Any:
            if not np.issubdtype(np.dtype(spec.dtype), np.integer):
                self._minimums.append(None)
                return spec
            low = np.asarray(getattr(spec, "minimum", np.nan))
            high = np.asarray(getattr(spec, "maximum", np.nan))
            if (len(spec.shape) > 1 or not array_spec.is_bounded(spec)
                    or not (low == low.flat[0]).all() or not (high == high.flat[0]).all()):
                raise ValueError(nest_utils.nest_error_message(
                    "action", path, "one-hot actions need a bounded integer leaf of rank 0 or 1 "
                    "with the same bounds for every element", spec=spec,
                    owner="OneHotActionWrapper"))
            self._minimums.append(low.flat[0])
            num_actions = int(high.flat[0]) - int(low.flat[0]) + 1
            return array_spec.BoundedArraySpec(tuple(spec.shape) + (num_actions,), spec.dtype,
                                               0, 1, name="one_hot_action_spec")

        self._one_hot_spec = tree.map_structure_with_path(one_hot, env.action_spec())
        self._pack_inner = nest_utils.packer(env.action_spec())

    def action_spec(self) -> NestedArraySpec:
        return self._one_hot_spec

    def _step(self, action: NestedArray) -> TimeStep:
        leaves = [value if low is None else (low + np.argmax(value, axis=-1)).astype(value.dtype)
                  for value, low in zip(tree.flatten(action), self._minimums)]
        return self._env.step(self._pack_inner(leaves))
