"""TF-Agents' spec functions: the names it has, its `rng` samplers, `num_values`,
`from_spec(..., name=)` and `tf.SparseTensorSpec` leaves (issue 14)."""

import numpy as np
import pytest
import tensorflow as tf

from specs import array_spec
from specs import tensor_spec
from specs.array_spec import ArraySpec, BoundedArraySpec
from specs.tensor_spec import BoundedTensorSpec

RNGS = {
    "random_state": np.random.RandomState,
    "generator": np.random.default_rng,
}


@pytest.fixture(params=sorted(RNGS))
def make_rng(request):
    return RNGS[request.param]


# --------------------------------------------------------------------------
# num_values and from_spec(..., name=)
# --------------------------------------------------------------------------


def test_num_values_is_maximum_minus_minimum_plus_one_elementwise():
    spec = BoundedArraySpec((3,), np.int32, minimum=[0, -2, 5], maximum=5)
    np.testing.assert_array_equal(spec.num_values, [6, 8, 1])
    assert BoundedArraySpec((), np.int64, 3, 7).num_values == 5


def test_num_values_does_not_overflow_small_dtypes():
    assert BoundedArraySpec((), np.uint8).num_values == 256
    assert BoundedArraySpec((), np.int8, -128, 127).num_values == 256


def test_num_values_of_a_float_spec_is_none_and_of_an_unbounded_one_missing():
    assert BoundedArraySpec((), np.float32, 0.0, 1.0).num_values is None
    with pytest.raises(AttributeError):
        ArraySpec((), np.int32).num_values  # noqa: B018


def test_from_spec_name_overrides_and_defaults_to_the_spec_name():
    bounded = BoundedArraySpec((2,), np.int32, 0, 3, "old")
    assert BoundedArraySpec.from_spec(bounded, name="new") == BoundedArraySpec(
        (2,), np.int32, 0, 3, "new")
    assert BoundedArraySpec.from_spec(bounded).name == "old"
    assert ArraySpec.from_spec(bounded, name="new") == ArraySpec((2,), np.int32, "new")
    tspec = tf.TensorSpec((2,), tf.int8, "t")
    assert BoundedTensorSpec.from_spec(tspec, name="u") == BoundedTensorSpec(
        (2,), tf.int8, -128, 127, "u")
    assert BoundedTensorSpec.from_spec(tspec).name == "t"
    assert BoundedArraySpec.from_spec(tspec, name="a") == BoundedArraySpec(
        (2,), np.int8, -128, 127, "a")


# --------------------------------------------------------------------------
# array samplers with RandomState and Generator
# --------------------------------------------------------------------------


def test_array_sample_shape_dtype_and_bounds(make_rng):
    spec = {"i": BoundedArraySpec((2,), np.int32, [0, 10], [3, 12]),
            "f": BoundedArraySpec((), np.float32, -1.0, 1.0),
            "b": ArraySpec((3,), np.bool_)}
    sample = array_spec.sample_spec_nest(spec, make_rng(0), outer_dims=(500,))
    assert sample["i"].shape == (500, 2) and sample["i"].dtype == np.int32
    assert sample["f"].shape == (500,) and sample["f"].dtype == np.float32
    assert sample["b"].shape == (500, 3) and sample["b"].dtype == np.bool_
    assert set(np.unique(sample["i"][:, 0])) == {0, 1, 2, 3}
    assert set(np.unique(sample["i"][:, 1])) == {10, 11, 12}
    assert sample["f"].min() >= -1.0 and sample["f"].max() <= 1.0
    assert set(np.unique(sample["b"])) == {False, True}


def test_array_sample_same_seed_same_values_other_seed_other_values(make_rng):
    spec = BoundedArraySpec((50,), np.int64, 0, 10 ** 6)
    one = array_spec.sample_bounded_spec(spec, make_rng(3))
    two = array_spec.sample_bounded_spec(spec, make_rng(3))
    three = array_spec.sample_bounded_spec(spec, make_rng(4))
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, three)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int64, np.uint64])
def test_array_sample_reaches_the_dtype_top(make_rng, dtype):
    top = np.iinfo(dtype).max
    spec = BoundedArraySpec((400,), dtype, top - 1, top)
    sample = array_spec.sample_bounded_spec(spec, make_rng(0))
    assert sample.dtype == dtype
    assert set(np.unique(sample).tolist()) == {int(top) - 1, int(top)}


@pytest.mark.parametrize("dtype", [np.int8, np.int64])
def test_array_sample_full_integer_range(make_rng, dtype):
    info = np.iinfo(dtype)
    sample = array_spec.sample_bounded_spec(ArraySpec((20000,), dtype), make_rng(0))
    assert sample.dtype == dtype
    if dtype == np.int8:
        # 256 values, 20000 draws: every value shows up.
        assert set(np.unique(sample).tolist()) == set(range(info.min, info.max + 1))
    else:
        assert sample.min() < info.min // 2 and sample.max() > info.max // 2


