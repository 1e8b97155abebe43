"""Replay buffers: where collected trajectories wait to be sampled for training.

Both `from tfpolicy.replay import UniformReplayBuffer` and
`from tfpolicy.replay import uniform_replay_buffer` work;
`tf_uniform_replay_buffer.TFUniformReplayBuffer` is the same buffer with
TF-Agents' constructor (`batch_size`, `max_length`) and dataset options.
"""

from tfpolicy.replay import tf_uniform_replay_buffer
from tfpolicy.replay import uniform_replay_buffer
from tfpolicy.replay.tf_uniform_replay_buffer import TFUniformReplayBuffer
from tfpolicy.replay.uniform_replay_buffer import BufferInfo
from tfpolicy.replay.uniform_replay_buffer import UniformReplayBuffer

__all__ = [
    "tf_uniform_replay_buffer",
    "uniform_replay_buffer",
    "BufferInfo",
    "TFUniformReplayBuffer",
    "UniformReplayBuffer",
]
