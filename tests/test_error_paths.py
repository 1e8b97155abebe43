"""The invariant "every error about a nest names its path", across the public entry points.

Each case hands a public entry point a nest that is wrong at one known place
(`observation/vel`, `move/angle`, ...) and checks that the error names that
path in the one spelling (`at 'a/b'`), and, for a leaf that does not match
its spec, shows the expected spec and the value's dtype and shape.
"""

import re
from typing import Any, Callable

import numpy as np
import pytest
import tensorflow as tf

import savers
import specs
from specs import BoundedArraySpec, BoundedTensorSpec, TensorSpec, nest_utils
from tfpolicy.drivers import PyDriver
from tfpolicy.environments import BatchedPyEnvironment, PyEnvironment, TFPyEnvironment
from tfpolicy.policies import FixedPolicy, PyTFEagerPolicy
from tfpolicy.replay import UniformReplayBuffer
from tfpolicy.trajectories import time_step as ts

OBS = {"pos": TensorSpec([2], tf.float32, "pos"), "vel": TensorSpec([3], tf.float32, "vel")}
ACTION = {"angle": BoundedTensorSpec([], tf.float32, -1.0, 1.0, "angle"),
          "gear": BoundedTensorSpec([], tf.int32, 0, 2, "gear")}
VEL = OBS["vel"]
BAD_VEL = np.zeros(4, np.float32)  # shape (4,) where the spec says (3,)


def _obs(vel: Any = None) -> dict:
    return {"pos": np.zeros(2, np.float32),
            "vel": np.zeros(3, np.float32) if vel is None else vel}


class _Rover(PyEnvironment):
    """One-step episodes over the dict observation and action above."""

    def __init__(self, gear_max: int = 2):
        super().__init__()
        self._action_spec = {"angle": BoundedArraySpec((), np.float32, -1.0, 1.0, "angle"),
                             "gear": BoundedArraySpec((), np.int32, 0, gear_max, "gear")}

    def observation_spec(self) -> dict:
        return specs.to_array_spec(OBS)

    def action_spec(self) -> dict:
        return self._action_spec

    def _reset(self) -> ts.TimeStep:
        return ts.restart(_obs())

    def _step(self, action: Any) -> ts.TimeStep:
        return ts.termination(_obs(), np.float32(1.0))


def _policy() -> FixedPolicy:
    return FixedPolicy({"angle": 0.5, "gear": 1}, ts.time_step_spec(OBS), ACTION)


def _assert_names(error: BaseException, path: str, spec: Any = None,
                  dtype: str = "float32", shape: str = "(4,)") -> None:
    message = str(error)
    assert f"at '{path}'" in message, message
    if spec is not None:
        assert repr(spec) in message, message
        assert f"dtype {dtype} and shape {shape}" in message, message


def _raises(fn: Callable[[], Any]) -> BaseException:
    with pytest.raises((TypeError, ValueError)) as info:
        fn()
    return info.value


def test_check_nest_names_the_leaf_path_and_both_sides():
    error = _raises(lambda: nest_utils.check_nest(_obs(BAD_VEL), OBS, name="observation"))
    _assert_names(error, "vel", VEL)
    assert str(error).startswith("observation at 'vel': shape mismatch")


def test_nest_checker_names_the_leaf_path_and_both_sides():
    checker = nest_utils.NestChecker(specs.to_array_spec(OBS), name="observation")
    checker(_obs())  # an accepted signature first: the bad one must still be caught
    error = _raises(lambda: checker(_obs(BAD_VEL)))
    _assert_names(error, "vel", specs.to_array_spec(OBS)["vel"])


def test_tf_policy_action_and_distribution_name_the_observation_path():
    policy = _policy()
    step = ts.restart(_obs(BAD_VEL))
    _assert_names(_raises(lambda: policy.action(step)), "observation/vel", VEL)
    _assert_names(_raises(lambda: policy.distribution(step)), "observation/vel", VEL)


def test_numpy_bridge_names_the_observation_path():
    policy = PyTFEagerPolicy(_policy())
    policy.action(ts.restart(_obs()))
    error = _raises(lambda: policy.action(ts.restart(_obs(BAD_VEL))))
    _assert_names(error, "observation/vel", specs.to_array_spec(VEL))


