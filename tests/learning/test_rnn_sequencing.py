"""Tests for tfpolicy.learning.rnn_sequencing: chopping into sequences, padding batches and
the loss mask."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

from tfpolicy.learning import rnn_sequencing
from tfpolicy.learning.rnn_sequencing import (add_time_dimension, chop_into_sequences,
                                              pad_batch_to_sequences_of_same_size,
                                              reduce_mean_valid, sequence_mask,
                                              valid_mean_fn)
from tfpolicy.learning.sample_batch import SampleBatch


class Requirement:
    """An RLlib-style view requirement with only `shift_from`."""

    def __init__(self, shift_from=None):
        self.shift_from = shift_from


# chop_into_sequences


def test_chop_documented_example():
    features, states, seq_lens = chop_into_sequences(
        feature_columns=[np.array([4, 4, 8, 8, 8, 8]), np.array([1, 1, 0, 1, 1, 0])],
        state_columns=[np.array([4, 5, 4, 5, 5, 5])],
        max_seq_len=3,
        episode_ids=np.array([1, 1, 5, 5, 5, 5]),
        unroll_ids=np.array([4, 4, 4, 4, 4, 4]),
        agent_indices=np.array([0, 0, 0, 0, 0, 0]))
    np.testing.assert_array_equal(seq_lens, [2, 3, 1])
    assert seq_lens.dtype == np.int32
    np.testing.assert_array_equal(features[0], [4, 4, 0, 8, 8, 8, 8, 0, 0])
    np.testing.assert_array_equal(features[1], [1, 1, 0, 0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(states[0], [4, 4, 5])


def test_chop_compares_each_id_so_sums_do_not_collide():
    # RLlib's summed id makes (eps 1, agent 0) equal to (eps 0, agent 1): one sequence.
    _, _, seq_lens = chop_into_sequences(
        feature_columns=[np.arange(2)], state_columns=[], max_seq_len=5,
        episode_ids=np.array([1, 0]), agent_indices=np.array([0, 1]))
    np.testing.assert_array_equal(seq_lens, [1, 1])
    _, _, seq_lens = chop_into_sequences(
        feature_columns=[np.arange(4)], state_columns=[], max_seq_len=5,
        episode_ids=np.array([7, 7, 7, 7]), unroll_ids=np.array([0, 0, 1, 1]))
    np.testing.assert_array_equal(seq_lens, [2, 2])


def test_chop_without_ids_cuts_only_at_max_seq_len():
    features, _, seq_lens = chop_into_sequences(
        feature_columns=[np.arange(1, 8)], state_columns=[], max_seq_len=3)
    np.testing.assert_array_equal(seq_lens, [3, 3, 1])
    np.testing.assert_array_equal(features[0], [1, 2, 3, 4, 5, 6, 7, 0, 0])


def test_chop_dynamic_max_shrinks_padding_and_extra_padding_adds_to_it():
    kwargs = dict(feature_columns=[np.arange(1, 4)], state_columns=[], max_seq_len=5,
                  episode_ids=np.array([0, 0, 1]))
    features, _, _ = chop_into_sequences(**kwargs)
    np.testing.assert_array_equal(features[0], [1, 2, 3, 0])
    features, _, _ = chop_into_sequences(**kwargs, dynamic_max=False)
    np.testing.assert_array_equal(features[0], [1, 2, 0, 0, 0, 3, 0, 0, 0, 0])
    features, _, _ = chop_into_sequences(**kwargs, _extra_padding=1)
    np.testing.assert_array_equal(features[0], [1, 2, 0, 3, 0, 0])


def test_chop_uses_given_seq_lens_and_reduced_states():
    features, states, seq_lens = chop_into_sequences(
        feature_columns=[np.arange(1, 5)], state_columns=[np.array([[9.0], [8.0]])],
        max_seq_len=3, episode_ids=np.zeros(4), seq_lens=np.array([1, 3]),
        states_already_reduced_to_init=True)
    np.testing.assert_array_equal(seq_lens, [1, 3])
    np.testing.assert_array_equal(features[0], [1, 0, 0, 2, 3, 4])
    np.testing.assert_array_equal(states[0], [[9.0], [8.0]])
    with pytest.raises(ValueError, match="seq_lens add up to 3 rows, the feature columns have 4"):
        chop_into_sequences(feature_columns=[np.arange(4)], state_columns=[], max_seq_len=3,
                            seq_lens=np.array([1, 2]))


def test_chop_nested_features_give_lists_of_leaves():
    features, _, _ = chop_into_sequences(
        feature_columns=[{"b": np.arange(1, 4), "a": np.arange(3)[:, None] * 1.5}],
        state_columns=[], max_seq_len=2, handle_nested_data=True)
    a, b = features[0]  # dm-tree order: sorted keys
    np.testing.assert_array_equal(b, [1, 2, 3, 0])
    np.testing.assert_array_equal(a[:, 0], [0.0, 1.5, 3.0, 0.0])
    assert a.shape == (4, 1) and a.dtype == np.float64


def test_chop_pads_object_and_string_columns_with_none():
    features, _, _ = chop_into_sequences(
        feature_columns=[np.array([{"i": 0}, {"i": 1}, {"i": 2}], dtype=object),
                         np.array(["x", "y", "z"])],
        state_columns=[], max_seq_len=2)
    assert list(features[0]) == [{"i": 0}, {"i": 1}, {"i": 2}, None]
    assert list(features[1]) == ["x", "y", "z", None]


def test_chop_shuffle_moves_sequences_with_their_states_and_lengths():
    rows = np.arange(1, 10)
    eps = np.array([0, 0, 1, 1, 1, 2, 3, 3, 4])
    kwargs = dict(feature_columns=[rows], state_columns=[rows * 10], max_seq_len=3,
                  episode_ids=eps)
    plain_features, plain_states, plain_lens = chop_into_sequences(**kwargs)
    features, states, seq_lens = chop_into_sequences(**kwargs, shuffle=True, seed=1)
    again = chop_into_sequences(**kwargs, shuffle=True, seed=1)
    np.testing.assert_array_equal(again[0][0], features[0])
    folded = features[0].reshape(len(seq_lens), 3)
    plain = plain_features[0].reshape(len(plain_lens), 3)
    order = [int(np.flatnonzero(plain_states[0] == s)[0]) for s in states[0]]
    assert sorted(order) == list(range(len(plain_lens)))
    assert order != list(range(len(plain_lens)))
    np.testing.assert_array_equal(folded, plain[order])
    np.testing.assert_array_equal(seq_lens, plain_lens[order])


@given(st.lists(st.integers(0, 3), min_size=1, max_size=30), st.integers(1, 5), st.booleans())
def test_chop_then_unpadding_restores_the_rows(episodes, max_seq_len, dynamic_max):
    eps = np.cumsum(episodes)  # runs of equal ids
    rows = np.arange(len(eps)) + 1.0
    features, states, seq_lens = chop_into_sequences(
        feature_columns=[rows], state_columns=[rows * 10], max_seq_len=max_seq_len,
        episode_ids=eps, dynamic_max=dynamic_max)
    assert seq_lens.sum() == len(rows) and seq_lens.max() <= max_seq_len
    padded_len = len(features[0]) // len(seq_lens)
    assert padded_len == (seq_lens.max() if dynamic_max else max_seq_len)
    mask = sequence_mask(seq_lens, padded_len).numpy()
    np.testing.assert_array_equal(features[0][mask], rows)
    assert not features[0][~mask].any()
    starts = np.cumsum(seq_lens) - seq_lens
    np.testing.assert_array_equal(states[0], rows[starts] * 10)
    for start, length in zip(starts, seq_lens):
        assert len(set(eps[start:start + length])) == 1  # no sequence crosses episodes


# pad_batch_to_sequences_of_same_size


def recurrent_batch():
    return SampleBatch({
        "obs": {"pos": np.arange(5.0)[:, None]},
        "actions": np.array([1, 2, 3, 4, 5]),
        "eps_id": np.array([0, 0, 0, 1, 1]),
        "state_in_0": np.arange(5.0)[:, None] * 10,
        "state_out_0": np.arange(5.0)[:, None] * 100,
        "infos": [{"i": i} for i in range(5)],
    })


def test_pad_batch_chops_a_recurrent_batch_in_place():
    batch = recurrent_batch()
    assert pad_batch_to_sequences_of_same_size(batch, max_seq_len=2) is None
    np.testing.assert_array_equal(batch["seq_lens"], [2, 1, 2])
    np.testing.assert_array_equal(batch["obs"]["pos"][:, 0], [0, 1, 2, 0, 3, 4])
    np.testing.assert_array_equal(batch["actions"], [1, 2, 3, 0, 4, 5])
    np.testing.assert_array_equal(batch["state_in_0"][:, 0], [0, 20, 30])
    np.testing.assert_array_equal(batch["state_out_0"][:, 0], [0, 100, 200, 300, 400])
    assert len(batch["infos"]) == 5
    assert batch.zero_padded and batch.max_seq_len == 2 and len(batch) == 5
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=2)  # already padded: unchanged
    np.testing.assert_array_equal(batch["actions"], [1, 2, 3, 0, 4, 5])


def test_pad_batch_dynamic_max_shrinks_to_the_longest_sequence():
    batch = recurrent_batch()
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=20)
    np.testing.assert_array_equal(batch["seq_lens"], [3, 2])
    np.testing.assert_array_equal(batch["actions"], [1, 2, 3, 4, 5, 0])
    assert batch.max_seq_len == 3


def test_pad_batch_with_a_shifted_state_requirement_pads_to_max_seq_len():
    batch = recurrent_batch()
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=4,
                                        view_requirements={"state_in_0": Requirement(-3)})
    np.testing.assert_array_equal(batch["actions"], [1, 2, 3, 0, 4, 5, 0, 0])
    assert batch.max_seq_len == 4


def test_pad_batch_keeps_states_already_reduced_to_sequences():
    batch = SampleBatch({"obs": np.arange(1.0, 5.0), "state_in_0": np.array([7.0, 8.0]),
                         "seq_lens": [3, 1]})
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=3)
    np.testing.assert_array_equal(batch["obs"], [1, 2, 3, 4, 0, 0])
    np.testing.assert_array_equal(batch["state_in_0"], [7.0, 8.0])


def test_pad_batch_pads_a_feed_forward_batch_to_the_divisibility_requirement():
    batch = SampleBatch({"obs": np.arange(1.0, 6.0)})
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=20, batch_divisibility_req=4)
    np.testing.assert_array_equal(batch["seq_lens"], [4, 1])
    np.testing.assert_array_equal(batch["obs"], [1, 2, 3, 4, 5, 0, 0, 0])
    assert batch.max_seq_len == 4 and len(batch) == 5


def test_pad_batch_leaves_a_divisible_feed_forward_batch_and_may_shuffle_it():
    batch = SampleBatch({"obs": np.arange(8.0)})
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=20, batch_divisibility_req=4)
    assert "seq_lens" not in batch and batch.zero_padded
    np.testing.assert_array_equal(batch["obs"], np.arange(8.0))
    np.random.seed(0)
    shuffled = SampleBatch({"obs": np.arange(8.0)})
    pad_batch_to_sequences_of_same_size(shuffled, max_seq_len=20, shuffle=True)
    assert sorted(shuffled["obs"].tolist()) == list(range(8))
    assert shuffled["obs"].tolist() != list(range(8))


def test_pad_batch_of_several_agents_always_pads():
    batch = SampleBatch({"obs": np.arange(4.0), "agent_index": np.array([0, 0, 1, 1])})
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=20, batch_divisibility_req=2)
    np.testing.assert_array_equal(batch["seq_lens"], [2, 2])


def test_padded_batch_slices_into_whole_padded_sequences():
    batch = recurrent_batch()
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=2)
    part = batch[2:5]  # sequences 1 and 2 (unpadded rows 2-4)
    np.testing.assert_array_equal(part["actions"], [3, 0, 4, 5])
    np.testing.assert_array_equal(part["state_in_0"][:, 0], [20, 30])
    np.testing.assert_array_equal(part["state_out_0"][:, 0], [200, 300, 400])
    assert [i["i"] for i in part["infos"]] == [2, 3, 4]
    assert len(part) == 3 and part.max_seq_len == 2


# Masks and the time dimension


def test_sequence_mask_is_flat_and_row_major():
    np.testing.assert_array_equal(sequence_mask(np.array([2, 1, 3]), 3).numpy(),
                                  [1, 1, 0, 1, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(sequence_mask(np.array([1, 2])).numpy(), [1, 0, 1, 1])
    assert sequence_mask(np.array([1]), 2).dtype == tf.bool


def test_reduce_mean_valid_ignores_padding():
    x = tf.constant([1.0, 3.0, 100.0, 5.0, -100.0, -100.0])
    mask = sequence_mask(np.array([2, 1]), 3)
    assert float(reduce_mean_valid(x, mask)) == pytest.approx(3.0)


def test_mask_and_time_dimension_work_inside_tf_function():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32),
                                  tf.TensorSpec([None], tf.int32)])
    def masked_loss(x, seq_lens):
        folded = add_time_dimension(x, seq_lens=seq_lens)
        mask = sequence_mask(seq_lens, tf.shape(folded)[1])
        return reduce_mean_valid(x, mask), tf.shape(folded)

    # Rows [2, 4 | 9, 6] with lengths [2, 1]: the valid rows are 2, 4 and 9.
    loss, shape = masked_loss(tf.constant([2.0, 4.0, 9.0, 6.0]), tf.constant([2, 1]))
    assert float(loss) == pytest.approx(5.0)
    assert shape.numpy().tolist() == [2, 2]


def test_add_time_dimension_folds_rows_and_rejects_time_major():
    folded = add_time_dimension(np.arange(12.0).reshape(6, 2), seq_lens=np.array([3, 1]))
    assert folded.shape == (2, 3, 2)
    np.testing.assert_array_equal(folded[1, 0], [6.0, 7.0])
    with pytest.raises(ValueError, match="time-major"):
        add_time_dimension(np.zeros(4), seq_lens=np.array([2]), time_major=True)


def test_public_names():
    assert set(rnn_sequencing.__all__) == {
        "chop_into_sequences", "pad_batch_to_sequences_of_same_size", "add_time_dimension",
        "sequence_mask", "reduce_mean_valid", "valid_mean_fn"}


def test_valid_mean_fn_is_the_plain_mean_without_state_and_masks_padding_with_it():
    x = tf.constant([2.0, 4.0, 9.0, 6.0])
    assert float(valid_mean_fn({}, [], x)(x)) == pytest.approx(21.0 / 4)
    # Two sequences of T = 2 with lengths [2, 1]: the valid rows are 2, 4 and 9.
    mean = valid_mean_fn({"seq_lens": tf.constant([2, 1])}, [tf.zeros([2, 3])], x)
    assert float(mean(x)) == pytest.approx(5.0)
