"""Tests of QNetwork: shapes, hand-computed Q-values, action specs, nested and image inputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, strategies as st

from specs import BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy.networks import QNetwork

OBS = TensorSpec([4], tf.float32)
TWO = BoundedTensorSpec([], tf.int32, 0, 1)
THREE = BoundedTensorSpec([], tf.int32, 0, 2)


def test_q_values_have_the_observation_outer_dims():
    net = QNetwork(OBS, THREE, fc_layer_params=(8,))
    assert net(tf.zeros([4]))[0].shape == [3]
    assert net(tf.zeros([5, 4]))[0].shape == [5, 3]
    assert net(tf.zeros([5, 2, 4]))[0].shape == [5, 2, 3]
    assert net.state_spec == () and net(tf.zeros([5, 4]))[1] == ()


def test_variables_of_a_known_architecture_are_exact():
    net = QNetwork(OBS, TWO, fc_layer_params=(8,))
    assert [tuple(v.shape) for v in net.variables] == [(4, 8), (8,), (8, 2), (2,)]
    assert len(net.trainable_variables) == 4


def test_q_values_are_hand_computable_from_the_weights():
    net = QNetwork(OBS, TWO, fc_layer_params=(8,))
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=v.shape).astype(np.float32) for v in net.variables]
    for v, w in zip(net.variables, weights):
        v.assign(w)
    w1, b1, w2, b2 = weights
    obs = rng.normal(size=(3, 4)).astype(np.float32)
    expected = np.maximum(obs @ w1 + b1, 0.0) @ w2 + b2
    np.testing.assert_allclose(net(tf.constant(obs))[0].numpy(), expected, rtol=1e-5, atol=1e-5)


def test_q_values_depend_on_the_observation():
    net = QNetwork(OBS, THREE, fc_layer_params=(8,))
    q, _ = net(tf.constant([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, -3.0, 2.0]]))
    assert not np.allclose(q[0].numpy(), q[1].numpy())


def test_initial_q_values_are_near_the_output_bias():
    q, _ = QNetwork(OBS, THREE, fc_layer_params=(8,))(tf.zeros([2, 4]))
    np.testing.assert_allclose(q.numpy(), np.full([2, 3], -0.2), atol=1e-6)


@given(minimum=st.integers(-3, 3), width=st.integers(1, 6), shape=st.sampled_from([(), (1,)]))
def test_one_q_value_per_action_in_the_bounds(minimum, width, shape):
    spec = BoundedTensorSpec(shape, tf.int64, minimum, minimum + width - 1)
    net = QNetwork(TensorSpec([2]), spec, fc_layer_params=())
    assert net.num_actions == width
    assert net(tf.zeros([3, 2]))[0].shape == [3, width]


def test_array_specs_are_accepted():
    net = QNetwork(TensorSpec([2]), BoundedArraySpec((), np.int32, 1, 4), fc_layer_params=())
    assert net.num_actions == 4


@pytest.mark.parametrize("action_spec, message", [
    ({"a": TWO, "b": TWO}, r"a single discrete action; the action spec has 2 leaves \('a', 'b'\)"),
    (BoundedTensorSpec([], tf.float32, 0.0, 1.0), r"an integer action spec"),
    (TensorSpec([], tf.int32), r"a BoundedTensorSpec"),
    (BoundedTensorSpec([2], tf.int32, [0, 1], [3, 3]), r"the same bounds for every action element"),
    (BoundedTensorSpec([2], tf.int32, 0, 3), r"an action spec of shape \(\) or \(1,\)"),
])
def test_unsupported_action_specs_are_clear_errors(action_spec, message):
    with pytest.raises(ValueError, match=r"QNetwork (supports|needs) " + message):
        QNetwork(OBS, action_spec)


def test_a_nest_holding_one_action_spec_is_accepted():
    assert QNetwork(OBS, [THREE], fc_layer_params=()).num_actions == 3


def test_nested_observation_with_preprocessing_layers_and_combiner():
    spec = {"pos": TensorSpec([2]), "id": TensorSpec([], tf.int32)}
    net = QNetwork(
        spec, THREE,
        preprocessing_layers={"pos": keras.layers.Dense(3),
                              "id": keras.layers.Embedding(5, 2)},
        preprocessing_combiner=keras.layers.Concatenate(axis=-1), fc_layer_params=(8,))
    obs = {"pos": tf.zeros([4, 2]), "id": tf.constant([0, 1, 2, 3])}
    q, _ = net(obs)
    assert q.shape == [4, 3]
    assert not np.allclose(q[0].numpy(), q[1].numpy())  # only the embedded id differs
    # q layer, fc layer, id embedding, pos dense
    assert len(net.trainable_variables) == 2 + 2 + 1 + 2


def test_missing_combiner_is_a_clear_error():
    with pytest.raises(ValueError, match=r"preprocessing_combiner is needed.*'a', 'b'"):
        QNetwork({"a": OBS, "b": OBS}, TWO)


def test_conv_layers_on_an_image_observation():
    net = QNetwork(TensorSpec([8, 8, 3], tf.uint8), TWO, conv_layer_params=[(4, 3, 2)],
                   fc_layer_params=(6,))
    q, _ = net(tf.ones([2, 8, 8, 3], tf.uint8))
    assert q.shape == [2, 2]
    assert len(net.variables) == 6


def test_works_in_tf_function_with_unknown_batch_and_time():
    net = QNetwork(OBS, THREE, fc_layer_params=(8,))

    @tf.function(input_signature=[tf.TensorSpec([None, None, 4])])
    def q_values(obs):
        return net(obs)[0]

    obs = tf.random.stateless_normal([2, 3, 4], seed=(3, 4))
    out = q_values(obs)
    assert out.shape == [2, 3, 3]
    np.testing.assert_allclose(out.numpy(), net(obs)[0].numpy(), rtol=1e-6)


def test_dropout_and_dtype_keywords():
    keras.utils.set_random_seed(4)
    net = QNetwork(OBS, THREE, fc_layer_params=(64,), dropout_layer_params=(0.5,),
                   dtype=tf.float64)
    obs = tf.ones([1, 4], tf.float64)
    q_values, _ = net(obs)
    assert q_values.dtype == tf.float64
    np.testing.assert_array_equal(q_values.numpy(), net(obs)[0].numpy())
    assert not np.allclose(net(obs, training=True)[0].numpy(), net(obs, training=True)[0].numpy())
