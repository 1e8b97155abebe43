"""Tests for `tfpolicy.learning.mixins` on a stand-in policy base, values computed by hand."""

from typing import Any, Dict, List, Mapping

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfpolicy._variables import collect_variables
from tfpolicy.learning.mixins import (EntropyCoeffSchedule, KLCoeffMixin, LearningRateSchedule,
                                      TargetNetworkMixin, ValueNetworkMixin)


class TinyModel:
    """logits = obs @ K_pi, value = obs @ 1 + value_bias, plus an integer step counter."""

    def __init__(self, value_bias: float = 0.5):
        self.logits = keras.layers.Dense(2, kernel_initializer="zeros")
        self.value = keras.layers.Dense(
            1, kernel_initializer="ones",
            bias_initializer=keras.initializers.Constant(value_bias))
        self.logits.build((None, 3))
        self.value.build((None, 3))
        self.steps = tf.Variable(0, trainable=False)
        self.calls: List[Dict[str, Any]] = []
        self._value_out = None

    def __call__(self, input_dict, state=None, seq_lens=None):
        self.calls.append(input_dict)
        obs = tf.convert_to_tensor(input_dict["obs"], tf.float32)
        self._value_out = tf.reshape(self.value(obs), [-1])
        return self.logits(obs), list(state or [])

    def value_function(self):
        return self._value_out

    def variables(self) -> List[tf.Variable]:
        return [c.variable for c in collect_variables([self.logits, self.value, self.steps])]

    def trainable_variables(self) -> List[tf.Variable]:
        return [c.variable for c in collect_variables([self.logits, self.value, self.steps])
                if c.trainable]


class StandInBase:
    """The members the mixins rely on, as the learning `Policy` base provides them."""

    def __init__(self, config: Mapping[str, Any], model=None, optimizer=None):
        self.config = dict(config)
        self.model = model if model is not None else TinyModel()
        self._optimizer = optimizer
        self.global_timestep = 0
        self.num_grad_updates = 0
        self.received_states: List[Mapping[str, Any]] = []

    def get_weights(self) -> List[np.ndarray]:
        return [v.numpy() for v in self.model.variables()]

    def set_weights(self, weights) -> None:
        for variable, value in zip(self.model.variables(), weights):
            variable.assign(value)

    def get_state(self) -> Dict[str, Any]:
        return {"weights": self.get_weights(), "global_timestep": self.global_timestep}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.received_states.append(state)
        self.set_weights(state["weights"])
        self.global_timestep = int(state["global_timestep"])

    def on_global_var_update(self, global_vars: Mapping[str, Any]) -> None:
        self.global_timestep = int(global_vars["timestep"])

    def extra_action_out_fn(self) -> Dict[str, tf.Tensor]:
        return {}


class LRPolicy(LearningRateSchedule, StandInBase):
    def __init__(self, lr, lr_schedule, optimizer=None):
        StandInBase.__init__(self, {"lr": lr}, optimizer=optimizer)
        LearningRateSchedule.__init__(self, lr, lr_schedule)


class EntropyPolicy(EntropyCoeffSchedule, StandInBase):
    def __init__(self, coeff, schedule):
        StandInBase.__init__(self, {})
        EntropyCoeffSchedule.__init__(self, coeff, schedule)


class KLPolicy(KLCoeffMixin, StandInBase):
    def __init__(self, kl_coeff=0.2, kl_target=0.01):
        StandInBase.__init__(self, {"kl_coeff": kl_coeff, "kl_target": kl_target})
        KLCoeffMixin.__init__(self, self.config)


class ValuePolicy(ValueNetworkMixin, StandInBase):
    def __init__(self, config):
        StandInBase.__init__(self, config)
        ValueNetworkMixin.__init__(self, self.config)


class TargetPolicy(TargetNetworkMixin, StandInBase):
    def __init__(self, config=None, target_model=None):
        StandInBase.__init__(self, config or {})
        self.target_model = target_model if target_model is not None else TinyModel(-3.0)
        TargetNetworkMixin.__init__(self)


def _value(variable) -> float:
    return float(variable.numpy())


# ---- LearningRateSchedule ------------------------------------------------------------------


