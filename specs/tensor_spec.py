"""TensorFlow-side specs and the helpers that work on spec nests.

`TensorSpec` is `tf.TensorSpec`. `BoundedTensorSpec` adds inclusive
`minimum`/`maximum` bounds, stored as numpy arrays broadcast to the shape; it
is a `tf.TensorSpec`, so it works in `tf.function` input signatures.

>>> spec = BoundedTensorSpec((), tf.int32, 0, 2, name="action")
>>> spec
BoundedTensorSpec(shape=(), dtype=tf.int32, name='action', minimum=0, maximum=2)
>>> add_outer_dims_nest({"a": spec}, (5,))["a"].shape
TensorShape([5])
"""

from typing import Any, Optional, Sequence, Union

import numpy as np
import tensorflow as tf
import tree

from specs import _proto
from specs import array_spec as _array_spec
from specs._messages import nest_error_message
from specs._proto import StructuredValue
from specs.types import NestedSpec, NestedTensor, NestedTensorSpec
from specs.array_spec import ArraySpec, BoundedArraySpec, is_bounded, is_continuous, is_discrete

__all__ = [
    "TensorSpec",
    "BoundedTensorSpec",
    "from_spec",
    "to_tensor_spec",
    "to_array_spec",
    "to_nest_array_spec",
    "sample_bounded_spec",
    "sample_spec_nest",
    "zero_spec_nest",
    "add_outer_dims_nest",
    "add_outer_dim",
    "remove_outer_dims_nest",
    "with_dtype",
    "signature_nest",
    "is_bounded",
    "is_discrete",
    "is_continuous",
    "to_proto",
    "from_proto",
    "from_packed_proto",
    "to_pbtxt_file",
    "from_pbtxt_file",
]

_NOT_A_SPEC = "not a spec: expected an ArraySpec or TensorSpec, got {spec!r}"
# Sparse leaves are `tf.SparseTensorSpec`s; they have no name and no bounds.
_SPARSE_NO_ARRAY = "a tf.SparseTensorSpec has no ArraySpec counterpart: got {spec!r}"

TensorSpec = tf.TensorSpec
OuterDims = Union[Sequence[int], tf.Tensor]


def _bound_target_shape(shape: tf.TensorShape, bound_shapes: list) -> tuple:
    """The shape to broadcast bounds to: the spec's shape, or, when some of
    its dims are unknown, those dims as 1 so the bounds broadcast at run time."""
    if shape.is_fully_defined():
        return tuple(shape.as_list())
    partial = tuple(1 if d is None else d for d in shape.as_list())
    try:
        return np.broadcast_shapes(partial, *bound_shapes)
    except ValueError:
        return partial  # broadcast_bounds reports the mismatch


class BoundedTensorSpec(tf.TensorSpec):
    """A `tf.TensorSpec` whose elements lie in the inclusive range [minimum, maximum].

    Args:
      shape: the tensor's shape (a `tf.TensorShape` or sequence; dims may be None).
      dtype: bool, integer or float dtype.
      minimum: lower bound, broadcastable to `shape`; defaults to the dtype's
        lowest value (`-inf` for floats).
      maximum: upper bound, broadcastable to `shape`; defaults to the dtype's
        highest value (`inf` for floats).
      name: optional name.

    Raises:
      ValueError: when a bound does not broadcast to `shape` or lies above the other.
    """

    __slots__ = ("_minimum", "_maximum")

    def __init__(self, shape: Any, dtype: Any, minimum: Any = None, maximum: Any = None,
                 name: Optional[str] = None):
        super().__init__(shape, dtype, name)
        np_dtype = np.dtype(self.dtype.as_numpy_dtype)
        if self.shape.rank is None:
            raise ValueError(f"BoundedTensorSpec {name!r} needs a known rank")
        target = _bound_target_shape(
            self.shape, [np.shape(b) for b in (minimum, maximum) if b is not None])
        try:
            self._minimum, self._maximum = _array_spec.broadcast_bounds(
                target, np_dtype, minimum, maximum, name)
        except ValueError as e:
            raise ValueError(f"{e} (spec shape {self.shape})") from None

    @property
    def minimum(self) -> np.ndarray:
        return self._minimum

    @property
    def maximum(self) -> np.ndarray:
        return self._maximum

    def _serialize(self) -> tuple:
        # Keeps bounds through TensorFlow's own spec round trips (`_deserialize`
        # calls the constructor with these arguments in this order).
        return (self.shape, self.dtype, self._minimum, self._maximum, self.name)

    def __repr__(self) -> str:
        return (f"BoundedTensorSpec(shape={tuple(self.shape.as_list())}, "
                f"dtype={self.dtype!r}, name={self.name!r}, "
                f"minimum={_array_spec.format_bound(self._minimum)}, "
                f"maximum={_array_spec.format_bound(self._maximum)})")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        return (self.shape == other.shape and self.dtype == other.dtype
                and self.name == other.name
                and np.array_equal(self._minimum, other._minimum)
                and np.array_equal(self._maximum, other._maximum))

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((tuple(self.shape.as_list()) if self.shape.rank is not None else None,
                     self.dtype, self.name))

    def __reduce__(self):
        return (BoundedTensorSpec,
                (self.shape, self.dtype, self._minimum, self._maximum, self.name))

    @classmethod
    def from_spec(cls, spec: Any, name: Optional[str] = None) -> "BoundedTensorSpec":
        """A bounded tensor spec from any spec (unbounded ones get the dtype's
        range), named `name` or, when that is None, as `spec` is.

        >>> BoundedTensorSpec.from_spec(tf.TensorSpec((), tf.int8, "a"), name="b")
        BoundedTensorSpec(shape=(), dtype=tf.int8, name='b', minimum=-128, maximum=127)
        """
        return cls(spec.shape, spec.dtype, getattr(spec, "minimum", None),
                   getattr(spec, "maximum", None),
                   getattr(spec, "name", None) if name is None else name)


