"""Tests for specs/array_spec.py: ArraySpec, BoundedArraySpec and the numpy helpers."""

import collections
import pickle

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import spec_strategies
from specs import array_spec
from specs import tensor_spec
from specs.array_spec import ArraySpec, BoundedArraySpec
from specs.nest_utils import check_nest

Point = collections.namedtuple("Point", ["pos", "vel"])


# --------------------------------------------------------------------------
# ArraySpec: shape and dtype normalisation
# --------------------------------------------------------------------------


def test_shape_int_becomes_one_dim_tuple():
    assert ArraySpec(3, np.float32).shape == (3,)
    assert ArraySpec(np.int64(4), np.float32).shape == (4,)


def test_shape_sequence_becomes_tuple_of_python_ints():
    spec = ArraySpec([2, np.int64(3)], np.float32)
    assert spec.shape == (2, 3)
    assert isinstance(spec.shape, tuple)
    assert all(type(d) is int for d in spec.shape)


def test_shape_numpy_array_and_tensor_shape_are_accepted():
    assert ArraySpec(np.array([2, 5]), np.int32).shape == (2, 5)
    assert ArraySpec(tf.TensorShape([4, 1]), np.int32).shape == (4, 1)
    assert ArraySpec((), np.int32).shape == ()


@pytest.mark.parametrize("bad", ["ab", None, [1, "x"]])
def test_shape_that_is_not_ints_raises_type_error(bad):
    with pytest.raises(TypeError, match="shape"):
        ArraySpec(bad, np.float32)


@pytest.mark.parametrize("given_dtype, expected", [
    (np.float32, np.float32),
    (float, np.float64),
    (int, np.int_),
    (bool, np.bool_),
    ("int32", np.int32),
    (np.dtype("uint8"), np.uint8),
    (tf.float32, np.float32),
    (tf.int64, np.int64),
    (tf.bool, np.bool_),
])
def test_dtype_is_normalised_to_numpy_dtype(given_dtype, expected):
    spec = ArraySpec((), given_dtype)
    assert isinstance(spec.dtype, np.dtype)
    assert spec.dtype == np.dtype(expected)


def test_name_is_kept_and_defaults_to_none():
    assert ArraySpec((1,), np.float32, name="obs").name == "obs"
    assert ArraySpec((1,), np.float32).name is None


# --------------------------------------------------------------------------
# ArraySpec: equality, hash, repr, pickle
# --------------------------------------------------------------------------


def test_array_spec_equality_compares_shape_dtype_and_name():
    a = ArraySpec((2,), np.float32, "x")
    assert a == ArraySpec([2], "float32", "x")
    assert not a != ArraySpec([2], "float32", "x")
    assert a != ArraySpec((3,), np.float32, "x")
    assert a != ArraySpec((2,), np.float64, "x")
    assert a != ArraySpec((2,), np.float32, "y")
    assert a != ArraySpec((2,), np.float32)


def test_array_spec_not_equal_to_other_objects():
    a = ArraySpec((2,), np.float32)
    assert a != (2,)
    assert not a == "ArraySpec"
    assert a != tf.TensorSpec((2,), tf.float32)


def test_equal_array_specs_hash_equal_and_dedupe_in_sets():
    a = ArraySpec((2, 3), np.int32, "n")
    b = ArraySpec([2, 3], np.dtype("int32"), "n")
    assert hash(a) == hash(b)
    assert len({a, b, ArraySpec((2, 3), np.int64, "n")}) == 2


def test_array_spec_repr():
    assert repr(ArraySpec((2,), np.float32)) == (
        "ArraySpec(shape=(2,), dtype=dtype('float32'), name=None)")
    assert repr(ArraySpec((), np.int64, "step")) == (
        "ArraySpec(shape=(), dtype=dtype('int64'), name='step')")


def test_array_spec_pickle_round_trip():
    a = ArraySpec((2, 1), np.uint8, "img")
    b = pickle.loads(pickle.dumps(a))
    assert type(b) is ArraySpec
    assert b == a


# --------------------------------------------------------------------------
# ArraySpec: check_array, replace, from_array, from_spec
# --------------------------------------------------------------------------


def test_check_array_accepts_exact_shape_and_dtype():
    spec = ArraySpec((2, 3), np.float32)
    assert spec.check_array(np.zeros((2, 3), np.float32))


