"""Tests of ActorDistributionRnnNetwork: distributions per step and per sequence, state, resets."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks import ActorDistributionRnnNetwork
from tfpolicy.trajectories.time_step import StepType

OBS = TensorSpec([3], tf.float32)
BOX = BoundedTensorSpec([2], tf.float32, -2.0, 2.0)
SHIFTED = BoundedTensorSpec([], tf.int32, 2, 4)
SPEC = {"move": BOX, "fire": SHIFTED}
FIRST, MID = int(StepType.FIRST), int(StepType.MID)
# Built under a fixed seed, so that no initialisation leaves every ReLU unit dead.
keras.utils.set_random_seed(0)
NET = ActorDistributionRnnNetwork(OBS, SPEC, input_fc_layer_params=(8,), lstm_size=(4,),
                                  output_fc_layer_params=(6,))


def _params(dists):
    return [dists["move"].mean(), dists["move"].stddev(), dists["fire"].logits]


def test_state_spec_and_shapes_for_every_input_rank():
    assert NET.state_spec == [[TensorSpec([4], tf.float32, "lstm_0_h"),
                               TensorSpec([4], tf.float32, "lstm_0_c")]]
    dists, state = NET(tf.zeros([3]), tf.constant(FIRST), [[tf.zeros([4]), tf.zeros([4])]])
    assert dists["move"].batch_shape == [] and dists["fire"].batch_shape == []
    assert state[0][0].shape == [4]
    dists, state = NET(tf.zeros([5, 3]), tf.fill([5], MID), ())
    assert dists["move"].batch_shape == [5] and state[0][1].shape == [5, 4]
    dists, state = NET(tf.zeros([5, 2, 3]), tf.fill([5, 2], MID), ())
    assert dists["move"].batch_shape == [5, 2] and dists["move"].event_shape == [2]
    assert dists["fire"].batch_shape == [5, 2] and state[0][1].shape == [5, 4]


def test_a_sequence_equals_stepping_with_carried_state():
    obs = tf.random.stateless_normal([2, 4, 3], seed=(1, 4))
    step_type = tf.constant([[FIRST, MID, MID, MID], [MID, FIRST, MID, MID]])
    seq, seq_state = NET(obs, step_type, ())
    state, steps = (), []
    for t in range(4):
        dists, state = NET(obs[:, t], step_type[:, t], state)
        steps.append(_params(dists))
    for i, p in enumerate(_params(seq)):
        np.testing.assert_allclose(p.numpy(), tf.stack([s[i] for s in steps], 1).numpy(),
                                   atol=1e-5)
    np.testing.assert_allclose(seq_state[0][0].numpy(), state[0][0].numpy(), atol=1e-5)


def test_first_in_the_middle_of_a_sequence_restarts_from_zeros():
    obs = tf.random.stateless_normal([1, 4, 3], seed=(2, 4))
    seq, _ = NET(obs, tf.constant([[MID, MID, FIRST, MID]]), ())
    tail, _ = NET(obs[:, 2:], None, ())
    for a, b in zip(_params(seq), _params(tail)):
        np.testing.assert_allclose(a[:, 2:].numpy(), b.numpy(), atol=1e-5)


def test_samples_in_bounds_and_per_entry_log_probs():
    dists, _ = NET(tf.random.stateless_normal([6, 3], seed=(3, 4)), None, ())
    fire = dists["fire"].sample(200, seed=(0, 1)).numpy()
    assert set(np.unique(fire)) == {2, 3, 4}
    mean = dists["move"].mean().numpy()
    assert np.all(np.abs(mean) <= 2.0)
    assert dists["move"].log_prob(tf.zeros([6, 2])).shape == [6]
    np.testing.assert_allclose(dists["move"].stddev().numpy(), np.full([6, 2], 0.35), rtol=1e-4)


def test_input_dropout_acts_only_when_training():
    net = ActorDistributionRnnNetwork(OBS, BOX, input_fc_layer_params=(32,),
                                      input_dropout_layer_params=[0.5], lstm_size=(4,),
                                      output_fc_layer_params=())
    obs = tf.ones([2, 3])
    eval_a, _ = net(obs, None, ())
    eval_b, _ = net(obs, None, ())
    train, _ = net(obs, None, (), training=True)
    np.testing.assert_array_equal(eval_a.mean().numpy(), eval_b.mean().numpy())
    assert not np.allclose(train.mean().numpy(), eval_a.mean().numpy())


def test_works_in_tf_function_with_unknown_batch_and_time():
    @tf.function(input_signature=[tf.TensorSpec([None, None, 3]),
                                  tf.TensorSpec([None, None], tf.int32)])
    def act(obs, step_type):
        dists, state = NET(obs, step_type)
        return _params(dists), state

    obs = tf.random.stateless_normal([3, 2, 3], seed=(4, 4))
    step_type = tf.constant([[FIRST, MID], [MID, FIRST], [MID, MID]])
    params, state = act(obs, step_type)
    dists, state_eager = NET(obs, step_type)
    for a, b in zip(params, _params(dists)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    np.testing.assert_allclose(state[0][1].numpy(), state_eager[0][1].numpy(), atol=1e-5)


def test_variables_of_a_known_architecture_are_exact():
    net = ActorDistributionRnnNetwork(OBS, BOX, input_fc_layer_params=(), lstm_size=(2,),
                                      output_fc_layer_params=(), state_dependent_std=True)
    # LSTM kernel, recurrent kernel, bias; mean kernel, bias; std kernel, bias
    assert [tuple(v.shape) for v in net.trainable_variables] == [
        (3, 8), (2, 8), (8,), (2, 2), (2,), (2, 2), (2,)]
    assert len(net.variables) == 8  # + the LSTM cell's seed state


def test_bad_head_options_are_clear_errors():
    with pytest.raises(ValueError, match=r"mean_transform must be one of"):
        ActorDistributionRnnNetwork(OBS, BOX, mean_transform="sigmoid")
