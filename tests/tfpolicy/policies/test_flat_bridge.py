"""Tests of the numpy bridge: flattening and structure checks, runners kept per input
signature, both ways of rejecting a new signature, conversions, `bridge_outer`."""

import numpy as np
import pytest
import tensorflow as tf
import tree
from hypothesis import given
from hypothesis import strategies as st

from specs import ArraySpec
from tfpolicy.policies.flat_bridge import FlatBridge, NewInputSignature, bridge_outer
from tfpolicy.trajectories import time_step as ts

OBS = ArraySpec((2,), np.float32, "obs")
ACTION = ArraySpec((2,), np.float32, "action")


class Doubler(FlatBridge):
    """Action = 2 * observation; counts the runners it makes."""

    def __init__(self, observation_spec=OBS, action_spec=ACTION, **kwargs):
        super().__init__(ts.time_step_spec(observation_spec), action_spec, **kwargs)
        self.runners = 0

    def _runner_for(self, outer, leaves):
        self.runners += 1

        def double(step_type, reward, discount, observation):
            return [tf.convert_to_tensor(observation * 2)]

        return self._function_runner(double, leaves)


class Echo(FlatBridge):
    """Action = the observation nest itself, whatever its structure."""

    def __init__(self, observation_spec):
        super().__init__(ts.time_step_spec(observation_spec), observation_spec)

    def _runner_for(self, outer, leaves):
        return self._function_runner(
            lambda step_type, reward, discount, *obs: [tf.convert_to_tensor(x) for x in obs],
            leaves)


class Strict(FlatBridge):
    """Like a LiteRT interpreter: its runner takes only float32 arrays of the armed
    shape and raises ValueError or TypeError otherwise, before running anything."""

    _new_signature_errors = (NewInputSignature, ValueError, TypeError)

    def __init__(self, **kwargs):
        super().__init__(ts.time_step_spec(OBS), ACTION, **kwargs)
        self.runs = []

    def _runner_for(self, outer, leaves):
        shape = tuple(outer) + (2,)

        def run(leaves):
            obs, reward = leaves[3], leaves[1]
            if not isinstance(obs, np.ndarray) or not isinstance(reward, np.ndarray):
                raise TypeError("not an array")
            batched = obs[None] if self._batch_time_steps else obs
            if batched.shape != shape or batched.dtype != np.float32:
                raise ValueError("new shape")
            self.runs.append(shape)
            out = batched + reward.reshape(-1, 1)  # action = observation + reward
            return self._pack([out[0] if self._batch_time_steps else out])

        return run


def _restart(obs, batch=None):
    return ts.restart(np.asarray(obs, np.float32), batch_size=batch)


def test_unbatched_step_adds_and_removes_the_batch_dim():
    step = Doubler().action(_restart([1.0, -3.0]))
    np.testing.assert_array_equal(step.action, [2.0, -6.0])
    assert step.action.shape == (2,) and step.state == () and step.info == ()


def test_one_runner_per_input_signature():
    policy = Doubler(batch_time_steps=False)
    for batch, expected_runners in ((3, 1), (3, 1), (5, 2), (5, 2), (3, 3)):
        obs = np.arange(2 * batch, dtype=np.float32).reshape(batch, 2)
        np.testing.assert_array_equal(policy.action(_restart(obs, batch)).action, obs * 2)
        assert policy.runners == expected_runners


def test_a_bad_dtype_after_a_good_step_is_named():
    policy = Doubler()
    policy.action(_restart([1.0, 2.0]))
    bad = ts.restart(np.zeros(2, np.float64))
    with pytest.raises(TypeError, match=r"time_step at 'observation': dtype mismatch.*float64"):
        policy.action(bad)


def test_python_numbers_are_converted():
    policy = Doubler()
    step = ts.TimeStep(np.asarray(1, np.int32), 0.5, 1.0, np.asarray([1.5, 2.0], np.float32))
    np.testing.assert_array_equal(policy.action(step).action, [3.0, 4.0])
    np.testing.assert_array_equal(policy.action(step).action, [3.0, 4.0])
    assert policy.runners == 1  # the Python numbers' signature is kept like any other


