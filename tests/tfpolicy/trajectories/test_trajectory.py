"""Tests for tfpolicy.trajectories.trajectory: Trajectory, its constructors and transitions."""

import numpy as np
import pytest
import tensorflow as tf
import tree

import tfpolicy.trajectories as trajectories
from specs import TensorSpec
from tfpolicy.trajectories import trajectory as traj_lib
from tfpolicy.trajectories.policy_step import PolicyInfo, PolicyStep
from tfpolicy.trajectories.time_step import TimeStep
from tfpolicy.trajectories.trajectory import Trajectory, Transition

FIRST, MID, LAST = 0, 1, 2

# (constructor, step_type, next_step_type)
CONSTRUCTORS = [
    (traj_lib.first, FIRST, MID),
    (traj_lib.mid, MID, MID),
    (traj_lib.last, MID, LAST),
    (traj_lib.boundary, LAST, FIRST),
    (traj_lib.single_step, FIRST, LAST),
]
CONSTRUCTOR_IDS = ["first", "mid", "last", "boundary", "single_step"]


def assert_array(actual, expected, dtype):
    """`actual` is a numpy array (not a tensor) of `dtype` equal to `expected` cast to `dtype`."""
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == dtype
    np.testing.assert_array_equal(actual, np.asarray(expected, dtype))
    assert actual.shape == np.shape(expected)


def assert_tensor(actual, expected, dtype):
    """`actual` is a tensor of `dtype` equal to `expected` cast to `dtype`."""
    assert tf.is_tensor(actual), type(actual)
    assert actual.dtype == dtype
    np.testing.assert_array_equal(actual.numpy(), np.asarray(expected, dtype.as_numpy_dtype))
    assert tuple(actual.shape) == np.shape(expected)


def assert_nests_equal(actual, expected):
    """Same structure (types included) and equal leaves; tensors are compared by value."""
    tree.assert_same_structure(actual, expected)
    for a, e in zip(tree.flatten(actual), tree.flatten(expected)):
        a = a.numpy() if tf.is_tensor(a) else a
        e = e.numpy() if tf.is_tensor(e) else e
        assert np.asarray(a).dtype == np.asarray(e).dtype
        np.testing.assert_array_equal(a, e)


# Constructors


@pytest.mark.parametrize("make, step_type, next_step_type", CONSTRUCTORS, ids=CONSTRUCTOR_IDS)
def test_constructor_batched_numpy(make, step_type, next_step_type):
    obs = {"pos": np.zeros((3, 2), np.float32)}
    action = np.array([0, 1, 2], np.int32)
    info = PolicyInfo(log_probability=np.array([-0.1, -0.2, -0.3], np.float32))
    traj = make(obs, action, info, np.array([1.0, 2.0, 3.0], np.float32),
                np.array([1.0, 0.5, 0.0], np.float32))
    assert_array(traj.step_type, [step_type] * 3, np.int32)
    assert_array(traj.next_step_type, [next_step_type] * 3, np.int32)
    assert_array(traj.reward, [1.0, 2.0, 3.0], np.float32)
    assert_array(traj.discount, [1.0, 0.5, 0.0], np.float32)
    assert traj.observation is obs
    assert traj.action is action
    assert traj.policy_info is info


@pytest.mark.parametrize("make, step_type, next_step_type", CONSTRUCTORS, ids=CONSTRUCTOR_IDS)
def test_constructor_unbatched_numpy(make, step_type, next_step_type):
    traj = make(np.zeros(2), np.int32(1), (), 0.5, 1.0)
    assert_array(traj.step_type, step_type, np.int32)
    assert_array(traj.next_step_type, next_step_type, np.int32)
    assert_array(traj.reward, 0.5, np.float32)
    assert_array(traj.discount, 1.0, np.float32)
    assert traj.policy_info == ()


