"""`PolicyWrapper`: the base of the policies that reshape another policy's distribution.

`GreedyPolicy`, `EpsilonGreedyPolicy` and `BoltzmannPolicy` take over the
wrapped policy's specs, state, splitter and `validate_args`, and build their
own distribution from the wrapped one's. A subclass implements
`_distribution` (and optionally `_action`) with `_wrapped_distribution`.

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.q_policy import QPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> q_values = lambda obs: obs[:, :1] * [1.0, 2.0, 3.0]
>>> q_policy = QPolicy(ts.time_step_spec(TensorSpec([2], tf.float32)),
...                    BoundedTensorSpec([], tf.int32, 0, 2), q_values)
>>> class Unchanged(PolicyWrapper):
...     def _distribution(self, time_step, policy_state):
...         return self._wrapped_distribution(time_step, policy_state)[0]
>>> policy = Unchanged(q_policy, emit_log_probability=False, owner="Unchanged", name=None)
>>> policy.wrapped_policy is q_policy, policy.action_spec == q_policy.action_spec
(True, True)
"""

from typing import Optional, Union

import tensorflow as tf
import tree

from specs import NestedTensor
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["PolicyWrapper"]


class PolicyWrapper(tf_policy.TFPolicy):
    """Base of policies built on another policy's distribution.

    Specs, recurrent state, splitter and `validate_args` are the wrapped
    policy's. The wrapped policy's distribution runs on every call through its
    unchecked path: this policy's `action` or `distribution` has validated the
    inputs (and validates the outputs), so nothing is checked twice, while the
    wrapped policy still resets its own state on FIRST steps (with its own
    initial state); this base therefore does not reset it a second time. The
    wrapped policy is an attribute, so its variables are this policy's
    variables.

    Args:
      policy: the wrapped `TFPolicy`; it must implement `_distribution`.
      emit_log_probability: add the log-probability of the returned action.
      owner: the wrapping class's name, for error messages.
      name: the module's name.

    Raises:
      TypeError: `policy` is not a `TFPolicy`, or has no distribution.
    """

    def __init__(self, policy: tf_policy.TFPolicy, emit_log_probability: bool, owner: str,
                 name: Optional[str]):
        if not isinstance(policy, tf_policy.TFPolicy):
            raise TypeError(f"{owner} wraps a TFPolicy, got {policy!r}")
        if not policy.has_distribution:
            raise TypeError(
                f"{owner} needs a policy with an action distribution; {type(policy).__name__} "
                "implements only `_action`")
        splitter = policy.observation_and_action_constraint_splitter
        super().__init__(
            policy.time_step_spec, policy.action_spec,
            policy_state_spec=policy.policy_state_spec,
            info_spec=policy_step.without_log_probability(policy.info_spec),
            emit_log_probability=emit_log_probability, automatic_state_reset=False,
            observation_and_action_constraint_splitter=splitter,
            validate_args=policy.validate_args, name=name)
        self._wrapped_policy = policy

    @property
    def wrapped_policy(self) -> tf_policy.TFPolicy:
        """The policy whose distribution this one builds on."""
        return self._wrapped_policy

    def _get_initial_state(self, batch_size: Union[int, tf.Tensor, None]) -> NestedTensor:
        return self._wrapped_policy.get_initial_state(batch_size)

    def _wrapped_distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> tuple:
        """The wrapped policy's `PolicyStep` and its distributions, flat in action-spec order."""
        step = self._wrapped_policy._unchecked_distribution(time_step, policy_state)
        return step, tree.flatten_up_to(self.action_spec, step.action, check_types=False)
