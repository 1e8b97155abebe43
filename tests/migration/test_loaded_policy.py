"""A saved Q policy, loaded back and used like any policy, after changing the imports.

Import mapping exercised:

    tf_agents.policies.policy_saver           -> savers.policy_saver
    tf.saved_model.load(dir) (+ TF-Agents
      policy wrappers around it)              -> savers.load_policy(dir)
    tf_agents.policies.py_tf_eager_policy.SavedModelPyTFEagerPolicy
                                              -> savers.saved_model_py_tf_eager_policy
                                                   .SavedModelPyTFEagerPolicy
    tf_agents.policies.q_policy               -> tfpolicy.policies.q_policy
    tf_agents.policies.greedy_policy          -> tfpolicy.policies.greedy_policy
    tf_agents.policies.epsilon_greedy_policy  -> tfpolicy.policies.epsilon_greedy_policy
    tf_agents.policies.py_tf_eager_policy     -> tfpolicy.policies.py_tf_eager_policy
    tf_agents.networks.q_network              -> tfpolicy.networks.q_network
    tf_agents.environments.random_py_environment
                                              -> tfpolicy.environments.random_py_environment
    tf_agents.environments.tf_py_environment  -> tfpolicy.environments.tf_py_environment
    tf_agents.drivers.py_driver               -> tfpolicy.drivers.py_driver
    tf_agents.drivers.dynamic_step_driver     -> tfpolicy.drivers.dynamic_step_driver
    tf_agents.specs.array_spec                -> specs.array_spec
    tf_agents.trajectories.time_step          -> tfpolicy.trajectories.time_step

The flow of a TF-Agents deployment: train a DQN-style Q policy, export its
greedy version with `PolicySaver(policy, batch_size=None).save(dir)`, load the
export elsewhere and collect data with it, adding epsilon-greedy exploration.
"""

import numpy as np
import pytest
import tensorflow as tf

import savers
from savers import policy_saver
from savers import saved_model_py_tf_eager_policy
from specs import array_spec
from specs import tensor_spec
from tfpolicy.drivers import dynamic_step_driver
from tfpolicy.drivers import py_driver
from tfpolicy.environments import random_py_environment
from tfpolicy.environments import tf_py_environment
from tfpolicy.networks import q_network
from tfpolicy.policies import epsilon_greedy_policy
from tfpolicy.policies import greedy_policy
from tfpolicy.policies import py_tf_eager_policy
from tfpolicy.policies import q_policy
from tfpolicy.trajectories import time_step as ts

OBSERVATION_SPEC = array_spec.BoundedArraySpec((4,), np.float32, minimum=-1.0, maximum=1.0)
ACTION_SPEC = array_spec.BoundedArraySpec((), np.int32, minimum=0, maximum=2)


def make_py_env(seed=0):
    return random_py_environment.RandomPyEnvironment(
        OBSERVATION_SPEC, ACTION_SPEC, episode_end_probability=0.2, seed=seed)


@pytest.fixture(scope="module")
def trained_policy():
    """A Q policy over a QNetwork with random (stand-in for trained) weights."""
    tf.random.set_seed(11)
    time_step_spec = tensor_spec.from_spec(ts.time_step_spec(OBSERVATION_SPEC))
    action_spec = tensor_spec.from_spec(ACTION_SPEC)
    net = q_network.QNetwork(time_step_spec.observation, action_spec, fc_layer_params=(16,))
    return q_policy.QPolicy(time_step_spec, action_spec, q_network=net)


@pytest.fixture(scope="module")
def greedy(trained_policy):
    return greedy_policy.GreedyPolicy(trained_policy)


@pytest.fixture(scope="module")
def export_dir(greedy, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("exports") / "greedy_policy")
    saver = policy_saver.PolicySaver(greedy, batch_size=None)
    saver.save(directory)
    return directory


@pytest.fixture(scope="module")
def loaded(export_dir):
    return savers.load_policy(export_dir)


def sample_observations(n, seed=0):
    rng = np.random.RandomState(seed)
    return array_spec.sample_spec_nest(OBSERVATION_SPEC, rng, outer_dims=(n,))


# ---- the loaded policy ------------------------------------------------------------------------


def test_loaded_policy_has_the_original_specs(greedy, loaded):
    assert loaded.time_step_spec == greedy.time_step_spec
    assert loaded.action_spec == greedy.action_spec
    assert loaded.policy_state_spec == ()


def test_loaded_greedy_actions_equal_the_originals(greedy, loaded):
    observations = tf.constant(sample_observations(64))
    time_step = ts.restart(observations, batch_size=64)

    original_actions = greedy.action(time_step).action.numpy()
    loaded_actions = loaded.action(time_step).action.numpy()

    np.testing.assert_array_equal(loaded_actions, original_actions)
    # The random network does not pick one action for all observations.
    assert len(set(original_actions.tolist())) > 1


def test_loaded_policy_acts_on_an_unbatched_time_step(greedy, loaded):
    observation = tf.constant(sample_observations(1)[0])
    time_step = ts.restart(observation)

    action = loaded.action(time_step).action

    assert action.shape == []
    assert int(action) == int(greedy.action(time_step).action)


def test_loaded_policy_with_epsilon_zero_stays_greedy(greedy, loaded):
    explore = epsilon_greedy_policy.EpsilonGreedyPolicy(loaded, epsilon=0.0)
    time_step = ts.restart(tf.constant(sample_observations(32, seed=1)), batch_size=32)

    np.testing.assert_array_equal(explore.action(time_step).action.numpy(),
                                  greedy.action(time_step).action.numpy())


