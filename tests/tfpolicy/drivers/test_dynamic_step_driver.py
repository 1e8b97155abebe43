"""Tests of `DynamicStepDriver` and `numpy_observer`: counting, hand-checked rows, resumption,
policy state, observers (TF, numpy, replay buffer), errors and a CartPole smoke run.

The batched world: entry 0 is an episode of 2 steps, entry 1 one of 3 steps. The policy's
state counts the steps since the entry's FIRST step (the TFPolicy base resets it there); its
info is that count and its action the count mod 4, so reward = action + 1 = info + 1. From a
reset, the first five loop turns give (rows of [entry 0, entry 1]):

    turn  step_type  next_step_type  info/obs count  reward  discount   non-boundary steps
    1     [F, F]     [M, M]          [0, 0]/[0, 0]   [1, 1]  [.9, .9]   2
    2     [M, M]     [L, M]          [1, 1]/[1, 1]   [2, 2]  [0, .9]    2
    3     [L, M]     [F, L]          [2, 2]/[2, 2]   [0, 3]  [1, 0]     1
    4     [F, L]     [M, F]          [0, 3]/[0, 3]   [1, 0]  [.9, 1]    1
    5     [M, F]     [L, M]          [1, 0]/[1, 0]   [2, 1]  [0, .9]    2
"""

import numpy as np
import pytest
import tensorflow as tf

from env_toys import Counter
from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.drivers import DynamicStepDriver, numpy_observer
from tfpolicy.environments import BatchedPyEnvironment, load
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.metrics import py_metrics
from tfpolicy.policies import RandomTFPolicy, TFPolicy
from tfpolicy.replay import UniformReplayBuffer
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

F, M, L = 0, 1, 2
STEP_TYPE = [[F, F], [M, M], [L, M], [F, L], [M, F]]
NEXT_STEP_TYPE = [[M, M], [L, M], [F, L], [M, F], [L, M]]
INFO = [[0, 0], [1, 1], [2, 2], [0, 3], [1, 0]]
REWARD = [[1, 1], [2, 2], [0, 3], [1, 0], [2, 1]]
DISCOUNT = [[0.9, 0.9], [0, 0.9], [1, 0], [0.9, 1], [0, 0.9]]


class StepCountPolicy(TFPolicy):
    """State: steps since FIRST (reset there by the base); info = state; action = state mod 4."""

    def __init__(self, time_step_spec, action_spec, offset=0):
        super().__init__(time_step_spec, action_spec,
                         policy_state_spec=TensorSpec([], tf.int32, "count"),
                         info_spec=TensorSpec([], tf.int32, "count"))
        self._offset = offset

    def _action(self, time_step, policy_state, seed):
        action = tf.cast(policy_state % 4 + self._offset, tf.int64)
        return PolicyStep(action, policy_state + 1, policy_state)


def make(num_steps, offset=0, more_observers=()):
    """The batched world's driver, recording every trajectory (as numpy) in `rows`."""
    envs = [Counter(2), Counter(3)]
    env = TFPyEnvironment(BatchedPyEnvironment(envs))
    rows = []
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec(), offset)
    observers = [numpy_observer(rows.append)] + list(more_observers)
    driver = DynamicStepDriver(env, policy, observers=observers, num_steps=num_steps)
    return driver, rows, envs


def column(rows, field):
    return np.array([np.asarray(getattr(r, field)) for r in rows])


@pytest.mark.parametrize("num_steps, turns", [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 4)])
def test_counts_non_boundary_steps_summed_over_the_batch(num_steps, turns):
    driver, rows, envs = make(num_steps=num_steps)
    driver.run()
    assert len(rows) == turns