def test_renamed_dict_keys_are_rejected_after_a_good_step():
    spec = {"a": ArraySpec((), np.float32), "b": ArraySpec((), np.float32)}
    policy = Echo(spec)
    good = policy.action(ts.restart({"a": np.float32(1), "b": np.float32(2)}))
    assert good.action == {"a": 1.0, "b": 2.0}
    with pytest.raises((TypeError, ValueError), match="time_step"):
        policy.action(ts.restart({"a": np.float32(1), "c": np.float32(2)}))


def test_a_dict_observation_with_one_key():
    policy = Echo({"x": ArraySpec((2,), np.float32)})
    step = policy.action(ts.restart({"x": np.asarray([4.0, 5.0], np.float32)}))
    np.testing.assert_array_equal(step.action["x"], [4.0, 5.0])


_leaf = st.just(ArraySpec((2,), np.float32))
_keys = st.text("abcd", min_size=1, max_size=2)
_spec_nests = st.recursive(
    _leaf, lambda children: st.one_of(
        st.dictionaries(_keys, children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3).map(tuple),
        st.lists(children, min_size=1, max_size=2)),
    max_leaves=6)


@given(_spec_nests)
def test_any_observation_nest_comes_back_in_its_structure(spec):
    # Leaf i of the observation (dm-tree order) holds [i, -i]: the echo must
    # return each leaf at its own path.
    count = len(tree.flatten(spec))
    values = [np.asarray([i, -i], np.float32) for i in range(count)]
    observation = tree.unflatten_as(spec, values)
    policy = Echo(spec)
    for _ in range(2):  # the checked first step, then the kept runner
        action = policy.action(ts.restart(observation)).action
        tree.assert_same_structure(action, observation)
        for got, want in zip(tree.flatten(action), values):
            np.testing.assert_array_equal(got, want)


def test_a_runner_that_rejects_with_its_own_errors():
    policy = Strict()
    np.testing.assert_array_equal(policy.action(_restart([1.0, 2.0])).action, [1.0, 2.0])
    # A Python reward: the runner refuses it, the bridge converts it and runs again.
    step = ts.TimeStep(np.asarray(1, np.int32), 3.0, 1.0, np.asarray([1.0, 2.0], np.float32))
    np.testing.assert_array_equal(policy.action(step).action, [4.0, 5.0])
    assert policy.runs == [(1, 2), (1, 2)]


def test_a_runner_rejecting_a_new_batch_size_is_replaced():
    policy = Strict(batch_time_steps=False)
    first = policy.action(_restart(np.ones((2, 2)), 2))
    second = policy.action(_restart(np.ones((4, 2)), 4))
    assert first.action.shape == (2, 2) and second.action.shape == (4, 2)
    assert policy.runs == [(2, 2), (4, 2)]


def test_disarm_makes_the_next_step_ask_for_a_runner():
    policy = Doubler()
    policy.action(_restart([1.0, 2.0]))
    policy._disarm()
    policy.action(_restart([1.0, 2.0]))
    assert policy.runners == 2


def test_without_validate_args_inputs_are_converted_unchecked():
    policy = Doubler(validate_args=False)
    step = ts.restart(np.asarray([0.25, 1.0], np.float64))
    action = policy.action(step).action
    assert action.dtype == np.float32
    np.testing.assert_array_equal(action, [0.5, 2.0])


def test_batched_input_to_an_unbatched_bridge_is_explained():
    with pytest.raises(ValueError, match=r"Doubler\(batch_time_steps=True\).*outer dims \(3,\)"):
        Doubler().action(_restart(np.zeros((3, 2)), 3))


def test_bridges_take_no_seed_unless_they_say_so():
    with pytest.raises(TypeError, match="Doubler.action takes no seed"):
        Doubler().action(_restart([1.0, 2.0]), seed=3)


def test_bridge_outer():
    assert bridge_outer("P", (), batch_time_steps=True) == (1,)
    assert bridge_outer("P", (7,), batch_time_steps=False) == (7,)
    with pytest.raises(ValueError, match="batch_time_steps=False for batched input"):
        bridge_outer("P", (7,), batch_time_steps=True)
    with pytest.raises(ValueError, match=r"one outer \(batch\) dim; got outer dims \(\)"):
        bridge_outer("P", (), batch_time_steps=False)
