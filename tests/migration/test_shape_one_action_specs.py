"""Discrete action specs of shape `[1]`, common in TF-Agents code, after changing the imports.

Import mapping exercised:

    tf_agents.networks.network                -> tfpolicy.networks.network
    tf_agents.networks.q_network              -> tfpolicy.networks.q_network
    tf_agents.policies.q_policy               -> tfpolicy.policies.q_policy
    tf_agents.policies.greedy_policy          -> tfpolicy.policies.greedy_policy
    tf_agents.policies.epsilon_greedy_policy  -> tfpolicy.policies.epsilon_greedy_policy
    tf_agents.policies.boltzmann_policy       -> tfpolicy.policies.boltzmann_policy
    tf_agents.policies.random_tf_policy       -> tfpolicy.policies.random_tf_policy
    tf_agents.policies.random_py_policy       -> tfpolicy.policies.random_py_policy
    tf_agents.specs.tensor_spec               -> specs.tensor_spec
    tf_agents.specs.array_spec                -> specs.array_spec
    tf_agents.trajectories.time_step          -> tfpolicy.trajectories.time_step

Environments such as those wrapped from gym often declare one discrete action
as `BoundedTensorSpec((1,), tf.int32, 0, 2)`. TF-Agents' Q policies then emit
actions of shape `[B, 1]`, and this module checks ours do the same.
"""

import numpy as np
import tensorflow as tf

from specs import array_spec
from specs import tensor_spec
from tfpolicy.networks import network
from tfpolicy.networks import q_network
from tfpolicy.policies import boltzmann_policy
from tfpolicy.policies import epsilon_greedy_policy
from tfpolicy.policies import greedy_policy
from tfpolicy.policies import q_policy
from tfpolicy.policies import random_py_policy
from tfpolicy.policies import random_tf_policy
from tfpolicy.trajectories import time_step as ts

OBSERVATION_SPEC = tensor_spec.TensorSpec([2], tf.float32)
ACTION_SPEC = tensor_spec.BoundedTensorSpec((1,), tf.int32, 0, 2)
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)

# Q(s) = s @ W, worked out by hand:
#   [ 3, 0] -> [ 3, 0, -3] -> 0;  [1, 2] -> [1, 2, 1] -> 1;  [-1, 2] -> [-1, 2, 3] -> 2
Q_WEIGHTS = np.array([[1.0, 0.0, -1.0],
                      [0.0, 1.0, 1.0]], np.float32)
OBSERVATIONS = tf.constant([[3.0, 0.0], [1.0, 2.0], [-1.0, 2.0]])
EXPECTED_GREEDY = [[0], [1], [2]]


class LinearQNetwork(network.Network):
    """Q-values `[B, 3]` from one fixed linear layer."""

    def __init__(self, input_tensor_spec, name="LinearQNetwork"):
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        self._q_layer = tf.keras.layers.Dense(
            3, kernel_initializer=tf.keras.initializers.Constant(Q_WEIGHTS),
            bias_initializer="zeros")

    def call(self, observation, step_type=None, network_state=(), training=False):
        return self._q_layer(observation), network_state


def custom_q_policy():
    return q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=LinearQNetwork(OBSERVATION_SPEC))


def assert_valid_actions(actions, batch_size):
    actions = np.asarray(actions)
    assert actions.shape == (batch_size, 1)
    assert ((actions >= 0) & (actions <= 2)).all()


def many_observations(n):
    """n observations cycling through the three hand-computed ones."""
    return tf.tile(OBSERVATIONS, [n // 3, 1])


# ---- Q policies -------------------------------------------------------------------------------


def test_q_network_accepts_a_shape_one_action_spec():
    net = q_network.QNetwork(OBSERVATION_SPEC, ACTION_SPEC, fc_layer_params=(8,))

    q_values, _ = net(OBSERVATIONS)

    assert q_values.shape == [3, 3]


def test_q_policy_with_q_network_emits_actions_of_shape_batch_by_one():
    net = q_network.QNetwork(OBSERVATION_SPEC, ACTION_SPEC, fc_layer_params=(8,))
    policy = q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net)

    action_step = policy.action(ts.restart(OBSERVATIONS, batch_size=3))

    assert action_step.action.dtype == tf.int32
    assert_valid_actions(action_step.action, 3)


def test_q_policy_with_custom_network_emits_actions_of_shape_batch_by_one():
    action_step = custom_q_policy().action(ts.restart(OBSERVATIONS, batch_size=3))

    assert_valid_actions(action_step.action, 3)


def test_greedy_policy_picks_the_hand_computed_argmax():
    greedy = greedy_policy.GreedyPolicy(custom_q_policy())

    action = greedy.action(ts.restart(OBSERVATIONS, batch_size=3)).action

    assert action.shape == [3, 1]
    assert action.numpy().tolist() == EXPECTED_GREEDY


def test_greedy_policy_over_q_network_is_the_argmax_of_its_q_values():
    net = q_network.QNetwork(OBSERVATION_SPEC, ACTION_SPEC, fc_layer_params=(8,))
    greedy = greedy_policy.GreedyPolicy(
        q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net))

    action = greedy.action(ts.restart(OBSERVATIONS, batch_size=3)).action

    q_values, _ = net(OBSERVATIONS)
    assert action.shape == [3, 1]
    assert action.numpy()[:, 0].tolist() == np.argmax(q_values.numpy(), -1).tolist()


