"""Eager `TFPolicy.action` calls run as cached compiled functions."""

import copy

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from specs import BoundedTensorSpec, TensorSpec
from tfpolicy.policies import GreedyPolicy, QPolicy, TFPolicy
from tfpolicy.trajectories import time_step as ts
from tfpolicy.trajectories.policy_step import PolicyStep

OBS = TensorSpec([2], tf.float32)
TS_SPEC = ts.time_step_spec(OBS)
ACTION = BoundedTensorSpec([], tf.int32, 0, 2)


class CountingQ:
    """q = [x0, x1, x0 + x1]; counts how often its Python body runs (`QPolicy`
    runs it once when it is built, to check the Q-values' width)."""

    def __init__(self):
        self.runs = 0

    def __call__(self, observation):
        self.runs += 1
        return tf.concat([observation, tf.reduce_sum(observation, -1, keepdims=True)], -1)


def greedy(network):
    policy = GreedyPolicy(QPolicy(TS_SPEC, ACTION, network))
    network.runs = 0
    return policy


def step_of(rows):
    observation = tf.constant(rows, tf.float32)
    return ts.transition(observation, tf.zeros([len(rows)]))


def test_eager_action_runs_the_policy_body_once_per_trace():
    network = CountingQ()
    policy = greedy(network)
    # q rows: [1, -1, 0] -> 0; [-1, 2, 1] -> 1; [1, 1, 2] -> 2.
    rows = [[1.0, -1.0], [-1.0, 2.0], [1.0, 1.0]]
    for _ in range(5):
        np.testing.assert_array_equal(policy.action(step_of(rows)).action.numpy(), [0, 1, 2])
    assert network.runs == 1
    assert policy._compiled_action.num_traces == 1


def test_compiled_and_eager_actions_are_equal():
    network = CountingQ()
    compiled, eager = greedy(network), greedy(network)
    eager.run_eagerly = True
    rows = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    np.testing.assert_array_equal(compiled.action(step_of(rows)).action.numpy(),
                                  eager.action(step_of(rows)).action.numpy())


def test_run_eagerly_runs_the_body_on_every_call():
    network = CountingQ()
    policy = greedy(network)
    policy.run_eagerly = True
    for _ in range(3):
        policy.action(step_of([[1.0, 2.0]]))
    assert network.runs == 3
    assert policy._compiled_action is None


def test_functions_run_eagerly_turns_compilation_off():
    network = CountingQ()
    policy = greedy(network)
    tf.config.run_functions_eagerly(True)
    try:
        for _ in range(3):
            policy.action(step_of([[1.0, 2.0]]))
    finally:
        tf.config.run_functions_eagerly(False)
    assert network.runs == 3


def test_a_seeded_call_runs_eagerly():
    network = CountingQ()
    policy = greedy(network)
    policy.action(step_of([[1.0, 2.0]]), seed=1)
    policy.action(step_of([[1.0, 2.0]]), seed=2)
    assert network.runs == 2
    assert policy._compiled_action is None


def test_a_second_batch_size_gets_one_shared_graph_with_unknown_batch():
    network = CountingQ()
    policy = greedy(network)
    policy.action(step_of([[1.0, 2.0]]))                     # exact [1]
    policy.action(step_of([[1.0, 2.0]] * 2))                 # [None], shared from now on
    policy.action(step_of([[1.0, 2.0]] * 3))
    policy.action(step_of([[1.0, 2.0]] * 7))
    assert policy._compiled_action.num_traces == 2
    assert network.runs == 2
    # An unbatched step is another outer rank: one more trace.
    assert int(policy.action(ts.transition(tf.constant([3.0, -5.0]), 0.0)).action) == 0
    assert policy._compiled_action.num_traces == 3


def test_numpy_inputs_are_converted_to_tensors():
    policy = greedy(CountingQ())
    # numpy arrays in, as the eager path takes them.
    time_step = ts.TimeStep(np.array([1, 1], np.int32), np.zeros(2, np.float32),
                            np.ones(2, np.float32), np.array([[2.0, -1.0], [0.5, 0.5]], np.float32))
    np.testing.assert_array_equal(policy.action(time_step).action.numpy(), [0, 2])
    np.testing.assert_array_equal(policy.action(time_step).action.numpy(), [0, 2])


