"""In-graph metrics on the compiled drivers and a scripted numpy policy, the TF-Agents way.

Import mapping exercised:

    tf_agents.metrics.tf_metrics             -> tfpolicy.metrics.tf_metrics
    tf_agents.metrics.py_metrics             -> tfpolicy.metrics.py_metrics
    tf_agents.policies.scripted_py_policy    -> tfpolicy.policies.scripted_py_policy
    tf_agents.policies.tf_py_policy          -> tfpolicy.policies.tf_py_policy
    tf_agents.policies.random_tf_policy      -> tfpolicy.policies.random_tf_policy
    tf_agents.drivers.dynamic_step_driver    -> tfpolicy.drivers.dynamic_step_driver
    tf_agents.drivers.dynamic_episode_driver -> tfpolicy.drivers.dynamic_episode_driver
    tf_agents.drivers.py_driver              -> tfpolicy.drivers.py_driver
    tf_agents.environments.py_environment    -> tfpolicy.environments.py_environment
    tf_agents.environments.tf_py_environment -> tfpolicy.environments.tf_py_environment
    tf_agents.specs.array_spec               -> specs.array_spec
    tf_agents.trajectories.time_step         -> tfpolicy.trajectories.time_step
    tf_agents.utils.common                   -> tfpolicy.utils.common

The environment ends every episode after exactly three steps and rewards the
action taken, so the counts and returns can be worked out by hand. As in
TF-Agents, the drivers also act on each episode's LAST step (the boundary
transition into the next episode), which the metrics do not count.
"""

import numpy as np
import tensorflow as tf

from specs import array_spec
from tfpolicy.drivers import dynamic_episode_driver
from tfpolicy.drivers import dynamic_step_driver
from tfpolicy.drivers import py_driver
from tfpolicy.environments import py_environment
from tfpolicy.environments import tf_py_environment
from tfpolicy.metrics import py_metrics
from tfpolicy.metrics import tf_metrics
from tfpolicy.policies import random_tf_policy
from tfpolicy.policies import scripted_py_policy
from tfpolicy.policies import tf_py_policy
from tfpolicy.trajectories import time_step as ts
from tfpolicy.utils import common

EPISODE_LENGTH = 3


class ThreeStepEnv(py_environment.PyEnvironment):
    """A user environment as the TF-Agents environments tutorial writes them."""

    def __init__(self):
        super().__init__()
        self._action_spec = array_spec.BoundedArraySpec(
            shape=(), dtype=np.int32, minimum=0, maximum=4, name="action")
        self._observation_spec = array_spec.ArraySpec(
            shape=(1,), dtype=np.int32, name="observation")
        self._count = 0

    def action_spec(self):
        return self._action_spec

    def observation_spec(self):
        return self._observation_spec

    def _reset(self):
        self._count = 0
        return ts.restart(np.array([self._count], dtype=np.int32))

    def _step(self, action):
        self._count += 1
        observation = np.array([self._count], dtype=np.int32)
        reward = np.float32(action)
        if self._count == EPISODE_LENGTH:
            return ts.termination(observation, reward)
        return ts.transition(observation, reward=reward, discount=1.0)


def test_driver_tutorial_counts_episodes_and_steps():
    tf_env = tf_py_environment.TFPyEnvironment(ThreeStepEnv())
    tf_policy = random_tf_policy.RandomTFPolicy(action_spec=tf_env.action_spec(),
                                                time_step_spec=tf_env.time_step_spec())

    num_episodes = tf_metrics.NumberOfEpisodes()
    env_steps = tf_metrics.EnvironmentSteps()
    observers = [num_episodes, env_steps]
    driver = dynamic_episode_driver.DynamicEpisodeDriver(
        tf_env, tf_policy, observers, num_episodes=2)

    final_time_step, policy_state = driver.run()

    assert num_episodes.result().numpy() == 2
    assert env_steps.result().numpy() == 2 * EPISODE_LENGTH
    assert final_time_step.step_type.numpy().tolist() == [ts.StepType.FIRST]