@pytest.mark.parametrize("make, step_type, next_step_type", CONSTRUCTORS, ids=CONSTRUCTOR_IDS)
def test_constructor_tensors(make, step_type, next_step_type):
    traj = make(tf.zeros([3, 2]), tf.constant([0, 1, 2]), (), tf.constant([1.0, 2.0, 3.0]),
                tf.constant([1.0, 0.5, 0.0]))
    assert_tensor(traj.step_type, [step_type] * 3, tf.int32)
    assert_tensor(traj.next_step_type, [next_step_type] * 3, tf.int32)
    assert_tensor(traj.reward, [1.0, 2.0, 3.0], tf.float32)
    assert_tensor(traj.discount, [1.0, 0.5, 0.0], tf.float32)


@pytest.mark.parametrize("make, step_type, next_step_type", CONSTRUCTORS, ids=CONSTRUCTOR_IDS)
def test_constructor_in_tf_function_with_unknown_batch(make, step_type, next_step_type):
    static_shapes = []

    @tf.function(input_signature=[TensorSpec([None, 2]), TensorSpec([None], tf.int32),
                                  TensorSpec([None]), TensorSpec([None])])
    def build(obs, action, reward, discount):
        traj = make(obs, action, (), reward, discount)
        static_shapes.append(traj.step_type.shape.as_list())
        return traj

    traj = build(tf.zeros([2, 2]), tf.constant([3, 4]), tf.constant([1.0, 2.0]),
                 tf.constant([0.9, 1.0]))
    assert static_shapes == [[None]]
    assert_tensor(traj.step_type, [step_type] * 2, tf.int32)
    assert_tensor(traj.next_step_type, [next_step_type] * 2, tf.int32)
    assert_tensor(traj.reward, [1.0, 2.0], tf.float32)
    assert_tensor(traj.discount, [0.9, 1.0], tf.float32)


def test_constructor_outer_shape_comes_from_discount():
    # A [B, T] batch of vector rewards: the step types follow the discount.
    traj = traj_lib.mid(np.zeros((2, 3, 4)), np.zeros((2, 3)), (),
                        np.ones((2, 3, 5), np.float32), np.ones((2, 3), np.float32))
    assert_array(traj.step_type, np.ones((2, 3)), np.int32)
    assert_array(traj.next_step_type, np.ones((2, 3)), np.int32)
    assert traj.reward.shape == (2, 3, 5)


def test_constructor_converts_reward_and_discount():
    traj = traj_lib.first(np.zeros((3, 2)), np.zeros(3), (), reward=2.0,
                          discount=np.array([1.0, 0.0, 0.5], np.float64))
    assert_array(traj.reward, [2.0, 2.0, 2.0], np.float32)
    assert_array(traj.discount, [1.0, 0.0, 0.5], np.float32)


def test_constructor_nested_reward_keeps_structure_and_dtypes():
    reward = {"a": np.array([1.0, 2.0], np.float64), "b": np.ones((2, 3), np.float32)}
    traj = traj_lib.last(np.zeros((2, 1)), np.zeros(2), (), reward, np.zeros(2, np.float32))
    assert_array(traj.reward["a"], [1.0, 2.0], np.float64)
    assert_array(traj.reward["b"], np.ones((2, 3)), np.float32)
    assert_array(traj.next_step_type, [LAST, LAST], np.int32)


def test_constructor_numpy_inputs_with_one_tensor_give_tensors():
    traj = traj_lib.mid(np.zeros((2, 1)), tf.constant([0, 1]), (),
                        np.array([1.0, 2.0], np.float32), np.ones(2, np.float32))
    assert_tensor(traj.step_type, [MID, MID], tf.int32)
    assert_tensor(traj.reward, [1.0, 2.0], tf.float32)
    assert_tensor(traj.discount, [1.0, 1.0], tf.float32)


# Predicates


def _mixed_trajectory(to_tensor):
    step_type = np.array([FIRST, MID, MID, LAST, FIRST], np.int32)
    next_step_type = np.array([MID, MID, LAST, FIRST, LAST], np.int32)
    zeros = np.zeros(5, np.float32)
    fields = (step_type, zeros, zeros, (), next_step_type, zeros, zeros)
    return Trajectory(*(tree.map_structure(to_tensor, f) for f in fields))


