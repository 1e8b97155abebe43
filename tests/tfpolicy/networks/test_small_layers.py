"""Tests of the small Keras layers `ExpandDims` and `BiasLayer`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfpolicy import networks
from tfpolicy.networks.bias_layer import BiasLayer
from tfpolicy.networks.expand_dims_layer import ExpandDims
from tfpolicy.networks.sequential import Sequential


@pytest.mark.parametrize("axis, expected", [
    (0, (5, 1, 2, 3)), (1, (5, 2, 1, 3)), (2, (5, 2, 3, 1)),
    (-1, (5, 2, 3, 1)), (-2, (5, 2, 1, 3)), (-3, (5, 1, 2, 3))])
def test_expand_dims_counts_after_the_batch_dim_or_from_the_right(axis, expected):
    layer = ExpandDims(axis)
    assert tuple(layer(tf.zeros([5, 2, 3])).shape) == expected
    assert layer.compute_output_shape((None, 2, 3)) == (None,) + expected[1:]


def test_expand_dims_keeps_the_values():
    x = tf.constant([[1.0, 2.0]])
    np.testing.assert_array_equal(ExpandDims(-1)(x).numpy(), [[[1.0], [2.0]]])


def test_expand_dims_rejects_a_non_int_axis():
    with pytest.raises(TypeError, match="axis must be a Python int"):
        ExpandDims(1.0)


def test_expand_dims_round_trips_its_config():
    layer = ExpandDims(-2, name="expand")
    copy = ExpandDims.from_config(layer.get_config())
    assert copy.axis == -2 and copy.name == "expand"


def test_expand_dims_gives_a_scalar_input_a_feature_dim_in_a_sequential():
    net = Sequential([ExpandDims(-1), keras.layers.Dense(1, kernel_initializer="ones",
                                                         bias_initializer="zeros")])
    output, _ = net(tf.constant([2.0, -1.0]))
    np.testing.assert_allclose(output.numpy(), [[2.0], [-1.0]])


def test_bias_layer_adds_one_bias_per_feature():
    layer = BiasLayer(bias_initializer=keras.initializers.Constant([1.0, -2.0]))

    output = layer(tf.constant([[0.5, 0.5], [1.0, 2.0]]))

    np.testing.assert_allclose(output.numpy(), [[1.5, -1.5], [2.0, 0.0]])
    assert [tuple(v.shape) for v in layer.trainable_variables] == [(2,)]


def test_bias_layer_on_rank_one_inputs_has_one_bias():
    layer = BiasLayer(bias_initializer="ones")

    output = layer(tf.constant([1.0, 2.0, 3.0]))

    np.testing.assert_allclose(output.numpy(), [2.0, 3.0, 4.0])
    assert tuple(layer.bias.shape) == (1,)


def test_bias_layer_is_trainable():
    layer = BiasLayer()
    x = tf.zeros([4, 3])
    layer(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    # d(sum over 4 rows of x + b)/db = 4 per entry.
    np.testing.assert_allclose(tape.gradient(loss, layer.trainable_variables)[0].numpy(),
                               [4.0, 4.0, 4.0])


def test_bias_layer_round_trips_its_config():
    layer = BiasLayer(bias_initializer="ones")
    copy = BiasLayer.from_config(layer.get_config())
    np.testing.assert_allclose(copy(tf.zeros([1, 2])).numpy(), [[1.0, 1.0]])


def test_exported_from_the_networks_package():
    assert networks.BiasLayer is BiasLayer and networks.ExpandDims is ExpandDims
    assert networks.bias_layer.BiasLayer is BiasLayer
    assert networks.expand_dims_layer.ExpandDims is ExpandDims