def _spec_error(path: tuple, reason: str) -> str:
    return nest_error_message("spec", path, reason)


def _leaf_to_tensor_spec(path: tuple, spec: Any) -> tf.TypeSpec:
    if isinstance(spec, tf.TypeSpec):  # TensorSpec, SparseTensorSpec, ... pass through
        return spec
    if isinstance(spec, BoundedArraySpec):
        return BoundedTensorSpec(spec.shape, tf.as_dtype(spec.dtype), spec.minimum,
                                 spec.maximum, spec.name)
    if isinstance(spec, ArraySpec):
        return tf.TensorSpec(spec.shape, tf.as_dtype(spec.dtype), spec.name)
    raise TypeError(_spec_error(path, _NOT_A_SPEC.format(spec=spec)))


def from_spec(spec: NestedSpec) -> NestedTensorSpec:
    """Maps a nest of array or tensor specs to tensor specs, keeping bounds and names.

    Leaves that already are `tf.TypeSpec`s (e.g. `tf.SparseTensorSpec`) are kept.
    """
    return tree.map_structure_with_path(_leaf_to_tensor_spec, spec)


to_tensor_spec = from_spec


def _leaf_to_array_spec(path: tuple, spec: Any) -> ArraySpec:
    if isinstance(spec, ArraySpec):
        return spec
    if isinstance(spec, tf.SparseTensorSpec):
        raise TypeError(_spec_error(path, _SPARSE_NO_ARRAY.format(spec=spec)))
    if isinstance(spec, tf.TensorSpec):
        if not spec.shape.is_fully_defined():
            raise ValueError(_spec_error(
                path, f"an ArraySpec needs a fully defined shape, got {spec!r}"))
        shape = tuple(spec.shape.as_list())
        if isinstance(spec, BoundedTensorSpec):
            return BoundedArraySpec(shape, spec.dtype.as_numpy_dtype, spec.minimum,
                                    spec.maximum, spec.name)
        return ArraySpec(shape, spec.dtype.as_numpy_dtype, spec.name)
    raise TypeError(_spec_error(path, _NOT_A_SPEC.format(spec=spec)))


def to_array_spec(spec: NestedSpec) -> Any:
    """Maps a nest of tensor or array specs to array specs, keeping bounds and names."""
    return tree.map_structure_with_path(_leaf_to_array_spec, spec)


to_nest_array_spec = to_array_spec


def _with_shape(path: tuple, spec: Any, shape: tuple, minimum: Any = None,
                maximum: Any = None) -> Any:
    """`spec` with a new shape (bounds given explicitly for bounded specs)."""
    if isinstance(spec, BoundedTensorSpec):
        return BoundedTensorSpec(shape, spec.dtype, minimum, maximum, spec.name)
    if isinstance(spec, tf.SparseTensorSpec):
        return tf.SparseTensorSpec(shape, spec.dtype)
    if isinstance(spec, tf.TensorSpec):
        return tf.TensorSpec(shape, spec.dtype, spec.name)
    if isinstance(spec, BoundedArraySpec):
        return BoundedArraySpec(shape, spec.dtype, minimum, maximum, spec.name)
    if isinstance(spec, ArraySpec):
        return ArraySpec(shape, spec.dtype, spec.name)
    raise TypeError(_spec_error(path, _NOT_A_SPEC.format(spec=spec)))


