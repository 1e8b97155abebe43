"""Random environments driven by random policies, the TF-Agents way, after changing the imports.

Import mapping exercised:

    tf_agents.environments.random_py_environment  -> tfpolicy.environments.random_py_environment
    tf_agents.environments.random_tf_environment  -> tfpolicy.environments.random_tf_environment
    tf_agents.environments.tf_py_environment      -> tfpolicy.environments.tf_py_environment
    tf_agents.drivers.py_driver                   -> tfpolicy.drivers.py_driver
    tf_agents.drivers.dynamic_step_driver         -> tfpolicy.drivers.dynamic_step_driver
    tf_agents.drivers.dynamic_episode_driver      -> tfpolicy.drivers.dynamic_episode_driver
    tf_agents.metrics.py_metrics                  -> tfpolicy.metrics.py_metrics
    tf_agents.policies.random_py_policy           -> tfpolicy.policies.random_py_policy
    tf_agents.policies.random_tf_policy           -> tfpolicy.policies.random_tf_policy
    tf_agents.specs.array_spec                    -> specs.array_spec
    tf_agents.specs.tensor_spec                   -> specs.tensor_spec
    tf_agents.trajectories.time_step              -> tfpolicy.trajectories.time_step

The environments end every episode after exactly three steps
(`min_duration=max_duration=3`), so step and episode counts can be worked out
by hand: an episode is FIRST, MID, MID, LAST, and the driver's step count
leaves out the LAST -> FIRST boundary transitions.
"""

import numpy as np
import tensorflow as tf

from specs import array_spec
from specs import tensor_spec
from tfpolicy.drivers import dynamic_episode_driver
from tfpolicy.drivers import dynamic_step_driver
from tfpolicy.drivers import py_driver
from tfpolicy.environments import random_py_environment
from tfpolicy.environments import random_tf_environment
from tfpolicy.environments import tf_py_environment
from tfpolicy.metrics import py_metrics
from tfpolicy.policies import random_py_policy
from tfpolicy.policies import random_tf_policy
from tfpolicy.trajectories import time_step as ts

OBSERVATION_SPEC = array_spec.BoundedArraySpec((2,), np.float32, minimum=-1.0, maximum=1.0)
ACTION_SPEC = array_spec.BoundedArraySpec((), np.int32, minimum=0, maximum=2)
EPISODE_LENGTH = 3


def reward_equal_to_action(step_type, action, observation):
    """Rewards the action's value, so the reward seen by observers can be checked."""
    del step_type, observation
    return np.asarray(action, np.float32)


def make_py_env(batch_size=None, seed=0):
    return random_py_environment.RandomPyEnvironment(
        OBSERVATION_SPEC, ACTION_SPEC,
        episode_end_probability=0.5,
        reward_fn=reward_equal_to_action,
        min_duration=EPISODE_LENGTH,
        max_duration=EPISODE_LENGTH,
        batch_size=batch_size,
        seed=seed)


class StepAndEpisodeCounter:
    """A plain Python observer, as TF-Agents drivers accept any callable."""

    def __init__(self):
        self.steps = 0
        self.episodes = 0
        self.trajectories = []

    def __call__(self, trajectory):
        self.trajectories.append(trajectory)
        self.steps += int(np.sum(~trajectory.is_boundary()))
        self.episodes += int(np.sum(trajectory.is_last()))


# ---- the Python environment on its own --------------------------------------------------------


def test_random_py_environment_episode_has_the_fixed_duration():
    env = make_py_env()

    step_types = [int(env.reset().step_type)]
    step_types += [int(env.step(np.int32(1)).step_type) for _ in range(4)]

    assert step_types == [ts.StepType.FIRST, ts.StepType.MID, ts.StepType.MID,
                          ts.StepType.LAST, ts.StepType.FIRST]


def test_random_py_environment_observations_follow_the_spec_and_rewards_the_reward_fn():
    env = make_py_env()
    env.reset()

    time_step = env.step(np.int32(2))

    assert time_step.observation.shape == (2,)
    assert time_step.observation.dtype == np.float32
    assert (np.abs(time_step.observation) <= 1.0).all()
    assert float(time_step.reward) == 2.0
    assert env.time_step_spec().observation == OBSERVATION_SPEC
    assert env.action_spec() == ACTION_SPEC


def test_random_py_environment_same_seed_same_observations():
    first, second = make_py_env(seed=5), make_py_env(seed=5)

    np.testing.assert_array_equal(first.reset().observation, second.reset().observation)
    np.testing.assert_array_equal(first.step(np.int32(0)).observation,
                                  second.step(np.int32(0)).observation)


