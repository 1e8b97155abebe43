"""Replay buffers for off-policy algorithms: uniform and prioritized, in numpy.

`ReplayBuffer(capacity)` keeps the last `capacity` rows (timesteps) of the
`SampleBatch`es added to it, in preallocated numpy columns (the column set,
nest structure, row shapes and dtypes fixed by the first batch), and samples
rows uniformly with replacement. `PrioritizedReplayBuffer(capacity, alpha)`
samples row `i` with probability

    P(i) = p_i^α / Σ_k p_k^α,

where a new row gets the largest priority seen so far and
`update_priorities` sets `p_i = |δ_i| + ε` from the learner's TD errors
(Schaul et al. 2016, "Prioritized Experience Replay"). Its samples carry
the importance weights

    w_i = (N · P(i))^(-β) / max_k (N · P(k))^(-β),

normalised by the largest possible weight (that of the smallest priority),
under `weights`, and the rows' slots under `batch_indexes`. These are
RLlib's names and formulas.

Both buffers draw from their own `np.random.Generator` (`seed`), and
`get_state()` returns everything, that generator's state included, as
numpy arrays and JSON-able values (no pickle), so a buffer restored with
`set_state` holds the same rows and draws the same samples.

>>> from tfpolicy.learning import SampleBatch
>>> buffer = ReplayBuffer(capacity=3, seed=0)
>>> buffer.add(SampleBatch({"obs": np.arange(4.0), "actions": np.array([0, 1, 0, 1])}))
>>> len(buffer), sorted(buffer.sample(2))
(3, ['actions', 'obs'])
>>> prioritized = PrioritizedReplayBuffer(capacity=4, alpha=0.6, seed=0)
>>> prioritized.add(SampleBatch({"obs": np.arange(4.0)}))
>>> batch = prioritized.sample(2, beta=0.4)
>>> batch["weights"].tolist()
[1.0, 1.0]
>>> prioritized.update_priorities(batch["batch_indexes"], np.array([0.5, 2.0]))
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tree

from tfpolicy.algorithms._segment_tree import MinSegmentTree, SumSegmentTree, set_leaves
from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch

__all__ = ["ReplayBuffer", "PrioritizedReplayBuffer"]

# Rows of Python objects cannot be checkpointed without pickle; `infos` is left out.
_SKIPPED_COLUMNS = frozenset({SampleBatch.INFOS})
_WEIGHTS = "weights"
_BATCH_INDEXES = "batch_indexes"

Seed = Union[None, int, np.random.SeedSequence, np.random.Generator]


class _Leaf:
    """The shape of one stored row and its dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: Tuple[int, ...], dtype: np.dtype):
        self.shape = shape
        self.dtype = dtype

    def describe(self) -> str:
        return f"rows of shape {self.shape} and dtype {self.dtype}"


def _skeleton(value: Any, column: str) -> Any:
    """The nest structure of a column as JSON: a leaf is None, dicts, tuples and lists tagged."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"column {column!r}: nest keys must be strings to be "
                                f"checkpointed, got {key!r}")
        return {"dict": {key: _skeleton(v, f"{column}/{key}") for key, v in value.items()}}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"tuple": [_skeleton(v, f"{column}/{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return {"list": [_skeleton(v, f"{column}/{i}") for i, v in enumerate(value)]}
    if isinstance(value, np.ndarray):
        return None
    raise TypeError(f"column {column!r}: the buffer stores numpy arrays and dict/tuple/list "
                    f"nests of them, got {type(value).__name__}")


def _from_skeleton(skeleton: Any) -> Any:
    """A nest with `skeleton`'s structure and placeholder leaves (for `tree.unflatten_as`)."""
    if skeleton is None:
        return 0
    (kind, content), = skeleton.items()
    if kind == "dict":
        return {key: _from_skeleton(v) for key, v in content.items()}
    children = [_from_skeleton(v) for v in content]
    return tuple(children) if kind == "tuple" else children


