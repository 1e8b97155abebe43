"""The exported form of a policy's action distribution: parameter tensors per
action leaf, and the traced `distribution` functions that return them.

A SavedModel cannot return `tfp` distribution objects, so each action leaf's
distribution is exported as its parameters: `Categorical` (`logits`; the
logit at index `k` is that of the action `minimum + k`, recorded as
`shift`), `Deterministic` (`loc`), `Normal` (`loc`, `scale`), `Uniform`
(`low`, `high`), `Bernoulli` (`logits`), or `Independent` of one of these
(its inner parameters, with the reinterpreted dims added to `event_ndims`).
Any other distribution raises `Unrepresentable`, which `PolicySaver` turns
into a note instead of failing the export.

>>> import tensorflow_probability as tfp
>>> dist = tfp.distributions.Independent(tfp.distributions.Normal(tf.zeros([3, 2]), 1.0), 1)
>>> params, description = distribution_parameters(dist, "move")
>>> sorted(params), params["scale"].shape, description
(['loc', 'scale'], TensorShape([3, 2]), {'distribution': 'Normal', 'event_ndims': 1})
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from savers import _nests
from savers import _signatures
from specs.nest_utils import nest_error_message
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories import policy_step as policy_step_lib
from tfpolicy.trajectories.policy_step import PolicyStep

__all__ = ["Unrepresentable", "distribution_parameters", "DistributionFunctions"]

_WHAT = "the distribution of the action"

tfd = tfp.distributions

_EXPORTED_DISTRIBUTIONS = ("Categorical, Deterministic, Normal, Uniform, Bernoulli, and "
                           "Independent of these")


class Unrepresentable(Exception):
    """Raised while tracing `distribution` for a distribution without an exported form."""


def distribution_parameters(distribution: Any, path: str) -> Tuple[Dict[str, tf.Tensor],
                                                                   Dict[str, Any]]:
    """The exported parameters of one action leaf's distribution and their description.

    Raises:
      Unrepresentable: the distribution has no exported form.
    """
    event_ndims = 0
    inner = distribution
    while isinstance(inner, tfd.Independent):
        ndims = tf.get_static_value(inner.reinterpreted_batch_ndims)
        if ndims is None:
            raise Unrepresentable(
                nest_error_message(_WHAT, path,
                                   "an Independent whose reinterpreted_batch_ndims is only "
                                   "known at run time"))
        event_ndims += int(ndims)
        inner = inner.distribution
    full = lambda t: tf.broadcast_to(t, inner.batch_shape_tensor())  # noqa: E731
    if isinstance(inner, tfd.Categorical):
        params = {"logits": inner.logits_parameter()}
        description = {"distribution": "Categorical", "shift": int(getattr(inner, "shift", 0))}
    elif isinstance(inner, tfd.Deterministic):
        params = {"loc": full(inner.loc)}
        description = {"distribution": "Deterministic"}
    elif isinstance(inner, tfd.Normal):
        params = {"loc": full(inner.loc), "scale": full(inner.scale)}
        description = {"distribution": "Normal"}
    elif isinstance(inner, tfd.Uniform):
        params = {"low": full(inner.low), "high": full(inner.high)}
        description = {"distribution": "Uniform"}
    elif isinstance(inner, tfd.Bernoulli):
        params = {"logits": inner.logits_parameter()}
        description = {"distribution": "Bernoulli"}
    else:
        raise Unrepresentable(nest_error_message(
            _WHAT, path,
            f"a {type(inner).__name__}, which has no exported parameter form "
            f"(exported: {_EXPORTED_DISTRIBUTIONS})"))
    description["event_ndims"] = event_ndims
    return {k: tf.convert_to_tensor(v) for k, v in params.items()}, description


class DistributionFunctions:
    """The nested and the flat `distribution` functions of an export.

    Args:
      policy: the policy (with a distribution).
      input_leaves: the `action` signature's input leaves (state leaves last).
      state_leaves: the state's leaves, named once for every signature.
      use_nest_paths: the saver's `use_nest_path_signatures`.
      outer: the outer (batch) dims of every leaf.
      unflatten_inputs: flat signature inputs (name -> tensor) ->
        `(time_step, policy_state)`.

    After `trace`: `outputs` holds the flat signature's output leaves and
    `parameters` the `policy_specs.json` description of each parameter output.
    """

    def __init__(self, policy: TFPolicy, input_leaves: Sequence[Any],
                 state_leaves: List[Any], use_nest_paths: bool,
                 outer: Tuple[Optional[int], ...],
                 unflatten_inputs: Callable[[Dict[str, tf.Tensor]], Tuple[Any, Any]]):
        self._policy = policy
        self._input_leaves = input_leaves
        self._state_leaves = state_leaves
        self._use_nest_paths = use_nest_paths
        self._outer = outer
        self._unflatten_inputs = unflatten_inputs
        self._info_spec = policy_step_lib.without_log_probability(policy.info_spec)
        self._paths = ["/".join(str(c) for c in path)
                       for path, _ in tree.flatten_with_path(policy.action_spec)]
        self._descriptions: List[Dict[str, Any]] = []
        self.outputs: List[Any] = []
        self.parameters: List[Dict[str, Any]] = []

    def nested(self, time_step: Any, policy_state: Any) -> PolicyStep:
        """`PolicyStep` whose action is a nest like the action spec of `{parameter: tensor}`."""
        action_spec = self._policy.action_spec
        step = self._policy.distribution(time_step, policy_state)
        distributions = tree.flatten_up_to(action_spec, step.action, check_types=False)
        params = [distribution_parameters(d, path) for d, path in zip(distributions, self._paths)]
        self._descriptions = [description for _, description in params]
        return PolicyStep(tree.unflatten_as(action_spec, [p for p, _ in params]), step.state,
                          step.info)

    def flat(self, inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        """The flat signature: named inputs in, named parameters, state and info out."""
        action_spec, info_spec = self._policy.action_spec, self._info_spec
        state_names = [leaf.name for leaf in self._state_leaves]
        step = self.nested(*self._unflatten_inputs(inputs))
        # Output names depend on the parameters, known only now.
        param_leaves = _signatures.flat_leaves(
            [(("distribution",), tree.map_structure(
                lambda t: tf.TensorSpec(t.shape, t.dtype), step.action))],
            self._use_nest_paths, (), reserved=state_names)
        info_leaves = _signatures.flat_leaves(
            [(("info",), info_spec)], self._use_nest_paths, self._outer,
            reserved=state_names + [leaf.name for leaf in param_leaves])
        self.outputs = param_leaves + self._state_leaves + info_leaves
        entries = []
        for leaf_params, path, description in zip(
                tree.flatten_up_to(action_spec, step.action, check_types=False), self._paths,
                self._descriptions):
            for parameter in sorted(leaf_params):  # dm-tree's order of dict keys
                entries.append(dict({"name": param_leaves[len(entries)].name,
                                     "action_path": path, "parameter": parameter},
                                    **description))
        self.parameters = entries
        outputs = (tree.flatten(step.action)
                   + _nests.flat_like(self._policy.policy_state_spec, step.state)
                   + _nests.flat_like(info_spec, step.info))
        return {leaf.name: t for leaf, t in zip(self.outputs, outputs)}

    def trace(self, nested_signature: List[Any]) -> Tuple[Any, List[Any]]:
        """The nested `tf.function` and the concrete functions `[nested, flat]`.

        Raises:
          Unrepresentable: a distribution has no exported form; and whatever
            the policy raises while tracing.
        """
        signature = {leaf.name: leaf.spec for leaf in self._input_leaves}
        nested = tf.function(self.nested, input_signature=nested_signature, autograph=False)
        concrete = [nested.get_concrete_function(),
                    tf.function(self.flat, input_signature=[signature],
                                autograph=False).get_concrete_function()]
        return nested, concrete
