"""Tests of EncodingNetwork: preprocessing, combiner, conv, fc, dropout, casting, variables."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import TensorSpec
from tfpolicy.networks.encoding_network import EncodingNetwork

VEC = TensorSpec([3], tf.float32)


def test_output_shapes_for_unbatched_batched_and_sequence_inputs():
    net = EncodingNetwork(VEC, fc_layer_params=(5, 4))
    assert net(tf.zeros([3]))[0].shape == [4]
    assert net(tf.zeros([2, 3]))[0].shape == [2, 4]
    assert net(tf.zeros([2, 6, 3]))[0].shape == [2, 6, 4]
    assert net.state_spec == ()


def test_without_layers_the_observation_is_flattened():
    net = EncodingNetwork(TensorSpec([2, 3], tf.float32))
    obs = tf.reshape(tf.range(12, dtype=tf.float32), [2, 2, 3])
    out, _ = net(obs)
    np.testing.assert_array_equal(out.numpy(), np.arange(12, dtype=np.float32).reshape(2, 6))
    assert net.variables == []


def test_scalar_observations_become_one_feature():
    out, _ = EncodingNetwork(TensorSpec([], tf.float32))(tf.constant([1.0, 2.0]))
    np.testing.assert_array_equal(out.numpy(), [[1.0], [2.0]])


def test_integer_observations_are_cast_to_the_float_dtype():
    out, _ = EncodingNetwork(TensorSpec([2], tf.uint8))(tf.constant([[3, 255]], tf.uint8))
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[3.0, 255.0]])
    out64, _ = EncodingNetwork(TensorSpec([2], tf.int32), fc_layer_params=(2,),
                               dtype=tf.float64)(tf.constant([[1, 2]]))
    assert out64.dtype == tf.float64


def test_constant_kernel_and_activation_give_hand_computed_features():
    net = EncodingNetwork(TensorSpec([2], tf.float32), fc_layer_params=(3,),
                          activation_fn=tf.math.negative,
                          kernel_initializer=keras.initializers.Constant(0.5))
    out, _ = net(tf.constant([[1.0, 3.0]]))
    # bias starts at 0: -(0.5 * 1 + 0.5 * 3) per unit
    np.testing.assert_allclose(out.numpy(), [[-2.0, -2.0, -2.0]])


def test_nested_observation_with_per_leaf_layers_and_concatenate():
    spec = {"b": TensorSpec([1], tf.float32), "a": TensorSpec([2], tf.float32)}
    net = EncodingNetwork(spec, preprocessing_layers={"a": lambda x: 2.0 * x, "b": None},
                          preprocessing_combiner=keras.layers.Concatenate(axis=-1))
    out, _ = net({"a": tf.constant([[1.0, 2.0]]), "b": tf.constant([[5.0]])})
    # leaves are combined in sorted-key order: a then b
    np.testing.assert_array_equal(out.numpy(), [[2.0, 4.0, 5.0]])


def test_combiner_receives_the_processed_leaves_as_a_flat_list_in_path_order():
    received = []

    def combiner(leaves):
        received.append([tuple(x.shape) for x in leaves])
        return tf.concat(leaves, -1)

    spec = {"z": TensorSpec([1]), "y": (TensorSpec([2]), TensorSpec([3]))}
    net = EncodingNetwork(spec, preprocessing_combiner=combiner)
    received.clear()
    out, _ = net({"z": tf.zeros([4, 1]), "y": (tf.zeros([4, 2]), tf.zeros([4, 3]))})
    assert received == [[(4, 2), (4, 3), (4, 1)]]
    assert out.shape == [4, 6]


def test_keras_preprocessing_layers_are_built_and_their_variables_collected():
    spec = {"pos": TensorSpec([2]), "vel": TensorSpec([3])}
    net = EncodingNetwork(
        spec, preprocessing_layers={"pos": keras.layers.Dense(4), "vel": keras.layers.Dense(5)},
        preprocessing_combiner=keras.layers.Concatenate(axis=-1), fc_layer_params=(6,))
    # fc layer on the 4 + 5 combined features, then the per-leaf layers in path order
    assert [tuple(v.shape) for v in net.trainable_variables] == [
        (9, 6), (6,), (2, 4), (4,), (3, 5), (5,)]
    assert len(net.variables) == len(net.trainable_variables) == 6
    out, _ = net({"pos": tf.zeros([7, 2]), "vel": tf.zeros([7, 3])})
    assert out.shape == [7, 6]


def test_nested_observation_without_combiner_names_the_paths():
    spec = {"sensors": {"pos": TensorSpec([2]), "vel": TensorSpec([2])}}
    with pytest.raises(ValueError, match=r"preprocessing_combiner.*'sensors/pos', 'sensors/vel'"):
        EncodingNetwork(spec)


def test_a_nest_with_a_single_leaf_needs_no_combiner():
    out, _ = EncodingNetwork({"only": VEC}, fc_layer_params=(2,))({"only": tf.zeros([5, 3])})
    assert out.shape == [5, 2]


def test_preprocessing_layers_must_match_the_observation_structure():
    spec = {"a": VEC, "b": VEC}
    with pytest.raises(TypeError, match=r"preprocessing_layers.*missing keys \['b'\]"):
        EncodingNetwork(spec, preprocessing_layers={"a": None},
                        preprocessing_combiner=keras.layers.Concatenate())


def test_observation_structure_is_checked():
    net = EncodingNetwork({"a": VEC, "b": VEC}, preprocessing_combiner=keras.layers.Concatenate())
    with pytest.raises(TypeError, match=r"observation.*missing keys \['b'\]"):
        net({"a": tf.zeros([2, 3])})


def test_conv_layers_on_a_small_image_have_hand_computed_shapes():
    net = EncodingNetwork(TensorSpec([8, 8, 3], tf.uint8), conv_layer_params=[(4, 3, 1), (2, 3, 2)])
    # 8 -> 6 (kernel 3, stride 1) -> 2 (kernel 3, stride 2); 2 * 2 * 2 channels = 8
    out, _ = net(tf.zeros([5, 8, 8, 3], tf.uint8))
    assert out.shape == [5, 8]
    assert [tuple(v.shape) for v in net.variables] == [(3, 3, 3, 4), (4,), (3, 3, 4, 2), (2,)]
    with_fc = EncodingNetwork(TensorSpec([8, 8, 3]), conv_layer_params=[(4, 3, 1)],
                              fc_layer_params=(5,))
    assert with_fc(tf.zeros([2, 4, 8, 8, 3]))[0].shape == [2, 4, 5]
    assert len(with_fc.variables) == 4


def test_conv_layers_need_image_observations():
    with pytest.raises(ValueError, match=r"conv_layer_params need image observations"):
        EncodingNetwork(VEC, conv_layer_params=[(4, 3, 1)])


@pytest.mark.parametrize("params", [[(4, 3)], [4], [(4, 3, 1, 1, 1)]])
def test_malformed_conv_params_are_rejected(params):
    with pytest.raises(ValueError, match=r"conv_layer_params\[0\]"):
        EncodingNetwork(TensorSpec([8, 8, 3]), conv_layer_params=params)


@pytest.mark.parametrize("params", [(0,), (3.5,), 8, ("a",)])
def test_malformed_fc_params_are_rejected(params):
    with pytest.raises(ValueError, match=r"fc_layer_params must be a sequence of positive ints"):
        EncodingNetwork(VEC, fc_layer_params=params)


def test_dropout_acts_only_when_training():
    net = EncodingNetwork(VEC, fc_layer_params=(64,), dropout_layer_params=[0.5],
                          activation_fn=None, kernel_initializer=keras.initializers.Constant(1.0))
    obs = tf.ones([1, 3])
    eval_out, _ = net(obs)
    np.testing.assert_allclose(eval_out.numpy(), np.full([1, 64], 3.0))
    train_out, _ = net(obs, training=True)
    kept = train_out.numpy() != 0
    assert 0 < kept.sum() < 64
    np.testing.assert_allclose(train_out.numpy()[kept], 6.0)  # kept units scaled by 1 / (1 - 0.5)
    # Dropout owns a non-trainable seed variable.
    assert len(net.trainable_variables) == 2 and len(net.variables) == 3


def test_dropout_params_need_one_rate_per_fc_layer():
    with pytest.raises(ValueError, match=r"one rate \(or None\) per fc layer"):
        EncodingNetwork(VEC, fc_layer_params=(4, 4), dropout_layer_params=[0.1])


def test_variable_counts_for_a_known_architecture():
    net = EncodingNetwork(VEC, fc_layer_params=(8, 3))
    assert [tuple(v.shape) for v in net.variables] == [(3, 8), (8,), (8, 3), (3,)]
    assert len(net.trainable_variables) == 4


def test_works_in_tf_function_with_unknown_batch_and_time():
    spec = {"a": TensorSpec([2]), "b": TensorSpec([1])}
    net = EncodingNetwork(spec, preprocessing_combiner=keras.layers.Concatenate(),
                          fc_layer_params=(4,))

    @tf.function(input_signature=[{"a": tf.TensorSpec([None, None, 2]),
                                   "b": tf.TensorSpec([None, None, 1])}])
    def encode(obs):
        return net(obs)[0]

    obs = {"a": tf.random.stateless_normal([3, 5, 2], seed=(0, 1)), "b": tf.ones([3, 5, 1])}
    np.testing.assert_allclose(encode(obs).numpy(), net(obs)[0].numpy(), rtol=1e-6)


def test_a_single_observation_takes_a_single_preprocessing_layer():
    net = EncodingNetwork(VEC, preprocessing_layers=keras.layers.Dense(2, use_bias=False))
    assert net(tf.zeros([4, 3]))[0].shape == [4, 2]
    assert [tuple(v.shape) for v in net.variables] == [(3, 2)]


def test_weight_decay_adds_an_l2_penalty_per_fc_kernel():
    net = EncodingNetwork(VEC, fc_layer_params=(2, 2), weight_decay_params=(0.5, None))
    kernel = net._fc_layers[0].kernel
    kernel.assign(np.ones([3, 2], np.float32))
    # 0.5 * sum(k ** 2) = 0.5 * 6 for the first layer only
    assert len(net.losses) == 1
    np.testing.assert_allclose(float(net.losses[0]), 3.0)
    with pytest.raises(ValueError, match="one factor"):
        EncodingNetwork(VEC, fc_layer_params=(2,), weight_decay_params=(0.1, 0.1))


def test_conv_type_1d_takes_sequences():
    net = EncodingNetwork(TensorSpec([6, 2], tf.float32), conv_layer_params=[(3, 2, 2)],
                          conv_type="1d")
    out, _ = net(tf.zeros([5, 6, 2]))
    assert out.shape == [5, 9]  # 3 filters x (6 - 2) / 2 + 1 = 3 steps
    assert isinstance(net._conv_layers[0], keras.layers.Conv1D)
    with pytest.raises(ValueError, match="conv_type must be one of"):
        EncodingNetwork(VEC, conv_layer_params=[(3, 2, 1)], conv_type="3d")


def test_dropout_dict_params_and_permanent_dropout():
    keras.utils.set_random_seed(2)
    net = EncodingNetwork(VEC, fc_layer_params=(64,),
                          dropout_layer_params=[{"rate": 0.5, "permanent": True}])
    obs = tf.ones([1, 3])
    # permanent dropout also drops at inference
    assert not np.allclose(net(obs)[0].numpy(), net(obs)[0].numpy())
    with pytest.raises(ValueError, match="keras.layers.Dropout"):
        EncodingNetwork(VEC, fc_layer_params=(4,), dropout_layer_params=[{"ratio": 0.5}])
