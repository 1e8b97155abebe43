"""`PyEnvironment`: the numpy-side environment base, with action checks and auto-reset.

An environment hands out `TimeStep`s of numpy arrays. Subclasses implement
`observation_spec`, `action_spec`, `_reset` and `_step`; the base checks
every action against `action_spec()` (structure, dtype, shape and bounds,
with errors naming the nest path) and resets by itself: `step` before the
first `reset`, or right after a LAST step, starts a new episode and returns
its FIRST step (the action is checked, then ignored).

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class Countdown(PyEnvironment):
...     def observation_spec(self):
...         return ArraySpec((), np.int32, name="observation")
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1, name="action")
...     def _reset(self):
...         self._left = 2
...         return ts.restart(np.int32(self._left))
...     def _step(self, action):
...         self._left -= 1
...         if self._left == 0:
...             return ts.termination(np.int32(0), reward=1.0)
...         return ts.transition(np.int32(self._left), reward=0.0)
>>> env = Countdown()
>>> [int(env.step(0).step_type) for _ in range(4)]
[0, 1, 2, 0]
"""

import abc
from typing import Any, Optional, Sequence

import numpy as np
import tree

from specs import array_spec, nest_utils
from specs import NestedArray, NestedArraySpec
from tfpolicy.trajectories import time_step as ts_lib
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["ActionChecker", "PyEnvironment", "check_action"]


def check_action(action: NestedArray, spec: NestedArraySpec,
                 outer_shape: Sequence[int] = (), check_float_bounds: bool = True) -> NestedArray:
    """Checks an action nest against its spec and returns it as numpy arrays.

    Args:
      action: a nest of numpy arrays (or Python numbers for scalar specs of
        their kind) with outer dims `outer_shape`.
      spec: the nest of `ArraySpec`s / `BoundedArraySpec`s it must match.
      outer_shape: the batch dims every leaf must have, `()` when unbatched.
      check_float_bounds: whether float leaves must lie within their bounds
        (`ActionClip` turns this off and clips instead).

    Returns:
      The action with the structure of `spec`, each leaf a numpy array of its
      spec's dtype and shape `outer_shape + spec.shape`.

    Raises:
      TypeError: the structure or a leaf's dtype differs from the spec.
      ValueError: a leaf's shape differs, or a bounded leaf has values outside
        `[minimum, maximum]` (NaN counts as outside); the message names the
        nest path, the spec and the offending values.
    """
    return ActionChecker(spec, outer_shape, check_float_bounds)(action)


def _all_last(step_type: Any) -> bool:
    """Whether every entry of a numpy step type is LAST (runs on every step)."""
    if isinstance(step_type, (np.ndarray, np.generic)):
        return bool((step_type == ts_lib.StepType.LAST).all())
    return bool(np.all(np.equal(step_type, ts_lib.StepType.LAST)))


