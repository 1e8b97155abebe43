"""`TemporalActionSmoothing`: an exponential moving average over a policy's actions.

With smoothing coefficient `c`, the action returned at step `t` is

    smoothed_t = c * smoothed_{t-1} + (1 - c) * action_t,

where `action_t` is the wrapped policy's action and `smoothed_{-1} = 0`.
The average is part of the policy state, `(wrapped state, smoothed action)`,
so it is reset to zero, with the wrapped state, on every FIRST step; the
first action of an episode is therefore `(1 - c) * action_0`. Bounded
actions are clipped to their bounds after smoothing (the state keeps the
unclipped average).

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.fixed_policy import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> fixed = FixedPolicy([1.0], ts.time_step_spec(TensorSpec([2], tf.float32)),
...                     BoundedTensorSpec([1], tf.float32, -2.0, 2.0))
>>> policy = TemporalActionSmoothing(fixed, smoothing_coefficient=0.5)
>>> state = policy.get_initial_state(batch_size=1)
>>> step = policy.action(ts.restart(tf.zeros([1, 2]), batch_size=1), state)
>>> next_step = ts.transition(tf.zeros([1, 2]), tf.zeros([1]))
>>> step.action.numpy(), policy.action(next_step, step.state).action.numpy()
(array([[0.5]], dtype=float32), array([[0.75]], dtype=float32))
"""

from typing import Optional, Union

import tensorflow as tf
import tree

from specs import nest_utils
from specs import NestedTensor
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["TemporalActionSmoothing"]

_OWNER = "TemporalActionSmoothing"


class TemporalActionSmoothing(tf_policy.TFPolicy):
    """Smooths a policy's (float) actions with an exponential moving average.

    Time step, action and info specs are the wrapped policy's (without a
    log-probability: the smoothed action has no distribution, so `distribution`
    raises); the state spec is `(policy.policy_state_spec, policy.action_spec)`.

    Args:
      policy: the `TFPolicy` whose actions are smoothed; its actions must be floats.
      smoothing_coefficient: `c` in `[0, 1]`, the weight of the previous
        smoothed action (0 returns the wrapped actions unchanged); a float, a
        scalar tensor or a `tf.Variable` (read on every call).
      name: the module's name.

    Raises:
      TypeError: `policy` is not a `TFPolicy`.
      ValueError: an action spec is not a float spec (its path named), or a
        Python `smoothing_coefficient` lies outside `[0, 1]`.
    """

    def __init__(self, policy: tf_policy.TFPolicy,
                 smoothing_coefficient: Union[float, tf.Tensor, tf.Variable],
                 name: Optional[str] = None):
        if not isinstance(policy, tf_policy.TFPolicy):
            raise TypeError(f"{_OWNER} wraps a TFPolicy, got {type(policy).__name__}: {policy!r}")
        for path, spec in nest_utils.flatten_with_paths(policy.action_spec):
            if not spec.dtype.is_floating:
                raise ValueError(nest_utils.nest_error_message(
                    "the wrapped policy's action spec", path,
                    f"smoothing averages continuous actions only, got {spec!r}", owner=_OWNER))
        if (isinstance(smoothing_coefficient, (int, float))
                and not 0.0 <= smoothing_coefficient <= 1.0):
            raise ValueError(f"{_OWNER}: smoothing_coefficient must lie in [0, 1], got "
                             f"{smoothing_coefficient}")
        super().__init__(
            policy.time_step_spec, policy.action_spec,
            policy_state_spec=(policy.policy_state_spec, policy.action_spec),
            info_spec=policy_step.without_log_probability(policy.info_spec),
            clip=policy.clip, validate_args=policy.validate_args, name=name)
        self._wrapped_policy = policy
        self._smoothing_coefficient = smoothing_coefficient

    @property
    def wrapped_policy(self) -> tf_policy.TFPolicy:
        """The policy whose actions are smoothed."""
        return self._wrapped_policy

    @property
    def smoothing_coefficient(self) -> Union[float, tf.Tensor, tf.Variable]:
        """`c`, the weight of the previous smoothed action."""
        return self._smoothing_coefficient

    def _get_initial_state(self, batch_size: Union[int, tf.Tensor, None]) -> NestedTensor:
        # The base's zero state holds the zero average; the wrapped policy
        # gives its own initial state (not necessarily zeros).
        return (self._wrapped_policy.get_initial_state(batch_size),
                super()._get_initial_state(batch_size)[1])

    def _action(self, time_step: TimeStep, policy_state: NestedTensor, seed) -> PolicyStep:
        wrapped_state, previous = policy_state
        step = self._wrapped_policy.action(time_step, wrapped_state, seed)

        def smooth(previous_leaf: tf.Tensor, action_leaf: tf.Tensor) -> tf.Tensor:
            c = tf.cast(self._smoothing_coefficient, action_leaf.dtype)
            return c * previous_leaf + (1.0 - c) * action_leaf

        smoothed = tree.map_structure_up_to(self.action_spec, smooth, previous, step.action)
        return PolicyStep(smoothed, (step.state, smoothed),
                          policy_step.without_log_probability(step.info))
