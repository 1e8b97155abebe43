"""The numpy bridge: a `PyPolicy` whose step runs a model on the flat input leaves.

`PyTFEagerPolicy` (a live `TFPolicy`), `savers.SavedModelPyTFEagerPolicy`
(an exported one) and `savers.LitePyPolicy` (a LiteRT model) are
`FlatBridge`s. Per call a bridge does only this:

1. flatten the time step and state with a flattener built once for the
   specs, which compares the structure on the way (a time step with one
   array per field and no state is its own flat list; another structure
   goes through dm-tree and raises naming the nest path);
2. hand the leaves to the *runner* of the last input signature: it runs the
   model and returns the packed `PolicyStep`;
3. only when the runner rejects the leaves (a new dtype, shape or batch
   size; for a LiteRT model also Python numbers): check them against the
   specs (path-named errors), ask the subclass for the runner of that
   signature (`_runner_for`) and keep it for the next calls.

A runner raises one of the bridge's `_new_signature_errors` for leaves of
another signature before it runs the model. `_function_runner` makes one
from a function of flat arrays (a concrete function, an eager call), guarded
by the leaves' dtypes and shapes; `LitePyPolicy`'s runners copy the leaves
into a LiteRT interpreter, whose `set_tensor` rejects what does not fit.

>>> import numpy as np, tensorflow as tf
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class Positive(FlatBridge):
...     def _runner_for(self, outer, leaves):
...         def sign(step_type, reward, discount, observation):
...             return [tf.cast(tf.reduce_sum(observation, -1) > 0, tf.int64)]
...         return self._function_runner(sign, leaves)
>>> policy = Positive(ts.time_step_spec(ArraySpec((2,), np.float32)),
...                   BoundedArraySpec((), np.int64, 0, 1))
>>> policy.action(ts.restart(np.ones(2, np.float32))).action
array(1)
>>> bridge_outer("Positive", (), batch_time_steps=True)
(1,)
"""

import abc
from typing import Any, Callable, List, Optional, Sequence, Tuple, Type

import numpy as np
import tree

from specs import nest_utils
from specs import NestedArray, NestedArraySpec
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["FlatBridge", "FlatFunction", "NewInputSignature", "Runner", "bridge_outer"]

# Flat input arrays (dm-tree order, with outer dims) -> flat `PolicyStep` tensors.
FlatFunction = Callable[..., Sequence[Any]]
# Flat input leaves as the caller gave them -> the packed numpy `PolicyStep`.
Runner = Callable[[Sequence[Any]], PolicyStep]


class NewInputSignature(Exception):
    """A runner's refusal of leaves whose dtypes or shapes are not those it was made for."""


def bridge_outer(name: str, outer: Tuple[Optional[int], ...],
                 batch_time_steps: bool) -> Tuple[Optional[int], ...]:
    """The outer dims a numpy bridge runs its model with: `(1,)` for an unbatched
    caller (`batch_time_steps`), else the caller's single batch dim.

    Args:
      name: the policy's name, for the error message.
      outer: the outer dims of the caller's time step.
      batch_time_steps: whether the caller passes unbatched time steps.

    Raises:
      ValueError: the time step's outer dims do not fit the convention.
    """
    if batch_time_steps:
        if outer:
            raise ValueError(
                f"{name}(batch_time_steps=True) takes unbatched time steps; got outer dims "
                f"{outer}. Use batch_time_steps=False for batched input")
        return (1,)
    if len(outer) != 1:
        raise ValueError(
            f"{name}(batch_time_steps=False) takes time steps with one outer (batch) dim; "
            f"got outer dims {outer}")
    return outer


def _signature(leaves: Sequence[Any]) -> Tuple:
    return tuple((getattr(x, "dtype", type(x)), getattr(x, "shape", None)) for x in leaves)


def _never(value: Any, out: List[Any]) -> bool:
    return False


