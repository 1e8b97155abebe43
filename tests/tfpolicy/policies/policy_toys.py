"""Toy specs, networks, policies and time steps shared by the policy tests.

Two small worlds, each with hand-computable outputs:

- discrete (the Q, greedy, epsilon-greedy, Boltzmann and random policy
  tests): a two-float observation "obs", optionally next to a mask of three
  ints, and three actions 2, 3, 4; `LinearQ` (q = obs @ KERNEL) and the
  recurrent `RunningSumQ`;
- continuous (the actor, Gaussian and OU-noise tests): a three-float
  observation, constant Keras actors and the recurrent `Accumulator`.

Tests import it by name; this directory's conftest.py puts it on `sys.path`.
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from hypothesis import strategies as st

from specs import BoundedTensorSpec, TensorSpec, nest_utils, tensor_spec
from tfpolicy import PolicyStep, TFPolicy, time_step as ts
from tfpolicy.networks import network
from tfpolicy.policies.actor_policy import ActorPolicy

tfd = tfp.distributions


def signature(spec):
    """`spec` (a nest of unbatched specs) with an unknown batch dim, for `tf.function`."""
    return tf.nest.map_structure(lambda s: tf.TensorSpec([None] + s.shape.as_list(), s.dtype), spec)


def record_checks(monkeypatch):
    """Spies on `specs.nest_utils.check_nest`: returns the list the name of every check is
    appended to (`"time_step"`, `"action's info"`, ...)."""
    names = []
    real = nest_utils.check_nest

    def recording(*args, **kwargs):
        names.append(kwargs.get("name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(nest_utils, "check_nest", recording)
    return names


# The checks of one validated call: its inputs once, and its outputs once.
ACTION_CHECKS = ["time_step", "policy_state", "action's action", "action's policy_state",
                 "action's info"]
DISTRIBUTION_CHECKS = ["time_step", "policy_state", "distribution's policy_state",
                       "distribution's info"]


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


# ---- the discrete world ----------------------------------------------------------------------

NET_SPEC = TensorSpec([2], tf.float32, "obs")
TS_SPEC = ts.time_step_spec(NET_SPEC)
MASKED_TS_SPEC = ts.time_step_spec({"obs": NET_SPEC, "mask": TensorSpec([3], tf.int32, "mask")})
ACTION = BoundedTensorSpec([], tf.int32, 2, 4, "action")  # three actions: 2, 3, 4
KERNEL = [[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]]


def splitter(observation):
    return observation["obs"], observation["mask"]


class LinearQ(network.Network):
    """q = observation @ kernel; records the observation shapes it is called with."""

    def __init__(self, kernel=KERNEL):
        super().__init__(NET_SPEC)
        self.kernel = tf.Variable(kernel)
        self.seen = []

    def _call(self, observation, step_type, network_state, training):
        self.seen.append(tuple(observation.shape.as_list()))
        return tf.matmul(observation, self.kernel), network_state


class RunningSumQ(network.Network):
    """Recurrent: the state adds up observation[0]; q = [total, 0, -total]."""

    def __init__(self, state_name=None):
        super().__init__(NET_SPEC, state_spec=TensorSpec([1], tf.float32, state_name))

    def _call(self, observation, step_type, network_state, training):
        total = network_state + observation[:, :1]
        return tf.concat([total, tf.zeros_like(total), -total], -1), total


def time_step_of(obs, first=True):
    """A FIRST (or MID) step of `obs`, `[B, 2]` or unbatched `[2]`."""
    obs = tf.convert_to_tensor(obs, tf.float32)
    batch = obs.shape[0] if obs.shape.rank == 2 else None
    if first:
        return ts.restart(obs, batch_size=batch)
    return ts.transition(obs, reward=tf.zeros([batch] if batch else []))


def repeated_restart(obs, batch=None):
    """A FIRST step of the one observation `obs`, repeated `batch` times (unbatched if None)."""
    if batch is None:
        return ts.restart(tf.constant(obs, tf.float32))
    return ts.restart(tf.constant([obs] * batch, tf.float32), batch_size=batch)


def masked_time_step(obs, mask):
    mask = tf.constant(mask, tf.int32)
    return ts.restart({"obs": tf.constant(obs, tf.float32), "mask": mask}, batch_size=mask.shape[0])


def random_observations(seed, batch):
    """`[batch, 2]` float32 observations, normal with scale 3 (Q-values of all sizes)."""
    return np.random.default_rng(seed).normal(size=(batch, 2)).astype(np.float32) * 3


def log_prob_of_each_action(distribution, batch):
    """`[log_prob(2), log_prob(3), log_prob(4)]`, each the `[batch]` log-probabilities of
    every batch entry taking that action."""
    return [distribution.log_prob(tf.fill([batch], a + 2)).numpy() for a in range(3)]


def _with_single_allowed_row(rows_and_only):
    rows, only = rows_and_only
    return np.array(rows + [[i == only for i in range(3)]], np.int32)


# `[B, 3]` int32 masks, B in 2..5, every row allowing at least one action; the
# last row always allows exactly one.
MASKS = st.integers(1, 4).flatmap(lambda batch: st.tuples(
    st.lists(st.lists(st.booleans(), min_size=3, max_size=3).filter(any),
             min_size=batch, max_size=batch),
    st.integers(0, 2))).map(_with_single_allowed_row)


class NormalAroundObservation(TFPolicy):
    """Normal(observation, 1): a continuous policy to wrap where discrete actions are needed."""

    def _distribution(self, time_step, policy_state):
        return PolicyStep(tfd.Normal(time_step.observation, 1.0))


class ActionOnly(TFPolicy):
    """Implements only `_action` (zeros), so it has no distribution."""

    def _action(self, time_step, policy_state, seed):
        return PolicyStep(tensor_spec.zero_spec_nest(self.action_spec,
                                                     tf.shape(time_step.step_type)))


# ---- the continuous world --------------------------------------------------------------------

ACTOR_OBS_SPEC = TensorSpec([3], tf.float32, "obs")
ACTOR_TS_SPEC = ts.time_step_spec(ACTOR_OBS_SPEC)
WIDE = BoundedTensorSpec([2], tf.float32, -100.0, 100.0, "wide")
UNIT = BoundedTensorSpec([2], tf.float32, -1.0, 1.0, "unit")
MODE = np.array([0.2, -0.3], np.float32)


def constant_actor(value):
    """A Keras 3 deterministic actor whose action is `value` whatever the observation."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(len(value))])
    model.set_weights([np.zeros((3, len(value)), np.float32), np.array(value, np.float32)])
    return model