def test_batched_random_py_environment():
    env = make_py_env(batch_size=4)

    time_step = env.reset()
    next_time_step = env.step(np.array([0, 1, 2, 1], np.int32))

    assert env.batched and env.batch_size == 4
    assert time_step.observation.shape == (4, 2)
    assert time_step.step_type.tolist() == [ts.StepType.FIRST] * 4
    np.testing.assert_array_equal(next_time_step.reward, [0.0, 1.0, 2.0, 1.0])


# ---- PyDriver with RandomPyPolicy -------------------------------------------------------------


def test_py_driver_max_steps_counts_steps_and_episodes():
    env = make_py_env()
    policy = random_py_policy.RandomPyPolicy(time_step_spec=env.time_step_spec(),
                                             action_spec=env.action_spec(), seed=1)
    counter = StepAndEpisodeCounter()
    driver = py_driver.PyDriver(env, policy, observers=[counter], max_steps=9)

    final_time_step, _ = driver.run(env.reset())

    # 9 steps = 3 whole episodes; the observers also saw the 2 boundaries between them.
    assert counter.steps == 9
    assert counter.episodes == 3
    assert len(counter.trajectories) == 11
    assert int(final_time_step.step_type) == ts.StepType.LAST


def test_py_driver_feeds_py_metrics():
    env = make_py_env()
    policy = random_py_policy.RandomPyPolicy(time_step_spec=env.time_step_spec(),
                                             action_spec=env.action_spec(), seed=2)
    num_episodes = py_metrics.NumberOfEpisodes()
    env_steps = py_metrics.EnvironmentSteps()
    average_length = py_metrics.AverageEpisodeLengthMetric()
    average_return = py_metrics.AverageReturnMetric()
    counter = StepAndEpisodeCounter()
    driver = py_driver.PyDriver(
        env, policy,
        observers=[num_episodes, env_steps, average_length, average_return, counter],
        max_episodes=4)

    driver.run(env.reset())

    assert num_episodes.result() == 4
    assert env_steps.result() == 4 * EPISODE_LENGTH
    assert average_length.result() == EPISODE_LENGTH
    # The reward of a step is its action, so the average return is the actions' sum / 4.
    total_reward = sum(float(t.reward) for t in counter.trajectories if not t.is_boundary())
    assert average_return.result() == np.float32(total_reward / 4)


def test_py_driver_trajectories_carry_the_reward_of_their_action():
    env = make_py_env()
    policy = random_py_policy.RandomPyPolicy(time_step_spec=env.time_step_spec(),
                                             action_spec=env.action_spec(), seed=3)
    counter = StepAndEpisodeCounter()
    driver = py_driver.PyDriver(env, policy, observers=[counter], max_steps=30)

    driver.run(env.reset())

    actions = []
    for trajectory in counter.trajectories:
        assert 0 <= int(trajectory.action) <= 2
        if not trajectory.is_boundary():
            assert float(trajectory.reward) == float(trajectory.action)
            actions.append(int(trajectory.action))
    assert set(actions) == {0, 1, 2}


def test_py_driver_continues_episodes_across_runs():
    env = make_py_env()
    policy = random_py_policy.RandomPyPolicy(time_step_spec=env.time_step_spec(),
                                             action_spec=env.action_spec(), seed=4)
    counter = StepAndEpisodeCounter()
    driver = py_driver.PyDriver(env, policy, observers=[counter], max_steps=2)

    time_step, policy_state = driver.run(env.reset())
    assert int(time_step.step_type) == ts.StepType.MID
    time_step, policy_state = driver.run(time_step, policy_state)

    # 4 steps: FIRST->MID, MID->MID, MID->LAST, (boundary), FIRST->MID.
    assert counter.steps == 4
    assert counter.episodes == 1
    assert int(time_step.step_type) == ts.StepType.MID


def test_py_driver_on_a_batched_environment_counts_every_entry():
    env = make_py_env(batch_size=2)
    policy = random_py_policy.RandomPyPolicy(time_step_spec=env.time_step_spec(),
                                             action_spec=env.action_spec(), seed=5)
    counter = StepAndEpisodeCounter()
    driver = py_driver.PyDriver(env, policy, observers=[counter], max_steps=6)

    driver.run(env.reset())

    # Each loop turn steps both entries: 3 turns make 6 steps and end 2 episodes.
    assert counter.steps == 6
    assert counter.episodes == 2
    assert counter.trajectories[0].action.shape == (2,)


# ---- TFPyEnvironment with the dynamic drivers -------------------------------------------------


