"""Networks: the call contract and the networks policies run."""

from tfpolicy.networks import network
from tfpolicy.networks.network import Network
from tfpolicy.networks.network import as_network

__all__ = [
    "network",
    "Network",
    "as_network",
]
