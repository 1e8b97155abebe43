"""Metrics: episode statistics that observe a driver's trajectories.

Both `from tfpolicy.metrics import AverageReturnMetric` and
`from tfpolicy.metrics import py_metrics` work.
"""

from tfpolicy.metrics import py_metrics
from tfpolicy.metrics.py_metrics import AverageEpisodeLengthMetric
from tfpolicy.metrics.py_metrics import AverageReturnMetric
from tfpolicy.metrics.py_metrics import EnvironmentSteps
from tfpolicy.metrics.py_metrics import NumberOfEpisodes
from tfpolicy.metrics.py_metrics import PyStepMetric

__all__ = [
    "py_metrics",
    "AverageEpisodeLengthMetric",
    "AverageReturnMetric",
    "EnvironmentSteps",
    "NumberOfEpisodes",
    "PyStepMetric",
]
