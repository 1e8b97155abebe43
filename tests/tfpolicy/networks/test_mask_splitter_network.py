"""Tests of `MaskSplitterNetwork`: splitting, mask pass-through, state, specs, copies."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy import networks
from tfpolicy.networks.mask_splitter_network import MaskSplitterNetwork
from tfpolicy.networks.network import Network
from tfpolicy.networks.sequential import Sequential
from tfpolicy.policies import greedy_policy, q_policy
from tfpolicy.trajectories import time_step as ts

OBS = TensorSpec([2], tf.float32)
SPEC = {"obs": OBS, "mask": TensorSpec([3], tf.int32)}
ACTIONS = BoundedTensorSpec([], tf.int32, 0, 2)
W = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]], np.float32)


def splitter(observation):
    return observation["obs"], observation["mask"]


def _linear(kernel=W):
    return keras.layers.Dense(kernel.shape[1], kernel_initializer=keras.initializers.Constant(
        kernel), bias_initializer="zeros")


class MaskedQ(Network):
    """Q = obs @ W, with disallowed actions pushed to -100; takes the mask as a keyword."""

    def __init__(self, input_tensor_spec=OBS, name="MaskedQ"):
        super().__init__(input_tensor_spec, (), name=name)
        self._q = _linear()

    def call(self, observation, step_type=None, network_state=(), training=False, mask=None):
        q_values = self._q(observation)
        if mask is not None:
            q_values = tf.where(mask > 0, q_values, -100.0)
        return q_values, network_state


def test_wrapped_network_sees_only_the_network_part():
    net = MaskSplitterNetwork(splitter, Sequential([_linear()], input_spec=OBS),
                              input_tensor_spec=SPEC)

    q_values, state = net({"obs": tf.constant([[3.0, 1.0]]),
                           "mask": tf.constant([[0, 1, 1]], tf.int32)})

    np.testing.assert_allclose(q_values.numpy(), [[3.0, 1.0, -2.0]])  # the mask is dropped
    assert state == () and net.state_spec == ()


def test_passthrough_mask_reaches_the_wrapped_network():
    net = MaskSplitterNetwork(splitter, MaskedQ(), passthrough_mask=True, input_tensor_spec=SPEC)

    q_values, _ = net({"obs": tf.constant([[3.0, 1.0]]),
                       "mask": tf.constant([[0, 1, 1]], tf.int32)})

    np.testing.assert_allclose(q_values.numpy(), [[-100.0, 1.0, -2.0]])


def test_greedy_q_policy_over_a_passthrough_mask_network_avoids_masked_actions():
    net = MaskSplitterNetwork(splitter, MaskedQ(), passthrough_mask=True, input_tensor_spec=SPEC)
    greedy = greedy_policy.GreedyPolicy(
        q_policy.QPolicy(ts.time_step_spec(SPEC), ACTIONS, q_network=net))
    # Q = [3, 1, -2] and [-1, 2, 3]; the best allowed actions are 1 and 0.
    observation = {"obs": tf.constant([[3.0, 1.0], [-1.0, 2.0]]),
                   "mask": tf.constant([[0, 1, 1], [1, 0, 0]], tf.int32)}

    action = greedy.action(ts.restart(observation, 2)).action

    assert action.numpy().tolist() == [1, 0]


def test_state_is_the_wrapped_networks():
    cell = keras.layers.SimpleRNNCell(1, activation=None, use_bias=False,
                                      kernel_initializer="ones", recurrent_initializer="ones")
    net = MaskSplitterNetwork(splitter, Sequential([cell]))
    observation = {"obs": tf.constant([[1.0, 2.0]]), "mask": tf.ones([1, 3], tf.int32)}

    assert net.state_spec == (TensorSpec([1], tf.float32),)
    _, state = net(observation)
    output, _ = net(observation, network_state=state)
    np.testing.assert_allclose(output.numpy(), [[6.0]])


def test_network_part_of_another_spec_is_an_error_naming_both():
    with pytest.raises(ValueError, match=r"splitter_fn\(input_tensor_spec\)\[0\].*wrapped_network"):
        MaskSplitterNetwork(splitter, MaskedQ(TensorSpec([4], tf.float32)),
                            input_tensor_spec=SPEC)


def test_splitter_that_does_not_return_a_pair_is_an_error():
    with pytest.raises(TypeError, match="must return"):
        MaskSplitterNetwork(lambda o: o["obs"], MaskedQ(), input_tensor_spec=SPEC)


def test_wrapped_network_must_be_a_network():
    with pytest.raises(TypeError, match="wrapped_network must be a network"):
        MaskSplitterNetwork(splitter, keras.layers.Dense(3))


def test_create_variables_without_input_spec_builds_the_wrapped_network():
    wrapped = MaskedQ()
    net = MaskSplitterNetwork(splitter, wrapped)

    assert net.create_variables() == TensorSpec([3], tf.float32)
    assert net.built and [tuple(v.shape) for v in net.variables] == [(2, 3), (3,)]


def test_create_variables_with_input_spec_runs_the_whole_network():
    net = MaskSplitterNetwork(splitter, MaskedQ(), passthrough_mask=True)
    assert net.create_variables(SPEC) == TensorSpec([3], tf.float32)
    assert net.input_tensor_spec == SPEC


def test_copy_wraps_a_copy_of_the_wrapped_network():
    net = MaskSplitterNetwork(splitter, MaskedQ(), passthrough_mask=True, input_tensor_spec=SPEC)
    net.create_variables()

    target = net.copy(name="Target")
    target.create_variables()

    assert target.name == "Target" and target.passthrough_mask
    assert target.wrapped_network is not net.wrapped_network
    assert not {id(v) for v in net.variables} & {id(v) for v in target.variables}


def test_output_spec_is_the_wrapped_networks():
    assert MaskSplitterNetwork(splitter, MaskedQ()).output_spec is None


def test_exported_from_the_networks_package():
    assert networks.MaskSplitterNetwork is MaskSplitterNetwork
    assert networks.mask_splitter_network.MaskSplitterNetwork is MaskSplitterNetwork
