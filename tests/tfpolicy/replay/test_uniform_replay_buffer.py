"""Tests for tfpolicy.replay.uniform_replay_buffer: ring storage, sampling and datasets."""

import collections

import hypothesis.strategies as st
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given

import tfpolicy.replay as replay
from specs.array_spec import ArraySpec
from tfpolicy.replay import BufferInfo, UniformReplayBuffer
from tfpolicy.trajectories.trajectory import Trajectory

_SCALAR = tf.TensorSpec((), tf.int64)


def _filled(num_adds, capacity, batch_size=2):
    """A buffer of int64 scalars where row b, frame id t holds 100 * b + t."""
    buffer = UniformReplayBuffer(_SCALAR, capacity=capacity, batch_size=batch_size)
    for t in range(num_adds):
        buffer.add_batch(np.array([100 * b + t for b in range(batch_size)], np.int64))
    return buffer


def _trajectory_spec():
    return Trajectory(
        step_type=tf.TensorSpec((), tf.int32),
        observation={"pos": tf.TensorSpec((2,), tf.float32), "id": tf.TensorSpec((), tf.int32)},
        action=tf.TensorSpec((), tf.int64),
        policy_info=(),
        next_step_type=tf.TensorSpec((), tf.int32),
        reward=tf.TensorSpec((), tf.float32),
        discount=tf.TensorSpec((), tf.float32))


def _trajectory(t, batch_size=2):
    b = np.arange(batch_size)
    return Trajectory(
        step_type=np.full(batch_size, 1, np.int32),
        observation={"pos": np.stack([b + t, b - t], axis=1).astype(np.float32),
                     "id": (10 * b + t).astype(np.int32)},
        action=(b * t).astype(np.int64),
        policy_info=(),
        next_step_type=np.full(batch_size, 2, np.int32),
        reward=np.full(batch_size, 0.5 * t, np.float32),
        discount=np.ones(batch_size, np.float32))


def test_package_exports_public_names():
    assert set(replay.__all__) == {"tf_uniform_replay_buffer", "uniform_replay_buffer",
                                   "BufferInfo", "TFUniformReplayBuffer", "UniformReplayBuffer"}
    for name in replay.__all__:
        assert hasattr(replay, name)


def test_gather_all_after_ring_overwrite_is_oldest_first():
    buffer = _filled(num_adds=5, capacity=3)
    # Frames 0 and 1 were overwritten by 3 and 4.
    np.testing.assert_array_equal(buffer.gather_all(), [[2, 3, 4], [102, 103, 104]])


def test_gather_all_before_full_has_only_added_frames():
    buffer = _filled(num_adds=2, capacity=3)
    np.testing.assert_array_equal(buffer.gather_all(), [[0, 1], [100, 101]])
    assert _filled(0, 3).gather_all().shape == (2, 0)


@given(num_adds=st.integers(0, 9), capacity=st.integers(1, 4))
def test_gather_all_holds_last_capacity_frames(num_adds, capacity):
    buffer = _filled(num_adds, capacity, batch_size=1)
    expected = list(range(max(0, num_adds - capacity), num_adds))
    assert buffer.gather_all().numpy().tolist() == [expected]
    assert int(buffer.num_frames()) == len(expected)


def test_num_frames_counts_all_rows_up_to_capacity():
    buffer = UniformReplayBuffer(_SCALAR, capacity=3, batch_size=2)
    counts = [int(buffer.num_frames())]
    for t in range(5):
        buffer.add_batch(np.array([t, t], np.int64))
        counts.append(int(buffer.num_frames()))
    assert counts == [0, 2, 4, 6, 6, 6]
    assert buffer.num_frames().dtype == tf.int64


def test_windows_never_cross_the_write_position():
    tf.random.set_seed(1)
    buffer = _filled(num_adds=7, capacity=4)  # stored ids 3..6, ring slots hold 4,5,6,3
    items, info = buffer.get_next(sample_batch_size=500, num_steps=3)
    items, ids = items.numpy(), info.ids.numpy()
    assert items.shape == (500, 3) and ids.shape == (500, 3)
    rows, frames = items // 100, items % 100
    assert (rows == rows[:, :1]).all()  # one row per window
    np.testing.assert_array_equal(frames, ids)  # values are the frame ids
    np.testing.assert_array_equal(np.diff(frames, axis=1), 1)  # consecutive, no wrap-around
    assert frames.min() == 3 and frames.max() == 6
    assert set(frames[:, 0].tolist()) == {3, 4}


