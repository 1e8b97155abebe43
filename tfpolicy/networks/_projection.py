"""Output heads: Q-values, values, and distributions over action specs.

Distribution heads work in two steps so that networks can reshape what they
compute: `parameters(features)` maps features `[..., F]` (any outer dims) to
tensors with the same outer dims, and `distribution(parameters)` builds the
distribution from them. `Network._make_output` calls the second step after
the base has folded or unfolded the time dim.

- `CategoricalProjection`: logits for a bounded integer spec of shape `()` or
  `(1,)`; the distribution is `categorical_for_spec(logits, spec)`.
- `NormalProjection`: `Independent(Normal(loc, scale))` over the spec's shape,
  so `log_prob` is one number per outer entry. `loc` is the mean transformed by
  `mean_transform` ('tanh_squash' maps it into the spec's bounds where both are
  finite; 'identity' leaves it). `scale = std_transform(pre_std)`, where
  `pre_std` is a trainable vector (state-independent std) or a `Dense` output
  (state-dependent std), initialized so that the initial std is `init_std`.
  The std is floored at `MIN_STD` (1e-6): softplus underflows to 0 for
  pre-activations below about -100, and a zero std makes log-probabilities
  infinite or NaN (TF-Agents has no floor).

The default `init_std` is 0.35: for actions normalized to `[-1, 1]` it
explores while keeping ~99.6% of the samples around a centred mean inside the
bounds (1 / 0.35 ~ 2.9 standard deviations), so few actions are clipped.
(TF-Agents starts at `softplus(0) ~ 0.69`; pass `init_std=0.693` to match.)

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec
>>> head = NormalProjection(BoundedTensorSpec([2], tf.float32, -1.0, 1.0))
>>> dist = head.distribution(head.parameters(tf.zeros([3, 5])))
>>> dist.batch_shape, dist.event_shape
(TensorShape([3]), TensorShape([2]))
>>> [round(float(s), 4) for s in dist.stddev()[0]]
[0.35, 0.35]
"""

from typing import Any, Callable, List, Optional, Union

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensorSpec
from tfpolicy import _distributions

tfd = tfp.distributions

__all__ = [
    "CategoricalProjection",
    "NormalProjection",
    "ProjectionNest",
    "MEAN_TRANSFORMS",
    "DEFAULT_INIT_STD",
    "MIN_STD",
    "num_actions",
    "q_value_layer",
    "value_layer",
]

MEAN_TRANSFORMS = ("tanh_squash", "identity")
DEFAULT_INIT_STD = 0.35
MIN_STD = 1e-6

MeanTransform = Union[str, Callable[[tf.Tensor], tf.Tensor]]


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


def q_value_layer(count: int) -> keras.layers.Dense:
    """The last layer of Q networks: small uniform kernel so initial Q-values are near the bias."""
    return keras.layers.Dense(
        count, kernel_initializer=keras.initializers.RandomUniform(-0.03, 0.03),
        bias_initializer=keras.initializers.Constant(-0.2))


def value_layer() -> keras.layers.Dense:
    """The last layer of value networks: one unit (squeezed by the network)."""
    return keras.layers.Dense(
        1, kernel_initializer=keras.initializers.RandomUniform(-0.03, 0.03))


def _small_initializer() -> keras.initializers.Initializer:
    # Outputs near zero at the start: near-uniform categoricals, centred means.
    return keras.initializers.VarianceScaling(scale=0.1)


def _outer_shape(features: tf.Tensor) -> tf.Tensor:
    return tf.shape(features)[:-1]


class CategoricalProjection(tf.Module):
    """Features `[..., F]` -> logits `[..., K]` -> a categorical over the spec's values.

    Args:
      spec: a bounded integer spec of shape `()` or `(1,)`.
      name: the module's name.

    Raises:
      ValueError: see `num_actions`.
    """

    def __init__(self, spec: tf.TensorSpec, name: Optional[str] = None):
        super().__init__(name=name or "CategoricalProjection")
        self._structure = _Structure(spec)
        self._logits = keras.layers.Dense(
            num_actions(spec, "a categorical head"), kernel_initializer=_small_initializer())

    def parameters(self, features: tf.Tensor) -> tf.Tensor:
        """Logits `[..., K]`."""
        return self._logits(features)

    def distribution(self, logits: tf.Tensor) -> tfd.Distribution:
        """A categorical over `minimum..maximum` with batch shape `[...]`."""
        return _distributions.categorical_for_spec(logits, self._structure.spec)


