"""A scripted numpy policy run as a TensorFlow policy, after changing only the imports.

Import mapping exercised:

    tf_agents.policies.py_policy          -> tfpolicy.policies.py_policy
    tf_agents.policies.tf_py_policy       -> tfpolicy.policies.tf_py_policy
    tf_agents.trajectories.policy_step    -> tfpolicy.trajectories.policy_step
    tf_agents.trajectories.time_step      -> tfpolicy.trajectories.time_step
    tf_agents.specs.array_spec            -> specs.array_spec

A TF-Agents user writes a `py_policy.PyPolicy` subclass implementing
`_action(time_step, policy_state)` on one unbatched numpy time step, and wraps
it in `tf_py_policy.TFPyPolicy(policy, py_policy_is_batched=False)` to use it
where a `TFPolicy` is expected, feeding it time steps with a batch of one
(the batch size of a `TFPyEnvironment` over a single environment).
"""

import numpy as np
import tensorflow as tf

from specs import array_spec
from tfpolicy.policies import py_policy
from tfpolicy.policies import tf_py_policy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories import time_step as ts

OBSERVATION_SPEC = array_spec.ArraySpec((3,), np.float32, name="observation")
ACTION_SPEC = array_spec.BoundedArraySpec((), np.int32, minimum=0, maximum=2, name="action")
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)


class ArgmaxPyPolicy(py_policy.PyPolicy):
    """Picks the index of the largest observation entry; one unbatched step at a time."""

    def __init__(self):
        super().__init__(TIME_STEP_SPEC, ACTION_SPEC)
        self.seen_observation_shapes = []

    def _action(self, time_step, policy_state):
        self.seen_observation_shapes.append(np.shape(time_step.observation))
        action = np.int32(np.argmax(time_step.observation))
        return policy_step.PolicyStep(action=action, state=policy_state, info=())


class ScriptedCountingPyPolicy(py_policy.PyPolicy):
    """Plays a fixed script of actions; its state counts the steps taken so far."""

    SCRIPT = (2, 0, 1, 1, 0)

    def __init__(self):
        super().__init__(TIME_STEP_SPEC, ACTION_SPEC,
                         policy_state_spec=array_spec.ArraySpec((), np.int32, name="count"))

    def _action(self, time_step, policy_state):
        count = int(policy_state)
        action = np.int32(self.SCRIPT[count % len(self.SCRIPT)])
        return policy_step.PolicyStep(action=action, state=np.int32(count + 1), info=())


def batch_of_one(observation, step=ts.restart):
    observation = tf.constant([observation], tf.float32)
    if step is ts.restart:
        return ts.restart(observation, batch_size=1)
    return ts.transition(observation, reward=tf.constant([0.0]))


def test_tf_py_policy_converts_the_specs_to_tensor_specs():
    policy = tf_py_policy.TFPyPolicy(ArgmaxPyPolicy(), py_policy_is_batched=False)

    assert policy.time_step_spec.observation == tf.TensorSpec([3], tf.float32,
                                                              name="observation")
    assert policy.action_spec.dtype == tf.int32
    assert policy.action_spec.shape == []
    assert int(policy.action_spec.minimum) == 0 and int(policy.action_spec.maximum) == 2


def test_tf_py_policy_acts_on_a_batch_of_one():
    scripted = ArgmaxPyPolicy()
    policy = tf_py_policy.TFPyPolicy(scripted, py_policy_is_batched=False)

    action_step = policy.action(batch_of_one([0.1, 0.9, 0.3]))

    assert action_step.action.dtype == tf.int32
    assert action_step.action.shape == [1]
    assert action_step.action.numpy().tolist() == [1]
    # The numpy policy saw the unbatched observation.
    assert scripted.seen_observation_shapes == [(3,)]


def test_tf_py_policy_actions_follow_the_observations():
    policy = tf_py_policy.TFPyPolicy(ArgmaxPyPolicy(), py_policy_is_batched=False)
    observations = [[5.0, 1.0, 2.0], [0.0, 1.0, 2.0], [0.0, 3.0, -1.0]]

    actions = [int(policy.action(batch_of_one(o, ts.transition)).action[0])
               for o in observations]

    assert actions == [0, 2, 1]


def test_tf_py_policy_inside_tf_function():
    policy = tf_py_policy.TFPyPolicy(ArgmaxPyPolicy(), py_policy_is_batched=False)
    action_fn = tf.function(policy.action)

    first = action_fn(batch_of_one([0.0, 0.0, 7.0]))
    second = action_fn(batch_of_one([7.0, 0.0, 0.0]))

    # The numpy policy runs on every call, not only while tracing.
    assert first.action.numpy().tolist() == [2]
    assert second.action.numpy().tolist() == [0]


def test_tf_py_policy_carries_the_numpy_policy_state():
    policy = tf_py_policy.TFPyPolicy(ScriptedCountingPyPolicy(), py_policy_is_batched=False)
    state = policy.get_initial_state(batch_size=1)
    assert np.asarray(state).tolist() == [0]

    actions = []
    for i in range(6):
        action_step = policy.action(batch_of_one([0.0, 0.0, 0.0],
                                                 ts.restart if i == 0 else ts.transition),
                                    state)
        actions.append(int(action_step.action[0]))
        state = action_step.state

    assert actions == [2, 0, 1, 1, 0, 2]
    assert np.asarray(state).tolist() == [6]
    assert state.dtype == tf.int32
