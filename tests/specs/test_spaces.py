"""Tests for `specs.spaces`: gymnasium spaces <-> array-spec nests."""

import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from specs.array_spec import ArraySpec, BoundedArraySpec, sample_spec_nest
from specs.spaces import from_space, to_space
from specs.tensor_spec import BoundedTensorSpec

spaces = gym.spaces
INF = np.inf


# --------------------------------------------------------------------------
# helpers


def _leaf_pairs(spec, value, path=()):
    """(path, spec leaf, value leaf) triples, walking `spec`'s structure by hand."""
    if isinstance(spec, dict):
        assert isinstance(value, dict) and set(value) == set(spec), (path, value)
        for key in spec:
            yield from _leaf_pairs(spec[key], value[key], path + (key,))
    elif isinstance(spec, tuple):
        assert isinstance(value, tuple) and len(value) == len(spec), (path, value)
        for i, (s, v) in enumerate(zip(spec, value)):
            yield from _leaf_pairs(s, v, path + (i,))
    else:
        yield path, spec, value


def _spec_leaves(spec, path=()):
    if isinstance(spec, dict):
        for key in spec:
            yield from _spec_leaves(spec[key], path + (key,))
    elif isinstance(spec, tuple):
        for i, s in enumerate(spec):
            yield from _spec_leaves(s, path + (i,))
    else:
        yield path, spec


def _named_by_path(spec, name=None, path=()):
    """`spec` with every leaf renamed the way `from_space(..., name=name)` names it."""
    if isinstance(spec, dict):
        return {k: _named_by_path(s, name, path + (k,)) for k, s in spec.items()}
    if isinstance(spec, tuple):
        return tuple(_named_by_path(s, name, path + (i,)) for i, s in enumerate(spec))
    parts = ((name,) if name else ()) + path
    leaf_name = "/".join(str(p) for p in parts) if parts else name
    return BoundedArraySpec(spec.shape, spec.dtype, spec.minimum, spec.maximum, leaf_name)


def _assert_space_samples_fit(space, spec, seed=0, n=5):
    space.seed(seed)
    for _ in range(n):
        sample = space.sample()
        for path, leaf_spec, value in _leaf_pairs(spec, sample):
            assert leaf_spec.check_array(value), (path, leaf_spec, value)


def _assert_spec_samples_in_space(spec, space, seed=0, n=5):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        value = sample_spec_nest(spec, rng)
        assert space.contains(value), (space, value)
        # Box.contains casts non-arrays to its dtype, so check dtypes leaf by leaf too.
        for path, leaf_spec, leaf in _leaf_pairs(spec, value):
            assert leaf_spec.check_array(leaf), (path, leaf_spec, leaf)


# --------------------------------------------------------------------------
# from_space, leaf by leaf


def test_box_becomes_bounded_spec_with_its_shape_dtype_and_bounds():
    box = spaces.Box(low=np.array([-1.0, 0.0]), high=np.array([1.0, 5.0]), dtype=np.float64)
    spec = from_space(box)
    assert spec == BoundedArraySpec((2,), np.float64, [-1.0, 0.0], [1.0, 5.0])
    assert spec.name is None


def test_box_keeps_infinite_bounds():
    box = spaces.Box(low=np.array([-INF, 0.0, -INF], np.float32),
                     high=np.array([INF, INF, 3.0], np.float32))
    spec = from_space(box)
    np.testing.assert_array_equal(spec.minimum, np.array([-INF, 0.0, -INF], np.float32))
    np.testing.assert_array_equal(spec.maximum, np.array([INF, INF, 3.0], np.float32))
    assert spec.dtype == np.float32 and spec.shape == (3,)


def test_scalar_box_gives_scalar_spec():
    spec = from_space(spaces.Box(low=-2.0, high=2.0, shape=(), dtype=np.float32))
    assert spec == BoundedArraySpec((), np.float32, -2.0, 2.0)


def test_bool_box_gives_bool_spec():
    box = spaces.Box(low=np.array([False, True]), high=np.array([True, True]), dtype=bool)
    assert from_space(box) == BoundedArraySpec((2,), bool, [False, True], [True, True])


