"""Tests of BatchedPyPolicy: N unbatched numpy policies acting as one batched policy."""

import threading

import numpy as np
import pytest

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.policies.batched_py_policy import BatchedPyPolicy
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.policies.random_py_policy import RandomPyPolicy
from tfpolicy.policies.scripted_py_policy import ScriptedPyPolicy
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories.policy_step import PolicyStep

OBS = ArraySpec((2,), np.float32, "obs")
TS_SPEC = ts.time_step_spec(OBS)
ACTION = BoundedArraySpec((), np.int32, 0, 9, "action")


class AddObservation(PyPolicy):
    """Stateful: action = offset + counter + round(obs[0]); the counter counts calls."""

    def __init__(self, offset):
        super().__init__(TS_SPEC, ACTION, policy_state_spec=ArraySpec((), np.int32),
                         info_spec={"thread": ArraySpec((), np.int64)})
        self.offset = offset

    def _action(self, time_step, policy_state):
        action = np.int32(self.offset + policy_state + round(float(time_step.observation[0])))
        return PolicyStep(action, np.int32(policy_state + 1),
                          {"thread": np.int64(threading.get_ident())})

    def _get_initial_state(self, batch_size):
        return np.int32(self.offset)


def _restart(batch):
    observation = np.tile(np.arange(batch, dtype=np.float32)[:, None], (1, 2))
    return ts.restart(observation, batch_size=batch)


@pytest.mark.parametrize("multithreading", [True, False])
def test_each_entry_goes_to_its_policy_and_state_is_stacked(multithreading):
    policy = BatchedPyPolicy([AddObservation(0), AddObservation(3), AddObservation(5)],
                             multithreading=multithreading)
    state = policy.get_initial_state()
    np.testing.assert_array_equal(state, [0, 3, 5])
    step = policy.action(_restart(3), state)
    # offset + counter + obs: [0+0+0, 3+3+1, 5+5+2]
    np.testing.assert_array_equal(step.action, [0, 7, 12])
    np.testing.assert_array_equal(step.state, [1, 4, 6])
    step = policy.action(_restart(3), step.state)
    np.testing.assert_array_equal(step.action, [1, 8, 13])
    assert step.info["thread"].shape == (3,)
    main_thread = threading.get_ident()
    assert (main_thread not in step.info["thread"]) == multithreading
    assert policy.multithreading == multithreading and policy.batch_size == 3
    policy.close()
    assert not policy.multithreading
    np.testing.assert_array_equal(policy.action(_restart(3), state).action, [0, 7, 12])


def test_scripted_policies_play_their_own_scripts():
    scripts = [[(2, np.int32(1)), (1, np.int32(4))], [(1, np.int32(9)), (2, np.int32(0))]]
    policy = BatchedPyPolicy([ScriptedPyPolicy(TS_SPEC, ACTION, s) for s in scripts])
    state = policy.get_initial_state(2)
    actions = []
    for _ in range(3):
        step = policy.action(_restart(2), state)
        actions.append(step.action.tolist())
        state = step.state
    assert actions == [[1, 9], [1, 0], [4, 0]]


def test_stateless_random_policies_return_batched_actions():
    policy = BatchedPyPolicy([RandomPyPolicy(TS_SPEC, ACTION, seed=i) for i in range(4)],
                             multithreading=False)
    assert policy.get_initial_state() == ()
    step = policy.action(_restart(4))
    assert step.action.shape == (4,) and step.action.dtype == np.int32
    same_seeds = [RandomPyPolicy(TS_SPEC, ACTION, seed=i) for i in range(4)]
    expected = [p.action(ts.restart(np.zeros(2, np.float32))).action for p in same_seeds]
    np.testing.assert_array_equal(step.action, expected)
    assert policy.policy_step_spec == same_seeds[0].policy_step_spec
    assert policy.trajectory_spec == same_seeds[0].trajectory_spec


def test_inputs_with_the_wrong_batch_size_are_refused():
    policy = BatchedPyPolicy([AddObservation(0), AddObservation(1)], multithreading=False)
    with pytest.raises(ValueError, match=r"outer dims \(2,\)"):
        policy.action(_restart(3), np.zeros(3, np.int32))
    with pytest.raises(ValueError, match="policy_state"):
        policy.action(_restart(2), np.zeros(3, np.int32))
    with pytest.raises(ValueError, match=r"batch_size=3.*2 policies"):
        policy.get_initial_state(3)


def test_construction_errors_name_the_policy():
    with pytest.raises(ValueError, match="list or tuple"):
        BatchedPyPolicy(AddObservation(0))
    with pytest.raises(ValueError, match="empty"):
        BatchedPyPolicy([])
    with pytest.raises(TypeError, match=r"policies\[1\] must be a PyPolicy"):
        BatchedPyPolicy([AddObservation(0), object()])
    other = RandomPyPolicy(TS_SPEC, BoundedArraySpec((), np.int32, 0, 4, "action"))
    with pytest.raises(ValueError, match=r"policies\[1\]\.action_spec"):
        BatchedPyPolicy([RandomPyPolicy(TS_SPEC, ACTION), other])
    with pytest.raises(ValueError, match="splitter"):
        BatchedPyPolicy([RandomPyPolicy(TS_SPEC, ACTION),
                         RandomPyPolicy(TS_SPEC, ACTION,
                                        observation_and_action_constraint_splitter=lambda o: o)])
