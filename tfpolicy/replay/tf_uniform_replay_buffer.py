"""TF-Agents' `TFUniformReplayBuffer`, with its constructor and dataset options.

`TFUniformReplayBuffer` is a `UniformReplayBuffer` built the way TF-Agents
code builds one (`batch_size`, `max_length`, `scope`, `device`) whose
`capacity` is the whole buffer's, `batch_size * max_length`, as in TF-Agents.
Adding, sampling, checkpointing and the error messages are the
`UniformReplayBuffer`'s. What it adds:

- `get_next(..., time_stacked=False)`: a tuple of `num_steps` items instead
  of one item with a time dim;
- `as_dataset(..., single_deterministic_pass=True)` walks the buffer in
  TF-Agents' order: row by row (or `sample_batch_size` rows at a time), each
  row's frames oldest first, cut into windows of `num_steps` frames that
  start `dataset_window_shift` frames apart (`num_steps` apart when None, so
  each frame is read once). A short last window is kept unless
  `dataset_drop_remainder` is set or rows are batched (a batch needs whole
  windows), and a short last group of rows is kept unless
  `dataset_drop_remainder` is set;
- `clear(clear_all_variables=False)`.

>>> import tensorflow as tf
>>> buffer = TFUniformReplayBuffer(tf.TensorSpec((), tf.int32), batch_size=2, max_length=5)
>>> for t in range(5):
...     buffer.add_batch(tf.constant([t, 10 + t]))
>>> [w.numpy().tolist() for w, _ in buffer.as_dataset(num_steps=2,
...                                                   single_deterministic_pass=True)]
[[0, 1], [2, 3], [4], [10, 11], [12, 13], [14]]
>>> int(buffer.capacity)
10
"""

from typing import Optional

import tensorflow as tf
import tree

from specs import NestedSpec

from .uniform_replay_buffer import BufferInfo, UniformReplayBuffer

__all__ = ["TFUniformReplayBuffer"]


