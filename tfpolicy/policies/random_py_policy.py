"""`RandomPyPolicy`: uniform random numpy actions within the action spec's bounds.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = RandomPyPolicy(ts.time_step_spec(ArraySpec((3,), np.float32)),
...                         BoundedArraySpec((), np.int64, 0, 3), seed=0)
>>> step = policy.action(ts.restart(np.zeros((5, 3), np.float32), batch_size=5))
>>> step.action.shape, bool(np.all((step.action >= 0) & (step.action <= 3)))
((5,), True)
"""

from typing import Callable, Optional, Sequence

import numpy as np
import tree

from specs import array_spec
from specs import NestedArray, NestedArraySpec
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["RandomPyPolicy"]


class RandomPyPolicy(PyPolicy):
    """Samples each action leaf uniformly within its bounds (see `specs.array_spec.sample_spec_nest`).

    With `observation_and_action_constraint_splitter`, the action spec must be
    a single bounded integer of shape `()`, and the action is uniform over the
    allowed entries of each row of the mask.

    Args:
      time_step_spec: a `TimeStep` of array specs.
      action_spec: a nest of (bounded) array specs.
      info_spec: the info spec; infos are zeros of it.
      seed: seed of the numpy `Generator`.
      outer_dims: the outer dims of the actions; by default those of the time step.
      observation_and_action_constraint_splitter: `observation -> (obs, mask)`.
      policy_state_spec: the state spec; the state is passed through unchanged.
      validate_args: check inputs and outputs against the specs.

    The positional order is TF-Agents' (`info_spec` third); `policy_state_spec`
    and `validate_args` come after it.
    """

    def __init__(self, time_step_spec: TimeStep, action_spec: NestedArraySpec,
                 info_spec: NestedArraySpec = (), seed: Optional[int] = None,
                 outer_dims: Optional[Sequence[int]] = None,
                 observation_and_action_constraint_splitter: Optional[Callable] = None,
                 policy_state_spec: NestedArraySpec = (), validate_args: bool = True):
        super().__init__(time_step_spec, action_spec, policy_state_spec, info_spec,
                         observation_and_action_constraint_splitter, validate_args)
        self._rng = np.random.default_rng(seed)
        self._outer_dims = None if outer_dims is None else tuple(outer_dims)
        if observation_and_action_constraint_splitter is not None:
            leaves = tree.flatten(self.action_spec)
            if len(leaves) != 1 or leaves[0].shape != () or not array_spec.is_discrete(leaves[0]):
                raise ValueError(
                    "an action mask needs a single scalar integer action spec, got "
                    f"{self.action_spec!r}")

    def _action(self, time_step: TimeStep, policy_state: NestedArray) -> PolicyStep:
        outer = self._outer_dims
        if outer is None:
            outer = np.shape(time_step.step_type)  # the step type's shape is the batch shape
        info = array_spec.zero_spec_nest(self.info_spec, outer)
        if self.observation_and_action_constraint_splitter is None:
            action = array_spec.sample_spec_nest(self.action_spec, self._rng, outer)
            return PolicyStep(action, policy_state, info)
        _, mask = self.observation_and_action_constraint_splitter(time_step.observation)
        spec = tree.flatten(self.action_spec)[0]
        action = _sample_allowed(np.asarray(mask), self._rng) + spec.minimum
        return PolicyStep(tree.unflatten_as(self.action_spec, [action.astype(spec.dtype)]),
                          policy_state, info)


def _sample_allowed(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row of `mask` `[..., K]`, a uniformly chosen index among the nonzero entries."""
    allowed = mask.astype(bool)
    counts = allowed.sum(-1)
    if np.any(counts == 0):
        raise ValueError("the action mask allows no action in some row")
    # The k-th allowed entry, k uniform in [0, count): first index where the
    # running count of allowed entries exceeds k.
    k = rng.integers(0, counts)
    return np.argmax(np.cumsum(allowed, -1) > k[..., None], axis=-1)
