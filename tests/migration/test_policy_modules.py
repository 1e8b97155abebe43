"""Batched numpy policies, action smoothing, the policy loader and soft updates, the TF-Agents way.

Import mapping exercised:

    tf_agents.policies.batched_py_policy         -> tfpolicy.policies.batched_py_policy
    tf_agents.policies.scripted_py_policy        -> tfpolicy.policies.scripted_py_policy
    tf_agents.policies.random_py_policy          -> tfpolicy.policies.random_py_policy
    tf_agents.policies.temporal_action_smoothing -> tfpolicy.policies.temporal_action_smoothing
    tf_agents.policies.actor_policy              -> tfpolicy.policies.actor_policy
    tf_agents.policies.q_policy                  -> tfpolicy.policies.q_policy
    tf_agents.policies.policy_saver              -> savers.policy_saver
    tf_agents.policies.policy_loader             -> savers.policy_loader
    tf_agents.networks.network                   -> tfpolicy.networks.network
    tf_agents.networks.q_network                 -> tfpolicy.networks.q_network
    tf_agents.environments.py_environment        -> tfpolicy.environments.py_environment
    tf_agents.environments.batched_py_environment
                                                 -> tfpolicy.environments.batched_py_environment
    tf_agents.specs.array_spec                   -> specs.array_spec
    tf_agents.specs.tensor_spec                  -> specs.tensor_spec
    tf_agents.trajectories.time_step             -> tfpolicy.trajectories.time_step

The environment rewards the action taken and ends every episode after three
steps, so the returns of scripted policies can be worked out by hand.
"""

import keras
import numpy as np
import tensorflow as tf

from savers import policy_loader
from savers import policy_saver
from specs import array_spec
from specs import tensor_spec
from tfpolicy.environments import batched_py_environment
from tfpolicy.environments import py_environment
from tfpolicy.networks import network
from tfpolicy.networks import q_network
from tfpolicy.policies import actor_policy
from tfpolicy.policies import batched_py_policy
from tfpolicy.policies import q_policy
from tfpolicy.policies import random_py_policy
from tfpolicy.policies import scripted_py_policy
from tfpolicy.policies import temporal_action_smoothing
from tfpolicy.trajectories import time_step as ts


class RewardActionEnv(py_environment.PyEnvironment):
    """Rewards the action taken; an episode lasts three steps."""

    def __init__(self):
        super().__init__()
        self._action_spec = array_spec.BoundedArraySpec(
            shape=(), dtype=np.int32, minimum=0, maximum=4, name="action")
        self._observation_spec = array_spec.ArraySpec(
            shape=(1,), dtype=np.float32, name="observation")
        self._count = 0

    def action_spec(self):
        return self._action_spec

    def observation_spec(self):
        return self._observation_spec

    def _reset(self):
        self._count = 0
        return ts.restart(np.array([0.0], dtype=np.float32))

    def _step(self, action):
        self._count += 1
        observation = np.array([self._count], dtype=np.float32)
        if self._count == 3:
            return ts.termination(observation, reward=float(action))
        return ts.transition(observation, reward=float(action), discount=1.0)


def test_batched_scripted_policies_step_a_batched_environment():
    env = batched_py_environment.BatchedPyEnvironment([RewardActionEnv(), RewardActionEnv()])
    scripts = [[(3, np.int32(1))], [(1, np.int32(4)), (2, np.int32(2))]]
    policy = batched_py_policy.BatchedPyPolicy(
        [scripted_py_policy.ScriptedPyPolicy(env.time_step_spec(), env.action_spec(), script)
         for script in scripts])

    time_step = env.reset()
    policy_state = policy.get_initial_state(env.batch_size)
    returns = np.zeros(env.batch_size)
    for _ in range(3):
        action_step = policy.action(time_step, policy_state)
        time_step = env.step(action_step.action)
        policy_state = action_step.state
        returns += time_step.reward
    np.testing.assert_array_equal(returns, [1 + 1 + 1, 4 + 2 + 2])
    np.testing.assert_array_equal(time_step.step_type, [ts.StepType.LAST] * 2)


