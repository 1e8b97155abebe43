"""Tests of the TFPolicy base: validation, clipping, log-probabilities, state, update."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from hypothesis import given, strategies as st

from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy import PolicyInfo, PolicyStep, TFPolicy, time_step as ts
from tfpolicy.policies import tf_policy

tfd = tfp.distributions

OBS_SPEC = {"pos": TensorSpec([2], tf.float32, "pos"), "vel": TensorSpec([2], tf.float32, "vel")}
TS_SPEC = ts.time_step_spec(OBS_SPEC)
DISCRETE = BoundedTensorSpec([], tf.int32, 0, 2, "action")
CONTINUOUS = BoundedTensorSpec([2], tf.float32, -1.0, 1.0, "force")


def _obs(batch=None, pos=0.0):
    shape = [2] if batch is None else [batch, 2]
    return {"pos": tf.fill(shape, pos), "vel": tf.zeros(shape)}


class Categorical(TFPolicy):
    """Fixed logits favouring action 2."""

    def __init__(self, **kwargs):
        super().__init__(TS_SPEC, DISCRETE, **kwargs)
        self.logits = tf.Variable([0.0, 1.0, 3.0])

    def _distribution(self, time_step, policy_state):
        batch = tf.shape(time_step.step_type)
        logits = tf.broadcast_to(self.logits, tf.concat([batch, [3]], 0))
        return PolicyStep(tfd.Categorical(logits=logits), policy_state)


class Pusher(TFPolicy):
    """Normal around -gain * pos: large positions give out-of-bound samples."""

    def __init__(self, gain=2.0, **kwargs):
        super().__init__(TS_SPEC, CONTINUOUS, **kwargs)
        self.gain = tf.Variable(gain)
        self.scale = tf.Variable(0.5, trainable=False)

    def _distribution(self, time_step, policy_state):
        return PolicyStep(tfd.Normal(-self.gain * time_step.observation["pos"], self.scale),
                          policy_state)


class Counter(TFPolicy):
    """State counts steps since the episode started; the action is the count."""

    def __init__(self, initial=0, **kwargs):
        super().__init__(TS_SPEC, BoundedTensorSpec([], tf.int32, 0, 1000),
                         policy_state_spec={"count": TensorSpec([], tf.int32)}, **kwargs)
        self.initial = initial

    def _action(self, time_step, policy_state, seed):
        count = policy_state["count"]
        return PolicyStep(count, {"count": count + 1})

    def _get_initial_state(self, batch_size):
        shape = [] if batch_size is None else [batch_size]
        return {"count": tf.fill(shape, tf.constant(self.initial, tf.int32))}


class BadAction(TFPolicy):
    def __init__(self, value, **kwargs):
        super().__init__(TS_SPEC, CONTINUOUS, **kwargs)
        self.value = value

    def _action(self, time_step, policy_state, seed):
        return PolicyStep(self.value(tf.shape(time_step.step_type)[0]))


# ---- basics -------------------------------------------------------------------


def test_action_batched_and_unbatched_match_spec():
    policy = Categorical()
    batched = policy.action(ts.restart(_obs(5), batch_size=5))
    assert batched.action.shape == (5,) and batched.action.dtype == tf.int32
    single = policy.action(ts.restart(_obs()))
    assert single.action.shape == () and 0 <= int(single.action) <= 2
    assert nest_utils.check_nest(batched, policy.policy_step_spec) == (5,)


def test_action_samples_follow_distribution():
    policy = Categorical()
    actions = policy.action(ts.restart(_obs(4000), batch_size=4000), seed=1).action.numpy()
    freq = np.bincount(actions, minlength=3) / 4000
    expected = np.exp([0.0, 1.0, 3.0]) / np.exp([0.0, 1.0, 3.0]).sum()
    np.testing.assert_allclose(freq, expected, atol=0.03)


def test_numpy_inputs_are_accepted_and_converted():
    policy = Categorical()
    obs = {"pos": np.zeros((3, 2), np.float32), "vel": np.zeros((3, 2), np.float32)}
    step = policy.action(ts.restart(obs, batch_size=3))
    assert isinstance(step.action, tf.Tensor) and step.action.shape == (3,)


def test_specs_properties():
    policy = Categorical(emit_log_probability=True)
    assert policy.time_step_spec == TS_SPEC
    assert policy.action_spec == DISCRETE
    assert policy.policy_state_spec == ()
    assert policy.info_spec == PolicyInfo(log_probability=TensorSpec([], tf.float32, "log_probability"))
    assert policy.policy_step_spec == PolicyStep(DISCRETE, (), policy.info_spec)
    traj = policy.trajectory_spec
    assert traj.action == DISCRETE and traj.observation == OBS_SPEC
    assert traj.policy_info == policy.info_spec and traj.next_step_type == TS_SPEC.step_type
    assert policy.collect_data_spec == traj
    assert policy.emit_log_probability and policy.validate_args
    assert policy.observation_and_action_constraint_splitter is None


def test_array_specs_are_converted_to_tensor_specs():
    from specs import BoundedArraySpec, ArraySpec

    array_ts = ts.time_step_spec({"pos": ArraySpec((2,), np.float32, "pos"),
                                  "vel": ArraySpec((2,), np.float32, "vel")})

    class P(Categorical):
        def __init__(self):
            TFPolicy.__init__(self, array_ts, BoundedArraySpec((), np.int32, 0, 2, "action"))
            self.logits = tf.Variable([0.0, 1.0, 3.0])

    policy = P()
    assert isinstance(policy.action_spec, BoundedTensorSpec)
    assert policy.action_spec == DISCRETE
    assert policy.time_step_spec.observation["pos"] == OBS_SPEC["pos"]


def test_time_step_spec_must_be_a_time_step():
    with pytest.raises(TypeError, match="time_step_spec must be a TimeStep"):
        Uniform(OBS_SPEC, DISCRETE)


# ---- validation --------------------------------------------------------------


def test_wrong_observation_dtype_names_path_and_both_sides():
    policy = Categorical()
    obs = {"pos": tf.zeros([3, 2], tf.float64), "vel": tf.zeros([3, 2])}
    with pytest.raises(TypeError) as err:
        policy.action(ts.restart(obs, batch_size=3))
    msg = str(err.value)
    assert "time_step at 'observation/pos': dtype mismatch" in msg
    assert "TensorSpec(shape=(2,), dtype=tf.float32, name='pos')" in msg
    assert "float64" in msg and "(3, 2)" in msg


def test_wrong_inner_shape_raises_value_error_with_path():
    policy = Categorical()
    with pytest.raises(ValueError, match=r"time_step at 'observation/vel': shape mismatch.*\(3, 5\)"):
        policy.action(ts.restart({"pos": tf.zeros([3, 2]), "vel": tf.zeros([3, 5])}, batch_size=3))


def test_missing_and_extra_observation_keys_are_named():
    policy = Categorical()
    with pytest.raises(TypeError, match=r"missing keys \['vel'\].*unexpected keys \['velocity'\]"):
        policy.action(ts.restart({"pos": tf.zeros([3, 2]), "velocity": tf.zeros([3, 2])},
                                 batch_size=3))


def test_inconsistent_batch_size_is_rejected():
    policy = Categorical()
    time_step = ts.restart(_obs(3), batch_size=4)
    with pytest.raises(ValueError, match="inconsistent outer"):
        policy.action(time_step)


def test_state_batch_must_match_time_step_batch():
    policy = Counter()
    with pytest.raises(ValueError, match="policy_state at 'count'"):
        policy.action(ts.restart(_obs(3), batch_size=3), policy.get_initial_state(2))


def test_output_with_wrong_dtype_is_rejected_naming_the_action():
    policy = BadAction(lambda b: tf.zeros([b, 2], tf.float64))
    with pytest.raises(TypeError, match="action's action at '<root>': dtype mismatch"):
        policy.action(ts.restart(_obs(3), batch_size=3))


def test_output_with_wrong_batch_is_rejected():
    policy = BadAction(lambda b: tf.zeros([b + 1, 2]))
    with pytest.raises(ValueError, match="action's action"):
        policy.action(ts.restart(_obs(3), batch_size=3))


def test_validate_args_false_skips_checks():
    policy = BadAction(lambda b: tf.zeros([b + 1, 2]), validate_args=False)
    step = policy.action(ts.restart(_obs(3), batch_size=3))
    assert step.action.shape == (4, 2)
    assert not policy.validate_args


def test_validation_runs_only_at_trace_time(monkeypatch):
    calls = []
    real = nest_utils.check_nest

    def counting(*args, **kwargs):
        calls.append(kwargs.get("name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tf_policy.nest_utils, "check_nest", counting)
    policy = Categorical()
    signature = tf.nest.map_structure(
        lambda s: tf.TensorSpec([None] + s.shape.as_list(), s.dtype), TS_SPEC)
    action = tf.function(policy.action, input_signature=[signature])
    for batch in (1, 7, 3):
        assert action(ts.restart(_obs(batch), batch_size=batch)).action.shape == (batch,)
    traced = len(calls)
    assert traced > 0
    action(ts.restart(_obs(9), batch_size=9))
    assert len(calls) == traced


# ---- clipping and log-probabilities -----------------------------------------------


def test_clip_bounds_continuous_actions():
    policy = Pusher()
    action = policy.action(ts.restart(_obs(64, pos=5.0), batch_size=64)).action
    np.testing.assert_array_equal(action.numpy(), -np.ones((64, 2), np.float32))


def test_clip_false_leaves_actions_alone():
    policy = Pusher(clip=False)
    action = policy.action(ts.restart(_obs(64, pos=5.0), batch_size=64)).action
    assert float(tf.reduce_max(action)) < -5.0


def test_emit_log_probability_equals_distribution_log_prob_of_returned_action():
    policy = Categorical(emit_log_probability=True)
    step = policy.action(ts.restart(_obs(16), batch_size=16), seed=3)
    logits = np.array([0.0, 1.0, 3.0])
    log_softmax = logits - np.log(np.exp(logits).sum())
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               log_softmax[step.action.numpy()], rtol=1e-5)


def test_log_probability_is_of_the_clipped_action_summed_over_elements():
    policy = Pusher(emit_log_probability=True)
    step = policy.action(ts.restart(_obs(4, pos=0.3), batch_size=4), seed=0)
    action = step.action.numpy()
    expected = tfd.Normal(-0.6, 0.5).log_prob(action).numpy().sum(-1)
    np.testing.assert_allclose(step.info.log_probability.numpy(), expected, rtol=1e-5)
    clipped = policy.action(ts.restart(_obs(2, pos=5.0), batch_size=2)).info.log_probability
    np.testing.assert_allclose(clipped.numpy(),
                               [2 * tfd.Normal(-10.0, 0.5).log_prob(-1.0).numpy()] * 2, rtol=1e-5)


def test_nested_actions_get_nested_log_probabilities():
    spec = {"move": CONTINUOUS, "fire": BoundedTensorSpec([], tf.int32, 0, 1)}

    class Nested(TFPolicy):
        def __init__(self):
            super().__init__(TS_SPEC, spec, emit_log_probability=True)

        def _distribution(self, time_step, policy_state):
            b = tf.shape(time_step.step_type)[0]
            return PolicyStep({"move": tfd.Normal(tf.zeros([b, 2]), 1.0),
                               "fire": tfd.Categorical(logits=tf.zeros([b, 2]))})

    step = Nested().action(ts.restart(_obs(3), batch_size=3))
    assert set(step.info.log_probability) == {"move", "fire"}
    np.testing.assert_allclose(step.info.log_probability["fire"].numpy(), np.log([0.5] * 3),
                               rtol=1e-6)
    assert step.action["move"].shape == (3, 2)


def test_action_only_policy_has_no_distribution():
    policy = Counter()
    with pytest.raises(TypeError, match="chooses its actions directly"):
        policy.distribution(ts.restart(_obs(2), batch_size=2), policy.get_initial_state(2))


def test_action_only_policy_without_log_prob_cannot_emit_it():
    policy = Counter(emit_log_probability=True)
    with pytest.raises(TypeError, match="did not set info.log_probability"):
        policy.action(ts.restart(_obs(2), batch_size=2), policy.get_initial_state(2))


def test_policy_implementing_neither_hook_cannot_be_instantiated():
    class Nothing(TFPolicy):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Nothing(TS_SPEC, DISCRETE)


def test_implementing_neither_hook_is_named_at_construction():
    class Nothing(TFPolicy):
        pass

    with pytest.raises(TypeError, match="Nothing is abstract: it implements neither"):
        Nothing(TS_SPEC, DISCRETE)
    with pytest.raises(TypeError, match="TFPolicy is abstract"):
        TFPolicy(TS_SPEC, DISCRETE)


def test_has_distribution_follows_the_implemented_hooks():
    assert Categorical().has_distribution
    assert not Counter().has_distribution

    class Both(Counter):
        def _distribution(self, time_step, policy_state):
            return PolicyStep(tfd.Deterministic(policy_state["count"]), policy_state)

    assert Both().has_distribution


def test_distribution_returns_distributions_and_checks_state():
    policy = Categorical(emit_log_probability=True)
    step = policy.distribution(ts.restart(_obs(2), batch_size=2))
    assert isinstance(step.action, tfd.Categorical)
    np.testing.assert_allclose(step.action.probs_parameter().numpy()[0],
                               np.exp([0.0, 1.0, 3.0]) / np.exp([0.0, 1.0, 3.0]).sum(), rtol=1e-6)


# ---- recurrent state -------------------------------------------------------------


def test_state_flows_and_resets_on_first_steps():
    policy = Counter()
    state = policy.get_initial_state(3)
    mid = ts.transition(_obs(3), reward=tf.zeros([3]))
    for expected in ([0, 0, 0], [1, 1, 1], [2, 2, 2]):
        step = policy.action(mid, state)
        np.testing.assert_array_equal(step.action.numpy(), expected)
        state = step.state
    mixed = mid._replace(step_type=tf.constant([ts.StepType.FIRST, ts.StepType.MID,
                                                ts.StepType.FIRST], tf.int32))
    step = policy.action(mixed, state)
    np.testing.assert_array_equal(step.action.numpy(), [0, 3, 0])
    np.testing.assert_array_equal(step.state["count"].numpy(), [1, 4, 1])


def test_reset_uses_the_policys_initial_state():
    policy = Counter(initial=7)
    step = policy.action(ts.restart(_obs(2), batch_size=2), {"count": tf.constant([50, 60])})
    np.testing.assert_array_equal(step.action.numpy(), [7, 7])


def test_automatic_state_reset_false_keeps_state():
    policy = Counter(automatic_state_reset=False)
    step = policy.action(ts.restart(_obs(2), batch_size=2), {"count": tf.constant([5, 6])})
    np.testing.assert_array_equal(step.action.numpy(), [5, 6])


def test_unbatched_state():
    policy = Counter()
    step = policy.action(ts.transition(_obs(), reward=0.0), {"count": tf.constant(4)})
    assert int(step.action) == 4 and int(step.state["count"]) == 5
    assert int(policy.action(ts.restart(_obs()), step.state).action) == 0


def test_get_initial_state_default_is_zeros_of_spec():
    class Stateful(Categorical):
        def __init__(self):
            TFPolicy.__init__(self, TS_SPEC, DISCRETE,
                              policy_state_spec=[TensorSpec([4], tf.float32),
                                                 TensorSpec([], tf.int64)])
            self.logits = tf.Variable([0.0, 1.0, 3.0])

    state = Stateful().get_initial_state(3)
    assert state[0].shape == (3, 4) and state[1].dtype == tf.int64
    assert float(tf.reduce_sum(state[0])) == 0.0
    assert Stateful().get_initial_state(None)[0].shape == (4,)


def test_recurrent_policy_in_tf_function_with_unknown_batch():
    policy = Counter()
    signature = tf.nest.map_structure(
        lambda s: tf.TensorSpec([None] + s.shape.as_list(), s.dtype), TS_SPEC)
    fn = tf.function(policy.action, input_signature=[signature, {"count": tf.TensorSpec([None], tf.int32)}])
    step = fn(ts.transition(_obs(2), reward=tf.zeros([2])), {"count": tf.constant([3, 4])})
    np.testing.assert_array_equal(step.action.numpy(), [3, 4])


# ---- variables and update -----------------------------------------------------


def test_update_copies_and_averages():
    source, target = Pusher(gain=4.0), Pusher(gain=0.0)
    source.scale.assign(2.0)
    target.update(source, tau=0.25)
    assert float(target.gain) == pytest.approx(1.0)
    assert float(target.scale) == pytest.approx(0.25 * 2.0 + 0.75 * 0.5)
    target.update(source, tau=0.5, tau_non_trainable=1.0)
    assert float(target.gain) == pytest.approx(2.5)
    assert float(target.scale) == pytest.approx(2.0)
    target.update(source)
    assert float(target.gain) == 4.0


def test_update_inside_tf_function():
    source, target = Pusher(gain=4.0), Pusher(gain=0.0)
    tf.function(lambda: target.update(source, tau=tf.constant(0.5)))()
    assert float(target.gain) == pytest.approx(2.0)


def test_update_rejects_mismatched_variables():
    with pytest.raises(ValueError, match="source has 1 variables, the target 2"):
        Pusher().update(Categorical())

    class Wide(Pusher):
        def __init__(self):
            super().__init__()
            self.gain = tf.Variable([1.0, 2.0])

    with pytest.raises(ValueError, match=r"float32\[2\] vs target .*float32\[\]"):
        Pusher().update(Wide())


class KerasPolicy(TFPolicy):
    def __init__(self, **kwargs):
        super().__init__(TS_SPEC, DISCRETE, **kwargs)
        self.net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
                                     keras.layers.Dense(3)])
        self.net.layers[0].trainable = True

    def _distribution(self, time_step, policy_state):
        return PolicyStep(tfd.Categorical(logits=self.net(time_step.observation["pos"])))


def test_keras3_variables_are_collected_and_updated():
    source, target = KerasPolicy(), KerasPolicy()
    assert len(source.variables()) == 4
    assert all(isinstance(v, tf.Variable) for v in source.variables())
    assert len(source.trainable_variables) == 4
    target.update(source)
    for s, t in zip(source.variables(), target.variables()):
        np.testing.assert_array_equal(s.numpy(), t.numpy())
    x = ts.restart(_obs(3, pos=0.7), batch_size=3)
    np.testing.assert_allclose(source.distribution(x).action.logits.numpy(),
                               target.distribution(x).action.logits.numpy())


def test_frozen_keras_layer_is_non_trainable():
    policy = KerasPolicy()
    policy.net.layers[0].trainable = False
    assert len(policy.variables()) == 4
    assert len(policy.trainable_variables) == 2
    target = KerasPolicy()
    target.net.layers[0].trainable = False  # the target's flags decide which tau applies
    before = [v.numpy() for v in target.variables()]
    target.update(policy, tau=1.0, tau_non_trainable=0.0)
    after = [v.numpy() for v in target.variables()]
    np.testing.assert_array_equal(before[0], after[0])  # frozen kernel kept
    np.testing.assert_array_equal(after[2], policy.variables()[2].numpy())


def test_sort_variables_by_name_pairs_by_name():
    class Two(Pusher):
        def __init__(self, first, second):
            super().__init__()
            setattr(self, first, tf.Variable(1.0, name="a"))
            setattr(self, second, tf.Variable(2.0, name="b"))

    source, target = Two("x1", "x2"), Two("x2", "x1")
    target.update(source, sort_variables_by_name=True)
    by_name = {v.name: float(v) for v in target.variables() if v.name in ("a:0", "b:0")}
    assert by_name == {"a:0": 1.0, "b:0": 2.0}


def test_keras_policy_in_tf_function():
    policy = KerasPolicy()
    step = tf.function(policy.action)(ts.restart(_obs(5), batch_size=5))
    assert step.action.shape == (5,)


# ---- property: any observation nest -------------------------------------------------

_leaf = st.builds(
    lambda shape, dtype: TensorSpec(shape, dtype),
    st.lists(st.integers(1, 3), max_size=2), st.sampled_from([tf.float32, tf.int32, tf.bool]))
_obs_specs = st.recursive(_leaf, lambda kids: st.dictionaries(
    st.sampled_from(["a", "b", "c"]), kids, min_size=1, max_size=3), max_leaves=5)


class Uniform(TFPolicy):
    def _distribution(self, time_step, policy_state):
        batch = tf.shape(time_step.step_type)
        return PolicyStep(tfd.Categorical(logits=tf.zeros(tf.concat([batch, [3]], 0))))


@given(_obs_specs, st.integers(1, 4), st.integers(0, 2**16))
def test_sampled_time_steps_are_accepted_and_mutations_rejected(obs_spec, batch, seed):
    import specs

    policy = Uniform(ts.time_step_spec(obs_spec), DISCRETE)
    time_step = specs.sample_spec_nest(policy.time_step_spec, seed=seed, outer_dims=(batch,))
    assert policy.action(time_step).action.shape == (batch,)
    paths = nest_utils.flatten_with_paths(time_step.observation)
    path, leaf = paths[seed % len(paths)]
    mutated_leaf = tf.cast(leaf, tf.float64)
    flat = [mutated_leaf if p == path else v for p, v in paths]
    bad = time_step._replace(observation=tf.nest.pack_sequence_as(time_step.observation, flat))
    with pytest.raises(TypeError) as err:
        policy.action(bad)
    where = "observation" if path == "<root>" else f"observation/{path}"
    assert f"'{where}'" in str(err.value)


def test_tensor_seed_gives_independent_draws_per_leaf_and_is_reproducible():
    spec = {"a": CONTINUOUS, "b": CONTINUOUS}

    class Two(TFPolicy):
        def __init__(self):
            super().__init__(TS_SPEC, spec, clip=False)

        def _distribution(self, time_step, policy_state):
            b = tf.shape(time_step.step_type)[0]
            normal = tfd.Independent(tfd.Normal(tf.zeros([b, 2]), 1.0), 1)
            return PolicyStep({"a": normal, "b": normal})

    policy = Two()
    seed = tf.constant([4, 2], tf.int32)
    first = policy.action(ts.restart(_obs(3), batch_size=3), seed=seed)
    again = policy.action(ts.restart(_obs(3), batch_size=3), seed=seed)
    assert not np.allclose(first.action["a"].numpy(), first.action["b"].numpy())
    np.testing.assert_array_equal(first.action["a"].numpy(), again.action["a"].numpy())


def test_update_keeps_integer_variables_unless_copying():
    source, target = Pusher(), Pusher()
    source.counter = tf.Variable(5, trainable=False)
    target.counter = tf.Variable(1, trainable=False)
    target.update(source, tau=0.5)
    assert int(target.counter) == 1
    target.update(source, tau=1.0)
    assert int(target.counter) == 5
