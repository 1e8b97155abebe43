"""Tests for tfpolicy.learning.tf_policy_template: `build_tf_policy` and `with_updates`,
RLlib's callback signatures and order, mixin priority, and where learning outputs go."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.learning import (LEARNER_STATS_KEY, MODEL_DEFAULTS, Categorical, DynamicTFPolicy,
                               ModelCatalog, Policy, SampleBatch, build_tf_policy)
from tfpolicy.trajectories import time_step as ts

OBS = ArraySpec((3,), np.float32)
ACT = BoundedArraySpec((), np.int64, 0, 2)
CONFIG = {"model": {"fcnet_hiddens": [8]}}


def pg_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    return -tf.reduce_mean(logp * train_batch[SampleBatch.REWARDS])


def sgd(policy, config):
    return keras.optimizers.SGD(learning_rate=0.5)


PGPolicy = build_tf_policy("PGPolicy", loss_fn=pg_loss)
SGDPolicy = build_tf_policy("SGDPolicy", loss_fn=pg_loss, optimizer_fn=sgd)


def batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return SampleBatch({SampleBatch.OBS: rng.normal(size=(n, 3)).astype(np.float32),
                        SampleBatch.ACTIONS: rng.integers(0, 3, n),
                        SampleBatch.REWARDS: rng.normal(size=n).astype(np.float32)})


def trainable_weights(policy):
    return [v.numpy() for v in policy.model.trainable_variables()]


def twins(cls, config=CONFIG):
    first = cls(OBS, ACT, config)
    second = cls(OBS, ACT, config)
    second.set_weights(first.get_weights())
    return first, second


def test_built_class_is_named_and_importable_from_the_calling_module():
    assert PGPolicy.__name__ == PGPolicy.__qualname__ == "PGPolicy"
    assert PGPolicy.__module__ == __name__
    assert issubclass(PGPolicy, DynamicTFPolicy) and issubclass(PGPolicy, Policy)
    assert type(PGPolicy(OBS, ACT, CONFIG)).__name__ == "PGPolicy"


def test_with_updates_replaces_one_argument_and_keeps_the_rest():
    def stats(policy, train_batch):
        return {"rows": tf.cast(tf.shape(train_batch[SampleBatch.OBS])[0], tf.float32)}

    Updated = SGDPolicy.with_updates(name="Updated", stats_fn=stats)
    assert Updated.__name__ == "Updated" and Updated.__module__ == __name__
    first, second = twins(SGDPolicy)
    updated = Updated(OBS, ACT, CONFIG)
    updated.set_weights(first.get_weights())
    assert updated.learn_on_batch(batch())[LEARNER_STATS_KEY] == {"rows": 6.0}
    assert first.learn_on_batch(batch())[LEARNER_STATS_KEY] == {}
    # the optimizer_fn of SGDPolicy is kept: the same SGD step.
    for a, b in zip(trainable_weights(first), trainable_weights(updated)):
        np.testing.assert_array_equal(a, b)


def test_with_updates_keeps_the_name_by_default():
    assert PGPolicy.with_updates(stats_fn=lambda policy, b: {}).__name__ == "PGPolicy"


def test_with_updates_rejects_an_unknown_argument():
    with pytest.raises(TypeError, match=r"PGPolicy.with_updates: unknown arguments "
                       r"\['lossfn'\]; build_tf_policy takes \[.*'loss_fn'.*'name'"):
        PGPolicy.with_updates(lossfn=pg_loss)


def test_non_callable_arguments_are_refused():
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        build_tf_policy("Bad", loss_fn=None)
    with pytest.raises(TypeError, match="stats_fn must be callable"):
        build_tf_policy("Bad", loss_fn=pg_loss, stats_fn={"a": 1})
    with pytest.raises(TypeError, match="mixins must be classes"):
        build_tf_policy("Bad", loss_fn=pg_loss, mixins=[object()])


def test_construction_callbacks_run_in_rllib_order_with_rllib_arguments():
    calls = []

    def record(name):
        def callback(policy, observation_space, action_space, config):
            calls.append((name, observation_space, action_space, config["lr"],
                          config["model"]["fcnet_hiddens"], hasattr(policy, "model"),
                          hasattr(policy, "_optimizer")))
        return callback

    Recorded = PGPolicy.with_updates(
        validate_spaces=record("validate_spaces"), before_init=record("before_init"),
        before_loss_init=record("before_loss_init"), after_init=record("after_init"))
    Recorded(OBS, ACT, dict(CONFIG, lr=0.25))
    # The config is the merged one; the model exists from before_loss_init on,
    # the optimizer from after_init on.
    assert calls == [
        ("validate_spaces", OBS, ACT, 0.25, [8], False, False),
        ("before_init", OBS, ACT, 0.25, [8], False, False),
        ("before_loss_init", OBS, ACT, 0.25, [8], True, False),
        ("after_init", OBS, ACT, 0.25, [8], True, True),
    ]


def test_validate_spaces_error_stops_construction():
    def refuse(policy, observation_space, action_space, config):
        raise ValueError("only Discrete(2)")

    with pytest.raises(ValueError, match=r"only Discrete\(2\)"):
        PGPolicy.with_updates(validate_spaces=refuse)(OBS, ACT, CONFIG)


def test_get_default_config_is_merged_under_the_config():
    Defaults = PGPolicy.with_updates(
        get_default_config=lambda: {"lr": 0.5, "gamma": 0.9, "model": {"fcnet_hiddens": [4]}})
    policy = Defaults(OBS, ACT, {"gamma": 0.1, "model": {"fcnet_activation": "relu"}})
    assert (policy.config["lr"], policy.config["gamma"]) == (0.5, 0.1)
    assert policy.config["model"] == dict(MODEL_DEFAULTS, fcnet_hiddens=[4],
                                          fcnet_activation="relu")
    assert policy.get_weights()["fc_1/kernel:0"].shape == (3, 4)


class CountInit:
    """A mixin with its own `__init__`, as RLlib's are: the policy calls it."""

    def __init__(self, config):
        self.count_init = config["count_init"]