def test_discrete_with_nonzero_start():
    spec = from_space(spaces.Discrete(4, start=-2))
    assert spec == BoundedArraySpec((), np.int64, -2, 1)
    assert spec.num_values == 4


def test_discrete_keeps_its_dtype():
    spec = from_space(spaces.Discrete(3, start=5, dtype=np.int32))
    assert spec == BoundedArraySpec((), np.int32, 5, 7)


def test_multi_discrete_with_start():
    space = spaces.MultiDiscrete(np.array([[2, 3], [4, 5]]), start=np.array([[0, -1], [10, 2]]))
    spec = from_space(space)
    assert spec == BoundedArraySpec((2, 2), np.int64, [[0, -1], [10, 2]], [[1, 1], [13, 6]])


def test_multi_discrete_keeps_its_dtype():
    spec = from_space(spaces.MultiDiscrete([3, 3], dtype=np.int16))
    assert spec == BoundedArraySpec((2,), np.int16, 0, 2)


def test_multi_binary_with_shape_2_3():
    spec = from_space(spaces.MultiBinary([2, 3]))
    assert spec == BoundedArraySpec((2, 3), np.int8, 0, 1)


def test_multi_binary_with_int_n():
    assert from_space(spaces.MultiBinary(4)) == BoundedArraySpec((4,), np.int8, 0, 1)


def test_space_bounds_outside_its_dtype_raise_value_error_with_path():
    # gymnasium accepts this space although its largest value (199) is not an int8.
    space = spaces.Dict({"a": spaces.Discrete(100, start=100, dtype=np.int8)})
    with pytest.raises(ValueError, match="'obs/a'"):
        from_space(space, name="obs")


# --------------------------------------------------------------------------
# from_space: nests and names


def test_nested_dict_of_tuple():
    space = spaces.Dict({
        "pos": spaces.Box(-1.0, 1.0, (2,)),
        "parts": spaces.Tuple([spaces.Discrete(3), spaces.MultiBinary(2)]),
    })
    spec = from_space(space, name="observation")
    assert type(spec) is dict
    assert list(spec) == list(space.spaces)  # same keys, same order
    assert isinstance(spec["parts"], tuple) and len(spec["parts"]) == 2
    assert spec == {
        "pos": BoundedArraySpec((2,), np.float32, -1.0, 1.0, "observation/pos"),
        "parts": (
            BoundedArraySpec((), np.int64, 0, 2, "observation/parts/0"),
            BoundedArraySpec((2,), np.int8, 0, 1, "observation/parts/1"),
        ),
    }


def test_dict_keeps_the_space_key_order():
    space = spaces.Dict({"z": spaces.Discrete(2), "a": spaces.Discrete(3)}, sort_keys=False)
    assert list(from_space(space)) == ["z", "a"]


def test_names_follow_the_nest_path():
    space = spaces.Dict({
        "pos": spaces.Box(-1.0, 1.0, (2,)),
        "inner": spaces.Dict({"t": spaces.Tuple([spaces.Discrete(2)])}),
    })
    named = from_space(space, name="observation")
    assert named["pos"].name == "observation/pos"
    assert named["inner"]["t"][0].name == "observation/inner/t/0"
    unnamed = from_space(space)
    assert unnamed["pos"].name == "pos"
    assert unnamed["inner"]["t"][0].name == "inner/t/0"


def test_top_level_leaf_gets_the_given_name():
    assert from_space(spaces.Discrete(2), name="action").name == "action"
    assert from_space(spaces.Discrete(2)).name is None


def test_top_level_tuple_leaves_are_named_by_index():
    spec = from_space(spaces.Tuple([spaces.Discrete(2), spaces.Discrete(3)]))
    assert [s.name for s in spec] == ["0", "1"]


def test_empty_dict_and_tuple():
    assert from_space(spaces.Dict({})) == {}
    assert from_space(spaces.Tuple([])) == ()


