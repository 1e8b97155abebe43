"""Argument checks shared by the drivers."""

from typing import Any, Optional, Sequence, Tuple

import numpy as np

from specs import nest_utils


def check_callables(observers: Optional[Sequence[Any]], name: str, driver: str) -> Tuple[Any, ...]:
    """`observers` as a tuple, after checking that each is callable."""
    observers = tuple(observers or ())
    for i, observer in enumerate(observers):
        if not callable(observer):
            raise TypeError(f"{driver}: {name}[{i}] must be callable, got "
                            f"{type(observer).__name__}: {observer!r}")
    return observers


def check_count(value: Any, name: str, driver: str) -> int:
    """`value` as an int, after checking that it is a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{driver}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_compatible(policy_spec: Any, env_spec: Any, what: str, driver: str) -> None:
    """Raises if the policy's and the environment's specs differ in structure, dtype or shape."""
    nest_utils.check_compatible_specs(policy_spec, env_spec, what, given_name="the policy",
                                      expected_name="the environment", owner=driver)


class Driver:
    """What every driver holds: the env, the policy and the observers, checked.

    Args:
      env, policy: already type-checked by the subclass; their time step and
        action specs must agree in structure, dtype and shape.
      observers, transition_observers: sequences of callables (or None).
    """

    def __init__(self, env: Any, policy: Any, observers: Optional[Sequence[Any]],
                 transition_observers: Optional[Sequence[Any]]):
        driver = type(self).__name__
        check_compatible(policy.time_step_spec, env.time_step_spec(), "time_step_spec", driver)
        check_compatible(policy.action_spec, env.action_spec(), "action_spec", driver)
        self._env = env
        self._policy = policy
        self._observers = check_callables(observers, "observers", driver)
        self._transition_observers = check_callables(transition_observers,
                                                     "transition_observers", driver)

    @property
    def env(self) -> Any:
        """The environment being stepped."""
        return self._env

    @property
    def policy(self) -> Any:
        """The policy choosing the actions."""
        return self._policy

    @property
    def observers(self) -> Tuple[Any, ...]:
        """The trajectory observers, in call order."""
        return self._observers

    @property
    def transition_observers(self) -> Tuple[Any, ...]:
        """The transition observers, in call order."""
        return self._transition_observers
