"""Specs files, episodes and replay samples the TF-Agents way, after changing only the imports.

Import mapping exercised:

    tf_agents.specs.tensor_spec           -> specs.tensor_spec
    tf_agents.specs.array_spec            -> specs.array_spec
    tf_agents.utils.nest_utils            -> specs.nest_utils
    tf_agents.trajectories.time_step      -> tfpolicy.trajectories.time_step
    tf_agents.trajectories.policy_step    -> tfpolicy.trajectories.policy_step
    tf_agents.trajectories.trajectory     -> tfpolicy.trajectories.trajectory

A TF-Agents user reads back the `policy_specs.pbtxt` that TF-Agents' policy
saver wrote next to a SavedModel (here written by TensorFlow's own structure
coder, as TF-Agents does), rebuilds the time step spec from the collect data
spec, turns a sampled replay batch of shape `[B, 2]` into transitions as a
one-step agent's `_train` does, builds a trajectory from a recorded episode,
and makes batched time steps by hand.
"""

import collections
import os

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
# The bounded spec class TF-Agents' specs are made of, to write the file as it does.
from tensorflow.python.framework.tensor import BoundedTensorSpec as TFAgentsBoundedTensorSpec

from specs import array_spec
from specs import nest_utils
from specs import tensor_spec
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories import trajectory

BATCH_SIZE = 4
OBSERVATION_SPEC = tensor_spec.BoundedTensorSpec([3], tf.float32, -1.0, 1.0, "observation")
ACTION_SPEC = tensor_spec.BoundedTensorSpec([], tf.int64, 0, 2, "action")


def write_policy_specs_pbtxt(export_dir):
    """The file TF-Agents' `PolicySaver.save` writes for a stateless DQN policy."""
    step_type = tf.TensorSpec([], tf.int32, "step_type")
    tf_agents_trajectory = collections.namedtuple("Trajectory", trajectory.Trajectory._fields)
    collect_data_spec = tf_agents_trajectory(
        step_type=step_type,
        observation=TFAgentsBoundedTensorSpec([3], tf.float32, -1.0, 1.0, "observation"),
        action=TFAgentsBoundedTensorSpec([], tf.int64, 0, 2, "action"),
        policy_info=(),
        next_step_type=step_type,
        reward=tf.TensorSpec([], tf.float32, "reward"),
        discount=TFAgentsBoundedTensorSpec([], tf.float32, 0.0, 1.0, "discount"))
    proto = tf.__internal__.saved_model.encode_structure(
        {"collect_data_spec": collect_data_spec, "policy_state_spec": ()})
    path = os.path.join(export_dir, "policy_specs.pbtxt")
    with open(path, "w") as f:
        f.write(text_format.MessageToString(proto))
    return path


def test_specs_read_back_from_policy_specs_pbtxt(tmp_path):
    path = write_policy_specs_pbtxt(str(tmp_path))

    loaded = tensor_spec.from_pbtxt_file(path)
    collect_data_spec = loaded["collect_data_spec"]
    time_step_spec = ts.time_step_spec(collect_data_spec.observation, collect_data_spec.reward)
    action_spec = collect_data_spec.action

    assert loaded["policy_state_spec"] == ()
    assert action_spec == ACTION_SPEC
    assert tensor_spec.is_bounded(action_spec) and tensor_spec.is_discrete(action_spec)
    assert time_step_spec.observation == OBSERVATION_SPEC
    transition_spec = trajectory.to_transition_spec(collect_data_spec)
    assert transition_spec.action_step.action == ACTION_SPEC
    assert transition_spec.next_time_step.discount.maximum == 1.0
    # The usual next step: numpy specs for a py environment or policy.
    array_action_spec = tensor_spec.to_array_spec(action_spec)
    assert array_action_spec == array_spec.BoundedArraySpec((), np.int64, 0, 2, "action")
    actions = array_spec.sample_spec_nest(array_action_spec, np.random.RandomState(0),
                                          outer_dims=(100,))
    assert actions.min() >= 0 and actions.max() <= 2

    # Written back by us, the file reads the same in both libraries.
    tensor_spec.to_pbtxt_file(path, loaded)
    assert tensor_spec.from_pbtxt_file(path) == loaded


