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

import sys
from typing import Any, Callable, List, Optional, Tuple, Union

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensorSpec
from tfpolicy import _distributions
from specs.distribution_spec import DistributionSpec

tfd = tfp.distributions

__all__ = [
    "CategoricalProjection",
    "NormalProjection",
    "ProjectionNest",
    "MEAN_TRANSFORMS",
    "DEFAULT_INIT_STD",
    "MIN_STD",
    "check_outer_rank",
    "num_actions",
    "q_value_layer",
    "tanh_squash",
    "value_layer",
]

MEAN_TRANSFORMS = ("tanh_squash", "identity")
DEFAULT_INIT_STD = 0.35
MIN_STD = 1e-6

MeanTransform = Union[str, Callable[[tf.Tensor], tf.Tensor]]
# A factory of projection networks (TF-Agents' `discrete_projection_net` and
# `continuous_projection_net`): called with one action spec.
ProjectionFactory = Callable[[tf.TensorSpec], Any]


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


def q_value_layer(count: int, dtype: tf.DType = tf.float32) -> keras.layers.Dense:
    """The last layer of Q networks: small uniform kernel so initial Q-values are near the bias."""
    return keras.layers.Dense(
        count, kernel_initializer=keras.initializers.RandomUniform(-0.03, 0.03),
        bias_initializer=keras.initializers.Constant(-0.2), dtype=dtype)


def value_layer(dtype: tf.DType = tf.float32) -> keras.layers.Dense:
    """The last layer of value networks: one unit (squeezed by the network)."""
    return keras.layers.Dense(
        1, kernel_initializer=keras.initializers.RandomUniform(-0.03, 0.03), dtype=dtype)


def _small_initializer(scale: float = 0.1, seed: Optional[int] = None
                       ) -> keras.initializers.Initializer:
    # Outputs near zero at the start: near-uniform categoricals, centred means.
    return keras.initializers.VarianceScaling(scale=scale, seed=seed)


def _seeds(seed: Optional[int], seed_stream_class: Any, salt: str) -> Callable[[], Optional[int]]:
    """Kernel seeds drawn from `seed_stream_class(seed=seed, salt=salt)` (TF-Agents' way);
    None (unseeded initializers) when the stream gives None, as tfp's does for seed=None."""
    stream = seed_stream_class(seed=seed, salt=salt)

    def next_seed() -> Optional[int]:
        value = stream()
        return None if value is None else int(value) % sys.maxsize

    return next_seed