def test_check_array_rejects_wrong_dtype_shape_or_non_array():
    spec = ArraySpec((2, 3), np.float32)
    assert not spec.check_array(np.zeros((2, 3), np.float64))
    assert not spec.check_array(np.zeros((3, 2), np.float32))
    assert not spec.check_array(np.zeros((1, 2, 3), np.float32))
    assert not spec.check_array([[0.0] * 3] * 2)
    assert not spec.check_array(tf.zeros((2, 3)))


def test_check_array_numpy_scalar_against_scalar_spec():
    spec = ArraySpec((), np.float32)
    assert spec.check_array(np.float32(1.5))
    assert not spec.check_array(np.float64(1.5))
    assert not spec.check_array(1.5)


def test_array_spec_replace_each_field():
    a = ArraySpec((2,), np.float32, "a")
    assert a.replace(shape=(4, 1)) == ArraySpec((4, 1), np.float32, "a")
    assert a.replace(dtype=np.int64) == ArraySpec((2,), np.int64, "a")
    assert a.replace(name="b") == ArraySpec((2,), np.float32, "b")
    assert a.replace() == a
    assert a == ArraySpec((2,), np.float32, "a")  # original untouched


def test_array_spec_from_array():
    spec = ArraySpec.from_array(np.zeros((2, 5), np.int16), name="z")
    assert spec == ArraySpec((2, 5), np.int16, "z")
    assert ArraySpec.from_array(3.0) == ArraySpec((), np.float64)


def test_bounded_from_array_gives_default_bounds_and_keeps_name():
    spec = BoundedArraySpec.from_array(np.zeros((2,), np.uint8), name="px")
    assert type(spec) is BoundedArraySpec
    assert spec.name == "px"
    assert spec.shape == (2,)
    np.testing.assert_array_equal(spec.minimum, [0, 0])
    np.testing.assert_array_equal(spec.maximum, [255, 255])


def test_array_spec_from_spec_drops_bounds_keeps_name():
    bounded = BoundedArraySpec((2,), np.int32, 0, 5, name="act")
    assert ArraySpec.from_spec(bounded) == ArraySpec((2,), np.int32, "act")
    assert type(ArraySpec.from_spec(bounded)) is ArraySpec
    tspec = tf.TensorSpec((3, 1), tf.float32, name="t")
    assert ArraySpec.from_spec(tspec) == ArraySpec((3, 1), np.float32, "t")


# --------------------------------------------------------------------------
# BoundedArraySpec: bounds
# --------------------------------------------------------------------------


def test_scalar_bounds_broadcast_to_shape():
    spec = BoundedArraySpec((2, 3), np.float32, -1.0, 1.0)
    assert spec.minimum.shape == (2, 3)
    assert spec.maximum.shape == (2, 3)
    np.testing.assert_array_equal(spec.minimum, np.full((2, 3), -1.0))
    np.testing.assert_array_equal(spec.maximum, np.full((2, 3), 1.0))


def test_per_element_bounds_broadcast_along_leading_dims():
    spec = BoundedArraySpec((2, 3), np.int32, [0, 1, 2], [[5, 6, 7], [8, 9, 10]])
    np.testing.assert_array_equal(spec.minimum, [[0, 1, 2], [0, 1, 2]])
    np.testing.assert_array_equal(spec.maximum, [[5, 6, 7], [8, 9, 10]])


def test_module_docstring_example():
    spec = BoundedArraySpec((2,), np.float32, minimum=-1.0, maximum=[1.0, 2.0])
    np.testing.assert_array_equal(spec.minimum, np.array([-1.0, -1.0], np.float32))
    assert spec.check_array(np.array([0.5, 1.5], np.float32))
    assert not spec.check_array(np.array([1.5, 1.5], np.float32))


def test_bounds_take_the_spec_dtype():
    spec = BoundedArraySpec((2,), np.float32, 0, 1)
    assert spec.minimum.dtype == np.float32
    assert spec.maximum.dtype == np.float32
    ispec = BoundedArraySpec((), np.int64, 0.0, 9.0)
    assert ispec.minimum.dtype == np.int64
    assert ispec.maximum == 9


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint16])
def test_default_int_bounds_are_dtype_range(dtype):
    spec = BoundedArraySpec((2,), dtype)
    info = np.iinfo(dtype)
    np.testing.assert_array_equal(spec.minimum, [info.min, info.min])
    np.testing.assert_array_equal(spec.maximum, [info.max, info.max])
    assert spec.minimum.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_default_float_bounds_are_infinite(dtype):
    spec = BoundedArraySpec((), dtype)
    assert spec.minimum == -np.inf
    assert spec.maximum == np.inf


