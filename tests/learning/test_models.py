"""Tests of the models: observation flattening, the default and recurrent models, masks,
custom models, variables, the catalog, and `tf.function`."""

import functools

import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings, strategies as st

from specs import ArraySpec, BoundedArraySpec, TensorSpec
from tfpolicy.learning.distributions import (
    Categorical, DiagGaussian, Deterministic, MultiActionDistribution, MultiCategorical,
    SquashedGaussian)
from tfpolicy.learning.models import (
    MODEL_DEFAULTS, FullyConnectedNetwork, LSTMWrapper, ModelCatalog, ModelV2, TFModelV2,
    ViewRequirement)
from tfpolicy.networks import EncodingNetwork, as_network
from tfpolicy.networks._lstm import LSTMNetwork

SMALL = {"fcnet_hiddens": [8]}
BOX3 = gym.spaces.Box(-1.0, 1.0, (3,))
DISCRETE3 = gym.spaces.Discrete(3)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(7)


def _model(obs_space, action_space=DISCRETE3, config=SMALL, num_outputs=None):
    if num_outputs is None:
        _, num_outputs = ModelCatalog.get_action_dist(action_space, config)
    return ModelCatalog.get_model_v2(obs_space, action_space, num_outputs, config)


def _by_layer(model):
    return {v.name: v for v in model.variables()}


# --------------------------------------------------------------------------- observations


@pytest.mark.parametrize("space, batch, width", [
    (gym.spaces.Box(-1.0, 1.0, (3,)), np.zeros((2, 3), np.float32), 3),
    (gym.spaces.Box(0, 255, (2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8), 6),
    (gym.spaces.Discrete(4), np.array([0, 3]), 4),
    (gym.spaces.MultiDiscrete([2, 3]), np.array([[0, 1], [1, 2]]), 5),
    (gym.spaces.MultiBinary(3), np.zeros((2, 3), np.int8), 3),
    (gym.spaces.Dict({"a": gym.spaces.Discrete(2), "b": gym.spaces.Box(-1, 1, (2,))}),
     {"a": np.array([0, 1]), "b": np.zeros((2, 2), np.float32)}, 4),
    (gym.spaces.Tuple([gym.spaces.Box(-1, 1, (1,)), gym.spaces.MultiBinary(3)]),
     (np.zeros((2, 1), np.float32), np.zeros((2, 3), np.int8)), 4),
])
def test_output_and_value_shapes_for_every_observation_space(space, batch, width):
    model = _model(space)
    assert model.obs_flat_size == width
    outputs, state = model({"obs": batch})
    assert outputs.shape == [2, 3] and state == []
    assert model.value_function().shape == [2]
    assert _by_layer(model)["fc_1/kernel:0"].shape == (width, 8)


def test_obs_flat_is_one_hot_for_discrete_parts_and_concatenated_in_sorted_key_order():
    space = gym.spaces.Dict({
        "z_pos": gym.spaces.Box(-1.0, 1.0, (2,)),
        "id": gym.spaces.Discrete(3, start=1),
        "grid": gym.spaces.MultiDiscrete([2, 3], start=[0, -1]),
    })
    model = _model(space)
    obs = {"z_pos": np.array([[0.5, -0.5]], np.float32), "id": np.array([3]),
           "grid": np.array([[1, -1]])}
    flat = model.flatten_observation(obs).numpy()
    # grid: one-hot(1 of 2), one-hot(-1 - (-1) = 0 of 3); id: one-hot(3 - 1 of 3); z_pos.
    np.testing.assert_array_equal(flat, [[0, 1, 1, 0, 0, 0, 0, 1, 0.5, -0.5]])


def test_spec_nests_and_gymnasium_spaces_give_the_same_model_inputs():
    space = gym.spaces.Tuple([gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (2,))])
    spec = (BoundedArraySpec((), np.int64, 0, 2), BoundedArraySpec((2,), np.float32, -1.0, 1.0))
    obs = (np.array([2, 0]), np.array([[0.1, 0.2], [0.3, 0.4]], np.float32))
    np.testing.assert_array_equal(_model(space).flatten_observation(obs),
                                  _model(spec).flatten_observation(obs))


