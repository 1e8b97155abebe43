"""Tests of the policy helpers `get_num_actions_from_tensor_spec` and `masked_argmax`."""

import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy.policies import utils


def test_num_actions_is_maximum_plus_one():
    assert utils.get_num_actions_from_tensor_spec(BoundedTensorSpec((), tf.int32, 0, 4)) == 5
    assert utils.get_num_actions_from_tensor_spec(BoundedTensorSpec((), tf.int64, 0, 0)) == 1
    assert utils.get_num_actions_from_tensor_spec(BoundedArraySpec((), np.int32, 0, 2)) == 3


@pytest.mark.parametrize("spec, message", [
    (TensorSpec((), tf.int32), "must be a BoundedTensorSpec"),
    (BoundedTensorSpec((1,), tf.int32, 0, 3), r"must be a scalar \(shape \(\)\), got shape \(1,\)"),
    (BoundedTensorSpec((), tf.float32, 0, 3), "int32 or int64, got float32"),
    (BoundedTensorSpec((), tf.int32, 1, 3), "minimum 0, got minimum 1"),
])
def test_num_actions_rejects_other_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        utils.get_num_actions_from_tensor_spec(spec)


def test_masked_argmax_skips_masked_entries_and_gives_minus_one_for_empty_rows():
    values = tf.constant([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0], [-1.0, -1.0, -2.0], [1.0, 2.0, 3.0]])
    mask = tf.constant([[0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(utils.masked_argmax(values, mask).numpy(), [2, 2, 0, -1])
    result = utils.masked_argmax(values, tf.cast(mask, tf.bool), output_type=tf.int64)
    assert result.dtype == tf.int64


def test_masked_argmax_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) and mask \(2, 2\)"):
        utils.masked_argmax(tf.zeros([2, 3]), tf.ones([2, 2]))
    with pytest.raises(ValueError, match="rank-2"):
        utils.masked_argmax(tf.zeros([3]), tf.ones([3]))
