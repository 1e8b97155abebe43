"""`PyDriver`: runs a numpy policy in a numpy environment and feeds observers.

Each step of `run` asks the policy for an action, steps the environment,
builds the `Trajectory` of that transition and hands it to every observer
(metrics, `UniformReplayBuffer.add_batch`, any callable). The policy state
is carried from step to step, and `run` returns the last time step and
policy state so the next `run` continues where this one stopped: episodes
may span `run` calls.

Counting follows TF-Agents: a step is a transition that is not a boundary
(LAST -> FIRST); an episode ends on the boundary transition after its LAST
step (so the boundary row reaches the observers before `run` returns), or
on the LAST step itself with `end_episode_on_boundary=False`. In a batched
environment every entry counts.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.environments import PyEnvironment
>>> from tfpolicy.policies import RandomPyPolicy
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
>>> env = Coin()
>>> rows = []
>>> driver = PyDriver(env, RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0),
...                   observers=[rows.append], max_episodes=2)
>>> time_step, _ = driver.run()
>>> [(int(r.step_type), int(r.next_step_type)) for r in rows]
[(0, 2), (2, 0), (0, 2), (2, 0)]
"""

from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np

from tfpolicy.drivers._common import Driver, check_callables, check_count
from specs import NestedArray
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.trajectories.time_step import StepType, TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = ["PyDriver"]

Observer = Callable[[Trajectory], Any]
TransitionObserver = Callable[[Tuple[TimeStep, Any, TimeStep]], Any]


def _check_limit(value: Optional[int], name: str) -> Optional[int]:
    return None if value is None else check_count(value, name, "PyDriver")


class PyDriver(Driver):
    """Steps a `PyEnvironment` with a `PyPolicy`, handing each transition to observers.

    Args:
      env: the environment, batched (`[B]` time steps) or not.
      policy: a `PyPolicy` (e.g. `PyTFEagerPolicy`, `RandomPyPolicy`, a saved
        policy) whose time step and action specs agree with the env's in
        structure, dtype and shape.
      observers: callables called with the `Trajectory` of every transition
        (numpy arrays with the env's outer dims), in order; metrics from
        `tfpolicy.metrics` and `UniformReplayBuffer.add_batch` fit here.
      transition_observers: callables called with the tuple
        `(time_step, policy_step, next_time_step)` of every transition,
        before `observers`.
      info_observers: callables called with `env.get_info()` after every
        step, after `observers`.
      max_steps: stop once this many (non-boundary) steps were taken, summed
        over the batch; None for no limit.
      max_episodes: stop once this many episodes ended, summed over the
        batch; None for no limit.
      end_episode_on_boundary: count an episode on the boundary transition
        after its LAST step (True, TF-Agents' default) or on the LAST step.

    Raises:
      ValueError: both limits are None, a limit is negative, or the specs
        of policy and env disagree (the message names the path).
      TypeError: an observer is not callable, or `env`/`policy` has the
        wrong type.
    """

    def __init__(self, env: PyEnvironment, policy: PyPolicy, observers: Sequence[Observer],
                 transition_observers: Optional[Sequence[TransitionObserver]] = None,
                 info_observers: Optional[Sequence[Callable[[Any], Any]]] = None,
                 max_steps: Optional[int] = None, max_episodes: Optional[int] = None,
                 end_episode_on_boundary: bool = True):
        if not isinstance(env, PyEnvironment):
            raise TypeError(f"PyDriver: env must be a PyEnvironment, got {type(env).__name__}")
        if not isinstance(policy, PyPolicy):
            raise TypeError(
                f"PyDriver: policy must be a PyPolicy (wrap a TFPolicy in PyTFEagerPolicy), "
                f"got {type(policy).__name__}")
        self._max_steps = _check_limit(max_steps, "max_steps")
        self._max_episodes = _check_limit(max_episodes, "max_episodes")
        if self._max_steps is None and self._max_episodes is None:
            raise ValueError("PyDriver: give max_steps, max_episodes or both; "
                             "with neither, run() would never return")
        super().__init__(env, policy, observers, transition_observers)
        self._info_observers = check_callables(info_observers, "info_observers", "PyDriver")
        self._end_episode_on_boundary = bool(end_episode_on_boundary)

    @property
    def info_observers(self) -> Tuple[Callable[[Any], Any], ...]:
        """The callables given `env.get_info()` after every step, in call order."""
        return self._info_observers

    def run(self, time_step: Optional[TimeStep] = None,
            policy_state: Optional[NestedArray] = None) -> Tuple[TimeStep, NestedArray]:
        """Steps until `max_steps` steps or `max_episodes` episodes, whichever comes first.

        Args:
          time_step: the time step to act on first; None takes the env's
            current time step, resetting it if it has none yet.
          policy_state: the policy state for `time_step`; None starts from
            `policy.get_initial_state(env.batch_size)`.

        Returns:
          `(time_step, policy_state)` after the last step, to pass to the
          next `run` to continue the same episodes.
        """
        env, policy = self._env, self._policy
        if time_step is None:
            time_step = env.current_time_step()
            if time_step is None:
                time_step = env.reset()
        if policy_state is None:
            policy_state = policy.get_initial_state(env.batch_size)
        max_steps = np.inf if self._max_steps is None else self._max_steps
        max_episodes = np.inf if self._max_episodes is None else self._max_episodes
        num_steps = num_episodes = 0
        observers, transition_observers = self._observers, self._transition_observers
        while num_steps < max_steps and num_episodes < max_episodes:
            policy_step = policy.action(time_step, policy_state)
            next_time_step = env.step(policy_step.action)
            if transition_observers:
                transition = (time_step, policy_step, next_time_step)
                for observer in transition_observers:
                    observer(transition)
            trajectory = Trajectory(
                time_step.step_type, time_step.observation, policy_step.action,
                policy_step.info, next_time_step.step_type, next_time_step.reward,
                next_time_step.discount)
            for observer in observers:
                observer(trajectory)
            for observer in self._info_observers:
                observer(env.get_info())
            boundary = time_step.step_type == StepType.LAST
            num_steps += int(np.count_nonzero(~boundary))
            if self._end_episode_on_boundary:
                num_episodes += int(np.count_nonzero(boundary))
            else:
                num_episodes += int(np.count_nonzero(next_time_step.step_type == StepType.LAST))
            time_step, policy_state = next_time_step, policy_step.state
        return time_step, policy_state
