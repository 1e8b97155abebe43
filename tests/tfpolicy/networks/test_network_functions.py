"""Tests of network.create_variables and network.get_state_spec on networks and Keras layers."""

import keras
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec
from tfpolicy.networks import network
from tfpolicy.networks.q_network import QNetwork
from tfpolicy.networks.q_rnn_network import QRnnNetwork


def _action_spec(n):
    return BoundedTensorSpec([], tf.int32, 0, n - 1)


def test_create_variables_on_a_keras_layer_builds_it_and_returns_the_unbatched_spec():
    dense = keras.layers.Dense(3)
    spec = network.create_variables(dense, tf.TensorSpec([5], tf.float32))
    assert spec == tf.TensorSpec([3], tf.float32)
    assert dense.built and dense.kernel.shape == (5, 3)


def test_create_variables_on_a_keras_cell_runs_it_with_a_zero_state():
    cell = keras.layers.LSTMCell(4)
    assert network.create_variables(cell, tf.TensorSpec([2], tf.float32)) == \
        tf.TensorSpec([4], tf.float32)
    assert cell.built


def test_create_variables_on_a_network_is_its_method():
    q = QNetwork(tf.TensorSpec([4], tf.float32), _action_spec(3), fc_layer_params=(8,))
    assert network.create_variables(q) == tf.TensorSpec([3], tf.float32)
    assert q.built


def test_create_variables_on_a_keras_layer_needs_an_input_spec():
    with pytest.raises(ValueError, match=r"create_variables: Dense 'd' is a Keras layer, so an "
                                         r"input_spec is required; got None"):
        network.create_variables(keras.layers.Dense(2, name="d"))


def test_get_state_spec_of_networks_cells_rnn_layers_and_plain_layers():
    rnn = QRnnNetwork(tf.TensorSpec([4], tf.float32), _action_spec(2), lstm_size=(5,))
    assert network.get_state_spec(rnn) == rnn.state_spec
    lstm_state = [tf.TensorSpec([6], tf.float32), tf.TensorSpec([6], tf.float32)]
    assert network.get_state_spec(keras.layers.LSTMCell(6)) == lstm_state
    assert network.get_state_spec(keras.layers.LSTM(6, return_state=True)) == lstm_state
    assert network.get_state_spec(keras.layers.GRUCell(3)) == tf.TensorSpec([3], tf.float32)
    assert network.get_state_spec(keras.layers.Dense(2)) == ()
