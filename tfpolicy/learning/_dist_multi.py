"""Distributions over nested (`Dict`/`Tuple`) action spaces, and RLlib's catalog
choice of a distribution class for any action space (`dist_for_space`)."""

import functools
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs.array_spec import ArraySpec, BoundedArraySpec
from tfpolicy.learning import _spaces
from tfpolicy.learning._dist_base import ActionDistribution, ModelConfig
from tfpolicy.learning._dist_categorical import Categorical, MultiCategorical
from tfpolicy.learning._dist_gaussian import Deterministic, DiagGaussian

DistClass = Union[type, Callable[..., ActionDistribution]]


def _leaf_dist(leaf: _spaces.Leaf, dist_type: Optional[str] = None) -> Tuple[DistClass, int]:
    """The distribution class (with its space bound) and its input width for one action leaf."""
    if leaf.kind in ("discrete", "multi_discrete", "multi_binary", "int_box"):
        if leaf.minimum is None:  # an unbounded bool leaf: its values are False and True
            leaf = leaf._replace(minimum=np.zeros(leaf.shape, leaf.dtype),
                                 maximum=np.ones(leaf.shape, leaf.dtype))
        spec = BoundedArraySpec(leaf.shape, leaf.dtype, leaf.minimum, leaf.maximum)
        counts = leaf.counts
        if leaf.kind == "discrete":
            return functools.partial(Categorical, action_space=spec), int(counts[0])
        return (functools.partial(MultiCategorical, input_lens=counts.tolist(), action_space=spec),
                int(counts.sum()))
    if not np.issubdtype(leaf.dtype, np.floating):
        raise ValueError(
            f"no action distribution for the unbounded integer action at "
            f"'{nest_utils.path_to_str(leaf.path)}' (dtype {leaf.dtype}, shape {leaf.shape}): "
            "give it bounds (a Discrete, MultiDiscrete or bounded integer Box)")
    if dist_type == "deterministic":
        return Deterministic, leaf.size
    return (functools.partial(DiagGaussian, action_space=ArraySpec(leaf.shape, leaf.dtype)),
            2 * leaf.size)


def dist_for_space(action_space: Any, dist_type: Optional[str] = None
                    ) -> Tuple[DistClass, int]:
    """RLlib's catalog choice for `action_space`: `(dist_class, num_outputs)`."""
    lay = _spaces.layout(action_space)
    if not lay.is_nested:
        return _leaf_dist(lay.leaves[0], dist_type)
    children = [_leaf_dist(leaf) for leaf in lay.leaves]
    child_classes = tree.unflatten_as(lay.spec, [c for c, _ in children])
    input_lens = [n for _, n in children]
    return (functools.partial(MultiActionDistribution, action_space=action_space,
                              child_distributions=child_classes, input_lens=input_lens),
            sum(input_lens))


class MultiActionDistribution(ActionDistribution):
    """One distribution per leaf of a nested (`Dict`/`Tuple`) action space.

    The inputs are the children's inputs concatenated in dm-tree order (dict
    keys sorted). `sample()` and `deterministic_sample()` are nests shaped like
    the action space; `logp`, `entropy`, `kl` and `sampled_action_logp` are
    the sums of the children's (the parts are independent).

    Args:
      inputs: `[B, sum(input_lens)]`.
      model: the model.
      child_distributions: a nest like the action space of distribution classes
        (or partials), e.g. from `ModelCatalog.get_action_dist`.
      input_lens: the input width of each child, in dm-tree order.
      action_space: the nested space (gymnasium `Dict`/`Tuple` or a spec nest).
      **kwargs: passed to every child.
    """

    def __init__(self, inputs: Any, model: Any = None, *, child_distributions: Any,
                 input_lens: Sequence[int], action_space: Any, **kwargs: Any):
        super().__init__(inputs, model)
        self._layout = _spaces.layout(action_space)
        self.action_space_struct = self._layout.spec
        classes = tree.flatten(child_distributions)
        if len(classes) != len(self._layout.leaves) or len(input_lens) != len(classes):
            raise ValueError(
                f"MultiActionDistribution: the action space has {len(self._layout.leaves)} "
                f"parts, got {len(classes)} child distributions and {len(input_lens)} input_lens")
        self.input_lens = [int(n) for n in input_lens]
        parts = tf.split(self.inputs, self.input_lens, axis=1)
        self.flat_child_distributions = [cls(part, model, **kwargs)
                                         for cls, part in zip(classes, parts)]

    def _pack(self, flat: List[Any]) -> Any:
        return tree.unflatten_as(self.action_space_struct, flat)

    def _build_sample_op(self) -> Any:
        return self._pack([d.sample() for d in self.flat_child_distributions])

    def _logp_of_sample(self, sample: Any) -> tf.Tensor:
        return tf.add_n([d.sampled_action_logp() for d in self.flat_child_distributions])

    def tfp_distribution(self) -> Any:
        """The children's TFP distributions, in a nest like the action space."""
        return self._pack([d.tfp_distribution() for d in self.flat_child_distributions])

    def deterministic_sample(self) -> Any:
        return self._pack([d.deterministic_sample() for d in self.flat_child_distributions])

    def logp(self, x: Any) -> tf.Tensor:
        """`[B]`: the sum of the parts' log-probabilities.

        Args:
          x: a nest like the action space, or one tensor `[B, W]` with the
            parts flattened and concatenated in dm-tree order (one column per
            element of each part).

        Raises:
          TypeError: `x` is a nest of another structure than the action space.
        """
        if tf.is_tensor(x) or isinstance(x, np.ndarray):
            x = tf.convert_to_tensor(x)
            widths = [leaf.size for leaf in self._layout.leaves]
            flat = tf.split(tf.reshape(x, [tf.shape(x)[0], -1]), widths, axis=1)
        else:
            if not nest_utils.same_structure(x, self.action_space_struct):
                nest_utils.assert_same_structure(x, self.action_space_struct, name="actions")
            flat = tree.flatten(x)
        return tf.add_n([d.logp(part) for d, part in zip(self.flat_child_distributions, flat)])

    def entropy(self) -> tf.Tensor:
        return tf.add_n([d.entropy() for d in self.flat_child_distributions])

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        others = other.flat_child_distributions  # type: ignore[attr-defined]
        return tf.add_n([d.kl(o) for d, o in zip(self.flat_child_distributions, others)])

    @staticmethod
    def required_model_output_shape(action_space: Any, model_config: ModelConfig) -> int:
        """The sum of the parts' input widths."""
        return dist_for_space(action_space)[1]
