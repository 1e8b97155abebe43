"""Tests for tfpolicy.evaluation.policy_map: LRU order, stash and restore (bit-identical
for a PPO policy), what is written to disk, swappable states, cleanup and errors.

`Toy` counts how many times it is built, so a test can tell a restore that built a new
object from one that reused the evicted one, and an `iter`/`len`/`in` that restored
nothing.
"""

import gc
import json
import pathlib

import gymnasium as gym
import numpy as np
import pytest

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.algorithms.ppo import PPOTFPolicy
from tfpolicy.evaluation.policy_map import PolicyMap
from tfpolicy.evaluation.policy_spec import PolicySpec
from tfpolicy.learning import Policy, SampleBatch, checkpoint

OBS = ArraySpec((2,), np.float32)
ACT = BoundedArraySpec((), np.int64, 0, 1)
CHECKPOINT_FILES = ["arrays/arrays.data-00000-of-00001", "arrays/arrays.index",
                    "policy_state.json"]


class Toy(Policy):
    """Weights `{"w": float32[2]}`; `builds` counts constructions."""

    builds = 0

    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        type(self).builds += 1
        self.w = np.zeros(2, np.float32)

    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        return np.zeros(len(obs_batch), np.int64), [], {}

    def learn_on_batch(self, samples):
        return {}

    def get_weights(self):
        return {"w": self.w.copy()}

    def set_weights(self, weights):
        self.w = np.array(weights["w"], np.float32)


class OtherToy(Toy):
    pass


class Unstashable(Toy):
    """A state the checkpoint format refuses (an arbitrary object)."""

    def get_state(self):
        return dict(super().get_state(), extra=object())


def toy(value=0.0, config=None, cls=Toy):
    policy = cls(OBS, ACT, config or {})
    policy.w[:] = value
    return policy


def files_under(root):
    root = pathlib.Path(root)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def assert_bit_identical(actual, expected, path="state"):
    assert type(actual) is type(expected), (path, type(actual), type(expected))
    if isinstance(expected, dict):
        assert list(actual) == list(expected), path
        for key in expected:
            assert_bit_identical(actual[key], expected[key], f"{path}/{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_bit_identical(a, e, f"{path}/{i}")
    elif isinstance(expected, (np.ndarray, np.generic)):
        assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape), path
        assert actual.tobytes() == expected.tobytes(), path
    else:
        assert actual == expected, path


# ---- LRU order and the mapping ----------------------------------------------------------------


def test_lru_order_stashes_the_least_recently_used():
    policies = PolicyMap(capacity=2)
    for i, pid in enumerate("abc"):
        policies[pid] = toy(i)
    # a, b, c inserted: a is the least recently used
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["b", "c"], ["a"])
    policies["b"]  # touch b: c is now the least recently used
    assert policies.in_memory_ids() == ["c", "b"]
    policies["d"] = toy(3)
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["b", "d"], ["a", "c"])
    # restoring a stashes b (least recently used of b, d)
    assert policies["a"].w.tolist() == [0.0, 0.0]
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["d", "a"], ["c", "b"])
    assert policies["c"].w.tolist() == [2.0, 2.0]
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["a", "c"], ["b", "d"])
    assert list(policies) == ["a", "b", "c", "d"]
    policies.close()


def test_len_iter_contains_and_get_spec_count_stashed_ids_without_restoring():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1, {"gamma": 0.5})
    policies["b"] = toy(2)
    builds = Toy.builds
    assert (len(policies), list(policies), "a" in policies, "z" in policies) == (
        2, ["a", "b"], True, False)
    assert policies.get_spec("a") == PolicySpec(Toy, OBS, ACT, {"gamma": 0.5})
    assert type(policies.get_spec("a")) is PolicySpec
    assert (Toy.builds, policies.stashed_ids()) == (builds, ["a"])
    policies.close()


def test_values_and_items_restore_stashed_policies():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    assert [(pid, p.w[0]) for pid, p in policies.items()] == [("a", 1.0), ("b", 2.0)]
    assert [p.w[0] for p in policies.values()] == [1.0, 2.0]
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["b"], ["a"])
    policies.close()