class TFCounters:
    """Observers for the compiled drivers, written with TF ops on variables."""

    def __init__(self):
        self.steps = tf.Variable(0, dtype=tf.int32)
        self.episodes = tf.Variable(0, dtype=tf.int32)
        self.reward = tf.Variable(0.0)

    def count(self, trajectory):
        is_step = tf.logical_not(trajectory.is_boundary())
        self.steps.assign_add(tf.reduce_sum(tf.cast(is_step, tf.int32)))
        self.episodes.assign_add(tf.reduce_sum(tf.cast(trajectory.is_last(), tf.int32)))
        self.reward.assign_add(tf.reduce_sum(tf.where(is_step, trajectory.reward, 0.0)))


def test_tf_py_environment_specs_and_batch():
    tf_env = tf_py_environment.TFPyEnvironment(make_py_env())

    assert tf_env.batch_size == 1
    assert tf_env.observation_spec() == tensor_spec.from_spec(OBSERVATION_SPEC)
    assert tf_env.action_spec().dtype == tf.int32
    time_step = tf_env.reset()
    assert time_step.observation.shape == [1, 2]
    assert time_step.step_type.numpy().tolist() == [ts.StepType.FIRST]


def test_dynamic_step_driver_with_random_tf_policy():
    tf_env = tf_py_environment.TFPyEnvironment(make_py_env())
    policy = random_tf_policy.RandomTFPolicy(tf_env.time_step_spec(), tf_env.action_spec())
    counters = TFCounters()
    driver = dynamic_step_driver.DynamicStepDriver(
        tf_env, policy, observers=[counters.count], num_steps=6)

    time_step, _ = driver.run()

    assert int(counters.steps) == 6
    assert int(counters.episodes) == 2
    assert time_step.step_type.numpy().tolist() == [ts.StepType.LAST]
    # The environment's reward is the action, so the rewards are 0, 1 or 2 each.
    assert 0.0 <= float(counters.reward) <= 12.0


def test_dynamic_step_driver_runs_continue_where_they_stopped():
    tf_env = tf_py_environment.TFPyEnvironment(make_py_env())
    policy = random_tf_policy.RandomTFPolicy(tf_env.time_step_spec(), tf_env.action_spec())
    counters = TFCounters()
    driver = dynamic_step_driver.DynamicStepDriver(
        tf_env, policy, observers=[counters.count], num_steps=2)

    time_step, policy_state = driver.run(tf_env.reset())
    time_step, policy_state = driver.run(time_step, policy_state)

    assert int(counters.steps) == 4
    assert int(counters.episodes) == 1


def test_dynamic_episode_driver_with_random_tf_policy():
    tf_env = tf_py_environment.TFPyEnvironment(make_py_env())
    policy = random_tf_policy.RandomTFPolicy(tf_env.time_step_spec(), tf_env.action_spec())
    counters = TFCounters()
    driver = dynamic_episode_driver.DynamicEpisodeDriver(
        tf_env, policy, observers=[counters.count], num_episodes=2)

    driver.run()

    assert int(counters.episodes) == 2
    assert int(counters.steps) == 2 * EPISODE_LENGTH


def test_dynamic_episode_driver_on_a_batched_environment():
    tf_env = tf_py_environment.TFPyEnvironment(make_py_env(batch_size=2))
    policy = random_tf_policy.RandomTFPolicy(tf_env.time_step_spec(), tf_env.action_spec())
    counters = TFCounters()
    driver = dynamic_episode_driver.DynamicEpisodeDriver(
        tf_env, policy, observers=[counters.count], num_episodes=4)

    driver.run()

    assert tf_env.batch_size == 2
    assert int(counters.episodes) == 4
    assert int(counters.steps) == 4 * EPISODE_LENGTH


# ---- RandomTFEnvironment ----------------------------------------------------------------------


def test_random_tf_environment_with_dynamic_step_driver():
    time_step_spec = ts.time_step_spec(tensor_spec.TensorSpec([3], tf.float32))
    action_spec = tensor_spec.BoundedTensorSpec([], tf.int64, 0, 1)
    # Every step ends the episode: FIRST -> LAST, then LAST -> FIRST (a boundary).
    tf_env = random_tf_environment.RandomTFEnvironment(
        time_step_spec, action_spec, batch_size=2, episode_end_probability=1.0)
    policy = random_tf_policy.RandomTFPolicy(time_step_spec, action_spec)
    counters = TFCounters()
    driver = dynamic_step_driver.DynamicStepDriver(
        tf_env, policy, observers=[counters.count], num_steps=4)

    time_step, _ = driver.run(tf_env.reset())

    assert time_step.observation.shape == [2, 3]
    assert int(counters.steps) == 4
    assert int(counters.episodes) == 4
    assert time_step.step_type.numpy().tolist() == [ts.StepType.LAST] * 2
