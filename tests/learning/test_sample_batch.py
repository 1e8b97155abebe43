"""Tests for tfpolicy.learning.sample_batch: SampleBatch, MultiAgentBatch, concat_samples,
check_columns and the Trajectory conversion."""

import pickle

import numpy as np
import pytest
import tree
from hypothesis import given
from hypothesis import strategies as st

from specs import ArraySpec
from tfpolicy.learning import sample_batch as sb
from tfpolicy.learning.sample_batch import (DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch,
                                            check_columns, concat_samples,
                                            concat_samples_into_ma_batch)
from tfpolicy.trajectories import PolicyInfo, Trajectory

FIRST, MID, LAST = 0, 1, 2


def assert_nests_equal(actual, expected):
    """Same structure (container types included) and equal leaves of equal dtype."""
    tree.assert_same_structure(actual, expected)
    for a, e in zip(tree.flatten(actual), tree.flatten(expected)):
        assert np.asarray(a).dtype == np.asarray(e).dtype, (a, e)
        np.testing.assert_array_equal(a, e)


def seq_batch():
    """Three sequences of lengths 2, 3, 1 (rows 0-1, 2-4, 5) with one state row per sequence."""
    return SampleBatch({
        "obs": np.arange(6.0),
        "state_in_0": np.array([[10.0], [20.0], [30.0]]),
        "seq_lens": [2, 3, 1],
    })


# Construction and counting


def test_column_constants_are_rllib_strings():
    expected = {
        "OBS": "obs", "CUR_OBS": "obs", "NEXT_OBS": "new_obs", "ACTIONS": "actions",
        "REWARDS": "rewards", "TERMINATEDS": "terminateds", "TRUNCATEDS": "truncateds",
        "INFOS": "infos", "EPS_ID": "eps_id", "UNROLL_ID": "unroll_id",
        "AGENT_INDEX": "agent_index", "T": "t", "ACTION_LOGP": "action_logp",
        "ACTION_PROB": "action_prob", "ACTION_DIST_INPUTS": "action_dist_inputs",
        "VF_PREDS": "vf_preds", "PREV_ACTIONS": "prev_actions", "PREV_REWARDS": "prev_rewards",
        "SEQ_LENS": "seq_lens", "VALUES_BOOTSTRAPPED": "values_bootstrapped", "DONES": "dones",
        "ENV_ID": "env_id",
    }
    for name, value in expected.items():
        assert getattr(SampleBatch, name) == value
    assert DEFAULT_POLICY_ID == "default_policy"


def test_count_is_the_first_countable_column_skipping_infos_and_state():
    batch = SampleBatch({"infos": [{}, {}], "state_in_0": np.zeros((7, 2)),
                         "obs": {"a": np.zeros((3, 2)), "b": np.zeros(3)}, "rewards": np.zeros(3)})
    assert batch.count == len(batch) == batch.env_steps() == batch.agent_steps() == 3


def test_count_of_a_seq_lens_batch_is_the_sum_of_seq_lens():
    batch = seq_batch()
    assert len(batch) == 6
    assert batch["seq_lens"].dtype == np.int32
    assert batch.max_seq_len == 3


def test_empty_batch_counts_zero():
    assert len(SampleBatch()) == 0
    assert len(SampleBatch({"obs": np.zeros((0, 3))})) == 0


def test_lists_and_scalars_become_arrays_and_infos_a_one_dim_object_array():
    batch = SampleBatch({"rewards": [1.0, 2.0], "infos": [[1, 2], [3, 4]], "x": 3})
    assert isinstance(batch["rewards"], np.ndarray)
    assert batch["infos"].dtype == object and batch["infos"].shape == (2,)
    assert batch["infos"][1] == [3, 4]
    assert batch["x"].shape == ()


def test_seq_lens_none_or_empty_is_dropped():
    assert "seq_lens" not in SampleBatch({"obs": np.zeros(2), "seq_lens": None})
    assert "seq_lens" not in SampleBatch({"obs": np.zeros(2), "seq_lens": []})


def test_is_training_key_becomes_the_flag():
    batch = SampleBatch({"obs": np.zeros(2), "is_training": True})
    assert batch.is_training is True and "is_training" not in batch
    batch.set_training(False)
    assert batch.is_training is False


def test_count_follows_setting_and_deleting_columns():
    batch = SampleBatch()
    batch["obs"] = np.zeros(5)
    assert len(batch) == 5
    del batch["obs"]
    assert len(batch) == 0
    batch.update({"obs": np.zeros(4)})
    assert len(batch) == 4
    assert batch.pop("obs").shape == (4,)
    assert len(batch) == 0
    assert batch.added_keys == {"obs"} and batch.deleted_keys == {"obs"}


def test_missing_column_raises_key_error_naming_it_and_the_columns_present():
    batch = SampleBatch({"obs": np.zeros(2), "actions": np.zeros(2)})
    with pytest.raises(KeyError, match=r"no column 'advantages'.*\['actions', 'obs'\]"):
        batch["advantages"]
    assert batch.get("advantages") is None
    assert batch.get("advantages", 5) == 5


def test_getting_records_accessed_keys():
    batch = SampleBatch({"obs": np.zeros(2), "actions": np.zeros(2)})
    batch["obs"]
    assert batch.accessed_keys == {"obs"}


