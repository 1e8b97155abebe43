"""TF-Agents projection networks and custom distribution networks, after changing only the imports.

Import mapping exercised:

    tf_agents.networks.actor_distribution_network     -> tfpolicy.networks.actor_distribution_network
    tf_agents.networks.normal_projection_network      -> tfpolicy.networks.normal_projection_network
    tf_agents.networks.categorical_projection_network -> tfpolicy.networks.categorical_projection_network
    tf_agents.networks.network                        -> tfpolicy.networks.network
    tf_agents.networks.q_network                      -> tfpolicy.networks.q_network
    tf_agents.policies.actor_policy                   -> tfpolicy.policies.actor_policy
    tf_agents.policies.q_policy                       -> tfpolicy.policies.q_policy
    tf_agents.specs.tensor_spec                       -> specs.tensor_spec
    tf_agents.trajectories.time_step                  -> tfpolicy.trajectories.time_step

The code is written as TF-Agents users write it: an actor network whose
continuous head is a `NormalProjectionNetwork` made by a
`continuous_projection_net` factory, a hand-written `DistributionNetwork`
subclass driven by `ActorPolicy`, and a `QNetwork` with dropout.
"""

import functools

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from specs import tensor_spec
from tfpolicy.networks import actor_distribution_network
from tfpolicy.networks import categorical_projection_network
from tfpolicy.networks import network
from tfpolicy.networks import normal_projection_network
from tfpolicy.networks import q_network
from tfpolicy.policies import actor_policy
from tfpolicy.policies import q_policy
from tfpolicy.trajectories import time_step as ts

OBSERVATION_SPEC = tensor_spec.TensorSpec([3], tf.float32)
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)
CONTINUOUS = tensor_spec.BoundedTensorSpec([2], tf.float32, minimum=-2.0, maximum=2.0)
DISCRETE = tensor_spec.BoundedTensorSpec([], tf.int32, minimum=0, maximum=2)


def _time_step(batch_size):
    observation = tf.reshape(tf.range(batch_size * 3, dtype=tf.float32), [batch_size, 3])
    return ts.restart(observation, batch_size=batch_size)


def test_actor_network_with_a_scaled_normal_projection_in_an_actor_policy():
    tf.random.set_seed(0)

    def normal_projection_net(action_spec, init_stddev=0.5):
        return normal_projection_network.NormalProjectionNetwork(
            action_spec,
            std_bias_initializer_value=float(np.log(np.exp(init_stddev) - 1.0)),
            scale_distribution=True,
            seed=42)

    actor_net = actor_distribution_network.ActorDistributionNetwork(
        OBSERVATION_SPEC,
        CONTINUOUS,
        fc_layer_params=(16,),
        continuous_projection_net=normal_projection_net)
    policy = actor_policy.ActorPolicy(TIME_STEP_SPEC, CONTINUOUS, actor_network=actor_net)

    time_step = _time_step(64)
    actions = policy.action(time_step, seed=7).action
    assert actions.shape == [64, 2]
    # scale_distribution squashes every sample into the bounds (tanh, then scaled to [-2, 2])
    assert np.all(np.abs(actions.numpy()) <= 2.0)
    assert np.all(np.isfinite(policy.distribution(time_step).action.log_prob(actions * 0.5)))
    distribution = policy.distribution(time_step).action
    assert distribution.batch_shape == [64]


def test_actor_network_with_custom_discrete_projection_factory():
    actor_net = actor_distribution_network.ActorDistributionNetwork(
        OBSERVATION_SPEC,
        DISCRETE,
        fc_layer_params=(8,),
        discrete_projection_net=functools.partial(
            categorical_projection_network.CategoricalProjectionNetwork,
            logits_init_output_factor=1e-10))
    policy = actor_policy.ActorPolicy(TIME_STEP_SPEC, DISCRETE, actor_network=actor_net)
    distribution = policy.distribution(_time_step(2)).action
    # a near-zero logits kernel and a zero bias: every action (almost exactly) equally likely
    np.testing.assert_allclose(distribution.probs_parameter().numpy(), np.full([2, 3], 1 / 3),
                               rtol=1e-4)


class FixedGaussianActor(network.DistributionNetwork):
    """A user's distribution network: the mean is 0.1 * sum(observation), the std fixed."""

    def __init__(self, input_tensor_spec, action_spec, stddev=0.25, name="FixedGaussianActor"):
        output_spec = tfp.distributions.Normal  # a user may put any description here
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(),
                         output_spec=output_spec, name=name)
        self._action_spec = action_spec
        self._stddev = stddev
        self._bias = tf.Variable(0.0, name="bias")

    def call(self, observations, step_type=None, network_state=(), training=False):
        mean = 0.1 * tf.reduce_sum(observations, axis=-1, keepdims=True) + self._bias
        mean = tf.tile(mean, [1, self._action_spec.shape[0]])
        distribution = tfp.distributions.MultivariateNormalDiag(
            loc=mean, scale_diag=self._stddev * tf.ones_like(mean))
        return distribution, network_state


def test_custom_distribution_network_in_an_actor_policy():
    actor_net = FixedGaussianActor(OBSERVATION_SPEC, CONTINUOUS)
    policy = actor_policy.ActorPolicy(TIME_STEP_SPEC, CONTINUOUS, actor_network=actor_net,
                                      clip=False)
    distribution = policy.distribution(_time_step(2)).action
    # observations [0, 1, 2] and [3, 4, 5]: means 0.3 and 1.2
    np.testing.assert_allclose(distribution.mean().numpy(), [[0.3, 0.3], [1.2, 1.2]], rtol=1e-6)
    np.testing.assert_allclose(distribution.stddev().numpy(), np.full([2, 2], 0.25), rtol=1e-6)
    assert [v.name for v in policy.variables()] == ["bias:0"]


def test_q_network_with_dropout_is_deterministic_outside_training():
    tf.random.set_seed(1)
    q_net = q_network.QNetwork(
        OBSERVATION_SPEC, DISCRETE, fc_layer_params=(32, 16), dropout_layer_params=(0.3, None))
    policy = q_policy.QPolicy(TIME_STEP_SPEC, DISCRETE, q_network=q_net)
    time_step = _time_step(4)
    # the policy calls the network with training=False: no dropout, the same logits every time
    logits = policy.distribution(time_step).action.logits_parameter().numpy()
    np.testing.assert_array_equal(logits, policy.distribution(time_step).action.logits_parameter())
    q_values, _ = q_net(time_step.observation)
    np.testing.assert_allclose(q_values.numpy(), logits, rtol=1e-6)
    with_dropout = [q_net(time_step.observation, training=True)[0].numpy() for _ in range(2)]
    assert not np.allclose(with_dropout[0], with_dropout[1])
