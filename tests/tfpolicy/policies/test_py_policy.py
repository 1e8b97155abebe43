"""Tests of the numpy PyPolicy base: spec conversion, validation, initial state."""

import numpy as np
import pytest

from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy import PolicyStep
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.trajectories import time_step as ts

import tensorflow as tf

OBS = {"pos": ArraySpec((2,), np.float32, "pos")}
ACTION = BoundedArraySpec((), np.int64, 0, 2, "action")


class Echo(PyPolicy):
    """Action = state; state counts up; returns what `make` builds when given."""

    def __init__(self, make=None, **kwargs):
        super().__init__(ts.time_step_spec(OBS), ACTION,
                         policy_state_spec=ArraySpec((), np.int64, "count"), **kwargs)
        self.make = make

    def _action(self, time_step, policy_state):
        if self.make is not None:
            return self.make(time_step)
        return PolicyStep(policy_state.copy(), policy_state + 1)


def _step(batch=None):
    shape = (2,) if batch is None else (batch, 2)
    return ts.restart({"pos": np.zeros(shape, np.float32)}, batch_size=batch)


def test_batched_and_unbatched_actions_carry_state():
    policy = Echo()
    step = policy.action(_step(3), policy.get_initial_state(3))
    np.testing.assert_array_equal(step.action, [0, 0, 0])
    np.testing.assert_array_equal(step.state, [1, 1, 1])
    single = policy.action(_step(), policy.get_initial_state())
    assert single.action.shape == () and int(single.state) == 1


def test_tensor_specs_are_converted_to_array_specs():
    policy_spec = ts.time_step_spec({"pos": TensorSpec([2], tf.float32, "pos")})

    class P(Echo):
        def __init__(self):
            PyPolicy.__init__(self, policy_spec, BoundedTensorSpec([], tf.int64, 0, 2, "action"),
                              policy_state_spec=TensorSpec([], tf.int64, "count"))

    policy = P()
    assert policy.action_spec == ACTION
    assert policy.time_step_spec.observation == OBS
    assert policy.policy_state_spec == ArraySpec((), np.int64, "count")
    assert policy.trajectory_spec.action == ACTION
    assert policy.collect_data_spec.policy_info == ()


def test_wrong_observation_dtype_names_path():
    policy = Echo()
    bad = ts.restart({"pos": np.zeros((3, 2), np.float64)}, batch_size=3)
    with pytest.raises(TypeError, match=r"time_step at 'observation/pos': dtype mismatch.*float64"):
        policy.action(bad, policy.get_initial_state(3))


def test_state_batch_mismatch_is_rejected():
    policy = Echo()
    with pytest.raises(ValueError, match="policy_state"):
        policy.action(_step(3), policy.get_initial_state(2))


def test_bad_output_is_rejected_naming_the_action():
    policy = Echo(make=lambda t: PolicyStep(np.zeros(3, np.float32), np.zeros(3, np.int64)))
    with pytest.raises(TypeError, match="action's action.*dtype mismatch"):
        policy.action(_step(3), policy.get_initial_state(3))
    not_a_step = Echo(make=lambda t: np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="must return a PolicyStep"):
        not_a_step.action(_step(3), not_a_step.get_initial_state(3))


def test_validate_args_false_skips_checks():
    policy = Echo(make=lambda t: PolicyStep(np.zeros(3, np.float32), ()), validate_args=False)
    assert policy.action(_step(3), ()).action.dtype == np.float32


def test_time_step_spec_must_be_a_time_step():
    class Bare(PyPolicy):
        def _action(self, time_step, policy_state):
            return PolicyStep(np.zeros((), np.int64))

    with pytest.raises(TypeError, match="TimeStep"):
        Bare(OBS, ACTION)


def test_a_seed_is_refused_by_a_policy_without_seeds():
    policy = Echo()
    with pytest.raises(TypeError, match="Echo.action takes no seed"):
        policy.action(_step(3), policy.get_initial_state(3), seed=1)


def test_a_seeded_policy_gets_the_seed_and_its_output_is_checked():
    class Seeded(Echo):
        def _seeded_action(self, time_step, policy_state, seed):
            return PolicyStep(np.full_like(policy_state, seed), policy_state + 1)

    policy = Seeded()
    step = policy.action(_step(2), policy.get_initial_state(2), seed=2)
    np.testing.assert_array_equal(step.action, [2, 2])
    np.testing.assert_array_equal(policy.action(_step(2), step.state).action, [1, 1])
    bad = Seeded(make=None)
    bad._seeded_action = lambda t, s, seed: PolicyStep(np.zeros(2, np.float32), s)
    with pytest.raises(TypeError, match="action's action.*dtype mismatch"):
        bad.action(_step(2), bad.get_initial_state(2), seed=2)
