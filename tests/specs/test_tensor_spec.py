"""Tests for specs/tensor_spec.py: BoundedTensorSpec, conversions, outer dims, sampling."""

import collections
import pickle

import numpy as np
import pytest
import tensorflow as tf
import tree
from hypothesis import given
from hypothesis import strategies as st

import spec_strategies
from specs import array_spec
from specs import tensor_spec
from specs.array_spec import ArraySpec, BoundedArraySpec
from specs.nest_utils import check_nest
from specs.tensor_spec import BoundedTensorSpec

Point = collections.namedtuple("Point", ["pos", "vel"])


# --------------------------------------------------------------------------
# BoundedTensorSpec construction
# --------------------------------------------------------------------------


def test_bounded_tensor_spec_is_a_tensor_spec():
    spec = BoundedTensorSpec((2,), tf.float32, -1.0, 1.0, name="a")
    assert isinstance(spec, tf.TensorSpec)
    assert spec.shape == tf.TensorShape([2])
    assert spec.dtype == tf.float32
    assert spec.name == "a"
    assert tensor_spec.TensorSpec is tf.TensorSpec


def test_bounded_tensor_spec_bounds_broadcast_and_take_dtype():
    spec = BoundedTensorSpec((2, 3), tf.int32, 0, [1, 2, 3])
    assert isinstance(spec.minimum, np.ndarray)
    assert spec.minimum.dtype == np.int32 and spec.maximum.dtype == np.int32
    np.testing.assert_array_equal(spec.minimum, np.zeros((2, 3)))
    np.testing.assert_array_equal(spec.maximum, [[1, 2, 3], [1, 2, 3]])


def test_bounded_tensor_spec_default_bounds():
    ispec = BoundedTensorSpec((), tf.uint8)
    assert ispec.minimum == 0 and ispec.maximum == 255
    fspec = BoundedTensorSpec((), tf.float32)
    assert fspec.minimum == -np.inf and fspec.maximum == np.inf
    bspec = BoundedTensorSpec((), tf.bool)
    assert bspec.minimum == np.False_ and bspec.maximum == np.True_
    lspec = BoundedTensorSpec((), tf.int64)
    assert lspec.minimum == np.iinfo(np.int64).min and lspec.maximum == np.iinfo(np.int64).max


def test_bounded_tensor_spec_bounds_are_read_only():
    spec = BoundedTensorSpec((2,), tf.float32, 0.0, 1.0)
    with pytest.raises(ValueError):
        spec.minimum[0] = 3.0


def test_bounded_tensor_spec_minimum_above_maximum_raises_with_name():
    with pytest.raises(ValueError, match="'act'"):
        BoundedTensorSpec((), tf.int32, 3, 1, name="act")
    with pytest.raises(ValueError, match="'vec'"):
        BoundedTensorSpec((2,), tf.float32, [0.0, 2.0], 1.0, name="vec")


def test_bounded_tensor_spec_non_broadcastable_bounds_raise_with_name():
    with pytest.raises(ValueError, match="'obs'") as info:
        BoundedTensorSpec((2,), tf.float32, [0.0, 1.0, 2.0], 5.0, name="obs")
    assert "(2,)" in str(info.value)


def test_bounded_tensor_spec_needs_known_rank():
    with pytest.raises(ValueError, match="'x'"):
        BoundedTensorSpec(None, tf.float32, 0.0, 1.0, name="x")


def test_bounded_tensor_spec_bounds_with_unknown_dims():
    spec = BoundedTensorSpec((None, 2), tf.float32, [0.0, 1.0], 5.0, name="p")
    assert spec.shape.as_list() == [None, 2]
    # Unknown dims become 1 so the bounds broadcast against any batch at run time.
    assert spec.minimum.shape == (1, 2)
    np.testing.assert_array_equal(np.broadcast_to(spec.minimum, (3, 2)), [[0.0, 1.0]] * 3)
    np.testing.assert_array_equal(np.broadcast_to(spec.maximum, (3, 2)), np.full((3, 2), 5.0))


