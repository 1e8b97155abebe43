"""Environments: the numpy `PyEnvironment` base, gymnasium, batching, the TF view, wrappers,
and random environments built from specs.

Both `from tfpolicy.environments import TimeLimit` and
`from tfpolicy.environments import wrappers` work. Importing this package
does not import gymnasium: only `load` and building a
`GymnasiumEnvironment` do.

>>> from tfpolicy.environments import PyEnvironment
>>> issubclass(GymnasiumEnvironment, PyEnvironment)
True
"""

from tfpolicy.environments import batched_py_environment
from tfpolicy.environments import gymnasium_vector_environment
from tfpolicy.environments import gymnasium_wrapper
from tfpolicy.environments import parallel_py_environment
from tfpolicy.environments import py_environment
from tfpolicy.environments import random_py_environment
from tfpolicy.environments import random_tf_environment
from tfpolicy.environments import tf_environment
from tfpolicy.environments import tf_py_environment
from tfpolicy.environments import wrappers
from tfpolicy.environments.batched_py_environment import BatchedPyEnvironment
from tfpolicy.environments.gymnasium_vector_environment import GymnasiumVectorEnvironment
from tfpolicy.environments.gymnasium_vector_environment import load_vector
from tfpolicy.environments.gymnasium_wrapper import GymnasiumEnvironment
from tfpolicy.environments.gymnasium_wrapper import load
from tfpolicy.environments.parallel_py_environment import ParallelPyEnvironment
from tfpolicy.environments.py_environment import ActionChecker
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.environments.py_environment import check_action
from tfpolicy.environments.random_py_environment import RandomPyEnvironment
from tfpolicy.environments.random_tf_environment import RandomTFEnvironment
from tfpolicy.environments.tf_environment import TFEnvironment
from tfpolicy.environments.tf_py_environment import TFPyEnvironment
from tfpolicy.environments.wrappers import ActionClip
from tfpolicy.environments.wrappers import ActionRepeat
from tfpolicy.environments.wrappers import FlattenObservation
from tfpolicy.environments.wrappers import PyEnvironmentBaseWrapper
from tfpolicy.environments.wrappers import TimeLimit

__all__ = [
    "batched_py_environment",
    "gymnasium_vector_environment",
    "gymnasium_wrapper",
    "parallel_py_environment",
    "py_environment",
    "random_py_environment",
    "random_tf_environment",
    "tf_environment",
    "tf_py_environment",
    "wrappers",
    "ActionChecker",
    "ActionClip",
    "ActionRepeat",
    "BatchedPyEnvironment",
    "FlattenObservation",
    "GymnasiumEnvironment",
    "GymnasiumVectorEnvironment",
    "ParallelPyEnvironment",
    "PyEnvironment",
    "PyEnvironmentBaseWrapper",
    "RandomPyEnvironment",
    "RandomTFEnvironment",
    "TFEnvironment",
    "TFPyEnvironment",
    "TimeLimit",
    "check_action",
    "load",
    "load_vector",
]