@pytest.mark.parametrize("unsupported", [
    spaces.Text(5),
    spaces.Graph(spaces.Box(0.0, 1.0, (2,)), None),
    spaces.Sequence(spaces.Discrete(2)),
    spaces.OneOf([spaces.Discrete(2), spaces.Discrete(3)]),
])
def test_unsupported_space_raises_type_error_naming_type_and_path(unsupported):
    space = spaces.Dict({"ok": spaces.Discrete(2),
                         "bad": spaces.Tuple([spaces.Discrete(2), unsupported])})
    with pytest.raises(TypeError) as info:
        from_space(space, name="observation")
    message = str(info.value)
    assert type(unsupported).__name__ in message
    assert "'observation/bad/1'" in message
    for supported in ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple"):
        assert supported in message


def test_unsupported_space_at_the_root_is_reported_as_root():
    with pytest.raises(TypeError, match=r"Text at '<root>'"):
        from_space(spaces.Text(3))


def test_non_space_raises_type_error():
    with pytest.raises(TypeError, match="non-space object of type int"):
        from_space(3)


# --------------------------------------------------------------------------
# to_space


def test_integer_scalar_spec_becomes_discrete():
    space = to_space(BoundedArraySpec((), np.int32, -3, 4))
    assert space == spaces.Discrete(8, start=-3, dtype=np.int32)
    assert type(space.n) is np.int32


def test_integer_spec_with_shape_becomes_multi_discrete():
    spec = BoundedArraySpec((2, 2), np.int64, [[0, -1], [10, 2]], [[1, 1], [13, 6]])
    space = to_space(spec)
    assert space == spaces.MultiDiscrete(np.array([[2, 3], [4, 5]]),
                                         start=np.array([[0, -1], [10, 2]]))


def test_int8_binary_spec_with_shape_becomes_multi_binary():
    assert to_space(BoundedArraySpec((2, 3), np.int8, 0, 1)) == spaces.MultiBinary([2, 3])
    assert to_space(BoundedArraySpec((4,), np.int8, 0, 1)) == spaces.MultiBinary(4)


def test_int8_binary_scalar_spec_becomes_discrete():
    assert to_space(BoundedArraySpec((), np.int8, 0, 1)) == spaces.Discrete(2, dtype=np.int8)


def test_binary_spec_of_other_integer_dtype_becomes_multi_discrete():
    space = to_space(BoundedArraySpec((3,), np.int64, 0, 1))
    assert space == spaces.MultiDiscrete([2, 2, 2])


def test_int8_spec_not_binary_everywhere_becomes_multi_discrete():
    space = to_space(BoundedArraySpec((2,), np.int8, 0, [1, 2]))
    assert space == spaces.MultiDiscrete(np.array([2, 3]), dtype=np.int8)


def test_float_spec_becomes_box():
    space = to_space(BoundedArraySpec((2,), np.float32, [-1.0, -INF], [1.0, 3.0]))
    assert isinstance(space, spaces.Box)
    assert space.shape == (2,) and space.dtype == np.float32
    np.testing.assert_array_equal(space.low, np.array([-1.0, -INF], np.float32))
    np.testing.assert_array_equal(space.high, np.array([1.0, 3.0], np.float32))


def test_unbounded_float_spec_becomes_infinite_box():
    space = to_space(ArraySpec((3,), np.float64))
    assert space == spaces.Box(-INF, INF, (3,), np.float64)
    assert not space.is_bounded("below") and not space.is_bounded("above")


def test_unbounded_integer_spec_becomes_box_with_dtype_range():
    space = to_space(ArraySpec((2,), np.int16))
    assert isinstance(space, spaces.Box) and space.dtype == np.int16
    np.testing.assert_array_equal(space.low, [-32768, -32768])
    np.testing.assert_array_equal(space.high, [32767, 32767])


def test_integer_spec_with_too_many_values_for_its_dtype_becomes_box():
    # 256 values do not fit an uint8 count, so no Discrete/MultiDiscrete can hold them.
    spec = BoundedArraySpec((2,), np.uint8, 0, 255)
    space = to_space(spec)
    assert space == spaces.Box(0, 255, (2,), np.uint8)
    assert from_space(space) == spec


