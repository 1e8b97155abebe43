"""`RandomTFEnvironment`: a TensorFlow environment of random observations and rewards.

The TF counterpart of `RandomPyEnvironment`, for testing TF-side loops (the
dynamic drivers, a compiled collect step) without a Python environment.
Observations and rewards are sampled from the time step spec with
TensorFlow's global random generator (`tf.random.set_seed` makes a run
repeatable); the current time step lives in `tf.Variable`s, so `reset`,
`step` and `current_time_step` work eagerly and inside `tf.function`
(with or without autograph). After each step the whole batch ends its
episode together with probability `episode_end_probability`.

It offers the TF-Agents `TFEnvironment` interface that our drivers use:
`time_step_spec()`, `action_spec()`, `observation_spec()`,
`reward_spec()`, `batch_size`, `batched`, `reset()`, `step(action)` and
`current_time_step()`.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec
>>> from tfpolicy.trajectories import time_step as ts
>>> env = RandomTFEnvironment(ts.time_step_spec(tf.TensorSpec([3], tf.float32)),
...                           BoundedTensorSpec([], tf.int64, 0, 1), batch_size=2)
>>> env.reset().observation.shape
TensorShape([2, 3])
>>> step = tf.function(env.step)
>>> int(step(tf.constant([0, 1], tf.int64)).step_type[0]) in (1, 2)
True
"""

import re
from typing import Any, List

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.environments.tf_environment import TFEnvironment
from tfpolicy.trajectories.time_step import StepType, TimeStep

__all__ = ["RandomTFEnvironment"]


def _variable_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", path) or "time_step"


