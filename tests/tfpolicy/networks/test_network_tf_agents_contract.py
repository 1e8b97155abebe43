"""TF-Agents' `Network` contract on our base: `call` subclasses, `create_variables`,
`copy`, `get_initial_state`, unbuilt `variables`, the structure check (extra
fields for `call` networks), extra keywords, the Keras-layer conveniences
(`layers`, `get_layer`, `summary`, weights) and `batch_squash`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks import (ActorDistributionNetwork, ActorDistributionRnnNetwork,
                               EncodingNetwork, QNetwork, QRnnNetwork, ValueNetwork)
from tfpolicy.networks.network import Network, as_network
from tfpolicy.policies import ActorPolicy, GreedyPolicy, QPolicy
from tfpolicy.trajectories import time_step as ts

OBS = TensorSpec([3], tf.float32)
KERNEL = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)  # [3, 2]
BIAS = np.array([0.5, 1.0], np.float32)


class TwoLayer(Network):
    """TF-Agents style feed-forward: Dense(units) -> Dense(2, linear); records input shapes."""

    def __init__(self, input_tensor_spec=OBS, units=2, name="TwoLayer"):
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        self._layers = [keras.layers.Dense(units), keras.layers.Dense(2)]
        self.seen = []

    def call(self, observation, step_type=None, network_state=(), training=False):
        self.seen.append(tuple(observation.shape))
        x = observation
        for layer in self._layers:
            x = layer(x, training=training)
        return x, network_state


def identity_then_affine(net):
    """Sets a built `TwoLayer(units=2)` to `x @ KERNEL + BIAS` (first layer `x @ KERNEL`,
    second the identity plus `BIAS`)."""
    first, second = net._layers
    first.set_weights([KERNEL, np.zeros(2, np.float32)])
    second.set_weights([np.eye(2, dtype=np.float32), BIAS])


class Counter(Network):
    """Stateful TF-Agents style network: the state counts calls per batch entry.

    Q = Dense(3)(obs) + count' * [0, 0, 0.6] with count' = count + 1.
    """

    def __init__(self, input_tensor_spec=OBS, name="Counter"):
        super().__init__(input_tensor_spec, state_spec=TensorSpec([1], tf.float32), name=name)
        self.dense = keras.layers.Dense(3)

    def call(self, observation, step_type=None, network_state=(), training=False):
        if not tf.nest.flatten(network_state):
            network_state = tf.zeros([tf.shape(observation)[0], 1])
        count = network_state + 1.0
        return self.dense(observation) + count * tf.constant([0.0, 0.0, 0.6]), count


def set_counter_weights(net):
    net.dense.set_weights([np.zeros([3, 3], np.float32), np.array([1.0, 0.0, 0.0], np.float32)])


class NoTrainingArg(Network):
    """A `call` without `step_type` and `training`, as some TF-Agents networks write it."""

    def __init__(self):
        super().__init__(OBS)

    def call(self, observation, network_state=()):
        return 2.0 * observation, network_state


class DictInput(Network):
    def __init__(self):
        super().__init__({"a": TensorSpec([2]), "b": TensorSpec([1])})

    def call(self, observation, step_type=None, network_state=(), training=False):
        return observation["a"] + observation["b"], network_state


class PairInput(Network):
    """A `_call` network over a pair of observations."""

    def __init__(self):
        super().__init__((TensorSpec([2]), TensorSpec([2])))

    def _call(self, observation, step_type, network_state, training):
        return observation[0] - observation[1], network_state


# ---- call networks used directly -----------------------------------------------------------


def test_call_network_gets_observations_without_reshaping():
    net = TwoLayer()
    net.create_variables()
    identity_then_affine(net)
    net.seen.clear()
    with pytest.raises(ValueError, match=r"min_ndim=2"):  # no batch dim is added for `call`
        net(tf.constant([1.0, 2.0, 3.0]))
    out1, state = net(tf.constant([[1.0, 2.0, 3.0]]))
    out2, _ = net(tf.ones([2, 5, 3]))  # not folded to [10, 3] as for `_call` networks
    assert net.seen == [(3,), (1, 3), (2, 5, 3)]
    assert state == ()
    # [1, 2, 3] @ KERNEL = [1 + 3, 2 + 3] = [4, 5]; + BIAS = [4.5, 6.0]
    np.testing.assert_allclose(out1.numpy(), [[4.5, 6.0]])
    # [1, 1, 1] @ KERNEL = [2, 2]; + BIAS = [2.5, 3.0]
    np.testing.assert_allclose(out2.numpy(), np.tile([2.5, 3.0], [2, 5, 1]))


def test_call_network_passes_step_type_state_and_training_by_keyword():
    received = {}

    class Recorder(Network):
        def __init__(self):
            super().__init__(OBS)

        def call(self, observation, step_type=None, network_state=(), training=False):
            received.update(step_type=step_type, network_state=network_state, training=training)
            return observation, network_state

    Recorder()(tf.zeros([2, 3]), step_type=[0, 1], network_state=(), training=True)
    assert received["training"] is True and received["network_state"] == ()
    np.testing.assert_array_equal(received["step_type"].numpy(), [0, 1])


def test_call_without_training_or_step_type_parameters_is_called_without_them():
    out, state = NoTrainingArg()(tf.ones([2, 3]), step_type=tf.zeros([2], tf.int32),
                                 training=True)
    np.testing.assert_array_equal(out.numpy(), np.full([2, 3], 2.0))
    assert state == ()


def test_call_returning_a_single_tensor_is_an_error():
    class NoState(Network):
        def __init__(self):
            super().__init__(OBS)

        def call(self, observation, step_type=None, network_state=(), training=False):
            return observation

    with pytest.raises(TypeError, match=r"NoState.call must return \(output, new_state\)"):
        NoState()(tf.zeros([1, 3]))


def test_keras_layers_of_a_call_network_are_its_variables():
    net = TwoLayer(units=4)
    net.create_variables()
    assert [tuple(v.shape) for v in net.variables] == [(3, 4), (4,), (4, 2), (2,)]
    assert [tuple(v.shape) for v in net.trainable_variables] == [(3, 4), (4,), (4, 2), (2,)]
    net._layers[1].trainable = False
    assert [tuple(v.shape) for v in net.trainable_variables] == [(3, 4), (4,)]


def test_stateful_call_network_carries_its_counter_through_network_state():
    net = Counter()
    net.create_variables()
    set_counter_weights(net)
    obs = tf.zeros([2, 3])
    q, state = net(obs)  # empty state: the network starts from zeros
    np.testing.assert_allclose(state.numpy(), [[1.0], [1.0]])
    np.testing.assert_allclose(q.numpy(), [[1.0, 0.0, 0.6]] * 2)
    q, state = net(obs, network_state=state)
    np.testing.assert_allclose(state.numpy(), [[2.0], [2.0]])
    np.testing.assert_allclose(q.numpy(), [[1.0, 0.0, 1.2]] * 2, rtol=1e-6)


# ---- call networks inside policies ---------------------------------------------------------


def test_stateful_call_network_drives_a_greedy_q_policy():
    net = Counter()
    policy = QPolicy(ts.time_step_spec(OBS), BoundedTensorSpec([], tf.int32, 0, 2), net)
    assert net.built  # QPolicy ran it once to check the Q-value width
    set_counter_weights(net)
    greedy = GreedyPolicy(policy)
    obs = tf.zeros([2, 3])
    state = greedy.get_initial_state(2)
    assert state.shape == (2, 1)
    step = greedy.action(ts.restart(obs, batch_size=2), state)
    # count 1: Q = [1, 0, 0.6] -> action 0
    np.testing.assert_array_equal(step.action.numpy(), [0, 0])
    np.testing.assert_allclose(step.state.numpy(), [[1.0], [1.0]])
    step = greedy.action(ts.transition(obs, reward=tf.zeros([2])), step.state)
    # count 2: Q = [1, 0, 1.2] -> action 2
    np.testing.assert_array_equal(step.action.numpy(), [2, 2])
    np.testing.assert_allclose(step.state.numpy(), [[2.0], [2.0]])


def test_feed_forward_call_network_drives_an_actor_policy():
    net = TwoLayer()
    action_spec = BoundedTensorSpec([2], tf.float32, -5.0, 5.5)
    policy = ActorPolicy(ts.time_step_spec(OBS), action_spec, net)
    assert net.built  # ActorPolicy called create_variables
    identity_then_affine(net)
    step = policy.action(ts.restart(tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, 10.0]]),
                                    batch_size=2))
    # row 0: [4.5, 6.0] clipped to the maximum 5.5; row 1: [10.5, 11.0] clipped to [5.5, 5.5]
    np.testing.assert_allclose(step.action.numpy(), [[4.5, 5.5], [5.5, 5.5]])


# ---- create_variables ----------------------------------------------------------------------


def test_create_variables_returns_the_unbatched_output_spec():
    assert TwoLayer().create_variables() == TensorSpec([2], tf.float32)
    assert Counter().create_variables() == TensorSpec([3], tf.float32)

    class TwoHeads(Network):
        def __init__(self):
            super().__init__(OBS)

        def call(self, observation, step_type=None, network_state=(), training=False):
            return {"sum": tf.reduce_sum(observation, -1), "id": tf.cast(observation, tf.int64)}, ()

    assert TwoHeads().create_variables() == {"sum": TensorSpec([], tf.float32),
                                            "id": TensorSpec([3], tf.int64)}


def test_create_variables_of_a_distribution_network_gives_the_sample_spec():
    net = ActorDistributionNetwork(TensorSpec([4]), BoundedTensorSpec([2], tf.float32, -1, 1),
                                   fc_layer_params=(8,))
    assert net.create_variables() == TensorSpec([2], tf.float32)
    rnn = ActorDistributionRnnNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 2),
                                      input_fc_layer_params=(5,), lstm_size=(3,),
                                      output_fc_layer_params=())
    assert rnn.create_variables() == TensorSpec([], tf.int32)


def test_create_variables_is_idempotent():
    net = TwoLayer()
    first = net.create_variables()
    variables = net.variables
    calls = len(net.seen)
    assert net.create_variables() == first
    assert net.create_variables(OBS) == first
    assert len(net.seen) == calls == 1
    assert [id(v) for v in net.variables] == [id(v) for v in variables]


def test_create_variables_takes_the_spec_when_the_network_has_none():
    net = TwoLayer(input_tensor_spec=None)
    assert net.input_tensor_spec is None
    assert net.create_variables(TensorSpec([5], tf.float32)) == TensorSpec([2], tf.float32)
    assert net.input_tensor_spec == TensorSpec([5], tf.float32)
    assert [tuple(v.shape) for v in net.variables] == [(5, 2), (2,), (2, 2), (2,)]


def test_create_variables_without_any_spec_is_an_error():
    with pytest.raises(ValueError, match=r"TwoLayer.create_variables: no input_tensor_spec"):
        TwoLayer(input_tensor_spec=None).create_variables()


def test_create_variables_with_a_different_spec_names_both():
    with pytest.raises(ValueError) as error:
        TwoLayer().create_variables(TensorSpec([4], tf.float32))
    message = str(error.value)
    assert message.startswith("TwoLayer: input_tensor_spec")
    assert "TensorSpec(shape=(4,), dtype=tf.float32" in message
    assert "TensorSpec(shape=(3,), dtype=tf.float32" in message


def test_create_variables_uses_the_initial_state_and_a_first_step():
    seen = {}

    class Probe(Network):
        def __init__(self):
            super().__init__(OBS, state_spec=[TensorSpec([2], tf.float32)])

        def call(self, observation, step_type=None, network_state=(), training=False):
            seen.update(obs=observation, step_type=step_type, state=network_state,
                        training=training)
            return observation, network_state

    Probe().create_variables(training=True)
    assert seen["obs"].shape == (1, 3) and seen["training"] is True
    np.testing.assert_array_equal(seen["step_type"].numpy(), [ts.StepType.FIRST])
    assert [tuple(s.shape) for s in seen["state"]] == [(1, 2)]


# ---- unbuilt variables ---------------------------------------------------------------------


def test_variables_of_an_unbuilt_call_network_are_an_error():
    net = TwoLayer()
    assert not net.built
    with pytest.raises(ValueError, match=r"TwoLayer has not been built.*create_variables"):
        net.variables
    with pytest.raises(ValueError, match=r"create_variables"):
        net.trainable_variables
    net(tf.zeros([1, 3]))  # applying the network builds it too
    assert net.built and len(net.variables) == 4


def test_variables_of_an_unbuilt_private_call_network_are_returned():
    class Plain(Network):  # `_call` networks keep returning what exists, built or not
        def __init__(self):
            super().__init__(OBS)
            self.kernel = tf.Variable(tf.ones([3, 1]))

        def _call(self, observation, step_type, network_state, training):
            return observation @ self.kernel, network_state

    net = Plain()
    assert not net.built and [tuple(v.shape) for v in net.variables] == [(3, 1)]


# ---- copy ----------------------------------------------------------------------------------


def test_copy_of_a_call_network_is_unbuilt_and_has_its_own_variables():
    net = TwoLayer(OBS, 4, name="original")
    net.create_variables()
    clone = net.copy()
    assert type(clone) is TwoLayer and clone is not net and clone.name == "original"
    assert not clone.built
    with pytest.raises(ValueError, match=r"create_variables"):
        clone.variables
    assert clone.create_variables() == TensorSpec([2], tf.float32)
    assert [tuple(v.shape) for v in clone.variables] == [(3, 4), (4,), (4, 2), (2,)]
    assert not {id(v) for v in clone.variables} & {id(v) for v in net.variables}


def test_copy_overrides_the_recorded_arguments():
    net = TwoLayer(OBS, 4, name="original")
    clone = net.copy(units=6, name="clone")
    clone.create_variables()
    assert clone.name == "clone"
    assert [tuple(v.shape) for v in clone.variables] == [(3, 6), (6,), (6, 2), (2,)]
    respecced = TwoLayer(None).copy(input_tensor_spec=TensorSpec([7]))
    assert respecced.input_tensor_spec == TensorSpec([7])


def test_copy_with_an_unknown_keyword_names_the_class_and_the_keyword():
    with pytest.raises(TypeError, match=r"TwoLayer.copy got the keyword 'bogus'"):
        TwoLayer().copy(bogus=1)
    q_net = QNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 1), fc_layer_params=(8,))
    with pytest.raises(TypeError, match=r"QNetwork.copy got the keyword 'units'"):
        q_net.copy(units=3)


def test_copy_passes_extra_keywords_to_a_constructor_taking_kwargs():
    class Scaled(Network):
        def __init__(self, *args, scale=1.0, **kwargs):
            super().__init__(*args, **kwargs)
            self.scale = scale

        def call(self, observation, step_type=None, network_state=(), training=False):
            return self.scale * observation, network_state

    clone = Scaled(OBS, scale=3.0).copy(name="other")
    assert clone.name == "other" and clone.scale == 3.0
    np.testing.assert_array_equal(clone(tf.ones([1, 3]))[0].numpy(), [[3.0, 3.0, 3.0]])


def test_copy_of_a_q_network_builds_new_variables_of_the_same_shapes():
    q_net = QNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 1), fc_layer_params=(8,))
    clone = q_net.copy()
    assert type(clone) is QNetwork
    assert [tuple(v.shape) for v in clone.variables] == [(4, 8), (8,), (8, 2), (2,)]
    assert not {id(v) for v in clone.variables} & {id(v) for v in q_net.variables}
    for v in clone.variables:
        v.assign(tf.zeros_like(v))
    assert all(np.any(v.numpy() != 0) for v in q_net.variables if v.shape.rank == 2)
    wider = q_net.copy(fc_layer_params=(5,))
    assert [tuple(v.shape) for v in wider.variables] == [(4, 5), (5,), (5, 2), (2,)]


def test_copy_of_our_rnn_and_actor_networks():
    actor = ActorDistributionNetwork(TensorSpec([4]), BoundedTensorSpec([2], tf.float32, -1, 1),
                                     fc_layer_params=(8,))
    actor_clone = actor.copy()
    assert ([tuple(v.shape) for v in actor_clone.variables]
            == [tuple(v.shape) for v in actor.variables])
    assert not {id(v) for v in actor_clone.variables} & {id(v) for v in actor.variables}
    q_rnn = QRnnNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 1),
                        input_fc_layer_params=(5,), lstm_size=(3,), output_fc_layer_params=())
    smaller = q_rnn.copy(lstm_size=(2,))
    assert [[tuple(s.shape) for s in cell] for cell in smaller.state_spec] == [[(2,), (2,)]]
    out, state = smaller(tf.zeros([4, 6, 4]))
    assert out.shape == (4, 6, 2) and [[tuple(s.shape) for s in c] for c in state] == [
        [(4, 2), (4, 2)]]
    rnn_actor = ActorDistributionRnnNetwork(
        TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 2), lstm_size=(3,))
    assert type(rnn_actor.copy(name="copy")) is ActorDistributionRnnNetwork


def test_copy_of_an_adapted_keras_model_clones_the_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    adapted = as_network(model, TensorSpec([4]))
    clone = adapted.copy()
    assert clone.model is not model
    assert [tuple(v.shape) for v in clone.variables] == [(4, 2), (2,)]
    assert not {id(v) for v in clone.variables} & {id(v) for v in adapted.variables}


# ---- neither method, structure -------------------------------------------------------------


def test_subclass_without_call_or_private_call_cannot_be_instantiated():
    class Nothing(Network):
        def __init__(self):
            super().__init__(OBS)

    with pytest.raises(TypeError, match=r"Nothing must implement `call\(.*`_call\(.*neither"):
        Nothing()
    with pytest.raises(TypeError, match=r"Network must implement"):
        Network(OBS)


def test_observation_structure_mismatch_names_the_path():
    with pytest.raises(TypeError, match=(
            r"DictInput: the observation does not match the structure of input_tensor_spec: "
            r"'<root>': missing keys \['b'\]")):
        DictInput()({"a": tf.zeros([1, 2])})
    with pytest.raises(ValueError, match=r"'<root>': expected a sequence of length 2, got a "
                                         r"tuple of length 3"):
        PairInput()((tf.zeros([1, 2]),) * 3)
    out, _ = PairInput()((tf.ones([1, 2]), tf.zeros([1, 2])))
    np.testing.assert_array_equal(out.numpy(), [[1.0, 1.0]])


def test_call_network_without_a_spec_skips_the_structure_check():
    class Anything(Network):
        def call(self, observation, step_type=None, network_state=(), training=False):
            return tf.add_n(tf.nest.flatten(observation)), network_state

    out, _ = Anything()({"x": tf.ones([2]), "y": tf.ones([2])})
    np.testing.assert_array_equal(out.numpy(), [2.0, 2.0])


def test_private_call_network_without_a_spec_asks_for_one():
    class NoSpec(Network):
        def __init__(self):
            super().__init__(None)

        def _call(self, observation, step_type, network_state, training):
            return observation, network_state

    net = NoSpec()
    with pytest.raises(ValueError, match=r"NoSpec implements `_call`.*create_variables"):
        net(tf.zeros([2, 3]))
    assert net.create_variables(TensorSpec([3])) == TensorSpec([3], tf.float32)
    assert net(tf.zeros([3]))[0].shape == (3,)  # [] input reshaped around `_call` again


# ---- get_initial_state ---------------------------------------------------------------------


def test_get_initial_state_shapes():
    counter = Counter()
    assert TwoLayer().get_initial_state() == () and TwoLayer().get_initial_state(4) == ()
    np.testing.assert_array_equal(counter.get_initial_state().numpy(), [0.0])
    np.testing.assert_array_equal(counter.get_initial_state(3).numpy(), np.zeros([3, 1]))
    assert counter.get_initial_state(tf.constant(5)).shape == (5, 1)
    q_rnn = QRnnNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 1), lstm_size=(3, 2))
    state = q_rnn.get_initial_state(2)
    assert [[tuple(s.shape) for s in cell] for cell in state] == [[(2, 3), (2, 3)],
                                                                  [(2, 2), (2, 2)]]
    assert all(np.all(s.numpy() == 0) for cell in state for s in cell)


# ---- Keras-layer conveniences: layers, get_layer, summary, weights -------------------------


class Ordered(Network):
    """Layers assigned out of alphabetical order, in a list, a dict and twice."""

    def __init__(self):
        super().__init__(OBS, name="Ordered")
        self.zeta = keras.layers.Dense(2, name="zeta")
        self.alpha = [keras.layers.Dense(2, name="alpha_0"), keras.layers.Dense(2, name="alpha_1")]
        self.heads = {"b": keras.layers.Dense(1, name="head_b"),
                      "a": keras.layers.Dense(1, name="head_a")}
        self.again = self.zeta  # listed once, where first assigned
        self.scale = 2.0
        self.frozen = keras.layers.Dense(1, name="frozen", trainable=False)

    def call(self, observation, step_type=None, network_state=(), training=False):
        x = self.alpha[1](self.alpha[0](self.zeta(observation)))
        return self.heads["a"](x) + self.heads["b"](x) + self.frozen(x), network_state


def test_layers_are_listed_in_attribute_assignment_order():
    net = Ordered()
    # zeta first though named last; the list in order; the dict by key; the repeat dropped.
    assert [layer.name for layer in net.layers] == [
        "zeta", "alpha_0", "alpha_1", "head_a", "head_b", "frozen"]


def test_layers_of_our_networks_include_the_nested_encoder():
    q_net = QNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 2), fc_layer_params=(8,))
    encoder, q_layer = q_net.layers
    assert encoder is q_net._encoder and q_layer is q_net._q_values
    assert [type(layer).__name__ for layer in encoder.layers] == ["Flatten", "Dense"]


def test_get_layer_by_name_and_index():
    net = Ordered()
    assert net.get_layer(name="head_b") is net.heads["b"]
    assert net.get_layer(index=1) is net.alpha[0]
    assert net.get_layer(index=-1) is net.frozen


def test_get_layer_errors_name_what_was_asked_and_what_exists():
    net = Ordered()
    with pytest.raises(ValueError, match=r"Ordered.get_layer: no layer named 'nope'; the "
                                         r"layers are \['zeta', 'alpha_0'"):
        net.get_layer(name="nope")
    with pytest.raises(ValueError, match=r"no layer at index 6; the network has 6 layers: "
                                         r"\['zeta'"):
        net.get_layer(index=6)
    with pytest.raises(ValueError, match=r"a layer name or an index, not both"):
        net.get_layer(name="zeta", index=0)
    with pytest.raises(ValueError, match=r"not neither"):
        net.get_layer()


def summary_lines(net, **kwargs):
    lines = []
    net.summary(print_fn=lines.append, **kwargs)
    return lines


def test_summary_lists_layers_output_shapes_and_parameter_counts():
    net = Ordered()
    net.create_variables()
    lines = summary_lines(net)
    assert lines[0] == 'Model: "Ordered"'
    assert all(len(line) <= 65 for line in lines)
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith(" ")}
    # zeta: 3 x 2 + 2 = 8; alpha_*: 2 x 2 + 2 = 6; heads and frozen: 2 x 1 + 1 = 3.
    assert rows["zeta"] == ["(Dense)", "(None,", "2)", "8"]
    assert rows["alpha_1"][-1] == "6" and rows["head_a"] == ["(Dense)", "(None,", "1)", "3"]
    # Totals: 8 + 6 + 6 + 3 + 3 + 3 = 29, of which the frozen 3 are not trainable.
    assert "Total params: 29" in lines
    assert "Trainable params: 26" in lines
    assert "Non-trainable params: 3" in lines


def test_summary_shows_nested_network_output_and_unknown_shapes():
    q_net = QNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 2), fc_layer_params=(8,))
    text = "\n".join(summary_lines(q_net))
    # encoder: 4 x 8 + 8 = 40; Q layer: 8 x 3 + 3 = 27.
    assert "encoder (EncodingNetwork)" in text and "(None, 8)" in text and " 40" in text
    assert "(None, 3)" in text and "Total params: 67" in text
    actor = ActorDistributionNetwork(TensorSpec([4]), BoundedTensorSpec([2], tf.float32, -1, 1),
                                     fc_layer_params=(8,))
    projection_row = [line for line in summary_lines(actor) if "ProjectionNest" in line][0]
    assert projection_row.split()[2] == "?"  # a plain tf.Module: no known output shape


def test_summary_line_length_and_positions():
    net = TwoLayer()
    net.create_variables()
    lines = summary_lines(net, line_length=40, positions=[10, 30, 40])
    assert lines[1] == "_" * 40
    header = lines[2]
    assert header.startswith(" Layer (t") and header[10:].startswith(" Output Shape")
    assert header[30:].strip() == "Param #"
    # TF-Agents documents four positions; the first three are used.
    assert summary_lines(net, positions=[0.33, 0.55, 0.67, 1.0])[1] == "_" * 65
    with pytest.raises(ValueError, match=r"3 column positions"):
        net.summary(positions=[0.5, 1.0], print_fn=lambda line: None)


def test_summary_of_an_unbuilt_network_is_an_error():
    with pytest.raises(ValueError, match=r"TwoLayer has not been built.*create_variables"):
        TwoLayer().summary()


def test_weights_are_the_variables_split_by_trainability():
    net = Ordered()
    net.create_variables()
    assert [id(v) for v in net.weights] == [id(v) for v in net.variables]
    assert [id(v) for v in net.trainable_weights] == [id(v) for v in net.trainable_variables]
    assert [tuple(v.shape) for v in net.non_trainable_weights] == [(2, 1), (1,)]
    assert len(net.weights) == len(net.trainable_weights) + len(net.non_trainable_weights) == 12
    with pytest.raises(ValueError, match=r"create_variables"):
        TwoLayer().weights


def test_get_weights_and_set_weights_round_trip():
    net = TwoLayer()
    net.create_variables()
    values = net.get_weights()
    assert [v.shape for v in values] == [(3, 2), (2,), (2, 2), (2,)]
    assert all(isinstance(v, np.ndarray) for v in values)
    net.set_weights([KERNEL, np.zeros(2, np.float32), np.eye(2, dtype=np.float32), BIAS])
    out, _ = net(tf.constant([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out.numpy(), [[4.5, 6.0]])  # as identity_then_affine
    # float64 arrays are cast, as Keras does.
    net.set_weights([v.astype(np.float64) for v in values])
    for got, want in zip(net.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_set_weights_checks_everything_before_assigning_anything():
    net = TwoLayer()
    net.create_variables()
    before = net.get_weights()
    wrong_shape = [np.ones([3, 2], np.float32), np.ones([2], np.float32),
                   np.ones([2, 3], np.float32), np.ones([2], np.float32)]
    with pytest.raises(ValueError, match=r"value 2 has shape \(2, 3\) but variable '.*kernel.*' "
                                         r"has shape \(2, 2\)"):
        net.set_weights(wrong_shape)
    for got, want in zip(net.get_weights(), before):  # the first two were not assigned
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"got 3 values for 4 variables"):
        net.set_weights(before[:3])
    with pytest.raises(ValueError, match=r"value 0 has dtype complex64 which does not cast to "
                                         r"float32"):
        net.set_weights([before[0].astype(np.complex64)] + before[1:])


def test_set_weights_rejects_floats_for_an_integer_variable():
    class Counts(Network):
        def __init__(self):
            super().__init__(OBS)
            self.count = tf.Variable(tf.zeros([2], tf.int64))

        def _call(self, observation, step_type, network_state, training):
            return observation, network_state

    net = Counts()
    with pytest.raises(ValueError, match=r"dtype float32 which does not cast to int64"):
        net.set_weights([np.array([1.5, 2.0], np.float32)])
    net.set_weights([np.array([1, 2], np.int32)])
    np.testing.assert_array_equal(net.get_weights()[0], [1, 2])


# ---- extra observation fields, extra keywords ----------------------------------------------


def test_call_network_accepts_extra_dict_fields_and_gets_the_whole_observation():
    seen = {}

    class Picky(Network):
        def __init__(self):
            super().__init__({"a": TensorSpec([2]), "inner": {"b": TensorSpec([1])}})

        def call(self, observation, step_type=None, network_state=(), training=False):
            seen["keys"] = sorted(observation)
            seen["inner"] = sorted(observation["inner"])
            return observation["a"] + observation["inner"]["b"], network_state

    out, _ = Picky()({"a": tf.ones([1, 2]), "mask": tf.zeros([1, 3]),
                      "inner": {"b": tf.ones([1, 1]), "extra": tf.zeros([1])}})
    np.testing.assert_array_equal(out.numpy(), [[2.0, 2.0]])
    assert seen == {"keys": ["a", "inner", "mask"], "inner": ["b", "extra"]}


def test_call_network_with_extra_fields_still_names_missing_ones():
    with pytest.raises(TypeError, match=r"DictInput: the observation does not match the "
                                        r"structure of input_tensor_spec: '<root>': missing "
                                        r"keys \['b'\], unexpected keys \['c'\]"):
        DictInput()({"a": tf.zeros([1, 2]), "c": tf.zeros([1, 1])})


def test_private_call_network_stays_strict_about_extra_fields():
    class DictPlain(Network):
        def __init__(self):
            super().__init__({"a": TensorSpec([2])})

        def _call(self, observation, step_type, network_state, training):
            return observation["a"], network_state

    with pytest.raises(TypeError, match=r"'<root>': unexpected keys \['extra'\]"):
        DictPlain()({"a": tf.zeros([1, 2]), "extra": tf.zeros([1])})


class Masked(Network):
    """A `call` with an extra keyword, as TF-Agents' networks take `mask`."""

    def __init__(self, input_tensor_spec=OBS):
        super().__init__(input_tensor_spec)
        self.dense = keras.layers.Dense(2, kernel_initializer="ones")
        self.masks = []

    def call(self, observation, step_type=None, network_state=(), training=False, mask=None):
        self.masks.append(mask)
        out = self.dense(observation)
        return (out if mask is None else out * mask), network_state


