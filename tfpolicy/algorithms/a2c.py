"""A2C: synchronous advantage actor-critic.

Mnih et al. 2016, "Asynchronous Methods for Deep Reinforcement Learning",
run synchronously (the asynchronous A3C comes with the Ray workers). One
module, top to bottom: the default config, the postprocessing (GAE), the
loss, the policy class and the algorithm.

With `Â_t` the GAE(λ) advantages and `V^targ_t` the value targets, each
iteration takes one gradient step (clipped at `grad_clip`, global norm) on

    L(θ) = mean_t[ -log π_θ(a_t|s_t) · Â_t
                   + c_vf · ½ (V_θ(s_t) - V^targ_t)²
                   - c_ent · H(π_θ(·|s_t)) ]

with c_vf = `vf_loss_coeff` and c_ent = `entropy_coeff` (scheduled by
`entropy_coeff_schedule`). RLlib sums these terms over the batch; the means
here keep the step size independent of `train_batch_size`.

>>> config = A2C.get_default_config()
>>> config["vf_loss_coeff"], config["entropy_coeff"], config["grad_clip"]
(0.5, 0.01, 40.0)
"""

from typing import Any, Dict, Mapping, Type

import tensorflow as tf

from tfpolicy.algorithms.algorithm import COMMON_CONFIG, Algorithm
from tfpolicy.algorithms.algorithm_config import AlgorithmConfig, check_range, merge_config
from tfpolicy.learning import (EntropyCoeffSchedule, LearningRateSchedule, ValueNetworkMixin,
                               build_tf_policy)
from tfpolicy.learning.policy import Policy
from tfpolicy.learning.postprocessing import (Postprocessing, compute_gae_for_sample_batch,
                                              explained_variance)
from tfpolicy.learning.rnn_sequencing import valid_mean_fn
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["A2C", "A2CConfig", "A2CTFPolicy", "DEFAULT_CONFIG", "actor_critic_loss"]

# RLlib's A2C/A3C defaults over the common ones.
DEFAULT_CONFIG: Dict[str, Any] = merge_config(COMMON_CONFIG, {
    "use_critic": True,
    "use_gae": True,
    "lambda": 1.0,
    "grad_clip": 40.0,
    "lr": 0.0001,
    "lr_schedule": None,
    "vf_loss_coeff": 0.5,
    "entropy_coeff": 0.01,
    "entropy_coeff_schedule": None,
    "rollout_fragment_length": 20,
    "train_batch_size": 500,
})


def actor_critic_loss(policy: Policy, model: Any, dist_class: Any, train_batch: Any
                      ) -> tf.Tensor:
    """The A2C loss of the module docstring; its parts are kept for the stats."""
    logits, state = model.from_batch(train_batch)
    action_dist = dist_class(logits, model)
    reduce_mean = valid_mean_fn(train_batch, state, logits)
    log_prob = action_dist.logp(train_batch[SampleBatch.ACTIONS])
    values = model.value_function()
    policy.pi_loss = -reduce_mean(log_prob * train_batch[Postprocessing.ADVANTAGES])
    delta = values - train_batch[Postprocessing.VALUE_TARGETS]
    policy.vf_loss = 0.5 * reduce_mean(tf.square(delta))
    policy.entropy = reduce_mean(action_dist.entropy())
    policy._values = values
    return (policy.pi_loss + policy.config["vf_loss_coeff"] * policy.vf_loss
            - policy.entropy_coeff * policy.entropy)


def stats(policy: Policy, train_batch: Any) -> Dict[str, tf.Tensor]:
    """RLlib's A3C stats."""
    return {
        "cur_lr": tf.cast(policy.cur_lr, tf.float64),
        "entropy_coeff": tf.cast(policy.entropy_coeff, tf.float64),
        "policy_entropy": policy.entropy,
        "policy_loss": policy.pi_loss,
        "vf_loss": policy.vf_loss,
        "vf_explained_var": explained_variance(train_batch[Postprocessing.VALUE_TARGETS],
                                               policy._values),
    }


def _setup(policy: Policy, obs_space: Any, action_space: Any, config: Mapping[str, Any]) -> None:
    ValueNetworkMixin.__init__(policy, config)
    EntropyCoeffSchedule.__init__(policy, config["entropy_coeff"],
                                  config["entropy_coeff_schedule"])
    LearningRateSchedule.__init__(policy, config["lr"], config["lr_schedule"])


A2CTFPolicy = build_tf_policy(
    name="A2CTFPolicy",
    loss_fn=actor_critic_loss,
    get_default_config=lambda: DEFAULT_CONFIG,
    postprocess_fn=compute_gae_for_sample_batch,
    stats_fn=stats,
    before_loss_init=_setup,
    mixins=[ValueNetworkMixin, LearningRateSchedule, EntropyCoeffSchedule],
)


class A2C(Algorithm):
    """Synchronous advantage actor-critic (see the module docstring); the common
    `training_step`: sample `train_batch_size` steps, one update."""

    _name = "A2C"

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return merge_config(DEFAULT_CONFIG, {})

    @classmethod
    def get_default_policy_class(cls, config: Mapping[str, Any]) -> Type[Policy]:
        return A2CTFPolicy

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        super().validate_config(config)
        check_range(config, "lambda", 0.0, 1.0, owner=cls._name)
        check_range(config, "vf_loss_coeff", 0.0, owner=cls._name)
        check_range(config, "entropy_coeff", 0.0, owner=cls._name)


class A2CConfig(AlgorithmConfig):
    """The config builder for `A2C`."""

    algo_class = A2C
