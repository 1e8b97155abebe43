"""Tests for tfpolicy.evaluation.env_creator: registered names, gymnasium ids, callables,
the context a creator receives, and the errors for unknown ids and wrong environments."""

import numpy as np
import pytest

from specs import ArraySpec, BoundedArraySpec
from tfpolicy.environments import GymnasiumEnvironment, PyEnvironment, load_vector
from tfpolicy.evaluation import EnvContext, check_env, make_env_creator, register_env
from tfpolicy.evaluation import registered_envs
from tfpolicy.trajectories import time_step as ts


class Still(PyEnvironment):
    """Observation `env_config["value"]`, forever."""

    def __init__(self, env_config):
        super().__init__()
        self.env_config = env_config

    def observation_spec(self):
        return ArraySpec((), np.float32)

    def action_spec(self):
        return BoundedArraySpec((), np.int64, 0, 1)

    def _reset(self):
        return ts.restart(np.float32(self.env_config.get("value", 0.0)))

    def _step(self, action):
        return ts.transition(np.float32(self.env_config.get("value", 0.0)), reward=0.0)


def test_a_gymnasium_id_passes_env_config_to_load():
    env = make_env_creator("CartPole-v1", {"max_episode_steps": 2})()
    assert isinstance(env, GymnasiumEnvironment)
    env.reset()
    assert int(env.step(0).step_type) == 1
    assert int(env.step(0).step_type) == 2  # truncated after 2 steps


def test_a_registered_name_wins_and_gets_the_env_config():
    register_env("CartPole-v1-still", Still)
    register_env("CartPole-v1", Still)
    try:
        env = make_env_creator("CartPole-v1", {"value": 4.0})()
        assert isinstance(env, Still)
        assert float(env.reset().observation) == 4.0
        assert {"CartPole-v1", "CartPole-v1-still"} <= set(registered_envs())
    finally:
        from tfpolicy.evaluation import env_creator
        env_creator._registry.pop("CartPole-v1")


def test_a_callable_gets_an_env_context_whose_keys_override_the_bound_config():
    creator = make_env_creator(Still, {"value": 1.0, "other": 2})
    env = creator(EnvContext({"value": 3.0}, worker_index=2, vector_index=1, num_workers=4))
    assert dict(env.env_config) == {"value": 3.0, "other": 2}
    assert (env.env_config.worker_index, env.env_config.vector_index,
            env.env_config.num_workers) == (2, 1, 4)
    assert dict(creator().env_config) == {"value": 1.0, "other": 2}
    assert repr(creator).endswith("Still'>, {'value': 1.0, 'other': 2})")


def test_an_unknown_id_names_the_key_the_value_and_close_matches():
    with pytest.raises(ValueError) as info:
        make_env_creator("CartPol-v1", {})
    message = str(info.value)
    assert message.startswith("config key 'env': unknown environment 'CartPol-v1'")
    assert "close matches: ['CartPole-v1'" in message
    assert "expected a name registered with register_env, a gymnasium id or a callable" in message


def test_close_matches_include_registered_names():
    register_env("MyCounterEnv", Still)
    with pytest.raises(ValueError, match=r"close matches: \['MyCounterEnv'\]"):
        make_env_creator("MyCountrEnv")


@pytest.mark.parametrize("env", [None, 3])
def test_env_of_another_type_is_a_type_error(env):
    with pytest.raises(TypeError, match=f"config key 'env': got {type(env).__name__}"):
        make_env_creator(env)


def test_env_config_must_be_a_mapping():
    with pytest.raises(TypeError, match="config key 'env_config': expected a dict, got list"):
        make_env_creator("CartPole-v1", [1])


def test_a_creator_returning_a_gymnasium_env_gets_it_wrapped_as_in_rllib():
    import gymnasium
    from tfpolicy.environments import GymnasiumEnvironment
    creator = make_env_creator(lambda config: gymnasium.make("CartPole-v1"))
    env = creator()
    assert isinstance(env, GymnasiumEnvironment)
    assert env.observation_spec().shape == (4,) and int(env.action_spec().maximum) == 1


def test_a_creator_returning_something_else_names_what_was_expected():
    creator = make_env_creator(lambda config: object())
    with pytest.raises(TypeError, match="returned a object; expected an unbatched "
                                        "tfpolicy.environments.PyEnvironment"):
        creator()


def test_a_creator_returning_a_batched_env_is_a_value_error():
    creator = make_env_creator(lambda config: load_vector("CartPole-v1", 2))
    with pytest.raises(ValueError, match=r"returned a batched environment \(batch_size=2\); "
                                         r"expected an unbatched PyEnvironment"):
        creator()


def test_check_env_returns_a_good_env():
    env = Still({})
    assert check_env(env, "source") is env


def test_register_env_checks_its_arguments():
    with pytest.raises(TypeError, match="creator must be callable"):
        register_env("x", 3)
    with pytest.raises(TypeError, match="name must be a str"):
        register_env(3, Still)


def test_env_context_copy_with_overrides():
    context = EnvContext({"a": 1}, worker_index=1, vector_index=2)
    copy = context.copy_with_overrides(vector_index=5)
    assert dict(copy) == {"a": 1} and (copy.worker_index, copy.vector_index) == (1, 5)
    assert repr(context) == "EnvContext({'a': 1}, worker_index=1, vector_index=2, num_workers=0)"
