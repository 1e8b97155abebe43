"""Spaces as flat lists of leaves: what each leaf is, and the model inputs built from them.

A space is a gymnasium space or a nest of array/tensor specs. `layout(space)`
turns it into a `Layout`: the spec nest (its structure is the structure of
observations and actions) and one `Leaf` per spec leaf, in dm-tree order
(mapping keys sorted). Each leaf has a kind, which decides both how an
observation leaf becomes model input and which distribution an action leaf
gets, as RLlib's preprocessors and catalog do:

==================  ================================  =============================
kind                observation features              action distribution
==================  ================================  =============================
`box`               float cast, flattened             `DiagGaussian` (float only)
`discrete`          one-hot of `n` values             `Categorical`
`multi_discrete`    concatenated one-hots             `MultiCategorical`
`multi_binary`      float cast, flattened             `MultiCategorical` of 2s
`int_box`           float cast, flattened             `MultiCategorical`
==================  ================================  =============================

From a gymnasium space the kind is the space's type (`int_box` is an integer
`Box`). From a spec, the rules of `specs.to_space` pick it, except for
images: float leaves are `box`, bool leaves `multi_binary`, bounded integer
leaves `discrete` (scalar), `multi_binary` (int8 in `[0, 1]`),
`multi_discrete` (rank 1) or `int_box` (rank 2 and more: images and grids
are values, not categories to one-hot), and integer leaves whose range does
not fit their dtype (unbounded ones) `box`.

>>> import numpy as np
>>> from specs import BoundedArraySpec
>>> lay = layout({"pos": BoundedArraySpec((2,), np.float32, -1.0, 1.0),
...               "id": BoundedArraySpec((), np.int64, 1, 3)})
>>> [(leaf.path, leaf.kind, leaf.feature_width) for leaf in lay.leaves]
[(('id',), 'discrete', 3), (('pos',), 'box', 2)]
>>> flatten(lay.leaves, [np.array([3]), np.array([[0.5, -0.5]], np.float32)]).numpy()
array([[ 0. ,  0. ,  1. ,  0.5, -0.5]], dtype=float32)
"""

import collections.abc
import math
import sys
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs.array_spec import ArraySpec, BoundedArraySpec
from specs.spaces import from_space
from specs.tensor_spec import to_array_spec

__all__ = ["ACTION_MASK", "ActionMask", "Layout", "Leaf", "flat_values", "flatten",
           "has_action_mask", "is_gym_space", "layout", "observation_leaves"]

ACTION_MASK = "action_mask"

_NOT_A_SPACE = ("expected a gymnasium space or a nest (dicts, tuples, lists) of array or tensor "
                "specs, got {space!r}")


class Leaf(NamedTuple):
    """One leaf of a space.

    Attributes:
      path: the dm-tree path of the leaf in the space's nest.
      kind: `box`, `discrete`, `multi_discrete`, `multi_binary` or `int_box`.
      shape: the shape of one unbatched value.
      dtype: its numpy dtype.
      minimum: the lower bounds broadcast to `shape` (None when unbounded).
      maximum: the upper bounds broadcast to `shape` (None when unbounded).
    """

    path: Tuple[Any, ...]
    kind: str
    shape: Tuple[int, ...]
    dtype: np.dtype
    minimum: Optional[np.ndarray]
    maximum: Optional[np.ndarray]

    @property
    def size(self) -> int:
        """Number of elements of one value."""
        return int(math.prod(self.shape))

    @property
    def counts(self) -> np.ndarray:
        """Number of values of each element, flattened (categorical kinds only)."""
        return (self.maximum.astype(np.int64) - self.minimum.astype(np.int64) + 1).reshape(-1)

    @property
    def feature_width(self) -> int:
        """Width of this leaf's flattened model input (one-hots for discrete kinds)."""
        if self.kind in ("discrete", "multi_discrete"):
            return int(self.counts.sum())
        return self.size


class Layout(NamedTuple):
    """A space's spec nest (array specs) and its leaves in dm-tree order."""

    spec: Any
    leaves: Tuple[Leaf, ...]

    @property
    def is_nested(self) -> bool:
        """Whether the space is a Dict/Tuple (dict/tuple nest) rather than one leaf."""
        return not isinstance(self.spec, ArraySpec)


