"""`PolicyInfoUpdaterWrapper`: a policy whose info dict gains entries computed from each step.

The wrapped policy acts (or gives its distribution) as usual; then
`updater_fn(step)` returns a dict of tensors that is merged into the step's
info, a dict. A typical use tags collected data, for instance with the id of
the model that acted, so a learner can tell the sources apart.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.fixed_policy import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> fixed = FixedPolicy(2, ts.time_step_spec(TensorSpec([3], tf.float32)),
...                     BoundedTensorSpec([], tf.int32, 0, 3), emit_log_probability=False)
>>> tagged = PolicyInfoUpdaterWrapper(
...     fixed, info_spec={"model_id": TensorSpec([], tf.int32)},
...     updater_fn=lambda step: {"model_id": tf.fill(tf.shape(step.action), 7)})
>>> tagged.action(ts.restart(tf.zeros([2, 3]), batch_size=2)).info["model_id"].numpy()
array([7, 7], dtype=int32)
"""

from typing import Any, Callable, Dict, Mapping, Optional

from specs import NestedTensor, NestedTensorSpec
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["PolicyInfoUpdaterWrapper", "UpdaterFnType"]

_OWNER = "PolicyInfoUpdaterWrapper"

# Takes the wrapped policy's `PolicyStep` (its action is a nest of
# distributions when it comes from `distribution`) and returns the entries
# to set in the info dict.
UpdaterFnType = Callable[[PolicyStep], Mapping[str, Any]]


class PolicyInfoUpdaterWrapper(tf_policy.TFPolicy):
    """Merges `updater_fn(step)` into the info dict of each of a policy's steps.

    Time step, action and state specs, the splitter, `emit_log_probability`
    and `validate_args` are the wrapped policy's. Actions pass through
    unchanged (the wrapped policy clips, if it does), and the wrapped policy
    resets its own state on FIRST steps.

    Args:
      policy: the wrapped `TFPolicy`. Its info must be a dict, `()` (taken
        as an empty dict) or a `PolicyInfo` (taken as a dict of its
        `log_probability`).
      info_spec: the spec of the info after the update: a dict holding the
        wrapped policy's entries and the updater's (a `log_probability` is
        added when the wrapped policy emits one).
      updater_fn: `step -> dict` of the entries to set. It gets the
        wrapped policy's `PolicyStep` from `action` (tensors) and from
        `distribution` (its action is then a nest of distributions), and
        must handle both to serve both (as `PolicySaver` does).
      name: the module's name.

    Raises:
      TypeError: `policy` is not a `TFPolicy` or `updater_fn` is not
        callable; when acting, the wrapped info is not a dict or the updater
        returns no mapping.
    """

    def __init__(self, policy: tf_policy.TFPolicy, info_spec: NestedTensorSpec,
                 updater_fn: UpdaterFnType, name: Optional[str] = None):
        if not isinstance(policy, tf_policy.TFPolicy):
            raise TypeError(f"{_OWNER} wraps a TFPolicy, got {type(policy).__name__}: {policy!r}")
        if not callable(updater_fn):
            raise TypeError(f"{_OWNER}: updater_fn must be callable (step -> dict), got "
                            f"{updater_fn!r}")
        super().__init__(
            policy.time_step_spec, policy.action_spec,
            policy_state_spec=policy.policy_state_spec, info_spec=info_spec, clip=False,
            emit_log_probability=policy.emit_log_probability, automatic_state_reset=False,
            observation_and_action_constraint_splitter=(
                policy.observation_and_action_constraint_splitter),
            validate_args=policy.validate_args, name=name)
        self._wrapped_policy = policy
        self._updater_fn = updater_fn

    @property
    def wrapped_policy(self) -> tf_policy.TFPolicy:
        """The policy whose info is updated."""
        return self._wrapped_policy

    @property
    def has_distribution(self) -> bool:
        """The wrapped policy's: this one updates the info of its distribution step."""
        return self._wrapped_policy.has_distribution

    def _get_initial_state(self, batch_size: Any) -> NestedTensor:
        return self._wrapped_policy.get_initial_state(batch_size)

    def _action(self, time_step: TimeStep, policy_state: NestedTensor, seed: Any) -> PolicyStep:
        return self._update_info(self._wrapped_policy.action(time_step, policy_state, seed))

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        # The outer `distribution` has validated the inputs.
        return self._update_info(
            self._wrapped_policy._unchecked_distribution(time_step, policy_state))

    def _update_info(self, step: PolicyStep) -> PolicyStep:
        info = step.info
        if type(info) is tuple and not info:
            info = {}
        elif isinstance(info, policy_step.PolicyInfo):
            # The info of a policy whose only info is its log-probability.
            log_probability = policy_step.get_log_probability(info)
            info = {} if log_probability is None else {"log_probability": log_probability}
        if not isinstance(info, Mapping):
            raise TypeError(f"{_OWNER}: the wrapped policy's info must be a dict to update, got "
                            f"{type(info).__name__}: {info!r}")
        updates = self._updater_fn(step)
        if not isinstance(updates, Mapping):
            raise TypeError(f"{_OWNER}: updater_fn must return a dict of tensors, got "
                            f"{type(updates).__name__}: {updates!r}")
        merged: Dict[str, Any] = dict(info)
        merged.update(updates)
        return PolicyStep(step.action, step.state, merged)
