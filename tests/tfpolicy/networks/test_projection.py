"""Tests of the output heads: action counts, squashed normal heads, std, categorical heads."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from hypothesis import given, strategies as st

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy import _variables
from tfpolicy._distributions import ShiftedCategorical
from tfpolicy.networks import _projection
from tfpolicy.networks._projection import (CategoricalProjection, NormalProjection,
                                           ProjectionNest, num_actions)

tfd = tfp.distributions

BOX = BoundedTensorSpec([2], tf.float32, [-1.0, 0.0], [1.0, 4.0])


def _built(head, features=tf.zeros([1, 5])):
    """Builds the head's layers and returns its variables in collection order."""
    head.parameters(features)
    return [c.variable for c in _variables.collect_variables(head)]


def _set_mean_bias(head, bias):
    kernel, mean_bias = _built(head)[:2]
    kernel.assign(tf.zeros_like(kernel))
    mean_bias.assign(np.asarray(bias, np.float32))


@given(minimum=st.integers(-5, 5), width=st.integers(1, 9))
def test_num_actions_is_the_size_of_the_bounds(minimum, width):
    spec = BoundedTensorSpec([], tf.int32, minimum, minimum + width - 1)
    assert num_actions(spec, "x") == width
    assert num_actions([spec], "x") == width


def test_num_actions_errors_name_the_owner():
    with pytest.raises(ValueError, match=r"^my head needs an integer action spec"):
        num_actions(TensorSpec([], tf.float32), "my head")


def test_tanh_squash_maps_the_raw_mean_into_the_bounds():
    head = NormalProjection(BOX)
    _set_mean_bias(head, [0.5, -2.0])
    loc, _ = head.parameters(tf.zeros([3, 5]))
    lo, hi = np.array([-1.0, 0.0]), np.array([1.0, 4.0])
    expected = lo + (np.tanh([0.5, -2.0]) + 1.0) / 2.0 * (hi - lo)
    np.testing.assert_allclose(loc.numpy(), np.tile(expected, (3, 1)), rtol=1e-6)


@pytest.mark.parametrize("raw", [1e4, -1e4, 0.0, 3.0])
def test_squashed_means_stay_inside_the_bounds(raw):
    head = NormalProjection(BOX)
    _set_mean_bias(head, [raw, raw])
    loc = head.parameters(tf.zeros([2, 5]))[0].numpy()
    assert np.all(loc >= [-1.0, 0.0]) and np.all(loc <= [1.0, 4.0])


def test_unbounded_specs_and_identity_keep_the_raw_mean():
    for spec, transform in [(TensorSpec([2], tf.float32), "tanh_squash"), (BOX, "identity")]:
        head = NormalProjection(spec, mean_transform=transform)
        _set_mean_bias(head, [5.0, -7.0])
        np.testing.assert_allclose(head.parameters(tf.zeros([1, 5]))[0].numpy(), [[5.0, -7.0]])


def test_a_callable_mean_transform_is_applied():
    head = NormalProjection(BOX, mean_transform=lambda x: 10.0 * x)
    _set_mean_bias(head, [1.0, 2.0])
    np.testing.assert_allclose(head.parameters(tf.zeros([1, 5]))[0].numpy(), [[10.0, 20.0]])


def test_mixed_bounds_squash_only_bounded_elements_with_finite_gradients():
    spec = BoundedTensorSpec([2], tf.float32, [-1.0, -np.inf], [1.0, np.inf])
    head = NormalProjection(spec)
    _set_mean_bias(head, [0.3, 9.0])
    with tf.GradientTape() as tape:
        loc, _ = head.parameters(tf.ones([1, 5]))
    np.testing.assert_allclose(loc.numpy(), [[np.tanh(0.3), 9.0]], rtol=1e-6)
    grads = tape.gradient(loc, _built(head)[:2])
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)


@pytest.mark.parametrize("state_dependent", [False, True])
@pytest.mark.parametrize("init_std, transform", [(0.35, tf.nn.softplus), (0.1, tf.exp),
                                                 (2.0, tf.nn.softplus)])
def test_the_initial_std_is_init_std(state_dependent, init_std, transform):
    head = NormalProjection(BOX, init_std=init_std, std_transform=transform,
                            state_dependent_std=state_dependent)
    _, scale = head.parameters(tf.zeros([4, 5]))
    assert scale.shape == [4, 2]
    np.testing.assert_allclose(scale.numpy(), np.full([4, 2], init_std), rtol=1e-4)


def test_the_default_init_std_is_documented_value():
    assert _projection.DEFAULT_INIT_STD == 0.35
    dist = NormalProjection(BOX).distribution(NormalProjection(BOX).parameters(tf.zeros([1, 5])))
    np.testing.assert_allclose(dist.stddev().numpy(), [[0.35, 0.35]], rtol=1e-4)


