"""Batching nested time steps the TF-Agents way, after changing only the imports.

Import mapping exercised:

    tf_agents.utils.nest_utils            -> specs.nest_utils
    tf_agents.specs.tensor_spec           -> specs.tensor_spec
    tf_agents.specs.array_spec            -> specs.array_spec
    tf_agents.trajectories.time_step      -> tfpolicy.trajectories.time_step

A TF-Agents user batches and unbatches whole `TimeStep`s with dict observations
against `ts.time_step_spec(observation_spec)`; this module does the same with
the tensor helpers (`batch_nested_tensors`, ...) and the numpy helpers
(`batch_nested_array`, ...).
"""

import numpy as np
import tensorflow as tf

from specs import array_spec
from specs import nest_utils
from specs import tensor_spec
from tfpolicy.trajectories import time_step as ts

# A dict observation: a 2-d position and a scalar speed.
OBSERVATION_SPEC = {
    "position": tensor_spec.TensorSpec([2], tf.float32, name="position"),
    "speed": tensor_spec.TensorSpec([], tf.float32, name="speed"),
}
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)

ARRAY_OBSERVATION_SPEC = {
    "position": array_spec.ArraySpec((2,), np.float32, name="position"),
    "speed": array_spec.ArraySpec((), np.float32, name="speed"),
}
ARRAY_TIME_STEP_SPEC = ts.time_step_spec(ARRAY_OBSERVATION_SPEC)


def observation(x, y, speed):
    return {"position": tf.constant([x, y]), "speed": tf.constant(speed)}


def batched_observation(positions, speeds):
    return {"position": tf.constant(positions, tf.float32),
            "speed": tf.constant(speeds, tf.float32)}


def assert_nests_equal(actual, expected):
    tf.nest.assert_same_structure(actual, expected)
    for a, e in zip(tf.nest.flatten(actual), tf.nest.flatten(expected)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(e))


# ---- tensors: batch and unbatch ---------------------------------------------------------------


def test_batch_nested_tensors_adds_a_batch_dim_of_one_to_a_time_step():
    time_step = ts.restart(observation(1.0, 2.0, 3.0))

    batched = nest_utils.batch_nested_tensors(time_step, TIME_STEP_SPEC)

    assert isinstance(batched, ts.TimeStep)
    assert batched.step_type.shape == [1]
    assert batched.reward.shape == [1]
    assert batched.discount.shape == [1]
    assert batched.observation["position"].shape == [1, 2]
    assert batched.observation["speed"].shape == [1]
    np.testing.assert_array_equal(batched.observation["position"].numpy(), [[1.0, 2.0]])
    assert int(batched.step_type[0]) == ts.StepType.FIRST


def test_batch_nested_tensors_keeps_an_already_batched_time_step():
    time_step = ts.restart(batched_observation([[1.0, 2.0], [3.0, 4.0]], [5.0, 6.0]),
                           batch_size=2)

    batched = nest_utils.batch_nested_tensors(time_step, TIME_STEP_SPEC)

    assert batched.observation["position"].shape == [2, 2]
    assert batched.step_type.shape == [2]


def test_batch_nested_tensors_without_specs_expands_every_leaf():
    batched = nest_utils.batch_nested_tensors(observation(1.0, 2.0, 3.0))

    assert batched["position"].shape == [1, 2]
    assert batched["speed"].shape == [1]


def test_unbatch_nested_tensors_undoes_batching():
    time_step = ts.transition(observation(1.0, 2.0, 3.0), reward=tf.constant(0.5),
                              discount=tf.constant(0.9))

    batched = nest_utils.batch_nested_tensors(time_step, TIME_STEP_SPEC)
    unbatched = nest_utils.unbatch_nested_tensors(batched, TIME_STEP_SPEC)

    assert unbatched.observation["position"].shape == [2]
    assert unbatched.step_type.shape == []
    assert_nests_equal(unbatched, time_step)


def test_is_batched_nested_tensors_tells_batched_from_unbatched_time_steps():
    single = ts.restart(observation(1.0, 2.0, 3.0))
    batch = ts.restart(batched_observation([[1.0, 2.0]] * 4, [0.0] * 4), batch_size=4)

    assert not nest_utils.is_batched_nested_tensors(single, TIME_STEP_SPEC)
    assert nest_utils.is_batched_nested_tensors(batch, TIME_STEP_SPEC)
    assert not nest_utils.is_batched_nested_tensors(batch, TIME_STEP_SPEC, num_outer_dims=2)


