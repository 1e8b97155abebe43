"""Tests of `RandomPyEnvironment`: seeded draws, durations, reward_fn, batches, checks, a driver."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from specs import ArraySpec, BoundedArraySpec, array_spec
from tfpolicy.drivers import PyDriver
from tfpolicy.environments import RandomPyEnvironment, random_py_environment
from tfpolicy.policies import RandomPyPolicy
from tfpolicy.trajectories.time_step import StepType

FIRST, MID, LAST = 0, 1, 2

OBSERVATION_SPEC = {
    "pixels": BoundedArraySpec((2, 3), np.uint8, 0, 255, name="pixels"),
    "position": BoundedArraySpec((2,), np.float32, -1.0, [1.0, 2.0], name="position"),
}
ACTION_SPEC = BoundedArraySpec((), np.int64, 0, 2, name="action")


def fixed_length(length, **kwargs):
    """Every episode takes exactly `length` steps (probability 0 until max_duration)."""
    return RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, episode_end_probability=0.0,
                               max_duration=length, **kwargs)


def test_the_package_exports_the_module_and_the_class():
    assert RandomPyEnvironment is random_py_environment.RandomPyEnvironment


def test_reset_samples_the_observation_with_the_seeded_generator():
    env = RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, seed=7)
    first = env.reset()
    expected = array_spec.sample_spec_nest(OBSERVATION_SPEC, np.random.default_rng(7))
    np.testing.assert_array_equal(first.observation["pixels"], expected["pixels"])
    np.testing.assert_array_equal(first.observation["position"], expected["position"])
    assert (int(first.step_type), float(first.reward), float(first.discount)) == (FIRST, 0.0, 1.0)


def test_the_end_draw_follows_the_observation_draw():
    # One step: the observation is drawn, then one uniform number decides the end.
    env = RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, episode_end_probability=0.5, seed=3)
    env.reset()
    step = env.step(1)
    rng = np.random.default_rng(3)
    array_spec.sample_spec_nest(OBSERVATION_SPEC, rng)
    observation = array_spec.sample_spec_nest(OBSERVATION_SPEC, rng)
    ends = rng.uniform() < 0.5
    np.testing.assert_array_equal(step.observation["position"], observation["position"])
    assert int(step.step_type) == (LAST if ends else MID)


def test_same_seed_same_episodes_different_seed_different_observations():
    def run(seed):
        env = RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, episode_end_probability=0.3,
                                  seed=seed)
        steps = [env.reset()] + [env.step(1) for _ in range(20)]
        return ([int(s.step_type) for s in steps],
                np.stack([s.observation["position"] for s in steps]))

    types_a, obs_a = run(5)
    types_b, obs_b = run(5)
    assert types_a == types_b
    np.testing.assert_array_equal(obs_a, obs_b)
    assert LAST in types_a and MID in types_a
    assert not np.array_equal(obs_a, run(6)[1])


def test_seed_method_restarts_the_stream():
    env = RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, seed=1)
    a = env.reset().observation["position"]
    env.seed(1)
    np.testing.assert_array_equal(env.reset().observation["position"], a)


def test_observations_have_the_specs_dtypes_shapes_and_bounds():
    env = RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, seed=0)
    for time_step in [env.reset()] + [env.step(0) for _ in range(30)]:
        assert array_spec.check_arrays_nest(time_step.observation, OBSERVATION_SPEC)
        assert time_step.reward.dtype == np.float32 and time_step.reward.shape == ()


@st.composite
def bounded_specs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    if draw(st.booleans()):
        low = draw(st.integers(-5, 5))
        return BoundedArraySpec(shape, np.int32, low, low + draw(st.integers(0, 4)))
    low = draw(st.floats(-3, 3, width=32))
    return BoundedArraySpec(shape, np.float32, low, low + draw(st.floats(0, 2, width=32)))


@given(spec=st.dictionaries(st.sampled_from("abc"), bounded_specs(), min_size=1),
       batch_size=st.one_of(st.none(), st.integers(1, 3)), seed=st.integers(0, 2**16))
def test_any_bounded_nest_is_sampled_within_bounds(spec, batch_size, seed):
    env = RandomPyEnvironment(spec, batch_size=batch_size, seed=seed)
    outer = () if batch_size is None else (batch_size,)
    for time_step in (env.reset(), env.step(None)):
        for key, leaf in spec.items():
            value = time_step.observation[key]
            assert value.dtype == leaf.dtype and value.shape == outer + leaf.shape
            assert (value >= leaf.minimum).all() and (value <= leaf.maximum).all()


@pytest.mark.parametrize("kwargs, expected", [
    (dict(episode_end_probability=0.0, max_duration=3), [FIRST, MID, MID, LAST, FIRST, MID]),
    (dict(episode_end_probability=1.0, min_duration=3), [FIRST, MID, MID, LAST, FIRST, MID]),
    (dict(episode_end_probability=1.0), [FIRST, LAST, FIRST, LAST, FIRST, LAST]),
    (dict(episode_end_probability=1.0, min_duration=2, max_duration=2),
     [FIRST, MID, LAST, FIRST, MID, LAST]),
])
def test_min_and_max_duration(kwargs, expected):
    env = RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, **kwargs)
    assert [int(env.step(0).step_type) for _ in range(6)] == expected


def test_reset_in_mid_episode_restarts_the_duration_count():
    env = fixed_length(3)
    env.reset()
    env.step(0)
    env.step(0)
    env.reset()
    assert [int(env.step(0).step_type) for _ in range(3)] == [MID, MID, LAST]


def test_discounts_of_mid_and_last_steps():
    env = fixed_length(2, discount=0.9)
    steps = [env.reset(), env.step(0), env.step(0)]
    assert [float(s.discount) for s in steps] == [1.0, pytest.approx(0.9), 0.0]


def test_reward_fn_gets_step_type_action_and_the_new_observation():
    calls = []

    def reward_fn(step_type, action, observation):
        calls.append((step_type, action, observation))
        return float(action) * 10

    env = fixed_length(2, reward_fn=reward_fn)
    env.reset()
    mid = env.step(np.int64(1))
    last = env.step(2)  # a Python int is checked and converted to the spec's dtype
    assert [c[0] for c in calls] == [StepType.MID, StepType.LAST]
    assert [c[1] for c in calls] == [1, 2] and calls[1][1].dtype == np.int64
    assert calls[0][2] is mid.observation and calls[1][2] is last.observation
    assert (float(mid.reward), float(last.reward)) == (10.0, 20.0)
    assert mid.reward.dtype == np.float32
    env.step(0)  # the reset ignores the action and does not call reward_fn
    assert len(calls) == 2


def test_reward_fn_with_the_wrong_shape_is_a_named_error():
    env = fixed_length(2, reward_fn=lambda *_: np.zeros(2), batch_size=None)
    env.reset()
    with pytest.raises(ValueError, match=r"reward_fn returned a reward of shape \(2,\); "
                                         r"expected shape \(\)"):
        env.step(0)


def test_batched_environment():
    batch_action = np.array([0, 1, 2], np.int64)
    env = fixed_length(2, batch_size=3, discount=[0.5, 0.6, 0.7],
                       reward_fn=lambda step_type, action, observation: action * 1.0)
    assert env.batched and env.batch_size == 3
    first = env.reset()
    assert first.observation["pixels"].shape == (3, 2, 3)
    np.testing.assert_array_equal(first.step_type, [FIRST] * 3)
    mid = env.step(batch_action)
    np.testing.assert_array_equal(mid.step_type, [MID] * 3)
    np.testing.assert_allclose(mid.discount, [0.5, 0.6, 0.7])
    np.testing.assert_array_equal(mid.reward, [0.0, 1.0, 2.0])
    last = env.step(batch_action)
    np.testing.assert_array_equal(last.step_type, [LAST] * 3)
    np.testing.assert_array_equal(last.discount, [0.0] * 3)


def test_default_reward_is_zero_of_the_batch_shape():
    env = fixed_length(2, batch_size=2)
    env.reset()
    reward = env.step(np.array([0, 0])).reward
    assert reward.dtype == np.float32
    np.testing.assert_array_equal(reward, [0.0, 0.0])


def test_actions_are_checked_with_named_paths():
    spec = {"move": BoundedArraySpec((2,), np.float32, -1.0, 1.0),
            "pick": BoundedArraySpec((), np.int32, 0, 3)}
    env = RandomPyEnvironment(OBSERVATION_SPEC, spec, episode_end_probability=0.0)
    env.reset()
    env.step({"move": np.zeros(2, np.float32), "pick": np.int32(3)})
    with pytest.raises(ValueError, match=r"action at 'pick'.*outside the bounds"):
        env.step({"move": np.zeros(2, np.float32), "pick": np.int32(4)})
    with pytest.raises(ValueError, match=r"action at 'move'"):
        env.step({"move": np.zeros(3, np.float32), "pick": np.int32(0)})
    with pytest.raises(TypeError, match=r"pick"):
        env.step({"move": np.zeros(2, np.float32)})


def test_batched_actions_need_the_batch_dim():
    env = fixed_length(3, batch_size=2)
    env.reset()
    with pytest.raises(ValueError, match=r"action"):
        env.step(np.array([0, 1, 1]))


def test_without_an_action_spec_any_action_is_accepted():
    env = RandomPyEnvironment(OBSERVATION_SPEC, episode_end_probability=0.0)
    assert env.action_spec() == []
    env.reset()
    assert int(env.step("anything").step_type) == MID


def test_auto_reset_false_asks_for_reset():
    env = fixed_length(1, auto_reset=False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset()
    assert int(env.step(0).step_type) == LAST
    with pytest.raises(RuntimeError, match="after the last step"):
        env.step(0)


def test_render_returns_a_random_uint8_image():
    env = RandomPyEnvironment(OBSERVATION_SPEC, render_size=(4, 5, 3), seed=2)
    image = env.render()
    assert image.shape == (4, 5, 3) and image.dtype == np.uint8
    with pytest.raises(ValueError, match=r"mode must be one of \('rgb_array',\), got 'human'"):
        env.render("human")


@pytest.mark.parametrize("kwargs, match", [
    (dict(episode_end_probability=1.5), "episode_end_probability must lie in"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(min_duration=-1), "min_duration must be an integer >= 0"),
    (dict(max_duration=0), "max_duration must be an integer >= 1"),
    (dict(min_duration=3, max_duration=2), r"max_duration \(2\) is below min_duration \(3\)"),
    (dict(batch_size=2, discount=[0.5, 0.5, 0.5]), "discount of shape"),
])
def test_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomPyEnvironment(OBSERVATION_SPEC, ACTION_SPEC, **kwargs)


def test_driven_by_py_driver_with_a_random_policy():
    """The migration scenario: a TF-Agents user's random env, random policy and driver."""
    env = fixed_length(3, seed=0)
    policy = RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
    rows = []
    driver = PyDriver(env, policy, observers=[rows.append], max_steps=6)
    time_step, _ = driver.run()
    # Two 3-step episodes: 6 steps plus the boundary row between them.
    assert [(int(r.step_type), int(r.next_step_type)) for r in rows] == [
        (FIRST, MID), (MID, MID), (MID, LAST), (LAST, FIRST),
        (FIRST, MID), (MID, MID), (MID, LAST)]
    assert all(0 <= int(r.action) <= 2 for r in rows)
    assert all(array_spec.check_arrays_nest(r.observation, OBSERVATION_SPEC) for r in rows)
    assert int(time_step.step_type) == LAST


def test_batched_env_driven_by_py_driver():
    env = fixed_length(2, batch_size=2, seed=0)
    policy = RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0, outer_dims=(2,))
    rows = []
    PyDriver(env, policy, observers=[rows.append], max_episodes=4).run()
    # Both entries end together; each boundary row ends two episodes.
    assert [r.step_type.tolist() for r in rows] == [[FIRST] * 2, [MID] * 2, [LAST] * 2] * 2
    assert rows[0].observation["pixels"].shape == (2, 2, 3)


def test_unbounded_observation_spec():
    env = RandomPyEnvironment(ArraySpec((4,), np.float64), seed=0)
    observation = env.reset().observation
    assert observation.shape == (4,) and observation.dtype == np.float64
    assert np.isfinite(observation).all()
