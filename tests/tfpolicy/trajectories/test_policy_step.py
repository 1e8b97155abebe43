"""Tests for tfpolicy.trajectories.policy_step: PolicyStep, PolicyInfo and the log-probability helpers."""

import collections
from typing import NamedTuple

import numpy as np
import pytest
import tensorflow as tf

import tfpolicy.trajectories as trajectories
from tfpolicy.trajectories import policy_step as ps
from tfpolicy.trajectories.policy_step import PolicyInfo, PolicyStep


class _InfoWithLogProb(NamedTuple):
    log_probability: object = ()
    entropy: object = ()


class _InfoWithoutLogProb(NamedTuple):
    q_values: object = ()


def test_policy_step_defaults_state_and_info_to_empty_tuples():
    step = PolicyStep(action=np.array([1, 2]))
    np.testing.assert_array_equal(step.action, [1, 2])
    assert step.state == ()
    assert step.info == ()
    assert step._fields == ("action", "state", "info")


def test_policy_step_is_positional_and_immutable():
    step = PolicyStep(1, {"h": 2}, PolicyInfo(3))
    assert (step.action, step.state, step.info) == (1, {"h": 2}, PolicyInfo(log_probability=3))
    with pytest.raises(AttributeError):
        step.action = 5
    assert step._replace(action=5) == PolicyStep(5, {"h": 2}, PolicyInfo(3))


def test_policy_info_defaults_to_empty_log_probability():
    assert PolicyInfo().log_probability == ()
    assert PolicyInfo._fields == ("log_probability",)


def test_set_log_probability_on_empty_info_makes_policy_info():
    info = ps.set_log_probability((), np.array([-0.5, -1.0]))
    assert type(info) is PolicyInfo
    np.testing.assert_array_equal(info.log_probability, [-0.5, -1.0])


def test_set_log_probability_replaces_policy_info_field():
    old = PolicyInfo(log_probability=-3.0)
    new = ps.set_log_probability(old, -0.25)
    assert new == PolicyInfo(log_probability=-0.25)
    assert old == PolicyInfo(log_probability=-3.0)


def test_set_log_probability_replaces_field_of_other_namedtuple():
    new = ps.set_log_probability(_InfoWithLogProb(entropy=1.5), -2.0)
    assert new == _InfoWithLogProb(log_probability=-2.0, entropy=1.5)


def test_set_log_probability_sets_key_in_a_copy_of_a_dict():
    old = {"q": 1.0}
    new = ps.set_log_probability(old, -0.5)
    assert new == {"q": 1.0, "log_probability": -0.5}
    assert old == {"q": 1.0}


def test_set_log_probability_keeps_the_dict_type():
    old = collections.OrderedDict(q=1.0)
    new = ps.set_log_probability(old, -0.5)
    assert type(new) is collections.OrderedDict
    assert list(new.items()) == [("q", 1.0), ("log_probability", -0.5)]


def test_set_log_probability_accepts_tensors():
    info = ps.set_log_probability(PolicyInfo(), tf.constant([-1.0, -2.0]))
    np.testing.assert_array_equal(info.log_probability.numpy(), [-1.0, -2.0])


@pytest.mark.parametrize("info", [
    None,
    [1.0],
    (1.0, 2.0),
    _InfoWithoutLogProb(q_values=1.0),
    np.zeros(2),
    tf.zeros([2]),
])
def test_set_log_probability_rejects_other_infos(info):
    with pytest.raises(TypeError, match=r"supported infos are the empty tuple \(\), a PolicyInfo "
                                        r"or other NamedTuple with a 'log_probability' field, or a dict"):
        ps.set_log_probability(info, -1.0)


def test_set_log_probability_error_names_the_info_type():
    with pytest.raises(TypeError, match="of type _InfoWithoutLogProb"):
        ps.set_log_probability(_InfoWithoutLogProb(), -1.0)


def test_get_log_probability_from_policy_info():
    assert ps.get_log_probability(PolicyInfo(log_probability=-0.5)) == -0.5


def test_get_log_probability_of_unset_policy_info_is_default():
    assert ps.get_log_probability(PolicyInfo()) is None
    assert ps.get_log_probability(PolicyInfo(), default=0.0) == 0.0


def test_get_log_probability_from_other_namedtuple():
    assert ps.get_log_probability(_InfoWithLogProb(log_probability=-2.0)) == -2.0


def test_get_log_probability_from_dict():
    assert ps.get_log_probability({"log_probability": -1.0, "q": 3.0}) == -1.0
    assert ps.get_log_probability({"q": 3.0}, default=7.0) == 7.0


@pytest.mark.parametrize("info", [(), None, [1.0], _InfoWithoutLogProb(q_values=1.0), np.zeros(2)])
def test_get_log_probability_of_infos_without_one_is_default(info):
    assert ps.get_log_probability(info) is None
    assert ps.get_log_probability(info, default=-9.0) == -9.0


def test_get_log_probability_returns_tensors_unchanged():
    log_probability = tf.constant([-1.0, -2.0])
    assert ps.get_log_probability(PolicyInfo(log_probability)) is log_probability


def test_set_then_get_log_probability_round_trips_for_each_info_kind():
    for info in ((), PolicyInfo(), _InfoWithLogProb(), {"q": 1.0}):
        assert ps.get_log_probability(ps.set_log_probability(info, -4.0)) == -4.0


def test_package_reexports_policy_step_names():
    for name in ps.__all__:
        assert getattr(trajectories, name) is getattr(ps, name)
    assert trajectories.policy_step is ps


def test_without_log_probability_for_each_info_kind():
    assert ps.without_log_probability(PolicyInfo(log_probability=-1.0)) == PolicyInfo()
    assert ps.without_log_probability({"log_probability": 1.0, "q": 2.0}) == {"q": 2.0}
    assert ps.without_log_probability({"q": 2.0}) == {"q": 2.0}
    assert ps.without_log_probability(()) == ()


def test_common_fields_names_the_log_probability_field():
    assert ps.CommonFields.LOG_PROBABILITY == "log_probability"
    assert PolicyInfo._fields == (ps.CommonFields.LOG_PROBABILITY,)
    assert trajectories.CommonFields is ps.CommonFields


def test_get_log_probability_takes_tf_agents_default_keyword():
    assert ps.get_log_probability({"q": 1.0}, default_log_probability=-3.0) == -3.0
    assert ps.get_log_probability((), -3.0) == -3.0
    assert ps.get_log_probability(PolicyInfo(-1.0), default_log_probability=-3.0) == -1.0
    # The short keyword wins when both are given.
    assert ps.get_log_probability((), default_log_probability=1.0, default=2.0) == 2.0
