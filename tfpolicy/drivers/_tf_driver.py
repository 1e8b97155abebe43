"""The base of the compiled drivers, and the adapter for numpy observers."""

import functools
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tree

from specs import Nest, NestedTensor
from tfpolicy.drivers._common import Driver, check_count
from tfpolicy.environments import tf_py_environment
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories import trajectory as traj_lib
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = ["CompiledDriver", "numpy_observer"]

Observer = Callable[[Trajectory], Any]
TransitionObserver = Callable[[Tuple[TimeStep, PolicyStep, TimeStep]], Any]

_ENV_MEMBERS = ("time_step_spec", "action_spec", "batch_size", "current_time_step", "reset",
                "step")


def numpy_observer(observer: Callable[[Nest], Any]) -> Callable[[Nest], Any]:
    """Adapts a numpy observer so it runs on every step of a compiled driver.

    The returned callable takes a nest of tensors (a `Trajectory`, or the
    `(time_step, policy_step, next_time_step)` tuple of a transition
    observer) and calls `observer` with the same nest holding numpy arrays
    (numpy scalars for scalar tensors), through a stateful
    `tf.numpy_function`. It works eagerly too.

    Args:
      observer: a Python callable taking one nest of numpy arrays; its
        return value is ignored.

    Returns:
      A callable taking the nest of tensors; inside a graph it returns the
      op that calls `observer` (None eagerly).

    >>> seen = []
    >>> observe = numpy_observer(seen.append)
    >>> @tf.function
    ... def twice(x):
    ...     observe({"x": x})
    ...     observe({"x": x + 1})
    >>> twice(tf.constant(1))
    >>> seen
    [{'x': np.int32(1)}, {'x': np.int32(2)}]
    """
    if not callable(observer):
        raise TypeError(f"numpy_observer: observer must be callable, got "
                        f"{type(observer).__name__}: {observer!r}")

    def observe(value: Nest) -> Any:
        leaves = tree.flatten(value)
        call = functools.partial(_call_with_arrays, observer, value)
        result = tf.numpy_function(call, leaves, [], stateful=True, name="numpy_observer")
        return None if tf.executing_eagerly() else result

    return observe


def _call_with_arrays(observer: Callable[[Nest], Any], structure: Nest,
                      *arrays: np.ndarray) -> list:
    observer(tree.unflatten_as(structure, list(arrays)))
    return []


def _as_tensors(nest: Nest) -> Nest:
    return tree.map_structure(tf.convert_to_tensor, nest)


class CompiledDriver(Driver):
    """What the dynamic drivers share: checks, the compiled loop, error surfacing."""

    def __init__(self, env: Any, policy: TFPolicy, observers: Optional[Sequence[Observer]],
                 transition_observers: Optional[Sequence[TransitionObserver]]):
        driver = type(self).__name__
        if isinstance(env, PyEnvironment):
            raise TypeError(f"{driver}: env is a numpy PyEnvironment ({type(env).__name__}); "
                            "wrap it in TFPyEnvironment, or run a PyPolicy with PyDriver")
        missing = [m for m in _ENV_MEMBERS if not hasattr(env, m)]
        if missing:
            raise TypeError(f"{driver}: env must be a TFPyEnvironment (or have its "
                            f"{', '.join(_ENV_MEMBERS)}); {type(env).__name__} lacks "
                            f"{', '.join(missing)}")
        if not isinstance(policy, TFPolicy):
            raise TypeError(f"{driver}: policy must be a TFPolicy (run a PyPolicy with "
                            f"PyDriver), got {type(policy).__name__}")
        super().__init__(env, policy, observers, transition_observers)

    def _observed_step(self, time_step: TimeStep, policy_state: NestedTensor
                       ) -> Tuple[Trajectory, TimeStep, NestedTensor]:
        """Acts, steps the env and calls the observers; the next step and state wait for them."""
        action_step = self._policy.action(time_step, policy_state)
        # Orders the environment call after everything that produced this step.
        with tf.control_dependencies(tree.flatten(time_step)):
            next_time_step = self._env.step(action_step.action)
        trajectory = traj_lib.from_transition(time_step, action_step, next_time_step)
        results = [observer((time_step, action_step, next_time_step))
                   for observer in self._transition_observers]
        results += [observer(trajectory) for observer in self._observers]
        deps = [r for r in tree.flatten(results)
                if isinstance(r, tf.Operation) or tf.is_tensor(r)]
        with tf.control_dependencies(deps):
            next_time_step, next_state = tree.map_structure(
                tf.identity, (next_time_step, action_step.state))
        return trajectory, next_time_step, next_state

    def _run_inputs(self, time_step: Optional[TimeStep], policy_state: Optional[NestedTensor],
                    maximum_iterations: Optional[int]) -> tuple:
        """`run`'s arguments as the compiled loop takes them: tensors, or None."""
        return (None if time_step is None else _as_tensors(time_step),
                None if policy_state is None else _as_tensors(policy_state),
                _as_iterations(maximum_iterations, type(self).__name__))

    def _loop(self, time_step: TimeStep, policy_state: Optional[NestedTensor],
              limits: Sequence[Tuple[Callable[[Trajectory], tf.Tensor], Union[int, tf.Tensor]]],
              maximum_iterations: Optional[tf.Tensor]) -> Tuple[TimeStep, NestedTensor]:
        """Takes observed steps until a count reaches its target (or `maximum_iterations` turns).

        Args:
          time_step: the time step to act on first, outer dim `[B]`.
          policy_state: its policy state; None starts from the initial state.
          limits: `(counts, target)` pairs. `counts` maps a turn's
            `Trajectory` to a bool of shape `[B]`, the entries that add one
            to that count (steps, or ended episodes); the loop stops as soon
            as any count reaches its `target`. The drivers' loops differ only
            in these. Counts are checked before each turn and each turn
            steps every entry, so a count may overshoot.
          maximum_iterations: an upper bound on loop turns, or None.

        Returns:
          `(time_step, policy_state)` after the last turn.
        """
        if policy_state is None:
            policy_state = self._policy.get_initial_state(self._env.batch_size)
        targets = [target for _, target in limits]

        def cond(counters: list, time_step: TimeStep, policy_state: NestedTensor) -> tf.Tensor:
            below = [counter < target for counter, target in zip(counters, targets)]
            return tf.reduce_all(tf.stack(below))

        def body(counters: list, time_step: TimeStep, policy_state: NestedTensor) -> tuple:
            trajectory, time_step, policy_state = self._observed_step(time_step, policy_state)
            counters = [counter + tf.reduce_sum(tf.cast(counts(trajectory), tf.int32))
                        for counter, (counts, _) in zip(counters, limits)]
            return counters, time_step, policy_state

        zeros = [tf.constant(0, tf.int32) for _ in limits]
        _, time_step, policy_state = tf.while_loop(
            cond, body, (zeros, time_step, policy_state),
            parallel_iterations=1, maximum_iterations=maximum_iterations, name="driver_loop")
        return time_step, policy_state

    def _call(self, run_fn: Callable[..., Any], *args: Any) -> Any:
        """Calls the compiled loop; an exception raised by the Python environment
        inside it is raised again as itself instead of TensorFlow's wrapper."""
        tf_py_environment.clear_py_error(self._env)
        try:
            return run_fn(*args)
        except tf.errors.OpError as error:
            tf_py_environment.reraise_py_error(self._env, error)
            raise


def _as_iterations(maximum_iterations: Optional[int], driver: str) -> Optional[tf.Tensor]:
    if maximum_iterations is None:
        return None
    return tf.constant(check_count(maximum_iterations, "maximum_iterations", driver), tf.int32)


