"""Metrics: episode statistics that observe a driver's trajectories.

`py_metrics` holds the numpy metrics (for `PyDriver`, or a compiled driver
through `numpy_observer`); `tf_metrics` holds the in-graph ones, kept in
`tf.Variable`s, for `DynamicStepDriver` and `DynamicEpisodeDriver`. Both
define `AverageReturnMetric` and friends under TF-Agents' names, so the
package-level names are the numpy ones:
`from tfpolicy.metrics import AverageReturnMetric` and
`from tfpolicy.metrics import py_metrics, tf_metrics` both work.
`metric_utils` evaluates a policy for some episodes with either kind.
"""

from tfpolicy.metrics import metric_utils
from tfpolicy.metrics import py_metrics
from tfpolicy.metrics import tf_metrics
from tfpolicy.metrics.py_metrics import AverageEpisodeLengthMetric
from tfpolicy.metrics.py_metrics import AverageReturnMetric
from tfpolicy.metrics.py_metrics import CounterMetric
from tfpolicy.metrics.py_metrics import EnvironmentSteps
from tfpolicy.metrics.py_metrics import NumberOfEpisodes
from tfpolicy.metrics.py_metrics import PyMetric
from tfpolicy.metrics.py_metrics import PyStepMetric
from tfpolicy.metrics.py_metrics import StreamingMetric

__all__ = [
    "metric_utils",
    "py_metrics",
    "tf_metrics",
    "AverageEpisodeLengthMetric",
    "AverageReturnMetric",
    "CounterMetric",
    "EnvironmentSteps",
    "NumberOfEpisodes",
    "PyMetric",
    "PyStepMetric",
    "StreamingMetric",
]
