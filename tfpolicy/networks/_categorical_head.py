"""The categorical head: features `[..., F]` -> logits -> a categorical over a
bounded integer spec (see `tfpolicy.networks._projection` for the two steps)."""

from typing import Optional

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensorSpec
from specs.distribution_spec import DistributionSpec
from tfpolicy import _distributions
from tfpolicy.networks._head_base import _Structure, _outer_shape, _small_initializer

tfd = tfp.distributions

__all__ = ["CategoricalProjection", "num_actions"]


def num_actions(action_spec: NestedTensorSpec, owner: str) -> int:
    """The number of discrete actions of a single bounded integer spec.

    Args:
      action_spec: one bounded integer spec of shape `()` or `(1,)` (a nest
        holding exactly one such spec is accepted, as in TF-Agents).
      owner: what needs the count, for the error messages.

    Returns:
      `maximum - minimum + 1`.

    Raises:
      ValueError: a nest of several specs, a non-integer or unbounded spec, a
        shape other than `()`/`(1,)`, or bounds that differ between elements.
    """
    flat = nest_utils.flatten_with_paths(tensor_spec.from_spec(action_spec))
    if len(flat) != 1:
        raise ValueError(
            f"{owner} supports a single discrete action; the action spec has {len(flat)} leaves "
            f"({', '.join(repr(p) for p, _ in flat)}): {action_spec!r}")
    spec = flat[0][1]
    if not spec.dtype.is_integer:
        raise ValueError(f"{owner} needs an integer action spec, got {spec!r}")
    if not tensor_spec.is_bounded(spec):
        raise ValueError(f"{owner} needs a BoundedTensorSpec (the bounds give the number of "
                         f"actions), got {spec!r}")
    minimum, maximum = np.unique(spec.minimum), np.unique(spec.maximum)
    if minimum.size != 1 or maximum.size != 1:
        raise ValueError(f"{owner} needs the same bounds for every action element, got {spec!r}")
    if spec.shape.rank not in (0, 1) or (spec.shape.rank == 1 and spec.shape[0] != 1):
        raise ValueError(f"{owner} needs an action spec of shape () or (1,), got {spec!r}")
    return int(maximum[0]) - int(minimum[0]) + 1


def _category_count(spec: tf.TensorSpec, owner: str) -> int:
    """The number of categories of a bounded integer spec of any fully defined shape."""
    if not spec.dtype.is_integer:
        raise ValueError(f"{owner} needs an integer spec, got {spec!r}")
    if not tensor_spec.is_bounded(spec):
        raise ValueError(f"{owner} needs a BoundedTensorSpec (the bounds give the number of "
                         f"categories), got {spec!r}")
    if not spec.shape.is_fully_defined():
        raise ValueError(f"{owner} needs a fully defined shape, got {spec!r}")
    counts = np.unique(np.asarray(spec.maximum, np.int64) - np.asarray(spec.minimum, np.int64) + 1)
    minimum = np.unique(spec.minimum)
    if counts.size != 1 or minimum.size != 1:
        raise ValueError(f"{owner} needs the same bounds for every element, got {spec!r}")
    if counts[0] < 1:
        raise ValueError(f"{owner} needs maximum >= minimum, got {spec!r}")
    return int(counts[0])


class CategoricalProjection(tf.Module):
    """Features `[..., F]` -> logits -> a categorical over the spec's values.

    For a spec of shape `()` or `(1,)` the logits are `[..., K]` and the
    distribution is `categorical_for_spec(logits, spec)`. With
    `any_shape=True` other shapes are accepted: the logits are `[..., *shape,
    K]` and the categoricals over the elements are one `Independent`
    distribution, so `log_prob` is one number per outer entry.

    Args:
      spec: a bounded integer spec (shape `()` or `(1,)` unless `any_shape`).
      name: the module's name.
      init_output_factor: the scale of the logits kernel's variance-scaling
        initializer.
      seed: the seed of that initializer; None for an unseeded one.
      any_shape: accept integer specs of any fully defined shape with the same
        bounds for every element.

    Raises:
      ValueError: see `num_actions` (and `any_shape`).
    """

    def __init__(self, spec: tf.TensorSpec, name: Optional[str] = None, *,
                 init_output_factor: float = 0.1, seed: Optional[int] = None,
                 any_shape: bool = False):
        super().__init__(name=name or "CategoricalProjection")
        self._structure = _Structure(spec)
        shape = spec.shape
        self._elementwise = any_shape and not (
            shape.rank == 0 or (shape.rank == 1 and shape[0] == 1))
        if self._elementwise:
            count = _category_count(spec, "a categorical head")
            self._logits_shape = np.array(shape.as_list() + [count], np.int32)
            units = int(np.prod(self._logits_shape))
        else:
            count = units = num_actions(spec, "a categorical head")
            self._logits_shape = np.array([count], np.int32)
        self._logits = keras.layers.Dense(
            units, kernel_initializer=_small_initializer(init_output_factor, seed))

    @property
    def num_categories(self) -> int:
        """`K`, the number of values per element."""
        return int(self._logits_shape[-1])

    def parameters(self, features: tf.Tensor) -> tf.Tensor:
        """Logits `[..., K]` (`[..., *spec.shape, K]` for other shapes with `any_shape`)."""
        logits = self._logits(features)
        if not self._elementwise:
            return logits
        return tf.reshape(logits, tf.concat([_outer_shape(features), self._logits_shape], 0))

    def distribution(self, logits: tf.Tensor) -> tfd.Distribution:
        """A categorical over `minimum..maximum` with batch shape `[...]`."""
        spec = self._structure.spec
        if not self._elementwise:
            return _distributions.categorical_for_spec(logits, spec)
        minimum = int(np.min(spec.minimum))
        dist: tfd.Distribution = (
            _distributions.ShiftedCategorical(logits=logits, shift=minimum, dtype=spec.dtype)
            if minimum
            else tfd.Categorical(logits=logits, dtype=spec.dtype))
        return tfd.Independent(dist, reinterpreted_batch_ndims=spec.shape.rank)

    def distribution_spec(self) -> DistributionSpec:
        """How `distribution` is built: from `logits` (without outer dims)."""
        spec = self._structure.spec
        shape = self._logits_shape.tolist() if self._elementwise else [self.num_categories]
        return DistributionSpec(
            lambda logits: self.distribution(logits),
            {"logits": tf.TensorSpec(shape, tf.float32)}, sample_spec=spec)
