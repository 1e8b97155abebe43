"""A TF-Agents style training loop with `common` helpers, after changing only the imports.

Import mapping exercised:

    tf_agents.utils.common                -> tfpolicy.utils.common
    tf_agents.networks.q_network          -> tfpolicy.networks.q_network
    tf_agents.policies.q_policy           -> tfpolicy.policies.q_policy
    tf_agents.policies.greedy_policy      -> tfpolicy.policies.greedy_policy
    tf_agents.specs.tensor_spec           -> specs.tensor_spec
    tf_agents.trajectories.time_step      -> tfpolicy.trajectories.time_step

The pieces of a DQN-like setup a TF-Agents user writes by hand: a global step
from `common.create_variable('train_step')`, a train step compiled with
`common.function`, a target network moved with `common.soft_variables_update`,
and `common.Checkpointer` to save and restore the policy and the step.
"""

import os

import numpy as np
import tensorflow as tf

from specs import tensor_spec
from tfpolicy.networks import q_network
from tfpolicy.policies import greedy_policy
from tfpolicy.policies import q_policy
from tfpolicy.trajectories import time_step as ts
from tfpolicy.utils import common

OBSERVATION_SPEC = tensor_spec.TensorSpec([2], tf.float32)
ACTION_SPEC = tensor_spec.BoundedTensorSpec([], tf.int32, 0, 2)
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)

# A tiny regression problem: Q(s, a) should reach these targets.
OBSERVATIONS = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]])
ACTIONS = tf.constant([0, 1, 2, 1])
TARGETS = tf.constant([1.0, -1.0, 0.5, 2.0])


def make_q_network(name="QNetwork"):
    return q_network.QNetwork(OBSERVATION_SPEC, ACTION_SPEC, fc_layer_params=(16,), name=name)


def weights_of(net):
    return [v.numpy().copy() for v in net.variables]


# ---- global step and has_eager_been_enabled ---------------------------------------------------


def test_create_variable_train_step_is_an_int64_scalar_at_zero():
    global_step = common.create_variable("train_step")

    assert global_step.dtype == tf.int64
    assert global_step.shape == []
    assert int(global_step) == 0
    assert not global_step.trainable
    global_step.assign_add(1)
    assert int(global_step) == 1


def test_create_variable_with_initial_value_and_dtype():
    epsilon = common.create_variable("epsilon", initial_value=0.5, dtype=tf.float32)

    assert epsilon.dtype == tf.float32
    assert float(epsilon) == 0.5


def test_has_eager_been_enabled_in_tf2():
    assert common.has_eager_been_enabled()

    @common.function
    def inside_function():
        return tf.constant(common.has_eager_been_enabled())

    assert bool(inside_function())


# ---- a train step compiled with common.function -----------------------------------------------


