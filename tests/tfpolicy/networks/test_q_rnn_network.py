"""Tests of QRnnNetwork: state spec, shapes, sequence vs steps, resets, tf.function, variables."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks import QRnnNetwork
from tfpolicy.trajectories.time_step import StepType

OBS = TensorSpec([3], tf.float32)
ACTIONS = BoundedTensorSpec([], tf.int32, 1, 3)
FIRST, MID = int(StepType.FIRST), int(StepType.MID)


def _net(**kwargs):
    args = dict(input_fc_layer_params=(8,), lstm_size=(4,), output_fc_layer_params=(6,))
    args.update(kwargs)
    return QRnnNetwork(OBS, ACTIONS, **args)


# Built under a fixed seed: with 6 ReLU units, some initialisations leave every
# unit dead on these inputs, and the tests below need outputs that depend on them.
keras.utils.set_random_seed(0)
NET = _net()
NET.create_variables()


def test_state_spec_is_h_and_c_per_cell():
    net = _net(lstm_size=(4, 2))
    assert net.state_spec == [
        [TensorSpec([4], tf.float32, "lstm_0_h"), TensorSpec([4], tf.float32, "lstm_0_c")],
        [TensorSpec([2], tf.float32, "lstm_1_h"), TensorSpec([2], tf.float32, "lstm_1_c")]]


def test_q_values_and_state_shapes_for_every_input_rank():
    q, state = NET(tf.zeros([3]), tf.constant(FIRST), [[tf.zeros([4]), tf.zeros([4])]])
    assert q.shape == [3] and [s.shape for s in state[0]] == [[4], [4]]
    q, state = NET(tf.zeros([5, 3]), tf.fill([5], MID), ())
    assert q.shape == [5, 3] and [s.shape for s in state[0]] == [[5, 4], [5, 4]]
    q, state = NET(tf.zeros([5, 2, 3]), tf.fill([5, 2], MID), ())
    assert q.shape == [5, 2, 3] and [s.shape for s in state[0]] == [[5, 4], [5, 4]]
    assert NET.num_actions == 3


def test_a_sequence_equals_stepping_with_carried_state():
    obs = tf.random.stateless_normal([2, 4, 3], seed=(1, 2))
    step_type = tf.constant([[FIRST, MID, MID, MID], [MID, MID, FIRST, MID]])
    q_seq, state_seq = NET(obs, step_type, ())
    state, q_steps = (), []
    for t in range(4):
        q, state = NET(obs[:, t], step_type[:, t], state)
        q_steps.append(q)
    np.testing.assert_allclose(q_seq.numpy(), tf.stack(q_steps, 1).numpy(), atol=1e-5)
    for a, b in zip(tf.nest.flatten(state_seq), tf.nest.flatten(state)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_first_in_the_middle_of_a_sequence_restarts_from_zeros():
    obs = tf.random.stateless_normal([1, 5, 3], seed=(3, 4))
    q, _ = NET(obs, tf.constant([[MID, MID, MID, FIRST, MID]]), ())
    tail, _ = NET(obs[:, 3:], None, ())
    np.testing.assert_allclose(q[:, 3:].numpy(), tail.numpy(), atol=1e-5)
    q_no_reset, _ = NET(obs, None, ())
    assert not np.allclose(q[:, 3:].numpy(), q_no_reset[:, 3:].numpy())


def test_q_values_depend_on_the_observation():
    q, _ = NET(tf.constant([[1.0, 2.0, 3.0], [-1.0, 0.0, 4.0]]), None, ())
    assert not np.allclose(q[0].numpy(), q[1].numpy())


def test_works_in_tf_function_with_unknown_batch_and_time():
    state_sig = [[tf.TensorSpec([None, 4]), tf.TensorSpec([None, 4])]]

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3]),
                                  tf.TensorSpec([None, None], tf.int32), state_sig])
    def q_values(obs, step_type, state):
        return NET(obs, step_type, state)

    obs = tf.random.stateless_normal([2, 3, 3], seed=(5, 6))
    step_type = tf.constant([[FIRST, MID, MID], [MID, FIRST, MID]])
    zeros = [[tf.zeros([2, 4]), tf.zeros([2, 4])]]
    q, state = q_values(obs, step_type, zeros)
    q_eager, state_eager = NET(obs, step_type, zeros)
    np.testing.assert_allclose(q.numpy(), q_eager.numpy(), atol=1e-5)
    np.testing.assert_allclose(state[0][1].numpy(), state_eager[0][1].numpy(), atol=1e-5)


def test_variables_of_a_known_architecture_are_exact():
    net = _net(output_fc_layer_params=())
    # LSTM kernel, recurrent kernel, bias; input fc; q layer (+ the LSTM cell's seed state)
    assert [tuple(v.shape) for v in net.trainable_variables] == [
        (8, 16), (4, 16), (16,), (3, 8), (8,), (4, 3), (3,)]
    assert len(net.variables) == 8


def test_nested_observation_with_combiner_and_conv():
    spec = {"image": TensorSpec([8, 8, 3], tf.uint8), "speed": TensorSpec([1])}
    with pytest.raises(ValueError, match=r"preprocessing_combiner is needed.*'image', 'speed'"):
        QRnnNetwork(spec, ACTIONS)
    net = QRnnNetwork(
        spec, ACTIONS,
        preprocessing_layers={"image": keras.Sequential([keras.layers.Conv2D(2, 3, strides=2),
                                                         keras.layers.Flatten()]),
                              "speed": None},
        preprocessing_combiner=keras.layers.Concatenate(), input_fc_layer_params=(4,),
        lstm_size=(3,), output_fc_layer_params=())
    q, _ = net({"image": tf.zeros([2, 5, 8, 8, 3], tf.uint8), "speed": tf.ones([2, 5, 1])},
               tf.fill([2, 5], MID), ())
    assert q.shape == [2, 5, 3]


def test_unsupported_action_specs_are_clear_errors():
    with pytest.raises(ValueError, match=r"QRnnNetwork needs an integer action spec"):
        QRnnNetwork(OBS, BoundedTensorSpec([], tf.float32, 0.0, 1.0))
