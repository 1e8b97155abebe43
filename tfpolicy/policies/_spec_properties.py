"""The spec properties every policy has, TensorFlow and numpy alike.

A policy keeps its specs in `self._specs` (an object with `time_step`,
`action`, `policy_state` and `info`), its splitter in `self._splitter` and
its validation flag in `self._validate_args`; this mixin turns them into the
public properties, so `TFPolicy` and `PyPolicy` describe themselves the same
way.
"""

from typing import Any, Callable, Optional

from tfpolicy.trajectories import trajectory as traj_lib
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["SpecProperties", "check_time_step_spec"]


def check_time_step_spec(time_step_spec: Any, owner: Optional[str] = None) -> None:
    """Raises TypeError unless `time_step_spec` is a `TimeStep` (of specs).

    >>> try:
    ...     check_time_step_spec({"observation": None}, owner="QPolicy")
    ... except TypeError as error:
    ...     print(error)
    QPolicy: time_step_spec must be a TimeStep of specs (see time_step.time_step_spec), got {'observation': None}
    """
    if not isinstance(time_step_spec, TimeStep):
        message = (f"time_step_spec must be a TimeStep of specs (see time_step.time_step_spec), "
                   f"got {time_step_spec!r}")
        raise TypeError(f"{owner}: {message}" if owner else message)


class SpecProperties:
    """Public spec properties over `_specs`, `_splitter` and `_validate_args`."""

    @property
    def time_step_spec(self) -> TimeStep:
        """The `TimeStep` of specs this policy takes (unbatched)."""
        return self._specs.time_step

    @property
    def action_spec(self) -> Any:
        """The nest of specs of the actions this policy returns (unbatched)."""
        return self._specs.action

    @property
    def policy_state_spec(self) -> Any:
        """The nest of specs of the recurrent state; `()` for a stateless policy."""
        return self._specs.policy_state

    @property
    def info_spec(self) -> Any:
        """The nest of specs of `PolicyStep.info`, including `log_probability` when emitted."""
        return self._specs.info

    @property
    def policy_step_spec(self) -> PolicyStep:
        """`PolicyStep(action_spec, policy_state_spec, info_spec)`."""
        return PolicyStep(self._specs.action, self._specs.policy_state, self._specs.info)

    @property
    def trajectory_spec(self) -> traj_lib.Trajectory:
        """The spec of the `Trajectory`s this policy produces when it acts in an environment."""
        ts = self._specs.time_step
        return traj_lib.Trajectory(
            step_type=ts.step_type, observation=ts.observation, action=self._specs.action,
            policy_info=self._specs.info, next_step_type=ts.step_type, reward=ts.reward,
            discount=ts.discount)

    @property
    def collect_data_spec(self) -> traj_lib.Trajectory:
        """The spec of the data collected with this policy (its `trajectory_spec`)."""
        return self.trajectory_spec

    @property
    def validate_args(self) -> bool:
        """Whether inputs and outputs are checked against the specs."""
        return self._validate_args

    @property
    def observation_and_action_constraint_splitter(self) -> Optional[Callable]:
        """`observation -> (network observation, mask)`, or None."""
        return self._splitter
