"""`TFPyPolicy`: a numpy `PyPolicy` behind the `TFPolicy` interface.

The numpy policy runs through `tf.numpy_function`, so it works eagerly and
inside `tf.function` (the call happens in Python on every step; eager calls
run through a compiled graph too, and the numpy policy still runs on every
call). The outputs get the static shapes the specs promise.

As in TF-Agents, `py_policy_is_batched=False` (the default) means the numpy
policy takes one unbatched step: a batch `[B]` is unbatched, the numpy
policy called once per entry (TF-Agents accepts only `B = 1`) and its
steps stacked. `py_policy_is_batched=True` hands it the batch as it is.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.policies.random_py_policy import RandomPyPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> py = RandomPyPolicy(ts.time_step_spec(ArraySpec((3,), np.float32)),
...                     BoundedArraySpec((), np.int32, 0, 3), seed=0)
>>> policy = TFPyPolicy(py, py_policy_is_batched=True)
>>> policy.action(ts.restart(tf.zeros([4, 3]), batch_size=4)).action.shape
TensorShape([4])
"""

from typing import Any, List, Optional

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["TFPyPolicy"]


class TFPyPolicy(TFPolicy):
    """Runs a `PyPolicy` as a `TFPolicy`.

    Args:
      policy: the numpy policy; its array specs become tensor specs.
      py_policy_is_batched: whether the numpy policy takes batched `[B]`
        time steps and states; if False it is called once per batch entry
        with unbatched ones (an unbatched time step is passed as it is).
      name: the module's name.

    The state is the numpy policy's own (no automatic reset: the numpy policy
    sees the step types and decides), and its seed is its own: the `seed`
    argument of `action` is not used.
    """

    def __init__(self, policy: PyPolicy, py_policy_is_batched: bool = False,
                 name: Optional[str] = None):
        if not isinstance(policy, PyPolicy):
            raise TypeError(f"TFPyPolicy wraps a PyPolicy, got {type(policy).__name__}")
        super().__init__(
            tensor_spec.from_spec(policy.time_step_spec), tensor_spec.from_spec(policy.action_spec),
            tensor_spec.from_spec(policy.policy_state_spec), tensor_spec.from_spec(policy.info_spec),
            clip=False, automatic_state_reset=False,
            observation_and_action_constraint_splitter=policy.observation_and_action_constraint_splitter,
            name=name)
        self._py_policy = policy
        self._py_policy_is_batched = bool(py_policy_is_batched)
        self._out_spec = PolicyStep(self.action_spec, self.policy_state_spec, self.info_spec)

    @property
    def py_policy_is_batched(self) -> bool:
        """Whether the numpy policy takes batched time steps."""
        return self._py_policy_is_batched

    def _py_action(self, time_step: TimeStep, policy_state: Any) -> PolicyStep:
        """The numpy policy's step; per batch entry when it takes unbatched steps."""
        py = self._py_policy
        if self._py_policy_is_batched or np.ndim(time_step.step_type) == 0:
            return py.action(time_step, policy_state)
        time_steps = nest_utils.unstack_nested_arrays(time_step)
        states = (nest_utils.unstack_nested_arrays(policy_state) if self._has_state
                  else [policy_state] * len(time_steps))
        steps = [py.action(t, s) for t, s in zip(time_steps, states)]
        if not steps:
            raise ValueError("TFPyPolicy got a time step with a batch of 0")
        return nest_utils.stack_nested_arrays(steps)

    @property
    def wrapped_policy(self) -> PyPolicy:
        return self._py_policy

    def _action(self, time_step: TimeStep, policy_state: NestedTensor, seed: Any) -> PolicyStep:
        in_spec = (self.time_step_spec, self.policy_state_spec)
        flat_in = tree.flatten_up_to(in_spec, (time_step, policy_state), check_types=False)
        out_leaves = tree.flatten(self._out_spec)

        def run(*arrays: np.ndarray) -> List[np.ndarray]:
            ts_np, state_np = tree.unflatten_as(in_spec, list(arrays))
            step = self._py_action(ts_np, state_np)
            flat = tree.flatten_up_to(self._out_spec, step, check_types=False)
            return [np.asarray(x, s.dtype.as_numpy_dtype) for x, s in zip(flat, out_leaves)]

        flat_out = tf.numpy_function(run, flat_in, [s.dtype for s in out_leaves],
                                     stateful=True, name="py_policy_action")
        if isinstance(flat_out, tf.Tensor):  # a single output comes back unwrapped
            flat_out = [flat_out]
        outer_static = time_step.step_type.shape
        for t, s in zip(flat_out, out_leaves):
            t.set_shape(outer_static.concatenate(s.shape))
        return tree.unflatten_as(self._out_spec, list(flat_out))

    def _get_initial_state(self, batch_size: Any) -> NestedTensor:
        # The numpy policy's own initial state; a batch size known only inside
        # a graph gets zeros of the state spec.
        if isinstance(batch_size, tf.Tensor):
            if not tf.executing_eagerly():
                return super()._get_initial_state(batch_size)
            batch_size = int(batch_size.numpy())
        if self._py_policy_is_batched or batch_size is None:
            state = self._py_policy.get_initial_state(batch_size)
        elif self._has_state:
            state = nest_utils.stack_nested_arrays(
                [self._py_policy.get_initial_state(None)] * int(batch_size))
        else:
            state = ()
        return tree.map_structure(tf.convert_to_tensor, state)