def add_outer_dims_nest(specs: NestedSpec, outer_dims: Sequence[Optional[int]]) -> NestedSpec:
    """Prepends `outer_dims` (e.g. `(batch_size,)`, `None` for unknown) to every spec's shape.

    Bounds are kept: each new element has the bounds of the element it copies.
    Array specs stay array specs and `tf.SparseTensorSpec`s stay sparse.
    """
    outer = tuple(outer_dims)

    def add(path: tuple, spec: Any) -> Any:
        shape = outer + tuple(tf.TensorShape(spec.shape).as_list())
        if is_bounded(spec):
            return _with_shape(path, spec, shape, spec.minimum, spec.maximum)
        return _with_shape(path, spec, shape)

    return tree.map_structure_with_path(add, specs)


def add_outer_dim(specs: NestedSpec, dim: Optional[int] = None) -> NestedSpec:
    """Prepends one dim (`None`, the default, for an unknown batch size) to every shape.

    >>> add_outer_dim({"a": tf.TensorSpec([2], tf.float32)})["a"].shape
    TensorShape([None, 2])
    """
    return add_outer_dims_nest(specs, (dim,))


def with_dtype(specs: NestedSpec, dtype: Any) -> NestedSpec:
    """Every spec with its dtype replaced by `dtype`; shapes, names and bounds kept.

    Bounds are cast to the new dtype, so they must fit it. Array specs become
    tensor specs, as in TF-Agents; sparse specs stay sparse.

    >>> with_dtype({"a": BoundedTensorSpec((), tf.int32, 0, 3)}, tf.int64)["a"]
    BoundedTensorSpec(shape=(), dtype=tf.int64, name=None, minimum=0, maximum=3)
    """
    tf_dtype = tf.as_dtype(dtype)

    def change(path: tuple, spec: Any) -> Any:
        if isinstance(spec, tf.SparseTensorSpec):
            return tf.SparseTensorSpec(spec.shape, tf_dtype)
        if not isinstance(spec, (tf.TensorSpec, ArraySpec)):
            raise TypeError(_spec_error(path, _NOT_A_SPEC.format(spec=spec)))
        if is_bounded(spec):
            try:
                return BoundedTensorSpec(spec.shape, tf_dtype, spec.minimum, spec.maximum,
                                         spec.name)
            except ValueError as e:
                raise ValueError(_spec_error(
                    path, f"its bounds do not fit dtype {tf_dtype.name}: {e}")) from None
        return tf.TensorSpec(spec.shape, tf_dtype, spec.name)

    return tree.map_structure_with_path(change, specs)


def signature_nest(specs: NestedSpec, outer_dims: Sequence[Optional[int]] = ()) -> NestedSpec:
    """Plain unnamed `tf.TensorSpec`s with `outer_dims` prepended, for `tf.function`
    input signatures (no bounds, no names: a name would become an argument name).
    Sparse leaves give `tf.SparseTensorSpec`s.

    >>> signature_nest({"a": BoundedTensorSpec([2], tf.float32, 0, 1, "a")}, (None,))
    {'a': TensorSpec(shape=(None, 2), dtype=tf.float32, name=None)}
    """
    outer = list(outer_dims)

    def plain(s: Any) -> tf.TypeSpec:
        shape = outer + tf.TensorShape(s.shape).as_list()
        if isinstance(s, tf.SparseTensorSpec):
            return tf.SparseTensorSpec(shape, s.dtype)
        return tf.TensorSpec(shape, tf.as_dtype(s.dtype))

    return tree.map_structure(plain, specs)