def test_predicates_on_numpy_rows():
    traj = _mixed_trajectory(np.asarray)
    assert_array(traj.is_first(), [True, False, False, False, True], np.bool_)
    assert_array(traj.is_mid(), [False, True, False, False, False], np.bool_)
    assert_array(traj.is_last(), [False, False, True, False, True], np.bool_)
    assert_array(traj.is_boundary(), [False, False, False, True, False], np.bool_)


def test_predicates_on_tensor_rows():
    traj = _mixed_trajectory(tf.constant)
    assert_tensor(traj.is_first(), [True, False, False, False, True], tf.bool)
    assert_tensor(traj.is_mid(), [False, True, False, False, False], tf.bool)
    assert_tensor(traj.is_last(), [False, False, True, False, True], tf.bool)
    assert_tensor(traj.is_boundary(), [False, False, False, True, False], tf.bool)


@pytest.mark.parametrize("make", [c[0] for c in CONSTRUCTORS], ids=CONSTRUCTOR_IDS)
def test_predicates_of_each_constructor(make):
    traj = make(np.zeros(1), np.zeros(()), (), 0.0, 1.0)
    expected = {
        "first": (True, False, False, False),
        "mid": (False, True, False, False),
        "last": (False, False, True, False),
        "boundary": (False, False, False, True),
        "single_step": (True, False, True, False),
    }[make.__name__]
    assert (bool(traj.is_first()), bool(traj.is_mid()), bool(traj.is_last()),
            bool(traj.is_boundary())) == expected


# A hand-made batch of 2 rows over 3 time steps.
#   row 0: FIRST(obs 10) -r=1-> MID(11) -r=2, terminated-> LAST(12) -> boundary into a new episode
#   row 1: MID(20) -r=3-> MID(21) -r=4-> MID(22) -r=5, discount 0.5-> MID
STEP_TYPE = np.array([[FIRST, MID, LAST], [MID, MID, MID]], np.int32)
NEXT_STEP_TYPE = np.array([[MID, LAST, FIRST], [MID, MID, MID]], np.int32)
POS = np.array([[[10.0, 10.5], [11.0, 11.5], [12.0, 12.5]],
                [[20.0, 20.5], [21.0, 21.5], [22.0, 22.5]]], np.float32)
IDS = np.array([[0, 1, 2], [3, 4, 5]], np.int32)
ACTION = np.array([[0, 1, 0], [1, 1, 0]], np.int32)
LOG_PROB = np.array([[-0.1, -0.2, -0.3], [-0.4, -0.5, -0.6]], np.float32)
REWARD = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]], np.float32)
DISCOUNT = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.5]], np.float32)


def _batch(to_tensor=lambda x: x):
    return Trajectory(
        step_type=to_tensor(STEP_TYPE),
        observation={"pos": to_tensor(POS), "id": to_tensor(IDS)},
        action=to_tensor(ACTION),
        policy_info=PolicyInfo(log_probability=to_tensor(LOG_PROB)),
        next_step_type=to_tensor(NEXT_STEP_TYPE),
        reward=to_tensor(REWARD),
        discount=to_tensor(DISCOUNT))


EXPECTED_TRANSITION = Transition(
    time_step=TimeStep(
        step_type=np.array([[FIRST, MID], [MID, MID]], np.int32),
        reward=np.zeros((2, 2), np.float32),
        discount=np.zeros((2, 2), np.float32),
        observation={"id": np.array([[0, 1], [3, 4]], np.int32),
                     "pos": np.array([[[10.0, 10.5], [11.0, 11.5]],
                                      [[20.0, 20.5], [21.0, 21.5]]], np.float32)}),
    action_step=PolicyStep(
        action=np.array([[0, 1], [1, 1]], np.int32),
        state=(),
        info=PolicyInfo(log_probability=np.array([[-0.1, -0.2], [-0.4, -0.5]], np.float32))),
    next_time_step=TimeStep(
        step_type=np.array([[MID, LAST], [MID, MID]], np.int32),
        reward=np.array([[1.0, 2.0], [3.0, 4.0]], np.float32),
        discount=np.array([[1.0, 0.0], [1.0, 1.0]], np.float32),
        observation={"id": np.array([[1, 2], [4, 5]], np.int32),
                     "pos": np.array([[[11.0, 11.5], [12.0, 12.5]],
                                      [[21.0, 21.5], [22.0, 22.5]]], np.float32)}))


