"""Tests of `PyDriver`: hand-checked episodes, limits, resumption, state, observers, errors."""

import numpy as np
import pytest

from env_toys import Counter
from specs import ArraySpec, BoundedArraySpec
from tfpolicy.drivers import PyDriver
from tfpolicy.environments import BatchedPyEnvironment
from tfpolicy.policies import PyPolicy, RandomPyPolicy
from tfpolicy.replay import UniformReplayBuffer
from tfpolicy.trajectories import PolicyStep

FIRST, MID, LAST = 0, 1, 2


def counter(length):
    """Observation = steps taken (a scalar); reward = action + 1; terminates after `length` steps."""
    return Counter(length, observation="scalar")


class CountingPolicy(PyPolicy):
    """Action = observation % 2; the state counts the calls made so far."""

    def __init__(self, env):
        super().__init__(env.time_step_spec(), env.action_spec(),
                         policy_state_spec=ArraySpec((), np.int64, name="calls"))

    def _action(self, time_step, policy_state):
        action = (np.asarray(time_step.observation) % 2).astype(np.int64)
        return PolicyStep(action, policy_state + 1)


def _rows(observer_rows, field):
    return [np.asarray(getattr(row, field)).tolist() for row in observer_rows]


def test_unbatched_episode_rows_are_hand_checked():
    env = counter(3)
    rows = []
    driver = PyDriver(env, CountingPolicy(env), observers=[rows.append], max_episodes=1)
    time_step, state = driver.run()
    # FIRST->MID, MID->MID, MID->LAST, then the boundary LAST->FIRST ends the episode.
    assert _rows(rows, "step_type") == [FIRST, MID, MID, LAST]
    assert _rows(rows, "next_step_type") == [MID, MID, LAST, FIRST]
    assert _rows(rows, "observation") == [0, 1, 2, 3]
    assert _rows(rows, "action") == [0, 1, 0, 1]
    assert _rows(rows, "reward") == [1.0, 2.0, 1.0, 0.0]
    np.testing.assert_allclose(_rows(rows, "discount"), [0.9, 0.9, 0.0, 1.0])
    assert int(time_step.step_type) == FIRST
    assert int(state) == 4


def test_end_episode_on_last_step_stops_before_the_boundary():
    env = counter(3)
    rows = []
    driver = PyDriver(env, CountingPolicy(env), [rows.append], max_episodes=1,
                      end_episode_on_boundary=False)
    time_step, _ = driver.run()
    assert _rows(rows, "next_step_type") == [MID, MID, LAST]
    assert int(time_step.step_type) == LAST


def test_max_steps_excludes_boundaries_and_runs_resume():
    env = counter(2)
    policy = CountingPolicy(env)
    rows = []
    driver = PyDriver(env, policy, [rows.append], max_steps=3)
    time_step, state = driver.run()
    # Steps: F->M, M->L, (boundary L->F not counted), F->M.
    assert _rows(rows, "step_type") == [FIRST, MID, LAST, FIRST]
    assert int(state) == 4
    time_step, state = driver.run(time_step, state)
    assert _rows(rows, "step_type")[4:] == [MID, LAST, FIRST, MID]
    assert _rows(rows, "observation")[4:] == [1, 2, 0, 1]
    assert int(state) == 8


def test_run_without_arguments_continues_from_the_env_current_step():
    env = counter(5)
    rows = []
    driver = PyDriver(env, CountingPolicy(env), [rows.append], max_steps=2)
    driver.run()
    driver.run()
    # The second run starts from env.current_time_step(), so the episode goes on.
    assert _rows(rows, "observation") == [0, 1, 2, 3]


def test_both_limits_stop_at_whichever_comes_first():
    env = counter(10)
    driver = PyDriver(env, CountingPolicy(env), [], max_steps=4, max_episodes=1)
    _, state = driver.run()
    assert int(state) == 4
    env = counter(1)
    driver = PyDriver(env, CountingPolicy(env), [], max_steps=100, max_episodes=2)
    _, state = driver.run()
    assert int(state) == 4  # F->L, boundary, F->L, boundary


def test_zero_limit_takes_no_step():
    env = counter(3)
    rows = []
    time_step, _ = PyDriver(env, CountingPolicy(env), [rows.append], max_steps=0).run()
    assert rows == [] and int(time_step.step_type) == FIRST


def test_batched_counts_every_entry_and_resets_per_entry():
    env = BatchedPyEnvironment([counter(1), counter(3)])
    rows = []
    driver = PyDriver(env, CountingPolicy(env), [rows.append], max_episodes=3)
    _, state = driver.run()
    step_types = _rows(rows, "step_type")
    assert step_types == [[FIRST, FIRST], [LAST, MID], [FIRST, MID], [LAST, LAST]]
    # Episodes end on boundaries: entry 0 at rows 1 and 3, entry 1 at row 3 -> 3.
    assert _rows(rows, "next_step_type")[-1] == [FIRST, FIRST]
    np.testing.assert_array_equal(state, [4, 4])


def test_batched_max_steps_sums_over_the_batch():
    env = BatchedPyEnvironment([counter(5), counter(5), counter(5)])
    rows = []
    PyDriver(env, CountingPolicy(env), [rows.append], max_steps=7).run()
    assert len(rows) == 3  # 3 steps per call: 6 < 7 after two calls, 9 after three


