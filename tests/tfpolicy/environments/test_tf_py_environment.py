"""Tests of `TFPyEnvironment`: specs, batching, eager and graph stepping, checks, isolation."""

import threading

import numpy as np
import pytest
import tensorflow as tf

from env_toys import Counter
from specs import ArraySpec, BoundedArraySpec, BoundedTensorSpec, TensorSpec, tensor_spec
from tfpolicy.environments import BatchedPyEnvironment, PyEnvironment, RandomPyEnvironment, load
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.policies import RandomTFPolicy
from tfpolicy.trajectories import time_step as ts


class Arm(PyEnvironment):
    """A nested action {'move': 2 floats in [-1, 1], 'pick': int in [0, 2]}; records actions."""

    def __init__(self):
        super().__init__()
        self.received = []

    def observation_spec(self):
        return ArraySpec((), np.float32, "observation")

    def action_spec(self):
        return {"move": BoundedArraySpec((2,), np.float32, -1.0, 1.0, "move"),
                "pick": BoundedArraySpec((), np.int64, 0, 2, "pick")}

    def _reset(self):
        return ts.restart(np.float32(0))

    def _step(self, action):
        self.received.append(action)
        return ts.transition(np.float32(action["move"].sum()), reward=float(action["pick"]))


class WrongShape(Counter):
    """Returns a 3-element 'pair' after the first step."""

    def _obs(self):
        obs = super()._obs()
        if self.t > 0:
            obs["pair"] = np.zeros(3, np.float32)
        return obs


class TwoRewards(Counter):
    """A reward vector [action + 1, -(action + 1)]."""

    def reward_spec(self):
        return ArraySpec((2,), np.float32, "reward")

    def _reset(self):
        self.t = 0
        return ts.restart(self._obs(), reward_spec=self.reward_spec())

    def _step(self, action):
        self.t += 1
        reward = np.array([action + 1, -(action + 1)], np.float32)
        return ts.transition(self._obs(), reward, discount=0.9, outer_dims=())


def run_modes(fn):
    """`fn` eagerly and compiled, so each test checks both paths."""
    return [fn, tf.function(fn)]


def test_specs_are_tensor_specs_without_batch_dim():
    py_env = BatchedPyEnvironment([Counter(2), Counter(3)])
    env = TFPyEnvironment(py_env)
    assert env.batched is True and env.batch_size == 2 and env.pyenv is py_env
    assert env.action_spec() == BoundedTensorSpec((), tf.int64, 0, 3, name="action")
    assert env.observation_spec() == {"count": TensorSpec((), tf.int32, "count"),
                                      "pair": TensorSpec((2,), tf.float32, "pair")}
    assert env.reward_spec() == TensorSpec((), tf.float32, "reward")
    assert env.time_step_spec() == tensor_spec.from_spec(py_env.time_step_spec())
    assert env.time_step_spec().discount == BoundedTensorSpec((), tf.float32, 0.0, 1.0, "discount")


def test_unbatched_env_is_presented_with_batch_size_one():
    py_env = Counter(2)
    env = TFPyEnvironment(py_env)
    assert env.batch_size == 1 and env.batched is True and env.pyenv is py_env
    first = env.reset()
    assert first.observation["pair"].shape == (1, 2)
    np.testing.assert_array_equal(first.step_type, [0])
    step = env.step(tf.constant([2], tf.int64))
    np.testing.assert_array_equal(step.step_type, [1])
    np.testing.assert_array_equal(step.reward, [3.0])
    np.testing.assert_allclose(step.discount, [0.9])
    np.testing.assert_array_equal(step.observation["pair"], [[1.0, -1.0]])
    assert py_env.actions == [2]


@pytest.mark.parametrize("compiled", [False, True])
def test_batched_entries_end_and_reset_independently(compiled):
    envs = [Counter(1), Counter(3)]
    env = TFPyEnvironment(BatchedPyEnvironment(envs))
    step = tf.function(env.step) if compiled else env.step
    reset = tf.function(env.reset) if compiled else env.reset
    first = reset()
    np.testing.assert_array_equal(first.step_type, [0, 0])
    steps = [step(tf.constant([a, 2 * a], tf.int64)) for a in (1, 0, 1, 0)]
    np.testing.assert_array_equal([s.step_type for s in steps], [[2, 1], [0, 1], [2, 2], [0, 0]])
    np.testing.assert_array_equal([s.reward for s in steps], [[2, 3], [0, 1], [2, 3], [0, 0]])
    np.testing.assert_allclose([s.discount for s in steps],
                               np.array([[0, 0.9], [1, 0.9], [0, 0], [1, 1]], np.float32))
    np.testing.assert_array_equal([s.observation["count"] for s in steps],
                                  [[1, 1], [0, 2], [1, 3], [0, 0]])
    assert steps[0].observation["pair"].dtype == tf.float32
    assert envs[0].actions == [1, 1] and envs[1].actions == [2, 0, 2]