def test_get_outer_rank_of_time_steps():
    single = ts.restart(observation(1.0, 2.0, 3.0))
    batch = ts.restart(batched_observation([[1.0, 2.0]] * 4, [0.0] * 4), batch_size=4)
    sequences = ts.transition(
        batched_observation(np.zeros([4, 5, 2]), np.zeros([4, 5])),
        reward=tf.zeros([4, 5]), discount=tf.ones([4, 5]), outer_dims=[4, 5])

    assert nest_utils.get_outer_rank(single, TIME_STEP_SPEC) == 0
    assert nest_utils.get_outer_rank(batch, TIME_STEP_SPEC) == 1
    assert nest_utils.get_outer_rank(sequences, TIME_STEP_SPEC) == 2


def test_get_outer_shape_is_a_tensor_of_the_runtime_batch_dims():
    # TF-Agents documents the result as "A Tensor containing the outer shape".
    sequences = ts.transition(
        batched_observation(np.zeros([4, 5, 2]), np.zeros([4, 5])),
        reward=tf.zeros([4, 5]), discount=tf.ones([4, 5]), outer_dims=[4, 5])

    outer_shape = nest_utils.get_outer_shape(sequences, TIME_STEP_SPEC)

    assert outer_shape.numpy().tolist() == [4, 5]


def test_get_outer_shape_inside_tf_function_with_an_unknown_batch_size():
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def flatten_positions(positions):
        time_step = ts.restart({"position": positions, "speed": tf.zeros_like(positions[:, 0])},
                               batch_size=tf.shape(positions)[0])
        outer_shape = nest_utils.get_outer_shape(time_step, TIME_STEP_SPEC)
        # The batch size is known only at run time; the outer shape must still be usable.
        return tf.reshape(time_step.observation["position"],
                          tf.concat([outer_shape, [-1]], axis=0))

    assert flatten_positions(tf.ones([3, 2])).shape == [3, 2]


# ---- tensors: stack, unstack, split, flatten, tile --------------------------------------------


def three_time_steps():
    return [
        ts.restart(observation(1.0, 2.0, 0.5)),
        ts.transition(observation(3.0, 4.0, 1.5), reward=tf.constant(1.0)),
        ts.termination(observation(5.0, 6.0, 2.5), reward=tf.constant(-1.0)),
    ]


