"""Sum and min segment trees over numpy arrays, for prioritized replay.

A tree holds one value per leaf (replay slot) and the reduction (sum or
min) of every block of `branching` children in the level above, up to a
single root. With a fan-out of 32 a buffer of 100k slots has four levels
above the leaves, so setting a batch of leaves is a few vectorised numpy
operations per level rather than one Python step per binary level. The
prefix-sum search starts from a running sum over a whole upper level (at
most 1024 nodes) and descends the levels below it for all queries at once.

Leaves that were never set hold the neutral element (0 for sums, +inf for
minima), so reductions over the whole tree equal reductions over the
filled slots.
"""

import abc
from typing import List

import numpy as np

_BRANCHING = 32
# The search starts at the lowest level with at most this many nodes.
_SEARCH_START_SIZE = 1024


class SegmentTree(abc.ABC):
    """A `branching`-ary segment tree of float64 values.

    Args:
      capacity: the number of leaves (> 0).
      neutral_element: the value of unset leaves (0 for sums, +inf for minima).
      branching: the fan-out of every inner node (>= 2).

    Raises:
      ValueError: `capacity` < 1 or `branching` < 2.
    """

    def __init__(self, capacity: int, neutral_element: float, branching: int = _BRANCHING):
        if capacity < 1:
            raise ValueError(f"{type(self).__name__}: capacity must be >= 1, got {capacity}")
        if branching < 2:
            raise ValueError(f"{type(self).__name__}: branching must be >= 2, got {branching}")
        self.capacity = int(capacity)
        self.neutral_element = float(neutral_element)
        self.branching = int(branching)
        # levels[0] are the leaves, each level padded to a multiple of `branching`
        # (blocks[i] is levels[i] as [nodes of level i + 1, branching]); levels[-1] is the root.
        self.levels: List[np.ndarray] = []
        nodes = self.capacity
        while True:
            padded = -(-nodes // self.branching) * self.branching
            self.levels.append(np.full(padded, self.neutral_element))
            nodes = padded // self.branching
            if nodes == 1:
                break
        self.levels.append(np.full(1, self.neutral_element))
        self.blocks = [level.reshape(-1, self.branching) for level in self.levels[:-1]]

    @abc.abstractmethod
    def _reduce_blocks(self, blocks: np.ndarray) -> np.ndarray:
        """`[n]`: the reduction of each row of `blocks [n, branching]`."""

    @property
    def leaves(self) -> np.ndarray:
        """The `[capacity]` leaf values (a view)."""
        return self.levels[0][:self.capacity]

    def __getitem__(self, index: np.ndarray) -> np.ndarray:
        """The leaf values at `index` (int or int array)."""
        return self.levels[0][index]

    def __setitem__(self, index: np.ndarray, value: np.ndarray) -> None:
        """Sets leaves and recomputes their ancestors.

        Args:
          index: int or int array in `[0, capacity)`; with a repeated index
            the last value wins.
          value: float or float array broadcastable to `index`.
        """
        set_leaves([self], index, value)

    def rebuild(self, leaves: np.ndarray) -> None:
        """Sets the first `len(leaves)` leaves, resets the others, recomputes every level."""
        leaves = np.asarray(leaves, dtype=np.float64).reshape(-1)
        if leaves.size > self.capacity:
            raise ValueError(f"{type(self).__name__}.rebuild: {leaves.size} leaves for a "
                             f"capacity of {self.capacity}")
        self.levels[0][:] = self.neutral_element
        self.levels[0][:leaves.size] = leaves
        for blocks, level in zip(self.blocks, self.levels[1:]):
            level[:] = self.neutral_element
            reduced = self._reduce_blocks(blocks)
            level[:reduced.size] = reduced

    def reduce(self) -> float:
        """The reduction of all leaves (the root)."""
        return float(self.levels[-1][0])


def set_leaves(trees: List[SegmentTree], index: np.ndarray, value: np.ndarray) -> None:
    """Sets the same leaves of trees of one shape (capacity and branching) to `value`
    and recomputes their ancestors, sharing the index arithmetic."""
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    for tree in trees:
        # NumPy assigns a repeated index once per occurrence, the last value left behind.
        tree.levels[0][index] = value
    branching = trees[0].branching
    for depth in range(1, len(trees[0].levels)):
        # Repeated parents are written with the same value: no deduplication needed.
        index = index // branching
        for tree in trees:
            tree.levels[depth][index] = tree._reduce_blocks(tree.blocks[depth - 1][index])


class SumSegmentTree(SegmentTree):
    """Sums, and the search for the leaf where a prefix sum is reached."""

    def __init__(self, capacity: int, branching: int = _BRANCHING):
        super().__init__(capacity, 0.0, branching)
        self._ones = np.ones(self.branching)
        self._search_start = next(i for i, level in enumerate(self.levels)
                                  if level.size <= _SEARCH_START_SIZE)

    def _reduce_blocks(self, blocks: np.ndarray) -> np.ndarray:
        return blocks @ self._ones

    def sum(self) -> float:
        """The sum of all leaves."""
        return self.reduce()

    def find_prefixsum_idx(self, prefixsum: np.ndarray) -> np.ndarray:
        """For each `m` in `prefixsum`, the smallest leaf `i` with `sum(leaves[:i+1]) > m`.

        With `m` drawn uniformly from `[0, sum())`, leaf `i` is found with
        probability `leaves[i] / sum()` (leaves must be >= 0). The running
        sums of a whole upper level give each query its node there; below,
        each level takes the running sums of every query's block of
        children, all blocks in one array, and picks the child whose
        running sum first exceeds what is left of `m`.

        Args:
          prefixsum: `[k]` floats in `[0, sum())`.

        Returns:
          `[k]` int64 leaf indices in `[0, capacity)`.
        """
        mass = np.asarray(prefixsum, dtype=np.float64).reshape(-1)
        start = self.levels[self._search_start]
        running = np.empty(start.size + 1)
        running[0] = 0.0
        np.cumsum(start, out=running[1:])
        node = np.searchsorted(running[1:], mass, side="right")
        # Rounding can leave m at or past the last running sum: take the last node.
        np.minimum(node, start.size - 1, out=node)
        mass = mass - running[node]
        branching = self.branching
        row_start = np.arange(mass.size, dtype=np.int64) * branching
        # The blocks of all queries side by side: one running sum, rising row after row.
        running = np.empty(mass.size * branching + 1)
        running[0] = 0.0
        for blocks in self.blocks[:self._search_start][::-1]:
            np.cumsum(blocks[node], out=running[1:])
            target = mass + running[row_start]
            child = np.searchsorted(running[1:], target, side="right") - row_start
            # child >= 0 (target is at least its row's starting sum); rounding can put
            # target past the row's last running sum: take the last child.
            np.minimum(child, branching - 1, out=child)
            mass = target - running[row_start + child]
            node = node * branching + child
        return np.minimum(node, self.capacity - 1)


class MinSegmentTree(SegmentTree):
    """Minima."""

    def __init__(self, capacity: int, branching: int = _BRANCHING):
        super().__init__(capacity, np.inf, branching)

    def _reduce_blocks(self, blocks: np.ndarray) -> np.ndarray:
        return np.minimum.reduce(blocks, axis=1)

    def min(self) -> float:
        """The minimum of all leaves (+inf if none was set)."""
        return self.reduce()
