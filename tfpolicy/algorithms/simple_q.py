"""SimpleQ: deep Q-learning with a target network and a replay buffer.

Mnih et al. 2015, "Human-level control through deep reinforcement
learning". One module, top to bottom: the default config, the Q model, the
loss, the policy class and the algorithm's `training_step`. `DQN` (in
`tfpolicy.algorithms.dqn`) builds on all of them.

The Q network `Q_θ(s, ·)` (the `fcnet_hiddens` layers, then a linear head
with one output per action) is trained on transitions `(s, a, r, s', d)`
drawn uniformly from the replay buffer, minimising

    L(θ) = mean_i[ huber(Q_θ(s_i, a_i) - y_i) ],
    y_i = r_i + γ (1 - d_i) max_a' Q_θ̄(s'_i, a'),

with `huber(x) = x²/2` for `|x| <= 1`, `|x| - 1/2` otherwise (RLlib's, δ = 1),
`d_i` the termination flag (`terminateds`: a time-limit truncation
bootstraps), and `θ̄` the target network, copied from `θ` every
`target_network_update_freq` sampled steps (softly with `tau < 1`).
Gradients are clipped at `grad_clip` (global norm) and applied by Adam
(`lr`, `adam_epsilon`).

The Q values are the action distribution's inputs (`action_dist_inputs`),
so the greedy action is their argmax; exploration is epsilon-greedy
(`exploration_config`). For a `Dict` observation with an `action_mask`
entry, the masked actions' Q values are pushed to `float32.min`, in acting
and in the target's max.

Each `training_step` samples `rollout_fragment_length` steps per
environment into the buffer, then, once more than
`num_steps_sampled_before_learning_starts` steps were sampled, learns on
one batch of `train_batch_size` rows from the buffer. The buffer is part of
the checkpoint (`store_buffer_in_checkpoints`, default True here: a resumed
run continues exactly).

>>> config = SimpleQ.get_default_config()
>>> config["target_network_update_freq"], config["replay_buffer_config"]["capacity"]
(500, 50000)
"""

import copy
from typing import Any, Dict, List, Mapping, Optional, Type

import keras
import numpy as np
import tensorflow as tf

from tfpolicy.algorithms.algorithm import (COMMON_CONFIG, LAST_TARGET_UPDATE_TS,
                                           NUM_AGENT_STEPS_SAMPLED, NUM_ENV_STEPS_SAMPLED,
                                           NUM_TARGET_UPDATES, Algorithm,
                                           synchronous_parallel_sample, train_one_step)
from tfpolicy.algorithms.algorithm_config import (AlgorithmConfig, InvalidConfigError,
                                                  check_choice, check_known_keys, check_range,
                                                  merge_config)
from tfpolicy.algorithms.replay_buffers import PrioritizedReplayBuffer, ReplayBuffer
from tfpolicy.learning import (Categorical, LearningRateSchedule, ModelCatalog, ModelV2,
                               TargetNetworkMixin, build_tf_policy)
from tfpolicy.learning.models import FullyConnectedNetwork
from tfpolicy.learning.policy import Policy
from tfpolicy.learning.sample_batch import MultiAgentBatch, SampleBatch

__all__ = ["SimpleQ", "SimpleQConfig", "SimpleQTFPolicy", "DEFAULT_CONFIG", "QModel",
           "build_q_models", "compute_q_values", "select", "simple_q_loss", "q_stats",
           "huber_loss", "keep_q_stats", "dense_layers", "run_layers", "discrete_actions",
           "make_replay_buffer", "update_priorities_in_replay_buffer",
           "validate_replay_buffer_config", "AdamEpsilonMixin",
           "REPLAY_BUFFER_TYPES"]