def test_state_independent_std_is_one_trainable_parameter_per_element():
    head = NormalProjection(BoundedTensorSpec([2, 3], tf.float32, -1.0, 1.0))
    variables = _built(head)
    assert [tuple(v.shape) for v in variables] == [(5, 6), (6,), (2, 3)]
    features = tf.random.stateless_normal([4, 5], seed=(0, 1))
    loc, scale = head.parameters(features)
    assert loc.shape == scale.shape == [4, 2, 3]
    np.testing.assert_allclose(scale.numpy(), np.full([4, 2, 3], 0.35), rtol=1e-4)


def test_state_dependent_std_varies_with_the_features_and_stays_positive():
    head = NormalProjection(BOX, state_dependent_std=True)
    variables = _built(head)
    assert [tuple(v.shape) for v in variables] == [(5, 2), (2,), (5, 2), (2,)]
    variables[2].assign(tf.fill([5, 2], -3.0))  # push the std pre-activation far down
    features = tf.constant([[0.0] * 5, [1.0] * 5, [5.0] * 5])
    _, scale = head.parameters(features)
    assert np.all(scale.numpy() > 0)
    assert not np.allclose(scale[0].numpy(), scale[1].numpy())


def test_normal_distributions_have_per_entry_log_probs():
    head = NormalProjection(BOX)
    dist = head.distribution(head.parameters(tf.zeros([3, 5])))
    assert isinstance(dist, tfd.Independent)
    assert dist.batch_shape == [3] and dist.event_shape == [2]
    assert dist.log_prob(tf.zeros([3, 2])).shape == [3]
    scalar = NormalProjection(BoundedTensorSpec([], tf.float32, -1.0, 1.0))
    scalar_dist = scalar.distribution(scalar.parameters(tf.zeros([3, 5])))
    assert scalar_dist.batch_shape == [3] and scalar_dist.event_shape == []


def test_parameters_work_for_any_outer_dims():
    head = NormalProjection(BOX)
    loc, scale = head.parameters(tf.zeros([2, 7, 5]))
    assert loc.shape == scale.shape == [2, 7, 2]
    assert head.distribution([loc, scale]).batch_shape == [2, 7]


@pytest.mark.parametrize("kwargs, message", [
    ({"init_std": 0.0}, r"init_std must be > MIN_STD"),
    ({"std_transform": tf.tanh, "init_std": 2.0}, r"std_transform must be increasing and reach"),
    ({"std_transform": lambda x: -x}, r"std_transform must be increasing"),
    ({"mean_transform": "clip"}, r"one of \['tanh_squash', 'identity'\]"),
])
def test_bad_normal_head_options_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NormalProjection(BOX, **kwargs)


def test_normal_head_needs_a_float_spec():
    with pytest.raises(ValueError, match=r"float action spec"):
        NormalProjection(BoundedTensorSpec([], tf.int32, 0, 3))


def test_categorical_head_covers_the_spec_values():
    head = CategoricalProjection(BoundedTensorSpec([], tf.int32, 2, 4))
    logits = head.parameters(tf.zeros([6, 5]))
    assert logits.shape == [6, 3]
    dist = head.distribution(logits)
    assert isinstance(dist, ShiftedCategorical)
    samples = dist.sample(500, seed=(1, 2)).numpy()
    assert set(np.unique(samples)) == {2, 3, 4}
    total = sum(np.exp(dist.log_prob(tf.fill([6], v)).numpy()) for v in (2, 3, 4))
    np.testing.assert_allclose(total, np.ones(6), rtol=1e-6)


def test_projection_nest_builds_one_head_per_leaf():
    spec = {"move": BOX, "fire": BoundedTensorSpec([], tf.int32, 0, 1)}
    heads = ProjectionNest(spec)
    dists = heads.distributions(heads.parameters(tf.zeros([3, 5])))
    assert set(dists) == {"move", "fire"}
    assert isinstance(dists["move"], tfd.Independent)
    assert isinstance(dists["fire"], tfd.Categorical)
    assert heads.output_tensor_spec == spec


def test_projection_nest_rejects_non_numeric_leaves_by_path():
    with pytest.raises(ValueError, match=r"action spec at 'a/flag': must be integer"):
        ProjectionNest({"a": {"flag": BoundedTensorSpec([], tf.bool, False, True)}})


def test_the_std_is_floored_so_log_probs_stay_finite():
    head = NormalProjection(BOX)
    std_bias = _built(head)[2]
    std_bias.assign([-200.0, 0.0])  # softplus(-200) underflows to 0
    dist = head.distribution(head.parameters(tf.zeros([1, 5])))
    np.testing.assert_allclose(dist.stddev()[0, 0].numpy(), _projection.MIN_STD)
    assert np.isfinite(dist.log_prob(dist.mean()).numpy()).all()
