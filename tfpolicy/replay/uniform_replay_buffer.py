"""A uniform-sampling ring-buffer replay buffer stored in TensorFlow variables.

`UniformReplayBuffer` keeps `batch_size` independent rows (one per parallel
environment), each a ring of `capacity` frames. Every `add_batch` writes one
frame to every row; once a row is full the oldest frame is overwritten.
Frames are numbered by a per-row id (0 for the first `add_batch`, 1 for the
next, ...); the stored ids are always the last `min(added, capacity)` of
them, and a window of `num_steps` consecutive ids never crosses the ring's
write position, so a sample never joins the newest frame to the oldest.

The contents are `tf.Variable`s, so `tf.train.Checkpoint(buffer=buffer)`
saves and restores them, and all methods work eagerly and in `tf.function`.

>>> import tensorflow as tf
>>> buffer = UniformReplayBuffer(tf.TensorSpec((), tf.int32), capacity=3, batch_size=2)
>>> for t in range(5):
...     buffer.add_batch(tf.constant([t, 10 + t]))
>>> buffer.gather_all().numpy().tolist()
[[2, 3, 4], [12, 13, 14]]
>>> int(buffer.num_frames())
6
"""

from typing import Any, NamedTuple, Optional

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import Nest, NestedSpec

__all__ = ["BufferInfo", "UniformReplayBuffer"]

_NOT_ENOUGH_FRAMES = ("UniformReplayBuffer: cannot sample windows of num_steps={num_steps}: "
                      "each row holds {held} frame(s)")


class BufferInfo(NamedTuple):
    """What the buffer says about sampled items.

    Attributes:
      ids: int64 frame ids (per-row add index) of the sampled frames, shape
        `[S]` or `[S, num_steps]` (no `S` dim when `sample_batch_size` is None).
      probabilities: float32 probability of sampling each item (window), shape
        `[S]` (scalar when `sample_batch_size` is None).
    """

    ids: Any
    probabilities: Any


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"UniformReplayBuffer: {name} must be a positive integer, got {value!r}")
    return int(value)


def _check_num_steps(num_steps: Optional[int]) -> Optional[int]:
    return None if num_steps is None else _check_positive_int(num_steps, "num_steps")


class _Compiled:
    """The eager `add_batch` path: a cached checker and one concrete write function."""

    __slots__ = ("checker", "write")

    def __init__(self, buffer: "UniformReplayBuffer"):
        self.checker = nest_utils.NestChecker(buffer.data_spec, name="items")
        signature = tree.flatten(tensor_spec.signature_nest(buffer.data_spec, (buffer.batch_size,)))
        self.write = tf.function(lambda *leaves: buffer._write(list(leaves)),
                                 input_signature=signature,
                                 autograph=False).get_concrete_function()


