"""Policies: the `TFPolicy` base and the catalogue of concrete policies."""

from tfpolicy.policies import tf_policy
from tfpolicy.policies.tf_policy import TFPolicy

__all__ = [
    "tf_policy",
    "TFPolicy",
]
