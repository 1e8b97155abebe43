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
from tfpolicy.networks import bias_layer
from tfpolicy.networks import categorical_projection_network
from tfpolicy.networks import encoding_network
from tfpolicy.networks import expand_dims_layer
from tfpolicy.networks import lstm_encoding_network
from tfpolicy.networks import mask_splitter_network
from tfpolicy.networks import nest_map
from tfpolicy.networks import network
from tfpolicy.networks import normal_projection_network
from tfpolicy.networks import q_network
from tfpolicy.networks import q_rnn_network
from tfpolicy.networks import sequential
from tfpolicy.networks import utils
from tfpolicy.networks import value_network
from tfpolicy.networks import value_rnn_network
from tfpolicy.networks.actor_distribution_network import ActorDistributionNetwork
from tfpolicy.networks.actor_distribution_rnn_network import ActorDistributionRnnNetwork
from tfpolicy.networks.bias_layer import BiasLayer
from tfpolicy.networks.categorical_projection_network import CategoricalProjectionNetwork
from tfpolicy.networks.encoding_network import EncodingNetwork
from tfpolicy.networks.expand_dims_layer import ExpandDims
from tfpolicy.networks.lstm_encoding_network import LSTMEncodingNetwork
from tfpolicy.networks.mask_splitter_network import MaskSplitterNetwork
from tfpolicy.networks.nest_map import NestFlatten
from tfpolicy.networks.nest_map import NestMap
from tfpolicy.networks.network import DistributionNetwork
from tfpolicy.networks.network import DistributionSpec
from tfpolicy.networks.network import Network
from tfpolicy.networks.network import as_network
from tfpolicy.networks.network import outer_rank
from tfpolicy.networks.normal_projection_network import NormalProjectionNetwork
from tfpolicy.networks.q_network import QNetwork
from tfpolicy.networks.q_rnn_network import QRnnNetwork
from tfpolicy.networks.sequential import Sequential
from tfpolicy.networks.value_network import ValueNetwork
from tfpolicy.networks.value_rnn_network import ValueRnnNetwork

__all__ = [
    "actor_distribution_network",
    "actor_distribution_rnn_network",
    "bias_layer",
    "categorical_projection_network",
    "encoding_network",
    "expand_dims_layer",
    "lstm_encoding_network",
    "mask_splitter_network",
    "nest_map",
    "network",
    "normal_projection_network",
    "q_network",
    "q_rnn_network",
    "sequential",
    "utils",
    "value_network",
    "value_rnn_network",
    "ActorDistributionNetwork",
    "ActorDistributionRnnNetwork",
    "BiasLayer",
    "CategoricalProjectionNetwork",
    "DistributionNetwork",
    "DistributionSpec",
    "EncodingNetwork",
    "ExpandDims",
    "LSTMEncodingNetwork",
    "MaskSplitterNetwork",
    "NestFlatten",
    "NestMap",
    "Network",
    "NormalProjectionNetwork",
    "QNetwork",
    "QRnnNetwork",
    "Sequential",
    "ValueNetwork",
    "ValueRnnNetwork",
    "as_network",
    "outer_rank",
]