def remove_outer_dims_nest(specs: NestedSpec, num_outer_dims: int) -> NestedSpec:
    """Removes the first `num_outer_dims` dims of every spec's shape.

    Raises:
      ValueError: if a spec has fewer dims, or its bounds differ along a removed
        dim; the message names the spec's path.
    """

    def remove(path: tuple, spec: Any) -> Any:
        dims = tf.TensorShape(spec.shape).as_list()
        if len(dims) < num_outer_dims:
            raise ValueError(_spec_error(
                path, f"cannot remove {num_outer_dims} outer dims from a spec of rank "
                      f"{len(dims)}: {spec!r}"))
        inner = tuple(dims[num_outer_dims:])
        if not is_bounded(spec):
            return _with_shape(path, spec, inner)
        bounds = []
        for bound in (spec.minimum, spec.maximum):
            drop = bound.ndim - len(inner)
            if drop > 0:
                first = bound[(0,) * drop]
                if not np.all(bound == first):
                    raise ValueError(_spec_error(
                        path, f"cannot remove {num_outer_dims} outer dims from {spec!r}: "
                              f"its bounds vary along them"))
                bound = first
            bounds.append(bound)
        return _with_shape(path, spec, inner, *bounds)

    return tree.map_structure_with_path(remove, specs)


def _as_outer_dims(outer_dims: Optional[OuterDims]) -> OuterDims:
    return () if outer_dims is None else outer_dims


def _full_shape(outer_dims: OuterDims, spec: tf.TensorSpec) -> Any:
    inner = spec.shape.as_list()
    if isinstance(outer_dims, (tf.Tensor, tf.Variable)):
        return tf.concat([tf.cast(outer_dims, tf.int32), tf.constant(inner, tf.int32)], 0)
    return tuple(outer_dims) + tuple(inner)


def _static_outer_dims(path: tuple, spec: Any, outer_dims: OuterDims) -> tuple:
    """`outer_dims` as ints; a sparse sample needs them known when it is built."""
    static = tf.get_static_value(outer_dims) if isinstance(
        outer_dims, (tf.Tensor, tf.Variable)) else outer_dims
    if static is None:
        raise ValueError(_spec_error(
            path, f"sampling a sparse spec needs statically known outer dims, "
                  f"got {outer_dims!r} for {spec!r}"))
    return tuple(int(d) for d in np.reshape(static, [-1]))


def _stream(seed: Optional[tuple], k: int, shape: Any, dtype: tf.DType = tf.float64,
            maxval: Any = None) -> tf.Tensor:
    """Uniform numbers from stream `k` of a leaf's seed, or TF's global RNG."""
    if seed is None:
        return tf.random.uniform(shape, maxval=maxval, dtype=dtype)
    return tf.random.stateless_uniform(shape, seed=(seed[0], seed[1] * 3 + k),
                                       maxval=maxval, dtype=dtype)


def _sample_leaf(spec: tf.TensorSpec, outer_dims: OuterDims, seed: Optional[tuple]) -> tf.Tensor:
    if not spec.shape.is_fully_defined():
        raise ValueError(f"cannot sample values for {spec!r}: its shape is not fully defined")
    np_dtype = np.dtype(spec.dtype.as_numpy_dtype)
    if not (np_dtype == np.bool_ or np.issubdtype(np_dtype, np.integer)
            or np.issubdtype(np_dtype, np.floating)):
        raise TypeError(_array_spec.UNSAMPLEABLE_DTYPE.format(spec=spec))
    shape = _full_shape(outer_dims, spec)
    if is_bounded(spec):
        low, high = spec.minimum, spec.maximum
    else:
        low, high = _array_spec.dtype_range(np_dtype)
    low = np.asarray(low, np.float64)
    high = np.asarray(high, np.float64)

    def uniform(k: int) -> tf.Tensor:
        return _stream(seed, k, shape)

    if np_dtype == np.bool_ or np.issubdtype(np_dtype, np.integer):
        span = high - low + 1.0
        values = tf.clip_by_value(tf.floor(low + uniform(0) * span), low, high)
        if np_dtype == np.bool_:
            return tf.cast(values, spec.dtype)
        # float64 holds integers exactly only up to 2**53: keep the cast in the
        # dtype's range, then clip again with the exact integer bounds.
        info = np.iinfo(np_dtype)
        top = float(info.max)
        if int(top) > int(info.max):
            top = float(np.nextafter(top, 0.0))
        values = tf.cast(tf.clip_by_value(values, float(info.min), top), spec.dtype)
        if is_bounded(spec):
            exact_low, exact_high = spec.minimum, spec.maximum
        else:
            exact_low, exact_high = info.min, info.max
        return tf.clip_by_value(values, tf.constant(exact_low, spec.dtype),
                                tf.constant(exact_high, spec.dtype))
    finfo = np.finfo(np_dtype)
    has_low = low > float(finfo.min) / 2
    has_high = high < float(finfo.max) / 2
    u = uniform(0)
    exp = -tf.math.log1p(-uniform(1))
    # Box-Muller from two more uniforms keeps every leaf on one seeded stream.
    normal = tf.sqrt(-2.0 * tf.math.log1p(-uniform(2))) * tf.cos(2.0 * np.pi * u)
    finite_low = np.where(has_low, low, 0.0)
    finite_high = np.where(has_high, high, 0.0)
    values = tf.where(
        has_low & has_high, finite_low + u * (finite_high - finite_low),
        tf.where(has_low, finite_low + exp, tf.where(has_high, finite_high - exp, normal)))
    values = tf.clip_by_value(values, np.maximum(low, float(finfo.min)),
                              np.minimum(high, float(finfo.max)))
    return tf.cast(values, spec.dtype)