def test_array_sample_float_laws_match_for_both_rngs(make_rng):
    spec = {"u": BoundedArraySpec((20000,), np.float64, 2.0, 4.0),
            "low": BoundedArraySpec((20000,), np.float64, minimum=1.0),
            "n": ArraySpec((20000,), np.float64)}
    sample = array_spec.sample_spec_nest(spec, make_rng(1))
    # uniform on [2, 4]: mean 3; 1 + Exp(1): mean 2; N(0, 1): mean 0, std 1.
    assert abs(sample["u"].mean() - 3.0) < 0.05
    assert sample["low"].min() >= 1.0 and abs(sample["low"].mean() - 2.0) < 0.05
    assert abs(sample["n"].mean()) < 0.05 and abs(sample["n"].std() - 1.0) < 0.05


def test_array_sample_scalar_spec_is_a_0d_array(make_rng):
    sample = array_spec.sample_bounded_spec(BoundedArraySpec((), np.int32, 4, 4), make_rng(0))
    assert isinstance(sample, np.ndarray) and sample.shape == () and sample == 4


def test_array_sample_rejects_other_rngs():
    with pytest.raises(TypeError, match="RandomState"):
        array_spec.sample_spec_nest(ArraySpec((), np.int32), 0)
    with pytest.raises(TypeError, match="Generator"):
        array_spec.sample_bounded_spec(ArraySpec((), np.int32), None)


# --------------------------------------------------------------------------
# array_spec: add_outer_dims_nest, assert_arrays_spec_nest
# --------------------------------------------------------------------------


def test_array_add_outer_dims_nest_keeps_bounds_and_names():
    spec = {"a": BoundedArraySpec((2,), np.int32, [0, 1], 3, "a"), "b": ArraySpec((), np.float32)}
    out = array_spec.add_outer_dims_nest(spec, (4,))
    assert out["a"] == BoundedArraySpec((4, 2), np.int32, [[0, 1]] * 4, 3, "a")
    assert out["b"] == ArraySpec((4,), np.float32)


def test_assert_arrays_spec_nest_passes_and_names_path_and_both_sides():
    spec = {"obs": {"pos": BoundedArraySpec((2,), np.float32, 0.0, 1.0)}}
    array_spec.assert_arrays_spec_nest({"obs": {"pos": np.full(2, 0.5, np.float32)}}, spec)
    with pytest.raises(ValueError) as info:
        array_spec.assert_arrays_spec_nest({"obs": {"pos": np.full(2, 2.0, np.float32)}}, spec)
    message = str(info.value)
    assert "'obs/pos'" in message and "BoundedArraySpec" in message and "(2,)" in message
    with pytest.raises((TypeError, ValueError), match="vel"):
        array_spec.assert_arrays_spec_nest({"obs": {"vel": np.zeros(2, np.float32)}}, spec)


# --------------------------------------------------------------------------
# tensor_spec: add_outer_dim, with_dtype, to_nest_array_spec, sample_bounded_spec
# --------------------------------------------------------------------------


def test_add_outer_dim_defaults_to_an_unknown_dim():
    spec = {"a": BoundedTensorSpec((2,), tf.int32, 0, 3, "a")}
    assert tensor_spec.add_outer_dim(spec)["a"].shape.as_list() == [None, 2]
    assert tensor_spec.add_outer_dim(spec, 5)["a"] == BoundedTensorSpec((5, 2), tf.int32, 0, 3, "a")


def test_with_dtype_keeps_shape_name_and_bounds():
    spec = {"a": BoundedTensorSpec((2,), tf.int32, 0, 3, "a"),
            "b": ArraySpec((3,), np.float32, "b")}
    out = tensor_spec.with_dtype(spec, tf.int64)
    assert out["a"] == BoundedTensorSpec((2,), tf.int64, 0, 3, "a")
    assert out["b"] == tf.TensorSpec((3,), tf.int64, "b")


def test_with_dtype_bounds_that_do_not_fit_name_the_path():
    with pytest.raises(ValueError, match="'act/move'.*int8"):
        tensor_spec.with_dtype({"act": {"move": BoundedTensorSpec((), tf.int32, 0, 300)}},
                               tf.int8)


def test_to_nest_array_spec_is_to_array_spec():
    spec = BoundedTensorSpec((2,), tf.int32, 0, 3, "a")
    assert tensor_spec.to_nest_array_spec(spec) == BoundedArraySpec((2,), np.int32, 0, 3, "a")


def test_tensor_sample_bounded_spec_shape_bounds_and_seed():
    spec = BoundedTensorSpec((2,), tf.int32, [0, 5], [2, 5])
    one = tensor_spec.sample_bounded_spec(spec, seed=7, outer_dims=(300,))
    assert one.shape == (300, 2) and one.dtype == tf.int32
    assert set(np.unique(one.numpy()[:, 0])) == {0, 1, 2}
    assert set(np.unique(one.numpy()[:, 1])) == {5}
    np.testing.assert_array_equal(one, tensor_spec.sample_bounded_spec(spec, 7, (300,)))
    assert tensor_spec.sample_bounded_spec(spec, seed=7).shape == (2,)  # outer_dims=None


