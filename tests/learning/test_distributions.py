"""Tests of the action distributions: hand-computed logp/entropy/KL, sampling moments, shapes.

Moment tests draw N samples and allow 5.5 standard errors per checked
statistic (a two-sided normal tail of 3.8e-8 each), so a correct
implementation fails them with probability below 1e-6.
"""

import functools
import math

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
import tree
from hypothesis import given, settings, strategies as st

from specs import ArraySpec, BoundedArraySpec, from_space
from tfpolicy.learning.distributions import (
    ActionDistribution, Categorical, DiagGaussian, Deterministic, MultiActionDistribution,
    MultiCategorical, SquashedGaussian, _dist_for_space)

Z = 5.5  # standard errors allowed in moment tests
P = np.array([0.2, 0.3, 0.5])
Q = np.array([0.5, 0.25, 0.25])
LOG_2PI = math.log(2 * math.pi)


@pytest.fixture(autouse=True)
def _seed():
    tf.random.set_seed(1234)


def _logits(*rows):
    return tf.constant(np.log(np.array(rows)), tf.float32)


# --------------------------------------------------------------------------- Categorical


def test_categorical_logp_entropy_and_kl_match_hand_computed_values():
    dist, other = Categorical(_logits(P, Q)), Categorical(_logits(Q, P))
    np.testing.assert_allclose(dist.logp(tf.constant([2, 0])), [math.log(0.5), math.log(0.5)],
                               rtol=1e-6)
    # -Σ p log p
    h_p = -(0.2 * math.log(0.2) + 0.3 * math.log(0.3) + 0.5 * math.log(0.5))
    h_q = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    np.testing.assert_allclose(dist.entropy(), [h_p, h_q], rtol=1e-6)
    # Σ p log(p / q)
    kl_pq = 0.2 * math.log(0.2 / 0.5) + 0.3 * math.log(0.3 / 0.25) + 0.5 * math.log(0.5 / 0.25)
    kl_qp = 0.5 * math.log(0.5 / 0.2) + 0.25 * math.log(0.25 / 0.3) + 0.25 * math.log(0.25 / 0.5)
    np.testing.assert_allclose(dist.kl(other), [kl_pq, kl_qp], rtol=1e-5)
    np.testing.assert_allclose(dist.kl(dist), [0.0, 0.0], atol=1e-7)


def test_categorical_is_invariant_to_a_constant_added_to_the_logits():
    # float32 logits near 1000 are only exact to ~6e-5.
    dist = Categorical(_logits(P) + 1000.0)
    np.testing.assert_allclose(dist.logp([1]), [math.log(0.3)], rtol=1e-4)
    np.testing.assert_allclose(dist.entropy(), Categorical(_logits(P)).entropy(), rtol=1e-4)


def test_categorical_temperature_divides_the_logits():
    logits = tf.constant([[1.0, 3.0]])
    dist = Categorical(logits, temperature=2.0)
    expected = 1.5 - math.log(math.exp(0.5) + math.exp(1.5))
    np.testing.assert_allclose(dist.logp([1]), [expected], rtol=1e-6)
    with pytest.raises(ValueError, match="temperature > 0"):
        Categorical(logits, temperature=0.0)


def test_categorical_deterministic_sample_is_the_argmax():
    dist = Categorical(_logits(P, Q))
    np.testing.assert_array_equal(dist.deterministic_sample(), [2, 0])
    assert dist.deterministic_sample().dtype == tf.int64


def test_categorical_sample_frequencies_match_the_probabilities():
    n = 200_000
    dist = Categorical(tf.tile(_logits(P), [n, 1]))
    counts = np.bincount(dist.sample().numpy(), minlength=3) / n
    np.testing.assert_array_less(np.abs(counts - P), Z * np.sqrt(P * (1 - P) / n))


def test_sample_is_drawn_once_and_sampled_action_logp_is_its_logp():
    dist = Categorical(tf.tile(_logits(P), [50, 1]))
    first = dist.sample()
    assert dist.sample() is first
    np.testing.assert_allclose(dist.sampled_action_logp(), dist.logp(first), rtol=1e-6)
    assert dist.sampled_action_logp().shape == [50]