def test_an_observation_of_another_structure_is_a_named_error():
    model = _model(gym.spaces.Dict({"a": BOX3}))
    with pytest.raises(TypeError, match="obs"):
        model({"obs": {"b": np.zeros((1, 3), np.float32)}})
    with pytest.raises(ValueError, match="no 'obs' column.*'actions'"):
        model({"actions": np.zeros(1)})


# --------------------------------------------------------------------------- catalog


@pytest.mark.parametrize("space, cls, num_outputs", [
    (gym.spaces.Discrete(3), Categorical, 3),
    (gym.spaces.MultiDiscrete([2, 3]), MultiCategorical, 5),
    (gym.spaces.Box(0, 2, (2,), np.int32), MultiCategorical, 6),
    (gym.spaces.MultiBinary(2), MultiCategorical, 4),
    (gym.spaces.Box(-1.0, 1.0, (2,)), DiagGaussian, 4),
    (gym.spaces.Dict({"a": gym.spaces.Discrete(2), "b": gym.spaces.Box(-1, 1, (3,))}),
     MultiActionDistribution, 8),
    (BoundedArraySpec((), np.int32, 1, 4), Categorical, 4),
    (ArraySpec((2,), np.float32), DiagGaussian, 4),
])
def test_get_action_dist_picks_rllibs_distribution_and_width(space, cls, num_outputs):
    dist_class, n = ModelCatalog.get_action_dist(space, {})
    assert n == num_outputs
    base = dist_class.func if isinstance(dist_class, functools.partial) else dist_class
    assert base is cls
    assert cls.required_model_output_shape(space, {}) == num_outputs


def test_get_action_dist_dist_type_and_custom_action_dist():
    box = gym.spaces.Box(-1.0, 1.0, (2,))
    assert ModelCatalog.get_action_dist(box, {}, dist_type="deterministic") == (Deterministic, 2)
    assert ModelCatalog.get_action_dist(box, {}, dist_type=SquashedGaussian) == (
        SquashedGaussian, 4)
    ModelCatalog.register_custom_action_dist("squashed", SquashedGaussian)
    assert ModelCatalog.get_action_dist(box, {"custom_action_dist": "squashed"}) == (
        SquashedGaussian, 4)
    with pytest.raises(ValueError, match="not registered"):
        ModelCatalog.get_action_dist(box, {"custom_action_dist": "nope"})
    with pytest.raises(ValueError, match="dist_type"):
        ModelCatalog.get_action_dist(box, {}, dist_type="beta")
    dist_class, _ = ModelCatalog.get_action_dist(DISCRETE3, {}, temperature=2.0)
    np.testing.assert_allclose(dist_class(tf.constant([[0.0, 2.0, 0.0]])).inputs, [[0, 1, 0]])


def test_get_action_dist_rejects_unbounded_integer_actions():
    with pytest.raises(ValueError, match="unbounded integer action"):
        ModelCatalog.get_action_dist(ArraySpec((), np.int32), {})


def test_model_config_keys_are_checked():
    with pytest.raises(ValueError, match="unknown model config keys \\['fcnet_hidden'\\]"):
        _model(BOX3, config={"fcnet_hidden": [8]})
    with pytest.raises(ValueError, match="use_attention=True is not supported"):
        _model(BOX3, config={"use_attention": True})
    with pytest.raises(ValueError, match="framework"):
        ModelCatalog.get_model_v2(BOX3, DISCRETE3, 3, SMALL, framework="torch")
    with pytest.raises(ValueError, match="unknown activation 'tanhh'.*'relu'"):
        _model(BOX3, config={"fcnet_hiddens": [4], "fcnet_activation": "tanhh"})
    assert MODEL_DEFAULTS["fcnet_hiddens"] == [256, 256]
    assert MODEL_DEFAULTS["fcnet_activation"] == "tanh" and MODEL_DEFAULTS["vf_share_layers"]
    assert MODEL_DEFAULTS["lstm_cell_size"] == 256 and MODEL_DEFAULTS["max_seq_len"] == 20


