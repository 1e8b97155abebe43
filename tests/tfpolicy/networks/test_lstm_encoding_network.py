"""Tests of `LSTMEncodingNetwork`: shapes, state, resets, `rnn_construction_fn`, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy import networks
from tfpolicy.networks.lstm_encoding_network import LSTMEncodingNetwork
from tfpolicy.networks.q_rnn_network import QRnnNetwork
from tfpolicy.trajectories import time_step as ts

OBS = TensorSpec([3], tf.float32)


def _net(**kwargs):
    keras.utils.set_random_seed(0)
    defaults = dict(input_fc_layer_params=(6,), lstm_size=(4,), output_fc_layer_params=(5,))
    return LSTMEncodingNetwork(OBS, **{**defaults, **kwargs})


def test_output_and_state_shapes_for_steps_and_sequences():
    net = _net(lstm_size=(4, 2))

    assert [[s.shape.as_list() for s in cell] for cell in net.state_spec] == [[[4], [4]],
                                                                             [[2], [2]]]
    output, state = net(tf.zeros([2, 3]))
    assert output.shape == [2, 5] and state[1][0].shape == [2, 2]
    output, state = net(tf.zeros([2, 7, 3]))
    assert output.shape == [2, 7, 5] and state[0][1].shape == [2, 4]


def test_without_output_layers_the_features_are_the_lstm_output():
    net = _net(output_fc_layer_params=())
    assert net(tf.zeros([1, 3]))[0].shape == [1, 4]


def test_sequence_equals_the_same_steps_one_at_a_time():
    net = _net()
    sequence = tf.random.stateless_normal([2, 4, 3], seed=[1, 2])

    outputs, final = net(sequence)
    state = net.get_initial_state(2)
    for t in range(4):
        step_output, state = net(sequence[:, t], network_state=state)
        np.testing.assert_allclose(step_output.numpy(), outputs[:, t].numpy(), atol=1e-5)
    np.testing.assert_allclose(state[0][0].numpy(), final[0][0].numpy(), atol=1e-5)


def test_first_step_resets_the_state():
    net = _net()
    x = tf.ones([1, 3])
    _, state = net(x)
    _, state = net(x, network_state=state)

    reset, _ = net(x, step_type=tf.constant([ts.StepType.FIRST]), network_state=state)
    fresh, _ = net(x)

    np.testing.assert_allclose(reset.numpy(), fresh.numpy())


def test_same_features_as_the_core_of_a_q_rnn_network():
    # With the same weights, QRnnNetwork's Q-values are a Dense layer on these features.
    encoder = _net(output_fc_layer_params=())
    q_net = QRnnNetwork(OBS, BoundedTensorSpec([], tf.int32, 0, 1), input_fc_layer_params=(6,),
                        lstm_size=(4,), output_fc_layer_params=())
    encoder_weights = encoder.get_weights()
    q_net.set_weights(encoder_weights + q_net.get_weights()[len(encoder_weights):])
    x = tf.random.stateless_normal([2, 3], seed=[3, 4])

    features, _ = encoder(x)
    q_values, _ = q_net(x)
    kernel, bias = q_net.get_weights()[len(encoder_weights):]

    np.testing.assert_allclose(q_values.numpy(), features.numpy() @ kernel + bias, atol=1e-5)


def test_rnn_construction_fn_supplies_the_cells():
    net = LSTMEncodingNetwork(OBS, input_fc_layer_params=(6,), output_fc_layer_params=(),
                              rnn_construction_fn=keras.layers.LSTM,
                              rnn_construction_kwargs={"units": 3, "recurrent_dropout": 0.0,
                                                       "unit_forget_bias": False})

    assert [[s.shape.as_list() for s in cell] for cell in net.state_spec] == [[[3], [3]]]
    assert net._cells[0].unit_forget_bias is False
    assert net(tf.zeros([2, 5, 3]))[0].shape == [2, 5, 3]


def test_rnn_construction_fn_with_stacked_cells():
    def stacked(sizes):
        return keras.layers.RNN(keras.layers.StackedRNNCells(
            [keras.layers.LSTMCell(n) for n in sizes]), return_sequences=True,
            return_state=True)

    net = LSTMEncodingNetwork(OBS, input_fc_layer_params=(), output_fc_layer_params=(),
                              rnn_construction_fn=stacked,
                              rnn_construction_kwargs={"sizes": (4, 2)})

    assert len(net.state_spec) == 2 and net(tf.zeros([1, 3]))[0].shape == [1, 2]


def test_rnn_construction_fn_of_another_kind_is_an_error():
    with pytest.raises(ValueError, match="must build a Keras LSTM layer.*GRU"):
        LSTMEncodingNetwork(OBS, rnn_construction_fn=keras.layers.GRU,
                            rnn_construction_kwargs={"units": 3})


@pytest.mark.parametrize("kwargs", [
    {}, {"lstm_size": (4,), "rnn_construction_fn": keras.layers.LSTM}])
def test_exactly_one_of_lstm_size_and_rnn_construction_fn(kwargs):
    with pytest.raises(ValueError, match="exactly one of lstm_size and rnn_construction_fn"):
        LSTMEncodingNetwork(OBS, **kwargs)


def test_a_dtype_other_than_float32_is_an_error():
    with pytest.raises(ValueError, match="float32"):
        LSTMEncodingNetwork(OBS, lstm_size=(4,), dtype=tf.float64)


def test_copy_builds_new_variables():
    net = _net()
    target = net.copy(name="Target")
    assert target.name == "Target"
    assert len(target.variables) == len(net.variables)
    assert not {id(v) for v in net.variables} & {id(v) for v in target.variables}


def test_exported_from_the_networks_package():
    assert networks.LSTMEncodingNetwork is LSTMEncodingNetwork
    assert networks.lstm_encoding_network.LSTMEncodingNetwork is LSTMEncodingNetwork
