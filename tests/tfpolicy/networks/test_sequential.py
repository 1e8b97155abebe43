"""Tests of `Sequential`: layer kinds, state carrying, copies, errors, and use in policies."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from savers import PolicySaver, load
from specs import BoundedTensorSpec, TensorSpec
from tfpolicy import networks
from tfpolicy.networks.network import Network
from tfpolicy.networks.sequential import Sequential
from tfpolicy.policies import actor_policy, greedy_policy, q_policy
from tfpolicy.trajectories import time_step as ts

OBS = TensorSpec([2], tf.float32)
ACTIONS = BoundedTensorSpec([], tf.int32, 0, 1)
W = np.array([[1.0, -1.0], [2.0, 0.5]], np.float32)


def _dense(kernel, bias=0.0, activation=None):
    kernel = np.asarray(kernel, np.float32)
    return keras.layers.Dense(
        kernel.shape[1], activation=activation,
        kernel_initializer=keras.initializers.Constant(kernel),
        bias_initializer=keras.initializers.Constant(bias))


def _summing_cell():
    """A linear RNN cell whose state is the running sum of its inputs' entries."""
    return keras.layers.SimpleRNNCell(1, activation=None, use_bias=False,
                                      kernel_initializer="ones", recurrent_initializer="ones")


def _summing_rnn():
    return keras.layers.SimpleRNN(1, activation=None, use_bias=False, kernel_initializer="ones",
                                  recurrent_initializer="ones", return_sequences=True,
                                  return_state=True)


class Offset(Network):
    """A stateful network: adds its state and returns state + 1; records the step types."""

    def __init__(self, name="Offset"):
        super().__init__(None, TensorSpec([2], tf.float32), name=name)
        self.step_types = []

    def call(self, observation, step_type=None, network_state=(), training=False):
        self.step_types.append(step_type)
        state = network_state if network_state != () else tf.zeros_like(observation)
        return observation + state, state + 1.0


# ---- feed-forward --------------------------------------------------------------------------


def test_dense_layers_compose_in_order():
    net = Sequential([_dense(W, bias=1.0, activation="relu"), _dense([[1.0], [1.0]])])

    output, state = net(tf.constant([[1.0, 1.0], [1.0, -1.0]]))

    # [1, 1] @ W + 1 = [4, 0.5] -> relu -> sum 4.5; [1, -1] @ W + 1 = [0, -0.5] -> [0, 0] -> 0.
    np.testing.assert_allclose(output.numpy(), [[4.5], [0.0]])
    assert state == () and net.state_spec == ()


def test_create_variables_builds_from_the_input_spec_and_returns_the_output_spec():
    net = Sequential([_dense(W), keras.layers.Dense(3)], input_spec=OBS)

    output_spec = net.create_variables()

    assert output_spec == tf.TensorSpec([3], tf.float32)
    assert [tuple(v.shape) for v in net.trainable_variables] == [(2, 2), (2,), (2, 3), (3,)]


def test_create_variables_takes_the_spec_when_constructed_without_one():
    net = Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="no input_tensor_spec"):
        net.create_variables()

    assert net.create_variables(OBS) == tf.TensorSpec([3], tf.float32)
    assert net.input_tensor_spec == OBS


def test_layers_lists_the_layers_in_order_and_is_a_copy():
    first, second = keras.layers.Dense(2), keras.layers.Dense(1)
    net = Sequential([first, second])

    layers = net.layers
    layers.append(keras.layers.Dense(5))

    assert net.layers == [first, second]
    assert net.get_layer(index=1) is second


def test_training_reaches_the_keras_layers():
    net = Sequential([keras.layers.Dropout(0.5, seed=3)])
    ones = tf.ones([1, 1000])

    inference, _ = net(ones)
    training, _ = net(ones, training=True)

    np.testing.assert_array_equal(inference.numpy(), ones.numpy())
    # Dropout zeroes about half the entries and doubles the rest.
    assert set(np.unique(training.numpy())) == {0.0, 2.0}


def test_last_lambda_layer_may_return_a_distribution():
    net = Sequential(
        [_dense(W), keras.layers.Lambda(lambda t: tfp.distributions.Categorical(logits=t))],
        input_spec=OBS)

    distribution, _ = net(tf.constant([[1.0, 0.0]]))

    np.testing.assert_allclose(distribution.logits.numpy(), [[1.0, -1.0]])
    assert net.create_variables() == tf.TensorSpec([], tf.int32)


