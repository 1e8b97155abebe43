"""`TFPolicy`: the base of every TensorFlow policy.

A policy maps a `TimeStep` (and a recurrent state) to a `PolicyStep(action,
state, info)`. The base class owns everything that is the same for all
policies, so subclasses write only the decision itself:

- validation of inputs and outputs against the specs (`validate_args`), with
  errors that name the nest path; inside `tf.function` it runs at trace time
  only;
- clipping of bounded continuous actions (`clip`);
- `info.log_probability` of the returned action (`emit_log_probability`);
- resetting the state of batch entries that start an episode
  (`automatic_state_reset`);
- soft target updates (`update(tau)`) and variable collection that sees
  Keras 3 variables as well as `tf.Variable`s.

A subclass implements `_distribution` (the default `_action` samples from it),
`_action`, or both; constructing one that implements neither raises a
`TypeError`. The default `_distribution` raises too: a policy that
implements only `_action` chooses its actions directly and has none
(`has_distribution` is False).

Policies that build on another policy (greedy, epsilon-greedy, Boltzmann,
noise) call the inner one's `_unchecked_distribution`: the outer `action` or
`distribution` has validated the inputs already, so the checks run once per
call.

Example, a policy that always picks action 1 (the module's doctest):

>>> import tensorflow_probability as tfp
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class One(TFPolicy):
...     def _distribution(self, time_step, policy_state):
...         batch = tf.shape(time_step.step_type)
...         return PolicyStep(tfp.distributions.Deterministic(tf.ones(batch, tf.int32)))
>>> policy = One(ts.time_step_spec(TensorSpec([2], tf.float32)),
...              BoundedTensorSpec([], tf.int32, 0, 1))
>>> policy.action(ts.restart(tf.zeros([3, 2]), batch_size=3)).action.numpy()
array([1, 1, 1], dtype=int32)
"""

from typing import Any, Callable, List, Optional, Union

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy import _soft_update
from tfpolicy import _variables
from tfpolicy.policies import _compiled_calls
from tfpolicy.policies import _conversion
from tfpolicy.policies import _log_probabilities
from tfpolicy.policies._spec_properties import SpecProperties, check_time_step_spec
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories import time_step as ts_lib
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["TFPolicy"]

Seed = Union[int, tf.Tensor, None]
Splitter = Callable[[NestedTensor], tuple]


class _Specs:
    """Holds the specs outside `tf.Module`'s attribute tracking, which would
    wrap dicts and tuples into its own container types."""

    __slots__ = ("time_step", "action", "policy_state", "info", "clip_bounds")

    def __init__(self, time_step: Any, action: Any, policy_state: Any, info: Any,
                 clip_bounds: list):
        self.time_step = time_step
        self.action = action
        self.policy_state = policy_state
        self.info = info
        # Per action leaf: (minimum, maximum) to clip to, or None.
        self.clip_bounds = clip_bounds


