"""`RandomTFPolicy`: actions drawn uniformly within the action spec's bounds.

Every element of every action leaf is drawn independently:

- integer and bool elements uniformly over `[minimum, maximum]` (the dtype's
  range when unbounded); the log-probability is `-log(maximum - minimum + 1)`;
- float elements with two finite bounds uniformly between them
  (`-log(maximum - minimum)`); with one finite bound it is that bound plus (or
  minus) a standard exponential sample, and an unbounded float is standard
  normal, the same law as `specs.tensor_spec.sample_spec_nest`. An element
  whose bounds coincide is that constant and adds 0 to the log-probability.

Log-probabilities are summed over a leaf's elements, one per leaf (a nest
like the action). With an `observation_and_action_constraint_splitter` the
single discrete action is uniform over the allowed actions only
(`-log(number allowed)`).

`seed` follows tfp: a Python int seeds a stateful draw (new actions on every
call, reproducible from run to run), a shape-`[2]` int tensor is a stateless
seed (the same seed gives the same actions).

`distribution()` returns the same law as tfp distributions (uniform
categorical, `Uniform`, `Normal` or shifted `Exponential`, inside
`Independent` for leaves with a shape) where one leaf has elements of a single
kind; `action()` always works.

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = RandomTFPolicy(ts.time_step_spec(TensorSpec([2], tf.float32)),
...                         BoundedTensorSpec([], tf.int32, 2, 5),
...                         emit_log_probability=True)
>>> step = policy.action(ts.restart(tf.zeros([4, 2]), batch_size=4), seed=7)
>>> bool(tf.reduce_all((step.action >= 2) & (step.action <= 5)))
True
>>> np.allclose(step.info.log_probability, -np.log(4.0))
True
"""

from typing import NamedTuple, Optional, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy import _distributions
from tfpolicy.policies import _action_distributions
from tfpolicy.policies import _constraints
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["RandomTFPolicy"]

tfd = tfp.distributions
tfb = tfp.bijectors

# A uniform categorical over more values than this is not built as a
# distribution (its logits would take K floats per element).
_MAX_CATEGORIES = 4096


class _Law(NamedTuple):
    """The per-element sampling law of one action leaf, precomputed from its spec.

    For discrete leaves `low`/`high` are the exact bounds in the spec's numpy
    dtype (0/1 for bool); for float leaves they are float64 with `has_low` /
    `has_high` saying which bounds count as finite.

    `log_prob` makes a law usable where a distribution over the whole leaf is
    expected, as by `TFPolicy._with_log_probability`.
    """

    spec: tf.TensorSpec
    path: str
    discrete: bool
    low: np.ndarray
    high: np.ndarray
    has_low: Optional[np.ndarray]
    has_high: Optional[np.ndarray]
    # Discrete leaves: the constant log-probability of any action.
    discrete_log_prob: float

    def log_prob(self, action: tf.Tensor) -> tf.Tensor:
        """The float32 log-probability of `action` (`[..outer] + shape`) per outer entry."""
        if self.discrete:
            outer = tf.shape(action)
            if self.spec.shape.rank:
                outer = outer[:action.shape.rank - self.spec.shape.rank]
            return tf.fill(outer, tf.constant(self.discrete_log_prob, tf.float32))
        return _continuous_log_prob(self, action)