def test_restore_rebuilds_from_the_recorded_spec():
    policies = PolicyMap(capacity=1)
    original = toy(1.5, {"lr": 0.1})
    original.on_global_var_update({"timestep": 7, "num_grad_updates": 3})
    policies["a"] = original
    policies["b"] = toy()
    builds = Toy.builds
    restored = policies["a"]
    assert restored is not original and Toy.builds == builds + 1
    assert (type(restored), restored.observation_space, restored.action_space,
            restored.config) == (Toy, OBS, ACT, {"lr": 0.1})
    assert (restored.w.tolist(), restored.global_timestep, restored.num_grad_updates) == (
        [1.5, 1.5], 7, 3)
    policies.close()


def test_create_policy_builds_inserts_and_records_the_arguments():
    policies = PolicyMap(capacity=1)
    created = policies.create_policy("a", OtherToy, OBS, ACT, {"gamma": 0.9})
    assert policies["a"] is created and type(created) is OtherToy
    policies.create_policy("b", Toy, OBS, ACT, {})
    assert policies.get_spec("a") == (OtherToy, OBS, ACT, {"gamma": 0.9})
    assert type(policies["a"]) is OtherToy
    policies.close()


def test_replacing_a_stashed_id_drops_its_stash():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)  # stashes a
    policies["a"] = toy(5)  # stashes b; a's old stash is gone
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["a"], ["b"])
    assert len([p for p in policies.path.iterdir()]) == 1
    assert policies["a"].w[0] == 5.0 and policies["b"].w[0] == 2.0
    policies.close()


def test_policy_state_of_a_stashed_policy_without_restoring():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    state = policies.get_policy_state("a")
    assert state["weights"]["w"].tolist() == [1.0, 1.0]
    assert state["policy_spec"]["config"] == {}
    state["weights"] = {"w": np.array([4.0, 4.0], np.float32)}
    policies.set_policy_state("a", state)
    assert policies.stashed_ids() == ["a"]
    assert policies["a"].w.tolist() == [4.0, 4.0]
    policies.close()


# ---- a TensorFlow policy, bit for bit ---------------------------------------------------------


def _ppo():
    return PPOTFPolicy(gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(2),
                       {"model": {"fcnet_hiddens": [8]}, "acting_runtime": "tf", "seed": 3})


def _train_batch(policy):
    obs = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    actions, _, extra = policy.compute_actions(obs)
    batch = SampleBatch({SampleBatch.OBS: obs, SampleBatch.ACTIONS: actions,
                         SampleBatch.REWARDS: np.arange(6, dtype=np.float32),
                         SampleBatch.TERMINATEDS: np.array([0, 0, 0, 0, 0, 1], bool), **extra})
    return policy.postprocess_trajectory(batch)


def test_ppo_policy_is_restored_bit_identically_and_trains_on_identically():
    policies = PolicyMap(capacity=1)
    original = _ppo()
    batch = _train_batch(original)
    original.learn_on_batch(batch)  # optimizer slots and step count are no longer zero
    original.update_kl(1.0)  # 1.0 > 2 * kl_target: kl_coeff 0.2 -> 0.3
    original.on_global_var_update({"timestep": 123, "num_grad_updates": 1})
    expected = original.get_state()
    assert expected["current_kl_coeff"] == pytest.approx(0.3)
    policies["ppo"] = original
    policies["toy"] = toy()  # stashes ppo
    assert policies.stashed_ids() == ["ppo"]

    restored = policies["ppo"]
    assert restored is not original
    assert_bit_identical(restored.get_state(), expected)
    assert restored.get_exploration_state() == original.get_exploration_state()
    # the next update (Adam moments, step count, kl coefficient) and action draws match
    original.learn_on_batch(batch)
    restored.learn_on_batch(batch)
    assert_bit_identical(restored.get_weights(), original.get_weights())
    obs = batch[SampleBatch.OBS]
    np.testing.assert_array_equal(restored.compute_actions(obs)[0],
                                  original.compute_actions(obs)[0])
    policies.close()


