"""`ColumnDict`: the storage under `SampleBatch`.

A dict of columns with RLlib's column names, the batch flags, the row count,
computed `dones`, and the tracking of columns read, added and deleted.
`SampleBatch` (in `sample_batch`) adds its operations to it; their code
lives in `_slicing`, `_padding`, `_bootstrap`, `_trajectory` and `_concat`.
"""

import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from tfpolicy.learning import _slicing
from tfpolicy.learning._columns import (_DONES_MESSAGE, _SEQ_LENS, _as_column, _count_rows,
                                        _leading_dim, _leaves, _leaves_with_paths, _map)

if TYPE_CHECKING:
    from tfpolicy.learning.sample_batch import SampleBatch


class ColumnDict(dict):
    """`SampleBatch` without its operations: columns, flags, counting and access.

    See `SampleBatch` for the constructor, `count`, `dones` and the attributes.
    """

    # Data from the environment.
    OBS = "obs"
    CUR_OBS = "obs"
    NEXT_OBS = "new_obs"
    ACTIONS = "actions"
    REWARDS = "rewards"
    PREV_ACTIONS = "prev_actions"
    PREV_REWARDS = "prev_rewards"
    TERMINATEDS = "terminateds"
    TRUNCATEDS = "truncateds"
    DONES = "dones"
    INFOS = "infos"
    # Bookkeeping.
    SEQ_LENS = "seq_lens"
    T = "t"
    EPS_ID = "eps_id"
    ENV_ID = "env_id"
    AGENT_INDEX = "agent_index"
    UNROLL_ID = "unroll_id"
    # Policy outputs and postprocessing.
    ACTION_DIST_INPUTS = "action_dist_inputs"
    ACTION_PROB = "action_prob"
    ACTION_LOGP = "action_logp"
    ACTION_DIST = "action_dist"
    VF_PREDS = "vf_preds"
    VALUES_BOOTSTRAPPED = "values_bootstrapped"
    OBS_EMBEDS = "obs_embeds"
    RETURNS_TO_GO = "returns_to_go"
    ATTENTION_MASKS = "attention_masks"
    # Trajectory fields without an RLlib column, kept so `to_trajectory` is exact.
    STEP_TYPE = "step_type"
    NEXT_STEP_TYPE = "next_step_type"
    DISCOUNT = "discount"
    POLICY_INFO = "policy_info"

    def __init__(self, *args: Any, **kwargs: Any):
        time_major = kwargs.pop("_time_major", None)
        max_seq_len = kwargs.pop("_max_seq_len", None)
        zero_padded = kwargs.pop("_zero_padded", False)
        is_training = kwargs.pop("_is_training", None)
        num_grad_updates = kwargs.pop("_num_grad_updates", None)
        dict.__init__(self, *args, **kwargs)
        if dict.__contains__(self, self.DONES):
            raise KeyError(_DONES_MESSAGE)
        if is_training is None:
            is_training = dict.pop(self, "is_training", False)
        if dict.__contains__(self, _SEQ_LENS):
            seq_lens = dict.__getitem__(self, _SEQ_LENS)
            if seq_lens is None or (isinstance(seq_lens, (list, tuple)) and not seq_lens):
                dict.__delitem__(self, _SEQ_LENS)
            elif isinstance(seq_lens, (list, tuple)):
                dict.__setitem__(self, _SEQ_LENS, np.asarray(seq_lens, np.int32))
        for key, value in list(dict.items(self)):
            column = _as_column(key, value)
            if column is not value:
                dict.__setitem__(self, key, column)
        seq_lens = dict.get(self, _SEQ_LENS)
        if max_seq_len is None and isinstance(seq_lens, np.ndarray) and seq_lens.size:
            max_seq_len = int(seq_lens.max())
        self._init_attributes(time_major, max_seq_len, zero_padded, is_training,
                              num_grad_updates)

    def _init_attributes(self, time_major: Optional[bool], max_seq_len: Optional[int],
                         zero_padded: bool, is_training: Any,
                         num_grad_updates: Optional[float]) -> None:
        self.time_major = time_major
        self.max_seq_len = max_seq_len
        self.zero_padded = zero_padded
        self._is_training = is_training
        self.num_grad_updates = num_grad_updates
        self.accessed_keys = set()
        self.added_keys = set()
        self.deleted_keys = set()
        self.intercepted_values = {}
        self.get_interceptor = None
        self._count = None
        self._offsets = None

    @classmethod
    def _wrap(cls, data: Dict[str, Any], count: Optional[int], *, is_training: Any = False,
              time_major: Optional[bool] = None, zero_padded: bool = False,
              max_seq_len: Optional[int] = None,
              num_grad_updates: Optional[float] = None) -> "SampleBatch":
        """A batch over already-converted columns, without the constructor's checks (hot paths)."""
        batch = cls.__new__(cls)
        dict.__init__(batch, data)
        batch._init_attributes(time_major, max_seq_len, zero_padded, is_training,
                               num_grad_updates)
        batch._count = count
        return batch

    def _flags(self) -> Dict[str, Any]:
        return dict(is_training=self._is_training, time_major=self.time_major,
                    zero_padded=self.zero_padded, max_seq_len=self.max_seq_len,
                    num_grad_updates=self.num_grad_updates)

    def __reduce__(self) -> tuple:
        # Rebuilt from columns and flags: the tracking sets and the interceptor stay behind.
        return (_rebuild_sample_batch, (type(self), dict(self), self._flags()))

    # Counting.

    @property
    def count(self) -> int:
        """The number of rows: `sum(seq_lens)` with sequences, else the first column's rows."""
        if self._count is None:
            self._count = _count_rows(self)
        return self._count

    @count.setter
    def count(self, value: int) -> None:
        self._count = int(value)

    def __len__(self) -> int:
        return self.count

    def env_steps(self) -> int:
        """The number of environment steps: `len(self)` for single-agent data."""
        return self.count

    def agent_steps(self) -> int:
        """The number of agent steps: `len(self)` for single-agent data."""
        return self.count

    @property
    def is_training(self) -> Any:
        """Whether the batch is for training (False for action computation)."""
        if self.get_interceptor is not None and isinstance(self._is_training, bool):
            if "_is_training" not in self.intercepted_values:
                self.intercepted_values["_is_training"] = self.get_interceptor(self._is_training)
            return self.intercepted_values["_is_training"]
        return self._is_training

    def set_training(self, training: Any = True) -> None:
        """Sets `is_training`."""
        self._is_training = training
        self.intercepted_values.pop("_is_training", None)

    # Column access.

    def __getitem__(self, key: Union[str, slice]) -> Any:
        """A column by name, or a new batch for a slice of rows (see the class docstring)."""
        if isinstance(key, slice):
            return _slicing.slice_rows(self, key)
        if key == self.DONES:
            return self._dones()
        value = dict.__getitem__(self, key)
        self.accessed_keys.add(key)
        if self.get_interceptor is not None:
            if key not in self.intercepted_values:
                self.intercepted_values[key] = self.get_interceptor(value)
            value = self.intercepted_values[key]
        return value

    def __missing__(self, key: Any) -> Any:
        raise KeyError(f"SampleBatch has no column {key!r}; its columns are "
                       f"{sorted(map(str, dict.keys(self)))}")

    def get(self, key: str, default: Any = None) -> Any:
        """`self[key]` if the batch has that column (or can compute `dones`), else `default`."""
        if key == self.DONES:
            return self._dones() if dict.__contains__(self, self.TERMINATEDS) else default
        return self[key] if dict.__contains__(self, key) else default

    def _dones(self) -> np.ndarray:
        if not dict.__contains__(self, self.TERMINATEDS):
            raise KeyError(f"SampleBatch computes 'dones' from 'terminateds' (and 'truncateds'), "
                           f"which it does not have; its columns are {sorted(map(str, self))}")
        done = np.asarray(dict.__getitem__(self, self.TERMINATEDS), dtype=bool)
        truncated = dict.get(self, self.TRUNCATEDS)
        return done if truncated is None else np.logical_or(done, truncated)

    def __setitem__(self, key: str, value: Any) -> None:
        if key == self.DONES:
            raise KeyError(_DONES_MESSAGE)
        if not dict.__contains__(self, key):
            self.added_keys.add(key)
        dict.__setitem__(self, key, value)
        self._changed(key)

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self.deleted_keys.add(key)
        self._changed(key)

    def pop(self, key: str, *default: Any) -> Any:
        """Removes a column and returns it (or `default`), as `dict.pop`."""
        present = dict.__contains__(self, key)
        value = dict.pop(self, key, *default)
        if present:
            self.deleted_keys.add(key)
            self._changed(key)
        return value

    def popitem(self) -> tuple:
        key, value = dict.popitem(self)
        self.deleted_keys.add(key)
        self._changed(key)
        return key, value

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Sets columns, as `dict.update`, through `__setitem__`."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            self[key] = default
        return self[key]

    def clear(self) -> None:
        self.deleted_keys.update(dict.keys(self))
        dict.clear(self)
        self._changed(None)

    def _changed(self, key: Optional[str]) -> None:
        self._count = None
        self._offsets = None
        if key is None:
            self.intercepted_values = {}
        else:
            self.intercepted_values.pop(key, None)

    def set_get_interceptor(self, fn: Optional[Callable[[Any], Any]]) -> None:
        """Converts each column read through `self[key]` with `fn` (once per column, cached)."""
        if fn is not self.get_interceptor:
            self.intercepted_values = {}
        self.get_interceptor = fn

    def columns(self, keys: Sequence[str]) -> List[Any]:
        """`[self[k] for k in keys]`."""
        return [self[key] for key in keys]

    def rows(self) -> Iterator[Dict[str, Any]]:
        """Yields one dict per row, `{column: value[i]}` (nests mapped leaf-wise).

        A batch with `seq_lens` gives each row `seq_lens: 1`.

        Raises:
          ValueError: if a column does not hold one row per timestep (e.g.
            `state_in_0` with one row per sequence, or zero-padded columns).
        """
        count = self.count
        has_seq_lens = dict.__contains__(self, _SEQ_LENS)
        columns = {k: v for k, v in dict.items(self) if k != _SEQ_LENS}
        for key, value in columns.items():
            for path, leaf in _leaves_with_paths(key, value):
                if _leading_dim(leaf) != count:
                    raise ValueError(
                        f"SampleBatch.rows() needs one row per timestep in every column: "
                        f"column '{path}' has {_leading_dim(leaf)} rows, the batch has {count}")
        for i in range(count):
            row = {key: _map(lambda leaf: leaf[i], value) for key, value in columns.items()}
            if has_seq_lens:
                row[_SEQ_LENS] = 1
            yield row

    def copy(self, shallow: bool = False) -> "SampleBatch":
        """A new batch with the same flags; numpy leaves are copied unless `shallow`."""
        if shallow:
            data = dict(self)
        else:
            data = {k: _map(lambda v: v.copy() if isinstance(v, np.ndarray) else v, v)
                    for k, v in dict.items(self)}
        batch = self._wrap(data, self._count, **self._flags())
        batch.set_get_interceptor(self.get_interceptor)
        batch.accessed_keys = self.accessed_keys
        batch.added_keys = self.added_keys
        batch.deleted_keys = self.deleted_keys
        return batch

    def size_bytes(self) -> int:
        """The bytes held by all columns (`nbytes` of arrays, `sys.getsizeof` of other leaves)."""
        return sum(leaf.nbytes if isinstance(leaf, np.ndarray) else sys.getsizeof(leaf)
                   for value in dict.values(self) for leaf in _leaves(value))

    def __repr__(self) -> str:
        keys = [k for k in dict.keys(self) if k != _SEQ_LENS]
        if not dict.__contains__(self, _SEQ_LENS):
            return f"SampleBatch({self.count}: {keys})"
        return f"SampleBatch({self.count} (seqs={len(dict.__getitem__(self, _SEQ_LENS))}): {keys})"

    def _seq_offsets(self) -> np.ndarray:
        """`[num_seqs + 1]`: the unpadded row where each sequence starts, then the total."""
        if self._offsets is None:
            seq_lens = dict.__getitem__(self, _SEQ_LENS)
            self._offsets = np.concatenate([[0], np.cumsum(seq_lens, dtype=np.int64)])
        return self._offsets


def _rebuild_sample_batch(cls: type, data: Dict[str, Any], flags: Dict[str, Any]
                          ) -> "SampleBatch":
    return cls._wrap(data, None, **flags)
