"""Leaving out the inputs a traced function of flat tensors never reads.

Every argument of a concrete-function call costs tens of microseconds of
conversion and binding, and every input of a LiteRT model a `set_tensor` per
step, while most policies never read the reward and the discount (often not
the step type either). `prune_unused_inputs` traces a function of flat
tensors once, finds the inputs its graph reads, and wraps the traced graph in
a function of those inputs alone, which feeds zeros for the others.
`PyTFEagerPolicy` and the LiteRT export (`savers.lite_export`) both use it.

>>> import tensorflow as tf
>>> signature = [tf.TensorSpec([None], tf.float32), tf.TensorSpec([None, 2], tf.float32)]
>>> pruned = prune_unused_inputs(lambda a, b: [tf.reduce_sum(b, -1)], signature)
>>> pruned.used
[1]
>>> pruned.function(tf.ones([3, 2]))[0].numpy()
array([2., 2., 2.], dtype=float32)
"""

from typing import Any, Callable, List, NamedTuple, Sequence

import tensorflow as tf

__all__ = ["PrunedFunction", "prune_unused_inputs", "select_inputs"]


class PrunedFunction(NamedTuple):
    """A traced function that takes only the inputs its graph reads.

    Attributes:
      function: a concrete function of the used inputs, in their order; it
        returns what the traced function returns.
      used: the positions of those inputs among all of them (at least one,
        which carries the outer dims).
      traced: the concrete function of all the inputs (`function` itself when
        every input is read).
    """

    function: Any
    used: List[int]
    traced: Any

    def on_all_inputs(self) -> Callable[..., Any]:
        """`function` as a callable of all the flat inputs, which drops the unread ones."""
        return select_inputs(self.function, self.used,
                             len(self.traced.structured_input_signature[0]))


def select_inputs(function: Callable[..., Any], used: Sequence[int],
                  num_inputs: int) -> Callable[..., Any]:
    """A callable of all `num_inputs` flat inputs that calls `function` with those at `used`.

    >>> select_inputs(lambda b: b * 2, [1], 3)(10, 20, 30)
    40
    """
    used = list(used)
    if used == list(range(num_inputs)):
        return function
    if len(used) == 1:
        first = used[0]
        return lambda *flat: function(flat[first])
    return lambda *flat: function(*[flat[i] for i in used])


def prune_unused_inputs(fn: Callable[..., Any], input_signature: Sequence[tf.TensorSpec],
                        outer_rank: int = 1) -> PrunedFunction:
    """Traces `fn` once and returns it as a function of the inputs it reads.

    The traced graph is called as it is (`fn` is not traced again); an input
    left out is fed zeros with the outer dims of the first used input, which
    the graph never looks at.

    Args:
      fn: a function of flat tensors, one per spec of `input_signature`.
      input_signature: the flat input specs, each with `outer_rank` outer
        dims followed by fully defined inner dims.
      outer_rank: the number of outer (batch) dims every input shares.

    Returns:
      `PrunedFunction(function, used, traced)`; `function` is `traced` (the
      traced `fn`) when every input is read.
    """
    specs = list(input_signature)
    full = tf.function(fn, input_signature=specs, autograph=False).get_concrete_function()
    used = [i for i, placeholder in enumerate(full.graph.inputs[:len(specs)])
            if placeholder.consumers()] or [0]
    if len(used) == len(specs):
        return PrunedFunction(full, used, full)

    def pruned(*kept: tf.Tensor) -> Any:
        flat: List[Any] = [None] * len(specs)
        for i, value in zip(used, kept):
            flat[i] = value
        outer = tf.shape(kept[0])[:outer_rank]
        for i, spec in enumerate(specs):
            if flat[i] is None:
                inner = tf.constant(spec.shape.as_list()[outer_rank:], tf.int32)
                flat[i] = tf.zeros(tf.concat([outer, inner], 0), spec.dtype)
        return full(*flat)

    function = tf.function(pruned, input_signature=[specs[i] for i in used],
                           autograph=False).get_concrete_function()
    return PrunedFunction(function, used, full)