def test_categorical_with_a_start_samples_and_scores_the_space_values():
    space = gym.spaces.Discrete(3, start=1)
    dist = Categorical(tf.tile(_logits(P), [1000, 1]), action_space=space)
    samples = dist.sample().numpy()
    assert set(np.unique(samples)) <= {1, 2, 3} and samples.dtype == np.int64
    np.testing.assert_array_equal(dist.deterministic_sample()[:1], [3])
    np.testing.assert_allclose(dist.logp(tf.constant([3] * 1000))[:1], [math.log(0.5)],
                               rtol=1e-6)
    spec = BoundedArraySpec((), np.int32, -1, 1)
    assert Categorical(_logits(P), action_space=spec).deterministic_sample().dtype == tf.int32


def test_masked_logits_are_never_sampled_and_have_very_negative_logp():
    mask = tf.constant([[1.0, 0.0, 1.0]])
    logits = _logits(P) + tf.maximum(tf.math.log(mask), tf.float32.min)
    dist = Categorical(tf.tile(logits, [20_000, 1]))
    assert 1 not in dist.sample().numpy()
    assert dist.logp(tf.ones([20_000], tf.int32)).numpy().max() < -1e30
    # The allowed actions renormalize: probabilities 0.2/0.7 and 0.5/0.7.
    np.testing.assert_allclose(dist.logp(tf.fill([20_000], 2))[:1], [math.log(0.5 / 0.7)],
                               rtol=1e-6)
    p = np.array([0.2, 0.5]) / 0.7
    np.testing.assert_allclose(dist.entropy()[:1], [-(p * np.log(p)).sum()], rtol=1e-6)
    assert np.isfinite(dist.kl(Categorical(tf.tile(_logits(Q), [20_000, 1]))).numpy()).all()


def test_categorical_required_model_output_shape_is_n():
    assert Categorical.required_model_output_shape(gym.spaces.Discrete(5), {}) == 5
    spec = BoundedArraySpec((), np.int64, 2, 8)
    assert Categorical.required_model_output_shape(spec, {}) == 7


def test_categorical_gradients_exist_through_logp_and_entropy():
    logits = tf.Variable(_logits(P))
    with tf.GradientTape() as tape:
        dist = Categorical(logits)
        loss = -tf.reduce_sum(dist.logp([0])) - tf.reduce_sum(dist.entropy())
    grad = tape.gradient(loss, logits).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


# --------------------------------------------------------------------------- MultiCategorical


def _multi_inputs():
    # Element 0: probabilities P (3 values); element 1: [0.5, 0.5].
    return tf.concat([_logits(P), _logits([0.5, 0.5])], axis=1)