def test_trajectories_match_the_hand_checked_table():
    driver, rows, envs = make(num_steps=8)
    time_step, policy_state = driver.run()
    assert len(rows) == 5
    assert all(isinstance(r, Trajectory) for r in rows)
    np.testing.assert_array_equal(column(rows, "step_type"), STEP_TYPE)
    np.testing.assert_array_equal(column(rows, "next_step_type"), NEXT_STEP_TYPE)
    np.testing.assert_array_equal(column(rows, "policy_info"), INFO)
    np.testing.assert_array_equal(column(rows, "action"), INFO)
    np.testing.assert_array_equal([r.observation["count"] for r in rows], INFO)
    np.testing.assert_array_equal(column(rows, "reward"), REWARD)
    np.testing.assert_allclose(column(rows, "discount"), np.array(DISCOUNT, np.float32))
    np.testing.assert_array_equal(time_step.step_type, [L, M])
    np.testing.assert_array_equal(time_step.observation["count"], [2, 1])
    np.testing.assert_array_equal(policy_state, [2, 1])
    # Entries only received actions on non-reset steps.
    assert envs[0].actions == [0, 1, 0, 1] and envs[1].actions == [0, 1, 2, 0]


def test_run_resumes_from_the_returned_time_step_and_state():
    driver, rows, envs = make(num_steps=2)
    time_step, policy_state = driver.run()
    assert len(rows) == 1
    time_step, policy_state = driver.run(time_step, policy_state)
    assert len(rows) == 2
    time_step, policy_state = driver.run(time_step, policy_state)
    # Turn 3 has one non-boundary step, so the third run needs turns 3 and 4.
    assert len(rows) == 4
    np.testing.assert_array_equal(column(rows, "step_type"), STEP_TYPE[:4])
    np.testing.assert_array_equal(column(rows, "policy_info"), INFO[:4])
    np.testing.assert_array_equal(column(rows, "reward"), REWARD[:4])
    np.testing.assert_array_equal(policy_state, [1, 4])
    np.testing.assert_array_equal(time_step.step_type, [M, F])


def test_run_without_arguments_continues_the_env_but_restarts_the_policy_state():
    driver, rows, envs = make(num_steps=2)
    driver.run()
    driver.run()
    np.testing.assert_array_equal(column(rows, "step_type"), [[F, F], [M, M]])
    np.testing.assert_array_equal(column(rows, "policy_info"), [[0, 0], [0, 0]])


def test_maximum_iterations_caps_the_loop():
    driver, rows, envs = make(num_steps=100)
    time_step, _ = driver.run(maximum_iterations=3)
    assert len(rows) == 3
    np.testing.assert_array_equal(time_step.step_type, [F, L])
    driver.run(maximum_iterations=0)
    assert len(rows) == 3


def test_transition_observers_get_the_transition_triple():
    env = TFPyEnvironment(Counter(3))
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec())
    seen = []
    driver = DynamicStepDriver(env, policy, transition_observers=[numpy_observer(seen.append)],
                               num_steps=2)
    driver.run()
    assert len(seen) == 2
    time_step, action_step, next_time_step = seen[1]
    assert isinstance(time_step, TimeStep) and isinstance(next_time_step, TimeStep)
    assert isinstance(action_step, PolicyStep)
    np.testing.assert_array_equal(time_step.step_type, [M])
    np.testing.assert_array_equal(action_step.action, [1])
    np.testing.assert_array_equal(action_step.state, [2])
    np.testing.assert_array_equal(next_time_step.reward, [2.0])
    np.testing.assert_array_equal(next_time_step.observation["pair"], [[2.0, -2.0]])


def test_replay_buffer_add_batch_as_observer():
    env = TFPyEnvironment(BatchedPyEnvironment([Counter(2), Counter(3)]))
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec())
    buffer = UniformReplayBuffer(policy.collect_data_spec, capacity=10, batch_size=2)
    driver = DynamicStepDriver(env, policy, observers=[buffer.add_batch], num_steps=8)
    driver.run()
    data = buffer.gather_all()
    assert int(buffer.num_frames()) == 10
    np.testing.assert_array_equal(data.step_type, np.transpose(STEP_TYPE))
    np.testing.assert_array_equal(data.next_step_type, np.transpose(NEXT_STEP_TYPE))
    np.testing.assert_array_equal(data.policy_info, np.transpose(INFO))
    np.testing.assert_array_equal(data.reward, np.transpose(REWARD))
    np.testing.assert_allclose(data.discount, np.transpose(np.array(DISCOUNT, np.float32)))
    np.testing.assert_array_equal(data.observation["pair"][0, :, 0], [0, 1, 2, 0, 1])


