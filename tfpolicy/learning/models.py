"""Models for learning policies: `ModelV2`, the default models, and `ModelCatalog` to build them.

`ModelCatalog.get_action_dist(action_space, model_config)` gives the action
distribution class and how many model outputs it needs;
`ModelCatalog.get_model_v2(obs_space, action_space, num_outputs, model_config)`
builds the model `config["model"]` describes: a `FullyConnectedNetwork`
(wrapped in an `LSTMWrapper` with `use_lstm`), or the `custom_model`. Spaces
are gymnasium spaces or spec nests.

>>> import numpy as np
>>> from specs import BoundedArraySpec
>>> obs_space = BoundedArraySpec((4,), np.float32, -1.0, 1.0)
>>> action_space = BoundedArraySpec((), np.int64, 0, 1)
>>> config = {"fcnet_hiddens": [8, 8]}
>>> dist_class, num_outputs = ModelCatalog.get_action_dist(action_space, config)
>>> model = ModelCatalog.get_model_v2(obs_space, action_space, num_outputs, config)
>>> logits, state = model({"obs": np.zeros((3, 4), np.float32)})
>>> logits.shape, model.value_function().shape, state
(TensorShape([3, 2]), TensorShape([3]), [])
>>> dist_class(logits, model).sample().shape
TensorShape([3])
"""

import functools
import inspect
from typing import Any, Dict, Mapping, Optional, Tuple

from tfpolicy.learning._adapters import CustomModelAdapter
from tfpolicy.learning._fcnet import FullyConnectedNetwork
from tfpolicy.learning._model_config import MODEL_DEFAULTS, merged_model_config
from tfpolicy.learning._modelv2 import ModelV2, TFModelV2, ViewRequirement
from tfpolicy.learning._recurrent import LSTMWrapper
from tfpolicy.learning.distributions import (
    ActionDistribution, DistClass, MultiActionDistribution, _dist_for_space)

__all__ = [
    "MODEL_DEFAULTS",
    "ModelV2",
    "TFModelV2",
    "ViewRequirement",
    "FullyConnectedNetwork",
    "LSTMWrapper",
    "ModelCatalog",
]


def _check_framework(framework: str) -> None:
    if framework not in ("tf", "tf2"):
        raise ValueError(f"framework must be 'tf2' (or 'tf'), got {framework!r}")