def test_saved_model_policy_names_the_observation_path(tmp_path):
    savers.PolicySaver(_policy()).save(str(tmp_path / "policy"))
    served = savers.SavedModelPyTFEagerPolicy(str(tmp_path / "policy"))
    error = _raises(lambda: served.action(ts.restart(_obs(BAD_VEL))))
    assert "at 'observation/vel'" in str(error)
    assert "dtype float32 and shape (4,)" in str(error)


def test_lite_policy_names_the_observation_path():
    pytest.importorskip("ai_edge_litert")
    lite = savers.LitePyPolicy.from_policy(_policy())
    error = _raises(lambda: lite.action(ts.restart(_obs(BAD_VEL))))
    assert "at 'observation/vel'" in str(error)
    assert "dtype float32 and shape (4,)" in str(error)


def test_environment_step_names_the_action_path():
    env = _Rover()
    env.reset()
    error = _raises(lambda: env.step({"angle": np.float32(0.0), "gear": np.zeros(2, np.int32)}))
    _assert_names(error, "gear", env.action_spec()["gear"], dtype="int32", shape="(2,)")
    error = _raises(lambda: env.step({"angle": np.float32(0.0), "gear": np.int32(7)}))
    assert "action at 'gear'" in str(error) and "7" in str(error)


def test_tf_environment_step_names_the_action_path():
    env = TFPyEnvironment(_Rover())
    env.reset()
    error = _raises(lambda: env.step({"angle": tf.zeros([1]), "gear": tf.zeros([1, 2], tf.int32)}))
    assert "at 'gear'" in str(error)


def test_replay_add_batch_names_the_item_path():
    buffer = UniformReplayBuffer(OBS, capacity=4, batch_size=1)
    error = _raises(lambda: buffer.add_batch({"pos": np.zeros((1, 2), np.float32),
                                              "vel": np.zeros((1, 4), np.float32)}))
    _assert_names(error, "vel", VEL, shape="(1, 4)")


def test_driver_names_the_spec_path_where_policy_and_environment_differ():
    env = _Rover()
    other = {"angle": BoundedTensorSpec([], tf.float32, -1.0, 1.0, "angle"),
             "gear": BoundedTensorSpec([], tf.int64, 0, 2, "gear")}
    policy = PyTFEagerPolicy(FixedPolicy({"angle": 0.5, "gear": 1}, ts.time_step_spec(OBS),
                                         other))
    error = _raises(lambda: PyDriver(env, policy, observers=[], max_steps=1))
    message = str(error)
    assert "action_spec at 'gear'" in message
    assert "int64" in message and "int32" in message


def test_batched_environment_names_the_spec_path_where_environments_differ():
    error = _raises(lambda: BatchedPyEnvironment([_Rover(), _Rover(gear_max=5)]))
    assert "at 'gear'" in str(error)


def test_check_compatible_specs_names_the_path_and_both_specs():
    error = _raises(lambda: nest_utils.check_compatible_specs(
        OBS, dict(OBS, vel=TensorSpec([4], tf.float32)), "observation_spec",
        given_name="mine", expected_name="yours", owner="Owner"))
    assert str(error) == (
        "Owner: observation_spec at 'vel': mine has " + repr(VEL) + ", yours has "
        + repr(TensorSpec([4], tf.float32)) + "; they must agree in dtype and shape")


def test_spaces_name_the_path_of_an_unsupported_part():
    gymnasium = pytest.importorskip("gymnasium")
    space = gymnasium.spaces.Dict({"ok": gymnasium.spaces.Discrete(2),
                                   "bad": gymnasium.spaces.Text(3)})
    assert "at 'bad'" in str(_raises(lambda: specs.from_space(space)))
    assert "at 'a/1'" in str(_raises(lambda: specs.to_space({"a": (VEL, 3)})))


def test_a_bare_leaf_is_spelled_root():
    # The root is spelled `<root>` everywhere: a bare leaf's errors say so.
    error = _raises(lambda: nest_utils.check_nest(np.zeros(4, np.float32), VEL))
    assert "at '<root>'" in str(error)
    assert not re.search(r"at ''", str(error))
