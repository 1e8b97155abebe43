"""tfpolicy: spec-typed reinforcement-learning policies for TensorFlow.

The everyday names live here; the rest in the subpackages:
`tfpolicy.trajectories` (time steps, policy steps, trajectories),
`tfpolicy.policies` (the `TFPolicy` base, the policy catalogue and the numpy
bridge), `tfpolicy.networks` (the networks policies run) and
`tfpolicy.environments` (Python environments, gymnasium among them, and
their TensorFlow view), `tfpolicy.drivers` (loops that step an environment
with a policy), `tfpolicy.metrics` (episode metrics as observers) and
`tfpolicy.replay` (replay buffers).
"""

from tfpolicy import drivers
from tfpolicy import environments
from tfpolicy import metrics
from tfpolicy import networks
from tfpolicy import policies
from tfpolicy import replay
from tfpolicy import trajectories
from tfpolicy.policies import TFPolicy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories import time_step
from tfpolicy.trajectories import trajectory
from tfpolicy.trajectories.policy_step import PolicyInfo
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import StepType
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory

__all__ = [
    "drivers",
    "environments",
    "metrics",
    "networks",
    "policies",
    "replay",
    "trajectories",
    "policy_step",
    "time_step",
    "trajectory",
    "PolicyInfo",
    "PolicyStep",
    "StepType",
    "TFPolicy",
    "TimeStep",
    "Trajectory",
]