def test_to_transition_splits_time_dim_numpy():
    result = traj_lib.to_transition(_batch())
    assert type(result) is Transition
    assert_nests_equal(result, EXPECTED_TRANSITION)
    assert isinstance(result.next_time_step.reward, np.ndarray)


def test_to_transition_splits_time_dim_tensors():
    result = traj_lib.to_transition(_batch(tf.constant))
    assert tf.is_tensor(result.time_step.reward) and tf.is_tensor(result.next_time_step.step_type)
    assert_nests_equal(result, EXPECTED_TRANSITION)


def test_to_transition_in_tf_function_with_unknown_batch_and_time():
    signature = tree.map_structure(
        lambda x: TensorSpec([None, None] + list(x.shape[2:]), tf.as_dtype(x.dtype)), _batch())

    @tf.function(input_signature=[signature])
    def split(traj):
        return traj_lib.to_transition(traj)

    assert_nests_equal(split(_batch(tf.constant)), EXPECTED_TRANSITION)


def test_to_transition_with_next_trajectory_uses_its_observation():
    rows = _batch()
    now = tree.map_structure(lambda x: x[:, 0], rows)
    then = tree.map_structure(lambda x: x[:, 1], rows)
    time_step, action_step, next_time_step = traj_lib.to_transition(now, then)
    expected = tree.map_structure(lambda x: x[:, 0], EXPECTED_TRANSITION)
    assert_nests_equal(time_step, expected.time_step)
    assert_nests_equal(action_step, expected.action_step)
    assert_nests_equal(next_time_step, expected.next_time_step)


def test_to_transition_without_time_dim_is_an_error():
    rows = tree.map_structure(lambda x: x[:, 0], _batch())
    with pytest.raises(ValueError, match=r"needs rows with outer dims \[B, T\]; step_type has rank 1"):
        traj_lib.to_transition(rows)


def test_from_transition_takes_each_field_from_its_source():
    time_step = TimeStep(np.array([FIRST, MID], np.int32), np.array([9.0, 9.0], np.float32),
                         np.array([1.0, 1.0], np.float32), {"pos": np.array([[10.0], [20.0]])})
    action_step = PolicyStep(np.array([0, 1]), state={"h": np.ones(2)},
                             info=PolicyInfo(np.array([-0.1, -0.4])))
    next_time_step = TimeStep(np.array([MID, LAST], np.int32), np.array([1.0, 3.0], np.float32),
                              np.array([1.0, 0.0], np.float32), {"pos": np.array([[11.0], [21.0]])})
    traj = traj_lib.from_transition(time_step, action_step, next_time_step)
    assert traj.step_type is time_step.step_type
    assert traj.observation is time_step.observation
    assert traj.action is action_step.action
    assert traj.policy_info is action_step.info
    assert traj.next_step_type is next_time_step.step_type
    assert traj.reward is next_time_step.reward
    assert traj.discount is next_time_step.discount


def test_from_transition_of_to_transition_restores_all_but_the_last_step():
    rows = _batch()
    restored = traj_lib.from_transition(*traj_lib.to_transition(rows))
    assert_nests_equal(restored, tree.map_structure(lambda x: x[:, :-1], rows))


