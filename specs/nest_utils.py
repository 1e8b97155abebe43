"""Path-aware checks of value nests against spec nests, on dm-tree.

`check_nest` is the engine behind policy validation. Given a nest of values
(numpy arrays, tensors or Python scalars) and a nest of specs it checks, in
order, the structure, each leaf's dtype and inner shape (the trailing dims
the spec describes), and that every leaf has the same outer (batch) dims. It
returns those outer dims. Every error names the nest path of the offending
leaf, the expected spec, and the value's dtype and shape.

It reads only static information (dtypes and static shapes), so inside a
`tf.function` it runs once, at trace time, and costs nothing per step.

The module also offers TF-Agents' public nest helpers under their TF-Agents
names and arguments (`batch_nested_tensors`, `unstack_nested_arrays`,
`get_outer_rank`, `prune_extra_keys`, `where`, `map_structure_up_to`, ...),
with the same errors. The code lives in three private modules by job: the
checks (`_nest_check`), batching and stacking (`_nest_batching`), and the
remaining TF-Agents helpers (`_nest_compat`).

>>> spec = {"pos": ArraySpec((2,), np.float32), "id": ArraySpec((), np.int32)}
>>> check_nest({"pos": np.zeros((5, 2), np.float32), "id": np.zeros(5, np.int32)}, spec)
(5,)
>>> try:
...     check_nest({"pos": np.zeros((5, 3), np.float32), "id": np.zeros(5, np.int32)}, spec)
... except ValueError as error:
...     print(error)
value at 'pos': shape mismatch: expected ArraySpec(shape=(2,), dtype=dtype('float32'), name=None), got a value with dtype float32 and shape (5, 3)
"""


import numpy as np  # noqa: F401  (doctest namespace)

from specs.array_spec import ArraySpec  # noqa: F401  (doctest namespace)
from specs._messages import describe_value
from specs._messages import nest_error_message
from specs._messages import path_to_str
from specs._messages import ROOT_PATH
from specs._messages import spec_mismatch_message
from specs._packing import flattener
from specs._packing import Flattener
from specs._packing import packer
from specs._nest_check import assert_same_structure
from specs._nest_check import check_compatible_specs
from specs._nest_check import check_nest
from specs._nest_check import flatten_with_joined_paths
from specs._nest_check import flatten_with_paths
from specs._nest_check import get_outer_shape
from specs._nest_check import NestChecker
from specs._nest_check import remove_singleton_batch_spec_dim
from specs._nest_check import same_structure
from specs._nest_check import unbatch_nested_tensors_to_arrays
from specs._nest_batching import assert_matching_dtypes_and_inner_shapes
from specs._nest_batching import batch_nested_array
from specs._nest_batching import batch_nested_tensors
from specs._nest_batching import flatten_multi_batched_nested_tensors
from specs._nest_batching import get_outer_array_shape
from specs._nest_batching import get_outer_rank
from specs._nest_batching import is_batched_nested_array
from specs._nest_batching import is_batched_nested_tensors
from specs._nest_batching import prune_extra_keys
from specs._nest_batching import split_nested_tensors
from specs._nest_batching import stack_nested_arrays
from specs._nest_batching import stack_nested_tensors
from specs._nest_batching import tile_batch
from specs._nest_batching import unbatch_nested_array
from specs._nest_batching import unbatch_nested_tensors
from specs._nest_batching import unstack_nested_arrays
from specs._nest_batching import unstack_nested_arrays_into_flat_items
from specs._nest_batching import unstack_nested_tensors
from specs._nest_batching import where
from specs._nest_compat import assert_tensors_matching_dtypes_and_shapes
from specs._nest_compat import assert_value_spec
from specs._nest_compat import fast_map_structure
from specs._nest_compat import fast_map_structure_flatten
from specs._nest_compat import flatten_and_check_shape_nested_specs
from specs._nest_compat import flatten_up_to
from specs._nest_compat import flatten_with_tuple_paths
from specs._nest_compat import has_tensors
from specs._nest_compat import map_structure_up_to
from specs._nest_compat import map_structure_with_paths
from specs._nest_compat import spec_shape
from specs._nest_check import OuterShape  # noqa: F401  (type alias)

__all__ = [
    "check_nest",
    "get_outer_shape",
    "flatten_with_joined_paths",
    "unbatch_nested_tensors_to_arrays",
    "remove_singleton_batch_spec_dim",
    "assert_same_structure",
    "flatten_with_paths",
    "path_to_str",
    "ROOT_PATH",
    "describe_value",
    "nest_error_message",
    "spec_mismatch_message",
    "check_compatible_specs",
    "packer",
    "flattener",
    "Flattener",
    "NestChecker",
    "same_structure",
    "assert_matching_dtypes_and_inner_shapes",
    "batch_nested_array",
    "batch_nested_tensors",
    "flatten_multi_batched_nested_tensors",
    "get_outer_array_shape",
    "get_outer_rank",
    "is_batched_nested_array",
    "is_batched_nested_tensors",
    "prune_extra_keys",
    "split_nested_tensors",
    "stack_nested_arrays",
    "stack_nested_tensors",
    "tile_batch",
    "unbatch_nested_array",
    "unbatch_nested_tensors",
    "unstack_nested_arrays",
    "unstack_nested_arrays_into_flat_items",
    "unstack_nested_tensors",
    "where",
    "has_tensors",
    "fast_map_structure",
    "fast_map_structure_flatten",
    "spec_shape",
    "assert_tensors_matching_dtypes_and_shapes",
    "flatten_and_check_shape_nested_specs",
    "assert_value_spec",
    "flatten_up_to",
    "flatten_with_tuple_paths",
    "map_structure_up_to",
    "map_structure_with_paths",
]
