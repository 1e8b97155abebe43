"""Hypothesis strategies for random spec nests, shared by the spec tests.

A spec nest is a leaf or a dict (string keys), tuple or namedtuple of nests.
Leaves are `ArraySpec`s or `BoundedArraySpec`s with 0-3 dims of size 1-4,
a dtype from `DTYPES` and valid random bounds (scalar or per element; for
floats possibly infinite on either side; for ints sometimes a narrow range
anywhere in the dtype's range, including values float64 cannot represent).

Float bounds are normal numbers (no subnormals): TensorFlow flushes subnormal
float32 results to zero on CPU, which no spec with real-world bounds meets.
"""

import collections
import math
import string

import numpy as np
from hypothesis import strategies as st

from specs import array_spec, tensor_spec

DTYPES = (np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_)

Pair = collections.namedtuple("Pair", ["first", "second"])
Triple = collections.namedtuple("Triple", ["x", "y", "z"])

# Keys only use these letters, so `EXTRA_KEY` never collides with a drawn key.
KEY_ALPHABET = "abcdefgh"
EXTRA_KEY = "zz_extra"

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
dtypes = st.sampled_from(DTYPES)
outer_dims = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)
names = st.one_of(st.none(), st.text(string.ascii_lowercase, min_size=1, max_size=5))
keys = st.text(KEY_ALPHABET, min_size=1, max_size=3)


def _finite_floats(dtype):
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=width)


@st.composite
def bound_pair(draw, dtype):
    """One valid (minimum, maximum) pair of Python numbers for `dtype`."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return draw(st.sampled_from([(False, False), (False, True), (True, True)]))
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
        # Values near the dtype's edges too: for int64 they are not float64s.
        a = draw(st.one_of(st.integers(lo, hi), st.integers(hi - 8, hi), st.integers(lo, lo + 8)))
        if draw(st.booleans()):
            b = min(a + draw(st.integers(0, 3)), hi)
        else:
            b = draw(st.integers(lo, hi))
        return (min(a, b), max(a, b))
    finite = _finite_floats(dtype)
    low = draw(st.one_of(finite, st.just(-math.inf)))
    high = draw(st.one_of(finite, st.just(math.inf)))
    if low > high:
        low, high = high, low
    return (low, high)


@st.composite
def bounds(draw, dtype, shape):
    """(minimum, maximum) for a spec: None (dtype default), a scalar, or per-element arrays."""
    kind = draw(st.sampled_from(["scalar", "per_element", "default"] if shape else
                                ["scalar", "default"]))
    if kind == "default":
        return None, None
    if kind == "scalar":
        return draw(bound_pair(dtype))
    n = int(np.prod(shape))
    pairs = draw(st.lists(bound_pair(dtype), min_size=n, max_size=n))
    low = np.array([p[0] for p in pairs], dtype=dtype).reshape(shape)
    high = np.array([p[1] for p in pairs], dtype=dtype).reshape(shape)
    return low, high


@st.composite
def leaf_specs(draw, bounded=None):
    """An `ArraySpec` or `BoundedArraySpec` (or only one kind, with `bounded`)."""
    shape = draw(shapes)
    dtype = draw(dtypes)
    name = draw(names)
    if bounded is None:
        bounded = draw(st.sampled_from([True, False]))
    if not bounded:
        return array_spec.ArraySpec(shape, dtype, name)
    low, high = draw(bounds(dtype, shape))
    return array_spec.BoundedArraySpec(shape, dtype, low, high, name)


def _containers(children):
    return st.one_of(
        st.dictionaries(keys, children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3).map(tuple),
        st.builds(Pair, children, children),
        st.builds(Triple, children, children, children),
    )


def spec_nests(max_leaves=6):
    """Random nests of array specs (a single leaf is a nest too)."""
    return st.recursive(leaf_specs(), _containers, max_leaves=max_leaves)


def dict_spec_nests(max_leaves=6):
    """Random nests whose top level is a dict (so there is always a key to drop or add)."""
    return st.dictionaries(keys, spec_nests(max_leaves=max(1, max_leaves // 2)),
                           min_size=1, max_size=3)


def to_tensor_specs(nest):
    """The same nest as tensor specs (bounds and names kept)."""
    return tensor_spec.from_spec(nest)


def dict_paths(nest, path=()):
    """Yields `(path, dict_node)` for every dict in `nest` (paths as dm-tree tuples)."""
    if isinstance(nest, dict):
        yield path, nest
        for k in sorted(nest):
            yield from dict_paths(nest[k], path + (k,))
    elif isinstance(nest, tuple):
        fields = getattr(nest, "_fields", None)
        for i, child in enumerate(nest):
            yield from dict_paths(child, path + ((fields[i] if fields else i),))


def replace_at(nest, path, fn):
    """A copy of `nest` whose node at `path` (dm-tree path tuple) is `fn(node)`."""
    if not path:
        return fn(nest)
    head, rest = path[0], path[1:]
    if isinstance(nest, dict):
        out = dict(nest)
        out[head] = replace_at(nest[head], rest, fn)
        return out
    fields = getattr(nest, "_fields", None)
    index = fields.index(head) if fields else head
    children = [replace_at(c, rest, fn) if i == index else c for i, c in enumerate(nest)]
    return type(nest)(*children) if fields else tuple(children)
