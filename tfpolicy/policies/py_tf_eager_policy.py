"""`PyTFEagerPolicy`: a `TFPolicy` behind the numpy `PyPolicy` interface, fast.

This is the per-step path of every environment loop: numpy time step in,
numpy policy step out. What it does per call, and nothing more:

1. flatten the time step and state (one dm-tree call) and, for unbatched
   use, add a batch dim (numpy views, no copies);
2. if the leaves' shapes and dtypes differ from the last call's, check them
   against the specs (path-named errors) and pick the compiled function for
   that signature, tracing it on first use;
3. call the compiled concrete function with the flat arrays;
4. convert the flat outputs to numpy, drop the batch dim and pack them
   with a packer built once for the `PolicyStep` structure.

The compiled functions take flat tensors with a `None` batch dim, so every
batch size shares one trace, and they are called as concrete functions,
which skips `tf.function`'s per-call argument analysis. TF-Agents' bridge
re-packs nests and re-validates specs on every step; here validation runs
once per input signature.

>>> import tensorflow as tf, tensorflow_probability as tfp
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

from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs._types import NestedArray
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["PyTFEagerPolicy"]


class PyTFEagerPolicy(PyPolicy):
    """Runs a `TFPolicy` on numpy inputs and returns numpy outputs.

    Args:
      policy: the `TFPolicy` to run.
      use_tf_function: run the policy as a compiled function (one trace per
        input signature; the batch dim is left unknown, so all batch sizes
        share it). False runs it eagerly, for debugging.
      batch_time_steps: the caller passes unbatched time steps and states and
        gets unbatched steps back (a batch dim of 1 is added and removed).
        False: the caller passes batched `[B]` inputs.

    The specs are the policy's, as `ArraySpec`s.
    """

    def __init__(self, policy: TFPolicy, use_tf_function: bool = True,
                 batch_time_steps: bool = True):
        if not isinstance(policy, TFPolicy):
            raise TypeError(f"PyTFEagerPolicy wraps a TFPolicy, got {type(policy).__name__}")
        super().__init__(policy.time_step_spec, policy.action_spec, policy.policy_state_spec,
                         policy.info_spec, policy.observation_and_action_constraint_splitter,
                         validate_args=policy.validate_args)
        self._policy = policy
        self._use_tf_function = use_tf_function
        self._batch_time_steps = batch_time_steps
        self._in_spec = (policy.time_step_spec, policy.policy_state_spec)
        self._in_leaves = tree.flatten(self._in_spec)
        self._np_dtypes = [np.dtype(s.dtype.as_numpy_dtype) for s in self._in_leaves]
        self._num_in = len(self._in_leaves)
        self._out_spec = policy.policy_step_spec
        self._pack = nest_utils.packer(self._out_spec)
        self._compiled: Dict[int, Callable] = {}
        self._last_key: Optional[Tuple] = None
        self._last_fn: Optional[Callable] = None

    @property
    def wrapped_policy(self) -> TFPolicy:
        """The `TFPolicy` this runs."""
        return self._policy

    def action(self, time_step: TimeStep, policy_state: NestedArray = (),
               seed: Optional[int] = None) -> PolicyStep:
        """The policy's action for a numpy time step.

        Args:
          time_step: unbatched when `batch_time_steps` (the default), else `[B]`.
          policy_state: the state from the previous step, with the same outer dims.
          seed: an int seed; seeded calls run eagerly (a compiled function
            would otherwise be traced once per seed).

        Returns:
          `PolicyStep` of numpy arrays, with the time step's outer dims.

        Raises:
          TypeError, ValueError: inputs that do not match the specs, naming the nest path.
        """
        inputs = (time_step, policy_state)
        raw = tree.flatten(inputs)
        if len(raw) != self._num_in:
            # An empty-state `()` vs `None`, or a structure mismatch: the slow,
            # path-naming route decides which.
            raw = self._flatten_checked(time_step, policy_state)
        elif self._validate_args:
            tree.assert_same_structure(self._in_spec, inputs, check_types=False)
        # Shapes and dtypes identify an input signature; a new one is checked
        # against the specs (path-named errors) and picks its compiled function.
        key = tuple((getattr(x, "dtype", type(x)), getattr(x, "shape", None)) for x in raw)
        if key != self._last_key:
            self._last_fn = self._function_for(time_step, policy_state)
            self._last_key = key
        if self._batch_time_steps:
            flat = [np.asarray(x, d)[None] for x, d in zip(raw, self._np_dtypes)]
        else:
            flat = [np.asarray(x, d) for x, d in zip(raw, self._np_dtypes)]
        if seed is not None or not self._use_tf_function:
            out = self._eager(flat, seed)
        else:
            out = self._last_fn(*flat)
        if self._batch_time_steps:
            return self._pack([t.numpy()[0, ...] for t in out])  # [0, ...] keeps 0-d arrays
        return self._pack([t.numpy() for t in out])

    def _flatten_checked(self, time_step: TimeStep, policy_state: NestedArray) -> List[Any]:
        try:
            return tree.flatten_up_to(self._in_spec, (time_step, policy_state), check_types=False)
        except (TypeError, ValueError):
            self._check_inputs(time_step, policy_state)
            raise

    def _function_for(self, time_step: TimeStep, policy_state: NestedArray) -> Optional[Callable]:
        """Checks a new input signature and returns its compiled function (traced
        once per number of outer dims; None when running eagerly)."""
        if self._validate_args:
            outer_rank = len(self._check_inputs(time_step, policy_state))
        else:
            outer_rank = np.ndim(time_step.step_type)
        if self._batch_time_steps:
            if outer_rank != 0:
                raise ValueError(
                    f"PyTFEagerPolicy(batch_time_steps=True) takes unbatched time steps; got "
                    f"{outer_rank} outer dim(s) (step_type shape {np.shape(time_step.step_type)}). "
                    "Use batch_time_steps=False for batched input")
            outer_rank = 1
        if not self._use_tf_function:
            return None
        fn = self._compiled.get(outer_rank)
        if fn is None:
            fn = self._compile(outer_rank)
            self._compiled[outer_rank] = fn
        return fn

    def _compile(self, outer_rank: int) -> Callable:
        signature = [
            tf.TensorSpec([None] * outer_rank + s.shape.as_list(), s.dtype)
            for s in self._in_leaves
        ]
        policy, in_spec = self._policy, self._in_spec

        def flat_action(*flat: tf.Tensor) -> List[tf.Tensor]:
            time_step, policy_state = tree.unflatten_as(in_spec, list(flat))
            return tree.flatten(policy.action(time_step, policy_state))

        return tf.function(flat_action, input_signature=signature,
                           autograph=False).get_concrete_function()

    def _eager(self, flat: List[np.ndarray], seed: Optional[int]) -> List[tf.Tensor]:
        time_step, policy_state = tree.unflatten_as(self._in_spec, flat)
        step = self._policy.action(time_step, policy_state, seed=seed)
        return tree.flatten(step)

    def _check_inputs(self, time_step: TimeStep, policy_state: NestedArray) -> tuple:
        outer = nest_utils.check_nest(time_step, self.time_step_spec, name="time_step")
        nest_utils.check_nest(policy_state, self.policy_state_spec, outer_shape=outer,
                              name="policy_state")
        return outer

    def _action(self, time_step: TimeStep, policy_state: NestedArray) -> PolicyStep:
        return self.action(time_step, policy_state)

    def get_initial_state(self, batch_size: Optional[int] = None) -> NestedArray:
        """The wrapped policy's initial state as numpy; unbatched by default when
        `batch_time_steps`, `[batch_size]` otherwise."""
        state = self._policy.get_initial_state(batch_size)
        return tree.map_structure(lambda t: np.asarray(t), state)