class FlatBridge(PyPolicy):
    """A `PyPolicy` whose step runs a model on the flat input leaves (see the module docstring).

    Subclasses implement `_runner_for(outer, leaves)`; `_function_runner`
    makes a runner from a function of flat arrays.

    Args:
      time_step_spec, action_spec, policy_state_spec, info_spec,
        observation_and_action_constraint_splitter: as `PyPolicy`.
      validate_args: check the inputs against the specs, once per input signature.
      batch_time_steps: callers pass unbatched steps (the model runs with a
        batch dim of 1, added and removed); False: callers pass `[B]` batches.
    """

    _checks_own_inputs = True
    # What a runner raises for leaves of another input signature.
    _new_signature_errors: Tuple[Type[BaseException], ...] = (NewInputSignature,)

    def __init__(self, time_step_spec: TimeStep, action_spec: NestedArraySpec,
                 policy_state_spec: NestedArraySpec = (), info_spec: NestedArraySpec = (),
                 observation_and_action_constraint_splitter: Optional[Callable] = None,
                 validate_args: bool = True, batch_time_steps: bool = True):
        super().__init__(time_step_spec, action_spec, policy_state_spec, info_spec,
                         observation_and_action_constraint_splitter, validate_args)
        self._batch_time_steps = batch_time_steps
        self._in_spec = (self.time_step_spec, self.policy_state_spec)
        in_leaves = tree.flatten(self._in_spec)
        self._num_in = len(in_leaves)
        self._np_dtypes = [np.dtype(s.dtype) for s in in_leaves]
        self._pack = nest_utils.packer(self.policy_step_spec)
        # One array per time step field and no state: a `TimeStep` is the flat list.
        self._plain = (not any(tree.is_nested(s) for s in self.time_step_spec)
                       and not tree.flatten(self.policy_state_spec))
        self._flatten = nest_utils.flattener(self._in_spec) or _never
        self._run: Optional[Runner] = None

    @abc.abstractmethod
    def _runner_for(self, outer: Tuple[int, ...], leaves: Sequence[Any]) -> Runner:
        """The runner for inputs like `leaves` (checked) with model outer dims `outer`.

        Raises:
          ValueError: outer dims the model does not take (e.g. another fixed batch size).
        """

    def _action(self, time_step: TimeStep, policy_state: NestedArray) -> PolicyStep:
        if (self._plain and type(time_step) is TimeStep and type(policy_state) is tuple
                and not policy_state):
            leaves: Sequence[Any] = time_step
        else:
            leaves = []
            if not self._flatten((time_step, policy_state), leaves):
                leaves = self._flatten_checked(time_step, policy_state)
        run = self._run
        if run is not None:
            try:
                return run(leaves)
            except self._new_signature_errors:
                pass  # a new input signature: checked below
        return self._arm(time_step, policy_state, leaves)

    def _arm(self, time_step: TimeStep, policy_state: NestedArray,
             leaves: Sequence[Any]) -> PolicyStep:
        """Checks a new input signature, keeps its runner and runs it."""
        run = self._runner_for(self._checked_outer(time_step, policy_state), leaves)
        self._run = run
        try:
            return run(leaves)
        except self._new_signature_errors:
            # Leaves the specs accept and the model does not take as they are
            # (Python numbers, non-contiguous arrays): converted to the spec dtypes.
            return run([np.ascontiguousarray(np.asarray(x, d))
                        for x, d in zip(leaves, self._np_dtypes)])

    def _disarm(self) -> None:
        """Makes the next step check its inputs and ask `_runner_for` again (e.g. a new model)."""
        self._run = None

    def _flatten_checked(self, time_step: TimeStep, policy_state: NestedArray) -> List[Any]:
        """The leaves of inputs the flattener refused (other container types; a structure
        mismatch raises, naming the nest path)."""
        inputs = (time_step, policy_state)
        raw = tree.flatten(inputs)
        if len(raw) == self._num_in and not (
                self._validate_args and not nest_utils.same_structure(self._in_spec, inputs)):
            return raw
        try:
            return tree.flatten_up_to(self._in_spec, inputs, check_types=False)
        except (TypeError, ValueError):
            self._check_inputs(time_step, policy_state)
            raise

    def _check_inputs(self, time_step: TimeStep, policy_state: NestedArray) -> tuple:
        outer = nest_utils.check_nest(time_step, self.time_step_spec, name="time_step")
        nest_utils.check_nest(policy_state, self.policy_state_spec, outer_shape=outer,
                              name="policy_state")
        return outer

    def _checked_outer(self, time_step: TimeStep, policy_state: NestedArray
                       ) -> Tuple[Optional[int], ...]:
        """The model's outer dims for these inputs, checked against the specs (`validate_args`)."""
        if self._validate_args:
            outer = tuple(self._check_inputs(time_step, policy_state))
        else:
            outer = tuple(np.shape(time_step.step_type))
        return bridge_outer(type(self).__name__, outer, self._batch_time_steps)

    def _check_fixed_batch(self, fixed: Optional[int], batch: Optional[int], model: str,
                           hint: str = "") -> None:
        """Raises unless a model exported for batch size `fixed` (None: any) takes `batch`.

        Args:
          fixed: the model's batch size, None for any.
          batch: the batch the caller's step makes (1 for unbatched steps).
          model: what the model is, for the message (`the policy at /path`).
          hint: appended to the message (how to export for any batch size).
        """
        if fixed is not None and batch not in (None, fixed):
            note = " (unbatched steps are a batch of 1)" if self._batch_time_steps else ""
            raise ValueError(f"{model} was exported for batch_size={fixed}, got a batch of "
                             f"{batch}{note}{hint}")

    def _function_runner(self, fn: FlatFunction, leaves: Sequence[Any]) -> Runner:
        """A runner calling `fn` for leaves with the dtypes and shapes of `leaves`.

        `fn` takes the flat input arrays (with the model's outer dims) and
        returns the flat `PolicyStep` as tensors.
        """
        signature = _signature(leaves)
        dtypes, pack = self._np_dtypes, self._pack
        if self._batch_time_steps:
            def run_unbatched(leaves: Sequence[Any]) -> PolicyStep:
                if _signature(leaves) != signature:
                    raise NewInputSignature
                out = fn(*[np.asarray(x, d)[None] for x, d in zip(leaves, dtypes)])
                return pack([t.numpy()[0, ...] for t in out])  # [0, ...] keeps 0-d arrays

            return run_unbatched

        def run_batched(leaves: Sequence[Any]) -> PolicyStep:
            if _signature(leaves) != signature:
                raise NewInputSignature
            out = fn(*[np.asarray(x, d) for x, d in zip(leaves, dtypes)])
            return pack([t.numpy() for t in out])

        return run_batched
