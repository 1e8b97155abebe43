"""SAC: soft actor-critic for continuous actions, with RLlib's names and defaults.

Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"
(arXiv:1812.05905): a stochastic actor `π`, twin critics `Q_1, Q_2` with
slowly following targets `Q'_1, Q'_2`, and a learned entropy temperature
`α = exp(log α)`. One update on a batch of transitions `(s, a, r, s', d)`
(`d` = terminated; a truncated episode still bootstraps) takes all three
gradients from the same forward pass, applies them with their own Adam
optimizers, then moves the targets:

    a' ~ π(·|s'),  ã ~ π(·|s)                  (reparameterised: tanh(μ + σ ε))
    y = r + γⁿ (1 - d) (min_i Q'_i(s', a') - α log π(a'|s'))
    critic:  L_Q = Σ_i ½ mean(w (Q_i(s, a) - y)²)               (y held fixed)
    actor:   L_π = mean(α log π(ã|s) - min_i Q_i(s, ã))          (θ_π only)
    alpha:   L_α = -mean(log α (log π(ã|s) + target_entropy))    (log π held fixed)
    targets: θ'_i <- τ θ_i + (1 - τ) θ'_i

`w` are prioritized-replay weights (1 without a `weights` column) and `n`
is `n_step` (rewards summed by `adjust_nstep` in postprocessing).
`target_entropy="auto"` is `-dim(A)`. The critics use the squared TD error
(RLlib's TF policy uses the Huber loss of it).

Actions: the actor outputs `[μ, log σ]` per action dim (`log σ` clipped to
`[-5, 2]`); the squashed sample `tanh(μ + σ ε)` lies in `[-1, 1]`
(`explore=False` takes `tanh(μ)`). With `normalize_actions` (the default,
RLlib's) the policy acts in `[-1, 1]` and the rollout workers scale its
actions onto the Box bounds `[low, high]`; without, the policy itself
scales them (`low + (a + 1)(high - low) / 2`). Either way the critics read
actions in `[-1, 1]` and log π is the density of the `[-1, 1]` action, as
in SB3 and RLlib, so `target_entropy = -dim(A)` means the same for any
bounds:

    log π(ã|s) = Σ_d [log N(u_d; μ_d, σ_d) - 2 (log 2 - u_d - softplus(-2 u_d))],  ã = tanh(u)

(the exact `log(1 - tanh² u)`, Spinning Up's form).

Randomness of the learning step: the noise `ε` for `s` and `s'` comes from
the policy's own `tf.random.Generator` (seeded from `config["seed"]` and
`config["worker_index"]`), whose state is part of `policy.get_state()`
under `"_learner_rng_state"`, so a restored policy continues with the same
draws.

The learning step is one compiled `tf.function` per batch signature and
number of updates: `policy.learn_on_minibatches(batch, k)` makes `k`
consecutive updates on the `k` equal row blocks of `batch` in one call
(each followed by the target update when `target_network_update_freq` is
0), which is what keeps a one-update-per-env-step loop cheap. `SAC`'s
`training_step` uses it: `rollout_fragment_length` steps into the replay
buffer, then the updates `training_intensity` asks for, in one call.

The module reads top to bottom: the default config, the model,
postprocessing, the loss, the optimizers and the compiled update, the
policy class, then the algorithm (`SAC`, `SACConfig`).

>>> config = SAC.get_default_config()
>>> config["tau"], config["target_entropy"], config["optimization"]["critic_learning_rate"]
(0.005, 'auto', 0.0003)
>>> config["replay_buffer_config"]["capacity"], config["num_steps_sampled_before_learning_starts"]
(1000000, 1500)
"""

import functools
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type

import numpy as np
import tensorflow as tf
import tree

from specs import ArraySpec
from tfpolicy.algorithms.algorithm import (COMMON_CONFIG, LAST_TARGET_UPDATE_TS,
                                           NUM_AGENT_STEPS_SAMPLED, NUM_AGENT_STEPS_TRAINED,
                                           NUM_ENV_STEPS_SAMPLED, NUM_ENV_STEPS_TRAINED,
                                           NUM_TARGET_UPDATES, Algorithm,
                                           synchronous_parallel_sample)
from tfpolicy.algorithms.algorithm_config import (AlgorithmConfig, InvalidConfigError,
                                                  check_choice, check_range, merge_config)
from tfpolicy.algorithms.dqn import calculate_rr_weights
from tfpolicy.algorithms.replay_buffers import PrioritizedReplayBuffer
from tfpolicy.algorithms.simple_q import (make_replay_buffer, update_priorities_in_replay_buffer,
                                          validate_replay_buffer_config)
from tfpolicy.learning import dynamic_tf_policy
from tfpolicy.learning.distributions import SquashedGaussian
from tfpolicy.learning.dynamic_tf_policy import LEARNER_STATS_KEY, action_spec
from tfpolicy.learning.mixins import TargetNetworkMixin
from tfpolicy.learning.models import MODEL_DEFAULTS, FullyConnectedNetwork, ModelCatalog, ModelV2
from tfpolicy.learning.postprocessing import adjust_nstep
from tfpolicy.learning.policy import Policy
from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID, SampleBatch, check_columns
from tfpolicy.learning.tf_policy_template import build_tf_policy

__all__ = [
    "SAC",
    "SACConfig",
    "SACTFModel",
    "SACTFPolicy",
    "DEFAULT_CONFIG",
    "FusedAdam",
    "PRIO_WEIGHTS",
    "postprocess_nstep",
    "sac_actor_critic_loss",
    "sac_policy_defaults",
]

# ---------------------------------------------------------------------------------------------
# Default config: the SAC keys (RLlib's), over the policy-level defaults.
# ---------------------------------------------------------------------------------------------

_FCNET_256_RELU = {
    "fcnet_hiddens": [256, 256],
    "fcnet_activation": "relu",
    "post_fcnet_hiddens": [],
    "post_fcnet_activation": None,
    "custom_model": None,
    "custom_model_config": {},
}

SAC_KEYS: Dict[str, Any] = {
    "twin_q": True,
    "q_model_config": dict(_FCNET_256_RELU),
    "policy_model_config": dict(_FCNET_256_RELU),
    "tau": 5e-3,
    "initial_alpha": 1.0,
    "target_entropy": "auto",
    "n_step": 1,
    "optimization": {
        "actor_learning_rate": 3e-4,
        "critic_learning_rate": 3e-4,
        "entropy_learning_rate": 3e-4,
    },
    "grad_clip": None,
    "target_network_update_freq": 0,
    "train_batch_size": 256,
    "clip_actions": False,
    "normalize_actions": True,
    "_deterministic_loss": False,
}


