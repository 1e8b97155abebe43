"""PG: vanilla policy gradient (REINFORCE) on discounted returns.

Williams 1992. One module, top to bottom: the default config, the
postprocessing, the loss, the policy class and the algorithm.

Each episode fragment's rewards become discounted returns-to-go
`G_t = Σ_{k≥0} γ^k r_{t+k}` (the `advantages` column; no critic, no
bootstrap), and each iteration takes one gradient step on

    L(θ) = -mean_t[ log π_θ(a_t|s_t) · G_t ]

over `train_batch_size` sampled steps.

>>> PG.get_default_config()["lr"], PG.get_default_config()["train_batch_size"]
(0.0004, 200)
"""

from typing import Any, Dict, Mapping, Optional, Type

import tensorflow as tf

from tfpolicy.algorithms.algorithm import COMMON_CONFIG, Algorithm
from tfpolicy.algorithms.algorithm_config import AlgorithmConfig, merge_config
from tfpolicy.learning import LearningRateSchedule, build_tf_policy
from tfpolicy.learning.policy import Policy
from tfpolicy.learning.postprocessing import Postprocessing, compute_advantages
from tfpolicy.learning.rnn_sequencing import valid_mean_fn
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["PG", "PGConfig", "PGTFPolicy", "DEFAULT_CONFIG", "pg_tf_loss",
           "post_process_advantages"]

# RLlib's PG defaults over the common ones.
DEFAULT_CONFIG: Dict[str, Any] = merge_config(COMMON_CONFIG, {
    "lr": 0.0004,
    "lr_schedule": None,
    "train_batch_size": 200,
    "rollout_fragment_length": 200,
})


def post_process_advantages(policy: Policy, sample_batch: SampleBatch,
                            other_agent_batches: Optional[Dict[str, Any]] = None,
                            episode: Any = None) -> SampleBatch:
    """Discounted returns-to-go as `advantages` (no critic, no bootstrap)."""
    return compute_advantages(sample_batch, 0.0, policy.config["gamma"], use_gae=False,
                              use_critic=False)


def pg_tf_loss(policy: Policy, model: Any, dist_class: Any, train_batch: Any) -> tf.Tensor:
    """`-mean(log π(a|s) · G)` (valid steps only for recurrent models)."""
    logits, state = model.from_batch(train_batch)
    action_dist = dist_class(logits, model)
    weighted = action_dist.logp(train_batch[SampleBatch.ACTIONS]) * tf.cast(
        train_batch[Postprocessing.ADVANTAGES], tf.float32)
    policy.policy_loss = -valid_mean_fn(train_batch, state, logits)(weighted)
    return policy.policy_loss


def pg_loss_stats(policy: Policy, train_batch: Any) -> Dict[str, tf.Tensor]:
    return {"policy_loss": policy.policy_loss, "cur_lr": tf.cast(policy.cur_lr, tf.float64)}


def _setup(policy: Policy, obs_space: Any, action_space: Any, config: Mapping[str, Any]) -> None:
    LearningRateSchedule.__init__(policy, config["lr"], config["lr_schedule"])


PGTFPolicy = build_tf_policy(
    name="PGTFPolicy",
    loss_fn=pg_tf_loss,
    get_default_config=lambda: DEFAULT_CONFIG,
    postprocess_fn=post_process_advantages,
    stats_fn=pg_loss_stats,
    before_loss_init=_setup,
    mixins=[LearningRateSchedule],
)


class PG(Algorithm):
    """Vanilla policy gradient (see the module docstring); the common `training_step`."""

    _name = "PG"

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return merge_config(DEFAULT_CONFIG, {})

    @classmethod
    def get_default_policy_class(cls, config: Mapping[str, Any]) -> Type[Policy]:
        return PGTFPolicy


class PGConfig(AlgorithmConfig):
    """The config builder for `PG`."""

    algo_class = PG