def test_default_bool_bounds_are_false_true():
    spec = BoundedArraySpec((2,), np.bool_)
    assert spec.minimum.dtype == np.bool_
    np.testing.assert_array_equal(spec.minimum, [False, False])
    np.testing.assert_array_equal(spec.maximum, [True, True])


def test_one_default_bound_and_one_given():
    spec = BoundedArraySpec((), np.int32, minimum=3)
    assert spec.minimum == 3
    assert spec.maximum == np.iinfo(np.int32).max
    spec = BoundedArraySpec((), np.float32, maximum=0.0)
    assert spec.minimum == -np.inf
    assert spec.maximum == 0.0


def test_minimum_above_maximum_raises_with_name():
    with pytest.raises(ValueError, match="'act'") as info:
        BoundedArraySpec((), np.int32, 5, 3, name="act")
    assert "minimum 5 is above maximum 3" in str(info.value)


def test_minimum_above_maximum_in_one_element_raises():
    with pytest.raises(ValueError, match="'speed'"):
        BoundedArraySpec((3,), np.float32, [0.0, 2.0, 0.0], [1.0, 1.0, 1.0], name="speed")


def test_equal_bounds_are_allowed():
    spec = BoundedArraySpec((2,), np.int32, 4, 4)
    np.testing.assert_array_equal(spec.num_values, [1, 1])


@pytest.mark.parametrize("which", ["minimum", "maximum"])
def test_non_broadcastable_bound_raises_with_name(which):
    kwargs = {which: [0.0, 1.0, 2.0]}
    with pytest.raises(ValueError, match="'pos'") as info:
        BoundedArraySpec((2,), np.float32, name="pos", **kwargs)
    assert which in str(info.value)
    assert "(2,)" in str(info.value)


def test_bound_outside_integer_dtype_raises_with_name():
    with pytest.raises(ValueError, match="'pix'"):
        BoundedArraySpec((), np.uint8, -1, 5, name="pix")
    with pytest.raises(ValueError, match="'pix'"):
        BoundedArraySpec((), np.uint8, 0, 256, name="pix")


def test_bounds_of_unsupported_dtype_raise_type_error():
    with pytest.raises(TypeError):
        BoundedArraySpec((), np.complex64)


def test_bounds_are_read_only():
    spec = BoundedArraySpec((2,), np.float32, 0.0, 1.0)
    assert not spec.minimum.flags.writeable
    assert not spec.maximum.flags.writeable
    with pytest.raises(ValueError):
        spec.minimum[0] = -5.0
    with pytest.raises(ValueError):
        spec.maximum[...] = 9.0
    np.testing.assert_array_equal(spec.maximum, [1.0, 1.0])


def test_bounds_do_not_alias_caller_arrays():
    low = np.array([0.0, 1.0], np.float32)
    spec = BoundedArraySpec((2,), np.float32, low, 5.0)
    low[0] = 3.0
    np.testing.assert_array_equal(spec.minimum, [0.0, 1.0])


def test_num_values_for_integer_specs():
    spec = BoundedArraySpec((3,), np.int32, [0, -2, 5], 5)
    np.testing.assert_array_equal(spec.num_values, [6, 8, 1])
    assert BoundedArraySpec((), np.uint8).num_values == 256
    assert BoundedArraySpec((), np.int8).num_values == 256


@pytest.mark.parametrize("dtype", [np.float32, np.bool_])
def test_num_values_for_non_integer_spec_is_none(dtype):
    assert BoundedArraySpec((), dtype).num_values is None


# --------------------------------------------------------------------------
# BoundedArraySpec: equality, hash, repr, pickle
# --------------------------------------------------------------------------


def test_bounded_spec_never_equals_unbounded_spec():
    bounded = BoundedArraySpec((2,), np.float32)
    unbounded = ArraySpec((2,), np.float32)
    assert bounded != unbounded
    assert unbounded != bounded
    assert not bounded == unbounded
    assert not unbounded == bounded