def test_bounded_tensor_spec_unknown_dims_bad_bounds_raise_with_name():
    with pytest.raises(ValueError, match="'bad'") as info:
        BoundedTensorSpec((None, 2), tf.float32, [0.0, 1.0, 2.0], 5.0, name="bad")
    assert "None, 2" in str(info.value)


def test_bounded_tensor_spec_equality():
    a = BoundedTensorSpec((2,), tf.float32, 0.0, 1.0, "a")
    assert a == BoundedTensorSpec([2], tf.float32, [0.0, 0.0], 1.0, "a")
    assert not a != BoundedTensorSpec([2], tf.float32, [0.0, 0.0], 1.0, "a")
    assert a != BoundedTensorSpec((2,), tf.float32, 0.0, 2.0, "a")
    assert a != BoundedTensorSpec((2,), tf.float32, [0.0, 0.5], 1.0, "a")
    assert a != BoundedTensorSpec((2,), tf.float64, 0.0, 1.0, "a")
    assert a != BoundedTensorSpec((3,), tf.float32, 0.0, 1.0, "a")
    assert a != BoundedTensorSpec((2,), tf.float32, 0.0, 1.0, "b")


def test_bounded_tensor_spec_never_equals_plain_tensor_spec_or_array_spec():
    bounded = BoundedTensorSpec((2,), tf.float32)
    plain = tf.TensorSpec((2,), tf.float32)
    assert bounded != plain and plain != bounded
    assert not bounded == plain and not plain == bounded
    assert bounded != BoundedArraySpec((2,), np.float32)


def test_bounded_tensor_spec_hash():
    a = BoundedTensorSpec((None, 2), tf.int32, 0, [3, 4], "a")
    b = BoundedTensorSpec([None, 2], tf.int32, [0, 0], [3, 4], "a")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_bounded_tensor_spec_repr():
    spec = BoundedTensorSpec((), tf.int32, 0, 2, name="action")
    assert repr(spec) == (
        "BoundedTensorSpec(shape=(), dtype=tf.int32, name='action', minimum=0, maximum=2)")
    spec = BoundedTensorSpec((None, 2), tf.float32, -1.0, [1.0, 2.0])
    assert repr(spec) == (
        "BoundedTensorSpec(shape=(None, 2), dtype=tf.float32, name=None, "
        "minimum=-1.0, maximum=[[1., 2.]])")


def test_bounded_tensor_spec_pickle_round_trip():
    spec = BoundedTensorSpec((None, 2), tf.float32, [0.0, 1.0], 2.0, name="p")
    copy = pickle.loads(pickle.dumps(spec))
    assert type(copy) is BoundedTensorSpec
    assert copy == spec


def test_bounded_tensor_spec_from_spec():
    assert BoundedTensorSpec.from_spec(tf.TensorSpec((2,), tf.int8, "k")) == BoundedTensorSpec(
        (2,), tf.int8, -128, 127, "k")
    bounded = BoundedArraySpec((3,), np.float32, [0.0, 1.0, 2.0], 4.0, "b")
    assert BoundedTensorSpec.from_spec(bounded) == BoundedTensorSpec(
        (3,), tf.float32, [0.0, 1.0, 2.0], 4.0, "b")


def test_bounded_tensor_spec_is_compatible_with_tensors():
    spec = BoundedTensorSpec((None, 2), tf.float32, 0.0, 1.0)
    assert spec.is_compatible_with(tf.zeros((5, 2)))
    assert not spec.is_compatible_with(tf.zeros((5, 3)))
    assert not spec.is_compatible_with(tf.zeros((5, 2), tf.int32))


# --------------------------------------------------------------------------
# tf.function input signatures
# --------------------------------------------------------------------------


def test_bounded_tensor_spec_in_tf_function_input_signature():
    spec = BoundedTensorSpec((None, 2), tf.float32, -1.0, 1.0, name="obs")
    traces = []

    @tf.function(input_signature=[spec])
    def double(x):
        traces.append(x.shape.as_list())
        return x * 2.0

    np.testing.assert_allclose(double(tf.ones((3, 2))).numpy(), np.full((3, 2), 2.0))
    assert double(tf.ones((5, 2))).shape == (5, 2)
    assert traces == [[None, 2]]
    with pytest.raises((TypeError, ValueError)):
        double(tf.ones((5, 3)))