# ---- state ---------------------------------------------------------------------------------


def test_keras_cell_state_is_carried_between_calls():
    net = Sequential([_summing_cell()])
    assert net.state_spec == (tf.TensorSpec([1], tf.float32),)

    output, state = net(tf.constant([[1.0, 2.0], [3.0, -1.0]]))
    np.testing.assert_allclose(output.numpy(), [[3.0], [2.0]])
    output, state = net(tf.constant([[0.5, 0.5], [0.0, 1.0]]), network_state=state)

    np.testing.assert_allclose(output.numpy(), [[4.0], [3.0]])
    assert isinstance(state, tuple) and len(state) == 1
    np.testing.assert_allclose(state[0].numpy(), [[4.0], [3.0]])


def test_lstm_cell_state_lists_become_tuples():
    net = Sequential([keras.layers.Dense(3), keras.layers.LSTMCell(4)])

    assert net.state_spec == ((tf.TensorSpec([4], tf.float32), tf.TensorSpec([4], tf.float32)),)
    _, state = net(tf.zeros([2, 5]))
    _, state = net(tf.ones([2, 5]), network_state=state)
    assert isinstance(state[0], tuple) and [s.shape for s in state[0]] == [[2, 4], [2, 4]]


def test_keras_rnn_layer_runs_sequences_and_single_steps():
    net = Sequential([_summing_rnn()])
    sequence = tf.constant([[[1.0], [2.0], [3.0]]])

    outputs, state = net(sequence)
    np.testing.assert_allclose(outputs.numpy(), [[[1.0], [3.0], [6.0]]])
    np.testing.assert_allclose(state[0].numpy(), [[6.0]])

    # A [B, F] input is one step, continuing from the given state.
    output, state = net(tf.constant([[4.0]]), network_state=state)
    np.testing.assert_allclose(output.numpy(), [[10.0]])
    np.testing.assert_allclose(state[0].numpy(), [[10.0]])


def test_stateful_networks_get_their_state_and_the_step_type():
    inner = Offset()
    net = Sequential([inner, keras.layers.Dense(2), Offset(name="second")], input_spec=OBS)
    assert net.state_spec == (TensorSpec([2], tf.float32), TensorSpec([2], tf.float32))
    step_type = tf.constant([ts.StepType.FIRST])

    _, state = net(tf.zeros([1, 2]), step_type=step_type)
    _, state = net(tf.zeros([1, 2]), step_type=step_type, network_state=state)

    np.testing.assert_allclose(state[0].numpy(), [[2.0, 2.0]])
    np.testing.assert_allclose(state[1].numpy(), [[2.0, 2.0]])
    assert all(s is step_type for s in inner.step_types)


def test_only_stateful_layers_have_state_entries():
    net = Sequential([keras.layers.Dense(2), _summing_cell(), keras.layers.Dense(1),
                      keras.layers.LSTMCell(2)])

    assert len(net.state_spec) == 2
    assert net.state_spec[0] == tf.TensorSpec([1], tf.float32)
    assert len(net.get_initial_state(3)[1]) == 2


# ---- errors --------------------------------------------------------------------------------


def test_empty_layers_are_an_error():
    with pytest.raises(ValueError, match="non-empty"):
        Sequential([])


def test_an_entry_that_is_not_a_layer_is_named():
    with pytest.raises(TypeError, match=r"layers\[1\] must be a Keras layer or a network"):
        Sequential([keras.layers.Dense(2), tf.nn.relu])


def test_rnn_layer_without_state_output_is_an_error():
    with pytest.raises(ValueError, match="return_state=False"):
        Sequential([keras.layers.LSTM(3, return_sequences=True)])


def test_wrong_state_structure_names_the_network():
    net = Sequential([_summing_cell(), keras.layers.LSTMCell(2)])
    with pytest.raises(TypeError, match="Sequential network_state"):
        net(tf.zeros([1, 2]), network_state=(tf.zeros([1, 1]),))


def test_cell_given_a_sequence_suggests_an_rnn_layer():
    net = Sequential([_summing_cell()])
    with pytest.raises(ValueError, match=r"layers\[0\].*keras.layers.RNN\(cell"):
        net(tf.zeros([1, 3, 2]))


# ---- copy ----------------------------------------------------------------------------------


