"""The action distributions of `tfpolicy.learning.distributions` in numpy, for LiteRT acting.

`numpy_dist(probe)` reads a distribution instance (built once from the
policy's `dist_class`, so the space, starts, dtype, temperature and bounds
bound into it are the instance's) and returns its numpy twin: `greedy`
(`deterministic_sample`), `sample` (the sample and its log-probability,
from a `np.random.Generator`) and, for discrete distributions,
`random_allowed` (a uniform draw among the allowed actions, for
`EpsilonGreedy`). The actions have the dtypes and shapes the TensorFlow
classes give, and the log-probabilities follow the same formulas (see each
class) in float32. Only the exact classes are covered: a subclass may
sample differently, so it is `UnsupportedDistribution`.

A one-row categorical draws on Python floats: numpy's per-call cost
dominates a row of a few logits.
"""

import abc
import math
from typing import Any, List, Sequence, Tuple

import numpy as np
import tree

from tfpolicy.learning._dist_categorical import Categorical, MultiCategorical
from tfpolicy.learning._dist_gaussian import (MAX_LOG_NN_OUTPUT, MIN_LOG_NN_OUTPUT, SMALL_NUMBER,
                                              Deterministic, DiagGaussian, SquashedGaussian)
from tfpolicy.learning._dist_multi import MultiActionDistribution
from tfpolicy.learning.exploration import ALLOWED_THRESHOLD

__all__ = ["UnsupportedDistribution", "NumpyDist", "numpy_dist", "SUPPORTED"]

SUPPORTED = (Categorical, MultiCategorical, DiagGaussian, SquashedGaussian, Deterministic,
             MultiActionDistribution)
_LOG_2PI = math.log(2.0 * math.pi)
# Up to this many logits, a one-row draw runs on Python floats.
_PYTHON_ROW = 64


class UnsupportedDistribution(ValueError):
    """A distribution class without a numpy twin (named in the message)."""


def _categorical_row(row: List[float], u: float) -> Tuple[int, float]:
    """The inverse-CDF draw of one row of logits at `u` in `[0, 1)`: `(index, logp)`."""
    top = max(row)
    weights = [math.exp(v - top) for v in row]
    total = sum(weights)
    threshold = u * total
    acc, index = 0.0, 0
    for i, w in enumerate(weights):
        if w > 0.0:
            index = i  # rounding may leave threshold >= the last sum: keep a possible action
            acc += w
            if threshold < acc:
                break
    return index, row[index] - top - math.log(total)