def _check_mean_transform(mean_transform: MeanTransform) -> None:
    if not callable(mean_transform) and mean_transform not in MEAN_TRANSFORMS:
        raise ValueError(f"mean_transform must be one of {list(MEAN_TRANSFORMS)} or a callable, "
                         f"got {mean_transform!r}")


def _inverse_at(fn: Callable[[tf.Tensor], tf.Tensor], target: float) -> float:
    """`x` with `fn(x) = target` for an increasing `fn`, by refining a grid on [-40, 40]."""
    lo, hi = -40.0, 40.0
    for refinement in range(3):
        xs = np.linspace(lo, hi, 1025)
        ys = np.asarray(fn(tf.constant(xs, tf.float32)), np.float64)
        if refinement == 0 and not (np.all(np.diff(ys) >= 0) and ys[0] <= target <= ys[-1]):
            raise ValueError(
                f"std_transform must be increasing and reach init_std={target} for inputs in "
                f"[{lo}, {hi}]; it goes from {ys[0]} to {ys[-1]}")
        # Float32 rounding can make a fine grid wiggle; search its running maximum.
        i = int(np.clip(np.searchsorted(np.maximum.accumulate(ys), target), 1, len(xs) - 1))
        lo, hi = float(xs[i - 1]), float(xs[i])
    return (lo + hi) / 2


class NormalProjection(tf.Module):
    """Features `[..., F]` -> `Independent(Normal(loc, scale))` over a float spec.

    Args:
      spec: a float spec of fully defined shape; bounds (if any) are used by
        'tanh_squash'.
      init_std: the std at initialization, > `MIN_STD`.
      std_transform: maps the pre-activation to the std; must be increasing
        (it is inverted numerically at `init_std` to initialize the bias).
      state_dependent_std: False: one trainable std parameter per action
        element; True: a `Dense` layer computes it from the features.
      mean_transform: 'tanh_squash' (`minimum + (tanh(x) + 1) / 2 * (maximum -
        minimum)` where both bounds are finite, `x` elsewhere), 'identity', or a
        callable `x -> loc`.
      name: the module's name.

    Raises:
      ValueError: a non-float spec, an unknown shape, `init_std <= 0`, or an
        unknown `mean_transform`.
    """

    def __init__(self, spec: tf.TensorSpec, init_std: float = DEFAULT_INIT_STD,
                 std_transform: Callable[[tf.Tensor], tf.Tensor] = tf.nn.softplus,
                 state_dependent_std: bool = False, mean_transform: MeanTransform = "tanh_squash",
                 name: Optional[str] = None):
        super().__init__(name=name or "NormalProjection")
        if not spec.dtype.is_floating:
            raise ValueError(f"a normal head needs a float action spec, got {spec!r}")
        if not spec.shape.is_fully_defined():
            raise ValueError(f"a normal head needs a fully defined shape, got {spec!r}")
        if not init_std > MIN_STD:
            raise ValueError(f"init_std must be > MIN_STD = {MIN_STD}, got {init_std!r}")
        _check_mean_transform(mean_transform)
        shape = spec.shape.as_list()
        size = int(np.prod(shape))
        pre_std = _inverse_at(std_transform, float(init_std))
        self._shape = np.array(shape, np.int32)
        self._std_transform = std_transform
        self._mean_transform = mean_transform
        self._mean = keras.layers.Dense(size, kernel_initializer=_small_initializer())
        if state_dependent_std:
            self._std = keras.layers.Dense(
                size, kernel_initializer=_small_initializer(),
                bias_initializer=keras.initializers.Constant(pre_std))
        else:
            self._std = tf.Variable(np.full(shape, pre_std, np.float32), name="std_bias")
        self._set_bounds(spec)

    def _set_bounds(self, spec: tf.TensorSpec) -> None:
        shape = tuple(self._shape)
        lo = np.broadcast_to(np.asarray(getattr(spec, "minimum", -np.inf), np.float32), shape)
        hi = np.broadcast_to(np.asarray(getattr(spec, "maximum", np.inf), np.float32), shape)
        bounded = np.isfinite(lo) & np.isfinite(hi)
        # Unbounded elements get finite placeholder bounds: the squash is computed
        # everywhere and a NaN there would poison gradients through tf.where.
        self._bounded = bounded
        self._lo = np.where(bounded, lo, 0.0).astype(np.float32)
        self._hi = np.where(bounded, hi, 0.0).astype(np.float32)

    def _loc(self, x: tf.Tensor) -> tf.Tensor:
        if callable(self._mean_transform):
            return self._mean_transform(x)
        if self._mean_transform == "identity" or not self._bounded.any():
            return x
        squashed = self._lo + (tf.tanh(x) + 1.0) / 2.0 * (self._hi - self._lo)
        return squashed if self._bounded.all() else tf.where(self._bounded, squashed, x)

    def parameters(self, features: tf.Tensor) -> List[tf.Tensor]:
        """`[loc, scale]`, each `[...] + spec.shape`."""
        shape = tf.concat([_outer_shape(features), self._shape], 0)
        loc = self._loc(tf.reshape(self._mean(features), shape))
        if isinstance(self._std, tf.Variable):
            pre_std = tf.broadcast_to(self._std, shape)
        else:
            pre_std = tf.reshape(self._std(features), shape)
        return [loc, tf.maximum(self._std_transform(pre_std), MIN_STD)]

    def distribution(self, parameters: List[tf.Tensor]) -> tfd.Distribution:
        """A normal with batch shape `[...]` and event shape `spec.shape`."""
        loc, scale = parameters
        return tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=len(self._shape))


