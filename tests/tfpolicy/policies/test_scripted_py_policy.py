"""Tests of ScriptedPyPolicy: playback, skipped entries, the end of the script, batches, errors."""

import numpy as np
import pytest

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.drivers import PyDriver
from tfpolicy.environments import PyEnvironment
from tfpolicy.policies.scripted_py_policy import ScriptedPyPolicy
from tfpolicy.trajectories import time_step as ts

OBS = ArraySpec((), np.int32, name="obs")
TIME_STEP_SPEC = ts.time_step_spec(OBS)
PAIR_SPEC = [BoundedArraySpec((2, 2), np.int32, -10, 10),
             BoundedArraySpec((1, 2), np.int32, -10, 10)]
SCALAR_SPEC = BoundedArraySpec((), np.int32, 0, 9)


def _play(policy, steps, batch=None):
    time_step = ts.restart(np.zeros(() if batch is None else (batch,), np.int32), batch_size=batch)
    state, actions = policy.get_initial_state(batch), []
    for _ in range(steps):
        step = policy.action(time_step, state)
        actions.append(step.action)
        state = step.state
    return actions, state


def test_follows_script_and_skips_disabled_entries():
    script = [(1, [[[5, 2], [1, 3]], [[4, 6]]]),
              (0, [[[0, 0], [0, 0]], [[0, 0]]]),
              (2, [np.array([[1, 2], [3, 4]], np.int32), np.array([[5, 6]], np.int32)])]
    actions, state = _play(ScriptedPyPolicy(TIME_STEP_SPEC, PAIR_SPEC, script), 3)
    assert [a[0].tolist() for a in actions] == [[[5, 2], [1, 3]], [[1, 2], [3, 4]],
                                                [[1, 2], [3, 4]]]
    assert [a[1].tolist() for a in actions] == [[[4, 6]], [[5, 6]], [[5, 6]]]
    assert all(a[0].dtype == np.int32 for a in actions)
    assert [int(x) for x in state] == [2, 2]


def test_state_tracks_entry_and_repeats():
    policy = ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(2, 1), (-1, 8), (1, 3)])
    states = []
    state = policy.get_initial_state()
    for _ in range(3):
        step = policy.action(ts.restart(np.int32(0)), state)
        state = step.state
        states.append((int(step.action), int(state[0]), int(state[1])))
    assert states == [(1, 0, 1), (1, 0, 2), (3, 2, 1)]
    assert [int(x) for x in policy.get_initial_state()] == [0, 0]


def test_script_running_out_raises():
    policy = ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(1, 4), (2, 5)])
    actions, state = _play(policy, 3)
    assert [int(a) for a in actions] == [4, 5, 5]
    with pytest.raises(ValueError, match=r"longer than the action script \(2 entries, 3 steps\)"):
        policy.action(ts.restart(np.int32(0)), state)


def test_empty_script_raises_on_the_first_action():
    policy = ScriptedPyPolicy(TIME_STEP_SPEC, [], [])
    with pytest.raises(ValueError, match="longer than the action script"):
        policy.action(ts.restart(np.int32(0)), policy.get_initial_state())


def test_missing_state_starts_from_the_beginning():
    policy = ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(1, 4), (1, 5)])
    assert int(policy.action(ts.restart(np.int32(0))).action) == 4
    assert int(policy.action(ts.restart(np.int32(0)), None).action) == 4


def test_batched_time_steps_get_one_action_per_entry():
    policy = ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(1, 4), (1, 5)])
    actions, state = _play(policy, 2, batch=3)
    assert [a.tolist() for a in actions] == [[4, 4, 4], [5, 5, 5]]
    assert state[0].tolist() == [1, 1, 1] and state[1].tolist() == [1, 1, 1]
    time_step = ts.restart(np.zeros((2,), np.int32), batch_size=2)
    mixed = [np.array([0, 1], np.int64), np.array([1, 0], np.int64)]  # entries at different places
    assert policy.action(time_step, mixed).action.tolist() == [5, 5]


def test_none_time_step_spec_is_accepted():
    policy = ScriptedPyPolicy(None, SCALAR_SPEC, [(1, 7)])
    assert int(policy.action(ts.restart(np.float32(3.0)), policy.get_initial_state()).action) == 7


def test_returned_actions_do_not_alias_the_script():
    policy = ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(2, 4)])
    step = policy.action(ts.restart(np.int32(0)))
    step.action[...] = 9
    assert int(policy.action(ts.restart(np.int32(0)), step.state).action) == 4


def test_action_out_of_bounds_names_the_entry():
    script = [(1, [[[5, 2], [1, 3]], [[4, 6]]]), (2, [[[15, 2], [1, 3]], [[4, 6]]])]
    with pytest.raises(ValueError, match=r"action_script\[1\]: the action at '0' does not match"
                                         r".*maximum=10"):
        ScriptedPyPolicy(TIME_STEP_SPEC, PAIR_SPEC, script)


def test_action_of_wrong_structure_names_the_entry():
    with pytest.raises(ValueError, match=r"action_script\[0\]: the action does not have the "
                                         r"action spec's structure"):
        ScriptedPyPolicy(TIME_STEP_SPEC, PAIR_SPEC, [(1, [[[5, 2], [1, 3]]])])


def test_action_of_wrong_shape_names_the_entry():
    with pytest.raises(ValueError, match=r"action_script\[0\]: the action at '1'.*shape \(2,\)"):
        ScriptedPyPolicy(TIME_STEP_SPEC, PAIR_SPEC, [(1, [[[5, 2], [1, 3]], [4, 6]])])


def test_lossy_action_conversion_is_rejected():
    with pytest.raises(ValueError, match=r"action_script\[0\]: the action \(2.5\) cannot be "
                                         r"represented as int32 without loss"):
        ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(1, 2.5)])
    assert int(ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(1, 2.0)])
               .action(ts.restart(np.int32(0))).action) == 2


def test_malformed_entries_are_rejected():
    with pytest.raises(ValueError, match=r"action_script\[1\]: expected a \(num_repeats, "
                                         r"action\) pair, got \(1, 2, 3\)"):
        ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match=r"action_script\[0\]: num_repeats must be an integer.*"
                                        r"float: 1.0"):
        ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, [(1.0, 2)])
    with pytest.raises(TypeError, match="action_script must be a list of"):
        ScriptedPyPolicy(TIME_STEP_SPEC, SCALAR_SPEC, 5)


class Counter(PyEnvironment):
    """Three-step episodes; the reward is the action taken."""

    def observation_spec(self):
        return OBS

    def action_spec(self):
        return SCALAR_SPEC

    def _reset(self):
        self.t = 0
        return ts.restart(np.int32(0))

    def _step(self, action):
        self.t += 1
        if self.t == 3:
            return ts.termination(np.int32(self.t), np.float32(action))
        return ts.transition(np.int32(self.t), np.float32(action))


def test_runs_in_a_py_driver():
    env = Counter()
    # The driver also acts on the LAST step (the boundary row ends the episode), so a
    # three-step episode takes four scripted actions.
    policy = ScriptedPyPolicy(env.time_step_spec(), env.action_spec(), [(2, 3), (2, 7)])
    rows = []
    PyDriver(env, policy, [rows.append], max_episodes=1).run()
    assert [int(r.action) for r in rows] == [3, 3, 7, 7]
    assert [float(r.reward) for r in rows[:3]] == [3.0, 3.0, 7.0]
