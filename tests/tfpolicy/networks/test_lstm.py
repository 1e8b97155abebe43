"""Tests of the shared LSTM core: state structure, unrolling, resets on FIRST, tf.function."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, strategies as st

from specs import TensorSpec
from tfpolicy.networks._lstm import LSTMNetwork, lstm_state_spec
from tfpolicy.trajectories.time_step import StepType

OBS = TensorSpec([3], tf.float32)
FIRST, MID = int(StepType.FIRST), int(StepType.MID)


class Features(LSTMNetwork):
    """The core's output features, untouched."""

    def __init__(self, lstm_size=(4, 5), **kwargs):
        super().__init__(OBS, input_fc_layer_params=(6,), lstm_size=lstm_size,
                         output_fc_layer_params=(), **kwargs)
        self.create_variables()

    def _head(self, features, training):
        return features


# Built under a fixed seed: with 6 ReLU units before the LSTM, some initialisations
# leave every unit dead on these inputs, and the outputs would not depend on the state.
keras.utils.set_random_seed(2)
NET = Features()


def _steps(net, obs, step_type, state=()):
    """Runs `obs [B, T, ...]` one `[B]` step at a time, carrying the state."""
    outputs = []
    for t in range(obs.shape[1]):
        out, state = net(obs[:, t], None if step_type is None else step_type[:, t], state)
        outputs.append(out)
    return tf.stack(outputs, 1), state


def _zero_state(batch):
    return [[tf.zeros([batch, s.shape[0]]) for s in cell] for cell in NET.state_spec]


def test_state_spec_is_a_list_of_h_c_pairs_per_cell():
    assert NET.state_spec == [
        [TensorSpec([4], tf.float32, "lstm_0_h"), TensorSpec([4], tf.float32, "lstm_0_c")],
        [TensorSpec([5], tf.float32, "lstm_1_h"), TensorSpec([5], tf.float32, "lstm_1_c")],
    ]
    assert lstm_state_spec((7,)) == [[TensorSpec([7], tf.float32, "lstm_0_h"),
                                      TensorSpec([7], tf.float32, "lstm_0_c")]]


def test_state_and_output_shapes_for_every_input_rank():
    out, state = NET(tf.zeros([3]), tf.constant(MID), [[tf.zeros([4])] * 2, [tf.zeros([5])] * 2])
    assert out.shape == [5] and [[s.shape for s in c] for c in state] == [[[4], [4]], [[5], [5]]]
    out, state = NET(tf.zeros([2, 3]), tf.fill([2], MID), _zero_state(2))
    assert out.shape == [2, 5]
    assert [[s.shape for s in c] for c in state] == [[[2, 4], [2, 4]], [[2, 5], [2, 5]]]
    out, state = NET(tf.zeros([2, 7, 3]), tf.fill([2, 7], MID), _zero_state(2))
    assert out.shape == [2, 7, 5] and state[1][1].shape == [2, 5]


def test_an_empty_state_means_the_zero_state():
    obs = tf.random.stateless_normal([2, 4, 3], seed=(1, 1))
    with_zeros, _ = NET(obs, None, _zero_state(2))
    for empty in ((), None):
        out, _ = NET(obs, None, empty)
        np.testing.assert_array_equal(out.numpy(), with_zeros.numpy())


def test_the_state_carries_information():
    obs = tf.random.stateless_normal([2, 3], seed=(2, 2))
    _, state = NET(obs, None, ())
    fresh, _ = NET(obs, None, ())
    carried, _ = NET(obs, None, state)
    assert np.abs(fresh.numpy()).max() > 1e-3
    assert not np.allclose(fresh.numpy(), carried.numpy())


@given(steps=st.integers(1, 4),
       first=st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=2, max_size=2))
