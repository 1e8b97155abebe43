"""Environment utilities with TF-Agents' names: checking a `PyEnvironment`
against its specs, and getting a TF view of any environment.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.trajectories import time_step as ts
>>> class Wrong(PyEnvironment):
...     def observation_spec(self):
...         return ArraySpec((2,), np.float32, name="observation")
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1, name="action")
...     def _reset(self):
...         return ts.restart(np.zeros(2, np.float32))
...     def _step(self, action):
...         return ts.termination(np.zeros(3, np.float32), reward=1.0)
>>> validate_py_environment(Wrong(), episodes=1)
Traceback (most recent call last):
...
ValueError: validate_py_environment: time step at 'observation': does not match its spec after step 1 of episode 1: expected ArraySpec(shape=(2,), dtype=dtype('float32'), name='observation'), got a value with dtype float32 and shape (3,)
"""

from typing import Callable, Optional, Union

import numpy as np
import tree

from specs import nest_utils
from specs import NestedArray
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.environments.tf_environment import TFEnvironment
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["get_tf_env", "validate_py_environment"]


def get_tf_env(environment: Union[PyEnvironment, TFEnvironment]) -> TFEnvironment:
    """`environment` as a `TFEnvironment`: a `PyEnvironment` is wrapped in `TFPyEnvironment`.

    Args:
      environment: a `PyEnvironment` or a `TFEnvironment`.

    Returns:
      The `TFEnvironment` itself, or a `TFPyEnvironment` around the `PyEnvironment`.

    Raises:
      ValueError: `environment` is None or neither kind of environment.
    """
    if environment is None:
        raise ValueError("get_tf_env: environment is None")
    if isinstance(environment, PyEnvironment):
        return TFPyEnvironment(environment)
    if isinstance(environment, TFEnvironment):
        return environment
    raise ValueError(f"get_tf_env: environment must be a PyEnvironment or a TFEnvironment, got "
                     f"{type(environment).__name__}: {environment!r}")


def validate_py_environment(
        environment: PyEnvironment, episodes: int = 5, seed: Optional[int] = None,
        observation_and_action_constraint_splitter: Optional[Callable[[NestedArray], tuple]] = None
) -> None:
    """Plays `episodes` episodes with random actions, checking every time step against the specs.

    Starting from `reset()`, each time step (step type, reward, discount,
    observation) must match `time_step_spec()`: structure, dtypes, shapes
    and bounds. Actions are drawn uniformly within `action_spec()` by a
    `RandomPyPolicy`, from the allowed ones when a splitter gives an action
    mask. After each LAST step the environment is reset.

    Args:
      environment: the `PyEnvironment` to check (unbatched or batched).
      episodes: how many episodes to play; an episode of a batched env ends
        when any entry's does.
      seed: the seed of the random actions.
      observation_and_action_constraint_splitter: `observation -> (obs,
        mask)`, for environments whose observations carry an action mask.

    Raises:
      ValueError: a time step does not match the spec; the message names
        the nest path, the expected spec and the value, and when it happened.
      TypeError: a time step's structure differs from the spec's.
    """
    # Imported here: policies build on environments' neighbours, not the reverse.
    from tfpolicy.policies.random_py_policy import RandomPyPolicy

    time_step_spec = environment.time_step_spec()
    outer = (environment.batch_size,) if environment.batched else ()
    policy = RandomPyPolicy(
        time_step_spec, environment.action_spec(), seed=seed,
        observation_and_action_constraint_splitter=observation_and_action_constraint_splitter)
    episode, steps = 1, 0
    time_step = environment.reset()
    while episode <= int(episodes):
        _check_time_step(time_step, time_step_spec, outer, episode, steps)
        time_step = environment.step(policy.action(time_step).action)
        steps += 1
        if np.any(time_step.is_last()):
            _check_time_step(time_step, time_step_spec, outer, episode, steps)
            episode, steps = episode + 1, 0
            time_step = environment.reset()


def _check_time_step(time_step: TimeStep, spec: TimeStep, outer: tuple, episode: int,
                     steps: int) -> None:
    when = (f"after reset, in episode {episode}" if steps == 0
            else f"after step {steps} of episode {episode}")
    nest_utils.assert_same_structure(time_step, spec, f"time step ({when})", check_types=False)
    for (path, leaf_spec), value in zip(nest_utils.flatten_with_paths(spec),
                                        tree.flatten(time_step)):
        ok = all(leaf_spec.check_array(entry) for entry in _entries(value, outer))
        if not ok:
            raise ValueError(nest_utils.nest_error_message(
                "time step", path, f"does not match its spec {when}", spec=leaf_spec,
                value=value, owner="validate_py_environment"))


def _entries(value: NestedArray, outer: tuple) -> list:
    """The unbatched entries of a leaf; the leaf itself when its outer dims are wrong."""
    if not outer:
        return [value]
    return list(value) if np.shape(value)[:1] == outer else [value]
