"""The compiled steps' shared pieces: merged float outputs split back exactly."""

import numpy as np
import tensorflow as tf

from tfpolicy.learning._tf_compiled import leaf_signature, merge_float_outputs, tensor_specs


def test_float_outputs_are_merged_into_one_array_and_split_back_in_order():
    outputs = [tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([7, 8], tf.int64),
               tf.constant([0.5, 0.25]), tf.constant(np.arange(8, dtype=np.float32).reshape(2, 2, 2))]
    returned, unmerge = merge_float_outputs(outputs)
    assert len(returned) == 2  # the merged floats, then the int64 output
    np.testing.assert_array_equal(returned[0].numpy(), [[1, 2, 0.5, 0, 1, 2, 3],
                                                        [3, 4, 0.25, 4, 5, 6, 7]])
    restored = unmerge([t.numpy() for t in returned])
    assert len(restored) == 4
    for got, expected in zip(restored, outputs):
        np.testing.assert_array_equal(got, expected.numpy())
        assert got.dtype == expected.dtype.as_numpy_dtype


def test_a_single_float_output_is_returned_as_it_is():
    outputs = [tf.constant([1.0, 2.0]), tf.constant([1, 2], tf.int64)]
    returned, unmerge = merge_float_outputs(outputs)
    assert returned is outputs
    assert unmerge(["a", "b"]) == ["a", "b"]


def test_signatures_leave_the_leading_dim_open():
    leaves = [np.zeros((3, 2), np.float32), np.zeros(3, np.int64)]
    assert leaf_signature(leaves) == ((np.dtype(np.float32), (2,)), (np.dtype(np.int64), ()))
    assert tensor_specs(leaves) == [tf.TensorSpec([None, 2], tf.float32),
                                    tf.TensorSpec([None], tf.int64)]