def test_multicategorical_sums_its_elements():
    dist = MultiCategorical(_multi_inputs(), None, [3, 2])
    other = MultiCategorical(tf.concat([_logits(Q), _logits([0.5, 0.5])], axis=1), None, [3, 2])
    np.testing.assert_allclose(dist.logp(tf.constant([[1, 0]])),
                               [math.log(0.3) + math.log(0.5)], rtol=1e-6)
    h_p = -(P * np.log(P)).sum()
    np.testing.assert_allclose(dist.entropy(), [h_p + math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(dist.multi_entropy(), [[h_p, math.log(2)]], rtol=1e-6)
    np.testing.assert_allclose(dist.kl(other), [(P * np.log(P / Q)).sum()], rtol=1e-5)
    assert dist.multi_kl(other).shape == [1, 2]
    np.testing.assert_array_equal(dist.deterministic_sample(), [[2, 0]])


def test_multicategorical_takes_the_space_shape_dtype_and_starts():
    space = gym.spaces.MultiDiscrete([3, 2], start=[1, -1], dtype=np.int32)
    dist = MultiCategorical(tf.tile(_multi_inputs(), [4000, 1]), None, action_space=space)
    samples = dist.sample().numpy()
    assert samples.shape == (4000, 2) and samples.dtype == np.int32
    assert set(np.unique(samples[:, 0])) == {1, 2, 3}
    assert set(np.unique(samples[:, 1])) == {-1, 0}
    np.testing.assert_allclose(dist.logp(tf.constant([[2, -1]] * 4000))[:1],
                               [math.log(0.3) + math.log(0.5)], rtol=1e-6)
    box = gym.spaces.Box(0, 1, (2, 2), np.int64)
    dist = MultiCategorical(tf.zeros([3, 8]), None, [2, 2, 2, 2], action_space=box)
    assert dist.sample().shape == [3, 2, 2]
    np.testing.assert_allclose(dist.logp(np.zeros((3, 2, 2))), [4 * math.log(0.5)] * 3,
                               rtol=1e-6)


def test_multicategorical_sample_frequencies_match_each_element():
    n = 200_000
    dist = MultiCategorical(tf.tile(_multi_inputs(), [n, 1]), None, [3, 2])
    samples = dist.sample().numpy()
    freq0 = np.bincount(samples[:, 0], minlength=3) / n
    np.testing.assert_array_less(np.abs(freq0 - P), Z * np.sqrt(P * (1 - P) / n))
    freq1 = samples[:, 1].mean()
    assert abs(freq1 - 0.5) < Z * math.sqrt(0.25 / n)


def test_multicategorical_required_model_output_shape_is_the_sum_of_values():
    assert MultiCategorical.required_model_output_shape(gym.spaces.MultiDiscrete([3, 4]), {}) == 7
    assert MultiCategorical.required_model_output_shape(
        gym.spaces.Box(-1, 1, (2, 3), np.int32), {}) == 18
    assert MultiCategorical.required_model_output_shape(gym.spaces.MultiBinary(4), {}) == 8


def test_multicategorical_rejects_input_lens_that_disagree_with_the_space():
    with pytest.raises(ValueError, match="input_lens"):
        MultiCategorical(tf.zeros([1, 5]), None, [2, 3], gym.spaces.MultiDiscrete([3, 2]))
    with pytest.raises(ValueError, match="needs input_lens or an action_space"):
        MultiCategorical(tf.zeros([1, 5]))


# --------------------------------------------------------------------------- DiagGaussian


def _gaussian_inputs():
    # mean [1, -1], std [1, 2]
    return tf.constant([[1.0, -1.0, 0.0, math.log(2.0)]])


def test_diag_gaussian_logp_entropy_and_kl_match_hand_computed_values():
    dist = DiagGaussian(_gaussian_inputs())
    # x = [2, 0]: z = [1, 0.5]
    expected = -0.5 * (1.0 + 0.25) - LOG_2PI - math.log(2.0)
    np.testing.assert_allclose(dist.logp(tf.constant([[2.0, 0.0]])), [expected], rtol=1e-6)
    np.testing.assert_allclose(
        dist.entropy(), [math.log(2.0) + LOG_2PI + 1.0], rtol=1e-6)
    other = DiagGaussian(tf.constant([[0.0, -1.0, math.log(2.0), 0.0]]))  # mean [0,-1], std [2,1]
    # per dim: log(σq/σp) + (σp² + (μp-μq)²)/(2σq²) - 1/2
    kl = ((math.log(2.0) + (1.0 + 1.0) / 8.0 - 0.5)
          + (math.log(0.5) + (4.0 + 0.0) / 2.0 - 0.5))
    np.testing.assert_allclose(dist.kl(other), [kl], rtol=1e-6)
    np.testing.assert_array_equal(dist.deterministic_sample(), [[1.0, -1.0]])


def test_diag_gaussian_sample_mean_and_variance_match_the_parameters():
    n = 200_000
    dist = DiagGaussian(tf.tile(_gaussian_inputs(), [n, 1]))
    samples = dist.sample().numpy()
    std = np.array([1.0, 2.0])
    np.testing.assert_array_less(np.abs(samples.mean(0) - [1.0, -1.0]), Z * std / math.sqrt(n))
    # The sample variance's standard error is σ² sqrt(2 / n) for a normal.
    np.testing.assert_array_less(np.abs(samples.var(0) - std ** 2),
                                 Z * std ** 2 * math.sqrt(2.0 / n) * 1.05)


def test_diag_gaussian_reshapes_samples_to_the_action_space():
    scalar = gym.spaces.Box(-1.0, 1.0, ())
    dist = DiagGaussian(tf.constant([[0.5, 0.0]] * 3), action_space=scalar)
    assert dist.sample().shape == [3] and dist.deterministic_sample().shape == [3]
    np.testing.assert_allclose(dist.logp(tf.constant([0.5] * 3)), [-0.5 * LOG_2PI] * 3,
                               rtol=1e-6)
    grid = ArraySpec((2, 2), np.float32)
    dist = DiagGaussian(tf.zeros([5, 8]), action_space=grid)
    assert dist.sample().shape == [5, 2, 2]
    np.testing.assert_allclose(dist.logp(tf.zeros([5, 2, 2])), [-2 * LOG_2PI] * 5, rtol=1e-6)


def test_diag_gaussian_required_model_output_shape_is_twice_the_size():
    assert DiagGaussian.required_model_output_shape(gym.spaces.Box(-1, 1, (3,)), {}) == 6
    assert DiagGaussian.required_model_output_shape(ArraySpec((2, 2), np.float32), {}) == 8


# --------------------------------------------------------------------------- SquashedGaussian


def _squashed(low=0.0, high=4.0, mean=0.3, std=0.5, rows=1):
    return SquashedGaussian(tf.constant([[mean, math.log(std)]] * rows), low=low, high=high)


def test_squashed_gaussian_logp_includes_both_jacobians():
    dist = _squashed()
    # x = 3 in [0, 4]: tanh(u) = 0.5, u = atanh(0.5).
    u = math.atanh(0.5)
    normal = -0.5 * ((u - 0.3) / 0.5) ** 2 - math.log(0.5) - 0.5 * LOG_2PI
    expected = normal - math.log(1 - 0.25 + 1e-6) - math.log(2.0)
    np.testing.assert_allclose(dist.logp(tf.constant([[3.0]])), [expected], rtol=1e-5)


def test_squashed_gaussian_density_integrates_to_one_over_the_bounds():
    xs = np.linspace(0.0, 4.0, 200_001)[1:-1].astype(np.float32)
    dist = _squashed(rows=len(xs))
    density = np.exp(dist.logp(xs[:, None]).numpy().astype(np.float64))
    # The density vanishes at both bounds here, so the trapezoid rule converges.
    assert abs(np.trapezoid(density, xs) - 1.0) < 1e-3


def test_squashed_gaussian_samples_stay_in_bounds_with_the_right_mean():
    n = 200_000
    dist = _squashed(low=-2.0, high=6.0, mean=0.0, std=1.0, rows=n)
    samples = dist.sample().numpy()
    assert samples.min() >= -2.0 and samples.max() <= 6.0
    # tanh(u) is symmetric for u ~ N(0, 1): the mean is the middle of the bounds,
    # and |sample - 2| <= 4 bounds the standard deviation.
    assert abs(samples.mean() - 2.0) < Z * 4.0 / math.sqrt(n)
    np.testing.assert_allclose(dist.sampled_action_logp()[:1000], dist.logp(samples)[:1000],
                               rtol=1e-3, atol=1e-3)


def test_squashed_gaussian_deterministic_sample_and_log_std_clipping():
    dist = SquashedGaussian(tf.constant([[0.5, 10.0]]), low=-3.0, high=1.0)
    expected = -3.0 + (math.tanh(0.5) + 1.0) / 2.0 * 4.0
    np.testing.assert_allclose(dist.deterministic_sample(), [[expected]], rtol=1e-6)
    np.testing.assert_allclose(dist.log_std, [[2.0]])


def test_squashed_gaussian_rejects_bad_bounds_and_has_no_entropy_or_kl():
    with pytest.raises(ValueError, match="low < high"):
        _squashed(low=1.0, high=1.0)
    with pytest.raises(ValueError, match="finite"):
        _squashed(low=-np.inf)
    dist = _squashed()
    with pytest.raises(ValueError, match="entropy"):
        dist.entropy()
    with pytest.raises(ValueError, match="KL"):
        dist.kl(dist)
    assert SquashedGaussian.required_model_output_shape(gym.spaces.Box(-1, 1, (3,)), {}) == 6


def test_squashed_gaussian_with_default_bounds_has_rllibs_logp():
    dist = SquashedGaussian(tf.constant([[0.2, math.log(0.7)]]))
    u = math.atanh(0.4)
    normal = -0.5 * ((u - 0.2) / 0.7) ** 2 - math.log(0.7) - 0.5 * LOG_2PI
    np.testing.assert_allclose(dist.logp([[0.4]]), [normal - math.log(1 - 0.16 + 1e-6)],
                               rtol=1e-5)


# --------------------------------------------------------------------------- Deterministic


def test_deterministic_returns_its_inputs_and_logp_zero_per_row():
    inputs = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    dist = Deterministic(inputs)
    np.testing.assert_array_equal(dist.sample(), inputs)
    np.testing.assert_array_equal(dist.deterministic_sample(), inputs)
    np.testing.assert_array_equal(dist.logp(inputs), [0.0, 0.0, 0.0])
    assert dist.sampled_action_logp().shape == [3]
    with pytest.raises(ValueError, match="no entropy"):
        dist.entropy()
    assert Deterministic.required_model_output_shape(gym.spaces.Box(-1, 1, (2, 3)), {}) == 6


# ------------------------------------------------------------------- MultiActionDistribution


def _tuple_space():
    return gym.spaces.Tuple([gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2,))])


