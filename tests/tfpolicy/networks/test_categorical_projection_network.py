import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks.categorical_projection_network import CategoricalProjectionNetwork

SCALAR = BoundedTensorSpec([], tf.int32, 2, 4)


def _fixed(projection, kernel, bias):
    layer = projection._head._logits
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)


def test_logits_are_hand_computable_and_samples_are_shifted_by_minimum():
    projection = CategoricalProjectionNetwork(SCALAR)
    projection(tf.zeros([1, 2]), 1)
    _fixed(projection, np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]], np.float32),
           np.zeros([3], np.float32))
    dist, state = projection(tf.constant([[2.0, 7.0]]), 1)
    assert state == ()
    # logits [2, 0, -2] for the values [2, 3, 4]
    expected = np.exp([2.0, 0.0, -2.0]) / np.exp([2.0, 0.0, -2.0]).sum()
    np.testing.assert_allclose(np.exp(dist.log_prob(tf.constant([[2], [3], [4]])).numpy())[:, 0],
                               expected, rtol=1e-5)
    assert int(dist.mode()[0]) == 2


def test_mask_removes_actions():
    projection = CategoricalProjectionNetwork(SCALAR)
    dist, _ = projection(tf.zeros([2, 3]), 1, mask=tf.constant([[0, 1, 0], [1, 0, 1]]))
    samples = dist.sample(200, seed=(1, 1)).numpy()
    assert set(samples[:, 0]) == {3} and set(samples[:, 1]) == {2, 4}


def test_vector_spec_gives_one_log_prob_per_outer_entry():
    spec = BoundedTensorSpec([3], tf.int32, 0, 1)
    projection = CategoricalProjectionNetwork(spec)
    dist, _ = projection(tf.zeros([4, 5, 2]), 2)
    assert dist.batch_shape == [4, 5] and dist.event_shape == [3]
    # zero inputs and zero bias: uniform over 2 values per element -> 3 * log(1/2)
    np.testing.assert_allclose(dist.log_prob(tf.zeros([4, 5, 3], tf.int32)).numpy(),
                               np.full([4, 5], 3 * np.log(0.5)), rtol=1e-5)
    assert projection.output_spec.input_params_spec["logits"].shape == [3, 2]


def test_output_spec_builds_from_logits():
    projection = CategoricalProjectionNetwork(SCALAR)
    spec = projection.output_spec
    assert spec.sample_spec == SCALAR
    dist = spec.build_distribution(logits=tf.constant([0.0, 100.0, 0.0]))
    assert int(dist.mode()) == 3


@pytest.mark.parametrize("spec, message", [
    (TensorSpec([], tf.int32), "BoundedTensorSpec"),
    (BoundedTensorSpec([], tf.float32, 0.0, 1.0), "integer"),
    (BoundedTensorSpec([2], tf.int32, [0, 0], [1, 2]), "same bounds"),
])
def test_unsupported_specs_are_clear_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        CategoricalProjectionNetwork(spec)


def test_mask_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="mask must have the logits' shape"):
        CategoricalProjectionNetwork(SCALAR)(tf.zeros([2, 3]), 1, mask=tf.ones([2, 5]))