class UniformReplayBuffer(tf.Module):
    """A FIFO ring buffer of `[batch_size, capacity]` frames with uniform sampling.

    Follows TF-Agents' `TFUniformReplayBuffer` (`capacity` is its
    `max_length`: the number of frames kept per row).

    Args:
      data_spec: a nest of `TensorSpec`s or `ArraySpec`s describing one frame
        (typically `policy.collect_data_spec`); shapes must be fully defined.
      capacity: frames kept per row.
      batch_size: number of rows; every `add_batch` item has this outer dim.
      name: the module name.

    Raises:
      ValueError: `capacity` or `batch_size` is not a positive integer, or a
        spec's shape is not fully defined.
    """

    def __init__(self, data_spec: NestedSpec, capacity: int, batch_size: int = 1,
                 name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self._data_spec = tensor_spec.from_spec(data_spec)
        self._capacity = _check_positive_int(capacity, "capacity")
        self._batch_size = _check_positive_int(batch_size, "batch_size")
        self._leaf_specs = tree.flatten(self._data_spec)
        paths = [path for path, _ in nest_utils.flatten_with_paths(self._data_spec)]
        for path, spec in zip(paths, self._leaf_specs):
            if not spec.shape.is_fully_defined():
                raise ValueError(nest_utils.nest_error_message(
                    "data_spec", path, f"needs a fully defined shape, got {spec!r}",
                    owner="UniformReplayBuffer"))
        with self.name_scope:
            self._storage = [
                tf.Variable(tf.zeros([self._batch_size, self._capacity] + spec.shape.as_list(),
                                     spec.dtype),
                            trainable=False, name="data_" + path.replace("/", "_"))
                for path, spec in zip(paths, self._leaf_specs)]
            # Number of add_batch calls so far; the next frame gets this id.
            self._num_adds = tf.Variable(0, dtype=tf.int64, trainable=False, name="num_adds")
        self._compiled: Optional[_Compiled] = None

    @property
    def data_spec(self) -> NestedSpec:
        """The nest of `TensorSpec`s of one frame."""
        return self._data_spec

    @property
    def capacity(self) -> int:
        """Frames kept per row."""
        return self._capacity

    @property
    def batch_size(self) -> int:
        """Number of rows."""
        return self._batch_size

    def _pack(self, leaves: list) -> Nest:
        return tree.unflatten_as(self._data_spec, leaves)

    def add_batch(self, items: Nest) -> None:
        """Appends one frame to every row, overwriting the oldest when full.

        Eagerly, the structure, dtypes and shapes are checked once per input
        signature and the write is one call of a compiled function, so a
        `PyDriver` can call this on every step (`observers=[buffer.add_batch]`).

        Args:
          items: a nest matching `data_spec` whose leaves have outer dim
            `[batch_size]`; numpy arrays or tensors. With `batch_size=1`
            unbatched items (no outer dim, as an unbatched environment's
            trajectories) are accepted too.

        Raises:
          TypeError: the structure or a leaf's dtype differs from `data_spec`
            (the message names the path, e.g. `items at 'observation/pos'`).
          ValueError: a leaf's shape differs, or its outer dim is not
            `batch_size`.
        """
        if tf.inside_function():
            outer = nest_utils.check_nest(items, self._data_spec, name="items")
            leaves = tree.flatten_up_to(self._data_spec, items, check_types=False)
            leaves = self._batched(leaves, outer, tf.expand_dims)
            leaves = [tf.convert_to_tensor(v, dtype=s.dtype)
                      for v, s in zip(leaves, self._leaf_specs)]
            self._write(leaves, runtime_check=len(outer) == 1 and outer[0] is None)
            return
        if self._compiled is None:
            self._compiled = _Compiled(self)
        leaves, outer = self._compiled.checker(items)
        leaves = self._batched(leaves, outer, lambda x, axis: np.expand_dims(np.asarray(x), axis))
        self._compiled.write(*leaves)

    def _batched(self, leaves: list, outer: tuple, expand: Any) -> list:
        """The leaves with the outer dim `[batch_size]`, adding it to unbatched items."""
        if not leaves:
            return leaves
        if outer == () and self._batch_size == 1:
            return [expand(x, 0) for x in leaves]
        if len(outer) != 1:
            hint = ("; unbatched items are accepted only when batch_size=1"
                    if outer == () else "")
            raise ValueError(
                f"UniformReplayBuffer.add_batch: items need one outer (batch) dim of size "
                f"{self._batch_size}, got outer dims {tuple(outer)}{hint}")
        if outer[0] is not None and outer[0] != self._batch_size:
            raise ValueError(f"UniformReplayBuffer.add_batch: items have batch size {outer[0]} "
                             f"but the buffer was built with batch_size={self._batch_size}")
        return leaves

    def _write(self, leaves: list, runtime_check: bool = False) -> None:
        checks = []
        if leaves and runtime_check:
            checks.append(tf.debugging.assert_equal(
                tf.shape(leaves[0], out_type=tf.int64)[0], tf.constant(self._batch_size, tf.int64),
                message="UniformReplayBuffer.add_batch: items' batch size differs from batch_size"))
        with tf.control_dependencies(checks):
            index = self._num_adds % self._capacity
            for variable, value in zip(self._storage, leaves):
                variable[:, index].assign(value)
            self._num_adds.assign_add(1)

    def _stored_per_row(self) -> tf.Tensor:
        return tf.minimum(self._num_adds.read_value(), self._capacity)

    def num_frames(self) -> tf.Tensor:
        """int64 scalar: frames stored over all rows, `batch_size * min(adds, capacity)`."""
        return self._stored_per_row() * self._batch_size

    def _gather(self, rows: tf.Tensor, ids: tf.Tensor) -> Nest:
        """Items at `(rows, ids)` (same shape `D`); leaves have shape `D + spec.shape`."""
        indices = tf.stack([rows, ids % self._capacity], axis=-1)
        return self._pack([tf.gather_nd(variable, indices) for variable in self._storage])

    def gather_all(self) -> Nest:
        """All stored frames, oldest first.

        Returns:
          A nest matching `data_spec` with leaves of shape
          `[batch_size, T] + spec.shape`, `T = min(adds, capacity)`.
        """
        added = self._num_adds.read_value()
        ids = tf.range(added - self._stored_per_row(), added) % self._capacity
        return self._pack([tf.gather(variable, ids, axis=1) for variable in self._storage])

    def _window_range(self, num_steps: int) -> tuple:
        """First valid window start and number of valid starts per row (int64 scalars)."""
        added = self._num_adds.read_value()
        stored = tf.minimum(added, self._capacity)
        num_starts = stored - num_steps + 1
        if tf.executing_eagerly():
            if int(num_starts) < 1:
                raise ValueError(_NOT_ENOUGH_FRAMES.format(num_steps=num_steps,
                                                          held=f"only {int(stored)}"))
            checks = []
        else:
            checks = [tf.debugging.assert_positive(num_starts, message=_NOT_ENOUGH_FRAMES.format(
                num_steps=num_steps, held=f"fewer than {num_steps}"))]
        with tf.control_dependencies(checks):
            return added - stored, tf.identity(num_starts)

    def get_next(self, sample_batch_size: Optional[int] = None,
                 num_steps: Optional[int] = None) -> tuple:
        """Samples items (or windows of consecutive items) uniformly.

        Each sample picks a row and a valid window start uniformly over all
        `(row, start)` pairs, independently (with replacement).

        Args:
          sample_batch_size: number of samples `S`; None for a single sample
            without the `S` dim.
          num_steps: if given, each sample is a window of this many
            consecutive frames of one row, adding a time dim; windows never
            cross the write position.

        Returns:
          `(items, BufferInfo(ids, probabilities))`: items have leaves of shape
          `[S] + [num_steps] + spec.shape` (dims absent when the argument is
          None); see `BufferInfo` for the info's shapes.

        Raises:
          ValueError: (eagerly) a row holds fewer than `num_steps` frames (or
            none); inside `tf.function` this is an `InvalidArgumentError` at
            run time. Also for a non-positive `sample_batch_size`/`num_steps`.
        """
        num_steps = _check_num_steps(num_steps)
        num_samples = 1 if sample_batch_size is None else _check_positive_int(
            sample_batch_size, "sample_batch_size")
        steps = 1 if num_steps is None else num_steps
        first_start, num_starts = self._window_range(steps)
        num_windows = num_starts * self._batch_size
        # One draw over all (row, start) pairs keeps the choice exactly uniform.
        flat = tf.random.uniform([num_samples], 0, num_windows, dtype=tf.int64)
        rows = flat // num_starts
        starts = first_start + flat % num_starts
        probabilities = tf.fill([num_samples], 1.0 / tf.cast(num_windows, tf.float32))
        if num_steps is not None:
            ids = starts[:, None] + tf.range(num_steps, dtype=tf.int64)[None, :]
            rows = tf.broadcast_to(rows[:, None], tf.shape(ids, out_type=tf.int64))
        else:
            ids = starts
        items = self._gather(rows, ids)
        info = BufferInfo(ids, probabilities)
        if sample_batch_size is None:
            items, info = tree.map_structure(lambda x: x[0], (items, info))
        return items, info

    def _single_pass_dataset(self, sample_batch_size: Optional[int],
                             num_steps: Optional[int]) -> tf.data.Dataset:
        steps = 1 if num_steps is None else num_steps

        def windows(_: tf.Tensor) -> tf.data.Dataset:
            # Read the write position once, when iteration starts.
            added = self._num_adds.read_value()
            stored = tf.minimum(added, self._capacity)
            num_starts = tf.maximum(stored - steps + 1, 0)
            probability = 1.0 / tf.cast(tf.maximum(num_starts * self._batch_size, 1), tf.float32)

            def window(i: tf.Tensor) -> tuple:
                start = added - stored + i // self._batch_size
                row = i % self._batch_size
                if num_steps is None:
                    ids = start
                else:
                    ids = start + tf.range(num_steps, dtype=tf.int64)
                rows = tf.fill(tf.shape(ids, out_type=tf.int64), row)
                return self._gather(rows, ids), BufferInfo(ids, probability)

            return tf.data.Dataset.range(num_starts * self._batch_size).map(window)

        dataset = tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).flat_map(windows)
        if sample_batch_size is not None:
            dataset = dataset.batch(sample_batch_size)
        return dataset

    def as_dataset(self, sample_batch_size: Optional[int] = None, num_steps: Optional[int] = None,
                   num_parallel_calls: Optional[int] = None,
                   single_deterministic_pass: bool = False) -> tf.data.Dataset:
        """A `tf.data.Dataset` of `(items, BufferInfo)` read from the buffer.

        Args:
          sample_batch_size: as in `get_next`.
          num_steps: as in `get_next`.
          num_parallel_calls: parallelism of the sampling `map` (random mode).
          single_deterministic_pass: if False, an endless stream of
            `get_next(sample_batch_size, num_steps)` results. If True, every
            valid window of every row exactly once, then the dataset ends:
            ordered by window start, then row (so `batch_size` consecutive
            elements are one window from each row), batched by
            `sample_batch_size` with the last batch possibly smaller.

        Returns:
          The dataset. It reads the buffer when iterated, not when built.

        Raises:
          ValueError: a non-positive `sample_batch_size` or `num_steps`.
        """
        num_steps = _check_num_steps(num_steps)
        if sample_batch_size is not None:
            _check_positive_int(sample_batch_size, "sample_batch_size")
        if single_deterministic_pass:
            return self._single_pass_dataset(sample_batch_size, num_steps)
        return tf.data.Dataset.range(1).repeat().map(
            lambda _: self.get_next(sample_batch_size, num_steps),
            num_parallel_calls=num_parallel_calls)

    def clear(self) -> None:
        """Empties the buffer: zeroes the storage and resets the write position."""
        for variable in self._storage:
            variable.assign(tf.zeros_like(variable))
        self._num_adds.assign(0)