# --------------------------------------------------------------------------- FullyConnectedNetwork


def test_fcnet_layers_follow_rllibs_names_shapes_and_initialization():
    model = _model(BOX3, config={"fcnet_hiddens": [5, 7]})
    shapes = {name: tuple(v.shape) for name, v in _by_layer(model).items()}
    assert shapes == {"fc_1/kernel:0": (3, 5), "fc_1/bias:0": (5,), "fc_2/kernel:0": (5, 7),
                      "fc_2/bias:0": (7,), "fc_out/kernel:0": (7, 3), "fc_out/bias:0": (3,),
                      "value_out/kernel:0": (7, 1), "value_out/bias:0": (1,)}
    # normc: every kernel column has norm 1 (hidden) or 0.01 (outputs).
    layers = _by_layer(model)
    np.testing.assert_allclose(np.linalg.norm(layers["fc_1/kernel:0"].numpy(), axis=0), 1.0,
                               rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(layers["fc_out/kernel:0"].numpy(), axis=0), 0.01,
                               rtol=1e-5)


def test_fcnet_separate_value_layers_and_no_final_linear():
    model = _model(BOX3, config={"fcnet_hiddens": [5, 7], "vf_share_layers": False})
    assert {"fc_value_1/kernel:0", "fc_value_2/kernel:0"} <= set(_by_layer(model))
    assert _by_layer(model)["value_out/kernel:0"].shape == (7, 1)
    model = _model(BOX3, config={"fcnet_hiddens": [5, 7], "no_final_linear": True})
    shapes = {n: tuple(v.shape) for n, v in _by_layer(model).items()}
    assert "fc_2/kernel:0" not in shapes and shapes["fc_out/kernel:0"] == (5, 3)
    assert shapes["value_out/kernel:0"] == (5, 1)


def test_fcnet_computes_rllibs_function():
    model = _model(BOX3, config={"fcnet_hiddens": [4], "fcnet_activation": "relu"})
    layers = _by_layer(model)
    x = np.array([[0.3, -0.2, 0.9]], np.float32)
    hidden = np.maximum(x @ layers["fc_1/kernel:0"].numpy() + layers["fc_1/bias:0"].numpy(), 0)
    logits = hidden @ layers["fc_out/kernel:0"].numpy() + layers["fc_out/bias:0"].numpy()
    value = hidden @ layers["value_out/kernel:0"].numpy() + layers["value_out/bias:0"].numpy()
    outputs, _ = model({"obs": x})
    np.testing.assert_allclose(outputs, logits, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.value_function(), value[:, 0], rtol=1e-5, atol=1e-7)


def test_fcnet_without_num_outputs_returns_the_last_hidden_layer():
    model = FullyConnectedNetwork(BOX3, DISCRETE3, None, {"fcnet_hiddens": [6]}, "features")
    assert model.num_outputs == 6 and "fc_out/kernel:0" not in _by_layer(model)
    assert model({"obs": np.zeros((2, 3), np.float32)})[0].shape == [2, 6]


def test_free_log_std_appends_a_trainable_state_independent_log_std():
    box = gym.spaces.Box(-1.0, 1.0, (2,))
    model = _model(BOX3, box, config={"fcnet_hiddens": [4], "free_log_std": True})
    outputs, _ = model({"obs": np.random.randn(3, 3).astype(np.float32)})
    assert outputs.shape == [3, 4] and _by_layer(model)["fc_out/kernel:0"].shape == (4, 2)
    np.testing.assert_array_equal(outputs[:, 2:], np.zeros((3, 2)))
    assert any(v.name == "log_std:0" for v in model.trainable_variables())
    with pytest.raises(ValueError, match="even num_outputs"):
        FullyConnectedNetwork(BOX3, box, 3, {"free_log_std": True}, "odd")


