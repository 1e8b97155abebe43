"""`ScriptedPyPolicy`: numpy actions read off a fixed script, ignoring the observations.

The script is a list of `(num_repeats, action)` pairs: the policy returns
the first action `num_repeats` times, then the second, and so on; an entry
with `num_repeats <= 0` is skipped. The position in the script is the
policy state, `[action_index, num_repeats]` (the entry being played and how
often it was played), so pass each step's state to the next call. Asking
for an action after the script ran out raises ValueError: as in TF-Agents,
the state is not reset when an episode ends, so keep episodes within the
script's length (e.g. with a time limit).

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = ScriptedPyPolicy(ts.time_step_spec(ArraySpec((), np.float32)),
...                           BoundedArraySpec((), np.int32, 0, 9),
...                           action_script=[(2, 7), (0, 8), (1, 9)])
>>> state, actions = policy.get_initial_state(), []
>>> for _ in range(3):
...     step = policy.action(ts.restart(np.float32(0)), state)
...     actions.append(int(step.action))
...     state = step.state
>>> actions, [int(x) for x in state]
([7, 7, 9], [2, 1])
"""

import operator
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import tree

from specs import ArraySpec
from specs import NestedArray, NestedArraySpec
from specs import nest_utils
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["ScriptedPyPolicy"]

_STATE_SPEC = [ArraySpec((), np.int64, name="action_index"),
               ArraySpec((), np.int64, name="num_repeats")]


class ScriptedPyPolicy(PyPolicy):
    """Plays back `(num_repeats, action)` pairs, whatever the time steps say.

    Every entry is checked against the action spec when the policy is made.
    A batched time step (outer dims `[B]`) gets the scripted action for each
    entry, each following its own row of the state.

    Args:
      time_step_spec: the `TimeStep` spec of the environment; None (as
        TF-Agents allows) for an empty one, in which case time steps and
        states are not checked.
      action_spec: a nest of (bounded) array specs.
      action_script: a sequence of `(num_repeats, action)` pairs; `action`
        is a nest of the action spec's structure whose leaves are arrays or
        (nested) lists convertible without loss to the leaves' dtypes.

    Raises:
      TypeError: `action_script` is not a sequence, or a `num_repeats` is not
        an integer (the message names the entry).
      ValueError: an entry is not a pair, or its action does not match the
        action spec in structure, shape, dtype or bounds (the message names
        the entry and the path, and gives the expected spec).
    """

    def __init__(self, time_step_spec: Optional[TimeStep], action_spec: NestedArraySpec,
                 action_script: Sequence[Tuple[int, NestedArray]]):
        validate = time_step_spec is not None
        if time_step_spec is None:
            time_step_spec = ts.time_step_spec()
        super().__init__(time_step_spec, action_spec, policy_state_spec=_STATE_SPEC,
                         validate_args=validate)
        self._action_script = _checked_script(action_script, self.action_spec)

    @property
    def action_script(self) -> List[Tuple[int, NestedArray]]:
        """The script, with actions converted to arrays of the spec's dtypes."""
        return list(self._action_script)

    def action(self, time_step: TimeStep, policy_state: NestedArray = (),
               seed: Optional[int] = None) -> PolicyStep:
        """The next scripted action (see `PyPolicy.action`).

        `policy_state` None or `()` starts from the beginning of the script.

        Raises:
          ValueError: the script ran out.
        """
        if policy_state is None or (isinstance(policy_state, tuple) and not policy_state):
            outer = np.shape(time_step.step_type)
            policy_state = self.get_initial_state(outer[0] if outer else None)
        return super().action(time_step, policy_state, seed)

    def _action(self, time_step: TimeStep, policy_state: NestedArray) -> PolicyStep:
        outer = np.shape(time_step.step_type)
        indices = np.asarray(policy_state[0], np.int64)
        repeats = np.asarray(policy_state[1], np.int64)
        if outer == ():
            index, count = self._advance(int(indices), int(repeats))
            action = tree.map_structure(np.copy, self._action_script[index][1])
            return PolicyStep(action, [np.int64(index), np.int64(count)])
        positions = [self._advance(int(i), int(r))
                     for i, r in zip(indices.reshape(-1), repeats.reshape(-1))]
        actions = [self._action_script[index][1] for index, _ in positions]
        action = tree.map_structure(
            lambda spec, *leaves: np.stack(leaves).reshape(outer + tuple(spec.shape)),
            self.action_spec, *actions)
        position = np.asarray(positions, np.int64).reshape(outer + (2,))
        return PolicyStep(action, [position[..., 0], position[..., 1]])

    def _advance(self, index: int, count: int) -> Tuple[int, int]:
        """The position after one more action: the entry to play and how often it was played."""
        while True:
            if index >= len(self._action_script):
                steps = sum(max(n, 0) for n, _ in self._action_script)
                raise ValueError(
                    f"ScriptedPyPolicy: the episode is longer than the action script "
                    f"({len(self._action_script)} entries, {steps} steps); end episodes "
                    f"within the script (e.g. with a time limit) or start each one from "
                    f"get_initial_state()")
            if count < self._action_script[index][0]:
                return index, count + 1
            index, count = index + 1, 0


def _checked_script(action_script: Any, action_spec: NestedArraySpec
                    ) -> List[Tuple[int, NestedArray]]:
    """The script with each action converted to the spec's dtypes; raises naming the entry."""
    if isinstance(action_script, (str, bytes)) or not isinstance(action_script, Sequence):
        raise TypeError(f"ScriptedPyPolicy: action_script must be a list of (num_repeats, "
                        f"action) pairs, got {type(action_script).__name__}: {action_script!r}")
    specs = nest_utils.flatten_with_joined_paths(action_spec)
    script = []
    for i, entry in enumerate(action_script):
        where = f"ScriptedPyPolicy: action_script[{i}]"
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise ValueError(f"{where}: expected a (num_repeats, action) pair, got {entry!r}")
        num_repeats, action = entry
        try:
            if isinstance(num_repeats, bool):
                raise TypeError
            num_repeats = operator.index(num_repeats)
        except TypeError:
            raise TypeError(f"{where}: num_repeats must be an integer (<= 0 skips the entry), "
                            f"got {type(num_repeats).__name__}: {num_repeats!r}") from None
        try:
            leaves = tree.flatten_up_to(action_spec, action, check_types=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: the action does not have the action spec's structure "
                             f"{action_spec!r}; got {action!r} ({error})") from None
        converted = [_converted_leaf(where, path, spec, leaf)
                     for (path, spec), leaf in zip(specs, leaves)]
        script.append((num_repeats, tree.unflatten_as(action_spec, converted)))
    return script


def _converted_leaf(where: str, path: str, spec: ArraySpec, leaf: Any) -> np.ndarray:
    at = f" at '{path}'" if path else ""
    try:
        original = np.asarray(leaf)
        array = np.asarray(leaf, dtype=spec.dtype)
        lossless = original.shape == array.shape and (
            original.dtype.kind not in "biufc"
            or np.array_equal(array, original, equal_nan=array.dtype.kind in "fc"))
    except (TypeError, ValueError, OverflowError):
        lossless, array = False, None
    if not lossless:
        raise ValueError(f"{where}: the action{at} ({leaf!r}) cannot be represented as "
                         f"{np.dtype(spec.dtype).name} without loss; expected {spec!r}")
    if not spec.check_array(array):
        raise ValueError(f"{where}: the action{at} does not match the action spec: expected "
                         f"{spec!r}, got {array!r} (shape {array.shape})")
    return array