def test_bounded_equality_compares_bounds():
    a = BoundedArraySpec((2,), np.float32, 0.0, 1.0, "a")
    assert a == BoundedArraySpec((2,), np.float32, [0.0, 0.0], 1.0, "a")
    assert a != BoundedArraySpec((2,), np.float32, [0.0, 0.5], 1.0, "a")
    assert a != BoundedArraySpec((2,), np.float32, 0.0, 2.0, "a")
    assert a != BoundedArraySpec((2,), np.float32, 0.0, 1.0, "b")
    assert a != BoundedArraySpec((2,), np.float64, 0.0, 1.0, "a")
    assert a != BoundedArraySpec((1, 2), np.float32, 0.0, 1.0, "a")


def test_equal_bounded_specs_hash_equal():
    a = BoundedArraySpec((2,), np.int32, 0, [3, 4], "a")
    b = BoundedArraySpec([2], "int32", [0, 0], np.array([3, 4]), "a")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert {a: 1}[b] == 1


def test_bounded_repr_collapses_uniform_bounds():
    assert repr(BoundedArraySpec((), np.int32, 0, 2, "action")) == (
        "BoundedArraySpec(shape=(), dtype=dtype('int32'), name='action', "
        "minimum=0, maximum=2)")
    assert repr(BoundedArraySpec((2,), np.float32, -1.0, [1.0, 2.0])) == (
        "BoundedArraySpec(shape=(2,), dtype=dtype('float32'), name=None, "
        "minimum=-1.0, maximum=[1., 2.])")
    assert repr(BoundedArraySpec((), np.bool_)) == (
        "BoundedArraySpec(shape=(), dtype=dtype('bool'), name=None, "
        "minimum=False, maximum=True)")


def test_bounded_pickle_round_trip_keeps_bounds():
    a = BoundedArraySpec((2, 2), np.float64, [[0.0, 1.0], [2.0, 3.0]], 10.0, "m")
    b = pickle.loads(pickle.dumps(a))
    assert type(b) is BoundedArraySpec
    assert b == a
    assert not b.minimum.flags.writeable


# --------------------------------------------------------------------------
# BoundedArraySpec: check_array, replace, from_spec
# --------------------------------------------------------------------------


def test_bounded_check_array_checks_bounds_inclusively():
    spec = BoundedArraySpec((2,), np.int32, [0, 10], [5, 20])
    assert spec.check_array(np.array([0, 20], np.int32))
    assert spec.check_array(np.array([5, 10], np.int32))
    assert not spec.check_array(np.array([-1, 15], np.int32))
    assert not spec.check_array(np.array([3, 21], np.int32))
    assert not spec.check_array(np.array([6, 15], np.int32))  # above first element's max


def test_bounded_check_array_still_checks_dtype_and_shape():
    spec = BoundedArraySpec((2,), np.int32, 0, 5)
    assert not spec.check_array(np.array([1, 2], np.int64))
    assert not spec.check_array(np.array([1, 2, 3], np.int32))


def test_bounded_check_array_rejects_nan():
    spec = BoundedArraySpec((), np.float32, -1.0, 1.0)
    assert not spec.check_array(np.float32(np.nan))
    assert BoundedArraySpec((), np.float32).check_array(np.float32(np.inf))


def test_bounded_replace_rebroadcasts_uniform_bounds():
    spec = BoundedArraySpec((2,), np.float32, -1.0, 1.0, "a")
    bigger = spec.replace(shape=(3, 4))
    assert type(bigger) is BoundedArraySpec
    assert bigger.shape == (3, 4)
    np.testing.assert_array_equal(bigger.minimum, np.full((3, 4), -1.0))
    np.testing.assert_array_equal(bigger.maximum, np.full((3, 4), 1.0))
    assert bigger.name == "a"


def test_bounded_replace_bounds_and_name():
    spec = BoundedArraySpec((2,), np.int32, 0, 5, "a")
    assert spec.replace(maximum=[7, 8]) == BoundedArraySpec((2,), np.int32, 0, [7, 8], "a")
    assert spec.replace(minimum=-1, name="b") == BoundedArraySpec((2,), np.int32, -1, 5, "b")
    assert spec.replace() == spec


