"""`GreedyPolicy`: the mode of another policy's distribution.

For a categorical (e.g. a `QPolicy`) the mode is the argmax of the logits, so
masked actions (`-inf`) are never chosen; for a Normal it is the mean. Bounded
float modes are clipped to the action spec, so the returned action is the
mode the distribution reports. The distribution is deterministic at that
action: the emitted log-probability is 0.

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.q_policy import QPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> q_values = lambda obs: tf.broadcast_to([0.0, 2.0, 1.0], [tf.shape(obs)[0], 3])
>>> q_policy = QPolicy(ts.time_step_spec(TensorSpec([2], tf.float32)),
...                    BoundedTensorSpec([], tf.int32, 0, 2), q_values)
>>> GreedyPolicy(q_policy).action(ts.restart(tf.zeros([3, 2]), batch_size=3)).action.numpy()
array([1, 1, 1], dtype=int32)
"""

from typing import Optional

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import tensor_spec
from specs import NestedTensor
from tfpolicy.policies import _action_distributions
from tfpolicy.policies import _wrapper
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["GreedyPolicy"]

tfd = tfp.distributions


def _mode(distribution: tfd.Distribution, spec: tf.TensorSpec) -> tf.Tensor:
    mode = distribution.mode()
    if tensor_spec.is_bounded(spec) and spec.dtype.is_floating:
        mode = tf.clip_by_value(mode, tf.constant(spec.minimum, mode.dtype),
                                tf.constant(spec.maximum, mode.dtype))
    return mode


class GreedyPolicy(_wrapper.PolicyWrapper):
    """Returns the mode of `policy`'s distribution (see the module docstring).

    Args:
      policy: a `TFPolicy` with a distribution.
      name: the module's name.

    Raises:
      TypeError: `policy` is not a `TFPolicy` or has no distribution.
    """

    def __init__(self, policy: tf_policy.TFPolicy, name: Optional[str] = None):
        super().__init__(policy, policy.emit_log_probability, "GreedyPolicy", name)

    def _modes(self, time_step: TimeStep, policy_state: NestedTensor) -> tuple:
        """The wrapped policy's `PolicyStep` and the nest of its (clipped) modes."""
        step, distributions = self._wrapped_distribution(time_step, policy_state)
        modes = [_mode(d, s) for d, s in zip(distributions, tree.flatten(self.action_spec))]
        return step, tree.unflatten_as(self.action_spec, modes)

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        step, modes = self._modes(time_step, policy_state)
        return step._replace(action=_action_distributions.deterministic(modes, self.action_spec))

    def _action(self, time_step: TimeStep, policy_state: NestedTensor,
                seed: tf_policy.Seed) -> PolicyStep:
        # The modes directly, without sampling their point masses; the
        # log-probability is set here because the base would otherwise call
        # `_distribution`, running the wrapped policy (and its network) again.
        step, modes = self._modes(time_step, policy_state)
        step = PolicyStep(modes, step.state, step.info)
        if self.emit_log_probability:
            # Certain, and the modes are clipped already.
            step = self._with_log_probability(step, None, time_step)
        return step