def call_count_init(policy, observation_space, action_space, config):
    CountInit.__init__(policy, config)


def test_mixin_with_its_own_init_is_initialised_by_before_loss_init():
    WithMixin = PGPolicy.with_updates(mixins=[CountInit], before_loss_init=call_count_init)
    policy = WithMixin(OBS, ACT, dict(CONFIG, count_init=3))
    assert policy.count_init == 3
    assert WithMixin.__mro__[1:3] == (CountInit, DynamicTFPolicy)


class ExtraOut:
    """Adds a column to every action computation, over the base's (and its callback's)."""

    def extra_action_out_fn(self):
        out = super().extra_action_out_fn()
        out["mixin_out"] = tf.ones_like(self.model.value_function()) * 2.0
        return out


class MixinStats:
    def stats_fn(self, train_batch):
        return {"from_mixin": tf.constant(1.0)}


def test_mixin_extra_action_out_fn_takes_priority_over_the_base():
    WithMixin = PGPolicy.with_updates(
        mixins=[ExtraOut],
        extra_action_out_fn=lambda policy: {"callback_out": policy.model.value_function() * 0})
    _, _, extra = WithMixin(OBS, ACT, CONFIG).compute_actions(np.zeros((4, 3), np.float32))
    np.testing.assert_array_equal(extra["mixin_out"], [2.0] * 4)
    np.testing.assert_array_equal(extra["callback_out"], [0.0] * 4)


def test_mixin_stats_fn_takes_priority_over_the_callback():
    WithMixin = PGPolicy.with_updates(mixins=[MixinStats],
                                      stats_fn=lambda policy, b: {"from_callback": 0.0})
    stats = WithMixin(OBS, ACT, CONFIG).learn_on_batch(batch())
    assert stats[LEARNER_STATS_KEY] == {"from_mixin": 1.0}


def test_first_mixin_has_the_highest_priority():
    class Second:
        def stats_fn(self, train_batch):
            return {"from_second": tf.constant(2.0)}

    WithMixins = PGPolicy.with_updates(mixins=[MixinStats, Second])
    assert WithMixins(OBS, ACT, CONFIG).learn_on_batch(batch())[LEARNER_STATS_KEY] == {
        "from_mixin": 1.0}


