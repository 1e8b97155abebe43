"""Policy steps: what a policy returns for a time step.

A `PolicyStep` holds the action, the policy's next state (`()` for a
stateless policy) and side information (`()` when there is none), such as
the log-probability of the chosen action.

>>> step = PolicyStep(action=np.array([1, 0]))
>>> step.state, step.info
((), ())
>>> info = set_log_probability(step.info, np.array([-0.1, -2.3]))
>>> info
PolicyInfo(log_probability=array([-0.1, -2.3]))
>>> get_log_probability(info)
array([-0.1, -2.3])
"""

import copy
from typing import Any, NamedTuple

import numpy as np  # noqa: F401  (doctest namespace)

from specs import Nest

__all__ = [
    "PolicyStep",
    "PolicyInfo",
    "CommonFields",
    "set_log_probability",
    "get_log_probability",
    "without_log_probability",
]


class CommonFields:
    """Names of the info fields that several policies share.

    >>> getattr(PolicyInfo(log_probability=-0.5), CommonFields.LOG_PROBABILITY)
    -0.5
    """

    LOG_PROBABILITY = "log_probability"
    """The log-probability of the chosen action (`PolicyInfo.log_probability`)."""


_LOG_PROBABILITY = CommonFields.LOG_PROBABILITY
_UNSET = object()
_SUPPORTED_INFOS = (
    "the empty tuple (), a PolicyInfo or other NamedTuple with a 'log_probability' "
    "field, or a dict")


class PolicyStep(NamedTuple):
    """A policy's output for one (possibly batched) time step.

    Attributes:
      action: a nest; each leaf has shape `B + spec.shape` for the action spec.
      state: the policy's state for the next step, a nest matching the
        policy's state spec; `()` for stateless policies.
      info: side information, a nest matching the policy's info spec; `()`
        when there is none.
    """

    action: Nest
    state: Nest = ()
    info: Nest = ()


class PolicyInfo(NamedTuple):
    """The standard info of a policy that reports action log-probabilities.

    Attributes:
      log_probability: log-probability of each action, shape `B`; `()` when
        not recorded.
    """

    log_probability: Nest = ()


def _has_log_probability_field(info: Any) -> bool:
    return isinstance(info, tuple) and _LOG_PROBABILITY in getattr(info, "_fields", ())


def set_log_probability(info: Nest, log_probability: Nest) -> Nest:
    """A copy of `info` that carries `log_probability`; `info` itself is unchanged.

    Args:
      info: `()` (becomes a `PolicyInfo`), a NamedTuple with a
        `log_probability` field (that field is replaced), or a dict (the key
        'log_probability' is set in a shallow copy).
      log_probability: the log-probabilities, shape `B`.

    Returns:
      The new info.

    Raises:
      TypeError: for any other kind of `info`.

    >>> set_log_probability({"q": 1.0}, -0.5)
    {'q': 1.0, 'log_probability': -0.5}
    >>> set_log_probability((), -0.5)
    PolicyInfo(log_probability=-0.5)
    """
    if type(info) is tuple and not info:
        return PolicyInfo(log_probability=log_probability)
    if _has_log_probability_field(info):
        return info._replace(**{_LOG_PROBABILITY: log_probability})
    if isinstance(info, dict):
        updated = copy.copy(info)
        updated[_LOG_PROBABILITY] = log_probability
        return updated
    raise TypeError(
        f"cannot set a log-probability on info {info!r} of type {type(info).__name__}; "
        f"supported infos are {_SUPPORTED_INFOS}")


def get_log_probability(info: Nest, default_log_probability: Any = None, *,
                        default: Any = _UNSET) -> Any:
    """The log-probability carried by `info`, or the default if it carries none.

    Args:
      info: any policy info. A NamedTuple's `log_probability` field or a
        dict's 'log_probability' key is returned; a field left at `()`
        (as in `PolicyInfo()`) counts as absent.
      default_log_probability: what to return when there is no log-probability
        (TF-Agents' name for the argument).
      default: the same, by a shorter keyword; wins when both are given.

    Returns:
      The log-probability, or `default`.

    >>> get_log_probability(PolicyInfo(), default=0.0)
    0.0
    >>> get_log_probability({"log_probability": -1.0})
    -1.0
    """
    if default is _UNSET:
        default = default_log_probability
    if _has_log_probability_field(info):
        value = getattr(info, _LOG_PROBABILITY)
    elif isinstance(info, dict):
        value = info.get(_LOG_PROBABILITY, default)
    else:
        return default
    if type(value) is tuple and not value:
        return default
    return value


def without_log_probability(info: Nest) -> Nest:
    """`info` (or an info spec) with its log-probability removed.

    A `PolicyInfo` (or other NamedTuple) gets `log_probability=()`, a dict
    loses the key; anything else is returned as it is. Wrapper policies use it
    to take over a wrapped policy's info spec and emit their own
    log-probability.

    >>> without_log_probability(PolicyInfo(log_probability=1.0))
    PolicyInfo(log_probability=())
    >>> without_log_probability({"log_probability": 1.0, "q": 2.0})
    {'q': 2.0}
    """
    if _has_log_probability_field(info):
        return info._replace(**{_LOG_PROBABILITY: ()})
    if isinstance(info, dict) and _LOG_PROBABILITY in info:
        return type(info)((k, v) for k, v in info.items() if k != _LOG_PROBABILITY)
    return info
