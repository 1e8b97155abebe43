"""Tests for `tfpolicy.learning.schedules`, expectations computed by hand from RLlib's rule."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
import tensorflow as tf

from tfpolicy.learning.schedules import ConstantSchedule, PiecewiseSchedule, Schedule, linear

ENDPOINTS = [(0, 1.0), (10, 0.0), (30, 0.5)]


def test_linear_interpolates_from_left_to_right():
    assert linear(1.0, 3.0, 0.0) == 1.0
    assert linear(1.0, 3.0, 0.5) == 2.0
    assert linear(3.0, 1.0, 0.25) == 2.5


def test_piecewise_matches_rllibs_documented_example():
    schedule = PiecewiseSchedule([(0, 20), (500, 30)], outside_value=30)
    assert schedule.value(400) == 28.0


def test_piecewise_interpolates_within_each_piece():
    schedule = PiecewiseSchedule(ENDPOINTS, outside_value=-1.0)
    # First piece: 1 + (t / 10) * (0 - 1).
    assert schedule.value(0) == 1.0
    assert schedule.value(4) == pytest.approx(0.6)
    # An inner endpoint starts the next piece: alpha = 0 there.
    assert schedule.value(10) == 0.0
    # Second piece: 0 + ((t - 10) / 20) * 0.5.
    assert schedule.value(20) == 0.25
    assert schedule.value(29) == pytest.approx(0.475)


def test_piecewise_returns_outside_value_before_first_and_from_last_endpoint():
    schedule = PiecewiseSchedule(ENDPOINTS, outside_value=-1.0)
    assert schedule.value(-1) == -1.0
    assert schedule.value(30) == -1.0
    assert schedule.value(10**9) == -1.0


def test_piecewise_before_first_endpoint_gets_last_value_when_outside_is_last():
    # RLlib's mixins pass the last value as outside_value: it applies before t_0 too.
    schedule = PiecewiseSchedule([(100, 1.0), (200, 3.0)], outside_value=3.0)
    assert schedule.value(0) == 3.0
    assert schedule.value(150) == 2.0


def test_piecewise_without_outside_value_raises_naming_t_and_endpoints():
    schedule = PiecewiseSchedule(ENDPOINTS)
    assert schedule.value(5) == 0.5
    with pytest.raises(ValueError, match=r"t=30 .*\(0, 1\.0\), \(10, 0\.0\), \(30, 0\.5\)"):
        schedule.value(30)
    with pytest.raises(ValueError, match="t=-3"):
        schedule.value(-3)


def test_piecewise_rejects_unsorted_empty_and_malformed_endpoints():
    with pytest.raises(ValueError, match=r"ascending, got \[10, 0\]"):
        PiecewiseSchedule([(10, 1.0), (0, 2.0)])
    with pytest.raises(ValueError, match="at least one"):
        PiecewiseSchedule([])
    with pytest.raises(ValueError, match=r"\(t, value\) pair, got \(1, 2, 3\)"):
        PiecewiseSchedule([(0, 1.0), (1, 2, 3)])


def test_piecewise_stores_int_times_and_float_values():
    schedule = PiecewiseSchedule([(0.9, 1), (10, 2)], outside_value=5)
    assert schedule.endpoints == [(0, 1.0), (10, 2.0)]
    assert isinstance(schedule.value(5), float)
    assert schedule.value(5) == 1.5
    assert schedule.value(11) == 5.0


def test_piecewise_tied_times_skip_the_empty_piece():
    schedule = PiecewiseSchedule([(0, 0.0), (10, 1.0), (10, 5.0), (20, 6.0)], outside_value=0.0)
    assert schedule.value(9) == pytest.approx(0.9)
    assert schedule.value(10) == 5.0
    assert schedule.value(15) == 5.5


def test_piecewise_uses_a_custom_interpolation():
    def step(left, right, alpha):
        return left

    schedule = PiecewiseSchedule([(0, 1.0), (10, 2.0)], interpolation=step, outside_value=2.0)
    assert schedule.value(9) == 1.0


def test_piecewise_accepts_numpy_and_tensor_timesteps():
    schedule = PiecewiseSchedule(ENDPOINTS, outside_value=-1.0)
    assert schedule.value(np.int64(20)) == 0.25
    assert schedule.value(np.array(20)) == 0.25
    assert schedule.value(tf.constant(20)) == 0.25
    assert schedule.value(tf.Variable(20, dtype=tf.int64)) == 0.25
    assert schedule(20) == 0.25


def test_piecewise_rejects_a_non_scalar_timestep():
    schedule = PiecewiseSchedule(ENDPOINTS, outside_value=-1.0)
    with pytest.raises(ValueError, match="must be a number"):
        schedule.value([1, 2])
    with pytest.raises(ValueError, match="must be a number"):
        schedule.value(True)


def test_piecewise_accepts_rllibs_framework_keyword():
    schedule = PiecewiseSchedule([[0, 1.0], [10, 0.0]], outside_value=0.0, framework=None)
    assert schedule.value(5) == 0.5


def test_constant_schedule_returns_its_value_at_every_timestep():
    schedule = ConstantSchedule(2, framework=None)
    assert isinstance(schedule, Schedule)
    assert [schedule.value(t) for t in (-5, 0, 10**9)] == [2.0, 2.0, 2.0]
    assert schedule(3) == 2.0


@given(st.lists(st.integers(-1000, 1000), min_size=2, max_size=6, unique=True),
       st.lists(st.floats(-10, 10), min_size=6, max_size=6),
       st.integers(-1100, 1100))
def test_piecewise_linear_agrees_with_numpy_interp_inside_and_outside_value_elsewhere(
        times, values, t):
    times = sorted(times)
    endpoints = list(zip(times, values))
    schedule = PiecewiseSchedule(endpoints, outside_value=123.0)
    if times[0] <= t < times[-1]:
        assert schedule.value(t) == pytest.approx(
            np.interp(t, times, values[:len(times)]), abs=1e-9)
    else:
        assert schedule.value(t) == 123.0