# RLlib's SimpleQ defaults over the common ones.
DEFAULT_CONFIG: Dict[str, Any] = merge_config(COMMON_CONFIG, {
    "target_network_update_freq": 500,
    "replay_buffer_config": {
        "type": "MultiAgentReplayBuffer",
        "capacity": 50000,
        # Contiguous steps per replayed item; only single steps are stored.
        "replay_sequence_length": 1,
    },
    "num_steps_sampled_before_learning_starts": 1000,
    # RLlib's default is False; a checkpoint without the buffer cannot resume exactly.
    "store_buffer_in_checkpoints": True,
    "adam_epsilon": 1e-8,
    "grad_clip": 40.0,
    "tau": 1.0,
    "lr": 5e-4,
    "lr_schedule": None,
    "train_batch_size": 32,
    "rollout_fragment_length": 4,
    "exploration_config": {
        "type": "EpsilonGreedy",
        "initial_epsilon": 1.0,
        "final_epsilon": 0.02,
        "epsilon_timesteps": 10000,
    },
    "evaluation_config": {"explore": False},
    "min_time_s_per_iteration": None,
    "min_sample_timesteps_per_iteration": 1000,
})

# `replay_buffer_config["type"]` -> the buffer class (RLlib's multi-agent names too:
# there is one policy, so they are the same buffers).
REPLAY_BUFFER_TYPES: Dict[str, type] = {
    "ReplayBuffer": ReplayBuffer,
    "MultiAgentReplayBuffer": ReplayBuffer,
    "PrioritizedReplayBuffer": PrioritizedReplayBuffer,
    "MultiAgentPrioritizedReplayBuffer": PrioritizedReplayBuffer,
}
_REPLAY_BUFFER_KEYS = ("type", "capacity", "prioritized_replay_alpha", "prioritized_replay_beta",
                       "prioritized_replay_eps", "replay_sequence_length",
                       "worker_side_prioritization", "_enable_replay_buffer_api")
Q_SCOPE = "q_func"
Q_TARGET_SCOPE = "target_q_func"


# ---- the Q model ------------------------------------------------------------------------------


def dense_layers(sizes: List[int], activation: Any, prefix: str) -> List[keras.layers.Layer]:
    """Dense layers of the given sizes and activation, named `<prefix>_1, <prefix>_2, ...`."""
    return [keras.layers.Dense(int(n), activation=activation, name=f"{prefix}_{i}")
            for i, n in enumerate(sizes, start=1)]


def run_layers(layers: List[keras.layers.Layer], x: tf.Tensor) -> tf.Tensor:
    """`x` through the layers in turn."""
    for layer in layers:
        x = layer(x)
    return x


class QModel(ModelV2):
    """Observations to one Q value per action.

    The observation features come from a `FullyConnectedNetwork` without an
    output layer (the `fcnet_hiddens` layers with `fcnet_activation`), or
    from `custom_model` (built with `num_outputs` = the last of
    `fcnet_hiddens`, 256 when empty, as RLlib does). The head is `q_hiddens`
    ReLU layers and a linear layer of `num_outputs` (the number of actions)
    units. An observation's `action_mask` adds `max(log(mask), float32.min)`
    to the Q values (see `ModelV2`).

    Args:
      obs_space, action_space, num_outputs, model_config, name: as `ModelV2`;
        `num_outputs` is the number of actions.
      q_hiddens: the head's hidden layer sizes (DQN's `hiddens`).

    Raises:
      ValueError: `use_lstm` (the Q model is feed-forward).
    """

    applies_action_mask = True

    def __init__(self, obs_space: Any, action_space: Any, num_outputs: int,
                 model_config: Dict[str, Any], name: str, q_hiddens: Optional[List[int]] = None):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        if model_config.get("use_lstm"):
            raise ValueError(f"{name}: the Q model is feed-forward; model config use_lstm=True "
                             "is not supported")
        if model_config.get("custom_model"):
            features = ([256] + list(model_config.get("fcnet_hiddens") or []))[-1]
            self.base = ModelCatalog.get_model_v2(obs_space, action_space, features,
                                                  model_config, name=f"{name}_base")
        else:
            self.base = FullyConnectedNetwork(obs_space, action_space, None, model_config,
                                              f"{name}_base", value_branch=False)
        self.q_hiddens = [int(n) for n in (q_hiddens or [])]
        self.action_head = dense_layers(self.q_hiddens, tf.nn.relu, "hidden") + [
            keras.layers.Dense(num_outputs, name="action_value")]
        self._build_head(tf.zeros([1, self.base.num_outputs]))

    def _build_head(self, features: tf.Tensor) -> None:
        """Creates the head's variables (subclasses add heads)."""
        run_layers(self.action_head, features)

    def features(self, input_dict: Dict[str, Any]) -> tf.Tensor:
        """The base model's features `[B, F]` of a prepared input dict."""
        if type(self.base) is FullyConnectedNetwork:
            # Its `obs_flat` is ours (both leave an action mask out).
            return self.base.forward(input_dict, [], None)[0]
        return self.base({SampleBatch.OBS: input_dict[SampleBatch.OBS]})[0]

    def forward(self, input_dict: Dict[str, Any], state: List[tf.Tensor],
                seq_lens: Optional[tf.Tensor]) -> Any:
        return run_layers(self.action_head, self.features(input_dict)), state