def test_bounded_replace_shape_keeps_per_element_bounds_when_they_broadcast():
    spec = BoundedArraySpec((3,), np.int32, [0, 1, 2], 9)
    wider = spec.replace(shape=(2, 3))
    np.testing.assert_array_equal(wider.minimum, [[0, 1, 2], [0, 1, 2]])
    with pytest.raises(ValueError):
        spec.replace(shape=(4,))


def test_bounded_from_spec_of_unbounded_spec_uses_dtype_range():
    spec = BoundedArraySpec.from_spec(ArraySpec((2,), np.int8, "k"))
    assert spec == BoundedArraySpec((2,), np.int8, -128, 127, "k")


def test_bounded_from_spec_keeps_bounds_of_tensor_spec():
    tspec = tensor_spec.BoundedTensorSpec((2,), tf.float32, [0.0, 1.0], 3.0, name="t")
    assert BoundedArraySpec.from_spec(tspec) == BoundedArraySpec(
        (2,), np.float32, [0.0, 1.0], 3.0, "t")


# --------------------------------------------------------------------------
# is_bounded / is_discrete / is_continuous
# --------------------------------------------------------------------------


def test_is_bounded():
    assert array_spec.is_bounded(BoundedArraySpec((), np.int32))
    assert not array_spec.is_bounded(ArraySpec((), np.int32))
    assert array_spec.is_bounded(tensor_spec.BoundedTensorSpec((), tf.int32, 0, 1))
    assert not array_spec.is_bounded(tf.TensorSpec((), tf.int32))


@pytest.mark.parametrize("dtype, discrete, continuous", [
    (np.int32, True, False),
    (np.uint8, True, False),
    (np.int64, True, False),
    (np.float32, False, True),
    (np.float64, False, True),
    (np.bool_, False, False),
])
def test_is_discrete_and_is_continuous(dtype, discrete, continuous):
    for spec in (ArraySpec((), dtype), BoundedArraySpec((2,), dtype),
                 tf.TensorSpec((), tf.as_dtype(dtype))):
        assert array_spec.is_discrete(spec) is discrete
        assert array_spec.is_continuous(spec) is continuous


# --------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_sample_bounded_spec_shape_and_dtype_with_outer_dims():
    spec = BoundedArraySpec((3,), np.float32, -1.0, 1.0)
    sample = array_spec.sample_bounded_spec(spec, _rng(), outer_dims=(4, 2))
    assert sample.shape == (4, 2, 3)
    assert sample.dtype == np.float32


def test_sample_int_within_per_element_bounds_and_hits_both_ends():
    spec = BoundedArraySpec((2,), np.int32, [0, 10], [2, 12])
    sample = array_spec.sample_bounded_spec(spec, _rng(), outer_dims=(500,))
    assert sample.dtype == np.int32
    assert set(np.unique(sample[:, 0])) == {0, 1, 2}
    assert set(np.unique(sample[:, 1])) == {10, 11, 12}


def test_sample_uint8_within_bounds():
    spec = BoundedArraySpec((4,), np.uint8, 250, 255)
    sample = array_spec.sample_bounded_spec(spec, _rng(), outer_dims=(200,))
    assert sample.dtype == np.uint8
    assert sample.min() == 250 and sample.max() == 255


def test_sample_unbounded_int64_uses_full_range():
    spec = ArraySpec((1000,), np.int64)
    sample = array_spec.sample_bounded_spec(spec, _rng())
    assert sample.dtype == np.int64
    assert sample.min() < -(2 ** 60) and sample.max() > 2 ** 60


def test_sample_bool_gives_both_values():
    sample = array_spec.sample_bounded_spec(ArraySpec((200,), np.bool_), _rng())
    assert sample.dtype == np.bool_
    assert sample.any() and not sample.all()


def test_sample_bool_respects_degenerate_bounds():
    spec = BoundedArraySpec((50,), np.bool_, True, True)
    assert array_spec.sample_bounded_spec(spec, _rng()).all()


def test_sample_float_bounded_uniform_within_bounds():
    spec = BoundedArraySpec((2,), np.float64, [0.0, -10.0], [1.0, -9.0])
    sample = array_spec.sample_bounded_spec(spec, _rng(), outer_dims=(1000,))
    assert np.all(sample >= spec.minimum) and np.all(sample <= spec.maximum)
    assert abs(sample[:, 0].mean() - 0.5) < 0.05


