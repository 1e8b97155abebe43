"""Tests of ActorDistributionNetwork: discrete, continuous and nested heads at every outer rank."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks import ActorDistributionNetwork

tfd = tfp.distributions

OBS = TensorSpec([4], tf.float32)
DISCRETE = BoundedTensorSpec([], tf.int32, 0, 2)
SHIFTED = BoundedTensorSpec([], tf.int32, 2, 4)
BOX = BoundedTensorSpec([2], tf.float32, [-1.0, 0.0], [1.0, 4.0])


def _obs(*shape, seed=0):
    return tf.random.stateless_normal(list(shape) + [4], seed=(seed, 1))


@pytest.mark.parametrize("spec, low, high", [(DISCRETE, 0, 2), (SHIFTED, 2, 4)])
def test_discrete_samples_stay_in_the_bounds(spec, low, high):
    net = ActorDistributionNetwork(OBS, spec, fc_layer_params=(8,))
    dist, state = net(_obs(6))
    assert state == () and dist.batch_shape == [6]
    samples = dist.sample(300, seed=(1, 2)).numpy()
    assert samples.dtype == np.int32 and samples.shape == (300, 6)
    assert set(np.unique(samples)) == set(range(low, high + 1))
    assert dist.log_prob(tf.fill([6], low)).shape == [6]


def test_discrete_spec_of_shape_one_has_per_entry_log_probs():
    net = ActorDistributionNetwork(OBS, BoundedTensorSpec([1], tf.int32, 0, 3), fc_layer_params=())
    dist, _ = net(_obs(5))
    assert dist.sample(seed=(0, 0)).shape == [5, 1]
    assert dist.log_prob(tf.zeros([5, 1], tf.int32)).shape == [5]


@pytest.mark.parametrize("state_dependent", [False, True])
def test_continuous_means_in_bounds_positive_std_and_per_entry_log_probs(state_dependent):
    net = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,),
                                   state_dependent_std=state_dependent)
    for v in net.variables:  # large weights push the raw means far out
        v.assign(10.0 * tf.ones_like(v) * tf.cast(tf.math.sign(tf.random.normal(v.shape)), v.dtype))
    dist, _ = net(100.0 * _obs(16))
    mean, std = dist.mean().numpy(), dist.stddev().numpy()
    assert mean.shape == std.shape == (16, 2)
    assert np.all(mean >= [-1.0, 0.0]) and np.all(mean <= [1.0, 4.0])
    assert np.all(std > 0)
    assert dist.log_prob(tf.zeros([16, 2])).shape == [16]
    assert dist.batch_shape == [16] and dist.event_shape == [2]


def test_initial_std_is_init_std_and_state_dependence_is_optional():
    obs = _obs(3)
    fixed, _ = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,), init_std=0.5)(obs)
    np.testing.assert_allclose(fixed.stddev().numpy(), np.full([3, 2], 0.5), rtol=1e-4)
    dependent = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,), state_dependent_std=True)
    std = dependent(obs)[0].stddev().numpy()
    assert not np.allclose(std[0], std[1])


def test_nested_action_spec_gets_one_head_per_leaf():
    spec = {"move": BOX, "fire": SHIFTED}
    net = ActorDistributionNetwork(OBS, spec, fc_layer_params=(8,))
    dists, _ = net(_obs(4))
    assert set(dists) == {"move", "fire"}
    move = dists["move"].sample(seed=(1, 1))
    fire = dists["fire"].sample(seed=(1, 1))
    assert move.shape == [4, 2] and fire.shape == [4]
    assert np.all((fire.numpy() >= 2) & (fire.numpy() <= 4))
    assert dists["move"].log_prob(move).shape == dists["fire"].log_prob(fire).shape == [4]
    assert net.output_tensor_spec == spec


def test_outer_dims_unbatched_and_sequences():
    net = ActorDistributionNetwork(OBS, {"move": BOX, "fire": DISCRETE}, fc_layer_params=(8,))
    single, _ = net(_obs())
    assert single["move"].batch_shape == [] and single["fire"].batch_shape == []
    assert single["move"].sample(seed=(0, 1)).shape == [2]
    obs = _obs(2, 3)
    seq, _ = net(obs)
    assert seq["move"].batch_shape == [2, 3] and seq["fire"].batch_shape == [2, 3]
    assert seq["move"].log_prob(tf.zeros([2, 3, 2])).shape == [2, 3]
    for t in range(3):
        step, _ = net(obs[:, t])
        np.testing.assert_allclose(seq["move"].mean()[:, t].numpy(), step["move"].mean().numpy(),
                                   rtol=1e-5)
        np.testing.assert_allclose(seq["fire"].logits[:, t].numpy(), step["fire"].logits.numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_means_depend_on_the_observation():
    dist, _ = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,))(_obs(2))
    assert not np.allclose(dist.mean()[0].numpy(), dist.mean()[1].numpy())


def test_unbounded_continuous_spec_keeps_the_raw_mean():
    net = ActorDistributionNetwork(OBS, TensorSpec([2], tf.float32), fc_layer_params=())
    # encoder has no layers: mean = obs @ kernel + bias
    kernel, bias = net.variables[:2]
    kernel.assign(100.0 * tf.eye(4, 2))
    bias.assign([0.0, 0.0])
    dist, _ = net(tf.constant([[1.0, 2.0, 0.0, 0.0]]))
    np.testing.assert_allclose(dist.mean().numpy(), [[100.0, 200.0]])


def test_variables_of_known_architectures_are_exact():
    def shapes(net):
        return [tuple(v.shape) for v in net.trainable_variables]

    assert shapes(ActorDistributionNetwork(OBS, DISCRETE, fc_layer_params=(8,))) == [
        (4, 8), (8,), (8, 3), (3,)]
    assert shapes(ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,))) == [
        (4, 8), (8,), (8, 2), (2,), (2,)]
    net = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,), state_dependent_std=True)
    assert shapes(net) == [(4, 8), (8,), (8, 2), (2,), (8, 2), (2,)]
    assert len(net.variables) == 6


def test_nested_observations_with_a_combiner():
    spec = {"a": TensorSpec([2]), "b": TensorSpec([8, 8, 3])}
    with pytest.raises(ValueError, match=r"preprocessing_combiner is needed.*'a', 'b'"):
        ActorDistributionNetwork(spec, BOX)
    net = ActorDistributionNetwork(
        spec, BOX, preprocessing_layers={"a": None, "b": keras.layers.Flatten()},
        preprocessing_combiner=keras.layers.Concatenate(), fc_layer_params=(4,))
    dist, _ = net({"a": tf.zeros([3, 2]), "b": tf.zeros([3, 8, 8, 3])})
    assert dist.batch_shape == [3]


def test_works_in_tf_function_with_unknown_batch_and_time():
    net = ActorDistributionNetwork(OBS, {"move": BOX, "fire": SHIFTED}, fc_layer_params=(8,))

    @tf.function(input_signature=[tf.TensorSpec([None, None, 4])])
    def act(obs):
        dists, _ = net(obs)
        return dists["move"].mean(), dists["fire"].logits

    obs = _obs(2, 3)
    mean, logits = act(obs)
    dists, _ = net(obs)
    np.testing.assert_allclose(mean.numpy(), dists["move"].mean().numpy(), rtol=1e-5)
    np.testing.assert_allclose(logits.numpy(), dists["fire"].logits.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec, message", [
    (BoundedTensorSpec([], tf.bool, False, True), r"action spec at '<root>': must be integer"),
    (BoundedTensorSpec([3], tf.int32, 0, 2), r"shape \(\) or \(1,\)"),
])
def test_unsupported_action_specs_are_clear_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        ActorDistributionNetwork(OBS, spec)


# ---- TF-Agents' projection factories, dropout, dtype and seed ------------------------------


def test_projection_factories_make_the_heads():
    from tfpolicy.networks import categorical_projection_network, normal_projection_network
    made = []

    def continuous(spec):
        made.append(spec)
        return normal_projection_network.NormalProjectionNetwork(
            spec, mean_transform=None, std_transform=None, std_bias_initializer_value=0.5)

    net = ActorDistributionNetwork(
        OBS, {"move": BOX, "fire": DISCRETE}, fc_layer_params=(8,),
        continuous_projection_net=continuous,
        discrete_projection_net=categorical_projection_network.CategoricalProjectionNetwork)
    assert made == [BOX]
    dists, _ = net(_obs(3))
    # identity std transform: the std is the bias, 0.5
    np.testing.assert_allclose(dists["move"].stddev().numpy(), np.full([3, 2], 0.5))
    seq, _ = net(tf.zeros([2, 5, 4]))
    assert seq["move"].batch_shape == [2, 5] and seq["fire"].batch_shape == [2, 5]
    single, _ = net(tf.zeros([4]))
    assert single["fire"].batch_shape == [] and single["move"].event_shape == [2]
    # the projection networks' variables belong to the actor network
    assert len(net.trainable_variables) == 2 + 3 + 2


def test_projection_network_gets_the_training_flag_and_outer_rank():
    from tfpolicy.networks import normal_projection_network
    calls = []

    class Recording(normal_projection_network.NormalProjectionNetwork):
        def call(self, inputs, outer_rank, training=False, mask=None):
            calls.append((outer_rank, training))
            return super().call(inputs, outer_rank, training=training, mask=mask)

    net = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,),
                                   continuous_projection_net=Recording)
    calls.clear()
    net(tf.zeros([2, 3, 4]), training=True)
    assert calls == [(2, True)]


def test_a_factory_must_return_a_network():
    with pytest.raises(TypeError, match="continuous_projection_net must return"):
        ActorDistributionNetwork(OBS, BOX, continuous_projection_net=lambda spec: 3)


def test_dropout_acts_only_in_training():
    keras.utils.set_random_seed(1)
    net = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(64,), dropout_layer_params=(0.5,))
    obs = tf.ones([1, 4])
    np.testing.assert_array_equal(net(obs)[0].mean().numpy(), net(obs)[0].mean().numpy())
    trained = [net(obs, training=True)[0].mean().numpy() for _ in range(2)]
    assert not np.allclose(trained[0], trained[1])


def test_seed_makes_the_normal_heads_reproducible():
    first = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,), seed=5)
    second = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,), seed=5)
    kernel = lambda net: net._projection._heads[0]._mean.kernel.numpy()  # noqa: E731
    np.testing.assert_array_equal(kernel(first), kernel(second))


def test_dtype_sets_the_encoder_layers():
    net = ActorDistributionNetwork(OBS, BOX, fc_layer_params=(8,), dtype=tf.float64)
    assert net._encoder.trainable_variables[0].dtype == tf.float64