def test_common_function_train_step_reduces_the_loss_and_counts_steps():
    net = make_q_network()
    net.create_variables()
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.05)
    global_step = common.create_variable("train_step")

    def train_step(observations, actions, targets):
        with tf.GradientTape() as tape:
            q_values, _ = net(observations, training=True)
            chosen = tf.gather(q_values, actions, axis=1, batch_dims=1)
            loss = tf.reduce_mean(tf.square(chosen - targets))
        gradients = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(gradients, net.trainable_variables))
        global_step.assign_add(1)
        return loss

    train_step = common.function(train_step)

    losses = [float(train_step(OBSERVATIONS, ACTIONS, TARGETS)) for _ in range(40)]

    assert int(global_step) == 40
    assert losses[-1] < 0.25 * losses[0], (losses[0], losses[-1])
    assert losses[-1] < losses[len(losses) // 2]


def test_common_function_as_decorator_with_arguments():
    calls = []

    @common.function(autograph=True)
    def clipped_sum(x):
        calls.append(1)  # runs only while tracing
        total = tf.constant(0.0)
        for value in x:  # autograph turns this into a loop over the tensor
            if value > 0:
                total += value
        return total

    assert float(clipped_sum(tf.constant([1.0, -2.0, 3.0]))) == 4.0
    assert float(clipped_sum(tf.constant([5.0, -1.0, 1.0]))) == 6.0
    assert len(calls) == 1


# ---- a target network -------------------------------------------------------------------------


def test_soft_variables_update_moves_the_target_towards_the_source():
    source = make_q_network()
    source.create_variables()
    target = source.copy(name="TargetQNetwork")
    target.create_variables()
    source_before, target_before = weights_of(source), weights_of(target)

    common.soft_variables_update(source.variables, target.variables, tau=0.25)

    for s, t_old, t_new in zip(source_before, target_before, weights_of(target)):
        np.testing.assert_allclose(t_new, 0.25 * s + 0.75 * t_old, rtol=1e-5, atol=1e-6)
    # The source is not touched.
    for before, after in zip(source_before, weights_of(source)):
        np.testing.assert_array_equal(before, after)


def test_soft_variables_update_with_tau_one_copies_the_source():
    source = make_q_network()
    source.create_variables()
    target = source.copy(name="TargetQNetwork")
    target.create_variables()

    common.soft_variables_update(source.variables, target.variables, tau=1.0)

    for s, t in zip(weights_of(source), weights_of(target)):
        np.testing.assert_array_equal(s, t)
    q_source, _ = source(OBSERVATIONS)
    q_target, _ = target(OBSERVATIONS)
    np.testing.assert_array_equal(q_source.numpy(), q_target.numpy())


def test_soft_variables_update_inside_common_function():
    source = make_q_network()
    source.create_variables()
    target = source.copy(name="TargetQNetwork")
    target.create_variables()
    source_before, target_before = weights_of(source), weights_of(target)

    update_target = common.function(
        lambda: common.soft_variables_update(source.variables, target.variables, tau=0.5))
    update_target()

    for s, t_old, t_new in zip(source_before, target_before, weights_of(target)):
        np.testing.assert_allclose(t_new, 0.5 * s + 0.5 * t_old, rtol=1e-5, atol=1e-6)


# ---- Checkpointer -----------------------------------------------------------------------------


def greedy_actions(policy):
    return policy.action(ts.restart(OBSERVATIONS, batch_size=4)).action.numpy().tolist()


def test_checkpointer_restores_policy_weights_and_global_step(tmp_path):
    ckpt_dir = str(tmp_path / "checkpoints")
    net = make_q_network()
    policy = greedy_policy.GreedyPolicy(q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC,
                                                         q_network=net))
    global_step = common.create_variable("train_step")
    checkpointer = common.Checkpointer(ckpt_dir=ckpt_dir, max_to_keep=1, policy=policy,
                                       global_step=global_step)
    global_step.assign(7)
    saved_weights, saved_actions = weights_of(net), greedy_actions(policy)

    checkpointer.save(global_step=global_step)

    # Training goes on after the save: weights and step change.
    for variable in net.variables:
        variable.assign(tf.zeros_like(variable))
    global_step.assign(100)

    # A fresh process: new network, policy and step, restored from the directory.
    new_net = make_q_network()
    new_policy = greedy_policy.GreedyPolicy(q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC,
                                                             q_network=new_net))
    new_global_step = common.create_variable("train_step")
    new_checkpointer = common.Checkpointer(ckpt_dir=ckpt_dir, max_to_keep=1, policy=new_policy,
                                           global_step=new_global_step)
    new_checkpointer.initialize_or_restore()

    assert int(new_global_step) == 7
    for saved, restored in zip(saved_weights, weights_of(new_net)):
        np.testing.assert_array_equal(saved, restored)
    assert greedy_actions(new_policy) == saved_actions


def test_a_new_checkpointer_over_the_same_objects_rolls_them_back(tmp_path):
    # As in TF-Agents, the restore happens when the Checkpointer is built;
    # `initialize_or_restore()` returns that restore's status (a no-op in eager mode).
    ckpt_dir = str(tmp_path / "checkpoints")
    net = make_q_network()
    policy = q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net)
    global_step = common.create_variable("train_step")
    checkpointer = common.Checkpointer(ckpt_dir=ckpt_dir, max_to_keep=1, policy=policy,
                                       global_step=global_step)
    global_step.assign(3)
    saved_weights = weights_of(net)
    checkpointer.save(global_step=global_step)

    for variable in net.variables:
        variable.assign(variable + 1.0)
    global_step.assign(4)
    common.Checkpointer(ckpt_dir=ckpt_dir, max_to_keep=1, policy=policy,
                        global_step=global_step).initialize_or_restore()

    assert int(global_step) == 3
    for saved, restored in zip(saved_weights, weights_of(net)):
        np.testing.assert_array_equal(saved, restored)


def test_checkpointer_max_to_keep_one_keeps_only_the_latest(tmp_path):
    ckpt_dir = str(tmp_path / "checkpoints")
    policy = q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=make_q_network())
    global_step = common.create_variable("train_step")
    checkpointer = common.Checkpointer(ckpt_dir=ckpt_dir, max_to_keep=1, policy=policy,
                                       global_step=global_step)

    for step in (1, 2, 3):
        global_step.assign(step)
        checkpointer.save(global_step=global_step)

    index_files = sorted(f for f in os.listdir(ckpt_dir) if f.endswith(".index"))
    assert index_files == ["ckpt-3.index"]
    assert tf.train.latest_checkpoint(ckpt_dir).endswith("ckpt-3")


def test_checkpointer_over_an_empty_directory_initializes(tmp_path):
    ckpt_dir = str(tmp_path / "fresh")
    net = make_q_network()
    policy = q_policy.QPolicy(TIME_STEP_SPEC, ACTION_SPEC, q_network=net)
    global_step = common.create_variable("train_step")
    weights = weights_of(net)

    checkpointer = common.Checkpointer(ckpt_dir=ckpt_dir, max_to_keep=1, policy=policy,
                                       global_step=global_step)
    checkpointer.initialize_or_restore()

    assert not checkpointer.checkpoint_exists
    assert int(global_step) == 0
    for before, after in zip(weights, weights_of(net)):
        np.testing.assert_array_equal(before, after)
