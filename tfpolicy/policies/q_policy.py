"""`QPolicy`: a categorical policy whose logits are a Q network's values.

The Q network maps the (network part of the) observation to one value per
action, `[B, num_actions]`; the policy's distribution is the categorical
with those values as logits (masked actions at `-inf`). Sampling it is a
Boltzmann policy at temperature 1; wrap it in `GreedyPolicy` for
`argmax_a Q(s, a)` or in `EpsilonGreedyPolicy` to explore. A recurrent Q
network's state is the policy's state: it is passed in and out and reset on
FIRST steps.

>>> import keras
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.trajectories import time_step as ts
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
>>> policy = QPolicy(ts.time_step_spec(TensorSpec([2], tf.float32)),
...                  BoundedTensorSpec([], tf.int32, 0, 2), model)
>>> policy.action(ts.restart(tf.zeros([4, 2]), batch_size=4)).action.shape
TensorShape([4])
"""

from typing import Any, Optional

import tensorflow as tf
import tree

from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy import _distributions
from tfpolicy.networks import network as network_lib
from tfpolicy.policies import _constraints
from tfpolicy.policies._spec_properties import check_time_step_spec
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["QPolicy"]

_OWNER = "QPolicy"


class QPolicy(tf_policy.TFPolicy):
    """A categorical policy over Q-values used as logits.

    Args:
      time_step_spec: a `TimeStep` of specs; its observation is the full one
        (network part and mask) when a splitter is given.
      action_spec: a single bounded integer spec of shape `()` or `(1,)`
        (possibly inside a one-leaf nest); its minimum may be nonzero.
      q_network: a network following the call contract (see
        `tfpolicy.networks.network`), or a plain Keras 3 model / `tf.Module` /
        function mapping the network observation `[B, ...]` to `[B, num_actions]`.
      emit_log_probability: add the chosen actions' log-probabilities to the info.
      observation_and_action_constraint_splitter: `observation ->
        (network_observation, mask)`; the network sees only the first part.
      validate_action_spec_and_network: run the network once here on a zero
        observation to check its output width (this also builds its
        variables); False defers the check to the first call, for networks
        that cannot run on zeros or are built elsewhere.
      validate_args: check inputs and outputs against the specs.
      name: the module's name.

    Raises:
      TypeError: `time_step_spec` is not a `TimeStep`.
      ValueError: the action spec is not a single discrete action; the
        network's output width (or the mask's) is not the number of actions.
        The mask's width is checked here; the network's here (when the
        observation spec is fully defined and
        `validate_action_spec_and_network` is True) and on every call.
    """

    def __init__(
        self,
        time_step_spec: TimeStep,
        action_spec: NestedTensorSpec,
        q_network: Any,
        emit_log_probability: bool = False,
        observation_and_action_constraint_splitter: Optional[tf_policy.Splitter] = None,
        validate_action_spec_and_network: bool = True,
        validate_args: bool = True,
        name: Optional[str] = None,
    ):
        discrete = _constraints.discrete_action(action_spec, _OWNER)
        check_time_step_spec(time_step_spec, _OWNER)
        time_step_spec = tensor_spec.from_spec(time_step_spec)
        network_spec, mask_shape = _constraints.network_observation_spec(
            time_step_spec.observation, observation_and_action_constraint_splitter, _OWNER)
        if mask_shape is not None:
            _constraints.check_mask_shape(mask_shape, discrete.num_actions, 0, _OWNER)
        q_network = network_lib.as_network(q_network, network_spec)
        super().__init__(
            time_step_spec, action_spec, policy_state_spec=q_network.state_spec,
            emit_log_probability=emit_log_probability,
            observation_and_action_constraint_splitter=observation_and_action_constraint_splitter,
            validate_args=validate_args, name=name)
        self._discrete = discrete
        self._q_network = q_network
        if validate_action_spec_and_network and all(
                s.shape.is_fully_defined() for s in tree.flatten(network_spec)):
            self._check_output_width(network_spec)

    def _check_output_width(self, network_spec: NestedTensorSpec) -> None:
        """Runs the network once on a zero batch of one (this also builds its variables)."""
        observation = tensor_spec.zero_spec_nest(network_spec, (1,))
        state = tensor_spec.zero_spec_nest(self.policy_state_spec, (1,))
        q_values, _ = self._q_network(observation, step_type=tf.zeros([1], tf.int32),
                                      network_state=state, training=False)
        self._check_q_values(q_values, outer_rank=1)

    def _check_q_values(self, q_values: Any, outer_rank: Optional[int]) -> tf.Tensor:
        q_values = tf.convert_to_tensor(q_values)
        shape = q_values.shape
        if shape.rank is None:
            return q_values
        num_actions = self._discrete.num_actions
        if (outer_rank is not None and shape.rank != outer_rank + 1) or shape.rank == 0 or (
                shape[-1] is not None and shape[-1] != num_actions):
            raise ValueError(
                f"{_OWNER}: q_network returned Q-values of shape {shape}, expected the "
                f"observation's outer dims followed by {num_actions} (one value per action of "
                f"{self._discrete.spec!r})")
        return q_values

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        outer_rank = time_step.step_type.shape.rank
        network_observation, mask = _constraints.split_observation(
            self._splitter, time_step.observation)
        q_values, state = self._q_network(network_observation, step_type=time_step.step_type,
                                          network_state=policy_state, training=False)
        logits = self._check_q_values(q_values, outer_rank)
        if mask is not None:
            mask = _constraints.check_mask(mask, self._discrete.num_actions, outer_rank, _OWNER)
            logits = _constraints.apply_mask(logits, mask)
        distribution = _distributions.categorical_for_spec(logits, self._discrete.spec)
        return PolicyStep(tree.unflatten_as(self.action_spec, [distribution]), state, ())
