"""`NoiseWrapper`: the base of the exploration-noise policies (`GaussianPolicy`, `OUNoisePolicy`).

A noise policy wraps a policy with float actions only and a distribution,
and centres its noise on the mode of that distribution (the action, for a
deterministic actor). It takes over the wrapped policy's time step, action
and info specs, `validate_args` and `emit_log_probability`; the
log-probability it emits is of its own (noisy) action, so the wrapped one's
is dropped from the info spec and re-added by the base.

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.fixed_policy import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> spec = BoundedTensorSpec([2], tf.float32, -1.0, 1.0)
>>> fixed = FixedPolicy([0.5, -0.5], ts.time_step_spec(TensorSpec([3], tf.float32)), spec)
>>> class Centred(NoiseWrapper):
...     def _distribution(self, time_step, policy_state):
...         step, modes = self._wrapped_modes(time_step, policy_state)
...         return step._replace(action=independent_normal(modes[0], 0.1, self.action_spec))
>>> policy = Centred(fixed, policy_state_spec=(), clip=True, owner="Centred", name=None)
>>> policy.distribution(ts.restart(tf.zeros([4, 3]), batch_size=4)).action.mean().numpy()[0]
array([ 0.5, -0.5], dtype=float32)
"""

from typing import Any, List, Optional, Tuple

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.policies import _action_distributions
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["NoiseWrapper", "independent_normal"]

tfd = tfp.distributions


class NoiseWrapper(tf_policy.TFPolicy):
    """Base of policies that add noise around the mode of a wrapped policy's distribution.

    Args:
      wrapped_policy: a `TFPolicy` with float actions only, that has a
        distribution (implements `_distribution`).
      policy_state_spec: this policy's state spec.
      clip: clip actions to the bounds of bounded specs.
      owner: the subclass's name, for error messages.
      name: the module's name.

    Raises:
      ValueError: an action spec is not a float spec.
      TypeError: the wrapped policy has no distribution.
    """

    def __init__(self, wrapped_policy: tf_policy.TFPolicy, policy_state_spec: NestedTensorSpec,
                 clip: bool, owner: str, name: Optional[str]):
        _check_wrappable(wrapped_policy, owner)
        super().__init__(
            wrapped_policy.time_step_spec, wrapped_policy.action_spec,
            policy_state_spec=policy_state_spec,
            info_spec=policy_step.without_log_probability(wrapped_policy.info_spec),
            clip=clip, emit_log_probability=wrapped_policy.emit_log_probability,
            validate_args=wrapped_policy.validate_args, name=name)
        self._wrapped_policy = wrapped_policy

    @property
    def wrapped_policy(self) -> tf_policy.TFPolicy:
        """The policy whose actions get the noise."""
        return self._wrapped_policy

    def _wrapped_modes(self, time_step: TimeStep,
                       policy_state: NestedTensor) -> Tuple[PolicyStep, List[tf.Tensor]]:
        """The wrapped policy's distribution step (at the wrapped policy's state
        `policy_state`) and the flat list of its per-leaf modes (`[..outer] + shape`).

        The wrapped policy runs unchecked (this policy validates) but still
        resets its state on FIRST steps."""
        step = self._wrapped_policy._unchecked_distribution(time_step, policy_state)
        leaves = tree.flatten_up_to(self.action_spec, step.action, check_types=False)
        return step, [d.mode() for d in leaves]


def _check_wrappable(policy: tf_policy.TFPolicy, owner: str) -> None:
    """Raises unless `policy` has only float actions and a distribution to take modes of.

    Raises:
      ValueError: an action spec is not a float spec; the message names its path.
      TypeError: `policy` implements only `_action`.
    """
    for path, spec in nest_utils.flatten_with_paths(policy.action_spec):
        if not spec.dtype.is_floating:
            raise ValueError(nest_utils.nest_error_message(
                "the wrapped policy's action spec", path,
                f"noise applies to continuous actions only, got {spec!r}; wrap only the "
                "continuous part of the policy", owner=owner))
    if not policy.has_distribution:
        raise TypeError(
            f"{owner} adds noise around the mode of the wrapped policy's distribution, but "
            f"{type(policy).__name__} implements `_action` only and has no distribution")


def independent_normal(loc: tf.Tensor, scale: Any, spec: tf.TensorSpec) -> tfd.Distribution:
    """`Normal(loc, scale)` whose elements for one spec form one event (log-prob `[..outer]`)."""
    return _action_distributions.independent(
        tfd.Normal(loc=loc, scale=tf.cast(scale, loc.dtype)), spec)
