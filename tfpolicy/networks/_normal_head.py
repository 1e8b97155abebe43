"""The normal head: features `[..., F]` -> `Independent(Normal(loc, scale))`
over a float spec (see `tfpolicy.networks._projection` for the two steps, the
mean and std transforms and the default `init_std`)."""

import sys
from typing import Any, Callable, List, Optional, Tuple, Union

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from specs.distribution_spec import DistributionSpec
from tfpolicy.networks._head_base import _Structure, _outer_shape, _small_initializer

tfd = tfp.distributions

__all__ = ["DEFAULT_INIT_STD", "MEAN_TRANSFORMS", "MIN_STD", "NormalProjection", "tanh_squash"]

MEAN_TRANSFORMS = ("tanh_squash", "identity")
DEFAULT_INIT_STD = 0.35
MIN_STD = 1e-6

MeanTransform = Union[str, Callable[[tf.Tensor], tf.Tensor]]


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
