"""`MODEL_DEFAULTS`, the check that merges a model config into them, and activations by name."""

import copy
from typing import Any, Callable, Mapping, Optional

import tensorflow as tf

__all__ = ["DEPRECATED_VALUE", "MODEL_DEFAULTS", "get_activation_fn", "merged_model_config"]

# RLlib's marker for a deprecated key left at its default.
DEPRECATED_VALUE = -1

MODEL_DEFAULTS: dict = {
    # Observations stay nests and the model gets both them and `obs_flat`,
    # whichever of these two flags is set.
    "_disable_preprocessor_api": False,
    "_disable_action_flattening": False,
    # Fully connected network.
    "fcnet_hiddens": [256, 256],
    "fcnet_activation": "tanh",
    # Vision network (not provided: a non-default value is an error).
    "conv_filters": None,
    "conv_activation": "relu",
    # Extra dense layers after `fcnet_hiddens`.
    "post_fcnet_hiddens": [],
    "post_fcnet_activation": "relu",
    "free_log_std": False,
    "no_final_linear": False,
    "vf_share_layers": True,
    # LSTM wrapper.
    "use_lstm": False,
    "max_seq_len": 20,
    "lstm_cell_size": 256,
    "lstm_use_prev_action": False,
    "lstm_use_prev_reward": False,
    "_time_major": False,
    # Attention nets (not provided).
    "use_attention": False,
    "attention_num_transformer_units": 1,
    "attention_dim": 64,
    "attention_num_heads": 1,
    "attention_head_dim": 32,
    "attention_memory_inference": 50,
    "attention_memory_training": 50,
    "attention_position_wise_mlp_dim": 32,
    "attention_init_gru_gate_bias": 2.0,
    "attention_use_n_prev_actions": 0,
    "attention_use_n_prev_rewards": 0,
    # Atari frame preprocessing, done by environment wrappers in RLlib.
    "framestack": True,
    "dim": 84,
    "grayscale": False,
    "zero_mean": True,
    # Custom models and distributions.
    "custom_model": None,
    "custom_model_config": {},
    "custom_action_dist": None,
    "custom_preprocessor": None,
    # Deprecated.
    "lstm_use_prev_action_reward": DEPRECATED_VALUE,
    "_use_default_native_models": DEPRECATED_VALUE,
}

# Keys of features tfpolicy does not provide: any value but the default is an
# error rather than a silently ignored setting.
_UNSUPPORTED = {
    "conv_filters": "there is no vision network; flatten the images (the default) or use a "
                    "custom_model",
    "use_attention": "there are no attention nets; use use_lstm or a custom_model",
    "framestack": "Atari frame preprocessing belongs to environment wrappers",
    "dim": "Atari frame preprocessing belongs to environment wrappers",
    "grayscale": "Atari frame preprocessing belongs to environment wrappers",
    "zero_mean": "Atari frame preprocessing belongs to environment wrappers",
    "custom_preprocessor": "custom preprocessors are deprecated; preprocess in a custom_model",
    "_time_major": "recurrent inputs are batch-major, [num_seqs, T]",
    "lstm_use_prev_action_reward": "use lstm_use_prev_action and lstm_use_prev_reward",
    "_use_default_native_models": "use a custom_model",
}


def merged_model_config(model_config: Optional[Mapping[str, Any]]) -> dict:
    """A deep copy of `MODEL_DEFAULTS` updated with `model_config`'s values (not copied).

    Raises:
      ValueError: an unknown key (the message lists the known ones), or a
        non-default value for a feature tfpolicy does not provide.
    """
    model_config = dict(model_config or {})
    unknown = sorted(set(model_config) - set(MODEL_DEFAULTS))
    if unknown:
        raise ValueError(
            f"unknown model config keys {unknown}; the keys are {sorted(MODEL_DEFAULTS)}")
    for key, reason in _UNSUPPORTED.items():
        if key in model_config and model_config[key] != MODEL_DEFAULTS[key]:
            raise ValueError(
                f"model config {key}={model_config[key]!r} is not supported: {reason}")
    merged = copy.deepcopy(MODEL_DEFAULTS)
    merged.update(model_config)
    return merged


_ACTIVATIONS = {
    "linear": None,
    "tanh": tf.nn.tanh,
    "relu": tf.nn.relu,
    "swish": tf.nn.silu,
    "silu": tf.nn.silu,
    "elu": tf.nn.elu,
    "selu": tf.nn.selu,
    "sigmoid": tf.nn.sigmoid,
    "softplus": tf.nn.softplus,
    "gelu": tf.nn.gelu,
    "leaky_relu": tf.nn.leaky_relu,
}


def get_activation_fn(name: Any = None) -> Optional[Callable[[tf.Tensor], tf.Tensor]]:
    """The activation for a config value: a name, None (linear), or a callable as it is.

    Raises:
      ValueError: an unknown name; the message lists the known ones.
    """
    if name is None or callable(name):
        return name
    try:
        return _ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; use one of {sorted(_ACTIVATIONS)}, None or a "
            "callable") from None
