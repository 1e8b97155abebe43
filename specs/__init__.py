"""Specs: what a tensor or array must look like, and nests of them.

Public surface of the `specs` package. Modules: `array_spec` (numpy side),
`tensor_spec` (TensorFlow side and nest helpers), `nest_utils` (path-aware
checks), `spaces` (gymnasium conversion; imports gymnasium lazily),
`distribution_spec` (how a distribution output is built), `types` (the shared
type aliases).
"""

from specs import array_spec
from specs import distribution_spec
from specs import nest_utils
from specs import spaces
from specs import tensor_spec
from specs import types
from specs.types import NUMPY_LEAF_TYPES
from specs.types import Nest
from specs.types import NestedArray
from specs.types import NestedArraySpec
from specs.types import NestedSpec
from specs.types import NestedTensor
from specs.types import NestedTensorSpec
from specs.array_spec import ArraySpec
from specs.array_spec import BoundedArraySpec
from specs.array_spec import check_arrays_nest
from specs.array_spec import is_bounded
from specs.array_spec import is_continuous
from specs.array_spec import is_discrete
from specs.distribution_spec import DistributionSpec
from specs.nest_utils import assert_same_structure
from specs.nest_utils import check_nest
from specs.nest_utils import flatten_with_paths
from specs.nest_utils import get_outer_shape
from specs.spaces import from_space
from specs.spaces import to_space
from specs.tensor_spec import BoundedTensorSpec
from specs.tensor_spec import TensorSpec
from specs.tensor_spec import add_outer_dims_nest
from specs.tensor_spec import from_spec
from specs.tensor_spec import remove_outer_dims_nest
from specs.tensor_spec import sample_spec_nest
from specs.tensor_spec import to_array_spec
from specs.tensor_spec import to_tensor_spec
from specs.tensor_spec import zero_spec_nest

__all__ = [
    "array_spec",
    "distribution_spec",
    "nest_utils",
    "spaces",
    "tensor_spec",
    "types",
    "NUMPY_LEAF_TYPES",
    "Nest",
    "NestedArray",
    "NestedArraySpec",
    "NestedSpec",
    "NestedTensor",
    "NestedTensorSpec",
    "ArraySpec",
    "BoundedArraySpec",
    "BoundedTensorSpec",
    "DistributionSpec",
    "TensorSpec",
    "add_outer_dims_nest",
    "assert_same_structure",
    "check_arrays_nest",
    "check_nest",
    "flatten_with_paths",
    "from_space",
    "from_spec",
    "get_outer_shape",
    "is_bounded",
    "is_continuous",
    "is_discrete",
    "remove_outer_dims_nest",
    "sample_spec_nest",
    "to_array_spec",
    "to_space",
    "to_tensor_spec",
    "zero_spec_nest",
]
