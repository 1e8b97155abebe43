"""Tests of ValueRnnNetwork: shapes, sequence vs steps, resets, tf.function, variables."""

import keras
import numpy as np
import tensorflow as tf

from specs import TensorSpec
from tfpolicy.networks import ValueRnnNetwork
from tfpolicy.trajectories.time_step import StepType

OBS = TensorSpec([3], tf.float32)
FIRST, MID = int(StepType.FIRST), int(StepType.MID)
# Built under a fixed seed, so that no initialisation leaves every ReLU unit dead.
keras.utils.set_random_seed(0)
NET = ValueRnnNetwork(OBS, input_fc_layer_params=(8,), lstm_size=(4,), output_fc_layer_params=(5,))


def test_values_and_state_shapes_for_every_input_rank():
    assert NET.state_spec == [[TensorSpec([4], tf.float32, "lstm_0_h"),
                               TensorSpec([4], tf.float32, "lstm_0_c")]]
    value, state = NET(tf.zeros([3]), None, [[tf.zeros([4]), tf.zeros([4])]])
    assert value.shape == [] and state[0][0].shape == [4]
    value, state = NET(tf.zeros([6, 3]), None, ())
    assert value.shape == [6] and state[0][1].shape == [6, 4]
    value, state = NET(tf.zeros([6, 2, 3]), None, ())
    assert value.shape == [6, 2] and state[0][1].shape == [6, 4]


def test_a_sequence_equals_stepping_and_first_resets():
    obs = tf.random.stateless_normal([2, 4, 3], seed=(1, 3))
    step_type = tf.constant([[MID, MID, FIRST, MID], [MID] * 4])
    _, start = NET(tf.ones([2, 3]), None, ())
    values, final = NET(obs, step_type, start)
    state, steps = start, []
    for t in range(4):
        v, state = NET(obs[:, t], step_type[:, t], state)
        steps.append(v)
    np.testing.assert_allclose(values.numpy(), tf.stack(steps, 1).numpy(), atol=1e-5)
    np.testing.assert_allclose(final[0][0].numpy(), state[0][0].numpy(), atol=1e-5)
    tail, _ = NET(obs[:1, 2:], None, ())
    np.testing.assert_allclose(values[0, 2:].numpy(), tail[0].numpy(), atol=1e-5)


def test_works_in_tf_function_with_unknown_batch_and_time():
    @tf.function(input_signature=[tf.TensorSpec([None, None, 3]),
                                  tf.TensorSpec([None, None], tf.int32)])
    def values(obs, step_type):
        return NET(obs, step_type)[0]

    obs = tf.random.stateless_normal([3, 2, 3], seed=(2, 3))
    step_type = tf.fill([3, 2], MID)
    np.testing.assert_allclose(values(obs, step_type).numpy(), NET(obs, step_type)[0].numpy(),
                               atol=1e-5)


def test_variables_of_a_known_architecture_are_exact():
    net = ValueRnnNetwork(OBS, input_fc_layer_params=(), lstm_size=(2,), output_fc_layer_params=())
    assert [tuple(v.shape) for v in net.trainable_variables] == [(3, 8), (2, 8), (8,), (2, 1), (1,)]
    assert len(net.variables) == 6  # + the LSTM cell's seed state
