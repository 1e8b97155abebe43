"""Tests of the environment wrappers, on small hand-checked environments."""

import numpy as np
import pytest

from env_toys import Counter
from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments import (
    ActionClip,
    ActionRepeat,
    BatchedPyEnvironment,
    FlattenObservation,
    PyEnvironment,
    PyEnvironmentBaseWrapper,
    TimeLimit,
)
from tfpolicy.trajectories import time_step as ts


def counter(length=3):
    """Terminates after `length` steps; reward of step k is k (float32); discount 0.5.

    It carries an `extra` attribute for the wrappers to forward.
    """
    env = Counter(length, observation="scalar", reward="step", discount=0.5, max_action=1)
    env.extra = "inner attribute"
    return env


class NestedObs(PyEnvironment):
    """Dict/tuple observations of mixed dtypes; continuous 2-D action."""

    def __init__(self):
        super().__init__()
        self.actions = []

    def observation_spec(self):
        return {"z": BoundedArraySpec((2,), np.float64, -1.0, [1.0, 3.0]),
                "a": (ArraySpec((2, 2), np.int32), BoundedArraySpec((), np.bool_))}

    def action_spec(self):
        return BoundedArraySpec((2,), np.float32, [-1.0, 0.0], [1.0, 2.0], name="action")

    def _obs(self, k):
        return {"z": np.array([0.5, k], np.float64),
                "a": (np.arange(4, dtype=np.int32).reshape(2, 2) + k, np.bool_(k % 2))}

    def _reset(self):
        return ts.restart(self._obs(0))

    def _step(self, action):
        self.actions.append(action)
        return ts.transition(self._obs(len(self.actions)), 0.0)


def test_base_wrapper_forwards_everything():
    inner = counter()
    env = PyEnvironmentBaseWrapper(inner)
    assert env.time_step_spec() == inner.time_step_spec()
    assert env.action_spec() == inner.action_spec()
    assert env.extra == "inner attribute" and env.wrapped_env() is inner
    assert env.reset().is_first() and inner.resets == 1
    assert int(env.step(1).observation) == 1 and len(inner.actions) == 1
    with pytest.raises(ValueError, match="action at"):
        env.step(3)
    with env:
        pass
    assert inner.closed == 1
    with pytest.raises(AttributeError):
        env.no_such_attribute  # noqa: B018


def test_base_wrapper_rejects_non_environments():
    with pytest.raises(TypeError, match="PyEnvironment"):
        PyEnvironmentBaseWrapper(object())


def test_time_limit_truncates_keeping_the_discount():
    env = TimeLimit(counter(length=10), duration=2)
    first = env.reset()
    mid, last = env.step(0), env.step(0)
    assert [int(t.step_type) for t in (first, mid, last)] == [0, 1, 2]
    assert float(last.discount) == 0.5 and float(last.reward) == 2.0
    again = env.step(0)
    assert again.is_first() and env.wrapped_env().resets == 2
    assert [int(env.step(0).step_type) for _ in range(2)] == [1, 2]


def test_time_limit_keeps_an_earlier_termination():
    env = TimeLimit(counter(length=2), duration=5)
    env.reset()
    steps = [env.step(0) for _ in range(3)]
    assert [int(t.step_type) for t in steps] == [1, 2, 0]
    assert float(steps[1].discount) == 0.0
    # The count restarts with each episode.
    assert [int(env.step(0).step_type) for _ in range(2)] == [1, 2]


def test_time_limit_argument_checks():
    with pytest.raises(ValueError, match="duration"):
        TimeLimit(counter(), duration=0)
    with pytest.raises(ValueError, match="unbatched"):
        TimeLimit(BatchedPyEnvironment([counter()]), duration=3)


def test_action_repeat_sums_rewards_and_stops_at_last():
    inner = counter(length=5)
    env = ActionRepeat(inner, times=2)
    env.reset()
    one = env.step(1)  # inner steps 1, 2
    assert (int(one.step_type), float(one.reward), int(one.observation)) == (1, 3.0, 2)
    assert one.reward.dtype == np.float32 and float(one.discount) == 0.5
    two = env.step(1)  # inner steps 3, 4
    assert float(two.reward) == 7.0
    three = env.step(1)  # inner step 5 is LAST: stop there
    assert (int(three.step_type), float(three.reward), float(three.discount)) == (2, 5.0, 0.0)
    assert len(inner.actions) == 5
    assert env.step(1).is_first()


def test_action_repeat_argument_checks():
    with pytest.raises(ValueError, match="times"):
        ActionRepeat(counter(), times=0)