def test_dones_is_terminateds_or_truncateds():
    batch = SampleBatch({"terminateds": np.array([False, True, False, False]),
                         "truncateds": np.array([False, False, True, False])})
    np.testing.assert_array_equal(batch["dones"], [False, True, True, False])
    np.testing.assert_array_equal(batch.get("dones"), [False, True, True, False])
    only_terminated = SampleBatch({"terminateds": np.array([0, 1])})
    np.testing.assert_array_equal(only_terminated["dones"], [False, True])
    assert SampleBatch({"obs": np.zeros(1)}).get("dones") is None


def test_dones_cannot_be_set_or_given():
    with pytest.raises(KeyError, match="terminateds"):
        SampleBatch({"dones": np.zeros(2)})
    batch = SampleBatch({"obs": np.zeros(2)})
    with pytest.raises(KeyError, match="terminateds"):
        batch["dones"] = np.zeros(2)


def test_repr_shows_count_sequences_and_columns():
    assert repr(SampleBatch({"obs": np.zeros(2)})) == "SampleBatch(2: ['obs'])"
    assert repr(seq_batch()) == "SampleBatch(6 (seqs=3): ['obs', 'state_in_0'])"


def test_get_interceptor_converts_once_per_column():
    calls = []

    def interceptor(value):
        calls.append(1)
        return value * 2

    batch = SampleBatch({"obs": np.array([1, 2])})
    batch.set_get_interceptor(interceptor)
    np.testing.assert_array_equal(batch["obs"], [2, 4])
    batch["obs"]
    assert len(calls) == 1
    batch["obs"] = np.array([5])
    np.testing.assert_array_equal(batch["obs"], [10])


def test_pickle_keeps_columns_and_flags():
    batch = seq_batch()
    batch.right_zero_pad(4)
    restored = pickle.loads(pickle.dumps(batch))
    assert isinstance(restored, SampleBatch)
    assert restored.zero_padded and restored.max_seq_len == 4 and len(restored) == 6
    np.testing.assert_array_equal(restored["obs"], batch["obs"])


# Slicing