def test_sampling_is_uniform_over_rows_and_window_starts():
    tf.random.set_seed(7)
    buffer = _filled(num_adds=6, capacity=4)  # per row ids 2..5 -> 3 windows of 2 steps
    items, info = buffer.get_next(sample_batch_size=6000, num_steps=2)
    starts = items.numpy()[:, 0]
    values, counts = np.unique(starts, return_counts=True)
    assert values.tolist() == [2, 3, 4, 102, 103, 104]
    np.testing.assert_allclose(counts / 6000, 1 / 6, atol=0.025)
    np.testing.assert_allclose(info.probabilities, np.full(6000, 1 / 6, np.float32))


def test_get_next_without_sample_batch_size_or_num_steps_drops_those_dims():
    buffer = _filled(num_adds=2, capacity=3)
    item, info = buffer.get_next()
    assert item.shape == () and info.ids.shape == () and info.probabilities.shape == ()
    assert int(item) % 100 == int(info.ids)
    np.testing.assert_allclose(info.probabilities, 1 / 4)
    window, info = buffer.get_next(num_steps=2)
    assert window.shape == (2,) and info.ids.numpy().tolist() == [0, 1]
    items, info = buffer.get_next(sample_batch_size=5)
    assert items.shape == (5,) and info.ids.shape == (5,) and info.probabilities.shape == (5,)
    assert isinstance(info, BufferInfo)


def test_get_next_raises_when_fewer_frames_than_num_steps():
    with pytest.raises(ValueError, match="num_steps=3.*only 2 frame"):
        _filled(num_adds=2, capacity=5).get_next(sample_batch_size=4, num_steps=3)
    with pytest.raises(ValueError, match="only 0 frame"):
        _filled(num_adds=0, capacity=5).get_next()
    with pytest.raises(ValueError, match="num_steps=4.*only 3 frame"):
        _filled(num_adds=9, capacity=3).get_next(num_steps=4)


def test_get_next_inside_tf_function_raises_invalid_argument_when_too_few_frames():
    buffer = _filled(num_adds=1, capacity=5)
    sample = tf.function(lambda: buffer.get_next(sample_batch_size=2, num_steps=2))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="num_steps=2: each row holds fewer than 2 frame"):
        sample()


def test_add_batch_and_get_next_inside_tf_function():
    tf.random.set_seed(3)
    buffer = UniformReplayBuffer(_SCALAR, capacity=3, batch_size=2)

    @tf.function
    def add(t):
        buffer.add_batch(tf.stack([t, 100 + t]))

    @tf.function
    def sample():
        return buffer.get_next(sample_batch_size=50, num_steps=2)

    for t in range(5):
        add(tf.constant(t, tf.int64))
    np.testing.assert_array_equal(buffer.gather_all(), [[2, 3, 4], [102, 103, 104]])
    items, info = sample()
    np.testing.assert_array_equal(items.numpy() % 100, info.ids)
    assert set(info.ids.numpy()[:, 0].tolist()) <= {2, 3}
    add(tf.constant(5, tf.int64))  # the traced function sees the new write position
    items, info = sample()
    assert set(info.ids.numpy()[:, 0].tolist()) <= {3, 4}


def test_checkpoint_round_trip_restores_identical_contents(tmp_path):
    spec = _trajectory_spec()
    buffer = UniformReplayBuffer(spec, capacity=3, batch_size=2)
    for t in range(4):
        buffer.add_batch(_trajectory(t))
    path = tf.train.Checkpoint(buffer=buffer).save(str(tmp_path / "ckpt"))
    restored = UniformReplayBuffer(spec, capacity=3, batch_size=2)
    tf.train.Checkpoint(buffer=restored).restore(path).assert_consumed()
    tf.nest.map_structure(np.testing.assert_array_equal, buffer.gather_all(),
                          restored.gather_all())
    assert int(restored.num_frames()) == 6
    # The write position came back too: the next add overwrites frame 1.
    restored.add_batch(_trajectory(4))
    np.testing.assert_array_equal(restored.gather_all().observation["id"],
                                  [[2, 3, 4], [12, 13, 14]])


