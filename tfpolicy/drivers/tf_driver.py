"""`TFDriver`: TF-Agents' general compiled driver, with step and episode limits.

`run(time_step, policy_state)` acts with a `TFPolicy`, steps the TensorFlow
environment and hands every transition to the observers until `max_steps`
steps or `max_episodes` episodes were taken in this call, whichever comes
first (both summed over the batch). As in TF-Agents, a step is a transition
that is not a boundary (LAST -> FIRST), and an episode ends on a transition
into a LAST step. The loop is a `tf.function` unless `disable_tf_function`;
observers run as in the dynamic drivers (see `dynamic_step_driver`): wrap a
numpy observer in `numpy_observer`.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.environments.py_environment import PyEnvironment
>>> from tfpolicy.environments.tf_py_environment import TFPyEnvironment
>>> from tfpolicy.metrics import tf_metrics
>>> from tfpolicy.policies import RandomTFPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> class ThreeSteps(PyEnvironment):
...     def observation_spec(self):
...         return ArraySpec((), np.float32, name="observation")
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1, name="action")
...     def _reset(self):
...         self._t = 0
...         return ts.restart(np.float32(0))
...     def _step(self, action):
...         self._t += 1
...         if self._t == 3:
...             return ts.termination(np.float32(3), reward=1.0)
...         return ts.transition(np.float32(self._t), reward=0.0)
>>> env = TFPyEnvironment(ThreeSteps())
>>> episodes = tf_metrics.NumberOfEpisodes()
>>> driver = TFDriver(env, RandomTFPolicy(env.time_step_spec(), env.action_spec()),
...                   observers=[episodes], max_steps=100, max_episodes=2)
>>> _ = driver.run(env.reset())
>>> int(episodes.result())
2
"""

from typing import Any, Optional, Sequence, Tuple

import tensorflow as tf

from specs import NestedTensor
from tfpolicy.drivers._common import check_count
from tfpolicy.drivers._tf_driver import CompiledDriver, Observer, TransitionObserver
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = ["TFDriver"]


class TFDriver(CompiledDriver):
    """Runs a `TFPolicy` in a TensorFlow environment up to a step or episode limit.

    Args:
      env: a `TFPyEnvironment` (or an environment with its members), batch
        `[B]`.
      policy: a `TFPolicy` whose time step and action specs agree with the
        env's.
      observers: callables given the `Trajectory` of every transition.
      transition_observers: callables given `(time_step, policy_step,
        next_time_step)` of every transition, before `observers`.
      max_steps: steps per `run`, summed over the batch; None or 0 for no
        step limit.
      max_episodes: episodes per `run`, summed over the batch; None or 0 for
        no episode limit.
      disable_tf_function: True runs the loop op by op, for debugging.

    Raises:
      ValueError: neither limit is positive, or a limit is negative.
      TypeError: `env`, `policy` or an observer has the wrong type.
    """

    def __init__(self, env: Any, policy: TFPolicy, observers: Optional[Sequence[Observer]],
                 transition_observers: Optional[Sequence[TransitionObserver]] = None,
                 max_steps: Optional[int] = None, max_episodes: Optional[int] = None,
                 disable_tf_function: bool = False):
        self._max_steps = check_count(max_steps or 0, "max_steps", "TFDriver")
        self._max_episodes = check_count(max_episodes or 0, "max_episodes", "TFDriver")
        if self._max_steps == 0 and self._max_episodes == 0:
            raise ValueError(f"TFDriver: max_steps or max_episodes must be positive, got "
                             f"max_steps={max_steps!r} and max_episodes={max_episodes!r}")
        super().__init__(env, policy, observers, transition_observers)
        self._disable_tf_function = bool(disable_tf_function)
        self._run_fn = (self._run if self._disable_tf_function
                        else tf.function(self._run, autograph=False))

    @property
    def max_steps(self) -> Optional[int]:
        """Steps per `run` (summed over the batch), or None for no limit."""
        return self._max_steps or None

    @property
    def max_episodes(self) -> Optional[int]:
        """Episodes per `run` (summed over the batch), or None for no limit."""
        return self._max_episodes or None

    def run(self, time_step: TimeStep, policy_state: NestedTensor = ()
            ) -> Tuple[TimeStep, NestedTensor]:
        """Steps until `max_steps` steps or `max_episodes` episodes in this call.

        Args:
          time_step: the time step to act on first, outer dim `[B]` (e.g.
            `env.reset()`).
          policy_state: the policy state for `time_step`; `()` or None starts
            a policy that has state from `policy.get_initial_state(B)`.

        Returns:
          `(time_step, policy_state)` after the last step; pass them to the
          next `run` to continue the same episodes.

        Raises:
          ValueError, TypeError: an action the policy chose is rejected by the
            environment (the message names the path), or an input does not
            match its spec.
        """
        if policy_state is not None and not tf.nest.flatten(policy_state):
            policy_state = None
        time_step, policy_state, _ = self._run_inputs(time_step, policy_state, None)
        return self._call(self._run_fn, time_step, policy_state)

    def _run(self, time_step: TimeStep, policy_state: Optional[NestedTensor]
             ) -> Tuple[TimeStep, NestedTensor]:
        limits = []
        if self._max_steps:
            limits.append((_is_step, self._max_steps))
        if self._max_episodes:
            limits.append((Trajectory.is_last, self._max_episodes))
        return self._loop(time_step, policy_state, limits, None)


def _is_step(trajectory: Trajectory) -> tf.Tensor:
    """Every transition but a boundary (LAST -> FIRST) counts as a step."""
    return tf.logical_not(trajectory.is_boundary())