def test_nested_dict_of_bounded_specs_in_tf_function_input_signature():
    signature = {
        "obs": {"pos": BoundedTensorSpec((None, 2), tf.float32, -1.0, 1.0, name="pos"),
                "mode": BoundedTensorSpec((None,), tf.int32, 0, 3, name="mode")},
        "done": tf.TensorSpec((None,), tf.bool, name="done"),
    }
    traces = []

    @tf.function(input_signature=[signature])
    def f(x):
        traces.append(1)
        return tf.reduce_sum(x["obs"]["pos"], axis=-1) + tf.cast(x["obs"]["mode"], tf.float32)

    for batch in (1, 4):
        out = f({"obs": {"pos": tf.ones((batch, 2)), "mode": tf.fill((batch,), 2)},
                 "done": tf.zeros((batch,), tf.bool)})
        np.testing.assert_allclose(out.numpy(), np.full(batch, 4.0))
    assert len(traces) == 1
    concrete = f.get_concrete_function()
    assert concrete.structured_input_signature[0][0]["obs"]["pos"].shape.as_list() == [None, 2]


# --------------------------------------------------------------------------
# from_spec / to_tensor_spec / to_array_spec
# --------------------------------------------------------------------------


def _array_nest():
    return {
        "obs": Point(BoundedArraySpec((2,), np.float32, [-1.0, 0.0], [1.0, 5.0], "pos"),
                     ArraySpec((), np.int64, "vel")),
        "flags": (BoundedArraySpec((3,), np.bool_, name="f"), ArraySpec((2, 2), np.uint8)),
    }


def test_from_spec_converts_leaves_keeping_bounds_names_and_structure():
    tspecs = tensor_spec.from_spec(_array_nest())
    pos = tspecs["obs"].pos
    assert isinstance(tspecs["obs"], Point)
    assert pos == BoundedTensorSpec((2,), tf.float32, [-1.0, 0.0], [1.0, 5.0], "pos")
    assert type(tspecs["obs"].vel) is tf.TensorSpec
    assert tspecs["obs"].vel == tf.TensorSpec((), tf.int64, "vel")
    assert tspecs["flags"][0] == BoundedTensorSpec((3,), tf.bool, False, True, "f")
    assert tspecs["flags"][1] == tf.TensorSpec((2, 2), tf.uint8)
    assert tensor_spec.to_tensor_spec is tensor_spec.from_spec


def test_from_spec_leaves_tensor_specs_alone():
    spec = BoundedTensorSpec((None,), tf.int32, 0, 3)
    assert tensor_spec.from_spec({"a": spec})["a"] is spec


def test_array_to_tensor_to_array_round_trip():
    nest = _array_nest()
    back = tensor_spec.to_array_spec(tensor_spec.to_tensor_spec(nest))
    assert back == nest
    assert type(back["obs"].vel) is ArraySpec
    assert type(back["obs"].pos) is BoundedArraySpec


def test_tensor_to_array_to_tensor_round_trip():
    nest = {"a": BoundedTensorSpec((2, 1), tf.int32, [[0], [5]], 9, "a"),
            "b": [tf.TensorSpec((3,), tf.float64, "b")]}
    assert tensor_spec.from_spec(tensor_spec.to_array_spec(nest)) == nest


def test_to_array_spec_with_unknown_dims_raises_value_error():
    with pytest.raises(ValueError):
        tensor_spec.to_array_spec(tf.TensorSpec((None, 2), tf.float32))
    with pytest.raises(ValueError):
        tensor_spec.to_array_spec({"a": BoundedTensorSpec((None,), tf.int32, 0, 1)})


def test_conversions_reject_non_specs():
    with pytest.raises(TypeError):
        tensor_spec.from_spec({"a": np.zeros(2)})
    with pytest.raises(TypeError):
        tensor_spec.to_array_spec([3])


# --------------------------------------------------------------------------
# add_outer_dims_nest / remove_outer_dims_nest
# --------------------------------------------------------------------------


