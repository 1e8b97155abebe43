"""`tfpolicy.utils.common`: the TF-Agents helpers, by hand-computed values."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.networks import QNetwork
from tfpolicy.networks.network import as_network
from tfpolicy.utils import common

OBS = TensorSpec([4], tf.float32)
ACT = BoundedTensorSpec([], tf.int32, 0, 2)


def q_network(fc=(8,)):
    return QNetwork(OBS, ACT, fc_layer_params=fc)


def values(variables):
    return [v.numpy().copy() for v in variables]


# ---- create_variable -------------------------------------------------------------------------


def test_create_variable_defaults_to_an_int64_non_trainable_zero():
    v = common.create_variable("counter")
    assert isinstance(v, tf.Variable)
    assert v.dtype == tf.int64 and v.shape == () and int(v) == 0 and not v.trainable


def test_create_variable_broadcasts_the_value_to_the_shape_and_dtype():
    v = common.create_variable("w", initial_value=1.5, shape=(2, 3), dtype=tf.float32,
                               trainable=True)
    assert v.dtype == tf.float32 and v.trainable
    np.testing.assert_array_equal(v.numpy(), np.full((2, 3), 1.5, np.float32))


def test_create_variable_calls_a_callable_initializer_with_shape_and_dtype():
    calls = []

    def init(shape, dtype):
        calls.append((tuple(shape), dtype))
        return tf.fill(shape, tf.constant(7, dtype))

    v = common.create_variable("x", initial_value=99, shape=(2,), dtype=tf.int32, initializer=init)
    assert calls == [((2,), tf.int32)]
    np.testing.assert_array_equal(v.numpy(), [7, 7])


def test_create_variable_tf1_only_arguments_change_nothing_in_tf2():
    a = common.create_variable("same", 3, use_local_variable=True, unique_name=False)
    b = common.create_variable("same", 3, use_local_variable=False, unique_name=True)
    assert a is not b and a.name == b.name == "same:0"
    assert int(a) == int(b) == 3 and a.dtype == b.dtype == tf.int64


# ---- function --------------------------------------------------------------------------------


def test_function_traces_once_for_two_calls_with_the_same_signature():
    traces = []

    @common.function
    def double(x):
        traces.append(1)
        return 2 * x

    assert double(tf.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
    assert double(tf.constant([5.0, 6.0])).numpy().tolist() == [10.0, 12.0]
    assert len(traces) == 1 and double.experimental_get_tracing_count() == 1


def test_function_has_autograph_off_so_python_if_on_a_tensor_raises():
    @common.function
    def relu(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        relu(tf.constant(3.0))


def test_function_with_arguments_and_called_on_a_function_honours_them():
    def relu(x):
        if x > 0:
            return x
        return tf.zeros_like(x)

    decorated = common.function(autograph=True)(relu)
    assert float(decorated(tf.constant(-2.0))) == 0.0
    wrapped = common.function(relu, autograph=True, experimental_relax_shapes=False)
    assert float(wrapped(tf.constant(3.0))) == 3.0
    with pytest.raises(TypeError, match="not both"):
        common.function(relu, experimental_relax_shapes=True, reduce_retracing=True)


# ---- has_eager_been_enabled ------------------------------------------------------------------


def test_has_eager_been_enabled_is_true_eagerly_and_inside_a_function():
    inside = []

    @common.function
    def probe():
        inside.append(common.has_eager_been_enabled())
        return tf.constant(0)

    probe()
    assert common.has_eager_been_enabled() is True and inside == [True]


# ---- soft_variables_update -------------------------------------------------------------------


def test_soft_variables_update_with_tau_a_quarter_on_hand_values():
    sources = [tf.Variable([4.0, 8.0]), tf.Variable(2.0, trainable=False)]
    targets = [tf.Variable([0.0, 4.0]), tf.Variable(10.0, trainable=False)]
    assert common.soft_variables_update(sources, targets, tau=0.25) is None
    # 0.25 * 4 + 0.75 * 0 = 1; 0.25 * 8 + 0.75 * 4 = 5; 0.25 * 2 + 0.75 * 10 = 8
    assert targets[0].numpy().tolist() == [1.0, 5.0] and float(targets[1]) == 8.0


def test_soft_variables_update_gives_non_trainable_targets_their_own_tau():
    sources = [tf.Variable(4.0), tf.Variable(2.0, trainable=False)]
    targets = [tf.Variable(0.0), tf.Variable(10.0, trainable=False)]
    common.soft_variables_update(sources, targets, tau=0.25, tau_non_trainable=1.0)
    assert float(targets[0]) == 1.0 and float(targets[1]) == 2.0


def test_soft_variables_update_pairs_by_name_when_asked():
    sources = [tf.Variable(1.0, name="b"), tf.Variable(3.0, name="a")]
    targets = [tf.Variable(0.0, name="a"), tf.Variable(0.0, name="b")]
    common.soft_variables_update(sources, targets, sort_variables_by_name=True)
    assert [float(t) for t in targets] == [3.0, 1.0]


def test_soft_variables_update_copies_a_q_network_into_its_target():
    online, target = q_network(), q_network()
    common.soft_variables_update(online.variables, target.variables, tau=1.0)
    for a, b in zip(values(online.variables), values(target.variables)):
        np.testing.assert_array_equal(a, b)


def test_soft_variables_update_mismatched_pairs_name_both_sides():
    sources = [tf.Variable(tf.zeros([2]), name="src_kernel")]
    targets = [tf.Variable(tf.zeros([3]), name="dst_kernel")]
    with pytest.raises(ValueError, match=r"src_kernel.*float32\[2\].*dst_kernel.*float32\[3\]"):
        common.soft_variables_update(sources, targets, tau=0.5)
    with pytest.raises(ValueError, match="the source has 1 variables, the target 0"):
        common.soft_variables_update(sources, [], tau=0.5)


def test_soft_variables_update_rejects_tau_outside_zero_one():
    with pytest.raises(ValueError, match=r"`tau` must be in \[0, 1\], got 1.5"):
        common.soft_variables_update([tf.Variable(1.0)], [tf.Variable(0.0)], tau=1.5)


# ---- Checkpointer ----------------------------------------------------------------------------


def perturb(variables, amount):
    for v in variables:
        v.assign_add(tf.fill(v.shape, tf.constant(amount, v.dtype)))


def test_checkpointer_round_trips_a_q_network_and_the_global_step(tmp_path):
    net, step = q_network(), tf.Variable(7, dtype=tf.int64)
    saved = values(net.variables)
    ckpt = common.Checkpointer(tmp_path, network=net, global_step=step)
    assert not ckpt.checkpoint_exists
    path = ckpt.save(step)
    assert path == os.path.join(str(tmp_path), "ckpt-7") and ckpt.checkpoint_exists
    assert ckpt.manager.latest_checkpoint == path

    perturb(net.variables, 1.0)
    step.assign(100)
    assert not np.array_equal(values(net.variables)[0], saved[0])
    again = common.Checkpointer(tmp_path, network=net, global_step=step)
    again.initialize_or_restore().assert_existing_objects_matched()
    assert int(step) == 7
    for got, want in zip(values(net.variables), saved):
        np.testing.assert_array_equal(got, want)


def test_checkpointer_restores_into_a_fresh_network(tmp_path):
    net, step = q_network(), tf.Variable(3, dtype=tf.int64)
    common.Checkpointer(tmp_path, network=net, global_step=step).save(step)

    fresh, fresh_step = q_network(), tf.Variable(0, dtype=tf.int64)
    assert not np.array_equal(values(fresh.variables)[0], values(net.variables)[0])
    ckpt = common.Checkpointer(tmp_path, network=fresh, global_step=fresh_step)
    assert ckpt.checkpoint_exists
    ckpt.initialize_or_restore().assert_consumed()
    assert int(fresh_step) == 3
    for got, want in zip(values(fresh.variables), values(net.variables)):
        np.testing.assert_array_equal(got, want)


def test_checkpointer_saves_keras_variables_the_checkpoint_graph_misses(tmp_path):
    def adapted():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                                  keras.layers.Dropout(0.5, seed=1)])
        return as_network(model, OBS)

    net = adapted()
    seed_state = [v for v in net.variables if "seed" in v.name]
    assert len(seed_state) == 1  # tf.train.Checkpoint alone does not reach it
    seed_state[0].assign(tf.constant([11, 12], seed_state[0].dtype))
    common.Checkpointer(tmp_path, network=net).save(1)
    names = [name for name, _ in tf.train.list_variables(str(tmp_path / "ckpt-1"))]
    assert any(name.startswith("tfpolicy_untracked_variables/") for name in names)

    fresh = adapted()
    common.Checkpointer(tmp_path, network=fresh)
    for got, want in zip(values(fresh.variables), values(net.variables)):
        np.testing.assert_array_equal(got, want)
    assert [v for v in fresh.variables if "seed" in v.name][0].numpy().tolist() == [11, 12]


def test_checkpointer_keeps_only_the_newest_max_to_keep(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = common.Checkpointer(tmp_path, max_to_keep=2, global_step=step)
    for n in (1, 2, 3):
        step.assign(n)
        ckpt.save(step)
    assert [os.path.basename(p) for p in ckpt.manager.checkpoints] == ["ckpt-2", "ckpt-3"]
    assert not list(tmp_path.glob("ckpt-1.*"))
    assert len(list(tmp_path.glob("ckpt-3.*"))) == 2  # .index and one .data shard


class _Exploding(tf.__internal__.tracking.Trackable):
    """A tracked object whose serialization raises once `armed`."""

    def __init__(self):
        self.armed = False
        self.value = tf.Variable(1.0)

    def _serialize_to_tensors(self):
        if self.armed:
            raise RuntimeError("serialization failed")
        return {"value": self.value}

    def _restore_from_tensors(self, restored_tensors):
        return self.value.assign(restored_tensors["value"])


def _assert_previous_checkpoint_intact(tmp_path, ckpt, net, saved):
    latest = os.path.join(str(tmp_path), "ckpt-1")
    assert ckpt.manager.latest_checkpoint == latest
    assert tf.train.latest_checkpoint(str(tmp_path)) == latest
    assert [os.path.basename(p) for p in ckpt.manager.checkpoints] == ["ckpt-1"]
    assert not list(tmp_path.glob("ckpt-2*"))  # no partial files, no ckpt-2_temp directory
    fresh = q_network()
    common.Checkpointer(tmp_path, network=fresh).initialize_or_restore()
    for got, want in zip(values(fresh.variables), saved):
        np.testing.assert_array_equal(got, want)


def test_checkpointer_save_failing_while_serializing_keeps_the_previous_checkpoint(tmp_path):
    net = q_network()
    saved = values(net.variables)
    exploding = _Exploding()
    ckpt = common.Checkpointer(tmp_path, network=net, exploding=exploding)
    ckpt.save(1)
    perturb(net.variables, 1.0)
    exploding.armed = True
    with pytest.raises(RuntimeError, match="serialization failed"):
        ckpt.save(2)
    _assert_previous_checkpoint_intact(tmp_path, ckpt, net, saved)


def test_checkpointer_save_failing_after_writing_the_shards_keeps_the_previous_checkpoint(
        tmp_path, monkeypatch):
    net = q_network()
    saved = values(net.variables)
    ckpt = common.Checkpointer(tmp_path, network=net)
    ckpt.save(1)
    perturb(net.variables, 1.0)

    from tensorflow.python.checkpoint import functional_saver
    written = []

    def fail_merge(prefixes, destination, **kwargs):
        written.extend(tf.io.gfile.glob(os.path.join(str(tmp_path), "ckpt-2_temp", "*")))
        raise tf.errors.UnavailableError(None, None, "disk went away during the merge")

    monkeypatch.setattr(functional_saver.gen_io_ops, "merge_v2_checkpoints", fail_merge)
    with pytest.raises(tf.errors.UnavailableError, match="disk went away"):
        ckpt.save(2)
    assert written, "the shards were written to the temporary directory before the merge"
    _assert_previous_checkpoint_intact(tmp_path, ckpt, net, saved)


def test_checkpointer_rejects_a_ckpt_dir_that_is_a_file(tmp_path):
    path = tmp_path / "not_a_dir"
    path.write_text("x")
    with pytest.raises(FileExistsError, match=f"{path} exists and is not a directory"):
        common.Checkpointer(path, global_step=tf.Variable(0, dtype=tf.int64))


def test_checkpointer_restoring_a_different_shape_names_the_variable_and_both_shapes(tmp_path):
    common.Checkpointer(tmp_path, network=q_network(fc=(8,))).save(1)
    # The first mismatch found, breadth first: the Q-value layer's kernel [fc, 3 actions].
    with pytest.raises(ValueError, match=r"variable network/_q_values/_kernel has "
                                         r"shape \(8, 3\) in the checkpoint but shape \(5, 3\)"):
        common.Checkpointer(tmp_path, network=q_network(fc=(5,)))


def test_checkpointer_restoring_a_different_dtype_names_the_variable_and_both_dtypes(tmp_path):
    common.Checkpointer(tmp_path, global_step=tf.Variable(4, dtype=tf.int64)).save(4)
    with pytest.raises(ValueError, match="variable global_step has dtype int64 in the "
                                         "checkpoint but float32 here"):
        common.Checkpointer(tmp_path, global_step=tf.Variable(4.0))


# ---- losses and action scaling -----------------------------------------------------------------


def test_element_wise_squared_loss_is_the_squared_difference_unreduced():
    loss = common.element_wise_squared_loss(tf.constant([[1.0, -2.0], [0.5, 3.0]]),
                                            tf.constant([[0.0, 1.0], [0.5, 0.0]]))
    np.testing.assert_allclose(loss.numpy(), [[1.0, 9.0], [0.0, 9.0]])


def test_element_wise_huber_loss_is_quadratic_inside_one_and_linear_outside():
    # d = 0.5 -> 0.125; d = 1 -> 0.5 (both branches agree); d = -3 -> 2.5.
    loss = common.element_wise_huber_loss(tf.constant([0.5, 1.0, -3.0]), tf.zeros([3]))
    np.testing.assert_allclose(loss.numpy(), [0.125, 0.5, 2.5])


def test_scale_to_spec_maps_minus_one_and_one_onto_per_element_bounds():
    spec = BoundedTensorSpec([2], tf.float32, minimum=[-2.0, 0.0], maximum=[4.0, 1.0])
    # Centres [1, 0.5], half-widths [3, 0.5].
    scaled = common.scale_to_spec(tf.constant([[-1.0, 1.0], [0.0, 0.5]]), spec)
    np.testing.assert_allclose(scaled.numpy(), [[-2.0, 1.0], [1.0, 0.75]])


def test_scale_to_spec_needs_a_bounded_spec():
    with pytest.raises(TypeError, match="scale_to_spec needs a bounded spec"):
        common.scale_to_spec(tf.zeros([2]), tf.TensorSpec([2], tf.float32))