def test_epsilon_greedy_over_the_loaded_policy_is_mostly_greedy(greedy, loaded):
    explore = epsilon_greedy_policy.EpsilonGreedyPolicy(loaded, epsilon=0.1)
    time_step = ts.restart(tf.constant(sample_observations(600, seed=2)), batch_size=600)

    actions = explore.action(time_step, seed=3).action.numpy()
    greedy_actions = greedy.action(time_step).action.numpy()

    assert ((actions >= 0) & (actions <= 2)).all()
    # Greedy with probability 0.9 + 0.1 / 3 ~ 0.93 (binomial sd ~ 0.01).
    agreement = np.mean(actions == greedy_actions)
    assert 0.88 < agreement < 0.98, agreement


# ---- collecting with the loaded policy --------------------------------------------------------


class GreedyAgreement:
    """A TF observer: counts steps and how many took the reference policy's action."""

    def __init__(self, reference_policy):
        self._reference = reference_policy
        self.steps = tf.Variable(0)
        self.agreed = tf.Variable(0)

    def __call__(self, trajectory):
        is_step = tf.logical_not(trajectory.is_boundary())
        batch_size = tf.shape(trajectory.step_type)[0]
        reference = self._reference.action(
            ts.restart(trajectory.observation, batch_size=batch_size)).action
        agreed = tf.logical_and(is_step, tf.equal(trajectory.action, reference))
        self.steps.assign_add(tf.reduce_sum(tf.cast(is_step, tf.int32)))
        self.agreed.assign_add(tf.reduce_sum(tf.cast(agreed, tf.int32)))


def test_dynamic_step_driver_with_epsilon_greedy_loaded_policy(greedy, loaded):
    tf_env = tf_py_environment.TFPyEnvironment(make_py_env())
    collect_policy = epsilon_greedy_policy.EpsilonGreedyPolicy(loaded, epsilon=0.1)
    agreement = GreedyAgreement(greedy)
    driver = dynamic_step_driver.DynamicStepDriver(
        tf_env, collect_policy, observers=[agreement], num_steps=60)

    time_step, _ = driver.run()

    assert time_step.observation.shape == [1, 4]
    assert int(agreement.steps) == 60
    # Greedy with probability ~0.93: at least 45 of 60 is ~5 sd away from failing.
    assert int(agreement.agreed) >= 45, int(agreement.agreed)


def test_py_driver_with_py_tf_eager_policy_over_the_loaded_policy(greedy, loaded):
    env = make_py_env(seed=1)
    collect_policy = py_tf_eager_policy.PyTFEagerPolicy(
        epsilon_greedy_policy.EpsilonGreedyPolicy(loaded, epsilon=0.1), use_tf_function=True)
    rows = []
    driver = py_driver.PyDriver(env, collect_policy, observers=[rows.append], max_steps=60)

    driver.run(env.reset())

    steps = [row for row in rows if not row.is_boundary()]
    assert len(steps) == 60
    actions = np.array([int(row.action) for row in steps])
    assert ((actions >= 0) & (actions <= 2)).all()
    # Recompute the greedy action of each observation with the original policy.
    observations = tf.constant(np.stack([row.observation for row in steps]))
    greedy_actions = greedy.action(ts.restart(observations, batch_size=60)).action.numpy()
    agreement = np.mean(actions == greedy_actions)
    assert agreement > 0.75, agreement


def test_py_tf_eager_policy_over_the_loaded_policy_is_greedy(greedy, loaded):
    py_policy = py_tf_eager_policy.PyTFEagerPolicy(loaded, use_tf_function=True)
    env = make_py_env(seed=2)
    rows = []
    driver = py_driver.PyDriver(env, py_policy, observers=[rows.append], max_steps=20)

    driver.run(env.reset())

    for row in rows:
        expected = greedy.action(ts.restart(tf.constant(row.observation))).action
        assert int(row.action) == int(expected)


# ---- the export read the plain TF-Agents ways -------------------------------------------------


def test_tf_saved_model_load_acts_like_the_original(greedy, export_dir):
    # TF-Agents' deployment recipe: `tf.saved_model.load`, then `get_initial_state`
    # and `action(time_step, policy_state)` on the loaded object.
    saved_policy = tf.saved_model.load(export_dir)
    time_step = ts.restart(tf.constant(sample_observations(16, seed=4)), batch_size=16)

    policy_state = saved_policy.get_initial_state(batch_size=16)
    action_step = saved_policy.action(time_step, policy_state)

    assert policy_state == ()
    np.testing.assert_array_equal(action_step.action.numpy(),
                                  greedy.action(time_step).action.numpy())


def test_saved_model_py_tf_eager_policy_in_a_py_driver(greedy, export_dir):
    env = make_py_env(seed=3)
    eager_policy = saved_model_py_tf_eager_policy.SavedModelPyTFEagerPolicy(
        export_dir, env.time_step_spec(), env.action_spec())
    rows = []
    driver = py_driver.PyDriver(env, eager_policy, observers=[rows.append], max_steps=10)

    driver.run(env.reset())

    assert len([row for row in rows if not row.is_boundary()]) == 10
    for row in rows:
        expected = greedy.action(ts.restart(tf.constant(row.observation))).action
        assert int(row.action) == int(expected)