def _law(spec: tf.TensorSpec, path: str) -> _Law:
    if not spec.shape.is_fully_defined():
        raise ValueError(nest_utils.nest_error_message(
            "the action spec", path, f"needs a fully defined shape, got {spec!r}",
            owner="RandomTFPolicy"))
    np_dtype = np.dtype(spec.dtype.as_numpy_dtype)
    shape = tuple(spec.shape.as_list())
    bounded = tensor_spec.is_bounded(spec)
    if np_dtype == np.bool_ or np.issubdtype(np_dtype, np.integer):
        if np_dtype == np.bool_:
            low = np.broadcast_to(np.asarray(spec.minimum if bounded else 0, np.int64), shape)
            high = np.broadcast_to(np.asarray(spec.maximum if bounded else 1, np.int64), shape)
        else:
            info = np.iinfo(np_dtype)
            low = np.broadcast_to(np.asarray(spec.minimum if bounded else info.min, np_dtype), shape)
            high = np.broadcast_to(np.asarray(spec.maximum if bounded else info.max, np_dtype), shape)
        counts = high.astype(np.float64) - low.astype(np.float64) + 1.0
        return _Law(spec, path, True, low, high, None, None, float(-np.sum(np.log(counts))))
    if not np.issubdtype(np_dtype, np.floating):
        raise TypeError(nest_utils.nest_error_message(
            "the action spec", path,
            f"cannot draw actions for {spec!r}: its dtype is not bool, integer or float",
            owner="RandomTFPolicy"))
    finfo = np.finfo(np_dtype)
    low = np.broadcast_to(np.asarray(spec.minimum if bounded else -np.inf, np.float64), shape)
    high = np.broadcast_to(np.asarray(spec.maximum if bounded else np.inf, np.float64), shape)
    # Bounds beyond half the dtype's range mean "unbounded", as in sample_spec_nest.
    return _Law(spec, path, False, low, high, low > float(finfo.min) / 2,
                high < float(finfo.max) / 2, 0.0)


def _shape(outer: tf.Tensor, spec: tf.TensorSpec) -> tf.Tensor:
    return tf.concat([outer, tf.constant(spec.shape.as_list(), tf.int32)], 0)