def sac_policy_defaults() -> Dict[str, Any]:
    """The config a `SACTFPolicy` built on its own starts from: the learning layer's
    policy defaults with the SAC keys (an algorithm passes its whole merged config)."""
    return merge_config(dynamic_tf_policy.DEFAULT_CONFIG, SAC_KEYS)


# The algorithm's defaults: RLlib's SAC config over the common keys.
DEFAULT_CONFIG: Dict[str, Any] = merge_config(COMMON_CONFIG, {
    **SAC_KEYS,
    # Uniform replay, as in the SAC paper and SB3 (RLlib 2.x names the prioritized
    # buffer type but turns prioritization off with a legacy flag); set
    # "MultiAgentPrioritizedReplayBuffer" for prioritized replay.
    "replay_buffer_config": {
        "type": "MultiAgentReplayBuffer",
        "capacity": int(1e6),
        "prioritized_replay_alpha": 0.6,
        "prioritized_replay_beta": 0.4,
        "prioritized_replay_eps": 1e-6,
    },
    # RLlib's default is False; a checkpoint without the buffer cannot resume exactly.
    "store_buffer_in_checkpoints": True,
    "training_intensity": None,
    "num_steps_sampled_before_learning_starts": 1500,
    "rollout_fragment_length": 1,
    "min_time_s_per_iteration": 1,
    "min_sample_timesteps_per_iteration": 100,
    "exploration_config": {"type": "StochasticSampling"},
    # A Beta distribution in place of the squashed Gaussian is not provided.
    "_use_beta_distribution": False,
})


# The column of prioritized-replay importance weights (RLlib's name).
PRIO_WEIGHTS = "weights"

# Columns the learning step reads (plus PRIO_WEIGHTS when the batch has it).
_TRAIN_COLUMNS = (SampleBatch.OBS, SampleBatch.ACTIONS, SampleBatch.REWARDS,
                  SampleBatch.NEXT_OBS, SampleBatch.TERMINATEDS)

_LOG_2PI = math.log(2.0 * math.pi)
_MIN_LOG_STD, _MAX_LOG_STD = -5.0, 2.0


# ---------------------------------------------------------------------------------------------
# Spaces
# ---------------------------------------------------------------------------------------------

def _box_bounds(action_space: Any) -> Tuple[np.ndarray, np.ndarray]:
    """`(low, high)`, float32 `[D]`, of a bounded one-dimensional float Box.

    Raises:
      ValueError: any other action space (named, with what SAC needs).
    """
    spec = action_spec(action_space)
    need = ("SAC needs a continuous action space: a one-dimensional float Box with finite "
            "bounds")
    if tree.is_nested(spec):
        raise ValueError(f"{need}; got the nested action space {action_space}")
    if not np.issubdtype(np.dtype(spec.dtype), np.floating):
        raise ValueError(f"{need}; got the {np.dtype(spec.dtype).name} action space "
                         f"{action_space} (discrete actions are not supported)")
    if len(spec.shape) != 1:
        raise ValueError(f"{need}; got the action space {action_space} of shape "
                         f"{tuple(spec.shape)} (reshape it to one dimension)")
    low = getattr(spec, "minimum", None)
    high = getattr(spec, "maximum", None)
    if low is None or high is None:
        raise ValueError(f"{need}; got the unbounded action space {action_space}")
    low = np.broadcast_to(np.asarray(low, np.float32), spec.shape).copy()
    high = np.broadcast_to(np.asarray(high, np.float32), spec.shape).copy()
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
        raise ValueError(f"{need}; got the action space {action_space} with bounds "
                         f"low={low.tolist()}, high={high.tolist()}")
    return low, high


def _flat_box(size: int) -> ArraySpec:
    return ArraySpec((int(size),), np.float32, name="features")


# ---------------------------------------------------------------------------------------------
# The model: actor, twin critics and the entropy temperature
# ---------------------------------------------------------------------------------------------

