"""`GymnasiumEnvironment`: a gymnasium `Env` behind the `PyEnvironment` interface.

gymnasium is an optional dependency, imported only by `load` (through
`gymnasium.make`) and by `specs.spaces.from_space` when a wrapper is built;
importing this module does not import it.

The wrapper maps gymnasium's `(observation, reward, terminated, truncated,
info)` onto time steps: `terminated` gives a `termination` (discount 0),
`truncated` without `terminated` a `truncation` (the discount is kept, so a
learner may bootstrap), anything else a `transition`. The last `info` dict
is kept in `last_info`.

>>> env = load("CartPole-v1", seed=0)
>>> env.action_spec()
BoundedArraySpec(shape=(), dtype=dtype('int64'), name='action', minimum=0, maximum=1)
>>> first = env.reset()
>>> first.step_type, first.observation.dtype
(array(0, dtype=int32), dtype('float32'))
>>> env.step(1).step_type
array(1, dtype=int32)
"""

from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional

import numpy as np
import tree

from specs import spaces
from specs import NestedArray, NestedArraySpec
from tfpolicy.environments import _gymnasium
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories import time_step as ts_lib
from tfpolicy.trajectories.time_step import TimeStep

if TYPE_CHECKING:  # pragma: no cover - for annotations only
    import gymnasium

__all__ = ["GymnasiumEnvironment", "load"]


class GymnasiumEnvironment(PyEnvironment):
    """Wraps a `gymnasium.Env` as a `PyEnvironment`.

    Specs come from the env's spaces through `specs.spaces.from_space`: the
    observation nest is named 'observation' (leaves 'observation/<path>') and
    the action nest 'action'. Observations are cast to the spec's dtypes and
    rewards to float32.

    Attributes:
      last_info: the `info` dict gymnasium returned with the most recent
        `reset` or `step` (`{}` before the first); also `get_info()`.

    Args:
      env: the gymnasium environment; `close()` closes it.
      discount: the discount of MID steps and of truncated LAST steps, in [0, 1].
      auto_reset: see `PyEnvironment`.
      seed: passed to the first `env.reset(seed=...)`, for a reproducible
        episode sequence; None leaves gymnasium's seeding alone.
      spec_dtype_map: TF-Agents' option: maps gymnasium space classes (e.g.
        `gymnasium.spaces.Discrete`) to the numpy dtype their specs get
        instead of the space's own; a space matches the first of its classes
        (in method resolution order) found in the map. Observations are cast
        to the new dtypes, and actions are given to gymnasium in them.

    Raises:
      ValueError: `discount` outside [0, 1].
      TypeError: a space `from_space` cannot convert.
    """

    def __init__(self, env: "gymnasium.Env", discount: float = 1.0,
                 auto_reset: bool = True, seed: Optional[int] = None,
                 spec_dtype_map: Optional[Mapping[type, Any]] = None):
        super().__init__(auto_reset=auto_reset)
        self._discount = _gymnasium.check_discount(discount)
        self._env = env
        self._observation_spec = spaces.from_space(env.observation_space, name="observation")
        self._action_spec = spaces.from_space(env.action_space, name="action")
        if spec_dtype_map:
            gym_spaces = _gymnasium.import_gymnasium("spec_dtype_map").spaces
            self._observation_spec = _with_dtypes(gym_spaces, env.observation_space,
                                                  self._observation_spec, spec_dtype_map)
            self._action_spec = _with_dtypes(gym_spaces, env.action_space, self._action_spec,
                                             spec_dtype_map)
        self._observation = _gymnasium.observation_converter(self._observation_spec)
        self._nested_action = tree.is_nested(self._action_spec)
        self._next_seed = seed
        self.last_info: Dict[str, Any] = {}

    @property
    def gym(self) -> "gymnasium.Env":
        """The wrapped gymnasium environment."""
        return self._env

    def observation_spec(self) -> NestedArraySpec:
        return self._observation_spec

    def action_spec(self) -> NestedArraySpec:
        return self._action_spec

    def get_info(self) -> Dict[str, Any]:
        """The `info` dict of the most recent `reset` or `step` (TF-Agents' name)."""
        return self.last_info

    def seed(self, seed: Optional[int]) -> None:
        """Makes the next reset (explicit or automatic) call `env.reset(seed=seed)`."""
        self._next_seed = seed

    def _reset(self) -> TimeStep:
        if self._next_seed is None:
            observation, info = self._env.reset()
        else:
            observation, info = self._env.reset(seed=self._next_seed)
            self._next_seed = None
        self.last_info = info
        return ts_lib.restart(self._observation(observation))

    def _step(self, action: NestedArray) -> TimeStep:
        # Scalars go to gymnasium as numpy scalars, which every space and
        # most envs' `if action == ...` code accept.
        if self._nested_action:
            action = tree.map_structure(lambda a: a[()] if a.ndim == 0 else a, action)
        elif action.ndim == 0:
            action = action[()]
        observation, reward, terminated, truncated, info = self._env.step(action)
        self.last_info = info
        # Built directly (not through ts_lib.transition) because this runs on
        # every step and all fields are known to be unbatched numpy values.
        if terminated:
            step_type, discount = ts_lib.StepType.LAST, np.float32(0.0)
        else:
            step_type = ts_lib.StepType.LAST if truncated else ts_lib.StepType.MID
            discount = self._discount
        return TimeStep(step_type=np.array(step_type, np.int32),
                        reward=np.array(reward, np.float32),
                        discount=np.array(discount, np.float32),
                        observation=self._observation(observation))

    def render(self, mode: str = "rgb_array") -> Any:
        """The gymnasium env's `render()`.

        gymnasium fixes the render mode when the env is made
        (`render_mode=...`, e.g. through `suite_gym.load(...,
        render_kwargs={'render_mode': 'rgb_array'})`), so `mode` only
        documents what the caller expects.
        """
        return self._env.render()

    def close(self) -> None:
        """Closes the gymnasium environment."""
        self._env.close()


