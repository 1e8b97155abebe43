"""Small environments for the algorithm tests, registered by name."""

import numpy as np

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments import PyEnvironment
from tfpolicy.trajectories import time_step as ts


class MaskedBandit(PyEnvironment):
    """One step; arms pay 1, 0 and -10, and the observation's action mask forbids arm 2."""

    MASK = np.array([1.0, 1.0, 0.0], np.float32)
    PAYOFF = (1.0, 0.0, -10.0)

    def __init__(self):
        super().__init__()
        self._rng = np.random.default_rng(0)

    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def observation_spec(self):
        return {"obs": ArraySpec((2,), np.float32, "obs"),
                "action_mask": BoundedArraySpec((3,), np.float32, 0.0, 1.0, "action_mask")}

    def action_spec(self):
        return BoundedArraySpec((), np.int64, 0, 2, "action")

    def _observation(self):
        return {"obs": self._rng.normal(size=2).astype(np.float32), "action_mask": self.MASK}

    def _reset(self):
        return ts.restart(self._observation())

    def _step(self, action):
        return ts.termination(self._observation(), np.float32(self.PAYOFF[int(action)]))


def register_toys():
    from tfpolicy.evaluation import register_env
    register_env("MaskedBandit", lambda env_config: MaskedBandit())


def rps_policy_mapping(agent_id, episode, worker, **kwargs):
    """player1 learns; player2 plays a heuristic, chosen by the episode id's parity."""
    if agent_id == "player1":
        return "learned"
    return "always_same" if episode.episode_id % 2 else "beat_last"