class SACTFModel(ModelV2):
    """The actor, the (twin) critics and `log α`, as RLlib's `SACTFModel`.

    Data flow (`model_out` are the observation features `obs_flat [B, F]`):

    - `model(input_dict)` -> `(dist_inputs [B, 2 D], state)`: the actor's
      squashed-Gaussian inputs `[μ, log σ]` (RLlib's `forward` returns the
      features and leaves the actor to `action_distribution_fn`; here the
      model's output is what acting samples from);
    - `get_action_model_outputs(model_out)` -> `(dist_inputs, [])`;
    - `get_q_values(model_out, actions)`, `get_twin_q_values(...)` ->
      `([B, 1], [])`, `actions [B, D]` rescaled to `[-1, 1]`.

    The actor reads `obs_flat`; each critic reads `concat(obs_flat, action)`.
    Both are `FullyConnectedNetwork`s from `policy_model_config` /
    `q_model_config` merged over `model_config` (or their `custom_model`).

    Args:
      obs_space, action_space, num_outputs, model_config, name: as `ModelV2`
        (`num_outputs` is ignored: it is `2 D`).
      policy_model_config: the actor's model config.
      q_model_config: the critics' model config.
      twin_q: build the second critic.
      initial_alpha: `α` at the start (`log α` is the trained variable).
      target_entropy: a number, or "auto"/None for `-D`.

    Raises:
      ValueError: an action space other than a bounded 1-D float Box, or a
        non-positive `initial_alpha`.
    """

    def __init__(self, obs_space: Any, action_space: Any, num_outputs: Optional[int],
                 model_config: Dict[str, Any], name: str, *,
                 policy_model_config: Optional[Dict[str, Any]] = None,
                 q_model_config: Optional[Dict[str, Any]] = None, twin_q: bool = False,
                 initial_alpha: float = 1.0, target_entropy: Any = None):
        low, _ = _box_bounds(action_space)
        self.action_dim = int(low.shape[0])
        super().__init__(obs_space, action_space, 2 * self.action_dim, model_config, name)
        if not initial_alpha > 0:
            raise ValueError(f"SACTFModel: initial_alpha must be > 0, got {initial_alpha!r}")
        features = self.obs_flat_size
        self.action_model = self.build_policy_model(
            _flat_box(features), 2 * self.action_dim,
            _sub_config(model_config, policy_model_config), "policy_model")
        self.q_net = self.build_q_model(_flat_box(features + self.action_dim), 1,
                                        _sub_config(model_config, q_model_config), "q")
        self.twin_q_net = (self.build_q_model(_flat_box(features + self.action_dim), 1,
                                              _sub_config(model_config, q_model_config),
                                              "twin_q") if twin_q else None)
        self.log_alpha = tf.Variable(np.log(initial_alpha), dtype=tf.float32, name="log_alpha")
        if target_entropy is None or target_entropy == "auto":
            target_entropy = -float(self.action_dim)
        self.target_entropy = float(target_entropy)

    def build_policy_model(self, obs_space: Any, num_outputs: int, config: Dict[str, Any],
                           name: str) -> ModelV2:
        """The actor: features -> `[μ, log σ]` (override to change it)."""
        return _build_net(obs_space, self.action_space, num_outputs, config, name)

    def build_q_model(self, obs_space: Any, num_outputs: int, config: Dict[str, Any],
                      name: str) -> ModelV2:
        """One critic: `concat(features, action)` -> `Q` (override to change it)."""
        return _build_net(obs_space, self.action_space, num_outputs, config, name)

    def forward(self, input_dict: Dict[str, Any], state: List[tf.Tensor],
                seq_lens: Optional[tf.Tensor]) -> Tuple[tf.Tensor, List[tf.Tensor]]:
        dist_inputs, _ = self.get_action_model_outputs(input_dict["obs_flat"])
        return dist_inputs, state

    def get_action_model_outputs(self, model_out: tf.Tensor, state_in: Any = None,
                                 seq_lens: Any = None) -> Tuple[tf.Tensor, List[tf.Tensor]]:
        """The actor's `[μ, log σ]` `[B, 2 D]` for features `[B, F]`."""
        outputs, _ = self.action_model({"obs": model_out}, [], None)
        return outputs, []

    def get_q_values(self, model_out: tf.Tensor, actions: tf.Tensor
                     ) -> Tuple[tf.Tensor, List[tf.Tensor]]:
        """`Q_1(s, a)` `[B, 1]` for features `[B, F]` and actions `[B, D]` in `[-1, 1]`."""
        return self._q(self.q_net, model_out, actions)

    def get_twin_q_values(self, model_out: tf.Tensor, actions: tf.Tensor
                          ) -> Tuple[tf.Tensor, List[tf.Tensor]]:
        """`Q_2(s, a)` `[B, 1]`, as `get_q_values`.

        Raises:
          ValueError: the model was built with `twin_q=False`.
        """
        if self.twin_q_net is None:
            raise ValueError(f"{self.name} was built with twin_q=False: there is no twin critic")
        return self._q(self.twin_q_net, model_out, actions)

    @staticmethod
    def _q(net: ModelV2, model_out: tf.Tensor, actions: tf.Tensor
           ) -> Tuple[tf.Tensor, List[tf.Tensor]]:
        q, _ = net({"obs": tf.concat([model_out, tf.cast(actions, model_out.dtype)], -1)}, [],
                   None)
        return q, []

    @property
    def alpha(self) -> tf.Tensor:
        """`α = exp(log α)` (read fresh at every use)."""
        return tf.exp(self.log_alpha)

    def policy_variables(self) -> List[tf.Variable]:
        """The actor's variables."""
        return list(self.action_model.variables())

    def q_variables(self) -> List[tf.Variable]:
        """The critics' variables, the first critic's then the twin's."""
        return list(self.q_net.variables()) + (
            list(self.twin_q_net.variables()) if self.twin_q_net is not None else [])