# How many entries a sampled sparse tensor tries to have (duplicates are merged).
_SPARSE_ENTRIES = 7


def _sample_sparse_leaf(path: tuple, spec: tf.SparseTensorSpec, outer_dims: OuterDims,
                        seed: Optional[tuple]) -> tf.SparseTensor:
    shape = _static_outer_dims(path, spec, outer_dims) + tuple(spec.shape.as_list())
    if None in shape:
        raise ValueError(_spec_error(
            path, f"cannot sample values for {spec!r}: its shape is not fully defined"))
    size = int(np.prod(shape, dtype=np.int64))
    if size == 0:
        flat = tf.zeros([0], tf.int64)
    elif not shape:
        flat = tf.zeros([1], tf.int64)  # a scalar has one position
    else:
        # Distinct sorted positions, so the result is a canonical SparseTensor.
        draws = _stream(seed, 0, [_SPARSE_ENTRIES], tf.int64, maxval=size)
        flat = tf.sort(tf.unique(draws).y)
    count = tf.shape(flat)[0]
    if shape and size:
        indices = tf.transpose(tf.unravel_index(flat, tf.constant(shape, tf.int64)))
    else:
        indices = tf.zeros([count, len(shape)], tf.int64)
    # Values follow the law of an unbounded dense spec of the same dtype, on
    # streams of their own (the positions used the leaf's stream 0).
    # Values use negative stream ids, which no dense leaf uses.
    value_seed = None if seed is None else (seed[0], -1 - seed[1])
    values = _sample_leaf(tf.TensorSpec([_SPARSE_ENTRIES], spec.dtype), (), value_seed)
    return tf.SparseTensor(indices, values[:count], shape)


def sample_bounded_spec(spec: Any, seed: Optional[int] = None,
                        outer_dims: Optional[OuterDims] = None) -> tf.Tensor:
    """Samples one tensor for one spec, with the law of `sample_spec_nest`.

    >>> spec = BoundedTensorSpec((2,), tf.int32, 0, 3)
    >>> sample_bounded_spec(spec, seed=1, outer_dims=(4,)).shape
    TensorShape([4, 2])

    Args:
      spec: a `TensorSpec` or `ArraySpec`; unbounded ones use the dtype's range.
      seed: an int for reproducible (stateless) sampling; None for TF's global RNG.
      outer_dims: leading dims prepended to the shape; ints or a 1-D int tensor.
    """
    (spec,) = from_spec([spec])
    leaf_seed = None if seed is None else (int(seed), 0)
    if isinstance(spec, tf.SparseTensorSpec):
        return _sample_sparse_leaf((), spec, _as_outer_dims(outer_dims), leaf_seed)
    return _sample_leaf(spec, _as_outer_dims(outer_dims), leaf_seed)


def sample_spec_nest(structure: NestedSpec, seed: Optional[int] = None,
                     outer_dims: OuterDims = ()) -> NestedTensor:
    """Samples a nest of tensors for a nest of specs.

    Integer and bool elements are uniform over `[minimum, maximum]` (the
    dtype's range for unbounded specs). Float elements are uniform between
    finite bounds; with one infinite bound they are the finite bound plus (or
    minus) an exponential sample; unbounded floats are standard normal.
    A `tf.SparseTensorSpec` leaf gives a `tf.SparseTensor` of up to 7 entries
    at distinct random positions, its values drawn as for an unbounded spec.

    Args:
      structure: a nest of `TensorSpec`s, `ArraySpec`s or `tf.SparseTensorSpec`s
        with fully defined shapes.
      seed: an int for reproducible (stateless) sampling; None for TF's global RNG.
      outer_dims: leading dims prepended to every shape; ints or a 1-D int tensor
        (statically known when the nest holds sparse specs).

    Returns:
      A nest of tensors of shape `outer_dims + spec.shape`.

    Raises:
      ValueError: for a sparse leaf when `outer_dims` is not static.
    """
    tensor_specs = from_spec(structure)
    leaves = tree.flatten_with_path(tensor_specs)
    samples = []
    for i, (path, s) in enumerate(leaves):
        leaf_seed = None if seed is None else (int(seed), i)
        if isinstance(s, tf.SparseTensorSpec):
            samples.append(_sample_sparse_leaf(path, s, outer_dims, leaf_seed))
        else:
            samples.append(_sample_leaf(s, outer_dims, leaf_seed))
    return tree.unflatten_as(tensor_specs, samples)