def _lookup(value: Any, registry: Mapping[str, Any], key: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return registry[value]
    except KeyError:
        raise ValueError(f"model config {key}={value!r} is not registered; registered: "
                         f"{sorted(registry)}") from None


def _constructor_kwargs(cls: type, custom_config: Dict[str, Any], kwargs: Dict[str, Any]
                        ) -> Dict[str, Any]:
    """`custom_model_config` and the extra kwargs when the constructor takes them all,
    else the extra kwargs alone (the model then reads `custom_model_config` itself)."""
    everything = {**custom_config, **kwargs}
    params = inspect.signature(cls.__init__).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return everything
    names = {p.name for p in params}
    return everything if set(everything) <= names else dict(kwargs)


class ModelCatalog:
    """Builds models and picks action distributions from a model config."""

    _custom_models: Dict[str, Any] = {}
    _custom_action_dists: Dict[str, Any] = {}

    @staticmethod
    def get_action_dist(action_space: Any, config: Optional[Mapping[str, Any]] = None,
                        dist_type: Any = None, framework: str = "tf2",
                        **kwargs: Any) -> Tuple[DistClass, int]:
        """The action distribution for `action_space` and its number of inputs.

        Args:
          action_space: a gymnasium space or spec nest.
          config: the model config; its `custom_action_dist` (a class or a
            registered name) wins over everything.
          dist_type: None (by space: `Categorical`, `MultiCategorical`,
            `DiagGaussian`, `MultiActionDistribution` for Dict/Tuple),
            `"deterministic"` (`Deterministic` for a float Box), or an
            `ActionDistribution` subclass to use as it is.
          framework: "tf2" (or "tf").
          **kwargs: bound into the class (e.g. `temperature`).

        Returns:
          `(dist_class, num_outputs)`; `dist_class(inputs, model)` builds it.

        Raises:
          ValueError: an unsupported space, an unknown `dist_type`, or an
            unregistered `custom_action_dist` name.
        """
        _check_framework(framework)
        config = config or {}
        custom = config.get("custom_action_dist")
        if custom:
            cls = _lookup(custom, ModelCatalog._custom_action_dists, "custom_action_dist")
            return cls, int(cls.required_model_output_shape(action_space, config))
        if isinstance(dist_type, type) and issubclass(dist_type, ActionDistribution):
            if dist_type is MultiActionDistribution:
                raise ValueError("dist_type=MultiActionDistribution: leave dist_type None for "
                                 "nested spaces")
            return dist_type, int(dist_type.required_model_output_shape(action_space, config))
        if dist_type not in (None, "deterministic"):
            raise ValueError(f"dist_type must be None, 'deterministic' or an ActionDistribution "
                             f"subclass, got {dist_type!r}")
        dist_class, num_outputs = _dist_for_space(action_space, dist_type)
        if kwargs:
            dist_class = functools.partial(dist_class, **kwargs)
        return dist_class, num_outputs

    @staticmethod
    def get_model_v2(obs_space: Any, action_space: Any, num_outputs: Optional[int],
                     model_config: Optional[Mapping[str, Any]], framework: str = "tf2",
                     name: str = "default_model", default_model: Optional[type] = None,
                     **model_kwargs: Any) -> ModelV2:
        """Builds the model a model config describes.

        `custom_model` may be a `ModelV2` subclass (built as
        `cls(obs_space, action_space, num_outputs, model_config, name,
        **custom_model_config)`), a registered name, a Keras 3 model or layer
        (called on `obs_flat`), or one of our feed-forward `Network`s; the
        last two return the distribution inputs or `(inputs, values)`. Without
        it, `default_model` (a `ModelV2` subclass) or `FullyConnectedNetwork`.
        With `use_lstm`, that model (built with `num_outputs=None`) is wrapped
        in an `LSTMWrapper`.

        Args:
          obs_space: a gymnasium space or spec nest.
          action_space: a gymnasium space or spec nest.
          num_outputs: the number of distribution inputs (from `get_action_dist`).
          model_config: the model config; missing keys take `MODEL_DEFAULTS`.
          framework: "tf2" (or "tf").
          name: the model's name.
          default_model: the model class to use when there is no `custom_model`.
          **model_kwargs: passed to a custom `ModelV2` subclass.

        Returns:
          The model, its variables built.

        Raises:
          ValueError: unknown or unsupported config keys, an unregistered name,
            or a `custom_model` of another kind.
        """
        _check_framework(framework)
        config = merged_model_config(model_config)
        use_lstm = bool(config["use_lstm"])
        inner_outputs = None if use_lstm else num_outputs
        inner_name = f"{name}_wrapped" if use_lstm else name
        custom = config["custom_model"]
        if custom is None and default_model is None and use_lstm:
            model: ModelV2 = FullyConnectedNetwork(
                obs_space, action_space, None, config, inner_name, value_branch=False)
        elif custom is None:
            model = (default_model or FullyConnectedNetwork)(
                obs_space, action_space, inner_outputs, config, inner_name)
        else:
            target = _lookup(custom, ModelCatalog._custom_models, "custom_model")
            if isinstance(target, type) and issubclass(target, ModelV2):
                kwargs = _constructor_kwargs(target, dict(config["custom_model_config"]),
                                             model_kwargs)
                model = target(obs_space, action_space, inner_outputs, config, inner_name,
                               **kwargs)
            elif isinstance(target, ModelV2):
                raise ValueError(
                    f"custom_model {target!r} is a ModelV2 instance: pass its class, which the "
                    "catalog builds for the spaces and num_outputs")
            elif isinstance(target, type):
                raise ValueError(
                    f"custom_model {target!r} is a class but not a ModelV2 subclass: pass an "
                    "instance of a Keras model or Network, or a ModelV2 subclass")
            elif callable(target):
                model = CustomModelAdapter(obs_space, action_space, inner_outputs, config,
                                           inner_name, target)
            else:
                raise ValueError(
                    f"custom_model must be a ModelV2 subclass, a registered name, a Keras "
                    f"model or a Network, got {target!r}")
        if use_lstm:
            model = LSTMWrapper(obs_space, action_space, num_outputs, config, name,
                                wrapped_model=model)
        return model

    @staticmethod
    def register_custom_model(model_name: str, model_class: Any) -> None:
        """Makes `model_class` (a `ModelV2` subclass, Keras model or Network) available as
        `custom_model=model_name`."""
        ModelCatalog._custom_models[model_name] = model_class

    @staticmethod
    def register_custom_action_dist(action_dist_name: str, action_dist_class: type) -> None:
        """Makes `action_dist_class` available as `custom_action_dist=action_dist_name`."""
        ModelCatalog._custom_action_dists[action_dist_name] = action_dist_class