def test_flatten_observation_spec_and_values():
    env = FlattenObservation(NestedObs())
    spec = env.observation_spec()
    # tree order: "a" (its tuple: int32 (2, 2), bool ()), then "z".
    assert spec.shape == (7,) and spec.dtype == np.float32 and spec.name == "observation"
    np.testing.assert_array_equal(spec.minimum, [-np.inf] * 4 + [0, -1, -1])
    np.testing.assert_array_equal(spec.maximum, [np.inf] * 4 + [1, 1, 3])
    first = env.reset()
    assert first.observation.dtype == np.float32
    np.testing.assert_array_equal(first.observation, [0, 1, 2, 3, 0, 0.5, 0])
    np.testing.assert_array_equal(env.step(np.zeros(2, np.float32)).observation,
                                  [1, 2, 3, 4, 1, 0.5, 1])
    assert spec.check_array(first.observation)


def test_flatten_observation_unbounded_gives_array_spec_and_keeps_batch():
    class Plain(Counter):
        def observation_spec(self):
            return (ArraySpec((), np.int32), ArraySpec((2,), np.float32))

        def _reset(self):
            return ts.restart((np.int32(4), np.array([1.0, 2.0], np.float32)))

    env = FlattenObservation(BatchedPyEnvironment([Plain(3), Plain(3)]))
    assert env.observation_spec() == ArraySpec((3,), np.float32, name="observation")
    np.testing.assert_array_equal(env.reset().observation, [[4, 1, 2], [4, 1, 2]])


def test_flatten_observation_rejects_non_numeric_leaves():
    class Text(Counter):
        def observation_spec(self):
            return {"name": ArraySpec((), np.str_)}

    with pytest.raises(TypeError, match="'name'"):
        FlattenObservation(Text(3))


def test_action_clip_clips_floats_into_bounds():
    inner = NestedObs()
    env = ActionClip(inner)
    env.reset()
    env.step(np.array([-3.0, 2.5], np.float32))
    np.testing.assert_array_equal(inner.actions[-1], [-1.0, 2.0])
    assert inner.actions[-1].dtype == np.float32
    env.step(np.array([0.25, 1.0], np.float32))
    np.testing.assert_array_equal(inner.actions[-1], [0.25, 1.0])
    with pytest.raises(TypeError, match="dtype mismatch"):
        env.step(np.array([0.0, 0.0], np.float64))
    with pytest.raises(ValueError, match="nan"):
        env.step(np.array([np.nan, 0.0], np.float32))


def test_action_clip_still_checks_integer_bounds():
    env = ActionClip(counter())
    env.reset()
    with pytest.raises(ValueError, match=r"\[2\]"):
        env.step(2)


def test_wrapped_env_does_not_check_the_action_again():
    inner = counter(length=5)
    checks = []
    original = inner._validate_action
    inner._validate_action = lambda action: checks.append(action) or original(action)
    env = ActionRepeat(TimeLimit(inner, duration=4), times=2)
    env.reset()
    env.step(np.int64(1))
    env.step(np.int64(0))
    assert checks == [] and len(inner.actions) == 4
    with pytest.raises(ValueError, match=r"action at '<root>': value\(s\) \[2\] outside"):
        env.step(np.int64(2))  # the outermost wrapper checks


# -- TF-Agents' wrappers --------------------------------------------------------

from tfpolicy.environments import (  # noqa: E402
    ActionClipWrapper,
    ActionDiscretizeWrapper,
    ActionOffsetWrapper,
    FixedLength,
    FlattenObservationsWrapper,
    HistoryWrapper,
    ObservationFilterWrapper,
    OneHotActionWrapper,
    PerformanceProfiler,
    RunStats,
)


class Recorder(PyEnvironment):
    """Records actions; observation [t, 10 + t, 20 + t] (float32); ends after `length` steps."""

    def __init__(self, action_spec, length=10):
        super().__init__()
        self._action_spec = action_spec
        self.length = length
        self.actions = []

    def observation_spec(self):
        return BoundedArraySpec((3,), np.float32, [0.0, 10.0, 20.0], [50.0, 60.0, 70.0])

    def action_spec(self):
        return self._action_spec

    def _obs(self):
        t = float(self._t)
        return np.array([t, 10 + t, 20 + t], np.float32)

    def _reset(self):
        self._t = 0
        return ts.restart(self._obs())

    def _step(self, action):
        self.actions.append(action)
        self._t += 1
        if self._t == self.length:
            return ts.termination(self._obs(), 1.0)
        return ts.transition(self._obs(), 1.0, discount=0.5)


