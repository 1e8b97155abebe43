"""Categorical action distributions: `Categorical` over one discrete action and
`MultiCategorical` over independent discrete elements (`MultiDiscrete`, integer `Box`,
`MultiBinary`)."""

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfpolicy import _distributions
from tfpolicy.learning._dist_base import ActionDistribution, ModelConfig, as_inputs, single_leaf

tfd = tfp.distributions


class Categorical(ActionDistribution):
    """A categorical over `n` actions, parameterized by logits.

    With `a = logits - max(logits)`, `z = Σ exp(a)` and `p = exp(a) / z`:

    - `logp(x) = a_x - log z`;
    - `entropy = Σ_i p_i (log z - a_i)`;
    - `kl(q) = Σ_i p_i (a_i - log z - a'_i + log z')` for `q`'s `a'`, `z'`.

    Terms with `p_i = 0` (masked actions) contribute 0.

    Args:
      inputs: logits `[B, n]`.
      model: the model.
      temperature: the logits are divided by it (> 0).
      action_space: optional: a `Discrete(n, start=s)` space (or scalar integer
        spec); actions are then `s..s+n-1` in the space's dtype rather than
        `0..n-1` as int64.

    Raises:
      ValueError: `temperature <= 0`.
    """

    def __init__(self, inputs: Any, model: Any = None, temperature: float = 1.0,
                 action_space: Any = None):
        if isinstance(temperature, (int, float)) and temperature <= 0:
            raise ValueError(f"Categorical needs temperature > 0, got {temperature}")
        inputs = as_inputs(inputs)
        super().__init__(inputs if temperature == 1.0 else inputs / temperature, model)
        self._start, self._dtype = 0, tf.int64
        if action_space is not None:
            leaf = single_leaf(action_space, "Categorical")
            self._start = int(np.min(leaf.minimum)) if leaf.minimum is not None else 0
            self._dtype = tf.as_dtype(leaf.dtype)

    def _actions(self, index: tf.Tensor) -> tf.Tensor:
        if self._start:
            index = index + self._start
        return index if index.dtype == self._dtype else tf.cast(index, self._dtype)

    def _build_sample_op(self) -> tf.Tensor:
        return self._actions(tf.squeeze(tf.random.categorical(self.inputs, 1), axis=1))

    def tfp_distribution(self) -> tfd.Distribution:
        """A `tfd.Categorical` over the actions (shifted by the space's start)."""
        if self._start:
            return _distributions.ShiftedCategorical(logits=self.inputs, shift=self._start,
                                                     dtype=self._dtype)
        return tfd.Categorical(logits=self.inputs, dtype=self._dtype)

    def deterministic_sample(self) -> tf.Tensor:
        """`argmax(logits)`, `[B]`."""
        return self._actions(tf.argmax(self.inputs, axis=-1))

    def logp(self, x: Any) -> tf.Tensor:
        """`[B]` log-probability of actions `x` (`[B]` or `[B, 1]`)."""
        labels = tf.cast(x, tf.int32)
        if self._start:
            labels = labels - self._start
        labels = tf.reshape(labels, tf.shape(self.inputs)[:-1])
        return -tf.nn.sparse_softmax_cross_entropy_with_logits(logits=self.inputs, labels=labels)

    def _normalized(self) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        a = self.inputs - tf.reduce_max(self.inputs, axis=-1, keepdims=True)
        ea = tf.exp(a)
        z = tf.reduce_sum(ea, axis=-1, keepdims=True)
        return a, z, ea / z

    def entropy(self) -> tf.Tensor:
        a, z, p = self._normalized()
        return tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(z) - a, p), axis=-1)

    def kl(self, other: "ActionDistribution") -> tf.Tensor:
        a0, z0, p0 = self._normalized()
        a1, z1, _ = other._normalized()  # type: ignore[attr-defined]
        return tf.reduce_sum(
            tf.math.multiply_no_nan(a0 - tf.math.log(z0) - a1 + tf.math.log(z1), p0), axis=-1)

    @staticmethod
    def required_model_output_shape(action_space: Any, model_config: ModelConfig) -> int:
        """`n`, the number of actions."""
        return int(single_leaf(action_space, "Categorical").counts.sum())


