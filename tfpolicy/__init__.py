"""tfpolicy: spec-typed reinforcement-learning policies for TensorFlow.

The everyday names live here; the rest in the subpackages:
`tfpolicy.trajectories` (time steps, policy steps, trajectories),
`tfpolicy.policies` (the `TFPolicy` base, the policy catalogue and the numpy
bridge), `tfpolicy.networks` (the networks policies run),
`tfpolicy.environments` (Python environments, gymnasium among them, and
their TensorFlow view), `tfpolicy.drivers` (loops that step an environment
with a policy), `tfpolicy.metrics` (episode metrics as observers),
`tfpolicy.replay` (replay buffers), `tfpolicy.distributions`
(`ShiftedCategorical`) and `tfpolicy.utils` (`common`: TF-Agents' everyday
helpers, `Checkpointer` among them). The training layer sits on top:
`tfpolicy.learning`, `tfpolicy.algorithms` and the `tfpolicy` command line
(`tfpolicy.cli`).

The names below are loaded on first use, so `import tfpolicy` itself does
not import TensorFlow (the command line answers `--help` without it).
"""

import importlib
from typing import Any, List

# Each re-exported name -> (the module that defines it, its name there; None = the module itself).
_EXPORTS = {
    "distributions": ("tfpolicy.distributions", None),
    "drivers": ("tfpolicy.drivers", None),
    "environments": ("tfpolicy.environments", None),
    "metrics": ("tfpolicy.metrics", None),
    "networks": ("tfpolicy.networks", None),
    "policies": ("tfpolicy.policies", None),
    "replay": ("tfpolicy.replay", None),
    "utils": ("tfpolicy.utils", None),
    "trajectories": ("tfpolicy.trajectories", None),
    "policy_step": ("tfpolicy.trajectories.policy_step", None),
    "time_step": ("tfpolicy.trajectories.time_step", None),
    "trajectory": ("tfpolicy.trajectories.trajectory", None),
    "PolicyInfo": ("tfpolicy.trajectories.policy_step", "PolicyInfo"),
    "PolicyStep": ("tfpolicy.trajectories.policy_step", "PolicyStep"),
    "StepType": ("tfpolicy.trajectories.time_step", "StepType"),
    "TFPolicy": ("tfpolicy.policies", "TFPolicy"),
    "TimeStep": ("tfpolicy.trajectories.time_step", "TimeStep"),
    "Trajectory": ("tfpolicy.trajectories.trajectory", "Trajectory"),
}

__all__ = [
    "distributions",
    "drivers",
    "environments",
    "metrics",
    "networks",
    "policies",
    "replay",
    "utils",
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


def __getattr__(name: str) -> Any:
    """Imports a re-exported name on first access (PEP 562) and caches it here."""
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'tfpolicy' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))
