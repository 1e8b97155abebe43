"""Tests of tfpolicy.algorithms.replay_buffers and its segment trees."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfpolicy.algorithms import _segment_tree
from tfpolicy.algorithms.replay_buffers import PrioritizedReplayBuffer, ReplayBuffer
from tfpolicy.learning import MultiAgentBatch, SampleBatch


def _rows(start, stop):
    """Rows whose columns all encode the row number, so a sampled row can be checked whole."""
    n = np.arange(start, stop)
    return SampleBatch({
        "obs": np.stack([n, -n], axis=1).astype(np.float32),
        "actions": n.astype(np.int64),
        "rewards": n.astype(np.float32) / 10,
        "terminateds": n % 2 == 0,
    })


def _oldest_first(buffer):
    """The stored `actions` from the oldest row to the newest."""
    state = buffer.get_state()
    stored = state["columns"]["actions"][0]
    if state["size"] < buffer.capacity:
        return stored
    return np.roll(stored, -state["next_index"])


def _non_array_parts(value):
    if isinstance(value, dict):
        return {k: _non_array_parts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_non_array_parts(v) for v in value]
    return None if isinstance(value, np.ndarray) else value


# ---- ReplayBuffer ----------------------------------------------------------------------------


def test_add_writes_rows_in_slot_order_and_keeps_the_last_capacity_rows():
    buffer = ReplayBuffer(capacity=3)
    buffer.add(_rows(0, 5))
    state = buffer.get_state()
    # Rows 2, 3, 4 survive; row j of the batch goes to slot j % 3.
    assert state["columns"]["actions"][0].tolist() == [3, 4, 2]
    assert state["next_index"] == 2
    assert len(buffer) == 3
    assert buffer.stats()["added_count"] == 5
    assert buffer.stats()["eviction_started"]


def test_add_wraps_around_the_end_of_the_storage():
    buffer = ReplayBuffer(capacity=4)
    buffer.add(_rows(0, 3))
    buffer.add(_rows(3, 6))
    assert buffer.get_state()["columns"]["actions"][0].tolist() == [4, 5, 2, 3]
    assert _oldest_first(buffer).tolist() == [2, 3, 4, 5]


@settings(max_examples=40, deadline=None)
@given(capacity=st.integers(1, 9), chunks=st.lists(st.integers(0, 12), min_size=1, max_size=6))
def test_adding_in_chunks_keeps_the_newest_rows_oldest_first(capacity, chunks):
    buffer = ReplayBuffer(capacity)
    start = 0
    for size in chunks:
        buffer.add(_rows(start, start + size))
        start += size
    if start == 0:
        assert len(buffer) == 0
        return
    expected = list(range(max(0, start - capacity), start))
    assert _oldest_first(buffer).tolist() == expected


def test_sample_draws_whole_stored_rows_uniformly_with_replacement():
    buffer = ReplayBuffer(capacity=10, seed=1)
    buffer.add(_rows(0, 4))
    batch = buffer.sample(4000)
    n = batch["actions"]
    assert isinstance(batch, SampleBatch) and len(batch) == 4000
    np.testing.assert_array_equal(batch["obs"], np.stack([n, -n], axis=1))
    np.testing.assert_allclose(batch["rewards"], n / 10, rtol=1e-6)
    np.testing.assert_array_equal(batch["terminateds"], n % 2 == 0)
    counts = np.bincount(n, minlength=4)
    assert counts.sum() == 4000 and np.all(np.abs(counts - 1000) < 150), counts
    assert batch["obs"].dtype == np.float32 and batch["terminateds"].dtype == bool


def test_sample_copies_rows():
    buffer = ReplayBuffer(capacity=2, seed=0)
    buffer.add(_rows(0, 2))
    batch = buffer.sample(3)
    batch["actions"][:] = 99
    assert sorted(buffer.get_state()["columns"]["actions"][0].tolist()) == [0, 1]


def test_nested_columns_are_stored_and_sampled_as_nests():
    buffer = ReplayBuffer(capacity=5, seed=0)
    obs = {"observations": np.arange(6, dtype=np.float32).reshape(3, 2),
           "action_mask": np.array([[1, 0], [0, 1], [1, 1]], np.float32)}
    buffer.add(SampleBatch({"obs": obs, "pair": (np.arange(3), np.arange(3) * 2.0),
                            "actions": np.arange(3)}))
    batch = buffer.sample(20)
    a = batch["actions"]
    assert sorted(batch["obs"]) == ["action_mask", "observations"]
    np.testing.assert_array_equal(batch["obs"]["observations"], obs["observations"][a])
    np.testing.assert_array_equal(batch["obs"]["action_mask"], obs["action_mask"][a])
    assert isinstance(batch["pair"], tuple)
    np.testing.assert_array_equal(batch["pair"][1], 2.0 * a)


def test_infos_are_not_stored():
    buffer = ReplayBuffer(capacity=4, seed=0)
    batch = _rows(0, 2)
    batch["infos"] = [{"a": 1}, {"b": 2}]
    buffer.add(batch)
    assert "infos" not in buffer.sample(2)


def test_add_accepts_a_default_policy_multi_agent_batch():
    buffer = ReplayBuffer(capacity=4)
    buffer.add(MultiAgentBatch({"default_policy": _rows(0, 2)}, 2))
    assert len(buffer) == 2
    with pytest.raises(TypeError, match=r"\['a', 'b'\]"):
        buffer.add(MultiAgentBatch({"a": _rows(0, 1), "b": _rows(0, 1)}, 1))


def test_add_with_other_columns_names_both_sides():
    buffer = ReplayBuffer(capacity=4)
    buffer.add(_rows(0, 2))
    batch = _rows(2, 3)
    del batch["rewards"]
    batch["weights"] = np.ones(1, np.float32)
    with pytest.raises(ValueError) as error:
        buffer.add(batch)
    message = str(error.value)
    assert "missing ['rewards']" in message and "unexpected ['weights']" in message
    assert "the buffer stores ['actions', 'obs', 'rewards', 'terminateds']" in message


def test_add_with_another_row_shape_names_the_column_and_both_shapes():
    buffer = ReplayBuffer(capacity=4)
    buffer.add(_rows(0, 2))
    batch = _rows(2, 3)
    batch["obs"] = np.zeros((1, 3), np.float32)
    with pytest.raises(ValueError, match=r"column 'obs': the buffer stores rows of shape \(2,\) "
                                         r"and dtype float32, the batch has rows of shape \(3,\)"):
        buffer.add(batch)


def test_add_casts_within_a_dtype_kind_and_rejects_other_kinds():
    buffer = ReplayBuffer(capacity=4, seed=0)
    buffer.add(_rows(0, 2))
    batch = _rows(2, 3)
    batch["rewards"] = np.array([0.25])  # float64 into the float32 column
    buffer.add(batch)
    assert buffer.get_state()["columns"]["rewards"][0].dtype == np.float32
    batch = _rows(3, 4)
    batch["terminateds"] = np.array([0.5])
    with pytest.raises(ValueError, match="column 'terminateds'.*dtype bool.*dtype float64"):
        buffer.add(batch)


def test_add_with_columns_of_different_lengths_names_them():
    buffer = ReplayBuffer(capacity=4)
    with pytest.raises(ValueError, match="column 'actions' has 1 rows, column 'obs' has 2"):
        buffer.add({"obs": np.zeros((2, 2)), "actions": np.zeros(1)})


def test_add_rejects_object_columns_and_sequences():
    with pytest.raises(TypeError, match="column 'names' has dtype object"):
        ReplayBuffer(4).add({"names": np.array(["a", None], dtype=object)})
    with pytest.raises(ValueError, match="seq_lens"):
        ReplayBuffer(4).add(SampleBatch({"obs": np.zeros((2, 1)), "seq_lens": [2]}))


def test_sampling_an_empty_buffer_names_the_buffer_and_its_size():
    with pytest.raises(ValueError, match=r"ReplayBuffer.sample: the buffer is empty \(0 of its "
                                         r"100 slots filled\)"):
        ReplayBuffer(100).sample(32)
    with pytest.raises(ValueError, match="PrioritizedReplayBuffer.sample: the buffer is empty"):
        PrioritizedReplayBuffer(8).sample(1, beta=0.4)


def test_bad_sizes_are_errors():
    with pytest.raises(ValueError, match="capacity must be an integer >= 1, got 0"):
        ReplayBuffer(0)
    buffer = ReplayBuffer(4)
    buffer.add(_rows(0, 1))
    with pytest.raises(ValueError, match="num_items must be an integer >= 1, got 0"):
        buffer.sample(0)


def test_state_is_json_apart_from_arrays_and_restores_the_same_samples():
    buffer = ReplayBuffer(capacity=6, seed=3)
    buffer.add(_rows(0, 8))
    buffer.sample(5)
    state = buffer.get_state()
    json.dumps(_non_array_parts(state))
    restored = ReplayBuffer(capacity=6, seed=123)
    restored.set_state(state)
    for fresh in (_rows(8, 9), _rows(9, 12)):
        for b in (buffer, restored):
            b.add(fresh)
        expected, got = buffer.sample(7), restored.sample(7)
        assert sorted(expected) == sorted(got)
        for key in expected:
            np.testing.assert_array_equal(expected[key], got[key])
    assert restored.stats() == buffer.stats()


def test_state_of_an_empty_buffer_round_trips():
    restored = ReplayBuffer(capacity=3)
    restored.set_state(ReplayBuffer(capacity=3, seed=0).get_state())
    assert len(restored) == 0
    restored.add(_rows(0, 1))
    assert len(restored) == 1


def test_set_state_of_another_capacity_names_both():
    state = ReplayBuffer(capacity=3).get_state()
    with pytest.raises(ValueError, match="capacity 3, this buffer has 4"):
        ReplayBuffer(capacity=4).set_state(state)
    del state["columns"]
    with pytest.raises(KeyError, match="lacks \\['columns'\\]"):
        ReplayBuffer(capacity=3).set_state(state)


# ---- PrioritizedReplayBuffer -------------------------------------------------------------------


def test_new_rows_get_the_largest_priority_seen():
    buffer = PrioritizedReplayBuffer(capacity=8, alpha=0.5)
    buffer.add(_rows(0, 2))
    np.testing.assert_allclose(buffer.get_state()["priorities"], [1.0, 1.0])
    buffer.update_priorities(np.array([0, 1]), np.array([4.0, 0.25]))
    buffer.add(_rows(2, 3))
    # Stored values are p^alpha: 4^0.5, 0.25^0.5, then the max priority 4 -> 2.
    np.testing.assert_allclose(buffer.get_state()["priorities"], [2.0, 0.5, 2.0])
    assert buffer.get_state()["max_priority"] == 4.0


def test_sampling_frequencies_follow_priorities_to_the_alpha():
    buffer = PrioritizedReplayBuffer(capacity=16, alpha=0.6, seed=0)
    buffer.add(_rows(0, 4))
    priorities = np.array([1.0, 2.0, 3.0, 4.0])
    buffer.update_priorities(np.arange(4), priorities)
    batch = buffer.sample(40000, beta=0.0)
    expected = priorities ** 0.6 / np.sum(priorities ** 0.6)
    frequencies = np.bincount(batch["batch_indexes"], minlength=4) / 40000
    np.testing.assert_allclose(frequencies, expected, atol=0.01)
    np.testing.assert_array_equal(batch["actions"], batch["batch_indexes"])
    np.testing.assert_array_equal(batch["weights"], np.ones(40000, np.float32))


def test_importance_weights_are_normalised_by_the_largest():
    # Priorities 1 and 4 with alpha 1: P = [0.2, 0.8], N = 2, so
    # w = (N P)^-beta / (N P_min)^-beta = (P / 0.2)^-0.5 = [1, 0.5].
    buffer = PrioritizedReplayBuffer(capacity=4, alpha=1.0, seed=0)
    buffer.add(_rows(0, 2))
    buffer.update_priorities(np.array([0, 1]), np.array([1.0, 4.0]))
    batch = buffer.sample(200, beta=0.5)
    expected = np.where(batch["batch_indexes"] == 0, 1.0, 0.5)
    np.testing.assert_allclose(batch["weights"], expected, rtol=1e-6)
    assert batch["weights"].dtype == np.float32 and batch["batch_indexes"].dtype == np.int64


def test_update_priorities_rejects_bad_input_by_name():
    buffer = PrioritizedReplayBuffer(capacity=8)
    buffer.add(_rows(0, 3))
    with pytest.raises(ValueError, match=r"indices \[3\] lie outside the buffer's 3 rows"):
        buffer.update_priorities(np.array([0, 3]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"> 0 and finite, got \[0.0\] at positions \[1\]"):
        buffer.update_priorities(np.array([0, 1]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="2 indices and 1 priorities"):
        buffer.update_priorities(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        PrioritizedReplayBuffer(8, alpha=0.0)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        buffer.sample(2, beta=-1.0)


def test_prioritized_state_restores_priorities_and_samples():
    buffer = PrioritizedReplayBuffer(capacity=5, alpha=0.7, seed=4)
    buffer.add(_rows(0, 7))
    batch = buffer.sample(6, beta=0.4)
    buffer.update_priorities(batch["batch_indexes"], np.linspace(0.1, 3.0, 6))
    state = buffer.get_state()
    json.dumps(_non_array_parts(state))
    restored = PrioritizedReplayBuffer(capacity=5, alpha=0.7)
    restored.set_state(state)
    expected, got = buffer.sample(9, beta=0.6), restored.sample(9, beta=0.6)
    for key in expected:
        np.testing.assert_array_equal(expected[key], got[key])
    with pytest.raises(ValueError, match="alpha 0.7, this buffer has 0.6"):
        PrioritizedReplayBuffer(capacity=5, alpha=0.6).set_state(state)
    with pytest.raises(ValueError, match="PrioritizedReplayBuffer, this buffer is a ReplayBuffer"):
        ReplayBuffer(capacity=5).set_state(state)


# ---- segment trees ---------------------------------------------------------------------------


@pytest.mark.parametrize("capacity, branching", [(1, 2), (7, 2), (10, 3), (100, 4), (1000, 64),
                                                     (5000, 4), (20000, 16)])
def test_segment_trees_reduce_and_search_like_numpy(capacity, branching):
    rng = np.random.default_rng(capacity)
    sums = _segment_tree.SumSegmentTree(capacity, branching)
    mins = _segment_tree.MinSegmentTree(capacity, branching)
    values = np.zeros(capacity)
    for _ in range(5):
        index = rng.integers(0, capacity, size=rng.integers(1, 10))
        new = rng.random(index.size) + 0.01
        sums[index] = new
        mins[index] = new
        for i, v in zip(index, new):  # a repeated index keeps its last value
            values[i] = v
    assert sums.sum() == pytest.approx(values.sum())
    set_values = values[values > 0]
    assert mins.min() == pytest.approx(set_values.min())
    masses = rng.random(50) * sums.sum()
    np.testing.assert_array_equal(sums.find_prefixsum_idx(masses),
                                  np.searchsorted(np.cumsum(values), masses, side="right"))
    rebuilt = _segment_tree.SumSegmentTree(capacity, branching)
    rebuilt.rebuild(values)
    for a, b in zip(rebuilt.levels, sums.levels):
        np.testing.assert_allclose(a, b)


def test_prefix_search_at_block_edges():
    tree = _segment_tree.SumSegmentTree(6, branching=2)
    tree[np.arange(6)] = np.array([1.0, 0.0, 2.0, 0.0, 0.0, 3.0])
    # Running sums 1, 1, 3, 3, 3, 6: a mass equal to a running sum belongs to the next leaf.
    np.testing.assert_array_equal(tree.find_prefixsum_idx(np.array([0.0, 0.999, 1.0, 2.999,
                                                                     3.0, 5.999])),
                                  [0, 0, 2, 2, 5, 5])


@pytest.mark.parametrize("capacity, branching", [(3000, 2), (50000, 16), (70001, 64)])
def test_prefix_search_descends_from_an_upper_level_like_numpy(capacity, branching):
    rng = np.random.default_rng(0)
    values = rng.random(capacity) ** 3
    tree = _segment_tree.SumSegmentTree(capacity, branching)
    tree.rebuild(values)
    assert tree.sum() == pytest.approx(values.sum())
    masses = np.sort(rng.random(300)) * tree.sum()
    np.testing.assert_array_equal(tree.find_prefixsum_idx(masses),
                                  np.searchsorted(np.cumsum(values), masses, side="right"))
