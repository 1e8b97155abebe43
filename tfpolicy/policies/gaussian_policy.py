"""`GaussianPolicy`: Gaussian exploration noise around a policy's continuous actions.

The action is the mode of the wrapped policy's action distribution (its
action, for a deterministic actor) plus independent `Normal(0, scale)` noise
on every element, then clipped to the spec's bounds. Unlike TF-Agents, which
adds the noise to a *sample* of the wrapped policy and has no distribution,
this policy is a distribution, `Normal(mode, scale)` per action element, so
`distribution` and `emit_log_probability` work.

>>> import keras
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.actor_policy import ActorPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> actor = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_initializer="zeros")])
>>> actor_policy = ActorPolicy(ts.time_step_spec(TensorSpec([3], tf.float32)),
...                            BoundedTensorSpec([2], tf.float32, -1.0, 1.0), actor)
>>> policy = GaussianPolicy(actor_policy, scale=0.1)
>>> policy.distribution(ts.restart(tf.zeros([4, 3]), batch_size=4)).action.stddev().numpy()[0]
array([0.1, 0.1], dtype=float32)
>>> action = policy.action(ts.restart(tf.zeros([4, 3]), batch_size=4)).action
>>> action.shape, bool(tf.reduce_all(tf.abs(action) <= 1.0))
(TensorShape([4, 2]), True)
"""

from typing import Any, List, Optional, Union

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.policies import _noise
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["GaussianPolicy"]

Scale = Union[float, np.ndarray, tf.Variable]
NestedScale = Any  # a `Scale`, or a nest of them like the action spec


class GaussianPolicy(_noise.NoiseWrapper):
    """Adds `Normal(0, scale)` noise to the mode of a policy's continuous actions.

    Per action leaf the distribution is
    `tfd.Independent(tfd.Normal(loc=mode, scale), reinterpreted_batch_ndims=rank)`
    where `mode` is the mode of the wrapped policy's distribution for that
    leaf and `rank` the rank of its spec, so `action` samples it and the
    log-probability is one number per batch entry and leaf. With `clip`, the
    base clips the sample to the spec's bounds and the emitted
    log-probability is the Normal *density at the clipped action*, not the
    probability mass of the clipped tail (the base's convention for every
    clipped policy).

    The time step, action, state and info specs are the wrapped policy's,
    and so are `validate_args` and `emit_log_probability`; the log-probability
    this policy emits is of its own (noisy) action. The state is the wrapped
    policy's and is passed through.

    Args:
      wrapped_policy: a `TFPolicy` with float actions only, that has a
        distribution (implements `_distribution`).
      scale: the noise's standard deviation, > 0: one value for every action
        leaf, or a nest like the action spec with one value per leaf. A value
        is a float, a numpy array broadcastable to the leaf's shape (one
        scale per element), or a `tf.Variable` (read at every call, so it can
        be annealed; its value is not checked).
      clip: clip actions to the bounds of bounded specs.
      name: the module's name.

    Raises:
      ValueError: an action spec is not a float spec, or a scale is not
        positive or does not broadcast to its leaf's shape.
      TypeError: `scale` is a nest with another structure than the action
        spec, or the wrapped policy has no distribution.
    """

    def __init__(self, wrapped_policy: tf_policy.TFPolicy, scale: NestedScale = 1.0,
                 clip: bool = True, name: Optional[str] = None):
        super().__init__(wrapped_policy, wrapped_policy.policy_state_spec, clip, "GaussianPolicy",
                         name)
        self._scales = _scale_per_leaf(scale, self.action_spec)

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        wrapped_step, modes = self._wrapped_modes(time_step, policy_state)
        specs = tree.flatten(self.action_spec)
        distributions = [
            _noise.independent_normal(mode, scale, spec)
            for mode, scale, spec in zip(modes, self._scales, specs)
        ]
        return PolicyStep(tree.unflatten_as(self.action_spec, distributions), wrapped_step.state,
                          wrapped_step.info)

    def _get_initial_state(self, batch_size: Union[int, tf.Tensor, None]) -> NestedTensor:
        return self._wrapped_policy.get_initial_state(batch_size)


def _scale_per_leaf(scale: NestedScale, action_spec: NestedTensorSpec, what: str = "scale"
                    ) -> List[Any]:
    """One checked scale per action leaf, in flat order."""
    specs_with_paths = nest_utils.flatten_with_paths(action_spec)
    if tree.is_nested(scale):
        nest_utils.assert_same_structure(scale, action_spec, name=what)
        leaves = tree.flatten_up_to(action_spec, scale, check_types=False)
    else:
        leaves = [scale] * len(specs_with_paths)
    return [_checked_scale(s, path, spec, what)
            for s, (path, spec) in zip(leaves, specs_with_paths)]


def _checked_scale(scale: Any, path: str, spec: tf.TensorSpec, what: str) -> Any:
    if isinstance(scale, (tf.Variable, tf.Tensor)):
        return scale
    value = np.asarray(scale, dtype=spec.dtype.as_numpy_dtype)
    shape = tuple(spec.shape.as_list())
    try:
        broadcast = np.broadcast_shapes(value.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(nest_utils.nest_error_message(
            f"{what} for the action", path,
            f"must broadcast to {spec!r}, got {scale!r} of shape {value.shape}"))
    if not np.all(value > 0):
        raise ValueError(nest_utils.nest_error_message(
            f"{what} for the action", path, f"must be > 0, got {scale!r}"))
    return value
