"""Tests of `TFDriver`: TF-Agents' step and episode limits, state, op-by-op runs and errors.

The batched world (as in test_dynamic_episode_driver): entry 0 is an episode of 2 steps,
entry 1 one of 3 steps; the policy's state counts the steps since the entry's FIRST step.
From a reset, per turn (step_type -> next_step_type):

    turn  step_type  next_step_type  steps so far  LAST steps so far
    1     [F, F]     [M, M]          2             0
    2     [M, M]     [L, M]          4             1
    3     [L, M]     [F, L]          5             2
    4     [F, L]     [M, F]          6             2
    5     [M, F]     [L, M]          8             3
"""

import pytest
import tensorflow as tf

from env_toys import Counter
from specs import TensorSpec
from tfpolicy.drivers import TFDriver, numpy_observer, tf_driver
from tfpolicy.environments import BatchedPyEnvironment
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.policies import TFPolicy
from tfpolicy.trajectories.policy_step import PolicyStep

F, M, L = 0, 1, 2


class StepCountPolicy(TFPolicy):
    """State: steps since FIRST (reset there by the base); info = state; action = state mod 4."""

    def __init__(self, time_step_spec, action_spec):
        super().__init__(time_step_spec, action_spec,
                         policy_state_spec=TensorSpec([], tf.int32, "count"),
                         info_spec=TensorSpec([], tf.int32, "count"))

    def _action(self, time_step, policy_state, seed):
        return PolicyStep(tf.cast(policy_state % 4, tf.int64), policy_state + 1, policy_state)


def make(**kwargs):
    env = TFPyEnvironment(BatchedPyEnvironment([Counter(2, observation="count"),
                                                Counter(3, observation="count")]))
    rows = []
    driver = TFDriver(env, StepCountPolicy(env.time_step_spec(), env.action_spec()),
                      observers=[numpy_observer(rows.append)], **kwargs)
    return env, driver, rows


def _step_types(rows):
    return [r.step_type.tolist() for r in rows]


def test_max_steps_stops_once_the_summed_steps_reach_it():
    env, driver, rows = make(max_steps=5)
    driver.run(env.reset())
    # 2, 4, 5 steps after turns 1-3: the third turn reaches 5.
    assert _step_types(rows) == [[F, F], [M, M], [L, M]]


def test_max_episodes_counts_transitions_into_last_steps():
    env, driver, rows = make(max_episodes=3)
    driver.run(env.reset())
    # LAST steps reached: 1 after turn 2, 2 after turn 3, 3 after turn 5.
    assert len(rows) == 5


def test_the_first_limit_reached_stops_the_run():
    env, driver, rows = make(max_steps=5, max_episodes=3)
    driver.run(env.reset())
    assert len(rows) == 3
    env, driver, rows = make(max_steps=100, max_episodes=1)
    driver.run(env.reset())
    assert len(rows) == 2


def test_runs_continue_with_the_returned_time_step_and_state():
    env, driver, rows = make(max_steps=4)
    time_step, state = driver.run(env.reset())
    assert state.numpy().tolist() == [2, 2]
    driver.run(time_step, state)
    assert _step_types(rows) == [[F, F], [M, M], [L, M], [F, L], [M, F]]
    assert [r.policy_info.tolist() for r in rows][2:] == [[2, 2], [0, 3], [1, 0]]


def test_an_empty_policy_state_starts_from_the_initial_state():
    env, driver, rows = make(max_steps=2)
    _, state = driver.run(env.reset(), ())
    assert state.numpy().tolist() == [1, 1]


def test_disable_tf_function_runs_python_observers_on_every_step():
    env, driver, _ = make(max_steps=4, disable_tf_function=True)
    seen = []
    driver = TFDriver(env, driver.policy, observers=[lambda t: seen.append(int(t.step_type[0]))],
                      max_steps=4, disable_tf_function=True)
    driver.run(env.reset())
    assert seen == [F, M]


def test_limits_are_checked():
    env, driver, _ = make(max_steps=1)
    with pytest.raises(ValueError, match=r"TFDriver: max_steps or max_episodes must be positive, "
                                         r"got max_steps=None and max_episodes=0"):
        TFDriver(env, driver.policy, [], max_episodes=0)
    with pytest.raises(ValueError, match="max_steps"):
        TFDriver(env, driver.policy, [], max_steps=-1)
    assert (driver.max_steps, driver.max_episodes) == (1, None)
    assert tf_driver.TFDriver is TFDriver