def test_time_steps_round_trip_through_trajectories():
    # Time steps of the hand-made batch, as an environment would emit them.
    steps = [TimeStep(STEP_TYPE[:, 0], np.array([0.0, 9.0], np.float32),
                      np.array([1.0, 1.0], np.float32), POS[:, 0])]
    for t in range(1, 3):
        steps.append(TimeStep(STEP_TYPE[:, t], REWARD[:, t - 1], DISCOUNT[:, t - 1], POS[:, t]))
    actions = [PolicyStep(ACTION[:, t]) for t in range(3)]
    rows = [traj_lib.from_transition(steps[t], actions[t], steps[t + 1]) for t in range(2)]

    # Rows 0 and 1 as a pair give back time steps 0 and 1; the first loses
    # its reward and discount, which belong to the transition into it.
    time_step, action_step, next_time_step = traj_lib.to_transition(rows[0], rows[1])
    assert_nests_equal(next_time_step, steps[1])
    assert_nests_equal(time_step, steps[0]._replace(
        reward=np.zeros(2, np.float32), discount=np.zeros(2, np.float32)))
    assert_nests_equal(action_step, actions[0])

    # Stacked along time (T = 2), they give the single transition 0 -> 1.
    stacked = tree.map_structure(lambda *xs: np.stack(xs, axis=1), *rows)
    _, _, next_time_step = traj_lib.to_transition(stacked)
    assert_nests_equal(next_time_step, tree.map_structure(lambda x: x[:, None], steps[1]))


def test_package_reexports_trajectory_names():
    for name in traj_lib.__all__:
        assert getattr(trajectories, name) is getattr(traj_lib, name)
    assert trajectories.trajectory is traj_lib


# replace


def test_trajectory_and_transition_replace_fields():
    rows = _batch()
    assert rows.replace(policy_info=()).policy_info == ()
    assert rows.replace(policy_info=()).action is rows.action
    transition = traj_lib.to_transition(rows)
    assert transition.replace(action_step=()).action_step == ()
    with pytest.raises(ValueError, match="unexpected field names.*'info'"):
        rows.replace(info=())


# from_episode


def _episode(to_tensor=lambda x: x):
    return dict(observation={"pos": to_tensor(np.arange(6, dtype=np.float32).reshape(3, 2))},
                action=to_tensor(np.array([0, 1, 0], np.int32)),
                policy_info=(),
                reward=to_tensor(np.array([1.0, 2.0, 3.0], np.float32)))


def test_from_episode_marks_first_mid_and_last_rows_numpy():
    traj = traj_lib.from_episode(**_episode())
    assert_array(traj.step_type, [FIRST, MID, MID], np.int32)
    assert_array(traj.next_step_type, [MID, MID, LAST], np.int32)
    assert_array(traj.discount, [1.0, 1.0, 1.0], np.float32)
    assert_array(traj.reward, [1.0, 2.0, 3.0], np.float32)
    assert_array(traj.observation["pos"], np.arange(6).reshape(3, 2), np.float32)
    assert traj.policy_info == ()


def test_from_episode_of_tensors_gives_tensors_and_keeps_a_given_discount():
    traj = traj_lib.from_episode(**_episode(tf.constant),
                                 discount=tf.constant([1.0, 0.5, 0.0]))
    assert_tensor(traj.step_type, [FIRST, MID, MID], tf.int32)
    assert_tensor(traj.next_step_type, [MID, MID, LAST], tf.int32)
    assert_tensor(traj.discount, [1.0, 0.5, 0.0], tf.float32)
    assert_tensor(traj.action, [0, 1, 0], tf.int32)


def test_from_episode_of_one_step_goes_from_first_to_last():
    traj = traj_lib.from_episode(np.zeros((1, 2)), np.zeros(1), (), np.ones(1, np.float32))
    assert_array(traj.step_type, [FIRST], np.int32)
    assert_array(traj.next_step_type, [LAST], np.int32)


def test_from_episode_in_tf_function_with_unknown_length():
    @tf.function(input_signature=[TensorSpec([None], tf.float32)])
    def build(reward):
        return traj_lib.from_episode(tf.zeros_like(reward), tf.zeros_like(reward), (), reward)

    traj = build(tf.constant([1.0, 2.0, 3.0, 4.0]))
    assert_tensor(traj.step_type, [FIRST, MID, MID, MID], tf.int32)
    assert_tensor(traj.next_step_type, [MID, MID, MID, LAST], tf.int32)
    assert_tensor(traj.discount, [1.0] * 4, tf.float32)


