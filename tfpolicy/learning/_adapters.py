"""A Keras 3 model or one of our `Network`s behind the `ModelV2` contract."""

from typing import Any, Dict, Optional, Tuple

import keras
import tensorflow as tf
import tree

from specs import nest_utils
from specs.tensor_spec import zero_spec_nest
from tfpolicy.learning import _spaces
from tfpolicy.learning._modelv2 import ModelV2, TensorList

__all__ = ["CustomModelAdapter"]


def _is_network(model: Any) -> bool:
    """Our network contract: a `state_spec` and `input_tensor_spec`."""
    return hasattr(model, "state_spec") and hasattr(model, "input_tensor_spec")


class CustomModelAdapter(ModelV2):
    """Runs a user's Keras 3 model (or layer, or callable) or `Network` as a `ModelV2`.

    A Keras model or callable receives `obs_flat [B, obs_flat_size]`. A
    feed-forward `Network` receives the observation nest when its
    `input_tensor_spec` has the observation's structure and leaf shapes
    (without an `action_mask` entry), and `obs_flat` when its spec is a single
    `[obs_flat_size]` leaf.

    The model returns the distribution inputs `[B, num_outputs]`, or a pair
    `(outputs, values)` whose `values` (`[B]` or `[B, 1]`) become
    `value_function()`. The action mask is applied (see `ModelV2`).

    Args:
      obs_space, action_space, num_outputs, model_config, name, framework: as
        `ModelV2` (`num_outputs=None`: the model's output width).
      model: the Keras model, layer, callable or `Network`.

    Raises:
      ValueError: a recurrent `Network`, a `Network` whose input spec fits
        neither the observation nor `obs_flat`, or outputs of another width
        than `num_outputs`.
    """

    applies_action_mask = True

    def __init__(self, obs_space: Any, action_space: Any, num_outputs: Optional[int],
                 model_config: dict, name: str, model: Any, framework: str = "tf2"):
        super().__init__(obs_space, action_space, num_outputs, model_config, name, framework)
        self.base_model = model
        self._network_reads_obs = False
        if _is_network(model):
            if tree.flatten(model.state_spec):
                raise ValueError(
                    f"custom_model {model!r} is a recurrent network; a custom model here is "
                    "feed-forward: set use_lstm to add an LSTM, or write a ModelV2 subclass")
            self._network_reads_obs = self._reads_observation(model.input_tensor_spec)
        self._value_out: Optional[tf.Tensor] = None
        # One call on zeros builds the model's variables and shows what it returns.
        obs = zero_spec_nest(self._obs_layout.spec, (1,))
        outputs, value = self._run({"obs": obs, "obs_flat": self.flatten_observation(obs)})
        self._has_value = value is not None
        self._checked((outputs, []))  # its width against num_outputs
        if num_outputs is None:
            self.num_outputs = int(outputs.shape[-1])

    def _reads_observation(self, spec: Any) -> bool:
        obs_spec = self._obs_spec_without_mask()
        if nest_utils.same_structure(spec, obs_spec) and all(
                tuple(a.shape) == tuple(b.shape)
                for a, b in zip(tree.flatten(spec), tree.flatten(obs_spec))):
            return True
        leaves = tree.flatten(spec)
        if len(leaves) == 1 and tuple(leaves[0].shape) == (self.obs_flat_size,):
            return False
        raise ValueError(
            f"custom_model network's input_tensor_spec {spec!r} fits neither the observation "
            f"{obs_spec!r} nor obs_flat [{self.obs_flat_size}] float32")

    def _masked_out(self) -> bool:
        """Whether the observation's `action_mask` is kept from the model."""
        return len(self._obs_leaves) != len(self._obs_layout.leaves)

    def _obs_spec_without_mask(self) -> Any:
        spec = self._obs_layout.spec
        if self._masked_out():
            spec = {k: v for k, v in spec.items() if k != _spaces.ACTION_MASK}
        return spec

    def _run(self, input_dict: Dict[str, Any]) -> Tuple[tf.Tensor, Optional[tf.Tensor]]:
        training = input_dict.get("is_training", False)
        training = training if isinstance(training, bool) else False
        model = self.base_model
        if _is_network(model):
            obs = input_dict["obs"]
            if self._network_reads_obs:
                if self._masked_out():
                    obs = {k: v for k, v in obs.items() if k != _spaces.ACTION_MASK}
                out, _ = model(obs, training=training)
            else:
                out, _ = model(input_dict["obs_flat"], training=training)
        elif isinstance(model, keras.layers.Layer):
            out = model(input_dict["obs_flat"], training=training)
        else:
            out = model(input_dict["obs_flat"])
        if isinstance(out, (list, tuple)) and len(out) == 2:
            return out[0], tf.reshape(out[1], [-1])
        return out, None

    def forward(self, input_dict: Dict[str, Any], state: TensorList,
                seq_lens: Optional[tf.Tensor]) -> Tuple[tf.Tensor, TensorList]:
        outputs, self._value_out = self._run(input_dict)
        return outputs, state

    def value_function(self) -> tf.Tensor:
        """`[B]` values of the last call, when the model returns `(outputs, values)`."""
        if not self._has_value:
            raise ValueError(
                f"custom_model {self.base_model!r} has no value branch: return "
                "(outputs, values) from it to have one")
        if self._value_out is None:
            raise ValueError(f"{self.name}: call the model before value_function()")
        return self._value_out