def is_gym_space(obj: Any) -> bool:
    """Whether `obj` is a gymnasium space (without importing gymnasium if it is not loaded)."""
    gym = sys.modules.get("gymnasium")
    return gym is not None and isinstance(obj, gym.spaces.Space)


def layout(space: Any) -> Layout:
    """The `Layout` of a gymnasium space or of a nest of array/tensor specs.

    Raises:
      TypeError: `space` is neither (or holds an unsupported gymnasium space).
      ValueError: a tensor spec with unknown dims.
    """
    if is_gym_space(space):
        spec = from_space(space)
        kinds = tree.flatten(_gym_kinds(space))
    else:
        try:
            spec = to_array_spec(space)
        except (TypeError, ValueError) as e:
            raise type(e)(_NOT_A_SPACE.format(space=space) + f" ({e})") from e
        kinds = [_spec_kind(s) for s in tree.flatten(spec)]
    leaves = []
    for (path, leaf), kind in zip(tree.flatten_with_path(spec), kinds):
        bounded = isinstance(leaf, BoundedArraySpec)
        leaves.append(Leaf(tuple(path), kind, tuple(leaf.shape), np.dtype(leaf.dtype),
                           np.asarray(leaf.minimum) if bounded else None,
                           np.asarray(leaf.maximum) if bounded else None))
    return Layout(spec, tuple(leaves))


def _gym_kinds(space: Any) -> Any:
    spaces = sys.modules["gymnasium"].spaces
    if isinstance(space, spaces.Dict):
        return {key: _gym_kinds(sub) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_gym_kinds(sub) for sub in space.spaces)
    if isinstance(space, spaces.Discrete):
        return "discrete"
    if isinstance(space, spaces.MultiDiscrete):
        return "multi_discrete"
    if isinstance(space, spaces.MultiBinary):
        return "multi_binary"
    # from_space has rejected every other type: this is a Box.
    if space.dtype == np.bool_:
        return "multi_binary"
    if np.issubdtype(space.dtype, np.integer):
        return "int_box" if _fits(space.dtype, space.low, space.high) else "box"
    return "box"


def _fits(dtype: np.dtype, minimum: Any, maximum: Any) -> bool:
    """Whether every element's number of values fits `dtype` (`specs.to_space`'s rule)."""
    counts = np.asarray(maximum).astype(object) - np.asarray(minimum).astype(object) + 1
    counts = np.asarray(counts, dtype=object)
    return not counts.size or int(max(counts.flat)) <= int(np.iinfo(dtype).max)


def _spec_kind(spec: ArraySpec) -> str:
    dtype = np.dtype(spec.dtype)
    if dtype == np.bool_:
        return "multi_binary"
    if not np.issubdtype(dtype, np.integer):
        return "box"
    if not isinstance(spec, BoundedArraySpec) or not _fits(dtype, spec.minimum, spec.maximum):
        return "box"
    if (dtype == np.int8 and spec.shape and np.all(spec.minimum == 0)
            and np.all(spec.maximum == 1)):
        return "multi_binary"
    if not spec.shape:
        return "discrete"
    return "multi_discrete" if len(spec.shape) == 1 else "int_box"


def observation_leaves(lay: Layout, exclude_action_mask: bool) -> Tuple[Leaf, ...]:
    """The leaves a model reads, without a top-level `action_mask` entry when asked."""
    if not exclude_action_mask or not has_action_mask(lay):
        return lay.leaves
    return tuple(leaf for leaf in lay.leaves if leaf.path[:1] != (ACTION_MASK,))


def has_action_mask(lay: Layout) -> bool:
    """Whether the space is a Dict with an `action_mask` entry."""
    return isinstance(lay.spec, collections.abc.Mapping) and ACTION_MASK in lay.spec


def flatten(leaves: Sequence[Leaf], values: Sequence[Any]) -> tf.Tensor:
    """Concatenated float32 features `[B, sum(feature_width)]` of batched leaf values.

    Args:
      leaves: the leaves, in the order of `values`.
      values: one tensor or array per leaf, each `[B] + leaf.shape`.

    Returns:
      Per leaf (RLlib's preprocessors): `box`, `multi_binary` and `int_box`
      values cast to float32 and flattened; `discrete` values one-hot over
      `maximum - minimum + 1` entries (counted from `minimum`);
      `multi_discrete` values one one-hot per element, concatenated.
    """
    parts = [_features(leaf, tf.convert_to_tensor(value)) for leaf, value in zip(leaves, values)]
    if len(parts) == 1:
        return parts[0]
    return tf.concat(parts, axis=-1)


