"""`suite_gym`: TF-Agents' loader of registered environments, on gymnasium.

`load('CartPole-v1')` makes the gymnasium environment without gymnasium's
own time limit, applies `gym_env_wrappers` to it, wraps it as a
`GymnasiumEnvironment`, then enforces the registered episode limit with
`wrappers.TimeLimit` (so a truncated episode ends LAST with its discount
kept, and a learner can bootstrap) and finally applies `env_wrappers`:
the order and arguments of TF-Agents' `suite_gym`. Environment ids are
gymnasium's ('CartPole-v1', 'Pendulum-v1', ...). gymnasium is imported only
when `load` runs.

>>> env = load("CartPole-v1")
>>> type(env).__name__, env.duration
('TimeLimit', 500)
>>> env.action_spec()
BoundedArraySpec(shape=(), dtype=dtype('int64'), name='action', minimum=0, maximum=1)
"""

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Sequence

from tfpolicy.environments import _gymnasium
from tfpolicy.environments import wrappers
from tfpolicy.environments.gymnasium_wrapper import GymnasiumEnvironment
from tfpolicy.environments.py_environment import PyEnvironment

if TYPE_CHECKING:  # pragma: no cover - for annotations only
    import gymnasium

__all__ = ["TimeLimitWrapperType", "load", "wrap_env"]

TimeLimitWrapperType = Callable[[PyEnvironment, int], PyEnvironment]


def load(environment_name: str, discount: float = 1.0, max_episode_steps: Optional[int] = None,
         gym_env_wrappers: Sequence[Callable[[Any], Any]] = (),
         env_wrappers: Sequence[Callable[[PyEnvironment], PyEnvironment]] = (),
         spec_dtype_map: Optional[Mapping[type, Any]] = None,
         gym_kwargs: Optional[Dict[str, Any]] = None,
         render_kwargs: Optional[Dict[str, Any]] = None) -> PyEnvironment:
    """Makes a registered gymnasium environment and wraps it.

    Args:
      environment_name: the registered gymnasium id, e.g. 'CartPole-v1'.
      discount: the discount of MID steps and of truncated LAST steps, in [0, 1].
      max_episode_steps: the episode limit enforced by `wrappers.TimeLimit`;
        None takes the registered limit; 0 (or no registered limit) means
        none.
      gym_env_wrappers: callables applied in turn to the gymnasium env
        (gymnasium wrapper classes, say), innermost first.
      env_wrappers: callables applied in turn to the resulting
        `PyEnvironment`, after the time limit.
      spec_dtype_map: space class -> dtype of its specs (see
        `GymnasiumEnvironment`).
      gym_kwargs: keyword arguments of `gymnasium.make`.
      render_kwargs: more keyword arguments of `gymnasium.make`, for
        rendering (gymnasium takes them when the env is made), e.g.
        `{'render_mode': 'rgb_array'}`.

    Returns:
      The wrapped `PyEnvironment` (a `TimeLimit` when there is a limit).

    Raises:
      ImportError: gymnasium is not installed.
      gymnasium.error.Error: `environment_name` is not registered.
      ValueError: `discount` outside [0, 1], or a key given in both
        `gym_kwargs` and `render_kwargs`.
    """
    gymnasium = _gymnasium.import_gymnasium("suite_gym.load()")
    gym_kwargs = dict(gym_kwargs or {})
    render_kwargs = dict(render_kwargs or {})
    both = sorted(set(gym_kwargs) & set(render_kwargs))
    if both:
        raise ValueError(f"suite_gym.load: {both} given in both gym_kwargs and render_kwargs")
    spec = gymnasium.spec(environment_name)
    # Made without gymnasium's TimeLimit: the limit is applied below, after
    # `gym_env_wrappers`, as TF-Agents does.
    gym_env = gymnasium.make(dataclasses.replace(spec, max_episode_steps=None),
                             **gym_kwargs, **render_kwargs)
    if max_episode_steps is None:
        max_episode_steps = spec.max_episode_steps
    return wrap_env(gym_env, discount=discount, max_episode_steps=max_episode_steps,
                    gym_env_wrappers=gym_env_wrappers, env_wrappers=env_wrappers,
                    spec_dtype_map=spec_dtype_map)


def wrap_env(gym_env: "gymnasium.Env", discount: float = 1.0,
             max_episode_steps: Optional[int] = None,
             gym_env_wrappers: Sequence[Callable[[Any], Any]] = (),
             time_limit_wrapper: TimeLimitWrapperType = wrappers.TimeLimit,
             env_wrappers: Sequence[Callable[[PyEnvironment], PyEnvironment]] = (),
             spec_dtype_map: Optional[Mapping[type, Any]] = None, auto_reset: bool = True,
             render_kwargs: Optional[Dict[str, Any]] = None) -> PyEnvironment:
    """Wraps a made gymnasium environment as `load` does.

    Args:
      gym_env: the gymnasium environment.
      discount: see `load`.
      max_episode_steps: the episode limit; None or 0 means none.
      gym_env_wrappers: see `load`.
      time_limit_wrapper: called as `time_limit_wrapper(env,
        max_episode_steps)` to enforce the limit.
      env_wrappers: see `load`.
      spec_dtype_map: see `load`.
      auto_reset: see `PyEnvironment`.
      render_kwargs: must be empty: gymnasium takes render options when the
        env is made (give them to `gymnasium.make`, or to `load`).

    Returns:
      The wrapped `PyEnvironment`.

    Raises:
      ValueError: `render_kwargs` is not empty, or `discount` outside [0, 1].
    """
    if render_kwargs:
        raise ValueError(
            f"suite_gym.wrap_env: gymnasium takes render options when the env is made; pass "
            f"{render_kwargs!r} to gymnasium.make (or to suite_gym.load), not to wrap_env")
    for wrapper in gym_env_wrappers:
        gym_env = wrapper(gym_env)
    env: PyEnvironment = GymnasiumEnvironment(gym_env, discount=discount, auto_reset=auto_reset,
                                              spec_dtype_map=spec_dtype_map)
    if max_episode_steps:
        env = time_limit_wrapper(env, max_episode_steps)
    for wrapper in env_wrappers:
        env = wrapper(env)
    return env
