"""PPO: proximal policy optimisation with a clipped surrogate and an adaptive KL penalty.

Schulman et al. 2017, "Proximal Policy Optimization Algorithms". One module,
top to bottom: the default config, the postprocessing (GAE), the loss, the
policy class, and the algorithm's `training_step`.

With `r_t(θ) = π_θ(a_t|s_t) / π_old(a_t|s_t)` (from `action_logp`, the
sampling policy's log-probability), `Â_t` the standardised GAE advantages
and `V^targ_t` the value targets (`A_t + V_old(s_t)`), each minibatch
minimises

    L(θ) = mean_t[ -min(r_t Â_t, clip(r_t, 1-ε, 1+ε) Â_t)
                   + c_vf · min((V_θ(s_t) - V^targ_t)², vf_clip_param)
                   - c_ent · H(π_θ(·|s_t)) ]
           + β · mean_t[ KL(π_old(·|s_t) ‖ π_θ(·|s_t)) ]

with ε = `clip_param`, c_vf = `vf_loss_coeff`, c_ent = `entropy_coeff`
(scheduled by `entropy_coeff_schedule`) and β the adaptive KL coefficient
(`kl_coeff`, adapted towards `kl_target` after each iteration by
`KLCoeffMixin.update_kl`). The value term clips the squared error at
`vf_clip_param`, as RLlib does. For recurrent models (`use_lstm`) the means
run over the valid (unpadded) steps only.

Each iteration samples `train_batch_size` steps, standardises the
advantages, makes `num_sgd_iter` passes over them in shuffled minibatches of
`sgd_minibatch_size`, clipping gradients at `grad_clip` (global norm), then
adapts β.

>>> config = PPO.get_default_config()
>>> config["clip_param"], config["num_sgd_iter"], config["lambda"]
(0.3, 30, 1.0)
"""

from typing import Any, Dict, Mapping, Type

import tensorflow as tf

from tfpolicy.algorithms.algorithm import (COMMON_CONFIG, NUM_AGENT_STEPS_SAMPLED,
                                           NUM_ENV_STEPS_SAMPLED, Algorithm, multi_gpu_train_one_step,
                                           synchronous_parallel_sample, train_one_step)
from tfpolicy.algorithms.algorithm_config import AlgorithmConfig, check_range, merge_config
from tfpolicy.learning import (EntropyCoeffSchedule, KLCoeffMixin, LearningRateSchedule,
                               ValueNetworkMixin, build_tf_policy)
from tfpolicy.learning.dynamic_tf_policy import LEARNER_STATS_KEY
from tfpolicy.learning.policy import Policy
from tfpolicy.learning.postprocessing import (Postprocessing, compute_gae_for_sample_batch,
                                              explained_variance, standardize_fields)
from tfpolicy.learning.rnn_sequencing import valid_mean_fn
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["PPO", "PPOConfig", "PPOTFPolicy", "DEFAULT_CONFIG", "ppo_surrogate_loss"]


def _defaults() -> Dict[str, Any]:
    return merge_config(COMMON_CONFIG, {
        # GAE(λ) with a critic.
        "use_critic": True,
        "use_gae": True,
        "lambda": 1.0,
        # The adaptive KL penalty.
        "kl_coeff": 0.2,
        "kl_target": 0.01,
        # Minibatch SGD.
        "lr": 5e-5,
        "lr_schedule": None,
        "train_batch_size": 4000,
        "sgd_minibatch_size": 128,
        "num_sgd_iter": 30,
        "shuffle_sequences": True,
        # The loss.
        "vf_loss_coeff": 1.0,
        "entropy_coeff": 0.0,
        "entropy_coeff_schedule": None,
        "clip_param": 0.3,
        "vf_clip_param": 10.0,
        "grad_clip": None,
        "model": {"vf_share_layers": False},
    })


# RLlib's PPO defaults over the common ones.
DEFAULT_CONFIG: Dict[str, Any] = _defaults()


def ppo_surrogate_loss(policy: Policy, model: Any, dist_class: Any, train_batch: Any) -> tf.Tensor:
    """The PPO loss of the module docstring; its parts are kept on the policy for the stats."""
    logits, state = model.from_batch(train_batch)
    curr_action_dist = dist_class(logits, model)
    reduce_mean = valid_mean_fn(train_batch, state, logits)
    prev_action_dist = dist_class(train_batch[SampleBatch.ACTION_DIST_INPUTS], model)
    logp_ratio = tf.exp(curr_action_dist.logp(train_batch[SampleBatch.ACTIONS])
                        - train_batch[SampleBatch.ACTION_LOGP])
    config = policy.config
    if config["kl_coeff"] > 0.0:
        mean_kl = reduce_mean(prev_action_dist.kl(curr_action_dist))
    else:
        mean_kl = tf.constant(0.0)
    mean_entropy = reduce_mean(curr_action_dist.entropy())
    advantages = train_batch[Postprocessing.ADVANTAGES]
    surrogate = tf.minimum(
        advantages * logp_ratio,
        advantages * tf.clip_by_value(logp_ratio, 1.0 - config["clip_param"],
                                      1.0 + config["clip_param"]))
    if config["use_critic"]:
        value_fn_out = model.value_function()
        vf_loss = tf.square(value_fn_out - train_batch[Postprocessing.VALUE_TARGETS])
        vf_loss_clipped = tf.clip_by_value(vf_loss, 0.0, config["vf_clip_param"])
        mean_vf_loss = reduce_mean(vf_loss_clipped)
        policy._value_fn_out = value_fn_out
    else:
        vf_loss_clipped = mean_vf_loss = tf.constant(0.0)
        policy._value_fn_out = None
    total_loss = reduce_mean(-surrogate + config["vf_loss_coeff"] * vf_loss_clipped
                             - policy.entropy_coeff * curr_action_dist.entropy())
    if config["kl_coeff"] > 0.0:
        total_loss += policy.kl_coeff * mean_kl
    policy._total_loss = total_loss
    policy._mean_policy_loss = reduce_mean(-surrogate)
    policy._mean_vf_loss = mean_vf_loss
    policy._mean_entropy = mean_entropy
    policy._mean_kl_loss = mean_kl
    return total_loss