@pytest.mark.parametrize("name, fn", [("tanh", np.tanh), ("relu", lambda x: np.maximum(x, 0)),
                                      ("linear", lambda x: x),
                                      ("swish", lambda x: x / (1 + np.exp(-x)))])
def test_fcnet_activations(name, fn):
    model = _model(BOX3, config={"fcnet_hiddens": [4], "fcnet_activation": name})
    layers = _by_layer(model)
    x = np.array([[0.5, -1.0, 2.0]], np.float32)
    hidden = fn(x @ layers["fc_1/kernel:0"].numpy() + layers["fc_1/bias:0"].numpy())
    expected = hidden @ layers["fc_out/kernel:0"].numpy() + layers["fc_out/bias:0"].numpy()
    np.testing.assert_allclose(model({"obs": x})[0], expected, rtol=1e-4, atol=1e-6)


def test_value_function_before_any_call_is_an_error():
    with pytest.raises(ValueError, match="call the model"):
        _model(BOX3).value_function()


# --------------------------------------------------------------------------- action masks


def _masked_space(action_width=3):
    return gym.spaces.Dict({"action_mask": gym.spaces.Box(0, 1, (action_width,)),
                            "observations": BOX3})


def test_action_mask_is_left_out_of_the_input_and_masks_the_logits():
    model = _model(_masked_space())
    assert model.obs_flat_size == 3
    obs = np.random.randn(2, 3).astype(np.float32)
    open_logits, _ = model({"obs": {"action_mask": np.ones((2, 3), np.float32),
                                    "observations": obs}})
    mask = np.array([[1, 0, 1], [0, 1, 0]], np.float32)
    logits, _ = model({"obs": {"action_mask": mask, "observations": obs}})
    np.testing.assert_array_equal(logits.numpy()[mask == 1], open_logits.numpy()[mask == 1])
    np.testing.assert_array_equal(logits.numpy()[mask == 0], np.finfo(np.float32).min)


def test_masked_actions_are_never_sampled_and_have_very_negative_logp():
    model = _model(_masked_space())
    n = 5000
    mask = np.tile(np.array([[0, 1, 1]], np.float32), [n, 1])
    logits, _ = model({"obs": {"action_mask": mask, "observations": np.zeros((n, 3), np.float32)}})
    dist = Categorical(logits, model)
    assert 0 not in dist.sample().numpy()
    assert dist.logp(tf.zeros([n], tf.int64)).numpy().max() < -1e30
    assert np.isfinite(dist.entropy().numpy()).all()


def test_action_mask_covers_every_discrete_part_and_leaves_gaussians_alone():
    action = gym.spaces.Tuple([gym.spaces.MultiDiscrete([2, 2]), gym.spaces.Box(-1, 1, (1,))])
    model = _model(_masked_space(2), action)
    obs = np.zeros((1, 3), np.float32)
    open_out, _ = model({"obs": {"action_mask": np.ones((1, 2), np.float32),
                                 "observations": obs}})
    out, _ = model({"obs": {"action_mask": np.array([[0, 1]], np.float32),
                            "observations": obs}})
    low = np.finfo(np.float32).min
    # Inputs: [2 logits, 2 logits, mean, log_std]; the same mask on both parts.
    np.testing.assert_array_equal(out.numpy()[0, [0, 2]], [low, low])
    np.testing.assert_array_equal(out.numpy()[0, [1, 3, 4, 5]], open_out.numpy()[0, [1, 3, 4, 5]])
    # One entry per discrete logit works too.
    model = _model(_masked_space(4), action)
    out, _ = model({"obs": {"action_mask": np.array([[1, 0, 0, 1]], np.float32),
                            "observations": obs}})
    assert (out.numpy()[0, [1, 2]] == low).all() and (out.numpy()[0, [0, 3]] > low).all()


def test_an_action_mask_that_fits_no_discrete_layout_is_an_error():
    with pytest.raises(ValueError, match="'action_mask' has 4 entries"):
        _model(_masked_space(4), DISCRETE3)
    with pytest.raises(ValueError, match="no discrete part"):
        _model(_masked_space(2), gym.spaces.Box(-1, 1, (1,)))


