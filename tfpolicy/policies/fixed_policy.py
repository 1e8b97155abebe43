"""`FixedPolicy`: always returns the same actions (and info), whatever it observes.

Useful as a baseline, for tests, and to replay a known action. The actions
are checked against the action spec once, at construction; every call
broadcasts them to the time step's outer dims. The distribution is
deterministic, so the emitted log-probability is 0.

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = FixedPolicy(2, ts.time_step_spec(TensorSpec([3], tf.float32)),
...                      BoundedTensorSpec([], tf.int32, 0, 4))
>>> step = policy.action(ts.restart(tf.zeros([3, 3]), batch_size=3))
>>> step.action.numpy().tolist(), step.info.log_probability.numpy().tolist()
([2, 2, 2], [0.0, 0.0, 0.0])
"""

from typing import Any, List, Optional

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import Nest, NestedTensor, NestedTensorSpec
from tfpolicy.policies import _action_distributions
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["FixedPolicy"]


class _Fixed:
    """The fixed values as flat numpy lists, kept out of `tf.Module`'s attribute
    tracking (which would wrap nests into its own container types)."""

    __slots__ = ("actions", "info", "info_spec")

    def __init__(self, actions: List[np.ndarray], info: List[np.ndarray],
                 info_spec: NestedTensorSpec):
        self.actions = actions
        self.info = info
        # The info spec without the log-probability, which `_action` adds.
        self.info_spec = info_spec


def _as_arrays(values: Nest, spec: NestedTensorSpec, name: str) -> List[np.ndarray]:
    """`values` flattened against `spec` as numpy arrays of the specs' dtypes.

    Python scalars and lists are weakly typed: they take the spec's dtype when
    their kind (bool, int, float) is the spec's. Numpy arrays and tensors must
    have the spec's dtype exactly.
    """
    if not tree.flatten(spec):
        nest_utils.check_nest(values, spec, num_outer_dims=0, name=name)
        return []
    try:
        leaves = tree.flatten_up_to(spec, values, check_types=False)
    except (TypeError, ValueError):
        nest_utils.assert_same_structure(values, spec, name)
        raise
    converted = [
        _from_python_list(leaf, s) if isinstance(leaf, (list, tuple)) else leaf
        for leaf, s in zip(leaves, tree.flatten(spec))
    ]
    nest_utils.check_nest(tree.unflatten_as(spec, converted), spec, num_outer_dims=0, name=name)
    return [np.asarray(v, s.dtype.as_numpy_dtype) for v, s in zip(converted, tree.flatten(spec))]


def _from_python_list(values: Any, spec: tf.TensorSpec) -> np.ndarray:
    array = np.asarray(values)
    kind_fits = ((array.dtype == np.bool_ and spec.dtype.is_bool)
                 or (np.issubdtype(array.dtype, np.integer) and spec.dtype.is_integer)
                 or (np.issubdtype(array.dtype, np.floating) and spec.dtype.is_floating))
    return array.astype(spec.dtype.as_numpy_dtype) if kind_fits else array


def _check_bounds(arrays: List[np.ndarray], spec: NestedTensorSpec, name: str) -> None:
    for (path, s), array in zip(nest_utils.flatten_with_paths(spec), arrays):
        if tensor_spec.is_bounded(s) and not (
                np.all(array >= s.minimum) and np.all(array <= s.maximum)):
            raise ValueError(nest_utils.nest_error_message(
                name, path, f"value {array.tolist()} lies outside the bounds of {s!r}"))


def _broadcast(array: np.ndarray, outer: tf.Tensor) -> tf.Tensor:
    return tf.broadcast_to(tf.constant(array),
                           tf.concat([outer, tf.constant(array.shape, tf.int32)], 0))


class FixedPolicy(tf_policy.TFPolicy):
    """Returns `actions` for every time step, broadcast to its outer dims.

    Args:
      actions: a nest matching `action_spec`, one unbatched value per leaf
        (Python scalars and lists take the spec's dtype).
      time_step_spec: a `TimeStep` of specs.
      action_spec: the nest of action specs.
      emit_log_probability: add the log-probability (0) to the info.
      policy_info: a nest matching `info_spec` (unbatched), returned as the
        info of every step.
      info_spec: the info spec.
      name: the module's name.

    Raises:
      TypeError: `actions` (or `policy_info`) does not have the structure or
        dtypes of its spec; the message names the nest path.
      ValueError: a value has the wrong shape or lies outside its spec's bounds.
    """

    def __init__(
        self,
        actions: Nest,
        time_step_spec: TimeStep,
        action_spec: NestedTensorSpec,
        emit_log_probability: bool = True,
        policy_info: Nest = (),
        info_spec: NestedTensorSpec = (),
        name: Optional[str] = None,
    ):
        super().__init__(time_step_spec, action_spec, info_spec=info_spec,
                         emit_log_probability=emit_log_probability, name=name)
        action_arrays = _as_arrays(actions, self.action_spec, "FixedPolicy's actions")
        _check_bounds(action_arrays, self.action_spec, "FixedPolicy's actions")
        info_spec = policy_step.without_log_probability(self.info_spec)
        info_arrays = _as_arrays(policy_info, info_spec, "FixedPolicy's policy_info")
        self._fixed = _Fixed(action_arrays, info_arrays, info_spec)

    def _outputs(self, time_step: TimeStep) -> tuple:
        """The actions and info broadcast to the time step's outer dims (nests like their specs)."""
        outer = tf.shape(time_step.step_type)
        actions = tree.unflatten_as(self.action_spec,
                                    [_broadcast(a, outer) for a in self._fixed.actions])
        info = tree.unflatten_as(self._fixed.info_spec,
                                 [_broadcast(i, outer) for i in self._fixed.info])
        return actions, info

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        actions, info = self._outputs(time_step)
        return PolicyStep(_action_distributions.deterministic(actions, self.action_spec),
                          policy_state, info)

    def _action(self, time_step: TimeStep, policy_state: NestedTensor,
                seed: tf_policy.Seed) -> PolicyStep:
        actions, info = self._outputs(time_step)
        step = PolicyStep(actions, policy_state, info)
        if self.emit_log_probability:
            # Certain, and within the bounds (checked at construction), so clipping keeps it.
            step = self._with_log_probability(step, None, time_step)
        return step
