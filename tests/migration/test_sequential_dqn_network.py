"""The DQN tutorial's `sequential.Sequential` Q network, after changing only the imports.

Import mapping exercised:

    tf_agents.networks.sequential            -> tfpolicy.networks.sequential
    tf_agents.policies.q_policy              -> tfpolicy.policies.q_policy
    tf_agents.policies.greedy_policy         -> tfpolicy.policies.greedy_policy
    tf_agents.environments.suite_gym         -> tfpolicy.environments.gymnasium_wrapper
    tf_agents.environments.tf_py_environment -> tfpolicy.environments.tf_py_environment
    tf_agents.specs.tensor_spec              -> specs.tensor_spec
    tf_agents.utils.common                   -> tfpolicy.utils.common

The tutorial builds its Q network from a `dense_layer` helper and a last
`Dense(num_actions)` layer, composed with `sequential.Sequential(dense_layers +
[q_values_layer])` and no input spec; the policy and a `common.function`
train step then use it as any other network.
"""

import numpy as np
import tensorflow as tf

from specs import tensor_spec
from tfpolicy.environments import gymnasium_wrapper as suite_gym
from tfpolicy.environments import tf_py_environment
from tfpolicy.networks import sequential
from tfpolicy.policies import greedy_policy
from tfpolicy.policies import q_policy
from tfpolicy.utils import common

FC_LAYER_PARAMS = (32, 16)
GAMMA = 0.99


def dense_layer(num_units):
    return tf.keras.layers.Dense(
        num_units,
        activation=tf.keras.activations.relu,
        kernel_initializer=tf.keras.initializers.VarianceScaling(
            scale=2.0, mode="fan_in", distribution="truncated_normal", seed=1))


def make_q_net(num_actions):
    dense_layers = [dense_layer(num_units) for num_units in FC_LAYER_PARAMS]
    q_values_layer = tf.keras.layers.Dense(
        num_actions,
        activation=None,
        kernel_initializer=tf.keras.initializers.RandomUniform(minval=-0.03, maxval=0.03,
                                                               seed=2),
        bias_initializer=tf.keras.initializers.Constant(-0.2))
    return sequential.Sequential(dense_layers + [q_values_layer])


def make_env():
    train_py_env = suite_gym.load("CartPole-v1", seed=0)
    return tf_py_environment.TFPyEnvironment(train_py_env)


def collect(env, policy, steps):
    """Steps the environment with the policy; returns the transitions as tensors."""
    observations, actions, rewards, next_observations, discounts = [], [], [], [], []
    time_step = env.reset()
    for _ in range(steps):
        action_step = policy.action(time_step)
        next_time_step = env.step(action_step.action)
        if not bool(time_step.is_last()[0]):
            observations.append(time_step.observation[0])
            actions.append(action_step.action[0])
            rewards.append(next_time_step.reward[0])
            next_observations.append(next_time_step.observation[0])
            discounts.append(next_time_step.discount[0])
        time_step = next_time_step
    return (tf.stack(observations), tf.stack(actions), tf.stack(rewards),
            tf.stack(next_observations), tf.stack(discounts))


def test_tutorial_q_network_acts_in_cartpole_and_learns_on_a_fixed_batch():
    tf.keras.utils.set_random_seed(0)
    train_env = make_env()
    action_tensor_spec = tensor_spec.from_spec(train_env.action_spec())
    num_actions = int(action_tensor_spec.maximum - action_tensor_spec.minimum + 1)
    q_net = make_q_net(num_actions)

    policy = q_policy.QPolicy(train_env.time_step_spec(), train_env.action_spec(),
                              q_network=q_net)
    # The policy ran the network once: 2 dense layers and the Q layer, kernel and bias each.
    assert [tuple(v.shape) for v in q_net.trainable_variables] == [
        (4, 32), (32,), (32, 16), (16,), (16, 2), (2,)]
    assert q_net.state_spec == ()
    assert q_net.layers[-1].units == 2

    transitions = collect(train_env, policy, steps=64)
    observations, actions, rewards, next_observations, discounts = transitions
    assert actions.dtype == train_env.action_spec().dtype
    assert set(actions.numpy().tolist()) <= {0, 1}
    assert rewards.numpy().tolist() == [1.0] * len(rewards)  # CartPole pays 1 per step

    target_q_net = q_net.copy(name="TargetQNetwork")
    target_q_net.create_variables(train_env.observation_spec())
    common.soft_variables_update(q_net.variables, target_q_net.variables, tau=1.0)
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-2)

    @common.function
    def train_step(observations, actions, rewards, next_observations, discounts):
        next_q_values, _ = target_q_net(next_observations)
        td_targets = tf.stop_gradient(
            rewards + GAMMA * discounts * tf.reduce_max(next_q_values, axis=-1))
        with tf.GradientTape() as tape:
            q_values, _ = q_net(observations, training=True)
            q_taken = tf.gather(q_values, tf.cast(actions, tf.int32), batch_dims=1)
            loss = tf.reduce_mean(common.element_wise_squared_loss(td_targets, q_taken))
        grads = tape.gradient(loss, q_net.trainable_variables)
        optimizer.apply_gradients(zip(grads, q_net.trainable_variables))
        return loss

    losses = [float(train_step(*transitions)) for _ in range(60)]

    # Rewards of 1 against Q-values near -0.2 from the bias: the first loss is about
    # (1 + 0.99 * -0.2 + 0.2)^2 ~ 1; regression on a fixed target brings it down.
    assert losses[0] > 0.5
    assert losses[-1] < 0.1 * losses[0]
    # The target network kept the starting weights; the online one moved.
    target_q, _ = target_q_net(observations)
    online_q, _ = q_net(observations)
    assert not np.allclose(target_q.numpy(), online_q.numpy())


def test_greedy_policy_over_the_sequential_q_network_takes_the_argmax():
    tf.keras.utils.set_random_seed(0)
    train_env = make_env()
    q_net = make_q_net(2)
    greedy = greedy_policy.GreedyPolicy(
        q_policy.QPolicy(train_env.time_step_spec(), train_env.action_spec(), q_network=q_net))
    action_fn = common.function(greedy.action)

    time_step = train_env.reset()
    for _ in range(5):
        action_step = action_fn(time_step)
        q_values, _ = q_net(time_step.observation)
        assert action_step.action.numpy().tolist() == np.argmax(q_values.numpy(), -1).tolist()
        time_step = train_env.step(action_step.action)
