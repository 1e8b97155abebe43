"""`ActorPolicy`: a policy that acts with an actor network.

The actor network maps an observation to a nest like the action spec whose
leaves are either `tfp` distributions (stochastic actors: categorical,
Normal, ...) or tensors (deterministic actors such as DDPG's, which become
`tfd.Deterministic`). The base `TFPolicy` samples, clips bounded float actions,
emits log-probabilities and resets recurrent state on FIRST steps; this module
only runs the network and turns its output into distributions.

A Keras 3 model that maps observations in the action's bounds is a
deterministic actor:

>>> import keras
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.trajectories import time_step as ts
>>> actor = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
...     2, activation="tanh", kernel_initializer="zeros", bias_initializer="ones")])
>>> policy = ActorPolicy(ts.time_step_spec(TensorSpec([3], tf.float32)),
...                      BoundedTensorSpec([2], tf.float32, -0.5, 0.5), actor)
>>> policy.action(ts.restart(tf.zeros([2, 3]), batch_size=2)).action.numpy()
array([[0.5, 0.5],
       [0.5, 0.5]], dtype=float32)
"""

from typing import Any, Optional

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy import _distributions
from tfpolicy.networks import network as network_lib
from tfpolicy.policies import _constraints
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["ActorPolicy"]

tfd = tfp.distributions

_OWNER = "ActorPolicy"
# Names the policy in the error about a splitter given with an action spec it cannot mask.
_MASKING_OWNER = ("ActorPolicy with observation_and_action_constraint_splitter (which masks a "
                  "single discrete action)")


class ActorPolicy(tf_policy.TFPolicy):
    """Samples actions from the output of an actor network.

    The network is called as `actor_network(observation, step_type=...,
    network_state=policy_state, training=training)` and returns
    `(output, new_state)`, where `output` is a nest like `action_spec` of
    `tfp` distributions or tensors; tensor leaves become `tfd.Deterministic`
    (their log-probability is 0 at the network's action and `-inf`
    elsewhere, so a clipped action that differs from it gets `-inf`).

    Unbatched time steps are given to the network with a batch dim of one,
    which is removed again from its distributions and state: the network only
    ever sees `[B]` (or `[B, T]`) observations, so a model that returns
    distributions needs no handling of unbatched inputs.

    With `observation_and_action_constraint_splitter`, the network sees only
    the network part of the observation and the mask (`[B, num_actions]`,
    nonzero where allowed) is applied to the logits of the network's
    categorical, which is rebuilt with the action spec's values (so a
    masked action is never sampled and has log-probability `-inf`).

    Args:
      time_step_spec: the `TimeStep` of specs; its observation is the full
        observation (network part and mask when a splitter is given).
      action_spec: the nest of action specs.
      actor_network: a network following the contract of
        `tfpolicy.networks.network`, or a plain model (Keras 3, `tf.Module`,
        function) mapping observations `[B, ...]` to the output nest, which
        is wrapped with `as_network`.
      policy_state_spec: the state spec; defaults to the network's `state_spec`.
      info_spec: the info spec; `ActorPolicy` itself emits no info (besides
        the log-probability), subclasses that do override `_distribution`.
      clip: clip actions of bounded float specs to their bounds.
      training: passed to the network (dropout, batch norm); see `training`.
      emit_log_probability: add the log-probability of each action to the info.
      observation_and_action_constraint_splitter: `observation -> (network
        observation, mask)`; needs a single discrete action spec.
      validate_args: check inputs and outputs against the specs.
      name: the module's name.

    Raises:
      ValueError: a splitter is given but the action spec is not a single
        bounded integer spec of shape `()` or `(1,)`.
      TypeError: a plain model must be wrapped but the splitter cannot be
        applied to the observation spec to find the network's input spec.
    """

    def __init__(
        self,
        time_step_spec: TimeStep,
        action_spec: NestedTensorSpec,
        actor_network: Any,
        policy_state_spec: Optional[NestedTensorSpec] = None,
        info_spec: NestedTensorSpec = (),
        clip: bool = True,
        training: bool = False,
        emit_log_probability: bool = False,
        observation_and_action_constraint_splitter: Optional[tf_policy.Splitter] = None,
        validate_args: bool = True,
        name: Optional[str] = None,
    ):
        splitter = observation_and_action_constraint_splitter
        discrete = None
        if splitter is not None:
            discrete = _constraints.discrete_action(action_spec, _MASKING_OWNER)
        actor_network = network_lib.as_network(
            actor_network, _network_input_spec(actor_network, time_step_spec, splitter))
        if hasattr(actor_network, "create_variables"):
            # Built now so `variables()` and `update` see every weight before the first action;
            # a network made without an input spec (TF-Agents allows it) is given the policy's.
            if getattr(actor_network, "input_tensor_spec", ()) is None:
                actor_network.create_variables(
                    _network_input_spec(_PlainModel, time_step_spec, splitter))
            else:
                actor_network.create_variables()
        if policy_state_spec is None:
            policy_state_spec = actor_network.state_spec
        super().__init__(
            time_step_spec, action_spec, policy_state_spec=policy_state_spec, info_spec=info_spec,
            clip=clip, emit_log_probability=emit_log_probability,
            observation_and_action_constraint_splitter=splitter, validate_args=validate_args,
            name=name)
        self._actor_network = actor_network
        self._training = training
        self._discrete = discrete

    @property
    def actor_network(self) -> Any:
        """The network (after `as_network`) the policy runs."""
        return self._actor_network

    @property
    def training(self) -> bool:
        """The `training` flag given to the network on every call."""
        return self._training

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        observation, mask = _constraints.split_observation(self._splitter, time_step.observation)
        step_type = time_step.step_type
        if mask is not None:
            mask = _constraints.check_mask(mask, self._discrete.num_actions, step_type.shape.rank,
                                           _OWNER)
        unbatched = step_type.shape.rank == 0
        if unbatched:
            add = lambda t: tf.expand_dims(t, 0)  # noqa: E731
            observation, step_type, policy_state = tree.map_structure(
                add, (observation, step_type, policy_state))
            mask = None if mask is None else add(mask)
        output, new_state = self._actor_network(
            observation, step_type=step_type, network_state=policy_state, training=self._training)
        distributions = self._to_distributions(output)
        if mask is not None:
            distributions = self._masked(distributions, mask)
        if unbatched:
            distributions = tree.map_structure(lambda d: d[0], distributions)
            new_state = tree.map_structure(lambda t: t[0], new_state)
        return PolicyStep(distributions, new_state)

    def _to_distributions(self, output: Any) -> Any:
        network_name = getattr(self._actor_network, "name", type(self._actor_network).__name__)
        name = f"the output of actor network {network_name!r}"
        nest_utils.assert_same_structure(output, self.action_spec, name=name)
        leaves = tree.flatten_up_to(self.action_spec, output, check_types=False)
        paths = [path for path, _ in nest_utils.flatten_with_paths(self.action_spec)]
        distributions = []
        for path, leaf in zip(paths, leaves):
            if isinstance(leaf, tfd.Distribution):
                distributions.append(leaf)
            elif tf.is_tensor(leaf):
                distributions.append(tfd.Deterministic(loc=leaf))
            else:
                raise TypeError(nest_utils.nest_error_message(
                    name, path, f"must be a tfp distribution or a tensor, got {leaf!r}"))
        return tree.unflatten_as(self.action_spec, distributions)

    def _masked(self, distributions: Any, mask: tf.Tensor) -> Any:
        """The network's categorical rebuilt for the action spec with `mask` applied."""
        spec = self._discrete.spec
        logits = _categorical_logits(tree.flatten(distributions)[0], spec)
        masked = _distributions.categorical_for_spec(_constraints.apply_mask(logits, mask), spec)
        return tree.unflatten_as(self.action_spec, [masked])


