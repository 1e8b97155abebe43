"""DQN: SimpleQ with double Q-learning, dueling heads, n-step returns and prioritized replay.

Van Hasselt et al. 2016 (double Q), Wang et al. 2016 (dueling networks),
Schaul et al. 2016 (prioritized replay), as RLlib's DQN combines them. One
module, top to bottom: the default config, the dueling Q model, the
postprocessing (n-step returns), the loss, the policy class and the
algorithm's `training_step`; it builds on `tfpolicy.algorithms.simple_q`.

The Q model adds to SimpleQ's the `hiddens` ReLU layers before the action
head and, with `dueling`, a state-value stream of the same shape:

    Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a').

With n = `n_step`, postprocessing rewrites each trajectory so that row t
holds `R_t = Σ_{k<m} γ^k r_{t+k}` (m = min(n, steps left)), the observation
n steps later and its termination flag (`adjust_nstep`). A replayed batch
with importance weights `w_i` (1 without prioritized replay) minimises

    L(θ) = mean_i[ w_i · huber(Q_θ(s_i, a_i) - y_i) ],
    y_i = R_i + γ^n (1 - d_i) Q_θ̄(s'_i, argmax_a' Q_θ(s'_i, a')),

the online network choosing the next action and the target network
rating it (`double_q`; without it, `max_a' Q_θ̄(s'_i, a')`). `td_error_loss_fn
= "mse"` replaces huber by `x²/2`. The TD errors `δ_i` come back from the
learner and set the replayed rows' priorities to `|δ_i| + prioritized_replay_eps`
(`replay_buffer_config`; see `PrioritizedReplayBuffer` for the sampling
probabilities and weights).

`training_intensity` sets how many replayed rows are learned per sampled
row: each `training_step` samples and stores `k` rounds and learns on
`m` replayed batches, `(k, m)` from RLlib's `calculate_rr_weights`.

>>> config = DQN.get_default_config()
>>> config["double_q"], config["dueling"], config["hiddens"], config["n_step"]
(True, True, [256], 1)
>>> config["replay_buffer_config"]["type"]
'MultiAgentPrioritizedReplayBuffer'
"""

from typing import Any, Dict, List, Mapping, Optional, Type

import keras
import numpy as np
import tensorflow as tf
import tree

from tfpolicy.algorithms.algorithm import NUM_ENV_STEPS_SAMPLED
from tfpolicy.algorithms.algorithm_config import (AlgorithmConfig, InvalidConfigError,
                                                  check_choice, check_range, merge_config)
from tfpolicy.algorithms.simple_q import (DEFAULT_CONFIG as SIMPLE_Q_DEFAULT_CONFIG, QModel,
                                          SimpleQ, SimpleQTFPolicy, build_q_models,
                                          compute_q_values, dense_layers, huber_loss,
                                          keep_q_stats, run_layers, select)
from tfpolicy.learning.policy import Policy
from tfpolicy.learning.postprocessing import adjust_nstep
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["DQN", "DQNConfig", "DQNTFPolicy", "DEFAULT_CONFIG", "DQNModel", "PRIO_WEIGHTS",
           "build_q_losses", "postprocess_nstep_and_prio", "calculate_rr_weights"]

# The importance weights of prioritized replay (RLlib's column name).
PRIO_WEIGHTS = "weights"

# RLlib's DQN defaults over SimpleQ's.
DEFAULT_CONFIG: Dict[str, Any] = merge_config(SIMPLE_Q_DEFAULT_CONFIG, {
    # Distributional Q-learning and noisy nets are not provided: num_atoms 1,
    # noisy False (v_min, v_max and sigma0 belong to them).
    "num_atoms": 1,
    "v_min": -10.0,
    "v_max": 10.0,
    "noisy": False,
    "sigma0": 0.5,
    "dueling": True,
    "hiddens": [256],
    "double_q": True,
    "n_step": 1,
    # fn(train_batch, workers, config) -> train_batch, before each update.
    "before_learn_on_batch": None,
    "training_intensity": None,
    "td_error_loss_fn": "huber",
    "replay_buffer_config": {
        "type": "MultiAgentPrioritizedReplayBuffer",
        "capacity": 50000,
        "prioritized_replay_alpha": 0.6,
        "prioritized_replay_beta": 0.4,
        "prioritized_replay_eps": 1e-6,
        "replay_sequence_length": 1,
        "worker_side_prioritization": False,
    },
})


