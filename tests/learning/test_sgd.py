"""Tests for tfpolicy.learning.sgd: standardized, minibatches and do_minibatch_sgd."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfpolicy.learning import sgd
from tfpolicy.learning.rnn_sequencing import pad_batch_to_sequences_of_same_size
from tfpolicy.learning.sample_batch import MultiAgentBatch, SampleBatch
from tfpolicy.learning.sgd import minibatches, standardized


# standardized


def test_standardized_hand_computed():
    # mean 2.5, population std sqrt(1.25).
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(standardized(x), (x - 2.5) / np.sqrt(1.25))


def test_standardized_uses_the_global_mean_and_std_of_every_element():
    x = np.array([[0.0, 10.0], [2.0, 12.0]])  # mean 6, std sqrt(26)
    np.testing.assert_allclose(standardized(x), (x - 6.0) / np.sqrt(26.0))


def test_standardized_clamps_the_std_instead_of_offsetting_it():
    np.testing.assert_array_equal(standardized(np.full(3, 7.0)), np.zeros(3))
    tiny = np.array([0.0, 2e-5])  # std 1e-5 < 1e-4: divided by 1e-4
    np.testing.assert_allclose(standardized(tiny), [-0.1, 0.1])


def test_standardized_keeps_float32():
    assert standardized(np.array([1.0, 2.0], np.float32)).dtype == np.float32


# minibatches


def test_minibatches_without_shuffle_are_ordered_views():
    batch = SampleBatch({"obs": np.arange(10.0)})
    parts = list(minibatches(batch, 4, shuffle=False))
    assert [p["obs"].tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(np.shares_memory(p["obs"], batch["obs"]) for p in parts)


def test_minibatches_shuffle_is_seedable_covers_every_row_and_leaves_the_input():
    batch = SampleBatch({"obs": np.arange(20.0), "actions": np.arange(20) * 2})
    parts = list(minibatches(batch, 6, seed=4))
    assert sorted(len(p) for p in parts) == [2, 6, 6, 6]
    rows = np.concatenate([p["obs"] for p in parts])
    assert sorted(rows.tolist()) == list(range(20)) and rows.tolist() != list(range(20))
    for part in parts:
        np.testing.assert_array_equal(part["actions"], part["obs"] * 2)
    again = np.concatenate([p["obs"] for p in minibatches(batch, 6, seed=4)])
    np.testing.assert_array_equal(again, rows)
    generator = np.concatenate(
        [p["obs"] for p in minibatches(batch, 6, seed=np.random.default_rng(4))])
    np.testing.assert_array_equal(generator, rows)
    np.testing.assert_array_equal(batch["obs"], np.arange(20.0))


def test_minibatches_of_size_zero_yield_the_batch_itself():
    batch = SampleBatch({"obs": np.arange(3)})
    assert list(minibatches(batch, 0)) == [batch]
    assert next(minibatches(batch, None)) is batch


def test_minibatches_reject_a_multi_agent_batch():
    ma = MultiAgentBatch({"p": SampleBatch({"obs": np.zeros(2)})}, 2)
    with pytest.raises(ValueError, match="policy_batches"):
        next(minibatches(ma, 1))


def test_minibatches_keep_whole_sequences_together():
    batch = SampleBatch({"obs": np.arange(10.0), "state_in_0": np.arange(5.0) * 10,
                         "seq_lens": [2, 3, 1, 2, 2]})
    parts = list(minibatches(batch, 4, shuffle=False))
    # 2 + 3 >= 4, then 1 + 2 + 2 >= 4.
    assert [p["seq_lens"].tolist() for p in parts] == [[2, 3], [1, 2, 2]]
    assert [p["state_in_0"].tolist() for p in parts] == [[0, 10], [20, 30, 40]]
    assert parts[1]["obs"].tolist() == [5, 6, 7, 8, 9]
    rest = list(minibatches(batch, 6, shuffle=False))
    # 2 + 3 + 1 >= 6; the remaining 2 + 2 form a last, smaller minibatch.
    assert [p["seq_lens"].tolist() for p in rest] == [[2, 3, 1], [2, 2]]


def test_minibatches_of_a_padded_batch_take_padded_rows_per_sequence():
    batch = SampleBatch({"obs": np.arange(1.0, 7.0), "eps_id": np.array([0, 0, 0, 1, 2, 2]),
                         "state_in_0": np.arange(6.0)})
    pad_batch_to_sequences_of_same_size(batch, max_seq_len=3)
    parts = list(minibatches(batch, 3, shuffle=True, seed=0))
    assert sorted(p["seq_lens"].tolist() for p in parts) == [[1, 2], [3]]
    for part in parts:
        assert len(part["obs"]) == 3 * len(part["seq_lens"])
        assert part.zero_padded
    assert sorted(r for p in parts for r in p["obs"].tolist() if r) == [1, 2, 3, 4, 5, 6]


def test_minibatches_do_not_shuffle_rows_of_a_recurrent_batch_without_seq_lens():
    batch = SampleBatch({"obs": np.arange(6.0), "state_in_0": np.arange(6.0)})
    parts = list(minibatches(batch, 2, seed=1))
    assert sorted(p["obs"].tolist() for p in parts) == [[0, 1], [2, 3], [4, 5]]


@given(st.integers(1, 40), st.integers(1, 12), st.integers(0, 2**16))
def test_minibatches_hold_every_row_exactly_once(rows, size, seed):
    batch = SampleBatch({"obs": np.arange(rows)})
    parts = list(minibatches(batch, size, seed=seed))
    assert all(len(p) <= size for p in parts)
    assert sorted(np.concatenate([p["obs"] for p in parts]).tolist()) == list(range(rows))


@given(st.lists(st.integers(1, 4), min_size=1, max_size=12), st.integers(1, 8))
def test_minibatches_of_sequences_hold_every_sequence_exactly_once(seq_lens, size):
    batch = SampleBatch({"obs": np.arange(sum(seq_lens)), "state_in_0": np.arange(len(seq_lens)),
                         "seq_lens": seq_lens})
    parts = list(minibatches(batch, size, shuffle=False))
    assert np.concatenate([p["state_in_0"] for p in parts]).tolist() == list(range(len(seq_lens)))
    assert np.concatenate([p["obs"] for p in parts]).tolist() == list(range(sum(seq_lens)))
    assert all(len(p) >= size for p in parts[:-1])


# do_minibatch_sgd


class Recording:
    """Learns nothing; records the rows of each call and reports their mean `obs`."""

    def __init__(self):
        self.calls = []

    def learn_on_batch(self, batch):
        self.calls.append(np.asarray(batch["obs"]).tolist())
        return {"learner_stats": {"mean_obs": float(np.mean(batch["obs"]))}, "rows": len(batch)}


def test_whole_batch_is_one_learn_on_batch_call():
    policy = Recording()
    info = sgd.do_minibatch_sgd(SampleBatch({"obs": np.arange(5.0)}), {"default_policy": policy})
    assert policy.calls == [[0.0, 1.0, 2.0, 3.0, 4.0]]
    assert info == {"default_policy": {"learner_stats": {"mean_obs": 2.0}, "rows": 5}}


def test_minibatch_passes_cover_every_row_and_average_the_last_pass():
    policy = Recording()
    info = sgd.do_minibatch_sgd(SampleBatch({"obs": np.arange(10.0)}),
                                {"default_policy": policy}, num_sgd_iter=2,
                                sgd_minibatch_size=4, seed=0)
    # Two passes of minibatches of 4, 4 and 2 rows.
    assert sorted(len(rows) for rows in policy.calls) == [2, 2, 4, 4, 4, 4]
    assert sorted(sum(policy.calls[:3], [])) == sorted(sum(policy.calls[3:], [])) == \
        list(np.arange(10.0))
    # The stats are the means over the last pass's three minibatches.
    last = [np.mean(rows) for rows in policy.calls[3:]]
    assert info["default_policy"]["learner_stats"]["mean_obs"] == pytest.approx(np.mean(last))
    assert info["default_policy"]["rows"] == len(policy.calls[-1])


def test_only_the_policies_to_train_learn():
    a, b = Recording(), Recording()
    batch = MultiAgentBatch({"a": SampleBatch({"obs": np.zeros(2)}),
                             "b": SampleBatch({"obs": np.ones(3)})}, 3)
    info = sgd.do_minibatch_sgd(batch, {"a": a, "b": b}, policies_to_train=["b"])
    assert set(info) == {"b"} and a.calls == [] and b.calls == [[1.0, 1.0, 1.0]]
    info = sgd.do_minibatch_sgd(batch, {"a": a, "b": b},
                                policies_to_train=lambda pid, samples: pid == "a")
    assert set(info) == {"a"}


def test_a_batch_for_an_unknown_policy_is_named():
    batch = MultiAgentBatch({"c": SampleBatch({"obs": np.zeros(2)})}, 2)
    with pytest.raises(KeyError, match=r"the batch holds policy 'c', the worker has \['a'\]"):
        sgd.do_minibatch_sgd(batch, {"a": Recording()})


def test_public_names():
    assert set(sgd.__all__) == {"standardized", "minibatches", "do_minibatch_sgd"}