def test_add_outer_dims_keeps_bounds_per_copied_element():
    spec = BoundedTensorSpec((2,), tf.float32, [0.0, 1.0], [2.0, 3.0], name="n")
    batched = tensor_spec.add_outer_dims_nest(spec, (4,))
    assert batched == BoundedTensorSpec((4, 2), tf.float32, [[0.0, 1.0]] * 4, [[2.0, 3.0]] * 4,
                                        name="n")


def test_add_outer_dims_none_gives_partially_unknown_bounded_spec():
    spec = BoundedTensorSpec((2,), tf.float32, [0.0, 1.0], [2.0, 3.0], name="n")
    batched = tensor_spec.add_outer_dims_nest({"x": spec}, (None,))["x"]
    assert isinstance(batched, BoundedTensorSpec)
    assert batched.shape.as_list() == [None, 2]
    assert batched.name == "n"
    np.testing.assert_array_equal(np.broadcast_to(batched.minimum, (3, 2)), [[0.0, 1.0]] * 3)
    np.testing.assert_array_equal(np.broadcast_to(batched.maximum, (3, 2)), [[2.0, 3.0]] * 3)
    assert tensor_spec.remove_outer_dims_nest({"x": batched}, 1)["x"] == spec


def test_add_outer_dims_on_plain_and_array_specs():
    nest = {"t": tf.TensorSpec((3,), tf.int32, "t"), "a": ArraySpec((), np.float32, "a"),
            "b": BoundedArraySpec((2,), np.uint8, [1, 2], 9, "b")}
    out = tensor_spec.add_outer_dims_nest(nest, (2, 5))
    assert out["t"] == tf.TensorSpec((2, 5, 3), tf.int32, "t")
    assert out["a"] == ArraySpec((2, 5), np.float32, "a")
    assert out["b"] == BoundedArraySpec((2, 5, 2), np.uint8, [1, 2], 9, "b")
    assert tensor_spec.remove_outer_dims_nest(out, 2) == nest


def test_remove_outer_dims_raises_when_bounds_vary_along_removed_dims():
    spec = BoundedTensorSpec((2, 3), tf.float32, [[0.0] * 3, [1.0] * 3], 5.0, name="v")
    with pytest.raises(ValueError, match="vary"):
        tensor_spec.remove_outer_dims_nest(spec, 1)
    aspec = BoundedArraySpec((2, 3), np.int32, 0, [[5] * 3, [6] * 3], "w")
    with pytest.raises(ValueError, match="vary"):
        tensor_spec.remove_outer_dims_nest({"w": aspec}, 1)


def test_remove_outer_dims_keeps_bounds_that_vary_along_inner_dims():
    spec = BoundedTensorSpec((2, 3), tf.int32, [[0, 1, 2]] * 2, 5)
    assert tensor_spec.remove_outer_dims_nest(spec, 1) == BoundedTensorSpec(
        (3,), tf.int32, [0, 1, 2], 5)


def test_remove_more_outer_dims_than_the_spec_has_raises():
    with pytest.raises(ValueError):
        tensor_spec.remove_outer_dims_nest(tf.TensorSpec((2,), tf.float32), 2)
    with pytest.raises(ValueError):
        tensor_spec.remove_outer_dims_nest(BoundedArraySpec((), np.int32), 1)


# --------------------------------------------------------------------------
# sample_spec_nest
# --------------------------------------------------------------------------


def test_sample_shapes_dtypes_and_structure():
    spec = {"a": Point(BoundedTensorSpec((2,), tf.float32, 0.0, 1.0),
                       tf.TensorSpec((), tf.int32)),
            "b": (BoundedArraySpec((3,), np.uint8, 0, 5),)}
    sample = tensor_spec.sample_spec_nest(spec, seed=1, outer_dims=(4,))
    assert isinstance(sample["a"], Point)
    assert sample["a"].pos.shape == (4, 2) and sample["a"].pos.dtype == tf.float32
    assert sample["a"].vel.shape == (4,) and sample["a"].vel.dtype == tf.int32
    assert sample["b"][0].shape == (4, 3) and sample["b"][0].dtype == tf.uint8