# --------------------------------------------------------------------------- LSTM

LSTM_CONFIG = {"fcnet_hiddens": [8], "use_lstm": True, "lstm_cell_size": 4,
               "lstm_use_prev_action": True, "lstm_use_prev_reward": True}


def _lstm_batch(rng):
    # Two sequences of lengths 3 and 1, padded to T = 3 and folded: rows 0-2 and 3 (4-5 padding).
    return {
        "obs": rng.normal(size=(6, 3)).astype(np.float32),
        "prev_actions": np.array([0, 2, 1, 1, 0, 0]),
        "prev_rewards": rng.normal(size=6).astype(np.float32),
        "state_in_0": rng.normal(size=(2, 4)).astype(np.float32),
        "state_in_1": rng.normal(size=(2, 4)).astype(np.float32),
        "seq_lens": np.array([3, 1], np.int32),
    }


def _step_one_at_a_time(model, batch, rows, seq):
    state = [batch["state_in_0"][seq:seq + 1], batch["state_in_1"][seq:seq + 1]]
    outputs, values = [], []
    for i in rows:
        out, state = model({"obs": batch["obs"][i:i + 1],
                            "prev_actions": batch["prev_actions"][i:i + 1],
                            "prev_rewards": batch["prev_rewards"][i:i + 1]},
                           state, np.array([1], np.int32))
        outputs.append(out.numpy()[0])
        values.append(model.value_function().numpy()[0])
    return np.array(outputs), np.array(values), [s.numpy()[0] for s in state]


