"""Networks: the call contract and the networks policies run.

Every network is called as `output, state = net(observation, step_type=None,
network_state=(), training=False)` with observations of outer dims `[]`, `[B]`
or `[B, T]` (see `tfpolicy.networks.network`).

`tfpolicy.networks.utils` holds TF-Agents' network helpers for custom
networks: `BatchSquash` (fold `[B, T]` into the batch and back) and
`mlp_layers` (the conv/dense/dropout layer stack).
"""

from tfpolicy.networks import actor_distribution_network
from tfpolicy.networks import actor_distribution_rnn_network
from tfpolicy.networks import encoding_network
from tfpolicy.networks import network
from tfpolicy.networks import q_network
from tfpolicy.networks import q_rnn_network
from tfpolicy.networks import utils
from tfpolicy.networks import value_network
from tfpolicy.networks import value_rnn_network
from tfpolicy.networks.actor_distribution_network import ActorDistributionNetwork
from tfpolicy.networks.actor_distribution_rnn_network import ActorDistributionRnnNetwork
from tfpolicy.networks.encoding_network import EncodingNetwork
from tfpolicy.networks.network import Network
from tfpolicy.networks.network import as_network
from tfpolicy.networks.network import outer_rank
from tfpolicy.networks.q_network import QNetwork
from tfpolicy.networks.q_rnn_network import QRnnNetwork
from tfpolicy.networks.value_network import ValueNetwork
from tfpolicy.networks.value_rnn_network import ValueRnnNetwork

__all__ = [
    "actor_distribution_network",
    "actor_distribution_rnn_network",
    "encoding_network",
    "network",
    "q_network",
    "q_rnn_network",
    "utils",
    "value_network",
    "value_rnn_network",
    "ActorDistributionNetwork",
    "ActorDistributionRnnNetwork",
    "EncodingNetwork",
    "Network",
    "QNetwork",
    "QRnnNetwork",
    "ValueNetwork",
    "ValueRnnNetwork",
    "as_network",
    "outer_rank",
]