def test_a_wrong_structure_names_the_path():
    policy = GreedyPolicy(QPolicy(ts.time_step_spec({"x": OBS}), ACTION,
                                  lambda obs: CountingQ()(obs["x"])))
    good = ts.transition({"x": tf.zeros([1, 2])}, tf.zeros([1]))
    policy.action(good)
    with pytest.raises((TypeError, ValueError), match="observation"):
        policy.action(ts.transition({"y": tf.zeros([1, 2])}, tf.zeros([1])))


def test_a_wrong_dtype_after_tracing_names_the_path_and_both_dtypes():
    policy = greedy(CountingQ())
    policy.action(step_of([[1.0, 2.0]]))
    bad = ts.transition(tf.constant([[1, 2]], tf.int32), tf.zeros([1]))
    with pytest.raises((TypeError, ValueError), match=r"observation.*float32.*int32|"
                       r"observation.*int32.*float32"):
        policy.action(bad)


class WrongBatch(TFPolicy):
    def _action(self, time_step, policy_state, seed):
        batch = tf.shape(time_step.step_type)[0]
        return PolicyStep(tf.zeros([batch + 1], tf.int32))


def test_an_output_of_the_wrong_batch_is_rejected_on_the_first_call():
    policy = WrongBatch(TS_SPEC, ACTION)
    with pytest.raises(ValueError, match="action's action"):
        policy.action(step_of([[1.0, 2.0]] * 3))


class Counter(TFPolicy):
    """Action = number of steps since the episode's FIRST step, kept in the state."""

    def __init__(self):
        super().__init__(TS_SPEC, BoundedTensorSpec([], tf.int32, 0, 100),
                         policy_state_spec=TensorSpec([], tf.int32))

    def _action(self, time_step, policy_state, seed):
        return PolicyStep(policy_state, policy_state + 1)


def test_state_flows_through_compiled_calls_and_resets_on_first():
    policy = Counter()
    state = policy.get_initial_state(2)
    actions = []
    for step_type in [[0, 0], [1, 1], [1, 0], [1, 1]]:
        time_step = ts.TimeStep(tf.constant(step_type, tf.int32), tf.zeros([2]), tf.ones([2]),
                                tf.zeros([2, 2]))
        step = policy.action(time_step, state)
        state = step.state
        actions.append(step.action.numpy().tolist())
    # The second entry restarts at the third step.
    assert actions == [[0, 0], [1, 1], [2, 0], [3, 1]]


def test_a_call_inside_tf_function_is_built_as_written():
    network = CountingQ()
    policy = greedy(network)
    fn = tf.function(lambda t: policy.action(t).action)
    np.testing.assert_array_equal(fn(step_of([[2.0, 1.0]])).numpy(), [2])
    assert policy._compiled_action is None


def test_a_deep_copied_policy_traces_its_own_graph():
    policy = QPolicy(TS_SPEC, ACTION, CountingQ())
    policy.action(step_of([[1.0, 2.0]]))
    twin = copy.deepcopy(policy)
    assert twin._compiled_action is not policy._compiled_action
    assert twin._compiled_action.num_traces == 0


def test_sampling_without_a_seed_is_random_across_compiled_calls():
    class Uniform(TFPolicy):
        def _distribution(self, time_step, policy_state):
            batch = tf.shape(time_step.step_type)
            return PolicyStep(tfp.distributions.Categorical(logits=tf.zeros(
                tf.concat([batch, [3]], 0))))

    policy = Uniform(TS_SPEC, ACTION)
    actions = np.concatenate([policy.action(step_of([[0.0, 0.0]] * 100)).action.numpy()
                              for _ in range(3)])
    # 300 uniform draws over 3 actions: every action appears, and calls differ.
    assert set(actions.tolist()) == {0, 1, 2}
    assert not np.array_equal(actions[:100], actions[100:200])


class Logits(TFPolicy):
    """Categorical over 3 actions with logits [x0, x1, 0]; counts its Python runs."""

    runs = 0

    def _distribution(self, time_step, policy_state):
        type(self).runs += 1
        logits = tf.concat([time_step.observation, tf.zeros_like(time_step.observation[..., :1])],
                           -1)
        return PolicyStep(tfp.distributions.Categorical(logits=logits))