def test_from_episode_names_a_leaf_of_another_length():
    episode = _episode()
    episode["observation"]["pos"] = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"episode at 'observation/pos': expected a leading time "
                                         r"dim of 3 \(that of 'reward'\)"):
        traj_lib.from_episode(**episode)
    with pytest.raises(ValueError, match=r"episode at 'action': expected a leading time dim of 2 "
                                         r"\(that of 'discount'\)"):
        traj_lib.from_episode(**_episode(), discount=np.ones(2, np.float32))


def test_from_episode_then_to_transition_drops_the_last_reward():
    traj = tree.map_structure(lambda x: x[None], traj_lib.from_episode(**_episode()))
    _, _, next_time_step = traj_lib.to_transition(traj)
    assert_array(next_time_step.reward, [[1.0, 2.0]], np.float32)
    assert_array(next_time_step.step_type, [[MID, MID]], np.int32)


# to_n_step_transition


def _n_step_rows(to_tensor=lambda x: x):
    # B = 2 rows of T = 3 steps (N = 2); the last column's reward and discount
    # are never used, so they hold values that would show if they were.
    return Trajectory(
        step_type=to_tensor(np.array([[FIRST, MID, MID], [MID, MID, LAST]], np.int32)),
        observation=to_tensor(np.array([[10, 11, 12], [20, 21, 22]], np.int32)),
        action=to_tensor(np.array([[5, 6, 7], [8, 9, 0]], np.int32)),
        policy_info=(),
        next_step_type=to_tensor(np.array([[MID, MID, MID], [MID, LAST, FIRST]], np.int32)),
        reward=to_tensor(np.array([[1.0, 2.0, 100.0], [3.0, 4.0, 100.0]], np.float32)),
        discount=to_tensor(np.array([[1.0, 1.0, 7.0], [0.5, 0.0, 7.0]], np.float32)))


@pytest.mark.parametrize("to_tensor", [lambda x: x, tf.constant], ids=["numpy", "tensors"])
def test_to_n_step_transition_discounts_rewards_over_n_steps(to_tensor):
    time_step, action_step, next_time_step = traj_lib.to_n_step_transition(
        _n_step_rows(to_tensor), gamma=0.9)
    # Row 0: 1 + 0.9 * 1 * 2 = 2.8; row 1: 3 + 0.9 * 0.5 * 4 = 4.8.
    np.testing.assert_allclose(next_time_step.reward, [2.8, 4.8], rtol=1e-6)
    # gamma^(N - 1) * d_0 * d_1: 0.9 * 1 * 1 and 0.9 * 0.5 * 0.
    np.testing.assert_allclose(next_time_step.discount, [0.9, 0.0], rtol=1e-6)
    assert_tensor(next_time_step.step_type, [MID, LAST], tf.int32)
    assert_tensor(next_time_step.observation, [12, 22], tf.int32)
    assert_tensor(time_step.step_type, [FIRST, MID], tf.int32)
    assert_tensor(time_step.observation, [10, 20], tf.int32)
    assert np.all(np.isnan(time_step.reward)) and np.all(np.isnan(time_step.discount))
    assert_tensor(action_step.action, [5, 8], tf.int32)
    assert action_step.state == () and action_step.info == ()


def test_to_n_step_transition_with_one_step_equals_to_transition():
    rows = tree.map_structure(lambda x: x[:, :2], _n_step_rows())
    n_step = traj_lib.to_n_step_transition(rows, gamma=0.9)
    one_step = traj_lib.to_transition(rows)
    np.testing.assert_allclose(n_step.next_time_step.reward, one_step.next_time_step.reward[:, 0])
    np.testing.assert_allclose(n_step.next_time_step.discount,
                               one_step.next_time_step.discount[:, 0])


def test_to_n_step_transition_weights_vector_rewards_per_row():
    rows = Trajectory(
        step_type=np.zeros((1, 3), np.int32), observation=np.zeros((1, 3)),
        action=np.zeros((1, 3)), policy_info=(), next_step_type=np.ones((1, 3), np.int32),
        reward={"objectives": np.array([[[1.0, 10.0], [2.0, 20.0], [9.0, 9.0]]], np.float32)},
        discount=np.ones((1, 3), np.float32))
    out = traj_lib.to_n_step_transition(rows, gamma=0.5)
    np.testing.assert_allclose(out.next_time_step.reward["objectives"], [[2.0, 20.0]])


