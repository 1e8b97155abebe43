"""`tfpolicy.networks.utils`: TF-Agents' `BatchSquash` and `mlp_layers` on Keras 3."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfpolicy.networks import utils
from tfpolicy.networks.utils import BatchSquash, mlp_layers

# ---- BatchSquash ---------------------------------------------------------------------------


def test_batch_squash_folds_two_outer_dims_in_row_major_order():
    x = tf.reshape(tf.range(12, dtype=tf.float32), [2, 3, 2])
    squash = BatchSquash(2)
    flat = squash.flatten(x)
    assert flat.shape == (6, 2)
    # Row-major: entry (b, t) becomes row 3 * b + t; row 4 is (1, 1) = [8, 9].
    np.testing.assert_array_equal(flat[4].numpy(), [8.0, 9.0])
    restored = squash.unflatten(2.0 * flat)
    np.testing.assert_array_equal(restored.numpy(), 2.0 * x.numpy())


def test_batch_squash_unflatten_takes_new_inner_dims():
    squash = BatchSquash(3)
    squash.flatten(tf.zeros([2, 3, 4, 5]))
    out = squash.unflatten(tf.ones([24, 7, 1]))
    assert out.shape == (2, 3, 4, 7, 1)


def test_batch_squash_of_one_dim_returns_the_input_itself():
    x = tf.zeros([4, 3])
    squash = BatchSquash(1)
    assert squash.flatten(x) is x
    assert squash.unflatten(x) is x  # no flatten needed first


def test_batch_squash_of_zero_dims_adds_and_removes_a_leading_dim():
    squash = BatchSquash(0)
    flat = squash.flatten(tf.constant([1.0, 2.0, 3.0]))
    assert flat.shape == (1, 3)
    out = squash.unflatten(tf.constant([[5.0, 6.0]]))
    np.testing.assert_array_equal(out.numpy(), [5.0, 6.0])


def test_batch_squash_inside_tf_function_with_unknown_dims():
    squash = BatchSquash(2)
    seen = {}

    @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.float32)])
    def fold_sum_unfold(x):
        flat = squash.flatten(x)
        seen["flat"] = flat.shape.as_list()
        return squash.unflatten(tf.reduce_sum(flat, -1, keepdims=True))

    x = tf.reshape(tf.range(24, dtype=tf.float32), [2, 3, 4])
    out = fold_sum_unfold(x)
    assert seen["flat"] == [None, None]
    assert out.shape == (2, 3, 1)
    # Row (1, 2) holds 20..23, which sum to 86.
    assert out[1, 2, 0].numpy() == 86.0


def test_batch_squash_keeps_the_folded_dim_static_when_outer_dims_are_known():
    squash = BatchSquash(2)
    seen = {}

    @tf.function(input_signature=[tf.TensorSpec([2, 3, None], tf.float32)])
    def fold(x):
        flat = squash.flatten(x)
        seen["flat"] = flat.shape.as_list()
        return flat

    assert fold(tf.zeros([2, 3, 5])).shape == (6, 5)
    assert seen["flat"] == [6, None]


def test_batch_squash_rejects_negative_batch_dims_and_short_tensors():
    with pytest.raises(ValueError, match=r"batch_dims must be a non-negative int, got -1"):
        BatchSquash(-1)
    with pytest.raises(ValueError, match=r"BatchSquash\(3\).flatten: the tensor has shape "
                                         r"\(2, 3\), fewer than 3 dims"):
        BatchSquash(3).flatten(tf.zeros([2, 3]))


def test_batch_squash_unflatten_before_flatten_is_an_error():
    with pytest.raises(ValueError, match=r"call flatten first"):
        BatchSquash(2).unflatten(tf.zeros([6, 2]))


# ---- mlp_layers ----------------------------------------------------------------------------


def test_mlp_layers_order_and_names():
    layers = mlp_layers(conv_layer_params=[(4, 3, 1)], fc_layer_params=(8, 2),
                        dropout_layer_params=(None, 0.25), name="mlp")
    assert [type(layer).__name__ for layer in layers] == [
        "Conv2D", "Flatten", "Dense", "Dense", "Dropout"]
    assert [layer.name for layer in layers] == [
        "mlp_conv2d_0", "mlp_flatten", "mlp_dense_0", "mlp_dense_1", "mlp_dropout_1"]
    assert layers[-1].rate == 0.25


def test_mlp_layers_without_anything_is_just_a_flatten():
    layers = mlp_layers()
    assert len(layers) == 1 and isinstance(layers[0], keras.layers.Flatten)


def test_mlp_layers_compute_a_hand_checked_forward_pass():
    layers = mlp_layers(fc_layer_params=(2,), activation_fn=keras.activations.relu,
                        kernel_initializer=keras.initializers.Constant([[1.0, -1.0],
                                                                        [2.0, -2.0]]))
    x = tf.constant([[[1.0, 1.0]], [[-1.0, 0.0]]])  # [2, 1, 2], flattened to [2, 2]
    for layer in layers:
        x = layer(x)
    # Row 0: [1 + 2, -1 - 2] = [3, -3] -> relu [3, 0]; row 1: [-1, 1] -> [0, 1].
    np.testing.assert_allclose(x.numpy(), [[3.0, 0.0], [0.0, 1.0]])


def test_mlp_layers_default_initializer_differs_per_layer():
    first, second = [layer for layer in mlp_layers(fc_layer_params=(4, 4))
                     if isinstance(layer, keras.layers.Dense)]
    first.build((None, 4))
    second.build((None, 4))
    assert not np.allclose(first.kernel.numpy(), second.kernel.numpy())


def test_mlp_layers_weight_decay_adds_an_l2_loss():
    dense = [layer for layer in mlp_layers(
        fc_layer_params=(2,), weight_decay_params=(0.5,),
        kernel_initializer=keras.initializers.Constant(1.0)) if isinstance(
            layer, keras.layers.Dense)][0]
    dense(tf.zeros([1, 3]))
    # L2: 0.5 * sum(kernel ** 2) = 0.5 * 6 ones = 3.
    np.testing.assert_allclose(float(tf.add_n(dense.losses)), 3.0)


def test_mlp_layers_dropout_dict_and_permanent_dropout():
    layers = mlp_layers(fc_layer_params=(3, 3),
                        dropout_layer_params=({"rate": 0.5, "permanent": True},
                                              {"rate": 0.5}))
    permanent, normal = layers[2], layers[4]
    x = tf.ones([200, 3])
    # Outside training a normal dropout layer is the identity; a permanent one still drops.
    np.testing.assert_array_equal(normal(x, training=False).numpy(), x.numpy())
    dropped = permanent(x, training=False).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0} and (dropped == 0.0).any()


def test_mlp_layers_argument_errors():
    with pytest.raises(ValueError, match=r"dropout_layer_params needs one entry .* "
                                         r"fc_layer_params has 2 entries"):
        mlp_layers(fc_layer_params=(4, 4), dropout_layer_params=(0.1,))
    with pytest.raises(ValueError, match=r"weight_decay_params needs one entry"):
        mlp_layers(fc_layer_params=(4,), weight_decay_params=(0.1, 0.2))
    with pytest.raises(ValueError, match=r"conv_layer_params\[0\] must be \(filters, "
                                         r"kernel_size, strides\), got \(4, 3\)"):
        mlp_layers(conv_layer_params=[(4, 3)])
    with pytest.raises(ValueError, match=r"dropout_layer_params\[0\] must hold "
                                         r"keras.layers.Dropout arguments"):
        mlp_layers(fc_layer_params=(4,), dropout_layer_params=({"rate": 0.1, "bogus": 1},))


def test_utils_module_exports():
    assert utils.__all__ == ["BatchSquash", "mlp_layers"]
    from tfpolicy import networks
    assert networks.utils is utils and "utils" in networks.__all__
