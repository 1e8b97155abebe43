"""`BoltzmannPolicy`: another policy's categorical logits divided by a temperature.

Sampling `softmax(logits / T)`: a high temperature flattens the distribution
towards uniform, a low one sharpens it towards the greedy action. Masked
actions keep their `-inf` logits, so they stay impossible. `temperature` is a
positive float or a `tf.Variable` (read on every call, also inside
`tf.function`).

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.q_policy import QPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> q_policy = QPolicy(ts.time_step_spec(TensorSpec([3], tf.float32)),  # Q-values = observation
...                    BoundedTensorSpec([], tf.int32, 0, 2), lambda obs: obs)
>>> policy = BoltzmannPolicy(q_policy, temperature=2.0)
>>> time_step = ts.restart(tf.constant([[0.0, 2.0, 4.0]]), batch_size=1)
>>> policy.distribution(time_step).action.logits.numpy()
array([[0., 1., 2.]], dtype=float32)
"""

from typing import Optional, Union

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import NestedTensor
from tfpolicy.policies import _wrapper
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["BoltzmannPolicy"]

tfd = tfp.distributions

_OWNER = "BoltzmannPolicy"


def _with_temperature(distribution: tfd.Distribution, temperature: tf.Tensor,
                      path: str) -> tfd.Distribution:
    """The categorical with `logits / temperature`, looking through `Independent`."""
    if isinstance(distribution, tfd.Independent):
        return tfd.Independent(
            _with_temperature(distribution.distribution, temperature, path),
            reinterpreted_batch_ndims=distribution.reinterpreted_batch_ndims)
    if isinstance(distribution, tfd.Categorical):
        logits = distribution.logits_parameter()
        # Multiplied by the reciprocal, not divided: a graph rewrites a division
        # by a constant into that product, and the seeded call (op by op) must
        # give the compiled call's logits to the last bit. `copy` keeps the
        # class and its other parameters (a shifted categorical's shift, the dtype).
        inverse = tf.math.reciprocal(tf.cast(temperature, logits.dtype))
        return distribution.copy(logits=logits * inverse, probs=None)
    raise TypeError(nest_utils.nest_error_message(
        "the wrapped policy's distribution for the action", path,
        f"a {type(distribution).__name__}, where categorical logits are scaled",
        owner=_OWNER))


class BoltzmannPolicy(_wrapper.PolicyWrapper):
    """Samples the wrapped policy's categoricals at a temperature (see the module docstring).

    Args:
      policy: a `TFPolicy` whose distribution is categorical for every
        action leaf (integer action specs).
      temperature: a positive float or a `tf.Variable`.
      name: the module's name.

    Raises:
      TypeError: `policy` has no distribution, an action spec leaf is not an
        integer spec, or `temperature` is neither a number nor a variable.
      ValueError: a float `temperature` is not positive.
    """

    def __init__(self, policy: tf_policy.TFPolicy,
                 temperature: Union[float, tf.Variable] = 1.0, name: Optional[str] = None):
        for path, spec in nest_utils.flatten_with_paths(policy.action_spec):
            if not spec.dtype.is_integer:
                raise TypeError(nest_utils.nest_error_message(
                    "the action spec", path, f"needs discrete (integer) actions, got {spec!r}",
                    owner=_OWNER))
        if isinstance(temperature, (int, float)) and not isinstance(temperature, bool):
            if not temperature > 0:
                raise ValueError(f"{_OWNER}: temperature must be positive, got {temperature}")
        elif not isinstance(temperature, tf.Variable):
            raise TypeError(f"{_OWNER}: temperature must be a positive float or a tf.Variable, "
                            f"got {temperature!r}")
        super().__init__(policy, policy.emit_log_probability, _OWNER, name)
        self._temperature = temperature

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        step, distributions = self._wrapped_distribution(time_step, policy_state)
        temperature = tf.convert_to_tensor(self._temperature)
        paths = [path for path, _ in nest_utils.flatten_with_paths(self.action_spec)]
        scaled = [_with_temperature(d, temperature, p) for d, p in zip(distributions, paths)]
        return step._replace(action=tree.unflatten_as(self.action_spec, scaled))
