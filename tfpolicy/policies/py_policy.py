"""`PyPolicy`: the numpy-side policy base, with the same spec contract as `TFPolicy`.

A `PyPolicy` takes a `TimeStep` of numpy arrays and returns a
`PolicyStep` of numpy arrays. Its specs are `ArraySpec`s. Environments
written in Python and drivers that step them (`PyDriver`) speak this
interface; `PyTFEagerPolicy` puts a `TFPolicy` behind it and `TFPyPolicy`
goes the other way.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class Zero(PyPolicy):
...     def _action(self, time_step, policy_state):
...         return PolicyStep(np.zeros(np.shape(time_step.step_type), np.int64), policy_state)
>>> policy = Zero(ts.time_step_spec(ArraySpec((3,), np.float32)),
...               BoundedArraySpec((), np.int64, 0, 1))
>>> policy.action(ts.restart(np.ones((2, 3), np.float32), batch_size=2)).action
array([0, 0])
"""

import abc
from typing import Any, Callable, Optional


from specs import array_spec
from specs import nest_utils
from specs import tensor_spec
from specs import NestedArray, NestedArraySpec
from tfpolicy.policies._spec_properties import SpecProperties, check_time_step_spec
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["PyPolicy"]


class _Specs:
    __slots__ = ("time_step", "action", "policy_state", "info")

    def __init__(self, time_step: Any, action: Any, policy_state: Any, info: Any):
        self.time_step = time_step
        self.action = action
        self.policy_state = policy_state
        self.info = info


class _Checkers:
    __slots__ = ("time_step", "policy_state", "action", "state", "info")

    def __init__(self, specs: _Specs):
        checker = nest_utils.NestChecker
        self.time_step = checker(specs.time_step, name="time_step")
        self.policy_state = checker(specs.policy_state, name="policy_state")
        self.action = checker(specs.action, name="action's action")
        self.state = checker(specs.policy_state, name="action's policy_state")
        self.info = checker(specs.info, name="action's info")


class PyPolicy(SpecProperties, abc.ABC):
    """Base class of numpy policies.

    Args:
      time_step_spec: a `TimeStep` of `ArraySpec`s (tensor specs are converted).
      action_spec: a nest of `BoundedArraySpec`s.
      policy_state_spec: a nest of array specs for the state, `()` for none.
      info_spec: a nest of array specs for `PolicyStep.info`, `()` for none.
      observation_and_action_constraint_splitter: `observation -> (network
        observation, mask)` for discrete actions; see `TFPolicy`.
      validate_args: check inputs and outputs against the specs (path-named errors).

    Raises:
      TypeError: `time_step_spec` is not a `TimeStep` of specs.
    """

    # True for subclasses whose `_action` checks its own inputs (the numpy
    # bridges check each new input signature once): `action` then checks nothing.
    _checks_own_inputs = False

    def __init__(self, time_step_spec: TimeStep, action_spec: NestedArraySpec,
                 policy_state_spec: NestedArraySpec = (), info_spec: NestedArraySpec = (),
                 observation_and_action_constraint_splitter: Optional[Callable] = None,
                 validate_args: bool = True):
        check_time_step_spec(time_step_spec)
        self._specs = _Specs(
            tensor_spec.to_array_spec(time_step_spec), tensor_spec.to_array_spec(action_spec),
            tensor_spec.to_array_spec(policy_state_spec), tensor_spec.to_array_spec(info_spec))
        self._splitter = observation_and_action_constraint_splitter
        self._validate_args = validate_args
        self._check_each_step = validate_args and not self._checks_own_inputs
        # The checks of an input signature seen before cost a flatten per nest
        # (see `nest_utils.NestChecker`).
        self._checkers = _Checkers(self._specs)

    def action(self, time_step: TimeStep, policy_state: NestedArray = (),
               seed: Optional[int] = None) -> PolicyStep:
        """The action for a (batched or unbatched) numpy time step.

        Args:
          time_step: a `TimeStep` of arrays matching `time_step_spec`, outer dims `[B]` or none.
          policy_state: the state from the previous step, `()` for stateless policies.
          seed: an int seed for this call, for policies that take one (e.g.
            `PyTFEagerPolicy`); None for the policy's own randomness.

        Returns:
          `PolicyStep(action, state, info)` of numpy arrays with the time step's outer dims.

        Raises:
          TypeError, ValueError: with `validate_args`, on input or output that
            does not match its spec (the message names the nest path).
          TypeError: a seed for a policy that takes none.
        """
        if not self._check_each_step:
            if seed is None:
                return self._action(time_step, policy_state)
            return self._seeded_action(time_step, policy_state, seed)
        checkers = self._checkers
        _, outer = checkers.time_step(time_step)
        checkers.policy_state(policy_state, outer)
        if seed is None:
            step = self._action(time_step, policy_state)
        else:
            step = self._seeded_action(time_step, policy_state, seed)
        if not isinstance(step, PolicyStep):
            raise TypeError(f"action must return a PolicyStep, got {type(step).__name__}")
        checkers.action(step.action, outer)
        checkers.state(step.state, outer)
        checkers.info(step.info, outer)
        return step

    def get_initial_state(self, batch_size: Optional[int] = None) -> NestedArray:
        """The state to start episodes from, with outer dims `[batch_size]` (none if None)."""
        return self._get_initial_state(batch_size)

    @abc.abstractmethod
    def _action(self, time_step: TimeStep, policy_state: NestedArray) -> PolicyStep:
        """Returns `PolicyStep(action, new state, info)` as numpy arrays."""

    def _seeded_action(self, time_step: TimeStep, policy_state: NestedArray,
                       seed: int) -> PolicyStep:
        """`_action` with a seed for this call; policies that take seeds override it."""
        raise TypeError(f"{type(self).__name__}.action takes no seed; call it without one")

    def _get_initial_state(self, batch_size: Optional[int]) -> NestedArray:
        return array_spec.zero_spec_nest(self._specs.policy_state,
                                         () if batch_size is None else (batch_size,))