def _single_batch(batch: Any, owner: str) -> Mapping[str, Any]:
    if isinstance(batch, MultiAgentBatch):
        if set(batch.policy_batches) != {DEFAULT_POLICY_ID}:
            raise TypeError(f"{owner}: a MultiAgentBatch with policies "
                            f"{sorted(batch.policy_batches)}: the buffer stores single-agent "
                            f"batches ({DEFAULT_POLICY_ID!r} only)")
        batch = batch.policy_batches[DEFAULT_POLICY_ID]
    if not isinstance(batch, Mapping):
        raise TypeError(f"{owner}: expected a SampleBatch (or a mapping of columns), got "
                        f"{type(batch).__name__}")
    if SampleBatch.SEQ_LENS in batch:
        raise ValueError(f"{owner}: the batch has 'seq_lens'; the buffer stores single "
                         "timesteps, not sequences")
    return batch


def _check_count(name: str, value: Any, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1, got {value!r}")
    return int(value)


class ReplayBuffer:
    """A first-in first-out store of timesteps, sampled uniformly with replacement.

    Rows are written in slot order, `(next_index + j) % capacity`; once full,
    each new row replaces the oldest. Every leaf of every column (nests of
    numpy arrays, e.g. a Dict observation) has its own `[capacity, ...]`
    array, allocated when the first batch arrives. The `infos` column
    (Python objects) is not stored.

    Args:
      capacity: the number of timesteps kept (>= 1).
      seed: seeds the sampling Generator (an int, a `SeedSequence`, a
        Generator, or None for fresh entropy).

    Raises:
      ValueError: `capacity` < 1.
    """

    def __init__(self, capacity: int, seed: Seed = None):
        self.capacity = _check_count("capacity", capacity, type(self).__name__)
        self._rng = np.random.default_rng(seed)
        self._size = 0
        self._next_index = 0
        self._num_added = 0
        self._num_sampled = 0
        # column -> skeleton (None for a plain array), row layouts and storage per leaf.
        self._skeletons: Optional[Dict[str, Any]] = None
        self._leaves: Dict[str, List[_Leaf]] = {}
        self._storage: Dict[str, List[np.ndarray]] = {}
        self._nests: Dict[str, Any] = {}
        self._plain: Dict[str, Tuple[np.ndarray, Tuple[int, ...], np.dtype]] = {}

    def __len__(self) -> int:
        """The number of rows held (at most `capacity`)."""
        return self._size

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._size}/{self.capacity} rows)"

    # ---- adding -------------------------------------------------------------------------------

    def add(self, batch: SampleBatch, **kwargs: Any) -> None:
        """Appends the batch's rows (all of its columns but `infos`).

        Args:
          batch: a `SampleBatch` (or a mapping of columns, or a
            `MultiAgentBatch` holding only the default policy) without
            `seq_lens`. Every later batch must have the first one's columns,
            nests and row shapes; dtypes are cast when numpy casts them
            within their kind (float64 rewards into a float32 column).

        Raises:
          ValueError: other columns than the buffer's, a row shape or a
            dtype that does not fit (the column and both sides named),
            columns of different lengths, or `seq_lens`.
          TypeError: a column that is not a numpy array or a nest of them.
        """
        self._add(batch)

    def _add(self, batch: Any) -> Tuple[int, int]:
        """Writes the rows; returns `(first slot, rows kept)` (only the last `capacity` rows
        are kept, in slots `first, first + 1, ...` modulo the capacity)."""
        owner = f"{type(self).__name__}.add"
        columns = batch if isinstance(batch, dict) else _single_batch(batch, owner)
        pairs, rows = (None, 0) if self._skeletons is None else self._matching(columns)
        if pairs is None:
            columns = _single_batch(columns, owner)
            flat = self._flat_columns(columns, owner)
            rows = self._rows(flat, owner)
            if rows == 0:
                return 0, 0
            if self._skeletons is None:
                self._allocate(columns, flat)
            else:
                self._check(flat, owner)
            pairs = [(store, leaf) for key, leaves in flat.items()
                     for store, leaf in zip(self._storage[key], leaves)]
        elif rows == 0:
            return 0, 0
        capacity = self.capacity
        kept = min(rows, capacity)
        skip = rows - kept
        start = (self._next_index + skip) % capacity
        end = start + kept
        if not skip and end <= capacity:
            for store, leaf in pairs:
                store[start:end] = leaf
        else:
            split = capacity - start
            for store, leaf in pairs:
                leaf = leaf[skip:]
                if end <= capacity:
                    store[start:end] = leaf
                else:
                    store[start:] = leaf[:split]
                    store[:end - capacity] = leaf[split:]
        self._next_index = end % capacity
        self._size = min(self._size + rows, capacity)
        self._num_added += rows
        return start, kept

    def _matching(self, columns: Mapping[str, Any]) -> Tuple[Optional[List[Tuple[Any, Any]]], int]:
        """`[(storage, leaf)]` and the row count when every column matches the buffer's
        exactly (same columns, plain arrays or nests, row shapes and dtypes); else
        `(None, 0)`, and the caller takes the checking path, which casts or names the
        mismatch."""
        plain = self._plain
        pairs: List[Tuple[Any, Any]] = []
        rows = -1
        found = 0
        items = dict.items(columns) if isinstance(columns, dict) else columns.items()
        for key, value in items:
            entry = plain.get(key)
            if entry is not None and type(value) is np.ndarray:
                store, shape, dtype = entry
                value_shape = value.shape
                if value.dtype is not dtype or value_shape[1:] != shape or not value_shape:
                    return None, 0
                if value_shape[0] != rows:
                    if rows >= 0:
                        return None, 0
                    rows = value_shape[0]
                pairs.append((store, value))
                found += 1
                continue
            if key not in self._nests:
                if key in _SKIPPED_COLUMNS:
                    continue
                return None, 0
            leaves = tree.flatten(value)
            specs = self._leaves[key]
            if len(leaves) != len(specs):
                return None, 0
            for leaf, spec, store in zip(leaves, specs, self._storage[key]):
                if type(leaf) is not np.ndarray or leaf.dtype is not spec.dtype:
                    return None, 0
                leaf_shape = leaf.shape
                if (leaf_shape[1:] != spec.shape or not leaf_shape
                        or (rows >= 0 and leaf_shape[0] != rows)):
                    return None, 0
                rows = leaf_shape[0]
                pairs.append((store, leaf))
            found += 1
        if found != len(self._leaves):
            return None, 0
        return pairs, rows

    def _index_plain_columns(self) -> None:
        """`_plain`: for each column that is one array (not a nest), its storage, row
        shape and dtype, which `_matching` checks first."""
        self._plain = {key: (self._storage[key][0], specs[0].shape, specs[0].dtype)
                       for key, specs in self._leaves.items() if key not in self._nests}

    @staticmethod
    def _flat_columns(columns: Mapping[str, Any], owner: str) -> Dict[str, List[Any]]:
        flat: Dict[str, List[Any]] = {}
        for key in columns:
            if key in _SKIPPED_COLUMNS:
                continue
            value = dict.__getitem__(columns, key) if isinstance(columns, dict) else columns[key]
            if isinstance(value, np.ndarray):
                flat[key] = [value]
            else:
                leaves = tree.flatten(value)
                if not leaves:
                    raise ValueError(f"{owner}: column {key!r} is an empty nest")
                flat[key] = [np.asarray(v) if isinstance(v, (list, int, float, bool))
                             else v for v in leaves]
        return flat

    @staticmethod
    def _rows(flat: Dict[str, List[Any]], owner: str) -> int:
        rows = None
        first = None
        for key, leaves in flat.items():
            for leaf in leaves:
                if not isinstance(leaf, np.ndarray) or leaf.ndim == 0:
                    raise TypeError(f"{owner}: column {key!r} must hold numpy arrays with a "
                                    f"leading row dimension, got {type(leaf).__name__} "
                                    f"{np.shape(leaf)}")
                if rows is None:
                    rows, first = leaf.shape[0], key
                elif leaf.shape[0] != rows:
                    raise ValueError(f"{owner}: column {key!r} has {leaf.shape[0]} rows, "
                                     f"column {first!r} has {rows}")
        if rows is None:
            raise ValueError(f"{owner}: the batch has no columns to store")
        return rows

    def _allocate(self, columns: Mapping[str, Any], flat: Dict[str, List[np.ndarray]]) -> None:
        skeletons = {}
        for key in flat:
            value = columns[key]
            skeletons[key] = _skeleton(value, key)
            for leaf in flat[key]:
                if leaf.dtype.kind not in "biuf":
                    raise TypeError(
                        f"{type(self).__name__}.add: column {key!r} has dtype {leaf.dtype}; "
                        "the buffer stores bool, integer and float columns")
        self._skeletons = skeletons
        self._leaves = {key: [_Leaf(leaf.shape[1:], leaf.dtype) for leaf in leaves]
                        for key, leaves in flat.items()}
        self._storage = {key: [np.zeros((self.capacity,) + spec.shape, spec.dtype)
                               for spec in specs]
                         for key, specs in self._leaves.items()}
        self._nests = {key: _from_skeleton(s) for key, s in skeletons.items() if s is not None}
        self._index_plain_columns()

    def _check(self, flat: Dict[str, List[np.ndarray]], owner: str) -> None:
        if flat.keys() != self._leaves.keys():
            missing = sorted(set(self._leaves) - set(flat))
            extra = sorted(set(flat) - set(self._leaves))
            raise ValueError(
                f"{owner}: the batch's columns differ from the buffer's: missing {missing}, "
                f"unexpected {extra}; the buffer stores {sorted(self._leaves)}, the batch has "
                f"{sorted(flat)}")
        for key, leaves in flat.items():
            specs = self._leaves[key]
            if len(leaves) != len(specs):
                raise ValueError(f"{owner}: column {key!r} has {len(leaves)} leaves, the "
                                 f"buffer's has {len(specs)}")
            for i, (leaf, spec) in enumerate(zip(leaves, specs)):
                if leaf.shape[1:] != spec.shape or (
                        leaf.dtype != spec.dtype
                        and not np.can_cast(leaf.dtype, spec.dtype, "same_kind")):
                    path = key if len(specs) == 1 else f"{key} (leaf {i})"
                    got = _Leaf(leaf.shape[1:], leaf.dtype)
                    raise ValueError(f"{owner}: column {path!r}: the buffer stores "
                                     f"{spec.describe()}, the batch has {got.describe()}")

    # ---- sampling -----------------------------------------------------------------------------

    def sample(self, num_items: int, **kwargs: Any) -> SampleBatch:
        """`num_items` rows drawn uniformly with replacement.

        Args:
          num_items: the number of rows (>= 1).

        Returns:
          A `SampleBatch` of the stored columns, `num_items` rows each (copies).

        Raises:
          ValueError: the buffer is empty, or `num_items` < 1.
        """
        self._check_sample(num_items)
        index = self._rng.integers(0, self._size, size=num_items)
        return self._gather(index)

    def _check_sample(self, num_items: int) -> None:
        owner = f"{type(self).__name__}.sample"
        _check_count("num_items", num_items, owner)
        if self._size == 0:
            raise ValueError(f"{owner}: the buffer is empty (0 of its {self.capacity} slots "
                             "filled); add a batch before sampling")

    def _gather(self, index: np.ndarray) -> SampleBatch:
        data = {}
        for key, stores in self._storage.items():
            if len(stores) == 1 and key not in self._nests:
                data[key] = stores[0].take(index, axis=0)
            else:
                data[key] = tree.unflatten_as(self._nests[key],
                                              [s.take(index, axis=0) for s in stores])
        self._num_sampled += len(index)
        # The columns are fresh arrays already: skip the constructor's conversions.
        batch = SampleBatch()
        dict.update(batch, data)
        return batch

    # ---- state --------------------------------------------------------------------------------

    def stats(self, debug: bool = False) -> Dict[str, Any]:
        """RLlib's counters: `added_count`, `sampled_count`, `num_entries`, `est_size_bytes`,
        `eviction_started`."""
        return {
            "added_count": self._num_added,
            "sampled_count": self._num_sampled,
            "num_entries": self._size,
            "eviction_started": self._num_added > self.capacity,
            "est_size_bytes": sum(s.nbytes for stores in self._storage.values()
                                  for s in stores),
        }

    def get_state(self) -> Dict[str, Any]:
        """Everything needed to continue: rows, counters and the Generator's state.

        Returns:
          A dict of ints, JSON-able dicts and numpy arrays: `capacity`,
          `size`, `next_index`, `num_added`, `num_sampled`, `rng` (the bit
          generator's state), `structures` (each column's nest structure,
          None for a plain array) and `columns` (each column's leaves, the
          filled `[size, ...]` slots, in dm-tree order).
        """
        columns = {key: [store[:self._size].copy() for store in stores]
                   for key, stores in self._storage.items()}
        return {
            "type": type(self).__name__,
            "capacity": self.capacity,
            "size": self._size,
            "next_index": self._next_index,
            "num_added": self._num_added,
            "num_sampled": self._num_sampled,
            "rng": _json_state(self._rng.bit_generator.state),
            "structures": dict(self._skeletons or {}),
            "columns": columns,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores a `get_state()` (of a buffer with the same capacity).

        Raises:
          ValueError: the state of another buffer class or capacity, or columns
            that do not match the recorded sizes (the key named, with both sides).
          KeyError: a missing entry.
        """
        owner = f"{type(self).__name__}.set_state"
        state = _require(state, ("capacity", "size", "next_index", "num_added", "num_sampled",
                                 "rng", "structures", "columns"), owner)
        if state.get("type", type(self).__name__) != type(self).__name__:
            raise ValueError(f"{owner}: the state is of a {state['type']}, this buffer is a "
                             f"{type(self).__name__}")
        if int(state["capacity"]) != self.capacity:
            raise ValueError(f"{owner}: the state is of a buffer with capacity "
                             f"{int(state['capacity'])}, this buffer has {self.capacity}")
        size = int(state["size"])
        next_index = int(state["next_index"])
        if not 0 <= size <= self.capacity or not 0 <= next_index < self.capacity:
            raise ValueError(f"{owner}: size {size} and next_index {next_index} must lie in "
                             f"[0, {self.capacity}]")
        skeletons = dict(state["structures"])
        columns = state["columns"]
        if set(skeletons) != set(columns):
            raise ValueError(f"{owner}: 'structures' names {sorted(skeletons)}, 'columns' "
                             f"{sorted(columns)}")
        nests = {key: _from_skeleton(s) for key, s in skeletons.items() if s is not None}
        layouts: Dict[str, List[_Leaf]] = {}
        storage: Dict[str, List[np.ndarray]] = {}
        for key, leaves in columns.items():
            leaves = [np.asarray(leaf) for leaf in leaves]
            for leaf in leaves:
                if leaf.ndim == 0 or leaf.shape[0] != size:
                    raise ValueError(f"{owner}: column {key!r} has a leaf of shape "
                                     f"{leaf.shape}; the state records {size} rows")
            expected = len(tree.flatten(nests[key])) if key in nests else 1
            if len(leaves) != expected:
                raise ValueError(f"{owner}: column {key!r} has {len(leaves)} leaves, its "
                                 f"structure {expected}")
            layouts[key] = [_Leaf(leaf.shape[1:], leaf.dtype) for leaf in leaves]
            storage[key] = []
            for leaf in leaves:
                store = np.zeros((self.capacity,) + leaf.shape[1:], leaf.dtype)
                store[:size] = leaf
                storage[key].append(store)
        self._skeletons = skeletons or None
        self._nests, self._leaves, self._storage = nests, layouts, storage
        self._index_plain_columns()
        self._size = size
        self._next_index = next_index
        self._num_added = int(state["num_added"])
        self._num_sampled = int(state["num_sampled"])
        self._rng.bit_generator.state = state["rng"]


class PrioritizedReplayBuffer(ReplayBuffer):
    """A `ReplayBuffer` that samples rows in proportion to `priority^alpha`.

    See the module docstring for the sampling probabilities and the
    importance weights. New rows get the largest priority seen so far
    (initially 1.0), so each is likely to be replayed at least once before
    its TD error is known. Sums and minima of `p^alpha` live in segment
    trees, so sampling and updating cost `O(k log N)`.

    Args:
      capacity: the number of timesteps kept (>= 1).
      alpha: how strongly priorities skew sampling (> 0; 0 would be uniform).
      seed: seeds the sampling Generator (see `ReplayBuffer`).

    Raises:
      ValueError: `capacity` < 1 or `alpha` <= 0.
    """

    def __init__(self, capacity: int, alpha: float = 0.6, seed: Seed = None):
        super().__init__(capacity, seed)
        alpha = float(alpha)
        if not alpha > 0.0:
            raise ValueError(f"{type(self).__name__}: alpha must be > 0, got {alpha}")
        self._alpha = alpha
        self._sum_tree = SumSegmentTree(self.capacity)
        self._min_tree = MinSegmentTree(self.capacity)
        self._max_priority = 1.0

    @property
    def alpha(self) -> float:
        return self._alpha

    def add(self, batch: SampleBatch, **kwargs: Any) -> None:
        """Appends the batch's rows (see `ReplayBuffer.add`), each with priority
        `max_priority` (or `kwargs["weight"]` when given, as RLlib's)."""
        start, kept = self._add(batch)
        if kept:
            slots = np.arange(start, start + kept, dtype=np.int64)
            if start + kept > self.capacity:
                slots %= self.capacity
            weight = kwargs.get("weight")
            priority = (self._max_priority if weight is None else float(weight)) ** self._alpha
            set_leaves([self._sum_tree, self._min_tree], slots, priority)

    def sample(self, num_items: int, beta: float = 0.4, **kwargs: Any) -> SampleBatch:
        """`num_items` rows drawn with probability `P(i)`, with importance weights.

        Args:
          num_items: the number of rows (>= 1).
          beta: the importance-sampling exponent (>= 0; 0: all weights 1,
            1: full correction).

        Returns:
          The rows, plus `weights` (float32 `[num_items]`, the importance
          weights normalised by the largest possible weight) and
          `batch_indexes` (int64 `[num_items]`, the rows' slots, for
          `update_priorities`).

        Raises:
          ValueError: the buffer is empty, `num_items` < 1 or `beta` < 0.
        """
        self._check_sample(num_items)
        beta = float(beta)
        if not beta >= 0.0:
            raise ValueError(f"{type(self).__name__}.sample: beta must be >= 0, got {beta}")
        mass = self._rng.random(num_items) * self._sum_tree.sum()
        index = np.minimum(self._sum_tree.find_prefixsum_idx(mass), self._size - 1)
        # (N P(i))^-beta / (N P_min)^-beta = (p_i^alpha / min_k p_k^alpha)^-beta.
        weights = np.power(self._sum_tree[index] / self._min_tree.min(), -beta)
        batch = self._gather(index)
        batch[_WEIGHTS] = weights.astype(np.float32)
        batch[_BATCH_INDEXES] = index
        return batch

    def update_priorities(self, idxes: Sequence[int], priorities: Sequence[float]) -> None:
        """Sets the priorities of the rows at `idxes` (as RLlib's: `p = |td_error| + eps`).

        Args:
          idxes: `[k]` slots, as `batch_indexes` gave them, each in `[0, len(self))`.
          priorities: `[k]` priorities, each > 0 and finite.

        Raises:
          ValueError: different lengths, a slot out of range or a priority
            that is not positive and finite (the first few named).
        """
        owner = f"{type(self).__name__}.update_priorities"
        idxes = np.asarray(idxes).reshape(-1)
        priorities = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if idxes.shape != priorities.shape:
            raise ValueError(f"{owner}: {idxes.size} indices and {priorities.size} priorities")
        if idxes.size == 0:
            return
        if idxes.dtype.kind not in "iu":
            raise ValueError(f"{owner}: indices must be integers, got dtype {idxes.dtype}")
        if idxes.min() < 0 or idxes.max() >= self._size:
            bad = np.flatnonzero((idxes < 0) | (idxes >= self._size))
            raise ValueError(f"{owner}: indices {idxes[bad[:5]].tolist()} lie outside the "
                             f"buffer's {self._size} rows [0, {self._size})")
        if not (priorities.min() > 0 and np.isfinite(priorities.max())):
            bad = np.flatnonzero(~(priorities > 0) | ~np.isfinite(priorities))
            raise ValueError(f"{owner}: priorities must be > 0 and finite, got "
                             f"{priorities[bad[:5]].tolist()} at positions {bad[:5].tolist()}")
        set_leaves([self._sum_tree, self._min_tree], idxes, priorities ** self._alpha)
        self._max_priority = max(self._max_priority, float(priorities.max()))

    def get_state(self) -> Dict[str, Any]:
        """`ReplayBuffer.get_state()` plus `alpha`, `max_priority` and `priorities`
        (the filled slots' `p^alpha`, float64 `[size]`)."""
        state = super().get_state()
        state["alpha"] = self._alpha
        state["max_priority"] = self._max_priority
        state["priorities"] = self._sum_tree.leaves[:self._size].copy()
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores a `get_state()` of a prioritized buffer of the same capacity and alpha.

        Raises:
          ValueError: another capacity or alpha, or priorities of another length.
          KeyError: a missing entry.
        """
        owner = f"{type(self).__name__}.set_state"
        if state.get("type", type(self).__name__) != type(self).__name__:
            raise ValueError(f"{owner}: the state is of a {state['type']}, this buffer is a "
                             f"{type(self).__name__}")
        _require(state, ("alpha", "max_priority", "priorities"), owner)
        if float(state["alpha"]) != self._alpha:
            raise ValueError(f"{owner}: the state is of a buffer with alpha "
                             f"{float(state['alpha'])}, this buffer has {self._alpha}")
        priorities = np.asarray(state["priorities"], dtype=np.float64).reshape(-1)
        if priorities.size != int(state["size"]):
            raise ValueError(f"{owner}: 'priorities' has {priorities.size} entries, the "
                             f"state records {int(state['size'])} rows")
        super().set_state(state)
        self._sum_tree.rebuild(priorities)
        self._min_tree.rebuild(priorities)
        self._max_priority = float(state["max_priority"])


def _require(state: Mapping[str, Any], keys: Sequence[str], owner: str) -> Mapping[str, Any]:
    missing = [key for key in keys if key not in state]
    if missing:
        raise KeyError(f"{owner}: the state lacks {missing}; it has {sorted(state)}")
    return state


def _json_state(value: Any) -> Any:
    """A bit generator's state with numpy scalars and arrays made plain Python values."""
    if isinstance(value, dict):
        return {key: _json_state(v) for key, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