def test_batched_random_policies_act_within_the_action_spec():
    env = batched_py_environment.BatchedPyEnvironment([RewardActionEnv() for _ in range(3)])
    policy = batched_py_policy.BatchedPyPolicy(
        [random_py_policy.RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=seed)
         for seed in range(3)], multithreading=False)
    time_step = env.reset()
    actions = []
    for _ in range(6):
        action_step = policy.action(time_step)
        actions.append(action_step.action)
        time_step = env.step(action_step.action)
    actions = np.stack(actions)
    assert actions.shape == (6, 3) and actions.dtype == np.int32
    assert actions.min() >= 0 and actions.max() <= 4


class ConstantActorNetwork(network.Network):
    """A user's deterministic actor: its action is the bias of a zero-kernel Dense layer."""

    def __init__(self, input_tensor_spec, output_tensor_spec, name="ConstantActorNetwork"):
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        self._dense = keras.layers.Dense(
            output_tensor_spec.shape.num_elements(), kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant([0.8, -0.4]))

    def call(self, observations, step_type=(), network_state=(), training=False):
        return self._dense(observations), network_state


def test_temporal_action_smoothing_around_an_actor_policy():
    observation_spec = tensor_spec.TensorSpec([3], tf.float32)
    action_spec = tensor_spec.BoundedTensorSpec([2], tf.float32, -1.0, 1.0)
    time_step_spec = ts.time_step_spec(observation_spec)
    actor = actor_policy.ActorPolicy(
        time_step_spec=time_step_spec, action_spec=action_spec,
        actor_network=ConstantActorNetwork(observation_spec, action_spec))
    policy = temporal_action_smoothing.TemporalActionSmoothing(actor, smoothing_coefficient=0.5)

    policy_state = policy.get_initial_state(batch_size=1)
    time_step = ts.restart(tf.zeros([1, 3]), batch_size=1)
    smoothed = []
    for _ in range(3):
        action_step = policy.action(time_step, policy_state)
        smoothed.append(action_step.action.numpy()[0])
        policy_state = action_step.state
        time_step = ts.transition(tf.zeros([1, 3]), reward=tf.zeros([1]))
    # 0.5 * previous + 0.5 * [0.8, -0.4], from zero.
    np.testing.assert_allclose(smoothed, [[0.4, -0.2], [0.6, -0.3], [0.7, -0.35]], rtol=1e-6)


def _q_policy(seed):
    keras.utils.set_random_seed(seed)
    observation_spec = tensor_spec.TensorSpec([1], tf.float32, "observation")
    action_spec = tensor_spec.BoundedTensorSpec([], tf.int32, 0, 4, "action")
    net = q_network.QNetwork(observation_spec, action_spec, fc_layer_params=(8,))
    return q_policy.QPolicy(ts.time_step_spec(observation_spec), action_spec, q_network=net)


def test_policy_loader_loads_an_export_with_a_newer_checkpoint(tmp_path):
    policy = _q_policy(seed=1)
    train_step = tf.Variable(0, dtype=tf.int64)
    saver = policy_saver.PolicySaver(policy, batch_size=None, train_step=train_step)
    saver.save(str(tmp_path / "policy"))
    for variable in policy.variables():
        variable.assign(variable * 2.0 + 0.5)
    train_step.assign(100)
    saver.save_checkpoint(str(tmp_path / "checkpoint" / "policy_checkpoint_0000100"))

    loaded = policy_loader.load(str(tmp_path / "policy"),
                                str(tmp_path / "checkpoint" / "policy_checkpoint_0000100"))
    assert loaded.get_train_step() == 100
    for got, expected in zip(loaded.variables(), policy.variables()):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())

    policy_loader.materialize_saved_model(
        str(tmp_path / "policy"), str(tmp_path / "checkpoint" / "policy_checkpoint_0000100"),
        str(tmp_path / "policy" / "prod"))
    production = policy_loader.load(str(tmp_path / "policy" / "prod"))
    assert production.get_train_step() == 100
    for got, expected in zip(production.variables(), policy.variables()):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_update_copies_and_averages_the_variables_of_another_policy():
    policy = _q_policy(seed=2)
    target = _q_policy(seed=3)
    before = [v.numpy().copy() for v in target.variables()]
    source = [v.numpy().copy() for v in policy.variables()]
    assert not all(np.array_equal(a, b) for a, b in zip(before, source))

    target.update(policy, tau=0.25)
    for got, old, new in zip(target.variables(), before, source):
        np.testing.assert_allclose(got.numpy(), 0.25 * new + 0.75 * old, rtol=1e-6)

    target.update(policy)
    for got, new in zip(target.variables(), source):
        np.testing.assert_array_equal(got.numpy(), new)