def test_tf_observers_run_every_step_python_ones_only_when_traced():
    driver_rows = []
    count = tf.Variable(0, dtype=tf.int32)
    traced = []

    def tf_observer(trajectory):
        return count.assign_add(tf.size(trajectory.step_type))

    env = TFPyEnvironment(BatchedPyEnvironment([Counter(2), Counter(3)]))
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec())
    driver = DynamicStepDriver(env, policy, observers=[tf_observer, traced.append,
                                                       numpy_observer(driver_rows.append)],
                               num_steps=4)
    time_step, policy_state = driver.run()
    driver.run(time_step, policy_state)
    assert int(count) == 2 * len(driver_rows) == 2 * 5
    # Two signatures (no time step, then a time step): the plain observer ran at trace time only.
    assert len(traced) == 2
    assert all(tf.is_symbolic_tensor(t.step_type) for t in traced)


def test_numpy_metrics_through_numpy_observer():
    steps, episodes = py_metrics.EnvironmentSteps(), py_metrics.NumberOfEpisodes()
    returns = py_metrics.AverageReturnMetric(batch_size=2)
    driver, rows, envs = make(num_steps=8, more_observers=[
        numpy_observer(m) for m in (steps, episodes, returns)])
    driver.run()
    assert int(steps.result()) == 8
    assert int(episodes.result()) == 3
    # Ended episodes: entry 0 (1 + 2, then 1 + 2), entry 1 (1 + 2 + 3).
    assert float(returns.result()) == pytest.approx((3 + 6 + 3) / 3)


def test_out_of_bounds_action_raises_the_environments_error():
    driver, rows, envs = make(num_steps=8, offset=2)  # actions 2, 3, 4: 4 is out of bounds
    with pytest.raises(ValueError, match=r"action at '<root>': value\(s\) \[4, 4\] outside the "
                                         r"bounds .*maximum=3"):
        driver.run()
    assert len(rows) == 2


def test_constructor_checks():
    env = TFPyEnvironment(Counter(2))
    policy = StepCountPolicy(env.time_step_spec(), env.action_spec())
    with pytest.raises(TypeError, match="policy must be a TFPolicy"):
        DynamicStepDriver(env, object())
    with pytest.raises(TypeError, match="env is a numpy PyEnvironment.*wrap it in TFPyEnvironment"):
        DynamicStepDriver(Counter(2), policy)
    with pytest.raises(TypeError, match="env must be a TFPyEnvironment.*int lacks .*reset, step"):
        DynamicStepDriver(3, policy)
    with pytest.raises(TypeError, match=r"observers\[1\] must be callable"):
        DynamicStepDriver(env, policy, observers=[print, 3])
    with pytest.raises(ValueError, match="num_steps must be a non-negative integer"):
        DynamicStepDriver(env, policy, num_steps=-1)
    other = StepCountPolicy(env.time_step_spec(), BoundedTensorSpec((), tf.int32, 0, 3))
    with pytest.raises(ValueError, match="action_spec at '<root>'.*int32.*int64"):
        DynamicStepDriver(env, other)
    with pytest.raises(ValueError, match="maximum_iterations must be a non-negative integer"):
        DynamicStepDriver(env, policy).run(maximum_iterations=-2)


def test_cartpole_smoke_with_random_policy():
    env = TFPyEnvironment(load("CartPole-v1", seed=0))
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec(), emit_log_probability=True)
    buffer = UniformReplayBuffer(policy.collect_data_spec, capacity=100, batch_size=1)
    steps = py_metrics.EnvironmentSteps()
    driver = DynamicStepDriver(env, policy, observers=[buffer.add_batch, numpy_observer(steps)],
                               num_steps=60)
    time_step, policy_state = driver.run()
    assert policy_state == ()
    assert int(steps.result()) == 60
    data = buffer.gather_all()
    assert data.observation.shape[0] == 1 and data.observation.shape[2:] == (4,)
    frames = int(buffer.num_frames())
    assert 60 <= frames <= 100  # boundaries add frames without steps
    assert set(np.unique(data.action.numpy())) <= {0, 1}
    np.testing.assert_allclose(data.policy_info.log_probability, np.log(0.5))
    # Every non-boundary CartPole step pays 1.
    rewards = data.reward.numpy()[data.step_type.numpy() != L]
    np.testing.assert_array_equal(rewards, 1.0)