def test_lr_without_schedule_is_a_constant_float32_variable():
    policy = LRPolicy(5e-5, None)
    assert isinstance(policy.cur_lr, tf.Variable)
    assert policy.cur_lr.dtype == tf.float32 and not policy.cur_lr.trainable
    assert policy.cur_lr.name.startswith("lr")
    policy.on_global_var_update({"timestep": 1000})
    assert _value(policy.cur_lr) == pytest.approx(5e-5)
    assert policy.global_timestep == 1000


def test_lr_schedule_follows_the_timestep_and_ignores_lr():
    policy = LRPolicy(123.0, [[0, 0.1], [100, 0.01], [300, 0.001]])
    assert _value(policy.cur_lr) == pytest.approx(0.1)
    # 0.1 + (50 / 100) * (0.01 - 0.1) = 0.055
    policy.on_global_var_update({"timestep": 50})
    assert _value(policy.cur_lr) == pytest.approx(0.055)
    # 0.01 + (150 / 200) * (0.001 - 0.01) = 0.00325
    policy.on_global_var_update({"timestep": 250})
    assert _value(policy.cur_lr) == pytest.approx(0.00325)
    # At and after the last endpoint: the last value.
    policy.on_global_var_update({"timestep": 300})
    assert _value(policy.cur_lr) == pytest.approx(0.001)
    policy.on_global_var_update({"timestep": 10**7})
    assert _value(policy.cur_lr) == pytest.approx(0.001)
    assert policy.global_timestep == 10**7


def test_lr_schedule_starting_late_gives_the_last_value_before_its_first_endpoint():
    policy = LRPolicy(0.5, [[100, 1.0], [200, 2.0]])
    assert _value(policy.cur_lr) == 2.0
    policy.on_global_var_update({"timestep": 150})
    assert _value(policy.cur_lr) == 1.5


def test_lr_schedule_rejects_an_empty_schedule():
    with pytest.raises(ValueError, match="lr_schedule"):
        LRPolicy(0.1, [])


def test_lr_optimizer_follows_cur_lr_in_a_step_compiled_before_the_change():
    policy = LRPolicy(0.1, [[0, 0.1], [100, 0.01]])
    optimizer = policy.optimizer()
    policy._optimizer = optimizer
    assert isinstance(optimizer, keras.optimizers.Adam)
    weight = tf.Variable([1.0])
    optimizer.build([weight])

    @tf.function
    def step():
        optimizer.apply_gradients([(tf.constant([1.0]), weight)])

    # With a constant gradient, Adam's bias-corrected step is lr * g / (|g| + eps) ~ lr.
    step()
    first = 1.0 - float(weight.numpy()[0])
    policy.on_global_var_update({"timestep": 50})
    before = float(weight.numpy()[0])
    step()
    second = before - float(weight.numpy()[0])
    assert first == pytest.approx(0.1, rel=1e-4)
    assert second == pytest.approx(0.055, rel=1e-4)
    assert step.experimental_get_tracing_count() == 1
    assert optimizer.learning_rate is policy.cur_lr


def test_lr_update_assigns_the_rate_of_an_optimizer_built_with_a_float():
    optimizer = keras.optimizers.Adam(learning_rate=0.5)
    policy = LRPolicy(0.1, [[0, 0.1], [100, 0.01]], optimizer=optimizer)
    policy.on_global_var_update({"timestep": 50})
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.055)


def test_lr_update_leaves_an_optimizer_with_its_own_schedule_alone():
    keras_schedule = keras.optimizers.schedules.ExponentialDecay(0.3, 10, 0.5)
    optimizer = keras.optimizers.Adam(learning_rate=keras_schedule)
    policy = LRPolicy(0.1, [[0, 0.1], [100, 0.01]], optimizer=optimizer)
    policy.on_global_var_update({"timestep": 50})
    assert _value(policy.cur_lr) == pytest.approx(0.055)
    assert float(optimizer.learning_rate) == pytest.approx(0.3)


# ---- EntropyCoeffSchedule ------------------------------------------------------------------


def test_entropy_coeff_without_schedule_stays_constant():
    policy = EntropyPolicy(0.01, None)
    assert policy.entropy_coeff.name.startswith("entropy_coeff")
    assert policy.entropy_coeff.dtype == tf.float32 and not policy.entropy_coeff.trainable
    policy.on_global_var_update({"timestep": 500})
    assert _value(policy.entropy_coeff) == pytest.approx(0.01)