def test_create_variables_forwards_extra_keywords_to_call():
    net = Masked()
    spec = net.create_variables(mask=tf.constant([[1.0, 0.0]]))
    assert spec == TensorSpec([2], tf.float32)
    np.testing.assert_array_equal(net.masks[0].numpy(), [[1.0, 0.0]])


def test_call_forwards_extra_keywords_and_names_unknown_ones():
    net = Masked()
    out, _ = net(tf.ones([1, 3]), mask=tf.constant([[0.0, 1.0]]))
    np.testing.assert_array_equal(out.numpy(), [[0.0, 3.0]])  # [3, 3] * [0, 1]
    with pytest.raises(TypeError, match=r"Masked.call does not take the keyword\(s\) "
                                        r"\['bogus'\]; it takes \['mask', 'network_state', "
                                        r"'step_type', 'training'\]"):
        net(tf.ones([1, 3]), bogus=1)


def test_private_call_network_rejects_extra_keywords():
    q_net = QNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 1), fc_layer_params=(8,))
    with pytest.raises(TypeError, match=r"QNetwork implements `_call`, which takes only "
                                        r"step_type, network_state and training; got the "
                                        r"keyword\(s\) \['mask'\]"):
        q_net(tf.zeros([1, 4]), mask=tf.ones([1, 2]))
    with pytest.raises(TypeError, match=r"PairInput implements `_call`.*\['mask'\]"):
        PairInput().create_variables(mask=tf.ones([1, 2]))


