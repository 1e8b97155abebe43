"""The data pipeline of TF-Agents' DQN tutorial and its evaluation helpers, after changing
only the imports.

Import mapping exercised:

    tf_agents.environments.suite_gym                    -> tfpolicy.environments.suite_gym
    tf_agents.environments.tf_py_environment            -> tfpolicy.environments.tf_py_environment
    tf_agents.policies.random_tf_policy                 -> tfpolicy.policies.random_tf_policy
    tf_agents.policies.py_tf_eager_policy               -> tfpolicy.policies.py_tf_eager_policy
    tf_agents.replay_buffers.tf_uniform_replay_buffer   -> tfpolicy.replay.tf_uniform_replay_buffer
    tf_agents.drivers.py_driver                         -> tfpolicy.drivers.py_driver
    tf_agents.drivers.tf_driver                         -> tfpolicy.drivers.tf_driver
    tf_agents.metrics.py_metrics, tf_metrics            -> tfpolicy.metrics.py_metrics, tf_metrics
    tf_agents.eval.metric_utils                         -> tfpolicy.metrics.metric_utils
    tf_agents.trajectories.trajectory                   -> tfpolicy.trajectories.trajectory

CartPole pays a reward of 1 per step, so an episode's return equals its length: the
checks below compare returns with lengths and step counts instead of fixed numbers.
"""

import numpy as np
import tensorflow as tf

from specs import tensor_spec
from tfpolicy.drivers import py_driver
from tfpolicy.drivers import tf_driver
from tfpolicy.environments import suite_gym
from tfpolicy.environments import tf_py_environment
from tfpolicy.metrics import metric_utils
from tfpolicy.metrics import py_metrics
from tfpolicy.metrics import tf_metrics
from tfpolicy.policies import py_tf_eager_policy
from tfpolicy.policies import random_tf_policy
from tfpolicy.replay import tf_uniform_replay_buffer
from tfpolicy.trajectories import trajectory

ENV_NAME = "CartPole-v1"


def test_collect_with_py_driver_into_a_tf_uniform_replay_buffer_and_sample_pairs():
    train_py_env = suite_gym.load(ENV_NAME)
    train_env = tf_py_environment.TFPyEnvironment(suite_gym.load(ENV_NAME))
    random_policy = random_tf_policy.RandomTFPolicy(train_env.time_step_spec(),
                                                    train_env.action_spec())
    replay_buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(
        data_spec=random_policy.collect_data_spec,
        batch_size=train_env.batch_size,
        max_length=100000)
    steps = py_metrics.EnvironmentSteps()
    py_driver.PyDriver(
        train_py_env,
        py_tf_eager_policy.PyTFEagerPolicy(random_policy, use_tf_function=True),
        [replay_buffer.add_batch, steps],
        max_steps=100).run(train_py_env.reset())

    # Every transition is stored, boundaries included, so frames >= counted steps.
    assert int(steps.result()) == 100
    assert int(replay_buffer.num_frames()) >= 100
    dataset = replay_buffer.as_dataset(
        num_parallel_calls=3, sample_batch_size=64, num_steps=2).prefetch(3)
    iterator = iter(dataset)
    experience, unused_info = next(iterator)
    assert experience.observation.shape == (64, 2, 4)
    assert experience.action.dtype == tf.int64
    time_steps, policy_steps, next_time_steps = trajectory.experience_to_transitions(
        experience, squeeze_time_dim=True)
    assert time_steps.observation.shape == (64, 4)
    np.testing.assert_array_equal(next_time_steps.observation,
                                  experience.observation[:, 1])
    np.testing.assert_array_equal(policy_steps.action, experience.action[:, 0])


def test_tutorial_average_return_matches_eager_compute():
    eval_env = tf_py_environment.TFPyEnvironment(suite_gym.load(ENV_NAME))
    policy = random_tf_policy.RandomTFPolicy(eval_env.time_step_spec(), eval_env.action_spec())

    def compute_avg_return(environment, policy, num_episodes=10):
        total_return, total_steps = 0.0, 0
        for _ in range(num_episodes):
            time_step = environment.reset()
            episode_return = 0.0
            while not time_step.is_last():
                action_step = policy.action(time_step)
                time_step = environment.step(action_step.action)
                episode_return += time_step.reward
                total_steps += 1
            total_return += episode_return
        return (total_return / num_episodes).numpy()[0], total_steps

    average, total_steps = compute_avg_return(eval_env, policy, num_episodes=3)
    assert average == total_steps / 3

    results = metric_utils.eager_compute(
        [tf_metrics.AverageReturnMetric(), tf_metrics.AverageEpisodeLengthMetric(),
         tf_metrics.NumberOfEpisodes()],
        eval_env, policy, num_episodes=3)
    assert int(results["NumberOfEpisodes"]) == 3
    assert float(results["AverageReturn"]) == float(results["AverageEpisodeLength"]) >= 5


def test_tf_driver_with_tf_metrics_stops_at_max_episodes():
    env = tf_py_environment.TFPyEnvironment(suite_gym.load(ENV_NAME))
    policy = random_tf_policy.RandomTFPolicy(env.time_step_spec(), env.action_spec())
    num_episodes, env_steps = tf_metrics.NumberOfEpisodes(), tf_metrics.EnvironmentSteps()
    average_length = tf_metrics.AverageEpisodeLengthMetric()
    driver = tf_driver.TFDriver(env, policy, [num_episodes, env_steps, average_length],
                                max_episodes=2)
    driver.run(env.reset())
    assert int(num_episodes.result()) == 2
    assert int(env_steps.result()) == 2 * float(average_length.result())


def test_compute_on_a_py_environment_with_py_metrics():
    env = suite_gym.load(ENV_NAME)
    tf_env = tf_py_environment.TFPyEnvironment(suite_gym.load(ENV_NAME))
    policy = py_tf_eager_policy.PyTFEagerPolicy(
        random_tf_policy.RandomTFPolicy(tf_env.time_step_spec(), tf_env.action_spec()))
    metrics = [py_metrics.AverageReturnMetric(), py_metrics.AverageEpisodeLengthMetric()]
    results = metric_utils.compute(metrics, env, policy, num_episodes=2)
    assert list(results) == ["AverageReturn", "AverageEpisodeLength"]
    assert results["AverageReturn"] == results["AverageEpisodeLength"] >= 5
    metric_utils.log_metrics(metrics)
    assert tensor_spec.is_discrete(tf_env.action_spec())
