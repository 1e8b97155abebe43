"""Tests of TFPyPolicy: a numpy policy inside TensorFlow, eagerly and in tf.function."""

import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy import PolicyStep, time_step as ts
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.policies.random_py_policy import RandomPyPolicy
from tfpolicy.policies.tf_py_policy import TFPyPolicy

OBS = ArraySpec((3,), np.float32, "obs")


class Count(PyPolicy):
    def __init__(self):
        super().__init__(ts.time_step_spec(OBS), BoundedArraySpec((), np.int64, 0, 100),
                         policy_state_spec=ArraySpec((), np.int64, "count"),
                         info_spec={"twice": ArraySpec((), np.float32)})

    def _action(self, time_step, policy_state):
        count = np.where(time_step.is_first(), 0, policy_state)
        return PolicyStep(count, count + 1, {"twice": (2 * count).astype(np.float32)})


def test_specs_become_tensor_specs():
    policy = TFPyPolicy(Count())
    assert policy.action_spec == BoundedTensorSpec([], tf.int64, 0, 100)
    assert policy.policy_state_spec == TensorSpec([], tf.int64, "count")


def test_eager_batched_action_and_state():
    policy = TFPyPolicy(Count())
    state = policy.get_initial_state(2)
    step = policy.action(ts.transition(tf.zeros([2, 3]), tf.zeros([2])), state + 4)
    np.testing.assert_array_equal(step.action.numpy(), [4, 4])
    np.testing.assert_array_equal(step.info["twice"].numpy(), [8.0, 8.0])
    first = policy.action(ts.restart(tf.zeros([2, 3]), batch_size=2), step.state)
    np.testing.assert_array_equal(first.action.numpy(), [0, 0])


def test_inside_tf_function_with_unknown_batch_has_static_shapes():
    policy = TFPyPolicy(RandomPyPolicy(ts.time_step_spec(OBS), BoundedArraySpec((), np.int32, 0, 3),
                                       seed=0))
    signature = tf.nest.map_structure(lambda s: tf.TensorSpec([None] + s.shape.as_list(), s.dtype),
                                      policy.time_step_spec)
    seen_shapes = []

    @tf.function(input_signature=[signature])
    def act(time_step):
        step = policy.action(time_step)
        seen_shapes.append(step.action.shape.as_list())
        return step.action

    actions = act(ts.restart(tf.zeros([7, 3]), batch_size=7)).numpy()
    assert seen_shapes == [[None]]
    assert actions.shape == (7,) and np.all((actions >= 0) & (actions <= 3))


def test_wraps_only_py_policies():
    with pytest.raises(TypeError, match="wraps a PyPolicy"):
        TFPyPolicy(object())


def test_round_trip_through_the_bridge_unbatched():
    policy = TFPyPolicy(Count())
    step = policy.action(ts.transition(tf.zeros([3]), 0.0), tf.constant(5, tf.int64))
    assert int(step.action) == 5 and int(step.state) == 6


class Unbatched(PyPolicy):
    """Takes one unbatched step: action = sum of the observation + the state; records shapes."""

    def __init__(self):
        super().__init__(ts.time_step_spec(OBS), ArraySpec((), np.float32),
                         policy_state_spec=ArraySpec((), np.float32))
        self.seen = []

    def _action(self, time_step, policy_state):
        self.seen.append(np.shape(time_step.observation))
        assert np.shape(time_step.observation) == (3,), "unbatched steps only"
        total = np.float32(time_step.observation.sum() + policy_state)
        return PolicyStep(total, total)

    def _get_initial_state(self, batch_size):
        return np.float32(10.0)


def test_an_unbatched_py_policy_is_called_once_per_batch_entry():
    py = Unbatched()
    policy = TFPyPolicy(py)
    assert not policy.py_policy_is_batched
    state = policy.get_initial_state(2)
    np.testing.assert_array_equal(state.numpy(), [10.0, 10.0])
    observation = tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, -1.0]])
    step = policy.action(ts.transition(observation, tf.zeros([2])), state)
    # 6 + 10 and -1 + 10; the state carries the totals.
    np.testing.assert_array_equal(step.action.numpy(), [16.0, 9.0])
    np.testing.assert_array_equal(step.state.numpy(), [16.0, 9.0])
    assert py.seen == [(3,), (3,)]


def test_a_batch_of_one_is_unbatched_as_in_tf_agents():
    py = Unbatched()
    policy = TFPyPolicy(py, py_policy_is_batched=False)
    step = policy.action(ts.transition(tf.ones([1, 3]), tf.zeros([1])), tf.constant([1.0]))
    np.testing.assert_array_equal(step.action.numpy(), [4.0])
    assert py.seen == [(3,)]


def test_a_batched_py_policy_gets_the_whole_batch():
    shapes = []

    class Batched(Count):
        def _action(self, time_step, policy_state):
            shapes.append(np.shape(time_step.observation))
            return super()._action(time_step, policy_state)

    policy = TFPyPolicy(Batched(), py_policy_is_batched=True)
    step = policy.action(ts.transition(tf.zeros([4, 3]), tf.zeros([4])),
                         policy.get_initial_state(4) + 2)
    np.testing.assert_array_equal(step.action.numpy(), [2, 2, 2, 2])
    assert shapes == [(4, 3)]
