"""The base of the environment wrappers and the checks they share."""

from typing import Any, Optional

import tree

from specs import NestedArray, NestedArraySpec
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories.time_step import TimeStep

__all__ = [
    "PyEnvironmentBaseWrapper",
    "require_unbatched",
    "single_leaf",
]


class PyEnvironmentBaseWrapper(PyEnvironment):
    """Forwards specs, `reset`, `step`, `close` and unknown attributes to `env`.

    The wrapper keeps its own auto-reset state, which mirrors the wrapped
    env's since every step goes through the wrapper. The wrapper's `step`
    checks the action against its action spec (the wrapped env's), so the
    wrapped env is stepped without checking it again; a wrapper that changes
    the action spec converts the action and calls `self._env.step`, which
    checks it.

    Args:
      env: the `PyEnvironment` to wrap.
    """

    def __init__(self, env: PyEnvironment):
        super().__init__(auto_reset=True)
        if not isinstance(env, PyEnvironment):
            raise TypeError(f"env must be a PyEnvironment, got {type(env).__name__}: {env!r}")
        self._env = env

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally; `_env` itself must
        # not recurse (e.g. during unpickling, before __init__ ran).
        if name == "_env":
            raise AttributeError(name)
        return getattr(self._env, name)

    def wrapped_env(self) -> PyEnvironment:
        """The environment this wrapper wraps (a method, as in TF-Agents)."""
        return self._env

    def observation_spec(self) -> NestedArraySpec:
        return self._env.observation_spec()

    def action_spec(self) -> NestedArraySpec:
        return self._env.action_spec()

    def reward_spec(self) -> NestedArraySpec:
        return self._env.reward_spec()

    def discount_spec(self) -> NestedArraySpec:
        return self._env.discount_spec()

    @property
    def batched(self) -> bool:
        return self._env.batched

    @property
    def batch_size(self) -> Optional[int]:
        return self._env.batch_size

    def _reset(self) -> TimeStep:
        return self._env.reset()

    def _step(self, action: NestedArray) -> TimeStep:
        return self._env.step_unchecked(action)

    def close(self) -> None:
        """Closes the wrapped environment."""
        self._env.close()

    # The optional capabilities, forwarded explicitly (as TF-Agents does) so
    # a subclass can extend them with `super()`. An environment without one
    # raises AttributeError naming its type.

    def render(self, mode: str = "rgb_array") -> Any:
        """The wrapped env's `render(mode)`."""
        return self._env.render(mode)

    def seed(self, seed: Any) -> Any:
        """The wrapped env's `seed(seed)`."""
        return self._env.seed(seed)

    def get_info(self) -> Any:
        """The wrapped env's `get_info()`."""
        return self._env.get_info()

    def get_state(self) -> Any:
        """The wrapped env's `get_state()`."""
        return self._env.get_state()

    def set_state(self, state: Any) -> None:
        """The wrapped env's `set_state(state)`."""
        self._env.set_state(state)


def require_unbatched(env: PyEnvironment, wrapper: str) -> None:
    if env.batched:
        raise ValueError(
            f"{wrapper} wraps unbatched environments; got a batched one (batch size "
            f"{env.batch_size}): wrap each environment before batching them")


def single_leaf(spec: NestedArraySpec, what: str, owner: str) -> Any:
    leaves = tree.flatten(spec)
    if len(leaves) != 1:
        raise ValueError(f"{owner} needs a single {what} spec, got {len(leaves)} leaves: {spec!r}")
    return leaves[0]