def zero_spec_nest(specs: NestedSpec, outer_dims: Optional[OuterDims] = None) -> NestedTensor:
    """A nest of zero tensors of shape `outer_dims + spec.shape` and the specs' dtypes.

    A `tf.SparseTensorSpec` leaf gives a `tf.SparseTensor` with no entries.
    """
    outer = _as_outer_dims(outer_dims)

    def zeros(s: tf.TypeSpec) -> Any:
        if isinstance(s, tf.SparseTensorSpec):
            shape = tf.cast(_full_shape(outer, s), tf.int64)
            return tf.SparseTensor(tf.zeros([0, tf.size(shape)], tf.int64),
                                   tf.zeros([0], s.dtype), shape)
        return tf.zeros(_full_shape(outer, s), s.dtype)

    return tree.map_structure(zeros, from_spec(specs))


def to_proto(spec: NestedSpec) -> StructuredValue:
    """Encodes a nest of specs as a `StructuredValue` proto (TensorFlow's `struct.proto`).

    Array specs are written as the tensor specs `from_spec` makes of them;
    bounds and names are kept. Lists, tuples, namedtuples (by type name and
    fields), string-keyed dicts, None and Python scalars are written too.

    >>> proto = to_proto({"action": BoundedTensorSpec((), tf.int32, 0, 2, "action")})
    >>> from_proto(proto)
    {'action': BoundedTensorSpec(shape=(), dtype=tf.int32, name='action', minimum=0, maximum=2)}

    Raises:
      TypeError: a leaf is neither a spec nor another encodable value, or a
        dict has a key that is not a string (its nest path named).
    """
    return _proto.encode(spec)


def from_proto(spec_proto: StructuredValue) -> NestedSpec:
    """Decodes a `StructuredValue` proto into the nest of specs it describes.

    Dense specs come back as `tf.TensorSpec`s, bounded ones as
    `BoundedTensorSpec`s. A namedtuple comes back as a `collections.namedtuple`
    with the recorded type name and fields (not the original class, which the
    proto does not identify); one class per name and fields, so two decoded
    nests compare as the same structure.

    Raises:
      ValueError: a part of the proto holds no value or cannot be decoded
        (its nest path named).
    """
    return _proto.decode(spec_proto)


def from_packed_proto(spec_packed_proto: Any) -> NestedSpec:
    """Decodes a `google.protobuf.Any` that packs a `StructuredValue` (see `from_proto`).

    Raises:
      TypeError: `spec_packed_proto` is not an `Any` proto.
      ValueError: it packs another message type.
    """
    return from_proto(_proto.unpack(spec_packed_proto))


def to_pbtxt_file(output_path: str, spec: NestedSpec) -> None:
    """Writes a nest of specs to `output_path` as a text `StructuredValue` proto.

    This is the format of the `policy_specs.pbtxt` file TF-Agents' policy
    saver writes; `from_pbtxt_file` (here or in TF-Agents) reads it back. The
    file is written to a temporary sibling and renamed into place, so it
    appears complete or not at all. Any `tf.io.gfile` path works.

    Raises:
      TypeError: as `to_proto`.
    """
    _proto.write_pbtxt(output_path, to_proto(spec))


def from_pbtxt_file(spec_path: str) -> NestedSpec:
    """Reads a nest of specs from a text `StructuredValue` proto file.

    Reads the `policy_specs.pbtxt` that TF-Agents' policy saver writes (or
    `to_pbtxt_file`); decoded as `from_proto` does.

    Raises:
      FileNotFoundError: there is no file at `spec_path`.
      ValueError: the file is not a text `StructuredValue` proto, or as
        `from_proto`.
    """
    return from_proto(_proto.read_pbtxt(spec_path))
