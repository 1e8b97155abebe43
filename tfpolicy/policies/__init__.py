"""Policies: the `TFPolicy` base, the policy catalogue and the numpy bridge.

Both `from tfpolicy.policies import QPolicy` and
`from tfpolicy.policies import q_policy` work.
"""

from tfpolicy.policies import actor_policy
from tfpolicy.policies import batched_py_policy
from tfpolicy.policies import boltzmann_policy
from tfpolicy.policies import epsilon_greedy_policy
from tfpolicy.policies import fixed_policy
from tfpolicy.policies import flat_bridge
from tfpolicy.policies import gaussian_policy
from tfpolicy.policies import greedy_policy
from tfpolicy.policies import input_pruning
from tfpolicy.policies import ou_noise_policy
from tfpolicy.policies import policy_info_updater_wrapper
from tfpolicy.policies import py_policy
from tfpolicy.policies import py_tf_eager_policy
from tfpolicy.policies import q_policy
from tfpolicy.policies import random_py_policy
from tfpolicy.policies import random_tf_policy
from tfpolicy.policies import scripted_py_policy
from tfpolicy.policies import temporal_action_smoothing
from tfpolicy.policies import tf_policy
from tfpolicy.policies import tf_py_policy
from tfpolicy.policies import utils
from tfpolicy.policies.actor_policy import ActorPolicy
from tfpolicy.policies.batched_py_policy import BatchedPyPolicy
from tfpolicy.policies.boltzmann_policy import BoltzmannPolicy
from tfpolicy.policies.epsilon_greedy_policy import EpsilonGreedyPolicy
from tfpolicy.policies.fixed_policy import FixedPolicy
from tfpolicy.policies.flat_bridge import FlatBridge
from tfpolicy.policies.gaussian_policy import GaussianPolicy
from tfpolicy.policies.greedy_policy import GreedyPolicy
from tfpolicy.policies.input_pruning import prune_unused_inputs
from tfpolicy.policies.ou_noise_policy import OUNoisePolicy
from tfpolicy.policies.policy_info_updater_wrapper import PolicyInfoUpdaterWrapper
from tfpolicy.policies.py_policy import PyPolicy
from tfpolicy.policies.py_tf_eager_policy import PyTFEagerPolicy
from tfpolicy.policies.q_policy import QPolicy
from tfpolicy.policies.random_py_policy import RandomPyPolicy
from tfpolicy.policies.random_tf_policy import RandomTFPolicy
from tfpolicy.policies.scripted_py_policy import ScriptedPyPolicy
from tfpolicy.policies.temporal_action_smoothing import TemporalActionSmoothing
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.policies.tf_py_policy import TFPyPolicy

__all__ = [
    "actor_policy",
    "batched_py_policy",
    "boltzmann_policy",
    "epsilon_greedy_policy",
    "fixed_policy",
    "flat_bridge",
    "gaussian_policy",
    "greedy_policy",
    "input_pruning",
    "ou_noise_policy",
    "policy_info_updater_wrapper",
    "py_policy",
    "py_tf_eager_policy",
    "q_policy",
    "random_py_policy",
    "random_tf_policy",
    "scripted_py_policy",
    "temporal_action_smoothing",
    "tf_policy",
    "tf_py_policy",
    "utils",
    "ActorPolicy",
    "BatchedPyPolicy",
    "BoltzmannPolicy",
    "EpsilonGreedyPolicy",
    "FixedPolicy",
    "FlatBridge",
    "GaussianPolicy",
    "GreedyPolicy",
    "OUNoisePolicy",
    "PolicyInfoUpdaterWrapper",
    "PyPolicy",
    "PyTFEagerPolicy",
    "QPolicy",
    "RandomPyPolicy",
    "RandomTFPolicy",
    "ScriptedPyPolicy",
    "TemporalActionSmoothing",
    "TFPolicy",
    "TFPyPolicy",
    "prune_unused_inputs",
]
