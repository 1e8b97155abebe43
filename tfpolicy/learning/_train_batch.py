"""The batch a loss reads inside the compiled learning step.

A dict of tensors under `SampleBatch` column names, with the attributes a
loss written for RLlib reads (`is_training`, `count`, `seq_lens`). Reading a
column the batch does not have raises `MissingColumnError`, which names the
column and the columns present: there is no dummy batch that would let a
loss trace against columns the real batch lacks.

>>> import tensorflow as tf
>>> batch = TrainBatch({"obs": tf.zeros([3, 2]), "actions": tf.zeros([3], tf.int64)})
>>> batch.count, batch.is_training
(3, True)
>>> try:
...     batch["advantages"]
... except KeyError as error:
...     print(error)
the loss reads the column 'advantages', which the train batch does not have; its columns: ['actions', 'obs']
"""

from typing import Any, List, Mapping, Optional

import tensorflow as tf
import tree

__all__ = ["MissingColumnError", "TrainBatch", "OptimizerWrapper"]


class MissingColumnError(KeyError):
    """A loss (or stats function) read a column the train batch does not have."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else super().__str__()


class TrainBatch(dict):
    """Tensor columns of one train batch.

    Args:
      columns: column name -> tensor (or nest of tensors) with the rows first.
      is_training: what `model.from_batch` and the loss see as `is_training`.
      left_out: columns of the sample batch kept out of the compiled step
        (object columns such as `infos`), named in the missing-column error.
    """

    def __init__(self, columns: Mapping[str, Any], is_training: bool = True,
                 left_out: Optional[List[str]] = None):
        super().__init__(columns)
        self.is_training = is_training
        self.accessed_keys: set = set()
        self._left_out = sorted(left_out or [])

    def __getitem__(self, key: str) -> Any:
        self.accessed_keys.add(key)
        try:
            return super().__getitem__(key)
        except KeyError:
            hint = (f" ({self._left_out} are kept out of the compiled step: they are not "
                    "numeric)" if key in self._left_out else "")
            raise MissingColumnError(
                f"the loss reads the column {key!r}, which the train batch does not have; its "
                f"columns: {sorted(dict.keys(self))}{hint}") from None

    @property
    def count(self) -> Any:
        """The number of rows (a Python int when the shape is static, else a tensor)."""
        for key in sorted(dict.keys(self)):
            if key == "seq_lens" or key.startswith(("state_in_", "state_out_")):
                continue
            leaf = tree.flatten(super().__getitem__(key))[0]
            static = leaf.shape[0]
            return int(static) if static is not None else tf.shape(leaf)[0]
        return 0

    def __len__(self) -> int:  # RLlib's `len(train_batch)` is the row count
        count = self.count
        if not isinstance(count, int):
            raise TypeError("the train batch's row count is only known at run time; use "
                            "train_batch.count or tf.shape")
        return count

    def set_training(self, training: bool = True) -> None:
        """Sets `is_training`."""
        self.is_training = training

    @property
    def seq_lens(self) -> Optional[tf.Tensor]:
        """The sequence lengths of a recurrent batch, None otherwise."""
        return self.get("seq_lens")

    def copy(self, shallow: bool = True) -> "TrainBatch":  # type: ignore[override]
        """A copy sharing the tensors (tensors are immutable)."""
        return TrainBatch(dict(self), self.is_training, self._left_out)


class OptimizerWrapper:
    """What a `compute_gradients_fn(policy, optimizer, loss)` gets as `optimizer`:
    the Keras optimizer's attributes plus RLlib's `compute_gradients(loss, var_list)`
    over the learning step's gradient tape."""

    def __init__(self, optimizer: Any, tape: tf.GradientTape):
        self._optimizer = optimizer
        self._tape = tape

    def compute_gradients(self, loss: tf.Tensor, var_list: List[tf.Variable]) -> List[Any]:
        """`[(gradient, variable)]` of `loss` (None for a variable it does not depend on)."""
        return list(zip(self._tape.gradient(loss, var_list), var_list))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._optimizer, name)

