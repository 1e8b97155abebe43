"""Environments: the numpy `PyEnvironment` base, gymnasium, batching, the TF view, wrappers,
and random environments built from specs.

Both `from tfpolicy.environments import TimeLimit` and
`from tfpolicy.environments import wrappers` work. Importing this package
does not import gymnasium: only `load`, `suite_gym.load` and building a
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
from tfpolicy.environments import suite_gym
from tfpolicy.environments import suite_gymnasium
from tfpolicy.environments import tf_environment
from tfpolicy.environments import tf_py_environment
from tfpolicy.environments import utils
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
from tfpolicy.environments.utils import get_tf_env
from tfpolicy.environments.utils import validate_py_environment
from tfpolicy.environments.wrappers import ActionClip
from tfpolicy.environments.wrappers import ActionClipWrapper
from tfpolicy.environments.wrappers import ActionDiscretizeWrapper
from tfpolicy.environments.wrappers import ActionOffsetWrapper
from tfpolicy.environments.wrappers import ActionRepeat
from tfpolicy.environments.wrappers import FixedLength
from tfpolicy.environments.wrappers import FlattenObservation
from tfpolicy.environments.wrappers import FlattenObservationsWrapper
from tfpolicy.environments.wrappers import HistoryWrapper
from tfpolicy.environments.wrappers import ObservationFilterWrapper
from tfpolicy.environments.wrappers import OneHotActionWrapper
from tfpolicy.environments.wrappers import PerformanceProfiler
from tfpolicy.environments.wrappers import PyEnvironmentBaseWrapper
from tfpolicy.environments.wrappers import RunStats
from tfpolicy.environments.wrappers import TimeLimit

__all__ = [
    "batched_py_environment",
    "gymnasium_vector_environment",
    "gymnasium_wrapper",
    "parallel_py_environment",
    "py_environment",
    "random_py_environment",
    "random_tf_environment",
    "suite_gym",
    "suite_gymnasium",
    "tf_environment",
    "tf_py_environment",
    "utils",
    "wrappers",
    "ActionChecker",
    "ActionClip",
    "ActionClipWrapper",
    "ActionDiscretizeWrapper",
    "ActionOffsetWrapper",
    "ActionRepeat",
    "BatchedPyEnvironment",
    "FixedLength",
    "FlattenObservation",
    "FlattenObservationsWrapper",
    "GymnasiumEnvironment",
    "GymnasiumVectorEnvironment",
    "HistoryWrapper",
    "ObservationFilterWrapper",
    "OneHotActionWrapper",
    "ParallelPyEnvironment",
    "PerformanceProfiler",
    "PyEnvironment",
    "PyEnvironmentBaseWrapper",
    "RandomPyEnvironment",
    "RandomTFEnvironment",
    "RunStats",
    "TFEnvironment",
    "TFPyEnvironment",
    "TimeLimit",
    "check_action",
    "get_tf_env",
    "load",
    "load_vector",
    "validate_py_environment",
]