@pytest.mark.parametrize("dtype, low, high", [
    (tf.int32, -3, 2),
    (tf.uint8, 250, 255),
    (tf.uint8, 0, 1),
    (tf.int64, -5, 5),
    (tf.int64, 2 ** 40, 2 ** 40 + 2),
])
def test_sample_int_within_bounds_and_hits_every_value(dtype, low, high):
    spec = BoundedTensorSpec((2,), dtype, low, high)
    sample = tensor_spec.sample_spec_nest(spec, seed=3, outer_dims=(400,)).numpy()
    assert sample.dtype == dtype.as_numpy_dtype
    assert set(np.unique(sample).tolist()) == set(range(low, high + 1))


def test_sample_int64_with_bounds_beyond_float64_precision():
    # 2**60 + 1 is not a float64; samples must still equal the exact bound.
    spec = BoundedTensorSpec((50,), tf.int64, 2 ** 60 + 1, 2 ** 60 + 1)
    sample = tensor_spec.sample_spec_nest(spec, seed=0).numpy()
    assert np.all(sample == 2 ** 60 + 1)
    spec = BoundedTensorSpec((200,), tf.int64, 2 ** 62 + 1, 2 ** 62 + 3)
    sample = tensor_spec.sample_spec_nest(spec, seed=0).numpy()
    assert sample.min() >= 2 ** 62 + 1 and sample.max() <= 2 ** 62 + 3


def test_sample_unbounded_int64_covers_the_range():
    sample = tensor_spec.sample_spec_nest(tf.TensorSpec((1000,), tf.int64), seed=5).numpy()
    assert sample.min() < -(2 ** 60) and sample.max() > 2 ** 60


def test_sample_per_element_int_bounds():
    spec = BoundedTensorSpec((2,), tf.int32, [0, 100], [1, 101])
    sample = tensor_spec.sample_spec_nest(spec, seed=2, outer_dims=(300,)).numpy()
    assert set(np.unique(sample[:, 0]).tolist()) == {0, 1}
    assert set(np.unique(sample[:, 1]).tolist()) == {100, 101}


def test_sample_float_bounded_within_bounds():
    spec = BoundedTensorSpec((2,), tf.float32, [-1.0, 10.0], [1.0, 10.5])
    sample = tensor_spec.sample_spec_nest(spec, seed=4, outer_dims=(1000,)).numpy()
    assert sample.dtype == np.float32
    assert np.all(sample >= spec.minimum) and np.all(sample <= spec.maximum)
    assert abs(sample[:, 0].mean()) < 0.1


def test_sample_float_half_bounded_is_finite_and_on_the_right_side():
    low_only = BoundedTensorSpec((500,), tf.float32, minimum=2.0)
    high_only = BoundedTensorSpec((500,), tf.float64, maximum=-3.0)
    a = tensor_spec.sample_spec_nest(low_only, seed=1).numpy()
    b = tensor_spec.sample_spec_nest(high_only, seed=1).numpy()
    assert np.all(np.isfinite(a)) and np.all(a >= 2.0) and a.max() > 2.5
    assert np.all(np.isfinite(b)) and np.all(b <= -3.0) and b.min() < -3.5


def test_sample_float_unbounded_is_finite_standard_normal():
    for spec in (tf.TensorSpec((5000,), tf.float32), BoundedTensorSpec((5000,), tf.float32)):
        sample = tensor_spec.sample_spec_nest(spec, seed=9).numpy()
        assert np.all(np.isfinite(sample))
        assert abs(sample.mean()) < 0.1
        assert abs(sample.std() - 1.0) < 0.1


def test_sample_bool_gives_both_values():
    spec = tf.TensorSpec((), tf.bool)
    sample = tensor_spec.sample_spec_nest(spec, seed=11, outer_dims=(200,)).numpy()
    assert sample.dtype == np.bool_
    assert sample.any() and not sample.all()
    unseeded = tensor_spec.sample_spec_nest(spec, outer_dims=(200,)).numpy()
    assert unseeded.any() and not unseeded.all()


def test_sample_bool_respects_degenerate_bounds():
    spec = BoundedTensorSpec((100,), tf.bool, False, False)
    assert not tensor_spec.sample_spec_nest(spec, seed=1).numpy().any()