def test_full_range_int64_spec_becomes_box():
    space = to_space(BoundedArraySpec((), np.int64))
    assert isinstance(space, spaces.Box)
    assert space.low == np.iinfo(np.int64).min and space.high == np.iinfo(np.int64).max


def test_bool_spec_becomes_bool_box():
    assert to_space(ArraySpec((2, 2), bool)) == spaces.Box(
        np.zeros((2, 2), bool), np.ones((2, 2), bool), dtype=bool)
    spec = BoundedArraySpec((2,), bool, [False, True], True)
    space = to_space(spec)
    assert isinstance(space, spaces.Box) and space.dtype == np.bool_
    np.testing.assert_array_equal(space.low, [False, True])
    assert from_space(space) == spec


def test_dict_spec_becomes_dict_space_keeping_key_order():
    spec = {"z": BoundedArraySpec((), np.int64, 0, 1), "a": ArraySpec((1,), np.float32)}
    space = to_space(spec)
    assert isinstance(space, spaces.Dict)
    assert list(space.spaces) == ["z", "a"]
    assert space["z"] == spaces.Discrete(2)


def test_tuple_and_list_specs_become_tuple_spaces():
    leaf = BoundedArraySpec((), np.int64, 0, 2)
    expected = spaces.Tuple([spaces.Discrete(3), spaces.Discrete(3)])
    assert to_space((leaf, leaf)) == expected
    assert to_space([leaf, leaf]) == expected


def test_tensor_specs_are_accepted():
    spec = {"a": BoundedTensorSpec((), tf.int32, 1, 3), "b": tf.TensorSpec((2,), tf.float32)}
    space = to_space(spec)
    assert space == spaces.Dict({"a": spaces.Discrete(3, start=1, dtype=np.int32),
                                 "b": spaces.Box(-INF, INF, (2,), np.float32)})


def test_tensor_spec_with_unknown_dims_raises_value_error_with_path():
    with pytest.raises(ValueError, match="'x/0'"):
        to_space({"x": (tf.TensorSpec((None, 2), tf.float32),)})


def test_string_dtype_raises_type_error_naming_the_path():
    spec = {"obs": (ArraySpec((), np.float32), ArraySpec((3,), np.str_))}
    with pytest.raises(TypeError, match=r"'obs/1'"):
        to_space(spec)


def test_non_spec_leaf_raises_type_error_naming_the_path():
    with pytest.raises(TypeError, match=r"'a/0'.*got int"):
        to_space({"a": [3]})


def test_nan_bound_raises_value_error_naming_the_path():
    spec = {"a": BoundedArraySpec((2,), np.float32, [0.0, np.nan], 1.0)}
    with pytest.raises(ValueError, match="'a'"):
        to_space(spec)


# --------------------------------------------------------------------------
# round trips, by kind


@pytest.mark.parametrize("space", [
    spaces.Box(-1.0, 1.0, (2, 3), np.float32),
    spaces.Box(np.array([-INF, 0.0]), np.array([1.0, INF]), dtype=np.float64),
    spaces.Box(-INF, INF, (), np.float16),
    spaces.Box(np.array([False, True]), np.array([True, True]), dtype=bool),
    spaces.Box(0, 255, (4, 4), np.uint8),  # too wide for an uint8 count: stays a Box
    spaces.Box(-(2 ** 31), 2 ** 31 - 1, (2,), np.int32),
    spaces.Discrete(5),
    spaces.Discrete(3, start=-7),
    spaces.Discrete(2, start=1, dtype=np.uint8),
    spaces.MultiDiscrete([2, 3, 4]),
    spaces.MultiDiscrete(np.array([[3, 3], [2, 5]]), start=np.array([[-1, 0], [4, 4]])),
    spaces.MultiDiscrete([2, 2], dtype=np.int32),
    spaces.MultiBinary(3),
    spaces.MultiBinary([2, 3]),
    spaces.Dict({"a": spaces.Discrete(2), "b": spaces.Tuple([spaces.MultiBinary(2)])}),
    spaces.Tuple([]),
])
def test_space_round_trips_through_spec(space):
    spec = from_space(space, name="x")
    assert to_space(spec) == space
    assert from_space(to_space(spec), name="x") == spec