def _features(leaf: Leaf, x: tf.Tensor) -> tf.Tensor:
    if leaf.kind == "discrete":
        index = tf.reshape(tf.cast(x, tf.int32), [-1]) - int(leaf.minimum)
        return tf.one_hot(index, int(leaf.counts[0]), dtype=tf.float32)
    if leaf.kind == "multi_discrete":
        counts = leaf.counts
        # One one-hot over all elements' values, offset per element, summed over elements.
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]) - leaf.minimum.reshape(-1)
        index = tf.reshape(tf.cast(x, tf.int32), [-1, leaf.size]) + offsets.astype(np.int32)
        return tf.reduce_sum(tf.one_hot(index, int(counts.sum()), dtype=tf.float32), axis=1)
    return tf.reshape(tf.cast(x, tf.float32), [-1, leaf.size])


def flat_values(lay: Layout, value: Any, leaves: Sequence[Leaf], what: str) -> List[Any]:
    """The leaves of `value` (a nest with the layout's structure) that `leaves` name, in order.

    Raises:
      TypeError: `value` does not have the space's structure; the message
        names the paths where they differ.
    """
    if not lay.is_nested:
        return [value]
    if not nest_utils.same_structure(value, lay.spec):
        nest_utils.assert_same_structure(value, lay.spec, name=what)
    by_path = dict(tree.flatten_with_path(value))
    return [by_path[leaf.path] for leaf in leaves]


class ActionMask:
    """Adds `max(log(mask), float32.min)` to the logits of every discrete action part.

    The distribution inputs are laid out leaf by leaf as the catalog lays them
    out (a `Categorical` leaf: `n` logits; a `MultiCategorical` leaf: `n_i`
    logits per element; a `DiagGaussian` leaf: `2 * size` means and log-stds,
    left alone). The mask `[B, M]` either has one entry per discrete logit
    (`M` = the total number of discrete logits, in that order) or, when every
    discrete part has `M` logits, is the same mask for each part.

    Args:
      action_leaves: the action space's leaves.
      mask_width: `M`, the last dim of the mask.
      num_outputs: the width of the model output it will be applied to.

    Raises:
      ValueError: the action space has no discrete part, the model output is
        not the distribution inputs, or `M` fits neither layout.
    """

    def __init__(self, action_leaves: Sequence[Leaf], mask_width: int, num_outputs: int):
        slices, offset = [], 0
        for leaf in action_leaves:
            if leaf.kind == "box":
                offset += 2 * leaf.size
                continue
            for n in leaf.counts:
                slices.append((offset, int(n)))
                offset += int(n)
        widths = [n for _, n in slices]
        if not slices:
            raise ValueError(
                "the observation has an 'action_mask' but the action space has no discrete part "
                "whose logits it could mask")
        if num_outputs != offset:
            raise ValueError(
                f"the observation has an 'action_mask', which masks the action distribution's "
                f"inputs ({offset} of them), but the model has num_outputs={num_outputs}")
        if mask_width == sum(widths):
            self._tile = 1
        elif all(n == mask_width for n in widths):
            self._tile = len(slices)
        else:
            raise ValueError(
                f"the 'action_mask' has {mask_width} entries; the discrete action parts have "
                f"{widths} logits: give one entry per logit ({sum(widths)}) or, when every part "
                "has the same number of logits, one entry per logit of a part")
        self._index = np.concatenate([np.arange(o, o + n) for o, n in slices])
        self._width = offset

    def __call__(self, logits: tf.Tensor, mask: Any) -> tf.Tensor:
        """`logits [B, num_outputs]` with the mask `[B, M]` applied."""
        mask = tf.cast(mask, logits.dtype)
        if self._tile > 1:
            mask = tf.tile(mask, [1, self._tile])
        penalty = tf.maximum(tf.math.log(mask), logits.dtype.min)
        if self._index.size == self._width:
            return logits + penalty
        # Scatter the penalties onto the discrete columns; continuous ones get 0.
        columns = tf.transpose(tf.scatter_nd(
            self._index[:, None], tf.transpose(penalty),
            tf.stack([self._width, tf.shape(logits)[0]])))
        return logits + columns
