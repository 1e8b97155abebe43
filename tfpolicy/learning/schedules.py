"""Schedules of a hyperparameter over the global timestep (RLlib's `PiecewiseSchedule`).

A schedule maps a timestep `t` to a value; the learning-rate and entropy
mixins read one at every global-variable update.

>>> schedule = PiecewiseSchedule([(0, 20.0), (500, 30.0)], outside_value=30.0)
>>> schedule.value(400)
28.0
>>> schedule.value(10_000)
30.0
>>> ConstantSchedule(0.5)(123)
0.5
"""

import abc
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["ConstantSchedule", "PiecewiseSchedule", "Schedule", "linear"]

Interpolation = Callable[[float, float, float], float]


def linear(left: float, right: float, alpha: float) -> float:
    """Linear interpolation `left + alpha * (right - left)`, `alpha` in `[0, 1)`.

    >>> linear(2.0, 4.0, 0.25)
    2.5
    """
    return left + alpha * (right - left)


def _as_timestep(t: Any) -> Any:
    """`t` as a Python number; numpy scalars, 0-d arrays and scalar tensors are accepted."""
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return t
    array = np.asarray(t)
    if array.shape != () or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"a schedule's timestep must be a number, got {t!r}")
    return array.item()


class Schedule(abc.ABC):
    """A value as a function of the timestep; `schedule(t)` is `schedule.value(t)`."""

    @abc.abstractmethod
    def value(self, t: Any) -> float:
        """The value at timestep `t`."""

    def __call__(self, t: Any) -> float:
        return self.value(t)


class ConstantSchedule(Schedule):
    """The same value at every timestep.

    Args:
      value: the value.
      framework: accepted for RLlib compatibility; tfpolicy schedules always
        return Python floats (the mixins assign them to variables).
    """

    def __init__(self, value: float, *, framework: Optional[str] = None):
        del framework
        self._v = float(value)

    def value(self, t: Any) -> float:
        _as_timestep(t)
        return self._v


class PiecewiseSchedule(Schedule):
    """A value interpolated between `(t_i, v_i)` endpoints.

    With endpoints sorted by time, `value(t)` finds the first neighbouring
    pair with `l_t <= t < r_t` and returns

        interpolation(l, r, (t - l_t) / (r_t - l_t))

    (for `linear`, `l + (t - l_t) / (r_t - l_t) * (r - l)`). Any other `t`,
    before the first endpoint or at or after the last one, gets
    `outside_value`. Note that RLlib's mixins pass the *last* value as
    `outside_value`, so a `t` before the first endpoint gets the last value
    too.

    >>> s = PiecewiseSchedule([(0, 1.0), (10, 0.0), (20, 0.5)], outside_value=0.5)
    >>> s.value(5), s.value(15), s.value(20), s.value(-1)
    (0.5, 0.25, 0.5, 0.5)

    Args:
      endpoints: `(t, value)` pairs, times ascending (ties allowed: a piece
        of zero length is never selected). Times are truncated to int, values
        converted to float, as RLlib does.
      interpolation: `f(left, right, alpha) -> value`; `linear` by default.
      outside_value: the value outside the endpoints' range; None makes
        such a `t` an error.
      framework: accepted for RLlib compatibility; values are always Python
        floats.

    Raises:
      ValueError: no endpoints, an endpoint that is not a `(t, value)` pair,
        or times not in ascending order.
    """

    def __init__(self, endpoints: Sequence[Sequence[float]],
                 interpolation: Interpolation = linear,
                 outside_value: Optional[float] = None, *,
                 framework: Optional[str] = None):
        del framework
        endpoints = list(endpoints)
        if not endpoints:
            raise ValueError("PiecewiseSchedule needs at least one (t, value) endpoint")
        for e in endpoints:
            if isinstance(e, (str, bytes)) or not hasattr(e, "__len__") or len(e) != 2:
                raise ValueError(
                    f"PiecewiseSchedule: each endpoint must be a (t, value) pair, got {e!r} "
                    f"in {endpoints!r}")
        times = [e[0] for e in endpoints]
        if times != sorted(times):
            raise ValueError(
                f"PiecewiseSchedule: endpoint times must be ascending, got {times!r}")
        self.endpoints: List[Tuple[int, float]] = [(int(t), float(v)) for t, v in endpoints]
        self.interpolation = interpolation
        self.outside_value = None if outside_value is None else float(outside_value)

    def value(self, t: Any) -> float:
        """The value at timestep `t` (see the class).

        Raises:
          ValueError: `t` lies outside the endpoints and there is no
            `outside_value`, or `t` is not a number.
        """
        t = _as_timestep(t)
        for (l_t, left), (r_t, right) in zip(self.endpoints[:-1], self.endpoints[1:]):
            if l_t <= t < r_t:
                return self.interpolation(left, right, float(t - l_t) / (r_t - l_t))
        if self.outside_value is None:
            raise ValueError(
                f"PiecewiseSchedule: t={t!r} lies outside the endpoints {self.endpoints!r} "
                "and no outside_value was given")
        return self.outside_value

    def __repr__(self) -> str:
        return (f"PiecewiseSchedule({self.endpoints!r}, outside_value="
                f"{self.outside_value!r})")
