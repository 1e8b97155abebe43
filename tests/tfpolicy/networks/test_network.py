"""Tests of the network base: outer dims, `_make_output`, spec conversion, `as_network`, exports."""

import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from specs import ArraySpec, BoundedTensorSpec, TensorSpec
from tfpolicy import networks
from tfpolicy.networks import QNetwork, network
from tfpolicy.networks.network import Network, as_network, outer_rank

tfd = tfp.distributions

OBS = TensorSpec([4], tf.float32)
ACTIONS = BoundedTensorSpec([], tf.int32, 0, 1)


class Doubler(Network):
    """Output 2 * observation; records the shapes `_call` sees."""

    def __init__(self, spec=TensorSpec([3], tf.float32)):
        super().__init__(spec)
        self.seen = []

    def _call(self, observation, step_type, network_state, training):
        self.seen.append(tuple(observation.shape))
        return 2.0 * observation, network_state


class NormalFromMean(Network):
    """Returns the mean from `_call` and builds the distribution in `_make_output`."""

    def __init__(self):
        super().__init__(TensorSpec([2], tf.float32))

    def _call(self, observation, step_type, network_state, training):
        return observation + 1.0, network_state

    def _make_output(self, output):
        return tfd.Independent(tfd.Normal(output, 1.0), reinterpreted_batch_ndims=1)


class DistributionFromCall(Network):
    """Wrong: returns a distribution from `_call`, which cannot be unfolded."""

    def __init__(self):
        super().__init__(TensorSpec([2], tf.float32))

    def _call(self, observation, step_type, network_state, training):
        return tfd.Normal(observation, 1.0), network_state


def test_base_calls_call_with_one_outer_dim_for_every_input_rank():
    net = Doubler()
    out0, _ = net(tf.ones([3]))
    out1, _ = net(tf.ones([2, 3]))
    out2, _ = net(tf.ones([2, 5, 3]))
    assert net.seen == [(1, 3), (2, 3), (10, 3)]
    assert out0.shape == [3] and out1.shape == [2, 3] and out2.shape == [2, 5, 3]
    np.testing.assert_array_equal(out2.numpy(), np.full([2, 5, 3], 2.0))


def test_time_folding_keeps_entries_in_place():
    obs = tf.reshape(tf.range(2 * 4 * 3, dtype=tf.float32), [2, 4, 3])
    out, _ = Doubler()(obs)
    np.testing.assert_array_equal(out.numpy(), 2.0 * obs.numpy())


def test_numpy_observation_is_accepted():
    out, state = Doubler()(np.ones([2, 3], np.float32))
    assert isinstance(out, tf.Tensor) and out.shape == [2, 3]
    assert state == ()


def test_too_many_outer_dims_is_an_error_naming_the_spec():
    with pytest.raises(ValueError, match=r"0, 1 or 2 outer dims, got 3"):
        Doubler()(tf.ones([2, 2, 2, 3]))


def test_outer_rank_counts_dims_beyond_the_spec():
    spec = {"a": TensorSpec([2, 3]), "b": TensorSpec([])}
    assert outer_rank({"a": tf.zeros([2, 3]), "b": tf.zeros([])}, spec) == 0
    assert outer_rank({"a": tf.zeros([7, 5, 2, 3]), "b": tf.zeros([7, 5])}, spec) == 2


def test_make_output_builds_distributions_at_the_outer_dims():
    net = NormalFromMean()
    for shape, batch in [([2], []), ([4, 2], [4]), ([4, 3, 2], [4, 3])]:
        dist, _ = net(tf.zeros(shape))
        assert dist.batch_shape == batch and dist.event_shape == [2]
        np.testing.assert_array_equal(dist.mean().numpy(), np.ones(shape))


def test_unfolding_a_non_tensor_output_says_how_to_fix_it():
    net = DistributionFromCall()
    net(tf.zeros([3, 2]))  # [B] is fine: no unfolding
    with pytest.raises(TypeError, match=r"_make_output"):
        net(tf.zeros([3, 4, 2]))


def test_array_specs_are_converted_to_tensor_specs():
    net = Doubler(ArraySpec((3,), np.float32))
    assert net.input_tensor_spec == TensorSpec([3], tf.float32)
    assert net(np.ones([2, 3], np.float32))[0].shape == [2, 3]


def test_keras_model_through_as_network_works_in_place_of_q_network():
    q_net = QNetwork(OBS, ACTIONS, fc_layer_params=(8,))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2)])
    adapted = as_network(model, OBS)
    assert adapted.state_spec == q_net.state_spec == ()
    assert len(adapted.variables) == len(q_net.variables) == 4
    assert len(adapted.trainable_variables) == 4
    for target, source in zip(adapted.variables, q_net.variables):
        target.assign(source)
    obs = tf.random.stateless_normal([3, 5, 4], seed=(1, 2))
    for x in (obs[0, 0], obs[:, 0], obs):
        q_expected, _ = q_net(x)
        q_actual, state = adapted(x, step_type=None, network_state=())
        assert state == ()
        np.testing.assert_allclose(q_actual.numpy(), q_expected.numpy(), rtol=1e-6)


def test_as_network_returns_networks_unchanged_and_rejects_non_callables():
    q_net = QNetwork(OBS, ACTIONS, fc_layer_params=(8,))
    assert as_network(q_net, OBS) is q_net
    with pytest.raises(TypeError, match=r"callable"):
        as_network(42, OBS)


def test_package_exports_every_network_module_and_class():
    expected_modules = ["network", "encoding_network", "q_network", "q_rnn_network",
                        "actor_distribution_network", "actor_distribution_rnn_network",
                        "value_network", "value_rnn_network"]
    for name in expected_modules:
        assert getattr(networks, name) is importlib.import_module(f"tfpolicy.networks.{name}")
        assert name in networks.__all__
    for name in ["Network", "EncodingNetwork", "QNetwork", "QRnnNetwork",
                 "ActorDistributionNetwork", "ActorDistributionRnnNetwork", "ValueNetwork",
                 "ValueRnnNetwork", "as_network", "outer_rank"]:
        assert name in networks.__all__ and hasattr(networks, name)
    assert len(set(networks.__all__)) == len(networks.__all__)
    assert networks.Network is network.Network