def test_graph_outputs_have_static_shapes_from_the_specs():
    env = TFPyEnvironment(BatchedPyEnvironment([Counter(2), Counter(3)]))
    shapes = {}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
    def step(action):
        time_step = env.step(action)
        shapes.update(step_type=time_step.step_type.shape, reward=time_step.reward.shape,
                      pair=time_step.observation["pair"].shape)
        return time_step

    step.get_concrete_function()
    assert shapes == {"step_type": tf.TensorShape([2]), "reward": tf.TensorShape([2]),
                      "pair": tf.TensorShape([2, 2])}


def test_current_time_step_resets_a_fresh_env_then_follows_it():
    py_env = Counter(3)
    env = TFPyEnvironment(py_env)
    for current_time_step in run_modes(env.current_time_step):
        py_env._current_time_step = None
        first = current_time_step()
        np.testing.assert_array_equal(first.step_type, [0])
        env.step(np.array([1], np.int64))
        current = current_time_step()
        np.testing.assert_array_equal(current.step_type, [1])
        np.testing.assert_array_equal(current.observation["count"], [1])
        np.testing.assert_array_equal(current.reward, [2.0])


def test_nested_actions_are_packed_for_the_py_env():
    py_env = Arm()
    env = TFPyEnvironment(py_env)
    env.reset()
    for step in run_modes(env.step):
        result = step({"move": tf.constant([[0.5, -0.25]]), "pick": tf.constant([2], tf.int64)})
        np.testing.assert_allclose(result.observation, [0.25])
        np.testing.assert_array_equal(result.reward, [2.0])
    assert len(py_env.received) == 2
    for action in py_env.received:
        assert set(action) == {"move", "pick"}
        np.testing.assert_allclose(action["move"], [0.5, -0.25])
        assert action["pick"] == 2


def test_numpy_actions_are_accepted():
    env = TFPyEnvironment(BatchedPyEnvironment([Counter(2), Counter(3)]))
    env.reset()
    np.testing.assert_array_equal(env.step(np.array([0, 3], np.int64)).reward, [1.0, 4.0])


def test_static_action_errors_name_the_path():
    env = TFPyEnvironment(Arm())
    good_move = tf.constant([[0.5, 0.5]])
    with pytest.raises(TypeError, match="action at 'pick': dtype mismatch.*int64.*dtype float32"):
        env.step({"move": good_move, "pick": tf.constant([1], tf.float32)})
    with pytest.raises(ValueError, match="action at 'move': shape mismatch.*shape \\(1, 3\\)"):
        env.step({"move": tf.zeros([1, 3]), "pick": tf.constant([1], tf.int64)})
    with pytest.raises(TypeError, match="pick"):
        env.step({"move": good_move})
    with pytest.raises(ValueError, match="action at 'move': batch dim 3 differs from the "
                                         "environment's batch size 1"):
        env.step({"move": tf.zeros([3, 2]), "pick": tf.constant([1, 1, 1], tf.int64)})
    with pytest.raises(ValueError, match="expected 1 outer dim"):
        env.step({"move": tf.zeros([2]), "pick": tf.constant(1, tf.int64)})


def test_out_of_bounds_action_names_the_path_eagerly_and_in_graph():
    env = TFPyEnvironment(Arm())
    env.reset()
    bad = {"move": tf.constant([[0.5, 0.5]]), "pick": tf.constant([5], tf.int64)}
    with pytest.raises(ValueError, match=r"action at 'pick': value\(s\) \[5\] outside the bounds"):
        env.step(bad)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"action at 'pick': value\(s\) \[5\] outside the bounds"):
        tf.function(env.step)(bad)
    with pytest.raises(ValueError, match=r"action at 'move': value\(s\) \[2.0\] outside"):
        env.step({"move": tf.constant([[2.0, 0.0]]), "pick": tf.constant([1], tf.int64)})