def _tuple_dist(rows=1, **kwargs):
    space = _tuple_space()
    children = (Categorical, functools.partial(DiagGaussian, action_space=space[1]))
    inputs = tf.concat([_logits(*[P] * rows), tf.tile(_gaussian_inputs(), [rows, 1])], axis=1)
    return MultiActionDistribution(inputs, None, child_distributions=children, input_lens=[3, 4],
                                   action_space=space, **kwargs)


def test_multi_action_logp_entropy_kl_are_sums_of_the_parts():
    dist = _tuple_dist()
    action = (tf.constant([2]), tf.constant([[2.0, 0.0]]))
    gauss = -0.5 * 1.25 - LOG_2PI - math.log(2.0)
    np.testing.assert_allclose(dist.logp(action), [math.log(0.5) + gauss], rtol=1e-6)
    # One flat tensor [B, 1 + 2] in dm-tree order gives the same.
    np.testing.assert_allclose(dist.logp(tf.constant([[2.0, 2.0, 0.0]])),
                               [math.log(0.5) + gauss], rtol=1e-6)
    h_p = -(P * np.log(P)).sum()
    np.testing.assert_allclose(dist.entropy(), [h_p + math.log(2.0) + LOG_2PI + 1.0], rtol=1e-6)
    np.testing.assert_allclose(dist.kl(dist), [0.0], atol=1e-6)