def test_to_n_step_transition_in_tf_function_with_unknown_batch_and_time():
    signature = tree.map_structure(lambda x: TensorSpec([None, None], tf.as_dtype(x.dtype)),
                                   _n_step_rows())

    @tf.function(input_signature=[signature])
    def n_step(rows):
        return traj_lib.to_n_step_transition(rows, 0.9).next_time_step

    next_time_step = n_step(_n_step_rows(tf.constant))
    np.testing.assert_allclose(next_time_step.reward, [2.8, 4.8], rtol=1e-6)
    np.testing.assert_allclose(next_time_step.discount, [0.9, 0.0], rtol=1e-6)


def test_to_n_step_transition_needs_two_steps_and_a_time_dim():
    with pytest.raises(ValueError, match="at least 2 time steps, got T=1"):
        traj_lib.to_n_step_transition(tree.map_structure(lambda x: x[:, :1], _n_step_rows()), 0.9)
    with pytest.raises(ValueError, match=r"discount of rank 2, got shape \(2,\)"):
        traj_lib.to_n_step_transition(tree.map_structure(lambda x: x[:, 0], _n_step_rows()), 0.9)


# to_transition_spec and experience_to_transitions


def test_to_transition_spec_shares_the_time_step_spec():
    spec = Trajectory(
        step_type=TensorSpec([], tf.int32, "step_type"), observation=TensorSpec([2]),
        action=TensorSpec([], tf.int64), policy_info={"q": TensorSpec([3])},
        next_step_type=TensorSpec([], tf.int32, "step_type"), reward=TensorSpec([]),
        discount=TensorSpec([], name="discount"))
    time_step_spec, policy_step_spec, next_time_step_spec = traj_lib.to_transition_spec(spec)
    assert time_step_spec == TimeStep(spec.step_type, spec.reward, spec.discount,
                                      spec.observation)
    assert next_time_step_spec == time_step_spec
    assert policy_step_spec == PolicyStep(spec.action, (), spec.policy_info)


def test_experience_to_transitions_squeezes_the_time_dim_of_two_step_samples():
    rows = tree.map_structure(lambda x: x[:, :2], _batch())
    time_step, action_step, next_time_step = traj_lib.experience_to_transitions(
        rows, squeeze_time_dim=True)
    assert_array(time_step.step_type, [FIRST, MID], np.int32)
    assert_array(next_time_step.reward, [1.0, 3.0], np.float32)
    assert_array(next_time_step.observation["id"], [1, 4], np.int32)
    assert_array(action_step.info.log_probability, [-0.1, -0.4], np.float32)

    kept = traj_lib.experience_to_transitions(rows, squeeze_time_dim=False)
    assert kept.next_time_step.reward.shape == (2, 1)


def test_experience_to_transitions_of_tensors_in_tf_function():
    rows = tree.map_structure(lambda x: x[:, :2], _batch())
    signature = tree.map_structure(
        lambda x: TensorSpec([None, 2] + list(x.shape[2:]), tf.as_dtype(x.dtype)), rows)

    @tf.function(input_signature=[signature])
    def split(experience):
        return traj_lib.experience_to_transitions(experience, True)

    out = split(tree.map_structure(tf.constant, rows))
    assert_tensor(out.next_time_step.reward, [1.0, 3.0], tf.float32)
    assert_tensor(out.time_step.observation["pos"], [[10.0, 10.5], [20.0, 20.5]], tf.float32)


def test_experience_to_transitions_names_a_time_dim_that_cannot_be_squeezed():
    with pytest.raises(ValueError, match=r"transitions at 'time_step/step_type': squeeze_time_dim "
                                         r"needs a time dim of 1 .* got a time dim of 2"):
        traj_lib.experience_to_transitions(_batch(), squeeze_time_dim=True)