def test_entropy_coeff_list_schedule_is_piecewise_linear():
    policy = EntropyPolicy(99.0, [[0, 0.02], [100, 0.01]])
    assert _value(policy.entropy_coeff) == pytest.approx(0.02)
    policy.on_global_var_update({"timestep": 25})  # 0.02 - 0.25 * 0.01
    assert _value(policy.entropy_coeff) == pytest.approx(0.0175)
    policy.on_global_var_update({"timestep": 400})
    assert _value(policy.entropy_coeff) == pytest.approx(0.01)
    assert policy.global_timestep == 400


def test_entropy_coeff_legacy_number_decays_linearly_to_zero():
    policy = EntropyPolicy(0.01, 100)
    expected = {0: 0.01, 25: 0.0075, 99: 0.0001, 100: 0.0, 1000: 0.0}
    for t, value in expected.items():
        policy.on_global_var_update({"timestep": t})
        assert _value(policy.entropy_coeff) == pytest.approx(value, abs=1e-9), t


# ---- KLCoeffMixin --------------------------------------------------------------------------


def test_kl_coeff_attributes_follow_the_config():
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    assert policy.kl_coeff_val == 0.2 and isinstance(policy.kl_coeff_val, float)
    assert isinstance(policy.kl_coeff, tf.Variable) and policy.kl_coeff.dtype == tf.float32
    assert _value(policy.kl_coeff) == pytest.approx(0.2)
    assert policy.kl_target == 0.01


def test_update_kl_above_twice_the_target_multiplies_by_one_and_a_half():
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    assert policy.update_kl(0.025) == pytest.approx(0.3)
    assert _value(policy.kl_coeff) == pytest.approx(0.3)


def test_update_kl_below_half_the_target_halves():
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    assert policy.update_kl(np.float32(0.003)) == pytest.approx(0.1)
    assert _value(policy.kl_coeff) == pytest.approx(0.1)


def test_update_kl_near_the_target_keeps_the_coefficient():
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    assert policy.update_kl(tf.constant(0.01)) == 0.2
    # The thresholds are strict: exactly 2x and 0.5x the target change nothing.
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.5)
    assert policy.update_kl(1.0) == 0.2
    assert policy.update_kl(0.25) == 0.2
    assert _value(policy.kl_coeff) == pytest.approx(0.2)


def test_update_kl_compounds_over_calls():
    policy = KLPolicy(kl_coeff=1.0, kl_target=0.01)
    policy.update_kl(1.0)
    policy.update_kl(1.0)
    policy.update_kl(0.0)
    assert policy.kl_coeff_val == pytest.approx(1.0 * 1.5 * 1.5 * 0.5)


def test_kl_coeff_missing_config_key_is_named():
    class Bare(KLCoeffMixin, StandInBase):
        pass

    policy = Bare.__new__(Bare)
    with pytest.raises(KeyError, match="kl_target"):
        KLCoeffMixin.__init__(policy, {"kl_coeff": 0.2})


def test_kl_coeff_state_round_trip_leaves_the_callers_dict_alone():
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    policy.update_kl(1.0)
    state = policy.get_state()
    assert state["current_kl_coeff"] == pytest.approx(0.3)
    assert "weights" in state and "global_timestep" in state

    restored = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    snapshot = dict(state)
    restored.set_state(state)
    assert state == snapshot
    assert restored.kl_coeff_val == pytest.approx(0.3)
    assert _value(restored.kl_coeff) == pytest.approx(0.3)
    # The base receives the rest of the state, as after RLlib's pop.
    assert "current_kl_coeff" not in restored.received_states[-1]
    assert restored.received_states[-1]["global_timestep"] == state["global_timestep"]


def test_kl_coeff_state_without_the_key_resets_to_the_config_value():
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    policy.update_kl(1.0)
    policy.set_state({"weights": policy.get_weights(), "global_timestep": 7})
    assert policy.kl_coeff_val == 0.2
    assert _value(policy.kl_coeff) == pytest.approx(0.2)