def test_action_discretize_wrapper_maps_to_linspace_per_element():
    inner = Recorder(BoundedArraySpec((2,), np.float32, [-1.0, 0.0], [1.0, 4.0], name="torque"))
    env = ActionDiscretizeWrapper(inner, num_actions=[3, 5])
    assert env.action_spec() == BoundedArraySpec((2,), np.int32, 0, [2, 4], name="torque")
    env.reset()
    env.step(np.array([0, 4], np.int32))
    env.step(np.array([1, 1], np.int32))
    np.testing.assert_allclose(inner.actions, [[-1.0, 4.0], [0.0, 1.0]])
    assert inner.actions[0].dtype == np.float32
    scalar = ActionDiscretizeWrapper(Recorder(BoundedArraySpec((1,), np.float32, -2, 2)), 5)
    assert scalar.action_spec() == BoundedArraySpec((), np.int32, 0, 4)
    scalar.reset()
    scalar.step(3)
    np.testing.assert_allclose(scalar.wrapped_env().actions, [[1.0]])
    with pytest.raises(ValueError, match=">= 2"):
        ActionDiscretizeWrapper(inner, num_actions=1)
    with pytest.raises(ValueError, match="finite"):
        ActionDiscretizeWrapper(Recorder(BoundedArraySpec((), np.float32)), 3)


def test_action_clip_wrapper_clips_integers_too():
    inner = Recorder({"f": BoundedArraySpec((), np.float32, -1, 1),
                      "i": BoundedArraySpec((), np.int64, 0, 3)})
    env = ActionClipWrapper(inner)
    env.reset()
    env.step({"f": np.float32(5.0), "i": np.int64(7)})
    assert float(inner.actions[0]["f"]) == 1.0 and int(inner.actions[0]["i"]) == 3
    with pytest.raises(ValueError, match="action at 'i'"):
        ActionClip(Recorder({"f": BoundedArraySpec((), np.float32, -1, 1),
                             "i": BoundedArraySpec((), np.int64, 0, 3)})).step(
            {"f": np.float32(0.0), "i": np.int64(7)})


def test_action_clip_wrapper_rejects_nan_naming_its_path():
    inner = Recorder({"f": BoundedArraySpec((2,), np.float32, -1, 1),
                      "i": BoundedArraySpec((), np.int64, 0, 3)})
    env = ActionClipWrapper(inner)
    env.reset()
    with pytest.raises(ValueError, match="action at 'f'.*nan"):
        env.step({"f": np.array([np.nan, 9.0], np.float32), "i": np.int64(1)})
    env.step({"f": np.array([-9.0, 0.5], np.float32), "i": np.int64(-4)})
    np.testing.assert_array_equal(inner.actions[-1]["f"], [-1.0, 0.5])
    assert int(inner.actions[-1]["i"]) == 0


def test_action_offset_wrapper_shifts_to_zero():
    inner = Recorder(BoundedArraySpec((), np.int32, -2, 2, name="a"))
    env = ActionOffsetWrapper(inner)
    assert env.action_spec() == BoundedArraySpec((), np.int32, 0, 4, name="a")
    env.reset()
    env.step(np.int32(0))
    env.step(np.int32(4))
    assert [int(a) for a in inner.actions] == [-2, 2]
    with pytest.raises(ValueError, match="integer"):
        ActionOffsetWrapper(Recorder(BoundedArraySpec((), np.float32, 0, 1)))


def test_one_hot_action_wrapper_takes_the_argmax_plus_minimum():
    inner = Recorder(BoundedArraySpec((), np.int64, 1, 3))
    env = OneHotActionWrapper(inner)
    assert env.action_spec() == BoundedArraySpec((3,), np.int64, 0, 1, name="one_hot_action_spec")
    env.reset()
    env.step(np.array([0, 0, 1], np.int64))
    assert int(inner.actions[0]) == 3
    with pytest.raises(ValueError, match="rank 0 or 1"):
        OneHotActionWrapper(Recorder(BoundedArraySpec((2, 2), np.int64, 0, 1)))


