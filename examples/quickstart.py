"""Quickstart: a ten-line policy, validated, clipped and batched by the TFPolicy base."""

from tfpolicy.cli import quiet_tensorflow

quiet_tensorflow()  # TensorFlow's log level, and its start-up lines filtered, before it loads

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

import tfpolicy  # noqa: E402
from specs import BoundedTensorSpec, TensorSpec  # noqa: E402
from tfpolicy import time_step as ts  # noqa: E402


class Proportional(tfpolicy.TFPolicy):
    """Pushes against the position: a Normal around -gain * position."""

    def __init__(self, time_step_spec, action_spec, gain=2.0):
        super().__init__(time_step_spec, action_spec, emit_log_probability=True)
        self.gain = tf.Variable(gain)

    def _distribution(self, time_step, policy_state):
        mean = -self.gain * time_step.observation["pos"]
        return tfpolicy.PolicyStep(tfp.distributions.Normal(mean, 0.1), policy_state)


def _rounded(x: tf.Tensor) -> list:
    return np.round(x.numpy().astype(np.float64), 3).tolist()


def main() -> None:
    observation_spec = {"pos": TensorSpec([2], tf.float32), "vel": TensorSpec([2], tf.float32)}
    action_spec = BoundedTensorSpec([2], tf.float32, minimum=-1.0, maximum=1.0, name="force")
    policy = Proportional(ts.time_step_spec(observation_spec), action_spec)

    observation = {"pos": tf.constant([[0.1, -0.2], [3.0, 0.0]]), "vel": tf.zeros([2, 2])}
    step = policy.action(ts.restart(observation, batch_size=2), seed=0)
    print("actions (clipped to [-1, 1]):", _rounded(step.action))
    print("log-probabilities of those actions:", _rounded(step.info.log_probability))

    try:
        policy.action(ts.restart({"pos": tf.zeros([2, 3]), "vel": tf.zeros([2, 2])}, batch_size=2))
    except ValueError as error:
        print("validation:", error)


if __name__ == "__main__":
    main()