def test_a_sequence_equals_stepping_with_carried_state(steps, first):
    obs = tf.random.stateless_normal([2, steps, 3], seed=(steps, 3))
    step_type = tf.constant([[FIRST if f else MID for f in row[:steps]] for row in first])
    _, start = NET(tf.random.stateless_normal([2, 3], seed=(9, 9)), None, ())
    seq_out, seq_state = NET(obs, step_type, start)
    step_out, step_state = _steps(NET, obs, step_type, start)
    np.testing.assert_allclose(seq_out.numpy(), step_out.numpy(), atol=1e-5)
    for a, b in zip(tf.nest.flatten(seq_state), tf.nest.flatten(step_state)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_first_in_the_middle_resets_only_that_entry():
    obs = tf.random.stateless_normal([2, 5, 3], seed=(4, 4))
    _, start = NET(tf.random.stateless_normal([2, 3], seed=(5, 5)), None, ())
    step_type = tf.constant([[MID, MID, FIRST, MID, MID], [MID] * 5])
    out, state = NET(obs, step_type, start)
    tail, tail_state = NET(obs[:1, 2:], None, ())  # entry 0 from t = 2, from zeros
    np.testing.assert_allclose(out[0, 2:].numpy(), tail[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(state[1][0][0].numpy(), tail_state[1][0][0].numpy(), atol=1e-5)
    no_reset, _ = NET(obs, None, start)
    np.testing.assert_allclose(out[1].numpy(), no_reset[1].numpy(), atol=1e-6)
    np.testing.assert_allclose(out[0, :2].numpy(), no_reset[0, :2].numpy(), atol=1e-6)
    assert not np.allclose(out[0, 2:].numpy(), no_reset[0, 2:].numpy())


def test_first_on_a_single_step_resets_the_state():
    obs = tf.random.stateless_normal([2, 3], seed=(6, 6))
    _, state = NET(obs, None, ())
    reset_out, _ = NET(obs, tf.constant([FIRST, MID]), state)
    fresh, _ = NET(obs, None, ())
    carried, _ = NET(obs, None, state)
    np.testing.assert_allclose(reset_out[0].numpy(), fresh[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(reset_out[1].numpy(), carried[1].numpy(), atol=1e-6)


def test_an_empty_time_dim_returns_the_initial_state():
    out, state = NET(tf.zeros([2, 0, 3]), tf.zeros([2, 0], tf.int32), _zero_state(2))
    assert out.shape == [2, 0, 5]
    assert all(np.all(s.numpy() == 0) for s in tf.nest.flatten(state))


def test_works_in_tf_function_with_unknown_batch_and_time():
    state_sig = [[tf.TensorSpec([None, n]) for _ in range(2)] for n in (4, 5)]

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3]),
                                  tf.TensorSpec([None, None], tf.int32), state_sig])
    def run(obs, step_type, state):
        return NET(obs, step_type, state)

    obs = tf.random.stateless_normal([3, 4, 3], seed=(7, 7))
    step_type = tf.constant([[FIRST, MID, MID, MID], [MID, FIRST, MID, MID], [MID] * 4])
    _, start = NET(obs[:, 0], None, ())
    out, state = run(obs, step_type, start)
    expected, expected_state = NET(obs, step_type, start)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)
    for a, b in zip(tf.nest.flatten(state), tf.nest.flatten(expected_state)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    short, _ = run(obs[:2, :2], step_type[:2, :2], [[s[:2] for s in c] for c in start])
    assert short.shape == [2, 2, 5]


def test_variables_include_each_cells_weights_and_seed():
    net = Features(lstm_size=(4,))
    # LSTM kernel, recurrent kernel, bias (+ Keras' seed state); input fc kernel and bias
    assert [tuple(v.shape) for v in net.trainable_variables] == [
        (6, 16), (4, 16), (16,), (3, 6), (6,)]
    assert len(net.variables) == 6


def test_network_state_structure_is_checked():
    with pytest.raises(TypeError, match=r"network_state.*sequence of length 2"):
        NET(tf.zeros([2, 3]), None, [[tf.zeros([2, 4]), tf.zeros([2, 4])]])


@pytest.mark.parametrize("lstm_size", [(), 40, (0,), [4, "a"]])
def test_lstm_size_must_be_a_non_empty_sequence_of_sizes(lstm_size):
    with pytest.raises(ValueError, match=r"lstm_size must be a non-empty sequence"):
        Features(lstm_size=lstm_size)
