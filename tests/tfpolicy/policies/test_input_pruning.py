"""Tests of `prune_unused_inputs`: which inputs are kept, what the pruned function
computes, the zeros fed for the others, and that the function is traced once."""

import numpy as np
import tensorflow as tf

from tfpolicy.policies.input_pruning import prune_unused_inputs, select_inputs

SCALAR = tf.TensorSpec([None], tf.float32)
PAIR = tf.TensorSpec([None, 2], tf.float32)


def test_unread_inputs_are_left_out():
    def fn(step_type, reward, observation):
        return [tf.reduce_sum(observation, -1) * 10.0]

    pruned = prune_unused_inputs(fn, [tf.TensorSpec([None], tf.int32), SCALAR, PAIR])
    assert pruned.used == [2]
    out = pruned.function(tf.constant([[1.0, 2.0], [3.0, -4.0]]))
    np.testing.assert_array_equal(out[0].numpy(), [30.0, -10.0])


def test_two_of_three_inputs_keep_their_order():
    pruned = prune_unused_inputs(lambda a, b, c: [c - a], [SCALAR, SCALAR, SCALAR])
    assert pruned.used == [0, 2]
    out = pruned.function(tf.constant([1.0, 2.0]), tf.constant([10.0, 20.0]))
    np.testing.assert_array_equal(out[0].numpy(), [9.0, 18.0])


def test_when_every_input_is_read_the_traced_function_is_returned():
    pruned = prune_unused_inputs(lambda a, b: [a[:, None] * b], [SCALAR, PAIR])
    assert pruned.used == [0, 1]
    out = pruned.function(tf.constant([2.0]), tf.constant([[1.0, 3.0]]))
    np.testing.assert_array_equal(out[0].numpy(), [[2.0, 6.0]])


def test_a_function_reading_nothing_keeps_the_first_input():
    pruned = prune_unused_inputs(lambda a, b: [tf.constant(7.0)], [SCALAR, PAIR])
    assert pruned.used == [0]
    assert float(pruned.function(tf.constant([1.0, 2.0]))[0]) == 7.0


def test_left_out_inputs_get_the_outer_dims_of_the_first_kept_one():
    # The traced graph checks its inputs' shapes: feeding it zeros of any other
    # shape than [2, 5, 3] for `a` would fail.
    signature = [tf.TensorSpec([None, None, 3], tf.float32),
                 tf.TensorSpec([None, None], tf.float32)]
    pruned = prune_unused_inputs(lambda a, b: [b * 2.0], signature, outer_rank=2)
    assert pruned.used == [1]
    out = pruned.function(tf.ones([2, 5]))
    np.testing.assert_array_equal(out[0].numpy(), np.full((2, 5), 2.0))


def test_the_function_is_traced_once():
    traces = []

    def fn(a, b):
        traces.append(1)
        return [b + 1.0]

    pruned = prune_unused_inputs(fn, [SCALAR, SCALAR])
    for value in ([1.0], [1.0, 2.0, 3.0]):
        pruned.function(tf.constant(value))
    assert len(traces) == 1


def test_on_all_inputs_takes_every_input_and_drops_the_unread_ones():
    pruned = prune_unused_inputs(lambda a, b, c: [c - a], [SCALAR, SCALAR, SCALAR])
    out = pruned.on_all_inputs()(tf.constant([1.0]), tf.constant([100.0]), tf.constant([5.0]))
    np.testing.assert_array_equal(out[0].numpy(), [4.0])
    full = pruned.traced(tf.constant([1.0]), tf.constant([100.0]), tf.constant([5.0]))
    np.testing.assert_array_equal(full[0].numpy(), [4.0])


def test_select_inputs_is_the_function_itself_when_all_are_read():
    def fn(*args):
        return args
    assert select_inputs(fn, [0, 1], 2) is fn
    assert select_inputs(fn, [2], 3)("a", "b", "c") == ("c",)
    assert select_inputs(fn, [0, 2], 3)("a", "b", "c") == ("a", "c")
