"""Tests of the `PyEnvironment` base: episodes, auto-reset, action checks, closing."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tfpolicy.environments as environments
from env_toys import Counter
from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments.py_environment import PyEnvironment, check_action
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories.time_step import StepType


def counter(**kwargs):
    """Counts steps; the episode terminates after 3 steps; reward = the action."""
    return Counter(3, observation="scalar", reward="action", discount=0.5, max_action=2, **kwargs)


class TwoPart(Counter):
    """A nested action; records each action as given, never ends."""

    def __init__(self):
        super().__init__(3, observation="scalar")

    def action_spec(self):
        return {"move": BoundedArraySpec((2,), np.float32, -1.0, [1.0, 2.0]),
                "pick": BoundedArraySpec((), np.int32, 0, 3)}

    def _step(self, action):
        self.actions.append(action)
        return ts.transition(np.int32(1), 0.0)


def _summary(time_step):
    return (int(time_step.step_type), float(time_step.reward), float(time_step.discount),
            int(time_step.observation))


def test_episode_step_types_rewards_and_discounts():
    env = counter()
    steps = [env.reset()] + [env.step(a) for a in (np.int64(1), np.int64(2), np.int64(1))]
    assert [_summary(t) for t in steps] == [
        (StepType.FIRST, 0.0, 1.0, 0),
        (StepType.MID, 1.0, 0.5, 1),
        (StepType.MID, 2.0, 0.5, 2),
        (StepType.LAST, 1.0, 0.0, 3),
    ]


def test_step_after_last_resets_and_ignores_the_action():
    env = counter()
    env.reset()
    for _ in range(3):
        last = env.step(1)
    assert last.is_last()
    first = env.step(2)
    assert _summary(first) == (StepType.FIRST, 0.0, 1.0, 0)
    assert env.resets == 2
    assert len(env.actions) == 3
    assert _summary(env.step(2)) == (StepType.MID, 2.0, 0.5, 1)


def test_step_before_reset_resets():
    env = counter()
    assert env.current_time_step() is None
    first = env.step(1)
    assert first.is_first() and env.resets == 1 and env.actions == []
    assert env.current_time_step() is first


def test_without_auto_reset_step_after_last_raises():
    env = counter(auto_reset=False)
    with pytest.raises(RuntimeError, match="before the first reset"):
        env.step(0)
    env.reset()
    for _ in range(3):
        env.step(0)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    assert env.reset().is_first()


def test_specs_default_reward_and_unbatched():
    env = counter()
    spec = env.time_step_spec()
    assert spec.observation == ArraySpec((), np.int32, name="observation")
    assert spec.reward == ArraySpec((), np.float32, name="reward")
    assert spec.step_type == ArraySpec((), np.int32, name="step_type")
    assert env.batched is False and env.batch_size is None


def test_out_of_bounds_action_names_path_spec_and_value():
    env = counter()
    env.reset()
    with pytest.raises(ValueError) as info:
        env.step(np.int64(5))
    message = str(info.value)
    assert "action at '<root>'" in message
    assert "[5]" in message and "name='action'" in message and "maximum=2" in message
    assert env.actions == []


def test_nested_out_of_bounds_names_the_leaf_and_only_bad_values():
    env = TwoPart()
    env.reset()
    with pytest.raises(ValueError, match=r"action at 'move': value\(s\) \[2.5\]"):
        env.step({"move": np.array([0.0, 2.5], np.float32), "pick": np.int32(1)})
    with pytest.raises(ValueError, match=r"'move'.*\[nan\]"):
        env.step({"move": np.array([np.nan, 0.0], np.float32), "pick": np.int32(1)})
    with pytest.raises(ValueError, match="action at 'pick'"):
        env.step({"move": np.zeros(2, np.float32), "pick": np.int32(-1)})


def test_wrong_dtype_and_shape_and_structure_name_the_path():
    env = TwoPart()
    env.reset()
    with pytest.raises(TypeError, match="action at 'pick': dtype mismatch"):
        env.step({"move": np.zeros(2, np.float32), "pick": np.float32(1)})
    with pytest.raises(ValueError, match="action at 'move': shape mismatch"):
        env.step({"move": np.zeros(3, np.float32), "pick": np.int32(1)})
    with pytest.raises(TypeError, match="missing keys"):
        env.step({"move": np.zeros(2, np.float32)})
    with pytest.raises(ValueError, match="outer dim"):
        env.step({"move": np.zeros((1, 2), np.float32), "pick": np.zeros(1, np.int32)})


def test_python_numbers_are_accepted_and_converted():
    env = TwoPart()
    env.reset()
    env.step({"move": np.zeros(2, np.float32), "pick": 3})
    pick = env.actions[-1]["pick"]
    assert isinstance(pick, np.ndarray) and pick.dtype == np.int32 and pick == 3
    with pytest.raises(TypeError, match="dtype mismatch"):
        env.step({"move": np.zeros(2, np.float32), "pick": 1.0})


@given(st.integers(-5, 7))
def test_check_action_accepts_exactly_the_bounds(value):
    spec = BoundedArraySpec((), np.int64, 0, 2)
    if 0 <= value <= 2:
        assert check_action(np.int64(value), spec) == value
    else:
        with pytest.raises(ValueError, match=str(value)):
            check_action(np.int64(value), spec)


def test_check_action_with_outer_shape():
    spec = BoundedArraySpec((), np.int64, 0, 2)
    out = check_action(np.array([0, 2, 1]), spec, outer_shape=(3,))
    np.testing.assert_array_equal(out, [0, 2, 1])
    with pytest.raises(ValueError, match="outer"):
        check_action(np.array([0, 2]), spec, outer_shape=(3,))
    with pytest.raises(ValueError, match=r"\[3, -1\]"):
        check_action(np.array([3, 0, -1]), spec, outer_shape=(3,))


def test_context_manager_closes():
    with counter() as env:
        env.reset()
        assert env.closed == 0
    assert env.closed == 1


def test_context_manager_closes_on_error():
    env = counter()
    with pytest.raises(KeyError):
        with env:
            raise KeyError("boom")
    assert env.closed == 1


def test_action_checker_checks_bounds_on_every_call_after_caching():
    checker = environments.ActionChecker(
        {"a": BoundedArraySpec((), np.int64, 0, 2), "f": BoundedArraySpec((2,), np.float32, -1, 1)})
    good = {"a": np.int64(1), "f": np.zeros(2, np.float32)}
    assert checker(good)["a"] == 1
    assert checker(good)["a"] == 1
    with pytest.raises(ValueError, match=r"action at 'a': value\(s\) \[3\] outside"):
        checker({"a": np.int64(3), "f": np.zeros(2, np.float32)})
    with pytest.raises(ValueError, match=r"action at 'f': value\(s\) \[nan\] outside"):
        checker({"a": np.int64(0), "f": np.array([0.0, np.nan], np.float32)})
    with pytest.raises(TypeError, match="action at 'a': dtype mismatch"):
        checker({"a": np.float32(1), "f": np.zeros(2, np.float32)})


def test_action_checker_scalar_fast_path_keeps_every_check():
    checker = environments.ActionChecker(BoundedArraySpec((), np.float32, -1.0, 2.0, "a"))
    assert checker(np.float32(2.0)) == np.float32(2.0)
    assert checker(np.float32(-1.0)) == np.float32(-1.0)
    for bad in (np.float32(2.5), np.float32(-1.5), np.float32(np.nan), np.float32(np.inf)):
        with pytest.raises(ValueError, match=r"action at '<root>': value\(s\) .* outside"):
            checker(bad)
    with pytest.raises(TypeError, match="dtype mismatch"):
        checker(np.int64(1))
    with pytest.raises(ValueError, match="shape mismatch|outer dim"):
        checker(np.zeros(2, np.float32))
    uneven = environments.ActionChecker(BoundedArraySpec((2,), np.int64, [0, 0], [1, 5]))
    np.testing.assert_array_equal(uneven(np.array([1, 5])), [1, 5])
    with pytest.raises(ValueError, match=r"value\(s\) \[2\]"):
        uneven(np.array([2, 5]))


# -- TF-Agents' conventions ------------------------------------------------------


class NoInit(PyEnvironment):
    """Skips the base __init__, as TF-Agents' tutorial environments do; ends after 2 steps."""

    def __init__(self):
        self.t = 0

    def observation_spec(self):
        return ArraySpec((), np.int32, name="observation")

    def action_spec(self):
        return BoundedArraySpec((), np.int64, 0, 3, name="action")

    def _reset(self):
        self.t = 0
        return ts.restart(np.int32(0))

    def _step(self, action):
        self.t += 1
        if self.t == 2:
            return ts.termination(np.int32(self.t), 1.0)
        return ts.transition(np.int32(self.t), 0.0)