class MultiCategorical(ActionDistribution):
    """Independent categoricals, one per element of a `MultiDiscrete` (or integer `Box`) action.

    `logp`, `entropy` and `kl` are the sums over the elements of
    `Categorical`'s.

    Args:
      inputs: the concatenated logits `[B, sum(input_lens)]`.
      model: the model.
      input_lens: the number of values of each element, in order (default:
        from `action_space`).
      action_space: the space (default `MultiDiscrete(input_lens)`); samples
        take its shape (`[B] + shape`), its dtype and its starts.

    Raises:
      ValueError: neither `input_lens` nor `action_space`, or they disagree.
    """

    def __init__(self, inputs: Any, model: Any = None, input_lens: Optional[Sequence[int]] = None,
                 action_space: Any = None):
        super().__init__(inputs, model)
        if action_space is not None:
            leaf = single_leaf(action_space, "MultiCategorical")
            counts = leaf.counts
            if input_lens is not None and list(input_lens) != counts.tolist():
                raise ValueError(
                    f"MultiCategorical: input_lens {list(input_lens)} do not match the action "
                    f"space's numbers of values {counts.tolist()}")
            self._shape = leaf.shape
            self._starts = leaf.minimum.reshape(-1).astype(np.int32)
            self._dtype = tf.as_dtype(leaf.dtype)
        elif input_lens is not None:
            counts = np.asarray(input_lens, np.int64)
            self._shape = (len(counts),)
            self._starts = np.zeros(len(counts), np.int32)
            self._dtype = tf.int64
        else:
            raise ValueError("MultiCategorical needs input_lens or an action_space")
        self.input_lens = [int(n) for n in counts]
        self.cats = [Categorical(part, model)
                     for part in tf.split(self.inputs, self.input_lens, axis=-1)]

    def _actions(self, columns: List[tf.Tensor]) -> tf.Tensor:
        x = tf.stack(columns, axis=1)
        if self._starts.any():
            x = x + self._starts.astype(np.int64)
        x = tf.reshape(x, (-1,) + tuple(self._shape))
        return x if x.dtype == self._dtype else tf.cast(x, self._dtype)

    def _build_sample_op(self) -> tf.Tensor:
        return self._actions([cat.sample() for cat in self.cats])

    def deterministic_sample(self) -> tf.Tensor:
        return self._actions([cat.deterministic_sample() for cat in self.cats])

    def tfp_distribution(self) -> tfd.Distribution:
        """An `Independent` categorical with the action's shape.

        Elements with fewer values than the widest get padding logits of
        `float32.min`, which have probability 0.

        Raises:
          ValueError: the elements start at different values (a TFP
            categorical has one shift).
        """
        if len(set(self._starts.tolist())) > 1:
            raise ValueError(
                f"MultiCategorical with different starts per element {self._starts.tolist()} "
                "has no single TFP categorical form")
        width = max(self.input_lens)
        low = self.inputs.dtype.min
        logits = tf.stack([tf.pad(cat.inputs, [[0, 0], [0, width - n]], constant_values=low)
                           for cat, n in zip(self.cats, self.input_lens)], axis=1)
        logits = tf.reshape(logits, (-1,) + tuple(self._shape) + (width,))
        start = int(self._starts[0]) if self._starts.size else 0
        inner = (_distributions.ShiftedCategorical(logits=logits, shift=start, dtype=self._dtype)
                 if start else tfd.Categorical(logits=logits, dtype=self._dtype))
        return tfd.Independent(inner, reinterpreted_batch_ndims=len(self._shape))

    def logp(self, x: Any) -> tf.Tensor:
        """`[B]`: the sum of the elements' log-probabilities; `x` is `[B] + shape`."""
        x = tf.reshape(tf.cast(x, tf.int32), [-1, len(self.cats)])
        if self._starts.any():
            x = x - self._starts
        columns = tf.unstack(x, num=len(self.cats), axis=1)
        return tf.add_n([cat.logp(col) for cat, col in zip(self.cats, columns)])

    def multi_entropy(self) -> tf.Tensor:
        """`[B, k]`: each element's entropy."""
        return tf.stack([cat.entropy() for cat in self.cats], axis=1)

    def entropy(self) -> tf.Tensor:
        return tf.reduce_sum(self.multi_entropy(), axis=1)

    def multi_kl(self, other: ActionDistribution) -> tf.Tensor:
        """`[B, k]`: each element's KL."""
        return tf.stack([cat.kl(o) for cat, o in zip(self.cats, other.cats)],  # type: ignore
                        axis=1)

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        return tf.reduce_sum(self.multi_kl(other), axis=1)

    @staticmethod
    def required_model_output_shape(action_space: Any, model_config: ModelConfig) -> int:
        """`sum(nvec)`: the number of values of all elements."""
        return int(single_leaf(action_space, "MultiCategorical").counts.sum())
