import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks import normal_projection_network
from tfpolicy.networks.normal_projection_network import (
    NormalProjectionNetwork, tanh_squash_to_spec)

BOX = BoundedTensorSpec([2], tf.float32, [-1.0, 0.0], [1.0, 4.0])


def _set_weights(projection, kernel, bias):
    """The mean layer computes inputs @ kernel + bias."""
    layer = projection._head._mean
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)


def test_tanh_squash_to_spec_maps_into_the_bounds():
    x = tf.constant([[0.0, 0.0], [np.arctanh(0.5), -np.arctanh(0.5)]], tf.float32)
    # mid + half_width * tanh(x): [0, 2] at 0; [0.5, 2 - 2 * 0.5] at +-atanh(0.5)
    np.testing.assert_allclose(tanh_squash_to_spec(x, BOX).numpy(), [[0.0, 2.0], [0.5, 1.0]],
                               atol=1e-6)


def test_tanh_squash_leaves_unbounded_elements_unchanged():
    spec = BoundedTensorSpec([2], tf.float32, [-1.0, -np.inf], [1.0, np.inf])
    out = tanh_squash_to_spec(tf.constant([10.0, 7.0]), spec).numpy()
    np.testing.assert_allclose(out, [np.tanh(10.0), 7.0], atol=1e-6)


def test_mean_and_std_are_hand_computable():
    projection = NormalProjectionNetwork(BOX, std_bias_initializer_value=1.0)
    dist, state = projection(tf.ones([1, 3]), 1)
    assert state == ()
    _set_weights(projection, np.full([3, 2], 0.1, np.float32), np.zeros([2], np.float32))
    dist, _ = projection(tf.ones([1, 3]), 1)
    # raw mean = 0.3 per element, squashed: mid + half * tanh(0.3); std = softplus(1)
    expected = np.array([0.0, 2.0]) + np.array([1.0, 2.0]) * np.tanh(0.3)
    np.testing.assert_allclose(dist.mean().numpy()[0], expected, rtol=1e-5)
    np.testing.assert_allclose(dist.stddev().numpy()[0], [np.log1p(np.e)] * 2, rtol=1e-5)


def test_outer_rank_two_gives_batch_and_time_dims():
    projection = NormalProjectionNetwork(BOX)
    dist, _ = projection(tf.zeros([4, 5, 3]), 2)
    assert dist.batch_shape == [4, 5] and dist.event_shape == [2]
    assert dist.log_prob(tf.zeros([4, 5, 2])).shape == [4, 5]


def test_custom_mean_transform_gets_the_spec_and_none_is_identity():
    seen = []

    def doubled(means, spec):
        seen.append(spec)
        return 2.0 * means

    projection = NormalProjectionNetwork(BOX, mean_transform=doubled)
    projection(tf.ones([1, 3]), 1)
    _set_weights(projection, np.full([3, 2], 0.1, np.float32), np.zeros([2], np.float32))
    assert seen[0] == BOX
    np.testing.assert_allclose(projection(tf.ones([1, 3]), 1)[0].mean().numpy(), [[0.6, 0.6]],
                               rtol=1e-5)
    identity = NormalProjectionNetwork(BOX, mean_transform=None, std_transform=None,
                                       std_bias_initializer_value=0.25)
    identity(tf.ones([1, 3]), 1)
    _set_weights(identity, np.full([3, 2], 0.1, np.float32), np.zeros([2], np.float32))
    dist, _ = identity(tf.ones([1, 3]), 1)
    np.testing.assert_allclose(dist.mean().numpy(), [[0.3, 0.3]], rtol=1e-5)
    np.testing.assert_allclose(dist.stddev().numpy(), [[0.25, 0.25]], rtol=1e-5)


def test_state_dependent_std_varies_with_the_inputs():
    keras.utils.set_random_seed(0)
    projection = NormalProjectionNetwork(BOX, state_dependent_std=True)
    dist, _ = projection(tf.constant([[1.0, 0.0, 0.0], [0.0, 5.0, -5.0]]), 1)
    std = dist.stddev().numpy()
    assert not np.allclose(std[0], std[1])
    assert len(projection.trainable_variables) == 4


