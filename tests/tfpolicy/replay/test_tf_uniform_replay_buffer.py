"""Tests for tfpolicy.replay.tf_uniform_replay_buffer: TF-Agents' constructor and options."""

import numpy as np
import pytest
import tensorflow as tf

from tfpolicy.replay import BufferInfo, TFUniformReplayBuffer, UniformReplayBuffer

_SCALAR = tf.TensorSpec((), tf.int64)


def _filled(num_adds, max_length=5, batch_size=3, **kwargs):
    """Row b, frame id t holds 100 * b + t."""
    buffer = TFUniformReplayBuffer(_SCALAR, batch_size=batch_size, max_length=max_length,
                                   **kwargs)
    for t in range(num_adds):
        buffer.add_batch(np.array([100 * b + t for b in range(batch_size)], np.int64))
    return buffer


def _storage(buffer):
    (variable,) = [v for v in buffer.variables if v.shape.rank == 2]
    return variable.numpy()


def _pass(buffer, **kwargs):
    return [(items.numpy().tolist(), info.ids.numpy().tolist())
            for items, info in buffer.as_dataset(single_deterministic_pass=True, **kwargs)]


def test_constructor_takes_tf_agents_keywords_and_capacity_is_the_whole_buffer():
    buffer = TFUniformReplayBuffer(data_spec=_SCALAR, batch_size=3, max_length=5,
                                   scope="rb", device="cpu:*", stateful_dataset=True)
    assert isinstance(buffer, UniformReplayBuffer)
    assert (buffer.capacity, buffer.max_length, buffer.batch_size) == (15, 5, 3)
    assert (buffer.scope, buffer.device, buffer.stateful_dataset) == ("rb", "cpu:*", True)
    assert buffer.name == "rb"
    assert "CPU" in buffer.variables[0].device


def test_max_length_defaults_to_tf_agents_thousand():
    assert TFUniformReplayBuffer(_SCALAR, batch_size=1).max_length == 1000


def test_single_pass_walks_rows_then_non_overlapping_windows():
    # 7 adds into rows of 5: each row holds frame ids 2..6.
    assert _pass(_filled(7), num_steps=2) == [
        ([2, 3], [2, 3]), ([4, 5], [4, 5]), ([6], [6]),
        ([102, 103], [2, 3]), ([104, 105], [4, 5]), ([106], [6]),
        ([202, 203], [2, 3]), ([204, 205], [4, 5]), ([206], [6])]


def test_single_pass_without_num_steps_reads_each_frame_once_row_by_row():
    assert [items for items, _ in _pass(_filled(2, batch_size=2))] == [0, 1, 100, 101]


def test_single_pass_window_shift_one_gives_every_window():
    buffer = _filled(4, batch_size=1, dataset_window_shift=1)
    assert [items for items, _ in _pass(buffer, num_steps=2)] == [[0, 1], [1, 2], [2, 3], [3]]


def test_single_pass_drop_remainder_drops_short_windows_and_row_groups():
    buffer = _filled(7, dataset_drop_remainder=True)
    assert [items for items, _ in _pass(buffer, num_steps=2)] == [
        [2, 3], [4, 5], [102, 103], [104, 105], [202, 203], [204, 205]]
    # Rows {0, 1} form a group of 2; row 2 alone is dropped.
    assert [items for items, _ in _pass(buffer, sample_batch_size=2)] == [
        [2, 102], [3, 103], [4, 104], [5, 105], [6, 106]]


def test_single_pass_batches_rows_and_keeps_whole_windows_only():
    batches = _pass(_filled(7), sample_batch_size=2, num_steps=2)
    assert batches == [
        ([[2, 3], [102, 103]], [[2, 3], [2, 3]]),
        ([[4, 5], [104, 105]], [[4, 5], [4, 5]]),
        ([[202, 203]], [[2, 3]]),
        ([[204, 205]], [[4, 5]])]


def test_single_pass_reads_the_buffer_when_iterated():
    buffer = _filled(1, batch_size=1)
    dataset = buffer.as_dataset(single_deterministic_pass=True)
    buffer.add_batch(np.array([1], np.int64))
    assert [int(items) for items, _ in dataset] == [0, 1]


def test_drop_remainder_rejects_arguments_that_would_drop_everything():
    buffer = _filled(3, dataset_drop_remainder=True)
    with pytest.raises(ValueError, match=r"sample_batch_size=4 is above batch_size=3"):
        buffer.as_dataset(sample_batch_size=4, single_deterministic_pass=True)
    with pytest.raises(ValueError, match=r"num_steps=6 is above max_length=5"):
        buffer.as_dataset(num_steps=6, single_deterministic_pass=True)


def test_bad_window_shift_is_rejected():
    with pytest.raises(ValueError, match=r"dataset_window_shift must be None or a positive "
                                         r"integer, got 0"):
        TFUniformReplayBuffer(_SCALAR, batch_size=1, dataset_window_shift=0)


def test_get_next_unstacked_returns_one_item_per_step():
    tf.random.set_seed(3)
    buffer = _filled(4, max_length=4, batch_size=2)
    steps, info = buffer.get_next(sample_batch_size=6, num_steps=3, time_stacked=False)
    assert isinstance(steps, tuple) and len(steps) == 3
    assert isinstance(info.ids, tuple) and len(info.ids) == 3
    first, second, third = (s.numpy() for s in steps)
    np.testing.assert_array_equal(second, first + 1)
    np.testing.assert_array_equal(third, first + 2)
    np.testing.assert_array_equal(info.ids[0].numpy(), first % 100)
    # 2 rows x 2 window starts: each window has probability 1/4.
    np.testing.assert_allclose(info.probabilities.numpy(), np.full(6, 0.25))


def test_get_next_unstacked_without_sample_batch_size():
    buffer = _filled(3, max_length=3, batch_size=1)
    steps, info = buffer.get_next(num_steps=3, time_stacked=False)
    assert [int(s) for s in steps] == [0, 1, 2]
    assert [int(i) for i in info.ids] == [0, 1, 2]


def test_get_next_time_stacked_is_the_base_behaviour():
    buffer = _filled(3, max_length=3, batch_size=1)
    items, info = buffer.get_next(num_steps=3)
    assert items.numpy().tolist() == [0, 1, 2]
    assert isinstance(info, BufferInfo)


def test_clear_resets_the_position_and_optionally_zeroes_storage():
    buffer = _filled(2, batch_size=1)
    buffer.clear()
    assert int(buffer.num_frames()) == 0
    assert _storage(buffer)[0, :2].tolist() == [0, 1]   # unlinked, not zeroed
    buffer = _filled(2, batch_size=1)
    buffer.clear(clear_all_variables=True)
    assert int(buffer.num_frames()) == 0
    assert _storage(buffer).sum() == 0