def test_copy_has_its_own_variables_with_the_same_values():
    keras.utils.set_random_seed(0)
    net = Sequential([keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2),
                      keras.layers.Lambda(lambda t: 2.0 * t)], input_spec=OBS)
    net.create_variables()

    target = net.copy(name="Target")

    assert target.name == "Target" and target.built
    assert not {id(v) for v in net.variables} & {id(v) for v in target.variables}
    x = tf.constant([[1.0, -2.0]])
    np.testing.assert_allclose(target(x)[0].numpy(), net(x)[0].numpy())
    for variable in target.variables:
        variable.assign(tf.zeros_like(variable))
    np.testing.assert_allclose(target(x)[0].numpy(), [[0.0, 0.0]])
    assert np.abs(net(x)[0].numpy()).sum() > 0


def test_copy_of_a_network_without_input_spec_is_built_on_first_use():
    net = Sequential([keras.layers.Dense(2), Offset()])
    net(tf.zeros([1, 2]))

    target = net.copy()
    target.create_variables(OBS)

    assert len(target.variables) == len(net.variables) == 2
    assert not {id(v) for v in net.variables} & {id(v) for v in target.variables}
    assert isinstance(target.layers[1], Offset) and target.layers[1] is not net.layers[1]


# ---- in policies and exports ---------------------------------------------------------------


def test_q_policy_with_a_stateful_sequential_resets_the_state_on_first_steps():
    net = Sequential([_summing_cell(), keras.layers.Lambda(lambda s: tf.concat([s, -s], -1))])
    greedy = greedy_policy.GreedyPolicy(
        q_policy.QPolicy(ts.time_step_spec(OBS), ACTIONS, q_network=net))
    assert greedy.policy_state_spec == net.state_spec

    state = greedy.get_initial_state(2)
    # Running sums [1, -2] -> Q = [s, -s] -> actions [0, 1].
    step = greedy.action(ts.restart(tf.constant([[1.0, 0.0], [-2.0, 0.0]]), 2), state)
    assert step.action.numpy().tolist() == [0, 1]
    # Sums carry over: [1 - 3, -2 + 3] = [-2, 1] -> actions [1, 0].
    step = greedy.action(ts.transition(tf.constant([[-3.0, 0.0], [3.0, 0.0]]), tf.zeros([2])),
                         step.state)
    assert step.action.numpy().tolist() == [1, 0]
    # A FIRST step starts from zeros again: sums [-1, 1].
    step = greedy.action(ts.restart(tf.constant([[-1.0, 0.0], [1.0, 0.0]]), 2), step.state)
    np.testing.assert_allclose(step.state[0].numpy(), [[-1.0], [1.0]])


def test_actor_policy_with_a_distribution_lambda_has_the_hand_computed_probabilities():
    net = Sequential(
        [_dense(W), keras.layers.Lambda(
            lambda logits: tfp.distributions.Categorical(logits=logits, dtype=tf.int32))])
    policy = actor_policy.ActorPolicy(ts.time_step_spec(OBS), ACTIONS, actor_network=net)
    observation = tf.constant([[1.0, 0.0], [0.0, 2.0]])

    distribution = policy.distribution(ts.restart(observation, 2)).action

    logits = observation.numpy() @ W  # [[1, -1], [4, 1]]
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(distribution.probs_parameter().numpy(), expected, rtol=1e-5)
    assert net.input_tensor_spec == OBS  # ActorPolicy gave the network its input spec


def test_policy_saver_exports_a_stateful_sequential_q_policy(tmp_path):
    net = Sequential([_summing_cell(), keras.layers.Lambda(lambda s: tf.concat([s, -s], -1))],
                     input_spec=OBS)
    policy = greedy_policy.GreedyPolicy(
        q_policy.QPolicy(ts.time_step_spec(OBS), ACTIONS, q_network=net))
    PolicySaver(policy).save(tmp_path / "export")
    loaded = load(tmp_path / "export")

    state = loaded.get_initial_state(tf.constant(2))
    step = loaded.action(ts.restart(tf.constant([[1.0, 0.0], [-2.0, 0.0]]), 2), state)
    step = loaded.action(ts.transition(tf.constant([[-3.0, 0.0], [3.0, 0.0]]), tf.zeros([2])),
                         step.state)

    assert step.action.numpy().tolist() == [1, 0]
    np.testing.assert_allclose(tf.nest.flatten(step.state)[0].numpy(), [[-2.0], [1.0]])


def test_exported_from_the_networks_package():
    assert networks.Sequential is Sequential
    assert networks.sequential.Sequential is Sequential