def test_tensor_sample_spec_nest_takes_structure_seed_outer_dims_keywords():
    out = tensor_spec.sample_spec_nest(structure={"a": tf.TensorSpec((), tf.float32)},
                                       seed=1, outer_dims=(3,))
    assert out["a"].shape == (3,)
    assert tensor_spec.zero_spec_nest(specs={"a": tf.TensorSpec((2,), tf.int32)},
                                      outer_dims=None)["a"].shape == (2,)


# --------------------------------------------------------------------------
# Errors name the nest path
# --------------------------------------------------------------------------


def test_conversion_errors_name_the_path():
    with pytest.raises(TypeError, match="'obs/pix'.*3"):
        tensor_spec.from_spec({"obs": {"pix": 3}})
    with pytest.raises(ValueError, match="'obs/0'"):
        tensor_spec.to_array_spec({"obs": [tf.TensorSpec((None,), tf.float32)]})


def test_remove_outer_dims_errors_name_the_path_and_the_rank():
    with pytest.raises(ValueError, match="'a/b'.*2 outer dims.*rank 1"):
        tensor_spec.remove_outer_dims_nest({"a": {"b": tf.TensorSpec((3,), tf.float32)}}, 2)


# --------------------------------------------------------------------------
# tf.SparseTensorSpec leaves
# --------------------------------------------------------------------------

SPARSE = tf.SparseTensorSpec((3, 4), tf.float32)


def test_sparse_spec_kind_predicates():
    assert tensor_spec.is_continuous(SPARSE) and not tensor_spec.is_discrete(SPARSE)
    assert tensor_spec.is_discrete(tf.SparseTensorSpec((2,), tf.int64))
    assert not tensor_spec.is_bounded(SPARSE)


def test_sparse_spec_passes_through_from_spec_and_not_to_array_spec():
    assert tensor_spec.from_spec({"s": SPARSE})["s"] is SPARSE
    with pytest.raises(TypeError, match="'s'.*SparseTensorSpec"):
        tensor_spec.to_array_spec({"s": SPARSE})


def test_sparse_spec_outer_dims_and_dtype_helpers_stay_sparse():
    added = tensor_spec.add_outer_dims_nest({"s": SPARSE}, (2,))["s"]
    assert added == tf.SparseTensorSpec((2, 3, 4), tf.float32)
    assert tensor_spec.remove_outer_dims_nest({"s": added}, 1)["s"] == SPARSE
    assert tensor_spec.add_outer_dim(SPARSE) == tf.SparseTensorSpec((None, 3, 4), tf.float32)
    assert tensor_spec.with_dtype(SPARSE, tf.float64) == tf.SparseTensorSpec((3, 4), tf.float64)
    assert tensor_spec.signature_nest(SPARSE, (None,)) == tf.SparseTensorSpec(
        (None, 3, 4), tf.float32)


def test_sparse_sample_shape_dtype_and_distinct_in_range_indices():
    spec = {"s": SPARSE, "d": BoundedTensorSpec((), tf.int32, 0, 1)}
    sample = tensor_spec.sample_spec_nest(spec, seed=5, outer_dims=(2,))
    sparse = sample["s"]
    assert isinstance(sparse, tf.SparseTensor) and sparse.dtype == tf.float32
    np.testing.assert_array_equal(sparse.dense_shape, [2, 3, 4])
    indices = sparse.indices.numpy()
    assert 1 <= len(indices) <= 7 and indices.shape[1] == 3
    assert len({tuple(i) for i in indices}) == len(indices)
    assert (indices >= 0).all() and (indices < [2, 3, 4]).all()
    # Canonical (row-major sorted) order: reorder leaves it unchanged.
    np.testing.assert_array_equal(tf.sparse.reorder(sparse).indices, indices)
    again = tensor_spec.sample_spec_nest(spec, seed=5, outer_dims=(2,))["s"]
    np.testing.assert_array_equal(again.indices, indices)
    np.testing.assert_array_equal(again.values, sparse.values)


def test_sparse_sample_of_empty_shape_has_no_entries():
    sample = tensor_spec.sample_spec_nest(tf.SparseTensorSpec((0, 2), tf.int32), seed=1)
    assert sample.indices.shape == (0, 2)
    np.testing.assert_array_equal(sample.dense_shape, [0, 2])


def test_sparse_sample_needs_static_outer_dims_and_names_the_path():
    @tf.function(input_signature=[tf.TensorSpec((1,), tf.int32)])
    def sample(outer):
        return tensor_spec.sample_spec_nest({"a": {"b": SPARSE}}, seed=1, outer_dims=outer)

    with pytest.raises(ValueError, match="'a/b'"):
        sample(tf.constant([2]))


def test_sparse_zero_spec_nest_is_an_empty_sparse_tensor():
    zero = tensor_spec.zero_spec_nest({"s": SPARSE}, outer_dims=(5,))["s"]
    assert isinstance(zero, tf.SparseTensor) and zero.dtype == tf.float32
    assert zero.indices.shape == (0, 3)
    np.testing.assert_array_equal(zero.dense_shape, [5, 3, 4])
    np.testing.assert_array_equal(tf.sparse.to_dense(zero), np.zeros((5, 3, 4)))
