"""Seeds and episode ids of the workers' episodes, from one base seed.

Every episode gets its own seed from
`SeedSequence([base_seed, worker_index, env_index, episode_number])` (an
evaluation episode appends a stream tag), so an episode can be played
again from its seed alone, whatever happened before it.
"""

from typing import NamedTuple, Optional

import numpy as np

# Appended to the entropy of evaluation episodes, so they never share a
# sampling episode's seed.
EVALUATION_STREAM = 1


class EpisodeSeed(NamedTuple):
    """The seed of an episode's reset (a uint32) and its episode id (a positive int63)."""

    seed: int
    eps_id: int


def base_seed(seed: Optional[int]) -> int:
    """`seed` itself, or 63 bits of OS entropy when it is None.

    Raises:
      ValueError: a negative or non-integer seed.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy) % (1 << 63)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"config key 'seed': expected None or a non-negative int, got {seed!r}")
    return int(seed)


def episode_seed(base: int, worker_index: int, env_index: int, episode: int,
                 stream: Optional[int] = None) -> EpisodeSeed:
    """The seed and id of episode number `episode` of environment `env_index`."""
    entropy = [base, worker_index, env_index, episode]
    if stream is not None:
        entropy.append(stream)
    words = np.random.SeedSequence(entropy).generate_state(3, np.uint32)
    return EpisodeSeed(seed=int(words[0]),
                       eps_id=(int(words[1]) << 31) | (int(words[2]) >> 1))


def global_seed(base: int, worker_index: int) -> int:
    """The seed of the process-wide generators (Python, numpy, TensorFlow) for a worker."""
    return int(np.random.SeedSequence([base, worker_index]).generate_state(1, np.uint32)[0])
