"""Drivers: loops that step an environment with a policy and feed observers.

`PyDriver` runs a numpy `PyPolicy` in a `PyEnvironment`;
`DynamicStepDriver`, `DynamicEpisodeDriver` and `TFDriver` (TF-Agents'
newer driver, with both a step and an episode limit) run a `TFPolicy` in a
`TFPyEnvironment` inside `tf.function`, where `numpy_observer` lets numpy
observers (such as the metrics of `tfpolicy.metrics`) see every step.

Both `from tfpolicy.drivers import PyDriver` and
`from tfpolicy.drivers import py_driver` work.
"""

from tfpolicy.drivers import dynamic_episode_driver
from tfpolicy.drivers import dynamic_step_driver
from tfpolicy.drivers import py_driver
from tfpolicy.drivers import tf_driver
from tfpolicy.drivers._tf_driver import numpy_observer
from tfpolicy.drivers.dynamic_episode_driver import DynamicEpisodeDriver
from tfpolicy.drivers.dynamic_step_driver import DynamicStepDriver
from tfpolicy.drivers.py_driver import PyDriver
from tfpolicy.drivers.tf_driver import TFDriver

__all__ = [
    "dynamic_episode_driver",
    "dynamic_step_driver",
    "py_driver",
    "tf_driver",
    "DynamicEpisodeDriver",
    "DynamicStepDriver",
    "PyDriver",
    "TFDriver",
    "numpy_observer",
]