def test_an_eager_distribution_is_compiled_and_rebuilt_outside_the_graph():
    policy = Logits(TS_SPEC, ACTION)
    Logits.runs = 0
    for _ in range(3):
        dist = policy.distribution(step_of([[np.log(2.0), 0.0]])).action
    assert Logits.runs == 1
    assert isinstance(dist, tfp.distributions.Categorical)
    # softmax([log 2, 0, 0]) = [1/2, 1/4, 1/4].
    np.testing.assert_allclose(dist.probs_parameter().numpy(), [[0.5, 0.25, 0.25]], rtol=1e-6)


class Plain:
    """A distribution-like object that is not a composite tensor."""

    def __init__(self, value):
        self.value = value

    def sample(self, seed=None):
        return self.value


class PlainDistribution(TFPolicy):
    runs = 0

    def _distribution(self, time_step, policy_state):
        type(self).runs += 1
        return PolicyStep(Plain(tf.ones(tf.shape(time_step.step_type), tf.int32)))


def test_a_distribution_that_cannot_leave_a_graph_stays_eager():
    policy = PlainDistribution(TS_SPEC, ACTION, validate_args=False)
    PlainDistribution.runs = 0
    first = policy.distribution(step_of([[0.0, 0.0]])).action
    second = policy.distribution(step_of([[0.0, 0.0]])).action
    assert isinstance(first, Plain) and isinstance(second, Plain)
    np.testing.assert_array_equal(second.value.numpy(), [1])
    # One trace that found the Plain output, then eager calls.
    assert PlainDistribution.runs == 3


def test_a_variable_epsilon_is_read_on_every_compiled_call():
    from tfpolicy.policies import EpsilonGreedyPolicy

    epsilon = tf.Variable(0.0)
    policy = EpsilonGreedyPolicy(QPolicy(TS_SPEC, ACTION, CountingQ()), epsilon=epsilon)
    # q = [1, 2, 3]: greedy 2. epsilon 0 -> [0, 0, 1]; epsilon 0.6 -> [0.2, 0.2, 0.6].
    step = step_of([[1.0, 2.0]])
    np.testing.assert_allclose(policy.distribution(step).action.probs_parameter().numpy(),
                               [[0.0, 0.0, 1.0]], atol=1e-7)
    epsilon.assign(0.6)
    np.testing.assert_allclose(policy.distribution(step).action.probs_parameter().numpy(),
                               [[0.2, 0.2, 0.6]], rtol=1e-6)
    assert policy._compiled_distribution.num_traces == 1


def test_a_callable_epsilon_runs_eagerly_and_so_does_its_wrapper():
    from tfpolicy.policies import EpsilonGreedyPolicy

    values = iter([0.0, 1.0, 0.0])
    policy = EpsilonGreedyPolicy(QPolicy(TS_SPEC, ACTION, CountingQ()),
                                 epsilon=lambda: next(values))
    assert policy.run_eagerly
    assert GreedyPolicy(policy).run_eagerly
    assert not EpsilonGreedyPolicy(QPolicy(TS_SPEC, ACTION, CountingQ()), 0.1).run_eagerly
    step = step_of([[1.0, 2.0]])
    # epsilon 0 then 1: greedy probabilities, then uniform.
    first = policy.distribution(step).action.probs_parameter().numpy()
    second = policy.distribution(step).action.probs_parameter().numpy()
    np.testing.assert_allclose(first, [[0.0, 0.0, 1.0]], atol=1e-7)
    np.testing.assert_allclose(second, [[1 / 3] * 3], rtol=1e-6)


def test_a_wrapper_follows_its_wrapped_policys_run_eagerly_even_when_set_later():
    from tfpolicy.policies import GaussianPolicy

    class Mean(TFPolicy):
        def _distribution(self, time_step, policy_state):
            return PolicyStep(tfp.distributions.Deterministic(time_step.observation))

    inner = Mean(TS_SPEC, BoundedTensorSpec([2], tf.float32, -1.0, 1.0))
    noisy, greedy_wrapper = GaussianPolicy(inner, scale=0.1), GreedyPolicy(inner)
    assert not noisy.run_eagerly and not greedy_wrapper.run_eagerly
    inner.run_eagerly = True
    assert noisy.run_eagerly and greedy_wrapper.run_eagerly
    noisy.action(step_of([[0.5, -0.5]]))
    assert noisy._compiled_action is None
