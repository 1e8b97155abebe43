"""Time steps, policy steps and trajectories: the data that flows between
environments, policies and replay buffers.

Both `from tfpolicy.trajectories import time_step` and
`from tfpolicy.trajectories import TimeStep` work.
"""

from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories import time_step
from tfpolicy.trajectories import trajectory
from tfpolicy.trajectories.policy_step import CommonFields
from tfpolicy.trajectories.policy_step import PolicyInfo
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.policy_step import get_log_probability
from tfpolicy.trajectories.policy_step import set_log_probability
from tfpolicy.trajectories.policy_step import without_log_probability
from tfpolicy.trajectories.time_step import StepType
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.time_step import restart
from tfpolicy.trajectories.time_step import termination
from tfpolicy.trajectories.time_step import time_step_spec
from tfpolicy.trajectories.time_step import transition
from tfpolicy.trajectories.time_step import truncation
from tfpolicy.trajectories.trajectory import Trajectory
from tfpolicy.trajectories.trajectory import Transition
from tfpolicy.trajectories.trajectory import boundary
from tfpolicy.trajectories.trajectory import experience_to_transitions
from tfpolicy.trajectories.trajectory import first
from tfpolicy.trajectories.trajectory import from_episode
from tfpolicy.trajectories.trajectory import from_transition
from tfpolicy.trajectories.trajectory import last
from tfpolicy.trajectories.trajectory import mid
from tfpolicy.trajectories.trajectory import single_step
from tfpolicy.trajectories.trajectory import to_n_step_transition
from tfpolicy.trajectories.trajectory import to_transition
from tfpolicy.trajectories.trajectory import to_transition_spec

__all__ = [
    "policy_step",
    "time_step",
    "trajectory",
    "CommonFields",
    "PolicyInfo",
    "PolicyStep",
    "get_log_probability",
    "set_log_probability",
    "without_log_probability",
    "StepType",
    "TimeStep",
    "restart",
    "termination",
    "time_step_spec",
    "transition",
    "truncation",
    "Trajectory",
    "Transition",
    "boundary",
    "experience_to_transitions",
    "first",
    "from_episode",
    "from_transition",
    "last",
    "mid",
    "single_step",
    "to_n_step_transition",
    "to_transition",
    "to_transition_spec",
]