def test_nested_trajectory_spec_round_trips_through_the_buffer():
    buffer = UniformReplayBuffer(_trajectory_spec(), capacity=4, batch_size=2)
    for t in range(3):
        buffer.add_batch(_trajectory(t))
    everything = buffer.gather_all()
    assert isinstance(everything, Trajectory) and everything.policy_info == ()
    np.testing.assert_array_equal(everything.observation["id"], [[0, 1, 2], [10, 11, 12]])
    np.testing.assert_array_equal(everything.observation["pos"][1, 2], [3.0, -1.0])
    np.testing.assert_array_equal(everything.action, [[0, 0, 0], [0, 1, 2]])
    np.testing.assert_array_equal(everything.reward, [[0.0, 0.5, 1.0]] * 2)
    assert everything.observation["pos"].dtype == tf.float32
    windows, info = buffer.get_next(sample_batch_size=8, num_steps=2)
    assert windows.observation["pos"].shape == (8, 2, 2)
    ids = windows.observation["id"].numpy()
    np.testing.assert_array_equal(ids % 10, info.ids)


def test_array_specs_are_converted_to_tensor_specs():
    buffer = UniformReplayBuffer({"x": ArraySpec((2,), np.float32)}, capacity=2)
    assert buffer.data_spec == {"x": tf.TensorSpec((2,), tf.float32)}
    buffer.add_batch({"x": np.array([[1.0, 2.0]], np.float32)})
    np.testing.assert_array_equal(buffer.gather_all()["x"], [[[1.0, 2.0]]])
    assert (buffer.capacity, buffer.batch_size) == (2, 1)


def test_add_batch_errors_name_the_path():
    buffer = UniformReplayBuffer(_trajectory_spec(), capacity=3, batch_size=2)
    bad_dtype = _trajectory(0)._replace(
        observation={"pos": np.zeros((2, 2), np.float64), "id": np.zeros(2, np.int32)})
    with pytest.raises(TypeError, match="items at 'observation/pos': dtype mismatch"):
        buffer.add_batch(bad_dtype)
    bad_shape = _trajectory(0)._replace(
        observation={"pos": np.zeros((2, 3), np.float32), "id": np.zeros(2, np.int32)})
    with pytest.raises(ValueError, match="items at 'observation/pos': shape mismatch"):
        buffer.add_batch(bad_shape)
    missing_key = _trajectory(0)._replace(observation={"pos": np.zeros((2, 2), np.float32)})
    with pytest.raises(TypeError, match="items"):
        buffer.add_batch(missing_key)
    unbatched = _trajectory(0)._replace(reward=np.float32(1.0))
    with pytest.raises(ValueError, match="items at 'reward'"):
        buffer.add_batch(unbatched)
    assert int(buffer.num_frames()) == 0  # nothing was written


def test_add_batch_rejects_a_different_batch_size():
    buffer = UniformReplayBuffer(_trajectory_spec(), capacity=3, batch_size=2)
    with pytest.raises(ValueError, match="batch size 3 .*batch_size=2"):
        buffer.add_batch(_trajectory(0, batch_size=3))


def test_single_deterministic_pass_enumerates_every_window_once():
    buffer = _filled(num_adds=5, capacity=4)  # per row ids 1..4
    dataset = buffer.as_dataset(num_steps=2, single_deterministic_pass=True)
    windows, ids = [], []
    for items, info in dataset:
        windows.append(items.numpy().tolist())
        ids.append(info.ids.numpy().tolist())
    assert windows == [[1, 2], [101, 102], [2, 3], [102, 103], [3, 4], [103, 104]]
    assert ids == [[1, 2], [1, 2], [2, 3], [2, 3], [3, 4], [3, 4]]


def test_single_deterministic_pass_batches_and_single_frames():
    buffer = _filled(num_adds=2, capacity=4)
    batches = [items.numpy().tolist()
               for items, _ in buffer.as_dataset(sample_batch_size=3,
                                                 single_deterministic_pass=True)]
    assert batches == [[0, 100, 1], [101]]
    assert list(_filled(0, 4).as_dataset(num_steps=2, single_deterministic_pass=True)) == []


def test_single_deterministic_pass_reads_the_buffer_when_iterated():
    buffer = _filled(num_adds=1, capacity=3, batch_size=1)
    dataset = buffer.as_dataset(single_deterministic_pass=True)
    buffer.add_batch(np.array([1], np.int64))
    assert [int(items) for items, _ in dataset] == [0, 1]


