"""Environment wrappers: time limits, action repeat and discretization, flat observations,
histories, action clipping and offsets, run statistics.

Each wrapper is a `PyEnvironment` around another one. The base,
`PyEnvironmentBaseWrapper`, forwards everything (specs, reset, step, close,
and unknown attributes) to the wrapped env; the others change one thing.
They are defined in private modules by what they change (episodes,
actions, observations) and all imported from here, under TF-Agents' names.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.environments.py_environment import PyEnvironment
>>> from tfpolicy.trajectories import time_step as ts
>>> class Forever(PyEnvironment):
...     def observation_spec(self):
...         return {"a": ArraySpec((2,), np.float32), "b": ArraySpec((), np.int32)}
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1)
...     def _reset(self):
...         return ts.restart({"a": np.ones(2, np.float32), "b": np.int32(7)})
...     def _step(self, action):
...         return ts.transition({"a": np.ones(2, np.float32), "b": np.int32(7)}, 1.0)
>>> env = FlattenObservation(TimeLimit(Forever(), duration=2))
>>> env.reset().observation
array([1., 1., 7.], dtype=float32)
>>> [(int(t.step_type), float(t.discount)) for t in (env.step(0), env.step(0))]
[(1, 1.0), (2, 1.0)]
"""


from tfpolicy.environments._action_wrappers import (ActionClip, ActionClipWrapper,
                                                   ActionDiscretizeWrapper, ActionOffsetWrapper,
                                                   OneHotActionWrapper)
from tfpolicy.environments._episode_wrappers import (ActionRepeat, FixedLength,
                                                    PerformanceProfiler, RunStats, TimeLimit)
from tfpolicy.environments._observation_wrappers import (FlattenObservation,
                                                        FlattenObservationsWrapper,
                                                        HistoryWrapper, ObservationFilterWrapper)
from tfpolicy.environments._wrapper_base import PyEnvironmentBaseWrapper

__all__ = [
    "PyEnvironmentBaseWrapper",
    "TimeLimit",
    "ActionRepeat",
    "FlattenObservation",
    "ActionClip",
    "ActionClipWrapper",
    "ActionDiscretizeWrapper",
    "ActionOffsetWrapper",
    "FixedLength",
    "FlattenObservationsWrapper",
    "HistoryWrapper",
    "ObservationFilterWrapper",
    "OneHotActionWrapper",
    "PerformanceProfiler",
    "RunStats",
]