def test_sample_float_half_bounded_is_finite_and_on_the_right_side():
    low_only = BoundedArraySpec((500,), np.float32, minimum=2.0)
    high_only = BoundedArraySpec((500,), np.float32, maximum=-3.0)
    a = array_spec.sample_bounded_spec(low_only, _rng())
    b = array_spec.sample_bounded_spec(high_only, _rng())
    assert np.all(np.isfinite(a)) and np.all(a >= 2.0)
    assert np.all(np.isfinite(b)) and np.all(b <= -3.0)


def test_sample_float_unbounded_is_finite_standard_normal():
    sample = array_spec.sample_bounded_spec(ArraySpec((5000,), np.float32), _rng())
    assert np.all(np.isfinite(sample))
    assert abs(sample.mean()) < 0.1
    assert abs(sample.std() - 1.0) < 0.1


def test_sample_float_bounds_at_dtype_limits_are_finite():
    info = np.finfo(np.float32)
    spec = BoundedArraySpec((200,), np.float32, info.min, info.max)
    sample = array_spec.sample_bounded_spec(spec, _rng())
    assert np.all(np.isfinite(sample))
    assert np.abs(sample).max() < 10.0  # treated as unbounded: standard normal


def test_sample_accepts_tensor_specs():
    spec = tensor_spec.BoundedTensorSpec((3,), tf.int32, 1, 3)
    sample = array_spec.sample_bounded_spec(spec, _rng(), outer_dims=(10,))
    assert sample.shape == (10, 3) and sample.dtype == np.int32
    assert sample.min() >= 1 and sample.max() <= 3


def test_sample_unsupported_dtype_raises_type_error():
    with pytest.raises(TypeError):
        array_spec.sample_bounded_spec(ArraySpec((), np.complex64), _rng())


def test_sample_spec_nest_keeps_structure_and_is_reproducible():
    spec = {"a": Point(BoundedArraySpec((2,), np.float32, 0.0, 1.0),
                       ArraySpec((), np.int32)),
            "b": (BoundedArraySpec((), np.uint8, 3, 4),)}
    one = array_spec.sample_spec_nest(spec, _rng(7), outer_dims=(5,))
    two = array_spec.sample_spec_nest(spec, _rng(7), outer_dims=(5,))
    assert isinstance(one["a"], Point) and isinstance(one["b"], tuple)
    assert one["a"].pos.shape == (5, 2) and one["a"].pos.dtype == np.float32
    assert one["a"].vel.shape == (5,) and one["a"].vel.dtype == np.int32
    assert one["b"][0].shape == (5,) and set(np.unique(one["b"][0])) <= {3, 4}
    for x, y in zip(tf.nest.flatten(one), tf.nest.flatten(two)):
        np.testing.assert_array_equal(x, y)
    assert array_spec.check_arrays_nest(
        array_spec.sample_spec_nest(spec, _rng(1)), spec)


# --------------------------------------------------------------------------
# zero_spec_nest / check_arrays_nest
# --------------------------------------------------------------------------


def test_zero_spec_nest_shapes_dtypes_values():
    spec = {"x": ArraySpec((2,), np.float32), "y": (BoundedArraySpec((), np.bool_),)}
    zeros = array_spec.zero_spec_nest(spec, outer_dims=(3,))
    assert zeros["x"].shape == (3, 2) and zeros["x"].dtype == np.float32
    assert zeros["y"][0].shape == (3,) and zeros["y"][0].dtype == np.bool_
    assert not zeros["x"].any() and not zeros["y"][0].any()
    assert array_spec.zero_spec_nest(ArraySpec((), np.int64)).shape == ()


def test_check_arrays_nest_true_for_matching_nest():
    spec = {"x": ArraySpec((2,), np.float32), "y": (BoundedArraySpec((), np.int32, 0, 3),)}
    value = {"x": np.zeros(2, np.float32), "y": (np.array(3, np.int32),)}
    assert array_spec.check_arrays_nest(value, spec)
    # a list stands for a tuple
    assert array_spec.check_arrays_nest({"x": value["x"], "y": [value["y"][0]]}, spec)