def test_lstm_over_a_folded_batch_equals_stepping_one_step_at_a_time():
    model = _model(BOX3, config=LSTM_CONFIG)
    assert isinstance(model, LSTMWrapper) and model.is_recurrent()
    batch = _lstm_batch(np.random.default_rng(0))
    outputs, state = model.from_batch(batch)
    values = model.value_function().numpy()
    assert outputs.shape == [6, 3] and values.shape == (6,)
    assert [s.shape for s in state] == [[2, 4], [2, 4]]
    for seq, rows in ((0, [0, 1, 2]), (1, [3])):
        out, val, final = _step_one_at_a_time(model, batch, rows, seq)
        np.testing.assert_allclose(outputs.numpy()[rows], out, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(values[rows], val, rtol=1e-5, atol=1e-6)
        # The padding rows after sequence 1's single step leave its state alone.
        np.testing.assert_allclose(state[0].numpy()[seq], final[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(state[1].numpy()[seq], final[1], rtol=1e-5, atol=1e-6)


def test_lstm_state_specs_view_requirements_and_variables():
    model = _model(BOX3, config=LSTM_CONFIG)
    initial = model.get_initial_state()
    assert [s.shape for s in initial] == [(4,), (4,)] and not np.any(initial)
    assert model.view_requirements["prev_actions"] == ViewRequirement("actions", -1, DISCRETE3)
    assert model.view_requirements["state_in_1"] == ViewRequirement("state_out_1", -1)
    names = {v.name for v in model.trainable_variables()}
    # The wrapped FC layers feed the LSTM; it has no value branch of its own.
    assert {"fc_1/kernel:0", "lstm/lstm_cell/kernel:0", "logits/kernel:0",
            "values/kernel:0"} <= names
    assert "value_out/kernel:0" not in names
    assert _by_layer(model)["lstm/lstm_cell/kernel:0"].shape == (8 + 3 + 1, 16)


def test_lstm_without_state_or_seq_lens_treats_rows_as_single_steps():
    model = _model(BOX3, config={"fcnet_hiddens": [8], "use_lstm": True, "lstm_cell_size": 4})
    obs = np.random.randn(5, 3).astype(np.float32)
    outputs, state = model({"obs": obs})
    zeros = [np.zeros((5, 4), np.float32)] * 2
    expected, expected_state = model({"obs": obs}, zeros, np.ones(5, np.int32))
    np.testing.assert_allclose(outputs, expected, rtol=1e-6)
    np.testing.assert_allclose(state[0], expected_state[0], rtol=1e-6)


def test_lstm_previous_action_and_reward_change_the_outputs():
    model = _model(BOX3, config=LSTM_CONFIG)
    batch = {"obs": np.zeros((1, 3), np.float32), "prev_actions": np.array([0]),
             "prev_rewards": np.array([0.0], np.float32)}
    base = model(batch)[0].numpy()
    assert not np.allclose(model({**batch, "prev_actions": np.array([2])})[0], base)
    assert not np.allclose(model({**batch, "prev_rewards": np.array([1.0], np.float32)})[0], base)
    with pytest.raises(ValueError, match="'prev_actions'"):
        model({"obs": batch["obs"], "prev_rewards": batch["prev_rewards"]})


def test_lstm_masks_the_logits_and_runs_in_a_compiled_function():
    model = _model(_masked_space(), config={**LSTM_CONFIG, "lstm_use_prev_action": False,
                                            "lstm_use_prev_reward": False})
    signature = {
        "obs": {"action_mask": TensorSpec([None, 3]), "observations": TensorSpec([None, 3])},
        "state_in_0": TensorSpec([None, 4]), "state_in_1": TensorSpec([None, 4]),
        "seq_lens": TensorSpec([None], tf.int32)}

    @tf.function(input_signature=[signature])
    def forward(batch):
        outputs, state = model.from_batch(batch)
        return outputs, state, model.value_function()

    mask = np.tile(np.array([[1, 1, 0]], np.float32), [6, 1])
    batch = {"obs": {"action_mask": mask, "observations": np.ones((6, 3), np.float32)},
             "state_in_0": np.zeros((2, 4), np.float32),
             "state_in_1": np.zeros((2, 4), np.float32), "seq_lens": np.array([3, 2], np.int32)}
    outputs, state, values = forward(batch)
    eager, eager_state = model.from_batch(batch)
    np.testing.assert_allclose(outputs, eager, rtol=1e-6)
    np.testing.assert_allclose(state[1], eager_state[1], rtol=1e-6)
    assert values.shape == [6] and (outputs.numpy()[:, 2] == np.finfo(np.float32).min).all()


# --------------------------------------------------------------------------- tf.function


def test_model_and_value_function_in_one_compiled_function_match_eager():
    space = gym.spaces.Dict({"pos": BOX3, "id": gym.spaces.Discrete(2)})
    model = _model(space, config={"fcnet_hiddens": [8], "vf_share_layers": False})
    signature = {"obs": {"pos": TensorSpec([None, 3]), "id": TensorSpec([None], tf.int64)}}

    @tf.function(input_signature=[signature])
    def step(batch):
        with tf.GradientTape() as tape:
            logits, _ = model(batch)
            values = model.value_function()
            loss = tf.reduce_sum(logits) + tf.reduce_sum(values)
        grads = tape.gradient(loss, model.trainable_variables())
        return logits, values, grads

    batch = {"obs": {"pos": np.random.randn(4, 3).astype(np.float32), "id": np.array([0, 1, 1, 0])}}
    logits, values, grads = step(batch)
    np.testing.assert_allclose(logits, model(batch)[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(values, model.value_function(), rtol=1e-5, atol=1e-7)
    assert all(g is not None for g in grads)


# --------------------------------------------------------------------------- custom models


def _keras_model(inputs=3, outputs=3, with_value=False):
    x = keras.Input((inputs,))
    h = keras.layers.Dense(5, activation="relu")(x)
    h = keras.layers.BatchNormalization()(h)
    logits = keras.layers.Dense(outputs)(h)
    if with_value:
        return keras.Model(x, [logits, keras.layers.Dense(1)(h)])
    return keras.Model(x, logits)


def test_a_custom_keras_model_has_all_its_weights_in_a_stable_order():
    keras_model = _keras_model()
    model = _model(BOX3, config={"custom_model": keras_model})
    expected = [w.value for w in keras_model.weights]
    assert [id(v) for v in model.variables()] == [id(v) for v in expected]
    assert [id(v) for v in model.variables()] == [id(v) for v in model.variables()]
    trainable = [w.value for w in keras_model.trainable_weights]
    assert [id(v) for v in model.trainable_variables()] == [id(v) for v in trainable]
    assert len(model.variables()) == 8 and len(model.trainable_variables()) == 6
    assert list(model.variables(as_dict=True).values()) == model.variables()
    x = np.random.randn(2, 3).astype(np.float32)
    np.testing.assert_allclose(model({"obs": x})[0], keras_model(x), rtol=1e-6)
    with pytest.raises(ValueError, match="no value branch"):
        model.value_function()


def test_a_custom_keras_model_with_a_value_output_gives_the_value_function():
    keras_model = _keras_model(with_value=True)
    model = _model(BOX3, config={"custom_model": keras_model})
    x = np.random.randn(2, 3).astype(np.float32)
    model({"obs": x})
    np.testing.assert_allclose(model.value_function(), keras_model(x)[1][:, 0], rtol=1e-6)


def test_a_custom_keras_model_is_masked_and_checked_against_num_outputs():
    keras_model = _keras_model(inputs=3, outputs=3)
    model = _model(_masked_space(), config={"custom_model": keras_model})
    logits, _ = model({"obs": {"action_mask": np.array([[1, 0, 1]], np.float32),
                               "observations": np.zeros((1, 3), np.float32)}})
    assert logits.numpy()[0, 1] == np.finfo(np.float32).min
    with pytest.raises(ValueError, match="returned 3 outputs per row; the model has "
                                         "num_outputs=4"):
        _model(BOX3, gym.spaces.Discrete(4), config={"custom_model": _keras_model()})


def test_our_networks_plug_in_as_custom_models():
    space = gym.spaces.Dict({"a": BOX3, "b": gym.spaces.Box(-1.0, 1.0, (2,))})
    encoder = EncodingNetwork({"a": TensorSpec([3]), "b": TensorSpec([2])},
                              preprocessing_combiner=keras.layers.Concatenate(axis=-1),
                              fc_layer_params=(3,))
    model = _model(space, config={"custom_model": encoder})
    obs = {"a": np.ones((2, 3), np.float32), "b": np.zeros((2, 2), np.float32)}
    np.testing.assert_allclose(model({"obs": obs})[0], encoder(obs)[0], rtol=1e-6)
    assert {id(v) for v in model.variables()} == {id(v) for v in encoder.variables}
    # A network over obs_flat, through as_network.
    flat = as_network(keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)]),
                      TensorSpec([5]))
    model = _model(space, config={"custom_model": flat})
    assert model({"obs": obs})[0].shape == [2, 3]


def test_a_recurrent_network_is_rejected_as_custom_model():
    class Rnn(LSTMNetwork):
        def __init__(self):
            super().__init__(TensorSpec([3]), input_fc_layer_params=(), lstm_size=(2,),
                             output_fc_layer_params=())

        def _head(self, features, training):
            return features

    with pytest.raises(ValueError, match="recurrent network"):
        _model(BOX3, config={"custom_model": Rnn()})


class _TwoHeads(TFModelV2):
    """A user model in RLlib's style, with its options as constructor arguments."""

    def __init__(self, obs_space, action_space, num_outputs, model_config, name, scale=1.0):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.scale = scale
        self.logits = keras.layers.Dense(num_outputs)
        self.value = keras.layers.Dense(1)
        self.logits.build((None, self.obs_flat_size))
        self.value.build((None, self.obs_flat_size))

    def forward(self, input_dict, state, seq_lens):
        self._value = self.value(input_dict["obs_flat"])
        return self.scale * self.logits(input_dict["obs_flat"]), state

    def value_function(self):
        return tf.reshape(self._value, [-1])


def test_a_registered_modelv2_subclass_gets_its_custom_model_config():
    ModelCatalog.register_custom_model("two_heads", _TwoHeads)
    model = _model(BOX3, config={"custom_model": "two_heads",
                                 "custom_model_config": {"scale": 0.0}})
    assert isinstance(model, _TwoHeads) and model.scale == 0.0
    logits, _ = model({"obs": np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(logits, np.zeros((2, 3)))
    assert model.value_function().shape == [2] and len(model.trainable_variables()) == 4
    with pytest.raises(ValueError, match="'missing' is not registered.*'two_heads'"):
        _model(BOX3, config={"custom_model": "missing"})


def test_a_custom_model_can_be_wrapped_in_an_lstm():
    model = _model(BOX3, config={"custom_model": _keras_model(outputs=6), "use_lstm": True,
                                 "lstm_cell_size": 4})
    assert isinstance(model, LSTMWrapper)
    assert _by_layer(model)["lstm/lstm_cell/kernel:0"].shape == (6, 16)
    assert model({"obs": np.zeros((2, 3), np.float32)})[0].shape == [2, 3]


def test_forward_results_are_checked():
    class Bad(ModelV2):
        def forward(self, input_dict, state, seq_lens):
            return tf.zeros([2])

    bad = Bad(BOX3, DISCRETE3, 3, {}, "bad")
    with pytest.raises(ValueError, match="must return \\(outputs, state\\)"):
        bad({"obs": np.zeros((2, 3), np.float32)})


# --------------------------------------------------------------------------- nested spaces

_leaves = st.one_of(
    st.integers(2, 4).map(gym.spaces.Discrete),
    st.lists(st.integers(2, 3), min_size=1, max_size=2).map(gym.spaces.MultiDiscrete),
    st.integers(1, 3).map(lambda n: gym.spaces.Box(-1.0, 1.0, (n,))))
_nested = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=2).map(gym.spaces.Tuple),
        st.dictionaries(st.sampled_from("xyz"), children, min_size=1, max_size=2).map(
            gym.spaces.Dict)),
    max_leaves=3)


def _feature_width(space):
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(space.nvec.sum())
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    subs = space.spaces.values() if isinstance(space, gym.spaces.Dict) else space.spaces
    return sum(_feature_width(s) for s in subs)


@settings(max_examples=10, deadline=None)
@given(obs_space=_nested, action_space=_nested)
def test_any_nested_spaces_give_outputs_that_parameterize_the_distribution(obs_space,
                                                                          action_space):
    config = {"fcnet_hiddens": [4]}
    dist_class, num_outputs = ModelCatalog.get_action_dist(action_space, config)
    model = ModelCatalog.get_model_v2(obs_space, action_space, num_outputs, config)
    assert model.obs_flat_size == _feature_width(obs_space)
    obs = tf.nest.map_structure(lambda *xs: np.stack(xs), *[obs_space.sample() for _ in range(3)])
    outputs, _ = model({"obs": obs})
    assert outputs.shape == [3, num_outputs] and model.value_function().shape == [3]
    dist = dist_class(outputs, model)
    assert dist.logp(dist.sample()).shape == [3]


def test_integer_spec_observations_one_hot_categories_but_not_images():
    spec = {"id": BoundedArraySpec((), np.int32, 0, 2),
            "pair": BoundedArraySpec((2,), np.int32, 0, 1),
            "pixels": BoundedArraySpec((2, 2), np.uint8, 0, 255)}
    model = _model(spec)
    obs = {"id": np.array([1]), "pair": np.array([[1, 0]]),
           "pixels": np.array([[[0, 255], [7, 9]]], np.uint8)}
    np.testing.assert_array_equal(model.flatten_observation(obs),
                                  [[0, 1, 0, 0, 1, 1, 0, 0, 255, 7, 9]])


def test_custom_models_of_other_kinds_are_named_errors():
    with pytest.raises(ValueError, match="ModelV2 instance: pass its class"):
        _model(BOX3, config={"custom_model": _model(BOX3)})
    with pytest.raises(ValueError, match="not a ModelV2 subclass"):
        _model(BOX3, config={"custom_model": keras.Model})
    with pytest.raises(ValueError, match="must be a ModelV2 subclass"):
        _model(BOX3, config={"custom_model": 3})
