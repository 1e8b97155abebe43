"""`OUNoisePolicy`: Ornstein-Uhlenbeck exploration noise around continuous actions.

The noise follows the discretised Ornstein-Uhlenbeck process (an AR(1)
process) of Uhlenbeck & Ornstein (1930), as used for exploration by DDPG
(Lillicrap et al., 2016), one process per batch entry and action element:

    x_0     = 0
    x_{t+1} = x_t - damping * x_t + stddev * eps_t,   eps_t ~ N(0, 1) i.i.d.
    a_t     = mode_t + x_{t+1}        (then clipped to the spec's bounds)

where `mode_t` is the mode of the wrapped policy's distribution at step `t`
(its action, for a deterministic actor). Successive noises are correlated:
the lag-1 autocorrelation is `1 - damping`.

Design (deliberately unlike TF-Agents, which keeps one noise process in
`tf.Variable`s shared by every batch entry and created on the first call):
the noise lives in the policy state,

    policy_state = {"wrapped": <the wrapped policy's state>,
                    "ou_noise": <a nest like the action spec of x_t, [B] + spec.shape>}

so every batch entry (every environment) has its own process, drivers carry
it like any recurrent state, the policy is a pure function of its inputs in
`tf.function` and saved models, and the base's automatic state reset restarts
an entry's noise at 0 on a FIRST step without touching the other entries.

Given the state, the next action is exactly `Normal(mode_t + (1 - damping)
* x_t, stddev)` per element, so the policy also has a `distribution` and can
emit log-probabilities (of the returned, clipped action; see `GaussianPolicy`).

A policy whose mode is always 0 (here a `FixedPolicy`) shows the noise itself:

>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies.fixed_policy import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> zero = FixedPolicy([0.0, 0.0], ts.time_step_spec(TensorSpec([3], tf.float32)),
...                    BoundedTensorSpec([2], tf.float32, -1.0, 1.0), emit_log_probability=False)
>>> policy = OUNoisePolicy(zero, ou_stddev=0.2, ou_damping=0.15)
>>> state = policy.get_initial_state(batch_size=4)
>>> state["ou_noise"].shape, state["wrapped"]
(TensorShape([4, 2]), ())
>>> step = policy.action(ts.restart(tf.zeros([4, 3]), batch_size=4), state)
>>> bool(tf.reduce_all(step.action == tf.clip_by_value(step.state["ou_noise"], -1.0, 1.0)))
True
"""

from typing import List, Optional, Union

import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import NestedTensor
from tfpolicy.policies import _noise
from tfpolicy.policies import tf_policy
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["OUNoisePolicy"]

tfd = tfp.distributions

_WRAPPED = "wrapped"
_NOISE = "ou_noise"


class OUNoisePolicy(_noise.NoiseWrapper):
    """Adds Ornstein-Uhlenbeck noise, carried in the policy state, to continuous actions.

    `policy_state_spec` is `{"wrapped": wrapped_policy.policy_state_spec,
    "ou_noise": <TensorSpecs shaped like the action leaves>}` and the initial
    noise is zero. `action` advances the noise one step (the new noise is in
    the returned state, unclipped: clipping changes only the action).
    `distribution` returns the exact distribution of the next action given
    the state; because the next noise depends on the sample, the state it
    returns carries the wrapped policy's next state and the noise `x_t`
    *unchanged*: step the process with `action`, use `distribution` to
    evaluate log-probabilities.

    The time step, action and info specs are the wrapped policy's, and so
    are `validate_args` and `emit_log_probability` (of this policy's noisy
    action).

    Args:
      wrapped_policy: a `TFPolicy` with float actions only, that has a
        distribution.
      ou_stddev: `stddev` of the process, > 0.
      ou_damping: `damping` of the process, in [0, 1]: 0 is a random walk, 1
        makes the noise independent across steps (`GaussianPolicy`).
      clip: clip actions to the bounds of bounded specs.
      name: the module's name.

    Raises:
      ValueError: an action spec is not a float spec, or `ou_stddev` or
        `ou_damping` is out of range.
      TypeError: the wrapped policy has no distribution.
    """

    def __init__(self, wrapped_policy: tf_policy.TFPolicy, ou_stddev: float = 1.0,
                 ou_damping: float = 1.0, clip: bool = True, name: Optional[str] = None):
        noise_spec = tree.map_structure(
            lambda s: tf.TensorSpec(s.shape, s.dtype, _NOISE), wrapped_policy.action_spec)
        super().__init__(
            wrapped_policy, {_WRAPPED: wrapped_policy.policy_state_spec, _NOISE: noise_spec},
            clip, "OUNoisePolicy", name)
        if not ou_stddev > 0:
            raise ValueError(f"ou_stddev must be > 0, got {ou_stddev!r}")
        if not 0 <= ou_damping <= 1:
            raise ValueError(f"ou_damping must be in [0, 1], got {ou_damping!r}")
        self._ou_stddev = float(ou_stddev)
        self._ou_damping = float(ou_damping)

    @property
    def ou_stddev(self) -> float:
        return self._ou_stddev

    @property
    def ou_damping(self) -> float:
        return self._ou_damping

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        wrapped_step, modes = self._wrapped_modes(time_step, policy_state[_WRAPPED])
        noises = tree.flatten_up_to(self.action_spec, policy_state[_NOISE],
                                    check_types=False)
        distributions = self._next_action_distributions(modes, noises)
        state = {_WRAPPED: wrapped_step.state, _NOISE: policy_state[_NOISE]}
        return PolicyStep(tree.unflatten_as(self.action_spec, distributions), state,
                          wrapped_step.info)

    def _action(self, time_step: TimeStep, policy_state: NestedTensor,
                seed: tf_policy.Seed) -> PolicyStep:
        wrapped_step, modes = self._wrapped_modes(time_step, policy_state[_WRAPPED])
        noises = tree.flatten_up_to(self.action_spec, policy_state[_NOISE],
                                    check_types=False)
        keep = 1.0 - self._ou_damping
        next_noise_distributions = tree.unflatten_as(self.action_spec, [
            tfd.Normal(loc=keep * x, scale=tf.cast(self._ou_stddev, x.dtype)) for x in noises])
        next_noises = self._sample(next_noise_distributions, seed)
        action = tree.unflatten_as(self.action_spec, [
            mode + x for mode, x in zip(modes, tree.flatten(next_noises))])
        state = {_WRAPPED: wrapped_step.state, _NOISE: next_noises}
        step = PolicyStep(action, state, wrapped_step.info)
        if self.emit_log_probability:
            # Set here from the same network output, rather than by the base calling
            # `_distribution` again (a second network pass, which need not agree in training
            # mode); of the action as returned, so clipped first.
            distributions = tree.unflatten_as(
                self.action_spec, self._next_action_distributions(modes, noises))
            step = self._with_log_probability(step._replace(action=self._clip_action(action)),
                                              distributions, time_step)
        return step

    def _next_action_distributions(self, modes: List[tf.Tensor],
                                   noises: List[tf.Tensor]) -> List[tfd.Distribution]:
        keep = 1.0 - self._ou_damping
        return [
            _noise.independent_normal(mode + keep * x, self._ou_stddev, spec)
            for mode, x, spec in zip(modes, noises, tree.flatten(self.action_spec))
        ]

    def _get_initial_state(self, batch_size: Union[int, tf.Tensor, None]) -> NestedTensor:
        zeros = super()._get_initial_state(batch_size)
        return {_WRAPPED: self._wrapped_policy.get_initial_state(batch_size),
                _NOISE: zeros[_NOISE]}
