"""`GymnasiumVectorEnvironment`: a gymnasium vector env as a batched `PyEnvironment`.

gymnasium 1.x vector envs (`SyncVectorEnv`, `AsyncVectorEnv`, or an env's
own vector implementation from `gymnasium.make_vec`) step N copies of an
environment at once and reset each copy by themselves. This wrapper turns
their batched `(observation, reward, terminated, truncated, info)` into
batched time steps with TF-Agents' per-entry episode boundaries, which
match gymnasium's "next-step" autoreset mode:

* entry `i` terminated: LAST with discount 0; truncated: LAST with the
  discount kept (a learner may bootstrap); otherwise MID;
* the step after entry `i`'s LAST is its FIRST step of a new episode
  (reward 0, discount 1): the vector env resets that copy on this step and
  ignores the action given for it.

Only `AutoresetMode.NEXT_STEP` (gymnasium's default) can be mapped this
way: in same-step mode the reset observation arrives in place of the
final one, and disabled mode would step a copy right after resetting it, so
both are rejected. gymnasium is imported lazily: importing this module does
not import it.

>>> env = load_vector("CartPole-v1", num_envs=2, seed=0)
>>> env.batch_size, env.action_spec().shape
(2, ())
>>> env.reset().step_type
array([0, 0], dtype=int32)
>>> env.step(np.array([0, 1])).step_type
array([1, 1], dtype=int32)
>>> env.close()
"""

import warnings
from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence, Union

import numpy as np

from specs import spaces
from specs import NestedArray, NestedArraySpec
from tfpolicy.environments import _gymnasium
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories import time_step as ts_lib
from tfpolicy.trajectories.time_step import StepType, TimeStep

if TYPE_CHECKING:  # pragma: no cover - for annotations only
    import gymnasium

__all__ = ["GymnasiumVectorEnvironment", "load_vector"]

Seed = Optional[Union[int, Sequence[Optional[int]]]]

def _check_autoreset_mode(vector_env: Any, gymnasium: Any) -> None:
    modes = gymnasium.vector.AutoresetMode
    if "autoreset_mode" not in vector_env.metadata:
        warnings.warn(
            f"{vector_env} has no metadata['autoreset_mode']; GymnasiumVectorEnvironment "
            "assumes AutoresetMode.NEXT_STEP, gymnasium's default", UserWarning, stacklevel=3)
        return
    mode = vector_env.metadata["autoreset_mode"]
    try:
        mode = modes(mode)
    except ValueError:
        pass
    if mode != modes.NEXT_STEP:
        raise ValueError(
            f"GymnasiumVectorEnvironment needs a vector env with autoreset_mode "
            f"AutoresetMode.NEXT_STEP (gymnasium's default), got {mode!r}: only next-step "
            "resets map onto FIRST steps that ignore their action. Build it with "
            "autoreset_mode=gymnasium.vector.AutoresetMode.NEXT_STEP")


