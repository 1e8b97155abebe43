"""The TF-Agents environments tutorial's steps, after changing only the imports.

Import mapping exercised:

    tf_agents.environments.py_environment     -> tfpolicy.environments.py_environment
    tf_agents.environments.tf_environment     -> tfpolicy.environments.tf_environment
    tf_agents.environments.tf_py_environment  -> tfpolicy.environments.tf_py_environment
    tf_agents.environments.utils              -> tfpolicy.environments.utils
    tf_agents.environments.suite_gym          -> tfpolicy.environments.suite_gym
    tf_agents.environments.wrappers           -> tfpolicy.environments.wrappers
    tf_agents.specs.array_spec                -> specs.array_spec
    tf_agents.trajectories.time_step          -> tfpolicy.trajectories.time_step

A user writes a `py_environment.PyEnvironment` subclass (here a small card
game: draw a card or stop; the reward is the hand's distance to 21, -21 when
over), without calling the base `__init__`, checks it with
`utils.validate_py_environment`, loads gymnasium environments with
`suite_gym.load` (gymnasium ids such as 'CartPole-v1'), discretizes
Pendulum's continuous action with `wrappers.ActionDiscretizeWrapper`, and
steps CartPole through `tf_py_environment.TFPyEnvironment` with int32
actions, as the tutorial does, although CartPole's action spec is int64.
"""

import numpy as np
import pytest
import tensorflow as tf

from specs import array_spec
from tfpolicy.environments import py_environment
from tfpolicy.environments import suite_gym
from tfpolicy.environments import tf_environment
from tfpolicy.environments import tf_py_environment
from tfpolicy.environments import utils
from tfpolicy.environments import wrappers
from tfpolicy.trajectories import time_step as ts


class CardGameEnv(py_environment.PyEnvironment):
    """Action 0 draws a card (its value cycles through `cards`), action 1 stops."""

    def __init__(self, cards=(10, 6, 2, 9)):
        self._action_spec = array_spec.BoundedArraySpec(
            shape=(), dtype=np.int32, minimum=0, maximum=1, name="action")
        self._observation_spec = array_spec.BoundedArraySpec(
            shape=(1,), dtype=np.int32, minimum=0, name="observation")
        self._cards = cards
        self._drawn = 0
        self._state = 0
        self._episode_ended = False

    def action_spec(self):
        return self._action_spec

    def observation_spec(self):
        return self._observation_spec

    def _reset(self):
        self._state = 0
        self._episode_ended = False
        return ts.restart(np.array([self._state], dtype=np.int32))

    def _step(self, action):
        if self._episode_ended:
            return self.reset()
        if action == 1:
            self._episode_ended = True
        elif action == 0:
            self._state += self._cards[self._drawn % len(self._cards)]
            self._drawn += 1
        else:
            raise ValueError("`action` should be 0 or 1.")
        if self._episode_ended or self._state >= 21:
            reward = self._state - 21 if self._state <= 21 else -21
            return ts.termination(np.array([self._state], dtype=np.int32), reward)
        return ts.transition(np.array([self._state], dtype=np.int32), reward=0.0, discount=1.0)


def test_card_game_passes_validation_and_plays_by_hand():
    environment = CardGameEnv()
    utils.validate_py_environment(environment, episodes=5)

    environment = CardGameEnv()
    get_new_card_action = np.array(0, dtype=np.int32)
    end_round_action = np.array(1, dtype=np.int32)
    time_step = environment.reset()
    cumulative_reward = time_step.reward
    for _ in range(2):  # cards 10 and 6: a hand of 16
        time_step = environment.step(get_new_card_action)
        cumulative_reward += time_step.reward
    time_step = environment.step(end_round_action)
    cumulative_reward += time_step.reward
    assert time_step.is_last() and time_step.observation.tolist() == [16]
    assert float(cumulative_reward) == 16.0 - 21.0


def test_validation_catches_an_observation_outside_its_spec():
    class Negative(CardGameEnv):
        def _reset(self):
            return ts.restart(np.array([-1], dtype=np.int32))

    with pytest.raises(ValueError, match="observation"):
        utils.validate_py_environment(Negative(), episodes=1)


def test_suite_gym_cartpole_steps_with_an_int32_action():
    environment = suite_gym.load("CartPole-v1")
    time_step_spec = environment.time_step_spec()
    assert time_step_spec.observation.shape == (4,)
    assert environment.action_spec().maximum == 1
    environment.reset()
    time_step = environment.step(np.array(1, dtype=np.int32))
    assert time_step.step_type == ts.StepType.MID and time_step.reward == 1.0


def test_discretized_pendulum_maps_integers_to_evenly_spaced_torques():
    env = suite_gym.load("Pendulum-v1")
    discrete_action_env = wrappers.ActionDiscretizeWrapper(env, num_actions=5)
    spec = discrete_action_env.action_spec()
    assert spec.shape == () and spec.dtype == np.int32
    assert int(spec.minimum) == 0 and int(spec.maximum) == 4

    # Pendulum's reward depends on the torque u as -0.001 * u**2 plus terms
    # of the state; starting both from one state, the torques 2 (action 4)
    # and -2 (action 0) therefore earn the same reward.
    rewards = []
    for action in (4, 0):
        env.gym.reset(seed=3)
        discrete_action_env.reset()
        env.gym.unwrapped.state = np.array([0.0, 0.0])
        rewards.append(float(discrete_action_env.step(np.array(action, np.int32)).reward))
    assert rewards[0] == pytest.approx(rewards[1]) and rewards[0] == pytest.approx(-0.004)


def test_tf_py_environment_plays_whole_cartpole_episodes():
    env = suite_gym.load("CartPole-v1")
    tf_env = tf_py_environment.TFPyEnvironment(env)
    assert isinstance(tf_env, tf_environment.TFEnvironment)
    assert tf_env.time_step_spec().observation.shape == (4,)
    assert tf_env.action_spec().dtype == tf.int64

    tf.random.set_seed(0)
    time_step = tf_env.reset()
    rewards, steps = [], []
    for _ in range(3):
        episode_reward = 0
        episode_steps = 0
        while not time_step.is_last():
            action = tf.random.uniform([1], 0, 2, dtype=tf.int32)
            time_step = tf_env.step(action)
            episode_steps += 1
            episode_reward += time_step.reward.numpy()
        rewards.append(episode_reward)
        steps.append(episode_steps)
        time_step = tf_env.reset()
    # CartPole pays 1 per step, the terminating one included.
    assert [float(r[0]) for r in rewards] == [float(s) for s in steps]
    assert all(8 <= s < 500 for s in steps)
