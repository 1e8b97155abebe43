"""The TF-Agents view of a learning policy: a `TFPolicy` over the same model.

`DynamicTFPolicy.as_tf_policy(explore)` returns one. Its specs come from the
policy's spaces (the observation spec as the time step's observation, a
recurrent model's state as a tuple of specs); `_action` runs the policy's
acting step (as `compute_actions`: the model, or `action_sampler_fn` /
`action_distribution_fn`) on the time step's observation (`seq_lens` of ones
for a recurrent model: one step per call) and samples from, or takes the mode
of, the action distribution. The variables are the model's, so a weight update of the
learning policy is the view's at once, `update(tau)` moves them, and
`PolicySaver`/`export_lite` export them.
"""

from typing import Any, List, Union

import tensorflow as tf
import tree

from specs import tensor_spec
from tfpolicy import _variables
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories.policy_step import PolicyStep

__all__ = ["ModelTFPolicy"]


class ModelTFPolicy(TFPolicy):
    """A `TFPolicy` acting with a `DynamicTFPolicy`'s model and action distribution.

    Args:
      policy: the learning policy.
      explore: sample actions (True) or take the distribution's most likely ones.
    """

    def __init__(self, policy: Any, explore: bool):
        observation = tensor_spec.from_spec(policy.observation_spec)
        action = tensor_spec.from_spec(policy.action_spec)
        state = tuple(tf.TensorSpec(s.shape, s.dtype, f"state_in_{i}")
                      for i, s in enumerate(policy.get_initial_state()))
        super().__init__(ts.time_step_spec(observation), action, policy_state_spec=state,
                         clip=False, name=f"{type(policy).__name__}_tf_policy")
        # Kept out of tf.Module's attribute tracking: the variables are the
        # model's, collected deliberately (`_variables`).
        self.__dict__["_learning_policy"] = policy
        self._explore = explore

    @property
    def learning_policy(self) -> Any:
        """The `DynamicTFPolicy` this view acts for."""
        return self.__dict__["_learning_policy"]

    def _action(self, time_step: ts.TimeStep, policy_state: Any,
                seed: Union[int, tf.Tensor, None]) -> PolicyStep:
        policy = self.learning_policy
        input_dict = {"obs": time_step.observation}
        state = list(policy_state) if policy_state else []
        for i, s in enumerate(state):
            input_dict[f"state_in_{i}"] = s
        if state:
            input_dict["seq_lens"] = tf.ones(tf.shape(time_step.step_type)[:1], tf.int32)
        # The learning policy's own acting step, so that action_sampler_fn and
        # action_distribution_fn act here as they do in compute_actions.
        actions, state_out, _ = policy._action_step(input_dict, self._explore)
        actions = tree.map_structure(lambda a, s: tf.cast(a, s.dtype), actions, self.action_spec)
        return PolicyStep(actions, tuple(state_out) if state else (), ())

    def _variables(self) -> List[_variables.CollectedVariable]:
        model = self.learning_policy.model
        trainable = {id(v) for v in model.trainable_variables()}
        return [_variables.CollectedVariable(v, id(v) in trainable) for v in model.variables()]
