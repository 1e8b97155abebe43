"""Custom TF-Agents networks, used by TF-Agents policies, after changing only the imports.

Import mapping exercised:

    tf_agents.networks.network            -> tfpolicy.networks.network
    tf_agents.policies.q_policy           -> tfpolicy.policies.q_policy
    tf_agents.policies.greedy_policy      -> tfpolicy.policies.greedy_policy
    tf_agents.policies.actor_policy       -> tfpolicy.policies.actor_policy
    tf_agents.networks.encoding_network   -> tfpolicy.networks.encoding_network
    tf_agents.networks.utils              -> tfpolicy.networks.utils
    tf_agents.utils.common                -> tfpolicy.utils.common
    tf_agents.specs.tensor_spec           -> specs.tensor_spec
    tf_agents.trajectories.time_step      -> tfpolicy.trajectories.time_step

The networks below are written the way the TF-Agents networks guide describes
them: subclass `network.Network`, pass `input_tensor_spec` and `state_spec` to
`super().__init__`, build Keras layers in `__init__`, and implement
`call(observation, step_type=None, network_state=(), training=False)` returning
`(output, network_state)`.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from specs import tensor_spec
from tfpolicy.networks import encoding_network
from tfpolicy.networks import network
from tfpolicy.policies import actor_policy
from tfpolicy.policies import greedy_policy
from tfpolicy.policies import q_policy
from tfpolicy.trajectories import time_step as ts

# The environment of this tutorial: a 2-d float observation, 3 discrete actions.
OBSERVATION_SPEC = tensor_spec.TensorSpec([2], tf.float32, name="observation")
ACTION_SPEC = tensor_spec.BoundedTensorSpec([], tf.int32, minimum=0, maximum=2, name="action")
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)

# Fixed weights, so the Q-values can be worked out by hand: Q(s) = s @ W.
#   s = [ 3, 0] -> Q = [ 3, 0, -3] -> argmax 0
#   s = [ 1, 2] -> Q = [ 1, 2,  1] -> argmax 1
#   s = [-1, 2] -> Q = [-1, 2,  3] -> argmax 2
Q_WEIGHTS = np.array([[1.0, 0.0, -1.0],
                      [0.0, 1.0, 1.0]], np.float32)
OBSERVATIONS = tf.constant([[3.0, 0.0], [1.0, 2.0], [-1.0, 2.0]])
EXPECTED_GREEDY = [0, 1, 2]


class LinearQNetwork(network.Network):
    """Q-values as a single linear layer of the observation."""

    def __init__(self, input_tensor_spec, num_actions, kernel=None, name="LinearQNetwork"):
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        kernel_initializer = ("glorot_uniform" if kernel is None
                              else tf.keras.initializers.Constant(kernel))
        self._q_layer = tf.keras.layers.Dense(
            num_actions, kernel_initializer=kernel_initializer, bias_initializer="zeros")

    def call(self, observation, step_type=None, network_state=(), training=False):
        return self._q_layer(observation, training=training), network_state


class RunningSumQNetwork(network.Network):
    """A recurrent network: its state is the running sum of all observation entries seen.

    Q = [sum, -sum], so the greedy action is 0 while the sum is positive and 1 otherwise.
    """

    def __init__(self, input_tensor_spec, name="RunningSumQNetwork"):
        super().__init__(input_tensor_spec=input_tensor_spec,
                         state_spec=tf.TensorSpec([1], tf.float32, name="running_sum"),
                         name=name)
        # A Keras layer with a fixed kernel of ones does the summing.
        self._sum_layer = tf.keras.layers.Dense(
            1, use_bias=False, kernel_initializer="ones", trainable=False)

    def call(self, observation, step_type=None, network_state=(), training=False):
        running_sum = network_state + self._sum_layer(observation)
        q_values = tf.concat([running_sum, -running_sum], axis=-1)
        return q_values, running_sum


class CategoricalActorNetwork(network.Network):
    """An actor network whose output is a `tfp` categorical over the actions."""

    def __init__(self, input_tensor_spec, action_spec, kernel, name="CategoricalActorNetwork"):
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        num_actions = int(action_spec.maximum) - int(action_spec.minimum) + 1
        self._logits_layer = tf.keras.layers.Dense(
            num_actions, kernel_initializer=tf.keras.initializers.Constant(kernel),
            bias_initializer="zeros")

    def call(self, observation, step_type=None, network_state=(), training=False):
        logits = self._logits_layer(observation, training=training)
        return tfp.distributions.Categorical(logits=logits, dtype=tf.int32), network_state


# ---- a feed-forward custom network ------------------------------------------------------------


def test_network_reports_the_specs_it_was_given():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3)

    assert net.input_tensor_spec == OBSERVATION_SPEC
    assert net.state_spec == ()


def test_create_variables_returns_output_spec_and_builds_the_layers():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3)

    output_spec = net.create_variables()

    assert output_spec == tf.TensorSpec([3], tf.float32)
    # The Dense layer's kernel [2, 3] and bias [3].
    assert sorted(tuple(v.shape) for v in net.variables) == [(2, 3), (3,)]
    assert len(net.trainable_variables) == 2


def test_network_lists_its_layers():
    # TF-Agents documents `Network.layers` (the network's direct sub-layers) and
    # `Network.get_layer(name=None, index=None)`.
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3)
    net.create_variables()

    assert net.layers == [net._q_layer]
    assert net.get_layer(index=0) is net._q_layer
    assert net.get_layer(name=net._q_layer.name) is net._q_layer


def test_network_summary_prints_its_layers_and_parameter_count():
    # TF-Agents documents `Network.summary(line_length=None, positions=None, print_fn=None)`.
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3)
    net.create_variables()
    lines = []

    net.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))

    text = "\n".join(lines)
    assert net._q_layer.name in text
    assert "Total params: 9" in text  # kernel 2 x 3 + bias 3


def test_network_call_computes_q_values_by_hand():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3, kernel=Q_WEIGHTS)

    q_values, state = net(OBSERVATIONS)

    np.testing.assert_allclose(q_values.numpy(), [[3, 0, -3], [1, 2, 1], [-1, 2, 3]])
    assert state == ()


def test_copy_builds_a_network_with_its_own_variables():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3, kernel=Q_WEIGHTS)
    net.create_variables()

    target = net.copy(name="TargetLinearQNetwork")
    target.create_variables()

    assert target.name == "TargetLinearQNetwork"
    assert isinstance(target, LinearQNetwork)
    assert target.input_tensor_spec == OBSERVATION_SPEC
    original_ids = {id(v) for v in net.variables}
    assert not original_ids & {id(v) for v in target.variables}
    # Changing the copy leaves the original untouched.
    for variable in target.variables:
        variable.assign(tf.zeros_like(variable))
    q_values, _ = net(OBSERVATIONS)
    np.testing.assert_allclose(q_values.numpy(), [[3, 0, -3], [1, 2, 1], [-1, 2, 3]])
    target_q_values, _ = target(OBSERVATIONS)
    np.testing.assert_allclose(target_q_values.numpy(), np.zeros([3, 3]))


def test_q_policy_with_custom_network_is_greedy_on_hand_computed_q_values():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3, kernel=Q_WEIGHTS)
    policy = q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net)
    greedy = greedy_policy.GreedyPolicy(policy)

    time_step = ts.restart(OBSERVATIONS, batch_size=3)
    action_step = greedy.action(time_step)

    assert action_step.action.dtype == tf.int32
    assert action_step.action.numpy().tolist() == EXPECTED_GREEDY
    # The Q policy itself samples from the Q-values as logits: always a valid action.
    sampled = policy.action(time_step).action.numpy()
    assert sampled.shape == (3,)
    assert ((sampled >= 0) & (sampled <= 2)).all()


def test_greedy_policy_steps_through_an_episode():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3, kernel=Q_WEIGHTS)
    greedy = greedy_policy.GreedyPolicy(
        q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net))

    steps = [
        ts.restart(tf.constant([[3.0, 0.0]]), batch_size=1),
        ts.transition(tf.constant([[1.0, 2.0]]), reward=tf.constant([1.0])),
        ts.termination(tf.constant([[-1.0, 2.0]]), reward=tf.constant([1.0])),
    ]
    actions = [int(greedy.action(step).action[0]) for step in steps]

    assert actions == EXPECTED_GREEDY


def test_greedy_policy_action_works_inside_tf_function():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3, kernel=Q_WEIGHTS)
    greedy = greedy_policy.GreedyPolicy(
        q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net))

    action_fn = tf.function(greedy.action)
    action_step = action_fn(ts.restart(OBSERVATIONS, batch_size=3))

    assert action_step.action.numpy().tolist() == EXPECTED_GREEDY


def test_policy_variables_are_the_network_variables():
    net = LinearQNetwork(OBSERVATION_SPEC, num_actions=3, kernel=Q_WEIGHTS)
    policy = q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net)

    assert {id(v) for v in policy.variables()} == {id(v) for v in net.variables}


# ---- a recurrent custom network ---------------------------------------------------------------


def test_recurrent_network_state_spec_becomes_the_policy_state_spec():
    net = RunningSumQNetwork(OBSERVATION_SPEC)
    policy = q_policy.QPolicy(TIME_STEP_SPEC, tensor_spec.BoundedTensorSpec([], tf.int32, 0, 1),
                              q_network=net)

    assert net.state_spec == tf.TensorSpec([1], tf.float32, name="running_sum")
    assert policy.policy_state_spec == net.state_spec
    initial_state = policy.get_initial_state(batch_size=2)
    np.testing.assert_array_equal(initial_state.numpy(), np.zeros([2, 1], np.float32))


def test_recurrent_state_flows_from_step_to_step_and_resets_on_first():
    net = RunningSumQNetwork(OBSERVATION_SPEC)
    greedy = greedy_policy.GreedyPolicy(q_policy.QPolicy(
        TIME_STEP_SPEC, tensor_spec.BoundedTensorSpec([], tf.int32, 0, 1), q_network=net))
    state = greedy.get_initial_state(batch_size=2)

    # Step 1 (FIRST): sums [1, -2] -> actions [0, 1].
    step = greedy.action(ts.restart(tf.constant([[1.0, 0.0], [-2.0, 0.0]]), batch_size=2), state)
    np.testing.assert_allclose(step.state.numpy(), [[1.0], [-2.0]])
    assert step.action.numpy().tolist() == [0, 1]

    # Step 2 (MID): the sums carry over: [1 - 3, -2 + 1] = [-2, -1] -> actions [1, 1].
    step = greedy.action(
        ts.transition(tf.constant([[-3.0, 0.0], [0.5, 0.5]]), reward=tf.zeros([2])), step.state)
    np.testing.assert_allclose(step.state.numpy(), [[-2.0], [-1.0]])
    assert step.action.numpy().tolist() == [1, 1]

    # Step 3 (FIRST again): the state is reset before the network runs: sums [0.5, 0.5].
    step = greedy.action(ts.restart(tf.constant([[0.5, 0.0], [0.0, 0.5]]), batch_size=2),
                         step.state)
    np.testing.assert_allclose(step.state.numpy(), [[0.5], [0.5]])
    assert step.action.numpy().tolist() == [0, 0]


# ---- a custom actor network in ActorPolicy ----------------------------------------------------


def test_actor_policy_with_distribution_network_samples_valid_actions():
    actor_net = CategoricalActorNetwork(OBSERVATION_SPEC, ACTION_SPEC, kernel=Q_WEIGHTS)
    policy = actor_policy.ActorPolicy(
        time_step_spec=TIME_STEP_SPEC, action_spec=ACTION_SPEC, actor_network=actor_net)

    action = policy.action(ts.restart(OBSERVATIONS, batch_size=3)).action.numpy()

    assert action.shape == (3,)
    assert ((action >= 0) & (action <= 2)).all()


def test_actor_policy_distribution_has_the_networks_logits():
    actor_net = CategoricalActorNetwork(OBSERVATION_SPEC, ACTION_SPEC, kernel=Q_WEIGHTS)
    policy = actor_policy.ActorPolicy(
        time_step_spec=TIME_STEP_SPEC, action_spec=ACTION_SPEC, actor_network=actor_net)

    distribution = policy.distribution(ts.restart(OBSERVATIONS, batch_size=3)).action

    # Probabilities are the softmax of the hand-computed logits s @ W.
    logits = OBSERVATIONS.numpy() @ Q_WEIGHTS
    expected = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(distribution.probs_parameter().numpy(), expected, rtol=1e-5)


def test_greedy_actor_policy_takes_the_most_likely_action():
    # Scaled logits make the argmax overwhelming, so sampling agrees with it as well.
    actor_net = CategoricalActorNetwork(OBSERVATION_SPEC, ACTION_SPEC, kernel=50.0 * Q_WEIGHTS)
    policy = actor_policy.ActorPolicy(
        time_step_spec=TIME_STEP_SPEC, action_spec=ACTION_SPEC, actor_network=actor_net)
    time_step = ts.restart(OBSERVATIONS, batch_size=3)

    assert greedy_policy.GreedyPolicy(policy).action(time_step).action.numpy().tolist() == (
        EXPECTED_GREEDY)
    assert policy.action(time_step).action.numpy().tolist() == EXPECTED_GREEDY


def test_actor_network_without_input_spec_gets_it_from_the_policy():
    # TF-Agents' ActorPolicy calls `actor_network.create_variables(time_step_spec.observation)`,
    # so a network constructed with `input_tensor_spec=None` is accepted there.
    actor_net = CategoricalActorNetwork(None, ACTION_SPEC, kernel=50.0 * Q_WEIGHTS)
    assert actor_net.input_tensor_spec is None

    policy = actor_policy.ActorPolicy(
        time_step_spec=TIME_STEP_SPEC, action_spec=ACTION_SPEC, actor_network=actor_net)

    assert actor_net.input_tensor_spec == OBSERVATION_SPEC
    assert len(policy.variables()) == 2
    action = policy.action(ts.restart(OBSERVATIONS, batch_size=3)).action
    assert action.numpy().tolist() == EXPECTED_GREEDY


# ---- the helpers the TF-Agents networks guide builds custom networks from ---------------------


def test_encoding_network_with_preprocessing_layers_and_batch_squash_off():
    # The guide's custom actor squashes batch and time itself and so builds its
    # encoder with `batch_squash=False`.
    observation_spec = {"position": tf.TensorSpec([2], tf.float32),
                        "image": tf.TensorSpec([4, 4, 1], tf.float32)}
    encoder = encoding_network.EncodingNetwork(
        observation_spec,
        preprocessing_layers={"position": tf.keras.layers.Dense(3),
                              "image": tf.keras.layers.Flatten()},
        preprocessing_combiner=tf.keras.layers.Concatenate(axis=-1),
        fc_layer_params=(8,),
        batch_squash=False)

    encoding, _ = encoder({"position": tf.zeros([5, 2]), "image": tf.zeros([5, 4, 4, 1])})

    assert encoding.shape == [5, 8]


def test_batch_squash_folds_batch_and_time_and_back():
    from tfpolicy.networks import utils

    observations = tf.reshape(tf.range(24, dtype=tf.float32), [2, 3, 4])
    batch_squash = utils.BatchSquash(2)

    flat = batch_squash.flatten(observations)
    restored = batch_squash.unflatten(flat)

    assert flat.shape == [6, 4]
    np.testing.assert_array_equal(restored.numpy(), observations.numpy())


def test_common_scale_to_spec_maps_minus_one_one_onto_the_bounds():
    from tfpolicy.utils import common

    spec = tensor_spec.BoundedTensorSpec([3], tf.float32, minimum=-2.0, maximum=4.0)

    # Centre 1, half-width 3: -1 -> -2, 0 -> 1, 1 -> 4.
    scaled = common.scale_to_spec(tf.constant([[-1.0, 0.0, 1.0]]), spec)

    np.testing.assert_allclose(scaled.numpy(), [[-2.0, 1.0, 4.0]])
