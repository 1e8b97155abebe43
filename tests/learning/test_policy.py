"""Tests for tfpolicy.learning.policy: RLlib's documented minimal policy (only
`compute_actions`, `learn_on_batch`, `get_weights`, `set_weights`) works with the rest.

The toy policies live at module level: a checkpoint records its class as
`module:qualname`, and pytest's importlib mode registers this module in
`sys.modules` under its dotted name, which `resolve_policy_class` imports.
"""

import gymnasium as gym
import numpy as np
import pytest

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.learning import Policy, SampleBatch
from tfpolicy.learning.checkpoint import resolve_policy_class
from tfpolicy.learning.policy import class_path

OBS = ArraySpec((2,), np.float32)
ACT = BoundedArraySpec((), np.int64, 0, 1)


class ThresholdPolicy(Policy):
    """action = 1 if obs[0] + obs[1] + bias > 0; learning adds the mean reward to bias."""

    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.bias = np.float32(0.0)
        self.calls = []
        self.learned = []

    def compute_actions(self, obs_batch, state_batches=None, prev_action_batch=None,
                        prev_reward_batch=None, info_batch=None, episodes=None, **kwargs):
        self.calls.append(dict(obs=obs_batch, state=state_batches, prev_action=prev_action_batch,
                               prev_reward=prev_reward_batch, info=info_batch,
                               episodes=episodes, **kwargs))
        obs = np.asarray(obs_batch)
        actions = (obs.sum(axis=1) + self.bias > 0).astype(np.int64)
        return actions, [], {"score": obs.sum(axis=1) + self.bias}

    def learn_on_batch(self, samples):
        self.learned.append(samples)
        self.bias = np.float32(self.bias + np.mean(samples[SampleBatch.REWARDS]))
        return {"learner_stats": {"bias": self.bias}}

    def get_weights(self):
        return {"bias": np.asarray(self.bias)}

    def set_weights(self, weights):
        self.bias = np.float32(weights["bias"])


class OtherPolicy(ThresholdPolicy):
    """Another class, for the class check of `from_checkpoint`."""


class SubThresholdPolicy(ThresholdPolicy):
    """A subclass: its checkpoints load through `ThresholdPolicy.from_checkpoint`."""


def make_policy(config=None):
    return ThresholdPolicy(OBS, ACT, config or {})


def test_policy_without_the_four_methods_cannot_be_built():
    class Incomplete(Policy):
        def compute_actions(self, obs_batch, *args, **kwargs):
            return obs_batch, [], {}

    with pytest.raises(TypeError, match="get_weights"):
        Incomplete(OBS, ACT, {})


def test_constructor_copies_config_and_starts_counters_at_zero():
    config = {"gamma": 0.5}
    policy = make_policy(config)
    config["gamma"] = 0.0
    assert policy.config == {"gamma": 0.5}
    assert (policy.global_timestep, policy.num_grad_updates, policy.dist_class) == (0, 0, None)


def test_compute_single_action_adds_and_removes_the_batch_dim():
    policy = make_policy()
    action, state, extra = policy.compute_single_action(
        np.array([0.5, -0.25], np.float32), prev_action=1, prev_reward=2.0, info={"k": 3},
        episode="episode", explore=False, timestep=7)
    assert action == 1 and state == []
    assert extra == {"score": pytest.approx(0.25)}
    call = policy.calls[-1]
    np.testing.assert_array_equal(call["obs"], [[0.5, -0.25]])
    np.testing.assert_array_equal(call["prev_action"], [1])
    np.testing.assert_array_equal(call["prev_reward"], [2.0])
    assert call["info"] == [{"k": 3}]
    assert call["episodes"] == ["episode"]
    assert (call["explore"], call["timestep"], call["state"]) == (False, 7, [])


def test_compute_single_action_from_input_dict():
    policy = make_policy()
    action, _, extra = policy.compute_single_action(
        input_dict={SampleBatch.OBS: np.array([-1.0, 0.5], np.float32),
                    SampleBatch.PREV_REWARDS: 1.5})
    assert action == 0 and extra["score"] == pytest.approx(-0.5)
    np.testing.assert_array_equal(policy.calls[-1]["prev_reward"], [1.5])