def discrete_actions(action_space: Any, model_config: Mapping[str, Any]) -> Optional[int]:
    """The number of actions of a single discrete action space, None for any other space."""
    dist_class, num_actions = ModelCatalog.get_action_dist(action_space, model_config)
    if getattr(dist_class, "func", dist_class) is not Categorical:
        return None
    return num_actions


def build_q_models(policy: Policy, obs_space: Any, action_space: Any,
                   config: Mapping[str, Any], model_class: Type[QModel] = QModel,
                   **model_kwargs: Any) -> QModel:
    """The Q model, and the target model as `policy.target_model` (same architecture).

    A `custom_model` given as a Keras model instance is cloned for the target
    (`keras.models.clone_model`): the two networks must not share variables.

    Raises:
      InvalidConfigError: (a ValueError) an action space that is not one
        discrete action (names the space).
      ValueError: a custom model whose instance the two networks would share.
    """
    num_actions = discrete_actions(action_space, config["model"])
    if num_actions is None:
        raise InvalidConfigError(f"{type(policy).__name__}: Q-learning needs one discrete "
                                 f"action (a Discrete space or a scalar integer bounded spec), "
                                 f"got the action space {action_space!r}")
    model_config = dict(config["model"])
    model = model_class(obs_space, action_space, num_actions, model_config, Q_SCOPE,
                        **model_kwargs)
    target_config = dict(model_config)
    custom = model_config.get("custom_model")
    if isinstance(custom, keras.Model):
        target_config["custom_model"] = keras.models.clone_model(custom)
    policy.target_model = model_class(obs_space, action_space, num_actions, target_config,
                                      Q_TARGET_SCOPE, **model_kwargs)
    shared = {id(v) for v in model.variables()} & {
        id(v) for v in policy.target_model.variables()}
    if shared:
        raise ValueError(f"{type(policy).__name__}: model config custom_model={custom!r} is "
                         "one instance the Q and target networks would share; pass a ModelV2 "
                         "subclass (or a Keras model, which is cloned)")
    return model


# ---- the loss ---------------------------------------------------------------------------------


def compute_q_values(model: ModelV2, obs: Any) -> tf.Tensor:
    """`Q(s, ·)` `[B, num_actions]` of a batch of observations (masked actions at float32.min)."""
    q_values, _ = model({SampleBatch.OBS: obs})
    return q_values


