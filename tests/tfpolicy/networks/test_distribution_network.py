import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks import network
from tfpolicy.networks import ActorDistributionNetwork, DistributionNetwork, DistributionSpec

tfd = tfp.distributions


class _Scaled(DistributionNetwork):
    """A projection-style network: inputs [*outer, 1] -> Normal(scale * inputs, 1)."""

    def __init__(self, scale=1.0, name="Scaled"):
        spec = DistributionSpec(tfd.Normal, {"loc": TensorSpec([1]), "scale": TensorSpec([1])},
                                sample_spec=TensorSpec([1]), scale=1.0)
        super().__init__(None, (), spec, name=name)
        self._scale = scale

    def call(self, inputs, outer_rank, training=False, mask=None):
        self.last = (outer_rank, training)
        return self.output_spec.build_distribution(loc=self._scale * inputs), ()


def test_network_module_exposes_the_same_class():
    assert network.DistributionNetwork is DistributionNetwork
    assert network.DistributionSpec is DistributionSpec


def test_positional_outer_rank_reaches_call_not_step_type():
    net = _Scaled(scale=3.0)
    dist, state = net(tf.constant([[2.0]]), 1, training=True)
    assert net.last == (1, True) and state == ()
    np.testing.assert_allclose(dist.mean().numpy(), [[6.0]])


def test_argument_given_twice_is_a_clear_error():
    with pytest.raises(TypeError, match="both by position and by keyword"):
        _Scaled()(tf.zeros([1, 1]), 1, outer_rank=1)
    with pytest.raises(TypeError, match="positional argument"):
        _Scaled()(tf.zeros([1, 1]), 1, False, None, 5)


def test_output_spec_is_kept_as_given_and_copy_rebuilds_it():
    net = _Scaled()
    assert isinstance(net.output_spec, DistributionSpec)
    assert net.output_spec.distribution_parameters == {"scale": 1.0}
    copied = net.copy(scale=2.0)
    assert isinstance(copied, _Scaled) and copied.output_spec is not net.output_spec


def test_distribution_spec_keywords_override_fixed_parameters():
    spec = DistributionSpec(tfd.Normal, {"loc": TensorSpec([])}, TensorSpec([]), scale=2.0)
    assert float(spec.build_distribution(loc=0.0, scale=5.0).stddev()) == 5.0
    assert "Normal" in repr(spec)
    with pytest.raises(TypeError, match="callable"):
        DistributionSpec(3, {}, TensorSpec([]))


def test_actor_distribution_network_is_a_distribution_network_with_specs():
    box = BoundedTensorSpec([2], tf.float32, -1.0, 1.0)
    discrete = BoundedTensorSpec([], tf.int32, 0, 3)
    net = ActorDistributionNetwork(TensorSpec([3]), {"move": box, "fire": discrete},
                                   fc_layer_params=(4,))
    assert isinstance(net, DistributionNetwork)
    specs = net.output_spec
    assert specs["move"].sample_spec == box and specs["fire"].sample_spec == discrete
    assert specs["fire"].input_params_spec["logits"].shape == [4]
    dist = specs["move"].build_distribution(loc=tf.zeros([2]), scale=tf.ones([2]))
    assert dist.event_shape == [2]