class _Structure:
    """Keeps a spec nest out of `tf.Module`'s tracking, which would wrap its containers."""

    __slots__ = ("spec",)

    def __init__(self, spec: NestedTensorSpec):
        self.spec = spec


class ProjectionNest(tf.Module):
    """One head per leaf of an action spec nest: integer leaves get a
    `CategoricalProjection`, float leaves a `NormalProjection`.

    Args:
      output_tensor_spec: the nest of action specs.
      init_std, std_transform, state_dependent_std, mean_transform: options of
        every `NormalProjection`.
      name: the module's name.

    Raises:
      ValueError: a leaf that is neither integer nor float, and the heads' errors.
    """

    def __init__(self, output_tensor_spec: NestedTensorSpec, init_std: float = DEFAULT_INIT_STD,
                 std_transform: Callable[[tf.Tensor], tf.Tensor] = tf.nn.softplus,
                 state_dependent_std: bool = False, mean_transform: MeanTransform = "tanh_squash",
                 name: Optional[str] = None):
        super().__init__(name=name or "ProjectionNest")
        output_tensor_spec = tensor_spec.from_spec(output_tensor_spec)
        self._structure = _Structure(output_tensor_spec)
        heads: List[Any] = []
        for path, spec in nest_utils.flatten_with_paths(output_tensor_spec):
            if spec.dtype.is_integer:
                heads.append(CategoricalProjection(spec))
            elif spec.dtype.is_floating:
                heads.append(NormalProjection(spec, init_std, std_transform, state_dependent_std,
                                              mean_transform))
            else:
                raise ValueError(nest_utils.nest_error_message(
                    "action spec", path,
                    f"must be integer (categorical head) or float (normal head), got {spec!r}"))
        self._heads = heads

    @property
    def output_tensor_spec(self) -> NestedTensorSpec:
        return self._structure.spec

    def parameters(self, features: tf.Tensor) -> List[Any]:
        """Per action leaf (in `tree.flatten` order), its head's parameters at `[...]`."""
        return [head.parameters(features) for head in self._heads]

    def distributions(self, parameters: List[Any]) -> Any:
        """The nest of distributions, structured like `output_tensor_spec`."""
        dists = [head.distribution(p) for head, p in zip(self._heads, parameters)]
        return tree.unflatten_as(self._structure.spec, dists)
