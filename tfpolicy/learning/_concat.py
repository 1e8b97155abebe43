"""The column work of `concat_samples`: agreeing flags, and columns joined leaf-wise.

Both functions take the non-empty batches to join as `(index into samples,
batch)` pairs, so that errors name the batches by their place in `samples`.
"""

from typing import TYPE_CHECKING, Any, Dict, List, Tuple

import numpy as np
import tree

from specs import nest_utils

if TYPE_CHECKING:
    from tfpolicy.learning.sample_batch import SampleBatch


def merged_flags(indexed: List[Tuple[int, "SampleBatch"]]) -> Dict[str, Any]:
    """The flags of the joined batch, as `SampleBatch._wrap` takes them.

    Raises:
      ValueError: `zero_padded`, `time_major` or `max_seq_len` disagree.
    """
    first = indexed[0][1]
    zero_padded, time_major, max_seq_len = first.zero_padded, first.time_major, first.max_seq_len
    updates_count, updates_sum, any_updates = 0, 0.0, False
    for i, s in indexed:
        if s.zero_padded != zero_padded or s.time_major != time_major:
            raise ValueError(
                f"concat_samples: all batches' zero_padded and time_major must agree; batch "
                f"{indexed[0][0]} has ({zero_padded}, {time_major}), batch {i} has "
                f"({s.zero_padded}, {s.time_major})")
        if (s.max_seq_len is None) != (first.max_seq_len is None):
            raise ValueError(
                f"concat_samples: batches must all give or all omit max_seq_len; batch "
                f"{indexed[0][0]} has {first.max_seq_len}, batch {i} has {s.max_seq_len}")
        if zero_padded and s.max_seq_len != first.max_seq_len:
            raise ValueError(
                f"concat_samples: zero-padded batches must share max_seq_len; batch "
                f"{indexed[0][0]} has {first.max_seq_len}, batch {i} has {s.max_seq_len}")
        if max_seq_len is not None:
            max_seq_len = max(max_seq_len, s.max_seq_len)
        if s.num_grad_updates is not None:
            any_updates = True
            updates_count += s.count
            updates_sum += s.num_grad_updates * s.count
    training = {s._is_training for _, s in indexed if isinstance(s._is_training, bool)}
    return dict(is_training=training == {True}, time_major=time_major, zero_padded=zero_padded,
                max_seq_len=max_seq_len,
                num_grad_updates=updates_sum / (updates_count or 1.0) if any_updates else None)


def concat_columns(indexed: List[Tuple[int, "SampleBatch"]]) -> Dict[str, Any]:
    """Every column of the batches, concatenated along axis 0.

    Raises:
      ValueError: a column only some batches have, or a different nest
        structure or inner shape under a column.
    """
    keys = list(dict.fromkeys(k for _, s in indexed for k in dict.keys(s)))
    data = {}
    for key in keys:
        lacking = [i for i, s in indexed if not dict.__contains__(s, key)]
        if lacking:
            having = [i for i, s in indexed if dict.__contains__(s, key)]
            raise ValueError(
                f"concat_samples: column {key!r} is in batches {having} but not in batches "
                f"{lacking} (indices into samples); every non-empty batch needs the same columns")
        data[key] = _concat_column(key, [(i, dict.__getitem__(s, key)) for i, s in indexed])
    return data


def _concat_column(key: str, values: List[tuple]) -> Any:
    """One column's values `[(batch index, value)]`, concatenated leaf-wise along axis 0."""
    (i0, first), nested = values[0], tree.is_nested(values[0][1])
    if not nested and not any(tree.is_nested(v) for _, v in values):
        try:
            return np.concatenate([v for _, v in values])
        except ValueError:
            pass  # reported below, with both sides
    first_paths = [p for p, _ in nest_utils.flatten_with_paths(first)]
    leaves = [tree.flatten(first)]
    for i, value in values[1:]:
        paths = [p for p, _ in nest_utils.flatten_with_paths(value)]
        if paths != first_paths or not nest_utils.same_structure(first, value):
            raise ValueError(
                f"concat_samples: column {key!r} has the nest paths {first_paths} in batch {i0} "
                f"but {paths} in batch {i}")
        leaves.append(tree.flatten(value))
    out = []
    for position, path in enumerate(first_paths):
        parts = [leaf[position] for leaf in leaves]
        try:
            out.append(np.concatenate(parts))
        except ValueError:
            ref_shape = np.shape(parts[0])[1:]
            j = next((j for j, p in enumerate(parts) if np.shape(p)[1:] != ref_shape), 0)
            raise ValueError(nest_utils.nest_error_message(
                f"concat_samples: column {key!r}", path if nested else (),
                f"cannot concatenate batch {i0}'s {nest_utils.describe_value(parts[0])} with "
                f"batch {values[j][0]}'s {nest_utils.describe_value(parts[j])}")) from None
    return tree.unflatten_as(first, out) if nested else out[0]