def test_integer_box_comes_back_as_discrete_spaces_with_the_same_values():
    box = spaces.Box(np.array([0, -2]), np.array([3, 2]), dtype=np.int64)
    assert to_space(from_space(box)) == spaces.MultiDiscrete(np.array([4, 5]),
                                                             start=np.array([0, -2]))
    assert to_space(from_space(spaces.Box(1, 6, (), np.int32))) == spaces.Discrete(
        6, start=1, dtype=np.int32)


def test_int8_binary_multi_discrete_comes_back_as_multi_binary():
    space = spaces.MultiDiscrete([2, 2], dtype=np.int8)
    assert to_space(from_space(space)) == spaces.MultiBinary(2)


def test_scalar_multi_discrete_comes_back_as_discrete():
    space = spaces.MultiDiscrete(np.array(5), start=np.array(1))
    assert to_space(from_space(space)) == spaces.Discrete(5, start=1)


@pytest.mark.parametrize("spec", [
    BoundedArraySpec((), np.int64, -2, 1),
    BoundedArraySpec((3,), np.int16, [0, -5, 2], [4, 5, 2]),
    BoundedArraySpec((2, 3), np.int8, 0, 1),
    BoundedArraySpec((), np.int8, 0, 1),
    BoundedArraySpec((2,), np.uint64),
    BoundedArraySpec((2,), np.float32, [-INF, 0.0], [0.0, INF]),
    BoundedArraySpec((), bool),
])
def test_bounded_spec_round_trips_through_space(spec):
    assert from_space(to_space(spec)) == spec


def test_nested_specs_round_trip_with_path_names():
    spec = {
        "pos": BoundedArraySpec((2,), np.float32, -1.0, 1.0, "observation/pos"),
        "parts": (BoundedArraySpec((), np.int64, 3, 9, "observation/parts/0"),
                  BoundedArraySpec((2, 3), np.int8, 0, 1, "observation/parts/1")),
    }
    assert from_space(to_space(spec), name="observation") == spec


# --------------------------------------------------------------------------
# samples


_NESTED_SPACE = spaces.Dict({
    "box": spaces.Box(np.array([-1.0, 0.0, -INF], np.float32),
                      np.array([1.0, INF, 2.0], np.float32), dtype=np.float32),
    "flag": spaces.Box(np.zeros(2, bool), np.ones(2, bool), dtype=bool),
    "counts": spaces.Box(0, 10, (3,), np.int32),
    "parts": spaces.Tuple([
        spaces.Discrete(3, start=-1),
        spaces.MultiDiscrete(np.array([[2, 3], [4, 5]]), start=np.array([[0, 1], [-2, 5]])),
        spaces.MultiBinary([2, 3]),
    ]),
})


def test_space_samples_pass_check_array_of_every_leaf():
    spec = from_space(_NESTED_SPACE, name="observation")
    _assert_space_samples_fit(_NESTED_SPACE, spec, n=20)


def test_spec_samples_are_in_the_space():
    spec = from_space(_NESTED_SPACE)
    _assert_spec_samples_in_space(spec, _NESTED_SPACE, n=20)
    _assert_spec_samples_in_space(spec, to_space(spec), n=20)


def test_out_of_bounds_value_is_in_neither():
    spec = from_space(_NESTED_SPACE)
    value = sample_spec_nest(spec, np.random.default_rng(0))
    value["parts"] = (np.int64(2),) + value["parts"][1:]  # Discrete(3, start=-1) ends at 1
    assert not _NESTED_SPACE.contains(value)
    assert not spec["parts"][0].check_array(value["parts"][0])


# --------------------------------------------------------------------------
# hypothesis: random nested spaces and specs

_INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16]
_FLOAT_DTYPES = [np.float16, np.float32, np.float64]
_KEYS = st.text(alphabet="abcxyz", min_size=1, max_size=3)
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
_NONSCALAR_SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


@st.composite
def _float_bounds(draw, shape):
    """Per-element (low, high) float64 arrays, each bound finite or infinite, low <= high."""
    size = math.prod(shape)
    centers = draw(st.lists(st.floats(-100, 100, width=16), min_size=size, max_size=size))
    widths = draw(st.lists(st.floats(0, 100, width=16), min_size=size, max_size=size))
    kinds = draw(st.lists(st.sampled_from(["both", "low", "high", "none"]),
                          min_size=size, max_size=size))
    low = [c if k in ("both", "low") else -INF for c, k in zip(centers, kinds)]
    high = [c + w if k in ("both", "high") else INF for c, w, k in zip(centers, widths, kinds)]
    return np.reshape(np.array(low), shape), np.reshape(np.array(high), shape)


@st.composite
def _float_boxes(draw):
    dtype = draw(st.sampled_from(_FLOAT_DTYPES))
    shape = draw(_SHAPES)
    low, high = draw(_float_bounds(shape))
    return spaces.Box(low.astype(dtype), high.astype(dtype), shape, dtype)


@st.composite
def _bool_bounds(draw, shape):
    size = math.prod(shape)
    low = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    high = [lo or draw(st.booleans()) for lo in low]
    return np.reshape(np.array(low, bool), shape), np.reshape(np.array(high, bool), shape)


@st.composite
def _bool_boxes(draw):
    shape = draw(_SHAPES)
    low, high = draw(_bool_bounds(shape))
    return spaces.Box(low, high, shape, bool)


@st.composite
def _full_range_int_boxes(draw):
    dtype = np.dtype(draw(st.sampled_from([np.int8, np.int16, np.uint8, np.int32])))
    info = np.iinfo(dtype)
    return spaces.Box(int(info.min), int(info.max), draw(_SHAPES), dtype)


@st.composite
def _discretes(draw):
    dtype = np.dtype(draw(st.sampled_from(_INT_DTYPES)))
    lowest = 0 if dtype.kind == "u" else -50
    return spaces.Discrete(draw(st.integers(1, 50)), start=draw(st.integers(lowest, 50)),
                           dtype=dtype)


@st.composite
def _multi_discretes(draw, exact=True):
    dtype = np.dtype(draw(st.sampled_from(_INT_DTYPES)))
    shape = draw(_NONSCALAR_SHAPES)
    lowest = 0 if dtype.kind == "u" else -5
    nvec = draw(hnp.arrays(np.int64, shape, elements=st.integers(1, 10)))
    start = draw(hnp.arrays(np.int64, shape, elements=st.integers(lowest, 5)))
    if exact and dtype == np.int8 and np.all(nvec == 2) and np.all(start == 0):
        start = start.copy()
        start.flat[0] = 1  # else it is read back as a MultiBinary
    return spaces.MultiDiscrete(nvec, dtype=dtype, start=start)


@st.composite
def _multi_binaries(draw):
    shape = draw(_NONSCALAR_SHAPES)
    return spaces.MultiBinary(shape[0] if len(shape) == 1 else list(shape))


@st.composite
def _bounded_int_boxes(draw):
    """Integer Boxes that `to_space` reads back as Discrete/MultiDiscrete/MultiBinary."""
    dtype = np.dtype(draw(st.sampled_from(_INT_DTYPES)))
    shape = draw(_SHAPES)
    lowest = 0 if dtype.kind == "u" else -20
    low = draw(hnp.arrays(np.int64, shape, elements=st.integers(lowest, 20)))
    width = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 20)))
    return spaces.Box(low.astype(dtype), (low + width).astype(dtype), shape, dtype)


def _nested(leaves):
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.dictionaries(_KEYS, children, max_size=3).map(spaces.Dict),
            st.lists(children, max_size=3).map(spaces.Tuple),
        ),
        max_leaves=6,
    )


