"""`PyTFEagerPolicy`: a `TFPolicy` behind the numpy `PyPolicy` interface, fast.

This is the per-step path of every environment loop: numpy time step in,
numpy policy step out. The step itself is `FlatBridge`'s (see
`flat_bridge.py`): one flatten, specs checked only when an input's shape or
dtype changes, a compiled function called with the flat arrays, outputs
packed by a packer built once.

The compiled functions take flat tensors with a `None` batch dim, so every
batch size shares one trace, and they are called as concrete functions,
which skips `tf.function`'s per-call argument analysis; inputs the traced
graph never reads are left out of the call (`input_pruning.py`). TF-Agents'
bridge re-packs nests and re-validates specs on every step; here validation
runs once per input signature.

>>> import numpy as np, tensorflow as tf, tensorflow_probability as tfp
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class Mode(TFPolicy):
...     def _distribution(self, time_step, policy_state):
...         b = tf.shape(time_step.step_type)
...         return PolicyStep(tfp.distributions.Deterministic(tf.ones(b, tf.int32)))
>>> tf_policy = Mode(ts.time_step_spec(TensorSpec([2], tf.float32)),
...                  BoundedTensorSpec([], tf.int32, 0, 1))
>>> policy = PyTFEagerPolicy(tf_policy)
>>> policy.action(ts.restart(np.zeros(2, np.float32))).action
array(1, dtype=int32)
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import tensorflow as tf
import tree

from specs import NestedArray
from specs import tensor_spec
from tfpolicy.policies.flat_bridge import FlatBridge, FlatFunction, Runner
from tfpolicy.policies.input_pruning import prune_unused_inputs
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["PyTFEagerPolicy"]


class PyTFEagerPolicy(FlatBridge):
    """Runs a `TFPolicy` on numpy inputs and returns numpy outputs.

    Args:
      policy: the `TFPolicy` to run.
      use_tf_function: run the policy as a compiled function (one trace per
        input signature; the batch dim is left unknown, so all batch sizes
        share it). False runs it eagerly, for debugging.
      batch_time_steps: the caller passes unbatched time steps and states and
        gets unbatched steps back (a batch dim of 1 is added and removed).
        False: the caller passes batched `[B]` inputs.

    The specs are the policy's, as `ArraySpec`s. `action(..., seed=s)` runs
    the policy eagerly with that seed (a compiled function would be traced
    once per seed).
    """

    def __init__(self, policy: TFPolicy, use_tf_function: bool = True,
                 batch_time_steps: bool = True):
        if not isinstance(policy, TFPolicy):
            raise TypeError(f"PyTFEagerPolicy wraps a TFPolicy, got {type(policy).__name__}")
        super().__init__(policy.time_step_spec, policy.action_spec, policy.policy_state_spec,
                         policy.info_spec, policy.observation_and_action_constraint_splitter,
                         validate_args=policy.validate_args, batch_time_steps=batch_time_steps)
        self._policy = policy
        self._use_tf_function = use_tf_function
        self._tensor_in_spec = (policy.time_step_spec, policy.policy_state_spec)
        self._compiled: Dict[int, FlatFunction] = {}

    @property
    def wrapped_policy(self) -> TFPolicy:
        """The `TFPolicy` this runs."""
        return self._policy

    def _runner_for(self, outer: Tuple[int, ...], leaves: Sequence[Any]) -> Runner:
        return self._function_runner(self._flat_function(len(outer)), leaves)

    def _seeded_action(self, time_step: TimeStep, policy_state: NestedArray,
                       seed: int) -> PolicyStep:
        # Seeded calls run eagerly (a compiled function would be traced once
        # per seed), so checking their inputs each time costs little.
        leaves = self._flatten_checked(time_step, policy_state)
        self._checked_outer(time_step, policy_state)
        return self._function_runner(lambda *flat: self._eager(flat, seed), leaves)(leaves)

    def _flat_function(self, outer_rank: int) -> FlatFunction:
        if not self._use_tf_function:
            return lambda *flat: self._eager(flat, None)
        fn = self._compiled.get(outer_rank)
        if fn is None:
            fn = self._compiled[outer_rank] = self._compile(outer_rank)
        return fn

    def _compile(self, outer_rank: int) -> FlatFunction:
        in_specs = tree.flatten(self._tensor_in_spec)
        signature = tensor_spec.signature_nest(in_specs, [None] * outer_rank)
        policy, in_spec = self._policy, self._tensor_in_spec

        def flat_action(*flat: tf.Tensor) -> List[tf.Tensor]:
            time_step, policy_state = tree.unflatten_as(in_spec, list(flat))
            return tree.flatten(policy.action(time_step, policy_state))

        return prune_unused_inputs(flat_action, signature, outer_rank).on_all_inputs()

    def _eager(self, flat: Any, seed: Optional[int]) -> List[tf.Tensor]:
        time_step, policy_state = tree.unflatten_as(self._tensor_in_spec, list(flat))
        return tree.flatten(self._policy.action(time_step, policy_state, seed=seed))

    def get_initial_state(self, batch_size: Optional[int] = None) -> NestedArray:
        """The wrapped policy's initial state as numpy; unbatched for None, else `[batch_size]`."""
        state = self._policy.get_initial_state(batch_size)
        return tree.map_structure(lambda t: t.numpy(), state)