def test_check_dims_asserts_an_unknown_batch_dim_in_graph():
    env = TFPyEnvironment(BatchedPyEnvironment([Counter(2), Counter(3)]), check_dims=True)
    env.reset()
    step = tf.function(env.step, input_signature=[tf.TensorSpec([None], tf.int64)])
    np.testing.assert_array_equal(step(tf.constant([1, 1], tf.int64)).reward, [2.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size 2"):
        step(tf.constant([1, 1, 1], tf.int64))


def test_unbatched_env_rejects_a_longer_batch_at_run_time():
    env = TFPyEnvironment(Counter(3))
    env.reset()
    step = tf.function(env.step, input_signature=[tf.TensorSpec([None], tf.int64)])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"unbatched.*shape \(2,\)"):
        step(tf.constant([1, 1], tf.int64))


def test_time_step_of_wrong_shape_from_the_env_names_the_path():
    env = TFPyEnvironment(WrongShape(3))
    env.reset()
    with pytest.raises(ValueError, match="WrongShape: returned time step at "
                                         "'observation/pair': has shape \\(3,\\); expected "
                                         "shape \\(2,\\)"):
        env.step(tf.constant([0], tf.int64))


def test_vector_rewards_keep_their_shape():
    env = TFPyEnvironment(BatchedPyEnvironment([TwoRewards(2), TwoRewards(3)]))
    assert env.reward_spec() == TensorSpec((2,), tf.float32, "reward")
    env.reset()
    step = tf.function(env.step)(tf.constant([1, 2], tf.int64))
    assert step.reward.shape == (2, 2)
    np.testing.assert_array_equal(step.reward, [[2, -2], [3, -3]])


def test_isolation_runs_the_env_on_one_other_thread():
    py_env = Counter(2)
    with TFPyEnvironment(py_env, isolation=True) as env:
        step = tf.function(env.step)
        env.reset()
        for _ in range(3):
            step(tf.constant([1], tf.int64))
            env.step(tf.constant([1], tf.int64))
    assert len(py_env.threads) == 1
    assert threading.get_ident() not in py_env.threads
    assert py_env.closed == 1


def test_close_and_context_manager_close_the_py_env():
    py_env = BatchedPyEnvironment([Counter(2), Counter(3)])
    with TFPyEnvironment(py_env):
        pass
    assert [e.closed for e in py_env.envs] == [1, 1]


def test_concurrent_calls_raise():
    env = TFPyEnvironment(Counter(2))
    env._lock.acquire()
    try:
        with pytest.raises(RuntimeError, match="called from two places at once"):
            env.reset()
    finally:
        env._lock.release()
    np.testing.assert_array_equal(env.reset().step_type, [0])


def test_rejects_what_is_not_a_py_environment():
    with pytest.raises(TypeError, match="environment must be a PyEnvironment .*got int"):
        TFPyEnvironment(3)
    with pytest.raises(TypeError, match="got str: 'no env'"):
        TFPyEnvironment(lambda: "no env")


def test_cartpole_with_a_random_tf_policy():
    env = TFPyEnvironment(load("CartPole-v1", seed=0))
    policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())

    @tf.function
    def play(time_step):
        for _ in tf.range(40):
            time_step = env.step(policy.action(time_step).action)
        return time_step

    first = env.reset()
    assert first.observation.shape == (1, 4) and first.observation.dtype == tf.float32
    last = play(first)
    assert last.observation.shape == (1, 4)
    assert int(last.step_type[0]) in (0, 1, 2)
    assert env.pyenv.current_time_step().observation.shape == (4,)


def test_tf_agents_constructor_forms_and_forwarding():
    made = []

    def make():
        made.append(1)
        return Counter(2, observation="scalar", reward="action")

    env = TFPyEnvironment(make, isolation=True)
    assert made == [1] and env.max_action == 3  # forwarded to the Python environment
    env.reset()
    step = env.step(tf.constant([2], tf.int32))  # an int32 action for the int64 spec
    assert float(step.reward[0]) == 2.0
    with pytest.raises(AttributeError, match="_missing"):
        env._missing
    with pytest.raises(TypeError, match="isolation"):
        TFPyEnvironment(make, isolation="yes")
    env.close()


def test_render_returns_uint8_images_eagerly_and_in_graphs():
    py_env = RandomPyEnvironment(ArraySpec((2,), np.float32), BoundedArraySpec((), np.int64, 0, 1),
                                 render_size=(4, 5, 3), seed=0)
    env = TFPyEnvironment(py_env)
    image = env.render()
    assert image.dtype == tf.uint8 and image.shape == (4, 5, 3)
    graph_image = tf.function(env.render)()
    assert graph_image.shape == (4, 5, 3)
    with pytest.raises(ValueError, match="mode must be one of"):
        env.render("video")