class ActionChecker:
    """`check_action` for one spec and outer shape, cheap to call every step.

    Structure, dtypes and shapes are checked once per input signature (see
    `specs.nest_utils.NestChecker`); the bounds of every bounded leaf are
    checked on every call, since they depend on the values.

    Args:
      spec, outer_shape, check_float_bounds: as in `check_action`.
    """

    def __init__(self, spec: NestedArraySpec, outer_shape: Sequence[int] = (),
                 check_float_bounds: bool = True):
        self._outer_shape = tuple(outer_shape)
        self._checker = nest_utils.NestChecker(spec, num_outer_dims=len(self._outer_shape),
                                               name="action")
        self._pack = nest_utils.packer(spec)
        self._leaves_spec = spec
        self._leaves = []
        for path, leaf_spec in nest_utils.flatten_with_paths(spec):
            bounded = hasattr(leaf_spec, "minimum") and hasattr(leaf_spec, "maximum")
            is_float = np.issubdtype(leaf_spec.dtype, np.floating)
            check = bounded and (check_float_bounds or not is_float)
            # Uniform bounds as Python numbers: a scalar action (the common
            # case) is then checked with two comparisons instead of ufuncs.
            scalar_bounds = None
            if check:
                low, high = np.asarray(leaf_spec.minimum), np.asarray(leaf_spec.maximum)
                if (low == low.flat[0]).all() and (high == high.flat[0]).all():
                    scalar_bounds = (low.flat[0].item(), high.flat[0].item())
            self._leaves.append((path, leaf_spec, np.dtype(leaf_spec.dtype), check, scalar_bounds))
        self._single = len(self._leaves) == 1 and not tree.is_nested(spec)

    def __call__(self, action: NestedArray) -> NestedArray:
        """The checked action, as numpy arrays of the spec's dtypes (see `check_action`)."""
        try:
            values, _ = self._checker(action, self._outer_shape)
        except TypeError as error:
            # TF-Agents environments take an integer action of another integer
            # dtype (its tutorials step an int64 CartPole with int32 actions).
            action = self._with_integer_dtypes(action, error)
            values, _ = self._checker(action, self._outer_shape)
        converted = [self._checked_leaf(value, leaf) for value, leaf in zip(values, self._leaves)]
        return converted[0] if self._single else self._pack(converted)

    def _with_integer_dtypes(self, action: NestedArray, error: TypeError) -> NestedArray:
        """`action` with integer leaves of other integer dtypes cast to their spec's;
        raises `error` again if that is not what was wrong."""
        try:
            values = tree.flatten_up_to(self._leaves_spec, action, check_types=False)
        except (TypeError, ValueError):
            raise error from None
        converted, changed = [], False
        for value, (path, leaf_spec, dtype, _, _) in zip(values, self._leaves):
            given = np.asarray(value)
            if (given.dtype != dtype and np.issubdtype(given.dtype, np.integer)
                    and np.issubdtype(dtype, np.integer)):
                low, high = array_spec.dtype_range(dtype)
                if given.size and (given.min() < low or given.max() > high):
                    raise ValueError(nest_utils.nest_error_message(
                        "action", path, f"value(s) outside the range of {dtype}",
                        spec=leaf_spec, value=given))
                value, changed = given.astype(dtype), True
            converted.append(value)
        if not changed:
            raise error
        return self._pack(converted)

    @staticmethod
    def _checked_leaf(value: Any, leaf: tuple) -> np.ndarray:
        path, leaf_spec, dtype, check, scalar_bounds = leaf
        array = np.asarray(value, dtype=dtype)
        if not check:
            return array
        if scalar_bounds is not None and array.ndim == 0:
            low, high = scalar_bounds
            if low <= array <= high:  # False for NaN, as it should be
                return array
        inside = (array >= leaf_spec.minimum) & (array <= leaf_spec.maximum)
        if not inside.all():
            bad = np.atleast_1d(array)[np.atleast_1d(~inside)]
            raise ValueError(nest_utils.nest_error_message(
                "action", path,
                f"value(s) {bad.tolist()} outside the bounds [minimum, maximum] of {leaf_spec!r}"))
        return array