def test_compute_single_action_equals_row_zero_of_compute_actions():
    policy = make_policy()
    obs = np.array([[0.5, -0.75], [1.0, 1.0]], np.float32)
    actions, _, extra = policy.compute_actions(obs)
    single, _, single_extra = policy.compute_single_action(obs[0])
    assert single == actions[0] and single_extra["score"] == extra["score"][0]


def test_compute_actions_from_input_dict_passes_the_columns():
    policy = make_policy()
    obs = np.array([[1.0, 0.0], [-2.0, 0.0], [0.5, 0.5]], np.float32)
    state = np.zeros((3, 4), np.float32)
    actions, state_out, _ = policy.compute_actions_from_input_dict(
        {SampleBatch.OBS: obs, "state_in_0": state, "state_in_1": state + 1,
         SampleBatch.PREV_ACTIONS: np.array([0, 1, 0]), SampleBatch.PREV_REWARDS: np.ones(3),
         SampleBatch.INFOS: [{}, {}, {}]}, explore=True, timestep=4)
    np.testing.assert_array_equal(actions, [1, 0, 1])
    assert state_out == []
    call = policy.calls[-1]
    assert len(call["state"]) == 2
    np.testing.assert_array_equal(call["state"][1], state + 1)
    np.testing.assert_array_equal(call["prev_action"], [0, 1, 0])
    assert call["info"] == [{}, {}, {}]
    assert (call["explore"], call["timestep"]) == (True, 4)


def test_get_state_holds_weights_counters_and_spec():
    policy = make_policy({"gamma": 0.5})
    policy.set_weights({"bias": 1.5})
    policy.on_global_var_update({"timestep": 30, "num_grad_updates": 4})
    state = policy.get_state()
    assert state["weights"] == {"bias": 1.5}
    assert (state["global_timestep"], state["num_grad_updates"]) == (30, 4)
    assert state["policy_spec"] == {
        "policy_class": class_path(ThresholdPolicy), "observation_space": OBS,
        "action_space": ACT, "config": {"gamma": 0.5}}
    assert resolve_policy_class(state["policy_spec"]["policy_class"]) is ThresholdPolicy


def test_set_state_restores_weights_and_counters():
    source = make_policy()
    source.set_weights({"bias": -2.0})
    source.on_global_var_update({"timestep": 11, "num_grad_updates": 3})
    target = make_policy()
    target.set_state(source.get_state())
    assert (target.bias, target.global_timestep, target.num_grad_updates) == (-2.0, 11, 3)


def test_from_state_builds_the_recorded_class():
    source = make_policy({"gamma": 0.25})
    source.set_weights({"bias": 0.5})
    restored = Policy.from_state(source.get_state())
    assert type(restored) is ThresholdPolicy
    assert (restored.bias, restored.config) == (0.5, {"gamma": 0.25})


def test_from_state_without_policy_spec_raises():
    state = make_policy().get_state()
    del state["policy_spec"]
    with pytest.raises(ValueError, match="policy_spec"):
        Policy.from_state(state)


def test_checkpoint_round_trip(tmp_path):
    policy = make_policy({"gamma": 0.5, "lr": 1e-3})
    policy.learn_on_batch(SampleBatch({SampleBatch.REWARDS: np.array([1.0, 2.0], np.float32)}))
    policy.on_global_var_update({"timestep": 12, "num_grad_updates": 1})
    policy.export_checkpoint(tmp_path / "ckpt")

    restored = Policy.from_checkpoint(tmp_path / "ckpt")
    assert type(restored) is ThresholdPolicy
    assert restored.bias == np.float32(1.5)
    assert (restored.global_timestep, restored.num_grad_updates) == (12, 1)
    assert restored.config == {"gamma": 0.5, "lr": 1e-3}
    assert (restored.observation_space, restored.action_space) == (OBS, ACT)
    obs = np.array([[-1.0, -0.25], [-1.0, -0.75]], np.float32)
    np.testing.assert_array_equal(restored.compute_actions(obs)[0], [1, 0])