def test_flatten_observations_wrapper_keeps_dtype_and_filters_keys():
    class Dict3(Recorder):
        def observation_spec(self):
            return {"b": ArraySpec((2,), np.float64), "a": ArraySpec((), np.float64),
                    "c": ArraySpec((1,), np.float64)}

        def _obs(self):
            return {"b": np.array([1.0, 2.0]), "a": np.float64(3.0), "c": np.array([4.0])}

    env = FlattenObservationsWrapper(Dict3(BoundedArraySpec((), np.int32, 0, 1)))
    assert env.observation_spec() == ArraySpec((4,), np.float64, name="packed_observations")
    np.testing.assert_array_equal(env.reset().observation, [3.0, 1.0, 2.0, 4.0])
    kept = FlattenObservationsWrapper(Dict3(BoundedArraySpec((), np.int32, 0, 1)),
                                      observations_allowlist=["c", "b"])
    np.testing.assert_array_equal(kept.reset().observation, [1.0, 2.0, 4.0])
    with pytest.raises(ValueError, match=r"unknown keys \['z'\]"):
        FlattenObservationsWrapper(Dict3(BoundedArraySpec((), np.int32, 0, 1)),
                                   observations_whitelist=["z"])
    with pytest.raises(ValueError, match="share one dtype"):
        FlattenObservationsWrapper(NestedObs())


def test_observation_filter_wrapper_keeps_the_chosen_entries():
    env = ObservationFilterWrapper(Recorder(BoundedArraySpec((), np.int32, 0, 1)), [2, 0])
    assert env.observation_spec() == BoundedArraySpec((2,), np.float32, [20.0, 0.0], [70.0, 50.0])
    env.reset()
    np.testing.assert_array_equal(env.step(0).observation, [21.0, 1.0])
    with pytest.raises(ValueError, match="out of range"):
        ObservationFilterWrapper(Recorder(BoundedArraySpec((), np.int32, 0, 1)), [3])


def test_history_wrapper_stacks_observations_and_actions():
    inner = Recorder(BoundedArraySpec((), np.int32, 0, 5), length=10)
    env = HistoryWrapper(inner, history_length=3, include_actions=True)
    assert env.observation_spec()["observation"].shape == (3, 3)
    assert env.observation_spec()["action"].shape == (3,)
    first = env.reset()
    np.testing.assert_array_equal(first.observation["observation"][:, 0], [0, 0, 0])
    np.testing.assert_array_equal(first.observation["observation"][2], [0, 10, 20])
    env.step(4)
    step = env.step(5)
    np.testing.assert_array_equal(step.observation["observation"][:, 0], [0, 1, 2])
    np.testing.assert_array_equal(step.observation["action"], [0, 4, 5])
    tiled = HistoryWrapper(Recorder(BoundedArraySpec((), np.int32, 0, 5)), history_length=2,
                           tile_first_step_obs=True)
    np.testing.assert_array_equal(tiled.reset().observation, [[0, 10, 20], [0, 10, 20]])


def test_fixed_length_pads_short_and_cuts_long_episodes():
    env = FixedLength(Recorder(BoundedArraySpec((), np.int32, 0, 1), length=2), fix_length=4)
    steps = [env.reset()] + [env.step(0) for _ in range(5)]
    assert [int(t.step_type) for t in steps] == [0, 1, 2, 2, 2, 0]
    assert [float(t.discount) for t in steps[1:5]] == [0.5, 0.0, 0.0, 0.0]
    assert [float(t.reward) for t in steps[1:5]] == [1.0, 1.0, 0.0, 0.0]
    long = FixedLength(Recorder(BoundedArraySpec((), np.int32, 0, 1), length=10), fix_length=2)
    steps = [long.reset()] + [long.step(0) for _ in range(3)]
    assert [int(t.step_type) for t in steps] == [0, 1, 2, 0]
    assert float(steps[2].discount) == 0.5


def test_run_stats_counts_episodes_resets_and_steps():
    env = RunStats(Recorder(BoundedArraySpec((), np.int32, 0, 1), length=2))
    env.reset()
    for _ in range(4):  # MID, LAST, FIRST (auto-reset), MID
        env.step(0)
    assert (env.episodes, env.resets, env.total_steps, env.episode_steps) == (1, 2, 3, 1)


def test_performance_profiler_hands_over_a_profile_every_n_steps():
    profiles = []
    env = PerformanceProfiler(Recorder(BoundedArraySpec((), np.int32, 0, 1)), profiles.append, 2)
    env.reset()
    for _ in range(5):
        env.step(0)
    assert len(profiles) == 2 and profiles[0] is not profiles[1]


def test_base_wrapper_forwards_optional_capabilities():
    class Stateful(Recorder):
        def get_state(self):
            return self._t

        def set_state(self, state):
            self._t = state

    env = RunStats(Stateful(BoundedArraySpec((), np.int32, 0, 1)))
    env.reset()
    env.set_state(7)
    assert env.get_state() == 7 and env.discount_spec().maximum == 1.0
    with pytest.raises(AttributeError, match="render"):
        env.render()