def test_swappable_states_reuse_the_evicted_tf_policy():
    policies = PolicyMap(capacity=1, policy_states_are_swappable=True)
    first, second = _ppo(), _ppo()
    for variable in first.model.variables():
        variable.assign(variable + 1.0)
    expected = first.get_weights()
    policies["first"] = first
    policies["second"] = second  # stashes first
    restored = policies["first"]  # stashes second, loads first's state into its object
    assert restored is second
    assert_bit_identical(restored.get_weights(), expected)
    policies.close()


def test_swappable_states_reuse_the_object_without_building():
    policies = PolicyMap(capacity=1, policy_states_are_swappable=True)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    b = policies["b"]
    builds = Toy.builds
    a = policies["a"]
    assert a is b and Toy.builds == builds and a.w.tolist() == [1.0, 1.0]
    assert policies["b"].w.tolist() == [2.0, 2.0] and Toy.builds == builds
    policies.close()


def test_swappable_states_build_when_the_evicted_class_differs():
    policies = PolicyMap(capacity=1, policy_states_are_swappable=True)
    policies["a"] = toy(1)
    other = toy(2, cls=OtherToy)
    policies["b"] = other
    a = policies["a"]
    assert a is not other and type(a) is Toy
    policies.close()


# ---- what is written, and cleanup -------------------------------------------------------------


def test_stash_is_a_checkpoint_without_pickle():
    policies = PolicyMap(capacity=1)
    policies["team/1 x"] = toy(3)  # an id that is no valid file name
    policies["b"] = toy()
    (stash,) = list(policies.path.iterdir())
    assert stash.name.startswith("policy-team_1_x-")
    assert files_under(stash) == CHECKPOINT_FILES
    for file in stash.rglob("*"):
        if file.is_file():
            assert not file.read_bytes().startswith(b"\x80"), file  # pickle protocol 2+
    document = json.loads((stash / "policy_state.json").read_text())
    assert document["format"] == checkpoint.CHECKPOINT_FORMAT
    saved = checkpoint.read_policy_checkpoint(stash)
    assert saved.state["weights"]["w"].tolist() == [3.0, 3.0]
    assert policies["team/1 x"].w.tolist() == [3.0, 3.0]
    assert not stash.exists()  # restored: its files are gone
    policies.close()


def test_stash_holds_a_config_with_functions():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1, {"policy_mapping_fn": lambda agent_id: "a"})
    policies["b"] = toy()
    assert policies["a"].config["policy_mapping_fn"]("x") == "a"
    policies.close()


def test_close_removes_the_temporary_directory():
    policies = PolicyMap(capacity=1)
    assert policies.path is None  # nothing stashed, nothing made
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    root = policies.path
    assert root.is_dir() and len(files_under(root)) == 3
    policies.close()
    assert not root.exists()
    # the stashed policy left with the directory; the one in memory stays
    assert (list(policies), policies["b"].w[0]) == (["b"], 2.0)
    policies["c"] = toy(3)  # a new directory for the next stash
    assert policies.path != root and policies.stashed_ids() == ["b"]
    policies.close()


def test_garbage_collection_removes_the_temporary_directory():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    root = policies.path
    del policies
    gc.collect()
    assert not root.exists()


def test_a_given_path_is_kept_and_only_its_stashes_deleted(tmp_path):
    (tmp_path / "mine.txt").write_text("user file")
    policies = PolicyMap(capacity=1, path=tmp_path / "stash")
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    assert policies.path == tmp_path / "stash" and len(files_under(tmp_path / "stash")) == 3
    policies.close()
    assert (tmp_path / "stash").is_dir() and files_under(tmp_path) == ["mine.txt"]


