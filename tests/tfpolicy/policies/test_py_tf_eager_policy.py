"""Tests of PyTFEagerPolicy: numpy in/out, batching conventions, traces, state, errors."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy import PolicyStep, TFPolicy, time_step as ts
from tfpolicy.policies.py_tf_eager_policy import PyTFEagerPolicy

tfd = tfp.distributions
OBS = {"pos": TensorSpec([2], tf.float32, "pos"), "vel": TensorSpec([], tf.float32, "vel")}
ACTION = BoundedTensorSpec([], tf.int32, 0, 2, "action")


class Sign(TFPolicy):
    """Deterministic: action 2 if pos[0] > 0 else 0; counts its traces."""

    def __init__(self, **kwargs):
        super().__init__(ts.time_step_spec(OBS), ACTION, **kwargs)
        self.traces = 0

    def _distribution(self, time_step, policy_state):
        self.traces += 1
        positive = time_step.observation["pos"][..., 0] > 0
        return PolicyStep(tfd.Deterministic(tf.where(positive, 2, 0)), policy_state)


class Counter(TFPolicy):
    def __init__(self):
        super().__init__(ts.time_step_spec(OBS), BoundedTensorSpec([], tf.int32, 0, 1000),
                         policy_state_spec={"count": TensorSpec([], tf.int32)})

    def _action(self, time_step, policy_state, seed):
        return PolicyStep(policy_state["count"], {"count": policy_state["count"] + 1})


class Sampler(TFPolicy):
    def __init__(self):
        super().__init__(ts.time_step_spec(OBS), ACTION, emit_log_probability=True)

    def _distribution(self, time_step, policy_state):
        b = tf.shape(time_step.step_type)
        return PolicyStep(tfd.Categorical(logits=tf.zeros(tf.concat([b, [3]], 0))), policy_state)


def _np_obs(batch=None, pos=1.0):
    shape = () if batch is None else (batch,)
    return {"pos": np.full(shape + (2,), pos, np.float32), "vel": np.zeros(shape, np.float32)}


def test_unbatched_numpy_in_and_out():
    policy = PyTFEagerPolicy(Sign())
    step = policy.action(ts.restart(_np_obs()))
    assert isinstance(step.action, np.ndarray) and step.action.shape == ()
    assert int(step.action) == 2
    assert int(policy.action(ts.transition(_np_obs(pos=-1.0), 0.0)).action) == 0


def test_specs_are_array_specs():
    policy = PyTFEagerPolicy(Sign())
    assert policy.action_spec == BoundedArraySpec((), np.int32, 0, 2, "action")
    assert policy.time_step_spec.observation["pos"] == ArraySpec((2,), np.float32, "pos")


def test_batched_mode_takes_any_batch_with_one_trace():
    tf_policy = Sign()
    policy = PyTFEagerPolicy(tf_policy, batch_time_steps=False)
    for batch in (1, 5, 3, 64):
        obs = _np_obs(batch)
        obs["pos"][::2, 0] = -1.0
        step = policy.action(ts.restart(obs, batch_size=batch))
        expected = np.where(np.arange(batch) % 2 == 0, 0, 2)
        np.testing.assert_array_equal(step.action, expected)
    assert tf_policy.traces == 1


def test_unbatched_calls_trace_once():
    tf_policy = Sign()
    policy = PyTFEagerPolicy(tf_policy)
    for i in range(5):
        policy.action(ts.transition(_np_obs(pos=float(i)), reward=float(i)))
    assert tf_policy.traces == 1


def test_state_flows_and_resets_on_first():
    policy = PyTFEagerPolicy(Counter())
    state = policy.get_initial_state()
    assert int(state["count"]) == 0 and state["count"].shape == ()
    actions = []
    for step_type in ["first", "mid", "mid", "first", "mid"]:
        time_step = (ts.restart(_np_obs()) if step_type == "first"
                     else ts.transition(_np_obs(), 0.0))
        step = policy.action(time_step, state)
        actions.append(int(step.action))
        state = step.state
    assert actions == [0, 1, 2, 0, 1]


def test_batched_state():
    policy = PyTFEagerPolicy(Counter(), batch_time_steps=False)
    state = policy.get_initial_state(3)
    step = policy.action(ts.transition(_np_obs(3), np.zeros(3, np.float32)), state)
    np.testing.assert_array_equal(step.state["count"], [1, 1, 1])


def test_eager_mode_matches_compiled():
    compiled = PyTFEagerPolicy(Sign())
    eager = PyTFEagerPolicy(Sign(), use_tf_function=False)
    for pos in (-2.0, 3.0):
        time_step = ts.transition(_np_obs(pos=pos), 0.0)
        assert compiled.action(time_step).action == eager.action(time_step).action


def test_info_and_seeded_calls():
    policy = PyTFEagerPolicy(Sampler())
    step = policy.action(ts.restart(_np_obs()))
    assert step.info.log_probability.shape == ()
    np.testing.assert_allclose(step.info.log_probability, np.log(1 / 3), rtol=1e-6)
    seeded = policy.action(ts.restart(_np_obs()), seed=3)
    assert 0 <= int(seeded.action) <= 2


def test_wrong_dtype_is_rejected_with_path():
    policy = PyTFEagerPolicy(Sign())
    obs = {"pos": np.zeros(2, np.float64), "vel": np.zeros((), np.float32)}
    with pytest.raises(TypeError, match=r"time_step at 'observation/pos': dtype mismatch.*float64"):
        policy.action(ts.restart(obs))


def test_wrong_shape_after_a_good_call_is_rejected():
    policy = PyTFEagerPolicy(Sign())
    policy.action(ts.restart(_np_obs()))
    obs = {"pos": np.zeros(3, np.float32), "vel": np.zeros((), np.float32)}
    with pytest.raises(ValueError, match=r"time_step at 'observation/pos': shape mismatch"):
        policy.action(ts.restart(obs))


def test_missing_key_is_named():
    policy = PyTFEagerPolicy(Sign())
    with pytest.raises(TypeError, match=r"missing keys \['vel'\]"):
        policy.action(ts.restart({"pos": np.zeros(2, np.float32)}))


def test_batched_input_to_unbatched_bridge_is_explained():
    policy = PyTFEagerPolicy(Sign())
    with pytest.raises(ValueError, match="batch_time_steps=False"):
        policy.action(ts.restart(_np_obs(4), batch_size=4))


def test_wraps_only_tf_policies():
    with pytest.raises(TypeError, match="wraps a TFPolicy"):
        PyTFEagerPolicy(object())


def test_wrapped_policy_property():
    tf_policy = Sign()
    assert PyTFEagerPolicy(tf_policy).wrapped_policy is tf_policy


def test_renamed_observation_keys_are_rejected_after_a_good_call():
    from tfpolicy.policies import FixedPolicy

    obs_spec = {"a": TensorSpec((), tf.float32), "b": TensorSpec((), tf.float32)}
    action_spec = BoundedTensorSpec((), tf.int64, 0, 1)
    policy = PyTFEagerPolicy(FixedPolicy(np.int64(1), ts.time_step_spec(obs_spec), action_spec))
    good = ts.restart({"a": np.float32(0), "b": np.float32(0)})
    assert int(policy.action(good).action) == 1
    renamed = ts.restart({"a": np.float32(0), "c": np.float32(0)})
    with pytest.raises((TypeError, ValueError), match="time_step"):
        policy.action(renamed)


def test_seeded_calls_check_their_inputs_and_take_batches():
    policy = PyTFEagerPolicy(Sampler(), batch_time_steps=False)
    step = policy.action(ts.restart(_np_obs(4), batch_size=4), seed=5)
    assert step.action.shape == (4,) and np.all((step.action >= 0) & (step.action <= 2))
    obs = {"pos": np.zeros((4, 2), np.float64), "vel": np.zeros(4, np.float32)}
    with pytest.raises(TypeError, match=r"time_step at 'observation/pos': dtype mismatch"):
        policy.action(ts.restart(obs, batch_size=4), seed=5)