def sample_index(logits: np.ndarray, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """A categorical draw per row of `logits [B, n]`: `(index int64 [B], logp float32 [B])`.

    `logp = a_x - log Σ exp(a)` with `a = logits - max(logits)`, as `Categorical.logp`.
    """
    batch, n = logits.shape
    if batch == 1 and n <= _PYTHON_ROW:
        index, logp = _categorical_row(logits[0].tolist(), rng.random())
        return np.array([index], np.int64), np.array([logp], np.float32)
    a = logits - logits.max(axis=-1, keepdims=True)
    cdf = np.cumsum(np.exp(a), axis=-1)
    total = cdf[:, -1]
    threshold = rng.random(batch) * total
    index = (cdf <= threshold[:, None]).sum(axis=-1)
    np.minimum(index, n - 1, out=index)
    rows = np.arange(batch)
    logp = a[rows, index] - np.log(total)
    return index.astype(np.int64, copy=False), logp.astype(np.float32, copy=False)


def random_allowed_index(inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniform draw per row among the allowed actions (inputs above `ALLOWED_THRESHOLD`;
    all of them in a row where none is), `int64 [B]`."""
    batch, n = inputs.shape
    if batch == 1 and n <= _PYTHON_ROW:
        row = inputs[0].tolist()
        choices = [i for i, v in enumerate(row) if v > ALLOWED_THRESHOLD] or list(range(n))
        return np.array([choices[int(rng.random() * len(choices))]], np.int64)
    allowed = inputs > ALLOWED_THRESHOLD
    none = ~allowed.any(axis=-1)
    if none.any():
        allowed[none] = True
    counts = allowed.sum(axis=-1)
    draw = np.minimum((rng.random(batch) * counts).astype(np.int64), counts - 1)
    return (np.cumsum(allowed, axis=-1) <= draw[:, None]).sum(axis=-1).astype(np.int64)


class NumpyDist(abc.ABC):
    """The numpy twin of one action distribution (see the module docstring)."""

    discrete = False

    @abc.abstractmethod
    def greedy(self, inputs: np.ndarray) -> Any:
        """`deterministic_sample()` of inputs `[B, W]`."""

    @abc.abstractmethod
    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> Tuple[Any, np.ndarray]:
        """`(sample(), sampled_action_logp() float32 [B])` of inputs `[B, W]`."""

    def random_allowed(self, inputs: np.ndarray, rng: np.random.Generator) -> Any:
        """Uniformly random allowed actions; discrete distributions override this.

        Raises:
          TypeError: the distribution is continuous (EpsilonGreedy needs discrete actions).
        """
        raise TypeError(f"{type(self).__name__.lstrip('_')} actions are continuous: a uniformly "
                        "random action (EpsilonGreedy) needs discrete actions")


class _Categorical(NumpyDist):
    discrete = True

    def __init__(self, start: int, dtype: np.dtype, temperature: float):
        self.start, self.dtype = start, dtype
        self.temperature = None if temperature == 1.0 else np.float32(temperature)

    def _actions(self, index: np.ndarray) -> np.ndarray:
        if self.start:
            index = index + self.start
        return index if index.dtype == self.dtype else index.astype(self.dtype)

    def greedy(self, inputs: np.ndarray) -> np.ndarray:
        return self._actions(inputs.argmax(axis=-1))

    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> Tuple[Any, np.ndarray]:
        logits = inputs if self.temperature is None else inputs / self.temperature
        index, logp = sample_index(logits, rng)
        return self._actions(index), logp

    def random_allowed(self, inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._actions(random_allowed_index(inputs, rng))


class _MultiCategorical(NumpyDist):
    discrete = True

    def __init__(self, input_lens: Sequence[int], starts: np.ndarray, shape: Tuple[int, ...],
                 dtype: np.dtype):
        self.bounds = np.cumsum(input_lens)[:-1].tolist()
        self.starts = starts.astype(np.int64) if starts.any() else None
        self.shape, self.dtype = tuple(shape), dtype

    def _actions(self, columns: List[np.ndarray]) -> np.ndarray:
        x = np.stack(columns, axis=1)
        if self.starts is not None:
            x = x + self.starts
        x = x.reshape((-1,) + self.shape)
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def greedy(self, inputs: np.ndarray) -> np.ndarray:
        return self._actions([part.argmax(axis=-1) for part in np.split(inputs, self.bounds, 1)])

    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> Tuple[Any, np.ndarray]:
        draws = [sample_index(part, rng) for part in np.split(inputs, self.bounds, 1)]
        logp = np.sum([lp for _, lp in draws], axis=0, dtype=np.float32)
        return self._actions([index for index, _ in draws]), logp

    def random_allowed(self, inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._actions([random_allowed_index(part, rng)
                              for part in np.split(inputs, self.bounds, 1)])


def _gaussian_parts(inputs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    half = inputs.shape[1] // 2
    return inputs[:, :half], inputs[:, half:]


class _DiagGaussian(NumpyDist):
    def __init__(self, shape: Any):
        self.shape = None if shape is None else tuple(shape)

    def _actions(self, x: np.ndarray) -> np.ndarray:
        return x if self.shape is None else x.reshape((-1,) + self.shape)

    def greedy(self, inputs: np.ndarray) -> np.ndarray:
        return self._actions(_gaussian_parts(inputs)[0].copy())

    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> Tuple[Any, np.ndarray]:
        """`x = μ + σ ε`; `logp = -½ Σ ((x - μ)/σ)² - ½ D log 2π - Σ log σ`."""
        mean, log_std = _gaussian_parts(inputs)
        std = np.exp(log_std)
        x = mean + std * rng.standard_normal(mean.shape, dtype=mean.dtype)
        logp = (-0.5 * np.sum(np.square((x - mean) / std), axis=1)
                - 0.5 * _LOG_2PI * mean.shape[1] - np.sum(log_std, axis=1))
        return self._actions(x), logp.astype(np.float32, copy=False)


class _SquashedGaussian(NumpyDist):
    def __init__(self, low: np.ndarray, high: np.ndarray, log_half_range: np.ndarray):
        self.low, self.high, self.log_half_range = low, high, log_half_range

    def _parts(self, inputs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        mean, log_std = _gaussian_parts(inputs)
        return mean, np.clip(log_std, MIN_LOG_NN_OUTPUT, MAX_LOG_NN_OUTPUT)

    def _squash(self, raw: np.ndarray) -> np.ndarray:
        squashed = (np.tanh(raw) + 1.0) / 2.0 * (self.high - self.low) + self.low
        return np.clip(squashed, self.low, self.high)

    def greedy(self, inputs: np.ndarray) -> np.ndarray:
        return self._squash(self._parts(inputs)[0])

    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> Tuple[Any, np.ndarray]:
        """`SquashedGaussian`'s draw and its log-density from the Gaussian draw `u`."""
        mean, log_std = self._parts(inputs)
        std = np.exp(log_std)
        u = mean + std * rng.standard_normal(mean.shape, dtype=mean.dtype)
        normal = np.clip(-0.5 * np.square((u - mean) / std) - log_std - 0.5 * _LOG_2PI,
                         -100.0, 100.0)
        correction = np.log(1.0 - np.square(np.tanh(u)) + SMALL_NUMBER) + self.log_half_range
        logp = np.sum(normal - correction, axis=-1)
        return self._squash(u), logp.astype(np.float32, copy=False)


class _Deterministic(NumpyDist):
    def greedy(self, inputs: np.ndarray) -> np.ndarray:
        return inputs.copy()

    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> Tuple[Any, np.ndarray]:
        return inputs.copy(), np.zeros(inputs.shape[:1], np.float32)


class _Multi(NumpyDist):
    def __init__(self, children: List[NumpyDist], input_lens: Sequence[int], structure: Any):
        self.children, self.structure = children, structure
        self.bounds = np.cumsum(input_lens)[:-1].tolist()

    def greedy(self, inputs: np.ndarray) -> Any:
        parts = np.split(inputs, self.bounds, axis=1)
        return tree.unflatten_as(self.structure, [d.greedy(p) for d, p in
                                                  zip(self.children, parts)])

    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> Tuple[Any, np.ndarray]:
        draws = [d.sample(p, rng) for d, p in zip(self.children,
                                                  np.split(inputs, self.bounds, axis=1))]
        logp = np.sum([lp for _, lp in draws], axis=0, dtype=np.float32)
        return tree.unflatten_as(self.structure, [a for a, _ in draws]), logp


def numpy_dist(probe: Any) -> NumpyDist:
    """The numpy twin of the distribution instance `probe` (built on inputs of ones).

    Raises:
      UnsupportedDistribution: `probe` is not exactly one of `SUPPORTED`'s classes.
    """
    kind = type(probe)
    if kind is Categorical:
        inverse_temperature = float(np.asarray(probe.inputs)[0, 0])
        return _Categorical(int(probe._start), np.dtype(probe._dtype.as_numpy_dtype),
                            1.0 / inverse_temperature)
    if kind is MultiCategorical:
        return _MultiCategorical(probe.input_lens, np.asarray(probe._starts), probe._shape,
                                 np.dtype(probe._dtype.as_numpy_dtype))
    if kind is DiagGaussian:
        return _DiagGaussian(probe._shape)
    if kind is SquashedGaussian:
        return _SquashedGaussian(probe.low, probe.high, probe._log_half_range)
    if kind is Deterministic:
        return _Deterministic()
    if kind is MultiActionDistribution:
        return _Multi([numpy_dist(child) for child in probe.flat_child_distributions],
                      probe.input_lens, probe.action_space_struct)
    raise UnsupportedDistribution(
        f"the action distribution {kind.__module__}.{kind.__qualname__} has no numpy sampler "
        f"(LiteRT acting covers {', '.join(c.__name__ for c in SUPPORTED)})")
