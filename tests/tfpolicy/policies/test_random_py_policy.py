"""Tests of RandomPyPolicy: bounds, batching, seeding and masks."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from specs import ArraySpec, BoundedArraySpec, check_nest
from tfpolicy.policies.random_py_policy import RandomPyPolicy
from tfpolicy.trajectories import time_step as ts

OBS = ArraySpec((3,), np.float32)


def _step(batch=None, obs=None):
    if obs is None:
        obs = np.zeros((3,) if batch is None else (batch, 3), np.float32)
    return ts.restart(obs, batch_size=batch)


def test_actions_lie_in_bounds_for_nested_specs():
    spec = {"move": BoundedArraySpec((2,), np.float32, [-1.0, 0.0], [1.0, 5.0]),
            "fire": BoundedArraySpec((), np.int32, 2, 4)}
    policy = RandomPyPolicy(ts.time_step_spec(OBS), spec, seed=0)
    step = policy.action(_step(500))
    assert check_nest(step.action, spec) == (500,)
    assert np.all(step.action["move"] >= [-1, 0]) and np.all(step.action["move"] <= [1, 5])
    assert set(np.unique(step.action["fire"])) == {2, 3, 4}


def test_unbatched_and_fixed_outer_dims():
    policy = RandomPyPolicy(ts.time_step_spec(OBS), BoundedArraySpec((), np.int64, 0, 3), seed=1)
    assert policy.action(_step()).action.shape == ()
    fixed = RandomPyPolicy(ts.time_step_spec(OBS), BoundedArraySpec((), np.int64, 0, 3),
                           outer_dims=(4,), validate_args=False)
    assert fixed.action(_step()).action.shape == (4,)


def test_same_seed_same_actions():
    make = lambda: RandomPyPolicy(ts.time_step_spec(OBS), BoundedArraySpec((), np.int64, 0, 9),  # noqa: E731
                                  seed=7)
    np.testing.assert_array_equal(make().action(_step(20)).action, make().action(_step(20)).action)


def _splitter(observation):
    return observation["obs"], observation["mask"]


def _masked_policy(seed=0):
    obs = {"obs": OBS, "mask": ArraySpec((4,), np.int32)}
    return RandomPyPolicy(ts.time_step_spec(obs), BoundedArraySpec((), np.int64, 0, 3), seed=seed,
                          observation_and_action_constraint_splitter=_splitter)


@given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4).filter(any),
                min_size=1, max_size=6), st.integers(0, 1000))
def test_masked_actions_are_always_allowed(rows, seed):
    mask = np.array(rows, np.int32)
    policy = _masked_policy(seed)
    step = policy.action(_step(len(rows), {"obs": np.zeros((len(rows), 3), np.float32),
                                           "mask": mask}))
    assert np.all(mask[np.arange(len(rows)), step.action] == 1)


def test_masked_actions_are_uniform_over_allowed():
    policy = _masked_policy()
    n = 6000
    mask = np.tile(np.array([[1, 0, 1, 1]], np.int32), (n, 1))
    actions = policy.action(_step(n, {"obs": np.zeros((n, 3), np.float32), "mask": mask})).action
    freq = np.bincount(actions, minlength=4) / n
    np.testing.assert_allclose(freq, [1 / 3, 0, 1 / 3, 1 / 3], atol=0.03)


def test_mask_with_no_allowed_action_is_an_error():
    policy = _masked_policy()
    with pytest.raises(ValueError, match="allows no action"):
        policy.action(_step(1, {"obs": np.zeros((1, 3), np.float32),
                                "mask": np.zeros((1, 4), np.int32)}))


def test_mask_needs_a_scalar_discrete_action():
    with pytest.raises(ValueError, match="single scalar integer"):
        RandomPyPolicy(ts.time_step_spec({"obs": OBS, "mask": ArraySpec((4,), np.int32)}),
                       BoundedArraySpec((2,), np.float32, 0, 1),
                       observation_and_action_constraint_splitter=_splitter)
