"""A recurrent policy learns a task that needs memory; a feed-forward one cannot.

The environment shows a cue (one of two) at t=0 only; at t=1 the observation
is blank and the action must name the cue: reward +1 if right, -1 if wrong.
Without memory the best policy is right half the time (mean return 0); with
it, always (mean return 1). The loss is RLlib's policy gradient, masked over
the padding of the zero-padded sequences for the recurrent model.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments import BatchedPyEnvironment, PyEnvironment
from tfpolicy.learning import build_tf_policy, compute_advantages, sampling
from tfpolicy.learning.rnn_sequencing import reduce_mean_valid, sequence_mask
from tfpolicy.trajectories import time_step as ts

BLANK = np.array([0.0, 0.0, 1.0], np.float32)


class Cue(PyEnvironment):
    """Two steps: the cue at t=0, then a blank observation and the rewarded answer."""

    def __init__(self, seed: int):
        super().__init__()
        self._rng = np.random.default_rng(seed)
        self._cue = 0
        self._t = 0

    def observation_spec(self):
        return ArraySpec((3,), np.float32, "obs")

    def action_spec(self):
        return BoundedArraySpec((), np.int64, 0, 1, "action")

    def _reset(self):
        self._cue, self._t = int(self._rng.integers(2)), 0
        return ts.restart(np.eye(3, dtype=np.float32)[self._cue])

    def _step(self, action):
        self._t += 1
        if self._t < 2:
            return ts.transition(BLANK, np.float32(0.0))
        return ts.termination(BLANK, np.float32(1.0 if int(action) == self._cue else -1.0))


def masked_pg_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    weighted = dist_class(logits, model).logp(train_batch["actions"]) * train_batch["advantages"]
    if "seq_lens" not in train_batch:
        return -tf.reduce_mean(weighted)
    seq_lens = train_batch["seq_lens"]
    mask = sequence_mask(seq_lens, tf.shape(logits)[0] // tf.shape(seq_lens)[0])
    return -reduce_mean_valid(weighted, mask)


def returns_to_go(policy, sample_batch, other_agent_batches=None, episode=None):
    return compute_advantages(sample_batch, 0.0, 1.0, use_gae=False, use_critic=False)


CuePolicy = build_tf_policy(name="CuePolicy", loss_fn=masked_pg_loss,
                            postprocess_fn=returns_to_go)


def _train(use_lstm: bool) -> float:
    keras.utils.set_random_seed(0)
    env = BatchedPyEnvironment([Cue(seed) for seed in range(16)])
    policy = CuePolicy(env.observation_spec(), env.action_spec(),
                       {"lr": 0.01, "model": {"use_lstm": use_lstm, "lstm_cell_size": 16,
                                              "max_seq_len": 4, "fcnet_hiddens": [16]}})
    for _ in range(30):
        policy.learn_on_batch(sampling.sample(policy, env, 256))
    return float(np.mean(sampling.evaluate(policy, env, 100)))


def test_a_recurrent_policy_learns_to_remember_the_cue():
    # Greedy and always right: a mean return of 1 (0.9 leaves room for 5 wrong answers).
    assert _train(use_lstm=True) >= 0.9


def test_a_feed_forward_policy_cannot_beat_chance():
    # Chance is 0; over 100 episodes its greedy answer is right about half the time.
    assert _train(use_lstm=False) < 0.5


def test_the_recurrent_train_batch_is_padded_into_sequences():
    env = BatchedPyEnvironment([Cue(seed) for seed in range(4)])
    policy = CuePolicy(env.observation_spec(), env.action_spec(),
                       {"model": {"use_lstm": True, "lstm_cell_size": 4, "max_seq_len": 4,
                                  "fcnet_hiddens": [4]}})
    batch = sampling.sample(policy, env, 16)
    assert {"state_in_0", "state_in_1", "state_out_0", "state_out_1"} <= set(batch.keys())
    stats = policy.learn_on_batch(batch)
    assert stats["num_agent_steps_trained"] == len(batch)
    with pytest.raises(ValueError, match="state"):
        policy.compute_actions(np.zeros((2, 3), np.float32))