def test_as_dataset_samples_windows_endlessly():
    tf.random.set_seed(5)
    buffer = _filled(num_adds=6, capacity=4)
    dataset = buffer.as_dataset(sample_batch_size=4, num_steps=3, num_parallel_calls=2)
    for items, info in dataset.take(5):
        assert items.shape == (4, 3) and info.ids.shape == (4, 3)
        assert info.probabilities.shape == (4,)
        np.testing.assert_array_equal(items.numpy() % 100, info.ids)
        np.testing.assert_array_equal(np.diff(info.ids.numpy(), axis=1), 1)
        assert info.ids.numpy().min() >= 2


def test_clear_empties_the_buffer():
    buffer = _filled(num_adds=4, capacity=3)
    buffer.clear()
    assert int(buffer.num_frames()) == 0
    assert buffer.gather_all().shape == (2, 0)
    buffer.add_batch(np.array([7, 8], np.int64))
    np.testing.assert_array_equal(buffer.gather_all(), [[7], [8]])
    np.testing.assert_array_equal(buffer._storage[0].numpy()[:, 1:], 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"capacity": 0}, "capacity must be a positive integer"),
    ({"capacity": 2, "batch_size": 0}, "batch_size must be a positive integer"),
    ({"capacity": 2.5}, "capacity must be a positive integer"),
])
def test_constructor_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UniformReplayBuffer(_SCALAR, **kwargs)


def test_constructor_rejects_undefined_spec_shapes():
    with pytest.raises(ValueError, match="'obs': needs a fully defined shape"):
        UniformReplayBuffer({"obs": tf.TensorSpec((None,), tf.float32)}, capacity=2)


def test_module_tracks_storage_variables():
    buffer = UniformReplayBuffer(collections.OrderedDict(a=_SCALAR, b=_SCALAR), capacity=2)
    assert len(buffer.variables) == 3
    assert buffer.trainable_variables == ()


def test_unbatched_items_are_accepted_when_batch_size_is_one():
    buffer = UniformReplayBuffer({"x": ArraySpec((2,), np.float32)}, capacity=3)
    buffer.add_batch({"x": np.array([1.0, 2.0], np.float32)})
    buffer.add_batch({"x": np.array([[3.0, 4.0]], np.float32)})
    np.testing.assert_array_equal(buffer.gather_all()["x"], [[[1.0, 2.0], [3.0, 4.0]]])

    @tf.function
    def add(x):
        buffer.add_batch({"x": x})

    add(tf.constant([5.0, 6.0]))
    np.testing.assert_array_equal(buffer.gather_all()["x"][0, -1], [5.0, 6.0])


def test_unbatched_items_are_rejected_when_batch_size_is_not_one():
    buffer = UniformReplayBuffer(_trajectory_spec(), capacity=3, batch_size=2)
    unbatched = tf.nest.map_structure(lambda x: x[0], _trajectory(0))
    with pytest.raises(ValueError, match=r"outer dims \(\); unbatched items are accepted only "
                                         r"when batch_size=1"):
        buffer.add_batch(unbatched)
    assert int(buffer.num_frames()) == 0


def test_eager_checks_stay_on_after_a_signature_was_accepted():
    buffer = UniformReplayBuffer(_trajectory_spec(), capacity=3, batch_size=2)
    buffer.add_batch(_trajectory(0))
    buffer.add_batch(_trajectory(1))
    bad = _trajectory(2)._replace(
        observation={"pos": np.zeros((2, 2), np.float64), "id": np.zeros(2, np.int32)})
    with pytest.raises(TypeError, match="items at 'observation/pos': dtype mismatch"):
        buffer.add_batch(bad)
    renamed = _trajectory(2)._replace(
        observation={"pos": np.zeros((2, 2), np.float32), "other": np.zeros(2, np.int32)})
    with pytest.raises(TypeError, match="items"):
        buffer.add_batch(renamed)
    with pytest.raises(ValueError, match="batch size 3"):
        buffer.add_batch(_trajectory(0, batch_size=3))
    assert int(buffer.num_frames()) == 4


def test_eager_add_accepts_tensors_and_numpy_alike():
    buffer = UniformReplayBuffer(tf.TensorSpec((), tf.int32), capacity=4, batch_size=2)
    buffer.add_batch(np.array([1, 2], np.int32))
    buffer.add_batch(tf.constant([3, 4]))
    np.testing.assert_array_equal(buffer.gather_all(), [[1, 3], [2, 4]])