def _with_dtypes(gym_spaces: Any, space: Any, spec: NestedArraySpec,
                 dtype_map: Mapping[type, Any]) -> NestedArraySpec:
    """`spec` (made from `space`) with the dtypes `dtype_map` gives its spaces' classes."""
    if isinstance(space, gym_spaces.Dict):
        return {key: _with_dtypes(gym_spaces, space.spaces[key], spec[key], dtype_map)
                for key in spec}
    if isinstance(space, gym_spaces.Tuple):
        return tuple(_with_dtypes(gym_spaces, sub, leaf, dtype_map)
                     for sub, leaf in zip(space.spaces, spec))
    for cls in type(space).__mro__:
        if cls in dtype_map:
            return spec.replace(dtype=dtype_map[cls])
    return spec


def load(name: str, discount: float = 1.0, max_episode_steps: Optional[int] = None,
         seed: Optional[int] = None, **gym_kwargs: Any) -> GymnasiumEnvironment:
    """Makes a registered gymnasium environment and wraps it.

    Args:
      name: the registered id, e.g. 'CartPole-v1'.
      discount: see `GymnasiumEnvironment`.
      max_episode_steps: passed to `gymnasium.make`: episodes are truncated
        (LAST, discount kept) after this many steps; None keeps the
        registered limit.
      seed: the seed of the first reset.
      **gym_kwargs: further keyword arguments of `gymnasium.make`.

    Returns:
      The wrapped environment.

    Raises:
      ImportError: gymnasium is not installed.
    """
    gymnasium = _gymnasium.import_gymnasium("load()")
    env = gymnasium.make(name, max_episode_steps=max_episode_steps, **gym_kwargs)
    return GymnasiumEnvironment(env, discount=discount, seed=seed)