def test_multi_action_samples_are_nests_like_the_space():
    dist = _tuple_dist(rows=4)
    sample = dist.sample()
    assert isinstance(sample, tuple) and sample[0].shape == [4] and sample[1].shape == [4, 2]
    assert dist.sample() is sample
    np.testing.assert_allclose(dist.sampled_action_logp(), dist.logp(sample), rtol=1e-6)
    det = dist.deterministic_sample()
    np.testing.assert_array_equal(det[0], [2] * 4)
    np.testing.assert_array_equal(det[1], [[1.0, -1.0]] * 4)


def test_multi_action_rejects_actions_of_another_structure():
    with pytest.raises(TypeError, match="actions does not match the structure"):
        _tuple_dist().logp({"a": tf.constant([1])})


def test_multi_action_required_model_output_shape_sums_the_parts():
    space = gym.spaces.Dict({"move": gym.spaces.Box(-1, 1, (2,)),
                             "pick": gym.spaces.MultiDiscrete([2, 3]),
                             "say": gym.spaces.Discrete(4)})
    assert MultiActionDistribution.required_model_output_shape(space, {}) == 4 + 5 + 4


def test_every_distribution_implements_the_interface():
    for cls in (Categorical, MultiCategorical, DiagGaussian, SquashedGaussian, Deterministic,
                MultiActionDistribution):
        assert issubclass(cls, ActionDistribution) and not getattr(cls, "__abstractmethods__")
    with pytest.raises(TypeError):
        ActionDistribution(tf.zeros([1, 1]))


def test_distributions_work_inside_tf_function():
    @tf.function(input_signature=[tf.TensorSpec([None, 7], tf.float32)])
    def step(inputs):
        dist, _ = _dist_for_space(_tuple_space())
        d = dist(inputs)
        return d.sample(), d.sampled_action_logp(), d.entropy()

    inputs = tf.concat([_logits(P, P), tf.tile(_gaussian_inputs(), [2, 1])], axis=1)
    (discrete, box), logp, entropy = step(inputs)
    assert discrete.shape == [2] and box.shape == [2, 2] and logp.shape == [2]
    assert entropy.shape == [2]


