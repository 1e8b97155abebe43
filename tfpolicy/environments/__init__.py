"""Environments: the numpy `PyEnvironment` base, gymnasium wrapper, batching and wrappers.

Both `from tfpolicy.environments import TimeLimit` and
`from tfpolicy.environments import wrappers` work. Importing this package
does not import gymnasium: only `load` and building a
`GymnasiumEnvironment` do.

>>> from tfpolicy.environments import PyEnvironment
>>> issubclass(GymnasiumEnvironment, PyEnvironment)
True
"""

from tfpolicy.environments import batched_py_environment
from tfpolicy.environments import gymnasium_wrapper
from tfpolicy.environments import py_environment
from tfpolicy.environments import wrappers
from tfpolicy.environments.batched_py_environment import BatchedPyEnvironment
from tfpolicy.environments.gymnasium_wrapper import GymnasiumEnvironment
from tfpolicy.environments.gymnasium_wrapper import load
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.environments.py_environment import check_action
from tfpolicy.environments.wrappers import ActionClip
from tfpolicy.environments.wrappers import ActionRepeat
from tfpolicy.environments.wrappers import FlattenObservation
from tfpolicy.environments.wrappers import PyEnvironmentBaseWrapper
from tfpolicy.environments.wrappers import TimeLimit

__all__ = [
    "batched_py_environment",
    "gymnasium_wrapper",
    "py_environment",
    "wrappers",
    "ActionClip",
    "ActionRepeat",
    "BatchedPyEnvironment",
    "FlattenObservation",
    "GymnasiumEnvironment",
    "PyEnvironment",
    "PyEnvironmentBaseWrapper",
    "TimeLimit",
    "check_action",
    "load",
]