# ---- the Q model ------------------------------------------------------------------------------


class DQNModel(QModel):
    """`QModel` with `q_hiddens` ReLU layers in its head and, with `dueling`, a
    state-value stream (`q_hiddens` ReLU layers, then one linear unit):
    `Q = V + A - mean(A)` (see the module docstring).

    Args:
      obs_space, action_space, num_outputs, model_config, name, q_hiddens: as `QModel`.
      dueling: add the state-value stream.
    """

    def __init__(self, obs_space: Any, action_space: Any, num_outputs: int,
                 model_config: Dict[str, Any], name: str, q_hiddens: Optional[List[int]] = None,
                 dueling: bool = True):
        self.dueling = bool(dueling)
        self.state_head = (dense_layers(list(q_hiddens or []), tf.nn.relu, "value_hidden")
                           + [keras.layers.Dense(1, name="state_value")]) if self.dueling else []
        super().__init__(obs_space, action_space, num_outputs, model_config, name,
                         q_hiddens=q_hiddens)

    def _build_head(self, features: tf.Tensor) -> None:
        super()._build_head(features)
        run_layers(self.state_head, features)

    def forward(self, input_dict: Dict[str, Any], state: List[tf.Tensor],
                seq_lens: Optional[tf.Tensor]) -> Any:
        features = self.features(input_dict)
        action_scores = run_layers(self.action_head, features)
        if not self.dueling:
            return action_scores, state
        state_score = run_layers(self.state_head, features)
        centered = action_scores - tf.reduce_mean(action_scores, axis=1, keepdims=True)
        return state_score + centered, state


def build_dqn_models(policy: Policy, obs_space: Any, action_space: Any,
                     config: Mapping[str, Any]) -> DQNModel:
    """The Q and target models (`hiddens`, `dueling`); see `build_q_models`."""
    return build_q_models(policy, obs_space, action_space, config, DQNModel,
                          q_hiddens=config["hiddens"], dueling=config["dueling"])


# ---- postprocessing ---------------------------------------------------------------------------


def postprocess_nstep_and_prio(policy: Policy, batch: SampleBatch,
                               other_agent_batches: Optional[Dict[str, Any]] = None,
                               episode: Any = None) -> SampleBatch:
    """n-step returns (`adjust_nstep`, when `n_step > 1`) and unit importance `weights`."""
    if policy.config["n_step"] > 1:
        adjust_nstep(policy.config["n_step"], policy.config["gamma"], batch)
    if PRIO_WEIGHTS not in batch:
        batch[PRIO_WEIGHTS] = np.ones(len(batch), np.float32)
    return batch


# ---- the loss ---------------------------------------------------------------------------------


def _l2_loss(x: tf.Tensor) -> tf.Tensor:
    return 0.5 * tf.square(x)


def build_q_losses(policy: Policy, model: Any, dist_class: Any, train_batch: Any) -> tf.Tensor:
    """The DQN loss of the module docstring."""
    config = policy.config
    obs, next_obs = train_batch[SampleBatch.OBS], train_batch[SampleBatch.NEXT_OBS]
    if config["double_q"]:
        # One forward pass of the online network over s and s'.
        both = tree.map_structure(lambda a, b: tf.concat([a, b], axis=0), obs, next_obs)
        q_t, q_tp1_online = tf.split(compute_q_values(model, both), 2, axis=0)
    else:
        q_t = compute_q_values(model, obs)
    q_tp1 = compute_q_values(policy.target_model, next_obs)
    q_t_selected = select(q_t, train_batch[SampleBatch.ACTIONS])
    chooser = q_tp1_online if config["double_q"] else q_tp1
    q_tp1_best = tf.where(tf.cast(train_batch[SampleBatch.TERMINATEDS], tf.bool), 0.0,
                          select(q_tp1, tf.argmax(chooser, axis=1)))
    target = (tf.cast(train_batch[SampleBatch.REWARDS], tf.float32)
              + config["gamma"] ** config["n_step"] * q_tp1_best)
    td_error = q_t_selected - tf.stop_gradient(target)
    loss_fn = huber_loss if config["td_error_loss_fn"] == "huber" else _l2_loss
    weights = train_batch.get(PRIO_WEIGHTS)
    per_row = loss_fn(td_error)
    if weights is not None:
        per_row = tf.cast(weights, tf.float32) * per_row
    loss = tf.reduce_mean(per_row)
    keep_q_stats(policy, q_t_selected, td_error, loss)
    return loss


