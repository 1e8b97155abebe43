"""TF-Agents' constructor arguments of existing policies: `QPolicy`'s
`validate_action_spec_and_network` and `RandomPyPolicy`'s positional order."""

import numpy as np
import pytest
import tensorflow as tf

from policy_toys import ACTION, TS_SPEC, time_step_of
from specs import ArraySpec, BoundedArraySpec
from tfpolicy.policies.q_policy import QPolicy
from tfpolicy.policies.random_py_policy import RandomPyPolicy
from tfpolicy.trajectories import time_step as ts


class FourWide(tf.Module):
    """Returns four Q-values where three actions are expected; counts its calls."""

    state_spec = ()

    def __init__(self):
        super().__init__()
        self.calls = 0

    def __call__(self, observation, step_type=None, network_state=(), training=False):
        self.calls += 1
        return tf.zeros([tf.shape(observation)[0], 4]), network_state


def test_q_policy_checks_the_network_at_construction_by_default():
    with pytest.raises(ValueError, match=r"Q-values of shape \(1, 4\).*followed by 3"):
        QPolicy(TS_SPEC, ACTION, FourWide())


def test_q_policy_without_validation_defers_the_check_to_the_first_call():
    network = FourWide()
    policy = QPolicy(TS_SPEC, ACTION, network, validate_action_spec_and_network=False)
    assert network.calls == 0
    with pytest.raises(ValueError, match="followed by 3"):
        policy.action(time_step_of([[1.0, 0.0]]))


def test_random_py_policy_takes_info_spec_and_seed_positionally():
    time_step_spec = ts.time_step_spec(ArraySpec((2,), np.float32))
    action_spec = BoundedArraySpec((), np.int32, 0, 9)
    info_spec = {"tag": ArraySpec((), np.float32)}
    policy = RandomPyPolicy(time_step_spec, action_spec, info_spec, 7)
    assert policy.info_spec == info_spec and policy.policy_state_spec == ()
    same = RandomPyPolicy(time_step_spec, action_spec, seed=7, info_spec=info_spec)
    step = ts.restart(np.zeros(2, np.float32))
    assert [int(policy.action(step).action) for _ in range(5)] == [
        int(same.action(step).action) for _ in range(5)]
    assert policy.action(step).info == {"tag": np.float32(0.0)}
