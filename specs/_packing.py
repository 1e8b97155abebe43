"""Packing a flat list of leaves into a structure and flattening a value against
one, each analysed once for per-step hot paths. Re-exported by
`specs.nest_utils`.
"""

import collections.abc
from typing import Any, Callable, List, Optional, Sequence

import tree

from specs.types import Nest

__all__ = ["Flattener", "flattener", "packer"]

# `flat(value, out) -> bool`: see `flattener`.
Flattener = Callable[[Any, List[Any]], bool]


def packer(structure: Nest) -> Callable[[Sequence[Any]], Nest]:
    """A function that packs a flat list of leaves into `structure`, built once.

    Equivalent to `tree.unflatten_as(structure, leaves)` (dm-tree leaf order,
    dict keys sorted), but the structure is analysed when the packer is made,
    so each call only rebuilds the containers. For per-step hot paths.

    >>> pack = packer({"b": 0, "a": (0, 0)})
    >>> pack([1, 2, 3])
    {'a': (1, 2), 'b': 3}
    """
    counter = [0]

    def build(node: Any) -> Callable[[Sequence[Any]], Any]:
        if isinstance(node, collections.abc.Mapping):
            keys = sorted(node)
            parts = [build(node[k]) for k in keys]
            kind = type(node)
            if kind is dict:
                return lambda flat: {k: part(flat) for k, part in zip(keys, parts)}
            order = list(node)  # other mappings keep their own key order

            def pack_mapping(flat: Sequence[Any]) -> Any:
                values = {k: part(flat) for k, part in zip(keys, parts)}
                return kind((k, values[k]) for k in order)

            return pack_mapping
        if isinstance(node, (list, tuple)):
            parts = [build(child) for child in node]
            if isinstance(node, tuple) and hasattr(node, "_fields"):
                kind = type(node)
                return lambda flat: kind(*[part(flat) for part in parts])
            kind = type(node)
            return lambda flat: kind(part(flat) for part in parts)
        index = counter[0]
        counter[0] += 1
        return lambda flat: flat[index]

    return build(structure)


def flattener(structure: Nest) -> Optional[Flattener]:
    """`flat(value, out)`: appends `value`'s leaves to `out` in dm-tree order and
    returns True when `value` has `structure`'s structure (as
    `nest_utils.same_structure`: a list matches a tuple, dict keys must match;
    the leaves themselves are not looked at). None for containers other than
    mappings, lists and tuples.

    The inverse of `packer`, for per-step hot paths: the structure is analysed
    once, and each call compares and flattens in one walk.

    >>> flat = flattener({"b": 0, "a": (0, 0)})
    >>> out = []
    >>> flat({"a": [1, 2], "b": 3}, out), out
    (True, [1, 2, 3])
    >>> flat({"a": (1, 2), "c": 3}, [])
    False
    """
    if isinstance(structure, collections.abc.Mapping):
        keys = sorted(structure)
        parts = [flattener(structure[k]) for k in keys]
        if any(part is None for part in parts):
            return None
        size = len(keys)

        def flat_mapping(value: Any, out: List[Any]) -> bool:
            if not isinstance(value, collections.abc.Mapping) or len(value) != size:
                return False
            try:
                return all(part(value[k], out) for k, part in zip(keys, parts))
            except KeyError:
                return False

        return flat_mapping
    if isinstance(structure, (list, tuple)):
        size = len(structure)
        if not any(tree.is_nested(child) for child in structure):
            def flat_leaves(value: Any, out: List[Any]) -> bool:
                if isinstance(value, (list, tuple)) and len(value) == size:
                    out.extend(value)
                    return True
                return False

            return flat_leaves
        parts = [flattener(child) for child in structure]
        if any(part is None for part in parts):
            return None

        def flat_sequence(value: Any, out: List[Any]) -> bool:
            if not isinstance(value, (list, tuple)) or len(value) != size:
                return False
            return all(part(child, out) for child, part in zip(value, parts))

        return flat_sequence
    if tree.is_nested(structure):
        return None

    def flat_leaf(value: Any, out: List[Any]) -> bool:
        out.append(value)
        return True

    return flat_leaf
