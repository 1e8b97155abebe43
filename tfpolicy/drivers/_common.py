"""Argument checks shared by the drivers."""

from typing import Any, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

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
    nest_utils.assert_same_structure(env_spec, policy_spec, f"the policy's {what}")
    for (path, p), e in zip(nest_utils.flatten_with_paths(policy_spec), tree.flatten(env_spec)):
        if (tf.as_dtype(p.dtype) != tf.as_dtype(e.dtype)
                or tf.TensorShape(p.shape).as_list() != tf.TensorShape(e.shape).as_list()):
            raise ValueError(
                f"{driver}: the policy's {what} at '{path}' is {p!r} but the environment's is "
                f"{e!r}; they must agree in dtype and shape")


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