def test_slice_is_a_view_keeping_flags():
    batch = SampleBatch({"obs": np.arange(10.0), "nested": {"a": np.arange(10)}},
                        _is_training=True, _num_grad_updates=3.0)
    part = batch[2:5]
    np.testing.assert_array_equal(part["obs"], [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(part["nested"]["a"], [2, 3, 4])
    assert np.shares_memory(part["obs"], batch["obs"])
    assert len(part) == 3 and part.is_training and part.num_grad_updates == 3.0
    part["obs"][0] = -1.0
    assert batch["obs"][2] == -1.0


def test_slice_bounds_follow_python_slicing():
    batch = SampleBatch({"obs": np.arange(5)})
    np.testing.assert_array_equal(batch[:100]["obs"], np.arange(5))
    np.testing.assert_array_equal(batch[-2:]["obs"], [3, 4])
    assert len(batch[0:0]) == 0
    assert len(batch[4:2]) == 0
    with pytest.raises(ValueError, match="step of 1"):
        batch[::2]


def test_slice_of_a_seq_lens_batch_snaps_to_whole_sequences():
    batch = seq_batch()
    # Row 1 lies in sequence 0 (kept whole); row 4 lies in sequence 1 (left out).
    part = batch[1:4]
    np.testing.assert_array_equal(part["obs"], [0.0, 1.0])
    np.testing.assert_array_equal(part["seq_lens"], [2])
    np.testing.assert_array_equal(part["state_in_0"], [[10.0]])
    assert len(part) == 2 and part.max_seq_len == 2
    part = batch[2:6]
    np.testing.assert_array_equal(part["obs"], [2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(part["seq_lens"], [3, 1])
    np.testing.assert_array_equal(part["state_in_0"], [[20.0], [30.0]])


def test_slice_of_a_zero_padded_batch_cuts_padded_and_unpadded_columns_alike():
    batch = seq_batch()
    batch["state_out_0"] = np.arange(6.0)[:, None] * 100  # stays unpadded, like after padding
    batch.right_zero_pad(3, exclude_states=True)
    batch["state_out_0"] = np.arange(6.0)[:, None] * 100
    part = batch[2:6]  # sequences 1 and 2
    np.testing.assert_array_equal(part["obs"], [2.0, 3.0, 4.0, 5.0, 0.0, 0.0])
    np.testing.assert_array_equal(part["state_out_0"][:, 0], [200.0, 300.0, 400.0, 500.0])
    np.testing.assert_array_equal(part["seq_lens"], [3, 1])
    assert part.zero_padded and part.max_seq_len == 3 and len(part) == 4


def test_slice_of_a_seq_lens_batch_rejects_columns_of_another_length():
    batch = seq_batch()
    batch["bad"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"column 'bad': it has 4 rows.*6 rows.*3 sequences"):
        batch[0:2]


@given(st.lists(st.integers(1, 4), min_size=1, max_size=8), st.data())
def test_slicing_with_seq_lens_never_cuts_a_sequence(seq_lens, data):
    total = sum(seq_lens)
    starts = np.cumsum([0] + seq_lens)
    batch = SampleBatch({"obs": np.arange(total), "state_in_0": np.arange(len(seq_lens)),
                         "seq_lens": seq_lens})
    start = data.draw(st.integers(0, total))
    stop = data.draw(st.integers(0, total))
    part = batch[start:stop]
    kept = part["state_in_0"].tolist()  # the sequence indices
    assert kept == list(range(kept[0], kept[-1] + 1)) if kept else True
    assert part["seq_lens"].tolist() == [seq_lens[j] for j in kept]
    expected_rows = [r for j in kept for r in range(starts[j], starts[j + 1])]
    assert part["obs"].tolist() == expected_rows
    assert len(part) == len(expected_rows)


def test_timeslices_by_size_and_by_number():
    batch = SampleBatch({"a": np.arange(7)})
    assert [s["a"].tolist() for s in batch.timeslices(3)] == [[0, 1, 2], [3, 4, 5], [6]]
    # remaining // slices_left: 7 // 3 = 2, 5 // 2 = 2, 3 // 1 = 3.
    assert [len(s) for s in batch.timeslices(num_slices=3)] == [2, 2, 3]
    assert [len(s) for s in SampleBatch({"a": np.arange(2)}).timeslices(num_slices=3)] == [0, 1, 1]


@pytest.mark.parametrize("kwargs", [{}, {"size": 2, "num_slices": 2}, {"size": 0},
                                    {"num_slices": -1}, {"size": 1.5}])
def test_timeslices_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="timeslices"):
        SampleBatch({"a": np.arange(4)}).timeslices(**kwargs)


# copy, rows, columns


def test_copy_is_deep_unless_shallow():
    batch = SampleBatch({"obs": np.zeros(3), "n": {"a": np.zeros(3)}}, _is_training=True)
    deep = batch.copy()
    deep["obs"][0] = 1.0
    deep["n"]["a"][0] = 1.0
    assert batch["obs"][0] == 0.0 and batch["n"]["a"][0] == 0.0
    assert deep.is_training
    shallow = batch.copy(shallow=True)
    shallow["obs"][0] = 2.0
    assert batch["obs"][0] == 2.0
    shallow["new"] = np.zeros(3)
    assert "new" not in batch


def test_rows_yield_one_dict_per_row():
    batch = SampleBatch({"a": np.array([1, 2]), "n": {"x": np.array([[1.0], [2.0]])}})
    rows = list(batch.rows())
    assert len(rows) == 2
    assert rows[1]["a"] == 2 and rows[1]["n"]["x"].tolist() == [2.0]


def test_rows_give_seq_lens_one_and_reject_per_sequence_state():
    batch = SampleBatch({"a": np.array([1, 2, 3]), "seq_lens": [1, 2]})
    assert [row["seq_lens"] for row in batch.rows()] == [1, 1, 1]
    with pytest.raises(ValueError, match="column 'state_in_0' has 3 rows, the batch has 6"):
        next(seq_batch().rows())


def test_columns_returns_the_columns_in_order():
    batch = SampleBatch({"a": np.array([1]), "b": np.array([2]), "c": np.array([3])})
    assert [c.tolist() for c in batch.columns(["c", "a"])] == [[3], [1]]


def test_size_bytes_counts_array_bytes():
    assert SampleBatch({"a": np.zeros(4, np.float32), "b": {"c": np.zeros(2)}}).size_bytes() == 32


# shuffle and split_by_episode


def test_shuffle_is_in_place_seedable_and_keeps_rows_together():
    def make():
        return SampleBatch({"a": np.arange(50), "n": {"b": np.arange(50) * 2}})

    batch = make()
    assert batch.shuffle(seed=3) is batch
    np.testing.assert_array_equal(batch["n"]["b"], batch["a"] * 2)
    assert sorted(batch["a"].tolist()) == list(range(50))
    assert batch["a"].tolist() != list(range(50))
    np.testing.assert_array_equal(make().shuffle(seed=3)["a"], batch["a"])
    from_generator = make().shuffle(seed=np.random.default_rng(3))
    np.testing.assert_array_equal(from_generator["a"], batch["a"])
    np.random.seed(7)
    first = make().shuffle()["a"]
    np.random.seed(7)
    np.testing.assert_array_equal(make().shuffle()["a"], first)


def test_shuffle_raises_for_seq_lens_batches():
    with pytest.raises(ValueError, match="seq_lens"):
        seq_batch().shuffle(seed=0)


def test_split_by_episode_starts_a_slice_wherever_eps_id_changes():
    batch = SampleBatch({"a": np.arange(6), "eps_id": np.array([3, 3, 1, 1, 3, 3])})
    slices = batch.split_by_episode()
    assert [s["a"].tolist() for s in slices] == [[0, 1], [2, 3], [4, 5]]
    assert np.shares_memory(slices[1]["a"], batch["a"])


def test_split_by_episode_on_dones_keeps_the_remainder():
    batch = SampleBatch({"a": np.arange(6), "terminateds": np.array([0, 1, 0, 0, 0, 0]),
                         "truncateds": np.array([0, 0, 0, 1, 0, 0]),
                         "eps_id": np.zeros(6)})
    assert [s["a"].tolist() for s in batch.split_by_episode("dones")] == [[0, 1], [2, 3], [4, 5]]
    assert len(batch.split_by_episode()) == 1  # eps_id is preferred and constant
    ends_on_done = SampleBatch({"a": np.arange(2), "terminateds": np.array([0, 1])})
    assert [len(s) for s in ends_on_done.split_by_episode()] == [2]


def test_split_by_episode_rejects_other_keys_and_missing_columns():
    batch = SampleBatch({"a": np.arange(2), "terminateds": np.zeros(2)})
    with pytest.raises(ValueError, match="None, 'eps_id', 'dones'"):
        batch.split_by_episode("t")
    with pytest.raises(KeyError, match="eps_id"):
        batch.split_by_episode("eps_id")
    with pytest.raises(KeyError, match="terminateds"):
        SampleBatch({"a": np.arange(2)}).split_by_episode()
    assert SampleBatch({"eps_id": np.zeros(0)}).split_by_episode() == []


@given(st.lists(st.integers(1, 5), min_size=1, max_size=6))
def test_concat_then_split_by_episode_gives_back_the_episodes(lengths):
    episodes = [SampleBatch({"obs": np.arange(n) + 100 * i, "eps_id": np.full(n, i),
                             "n": {"x": np.full((n, 2), i)}})
                for i, n in enumerate(lengths)]
    split = concat_samples(episodes).split_by_episode()
    assert len(split) == len(episodes)
    for got, expected in zip(split, episodes):
        assert_nests_equal(dict(got), dict(expected))


# right_zero_pad


def test_right_zero_pad_pads_every_sequence_in_place():
    batch = SampleBatch({"a": np.array([1, 2, 3]), "state_in_0": np.array([1.0, 3.0]),
                         "infos": [{"i": 0}, {"i": 1}, {"i": 2}], "seq_lens": [1, 2]})
    assert batch.right_zero_pad(max_seq_len=4) is batch
    np.testing.assert_array_equal(batch["a"], [1, 0, 0, 0, 2, 3, 0, 0])
    assert batch["a"].dtype == np.array([1]).dtype
    np.testing.assert_array_equal(batch["state_in_0"], [1.0, 3.0])
    assert list(batch["infos"]) == [{"i": 0}, None, None, None, {"i": 1}, {"i": 2}, None, None]
    assert batch.zero_padded and batch.max_seq_len == 4 and len(batch) == 3
    assert batch.right_zero_pad(4) is batch  # already padded to 4: unchanged
    np.testing.assert_array_equal(batch["a"], [1, 0, 0, 0, 2, 3, 0, 0])


def test_right_zero_pad_can_include_per_row_states():
    batch = SampleBatch({"a": np.array([1, 2, 3]), "state_in_0": np.array([5, 6, 7]),
                         "seq_lens": [1, 2]})
    batch.right_zero_pad(2, exclude_states=False)
    np.testing.assert_array_equal(batch["state_in_0"], [5, 0, 6, 7])


def test_right_zero_pad_errors():
    with pytest.raises(ValueError, match="seq_lens"):
        SampleBatch({"a": np.arange(2)}).right_zero_pad(2)
    with pytest.raises(ValueError, match="longest sequence"):
        seq_batch().right_zero_pad(2)
    padded = seq_batch().right_zero_pad(3)
    with pytest.raises(ValueError, match="already zero-padded to 3"):
        padded.right_zero_pad(4)
    bad = SampleBatch({"a": np.arange(3), "b": np.arange(2), "seq_lens": [3]})
    with pytest.raises(ValueError, match="column 'b' has 2 rows"):
        bad.right_zero_pad(3)


# Episode helpers and bootstrapping inputs


def test_is_terminated_or_truncated_and_is_single_trajectory():
    batch = SampleBatch({"terminateds": np.array([0, 0, 0]), "truncateds": np.array([0, 0, 1])})
    assert batch.is_terminated_or_truncated() is True
    assert batch.is_single_trajectory() is True
    cut = SampleBatch({"terminateds": np.array([0, 1, 0])})
    assert cut.is_terminated_or_truncated() is False
    assert cut.is_single_trajectory() is False


def test_single_step_input_dict_for_the_step_after_the_last_row():
    batch = SampleBatch({
        "obs": {"pos": np.array([[0.0], [1.0]])}, "new_obs": {"pos": np.array([[1.0], [2.0]])},
        "actions": np.array([3, 4]), "rewards": np.array([0.5, 0.7]),
        "prev_actions": np.array([0, 3]), "prev_rewards": np.array([0.0, 0.5]),
        "state_in_0": np.zeros((2, 2)), "state_out_0": np.array([[1.0, 2.0], [3.0, 4.0]]),
        "state_out_1": np.array([[5.0], [6.0]]), "vf_preds": np.zeros(2)})
    step = batch.get_single_step_input_dict(index="last")
    assert sorted(step) == ["obs", "prev_actions", "prev_rewards", "seq_lens", "state_in_0",
                            "state_in_1"]
    np.testing.assert_array_equal(step["obs"]["pos"], [[2.0]])
    np.testing.assert_array_equal(step["prev_actions"], [4])
    np.testing.assert_array_equal(step["prev_rewards"], [0.7])
    np.testing.assert_array_equal(step["state_in_0"], [[3.0, 4.0]])
    np.testing.assert_array_equal(step["state_in_1"], [[6.0]])
    assert step["seq_lens"].dtype == np.int32 and step["seq_lens"].tolist() == [1]
    assert len(step) == 1


def test_single_step_input_dict_without_state_or_prev_columns():
    batch = SampleBatch({"obs": np.array([[0.0], [1.0]]), "new_obs": np.array([[1.0], [2.0]]),
                         "actions": np.array([3, 4]), "rewards": np.array([0.5, 0.7])})
    step = batch.get_single_step_input_dict()
    assert sorted(step) == ["obs"]
    with pytest.raises(KeyError, match="new_obs"):
        SampleBatch({"obs": np.zeros(2)}).get_single_step_input_dict()


def test_single_step_input_dict_at_a_row_index():
    batch = SampleBatch({"obs": np.array([10, 11, 12]), "new_obs": np.array([11, 12, 13]),
                         "state_in_0": np.array([[1.0], [2.0], [3.0]])})
    step = batch.get_single_step_input_dict(index=1)
    np.testing.assert_array_equal(step["obs"], [11])
    np.testing.assert_array_equal(step["state_in_0"], [[2.0]])
    np.testing.assert_array_equal(batch.get_single_step_input_dict(index=-1)["obs"], [12])
    with pytest.raises(ValueError, match="one state row per sequence"):
        seq_batch().get_single_step_input_dict(index=0)


def test_single_step_input_dict_with_view_requirements():
    class Requirement:
        def __init__(self, data_col=None, used_for_compute_actions=True, shift_from=None):
            self.data_col = data_col
            self.used_for_compute_actions = used_for_compute_actions
            self.shift_from = shift_from

    batch = SampleBatch({"obs": np.array([10, 11]), "new_obs": np.array([11, 12]),
                         "actions": np.array([1, 2]), "state_out_0": np.array([[5.0], [6.0]])})
    step = batch.get_single_step_input_dict(
        {"obs": Requirement(), "prev_actions": Requirement(), "state_in_0":
            Requirement(data_col="state_out_0"), "advantages": Requirement(
                used_for_compute_actions=False)})
    assert sorted(step) == ["obs", "prev_actions", "seq_lens", "state_in_0"]
    np.testing.assert_array_equal(step["obs"], [12])
    np.testing.assert_array_equal(step["prev_actions"], [2])
    with pytest.raises(ValueError, match="range of rows"):
        batch.get_single_step_input_dict({"obs": Requirement(shift_from=-3)})


# concat_samples


def test_concat_samples_concatenates_every_leaf_and_the_flags():
    a = SampleBatch({"obs": {"x": np.zeros((2, 3)), "y": (np.zeros(2), np.zeros(2))},
                     "infos": [{"k": 0}, {"k": 1}]}, _num_grad_updates=1.0)
    b = SampleBatch({"obs": {"x": np.ones((3, 3)), "y": (np.ones(3), np.ones(3))},
                     "infos": [{"k": 2}, {"k": 3}, {"k": 4}]}, _num_grad_updates=6.0)
    c = concat_samples([a, SampleBatch(), b])
    assert len(c) == 5
    np.testing.assert_array_equal(c["obs"]["x"][:, 0], [0, 0, 1, 1, 1])
    assert isinstance(c["obs"]["y"], tuple)
    assert [i["k"] for i in c["infos"]] == [0, 1, 2, 3, 4]
    assert c.num_grad_updates == pytest.approx((1.0 * 2 + 6.0 * 3) / 5)
    assert concat_samples([SampleBatch({"a": np.zeros(1)})] * 2).num_grad_updates is None
    assert SampleBatch.concat_samples([a, b])["obs"]["x"].shape == (5, 3)
    assert a.concat(b)["obs"]["x"].shape == (5, 3)


def test_concat_samples_of_sequences_keeps_them_and_the_largest_max_seq_len():
    c = concat_samples([seq_batch(), seq_batch()[2:6]])
    np.testing.assert_array_equal(c["seq_lens"], [2, 3, 1, 3, 1])
    np.testing.assert_array_equal(c["state_in_0"][:, 0], [10, 20, 30, 20, 30])
    assert c.max_seq_len == 3 and len(c) == 10


def test_concat_samples_of_nothing_or_empty_batches_is_an_empty_batch():
    assert len(concat_samples([])) == 0
    assert isinstance(concat_samples([SampleBatch(), SampleBatch()]), SampleBatch)


def test_concat_samples_keeps_is_training_only_when_all_agree():
    on = SampleBatch({"a": np.zeros(1)}, _is_training=True)
    off = SampleBatch({"a": np.zeros(1)})
    assert concat_samples([on, on]).is_training is True
    assert concat_samples([on, off]).is_training is False


def test_concat_samples_rejects_a_column_that_only_later_batches_have():
    a = SampleBatch({"obs": np.zeros(2)})
    b = SampleBatch({"obs": np.zeros(2), "advantages": np.zeros(2)})
    with pytest.raises(ValueError, match=r"column 'advantages' is in batches \[1\] but not in "
                                         r"batches \[0\]"):
        concat_samples([a, b])


def test_concat_samples_names_the_column_and_path_of_a_structure_mismatch():
    a = SampleBatch({"obs": {"x": np.zeros(2), "y": np.zeros(2)}})
    b = SampleBatch({"obs": {"x": np.zeros(2)}})
    with pytest.raises(ValueError, match=r"column 'obs' has the nest paths \['x', 'y'\] in "
                                         r"batch 0 but \['x'\] in batch 1"):
        concat_samples([a, b])


def test_concat_samples_names_the_path_and_both_shapes_of_a_shape_mismatch():
    a = SampleBatch({"obs": {"x": np.zeros((2, 3)), "y": np.zeros(2)}})
    b = SampleBatch({"obs": {"x": np.zeros((2, 4)), "y": np.zeros(2)}})
    with pytest.raises(ValueError, match=r"column 'obs' at 'x'.*shape \(2, 3\).*shape \(2, 4\)"):
        concat_samples([a, b])
    with pytest.raises(ValueError, match=r"column 'r' at '<root>'.*\(2, 3\).*\(2,\)"):
        concat_samples([SampleBatch({"r": np.zeros((2, 3))}), SampleBatch({"r": np.zeros(2)})])


def test_concat_samples_checks_padding_flags():
    padded = seq_batch().right_zero_pad(3)
    with pytest.raises(ValueError, match="zero_padded and time_major"):
        concat_samples([padded, seq_batch()])
    with pytest.raises(ValueError, match="max_seq_len"):
        concat_samples([seq_batch(), SampleBatch({"obs": np.zeros(2), "state_in_0": np.zeros(
            (2, 1))})])
    with pytest.raises(ValueError, match="share max_seq_len"):
        concat_samples([padded, seq_batch().right_zero_pad(4)])


def test_concat_samples_with_a_multi_agent_batch_groups_by_policy():
    single = SampleBatch({"obs": np.zeros(2)})
    ma = MultiAgentBatch({DEFAULT_POLICY_ID: SampleBatch({"obs": np.ones(3)}),
                          "other": SampleBatch({"obs": np.ones(1)})}, env_steps=3)
    out = concat_samples([single, SampleBatch(), ma])
    assert isinstance(out, MultiAgentBatch)
    assert out.env_steps() == 5 and out.agent_steps() == 6
    np.testing.assert_array_equal(out[DEFAULT_POLICY_ID]["obs"], [0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="not dict"):
        concat_samples_into_ma_batch([ma, {"obs": np.zeros(1)}])


# MultiAgentBatch


def test_multi_agent_batch_counts_and_wraps():
    a, b = SampleBatch({"obs": np.zeros(3)}), SampleBatch({"obs": np.zeros(4)})
    ma = MultiAgentBatch({"a": a, "b": b}, env_steps=4)
    assert len(ma) == ma.env_steps() == 4 and ma.agent_steps() == 7
    assert ma["a"] is a and ma.as_multi_agent() is ma
    assert MultiAgentBatch.wrap_as_needed({DEFAULT_POLICY_ID: a}, 3) is a
    assert isinstance(MultiAgentBatch.wrap_as_needed({"a": a}, 3), MultiAgentBatch)
    assert a.as_multi_agent()[DEFAULT_POLICY_ID] is a
    copied = ma.copy()
    copied["a"]["obs"][0] = 1.0
    assert a["obs"][0] == 0.0
    with pytest.raises(TypeError, match="policy 'c' has a dict"):
        MultiAgentBatch({"c": {"obs": np.zeros(1)}}, 1)


def test_multi_agent_timeslices_group_rows_by_environment_step():
    # Agent 1 acts at t=1, 2, 3; agent 2 at t=1, 3; agent 3 at t=3 (RLlib's docstring example).
    def agent(ts, index):
        return SampleBatch({"t": np.array(ts), "eps_id": np.zeros(len(ts), np.int64),
                            "agent_index": np.full(len(ts), index), "obs": np.array(ts) * 10})

    ma = MultiAgentBatch({"p1": agent([1, 2, 3], 0), "p2": agent([1, 3], 1),
                          "p3": agent([3], 2)}, env_steps=3)
    ones = ma.timeslices(1)
    assert [s.env_steps() for s in ones] == [1, 1, 1]
    assert [sorted(s.policy_batches) for s in ones] == [["p1", "p2"], ["p1"], ["p1", "p2", "p3"]]
    twos = ma.timeslices(2)
    assert [s.env_steps() for s in twos] == [2, 1]
    np.testing.assert_array_equal(twos[0]["p1"]["obs"], [10, 20])
    np.testing.assert_array_equal(twos[1]["p3"]["obs"], [30])
    with pytest.raises(ValueError, match="positive int"):
        ma.timeslices(0)


# check_columns


def test_check_columns_accepts_matching_columns():
    batch = SampleBatch({"obs": {"pos": np.zeros((4, 2), np.float32)},
                         "actions": np.zeros(4, np.int64), "infos": [{}] * 4})
    check_columns(batch, {"obs": {"pos": ArraySpec((2,), np.float32)},
                          "actions": ArraySpec((), np.int64)}, owner="P")


def test_check_columns_names_a_missing_column_and_the_columns_present():
    batch = SampleBatch({"obs": np.zeros(4)})
    with pytest.raises(ValueError, match=r"P: the batch has no column\(s\) \['advantages'\]; "
                                         r"its columns are \['obs'\]"):
        check_columns(batch, {"advantages": ArraySpec((), np.float32)}, owner="P")


def test_check_columns_names_every_columns_length_when_they_differ():
    batch = SampleBatch({"obs": {"pos": np.zeros((4, 2))}, "actions": np.zeros(3)})
    with pytest.raises(ValueError, match=r"different lengths \(the batch has 4 rows\): "
                                         r"obs/pos: 4, actions: 3"):
        check_columns(batch, {})


def test_check_columns_names_the_column_path_and_both_sides_of_a_dtype_mismatch():
    batch = SampleBatch({"obs": {"pos": np.zeros((4, 2), np.float64)}})
    with pytest.raises(ValueError) as error:
        check_columns(batch, {"obs": {"pos": ArraySpec((2,), np.float32)}}, owner="MyPolicy")
    message = str(error.value)
    assert message.startswith("MyPolicy: column 'obs' at 'pos': dtype mismatch")
    assert "dtype('float32')" in message and "dtype float64 and shape (4, 2)" in message


def test_check_columns_names_a_structure_mismatch():
    batch = SampleBatch({"obs": {"pos": np.zeros((4, 2))}})
    with pytest.raises(ValueError, match=r"column 'obs'.*missing keys \['vel'\]"):
        check_columns(batch, {"obs": {"pos": ArraySpec((2,), np.float64),
                                      "vel": ArraySpec((2,), np.float64)}})


def test_check_columns_takes_per_sequence_state_and_padded_columns():
    batch = seq_batch()
    batch["state_out_0"] = np.zeros((6, 1))
    batch.right_zero_pad(3)
    batch["state_out_0"] = np.zeros((6, 1))  # unpadded, as after pad_batch_to_sequences
    check_columns(batch, {"state_in_0": ArraySpec((1,), np.float64)})
    batch["state_in_0"] = np.zeros((2, 1))
    with pytest.raises(ValueError, match=r"6 rows in 3 sequences.*state_in_0: 2"):
        check_columns(batch, {})


# Trajectory conversion


def two_episode_trajectory():
    """Batch entry 0: an episode terminated after 2 transitions, its boundary, then a new
    episode's first step. Entry 1: mid-episode steps, then a truncation."""
    step_type = np.array([[FIRST, MID, LAST, FIRST], [MID, MID, MID, MID]], np.int32)
    next_step_type = np.array([[MID, LAST, FIRST, MID], [MID, MID, LAST, MID]], np.int32)
    return Trajectory(
        step_type=step_type,
        observation={"pos": np.arange(8, dtype=np.float32).reshape(2, 4, 1) * 10,
                     "id": np.arange(8).reshape(2, 4)},
        action=np.array([[1, 2, 0, 3], [4, 5, 6, 7]]),
        policy_info=PolicyInfo(log_probability=np.full((2, 4), -0.5, np.float32)),
        next_step_type=next_step_type,
        reward=np.array([[1.0, 2.0, 0.0, 3.0], [4.0, 5.0, 6.0, 7.0]], np.float32),
        discount=np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]], np.float32))


def test_from_trajectory_columns():
    traj = two_episode_trajectory()
    batch = SampleBatch.from_trajectory(traj)
    assert len(batch) == 8
    np.testing.assert_array_equal(batch["obs"]["id"], np.arange(8))
    np.testing.assert_array_equal(batch["actions"], [1, 2, 0, 3, 4, 5, 6, 7])
    np.testing.assert_array_equal(batch["terminateds"], [0, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(batch["truncateds"], [0, 0, 0, 0, 0, 0, 1, 0])
    # Entry 0: episode 1 (rows 0-2, boundary included), episode 2 (row 3); entry 1: its own id.
    np.testing.assert_array_equal(batch["eps_id"], [1, 1, 1, 2, 5, 5, 5, 5])
    np.testing.assert_array_equal(batch["unroll_id"], [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(batch["action_logp"], np.full(8, -0.5, np.float32))
    assert "new_obs" not in batch  # the observation after each entry's final row is unknown


def test_from_trajectory_round_trip_is_exact():
    traj = two_episode_trajectory()
    assert_nests_equal(SampleBatch.from_trajectory(traj).to_trajectory(batch_size=2), traj)
    single = tree.map_structure(lambda x: x[0], traj)
    assert_nests_equal(SampleBatch.from_trajectory(single).to_trajectory(), single)
    no_info = traj._replace(policy_info=())
    batch = SampleBatch.from_trajectory(no_info)
    assert "policy_info" not in batch and "action_logp" not in batch
    assert_nests_equal(batch.to_trajectory(batch_size=2), no_info)
    empty_info = traj._replace(policy_info=PolicyInfo())
    assert_nests_equal(SampleBatch.from_trajectory(empty_info).to_trajectory(2), empty_info)


def test_from_trajectory_new_obs_from_next_observation():
    traj = two_episode_trajectory()
    batch = SampleBatch.from_trajectory(
        traj, next_observation={"pos": np.array([[80.0], [90.0]], np.float32),
                                "id": np.array([8, 9])})
    np.testing.assert_array_equal(batch["new_obs"]["id"], [1, 2, 3, 8, 5, 6, 7, 9])
    with pytest.raises(ValueError, match="next_observation has the structure"):
        SampleBatch.from_trajectory(traj, next_observation=np.zeros(2))
    with pytest.raises(ValueError, match=r"next_observation has shape \(3,\), expected \(2,\)"):
        SampleBatch.from_trajectory(traj, next_observation={"pos": np.zeros((3, 1), np.float32),
                                                            "id": np.zeros(3, np.int64)})


def test_from_trajectory_drop_boundaries_gives_rllib_transitions():
    traj = tree.map_structure(lambda x: x[0, :3], two_episode_trajectory())  # ends on a boundary
    batch = SampleBatch.from_trajectory(traj, drop_boundaries=True)
    np.testing.assert_array_equal(batch["obs"]["id"], [0, 1])
    np.testing.assert_array_equal(batch["new_obs"]["id"], [1, 2])
    np.testing.assert_array_equal(batch["terminateds"], [False, True])
    assert batch.is_terminated_or_truncated()
    # Dropping a boundary in the middle keeps the rows after it; new_obs needs the final one.
    batch = SampleBatch.from_trajectory(two_episode_trajectory(), drop_boundaries=True)
    np.testing.assert_array_equal(batch["obs"]["id"], [0, 1, 3, 4, 5, 6, 7])
    assert "new_obs" not in batch


def test_from_trajectory_rejects_bad_outer_dims():
    traj = two_episode_trajectory()
    with pytest.raises(ValueError, match=r"trajectory at 'action': expected outer dims \(2, 4\)"):
        SampleBatch.from_trajectory(traj._replace(action=np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"\[T\] or \[B, T\]"):
        SampleBatch.from_trajectory(tree.map_structure(lambda x: x[None], traj))


def test_to_trajectory_of_a_sampled_batch_inserts_boundary_rows():
    batch = SampleBatch({
        "obs": np.array([10, 11, 20, 21]), "new_obs": np.array([11, 12, 21, 22]),
        "actions": np.array([1, 2, 3, 4]), "rewards": np.array([1.0, 2.0, 3.0, 4.0], np.float32),
        "terminateds": np.array([False, True, False, False]),
        "truncateds": np.array([False, False, False, True]),
        "action_logp": np.array([-1.0, -2.0, -3.0, -4.0], np.float32)})
    traj = batch.to_trajectory()
    np.testing.assert_array_equal(traj.step_type, [FIRST, MID, LAST, FIRST, MID, LAST])
    np.testing.assert_array_equal(traj.next_step_type, [MID, LAST, FIRST, MID, LAST, FIRST])
    np.testing.assert_array_equal(traj.observation, [10, 11, 12, 20, 21, 22])
    np.testing.assert_array_equal(traj.action, [1, 2, 0, 3, 4, 0])
    np.testing.assert_array_equal(traj.reward, [1.0, 2.0, 0.0, 3.0, 4.0, 0.0])
    np.testing.assert_array_equal(traj.discount, [1.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(traj.policy_info.log_probability, [-1, -2, 0, -3, -4, 0])
    assert traj.step_type.dtype == np.int32 and traj.discount.dtype == np.float32


def test_to_trajectory_takes_first_steps_from_t_and_needs_new_obs_for_boundaries():
    batch = SampleBatch({"obs": np.array([5, 6]), "actions": np.zeros(2), "rewards": np.zeros(2),
                         "terminateds": np.array([False, False]), "t": np.array([3, 4])})
    np.testing.assert_array_equal(batch.to_trajectory().step_type, [MID, MID])
    ended = SampleBatch({"obs": np.array([5]), "actions": np.zeros(1), "rewards": np.zeros(1),
                         "terminateds": np.array([True])})
    with pytest.raises(KeyError, match="new_obs"):
        ended.to_trajectory()
    with pytest.raises(ValueError, match="batch_size=3"):
        batch.to_trajectory(batch_size=3)
    with pytest.raises(ValueError, match="zero-padded"):
        seq_batch().right_zero_pad(3).to_trajectory()


@given(st.integers(1, 3), st.lists(st.sampled_from([FIRST, MID, LAST]), min_size=1,
                                   max_size=6))
def test_from_trajectory_to_trajectory_round_trip_property(batch_size, step_types):
    steps = len(step_types)
    step_type = np.tile(np.array(step_types, np.int32), (batch_size, 1))
    next_step_type = np.roll(step_type, -1, axis=1)
    rng = np.random.default_rng(steps)
    traj = Trajectory(
        step_type=step_type,
        observation=(rng.normal(size=(batch_size, steps, 2)), np.arange(batch_size * steps)
                     .reshape(batch_size, steps)),
        action=rng.integers(0, 3, size=(batch_size, steps)),
        policy_info={"q": rng.normal(size=(batch_size, steps, 3)).astype(np.float32)},
        next_step_type=next_step_type,
        reward=rng.normal(size=(batch_size, steps)).astype(np.float32),
        discount=rng.integers(0, 2, size=(batch_size, steps)).astype(np.float32))
    batch = SampleBatch.from_trajectory(traj)
    assert len(batch) == batch_size * steps
    assert_nests_equal(batch.to_trajectory(batch_size=batch_size), traj)


def test_public_names():
    assert set(sb.__all__) == {"DEFAULT_POLICY_ID", "SampleBatch", "MultiAgentBatch",
                               "concat_samples", "concat_samples_into_ma_batch", "check_columns"}