def deterministic_policy(value=MODE, spec=WIDE, **kwargs):
    """An `ActorPolicy` that always returns `value`."""
    return ActorPolicy(ACTOR_TS_SPEC, spec, constant_actor(value), **kwargs)


class Accumulator(network.Network):
    """Recurrent deterministic actor: total' = total + obs[:, :2]; the action is total'."""

    def __init__(self):
        super().__init__(ACTOR_OBS_SPEC, TensorSpec([2], tf.float32), name="accumulator")

    def _call(self, observation, step_type, network_state, training):
        total = network_state + observation[:, :2]
        return total, total


class ArmAndGrip(tf.Module):
    """A deterministic actor for `{"arm": [2], "grip": []}`: arm 0, grip `grip`."""

    state_spec = ()

    def __init__(self, grip):
        super().__init__()
        self.grip = grip

    def __call__(self, observation, step_type=None, network_state=(), training=False):
        b = tf.shape(observation)[0]
        return {"arm": tf.zeros([b, 2]), "grip": tf.fill([b], self.grip)}, network_state


class NeverCalled(TFPolicy):
    """Has a distribution that must not be used (for construction errors)."""

    def _distribution(self, time_step, policy_state):
        raise AssertionError("not called")


def _filled(batch, value):
    return tf.fill([3] if batch is None else [batch, 3], value)


def restart(batch=None, value=0.0):
    """A FIRST step of observations filled with `value`, `[batch, 3]` (`[3]` if batch is None)."""
    return ts.restart(_filled(batch, value), batch_size=batch)


def mid(batch=None, value=0.0):
    """A MID step of observations filled with `value`, `[batch, 3]` (`[3]` if batch is None)."""
    return ts.transition(_filled(batch, value), reward=tf.zeros([] if batch is None else [batch]))