# Spaces that come back unchanged from to_space(from_space(space)).
_EXACT_SPACES = _nested(st.one_of(
    _float_boxes(), _bool_boxes(), _full_range_int_boxes(), _discretes(),
    _multi_discretes(), _multi_binaries()))
# Also spaces that come back as another space with the same values.
_ALL_SPACES = _nested(st.one_of(
    _float_boxes(), _bool_boxes(), _full_range_int_boxes(), _discretes(),
    _multi_discretes(exact=False), _multi_binaries(), _bounded_int_boxes(),
    st.integers(1, 5).map(lambda n: spaces.MultiDiscrete(np.array(n)))))


@given(space=_EXACT_SPACES, seed=st.integers(0, 2 ** 16))
def test_random_nested_spaces_round_trip_and_contain_samples(space, seed):
    spec = from_space(space, name="obs")
    assert to_space(spec) == space
    assert from_space(to_space(spec), name="obs") == spec
    for path, leaf in _spec_leaves(spec):
        assert leaf.name == "/".join(("obs",) + tuple(str(p) for p in path))
    _assert_space_samples_fit(space, spec, seed=seed, n=2)
    _assert_spec_samples_in_space(spec, space, seed=seed, n=2)


@given(space=_ALL_SPACES, seed=st.integers(0, 2 ** 16))
def test_random_nested_spaces_convert_to_spaces_with_the_same_values(space, seed):
    spec = from_space(space)
    converted = to_space(spec)
    assert from_space(converted) == spec
    _assert_space_samples_fit(space, spec, seed=seed, n=2)
    _assert_space_samples_fit(converted, spec, seed=seed, n=2)
    _assert_spec_samples_in_space(spec, space, seed=seed, n=2)
    _assert_spec_samples_in_space(spec, converted, seed=seed, n=2)


@st.composite
def _bounded_leaf_specs(draw):
    kind = draw(st.sampled_from(["float", "bool", "int", "int_full", "binary"]))
    shape = draw(_SHAPES)
    if kind == "float":
        low, high = draw(_float_bounds(shape))
        return BoundedArraySpec(shape, draw(st.sampled_from(_FLOAT_DTYPES)), low, high)
    if kind == "bool":
        low, high = draw(_bool_bounds(shape))
        return BoundedArraySpec(shape, bool, low, high)
    dtype = np.dtype(draw(st.sampled_from(_INT_DTYPES + [np.uint32, np.uint64])))
    if kind == "int_full":
        return BoundedArraySpec(shape, dtype)
    if kind == "binary":
        return BoundedArraySpec(shape, dtype, 0, 1)
    lowest = 0 if dtype.kind == "u" else -20
    low = draw(hnp.arrays(np.int64, shape, elements=st.integers(lowest, 20)))
    width = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 20)))
    return BoundedArraySpec(shape, dtype, low, low + width)


_NESTED_SPECS = st.recursive(
    _bounded_leaf_specs(),
    lambda children: st.one_of(st.dictionaries(_KEYS, children, max_size=3),
                               st.lists(children, max_size=3).map(tuple)),
    max_leaves=6,
)


@given(spec=_NESTED_SPECS, seed=st.integers(0, 2 ** 16))
def test_random_nested_specs_round_trip_and_contain_samples(spec, seed):
    space = to_space(spec)
    assert from_space(space, name="act") == _named_by_path(spec, "act")
    assert from_space(space) == _named_by_path(spec)
    _assert_spec_samples_in_space(spec, space, seed=seed, n=2)
    _assert_space_samples_fit(space, spec, seed=seed, n=2)


# --------------------------------------------------------------------------
# gymnasium is optional


def test_importing_the_module_does_not_import_gymnasium():
    code = "import specs.spaces, sys; assert 'gymnasium' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_missing_gymnasium_raises_import_error_with_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    monkeypatch.setitem(sys.modules, "gymnasium.spaces", None)
    with pytest.raises(ImportError, match=r'pip install "tfpolicy\[gym\]"'):
        to_space(ArraySpec((), np.float32))
    with pytest.raises(ImportError, match=r'pip install "tfpolicy\[gym\]"'):
        from_space(None)