# --------------------------------------------------------------------------- nested spaces


def _leaf_spaces():
    return st.one_of(
        st.integers(2, 4).map(gym.spaces.Discrete),
        st.lists(st.integers(2, 3), min_size=1, max_size=3).map(gym.spaces.MultiDiscrete),
        st.integers(1, 3).map(lambda n: gym.spaces.Box(-1.0, 1.0, (n,))),
    )


_spaces = st.recursive(
    _leaf_spaces(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(gym.spaces.Tuple),
        st.dictionaries(st.sampled_from("abc"), children, min_size=1, max_size=3).map(
            gym.spaces.Dict)),
    max_leaves=4)


def _width(space):
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(space.nvec.sum())
    if isinstance(space, gym.spaces.Box):
        return 2 * int(np.prod(space.shape))
    return sum(_width(s) for s in (space.spaces.values() if isinstance(space, gym.spaces.Dict)
                                   else space.spaces))


@settings(max_examples=15, deadline=None)
@given(space=_spaces)
def test_any_space_gets_a_distribution_whose_samples_have_its_structure(space):
    dist_class, num_outputs = _dist_for_space(space)
    assert num_outputs == _width(space)
    assert MultiActionDistribution.required_model_output_shape(space, {}) == num_outputs
    dist = dist_class(tf.random.normal([5, num_outputs]))
    sample = dist.sample()
    spec = from_space(space)
    tree.assert_same_structure(sample, spec)
    for value, leaf in zip(tree.flatten(sample), tree.flatten(spec)):
        value = value.numpy()
        assert value.shape == (5,) + leaf.shape and value.dtype == leaf.dtype
        if np.issubdtype(leaf.dtype, np.integer):
            assert (value >= leaf.minimum).all() and (value <= leaf.maximum).all()
    logp = dist.logp(sample)
    assert logp.shape == [5] and np.isfinite(logp.numpy()).all()
    np.testing.assert_allclose(dist.sampled_action_logp(), logp, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- TFP forms


def test_tfp_distributions_give_the_same_log_probabilities():
    cat = Categorical(_logits(P, Q), action_space=gym.spaces.Discrete(3, start=2))
    np.testing.assert_allclose(cat.tfp_distribution().log_prob([4, 2]), cat.logp([4, 2]),
                               rtol=1e-6)
    multi = MultiCategorical(_multi_inputs(), None, [3, 2])
    tfp_multi = multi.tfp_distribution()
    assert tfp_multi.event_shape == [2]
    np.testing.assert_allclose(tfp_multi.log_prob([[1, 0]]), multi.logp([[1, 0]]), rtol=1e-6)
    box = gym.spaces.Box(-1.0, 1.0, (2,))
    gauss = DiagGaussian(_gaussian_inputs(), action_space=box)
    np.testing.assert_allclose(gauss.tfp_distribution().log_prob([[2.0, 0.0]]),
                               gauss.logp([[2.0, 0.0]]), rtol=1e-6)
    squashed = _squashed()
    np.testing.assert_allclose(squashed.tfp_distribution().log_prob([[3.0]]),
                               squashed.logp([[3.0]]), rtol=1e-4)
    det = Deterministic(tf.constant([[1.0, 2.0]])).tfp_distribution()
    np.testing.assert_array_equal(det.sample(), [[1.0, 2.0]])
    nested = _tuple_dist().tfp_distribution()
    assert isinstance(nested, tuple) and nested[0].log_prob([2]).shape == [1]


def test_multicategorical_tfp_form_pads_unequal_elements_and_needs_one_start():
    dist = MultiCategorical(_multi_inputs(), None, [3, 2])
    samples = dist.tfp_distribution().sample(2000).numpy()
    assert samples[..., 1].max() <= 1
    space = gym.spaces.MultiDiscrete([3, 2], start=[0, 1])
    with pytest.raises(ValueError, match="different starts"):
        MultiCategorical(_multi_inputs(), None, action_space=space).tfp_distribution()