class PyEnvironment(abc.ABC):
    """Base class of numpy environments.

    Subclasses implement `observation_spec()`, `action_spec()`, `_reset()`
    and `_step(action)`; they may override `reward_spec()` (default: a
    float32 scalar named 'reward'), `batched`/`batch_size` (default:
    unbatched), `should_reset` and `close()`. `_step` gets an action
    already checked and converted to numpy arrays of the spec's dtypes, and
    is only called inside an episode (never right after a LAST step) unless
    the environment was built with `handle_auto_reset=False`.

    An environment is a context manager: `with env:` closes it on exit.

    A subclass need not call `super().__init__()` (TF-Agents' tutorials
    don't): it then gets the defaults below.

    Optional capabilities are methods a subclass adds when it has them, with
    TF-Agents' names and signatures: `render(mode='rgb_array')`,
    `seed(seed)`, `get_info()`, `get_state()` and `set_state(state)`.
    Wrappers and `TFPyEnvironment` forward them to the environment inside.

    Args:
      auto_reset: if True (the default), `step` before the first `reset` or
        after a LAST step resets and returns the FIRST step. If False, it
        raises `RuntimeError` instead, asking for `reset()`.
      handle_auto_reset: TF-Agents' argument. None (the default) follows
        `auto_reset`; True is `auto_reset=True`; False hands a `step` after a
        LAST step to `_step`, which must start the new episode itself (as
        TF-Agents environments built with `handle_auto_reset=False` do, e.g.
        by returning `self.reset()`). `step` before the first `reset` still
        resets.
    """

    # Class-level defaults, for subclasses whose __init__ skips ours.
    _auto_reset = True
    _step_after_last = False
    _current_time_step: Optional[TimeStep] = None
    _action_checker: Optional[ActionChecker] = None

    def __init__(self, auto_reset: bool = True, handle_auto_reset: Optional[bool] = None):
        self._auto_reset = bool(auto_reset) if handle_auto_reset is None else bool(handle_auto_reset)
        self._step_after_last = handle_auto_reset is not None and not handle_auto_reset
        self._current_time_step = None
        self._action_checker = None

    # -- specs ------------------------------------------------------------

    @abc.abstractmethod
    def observation_spec(self) -> NestedArraySpec:
        """The nest of `ArraySpec`s of one (unbatched) observation."""

    @abc.abstractmethod
    def action_spec(self) -> NestedArraySpec:
        """The nest of (usually bounded) `ArraySpec`s of one (unbatched) action."""

    def reward_spec(self) -> NestedArraySpec:
        """The spec of one reward: a float32 scalar named 'reward' unless overridden."""
        return array_spec.ArraySpec((), np.float32, name="reward")

    def discount_spec(self) -> NestedArraySpec:
        """The spec of one discount: a float32 scalar in [0, 1] named 'discount'."""
        return array_spec.BoundedArraySpec((), np.float32, 0.0, 1.0, name="discount")

    def time_step_spec(self) -> TimeStep:
        """The `TimeStep` of `ArraySpec`s of one (unbatched) time step."""
        return ts_lib.time_step_spec(self.observation_spec(), self.reward_spec())

    @property
    def batched(self) -> bool:
        """Whether time steps and actions carry an outer batch dim."""
        return False

    @property
    def batch_size(self) -> Optional[int]:
        """The batch size `N` of a batched environment; None when unbatched.

        Raises:
          RuntimeError: a subclass made `batched` True without overriding this.
        """
        if self.batched:
            raise RuntimeError(f"{type(self).__name__} is batched but does not override the "
                               "batch_size property")
        return None

    def should_reset(self, current_time_step: TimeStep) -> bool:
        """Whether `step` starts a new episode (ignoring its action) instead of calling `_step`.

        True when auto-reset is on and every entry of `current_time_step` is
        LAST. Override it to reset on another condition.

        Args:
          current_time_step: the last time step returned, batched or not.
        """
        return self._auto_reset and _all_last(current_time_step.step_type)

    # -- stepping ---------------------------------------------------------

    def current_time_step(self) -> Optional[TimeStep]:
        """The last time step returned by `reset` or `step`; None before the first."""
        return self._current_time_step

    def reset(self) -> TimeStep:
        """Starts a new episode and returns its FIRST time step."""
        self._current_time_step = self._reset()
        return self._current_time_step

    def step(self, action: NestedArray) -> TimeStep:
        """Checks `action`, applies it and returns the next time step.

        Args:
          action: a nest matching `action_spec()`, with outer dims
            `[batch_size]` when batched. Python numbers are accepted for
            scalar specs of their kind.

        Returns:
          The next `TimeStep`; the FIRST step of a new episode when called
          before the first `reset` or after a LAST step (the action is then
          ignored).

        Raises:
          TypeError: wrong action structure or dtype (the message names the path).
          ValueError: wrong action shape, or values outside the spec's bounds.
          RuntimeError: a reset is needed and `auto_reset` is False.
        """
        return self.step_unchecked(self._validate_action(action))

    def step_unchecked(self, action: NestedArray) -> TimeStep:
        """`step` without the action check, for an action already checked and converted.

        Wrappers and batched environments check an action once against their
        own spec (equal to this environment's) and pass it on with this, so
        it is not checked again on every level. Resets as `step` does.

        Args:
          action: a nest as `step` returns it from its check: the structure of
            `action_spec()`, numpy arrays of the spec's dtypes and shapes.

        Returns:
          The next `TimeStep`, as from `step`.

        Raises:
          RuntimeError: a reset is needed and `auto_reset` is False.
        """
        current = self._current_time_step
        if current is None:
            if not (self._auto_reset or self._step_after_last):
                raise RuntimeError(
                    "step() called before the first reset on an environment built with "
                    "auto_reset=False; call reset() first")
            return self.reset()
        if self.should_reset(current):
            return self.reset()
        if not (self._auto_reset or self._step_after_last) and _all_last(current.step_type):
            raise RuntimeError(
                "step() called after the last step of an episode on an environment built "
                "with auto_reset=False; call reset() first")
        self._current_time_step = self._step(action)
        return self._current_time_step

    def _validate_action(self, action: NestedArray) -> NestedArray:
        """The action checked against `action_spec()` and converted to numpy."""
        if self._action_checker is None:
            outer = (self.batch_size,) if self.batched else ()
            self._action_checker = ActionChecker(self.action_spec(), outer)
        return self._action_checker(action)

    @abc.abstractmethod
    def _reset(self) -> TimeStep:
        """Starts a new episode; returns its FIRST time step."""

    @abc.abstractmethod
    def _step(self, action: NestedArray) -> TimeStep:
        """Applies a checked action inside an episode; returns the next time step."""

    # -- lifetime ---------------------------------------------------------

    def close(self) -> None:
        """Frees resources held by the environment; does nothing unless overridden."""

    def __enter__(self) -> "PyEnvironment":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()