class GymnasiumVectorEnvironment(PyEnvironment):
    """Wraps a `gymnasium.vector.VectorEnv` as a batched `PyEnvironment`.

    Specs are those of one copy, from `single_observation_space` and
    `single_action_space` through `specs.spaces.from_space` (nests named
    'observation' and 'action', as in `GymnasiumEnvironment`); `batched` is
    True and `batch_size` is `num_envs`. Observations are cast to the spec's
    dtypes and rewards to float32. Actions are checked against the batched
    action spec before they reach gymnasium.

    Attributes:
      last_info: the `info` dict of the most recent `reset` or `step`, as
        the vector env returned it (values batched, with gymnasium's `_key`
        masks); `{}` before the first. Also `get_info()`.

    Args:
      vector_env: the vector environment, in `AutoresetMode.NEXT_STEP`;
        `close()` closes it.
      discount: the discount of MID steps and of truncated LAST steps, in [0, 1].
      seed: passed to the first `vector_env.reset(seed=...)`: an int seeds
        copy `i` with `seed + i`, a list gives one seed per copy; None
        leaves gymnasium's seeding alone.

    Raises:
      TypeError: `vector_env` is not a `gymnasium.vector.VectorEnv`, or a
        space `from_space` cannot convert.
      ValueError: `discount` outside [0, 1], or another autoreset mode.
    """

    def __init__(self, vector_env: "gymnasium.vector.VectorEnv", discount: float = 1.0,
                 seed: Seed = None):
        super().__init__(auto_reset=True)
        gymnasium = _gymnasium.import_gymnasium("GymnasiumVectorEnvironment")
        if not isinstance(vector_env, gymnasium.vector.VectorEnv):
            hint = (" (for a single gymnasium.Env use GymnasiumEnvironment)"
                    if isinstance(vector_env, gymnasium.Env) else "")
            raise TypeError(f"vector_env must be a gymnasium.vector.VectorEnv, e.g. from "
                            f"gymnasium.make_vec, got {type(vector_env).__name__}{hint}")
        discount = _gymnasium.check_discount(discount)
        _check_autoreset_mode(vector_env, gymnasium)
        self._env = vector_env
        self._num_envs = int(vector_env.num_envs)
        self._discount = discount
        self._observation_spec = spaces.from_space(vector_env.single_observation_space,
                                                   name="observation")
        self._action_spec = spaces.from_space(vector_env.single_action_space, name="action")
        self._observation = _gymnasium.observation_converter(self._observation_spec)
        self._next_seed = seed
        self.last_info: Dict[str, Any] = {}

    @property
    def gym(self) -> "gymnasium.vector.VectorEnv":
        """The wrapped gymnasium vector environment."""
        return self._env

    def observation_spec(self) -> NestedArraySpec:
        return self._observation_spec

    def action_spec(self) -> NestedArraySpec:
        return self._action_spec

    @property
    def batched(self) -> bool:
        return True

    @property
    def batch_size(self) -> Optional[int]:
        return self._num_envs

    def get_info(self) -> Dict[str, Any]:
        """The `info` dict of the most recent `reset` or `step` (TF-Agents' name)."""
        return self.last_info

    def seed(self, seed: Seed) -> None:
        """Makes the next reset (explicit, or when every entry ended) use `reset(seed=seed)`."""
        self._next_seed = seed

    def _reset(self) -> TimeStep:
        if self._next_seed is None:
            observation, info = self._env.reset()
        else:
            seed = self._next_seed
            observation, info = self._env.reset(
                seed=int(seed) if isinstance(seed, (int, np.integer)) else list(seed))
            self._next_seed = None
        self.last_info = info
        return ts_lib.restart(self._observation(observation), batch_size=self._num_envs)

    def _step(self, action: NestedArray) -> TimeStep:
        # Entries whose previous step was LAST are reset by the vector env on
        # this step (next-step autoreset), whatever their action.
        restarted = np.asarray(self.current_time_step().is_last())
        observation, reward, terminated, truncated, info = self._env.step(action)
        self.last_info = info
        terminated = np.asarray(terminated, bool) & ~restarted
        ended = (terminated | np.asarray(truncated, bool)) & ~restarted
        step_type = np.where(restarted, StepType.FIRST,
                             np.where(ended, StepType.LAST, StepType.MID)).astype(np.int32)
        reward = np.where(restarted, 0.0, np.asarray(reward, np.float32)).astype(np.float32)
        discount = np.where(restarted, 1.0,
                            np.where(terminated, 0.0, self._discount)).astype(np.float32)
        return TimeStep(step_type=step_type, reward=reward, discount=discount,
                        observation=self._observation(observation))

    def close(self) -> None:
        """Closes the gymnasium vector environment."""
        self._env.close()


def load_vector(name: str, num_envs: int, vectorization_mode: str = "sync",
                discount: float = 1.0, max_episode_steps: Optional[int] = None,
                seed: Seed = None, **gym_kwargs: Any) -> GymnasiumVectorEnvironment:
    """Makes `num_envs` copies of a registered gymnasium environment as one batched env.

    Args:
      name: the registered id, e.g. 'CartPole-v1'.
      num_envs: the batch size N.
      vectorization_mode: 'sync' (copies stepped in this process, the
        default), 'async' (one worker process per copy) or
        'vector_entry_point' (the env's own vector implementation, if any),
        passed to `gymnasium.make_vec`. For 'async', worker processes are
        started with the 'spawn' method unless `vector_kwargs` names a
        `context`: forking a process that runs TensorFlow is unsafe.
      discount: see `GymnasiumVectorEnvironment`.
      max_episode_steps: episodes are truncated (LAST, discount kept) after
        this many steps; None keeps the registered limit.
      seed: the seed of the first reset: copy `i` gets `seed + i`.
      **gym_kwargs: further keyword arguments of `gymnasium.make_vec`
        (`vector_kwargs`, `wrappers`) or of the environment itself.

    Returns:
      The wrapped vector environment.

    Raises:
      ImportError: gymnasium is not installed.
      ValueError: `num_envs` below 1, or an unknown `vectorization_mode`.
    """
    gymnasium = _gymnasium.import_gymnasium("load_vector()")
    if int(num_envs) < 1:
        raise ValueError(f"num_envs must be at least 1, got {num_envs!r}")
    if max_episode_steps is not None:
        gym_kwargs["max_episode_steps"] = max_episode_steps
    if vectorization_mode == "async":
        vector_kwargs = dict(gym_kwargs.pop("vector_kwargs", None) or {})
        vector_kwargs.setdefault("context", "spawn")
        gym_kwargs["vector_kwargs"] = vector_kwargs
    vector_env = gymnasium.make_vec(name, num_envs=int(num_envs),
                                    vectorization_mode=vectorization_mode, **gym_kwargs)
    try:
        return GymnasiumVectorEnvironment(vector_env, discount=discount, seed=seed)
    except BaseException:
        vector_env.close()
        raise