class TFUniformReplayBuffer(UniformReplayBuffer):
    """A uniform replay buffer with TF-Agents' constructor and dataset options.

    Args:
      data_spec: a nest of `TensorSpec`s or `ArraySpec`s describing one frame
        (typically `policy.collect_data_spec`); shapes must be fully defined.
      batch_size: number of rows; every `add_batch` item has this outer dim.
      max_length: frames kept per row.
      scope: the module's name (TF-Agents' variable scope); a Python
        identifier.
      device: the device holding the storage variables, e.g. `"cpu:*"`.
      dataset_drop_remainder: in a `single_deterministic_pass` dataset, drop a
        last window shorter than `num_steps` and a last group of fewer than
        `sample_batch_size` rows, so every element has a static shape.
      dataset_window_shift: in a `single_deterministic_pass` dataset with
        `num_steps`, the distance between the starts of consecutive windows;
        None for `num_steps` (windows do not overlap), 1 for every window.
      stateful_dataset: kept for TF-Agents' signature and reported by the
        property of that name; TensorFlow's `tf.data` needs no option for
        the buffer's datasets.

    Raises:
      ValueError: `batch_size`, `max_length` or `dataset_window_shift` is not
        a positive integer, or a spec's shape is not fully defined.
    """

    def __init__(self, data_spec: NestedSpec, batch_size: int, max_length: int = 1000,
                 scope: str = "TFUniformReplayBuffer", device: str = "cpu:*",
                 dataset_drop_remainder: bool = False,
                 dataset_window_shift: Optional[int] = None,
                 stateful_dataset: bool = False) -> None:
        if dataset_window_shift is not None and (
                isinstance(dataset_window_shift, bool) or not isinstance(dataset_window_shift, int)
                or dataset_window_shift < 1):
            raise ValueError(f"TFUniformReplayBuffer: dataset_window_shift must be None or a "
                             f"positive integer, got {dataset_window_shift!r}")
        self._device = device
        with tf.device(device):
            super().__init__(data_spec, capacity=max_length, batch_size=batch_size, name=scope)
        self._scope = scope
        self._dataset_drop_remainder = bool(dataset_drop_remainder)
        self._dataset_window_shift = dataset_window_shift
        self._stateful_dataset = bool(stateful_dataset)

    @property
    def capacity(self) -> int:
        """Frames the whole buffer holds, `batch_size * max_length` (TF-Agents' meaning)."""
        return self._batch_size * self._capacity

    @property
    def max_length(self) -> int:
        """Frames kept per row."""
        return self._capacity

    @property
    def device(self) -> str:
        """The device given to the constructor."""
        return self._device

    @property
    def scope(self) -> str:
        """The scope (module name) given to the constructor."""
        return self._scope

    @property
    def stateful_dataset(self) -> bool:
        """The `stateful_dataset` given to the constructor."""
        return self._stateful_dataset

    def get_next(self, sample_batch_size: Optional[int] = None, num_steps: Optional[int] = None,
                 time_stacked: bool = True) -> tuple:
        """Samples items (or windows of consecutive items) uniformly.

        As `UniformReplayBuffer.get_next`, with TF-Agents' `time_stacked`.

        Args:
          sample_batch_size: number of samples `S`; None for a single sample
            without the `S` dim.
          num_steps: if given, each sample is a window of this many
            consecutive frames of one row.
          time_stacked: with `num_steps`, True stacks the window on a time dim
            (leaves `[S, num_steps] + spec.shape`); False returns a tuple of
            `num_steps` items (leaves `[S] + spec.shape`), and `BufferInfo.ids`
            is a tuple of `num_steps` id tensors of shape `[S]`.

        Returns:
          `(items, BufferInfo(ids, probabilities))`.
        """
        items, info = super().get_next(sample_batch_size, num_steps)
        if num_steps is None or time_stacked:
            return items, info
        axis = 0 if sample_batch_size is None else 1
        steps = [tree.map_structure(lambda x, t=t: tf.gather(x, t, axis=axis), items)
                 for t in range(num_steps)]
        ids = tuple(tf.unstack(info.ids, num=num_steps, axis=axis))
        return tuple(steps), BufferInfo(ids, info.probabilities)

    def as_dataset(self, sample_batch_size: Optional[int] = None, num_steps: Optional[int] = None,
                   num_parallel_calls: Optional[int] = None,
                   single_deterministic_pass: bool = False) -> tf.data.Dataset:
        """A `tf.data.Dataset` of `(items, BufferInfo)` read from the buffer.

        Args:
          sample_batch_size: samples per element; None for no sample dim.
          num_steps: frames per window; None for single frames.
          num_parallel_calls: parallelism of the reading `map`.
          single_deterministic_pass: False for an endless stream of
            `get_next(sample_batch_size, num_steps)` results. True for one
            ordered pass (see the module docstring): leaves have shape
            `[num_steps] + spec.shape` without `sample_batch_size`, and
            `[S, num_steps] + spec.shape` with it (`S` rows per element, the
            last group smaller unless `dataset_drop_remainder`).

        Returns:
          The dataset; it reads the buffer when iterated, not when built.

        Raises:
          ValueError: a non-positive `sample_batch_size` or `num_steps`; or,
            with `dataset_drop_remainder`, a `sample_batch_size` above
            `batch_size` or a `num_steps` above `max_length`, which would drop
            every element.
        """
        if not single_deterministic_pass:
            return super().as_dataset(sample_batch_size, num_steps, num_parallel_calls)
        # The base class checks the arguments' types and signs.
        super().as_dataset(sample_batch_size, num_steps, single_deterministic_pass=True)
        if self._dataset_drop_remainder:
            for name, value, limit, limit_name in (
                    ("sample_batch_size", sample_batch_size, self._batch_size, "batch_size"),
                    ("num_steps", num_steps, self._capacity, "max_length")):
                if value is not None and value > limit:
                    raise ValueError(
                        f"TFUniformReplayBuffer: {name}={value} is above {limit_name}={limit} "
                        f"with dataset_drop_remainder=True, so every element would be dropped")
        return self._ordered_dataset(sample_batch_size, num_steps, num_parallel_calls)

    def _ordered_dataset(self, sample_batch_size: Optional[int], num_steps: Optional[int],
                         num_parallel_calls: Optional[int]) -> tf.data.Dataset:
        drop = self._dataset_drop_remainder
        shift = self._dataset_window_shift

        def frame_ids(_: tf.Tensor) -> tf.data.Dataset:
            # Read the write position once, when iteration starts.
            added = self._num_adds.read_value()
            first = added - tf.minimum(added, self._capacity)
            rows = tf.data.Dataset.range(self._batch_size)
            if sample_batch_size is not None:
                rows = rows.batch(sample_batch_size, drop_remainder=drop)

            def row_frames(row: tf.Tensor) -> tf.data.Dataset:
                frames = tf.data.Dataset.range(first, added)
                if num_steps is not None:
                    # Windows of frame ids, `shift` apart (`num_steps` when None).
                    # A batch of rows needs whole windows, so it drops a short one.
                    whole = drop or sample_batch_size is not None
                    frames = frames.window(num_steps, shift=shift).flat_map(
                        lambda window: window.batch(num_steps, drop_remainder=whole))
                return frames.map(lambda ids: (row, ids))

            return rows.flat_map(row_frames)

        def read(row: tf.Tensor, ids: tf.Tensor) -> tuple:
            if sample_batch_size is not None and num_steps is not None:
                # `row` is `[S]` and `ids` `[num_steps]`: every row reads the same frames.
                shape = tf.stack([tf.size(row, out_type=tf.int64), tf.size(ids, out_type=tf.int64)])
                row, ids = row[:, None], ids[None, :]
            elif sample_batch_size is not None:
                shape = tf.shape(row, out_type=tf.int64)
            else:
                shape = tf.shape(ids, out_type=tf.int64)
            rows, ids = tf.broadcast_to(row, shape), tf.broadcast_to(ids, shape)
            return self._gather(rows, ids), BufferInfo(ids, ())

        dataset = tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).flat_map(frame_ids)
        return dataset.map(read, num_parallel_calls=num_parallel_calls)

    def clear(self, clear_all_variables: bool = False) -> None:
        """Empties the buffer.

        Args:
          clear_all_variables: False resets the write position only, so the
            old frames can no longer be read (TF-Agents' default); True also
            zeroes the storage.
        """
        if clear_all_variables:
            super().clear()
        else:
            self._num_adds.assign(0)