def test_subclass_without_base_init_auto_resets():
    env = NoInit()
    assert env.current_time_step() is None
    assert [int(env.step(0).step_type) for _ in range(5)] == [0, 1, 2, 0, 1]


def test_integer_action_of_another_dtype_is_cast_after_a_range_check():
    env = NoInit()
    env.reset()
    assert int(env.step(np.int32(3)).observation) == 1
    with pytest.raises(ValueError, match="maximum=3"):
        env.step(np.uint8(4))
    with pytest.raises(TypeError, match="dtype mismatch"):
        env.step(np.float64(1.0))


def test_handle_auto_reset_false_leaves_the_new_episode_to_step():
    class SelfResetting(NoInit):
        def __init__(self):
            super().__init__()
            PyEnvironment.__init__(self, handle_auto_reset=False)
            self.after_last = 0

        def _step(self, action):
            if self.current_time_step().is_last():
                self.after_last += 1
                return self.reset()
            return super()._step(action)

    env = SelfResetting()
    types = [int(env.step(0).step_type) for _ in range(4)]
    assert types == [0, 1, 2, 0] and env.after_last == 1


def test_should_reset_can_be_overridden():
    class ResetAfterOne(NoInit):
        def should_reset(self, current_time_step):
            return self.t >= 1

    env = ResetAfterOne()
    assert [int(env.step(0).step_type) for _ in range(4)] == [0, 1, 0, 1]


def test_discount_spec_and_batched_without_batch_size():
    assert NoInit().discount_spec() == BoundedArraySpec((), np.float32, 0.0, 1.0, name="discount")

    class Batched(NoInit):
        @property
        def batched(self):
            return True

    with pytest.raises(RuntimeError, match="does not override the batch_size"):
        Batched().batch_size
