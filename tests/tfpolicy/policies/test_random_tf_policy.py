"""Tests of RandomTFPolicy: bounds, uniformity, masks, log-probabilities, distributions."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, strategies as st

from policy_toys import (ACTION, MASKED_TS_SPEC, MASKS, TS_SPEC, log_prob_of_each_action,
                         masked_time_step, signature, splitter)
from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy import time_step as ts
from tfpolicy.policies.random_tf_policy import RandomTFPolicy

NESTED = {
    "move": BoundedTensorSpec([2], tf.float32, -1.0, [1.0, 3.0], "move"),
    "pick": BoundedTensorSpec([3], tf.int32, [0, 5, -2], [1, 8, -2], "pick"),
    "flag": TensorSpec([], tf.bool, "flag"),
}


def _time_step(batch=None, spec=TS_SPEC):
    outer = () if batch is None else (batch,)
    obs = tf.nest.map_structure(lambda s: tf.zeros(outer + tuple(s.shape), s.dtype),
                                spec.observation)
    return ts.restart(obs, batch_size=batch)


def _masked_time_step(mask):
    return masked_time_step(np.zeros([len(mask), 2]), mask)


# ---- spec conformance ---------------------------------------------------------------


def test_nested_actions_conform_batched_and_unbatched():
    policy = RandomTFPolicy(TS_SPEC, NESTED, emit_log_probability=True)
    batched = policy.action(_time_step(4))
    assert nest_utils.check_nest(batched, policy.policy_step_spec) == (4,)
    single = policy.action(_time_step())
    assert nest_utils.check_nest(single, policy.policy_step_spec) == ()


def test_actions_conform_in_tf_function_with_unknown_batch():
    policy = RandomTFPolicy(TS_SPEC, NESTED, emit_log_probability=True)
    action = tf.function(policy.action, input_signature=[signature(TS_SPEC)])
    for batch in (1, 6):
        step = action(_time_step(batch))
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (batch,)


def test_masked_actions_conform_in_tf_function_with_unknown_batch():
    policy = RandomTFPolicy(MASKED_TS_SPEC, ACTION, emit_log_probability=True,
                            observation_and_action_constraint_splitter=splitter)
    action = tf.function(policy.action, input_signature=[signature(MASKED_TS_SPEC)])
    step = action(_masked_time_step([[0, 1, 0], [1, 0, 0]]))
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (2,)
    np.testing.assert_array_equal(step.action.numpy(), [3, 2])


# ---- the law: bounds and uniformity ---------------------------------------------------


def test_actions_respect_per_element_bounds():
    policy = RandomTFPolicy(TS_SPEC, NESTED)
    action = policy.action(_time_step(2000)).action
    move, pick = action["move"].numpy(), action["pick"].numpy()
    assert (move >= -1.0).all() and (move[:, 0] <= 1.0).all() and (move[:, 1] <= 3.0).all()
    assert set(pick[:, 0]) == {0, 1} and set(pick[:, 1]) == {5, 6, 7, 8}
    assert set(pick[:, 2]) == {-2}
    assert set(action["flag"].numpy()) == {False, True}


def test_discrete_actions_are_uniform_from_a_nonzero_minimum():
    policy = RandomTFPolicy(TS_SPEC, ACTION)
    actions = policy.action(_time_step(6000), seed=tf.constant([3, 4])).action.numpy()
    assert actions.min() == 2 and actions.max() == 4
    np.testing.assert_allclose(np.bincount(actions - 2, minlength=3) / 6000, [1 / 3] * 3,
                               atol=0.025)


def test_continuous_actions_are_uniform_between_bounds():
    spec = BoundedTensorSpec([], tf.float32, -1.0, 3.0)
    actions = RandomTFPolicy(TS_SPEC, spec).action(_time_step(6000), seed=tf.constant([1, 2]))
    x = actions.action.numpy()
    # Uniform(-1, 3): mean 1, variance 16 / 12; a quarter of the mass in each unit interval.
    assert abs(x.mean() - 1.0) < 0.06 and abs(x.var() - 16 / 12) < 0.08
    np.testing.assert_allclose(np.histogram(x, bins=4, range=(-1, 3))[0] / 6000, [0.25] * 4,
                               atol=0.025)


def test_same_stateless_seed_gives_same_actions():
    policy = RandomTFPolicy(TS_SPEC, NESTED)
    first = policy.action(_time_step(5), seed=tf.constant([7, 8])).action
    second = policy.action(_time_step(5), seed=tf.constant([7, 8])).action
    other = policy.action(_time_step(5), seed=tf.constant([7, 9])).action
    for key in NESTED:
        np.testing.assert_array_equal(first[key].numpy(), second[key].numpy())
    assert not np.array_equal(first["move"].numpy(), other["move"].numpy())


def test_unbounded_and_half_bounded_floats_follow_sample_spec_nest_law():
    spec = {"free": TensorSpec([], tf.float32),
            "above": BoundedTensorSpec([], tf.float32, 2.0, np.inf),
            "below": BoundedTensorSpec([], tf.float32, -np.inf, -1.0)}
    action = RandomTFPolicy(TS_SPEC, spec).action(_time_step(6000), seed=tf.constant([5, 6])).action
    free, above, below = (action[k].numpy() for k in ("free", "above", "below"))
    assert abs(free.mean()) < 0.06 and abs(free.std() - 1.0) < 0.05  # standard normal
    assert above.min() >= 2.0 and abs(above.mean() - 3.0) < 0.06  # 2 + Exponential(1)
    assert below.max() <= -1.0 and abs(below.mean() + 2.0) < 0.06  # -1 - Exponential(1)


# ---- log-probabilities and distribution() ----------------------------------------------


def test_emitted_log_probabilities_are_hand_computed_per_leaf():
    policy = RandomTFPolicy(TS_SPEC, NESTED, emit_log_probability=True)
    log_prob = policy.action(_time_step(3)).info.log_probability
    # move: widths 2 and 4; pick: 2 * 4 * 1 values; flag: 2 values.
    np.testing.assert_allclose(log_prob["move"].numpy(), [-np.log(8.0)] * 3, rtol=1e-6)
    np.testing.assert_allclose(log_prob["pick"].numpy(), [-np.log(8.0)] * 3, rtol=1e-6)
    np.testing.assert_allclose(log_prob["flag"].numpy(), [-np.log(2.0)] * 3, rtol=1e-6)


def test_emitted_log_probabilities_equal_the_distributions():
    spec = dict(NESTED, free=TensorSpec([2], tf.float32),
                half=BoundedTensorSpec([2], tf.float32, [0.0, -np.inf], [np.inf, 1.0]))
    policy = RandomTFPolicy(TS_SPEC, spec, emit_log_probability=True)
    time_step = _time_step(16)
    step = policy.action(time_step)
    distributions = policy.distribution(time_step).action
    for key in spec:
        np.testing.assert_allclose(step.info.log_probability[key].numpy(),
                                   distributions[key].log_prob(step.action[key]).numpy(),
                                   rtol=1e-5, err_msg=key)


def test_distribution_samples_stay_within_bounds():
    policy = RandomTFPolicy(TS_SPEC, NESTED)
    sample = tf.nest.map_structure(lambda d: d.sample(seed=tf.constant([1, 1])),
                                   policy.distribution(_time_step(500)).action)
    nest_utils.check_nest(sample, NESTED, outer_shape=(500,))
    pick = sample["pick"].numpy()
    assert set(pick[:, 1]) == {5, 6, 7, 8} and set(pick[:, 2]) == {-2}


def test_distribution_of_a_huge_integer_range_is_refused_but_action_works():
    spec = {"id": TensorSpec([], tf.int64)}
    policy = RandomTFPolicy(TS_SPEC, spec, emit_log_probability=True)
    with pytest.raises(ValueError, match=r"action at 'id'.*spans 18446744073709551616 values"):
        policy.distribution(_time_step(2))
    step = policy.action(_time_step(2))
    np.testing.assert_allclose(step.info.log_probability["id"].numpy(), [-64 * np.log(2.0)] * 2,
                               rtol=1e-6)


def test_emit_false_leaves_info_empty_and_passes_state_through():
    state_spec = {"h": TensorSpec([2], tf.float32)}
    info_spec = {"value": TensorSpec([], tf.float32)}
    policy = RandomTFPolicy(TS_SPEC, ACTION, policy_state_spec=state_spec, info_spec=info_spec)
    state = {"h": tf.constant([[1.0, 2.0]])}
    step = policy.action(ts.transition(tf.zeros([1, 2]), reward=tf.zeros([1])), state)
    np.testing.assert_array_equal(step.state["h"].numpy(), [[1.0, 2.0]])
    assert set(step.info) == {"value"} and step.info["value"].numpy().tolist() == [0.0]


# ---- masks -----------------------------------------------------------------------------------


def test_masked_actions_are_uniform_over_allowed_ones():
    policy = RandomTFPolicy(MASKED_TS_SPEC, ACTION, emit_log_probability=True,
                            observation_and_action_constraint_splitter=splitter)
    mask = [[1, 0, 1]] * 3000 + [[0, 1, 0]] * 3000
    step = policy.action(_masked_time_step(mask), seed=tf.constant([2, 3]))
    first, second = step.action.numpy()[:3000], step.action.numpy()[3000:]
    assert set(first) == {2, 4} and abs((first == 2).mean() - 0.5) < 0.03
    assert set(second) == {3}
    log_prob = step.info.log_probability.numpy()
    np.testing.assert_allclose(log_prob[:3000], -np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(log_prob[3000:], 0.0, atol=1e-6)


@given(MASKS, st.integers(0, 2**16))
def test_masks_are_never_violated(mask, seed):
    policy = RandomTFPolicy(MASKED_TS_SPEC, ACTION, emit_log_probability=True,
                            observation_and_action_constraint_splitter=splitter)
    time_step = _masked_time_step(mask)
    step = policy.action(time_step, seed=tf.constant([seed, 1]))
    chosen = step.action.numpy() - 2
    assert mask[np.arange(len(mask)), chosen].all()
    distribution = policy.distribution(time_step).action
    for a, log_prob in enumerate(log_prob_of_each_action(distribution, len(mask))):
        assert np.all(np.isneginf(log_prob[mask[:, a] == 0]))
        np.testing.assert_allclose(log_prob[mask[:, a] == 1],
                                   -np.log(mask.sum(1)[mask[:, a] == 1]), rtol=1e-6)
    np.testing.assert_allclose(step.info.log_probability.numpy(),
                               distribution.log_prob(step.action).numpy(), rtol=1e-6)


def test_masked_shape_one_spec_returns_shape_one_actions():
    spec = BoundedTensorSpec([1], tf.int32, 2, 4)
    policy = RandomTFPolicy(MASKED_TS_SPEC, spec, emit_log_probability=True,
                            observation_and_action_constraint_splitter=splitter)
    step = policy.action(_masked_time_step([[0, 0, 1], [1, 0, 0]]))
    np.testing.assert_array_equal(step.action.numpy(), [[4], [2]])
    assert step.info.log_probability.shape == (2,)


def test_splitter_needs_a_single_discrete_action():
    with pytest.raises(ValueError, match="single bounded integer action"):
        RandomTFPolicy(MASKED_TS_SPEC, NESTED, observation_and_action_constraint_splitter=splitter)
    with pytest.raises(ValueError, match="single bounded integer action"):
        RandomTFPolicy(MASKED_TS_SPEC, BoundedTensorSpec([], tf.float32, 0.0, 1.0),
                       observation_and_action_constraint_splitter=splitter)


def test_mask_width_must_match_the_number_of_actions():
    with pytest.raises(ValueError, match=r"mask .* shape \(3,\), expected .* followed by 4"):
        RandomTFPolicy(MASKED_TS_SPEC, BoundedTensorSpec([], tf.int32, 0, 3),
                       observation_and_action_constraint_splitter=splitter)