def test_checkpoint_round_trip_with_gymnasium_spaces(tmp_path):
    obs_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    policy = ThresholdPolicy(obs_space, gym.spaces.Discrete(2), {})
    policy.export_checkpoint(tmp_path / "ckpt")
    restored = ThresholdPolicy.from_checkpoint(tmp_path / "ckpt")
    assert restored.observation_space == obs_space
    assert restored.action_space == gym.spaces.Discrete(2)


def test_from_checkpoint_accepts_a_subclass_checkpoint(tmp_path):
    SubThresholdPolicy(OBS, ACT, {}).export_checkpoint(tmp_path / "ckpt")
    assert type(ThresholdPolicy.from_checkpoint(tmp_path / "ckpt")) is SubThresholdPolicy


def test_from_checkpoint_of_another_class_raises(tmp_path):
    make_policy().export_checkpoint(tmp_path / "ckpt")
    with pytest.raises(TypeError, match="ThresholdPolicy.*OtherPolicy"):
        OtherPolicy.from_checkpoint(tmp_path / "ckpt")


def test_export_checkpoint_with_explicit_state(tmp_path):
    policy = make_policy()
    state = policy.get_state()
    state["weights"] = {"bias": np.float32(4.0)}
    policy.export_checkpoint(tmp_path / "ckpt", policy_state=state)
    assert Policy.from_checkpoint(tmp_path / "ckpt").bias == 4.0


def test_learn_on_loaded_batch_takes_the_minibatch_at_offset():
    policy = make_policy({"sgd_minibatch_size": 4})
    batch = SampleBatch({SampleBatch.REWARDS: np.arange(10, dtype=np.float32)})
    assert policy.load_batch_into_buffer(batch, buffer_index=1) == 10
    assert policy.get_num_samples_loaded_into_buffer(1) == 10
    assert policy.get_num_samples_loaded_into_buffer(0) == 0

    stats = policy.learn_on_loaded_batch(offset=4, buffer_index=1)
    np.testing.assert_array_equal(policy.learned[-1][SampleBatch.REWARDS], [4, 5, 6, 7])
    assert stats == {"learner_stats": {"bias": 5.5}}  # mean of 4..7


def test_learn_on_loaded_batch_without_minibatch_size_takes_the_whole_batch():
    policy = make_policy()
    policy.load_batch_into_buffer(SampleBatch({SampleBatch.REWARDS: np.arange(6.0)}))
    policy.learn_on_loaded_batch()
    assert len(policy.learned[-1]) == 6 and policy.bias == 2.5


def test_learn_on_loaded_batch_with_nothing_loaded_raises():
    with pytest.raises(ValueError, match="no batch is loaded into buffer 2"):
        make_policy().learn_on_loaded_batch(buffer_index=2)


@pytest.mark.parametrize("call, message", [
    (lambda p, d: p.compute_gradients(SampleBatch({"rewards": np.ones(2)})), "gradients"),
    (lambda p, d: p.apply_gradients([np.zeros(1)]), "apply gradients"),
    (lambda p, d: p.compute_log_likelihoods(np.zeros(2), np.zeros((2, 2), np.float32)),
     "no action distribution"),
    (lambda p, d: p.export_model(d), "no TensorFlow model"),
    (lambda p, d: p.loss(None, None, SampleBatch({"rewards": np.ones(2)})), "defines no loss"),
])
def test_methods_a_minimal_policy_cannot_support_raise_type_error(tmp_path, call, message):
    with pytest.raises(TypeError, match=f"ThresholdPolicy.*{message}"):
        call(make_policy(), tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_defaults_of_a_stateless_policy():
    policy = make_policy()
    batch = SampleBatch({SampleBatch.REWARDS: np.ones(3)})
    assert policy.postprocess_trajectory(batch) is batch
    assert (policy.get_initial_state(), policy.is_recurrent(), policy.num_state_tensors()) == (
        [], False, 0)
    assert policy.get_exploration_state() == {}


def test_on_global_var_update_needs_timestep():
    policy = make_policy()
    policy.on_global_var_update({"timestep": 5})
    assert (policy.global_timestep, policy.num_grad_updates) == (5, 0)
    with pytest.raises(KeyError, match="timestep"):
        policy.on_global_var_update({"num_grad_updates": 1})