def test_sample_same_seed_same_values_different_seed_different_values():
    spec = {"f": BoundedTensorSpec((20,), tf.float32, 0.0, 1.0),
            "i": BoundedTensorSpec((20,), tf.int32, 0, 1000)}
    one = tensor_spec.sample_spec_nest(spec, seed=42)
    two = tensor_spec.sample_spec_nest(spec, seed=42)
    other = tensor_spec.sample_spec_nest(spec, seed=43)
    for k in spec:
        np.testing.assert_array_equal(one[k].numpy(), two[k].numpy())
        assert not np.array_equal(one[k].numpy(), other[k].numpy())


def test_sample_leaves_with_same_spec_get_different_values():
    leaf = BoundedTensorSpec((20,), tf.float32, 0.0, 1.0)
    a, b = tensor_spec.sample_spec_nest((leaf, leaf), seed=3)
    assert not np.array_equal(a.numpy(), b.numpy())


def test_sample_unseeded_within_bounds():
    spec = BoundedTensorSpec((100,), tf.float64, -2.0, -1.0)
    sample = tensor_spec.sample_spec_nest(spec).numpy()
    assert np.all(sample >= -2.0) and np.all(sample <= -1.0)


def test_sample_in_tf_function_with_tensor_outer_dims():
    spec = {"f": BoundedTensorSpec((3,), tf.float32, -1.0, 1.0),
            "i": BoundedTensorSpec((), tf.uint8, 1, 4),
            "b": tf.TensorSpec((2,), tf.bool)}
    traces = []

    @tf.function(input_signature=[tf.TensorSpec((1,), tf.int32)])
    def sample(outer):
        traces.append(1)
        return tensor_spec.sample_spec_nest(spec, seed=7, outer_dims=outer)

    for n in (2, 6):
        out = sample(tf.constant([n]))
        assert out["f"].shape == (n, 3) and out["i"].shape == (n,) and out["b"].shape == (n, 2)
        f = out["f"].numpy()
        assert np.all(f >= -1.0) and np.all(f <= 1.0)
        i = out["i"].numpy()
        assert i.dtype == np.uint8 and i.min() >= 1 and i.max() <= 4
    assert len(traces) == 1
    # Stateless sampling: the graph gives the same values as eager mode.
    eager = tensor_spec.sample_spec_nest(spec, seed=7, outer_dims=(6,))
    for k in spec:
        np.testing.assert_array_equal(out[k].numpy(), eager[k].numpy())


def test_sample_accepts_array_specs():
    spec = BoundedArraySpec((2,), np.int32, 5, 6)
    sample = tensor_spec.sample_spec_nest(spec, seed=1, outer_dims=(10,))
    assert isinstance(sample, tf.Tensor)
    assert set(np.unique(sample.numpy()).tolist()) <= {5, 6}


def test_sample_unknown_shape_raises_value_error():
    with pytest.raises(ValueError):
        tensor_spec.sample_spec_nest(tf.TensorSpec((None, 2), tf.float32), seed=1)


def test_sample_unsupported_dtype_raises_type_error():
    with pytest.raises(TypeError):
        tensor_spec.sample_spec_nest(tf.TensorSpec((2,), tf.string), seed=1)


# --------------------------------------------------------------------------
# zero_spec_nest
# --------------------------------------------------------------------------


def test_zero_spec_nest():
    spec = {"a": BoundedTensorSpec((2,), tf.float32, 1.0, 2.0),
            "b": (ArraySpec((), np.int64), tf.TensorSpec((1,), tf.bool))}
    zeros = tensor_spec.zero_spec_nest(spec, outer_dims=(3,))
    assert zeros["a"].shape == (3, 2) and zeros["a"].dtype == tf.float32
    assert zeros["b"][0].shape == (3,) and zeros["b"][0].dtype == tf.int64
    assert zeros["b"][1].shape == (3, 1) and zeros["b"][1].dtype == tf.bool
    for leaf in tree.flatten(zeros):
        assert not np.any(leaf.numpy())
    assert tensor_spec.zero_spec_nest(tf.TensorSpec((2,), tf.float32)).shape == (2,)