def _draw_discrete(law: _Law, outer: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    low, high = law.low.astype(np.float64), law.high.astype(np.float64)
    u = tf.random.stateless_uniform(_shape(outer, law.spec), seed, dtype=tf.float64)
    values = tf.clip_by_value(tf.floor(low + u * (high - low + 1.0)), low, high)
    if law.spec.dtype == tf.bool:
        return tf.cast(values, tf.bool)
    # float64 holds integers exactly only up to 2**53: keep the cast inside the
    # dtype's range, then clip with the exact integer bounds.
    info = np.iinfo(law.low.dtype)
    top = float(info.max)
    if int(top) > int(info.max):
        top = float(np.nextafter(top, 0.0))
    values = tf.cast(tf.clip_by_value(values, float(info.min), top), law.spec.dtype)
    return tf.clip_by_value(values, tf.constant(law.low, law.spec.dtype),
                            tf.constant(law.high, law.spec.dtype))


def _draw_continuous(law: _Law, outer: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    shape = _shape(outer, law.spec)
    uniform_seed, exp_seed, normal_seed = tfp.random.split_seed(seed, n=3)
    both = law.has_low & law.has_high
    low = np.where(law.has_low, law.low, 0.0)
    high = np.where(law.has_high, law.high, 0.0)
    values = low + tf.random.stateless_uniform(shape, uniform_seed, dtype=tf.float64) * (high - low)
    if not both.all():
        exp = -tf.math.log1p(-tf.random.stateless_uniform(shape, exp_seed, dtype=tf.float64))
        normal = tf.random.stateless_normal(shape, normal_seed, dtype=tf.float64)
        values = tf.where(both, values, tf.where(
            law.has_low, low + exp, tf.where(law.has_high, high - exp, normal)))
    return tf.cast(tf.clip_by_value(values, law.low, law.high), law.spec.dtype)


def _continuous_log_prob(law: _Law, action: tf.Tensor) -> tf.Tensor:
    x = tf.cast(action, tf.float64)
    both = law.has_low & law.has_high
    width = np.where(both, law.high - law.low, 1.0)
    # A zero-width element is a constant: it adds nothing to the log-probability.
    uniform = np.where(width > 0, -np.log(np.where(width > 0, width, 1.0)), 0.0)
    low = np.where(law.has_low, law.low, 0.0)
    high = np.where(law.has_high, law.high, 0.0)
    density = tf.where(both, tf.constant(uniform, tf.float64), tf.where(
        law.has_low, low - x, tf.where(law.has_high, x - high,
                                       -0.5 * tf.square(x) - 0.5 * np.log(2.0 * np.pi))))
    rank = law.spec.shape.rank
    if rank:
        density = tf.reduce_sum(density, axis=list(range(-rank, 0)))
    return tf.cast(density, tf.float32)


def _not_representable(law: _Law, reason: str) -> ValueError:
    return ValueError(nest_utils.nest_error_message(
        "the uniform law of the action", law.path,
        f"{law.spec!r} has no tfp distribution here: {reason}; call `action` instead",
        owner="RandomTFPolicy.distribution"))


def _discrete_distribution(law: _Law, outer: tf.Tensor) -> tfd.Distribution:
    shape = _shape(outer, law.spec)
    if law.spec.dtype == tf.bool:
        probs = np.where(law.low < law.high, 0.5, law.low).astype(np.float32)
        bernoulli = tfd.Bernoulli(probs=tf.broadcast_to(probs, shape), dtype=tf.bool)
        return _action_distributions.independent(bernoulli, law.spec)
    smallest, largest = int(law.low.min()), int(law.high.max())
    num = largest - smallest + 1
    if num > _MAX_CATEGORIES:
        raise _not_representable(law, f"it spans {num} values (at most {_MAX_CATEGORIES})")
    values = smallest + np.arange(num)
    allowed = (values >= law.low[..., None]) & (values <= law.high[..., None])
    logits = tf.broadcast_to(np.where(allowed, 0.0, -np.inf).astype(np.float32),
                             tf.concat([shape, [num]], 0))
    categorical = (_distributions.ShiftedCategorical(logits=logits, shift=smallest,
                                                     dtype=law.spec.dtype)
                   if smallest else tfd.Categorical(logits=logits, dtype=law.spec.dtype))
    return _action_distributions.independent(categorical, law.spec)


def _continuous_distribution(law: _Law, outer: tf.Tensor) -> tfd.Distribution:
    shape = _shape(outer, law.spec)
    dtype = law.spec.dtype
    both = law.has_low & law.has_high
    half = law.has_low ^ law.has_high
    if both.all():
        if not (law.high > law.low).all():
            raise _not_representable(law, "some elements have equal bounds")
        dist = tfd.Uniform(tf.broadcast_to(tf.constant(law.low, dtype), shape),
                           tf.broadcast_to(tf.constant(law.high, dtype), shape))
    elif not (law.has_low | law.has_high).any():
        dist = tfd.Normal(tf.zeros(shape, dtype), tf.constant(1.0, dtype))
    elif half.all():
        bound = np.where(law.has_low, law.low, law.high)
        sign = np.where(law.has_low, 1.0, -1.0)
        dist = tfd.TransformedDistribution(
            tfd.Exponential(tf.ones(shape, dtype)),
            tfb.Chain([tfb.Shift(tf.constant(bound, dtype)), tfb.Scale(tf.constant(sign, dtype))]))
    else:
        raise _not_representable(law, "it mixes elements with two, one or no finite bounds")
    return _action_distributions.independent(dist, law.spec)


class RandomTFPolicy(tf_policy.TFPolicy):
    """Returns actions drawn uniformly within the action spec (see the module docstring).

    Args:
      time_step_spec: a `TimeStep` of specs.
      action_spec: any nest of specs; bounded leaves are drawn within their
        (per-element) bounds.
      policy_state_spec: the state spec; the state is passed through unchanged.
      info_spec: the info spec; the info is zeros of it (plus the
        log-probability when emitted).
      emit_log_probability: add the actions' log-probabilities to the info.
      observation_and_action_constraint_splitter: `observation -> (_, mask)`;
        the single discrete action is then uniform over the allowed actions.
      validate_args: check inputs and outputs against the specs.
      name: the module's name.

    Raises:
      ValueError: a splitter is given but the action spec is not a single
        discrete action, or its mask does not have one entry per action; a
        leaf's shape is not fully defined.
      TypeError: a leaf's dtype is not bool, integer or float.
    """

    def __init__(
        self,
        time_step_spec: TimeStep,
        action_spec: NestedTensorSpec,
        policy_state_spec: NestedTensorSpec = (),
        info_spec: NestedTensorSpec = (),
        emit_log_probability: bool = False,
        observation_and_action_constraint_splitter: Optional[tf_policy.Splitter] = None,
        validate_args: bool = True,
        name: Optional[str] = None,
    ):
        super().__init__(
            time_step_spec, action_spec, policy_state_spec=policy_state_spec, info_spec=info_spec,
            emit_log_probability=emit_log_probability,
            observation_and_action_constraint_splitter=observation_and_action_constraint_splitter,
            validate_args=validate_args, name=name)
        self._discrete = None
        if observation_and_action_constraint_splitter is not None:
            self._discrete = _constraints.discrete_action(self.action_spec, "RandomTFPolicy")
            _, mask_shape = _constraints.network_observation_spec(
                self.time_step_spec.observation, observation_and_action_constraint_splitter,
                "RandomTFPolicy")
            if mask_shape is not None:
                _constraints.check_mask_shape(mask_shape, self._discrete.num_actions, 0,
                                              "RandomTFPolicy")
        # A tuple of plain values: tf.Module leaves it untracked (a list would be wrapped).
        self._laws: Tuple[_Law, ...] = tuple(
            _law(spec, path) for path, spec in nest_utils.flatten_with_paths(self.action_spec))

    def _masked_distribution(self, time_step: TimeStep) -> tfd.Distribution:
        _, mask = _constraints.split_observation(self._splitter, time_step.observation)
        mask = _constraints.check_mask(mask, self._discrete.num_actions,
                                       time_step.step_type.shape.rank, "RandomTFPolicy")
        logits = _constraints.uniform_logits(tf.shape(time_step.step_type),
                                             self._discrete.num_actions, mask)
        return _distributions.categorical_for_spec(logits, self._discrete.spec)

    def _zero_info(self, outer: tf.Tensor) -> NestedTensor:
        return tensor_spec.zero_spec_nest(policy_step.without_log_probability(self.info_spec), outer)

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        outer = tf.shape(time_step.step_type)
        if self._discrete is not None:
            dists = [self._masked_distribution(time_step)]
        else:
            dists = [_discrete_distribution(law, outer) if law.discrete
                     else _continuous_distribution(law, outer) for law in self._laws]
        return PolicyStep(tree.unflatten_as(self.action_spec, dists), policy_state,
                          self._zero_info(outer))

    def _action(self, time_step: TimeStep, policy_state: NestedTensor,
                seed: tf_policy.Seed) -> PolicyStep:
        outer = tf.shape(time_step.step_type)
        seed = tfp.random.sanitize_seed(seed)
        if self._discrete is not None:
            laws = [self._masked_distribution(time_step)]
            actions = [laws[0].sample(seed=seed)]
        else:
            laws = self._laws
            seeds = tfp.random.split_seed(seed, n=len(laws)) if len(laws) > 1 else [seed]
            actions = [
                (_draw_discrete if law.discrete else _draw_continuous)(law, outer, leaf_seed)
                for law, leaf_seed in zip(laws, seeds)
            ]
        step = PolicyStep(tree.unflatten_as(self.action_spec, actions), policy_state,
                          self._zero_info(outer))
        if self.emit_log_probability:
            # The draws lie within the bounds, so clipping keeps them.
            step = self._with_log_probability(step, tree.unflatten_as(self.action_spec, laws),
                                              time_step)
        return step
