"""The interface every action distribution implements, and the helpers its subclasses share.

`tfpolicy.learning.distributions` describes the family and re-exports it.
"""

import abc
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from tfpolicy.learning import _spaces

ModelConfig = Optional[dict]


def as_inputs(inputs: Any) -> tf.Tensor:
    """Tensors keep their float dtype; arrays and lists become float32 tensors."""
    if tf.is_tensor(inputs):
        return inputs if inputs.dtype.is_floating else tf.cast(inputs, tf.float32)
    return tf.convert_to_tensor(np.asarray(inputs, np.float32))


def single_leaf(action_space: Any, owner: str) -> _spaces.Leaf:
    """The leaf of a single (not nested) action space; `owner` names the class that asks."""
    lay = _spaces.layout(action_space)
    if lay.is_nested:
        raise ValueError(
            f"{owner} is for a single action space, got the nested space {action_space!r}; "
            "nested spaces use MultiActionDistribution")
    return lay.leaves[0]


class ActionDistribution(abc.ABC):
    """The interface of every action distribution.

    Args:
      inputs: the model outputs that parameterize the distribution,
        `[B, num_outputs]`.
      model: the model that produced them (kept for distributions that need it).

    Attributes:
      inputs: `inputs` as a tensor.
      model: the model.
    """

    def __init__(self, inputs: Any, model: Any = None):
        self.inputs = as_inputs(inputs)
        self.model = model
        self._sample: Any = None
        self._sample_logp: Optional[tf.Tensor] = None

    def sample(self) -> Any:
        """A sample, drawn once: every call returns the same tensor (RLlib's `sample_op`)."""
        if self._sample is None:
            self._sample = self._build_sample_op()
        return self._sample

    def sampled_action_logp(self) -> tf.Tensor:
        """`[B]` log-probability of `sample()`'s actions."""
        if self._sample_logp is None:
            self._sample_logp = self._logp_of_sample(self.sample())
        return self._sample_logp

    def _logp_of_sample(self, sample: Any) -> tf.Tensor:
        return self.logp(sample)

    @abc.abstractmethod
    def _build_sample_op(self) -> Any:
        """Draws a sample of actions."""

    @abc.abstractmethod
    def deterministic_sample(self) -> Any:
        """The most likely actions (the mode, or the squashed mean)."""

    @abc.abstractmethod
    def logp(self, x: Any) -> tf.Tensor:
        """`[B]` log-probability (density) of actions `x`."""

    @abc.abstractmethod
    def entropy(self) -> tf.Tensor:
        """`[B]` entropy."""

    @abc.abstractmethod
    def kl(self, other: "ActionDistribution") -> tf.Tensor:
        """`[B]` KL divergence `KL(self || other)`."""

    def tfp_distribution(self) -> Any:
        """The distribution as TFP distributions, one per action leaf (a nest like the space).

        Raises:
          ValueError: a distribution without a TFP form (the base class's answer).
        """
        raise ValueError(f"{type(self).__name__} has no TFP form: override tfp_distribution()")

    def multi_kl(self, other: "ActionDistribution") -> tf.Tensor:
        """The KL per action component; `kl` for single distributions."""
        return self.kl(other)

    def multi_entropy(self) -> tf.Tensor:
        """The entropy per action component; `entropy` for single distributions."""
        return self.entropy()

    @staticmethod
    @abc.abstractmethod
    def required_model_output_shape(action_space: Any, model_config: ModelConfig) -> int:
        """`num_outputs`: how many model outputs parameterize a distribution over `action_space`."""