class RandomTFEnvironment(TFEnvironment, tf.Module):
    """Generates random observations and rewards that follow `time_step_spec`.

    `reset()` returns FIRST steps (reward 0, discount 1) with sampled
    observations. `step(action)` samples observation and reward and returns
    LAST steps (discount 0) with probability `episode_end_probability`, MID
    steps (discount 1) otherwise; a step after a LAST step resets instead and
    ignores the action. `current_time_step()` returns the last time step,
    resetting first if the environment was never reset.

    Actions are checked where they enter `step`: structure, dtypes, inner
    shapes and a known batch dim against `action_spec` (`TypeError` /
    `ValueError` naming the nest path, at trace time inside `tf.function`);
    bounds when the step runs: eagerly a `ValueError` naming the path,
    inside a graph a `tf.errors.InvalidArgumentError` with the same text.

    Args:
      time_step_spec: the `TimeStep` of `TensorSpec`s (or `ArraySpec`s) of one
        unbatched time step, e.g. from `time_step.time_step_spec(...)`. Every
        shape must be fully defined.
      action_spec: the nest of (bounded) specs of one unbatched action.
      batch_size: the outer dim of every time step and action.
      episode_end_probability: the probability, in `[0, 1]`, that a step ends
        the episodes of the whole batch.

    Raises:
      TypeError: `time_step_spec` is not a `TimeStep`.
      ValueError: `batch_size` is not a positive integer, a spec's shape is
        not fully defined, or `episode_end_probability` is outside `[0, 1]`.
    """

    def __init__(self, time_step_spec: TimeStep, action_spec: NestedTensorSpec,
                 batch_size: int = 1, episode_end_probability: float = 0.1):
        tf.Module.__init__(self, name="random_tf_environment")
        if not isinstance(time_step_spec, TimeStep):
            raise TypeError(f"RandomTFEnvironment: time_step_spec must be a TimeStep of specs, "
                            f"got {type(time_step_spec).__name__}: {time_step_spec!r}")
        if (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                or batch_size < 1):
            raise ValueError(f"RandomTFEnvironment: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        probability = float(episode_end_probability)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"RandomTFEnvironment: episode_end_probability must lie in [0, 1], "
                             f"got {episode_end_probability!r}")
        TFEnvironment.__init__(self, tensor_spec.from_spec(time_step_spec),
                               tensor_spec.from_spec(action_spec), int(batch_size))
        self._episode_end_probability = probability
        self._paths_and_specs = nest_utils.flatten_with_paths(self._time_step_spec)
        for path, spec in self._paths_and_specs:
            if not spec.shape.is_fully_defined():
                raise ValueError(nest_utils.nest_error_message(
                    "time_step_spec", path, "the shape must be fully defined", spec=spec,
                    owner="RandomTFEnvironment"))
        self._variables = [
            tf.Variable(tf.zeros([self._batch_size] + spec.shape.as_list(), spec.dtype),
                        trainable=False, name=_variable_name(path))
            for path, spec in self._paths_and_specs]
        self._was_reset = tf.Variable(False, trainable=False, name="was_reset")
        self._action_leaves = nest_utils.flatten_with_paths(self._action_spec)

    # -- stepping --------------------------------------------------------------

    def _current_time_step(self) -> TimeStep:
        """The last time step; resets first if the environment was never reset."""
        return tf.cond(self._was_reset, self._read, self._reset)

    def _step(self, action: NestedTensor) -> TimeStep:
        """Samples the next time steps; resets instead after LAST steps (or before any reset).

        This is what `step(action)` runs.

        Args:
          action: a nest matching `action_spec()`, each leaf of shape
            `[B] + spec.shape`; tensors, numpy arrays or nested lists. It only
            has to be valid: it does not change what is sampled.

        Returns:
          A `TimeStep` of tensors, each of shape `[B] + spec.shape`.

        Raises:
          TypeError: the action's structure or a leaf's dtype differs from the
            spec (the message names the nest path).
          ValueError: a leaf's shape or a known batch dim is wrong; or, eagerly,
            a value lies outside the spec's bounds.
          tf.errors.InvalidArgumentError: inside a graph, a value outside the
            spec's bounds, when the step runs.
        """
        checks = self._check_action(action)
        with tf.control_dependencies(checks):
            needs_reset = tf.logical_or(
                tf.logical_not(self._was_reset),
                tf.equal(self._variables[0][0], StepType.LAST))  # leaf 0: step_type
        return tf.cond(needs_reset, self._reset, self._advance)

    # -- internals ---------------------------------------------------------------

    def _check_action(self, action: NestedTensor) -> List[Any]:
        """Checks the action statically and returns the ops that check its bounds."""
        outer = nest_utils.check_nest(action, self._action_spec, num_outer_dims=1, name="action")
        leaves = tree.flatten_up_to(self._action_spec, action, check_types=False)
        if outer and outer[0] is not None and outer[0] != self._batch_size:
            path, spec = self._action_leaves[0]
            raise ValueError(nest_utils.nest_error_message(
                "action", path,
                f"batch dim {outer[0]} differs from the environment's batch size "
                f"{self._batch_size}", spec=spec, value=leaves[0], owner="RandomTFEnvironment"))
        checks = []
        for (path, spec), leaf in zip(self._action_leaves, leaves):
            if not tensor_spec.is_bounded(spec):
                continue
            value = tf.convert_to_tensor(leaf, spec.dtype)
            inside = tf.reduce_all((value >= tf.constant(spec.minimum, spec.dtype))
                                   & (value <= tf.constant(spec.maximum, spec.dtype)))
            message = nest_utils.nest_error_message(
                "action", path, "value(s) outside the bounds [minimum, maximum]", spec=spec,
                owner="RandomTFEnvironment")
            if tf.executing_eagerly():
                if not bool(inside):
                    raise ValueError(f"{message}; got {value.numpy().tolist()}")
            else:
                checks.append(tf.debugging.Assert(inside, [message, value], summarize=16))
        return checks

    def _read(self) -> TimeStep:
        return tree.unflatten_as(self._time_step_spec,
                                 [tf.identity(v) for v in self._variables])

    def _fill(self, spec: tf.TensorSpec, value: Any) -> tf.Tensor:
        return tf.fill([self._batch_size] + spec.shape.as_list(), tf.constant(value, spec.dtype))

    def _sample(self, spec: NestedTensorSpec) -> NestedTensor:
        return tensor_spec.sample_spec_nest(spec, outer_dims=(self._batch_size,))

    def _store(self, time_step: TimeStep) -> TimeStep:
        leaves = tree.flatten(time_step)
        assigns = [v.assign(x) for v, x in zip(self._variables, leaves)]
        assigns.append(self._was_reset.assign(True))
        with tf.control_dependencies(assigns):
            return tree.unflatten_as(self._time_step_spec, [tf.identity(x) for x in leaves])

    def _reset(self) -> TimeStep:
        spec = self._time_step_spec
        return self._store(TimeStep(
            step_type=self._fill(spec.step_type, StepType.FIRST),
            reward=tree.map_structure(lambda s: self._fill(s, 0), spec.reward),
            discount=self._fill(spec.discount, 1),
            observation=self._sample(spec.observation)))

    def _advance(self) -> TimeStep:
        spec = self._time_step_spec
        observation = self._sample(spec.observation)
        reward = self._sample(spec.reward)
        ends = tf.random.uniform(()) < self._episode_end_probability
        return self._store(TimeStep(
            step_type=tf.where(ends, self._fill(spec.step_type, StepType.LAST),
                               self._fill(spec.step_type, StepType.MID)),
            reward=reward,
            discount=tf.where(ends, self._fill(spec.discount, 0), self._fill(spec.discount, 1)),
            observation=observation))