def test_optimizer_fn_gives_the_optimizer():
    # SGD at 0.5: the step is w - 0.5 * g, with g the gradient compute_gradients reports.
    probe, learner = twins(SGDPolicy)
    assert isinstance(learner._optimizer, keras.optimizers.SGD)
    grads, _ = probe.compute_gradients(batch())
    before = trainable_weights(learner)
    learner.learn_on_batch(batch())
    for w0, w1, g in zip(before, trainable_weights(learner), grads):
        expected = w0 if g is None else w0 - np.float32(0.5) * g
        np.testing.assert_allclose(w1, expected, rtol=1e-6, atol=1e-7)


def test_learning_outputs_go_where_rllib_puts_them():
    seen = {}

    def grad_stats(policy, train_batch, grads):
        seen["grads"] = len(grads)
        return {"grad_gnorm": tf.linalg.global_norm([g for g in grads if g is not None])}

    Fetching = SGDPolicy.with_updates(
        stats_fn=lambda policy, b: {"policy_loss": pg_loss(policy, policy.model,
                                                           policy.dist_class, b)},
        grad_stats_fn=grad_stats,
        extra_learn_fetches_fn=lambda policy: {"extra": tf.constant(3.0)})
    probe, learner = twins(Fetching)
    grads, info = probe.compute_gradients(batch())
    stats = learner.learn_on_batch(batch())
    # stats_fn under learner_stats; grad_stats_fn and extra_learn_fetches_fn at the top.
    assert set(info) == {LEARNER_STATS_KEY, "grad_gnorm", "extra"}
    assert set(stats[LEARNER_STATS_KEY]) == {"policy_loss"}
    assert stats["extra"] == 3.0
    expected_norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads if g is not None))
    assert stats["grad_gnorm"] == pytest.approx(expected_norm, rel=1e-5)
    assert info["grad_gnorm"] == pytest.approx(expected_norm, rel=1e-5)
    assert seen["grads"] == len(learner.model.trainable_variables())
    assert set(stats) == {LEARNER_STATS_KEY, "grad_gnorm", "extra", "custom_metrics",
                          "num_agent_steps_trained", "num_grad_updates_lifetime",
                          "diff_num_grad_updates_vs_sampler_policy"}