def sampled_experience():
    """What `replay_buffer.as_dataset(sample_batch_size=4, num_steps=2)` yields: `[B, 2]` rows."""
    step_type = np.array([[0, 1], [1, 1], [1, 2], [2, 0]], np.int32)
    next_step_type = np.array([[1, 1], [1, 2], [2, 0], [0, 1]], np.int32)
    return trajectory.Trajectory(
        step_type=tf.constant(step_type),
        observation=tf.reshape(tf.range(BATCH_SIZE * 2 * 3, dtype=tf.float32) / 100,
                               [BATCH_SIZE, 2, 3]),
        action=tf.constant([[0, 1], [2, 0], [1, 1], [0, 2]], tf.int64),
        policy_info=(),
        next_step_type=tf.constant(next_step_type),
        reward=tf.constant([[1.0, 0.0], [0.5, 2.0], [3.0, 0.0], [0.0, 1.0]]),
        discount=tf.constant([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))


def test_dqn_style_train_step_splits_a_sampled_batch_into_transitions():
    experience = sampled_experience()

    transitions = trajectory.experience_to_transitions(experience, squeeze_time_dim=True)
    time_steps, policy_steps, next_time_steps = transitions
    actions = policy_steps.action
    valid = tf.cast(~time_steps.is_last(), tf.float32)  # boundary rows are masked out

    np.testing.assert_array_equal(actions, [0, 2, 1, 0])
    np.testing.assert_array_equal(next_time_steps.reward, [1.0, 0.5, 3.0, 0.0])
    np.testing.assert_array_equal(next_time_steps.discount, [1.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(valid, [1.0, 1.0, 1.0, 0.0])
    assert nest_utils.get_outer_rank(time_steps, ts.time_step_spec(OBSERVATION_SPEC)) == 1
    # The n-step version of the same batch: with T = 2 it is the one-step transition.
    n_step = trajectory.to_n_step_transition(experience, gamma=0.99)
    np.testing.assert_allclose(n_step.next_time_step.reward, next_time_steps.reward)
    np.testing.assert_allclose(n_step.next_time_step.discount, next_time_steps.discount)


def test_recorded_episode_becomes_a_trajectory_for_to_transition():
    observations = np.array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4], [0.3, 0.4, 0.5]], np.float32)
    actions = np.array([2, 1, 0], np.int64)
    rewards = np.array([0.0, 1.0, 10.0], np.float32)

    episode = trajectory.from_episode(observations, actions, (), rewards)
    batched = nest_utils.batch_nested_array(episode)
    time_steps, _, next_time_steps = trajectory.to_transition(batched)

    np.testing.assert_array_equal(episode.step_type, [ts.StepType.FIRST, ts.StepType.MID,
                                                      ts.StepType.MID])
    np.testing.assert_array_equal(episode.is_last(), [False, False, True])
    np.testing.assert_array_equal(next_time_steps.reward, [[0.0, 1.0]])
    np.testing.assert_array_equal(time_steps.observation, observations[None, :2])


def test_batched_time_steps_made_by_hand():
    observation = tf.zeros([BATCH_SIZE, 3])

    first = ts.restart(observation, batch_size=BATCH_SIZE)
    middle = ts.transition(observation, reward=tf.ones([BATCH_SIZE]), discount=0.9)
    final = ts.termination(observation, reward=tf.ones([BATCH_SIZE]))
    step = policy_step.PolicyStep(action=tf.zeros([BATCH_SIZE], tf.int64),
                                  info=policy_step.set_log_probability((), tf.zeros([4])))

    np.testing.assert_array_equal(first.step_type, [ts.StepType.FIRST] * BATCH_SIZE)
    np.testing.assert_array_equal(first.reward, np.zeros(BATCH_SIZE))
    np.testing.assert_allclose(middle.discount, [0.9] * BATCH_SIZE)
    np.testing.assert_array_equal(final.discount, np.zeros(BATCH_SIZE))
    assert ts.StepType(final.step_type[0].numpy()) is ts.StepType.LAST
    assert policy_step.get_log_probability(
        step.info, default_log_probability=None) is step.info.log_probability
    assert getattr(step.info, policy_step.CommonFields.LOG_PROBABILITY) is not None
    row = trajectory.from_transition(middle, step, final)
    np.testing.assert_array_equal(row.is_last(), [True] * BATCH_SIZE)
