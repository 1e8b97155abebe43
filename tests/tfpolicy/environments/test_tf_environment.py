"""Tests of `TFEnvironment`: a TF-Agents-style subclass implementing `_reset`, `_step`,
`_current_time_step` behind the public methods."""

import numpy as np
import tensorflow as tf

from specs import BoundedTensorSpec
from tfpolicy.environments import TFEnvironment
from tfpolicy.trajectories import time_step as ts


class Accumulator(TFEnvironment):
    """The observation is the running sum of the actions; never ends."""

    def __init__(self, batch_size=2):
        super().__init__(ts.time_step_spec(tf.TensorSpec([], tf.float32, "observation")),
                         BoundedTensorSpec([], tf.float32, -1.0, 1.0), batch_size)
        self._sum = tf.Variable(tf.zeros([batch_size]))

    def _current_time_step(self):
        return ts.transition(tf.identity(self._sum), tf.zeros([self.batch_size]))

    def _reset(self):
        self._sum.assign(tf.zeros([self.batch_size]))
        return ts.restart(tf.identity(self._sum), batch_size=self.batch_size)

    def _step(self, action):
        self._sum.assign_add(action)
        return ts.transition(tf.identity(self._sum), action)


def test_public_methods_run_the_subclass_hooks():
    env = Accumulator()
    assert env.batched and env.batch_size == 2
    assert env.observation_spec().shape == () and env.reward_spec().dtype == tf.float32
    assert env.discount_spec() == BoundedTensorSpec([], tf.float32, 0.0, 1.0, name="discount")
    env.reset()
    step = tf.function(env.step)
    step(tf.constant([0.5, -1.0]))
    step(tf.constant([0.25, 0.0]))
    np.testing.assert_allclose(env.current_time_step().observation.numpy(), [0.75, -1.0])
    np.testing.assert_array_equal(env.reset().step_type.numpy(), [0, 0])