class _PlainModel:
    """Stands for a network without an input spec in `_network_input_spec`."""


def _network_input_spec(actor_network: Any, time_step_spec: TimeStep,
                        splitter: Optional[tf_policy.Splitter]) -> Any:
    """The observation spec the network is built for (only used to wrap plain models)."""
    observation_spec = tensor_spec.from_spec(time_step_spec.observation)
    if splitter is None or hasattr(actor_network, "state_spec"):
        return observation_spec
    try:
        network_spec, _ = splitter(observation_spec)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        raise TypeError(
            "ActorPolicy needs the input spec of a plain model or of a network without one, but "
            f"observation_and_action_constraint_splitter failed on the observation spec "
            f"{observation_spec!r} ({type(e).__name__}: {e}); pass a Network, whose "
            "input_tensor_spec is known, or a splitter that also splits spec nests") from e
    return network_spec


def _categorical_logits(distribution: Any, spec: tf.TensorSpec) -> tf.Tensor:
    """The `[B, K]` logits of a categorical as `categorical_for_spec` builds it for `spec`."""
    inner = distribution
    if spec.shape.rank == 1 and isinstance(distribution, tfd.Independent):
        inner = distribution.distribution
    if not isinstance(inner, tfd.Categorical):
        raise TypeError(
            "masking needs the actor network to return a categorical distribution "
            f"(tfd.Categorical, or tfd.Independent of one for a shape (1,) spec) for {spec!r}, "
            f"got {distribution!r}")
    logits = inner.logits_parameter()
    return logits[..., 0, :] if spec.shape.rank == 1 else logits