class TFPolicy(SpecProperties, tf.Module):
    """Base class of TensorFlow policies.

    Args:
      time_step_spec: a `TimeStep` of `TensorSpec`s (array specs are converted).
      action_spec: a nest of `BoundedTensorSpec`s (or `TensorSpec`s).
      policy_state_spec: a nest of specs for the recurrent state; `()` for none.
      info_spec: a nest of specs for `PolicyStep.info`; `()` for none.
      clip: clip actions of bounded float specs to their bounds.
      emit_log_probability: add `log_probability` (a nest like the action, of
        float32 scalars per batch entry) to the info and to `info_spec`.
      automatic_state_reset: on a FIRST step, replace that batch entry's state
        with the initial state.
      observation_and_action_constraint_splitter: a function
        `observation -> (network_observation, mask)` for policies over
        discrete actions; the mask has shape `[B, num_actions]`.
      validate_args: check inputs and outputs against the specs.
      name: the module's name.

    Raises:
      TypeError: the class implements neither `_distribution` nor `_action`;
        `time_step_spec` is not a `TimeStep` of specs, or a spec leaf is not
        a spec.
    """

    def __init__(
        self,
        time_step_spec: TimeStep,
        action_spec: NestedTensorSpec,
        policy_state_spec: NestedTensorSpec = (),
        info_spec: NestedTensorSpec = (),
        clip: bool = True,
        emit_log_probability: bool = False,
        automatic_state_reset: bool = True,
        observation_and_action_constraint_splitter: Optional[Splitter] = None,
        validate_args: bool = True,
        name: Optional[str] = None,
    ):
        cls = type(self)
        if cls._distribution is TFPolicy._distribution and cls._action is TFPolicy._action:
            raise TypeError(
                f"{cls.__name__} is abstract: it implements neither `_distribution` nor `_action`; "
                "a TFPolicy implements at least one of them")
        super().__init__(name=name)
        check_time_step_spec(time_step_spec)
        time_step_spec = tensor_spec.from_spec(time_step_spec)
        action_spec = tensor_spec.from_spec(action_spec)
        policy_state_spec = tensor_spec.from_spec(policy_state_spec)
        info_spec = tensor_spec.from_spec(info_spec)
        if emit_log_probability:
            info_spec = policy_step.set_log_probability(
                info_spec, _log_probabilities.log_prob_spec(action_spec))
        clip_bounds = [
            (s.minimum, s.maximum) if (clip and tensor_spec.is_bounded(s) and s.dtype.is_floating)
            else None
            for s in tree.flatten(action_spec)
        ]
        self._specs = _Specs(time_step_spec, action_spec, policy_state_spec, info_spec, clip_bounds)
        self._clip = clip
        self._emit_log_probability = emit_log_probability
        self._automatic_state_reset = automatic_state_reset
        self._splitter = observation_and_action_constraint_splitter
        self._validate_args = validate_args
        self._has_state = bool(tree.flatten(policy_state_spec))
        self._run_eagerly = False
        self._compiled_action: Optional[_compiled_calls.CompiledCall] = None
        self._compiled_distribution: Optional[_compiled_calls.CompiledCall] = None

    # ---- specs and flags ----------------------------------------------------

    @property
    def emit_log_probability(self) -> bool:
        return self._emit_log_probability

    @property
    def clip(self) -> bool:
        """Whether actions of bounded float specs are clipped to their bounds."""
        return self._clip

    @property
    def has_distribution(self) -> bool:
        """False for a policy that implements only `_action` (its `distribution()` raises)."""
        return type(self)._distribution is not TFPolicy._distribution

    # ---- public API -----------------------------------------------------------

    @property
    def run_eagerly(self) -> bool:
        """Whether eager `action` calls run op by op instead of compiled (default False).

        Set it to True to debug `_action`/`_distribution` with Python
        breakpoints, prints or `.numpy()`; `tf.config.run_functions_eagerly(True)`
        has the same effect on every policy. A policy that wraps another
        (`_wrapped_policy`: greedy, epsilon-greedy, Boltzmann, noise) runs
        eagerly when the wrapped one does.
        """
        if self._run_eagerly:
            return True
        wrapped = getattr(self, "_wrapped_policy", None)
        return isinstance(wrapped, TFPolicy) and wrapped.run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self._run_eagerly = bool(value)

    def action(self, time_step: TimeStep, policy_state: NestedTensor = (),
               seed: Seed = None) -> PolicyStep:
        """The policy's action for a (batched or unbatched) time step.

        Called eagerly without a seed, the action runs as a compiled function:
        the first call with a new input signature (dtypes, shapes) checks the
        inputs and, for a new outer rank, traces `action` once; later calls run
        the traced graph (see `_compiled_calls.py`). Python side effects in
        `_action`/`_distribution` therefore happen once per trace, not per
        call; set `run_eagerly = True` (or `tf.config.run_functions_eagerly(True)`)
        to run them op by op. Inside `tf.function`, and with a `seed`, the
        action is built as written.

        Args:
          time_step: a `TimeStep` matching `time_step_spec`, with outer dims
            `[B]` (batched) or none.
          policy_state: the state from the previous step (or
            `get_initial_state(B)`), `()` for stateless policies.
          seed: an int seed for the sampling, or None.

        Returns:
          `PolicyStep(action, state, info)` with the same outer dims as `time_step`.

        Raises:
          TypeError, ValueError: with `validate_args`, when an input or output
            does not match its spec; the message names the nest path.
        """
        if (seed is None and not self.run_eagerly and tf.executing_eagerly()
                and not tf.config.functions_run_eagerly()):
            compiled = self._compiled_action
            if compiled is None:
                compiled = self._compiled_action = _compiled_calls.CompiledCall(self, "action")
            step = compiled(time_step, policy_state)
            if step is not None:
                return step
        return self._eager_action(time_step, policy_state, seed)

    def _eager_action(self, time_step: TimeStep, policy_state: NestedTensor, seed: Seed,
                      checked_outer: Optional[tuple] = None) -> PolicyStep:
        """`action` built op by op: what the compiled call traces, with the outer
        dims of inputs it has checked already as `checked_outer`."""
        if checked_outer is not None:
            outer = checked_outer
        else:
            outer = self._check_inputs(time_step, policy_state) if self._validate_args else None
        time_step, policy_state = self._converted_inputs(time_step, policy_state)
        dist_step = None
        if type(self)._action is TFPolicy._action:
            # Sampled here rather than by the default `_action`, so the
            # log-probability below reuses these distributions.
            dist_step = self._distribution(time_step, policy_state)
            step = self._sample_step(dist_step, seed)
        else:
            step = self._action(time_step, policy_state, seed)
        if self._clip:
            step = step._replace(action=self._clip_action(step.action))
        if self._emit_log_probability and policy_step.get_log_probability(step.info, None) is None:
            if dist_step is None:
                if not self.has_distribution:
                    raise TypeError(
                        f"{type(self).__name__}: emit_log_probability=True, but its `_action` did "
                        "not set info.log_probability and it has no distribution to compute it "
                        "from")
                dist_step = self._distribution(time_step, policy_state)
            step = self._with_log_probability(step, dist_step.action, time_step)
        if self._validate_args:
            self._check_output(step, outer, "action")
        return step

    def distribution(self, time_step: TimeStep, policy_state: NestedTensor = ()) -> PolicyStep:
        """The action distribution for a time step.

        Returns:
          `PolicyStep(action=<nest of tfp distributions like action_spec>,
          state, info)`; the info carries no log-probability (there is no action).

        Called eagerly, it is compiled as `action` is, when the distributions
        are composite tensors (TFP's are) and can leave a graph.

        Raises:
          TypeError: for a policy that implements only `_action`, and (with
            `validate_args`) for inputs or outputs that do not match their specs.
        """
        if (self.has_distribution and not self.run_eagerly and tf.executing_eagerly()
                and not tf.config.functions_run_eagerly()):
            compiled = self._compiled_distribution
            if compiled is None:
                compiled = self._compiled_distribution = _compiled_calls.CompiledCall(
                    self, "distribution")
            step = compiled(time_step, policy_state)
            if step is not None:
                return step
        return self._eager_distribution(time_step, policy_state)

    def _eager_distribution(self, time_step: TimeStep, policy_state: NestedTensor,
                            checked_outer: Optional[tuple] = None) -> PolicyStep:
        """`distribution` built op by op (see `_eager_action`)."""
        if checked_outer is not None:
            outer = checked_outer
        else:
            outer = self._check_inputs(time_step, policy_state) if self._validate_args else None
        step = self._unchecked_distribution(time_step, policy_state)
        if self._validate_args:
            nest_utils.check_nest(step.state, self._specs.policy_state, outer_shape=outer,
                                  name="distribution's policy_state")
            nest_utils.check_nest(step.info, policy_step.without_log_probability(self._specs.info),
                                  outer_shape=outer, name="distribution's info")
        return step

    def get_initial_state(self, batch_size: Union[int, tf.Tensor, None]) -> NestedTensor:
        """The state to start episodes from: outer dims `[batch_size]`, none if None."""
        return self._get_initial_state(batch_size)

    def variables(self) -> List[tf.Variable]:
        """Every variable of the policy, Keras 3 ones included, in a stable order."""
        return [c.variable for c in self._variables()]

    @property
    def trainable_variables(self) -> List[tf.Variable]:
        """The variables a learner trains (Keras' `trainable` flags respected)."""
        return [c.variable for c in self._variables() if c.trainable]

    def update(self, policy: "TFPolicy", tau: Union[float, tf.Tensor] = 1.0,
               tau_non_trainable: Union[float, tf.Tensor, None] = None,
               sort_variables_by_name: bool = False) -> None:
        """Moves this policy's variables towards `policy`'s: `v = tau * src + (1 - tau) * v`.

        Args:
          policy: the source policy, with the same variables (count, shapes, dtypes).
          tau: weight of the source for trainable variables; 1.0 copies.
          tau_non_trainable: the same for non-trainable variables; `tau` if None.
          sort_variables_by_name: pair variables by sorted name instead of by
            collection order.

        Integer and bool variables (such as Keras' seed-generator state) are
        copied when the weight is exactly 1 and otherwise left alone.

        Inside `tf.function` the assignments run through automatic control
        dependencies, so nothing is returned (TF-Agents returns a grouped op, a
        TF1 habit that `tf.function` cannot return).

        Raises:
          ValueError: the two variable lists differ in length, or a pair in
            shape or dtype; the message lists the offending pairs.
        """
        targets = self._variables()
        sources = policy._variables()
        if sort_variables_by_name:
            targets = sorted(targets, key=lambda c: c.variable.name)
            sources = sorted(sources, key=lambda c: c.variable.name)
        _soft_update.soft_update(sources, targets, tau, tau_non_trainable)

    # ---- subclass hooks --------------------------------------------------------

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        """Returns `PolicyStep(nest of distributions, new state, info)`.

        The default is for policies that implement only `_action`: they have
        no distribution.
        """
        raise TypeError(
            f"{type(self).__name__} chooses its actions directly (it implements `_action` only) "
            "and has no action distribution; call `action` instead of `distribution`")

    def _action(self, time_step: TimeStep, policy_state: NestedTensor, seed: Seed) -> PolicyStep:
        """Returns `PolicyStep(action, new state, info)`; the default samples `_distribution`.

        An implementation that emits log-probabilities itself (because it
        holds the distributions its action came from) sets them with
        `_with_log_probability`; otherwise `action` computes them from
        `_distribution`.
        """
        return self._sample_step(self._distribution(time_step, policy_state), seed)

    def _get_initial_state(self, batch_size: Union[int, tf.Tensor, None]) -> NestedTensor:
        outer = () if batch_size is None else (
            tf.reshape(batch_size, [1]) if isinstance(batch_size, tf.Tensor) else (batch_size,))
        return tensor_spec.zero_spec_nest(self._specs.policy_state, outer)

    def _variables(self) -> List[_variables.CollectedVariable]:
        return _variables.collect_variables(self)

    # ---- internals -------------------------------------------------------------

    def _check_inputs(self, time_step: TimeStep, policy_state: NestedTensor) -> tuple:
        """Validates the inputs against the specs; returns their outer dims."""
        outer = nest_utils.check_nest(time_step, self._specs.time_step, name="time_step")
        nest_utils.check_nest(policy_state, self._specs.policy_state, outer_shape=outer,
                              name="policy_state")
        return outer

    def _converted_inputs(self, time_step: TimeStep, policy_state: NestedTensor) -> tuple:
        """The inputs as tensors, with the state of entries on a FIRST step reset."""
        time_step = _conversion.to_tensors(time_step, self._specs.time_step)
        if self._has_state:
            policy_state = _conversion.to_tensors(policy_state, self._specs.policy_state)
            if self._automatic_state_reset:
                policy_state = self._reset_state_on_first(time_step, policy_state)
        return time_step, policy_state

    def _unchecked_distribution(self, time_step: TimeStep,
                                policy_state: NestedTensor) -> PolicyStep:
        """`distribution` without validation, for a policy that wraps this one and has
        validated the inputs itself (the state is still reset on FIRST steps)."""
        time_step, policy_state = self._converted_inputs(time_step, policy_state)
        return self._distribution(time_step, policy_state)

    def _reset_state_on_first(self, time_step: TimeStep, policy_state: NestedTensor) -> NestedTensor:
        is_first = tf.equal(time_step.step_type, ts_lib.StepType.FIRST)
        initial = self._get_initial_state(None)

        def reset(init: tf.Tensor, state: tf.Tensor) -> tf.Tensor:
            # Broadcast the per-entry flag over the state's inner dims.
            mask = tf.reshape(is_first, tf.concat(
                [tf.shape(is_first), tf.ones([init.shape.rank], tf.int32)], 0))
            return tf.where(mask, tf.cast(init, state.dtype), state)

        return tree.map_structure(reset, initial, policy_state)

    def _sample_step(self, dist_step: PolicyStep, seed: Seed) -> PolicyStep:
        """`dist_step` with its distributions replaced by a sample of them."""
        return PolicyStep(self._sample(dist_step.action, seed), dist_step.state, dist_step.info)

    def _sample(self, distributions: Any, seed: Seed) -> NestedTensor:
        leaves = tree.flatten_up_to(self._specs.action, distributions, check_types=False)
        if seed is None or len(leaves) == 1:
            seeds = [seed] * len(leaves)
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(len(leaves))]
        else:
            # A stateless (tensor) seed is split so leaves get independent draws.
            seeds = tfp.random.split_seed(seed, n=len(leaves))
        samples = [d.sample(seed=s) for d, s in zip(leaves, seeds)]
        return tree.unflatten_as(self._specs.action, samples)

    def _clip_action(self, action: NestedTensor) -> NestedTensor:
        bounds = self._specs.clip_bounds
        if not any(b is not None for b in bounds):
            return action
        leaves = tree.flatten_up_to(self._specs.action, action, check_types=False)
        clipped = [
            a if b is None else tf.clip_by_value(a, b[0], b[1])
            for a, b in zip(leaves, bounds)
        ]
        return tree.unflatten_as(self._specs.action, clipped)

    def _with_log_probability(self, step: PolicyStep, distributions: Any,
                              time_step: TimeStep) -> PolicyStep:
        """`step` with `info.log_probability` of its action: the one place that sets it.

        Args:
          step: a step whose action is the one `action` returns (already
            clipped, when the policy clips).
          distributions: a nest like the action spec of the distributions the
            action was drawn from (anything with `log_prob`; element-wise
            log-densities are summed), or None for an action that is certain
            given the time step (log-probability 0).
          time_step: the time step acted on; its outer dims are the log-probabilities'.
        """
        if distributions is None:
            log_probs = _log_probabilities.certain_log_probabilities(
                tf.shape(time_step.step_type), self._specs.action)
        else:
            log_probs = _log_probabilities.log_probabilities(distributions, step.action,
                                                             self._specs.action)
        return step._replace(info=policy_step.set_log_probability(step.info, log_probs))

    def _check_output(self, step: PolicyStep, outer: tuple, what: str) -> None:
        nest_utils.check_nest(step.action, self._specs.action, outer_shape=outer,
                              name=f"{what}'s action")
        nest_utils.check_nest(step.state, self._specs.policy_state, outer_shape=outer,
                              name=f"{what}'s policy_state")
        nest_utils.check_nest(step.info, self._specs.info, outer_shape=outer,
                              name=f"{what}'s info")