def test_transition_observers_see_the_policy_step_before_observers():
    env = counter(2)
    calls = []
    driver = PyDriver(env, CountingPolicy(env), [lambda row: calls.append("trajectory")],
                      transition_observers=[lambda t: calls.append(t)], max_steps=1)
    driver.run()
    time_step, policy_step, next_time_step = calls[0]
    assert int(time_step.step_type) == FIRST and int(next_time_step.step_type) == MID
    assert int(policy_step.state) == 1
    assert calls[1] == "trajectory"


def test_info_observers_get_the_env_info_after_each_step_after_observers():
    env = counter(3)
    calls = []
    env.get_info = lambda: {"t": len([c for c in calls if c == "trajectory"])}
    driver = PyDriver(env, CountingPolicy(env), [lambda row: calls.append("trajectory")],
                      info_observers=[calls.append], max_steps=2)
    assert driver.info_observers == (calls.append,)
    driver.run()
    assert calls == ["trajectory", {"t": 1}, "trajectory", {"t": 2}]


def test_info_observers_must_be_callable():
    env = counter(2)
    with pytest.raises(TypeError, match=r"PyDriver: info_observers\[0\] must be callable, got int"):
        PyDriver(env, CountingPolicy(env), [], info_observers=[3], max_steps=1)


def test_observer_exception_propagates():
    env = counter(2)

    def broken(row):
        raise RuntimeError("observer failed")

    with pytest.raises(RuntimeError, match="observer failed"):
        PyDriver(env, CountingPolicy(env), [broken], max_steps=1).run()


def test_replay_add_batch_is_an_observer_for_unbatched_envs():
    env = counter(2)
    policy = CountingPolicy(env)
    buffer = UniformReplayBuffer(policy.collect_data_spec, capacity=10)
    PyDriver(env, policy, [buffer.add_batch], max_episodes=2).run()
    stored = buffer.gather_all()
    np.testing.assert_array_equal(stored.step_type.numpy(), [[FIRST, MID, LAST, FIRST, MID, LAST]])
    np.testing.assert_array_equal(stored.observation.numpy(), [[0, 1, 2, 0, 1, 2]])
    np.testing.assert_allclose(stored.discount.numpy(), [[0.9, 0.0, 1.0, 0.9, 0.0, 1.0]])


def test_replay_add_batch_is_an_observer_for_batched_envs():
    env = BatchedPyEnvironment([counter(1), counter(2)])
    policy = CountingPolicy(env)
    buffer = UniformReplayBuffer(policy.collect_data_spec, capacity=10, batch_size=2)
    PyDriver(env, policy, [buffer.add_batch], max_steps=4).run()
    stored = buffer.gather_all()
    np.testing.assert_array_equal(stored.step_type.numpy(),
                                  [[FIRST, LAST, FIRST], [FIRST, MID, LAST]])


def test_limits_and_observers_are_validated():
    env = counter(2)
    policy = CountingPolicy(env)
    with pytest.raises(ValueError, match="max_steps, max_episodes or both"):
        PyDriver(env, policy, [])
    with pytest.raises(ValueError, match="max_steps must be a non-negative integer"):
        PyDriver(env, policy, [], max_steps=-1)
    with pytest.raises(ValueError, match="max_episodes must be a non-negative integer"):
        PyDriver(env, policy, [], max_episodes=1.5)
    with pytest.raises(TypeError, match=r"observers\[1\] must be callable"):
        PyDriver(env, policy, [print, "not callable"], max_steps=1)
    with pytest.raises(TypeError, match="wrap a TFPolicy in PyTFEagerPolicy"):
        PyDriver(env, object(), [], max_steps=1)


def test_policy_and_env_specs_must_agree():
    env = counter(2)
    other = RandomPyPolicy(env.time_step_spec(), BoundedArraySpec((), np.int32, 0, 3))
    with pytest.raises(ValueError) as error:
        PyDriver(env, other, [], max_steps=1)
    message = str(error.value)
    assert "action_spec" in message and "int32" in message and "int64" in message


def test_bad_action_from_policy_names_the_path():
    env = counter(2)

    class OutOfRange(CountingPolicy):
        def _action(self, time_step, policy_state):
            return PolicyStep(np.int64(3), policy_state + 1)

    env = counter(2)
    bounded = OutOfRange(env)
    # The policy's spec allows 0..3 like the env; make the env stricter.
    env.action_spec = lambda: BoundedArraySpec((), np.int64, 0, 1, name="action")
    with pytest.raises(ValueError, match=r"action at '<root>'.*\[3\].*outside"):
        PyDriver(env, bounded, [], max_steps=2).run()


def test_random_policy_on_cartpole_collects_complete_episodes():
    from tfpolicy.environments import load

    env = load("CartPole-v1", seed=0)
    policy = RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
    rows = []
    PyDriver(env, policy, [rows.append], max_episodes=3).run()
    step_types = np.array(_rows(rows, "step_type"))
    next_types = np.array(_rows(rows, "next_step_type"))
    assert (step_types == FIRST).sum() == 3 and (next_types == LAST).sum() == 3
    assert next_types[-1] == FIRST
    rewards = np.array(_rows(rows, "reward"))
    assert rewards[step_types != LAST].min() == 1.0
    assert rewards[step_types == LAST].max() == 0.0