def test_zero_spec_nest_with_tensor_outer_dims_in_tf_function():
    spec = tf.TensorSpec((2,), tf.float32)

    @tf.function(input_signature=[tf.TensorSpec((), tf.int32)])
    def zeros(n):
        return tensor_spec.zero_spec_nest(spec, outer_dims=tf.reshape(n, [1]))

    assert zeros(tf.constant(4)).shape == (4, 2)


# --------------------------------------------------------------------------
# property tests
# --------------------------------------------------------------------------


def _assert_within_bounds(value, spec):
    value = np.asarray(value)
    if np.issubdtype(np.dtype(spec.dtype.as_numpy_dtype), np.floating):
        assert not np.any(np.isnan(value))
        if not array_spec.is_bounded(spec):
            assert np.all(np.isfinite(value))
    if array_spec.is_bounded(spec):
        assert np.all(value >= spec.minimum), (value, spec)
        assert np.all(value <= spec.maximum), (value, spec)


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 31 - 1), spec_strategies.outer_dims)
def test_property_tf_samples_pass_check_nest_and_lie_within_bounds(spec, seed, outer):
    tspec = spec_strategies.to_tensor_specs(spec)
    sample = tensor_spec.sample_spec_nest(tspec, seed=seed, outer_dims=outer)
    assert check_nest(sample, tspec) == outer
    assert check_nest(sample, spec) == outer
    assert check_nest(sample, tspec, num_outer_dims=len(outer)) == outer
    for value, leaf in zip(tree.flatten(sample), tree.flatten(tspec)):
        assert tuple(value.shape) == outer + tuple(leaf.shape)
        assert value.dtype == leaf.dtype
        _assert_within_bounds(value.numpy(), leaf)


@given(spec_strategies.spec_nests(), st.integers(0, 2 ** 31 - 1))
def test_property_tf_sampling_is_reproducible(spec, seed):
    one = tensor_spec.sample_spec_nest(spec, seed=seed, outer_dims=(2,))
    two = tensor_spec.sample_spec_nest(spec, seed=seed, outer_dims=(2,))
    for a, b in zip(tree.flatten(one), tree.flatten(two)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@given(spec_strategies.spec_nests(),
       st.lists(st.one_of(st.none(), st.integers(1, 3)), min_size=0, max_size=2).map(tuple))
def test_property_add_then_remove_outer_dims_is_identity(spec, outer):
    tspec = spec_strategies.to_tensor_specs(spec)
    batched = tensor_spec.add_outer_dims_nest(tspec, outer)
    for leaf, orig in zip(tree.flatten(batched), tree.flatten(tspec)):
        assert tuple(leaf.shape.as_list()) == outer + tuple(orig.shape.as_list())
        assert type(leaf) is type(orig)
    assert tensor_spec.remove_outer_dims_nest(batched, len(outer)) == tspec
    known = tuple(1 if d is None else d for d in outer)
    batched_arrays = tensor_spec.add_outer_dims_nest(spec, known)
    assert tensor_spec.remove_outer_dims_nest(batched_arrays, len(known)) == spec


@given(spec_strategies.spec_nests())
def test_property_array_tensor_round_trip(spec):
    tspec = tensor_spec.to_tensor_spec(spec)
    assert tensor_spec.to_array_spec(tspec) == spec
    assert tensor_spec.from_spec(tensor_spec.to_array_spec(tspec)) == tspec
    for t, a in zip(tree.flatten(tspec), tree.flatten(spec)):
        assert t.name == a.name
        assert array_spec.is_bounded(t) == array_spec.is_bounded(a)


def test_signature_nest_drops_names_and_bounds_and_prepends_outer_dims():
    spec = {"a": tensor_spec.BoundedTensorSpec([2], tf.float32, 0.0, 1.0, "a"),
            "b": (tf.TensorSpec([], tf.int32, "b"),)}
    out = tensor_spec.signature_nest(spec, (None, 4))
    assert out == {"a": tf.TensorSpec([None, 4, 2], tf.float32),
                   "b": (tf.TensorSpec([None, 4], tf.int32),)}
    assert all(type(s) is tf.TensorSpec and s.name is None for s in [out["a"], out["b"][0]])
    assert tensor_spec.signature_nest(ArraySpec((3,), np.int64)) == tf.TensorSpec([3], tf.int64)
