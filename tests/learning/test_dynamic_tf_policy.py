"""Tests for tfpolicy.learning.dynamic_tf_policy: acting, the compiled learning step,
state and checkpoints, the TF-Agents view and exports, and a recurrent policy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import savers
from specs import ArraySpec, BoundedArraySpec
from tfpolicy.learning import (LEARNER_STATS_KEY, KLCoeffMixin, LearningRateSchedule, Policy,
                               SampleBatch, build_tf_policy)
from tfpolicy.learning.rnn_sequencing import reduce_mean_valid, sequence_mask
from tfpolicy.policies import PyTFEagerPolicy, TFPolicy
from tfpolicy.trajectories import time_step as ts

OBS = ArraySpec((3,), np.float32)
ACT = BoundedArraySpec((), np.int64, 0, 2)
CONFIG = {"model": {"fcnet_hiddens": [8]}}
LSTM_CONFIG = {"model": {"use_lstm": True, "lstm_cell_size": 8, "max_seq_len": 4,
                         "fcnet_hiddens": [8]}}


def pg_loss(policy, model, dist_class, train_batch):
    # Runs once per trace (or per call when eager): a Python-side trace counter.
    policy.loss_calls = getattr(policy, "loss_calls", 0) + 1
    policy.last_train_batch = dict(train_batch)
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    return -tf.reduce_mean(logp * train_batch[SampleBatch.REWARDS])


def sgd(policy, config):
    return keras.optimizers.SGD(learning_rate=1.0)


PG = build_tf_policy("PG", loss_fn=pg_loss)
SGDPG = build_tf_policy("SGDPG", loss_fn=pg_loss, optimizer_fn=sgd)
OtherPG = build_tf_policy("OtherPG", loss_fn=pg_loss)


def kl_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    return pg_loss(policy, model, dist_class, train_batch) + policy.kl_coeff * tf.reduce_mean(
        tf.square(logits))


def init_mixins(policy, observation_space, action_space, config):
    LearningRateSchedule.__init__(policy, config["lr"], config["lr_schedule"])
    KLCoeffMixin.__init__(policy, config)


ScheduledPG = build_tf_policy(
    "ScheduledPG", loss_fn=kl_loss, before_loss_init=init_mixins,
    mixins=[LearningRateSchedule, KLCoeffMixin],
    get_default_config=lambda: {"lr": 0.01, "lr_schedule": [[0, 0.1], [100, 0.001]],
                                "kl_coeff": 0.2, "kl_target": 0.01})


def make_batch(n=6, seed=0, **extra):
    rng = np.random.default_rng(seed)
    columns = {SampleBatch.OBS: rng.normal(size=(n, 3)).astype(np.float32),
               SampleBatch.ACTIONS: rng.integers(0, 3, n),
               SampleBatch.REWARDS: rng.normal(size=n).astype(np.float32)}
    columns.update(extra)
    return SampleBatch(columns)


def observations(n=5, seed=1):
    return (np.random.default_rng(seed).normal(size=(n, 3)) * 3).astype(np.float32)


def twin(policy, cls=None, config=CONFIG):
    other = (cls or type(policy))(OBS, ACT, config)
    other.set_weights(policy.get_weights())
    return other


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert list(wa) == list(wb)
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name], err_msg=name)


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def set_logits(policy, bias):
    """Zero kernels and output bias `bias`: every observation gets the logits `bias`."""
    weights = {name: np.zeros_like(value) for name, value in policy.get_weights().items()}
    weights["fc_out/bias:0"] = np.asarray(bias, np.float32)
    policy.set_weights(weights)


# ---- acting -------------------------------------------------------------------------------------


def test_compute_actions_shapes_and_extra_fetches():
    policy = PG(OBS, ACT, CONFIG)
    actions, state_out, extra = policy.compute_actions(observations(5), explore=True)
    assert actions.shape == (5,) and actions.dtype == np.int64
    assert np.all((actions >= 0) & (actions <= 2)) and state_out == []
    assert set(extra) == {SampleBatch.ACTION_DIST_INPUTS, SampleBatch.ACTION_LOGP,
                          SampleBatch.ACTION_PROB, SampleBatch.VF_PREDS}
    logits = extra[SampleBatch.ACTION_DIST_INPUTS]
    assert logits.shape == (5, 3) and extra[SampleBatch.VF_PREDS].shape == (5,)
    expected_logp = log_softmax(logits)[np.arange(5), actions]
    np.testing.assert_allclose(extra[SampleBatch.ACTION_LOGP], expected_logp, rtol=1e-5)
    np.testing.assert_allclose(extra[SampleBatch.ACTION_PROB], np.exp(expected_logp), rtol=1e-5)


def test_sampled_actions_follow_the_logits():
    policy = PG(OBS, ACT, CONFIG)
    set_logits(policy, [0.0, 30.0, 0.0])  # p(1) = 1 - 2e-13
    actions, _, extra = policy.compute_actions(observations(50), explore=True)
    np.testing.assert_array_equal(actions, np.ones(50))
    np.testing.assert_allclose(extra[SampleBatch.ACTION_PROB], np.ones(50), rtol=1e-6)


def test_greedy_actions_are_the_argmax_and_repeat():
    policy = PG(OBS, ACT, CONFIG)
    obs = observations(20)
    first, _, extra = policy.compute_actions(obs, explore=False)
    second, _, _ = policy.compute_actions(obs, explore=False)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, extra[SampleBatch.ACTION_DIST_INPUTS].argmax(axis=1))
    # RLlib's convention: a greedy action's logp is 0.
    np.testing.assert_array_equal(extra[SampleBatch.ACTION_LOGP], np.zeros(20))


def test_config_explore_false_makes_greedy_the_default():
    policy = PG(OBS, ACT, dict(CONFIG, explore=False))
    set_logits(policy, [0.0, 0.0, 0.1])
    np.testing.assert_array_equal(policy.compute_actions(observations(30))[0], np.full(30, 2))


def test_global_timestep_counts_rows():
    policy = PG(OBS, ACT, CONFIG)
    policy.compute_actions(observations(5))
    policy.compute_single_action(observations(1)[0])
    policy.compute_actions_from_input_dict({SampleBatch.OBS: observations(2)})
    assert policy.global_timestep == 8
    policy.on_global_var_update({"timestep": 100})
    policy.compute_actions(observations(3))
    assert policy.global_timestep == 103


def test_compute_single_action_equals_row_zero_of_compute_actions():
    policy = PG(OBS, ACT, CONFIG)
    obs = observations(4)
    actions, _, extra = policy.compute_actions(obs[:1], explore=False)
    action, state, single = policy.compute_single_action(obs[0], explore=False)
    assert np.shape(action) == () and action == actions[0] and state == []
    assert set(single) == set(extra)
    for key in extra:
        np.testing.assert_array_equal(single[key], extra[key][0], err_msg=key)


def test_compute_log_likelihoods_of_zero_weights_is_uniform():
    policy = PG(OBS, ACT, CONFIG)
    policy.set_weights({k: np.zeros_like(v) for k, v in policy.get_weights().items()})
    logp = policy.compute_log_likelihoods(np.array([0, 1, 2]), observations(3))
    np.testing.assert_allclose(logp, np.full(3, -np.log(3.0)), rtol=1e-6)


def test_compute_log_likelihoods_of_set_logits():
    policy = PG(OBS, ACT, CONFIG)
    set_logits(policy, [1.0, 2.0, 3.0])
    logp = policy.compute_log_likelihoods(np.array([0, 1, 2, 2]), observations(4))
    log_z = np.log(np.exp(1.0) + np.exp(2.0) + np.exp(3.0))
    np.testing.assert_allclose(logp, [1 - log_z, 2 - log_z, 3 - log_z, 3 - log_z], rtol=1e-6)


def test_observations_of_another_shape_are_refused():
    with pytest.raises(ValueError, match="obs"):
        PG(OBS, ACT, CONFIG).compute_actions(np.zeros((2, 4), np.float32))


# ---- learning -----------------------------------------------------------------------------------


def test_learn_on_batch_stats_and_grad_update_counts():
    policy = PG(OBS, ACT, CONFIG)
    stats = policy.learn_on_batch(make_batch(6))
    assert stats == {LEARNER_STATS_KEY: {}, "custom_metrics": {}, "num_agent_steps_trained": 6,
                     "num_grad_updates_lifetime": 1,
                     "diff_num_grad_updates_vs_sampler_policy": 0}
    batch = make_batch(4)
    batch.num_grad_updates = 0  # sampled before the first update
    stats = policy.learn_on_batch(batch)
    assert (stats["num_grad_updates_lifetime"],
            stats["diff_num_grad_updates_vs_sampler_policy"]) == (2, 1)
    assert policy.num_grad_updates == 2


def test_learning_step_is_traced_once_per_batch_signature():
    policy = PG(OBS, ACT, CONFIG)
    policy.learn_on_batch(make_batch(6))
    policy.learn_on_batch(make_batch(10, seed=1))  # another row count: same trace
    policy.learn_on_batch(make_batch(6, seed=2))
    assert policy.loss_calls == 1
    policy.learn_on_batch(make_batch(6, weights=np.ones(6, np.float32)))  # another column
    assert policy.loss_calls == 2
    batch = make_batch(6, weights=np.ones(6, np.float64))  # another dtype
    policy.learn_on_batch(batch)
    policy.learn_on_batch(batch)
    assert policy.loss_calls == 3
    policy.compute_gradients(batch)  # a step without the update: a function of its own
    assert policy.loss_calls == 4


def test_eager_tracing_false_runs_the_same_step_eagerly():
    compiled = PG(OBS, ACT, CONFIG)
    eager = twin(compiled, config=dict(CONFIG, eager_tracing=False))
    for seed in range(2):
        compiled.learn_on_batch(make_batch(6, seed=seed))
        eager.learn_on_batch(make_batch(6, seed=seed))
    assert (compiled.loss_calls, eager.loss_calls) == (1, 2)
    # The same operations; graph optimization may round a last bit differently.
    for name, value in compiled.get_weights().items():
        np.testing.assert_allclose(eager.get_weights()[name], value, rtol=1e-6, atol=1e-7)


def test_grad_clip_bounds_the_step():
    # SGD at lr 1 on a loss scaled by 1e6: the step is -clip * g / |g|, norm exactly 1e-3.
    batch = make_batch(6)
    batch[SampleBatch.REWARDS] = batch[SampleBatch.REWARDS] * 1e6
    clipped = SGDPG(OBS, ACT, dict(CONFIG, grad_clip=1e-3))
    unclipped = twin(clipped)
    before = [v.numpy() for v in clipped.model.trainable_variables()]
    grads, _ = unclipped.compute_gradients(batch)
    clipped.learn_on_batch(batch)
    after = [v.numpy() for v in clipped.model.trainable_variables()]
    step = np.sqrt(sum(np.sum(np.square(a - b)) for a, b in zip(after, before)))
    assert step == pytest.approx(1e-3, rel=1e-3)
    grad_norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads if g is not None))
    assert grad_norm > 1e3
    # The direction is the gradient's.
    for a, b, g in zip(after, before, grads):
        if g is not None:
            np.testing.assert_allclose(a - b, -1e-3 * g / grad_norm, atol=2e-7)


def test_missing_column_is_a_key_error_naming_it_and_the_columns_present():
    batch = make_batch(6)
    del batch[SampleBatch.REWARDS]
    batch[SampleBatch.INFOS] = np.array([{}] * 6)
    with pytest.raises(KeyError) as error:
        PG(OBS, ACT, CONFIG).learn_on_batch(batch)
    message = str(error.value)
    assert "'rewards'" in message and "['actions', 'obs']" in message


def test_a_loss_reading_infos_is_told_they_stay_out_of_the_compiled_step():
    def infos_loss(policy, model, dist_class, train_batch):
        return train_batch[SampleBatch.INFOS]

    batch = make_batch(6, infos=np.array([{}] * 6))
    with pytest.raises(KeyError, match="kept out of the compiled step"):
        PG.with_updates(loss_fn=infos_loss)(OBS, ACT, CONFIG).learn_on_batch(batch)


@pytest.mark.parametrize("column, value, expected", [
    (SampleBatch.OBS, np.zeros((6, 4), np.float32), r"'obs'.*shape.*\(3,\).*\(6, 4\)"),
    (SampleBatch.NEXT_OBS, np.zeros((6, 3), np.float64), r"'new_obs'.*float32.*float64"),
    (SampleBatch.ACTIONS, np.zeros(6, np.float32), r"'actions'.*int64.*float32"),
])
def test_column_that_does_not_match_its_space_is_a_value_error(column, value, expected):
    policy = PG(OBS, ACT, CONFIG)
    before = policy.get_weights()
    batch = make_batch(6)
    batch[column] = value
    with pytest.raises(ValueError, match=expected):
        policy.learn_on_batch(batch)
    assert policy.num_grad_updates == 0
    for name, value in policy.get_weights().items():
        np.testing.assert_array_equal(value, before[name])


def test_columns_of_different_lengths_are_a_value_error():
    batch = {SampleBatch.OBS: np.zeros((6, 3), np.float32),
             SampleBatch.ACTIONS: np.zeros(5, np.int64),
             SampleBatch.REWARDS: np.zeros(6, np.float32)}
    with pytest.raises(ValueError, match="actions"):
        PG(OBS, ACT, CONFIG).learn_on_batch(batch)


def test_compute_gradients_then_apply_gradients_equals_learn_on_batch():
    learner = PG(OBS, ACT, CONFIG)
    learner.learn_on_batch(make_batch(6, seed=3))  # Adam with non-zero moments
    split = twin(learner)
    split.set_state(learner.get_state())
    before = split.get_weights()
    grads, info = split.compute_gradients(make_batch(6))
    assert info == {LEARNER_STATS_KEY: {}}
    # The loss does not reach the value branch: its gradients are None.
    names = list(split.model.trainable_variables(as_dict=True))
    assert [name for name, g in zip(names, grads) if g is None] == [
        "value_out/kernel:0", "value_out/bias:0"]
    for g, v in zip(grads[:4], split.model.trainable_variables()):
        assert isinstance(g, np.ndarray) and g.shape == tuple(v.shape)
    for name, value in split.get_weights().items():  # nothing applied yet
        np.testing.assert_array_equal(value, before[name])
    split.apply_gradients(grads)
    learner.learn_on_batch(make_batch(6))
    assert_same_weights(split, learner)
    assert split.num_grad_updates == learner.num_grad_updates == 2


def test_learn_on_loaded_batch_learns_on_the_minibatch_at_offset():
    config = dict(CONFIG, sgd_minibatch_size=4)
    loaded = PG(OBS, ACT, config)
    direct = twin(loaded, config=config)
    batch = make_batch(10)
    assert loaded.load_batch_into_buffer(batch) == 10
    stats = loaded.learn_on_loaded_batch(offset=4)
    direct.learn_on_batch(batch[4:8])
    assert stats["num_agent_steps_trained"] == 4
    assert_same_weights(loaded, direct)


def test_a_loss_that_reaches_no_variable_is_refused():
    def constant_loss(policy, model, dist_class, train_batch):
        return tf.reduce_mean(train_batch[SampleBatch.REWARDS])

    policy = PG.with_updates(loss_fn=constant_loss)(OBS, ACT, CONFIG)
    with pytest.raises(ValueError, match="every gradient is None"):
        policy.learn_on_batch(make_batch(6))
    grads, _ = policy.compute_gradients(make_batch(6))
    assert grads == [None] * 6
    with pytest.raises(ValueError, match="every gradient is None"):
        policy.apply_gradients(grads)
    assert policy.num_grad_updates == 0


def test_apply_gradients_of_another_count_is_refused():
    policy = PG(OBS, ACT, CONFIG)
    with pytest.raises(ValueError, match="got 1 gradients for 6 trainable variables"):
        policy.apply_gradients([np.zeros((3, 8), np.float32)])


# ---- weights and state --------------------------------------------------------------------------


def test_get_weights_set_weights_round_trip():
    source, target = PG(OBS, ACT, CONFIG), PG(OBS, ACT, CONFIG)
    weights = source.get_weights()
    assert list(weights) == ["fc_1/kernel:0", "fc_1/bias:0", "fc_out/kernel:0", "fc_out/bias:0",
                             "value_out/kernel:0", "value_out/bias:0"]
    target.set_weights(weights)
    assert_same_weights(source, target)
    obs = observations(10)
    np.testing.assert_array_equal(source.compute_actions(obs, explore=False)[0],
                                  target.compute_actions(obs, explore=False)[0])


@pytest.mark.parametrize("change, expected", [
    (lambda w: w.pop("fc_out/bias:0"), r"missing \['fc_out/bias:0'\]"),
    (lambda w: w.update(extra=np.zeros(1)), r"unknown \['extra'\]"),
    (lambda w: w.update({"fc_1/bias:0": np.zeros(9)}),
     r"'fc_1/bias:0': expected shape \(8,\), got \(9,\)"),
])
def test_set_weights_that_do_not_fit_assign_nothing(change, expected):
    policy = PG(OBS, ACT, CONFIG)
    before = policy.get_weights()
    weights = {name: value + 1 for name, value in before.items()}
    change(weights)
    with pytest.raises(ValueError, match=expected):
        policy.set_weights(weights)
    for name, value in policy.get_weights().items():
        np.testing.assert_array_equal(value, before[name])


def test_get_state_set_state_continues_bit_identically():
    source = PG(OBS, ACT, CONFIG)
    source.learn_on_batch(make_batch(6, seed=1))
    source.learn_on_batch(make_batch(6, seed=2))
    source.compute_actions(observations(3))
    state = source.get_state()
    assert {"weights", "global_timestep", "num_grad_updates", "_optimizer_variables",
            "policy_spec"} <= set(state)
    restored = PG(OBS, ACT, CONFIG)
    restored.set_state(state)
    assert (restored.global_timestep, restored.num_grad_updates) == (3, 2)
    for _ in range(2):
        source.learn_on_batch(make_batch(6, seed=4))
        restored.learn_on_batch(make_batch(6, seed=4))
    assert_same_weights(source, restored)


def test_state_of_mixins_continues_bit_identically():
    source = ScheduledPG(OBS, ACT, CONFIG)
    source.learn_on_batch(make_batch(6, seed=1))
    source.on_global_var_update({"timestep": 50})
    source.update_kl(1.0)  # > 2 * kl_target: 0.2 * 1.5
    assert float(source.cur_lr) == pytest.approx(0.0505)  # 0.1 + 0.5 * (0.001 - 0.1)
    restored = ScheduledPG(OBS, ACT, CONFIG)
    restored.set_state(source.get_state())
    assert restored.kl_coeff_val == pytest.approx(0.3)
    assert float(restored.cur_lr) == float(source.cur_lr)
    source.learn_on_batch(make_batch(6, seed=2))
    restored.learn_on_batch(make_batch(6, seed=2))
    assert_same_weights(source, restored)


def test_set_state_with_optimizer_variables_that_do_not_fit_raises():
    state = PG(OBS, ACT, CONFIG).get_state()
    state["_optimizer_variables"] = state["_optimizer_variables"][:-1]
    with pytest.raises(ValueError, match="optimizer variables saved"):
        PG(OBS, ACT, CONFIG).set_state(state)


def test_checkpoint_round_trip_continues_bit_identically(tmp_path):
    source = ScheduledPG(OBS, ACT, CONFIG)
    source.learn_on_batch(make_batch(6, seed=1))
    source.on_global_var_update({"timestep": 20, "num_grad_updates": 1})
    source.update_kl(0.001)  # < 0.5 * kl_target: 0.2 * 0.5
    source.export_checkpoint(tmp_path / "ckpt")
    restored = Policy.from_checkpoint(tmp_path / "ckpt")
    assert type(restored) is ScheduledPG
    assert (restored.global_timestep, restored.num_grad_updates) == (20, 1)
    assert restored.kl_coeff_val == pytest.approx(0.1)
    assert restored.config == source.config
    source.learn_on_batch(make_batch(6, seed=2))
    restored.learn_on_batch(make_batch(6, seed=2))
    assert_same_weights(source, restored)
    assert type(ScheduledPG.from_checkpoint(tmp_path / "ckpt")) is ScheduledPG


def test_from_checkpoint_of_another_class_raises(tmp_path):
    PG(OBS, ACT, CONFIG).export_checkpoint(tmp_path / "ckpt")
    with pytest.raises(TypeError, match="PG.*OtherPG"):
        OtherPG.from_checkpoint(tmp_path / "ckpt")


# ---- the TF-Agents view and exports -------------------------------------------------------------


def test_as_tf_policy_shares_the_variables():
    policy = PG(OBS, ACT, CONFIG)
    view = policy.as_tf_policy()
    assert isinstance(view, TFPolicy)
    assert view is policy.tf_policy is policy.as_tf_policy(explore=False)
    assert view is not policy.as_tf_policy(explore=True)
    assert [id(v) for v in view.variables()] == [id(v) for v in policy.model.variables()]
    obs = observations(8)
    step = view.action(ts.restart(tf.constant(obs), batch_size=8))
    np.testing.assert_array_equal(step.action.numpy(),
                                  policy.compute_actions(obs, explore=False)[0])
    set_logits(policy, [0.0, 0.0, 1.0])
    step = view.action(ts.restart(tf.constant(obs), batch_size=8))
    np.testing.assert_array_equal(step.action.numpy(), np.full(8, 2))


def test_as_tf_policy_runs_in_py_tf_eager_policy():
    policy = PG(OBS, ACT, CONFIG)
    obs = observations(16)
    py_policy = PyTFEagerPolicy(policy.as_tf_policy(), batch_time_steps=False)
    np.testing.assert_array_equal(py_policy.action(ts.restart(obs, batch_size=16)).action,
                                  policy.compute_actions(obs, explore=False)[0])
    sampler = PyTFEagerPolicy(policy.as_tf_policy(explore=True), batch_time_steps=False)
    actions = sampler.action(ts.restart(obs, batch_size=16)).action
    assert actions.shape == (16,) and np.all((actions >= 0) & (actions <= 2))


def test_as_tf_policy_converts_to_lite_with_the_same_greedy_actions():
    pytest.importorskip("ai_edge_litert.interpreter")
    policy = PG(OBS, ACT, CONFIG)
    lite = savers.LitePyPolicy.from_policy(policy.as_tf_policy())
    obs = observations(8)
    greedy = policy.compute_actions(obs, explore=False)[0]
    np.testing.assert_array_equal([lite.action(ts.restart(x)).action for x in obs], greedy)


def test_update_tau_moves_one_view_towards_another():
    source, target = PG(OBS, ACT, CONFIG), PG(OBS, ACT, CONFIG)
    ws, wt = source.get_weights(), target.get_weights()
    target.as_tf_policy().update(source.as_tf_policy(), tau=0.25)
    for name, value in target.get_weights().items():
        np.testing.assert_allclose(value, 0.25 * ws[name] + 0.75 * wt[name], rtol=1e-6,
                                   atol=1e-7)


def test_export_model_serves_the_greedy_actions(tmp_path):
    policy = PG(OBS, ACT, CONFIG)
    policy.learn_on_batch(make_batch(6))
    policy.export_model(tmp_path / "model")
    served = savers.SavedModelPyTFEagerPolicy(tmp_path / "model")
    obs = observations(8)
    np.testing.assert_array_equal([served.action(ts.restart(x)).action for x in obs],
                                  policy.compute_actions(obs, explore=False)[0])


def test_export_model_refuses_onnx(tmp_path):
    with pytest.raises(TypeError, match="ONNX"):
        PG(OBS, ACT, CONFIG).export_model(tmp_path / "model", onnx=11)
    assert not (tmp_path / "model").exists()


# ---- a recurrent policy -------------------------------------------------------------------------


def initial_state(policy, batch):
    return [np.repeat(s[None], batch, axis=0) for s in policy.get_initial_state()]


def test_recurrent_policy_state():
    policy = PG(OBS, ACT, LSTM_CONFIG)
    assert policy.is_recurrent() and policy.num_state_tensors() == 2
    for s in policy.get_initial_state():
        np.testing.assert_array_equal(s, np.zeros(8, np.float32))


def test_recurrent_compute_actions_needs_the_state():
    with pytest.raises(ValueError, match="recurrent.*state_in_0"):
        PG(OBS, ACT, LSTM_CONFIG).compute_actions(observations(2))


def test_recurrent_compute_actions_returns_the_next_state():
    policy = PG(OBS, ACT, LSTM_CONFIG)
    obs = observations(3)
    _, state_out, extra = policy.compute_actions(obs, initial_state(policy, 3), explore=False)
    assert [s.shape for s in state_out] == [(3, 8), (3, 8)]
    assert np.abs(state_out[0]).max() > 0
    # The state carries information: the same observations give other logits after it.
    _, _, again = policy.compute_actions(obs, state_out, explore=False)
    assert not np.allclose(again[SampleBatch.ACTION_DIST_INPUTS],
                           extra[SampleBatch.ACTION_DIST_INPUTS])


def test_recurrent_compute_single_action_equals_row_zero():
    policy = PG(OBS, ACT, LSTM_CONFIG)
    obs = observations(2)
    actions, state_out, extra = policy.compute_actions(obs, initial_state(policy, 2),
                                                       explore=False)
    action, single_state, single = policy.compute_single_action(
        obs[0], policy.get_initial_state(), explore=False)
    assert action == actions[0]
    for s, batch in zip(single_state, state_out):
        np.testing.assert_allclose(s, batch[0], rtol=1e-6)
    np.testing.assert_allclose(single[SampleBatch.ACTION_DIST_INPUTS],
                               extra[SampleBatch.ACTION_DIST_INPUTS][0], rtol=1e-6)


def recurrent_batch():
    """Six rows: episode 0 has five (sequences of 4 and 1 at max_seq_len 4), episode 1 one."""
    state = np.arange(6, dtype=np.float32)[:, None] * np.ones((6, 8), np.float32)
    return SampleBatch({
        SampleBatch.OBS: np.arange(1, 19, dtype=np.float32).reshape(6, 3),
        SampleBatch.ACTIONS: np.array([0, 1, 2, 0, 1, 2]),
        SampleBatch.REWARDS: np.ones(6, np.float32),
        SampleBatch.EPS_ID: np.array([0, 0, 0, 0, 0, 1]),
        "state_in_0": state, "state_in_1": -state})


def test_recurrent_learn_on_batch_pads_sequences():
    policy = PG(OBS, ACT, dict(LSTM_CONFIG, eager_tracing=False))
    batch = recurrent_batch()
    policy.learn_on_batch(batch)
    seen = {key: np.asarray(value) for key, value in policy.last_train_batch.items()}
    np.testing.assert_array_equal(seen[SampleBatch.SEQ_LENS], [4, 1, 1])
    obs = np.zeros((12, 3), np.float32)  # three sequences padded to T = 4
    obs[[0, 1, 2, 3, 4, 8]] = batch[SampleBatch.OBS]
    np.testing.assert_array_equal(seen[SampleBatch.OBS], obs)
    np.testing.assert_array_equal(seen[SampleBatch.REWARDS],
                                  [1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0])
    # One state row per sequence: the state of its first row (rows 0, 4 and 5).
    np.testing.assert_array_equal(seen["state_in_0"][:, 0], [0, 4, 5])
    np.testing.assert_array_equal(seen["state_in_1"][:, 0], [0, -4, -5])
    assert SampleBatch.SEQ_LENS not in batch and len(batch) == 6  # the caller's batch is kept


def test_recurrent_loss_masking_is_the_loss_job():
    def stats(policy, train_batch):
        rewards = train_batch[SampleBatch.REWARDS]
        mask = sequence_mask(train_batch[SampleBatch.SEQ_LENS], tf.shape(rewards)[0] // 3)
        return {"unmasked": tf.reduce_mean(rewards), "masked": reduce_mean_valid(rewards, mask)}

    policy = PG.with_updates(stats_fn=stats)(OBS, ACT, LSTM_CONFIG)
    learner_stats = policy.learn_on_batch(recurrent_batch())[LEARNER_STATS_KEY]
    # Six ones among twelve padded rows.
    assert learner_stats == {"unmasked": 0.5, "masked": 1.0}


def test_recurrent_compiled_and_eager_steps_agree():
    compiled = PG(OBS, ACT, LSTM_CONFIG)
    eager = PG(OBS, ACT, dict(LSTM_CONFIG, eager_tracing=False))
    for a, b in zip(eager.model.variables(), compiled.model.variables()):
        a.assign(b)
    compiled.learn_on_batch(recurrent_batch())
    eager.learn_on_batch(recurrent_batch())
    for a, b in zip(eager.model.variables(), compiled.model.variables()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_recurrent_checkpoint_round_trip(tmp_path):
    policy = PG(OBS, ACT, LSTM_CONFIG)
    policy.learn_on_batch(recurrent_batch())
    policy.export_checkpoint(tmp_path / "ckpt")
    restored = Policy.from_checkpoint(tmp_path / "ckpt")
    assert_same_weights(policy, restored)
