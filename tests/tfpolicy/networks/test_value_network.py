"""Tests of ValueNetwork: squeezed values for every outer rank, hand-computed values, variables."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import TensorSpec
from tfpolicy.networks import ValueNetwork

OBS = TensorSpec([4], tf.float32)


def test_values_have_the_observation_outer_dims():
    net = ValueNetwork(OBS, fc_layer_params=(8,))
    assert net(tf.zeros([4]))[0].shape == []
    assert net(tf.zeros([5, 4]))[0].shape == [5]
    assert net(tf.zeros([5, 3, 4]))[0].shape == [5, 3]
    assert net.state_spec == ()


def test_values_are_hand_computable_from_the_weights():
    net = ValueNetwork(OBS, fc_layer_params=(3,))
    assert [tuple(v.shape) for v in net.variables] == [(4, 3), (3,), (3, 1), (1,)]
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=v.shape).astype(np.float32) for v in net.variables]
    for v, w in zip(net.variables, weights):
        v.assign(w)
    w1, b1, w2, b2 = weights
    obs = rng.normal(size=(6, 4)).astype(np.float32)
    expected = (np.maximum(obs @ w1 + b1, 0.0) @ w2 + b2)[:, 0]
    np.testing.assert_allclose(net(tf.constant(obs))[0].numpy(), expected, rtol=1e-5, atol=1e-5)


def test_sequence_values_equal_per_step_values():
    net = ValueNetwork(OBS, fc_layer_params=(8,))
    obs = tf.random.stateless_normal([2, 5, 4], seed=(5, 6))
    values, _ = net(obs)
    per_step = np.stack([net(obs[:, t])[0].numpy() for t in range(5)], axis=1)
    np.testing.assert_allclose(values.numpy(), per_step, rtol=1e-6)


def test_nested_observation_needs_and_uses_a_combiner():
    spec = {"a": TensorSpec([2]), "b": TensorSpec([3])}
    with pytest.raises(ValueError, match=r"preprocessing_combiner"):
        ValueNetwork(spec)
    net = ValueNetwork(spec, preprocessing_combiner=keras.layers.Concatenate(),
                       fc_layer_params=(4,))
    assert net({"a": tf.zeros([3, 2]), "b": tf.ones([3, 3])})[0].shape == [3]
    assert [tuple(v.shape) for v in net.variables][:2] == [(5, 4), (4,)]


def test_conv_layers_on_an_image_observation():
    net = ValueNetwork(TensorSpec([8, 8, 3]), conv_layer_params=[(2, 3, 1)], fc_layer_params=())
    assert net(tf.zeros([2, 8, 8, 3]))[0].shape == [2]
    assert [tuple(v.shape) for v in net.variables] == [(3, 3, 3, 2), (2,), (72, 1), (1,)]


def test_works_in_tf_function_with_unknown_batch_and_time():
    net = ValueNetwork(OBS, fc_layer_params=(8,))

    @tf.function(input_signature=[tf.TensorSpec([None, None, 4])])
    def values(obs):
        return net(obs)[0]

    obs = tf.random.stateless_normal([3, 2, 4], seed=(7, 8))
    np.testing.assert_allclose(values(obs).numpy(), net(obs)[0].numpy(), rtol=1e-6)


def test_dropout_and_dtype_keywords():
    keras.utils.set_random_seed(3)
    net = ValueNetwork(OBS, fc_layer_params=(64,), dropout_layer_params=(0.5,), dtype=tf.float64)
    obs = tf.ones([1, 4], tf.float64)
    values, _ = net(obs)
    assert values.dtype == tf.float64
    np.testing.assert_array_equal(values.numpy(), net(obs)[0].numpy())
    assert not np.allclose(net(obs, training=True)[0].numpy(), net(obs, training=True)[0].numpy())