def kl_and_loss_stats(policy: Policy, train_batch: Any) -> Dict[str, tf.Tensor]:
    """The learner stats: RLlib's PPO names."""
    stats = {
        "cur_kl_coeff": tf.cast(policy.kl_coeff, tf.float64),
        "cur_lr": tf.cast(policy.cur_lr, tf.float64),
        "total_loss": policy._total_loss,
        "policy_loss": policy._mean_policy_loss,
        "vf_loss": policy._mean_vf_loss,
        "kl": policy._mean_kl_loss,
        "entropy": policy._mean_entropy,
        "entropy_coeff": tf.cast(policy.entropy_coeff, tf.float64),
    }
    if policy._value_fn_out is not None:
        stats["vf_explained_var"] = explained_variance(
            train_batch[Postprocessing.VALUE_TARGETS], policy._value_fn_out)
    return stats


def setup_mixins(policy: Policy, obs_space: Any, action_space: Any,
                 config: Mapping[str, Any]) -> None:
    """The mixins' constructors, once the model exists."""
    ValueNetworkMixin.__init__(policy, config)
    KLCoeffMixin.__init__(policy, config)
    EntropyCoeffSchedule.__init__(policy, config["entropy_coeff"],
                                  config["entropy_coeff_schedule"])
    LearningRateSchedule.__init__(policy, config["lr"], config["lr_schedule"])


PPOTFPolicy = build_tf_policy(
    name="PPOTFPolicy",
    loss_fn=ppo_surrogate_loss,
    get_default_config=lambda: DEFAULT_CONFIG,
    postprocess_fn=compute_gae_for_sample_batch,
    stats_fn=kl_and_loss_stats,
    before_loss_init=setup_mixins,
    mixins=[LearningRateSchedule, EntropyCoeffSchedule, KLCoeffMixin, ValueNetworkMixin],
)


class PPO(Algorithm):
    """PPO on the policy above (see the module docstring)."""

    _name = "PPO"

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return _defaults()

    @classmethod
    def get_default_policy_class(cls, config: Mapping[str, Any]) -> Type[Policy]:
        return PPOTFPolicy

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        super().validate_config(config)
        owner = cls._name
        check_range(config, "clip_param", 0.0, low_open=True, owner=owner)
        check_range(config, "vf_clip_param", 0.0, low_open=True, owner=owner)
        check_range(config, "lambda", 0.0, 1.0, owner=owner)
        check_range(config, "kl_coeff", 0.0, owner=owner)
        check_range(config, "kl_target", 0.0, low_open=True, owner=owner)
        check_range(config, "vf_loss_coeff", 0.0, owner=owner)
        check_range(config, "entropy_coeff", 0.0, owner=owner)
        check_range(config, "sgd_minibatch_size", 1, config["train_batch_size"], integer=True,
                    owner=owner)

    def training_step(self) -> Dict[str, Any]:
        """RLlib's documented PPO step: sample, standardise, learn, adapt the KL coefficient."""
        train_batch = synchronous_parallel_sample(
            worker_set=self.workers, max_env_steps=self.config["train_batch_size"])
        train_batch = train_batch.as_multi_agent()
        self._counters[NUM_AGENT_STEPS_SAMPLED] += train_batch.agent_steps()
        self._counters[NUM_ENV_STEPS_SAMPLED] += train_batch.env_steps()
        train_batch = standardize_fields(train_batch, [Postprocessing.ADVANTAGES])
        if self.config["simple_optimizer"]:
            train_results = train_one_step(self, train_batch)
        else:
            train_results = multi_gpu_train_one_step(self, train_batch)
        global_vars = {"timestep": self._counters[NUM_AGENT_STEPS_SAMPLED]}
        if self.workers.remote_workers():
            self.workers.sync_weights(global_vars=global_vars)
        for policy_id, policy_info in train_results.items():
            kl_divergence = policy_info[LEARNER_STATS_KEY].get("kl")
            self.get_policy(policy_id).update_kl(kl_divergence)
        self.workers.local_worker().set_global_vars(global_vars)
        return train_results


class PPOConfig(AlgorithmConfig):
    """The config builder for `PPO`: `PPOConfig().environment(...).training(...).build()`."""

    algo_class = PPO
