"""`DynamicEpisodeDriver`: runs N episodes with a `TFPolicy`, compiled.

The loop is the one of `DynamicStepDriver` (a `tf.function` around a
`tf.while_loop`; see there for observers and `numpy_observer`), but it
counts episodes: as in TF-Agents, an episode counts on the boundary
transition after its LAST step (LAST -> FIRST), so observers have seen the
boundary row and the returned time step starts the next episode. With
`end_episode_on_boundary=False` it counts on the LAST step itself and
returns that LAST step. Counts are summed over the batch, so a batched
environment may finish a few more episodes than asked, and episodes of
other entries may be left half done (pass the returned time step and
policy state to the next `run` to continue them).

Unlike the step driver, `run()` without a time step resets the
environment, as TF-Agents does.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.drivers import numpy_observer
>>> from tfpolicy.environments.py_environment import PyEnvironment
>>> from tfpolicy.environments.tf_py_environment import TFPyEnvironment
>>> from tfpolicy.policies import RandomTFPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> class Coin(PyEnvironment):
...     def observation_spec(self):
...         return ArraySpec((), np.float32, name="observation")
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1, name="action")
...     def _reset(self):
...         return ts.restart(np.float32(0))
...     def _step(self, action):
...         return ts.termination(np.float32(0), reward=float(action))
>>> env = TFPyEnvironment(Coin())
>>> policy = RandomTFPolicy(env.time_step_spec(), env.action_spec())
>>> rows = []
>>> driver = DynamicEpisodeDriver(env, policy, observers=[numpy_observer(rows.append)],
...                               num_episodes=2)
>>> time_step, _ = driver.run()
>>> [(int(r.step_type[0]), int(r.next_step_type[0])) for r in rows]
[(0, 2), (2, 0), (0, 2), (2, 0)]
"""

from typing import Any, Optional, Sequence, Tuple

import tensorflow as tf

from specs import NestedTensor
from tfpolicy.drivers._common import check_count
from tfpolicy.drivers._tf_driver import CompiledDriver, Observer, TransitionObserver
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = ["DynamicEpisodeDriver"]


class DynamicEpisodeDriver(CompiledDriver):
    """Runs `num_episodes` episodes in a `TFPyEnvironment` with a `TFPolicy` in a compiled loop.

    Args:
      env: a `TFPyEnvironment` (batch size `B`).
      policy: a `TFPolicy` whose time step and action specs agree with the
        env's in structure, dtype and shape.
      observers: callables called with the `Trajectory` of every transition
        (tensors with outer dim `[B]`), after the transition observers; they
        run inside `tf.function` (see `tfpolicy.drivers.numpy_observer`
        for numpy code).
      transition_observers: callables called with the tuple
        `(time_step, policy_step, next_time_step)` of every transition.
      num_episodes: stop once this many episodes ended, summed over the batch.
      end_episode_on_boundary: count an episode on the boundary transition
        after its LAST step (True, TF-Agents' behaviour) or on the LAST step.

    Raises:
      TypeError: `env` is not an environment of tensors, `policy` is not a
        `TFPolicy`, or an observer is not callable.
      ValueError: the specs of policy and env disagree (the message names
        the path), or `num_episodes` is negative.
    """

    def __init__(self, env: Any, policy: TFPolicy,
                 observers: Optional[Sequence[Observer]] = None,
                 transition_observers: Optional[Sequence[TransitionObserver]] = None,
                 num_episodes: int = 1, end_episode_on_boundary: bool = True):
        super().__init__(env, policy, observers, transition_observers)
        self._num_episodes = check_count(num_episodes, "num_episodes", type(self).__name__)
        self._end_episode_on_boundary = bool(end_episode_on_boundary)
        self._run_fn = tf.function(self._run, autograph=False)

    @property
    def num_episodes(self) -> int:
        """Episodes per `run` unless `run` is given another count, summed over the batch."""
        return self._num_episodes

    def run(self, time_step: Optional[TimeStep] = None, policy_state: Optional[NestedTensor] = None,
            num_episodes: Optional[int] = None, maximum_iterations: Optional[int] = None
            ) -> Tuple[TimeStep, NestedTensor]:
        """Steps until `num_episodes` episodes ended (or `maximum_iterations` loop turns).

        Args:
          time_step: the time step to act on first, outer dim `[B]`; None
            resets the environment and starts from its FIRST steps.
          policy_state: the policy state for `time_step`; None starts from
            `policy.get_initial_state(B)`.
          num_episodes: episodes for this call; None uses the driver's.
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
        name = type(self).__name__
        count = self._num_episodes if num_episodes is None else check_count(
            num_episodes, "num_episodes", name)
        time_step, policy_state, iterations = self._run_inputs(time_step, policy_state,
                                                               maximum_iterations)
        return self._call(self._run_fn, time_step, policy_state, tf.constant(count, tf.int32),
                          iterations)

    def _run(self, time_step: Optional[TimeStep], policy_state: Optional[NestedTensor],
             num_episodes: tf.Tensor, maximum_iterations: Optional[tf.Tensor]
             ) -> Tuple[TimeStep, NestedTensor]:
        if time_step is None:
            time_step = self._env.reset()
        ended = Trajectory.is_boundary if self._end_episode_on_boundary else Trajectory.is_last
        return self._loop(time_step, policy_state, [(ended, num_episodes)], maximum_iterations)
