"""Tests of `NestMap` and `NestFlatten`: per-part processing, state, shallow layers, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import TensorSpec
from tfpolicy import networks
from tfpolicy.networks.nest_map import NestFlatten, NestMap
from tfpolicy.networks.sequential import Sequential

SPEC = {"a": TensorSpec([2], tf.float32), "b": TensorSpec([1], tf.float32)}


def _scale(factor, width):
    return keras.layers.Dense(width, use_bias=False,
                              kernel_initializer=keras.initializers.Identity(gain=factor))


def _summing_cell():
    return keras.layers.SimpleRNNCell(1, activation=None, use_bias=False,
                                      kernel_initializer="ones", recurrent_initializer="ones")


def test_each_part_goes_through_its_own_layer():
    net = NestMap({"a": _scale(2.0, 2), "b": _scale(-1.0, 1)}, input_spec=SPEC)

    outputs, state = net({"a": tf.constant([[1.0, 3.0]]), "b": tf.constant([[4.0]])})

    np.testing.assert_allclose(outputs["a"].numpy(), [[2.0, 6.0]])
    np.testing.assert_allclose(outputs["b"].numpy(), [[-4.0]])
    assert state == {"a": (), "b": ()}
    assert net.create_variables() == {"a": TensorSpec([2], tf.float32),
                                      "b": TensorSpec([1], tf.float32)}


def test_with_nest_flatten_and_a_combiner_in_a_sequential():
    net = Sequential([NestMap({"a": _scale(2.0, 2), "b": _scale(-1.0, 1)}), NestFlatten(),
                      keras.layers.Concatenate(axis=-1)])

    output, _ = net({"a": tf.constant([[1.0, 3.0]]), "b": tf.constant([[4.0]])})

    np.testing.assert_allclose(output.numpy(), [[2.0, 6.0, -4.0]])


def test_nest_flatten_orders_mapping_keys():
    leaves = NestFlatten()({"z": tf.constant([1.0]), "y": (tf.constant([2.0]), tf.constant([3.0]))})
    assert [float(t[0]) for t in leaves] == [2.0, 3.0, 1.0]


def test_state_has_the_structure_of_the_layers_and_is_carried():
    net = NestMap({"a": _summing_cell(), "b": keras.layers.Dense(1)})
    assert net.state_spec == {"a": (TensorSpec([1], tf.float32),), "b": ()}

    inputs = {"a": tf.constant([[1.0, 2.0]]), "b": tf.constant([[0.0]])}
    _, state = net(inputs)
    outputs, state = net(inputs, network_state=state)

    np.testing.assert_allclose(outputs["a"].numpy(), [[6.0]])
    np.testing.assert_allclose(state["a"][0].numpy(), [[6.0]])


def test_a_layer_may_take_a_whole_sub_nest():
    net = NestMap({"pair": keras.layers.Add(), "single": _scale(3.0, 1)})

    outputs, _ = net({"pair": [tf.constant([[1.0]]), tf.constant([[2.0]])],
                      "single": tf.constant([[1.0]])})

    np.testing.assert_allclose(outputs["pair"].numpy(), [[3.0]])
    np.testing.assert_allclose(outputs["single"].numpy(), [[3.0]])


def test_keras_layers_are_wrapped_and_networks_kept():
    inner = Sequential([keras.layers.Dense(1)])
    net = NestMap({"a": keras.layers.Dense(2), "b": inner})

    wrapped = net.nested_layers
    assert isinstance(wrapped["a"], Sequential) and wrapped["b"] is inner


def test_input_missing_a_part_names_it():
    net = NestMap({"a": keras.layers.Dense(2), "b": keras.layers.Dense(1)})
    with pytest.raises(TypeError, match="'b'"):
        net({"a": tf.zeros([1, 2])})


def test_input_spec_of_another_structure_is_an_error():
    with pytest.raises(TypeError, match="nested_layers and input_spec"):
        NestMap({"a": keras.layers.Dense(2)}, input_spec={"c": TensorSpec([2], tf.float32)})


def test_a_leaf_that_is_not_a_layer_is_named():
    with pytest.raises(TypeError, match="'b'"):
        NestMap({"a": keras.layers.Dense(2), "b": tf.nn.relu})


def test_copy_has_its_own_variables():
    net = NestMap({"a": keras.layers.Dense(2), "b": keras.layers.Dense(1)}, input_spec=SPEC)
    net.create_variables()

    target = net.copy()
    target.create_variables()

    assert len(target.variables) == len(net.variables) == 4
    assert not {id(v) for v in net.variables} & {id(v) for v in target.variables}


def test_exported_from_the_networks_package():
    assert networks.NestMap is NestMap and networks.NestFlatten is NestFlatten
    assert networks.nest_map.NestMap is NestMap