def _bounds(spec: tf.TensorSpec, shape: Tuple[int, ...]
            ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(bounded, lo, hi)` per element of `shape`; unbounded elements get finite
    placeholder bounds: the squash is computed everywhere and a NaN there would
    poison gradients through tf.where."""
    lo = np.broadcast_to(np.asarray(getattr(spec, "minimum", -np.inf), np.float32), shape)
    hi = np.broadcast_to(np.asarray(getattr(spec, "maximum", np.inf), np.float32), shape)
    bounded = np.isfinite(lo) & np.isfinite(hi)
    return (bounded, np.where(bounded, lo, 0.0).astype(np.float32),
            np.where(bounded, hi, 0.0).astype(np.float32))


def _squash(x: tf.Tensor, bounded: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tf.Tensor:
    if not bounded.any():
        return x
    lo, hi = tf.constant(lo, x.dtype), tf.constant(hi, x.dtype)
    squashed = lo + (tf.tanh(x) + 1.0) / 2.0 * (hi - lo)
    return squashed if bounded.all() else tf.where(bounded, squashed, x)


def tanh_squash(x: tf.Tensor, spec: tf.TensorSpec) -> tf.Tensor:
    """`x [..., *spec.shape]` squashed into the spec's bounds with tanh:
    `minimum + (tanh(x) + 1) / 2 * (maximum - minimum)` where both bounds are
    finite, `x` elsewhere."""
    shape = tuple(spec.shape.as_list())
    return _squash(tf.convert_to_tensor(x), *_bounds(spec, shape))


def check_outer_rank(owner: str, inputs: tf.Tensor, outer_rank: int) -> None:
    """Projection networks take `[*outer, F]` inputs with `len(outer) == outer_rank`.

    Raises:
      ValueError: a known rank other than `outer_rank + 1`.
    """
    if inputs.shape.rank is not None and inputs.shape.rank != int(outer_rank) + 1:
        raise ValueError(f"{owner} takes inputs [*outer, features] with outer_rank={outer_rank} "
                         f"outer dims, got shape {inputs.shape}")


def parameters_at_outer_rank(head: Any, inputs: tf.Tensor, outer_rank: int) -> Any:
    """`head.parameters(inputs)`; Keras layers need a batch dim, so unbatched
    inputs (`outer_rank` 0) get one for the layers and lose it after."""
    if int(outer_rank) != 0:
        return head.parameters(inputs)
    return tree.map_structure(lambda t: t[0], head.parameters(inputs[None]))


def _outer_shape(features: tf.Tensor) -> tf.Tensor:
    return tf.shape(features)[:-1]


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


def _identity(x: tf.Tensor) -> tf.Tensor:
    return x


class NormalProjection(tf.Module):
    """Features `[..., F]` -> `Independent(Normal(loc, scale))` over a float spec.

    Args:
      spec: a float spec of fully defined shape; bounds (if any) are used by
        'tanh_squash'.
      init_std: the std at initialization, > `MIN_STD` (ignored when
        `std_bias_initializer_value` is given).
      std_transform: maps the pre-activation to the std; must be increasing
        (it is inverted numerically at `init_std` to initialize the bias).
        None: the identity.
      state_dependent_std: False: one trainable std parameter per action
        element; True: a `Dense` layer computes it from the features.
      mean_transform: 'tanh_squash' (`minimum + (tanh(x) + 1) / 2 * (maximum -
        minimum)` where both bounds are finite, `x` elsewhere), 'identity', or a
        callable `x -> loc`.
      name: the module's name.
      activation_fn: activation of the mean (and std) `Dense` layers.
      init_output_factor: the scale of their kernels' variance-scaling initializer.
      std_bias_initializer_value: the initial pre-activation of the std
        (TF-Agents' parameterization) instead of the one reaching `init_std`.
      seed, seed_stream_class: the kernel initializers' seeds are drawn from
        `seed_stream_class(seed=seed, salt=...)`; tfp's stream gives None
        (unseeded) for `seed=None`.
      dtype: the dtype of the layers, the std parameter and the distribution.

    Raises:
      ValueError: a non-float spec, an unknown shape, `init_std <= 0`, or an
        unknown `mean_transform`.
    """

    def __init__(self, spec: tf.TensorSpec, init_std: float = DEFAULT_INIT_STD,
                 std_transform: Optional[Callable[[tf.Tensor], tf.Tensor]] = tf.nn.softplus,
                 state_dependent_std: bool = False, mean_transform: MeanTransform = "tanh_squash",
                 name: Optional[str] = None, *,
                 activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
                 init_output_factor: float = 0.1,
                 std_bias_initializer_value: Optional[float] = None,
                 seed: Optional[int] = None, seed_stream_class: Any = tfp.util.SeedStream,
                 dtype: tf.DType = tf.float32):
        super().__init__(name=name or "NormalProjection")
        if not spec.dtype.is_floating:
            raise ValueError(f"a normal head needs a float action spec, got {spec!r}")
        if not spec.shape.is_fully_defined():
            raise ValueError(f"a normal head needs a fully defined shape, got {spec!r}")
        _check_mean_transform(mean_transform)
        std_transform = std_transform or _identity
        if std_bias_initializer_value is None:
            if not init_std > MIN_STD:
                raise ValueError(f"init_std must be > MIN_STD = {MIN_STD}, got {init_std!r}")
            pre_std = _inverse_at(std_transform, float(init_std))
        else:
            pre_std = float(std_bias_initializer_value)
        dtype = tf.as_dtype(dtype)
        shape = spec.shape.as_list()
        size = int(np.prod(shape))
        seeds = _seeds(seed, seed_stream_class, "tfpolicy_normal_projection")
        self._shape = np.array(shape, np.int32)
        self._std_transform = std_transform
        self._mean_transform = mean_transform
        self._mean = keras.layers.Dense(
            size, activation=activation_fn,
            kernel_initializer=_small_initializer(init_output_factor, seeds()), dtype=dtype)
        if state_dependent_std:
            self._std = keras.layers.Dense(
                size, activation=activation_fn,
                kernel_initializer=_small_initializer(init_output_factor, seeds()),
                bias_initializer=keras.initializers.Constant(pre_std), dtype=dtype)
        else:
            self._std = tf.Variable(np.full(shape, pre_std, dtype.as_numpy_dtype), name="std_bias")
        self._bounded, self._lo, self._hi = _bounds(spec, tuple(shape))
        self._structure = _Structure(spec)
        self._dtype = dtype

    def _loc(self, x: tf.Tensor) -> tf.Tensor:
        if callable(self._mean_transform):
            return self._mean_transform(x)
        if self._mean_transform == "identity":
            return x
        return _squash(x, self._bounded, self._lo, self._hi)

    def parameters(self, features: tf.Tensor) -> List[tf.Tensor]:
        """`[loc, scale]`, each `[...] + spec.shape`."""
        shape = tf.concat([_outer_shape(features), self._shape], 0)
        loc = self._loc(tf.reshape(self._mean(features), shape))
        if isinstance(self._std, tf.Variable):
            pre_std = tf.broadcast_to(self._std, shape)
        else:
            pre_std = tf.reshape(self._std(features), shape)
        scale = tf.maximum(self._std_transform(pre_std), tf.constant(MIN_STD, pre_std.dtype))
        return [tf.cast(loc, self._dtype), tf.cast(scale, self._dtype)]

    def distribution(self, parameters: List[tf.Tensor]) -> tfd.Distribution:
        """A normal with batch shape `[...]` and event shape `spec.shape`."""
        loc, scale = parameters
        return tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=len(self._shape))

    def distribution_spec(self) -> DistributionSpec:
        """How `distribution` is built: from `loc` and `scale` (without outer dims)."""
        spec = self._structure.spec
        params = {name: tf.TensorSpec(spec.shape, self._dtype) for name in ("loc", "scale")}
        return DistributionSpec(lambda loc, scale: self.distribution([loc, scale]), params,
                                sample_spec=spec)


_BUILT_IN_HEADS = (CategoricalProjection, NormalProjection)


class _Structure:
    """Keeps a spec nest out of `tf.Module`'s tracking, which would wrap its containers."""

    __slots__ = ("spec",)

    def __init__(self, spec: NestedTensorSpec):
        self.spec = spec


class ProjectionNest(tf.Module):
    """One head per leaf of an action spec nest.

    Integer leaves get `discrete_projection_net(spec)` when given, else a
    `CategoricalProjection`; float leaves `continuous_projection_net(spec)`
    when given, else a `NormalProjection`. A head made by a factory is a
    projection network (TF-Agents' contract: `net(features, outer_rank,
    training=...)` returns `(distribution, state)`); its "parameters" are the
    features themselves and it runs in `distributions`, at the observation's
    outer dims.

    Args:
      output_tensor_spec: the nest of action specs.
      init_std, std_transform, state_dependent_std, mean_transform: options of
        every `NormalProjection`.
      name: the module's name.
      discrete_projection_net, continuous_projection_net: factories of
        projection networks, called with one action spec; None for the
        built-in heads.
      seed, seed_stream_class: seeds of the `NormalProjection`s' initializers.

    Raises:
      ValueError: a leaf that is neither integer nor float, and the heads' errors.
      TypeError: a factory that does not return a callable network.
    """

    def __init__(self, output_tensor_spec: NestedTensorSpec, init_std: float = DEFAULT_INIT_STD,
                 std_transform: Callable[[tf.Tensor], tf.Tensor] = tf.nn.softplus,
                 state_dependent_std: bool = False, mean_transform: MeanTransform = "tanh_squash",
                 name: Optional[str] = None, *,
                 discrete_projection_net: Optional[ProjectionFactory] = None,
                 continuous_projection_net: Optional[ProjectionFactory] = None,
                 seed: Optional[int] = None, seed_stream_class: Any = tfp.util.SeedStream):
        super().__init__(name=name or "ProjectionNest")
        output_tensor_spec = tensor_spec.from_spec(output_tensor_spec)
        self._structure = _Structure(output_tensor_spec)
        heads: List[Any] = []
        for path, spec in nest_utils.flatten_with_paths(output_tensor_spec):
            if spec.dtype.is_integer:
                factory, kind = discrete_projection_net, "discrete_projection_net"
            elif spec.dtype.is_floating:
                factory, kind = continuous_projection_net, "continuous_projection_net"
            else:
                raise ValueError(nest_utils.nest_error_message(
                    "action spec", path,
                    f"must be integer (categorical head) or float (normal head), got {spec!r}"))
            if factory is not None:
                head = factory(spec)
                if not callable(head) or not hasattr(head, "state_spec"):
                    raise TypeError(nest_utils.nest_error_message(
                        "action spec", path,
                        f"{kind} must return a projection network (called as net(features, "
                        f"outer_rank, training=...) -> (distribution, state)) for {spec!r}, "
                        f"got {head!r}"))
            elif spec.dtype.is_integer:
                head = CategoricalProjection(spec)
            else:
                head = NormalProjection(spec, init_std, std_transform, state_dependent_std,
                                        mean_transform, seed=seed,
                                        seed_stream_class=seed_stream_class)
            heads.append(head)
        self._heads = heads

    @property
    def output_tensor_spec(self) -> NestedTensorSpec:
        return self._structure.spec

    def distribution_specs(self) -> Any:
        """The nest of the heads' distribution specs (a projection network's `output_spec`)."""
        specs = [head.distribution_spec() if isinstance(head, _BUILT_IN_HEADS)
                 else getattr(head, "output_spec", None) for head in self._heads]
        return tree.unflatten_as(self._structure.spec, specs)

    def parameters(self, features: tf.Tensor) -> List[Any]:
        """Per action leaf (in `tree.flatten` order), its head's parameters at `[...]`."""
        return [head.parameters(features) if isinstance(head, _BUILT_IN_HEADS) else features
                for head in self._heads]

    def distributions(self, parameters: List[Any], training: bool = False) -> Any:
        """The nest of distributions, structured like `output_tensor_spec`.

        Projection networks get the features with `outer_rank` = their rank - 1
        and `training`.
        """
        dists = []
        for head, params in zip(self._heads, parameters):
            if isinstance(head, _BUILT_IN_HEADS):
                dists.append(head.distribution(params))
            else:
                dist, _ = head(params, outer_rank=params.shape.rank - 1, training=training)
                dists.append(dist)
        return tree.unflatten_as(self._structure.spec, dists)
