"""`EpsilonGreedyPolicy`: with probability epsilon a uniformly random allowed action,
otherwise the wrapped policy's greedy action (the mode of its distribution).

The policy is exactly the categorical mixture

    p(a) = (1 - eps) * [a == greedy] + eps * mask(a) / num_allowed

(`mask(a) = 1` for every action without a splitter), so `distribution()`
returns it, sampling it is epsilon-greedy, and the emitted log-probability
is that of the action under the mixture. Masked actions have probability 0.

`epsilon` is a float, a `tf.Variable` or a zero-argument callable (a
schedule), read on every call. Inside `tf.function` the variable (or the
value a callable computes from variables) is read each run without
retracing; a callable returning a Python float is frozen at trace time.
Eager calls are compiled (see `TFPolicy.action`) for a float or a
variable; with a callable the policy sets `run_eagerly`, so the callable
runs on every eager call. To keep eager calls compiled, keep the schedule
in a `tf.Variable` and assign it.

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.q_policy import QPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> q_values = lambda obs: tf.broadcast_to([0.0, 2.0, 1.0], [tf.shape(obs)[0], 3])
>>> policy = EpsilonGreedyPolicy(QPolicy(ts.time_step_spec(TensorSpec([2], tf.float32)),
...                                      BoundedTensorSpec([], tf.int32, 0, 2), q_values),
...                              epsilon=0.3)
>>> dist = policy.distribution(ts.restart(tf.zeros([1, 2]), batch_size=1)).action
>>> [round(p, 3) for p in dist.probs_parameter().numpy()[0].tolist()]
[0.1, 0.8, 0.1]
"""

from typing import Callable, Optional, Union

import tensorflow as tf
import tree

from specs import NestedTensor
from tfpolicy import _distributions
from tfpolicy.policies import _constraints
from tfpolicy.policies import _wrapper
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["EpsilonGreedyPolicy"]

_OWNER = "EpsilonGreedyPolicy"

Epsilon = Union[float, tf.Variable, Callable[[], Union[float, tf.Tensor]]]


class EpsilonGreedyPolicy(_wrapper.PolicyWrapper):
    """Epsilon-greedy over a policy with a single discrete action (see the module docstring).

    Args:
      policy: a `TFPolicy` with a distribution over one discrete action
        (shape `()` or `(1,)`); its splitter, if any, supplies the mask.
      epsilon: the exploration probability in [0, 1]: a float, a
        `tf.Variable`, or a zero-argument callable.
      emit_log_probability: add the log-probability of the returned action
        under the mixture.
      name: the module's name.

    Raises:
      TypeError: `policy` has no distribution, or `epsilon` is of another kind.
      ValueError: the action spec is not a single discrete action, or a float
        `epsilon` lies outside [0, 1].
    """

    def __init__(self, policy: tf_policy.TFPolicy, epsilon: Epsilon,
                 emit_log_probability: bool = False, name: Optional[str] = None):
        discrete = _constraints.discrete_action(policy.action_spec, _OWNER)
        if isinstance(epsilon, (int, float)) and not isinstance(epsilon, bool):
            if not 0.0 <= float(epsilon) <= 1.0:
                raise ValueError(f"{_OWNER}: epsilon must lie in [0, 1], got {epsilon}")
        elif not (isinstance(epsilon, tf.Variable) or callable(epsilon)):
            raise TypeError(f"{_OWNER}: epsilon must be a float, a tf.Variable or a "
                            f"zero-argument callable, got {epsilon!r}")
        super().__init__(policy, emit_log_probability, _OWNER, name)
        self._discrete = discrete
        self._epsilon = epsilon
        if callable(epsilon) and not isinstance(epsilon, tf.Variable):
            # A compiled call would run the schedule once, at trace time.
            self.run_eagerly = True

    def _epsilon_value(self) -> tf.Tensor:
        epsilon = self._epsilon
        if callable(epsilon) and not isinstance(epsilon, tf.Variable):
            epsilon = epsilon()
        return tf.cast(epsilon, tf.float32)

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        step, (greedy_distribution,) = self._wrapped_distribution(time_step, policy_state)
        outer = tf.shape(time_step.step_type)
        minimum, num_actions = self._discrete.minimum, self._discrete.num_actions
        _, mask = _constraints.split_observation(self._splitter, time_step.observation)
        if mask is not None:
            mask = _constraints.check_mask(mask, num_actions, time_step.step_type.shape.rank,
                                           _OWNER)
        # `[..outer]` whether the spec's shape is () or (1,).
        greedy = tf.reshape(greedy_distribution.mode(), outer)
        greedy_probs = tf.one_hot(tf.cast(greedy, tf.int32) - minimum, num_actions)
        random_probs = tf.nn.softmax(_constraints.uniform_logits(outer, num_actions, mask))
        epsilon = self._epsilon_value()
        probs = (1.0 - epsilon) * greedy_probs + epsilon * random_probs
        # The mask applies to the mixture too, in case the wrapped policy ignores it.
        logits = _constraints.apply_mask(tf.math.log(probs), mask)
        distribution = _distributions.categorical_for_spec(logits, self._discrete.spec)
        return step._replace(action=tree.unflatten_as(self.action_spec, [distribution]))
