"""Replay buffers: where collected trajectories wait to be sampled for training.

Both `from tfpolicy.replay import UniformReplayBuffer` and
`from tfpolicy.replay import uniform_replay_buffer` work.
"""

from tfpolicy.replay import uniform_replay_buffer
from tfpolicy.replay.uniform_replay_buffer import BufferInfo
from tfpolicy.replay.uniform_replay_buffer import UniformReplayBuffer

__all__ = [
    "uniform_replay_buffer",
    "BufferInfo",
    "UniformReplayBuffer",
]
