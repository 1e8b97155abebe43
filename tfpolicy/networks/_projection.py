"""Output heads: Q-values, values, and distributions over action specs.

Distribution heads work in two steps so that networks can reshape what they
compute: `parameters(features)` maps features `[..., F]` (any outer dims) to
tensors with the same outer dims, and `distribution(parameters)` builds the
distribution from them. `Network._make_output` calls the second step after
the base has folded or unfolded the time dim. The heads live in
`_categorical_head` and `_normal_head`; this module gathers them.

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

from typing import Any, Callable, List, Optional

import keras
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensorSpec
from tfpolicy.networks._categorical_head import CategoricalProjection, num_actions
from tfpolicy.networks._head_base import _Structure
from tfpolicy.networks._normal_head import (DEFAULT_INIT_STD, MEAN_TRANSFORMS, MIN_STD,
                                            MeanTransform, NormalProjection, tanh_squash)

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

# A factory of projection networks (TF-Agents' `discrete_projection_net` and
# `continuous_projection_net`): called with one action spec.
ProjectionFactory = Callable[[tf.TensorSpec], Any]


def q_value_layer(count: int, dtype: tf.DType = tf.float32) -> keras.layers.Dense:
    """The last layer of Q networks: small uniform kernel so initial Q-values are near the bias."""
    return keras.layers.Dense(
        count, kernel_initializer=keras.initializers.RandomUniform(-0.03, 0.03),
        bias_initializer=keras.initializers.Constant(-0.2), dtype=dtype)


def value_layer(dtype: tf.DType = tf.float32) -> keras.layers.Dense:
    """The last layer of value networks: one unit (squeezed by the network)."""
    return keras.layers.Dense(
        1, kernel_initializer=keras.initializers.RandomUniform(-0.03, 0.03), dtype=dtype)


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


_BUILT_IN_HEADS = (CategoricalProjection, NormalProjection)


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