def test_stack_nested_tensors_stacks_time_steps_into_a_batch():
    stacked = nest_utils.stack_nested_tensors(three_time_steps())

    assert isinstance(stacked, ts.TimeStep)
    assert stacked.step_type.numpy().tolist() == [ts.StepType.FIRST, ts.StepType.MID,
                                                  ts.StepType.LAST]
    np.testing.assert_array_equal(stacked.reward.numpy(), [0.0, 1.0, -1.0])
    np.testing.assert_array_equal(stacked.discount.numpy(), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(stacked.observation["position"].numpy(),
                                  [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(stacked.observation["speed"].numpy(), [0.5, 1.5, 2.5])


def test_unstack_nested_tensors_gives_back_each_time_step():
    originals = three_time_steps()
    stacked = nest_utils.stack_nested_tensors(originals)

    items = nest_utils.unstack_nested_tensors(stacked, TIME_STEP_SPEC)

    assert len(items) == 3
    for item, original in zip(items, originals):
        assert isinstance(item, ts.TimeStep)
        assert_nests_equal(item, original)


def test_split_nested_tensors_into_sizes():
    stacked = nest_utils.stack_nested_tensors(three_time_steps())

    first, rest = nest_utils.split_nested_tensors(stacked, TIME_STEP_SPEC, [1, 2])

    assert first.observation["position"].shape == [1, 2]
    assert rest.observation["position"].shape == [2, 2]
    assert first.step_type.numpy().tolist() == [ts.StepType.FIRST]
    assert rest.step_type.numpy().tolist() == [ts.StepType.MID, ts.StepType.LAST]
    np.testing.assert_array_equal(rest.observation["speed"].numpy(), [1.5, 2.5])


def test_flatten_multi_batched_nested_tensors_merges_batch_and_time():
    # A [B=2, T=3] batch of sequences: observation position [b, t] = [10 b + t, 0].
    positions = np.array([[[10.0 * b + t, 0.0] for t in range(3)] for b in range(2)])
    sequences = ts.transition(
        batched_observation(positions, np.ones([2, 3])),
        reward=tf.zeros([2, 3]), discount=tf.ones([2, 3]), outer_dims=[2, 3])

    flat, batch_dims = nest_utils.flatten_multi_batched_nested_tensors(sequences,
                                                                       TIME_STEP_SPEC)

    assert np.asarray(batch_dims).tolist() == [2, 3]
    assert flat.step_type.shape == [6]
    assert flat.observation["position"].shape == [6, 2]
    np.testing.assert_array_equal(flat.observation["position"].numpy()[:, 0],
                                  [0.0, 1.0, 2.0, 10.0, 11.0, 12.0])


def test_tile_batch_repeats_each_time_step_in_place():
    time_step = ts.restart(batched_observation([[1.0, 1.0], [2.0, 2.0]], [1.0, 2.0]),
                           batch_size=2)

    tiled = nest_utils.tile_batch(time_step, 3)

    assert tiled.step_type.shape == [6]
    np.testing.assert_array_equal(tiled.observation["speed"].numpy(),
                                  [1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    assert tiled.observation["position"].shape == [6, 2]


def test_where_picks_whole_time_steps_per_batch_entry():
    first = ts.restart(batched_observation([[1.0, 1.0], [2.0, 2.0]], [1.0, 2.0]), batch_size=2)
    mid = ts.transition(batched_observation([[7.0, 7.0], [8.0, 8.0]], [7.0, 8.0]),
                        reward=tf.constant([3.0, 4.0]))

    picked = nest_utils.where(tf.constant([True, False]), first, mid)

    assert picked.step_type.numpy().tolist() == [ts.StepType.FIRST, ts.StepType.MID]
    np.testing.assert_array_equal(picked.reward.numpy(), [0.0, 4.0])
    np.testing.assert_array_equal(picked.observation["position"].numpy(),
                                  [[1.0, 1.0], [8.0, 8.0]])


def test_prune_extra_keys_drops_observation_keys_the_spec_does_not_have():
    extended = dict(observation(1.0, 2.0, 3.0), debug_info=tf.constant([9, 9, 9]))
    time_step = ts.restart(extended)

    pruned = nest_utils.prune_extra_keys(TIME_STEP_SPEC, time_step)

    assert isinstance(pruned, ts.TimeStep)
    assert sorted(pruned.observation) == ["position", "speed"]
    assert nest_utils.is_batched_nested_tensors(
        nest_utils.batch_nested_tensors(pruned, TIME_STEP_SPEC), TIME_STEP_SPEC)


# ---- numpy arrays -----------------------------------------------------------------------------


def array_observation(x, y, speed):
    return {"position": np.array([x, y], np.float32), "speed": np.float32(speed)}


def test_batch_and_unbatch_nested_array_on_a_numpy_time_step():
    time_step = ts.restart(array_observation(1.0, 2.0, 3.0))

    batched = nest_utils.batch_nested_array(time_step)

    assert isinstance(batched, ts.TimeStep)
    assert batched.observation["position"].shape == (1, 2)
    assert batched.observation["speed"].shape == (1,)
    assert batched.step_type.shape == (1,)
    assert nest_utils.get_outer_array_shape(batched, ARRAY_TIME_STEP_SPEC) == (1,)

    unbatched = nest_utils.unbatch_nested_array(batched)
    assert unbatched.observation["position"].shape == (2,)
    assert_nests_equal(unbatched, time_step)


def test_stack_and_unstack_nested_arrays_of_numpy_time_steps():
    steps = [
        ts.restart(array_observation(1.0, 2.0, 0.5)),
        ts.transition(array_observation(3.0, 4.0, 1.5), reward=np.float32(1.0)),
    ]

    stacked = nest_utils.stack_nested_arrays(steps)

    assert stacked.observation["position"].shape == (2, 2)
    np.testing.assert_array_equal(stacked.step_type, [ts.StepType.FIRST, ts.StepType.MID])
    np.testing.assert_array_equal(stacked.reward, [0.0, 1.0])
    assert nest_utils.get_outer_array_shape(stacked, ARRAY_TIME_STEP_SPEC) == (2,)

    unstacked = nest_utils.unstack_nested_arrays(stacked)
    assert len(unstacked) == 2
    for item, original in zip(unstacked, steps):
        assert isinstance(item, ts.TimeStep)
        assert_nests_equal(item, original)


def test_get_outer_array_shape_of_a_batch_of_sequences():
    observations = {"position": np.zeros((4, 5, 2), np.float32),
                    "speed": np.zeros((4, 5), np.float32)}

    assert nest_utils.get_outer_array_shape(observations, ARRAY_OBSERVATION_SPEC) == (4, 5)


# ---- specs: outer dims, sampling, time step specs ---------------------------------------------


def test_add_outer_dim_to_a_spec_nest():
    unknown_batch = tensor_spec.add_outer_dim(OBSERVATION_SPEC)
    batch_of_five = tensor_spec.add_outer_dim(OBSERVATION_SPEC, 5)

    assert unknown_batch["position"].shape.as_list() == [None, 2]
    assert unknown_batch["speed"].shape.as_list() == [None]
    assert batch_of_five["position"].shape.as_list() == [5, 2]
    assert batch_of_five["speed"].dtype == tf.float32


def test_tensor_spec_sample_spec_nest_respects_bounds_and_outer_dims():
    spec = {
        "position": tensor_spec.BoundedTensorSpec([2], tf.float32, -1.0, 1.0),
        "gear": tensor_spec.BoundedTensorSpec([], tf.int32, 1, 4),
    }

    sample = tensor_spec.sample_spec_nest(spec, seed=123, outer_dims=(50,))

    assert sample["position"].shape == [50, 2]
    assert sample["gear"].shape == [50]
    assert sample["gear"].dtype == tf.int32
    assert (np.abs(sample["position"].numpy()) <= 1.0).all()
    gears = sample["gear"].numpy()
    assert ((gears >= 1) & (gears <= 4)).all()


def test_tensor_spec_sample_spec_nest_of_a_time_step_spec_is_a_batch_of_time_steps():
    sample = tensor_spec.sample_spec_nest(TIME_STEP_SPEC, seed=1, outer_dims=(3,))

    assert isinstance(sample, ts.TimeStep)
    assert nest_utils.is_batched_nested_tensors(sample, TIME_STEP_SPEC)
    assert ((sample.discount.numpy() >= 0.0) & (sample.discount.numpy() <= 1.0)).all()


def test_array_spec_sample_spec_nest_is_reproducible_for_the_same_random_state():
    spec = {
        "position": array_spec.BoundedArraySpec((2,), np.float32, -1.0, 1.0),
        "gear": array_spec.BoundedArraySpec((), np.int32, 1, 4),
    }

    first = array_spec.sample_spec_nest(spec, np.random.RandomState(0), outer_dims=(7,))
    second = array_spec.sample_spec_nest(spec, np.random.RandomState(0), outer_dims=(7,))

    assert first["position"].shape == (7, 2)
    assert first["position"].dtype == np.float32
    assert first["gear"].shape == (7,)
    assert ((first["gear"] >= 1) & (first["gear"] <= 4)).all()
    assert_nests_equal(first, second)


def test_time_step_spec_without_observation_spec_is_all_empty():
    spec = ts.time_step_spec()

    assert spec == ts.TimeStep(step_type=(), reward=(), discount=(), observation=())


def test_time_step_spec_with_a_reward_spec():
    reward_spec = {"progress": tf.TensorSpec([], tf.float32),
                   "energy": tf.TensorSpec([], tf.float32)}

    spec = ts.time_step_spec(OBSERVATION_SPEC, reward_spec=reward_spec)

    assert spec.reward == reward_spec
    assert spec.observation == OBSERVATION_SPEC
    assert spec.step_type == tf.TensorSpec([], tf.int32, name="step_type")
    # A restart for that spec carries zero rewards of each kind.
    time_step = ts.restart(observation(0.0, 0.0, 0.0), reward_spec=reward_spec)
    assert sorted(time_step.reward) == ["energy", "progress"]
    assert float(time_step.reward["energy"]) == 0.0