def test_scale_distribution_keeps_every_sample_inside_the_bounds():
    projection = NormalProjectionNetwork(BOX, scale_distribution=True)
    dist, _ = projection(tf.zeros([2, 3]), 1)
    samples = dist.sample(500, seed=(3, 4)).numpy()
    assert np.all(samples[..., 0] > -1.0) and np.all(samples[..., 0] < 1.0)
    assert np.all(samples[..., 1] > 0.0) and np.all(samples[..., 1] < 4.0)
    # a sample mapped back through the bijector has the normal's log-prob minus the log-det
    x = tf.constant([[0.5, 3.0]])
    u = np.arctanh([0.5, (3.0 - 2.0) / 2.0])
    std = np.log(2.0)  # softplus(0)
    normal = np.sum(-0.5 * (u / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi))
    log_det = np.sum(np.log([1.0, 2.0]) + np.log(1 - np.tanh(u) ** 2))
    np.testing.assert_allclose(dist[:1].log_prob(x).numpy(), [normal - log_det], rtol=1e-4)


def test_scale_distribution_needs_finite_bounds():
    with pytest.raises(ValueError, match="finite bounds"):
        NormalProjectionNetwork(TensorSpec([2], tf.float32), scale_distribution=True)


def test_seed_makes_the_initial_weights_reproducible():
    first = NormalProjectionNetwork(BOX, seed=7)
    second = NormalProjectionNetwork(BOX, seed=7)
    other = NormalProjectionNetwork(BOX, seed=8)
    for net in (first, second, other):
        net(tf.zeros([1, 3]), 1)
    kernel = lambda net: net._head._mean.kernel.numpy()  # noqa: E731
    np.testing.assert_array_equal(kernel(first), kernel(second))
    assert not np.array_equal(kernel(first), kernel(other))


def test_seed_stream_class_is_called_with_seed_and_salt():
    calls = []

    class Stream:
        def __init__(self, seed, salt):
            calls.append((seed, salt))

        def __call__(self):
            return 5

    NormalProjectionNetwork(BOX, seed=3, seed_stream_class=Stream)
    assert calls and calls[0][0] == 3


def test_output_spec_builds_the_same_distribution():
    projection = NormalProjectionNetwork(BOX)
    spec = projection.output_spec
    assert spec.sample_spec == BOX
    assert sorted(spec.input_params_spec) == ["loc", "scale"]
    dist = spec.build_distribution(loc=tf.zeros([2]), scale=tf.fill([2], 2.0))
    assert dist.event_shape == [2]
    np.testing.assert_allclose(dist.stddev().numpy(), [2.0, 2.0])


@pytest.mark.parametrize("inputs, outer_rank, kwargs, message", [
    (tf.zeros([2, 3], tf.float64), 1, {}, "dtype"),
    (tf.zeros([2, 3]), 2, {}, "outer_rank=2"),
    (tf.zeros([2, 3]), 1, {"mask": tf.ones([2, 2])}, "cannot mask"),
])
def test_bad_calls_are_clear_errors(inputs, outer_rank, kwargs, message):
    with pytest.raises(ValueError, match=message):
        NormalProjectionNetwork(BOX)(inputs, outer_rank, **kwargs)


def test_a_nest_of_several_specs_is_rejected():
    with pytest.raises(ValueError, match="2 leaves"):
        NormalProjectionNetwork({"a": BOX, "b": BOX})


def test_module_exports():
    assert normal_projection_network.__all__ == ["NormalProjectionNetwork", "tanh_squash_to_spec"]
    assert isinstance(NormalProjectionNetwork(BOX)(tf.zeros([1, 3]), 1)[0],
                      tfp.distributions.Distribution)


def test_unbatched_inputs_with_outer_rank_zero():
    dist, _ = NormalProjectionNetwork(BOX)(tf.zeros([3]), 0)
    assert dist.batch_shape == [] and dist.event_shape == [2]
