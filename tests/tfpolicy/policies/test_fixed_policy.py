"""Tests of FixedPolicy: broadcasting, determinism, validation at construction, log-probabilities."""

import numpy as np
import pytest
import tensorflow as tf

from policy_toys import TS_SPEC, signature
from specs import BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy import PolicyInfo, time_step as ts
from tfpolicy.policies.fixed_policy import FixedPolicy

ACTION = BoundedTensorSpec([], tf.int32, 2, 4, "action")
NESTED = {
    "move": BoundedTensorSpec([2], tf.float32, -1.0, 1.0, "move"),
    "pick": BoundedTensorSpec([], tf.int32, 0, 3, "pick"),
}
NESTED_ACTIONS = {"move": np.array([0.5, -0.25], np.float32), "pick": 3}


def _time_step(batch=None):
    return ts.restart(tf.zeros([2] if batch is None else [batch, 2]), batch_size=batch)


def test_returns_the_actions_broadcast_to_the_batch():
    policy = FixedPolicy(NESTED_ACTIONS, TS_SPEC, NESTED)
    step = policy.action(_time_step(3))
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (3,)
    np.testing.assert_array_equal(step.action["move"].numpy(), [[0.5, -0.25]] * 3)
    np.testing.assert_array_equal(step.action["pick"].numpy(), [3, 3, 3])


def test_unbatched_time_step_gives_unbatched_actions():
    policy = FixedPolicy(NESTED_ACTIONS, TS_SPEC, NESTED)
    step = policy.action(_time_step())
    assert nest_utils.check_nest(step, policy.policy_step_spec) == ()
    assert int(step.action["pick"]) == 3


def test_tf_function_with_unknown_batch():
    policy = FixedPolicy(NESTED_ACTIONS, TS_SPEC, NESTED)
    action = tf.function(policy.action, input_signature=[signature(TS_SPEC)])
    for batch in (1, 5):
        step = action(_time_step(batch))
        assert nest_utils.check_nest(step, policy.policy_step_spec) == (batch,)
        np.testing.assert_array_equal(step.action["pick"].numpy(), [3] * batch)


def test_is_deterministic_across_calls_and_seeds():
    policy = FixedPolicy(2, TS_SPEC, ACTION)
    actions = [policy.action(_time_step(4), seed=s).action.numpy() for s in (1, 2, None)]
    for a in actions:
        np.testing.assert_array_equal(a, [2, 2, 2, 2])


def test_log_probability_is_zero_by_default():
    policy = FixedPolicy(NESTED_ACTIONS, TS_SPEC, NESTED)
    assert policy.emit_log_probability
    log_prob = policy.action(_time_step(2)).info.log_probability
    assert set(log_prob) == {"move", "pick"}
    np.testing.assert_array_equal(log_prob["move"].numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(log_prob["pick"].numpy(), [0.0, 0.0])


def test_emit_log_probability_false_gives_empty_info():
    step = FixedPolicy(2, TS_SPEC, ACTION, emit_log_probability=False).action(_time_step(2))
    assert step.info == ()


def test_distribution_is_deterministic_at_the_actions():
    policy = FixedPolicy(NESTED_ACTIONS, TS_SPEC, NESTED)
    distributions = policy.distribution(_time_step(2)).action
    np.testing.assert_array_equal(distributions["pick"].sample().numpy(), [3, 3])
    np.testing.assert_array_equal(distributions["pick"].log_prob([3, 1]).numpy(), [0.0, -np.inf])
    move = distributions["move"]
    assert move.event_shape == (2,)
    np.testing.assert_array_equal(
        move.log_prob([[0.5, -0.25], [0.5, 0.0]]).numpy(), [0.0, -np.inf])


def test_policy_info_is_returned_with_the_log_probability():
    info_spec = {"value": TensorSpec([], tf.float32)}
    policy = FixedPolicy(2, TS_SPEC, ACTION, policy_info={"value": 1.5}, info_spec=info_spec)
    step = policy.action(_time_step(2))
    np.testing.assert_array_equal(step.info["value"].numpy(), [1.5, 1.5])
    np.testing.assert_array_equal(step.info["log_probability"].numpy(), [0.0, 0.0])
    assert nest_utils.check_nest(step, policy.policy_step_spec) == (2,)


def test_policy_info_named_tuple_spec():
    spec = PolicyInfo(log_probability=TensorSpec([], tf.float32))
    policy = FixedPolicy(2, TS_SPEC, ACTION, info_spec=spec)
    assert policy.action(_time_step(1)).info.log_probability.numpy().tolist() == [0.0]


def test_python_lists_take_the_spec_dtype():
    policy = FixedPolicy({"move": [0.5, -0.25], "pick": 1}, TS_SPEC, NESTED)
    assert policy.action(_time_step(1)).action["move"].dtype == tf.float32


# ---- validation at construction ------------------------------------------------------


def test_missing_key_is_named():
    with pytest.raises(TypeError, match=r"FixedPolicy's actions .*missing keys \['pick'\]"):
        FixedPolicy({"move": [0.0, 0.0]}, TS_SPEC, NESTED)


def test_wrong_dtype_names_the_path_and_both_sides():
    with pytest.raises(TypeError) as err:
        FixedPolicy({"move": np.zeros(2, np.float64), "pick": 1}, TS_SPEC, NESTED)
    msg = str(err.value)
    assert "FixedPolicy's actions at 'move': dtype mismatch" in msg
    assert "float64" in msg and "name='move'" in msg


def test_float_for_an_integer_spec_is_rejected():
    with pytest.raises(TypeError, match="at '<root>': dtype mismatch"):
        FixedPolicy(2.5, TS_SPEC, ACTION)


def test_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"at 'move': .*shape \(3,\)"):
        FixedPolicy({"move": [0.0, 0.0, 0.0], "pick": 1}, TS_SPEC, NESTED)


def test_batched_actions_are_rejected():
    with pytest.raises(ValueError, match="expected 0 outer dim"):
        FixedPolicy(np.array([2, 3], np.int32), TS_SPEC, ACTION)


def test_out_of_bounds_value_is_rejected_naming_path_and_spec():
    with pytest.raises(ValueError, match=r"at 'move': value \[0.5, 2.0\] lies outside the bounds"):
        FixedPolicy({"move": [0.5, 2.0], "pick": 1}, TS_SPEC, NESTED)
    with pytest.raises(ValueError, match="minimum=2, maximum=4"):
        FixedPolicy(5, TS_SPEC, ACTION)


def test_policy_info_is_validated_against_info_spec():
    with pytest.raises(TypeError, match=r"FixedPolicy's policy_info .*missing keys \['value'\]"):
        FixedPolicy(2, TS_SPEC, ACTION, policy_info={"v": 1.0},
                    info_spec={"value": TensorSpec([], tf.float32)})
