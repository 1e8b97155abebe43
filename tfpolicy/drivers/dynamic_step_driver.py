"""`DynamicStepDriver`: takes N environment steps with a `TFPolicy`, compiled.

`run` is a `tf.function` around a `tf.while_loop`. Each iteration asks the
policy for an action, steps the `TFPyEnvironment`, builds the `Trajectory`
of that transition and hands it to the observers, then carries the next
time step and policy state on. `run` returns both, so the next `run`
continues the same episodes.

Counting follows TF-Agents: every batch entry whose transition is not a
boundary (LAST -> FIRST) adds one step, and the loop stops once the sum over
the batch reaches `num_steps`. A batched environment may therefore take a
few steps more than `num_steps` (the last iteration steps every entry).

Observers run inside `tf.function`. A TensorFlow observer (a replay
buffer's `add_batch`, a `tf.function`, code made of TF ops) runs on every
step. A plain Python observer runs only once, while the loop is traced, and
sees symbolic tensors; wrap it with `numpy_observer` so it is called with
numpy values on every step (through `tf.numpy_function`). That also fits the
numpy metrics of `tfpolicy.metrics`.

`run` is traced without AutoGraph (`tf.function(autograph=False)`): the
policy and observers are traced as written, which keeps the first `run`
fast. An observer that branches or loops in Python on tensor values must be
a `tf.function` itself (it then gets AutoGraph on its own). Each driver
traces once per kind of call (with or without a time step, a policy state,
a `maximum_iterations`).

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.environments.py_environment import PyEnvironment
>>> from tfpolicy.environments.tf_py_environment import TFPyEnvironment
>>> from tfpolicy.policies import RandomTFPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> class TwoSteps(PyEnvironment):
...     def observation_spec(self):
...         return ArraySpec((), np.float32, name="observation")
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1, name="action")
...     def _reset(self):
...         self._t = 0
...         return ts.restart(np.float32(0))
...     def _step(self, action):
...         self._t += 1
...         if self._t == 2:
...             return ts.termination(np.float32(2), reward=1.0)
...         return ts.transition(np.float32(1), reward=0.0)
>>> env = TFPyEnvironment(TwoSteps())
>>> policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
>>> rows = []
>>> driver = DynamicStepDriver(env, policy, observers=[numpy_observer(rows.append)],
...                            num_steps=3)
>>> time_step, _ = driver.run()
>>> [(int(r.step_type[0]), int(r.next_step_type[0])) for r in rows]
[(0, 1), (1, 2), (2, 0), (0, 1)]
"""

from typing import Any, Optional, Sequence, Tuple

import tensorflow as tf

from specs import NestedTensor
from tfpolicy.drivers._common import check_count
from tfpolicy.drivers._tf_driver import (CompiledDriver, Observer, TransitionObserver,
                                         numpy_observer)  # noqa: F401 (doctest)
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = ["DynamicStepDriver"]


class DynamicStepDriver(CompiledDriver):
    """Takes `num_steps` steps in a `TFPyEnvironment` with a `TFPolicy` in a compiled loop.

    Args:
      env: a `TFPyEnvironment` (batch size `B`).
      policy: a `TFPolicy` whose time step and action specs agree with the
        env's in structure, dtype and shape.
      observers: callables called with the `Trajectory` of every transition,
        tensors with outer dim `[B]`, after the transition observers. They
        run inside `tf.function`: use TF code (`UniformReplayBuffer.add_batch`
        fits) or wrap numpy code with `numpy_observer`.
      transition_observers: callables called with the tuple
        `(time_step, policy_step, next_time_step)` of every transition.
      num_steps: stop once this many non-boundary steps were taken, summed
        over the batch.

    Raises:
      TypeError: `env` is not an environment of tensors, `policy` is not a
        `TFPolicy`, or an observer is not callable.
      ValueError: the specs of policy and env disagree (the message names
        the path), or `num_steps` is negative.
    """

    def __init__(self, env: Any, policy: TFPolicy, observers: Optional[Sequence[Observer]] = None,
                 transition_observers: Optional[Sequence[TransitionObserver]] = None,
                 num_steps: int = 1):
        super().__init__(env, policy, observers, transition_observers)
        self._num_steps = check_count(num_steps, "num_steps", type(self).__name__)
        self._run_fn = tf.function(self._run, autograph=False)

    @property
    def num_steps(self) -> int:
        """Steps per `run`, summed over the batch."""
        return self._num_steps

    def run(self, time_step: Optional[TimeStep] = None, policy_state: Optional[NestedTensor] = None,
            maximum_iterations: Optional[int] = None) -> Tuple[TimeStep, NestedTensor]:
        """Steps until `num_steps` steps were taken (or `maximum_iterations` loop turns).

        Args:
          time_step: the time step to act on first, outer dim `[B]`; None
            takes `env.current_time_step()` (resetting only an env that was
            never reset), so consecutive runs continue the same episodes.
          policy_state: the policy state for `time_step`; None starts from
            `policy.get_initial_state(B)`.
          maximum_iterations: an upper bound on loop turns (each steps every
            batch entry once); None for none.

        Returns:
          `(time_step, policy_state)` after the last step, tensors with outer
          dim `[B]`; pass them to the next `run` to continue.

        Raises:
          ValueError, TypeError: an action the policy chose is rejected by the
            environment (e.g. outside the action spec; the message names the
            path), or an input does not match its spec.
        """
        return self._call(self._run_fn,
                          *self._run_inputs(time_step, policy_state, maximum_iterations))

    def _run(self, time_step: Optional[TimeStep], policy_state: Optional[NestedTensor],
             maximum_iterations: Optional[tf.Tensor]) -> Tuple[TimeStep, NestedTensor]:
        if time_step is None:
            time_step = self._env.current_time_step()
        return self._loop(time_step, policy_state, [(_is_step, self._num_steps)],
                          maximum_iterations)


def _is_step(trajectory: Trajectory) -> tf.Tensor:
    """Every transition but a boundary (LAST -> FIRST) counts as a step."""
    return tf.logical_not(trajectory.is_boundary())
