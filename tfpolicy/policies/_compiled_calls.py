"""Eager `TFPolicy.action` and `distribution` calls run as compiled functions.

An eager `policy.action(time_step)` runs every op of the policy one by one
from Python: validation, the network, sampling, clipping. `CompiledCall`
traces the same `action` once under `tf.function` instead and calls the
traced graph as a concrete function afterwards. Per call it does only this:

1. flatten the time step and state with a flattener built once for the
   specs, which compares the structure on the way;
2. look up the leaves' dtypes and shapes; the first call with a new
   signature checks the inputs against the specs eagerly (path-named
   errors) and picks or traces its graph;
3. call the concrete function with the leaves the graph reads (unread
   inputs such as the reward are left out, see `input_pruning.py`) and
   pack its flat outputs into the `PolicyStep`.

`distribution` is compiled the same way: its distributions are composite
tensors (TFP's `AutoCompositeTensor`), flattened to their component tensors
inside the graph and rebuilt outside. A policy whose distributions are not
composite tensors cannot return them from a graph; its `distribution`
calls stay eager (`CompiledCall` returns None for them from then on).

The first outer dims seen for an outer rank (`[B]`, or none) get a graph
traced for exactly those dims, so the outputs' outer dims are checked
against the inputs' at trace time. A second batch size of the same rank
gets a graph with unknown outer dims, shared by every later batch size
(as `tf.function(reduce_retracing=True)` generalizes); there the outputs'
inner dims are checked and their outer dims are not.

What runs differently from a truly eager call, because it runs at trace time:
Python side effects in `_action`/`_distribution` (counters, prints, list
appends) happen once per trace, not per call, and `.numpy()` is unavailable
inside them; unseeded random ops keep their own state from the first trace
on, so `tf.random.set_seed` called again later does not restart their
sequence. Seeded calls (`action(..., seed=s)`) run eagerly, as a compiled
function would be traced once per seed.
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from tfpolicy.policies.input_pruning import prune_unused_inputs

__all__ = ["CompiledCall"]

_Run = Callable[[Sequence[Any]], Any]


def _signature(leaves: Sequence[Any]) -> Tuple:
    return tuple((getattr(x, "dtype", type(x)), getattr(x, "shape", None)) for x in leaves)


class _NotComposite(Exception):
    """A traced output that cannot leave the graph."""


def _can_leave_a_graph(value: Any) -> bool:
    return isinstance(value, (tf.Tensor, tf.__internal__.CompositeTensor))


class CompiledCall:
    """A policy's eager `action` or `distribution`, dispatched to cached concrete functions.

    Args:
      policy: the `TFPolicy`; `_eager_action(time_step, policy_state, seed,
        checked_outer)` and `_eager_distribution(time_step, policy_state,
        checked_outer)` are its uncompiled calls, `_check_inputs` validates.
      method: `"action"` or `"distribution"`.
    """

    def __init__(self, policy: Any, method: str):
        self._policy = policy
        self._method = method
        self._in_spec = (policy.time_step_spec, policy.policy_state_spec)
        self._flatten = nest_utils.flattener(self._in_spec)
        self._dtypes = [s.dtype for s in tree.flatten(self._in_spec)]
        self._runs: Dict[Tuple, _Run] = {}
        self._traced: Dict[Tuple[Optional[int], ...], Tuple[Callable[..., Any],
                                                            Callable[[List[Any]], Any]]] = {}
        self._eager_only = False

    def __deepcopy__(self, memo: dict) -> "CompiledCall":
        # Traces belong to one policy object; a copy traces its own.
        return CompiledCall(self._policy, self._method)

    @property
    def num_traces(self) -> int:
        """How many graphs were traced."""
        return len(self._traced)

    def __call__(self, time_step: Any, policy_state: Any) -> Optional[Any]:
        """The `PolicyStep` for these inputs, or None when they are not the specs'
        structure (the caller then runs the eager path, whose checks name the
        path) or the outputs cannot leave a graph."""
        leaves: List[Any] = []
        if (self._eager_only or self._flatten is None
                or not self._flatten((time_step, policy_state), leaves)):
            return None
        key = _signature(leaves)
        run = self._runs.get(key)
        if run is None:
            try:
                run = self._runner(time_step, policy_state, leaves)
            except _NotComposite:
                self._eager_only = True
                return None
            self._runs[key] = run
        return run(leaves)

    def _runner(self, time_step: Any, policy_state: Any, leaves: Sequence[Any]) -> _Run:
        """Checks a new input signature and returns the runner for it."""
        policy = self._policy
        if policy.validate_args:
            outer = tuple(policy._check_inputs(time_step, policy_state))
        else:
            outer = tuple(np.shape(time_step.step_type))
        relaxed = (None,) * len(outer)
        traced = self._traced.get(outer) or self._traced.get(relaxed)
        if traced is None:
            exact_seen = any(len(k) == len(outer) for k in self._traced)
            key = relaxed if exact_seen else outer
            traced = self._traced[key] = self._trace(key)
        function, pack = traced
        dtypes = self._dtypes
        convert = [i for i, x in enumerate(leaves) if not isinstance(x, tf.Tensor)]
        if not convert:
            return lambda flat: pack(function(*flat))

        def run_converted(flat: Sequence[Any]) -> Any:
            flat = list(flat)
            for i in convert:
                flat[i] = tf.convert_to_tensor(flat[i], dtypes[i])
            return pack(function(*flat))

        return run_converted

    def _trace(self, outer: Tuple[Optional[int], ...]
               ) -> Tuple[Callable[..., Any], Callable[[List[Any]], Any]]:
        in_spec, policy = self._in_spec, self._policy
        signature = tensor_spec.signature_nest(tree.flatten(in_spec), outer)
        checked = outer if policy.validate_args else None
        structure: List[Any] = []

        if self._method == "action":
            def flat_call(*flat: tf.Tensor) -> List[tf.Tensor]:
                time_step, policy_state = tree.unflatten_as(in_spec, list(flat))
                step = policy._eager_action(time_step, policy_state, None, checked_outer=checked)
                structure.append(step)
                return tree.flatten(step)
        else:
            def flat_call(*flat: tf.Tensor) -> List[tf.Tensor]:
                time_step, policy_state = tree.unflatten_as(in_spec, list(flat))
                step = policy._eager_distribution(time_step, policy_state, checked_outer=checked)
                if not all(_can_leave_a_graph(x) for x in tree.flatten(step)):
                    raise _NotComposite
                structure.append(step)
                return tf.nest.flatten(step, expand_composites=True)

        function = prune_unused_inputs(flat_call, signature, len(outer)).on_all_inputs()
        if self._method == "action":
            return function, nest_utils.packer(structure[0])
        like = structure[0]
        return function, lambda flat: tf.nest.pack_sequence_as(like, flat, expand_composites=True)
