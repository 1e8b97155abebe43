"""Tests of `RandomTFEnvironment`: specs, episodes, tf.function, action checks, a dynamic driver."""

import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec
from tfpolicy.drivers import DynamicStepDriver
from tfpolicy.environments import RandomTFEnvironment, random_tf_environment
from tfpolicy.policies import RandomTFPolicy
from tfpolicy.trajectories import time_step as ts

FIRST, MID, LAST = 0, 1, 2

OBSERVATION_SPEC = {
    "position": BoundedTensorSpec([2], tf.float32, -1.0, [1.0, 2.0]),
    "count": BoundedTensorSpec([], tf.int32, 0, 5),
}
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)
ACTION_SPEC = BoundedTensorSpec([], tf.int64, 0, 2, name="action")


def make(batch_size=2, episode_end_probability=0.5):
    return RandomTFEnvironment(TIME_STEP_SPEC, ACTION_SPEC, batch_size=batch_size,
                               episode_end_probability=episode_end_probability)


def step_types(time_step):
    return time_step.step_type.numpy().tolist()


def test_the_package_exports_the_module_and_the_class():
    assert RandomTFEnvironment is random_tf_environment.RandomTFEnvironment


def test_specs_and_properties():
    env = make(batch_size=3)
    assert env.time_step_spec() == TIME_STEP_SPEC
    assert env.action_spec() == ACTION_SPEC
    assert env.observation_spec() == OBSERVATION_SPEC
    assert env.reward_spec() == TIME_STEP_SPEC.reward
    assert env.batched and env.batch_size == 3


def test_reset_gives_first_steps_with_observations_within_bounds():
    env = make(batch_size=3)
    first = env.reset()
    assert step_types(first) == [FIRST] * 3
    assert first.reward.numpy().tolist() == [0.0] * 3
    assert first.discount.numpy().tolist() == [1.0] * 3
    position, count = first.observation["position"].numpy(), first.observation["count"].numpy()
    assert position.shape == (3, 2) and position.dtype == np.float32
    assert count.shape == (3,) and count.dtype == np.int32
    assert (position >= -1).all() and (position <= [1.0, 2.0]).all()
    assert ((count >= 0) & (count <= 5)).all()


@pytest.mark.parametrize("probability, expected", [
    (0.0, [FIRST, MID, MID, MID, MID]),
    (1.0, [FIRST, LAST, FIRST, LAST, FIRST]),
])
def test_episode_end_probability(probability, expected):
    env = make(episode_end_probability=probability)
    action = tf.constant([0, 1], tf.int64)
    steps = [env.reset()] + [env.step(action) for _ in range(4)]
    assert [step_types(s) for s in steps] == [[t, t] for t in expected]
    discounts = {MID: 1.0, LAST: 0.0, FIRST: 1.0}
    assert [s.discount.numpy().tolist() for s in steps] == [[discounts[t]] * 2 for t in expected]


def test_step_before_any_reset_resets_and_current_time_step_remembers():
    env = make(episode_end_probability=0.0)
    first = env.step(tf.constant([0, 0], tf.int64))
    assert step_types(first) == [FIRST, FIRST]
    mid = env.step(tf.constant([0, 0], tf.int64))
    current = env.current_time_step()
    np.testing.assert_array_equal(current.observation["position"], mid.observation["position"])
    assert step_types(current) == [MID, MID]


def test_current_time_step_resets_a_fresh_environment():
    assert step_types(make().current_time_step()) == [FIRST, FIRST]


def test_steps_inside_tf_function_without_autograph():
    env = make(batch_size=2, episode_end_probability=1.0)

    @tf.function(autograph=False)
    def two_steps(action):
        return env.step(action), env.step(action)

    env.reset()
    a, b = two_steps(tf.constant([1, 2], tf.int64))
    assert (step_types(a), step_types(b)) == ([LAST] * 2, [FIRST] * 2)
    a, b = two_steps(tf.constant([1, 2], tf.int64))  # same concrete function, state carried on
    assert (step_types(a), step_types(b)) == ([LAST] * 2, [FIRST] * 2)
    assert a.observation["position"].shape == (2, 2)
    assert step_types(env.current_time_step()) == [FIRST] * 2