def test_kl_coeff_failed_base_restore_keeps_the_coefficient():
    policy = KLPolicy(kl_coeff=0.2, kl_target=0.01)
    with pytest.raises(KeyError):
        policy.set_state({"current_kl_coeff": 5.0})  # no weights: the base fails
    assert policy.kl_coeff_val == 0.2


# ---- ValueNetworkMixin ---------------------------------------------------------------------


def test_value_without_gae_is_zero():
    policy = ValuePolicy({"use_gae": False})
    value = policy._value(obs=np.ones((1, 3), np.float32))
    assert value == 0.0 and value.dtype == np.float32
    assert policy.model.calls == []


def test_value_with_gae_runs_a_fresh_forward_pass():
    policy = ValuePolicy({"use_gae": True})
    policy.model({"obs": np.zeros((4, 3), np.float32)})
    # 1 + 2 + 3 + bias 0.5
    value = policy._value(obs=np.array([[1.0, 2.0, 3.0]], np.float32))
    assert value == pytest.approx(6.5)
    assert value.dtype == np.float32 and np.shape(value) == ()


def test_value_passes_state_and_seq_lens_to_the_model():
    policy = ValuePolicy({"vtrace": True})
    state = np.zeros((1, 4), np.float32)
    seq_lens = np.array([1], np.int32)
    value = policy._value(obs=np.array([[0.0, 0.0, 1.0]], np.float32), state_in_0=state,
                          seq_lens=seq_lens, prev_rewards=np.array([2.0], np.float32))
    assert value == pytest.approx(1.5)
    call = policy.model.calls[-1]
    assert set(call) == {"obs", "state_in_0", "seq_lens", "prev_rewards"}
    assert call["state_in_0"] is state and call["seq_lens"] is seq_lens


def test_value_rejects_more_than_one_row():
    policy = ValuePolicy({"use_gae": True})
    with pytest.raises(ValueError, match="one-row input dict.*2 values"):
        policy._value(obs=np.zeros((2, 3), np.float32))


def test_extra_action_out_adds_the_last_value_to_the_base_fetches():
    policy = ValuePolicy({"use_gae": False})
    policy.model({"obs": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], np.float32)})
    out = policy.extra_action_out_fn()
    assert list(out) == ["vf_preds"]
    np.testing.assert_allclose(out["vf_preds"].numpy(), [1.5, 0.5])


def test_extra_action_out_merges_the_next_class_fetches():
    class OtherMixin:
        def extra_action_out_fn(self):
            out = super().extra_action_out_fn()
            out["other"] = tf.constant([7])
            return out

    class Policy(ValueNetworkMixin, OtherMixin, StandInBase):
        def __init__(self):
            StandInBase.__init__(self, {})
            ValueNetworkMixin.__init__(self, self.config)

    policy = Policy()
    policy.model({"obs": np.zeros((1, 3), np.float32)})
    out = policy.extra_action_out_fn()
    assert sorted(out) == ["other", "vf_preds"]


# ---- TargetNetworkMixin --------------------------------------------------------------------


def _set_all(model: TinyModel, value: float) -> None:
    for variable in model.variables():
        variable.assign(tf.cast(tf.fill(variable.shape, value), variable.dtype))


def test_target_is_a_copy_of_the_model_after_init():
    model_values = [v.numpy() for v in TargetPolicy().model.variables()]
    policy = TargetPolicy()
    for source, target in zip(policy.q_func_vars, policy.target_q_func_vars):
        np.testing.assert_array_equal(source.numpy(), target.numpy())
    assert [v.shape for v in policy.q_func_vars] == [np.shape(v) for v in model_values]


def test_update_target_soft_update_by_hand():
    policy = TargetPolicy()
    _set_all(policy.model, 4.0)
    _set_all(policy.target_model, 2.0)
    policy.update_target(tau=0.5)
    for variable in policy.target_model.variables():
        # floats: 0.5 * 4 + 0.5 * 2 = 3; the integer counter cannot be blended and is kept.
        expected = 2 if variable.dtype.is_integer else 3.0
        np.testing.assert_array_equal(variable.numpy(), np.full(variable.shape, expected))