def test_deleting_a_stashed_id_removes_its_files():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    assert len(files_under(policies.path)) == 3
    del policies["a"]
    assert files_under(policies.path) == []
    assert (list(policies), policies.stashed_ids()) == (["b"], [])
    del policies["b"]
    assert len(policies) == 0
    policies.close()


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -1, 1.5, True, None, "3"])
def test_capacity_must_be_a_positive_int(capacity):
    with pytest.raises(ValueError, match=r"multiagent\.policy_map_capacity.*>= 1.*got "
                                         + repr(capacity).replace(".", r"\.")):
        PolicyMap(capacity=capacity)


def test_unknown_id_raises_key_error_naming_the_known_ids():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy()
    policies["b"] = toy()
    for call in (lambda: policies["zz"], lambda: policies.__delitem__("zz"),
                 lambda: policies.get_spec("zz"), lambda: policies.get_policy_state("zz")):
        with pytest.raises(KeyError, match=r"'zz'.*\['a', 'b'\]"):
            call()
    assert policies.get("zz") is None
    policies.close()


def test_ids_must_be_str_and_values_policies():
    policies = PolicyMap()
    with pytest.raises(TypeError, match="policy id must be a str, got int: 1"):
        policies[1] = toy()
    with pytest.raises(TypeError, match=r"PolicyMap\['a'\].*Policy, got str"):
        policies["a"] = "not a policy"
    with pytest.raises(TypeError, match="policy 'a'.*subclass.*Policy"):
        policies.create_policy("a", dict, OBS, ACT, {})
    assert len(policies) == 0


def test_a_state_that_cannot_be_stashed_keeps_the_policy_in_memory():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1, cls=Unstashable)
    with pytest.raises(ValueError, match="extra") as info:
        policies["b"] = toy(2)
    assert "'a'" in str(info.value.__notes__) and "stays in memory" in str(info.value.__notes__)
    assert (list(policies), policies.in_memory_ids(), policies["a"].w[0]) == (["a"], ["a"], 1.0)
    assert files_under(policies.path) == []
    policies.close()


def test_a_failed_write_leaves_no_file_and_keeps_the_policy(monkeypatch):
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    real_write_arrays = checkpoint._write_arrays

    def write_half_then_fail(directory, arrays):
        real_write_arrays(directory, arrays)
        (directory / "policy_state.json").write_text('{"format": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "_write_arrays", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        policies["b"] = toy(2)
    assert list(policies.path.iterdir()) == []  # no stash, no temporary sibling
    assert (list(policies), policies["a"].w[0]) == (["a"], 1.0)
    monkeypatch.undo()
    policies["b"] = toy(2)
    assert policies.stashed_ids() == ["a"] and policies["a"].w[0] == 1.0
    policies.close()


def test_a_failed_stash_while_restoring_changes_nothing(monkeypatch):
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    before = files_under(policies.path)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "_write_arrays", fail)
    with pytest.raises(OSError):
        policies["a"]
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["b"], ["a"])
    assert files_under(policies.path) == before
    monkeypatch.undo()
    assert policies["a"].w[0] == 1.0 and policies["b"].w[0] == 2.0
    policies.close()


def test_a_corrupt_stash_is_a_named_error_and_evicts_nothing():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    (stash,) = list(policies.path.iterdir())
    (stash / "policy_state.json").write_text("{")
    with pytest.raises(checkpoint.PolicyCheckpointError, match="policy_state.json"):
        policies["a"]
    assert (policies.in_memory_ids(), policies.stashed_ids()) == (["b"], ["a"])
    policies.close()


def test_get_raises_a_restore_error_instead_of_returning_the_default():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    policies.set_policy_state("a", {"global_timestep": 1})  # no "weights": set_state fails
    assert policies.get("zz", "default") == "default"
    with pytest.raises(KeyError, match="weights"):
        policies.get("a")
    policies.close()


def test_clear_deletes_stashes_without_restoring():
    policies = PolicyMap(capacity=1)
    policies["a"] = toy(1)
    policies["b"] = toy(2)
    builds = Toy.builds
    policies.clear()
    assert (len(policies), Toy.builds, files_under(policies.path)) == (0, builds, [])
    policies.close()