def test_observations_are_fresh_draws_in_every_compiled_step():
    env = make(batch_size=1, episode_end_probability=0.0)
    step = tf.function(env.step)
    env.reset()
    positions = [step(tf.constant([0], tf.int64)).observation["position"].numpy()
                 for _ in range(3)]
    assert not np.array_equal(positions[0], positions[1])
    assert not np.array_equal(positions[1], positions[2])


def test_global_seed_makes_eager_runs_repeatable():
    def run():
        tf.random.set_seed(11)
        env = make(episode_end_probability=0.5)
        steps = [env.reset()] + [env.step(tf.constant([0, 0], tf.int64)) for _ in range(8)]
        return [step_types(s) for s in steps], [s.observation["position"].numpy() for s in steps]

    types_a, obs_a = run()
    types_b, obs_b = run()
    assert types_a == types_b
    np.testing.assert_array_equal(np.stack(obs_a), np.stack(obs_b))


def test_random_rewards_follow_the_reward_spec():
    env = make(episode_end_probability=0.0)
    env.reset()
    reward = env.step(tf.constant([0, 0], tf.int64)).reward
    assert reward.dtype == tf.float32 and reward.shape == (2,)


def test_action_structure_dtype_and_batch_errors_name_the_path():
    env = make(batch_size=2)
    with pytest.raises(TypeError, match="action"):
        env.step(tf.constant([0, 1], tf.int32))
    with pytest.raises(ValueError, match="batch dim 3 differs from the environment's batch size 2"):
        env.step(tf.constant([0, 1, 1], tf.int64))
    with pytest.raises(TypeError, match="action"):
        env.step({"action": tf.constant([0, 1], tf.int64)})


def test_out_of_bounds_action_eagerly_and_in_a_graph():
    env = RandomTFEnvironment(TIME_STEP_SPEC, {"pick": ACTION_SPEC}, batch_size=2)
    env.reset()
    with pytest.raises(ValueError, match=r"action at 'pick': value\(s\) outside the bounds"):
        env.step({"pick": tf.constant([0, 3], tf.int64)})
    step = tf.function(env.step)
    # TensorFlow escapes the quotes of the message it reports.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"action at \\?'pick\\?'"):
        step({"pick": tf.constant([-1, 0], tf.int64)})
    assert step_types(step({"pick": tf.constant([2, 0], tf.int64)})) in ([MID] * 2, [LAST] * 2)


def test_dynamic_step_driver_with_a_random_tf_policy():
    env = make(batch_size=2, episode_end_probability=0.0)
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
    turns = tf.Variable(0)
    driver = DynamicStepDriver(env, policy, observers=[lambda t: turns.assign_add(1)],
                               num_steps=6)
    time_step, _ = driver.run()
    # 6 steps summed over a batch of 2: three loop turns, FIRST -> MID -> MID -> MID.
    assert int(turns.numpy()) == 3
    assert step_types(time_step) == [MID, MID]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    (dict(episode_end_probability=-0.1), ValueError, "episode_end_probability must lie in"),
])
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        RandomTFEnvironment(TIME_STEP_SPEC, ACTION_SPEC, **kwargs)


def test_time_step_spec_must_be_a_time_step_with_defined_shapes():
    with pytest.raises(TypeError, match="must be a TimeStep"):
        RandomTFEnvironment(OBSERVATION_SPEC, ACTION_SPEC)
    with pytest.raises(ValueError, match="observation.*fully defined"):
        RandomTFEnvironment(ts.time_step_spec(tf.TensorSpec([None], tf.float32)), ACTION_SPEC)