def _sub_config(model_config: Mapping[str, Any],
                sub: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    # RLlib: a copy of the top-level `model` updated with the sub-config. The
    # default sub-config fills the keys a partial user dict leaves out.
    config = {k: v for k, v in (model_config or {}).items() if k in MODEL_DEFAULTS}
    config.update(_FCNET_256_RELU)
    config.update(sub or {})
    # The sub-networks are plain feed-forward nets on features.
    config["use_lstm"] = False
    return config


def _build_net(obs_space: Any, action_space: Any, num_outputs: int, config: Dict[str, Any],
               name: str) -> ModelV2:
    if config.get("custom_model") is None:
        merged = dict(MODEL_DEFAULTS)
        merged.update(config)
        return FullyConnectedNetwork(obs_space, action_space, num_outputs, merged, name,
                                     value_branch=False)
    return ModelCatalog.get_model_v2(obs_space, action_space, num_outputs, config, name=name)


def build_sac_model(policy: Any, obs_space: Any, action_space: Any,
                    config: Mapping[str, Any]) -> SACTFModel:
    """`make_model`: the model and its copy `policy.target_model` (only its critics
    are used)."""

    def build(name: str) -> SACTFModel:
        return SACTFModel(obs_space, action_space, None, dict(config["model"]), name,
                          policy_model_config=config["policy_model_config"],
                          q_model_config=config["q_model_config"], twin_q=config["twin_q"],
                          initial_alpha=config["initial_alpha"],
                          target_entropy=config["target_entropy"])

    model = build("sac_model")
    policy.target_model = build("target_sac_model")
    return model


# ---------------------------------------------------------------------------------------------
# Postprocessing
# ---------------------------------------------------------------------------------------------

def postprocess_nstep(policy: Any, sample_batch: SampleBatch,
                      other_agent_batches: Optional[Dict[Any, Any]] = None,
                      episode: Any = None) -> SampleBatch:
    """`postprocess_fn`: n-step rewards and next observations (`adjust_nstep`) when
    `config["n_step"] > 1`; the batch as it is otherwise."""
    n_step = int(policy.config.get("n_step", 1))
    if n_step > 1:
        adjust_nstep(n_step, policy.config["gamma"], sample_batch)
    return sample_batch


# ---------------------------------------------------------------------------------------------
# The loss
# ---------------------------------------------------------------------------------------------

def _squashed_sample(dist_inputs: tf.Tensor, noise: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """`(tanh(u), log π)` with `u = μ + σ ε`: the reparameterised action in `[-1, 1]`
    `[B, D]` and its log-density `[B]` (see the module docstring)."""
    mean, log_std = tf.split(dist_inputs, 2, axis=-1)
    log_std = tf.clip_by_value(log_std, _MIN_LOG_STD, _MAX_LOG_STD)
    u = mean + tf.exp(log_std) * noise
    log_normal = -0.5 * tf.square(noise) - log_std - 0.5 * _LOG_2PI
    log_jacobian = 2.0 * (math.log(2.0) - u - tf.nn.softplus(-2.0 * u))
    return tf.tanh(u), tf.reduce_sum(log_normal - log_jacobian, axis=-1)


def _normalized_actions(policy: Any, actions: tf.Tensor) -> tf.Tensor:
    """Batch actions (in the policy's action bounds) rescaled to `[-1, 1]`."""
    low, high = policy._action_low, policy._action_high
    actions = tf.cast(actions, tf.float32)
    if np.all(low == -1.0) and np.all(high == 1.0):
        return actions
    return (actions - low) / (high - low) * 2.0 - 1.0


def sac_actor_critic_loss(policy: Any, model: SACTFModel, dist_class: Any,
                          train_batch: Mapping[str, Any]) -> tf.Tensor:
    """The three SAC losses on a batch (see the module docstring); traced.

    Sets, as RLlib's does, `policy.actor_loss`, `policy.critic_loss` (a list,
    one per critic), `policy.alpha_loss`, `policy.alpha_value`,
    `policy.log_alpha_value`, `policy.q_t` `[B, 1]`, `policy.td_error` `[B]`
    (the mean over the critics of `|Q_i - y|`), `policy.log_pis_t` `[B]` and
    `policy.target_entropy`, which the gradient step and `stats` read.

    Returns:
      `actor_loss + Σ critic_loss + alpha_loss` (each part has its own
      optimizer; the sum is what a single-loss caller sees).
    """
    config = policy.config
    obs_t = model.flatten_observation(train_batch[SampleBatch.OBS])
    obs_tp1 = model.flatten_observation(train_batch[SampleBatch.NEXT_OBS])
    actions = _normalized_actions(policy, train_batch[SampleBatch.ACTIONS])
    rewards = tf.cast(train_batch[SampleBatch.REWARDS], tf.float32)
    not_done = 1.0 - tf.cast(train_batch[SampleBatch.TERMINATEDS], tf.float32)
    batch_size = tf.shape(obs_t)[0]

    # Separate passes over s and s' (and below over (s, a) and (s, ã)): each
    # gradient then runs back through the rows it depends on only.
    if config.get("_deterministic_loss"):
        noise = tf.zeros([2, batch_size, model.action_dim])
    else:
        noise = policy._learner_rng.normal([2, batch_size, model.action_dim])
    policy_t, log_pis_t = _squashed_sample(model.get_action_model_outputs(obs_t)[0], noise[0])
    policy_tp1, log_pis_tp1 = _squashed_sample(model.get_action_model_outputs(obs_tp1)[0],
                                               noise[1])

    q_t, _ = model.get_q_values(obs_t, actions)
    q_t_policy, _ = model.get_q_values(obs_t, policy_t)
    twin_q = config["twin_q"]
    if twin_q:
        twin_q_t, _ = model.get_twin_q_values(obs_t, actions)
        q_t_policy = tf.minimum(q_t_policy, model.get_twin_q_values(obs_t, policy_t)[0])

    target = policy.target_model
    q_tp1, _ = target.get_q_values(obs_tp1, policy_tp1)
    if twin_q:
        q_tp1 = tf.minimum(q_tp1, target.get_twin_q_values(obs_tp1, policy_tp1)[0])
    log_alpha = tf.identity(model.log_alpha)  # read once: every term sees the same α
    alpha = tf.exp(log_alpha)
    q_tp1_soft = tf.squeeze(q_tp1, -1) - alpha * log_pis_tp1
    y = tf.stop_gradient(rewards + config["gamma"] ** config["n_step"] * not_done * q_tp1_soft)

    weights = (tf.cast(train_batch[PRIO_WEIGHTS], tf.float32) if PRIO_WEIGHTS in train_batch
               else 1.0)
    td = tf.squeeze(q_t, -1) - y
    critic_loss = [0.5 * tf.reduce_mean(weights * tf.square(td))]
    td_error = tf.abs(td)
    if twin_q:
        twin_td = tf.squeeze(twin_q_t, -1) - y
        critic_loss.append(0.5 * tf.reduce_mean(weights * tf.square(twin_td)))
        td_error = 0.5 * (td_error + tf.abs(twin_td))

    actor_loss = tf.reduce_mean(tf.stop_gradient(alpha) * log_pis_t - tf.squeeze(q_t_policy, -1))
    alpha_loss = -tf.reduce_mean(log_alpha * tf.stop_gradient(log_pis_t + model.target_entropy))

    policy.actor_loss = actor_loss
    policy.critic_loss = critic_loss
    policy.alpha_loss = alpha_loss
    policy.alpha_value = alpha
    policy.log_alpha_value = log_alpha
    policy.q_t = q_t
    policy.td_error = td_error
    policy.log_pis_t = log_pis_t
    policy.target_entropy = model.target_entropy
    return actor_loss + tf.add_n(critic_loss) + alpha_loss


def stats(policy: Any, train_batch: Mapping[str, Any]) -> Dict[str, tf.Tensor]:
    """`stats_fn`: RLlib's SAC learner stats, plus `log_alpha_value` and `entropy`
    (`-mean log π(ã|s)`)."""
    return {
        "mean_td_error": tf.reduce_mean(policy.td_error),
        "actor_loss": policy.actor_loss,
        "critic_loss": tf.reduce_mean(tf.stack(policy.critic_loss)),
        "alpha_loss": policy.alpha_loss,
        "alpha_value": policy.alpha_value,
        "log_alpha_value": policy.log_alpha_value,
        "target_entropy": tf.constant(policy.target_entropy, tf.float32),
        "entropy": -tf.reduce_mean(policy.log_pis_t),
        "mean_q": tf.reduce_mean(policy.q_t),
        "max_q": tf.reduce_max(policy.q_t),
        "min_q": tf.reduce_min(policy.q_t),
    }


# ---------------------------------------------------------------------------------------------
# Optimizers, gradients and the compiled update
# ---------------------------------------------------------------------------------------------

def _trainable(variables: Sequence[tf.Variable]) -> List[tf.Variable]:
    return [v for v in variables if v.trainable]


class FusedAdam:
    """Adam (Kingma & Ba 2015) applied with TensorFlow's fused kernel, one op per variable.

    The maths of `keras.optimizers.Adam` and of TensorFlow's kernel (`ε`
    added to `√v`, not to the bias-corrected `√v̂`): at step `t`,

        m <- β1 m + (1 - β1) g,   v <- β2 v + (1 - β2) g²,
        θ <- θ - lr √(1 - β2ᵗ) / (1 - β1ᵗ) · m / (√v + ε).

    Keras' Adam spends about ten small ops per variable; SAC updates three
    groups of variables every environment step, where those ops cost as
    much as the networks' arithmetic. It offers what the policy uses of a
    Keras optimizer: `build(var_list)`, `variables` (the step count, then
    `m` and `v` per variable: the checkpointed state), `iterations`,
    `learning_rate` and `apply_gradients(grads_and_vars)`.

    Args:
      learning_rate: the step size `lr`.
      beta_1, beta_2, epsilon: as `keras.optimizers.Adam`'s.
      name: prefixes the slot variables' names.
    """

    def __init__(self, learning_rate: float, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, name: str = "adam"):
        self.learning_rate = float(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.name = name
        with tf.init_scope():
            self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False,
                                          name=f"{name}/iterations")
        self._slots: Dict[int, Tuple[tf.Variable, tf.Variable]] = {}
        self._variables: List[tf.Variable] = [self.iterations]
        self.built = False

    def build(self, var_list: Sequence[tf.Variable]) -> None:
        """Creates `m` and `v` (zeros) for each variable; later calls do nothing."""
        if self.built:
            return
        with tf.init_scope():
            for variable in var_list:
                base = variable.name.split(":")[0]
                slots = tuple(tf.Variable(tf.zeros(variable.shape, variable.dtype),
                                          trainable=False, name=f"{self.name}/{kind}/{base}")
                              for kind in ("m", "v"))
                self._slots[id(variable)] = slots
                self._variables.extend(slots)
        self.built = True

    @property
    def variables(self) -> List[tf.Variable]:
        """The step count, then `m` and `v` of each built variable in `build`'s order."""
        return list(self._variables)

    def apply_gradients(self, grads_and_vars: Sequence[Tuple[Any, tf.Variable]]) -> None:
        """One Adam step on `(gradient, variable)` pairs of built variables.

        Raises:
          KeyError: a variable `build` was not given (named).
        """
        step = tf.cast(self.iterations + 1, tf.float32)
        beta_1_power = tf.pow(self.beta_1, step)
        beta_2_power = tf.pow(self.beta_2, step)
        for grad, variable in grads_and_vars:
            slots = self._slots.get(id(variable))
            if slots is None:
                raise KeyError(f"{self.name}: the variable {variable.name} was not built "
                               "into this optimizer")
            m, v = slots
            dtype = variable.dtype
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=m.handle, v=v.handle,
                beta1_power=tf.cast(beta_1_power, dtype), beta2_power=tf.cast(beta_2_power, dtype),
                lr=tf.constant(self.learning_rate, dtype), beta1=tf.constant(self.beta_1, dtype),
                beta2=tf.constant(self.beta_2, dtype), epsilon=tf.constant(self.epsilon, dtype),
                grad=tf.convert_to_tensor(grad, dtype))
        self.iterations.assign_add(1)


def optimizer_fn(policy: Any, config: Mapping[str, Any]) -> List[FusedAdam]:
    """Adam (`FusedAdam`) for the actor, the critics and `log α`, with
    `config["optimization"]`'s `actor_learning_rate`, `critic_learning_rate` and
    `entropy_learning_rate` (`lr` is not used). Each is built on its own
    variables only. Also sets RLlib's `policy._actor_optimizer`,
    `_critic_optimizer` (a list: one Adam for both critics, which is the same
    maths as one per critic) and `_alpha_optimizer`."""
    rates = dict(SAC_KEYS["optimization"])
    rates.update(config.get("optimization") or {})
    model = policy.model
    groups = ((rates["actor_learning_rate"], _trainable(model.policy_variables()), "actor"),
              (rates["critic_learning_rate"], _trainable(model.q_variables()), "critic"),
              (rates["entropy_learning_rate"], [model.log_alpha], "alpha"))
    optimizers = []
    for rate, variables, name in groups:
        optimizer = FusedAdam(float(rate), name=f"{name}_adam")
        optimizer.build(variables)
        optimizers.append(optimizer)
    policy._actor_optimizer, critic, policy._alpha_optimizer = optimizers
    policy._critic_optimizer = [critic]
    return optimizers


class SACTargetNetworkMixin(TargetNetworkMixin):
    """`TargetNetworkMixin` over the critics only: `update_target(tau)` moves the
    target critics towards the critics (the target's actor is never used), and
    `"_target_weights"` in the state holds the target critics' variables."""

    @property
    def q_func_vars(self) -> List[tf.Variable]:
        return self.model.q_variables()

    @property
    def target_q_func_vars(self) -> List[tf.Variable]:
        return self.target_model.q_variables()

    def update_target(self, tau: Optional[float] = None) -> None:
        """`θ' <- τ θ + (1 - τ) θ'` for the critics; `tau=None` means `config["tau"]`.

        Raises:
          ValueError: `tau` outside `[0, 1]`.
        """
        tau = float(self.config.get("tau", 1.0) if tau is None else tau)
        if not 0.0 <= tau <= 1.0:
            raise ValueError(f"update_target: tau must lie in [0, 1], got {tau}")
        function = getattr(self, "_update_target_function", None)
        if function is None:
            function = self._update_target_function = tf.function(
                self._soft_update_targets, autograph=False).get_concrete_function(
                    tf.TensorSpec([], tf.float32))
        function(tf.constant(tau, tf.float32))

    def _soft_update_targets(self, tau: Any) -> None:
        for source, target in zip(self.q_func_vars, self.target_q_func_vars):
            target.assign(tau * source + (1.0 - tau) * target)


class SACLearnerMixin:
    """SAC's learning step: three optimizers, each on its own loss and variables.

    The learning layer's compiled step trains one loss with one optimizer;
    SAC's update needs three gradient groups (`policy.actor_loss` on the
    actor's variables, `Σ policy.critic_loss` on the critics', and
    `policy.alpha_loss` on `log α`) from one forward pass, so this mixin
    compiles its own step around the same `loss`, `stats_fn` and
    `extra_learn_fetches_fn`. With `grad_clip`, each gradient tensor is
    clipped to that norm (RLlib's SAC rule).

    It also sets `policy.dist_class`: the squashed Gaussian on `[-1, 1]`
    (`normalize_actions`) or on the Box bounds.

    State: the learner's random generator under `"_learner_rng_state"`.
    """

    def __init__(self, config: Mapping[str, Any]):
        self._action_low, self._action_high = _box_bounds(self.action_space)
        if config.get("normalize_actions", True):
            # The policy acts in [-1, 1]; the workers scale actions onto the bounds.
            self._action_low = -np.ones_like(self._action_low)
            self._action_high = np.ones_like(self._action_high)
        self.dist_class = functools.partial(SquashedGaussian, low=self._action_low,
                                            high=self._action_high)
        seed = config.get("seed")
        with tf.init_scope():
            if seed is None:
                self._learner_rng = tf.random.Generator.from_non_deterministic_state()
            else:
                words = np.random.SeedSequence(
                    [int(seed), int(config.get("worker_index", 0) or 0), 0x5AC]
                ).generate_state(2, np.uint32)
                self._learner_rng = tf.random.Generator.from_seed(
                    int(words[0]) << 32 | int(words[1]))
        self._sac_functions: Dict[Tuple, Tuple[Any, List[Any]]] = {}
        self._checked_sac_signatures: set = set()

    # ---- the compiled update ------------------------------------------------------------------

    def _sac_update(self, batch: Dict[str, tf.Tensor], apply: bool
                    ) -> Tuple[Dict[str, tf.Tensor], tf.Tensor, List[Optional[tf.Tensor]]]:
        """One update (traced): loss, the three gradient groups, their optimizers, the
        target update; returns the stats, the TD errors and the gradients in
        `model.trainable_variables()` order."""
        model = self.model
        with tf.GradientTape(persistent=True) as tape:
            self.loss(model, self.dist_class, batch)
            critic_loss = tf.add_n(self.critic_loss)
        groups = (
            (self._actor_optimizer, _trainable(model.policy_variables()), self.actor_loss),
            (self._critic_optimizer[0], _trainable(model.q_variables()), critic_loss),
            (self._alpha_optimizer, [model.log_alpha], self.alpha_loss),
        )
        clip = self.config.get("grad_clip")
        by_variable: Dict[int, tf.Tensor] = {}
        for optimizer, variables, loss in groups:
            grads = tape.gradient(loss, variables)
            pairs = [(g if clip is None else tf.clip_by_norm(g, clip), v)
                     for g, v in zip(grads, variables) if g is not None]
            if apply and pairs:
                optimizer.apply_gradients(pairs)
            by_variable.update({id(v): g for g, v in pairs})
        del tape
        if apply and int(self.config.get("target_network_update_freq", 0)) == 0:
            self._soft_update_targets(float(self.config["tau"]))
        stats = self.stats_fn(batch)
        extra = self.extra_learn_fetches_fn()
        td_error = extra.get("td_error", self.td_error)
        grads = [by_variable.get(id(v)) for v in model.trainable_variables()]
        return stats, td_error, grads

    def _sac_columns(self, samples: Mapping[str, Any]) -> Dict[str, Any]:
        owner = f"{type(self).__name__}.learn_on_batch"
        missing = [c for c in _TRAIN_COLUMNS if c not in samples]
        if missing:
            raise KeyError(f"{owner}: the batch lacks the columns {missing} the SAC loss reads; "
                           f"its columns: {sorted(samples)}")
        columns: Dict[str, Any] = {}
        for key in _TRAIN_COLUMNS + ((PRIO_WEIGHTS,) if PRIO_WEIGHTS in samples else ()):
            value = samples[key]
            if key in (SampleBatch.OBS, SampleBatch.NEXT_OBS):
                try:
                    columns[key] = tree.map_structure(
                        lambda x, s: np.asarray(x, s.dtype), value, self.observation_spec)
                except (TypeError, ValueError):
                    self._check_sac_columns(samples, owner)
                    raise
            elif key == SampleBatch.TERMINATEDS:
                columns[key] = np.asarray(value, np.bool_)
            else:
                columns[key] = np.asarray(value, np.float32)
        signature = tuple((key, tuple((leaf.shape[1:], leaf.dtype)
                                      for leaf in tree.flatten(columns[key])))
                          for key in columns)
        if signature not in self._checked_sac_signatures:
            self._check_sac_columns(columns, owner)
            self._checked_sac_signatures.add(signature)
        return columns

    def _check_sac_columns(self, columns: Mapping[str, Any], owner: str) -> None:
        expected = {SampleBatch.OBS: self.observation_spec,
                    SampleBatch.NEXT_OBS: self.observation_spec,
                    SampleBatch.ACTIONS: self.action_spec}
        check_columns(SampleBatch({k: columns[k] for k in _TRAIN_COLUMNS}), expected,
                      owner=owner)

    def _sac_function(self, columns: Dict[str, Any], flat: List[np.ndarray],
                      num_updates: int, apply: bool) -> Tuple[Any, List[Any]]:
        key = (num_updates, apply, tuple(columns),
               tuple((x.dtype, x.shape[1:]) for x in flat))
        found = self._sac_functions.get(key)
        if found is not None:
            return found
        structure = tree.map_structure(lambda _: 0, columns)
        layout: List[Any] = []

        def update_block(batch: Dict[str, tf.Tensor]) -> Tuple[tf.Tensor, tf.Tensor, List]:
            stats_, td_error, grads = self._sac_update(batch, apply)
            names = sorted(stats_)
            layout[:] = [names, [g is not None for g in grads]]
            vector = tf.stack([tf.cast(tf.reshape(stats_[k], []), tf.float32) for k in names])
            return vector, tf.cast(td_error, tf.float32), [g for g in grads if g is not None]

        def step(*leaves: tf.Tensor) -> List[tf.Tensor]:
            batch = tree.unflatten_as(structure, list(leaves))
            if num_updates == 1:
                vector, td_error, grads = update_block(batch)
                return [tf.concat([vector, td_error], 0)] + ([] if apply else grads)
            blocks = tree.map_structure(
                lambda x: tf.reshape(x, tf.concat([[num_updates, -1], tf.shape(x)[1:]], 0)),
                batch)

            def body(i: tf.Tensor, vectors: tf.TensorArray, tds: tf.TensorArray) -> Tuple:
                vector, td_error, _ = update_block(tree.map_structure(lambda x: x[i], blocks))
                return i + 1, vectors.write(i, vector), tds.write(i, td_error)

            arrays = [tf.TensorArray(tf.float32, size=num_updates, infer_shape=False)
                      for _ in range(2)]
            _, vectors, td_errors = tf.while_loop(
                lambda i, *_: i < num_updates, body, (tf.constant(0), *arrays))
            return [tf.concat([tf.reduce_mean(vectors.stack(), 0), td_errors.concat()], 0)]

        specs = [tf.TensorSpec((None,) + x.shape[1:], x.dtype) for x in flat]
        function = tf.function(step, input_signature=specs, autograph=False
                               ).get_concrete_function()
        found = self._sac_functions[key] = (function, layout)
        return found

    def _run_sac(self, samples: Mapping[str, Any], num_updates: int, apply: bool
                 ) -> Tuple[Dict[str, Any], np.ndarray, List[Optional[np.ndarray]]]:
        columns = self._sac_columns(samples)
        flat = tree.flatten(columns)
        rows = int(flat[0].shape[0])
        if num_updates < 1 or rows % num_updates or rows == 0:
            raise ValueError(f"{type(self).__name__}: {rows} rows do not split into "
                             f"{num_updates} equal non-empty minibatches")
        function, layout = self._sac_function(columns, flat, num_updates, apply)
        outputs = function(*flat)
        values = outputs[0].numpy()
        names, present = layout
        learner_stats = {k: values[i] for i, k in enumerate(names)}
        td_error = values[len(names):]
        grads: List[Optional[np.ndarray]] = []
        if not apply:
            it = iter(outputs[1:])
            grads = [next(it).numpy() if p else None for p in present]
        return learner_stats, td_error, grads

    # ---- the Policy methods -------------------------------------------------------------------

    def learn_on_batch(self, samples: SampleBatch) -> Dict[str, Any]:
        """One SAC update on `samples` (see the module docstring).

        Returns:
          `{"learner_stats": {...}, "td_error": [B], "custom_metrics": {},
          "num_agent_steps_trained", "num_grad_updates_lifetime",
          "diff_num_grad_updates_vs_sampler_policy"}`.

        Raises:
          KeyError: a column the loss reads is missing (named, with those present).
          ValueError: `obs`/`new_obs`/`actions` that do not match the spaces.
        """
        return self.learn_on_minibatches(samples, 1)

    def learn_on_minibatches(self, samples: SampleBatch, num_minibatches: int
                             ) -> Dict[str, Any]:
        """`num_minibatches` consecutive updates in one compiled call, the `i`-th on rows
        `[i B, (i + 1) B)` with `B = len(samples) / num_minibatches` (each followed by the
        target update when `target_network_update_freq` is 0).

        Returns:
          As `learn_on_batch`, the learner stats averaged over the updates and
          `td_error` for every row (each from its own update).

        Raises:
          ValueError: the rows do not split into `num_minibatches` equal blocks.
        """
        learner_stats, td_error, _ = self._run_sac(samples, int(num_minibatches), apply=True)
        self.num_grad_updates += int(num_minibatches)
        self._after_sac_update()
        return {
            LEARNER_STATS_KEY: learner_stats,
            "td_error": td_error,
            "custom_metrics": {},
            "num_agent_steps_trained": len(td_error),
            "num_grad_updates_lifetime": self.num_grad_updates,
            "diff_num_grad_updates_vs_sampler_policy":
                self.num_grad_updates - 1 - (getattr(samples, "num_grad_updates", None) or 0),
        }

    def compute_gradients(self, postprocessed_batch: SampleBatch
                          ) -> Tuple[List[Optional[np.ndarray]], Dict[str, Any]]:
        """The three groups' (clipped) gradients as numpy arrays in
        `model.trainable_variables()` order, and the learner info; nothing is applied."""
        learner_stats, td_error, grads = self._run_sac(postprocessed_batch, 1, apply=False)
        return grads, {LEARNER_STATS_KEY: learner_stats, "td_error": td_error}

    def apply_gradients(self, gradients: Sequence[Optional[np.ndarray]]) -> None:
        """Applies `compute_gradients`' arrays, each variable with its group's optimizer,
        then the target update when `target_network_update_freq` is 0.

        Raises:
          ValueError: another number of gradients than trainable variables.
        """
        variables = self.model.trainable_variables()
        if len(gradients) != len(variables):
            raise ValueError(f"apply_gradients: got {len(gradients)} gradients for "
                             f"{len(variables)} trainable variables")
        given = {id(v): g for g, v in zip(gradients, variables) if g is not None}
        for optimizer, group in ((self._actor_optimizer, self.model.policy_variables()),
                                 (self._critic_optimizer[0], self.model.q_variables()),
                                 (self._alpha_optimizer, [self.model.log_alpha])):
            pairs = [(tf.convert_to_tensor(given[id(v)], v.dtype), v) for v in group
                     if id(v) in given]
            if pairs:
                optimizer.apply_gradients(pairs)
        if int(self.config.get("target_network_update_freq", 0)) == 0:
            self.update_target()
        self.num_grad_updates += 1
        self._after_sac_update()

    def _after_sac_update(self) -> None:
        # The LiteRT actor follows this counter: it refreshes its weights before the next act.
        self._weights_version = getattr(self, "_weights_version", 0) + 1

    # ---- state --------------------------------------------------------------------------------

    def get_state(self) -> Dict[str, Any]:
        """The next class' state plus `"_learner_rng_state"`."""
        state = super().get_state()
        state["_learner_rng_state"] = self._learner_rng.state.numpy()
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores the next class' state, then the learner's random generator."""
        super().set_state(state)
        saved = state.get("_learner_rng_state")
        if saved is not None:
            saved = np.asarray(saved, np.int64)
            if saved.shape != tuple(self._learner_rng.state.shape):
                raise ValueError(f"set_state: '_learner_rng_state' has shape {saved.shape}, "
                                 f"the generator's state {tuple(self._learner_rng.state.shape)}")
            self._learner_rng.state.assign(saved)


def _validate_spaces(policy: Any, observation_space: Any, action_space: Any,
                     config: Mapping[str, Any]) -> None:
    """`validate_spaces`: a bounded one-dimensional float Box of actions.

    Raises:
      InvalidConfigError: (a ValueError) any other action space, named.
    """
    try:
        _box_bounds(action_space)
    except ValueError as error:
        raise InvalidConfigError(f"SAC config key 'env': {error}") from None


def _setup_mixins(policy: Any, observation_space: Any, action_space: Any,
                  config: Mapping[str, Any]) -> None:
    SACLearnerMixin.__init__(policy, config)


def _setup_late_mixins(policy: Any, observation_space: Any, action_space: Any,
                       config: Mapping[str, Any]) -> None:
    SACTargetNetworkMixin.__init__(policy)


SACTFPolicy = build_tf_policy(
    "SACTFPolicy",
    get_default_config=sac_policy_defaults,
    validate_spaces=_validate_spaces,
    make_model=build_sac_model,
    postprocess_fn=postprocess_nstep,
    loss_fn=sac_actor_critic_loss,
    stats_fn=stats,
    optimizer_fn=optimizer_fn,
    extra_learn_fetches_fn=lambda policy: {"td_error": policy.td_error},
    before_loss_init=_setup_mixins,
    after_init=_setup_late_mixins,
    mixins=[SACTargetNetworkMixin, SACLearnerMixin],
)


# ---------------------------------------------------------------------------------------------
# The algorithm
# ---------------------------------------------------------------------------------------------

_OPTIMIZATION_KEYS = ("actor_learning_rate", "critic_learning_rate", "entropy_learning_rate")


class SAC(Algorithm):
    """Soft actor-critic (see the module docstring) with RLlib's config and training step.

    Each `training_step` samples `rollout_fragment_length` steps per
    environment into the replay buffer (`k` rounds), and, once more than
    `num_steps_sampled_before_learning_starts` steps were sampled, makes `m`
    updates on replayed batches of `train_batch_size` rows, `(k, m)` from
    `training_intensity` (RLlib's `calculate_rr_weights`: without it, one
    round and one update). With a uniform buffer the `m` updates run in one
    compiled call (`learn_on_minibatches`). The targets follow every update
    when `target_network_update_freq` is 0, else every that many sampled steps.

    Attributes:
      local_replay_buffer: the `ReplayBuffer` (or `PrioritizedReplayBuffer`) of
        `replay_buffer_config`, part of the checkpoint (`store_buffer_in_checkpoints`).
    """

    _name = "SAC"

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return merge_config(DEFAULT_CONFIG, {})

    @classmethod
    def get_default_policy_class(cls, config: Mapping[str, Any]) -> Type[Policy]:
        return SACTFPolicy

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        """RLlib's SAC checks, each error naming the key and the allowed values.

        Raises:
          InvalidConfigError: e.g. `tau` outside `(0, 1]`, `rollout_fragment_length <
            n_step`, an unknown `optimization` or `replay_buffer_config` key.
        """
        super().validate_config(config)
        owner = cls._name
        check_range(config, "tau", 0.0, 1.0, low_open=True, owner=owner)
        check_range(config, "initial_alpha", 0.0, low_open=True, owner=owner)
        target_entropy = config["target_entropy"]
        if target_entropy != "auto" and (isinstance(target_entropy, bool) or not isinstance(
                target_entropy, (int, float)) or not math.isfinite(target_entropy)):
            raise InvalidConfigError(f"{owner} config key 'target_entropy': expected 'auto' or a "
                                     f"finite number, got {target_entropy!r}")
        check_range(config, "n_step", 1, integer=True, owner=owner)
        if config["rollout_fragment_length"] < config["n_step"]:
            raise InvalidConfigError(
                f"{owner} config key 'rollout_fragment_length': expected at least n_step "
                f"({config['n_step']}), got {config['rollout_fragment_length']}")
        check_range(config, "training_intensity", 0.0, low_open=True, allow_none=True,
                    owner=owner)
        check_range(config, "target_network_update_freq", 0, integer=True, owner=owner)
        check_range(config, "num_steps_sampled_before_learning_starts", 0, integer=True,
                    owner=owner)
        for key in ("twin_q", "store_buffer_in_checkpoints", "normalize_actions",
                    "clip_actions", "_deterministic_loss"):
            check_choice(config, key, [True, False], owner)
        if config["_use_beta_distribution"]:
            raise InvalidConfigError(f"{owner} config key '_use_beta_distribution': expected "
                                     "False (the Beta distribution is not provided), got "
                                     f"{config['_use_beta_distribution']!r}")
        if not isinstance(config["optimization"], Mapping):
            raise InvalidConfigError(f"{owner} config key 'optimization': expected a dict with "
                                     f"keys {list(_OPTIMIZATION_KEYS)}, got "
                                     f"{config['optimization']!r}")
        for key in _OPTIMIZATION_KEYS:
            check_range(config, f"optimization.{key}", 0.0, low_open=True, owner=owner)
        for key in ("q_model_config", "policy_model_config"):
            if not isinstance(config[key], Mapping):
                raise InvalidConfigError(f"{owner} config key {key!r}: expected a model config "
                                         f"dict, got {config[key]!r}")
        validate_replay_buffer_config(config, owner)

    @classmethod
    def validate_spaces(cls, observation_spec: Any, action_spec: Any,
                        config: Mapping[str, Any]) -> None:
        """Raises `InvalidConfigError` unless the actions are a bounded 1-D float Box."""
        _validate_spaces(None, observation_spec, action_spec, config)

    def setup(self, config: Dict[str, Any]) -> None:
        """Builds `local_replay_buffer`, seeded from `config["seed"]`."""
        seed = None if config["seed"] is None else np.random.SeedSequence(
            [int(config["seed"]), 2])
        self.local_replay_buffer = make_replay_buffer(config, seed)

    def training_step(self) -> Dict[str, Any]:
        """Sample into the buffer, then learn on replayed batches (see the class).

        Returns:
          `{policy_id: learner info}` of the last update (`{}` before learning starts).
        """
        config = self.config
        store_weight, train_weight = calculate_rr_weights(config)
        for _ in range(store_weight):
            batch = synchronous_parallel_sample(worker_set=self.workers)
            self._counters[NUM_ENV_STEPS_SAMPLED] += batch.env_steps()
            self._counters[NUM_AGENT_STEPS_SAMPLED] += batch.agent_steps()
            self.local_replay_buffer.add(batch)
        cur_ts = self._counters[NUM_ENV_STEPS_SAMPLED]
        if cur_ts <= config["num_steps_sampled_before_learning_starts"]:
            return {}
        policy = self.get_policy()
        size = int(config["train_batch_size"])
        buffer = self.local_replay_buffer
        if isinstance(buffer, PrioritizedReplayBuffer):
            # Priorities change after every update: one replayed batch at a time.
            beta = config["replay_buffer_config"].get("prioritized_replay_beta", 0.4)
            for _ in range(train_weight):
                train_batch = buffer.sample(size, beta=beta)
                results = {DEFAULT_POLICY_ID: policy.learn_on_batch(train_batch)}
                update_priorities_in_replay_buffer(buffer, config, train_batch, results)
        else:
            results = {DEFAULT_POLICY_ID: policy.learn_on_minibatches(
                buffer.sample(size * train_weight), train_weight)}
            results[DEFAULT_POLICY_ID].pop("td_error")
        trained = size * train_weight
        self._counters[NUM_ENV_STEPS_TRAINED] += trained
        self._counters[NUM_AGENT_STEPS_TRAINED] += trained
        freq = int(config["target_network_update_freq"])
        if freq == 0:
            # The learning step moved the targets after each update.
            self._counters[NUM_TARGET_UPDATES] += train_weight
            self._counters[LAST_TARGET_UPDATE_TS] = cur_ts
        elif cur_ts - self._counters[LAST_TARGET_UPDATE_TS] >= freq:
            policy.update_target()
            self._counters[NUM_TARGET_UPDATES] += 1
            self._counters[LAST_TARGET_UPDATE_TS] = cur_ts
        self.workers.sync_weights(global_vars=self._global_vars())
        return results

    def _global_vars(self) -> Dict[str, int]:
        return {"timestep": self._counters[NUM_ENV_STEPS_SAMPLED]}


class SACConfig(AlgorithmConfig):
    """The config builder for `SAC`: `SACConfig().environment("Pendulum-v1").training(
    tau=0.01).build()`."""

    algo_class = SAC