def test_epsilon_zero_is_greedy():
    policy = epsilon_greedy_policy.EpsilonGreedyPolicy(custom_q_policy(), epsilon=0.0)

    action = policy.action(ts.restart(many_observations(30), batch_size=30)).action

    assert action.shape == [30, 1]
    assert action.numpy().tolist() == EXPECTED_GREEDY * 10


def test_epsilon_one_is_uniformly_random():
    policy = epsilon_greedy_policy.EpsilonGreedyPolicy(custom_q_policy(), epsilon=1.0)
    # All observations have greedy action 0, so any other action is exploration.
    observations = tf.tile(tf.constant([[3.0, 0.0]]), [600, 1])

    action = policy.action(ts.restart(observations, batch_size=600), seed=7).action

    assert_valid_actions(action, 600)
    counts = np.bincount(action.numpy()[:, 0], minlength=3)
    # Uniform over 3 actions: about 200 each (a binomial sd of ~12).
    assert (counts > 140).all(), counts


def test_boltzmann_with_low_temperature_is_greedy():
    policy = boltzmann_policy.BoltzmannPolicy(custom_q_policy(), temperature=0.01)

    action = policy.action(ts.restart(many_observations(30), batch_size=30)).action

    assert action.shape == [30, 1]
    assert action.numpy().tolist() == EXPECTED_GREEDY * 10


def test_boltzmann_with_high_temperature_explores_every_action():
    policy = boltzmann_policy.BoltzmannPolicy(custom_q_policy(), temperature=1000.0)
    observations = tf.tile(tf.constant([[3.0, 0.0]]), [300, 1])

    action = policy.action(ts.restart(observations, batch_size=300)).action

    assert_valid_actions(action, 300)
    counts = np.bincount(action.numpy()[:, 0], minlength=3)
    assert (counts > 60).all(), counts


# ---- random policies --------------------------------------------------------------------------


def test_random_tf_policy_actions_are_in_bounds_with_shape_batch_by_one():
    policy = random_tf_policy.RandomTFPolicy(TIME_STEP_SPEC, ACTION_SPEC)

    action = policy.action(ts.restart(tf.zeros([300, 2]), batch_size=300)).action

    assert action.dtype == tf.int32
    assert_valid_actions(action, 300)
    assert set(action.numpy()[:, 0].tolist()) == {0, 1, 2}


def test_random_tf_policy_unbatched_action_has_shape_one():
    policy = random_tf_policy.RandomTFPolicy(TIME_STEP_SPEC, ACTION_SPEC)

    action = policy.action(ts.restart(tf.zeros([2]))).action

    assert action.shape == [1]
    assert 0 <= int(action[0]) <= 2


def test_random_py_policy_actions_are_in_bounds_with_shape_batch_by_one():
    py_action_spec = array_spec.BoundedArraySpec((1,), np.int32, 0, 2)
    py_time_step_spec = ts.time_step_spec(array_spec.ArraySpec((2,), np.float32))
    policy = random_py_policy.RandomPyPolicy(time_step_spec=py_time_step_spec,
                                             action_spec=py_action_spec)

    time_step = ts.restart(np.zeros((300, 2), np.float32), batch_size=300)
    action = policy.action(time_step).action

    assert action.dtype == np.int32
    assert_valid_actions(action, 300)
    assert set(action[:, 0].tolist()) == {0, 1, 2}


def test_random_py_policy_with_outer_dims():
    py_action_spec = array_spec.BoundedArraySpec((1,), np.int32, 0, 2)
    py_time_step_spec = ts.time_step_spec(array_spec.ArraySpec((2,), np.float32))
    policy = random_py_policy.RandomPyPolicy(time_step_spec=py_time_step_spec,
                                             action_spec=py_action_spec, outer_dims=(4,))

    action = policy.action(ts.restart(np.zeros((4, 2), np.float32), batch_size=4)).action

    assert_valid_actions(action, 4)