def test_collect_loop_with_train_metrics_and_summaries(tmp_path):
    tf_env = tf_py_environment.TFPyEnvironment(ThreeStepEnv())
    collect_policy = random_tf_policy.RandomTFPolicy(tf_env.time_step_spec(),
                                                     tf_env.action_spec())
    actions_taken = []

    def record(action, is_boundary):
        actions_taken.append((int(action[0]), bool(is_boundary[0])))
        return np.int32(0)

    def remember_actions(trajectory):
        # A user's TF observer: hands each row's action to Python on every step.
        return tf.numpy_function(record, [trajectory.action, trajectory.is_boundary()],
                                 tf.int32)

    train_metrics = [
        tf_metrics.NumberOfEpisodes(),
        tf_metrics.EnvironmentSteps(),
        tf_metrics.AverageReturnMetric(),
        tf_metrics.AverageEpisodeLengthMetric(),
    ]
    collect_driver = dynamic_step_driver.DynamicStepDriver(
        tf_env, collect_policy, observers=[remember_actions] + train_metrics, num_steps=4)
    collect_driver.run = common.function(collect_driver.run)

    global_step = tf.Variable(0, dtype=tf.int64)
    time_step, policy_state = None, None
    for _ in range(3):  # 12 steps: four whole episodes
        time_step, policy_state = collect_driver.run(time_step=time_step,
                                                     policy_state=policy_state)
        global_step.assign_add(1)

    assert train_metrics[0].result().numpy() == 4
    assert train_metrics[1].result().numpy() == 12
    assert train_metrics[3].result().numpy() == EPISODE_LENGTH
    # The return of an episode is the sum of its three (non-boundary) actions.
    counted = [action for action, boundary in actions_taken if not boundary]
    returns = [sum(counted[i:i + EPISODE_LENGTH]) for i in range(0, 12, EPISODE_LENGTH)]
    assert np.isclose(train_metrics[2].result().numpy(), np.mean(returns))

    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for train_metric in train_metrics:
            train_metric.tf_summaries(train_step=global_step, step_metrics=train_metrics[:2])
    writer.flush()
    tags = {value.tag for path in tmp_path.iterdir()
            for event in tf.compat.v1.train.summary_iterator(str(path))
            for value in event.summary.value}
    assert "Metrics/AverageReturn" in tags
    assert "Metrics_vs_EnvironmentSteps/AverageReturn" in tags
    assert "Metrics_vs_NumberOfEpisodes/EnvironmentSteps" in tags
    assert "Metrics_vs_EnvironmentSteps/EnvironmentSteps" not in tags


def test_scripted_policy_in_a_py_driver_with_py_metrics():
    env = ThreeStepEnv()
    # Three steps per episode plus the action on the LAST step: four per episode.
    action_script = [(2, 1), (0, 4), (2, 3), (4, 2)]
    policy = scripted_py_policy.ScriptedPyPolicy(
        time_step_spec=env.time_step_spec(), action_spec=env.action_spec(),
        action_script=action_script)
    average_return = py_metrics.AverageReturnMetric()
    num_episodes = py_metrics.NumberOfEpisodes()
    driver = py_driver.PyDriver(env, policy, [average_return, num_episodes], max_episodes=2)

    driver.run(env.reset(), policy.get_initial_state())

    # Episode 1 plays 1, 1, 3 (then 3 on its LAST step); episode 2 plays 2, 2, 2 (then 2).
    assert num_episodes.result() == 2
    assert average_return.result() == np.float32((5 + 6) / 2)


def test_scripted_policy_as_a_tf_policy_with_tf_metrics():
    env = ThreeStepEnv()
    tf_env = tf_py_environment.TFPyEnvironment(env)
    scripted = scripted_py_policy.ScriptedPyPolicy(
        time_step_spec=env.time_step_spec(), action_spec=env.action_spec(),
        action_script=[(1, 4), (3, 0), (10, 1)])
    policy = tf_py_policy.TFPyPolicy(scripted)
    average_return = tf_metrics.AverageReturnMetric()
    max_return = tf_metrics.MaxReturnMetric()
    min_return = tf_metrics.MinReturnMetric()
    driver = dynamic_episode_driver.DynamicEpisodeDriver(
        tf_env, policy, observers=[average_return, max_return, min_return], num_episodes=2)

    driver.run()

    # Episode 1 plays 4, 0, 0 (0 on its LAST step); episode 2 plays 1, 1, 1 (then 1).
    assert average_return.result().numpy() == (4 + 3) / 2
    assert max_return.result().numpy() == 4.0
    assert min_return.result().numpy() == 3.0