# ---- batch_squash --------------------------------------------------------------------------


def ones_encoder(batch_squash):
    # Every kernel entry 1, bias 0: features = relu(sum(observation)) in both units.
    return EncodingNetwork(OBS, fc_layer_params=(2,), batch_squash=batch_squash,
                           kernel_initializer=keras.initializers.Constant(1.0))


def test_encoder_without_batch_squash_gives_batched_observations_to_its_layers():
    out, _ = ones_encoder(False)(tf.constant([[1.0, 2.0, 3.0], [-1.0, -1.0, 0.0]]))
    # Row 0: relu(6) = 6; row 1: relu(-2) = 0.
    np.testing.assert_array_equal(out.numpy(), [[6.0, 6.0], [0.0, 0.0]])


def test_encoder_with_batch_squash_folds_batch_and_time():
    out, _ = ones_encoder(True)(tf.reshape(tf.range(12, dtype=tf.float32), [2, 2, 3]))
    # Rows sum to 0+1+2 = 3, 12, 21, 30.
    np.testing.assert_array_equal(out.numpy(), [[[3.0] * 2, [12.0] * 2], [[21.0] * 2, [30.0] * 2]])
    single, _ = ones_encoder(True)(tf.constant([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(single.numpy(), [3.0, 3.0])


def test_encoder_without_batch_squash_rejects_other_outer_dims():
    encoder = ones_encoder(False)
    with pytest.raises(ValueError, match=r"EncodingNetwork was built with batch_squash=False, "
                                         r"so it takes observations with exactly one outer dim "
                                         r"\[B\].*got 2 outer dims .*shape \(2, 4, 3\)"):
        encoder(tf.zeros([2, 4, 3]))
    with pytest.raises(ValueError, match=r"got 0 outer dims"):
        encoder(tf.zeros([3]))


def test_batch_squash_must_be_a_bool():
    with pytest.raises(TypeError, match=r"batch_squash must be True or False, got 'no'"):
        EncodingNetwork(OBS, batch_squash="no")


@pytest.mark.parametrize("make", [
    lambda squash: QNetwork(TensorSpec([4]), BoundedTensorSpec([], tf.int32, 0, 2),
                            fc_layer_params=(8,), batch_squash=squash),
    lambda squash: ValueNetwork(TensorSpec([4]), fc_layer_params=(8,), batch_squash=squash),
    lambda squash: ActorDistributionNetwork(
        TensorSpec([4]), BoundedTensorSpec([2], tf.float32, -1, 1), fc_layer_params=(8,),
        batch_squash=squash),
], ids=["QNetwork", "ValueNetwork", "ActorDistributionNetwork"])
def test_our_networks_take_batch_squash_like_their_tf_agents_namesakes(make):
    squashed, unsquashed = make(True), make(False)
    unsquashed.set_weights(squashed.get_weights())
    obs = tf.reshape(tf.range(12, dtype=tf.float32), [3, 4])

    def first_tensor(output):
        return output.mean() if hasattr(output, "mean") else output

    # [B] observations: the same output either way.
    np.testing.assert_allclose(first_tensor(unsquashed(obs)[0]).numpy(),
                               first_tensor(squashed(obs)[0]).numpy(), rtol=1e-6)
    # [B, T]: folded only with batch_squash=True.
    assert first_tensor(squashed(tf.zeros([2, 3, 4]))[0]).shape[:2] == (2, 3)
    with pytest.raises(ValueError, match=r"batch_squash=False"):
        unsquashed(tf.zeros([2, 3, 4]))
    # The encoder gets the setting too, and `copy` keeps it.
    assert unsquashed._encoder._squash_outer_dims is False
    with pytest.raises(ValueError, match=r"batch_squash=False"):
        unsquashed.copy()(tf.zeros([4]))


def test_custom_network_squashing_itself_around_an_unsquashed_encoder():
    from specs import nest_utils
    from tfpolicy.networks import utils

    class SequenceActor(Network):
        """The TF-Agents guide's pattern: fold the outer dims, encode, unfold."""

        def __init__(self):
            super().__init__(OBS)
            self._encoder = ones_encoder(False)

        def call(self, observation, step_type=None, network_state=(), training=False):
            squash = utils.BatchSquash(nest_utils.get_outer_rank(observation, OBS))
            features, _ = self._encoder(squash.flatten(observation), training=training)
            return squash.unflatten(features), network_state

    out, _ = SequenceActor()(tf.ones([2, 5, 3]))
    np.testing.assert_array_equal(out.numpy(), np.full([2, 5, 2], 3.0))