def select(q_values: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    """`q_values[i, actions[i]]` `[B]`."""
    return tf.gather(q_values, tf.cast(actions, tf.int32), batch_dims=1)


def huber_loss(x: tf.Tensor, delta: float = 1.0) -> tf.Tensor:
    """`x²/2` for `|x| <= delta`, `delta (|x| - delta/2)` beyond (RLlib's `huber_loss`)."""
    abs_x = tf.abs(x)
    return tf.where(abs_x < delta, 0.5 * tf.square(x), delta * (abs_x - 0.5 * delta))


def keep_q_stats(policy: Policy, q_t_selected: tf.Tensor, td_error: tf.Tensor,
                 loss: tf.Tensor) -> None:
    """Keeps the loss' parts on the policy for `q_stats` and the `td_error` fetch."""
    policy.q_t_selected = q_t_selected
    policy.td_error = td_error
    policy.q_loss_value = loss


def simple_q_loss(policy: Policy, model: ModelV2, dist_class: Any, train_batch: Any
                  ) -> tf.Tensor:
    """The SimpleQ loss of the module docstring."""
    q_t = compute_q_values(model, train_batch[SampleBatch.OBS])
    q_tp1 = compute_q_values(policy.target_model, train_batch[SampleBatch.NEXT_OBS])
    q_t_selected = select(q_t, train_batch[SampleBatch.ACTIONS])
    q_tp1_best = tf.where(tf.cast(train_batch[SampleBatch.TERMINATEDS], tf.bool), 0.0,
                          tf.reduce_max(q_tp1, axis=1))
    target = (tf.cast(train_batch[SampleBatch.REWARDS], tf.float32)
              + policy.config["gamma"] * q_tp1_best)
    td_error = q_t_selected - tf.stop_gradient(target)
    loss = tf.reduce_mean(huber_loss(td_error))
    keep_q_stats(policy, q_t_selected, td_error, loss)
    return loss


def q_stats(policy: Policy, train_batch: Any) -> Dict[str, tf.Tensor]:
    """The learner stats: the learning rate, the loss, the chosen Q values and TD errors."""
    return {
        "cur_lr": tf.cast(policy.cur_lr, tf.float64),
        "q_loss": policy.q_loss_value,
        "mean_q": tf.reduce_mean(policy.q_t_selected),
        "min_q": tf.reduce_min(policy.q_t_selected),
        "max_q": tf.reduce_max(policy.q_t_selected),
        "mean_td_error": tf.reduce_mean(policy.td_error),
    }


def td_error_fetch(policy: Policy) -> Dict[str, tf.Tensor]:
    """`{"td_error": [B]}` at the top of the learner info, for `update_priorities`."""
    return {"td_error": policy.td_error}


# ---- the policy -------------------------------------------------------------------------------


class AdamEpsilonMixin:
    """Adam following `cur_lr` (`LearningRateSchedule`) with `config["adam_epsilon"]`."""

    def optimizer(self) -> keras.optimizers.Optimizer:
        optimizer = super().optimizer()
        optimizer.epsilon = float(self.config["adam_epsilon"])
        return optimizer


def setup_mixins(policy: Policy, obs_space: Any, action_space: Any,
                 config: Mapping[str, Any]) -> None:
    """The learning-rate schedule, before the optimizer is built."""
    LearningRateSchedule.__init__(policy, config["lr"], config["lr_schedule"])


def setup_target_network(policy: Policy, obs_space: Any, action_space: Any,
                         config: Mapping[str, Any]) -> None:
    """Copies the Q model into the target model."""
    TargetNetworkMixin.__init__(policy)


SimpleQTFPolicy = build_tf_policy(
    name="SimpleQTFPolicy",
    loss_fn=simple_q_loss,
    get_default_config=lambda: DEFAULT_CONFIG,
    make_model=build_q_models,
    stats_fn=q_stats,
    extra_learn_fetches_fn=td_error_fetch,
    before_loss_init=setup_mixins,
    after_init=setup_target_network,
    mixins=[AdamEpsilonMixin, TargetNetworkMixin, LearningRateSchedule],
)


# ---- the algorithm ----------------------------------------------------------------------------


def make_replay_buffer(config: Mapping[str, Any], seed: Any = None) -> ReplayBuffer:
    """The buffer `config["replay_buffer_config"]` describes."""
    buffer_config = config["replay_buffer_config"]
    buffer_class = REPLAY_BUFFER_TYPES[buffer_config["type"]]
    capacity = int(buffer_config.get("capacity", 50000))
    if buffer_class is PrioritizedReplayBuffer:
        return PrioritizedReplayBuffer(
            capacity, alpha=buffer_config.get("prioritized_replay_alpha", 0.6), seed=seed)
    return ReplayBuffer(capacity, seed=seed)


def update_priorities_in_replay_buffer(replay_buffer: ReplayBuffer, config: Mapping[str, Any],
                                       train_batch: SampleBatch,
                                       train_results: Dict[str, Any]) -> None:
    """Sets the replayed rows' priorities to `|td_error| + prioritized_replay_eps`
    (a prioritized buffer only), and takes the `td_error` arrays out of the results."""
    for info in train_results.values():
        td_error = info.pop("td_error", None)
        if td_error is None or not isinstance(replay_buffer, PrioritizedReplayBuffer):
            continue
        eps = config["replay_buffer_config"].get("prioritized_replay_eps", 1e-6)
        replay_buffer.update_priorities(train_batch["batch_indexes"],
                                        np.abs(td_error) + eps)


class SimpleQ(Algorithm):
    """SimpleQ on the policy above (see the module docstring).

    Attributes:
      local_replay_buffer: the `ReplayBuffer` (or `PrioritizedReplayBuffer`)
        of `replay_buffer_config`.
    """

    _name = "SimpleQ"

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return copy.deepcopy(DEFAULT_CONFIG)

    @classmethod
    def get_default_policy_class(cls, config: Mapping[str, Any]) -> Type[Policy]:
        return SimpleQTFPolicy

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        super().validate_config(config)
        owner = cls._name
        check_range(config, "target_network_update_freq", 0, integer=True, owner=owner)
        check_range(config, "num_steps_sampled_before_learning_starts", 0, integer=True,
                    owner=owner)
        check_range(config, "adam_epsilon", 0.0, low_open=True, owner=owner)
        check_range(config, "tau", 0.0, 1.0, low_open=True, owner=owner)
        check_choice(config, "store_buffer_in_checkpoints", [True, False], owner)
        validate_replay_buffer_config(config, owner)

    @classmethod
    def validate_spaces(cls, observation_spec: Any, action_spec: Any,
                        config: Mapping[str, Any]) -> None:
        if discrete_actions(action_spec, config["model"]) is None:
            raise InvalidConfigError(f"{cls._name} needs one discrete action (a Discrete "
                                     f"space), got the action space {action_spec!r}")

    def setup(self, config: Dict[str, Any]) -> None:
        """Builds `local_replay_buffer`, seeded from `config["seed"]`."""
        seed = None if config["seed"] is None else np.random.SeedSequence(
            [int(config["seed"]), 2])
        self.local_replay_buffer = make_replay_buffer(config, seed)

    # The steps of `training_step`, shared with DQN's.

    def _sample_and_store(self) -> None:
        """One round of sampling (`rollout_fragment_length` steps per environment), stored."""
        batch = synchronous_parallel_sample(worker_set=self.workers)
        self._counters[NUM_ENV_STEPS_SAMPLED] += batch.env_steps()
        self._counters[NUM_AGENT_STEPS_SAMPLED] += batch.agent_steps()
        self.local_replay_buffer.add(batch)

    def _learning_started(self) -> bool:
        return (self._counters[NUM_ENV_STEPS_SAMPLED]
                > self.config["num_steps_sampled_before_learning_starts"])

    def _replay_and_learn(self) -> Dict[str, Any]:
        """One update on a replayed batch, its priorities, and the target network when due."""
        config = self.config
        buffer_config = config["replay_buffer_config"]
        if isinstance(self.local_replay_buffer, PrioritizedReplayBuffer):
            train_batch = self.local_replay_buffer.sample(
                config["train_batch_size"], beta=buffer_config.get("prioritized_replay_beta", 0.4))
        else:
            train_batch = self.local_replay_buffer.sample(config["train_batch_size"])
        before_learn = config.get("before_learn_on_batch")
        if before_learn is not None:
            train_batch = before_learn(train_batch, self.workers, config)
        train_results = train_one_step(self, train_batch)
        update_priorities_in_replay_buffer(self.local_replay_buffer, config,
                                           _policy_batch(train_batch), train_results)
        cur_ts = self._counters[NUM_ENV_STEPS_SAMPLED]
        if cur_ts - self._counters[LAST_TARGET_UPDATE_TS] >= config["target_network_update_freq"]:
            self.workers.local_worker().foreach_policy(
                lambda policy, policy_id: policy.update_target())
            self._counters[NUM_TARGET_UPDATES] += 1
            self._counters[LAST_TARGET_UPDATE_TS] = cur_ts
        return train_results

    def training_step(self) -> Dict[str, Any]:
        """RLlib's SimpleQ step: sample into the buffer, then (once learning has started)
        learn on one replayed batch and update the target network every
        `target_network_update_freq` sampled steps."""
        self._sample_and_store()
        train_results: Dict[str, Any] = {}
        if self._learning_started():
            train_results = self._replay_and_learn()
        self.workers.sync_weights(global_vars=
            {"timestep": self._counters[NUM_ENV_STEPS_SAMPLED]})
        return train_results


def _policy_batch(batch: Any) -> SampleBatch:
    if isinstance(batch, MultiAgentBatch):
        (batch,) = batch.policy_batches.values()
    return batch


def validate_replay_buffer_config(config: Mapping[str, Any], owner: str) -> None:
    """Checks `config["replay_buffer_config"]` (DQN's and SAC's): known keys, a known
    `type`, and the ranges of `capacity`, `replay_sequence_length` (1) and, for the
    prioritised buffer, `prioritized_replay_alpha`, `_beta` and `_eps`.

    Raises:
      InvalidConfigError: naming the key, the allowed values and the value.
    """
    buffer_config = config.get("replay_buffer_config")
    if not isinstance(buffer_config, Mapping):
        raise InvalidConfigError(f"{owner} config key 'replay_buffer_config': expected a dict "
                                 f"with 'type' and 'capacity', got {buffer_config!r}")
    check_known_keys(buffer_config, dict.fromkeys(_REPLAY_BUFFER_KEYS), owner,
                     prefix="replay_buffer_config.")
    if buffer_config.get("type") not in REPLAY_BUFFER_TYPES:
        raise InvalidConfigError(f"{owner} config key 'replay_buffer_config.type': expected one "
                                 f"of {sorted(REPLAY_BUFFER_TYPES)}, got "
                                 f"{buffer_config.get('type')!r}")
    ranges = {"capacity": dict(low=1, integer=True),
              "replay_sequence_length": dict(low=1, high=1, integer=True)}
    if REPLAY_BUFFER_TYPES[buffer_config["type"]] is PrioritizedReplayBuffer:
        ranges.update({"prioritized_replay_alpha": dict(low=0.0, low_open=True),
                       "prioritized_replay_beta": dict(low=0.0, high=1.0),
                       "prioritized_replay_eps": dict(low=0.0, low_open=True)})
    wrapped = {"replay_buffer_config": buffer_config}
    for key, bounds in ranges.items():
        if key in buffer_config:
            check_range(wrapped, f"replay_buffer_config.{key}", owner=owner, **bounds)
    if buffer_config.get("worker_side_prioritization"):
        raise InvalidConfigError(f"{owner} config key "
                                 "'replay_buffer_config.worker_side_prioritization': expected "
                                 "False (priorities are set by the learner), got True")


class SimpleQConfig(AlgorithmConfig):
    """The config builder for `SimpleQ`: `SimpleQConfig().environment(...).build()`."""

    algo_class = SimpleQ