def test_compute_gradients_fn_and_apply_gradients_fn_replace_the_defaults():
    applied = []

    def doubled(policy, optimizer, loss):
        pairs = optimizer.compute_gradients(loss, policy.model.trainable_variables())
        return [(None if g is None else 2.0 * g, v) for g, v in pairs]

    def apply(policy, optimizer, grads_and_vars):
        applied.append((optimizer is policy._optimizer, len(grads_and_vars)))
        optimizer.apply_gradients([(g, v) for g, v in grads_and_vars if g is not None])

    Custom = SGDPolicy.with_updates(compute_gradients_fn=doubled, apply_gradients_fn=apply)
    probe, _ = twins(SGDPolicy)
    custom = Custom(OBS, ACT, CONFIG)
    custom.set_weights(probe.get_weights())
    plain, _ = probe.compute_gradients(batch())
    doubled_grads, _ = custom.compute_gradients(batch())
    for g, d in zip(plain, doubled_grads):
        assert (g is None) == (d is None)
        if g is not None:
            np.testing.assert_allclose(d, 2 * g, rtol=1e-6)
    before = trainable_weights(custom)
    custom.learn_on_batch(batch())
    assert applied == [(True, len(before))]
    for w0, w1, g in zip(before, trainable_weights(custom), plain):
        expected = w0 if g is None else w0 - np.float32(0.5) * 2 * g
        np.testing.assert_allclose(w1, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("requirement, expected", [(None, 1), (4, 4), (lambda p: 8, 8)])
def test_get_batch_divisibility_req(requirement, expected):
    Divisible = PGPolicy.with_updates(get_batch_divisibility_req=requirement)
    assert Divisible(OBS, ACT, CONFIG).batch_divisibility_req == expected


@pytest.mark.parametrize("argument", ["action_distribution_fn", "action_sampler_fn"])
def test_custom_acting_needs_make_model(argument):
    Custom = PGPolicy.with_updates(**{argument: lambda *args, **kwargs: None})
    with pytest.raises(ValueError, match="need make_model"):
        Custom(OBS, ACT, CONFIG)


def make_model(policy, observation_space, action_space, config):
    dist_class, outputs = ModelCatalog.get_action_dist(action_space, config["model"])
    return ModelCatalog.get_model_v2(observation_space, action_space, outputs, config["model"])


def test_make_model_with_action_distribution_fn():
    calls = []

    def uniform(policy, model, input_dict, state_batches, seq_lens, explore, timestep,
                is_training):
        calls.append((explore, is_training))
        logits, state = model(input_dict, state_batches, seq_lens)
        return tf.zeros_like(logits), Categorical, state

    Custom = PGPolicy.with_updates(make_model=make_model, action_distribution_fn=uniform)
    policy = Custom(OBS, ACT, CONFIG)
    _, _, extra = policy.compute_actions(np.ones((2, 3), np.float32), explore=True)
    np.testing.assert_array_equal(extra[SampleBatch.ACTION_DIST_INPUTS], np.zeros((2, 3)))
    np.testing.assert_allclose(extra[SampleBatch.ACTION_PROB], [1 / 3] * 2, rtol=1e-6)
    logp = policy.compute_log_likelihoods(np.array([0, 2]), np.ones((2, 3), np.float32))
    np.testing.assert_allclose(logp, [-np.log(3)] * 2, rtol=1e-6)
    assert calls == [(True, False), (False, False)]


def test_tf_agents_view_acts_with_action_distribution_fn():
    def prefer_two(policy, model, input_dict, state_batches, seq_lens, explore, timestep,
                   is_training):
        logits, state = model(input_dict, state_batches, seq_lens)
        return logits + tf.constant([0.0, 0.0, 50.0]), Categorical, state

    policy = PGPolicy.with_updates(make_model=make_model, action_distribution_fn=prefer_two)(
        OBS, ACT, CONFIG)
    obs = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    for explore in (False, True):
        step = policy.as_tf_policy(explore=explore).action(ts.restart(tf.constant(obs), 6))
        np.testing.assert_array_equal(step.action.numpy(), np.full(6, 2))


def test_make_model_with_action_sampler_fn():
    def always_two(policy, model, obs_batch, explore, timestep):
        rows = tf.shape(obs_batch)[0]
        return tf.fill([rows], tf.constant(2, tf.int64)), tf.fill([rows], -0.5)

    Custom = PGPolicy.with_updates(make_model=make_model, action_sampler_fn=always_two)
    actions, _, extra = Custom(OBS, ACT, CONFIG).compute_actions(np.zeros((3, 3), np.float32))
    np.testing.assert_array_equal(actions, [2, 2, 2])
    np.testing.assert_array_equal(extra[SampleBatch.ACTION_LOGP], [-0.5] * 3)
    np.testing.assert_allclose(extra[SampleBatch.ACTION_PROB], [np.exp(-0.5)] * 3, rtol=1e-6)
    assert SampleBatch.ACTION_DIST_INPUTS not in extra


def test_postprocess_fn_gets_rllib_arguments():
    calls = []

    def postprocess(policy, sample_batch, other_agent_batches=None, episode=None):
        calls.append((policy, other_agent_batches, episode))
        sample_batch["advantages"] = sample_batch[SampleBatch.REWARDS] * 2
        return sample_batch

    policy = PGPolicy.with_updates(postprocess_fn=postprocess)(OBS, ACT, CONFIG)
    out = policy.postprocess_trajectory(batch(), {"other": None}, "episode")
    np.testing.assert_array_equal(out["advantages"], batch()[SampleBatch.REWARDS] * 2)
    assert calls == [(policy, {"other": None}, "episode")]
    plain = batch()
    assert PGPolicy(OBS, ACT, CONFIG).postprocess_trajectory(plain) is plain