def test_check_arrays_nest_false_for_mismatches():
    spec = {"x": ArraySpec((2,), np.float32), "y": (BoundedArraySpec((), np.int32, 0, 3),)}
    good = {"x": np.zeros(2, np.float32), "y": (np.array(3, np.int32),)}
    assert not array_spec.check_arrays_nest({"x": good["x"]}, spec)
    assert not array_spec.check_arrays_nest({**good, "z": good["x"]}, spec)
    assert not array_spec.check_arrays_nest({**good, "x": np.zeros(2, np.float64)}, spec)
    assert not array_spec.check_arrays_nest({**good, "x": np.zeros(3, np.float32)}, spec)
    assert not array_spec.check_arrays_nest({**good, "y": (np.array(4, np.int32),)}, spec)
    assert not array_spec.check_arrays_nest({**good, "y": good["y"][0]}, spec)


# --------------------------------------------------------------------------
# property tests
# --------------------------------------------------------------------------


def _assert_within_bounds(value, spec):
    value = np.asarray(value)
    if np.issubdtype(spec.dtype, np.floating):
        assert not np.any(np.isnan(value))
    if array_spec.is_bounded(spec):
        assert np.all(value >= spec.minimum), (value, spec)
        assert np.all(value <= spec.maximum), (value, spec)
    elif np.issubdtype(spec.dtype, np.floating):
        assert np.all(np.isfinite(value))


@given(spec_strategies.leaf_specs(bounded=True), st.integers(0, 2 ** 32 - 1),
       spec_strategies.outer_dims)
def test_property_bounded_samples_pass_check_array_and_bounds(spec, seed, outer):
    sample = array_spec.sample_bounded_spec(spec, np.random.default_rng(seed), outer)
    assert sample.shape == outer + spec.shape
    assert sample.dtype == spec.dtype
    _assert_within_bounds(sample, spec)
    if not outer:
        assert spec.check_array(sample)


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 32 - 1), spec_strategies.outer_dims)
def test_property_numpy_sample_nest_passes_check_nest(spec, seed, outer):
    sample = array_spec.sample_spec_nest(spec, np.random.default_rng(seed), outer)
    assert check_nest(sample, spec) == outer
    assert check_nest(sample, spec, num_outer_dims=len(outer)) == outer
    assert check_nest(sample, spec, outer_shape=outer) == outer
    for value, leaf in zip(tf.nest.flatten(sample), tf.nest.flatten(spec)):
        assert value.shape == outer + leaf.shape
        _assert_within_bounds(value, leaf)
    if not outer:
        assert array_spec.check_arrays_nest(sample, spec)


@given(spec_strategies.spec_nests(), spec_strategies.outer_dims)
def test_property_zero_spec_nest_passes_check_nest(spec, outer):
    zeros = array_spec.zero_spec_nest(spec, outer)
    assert check_nest(zeros, spec) == outer


@given(spec_strategies.leaf_specs())
def test_property_spec_equality_hash_and_pickle(spec):
    copy = pickle.loads(pickle.dumps(spec))
    assert copy == spec and hash(copy) == hash(spec)
    assert spec.replace() == spec
    assert type(spec).from_spec(spec) == spec
    assert ArraySpec.from_spec(spec) == ArraySpec(spec.shape, spec.dtype, spec.name)


def test_shape_must_be_non_negative_ints():
    for bad in [(2.5,), (-1,), ("a",), (True,)]:
        with pytest.raises(TypeError, match="non-negative ints"):
            ArraySpec(bad, np.float32)


def test_float_scalar_sample_is_a_zero_d_array():
    spec = BoundedArraySpec((), np.float32, 0.0, 1.0)
    sample = array_spec.sample_bounded_spec(spec, np.random.default_rng(0))
    assert isinstance(sample, np.ndarray) and sample.shape == () and sample.dtype == np.float32


def test_check_array_takes_python_numbers_as_scalars_of_their_numpy_dtype():
    assert ArraySpec((), np.int64).check_array(3)
    assert ArraySpec((), np.float64).check_array(2.5)
    assert ArraySpec((), np.bool_).check_array(True)
    assert not ArraySpec((), np.int32).check_array(3)  # int is int64
    assert not ArraySpec((), np.float32).check_array(2.5)
    assert not ArraySpec((1,), np.int64).check_array(3)
    assert not ArraySpec((1,), np.int64).check_array([3])  # lists are not arrays
    assert BoundedArraySpec((), np.int64, 0, 5).check_array(5)
    assert not BoundedArraySpec((), np.int64, 0, 5).check_array(6)