# ---- the policy -------------------------------------------------------------------------------


DQNTFPolicy = SimpleQTFPolicy.with_updates(
    name="DQNTFPolicy",
    get_default_config=lambda: DEFAULT_CONFIG,
    make_model=build_dqn_models,
    loss_fn=build_q_losses,
    postprocess_fn=postprocess_nstep_and_prio,
)


# ---- the algorithm ----------------------------------------------------------------------------


def calculate_rr_weights(config: Mapping[str, Any]) -> List[int]:
    """`[sampling rounds, replayed updates]` per `training_step` (RLlib's round robin).

    Without `training_intensity`, `[1, 1]`. Otherwise the natural ratio of
    replayed to sampled rows is `train_batch_size / (rollout_fragment_length
    * num_envs_per_worker * (num_workers + 1))`, and `w = training_intensity
    / natural` gives `[round(1 / w), 1]` for `w < 1`, else `[1, round(w)]`.

    >>> calculate_rr_weights({"training_intensity": 32.0, "train_batch_size": 64,
    ...                       "rollout_fragment_length": 256, "num_envs_per_worker": 1,
    ...                       "num_workers": 0})
    [1, 128]
    """
    if not config["training_intensity"]:
        return [1, 1]
    native_ratio = config["train_batch_size"] / (
        config["rollout_fragment_length"] * config["num_envs_per_worker"]
        * max(config["num_workers"] + 1, 1))
    weight = config["training_intensity"] / native_ratio
    if weight < 1:
        return [int(np.round(1 / weight)), 1]
    return [1, int(np.round(weight))]


class DQN(SimpleQ):
    """DQN on the policy above (see the module docstring)."""

    _name = "DQN"

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return merge_config(DEFAULT_CONFIG, {})

    @classmethod
    def get_default_policy_class(cls, config: Mapping[str, Any]) -> Type[Policy]:
        return DQNTFPolicy

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        super().validate_config(config)
        owner = cls._name
        check_range(config, "n_step", 1, integer=True, owner=owner)
        if config["rollout_fragment_length"] < config["n_step"]:
            raise InvalidConfigError(
                f"{owner} config key 'rollout_fragment_length': expected at least n_step "
                f"({config['n_step']}), got {config['rollout_fragment_length']}")
        check_range(config, "training_intensity", 0.0, low_open=True, allow_none=True,
                    owner=owner)
        check_choice(config, "double_q", [True, False], owner)
        check_choice(config, "dueling", [True, False], owner)
        check_choice(config, "td_error_loss_fn", ["huber", "mse"], owner)
        hiddens = config["hiddens"]
        if not isinstance(hiddens, (list, tuple)) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in hiddens):
            raise InvalidConfigError(f"{owner} config key 'hiddens': expected a list of "
                                     f"positive layer sizes, got {hiddens!r}")
        if config["num_atoms"] != 1:
            raise InvalidConfigError(f"{owner} config key 'num_atoms': expected 1 "
                                     f"(distributional Q-learning is not provided), got "
                                     f"{config['num_atoms']!r}")
        if config["noisy"]:
            raise InvalidConfigError(f"{owner} config key 'noisy': expected False (noisy "
                                     f"networks are not provided), got {config['noisy']!r}")
        if config["before_learn_on_batch"] is not None and not callable(
                config["before_learn_on_batch"]):
            raise InvalidConfigError(f"{owner} config key 'before_learn_on_batch': expected "
                                     f"None or fn(batch, workers, config), got "
                                     f"{config['before_learn_on_batch']!r}")

    def training_step(self) -> Dict[str, Any]:
        """RLlib's DQN step: `k` rounds of sampling into the buffer, then (once learning
        has started) `m` updates on replayed batches, each followed by the priority
        update and, when due, the target network's (`calculate_rr_weights`)."""
        store_weight, train_weight = calculate_rr_weights(self.config)
        for _ in range(store_weight):
            self._sample_and_store()
        train_results: Dict[str, Any] = {}
        if self._learning_started():
            for _ in range(train_weight):
                train_results = self._replay_and_learn()
        self.workers.sync_weights(global_vars=
            {"timestep": self._counters[NUM_ENV_STEPS_SAMPLED]})
        return train_results


class DQNConfig(AlgorithmConfig):
    """The config builder for `DQN`: `DQNConfig().environment(...).training(...).build()`."""

    algo_class = DQN