def test_update_target_defaults_to_the_config_tau():
    policy = TargetPolicy({"tau": 0.25})
    _set_all(policy.model, 4.0)
    _set_all(policy.target_model, 0.0)
    policy.update_target()
    kernel = policy.target_model.value.kernel.numpy()
    np.testing.assert_allclose(kernel, np.full((3, 1), 1.0))  # 0.25 * 4 + 0.75 * 0


def test_update_target_without_config_tau_copies():
    policy = TargetPolicy()
    _set_all(policy.model, 4.0)
    _set_all(policy.target_model, 0.0)
    policy.update_target()
    for variable in policy.target_model.variables():
        np.testing.assert_array_equal(variable.numpy(), np.full(variable.shape, 4))


def test_update_target_honours_tau_zero():
    policy = TargetPolicy({"tau": 1.0})
    _set_all(policy.model, 4.0)
    _set_all(policy.target_model, 1.0)
    policy.update_target(tau=0.0)
    for variable in policy.target_model.variables():
        np.testing.assert_array_equal(variable.numpy(), np.full(variable.shape, 1))


def test_update_target_rejects_tau_outside_unit_interval():
    policy = TargetPolicy()
    with pytest.raises(ValueError, match=r"tau must lie in \[0, 1\], got 1.5"):
        policy.update_target(tau=1.5)


def test_target_mismatched_models_raise_naming_the_pair():
    class Wide(TinyModel):
        def __init__(self):
            super().__init__()
            self.value = keras.layers.Dense(1)
            self.value.build((None, 5))

    with pytest.raises(ValueError, match=r"source .*\[3, 1\] vs target .*\[5, 1\]"):
        TargetPolicy(target_model=Wide())


def test_set_weights_resyncs_the_target():
    policy = TargetPolicy({"tau": 0.01})
    weights = [np.full(v.shape, 5, v.dtype.as_numpy_dtype) for v in policy.model.variables()]
    policy.set_weights(weights)
    for variable in policy.target_model.variables():
        np.testing.assert_array_equal(variable.numpy(), np.full(variable.shape, 5))


def test_target_state_round_trip_restores_a_lagging_target():
    policy = TargetPolicy({"tau": 0.5})
    _set_all(policy.model, 4.0)
    policy.update_target()  # target lags: floats at 0.5 * 4 + 0.5 * init
    state = policy.get_state()
    lagging = [v.numpy() for v in policy.target_model.variables()]
    assert len(state["_target_weights"]) == len(lagging)

    restored = TargetPolicy({"tau": 0.5})
    restored.set_state(state)
    for variable, expected in zip(restored.model.variables(), state["weights"]):
        np.testing.assert_array_equal(variable.numpy(), expected)
    for variable, expected in zip(restored.target_model.variables(), lagging):
        np.testing.assert_array_equal(variable.numpy(), expected)


def test_target_state_that_does_not_fit_changes_nothing():
    policy = TargetPolicy()
    before = [v.numpy() for v in policy.model.variables()]
    state = TargetPolicy().get_state()
    state["_target_weights"] = state["_target_weights"][:-1]
    with pytest.raises(ValueError, match="_target_weights.*the state has 4 arrays, the "
                                         "target model 5 variables"):
        policy.set_state(state)
    for variable, expected in zip(policy.model.variables(), before):
        np.testing.assert_array_equal(variable.numpy(), expected)


# ---- composition ---------------------------------------------------------------------------


def test_mixins_compose_through_super():
    class Policy(KLCoeffMixin, EntropyCoeffSchedule, LearningRateSchedule, ValueNetworkMixin,
                 StandInBase):
        def __init__(self):
            StandInBase.__init__(self, {"kl_coeff": 0.2, "kl_target": 0.01, "use_gae": True})
            LearningRateSchedule.__init__(self, 0.1, [[0, 0.1], [100, 0.0]])
            EntropyCoeffSchedule.__init__(self, 0.01, 100)
            KLCoeffMixin.__init__(self, self.config)
            ValueNetworkMixin.__init__(self, self.config)

    policy = Policy()
    policy.on_global_var_update({"timestep": 50})
    assert policy.global_timestep == 50
    assert _value(policy.cur_lr) == pytest.approx(0.05)
    assert _value(policy.entropy_coeff) == pytest.approx(0.005)
    assert policy.get_state()["current_kl_coeff"] == 0.2
