"""Tests for tfpolicy.evaluation.multi_agent_env: the base class's spaces, make_multi_agent,
and the named errors of the agent-id, reset/step and action-dict checks."""

import gymnasium as gym
import numpy as np
import pytest

from tfpolicy.evaluation import MultiAgentEnv, check_action_dict, check_agent_id
from tfpolicy.evaluation import make_multi_agent
from tfpolicy.evaluation.multi_agent_env import check_reset_result, check_step_result


class Pair(MultiAgentEnv):
    """Two agents with their own spaces."""

    def __init__(self):
        self.possible_agents = ["a", "b"]
        self.observation_spaces = {"a": gym.spaces.Discrete(2), "b": gym.spaces.Discrete(3)}
        self.action_spaces = {"a": gym.spaces.Discrete(4), "b": gym.spaces.Discrete(5)}

    def reset(self, *, seed=None, options=None):
        return {"a": 0, "b": 0}, {}

    def step(self, action_dict):
        return {}, {}, {"__all__": True}, {"__all__": False}, {}


class Shared(Pair):
    def __init__(self):
        self.observation_space = gym.spaces.Discrete(7)
        self.action_space = gym.spaces.Discrete(8)


def test_spaces_per_agent_or_shared():
    env = Pair()
    assert env.get_observation_space("b") == gym.spaces.Discrete(3)
    assert env.get_action_space("a") == gym.spaces.Discrete(4)
    assert Shared().get_observation_space("anyone") == gym.spaces.Discrete(7)
    with pytest.raises(KeyError, match="no observation space for agent id 'c'"):
        env.get_observation_space("c")
    assert env.get_agent_ids() == ["a", "b"]
    assert env.render() is None and env.close() is None


def test_make_multi_agent_runs_independent_copies():
    cls = make_multi_agent("CartPole-v1")
    env = cls({"num_agents": 3})
    obs, infos = env.reset(seed=5)
    assert sorted(obs) == [0, 1, 2] and env.possible_agents == [0, 1, 2]
    # Copy i is reset with seed 5 + i, as a lone CartPole would be.
    lone, _ = gym.make("CartPole-v1").reset(seed=6)
    np.testing.assert_array_equal(obs[1], lone)
    assert env.observation_space == gym.spaces.Box(
        env.observation_space.low, env.observation_space.high, (4,), np.float32)
    obs, rewards, terminateds, truncateds, _ = env.step({0: 0, 1: 1, 2: 0})
    assert rewards == {0: 1.0, 1: 1.0, 2: 1.0}
    assert terminateds == {0: False, 1: False, 2: False, "__all__": False}
    assert truncateds["__all__"] is False
    env.close()


def test_make_multi_agent_ends_when_every_copy_is_done():
    class OneStep(gym.Env):
        observation_space = gym.spaces.Discrete(2)
        action_space = gym.spaces.Discrete(2)

        def __init__(self, config):
            self.config = config

        def reset(self, *, seed=None, options=None):
            return 0, {}

        def step(self, action):
            # Terminates when the action is 1, else runs on.
            return 1, 1.0, bool(action == 1), False, {}

    env = make_multi_agent(OneStep)({"num_agents": 2, "x": 1})
    assert env.envs[0].config == {"x": 1}
    env.reset()
    _, _, terminateds, _, _ = env.step({0: 1, 1: 0})
    assert terminateds == {0: True, 1: False, "__all__": False}
    with pytest.raises(ValueError, match=r"got an action for agent 0, which did not get an "
                                         r"observation; expected actions only for \[1\]"):
        env.step({0: 0, 1: 0})
    _, _, terminateds, truncateds, _ = env.step({1: 1})
    assert terminateds == {1: True, "__all__": True} and truncateds["__all__"] is False


def test_make_multi_agent_checks_num_agents():
    with pytest.raises(ValueError, match="'num_agents' must be an int >= 1, got 0"):
        make_multi_agent("CartPole-v1")({"num_agents": 0})


@pytest.mark.parametrize("agent_id, type_name", [
    (np.int64(1), "numpy.int64"), (True, "bool"), (1.0, "float"), (("a", 1), "tuple")])
def test_an_agent_id_of_another_type_names_the_id_its_type_and_the_env(agent_id, type_name):
    with pytest.raises(TypeError) as info:
        check_agent_id(agent_id, Pair())
    message = str(info.value)
    assert message.startswith(f"agent id {agent_id!r} has type {type_name}; expected a str or "
                              f"an int (not bool, not a numpy scalar) (env Pair)")
    if type_name.startswith("numpy"):
        assert message.endswith("convert it with int() or str()")


def test_an_agent_id_outside_possible_agents_names_both():
    with pytest.raises(ValueError, match=r"agent id 'c' from env Pair is not one of its "
                                         r"possible_agents \['a', 'b'\]"):
        check_agent_id("c", Pair())
    assert check_agent_id("c", Pair(), possible_agents=()) == "c"
    assert check_agent_id(3) == 3


def test_step_results_need_all_and_five_dicts():
    env = Pair()
    with pytest.raises(ValueError, match=r"Pair.step\(\) returned truncateds without the key "
                                         r"'__all__': expected it .*got the keys \['a'\]"):
        check_step_result(({}, {}, {"__all__": False}, {"a": False}, {}), env)
    with pytest.raises(TypeError, match=r"must return \(obs, rewards, terminateds, truncateds, "
                                        r"infos\)"):
        check_step_result(({}, {}, {}), env)
    with pytest.raises(TypeError, match=r"step\(\)'s rewards must be a dict keyed by agent id"):
        check_step_result(({}, [1.0], {"__all__": False}, {"__all__": False}, {}), env)
    with pytest.raises(TypeError, match="agent id np.int64"):
        check_step_result(({np.int64(0): 1}, {}, {"__all__": False}, {"__all__": False}, {}),
                          None)


def test_reset_results_are_two_dicts():
    assert check_reset_result(({"a": 1}, None), Pair()) == ({"a": 1}, {})
    with pytest.raises(TypeError, match=r"Pair.reset\(\) must return \(obs, infos\)"):
        check_reset_result({"a": 1}, Pair())


def test_action_dict_check():
    check_action_dict({"a": 1}, ["a", "b"])
    with pytest.raises(ValueError, match=r"got an action for agent 'b', which did not get an "
                                         r"observation; expected actions only for \['a'\]"):
        check_action_dict({"b": 1}, ["a"], Pair())
    with pytest.raises(TypeError, match="takes a dict of actions keyed by agent id, got list"):
        check_action_dict([1], ["a"])
