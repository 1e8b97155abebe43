"""RLlib's TF policy mixins: schedules, the adaptive KL coefficient, value and target networks.

A policy lists them before its base, `class MyPolicy(KLCoeffMixin,
LearningRateSchedule, ..., DynamicTFPolicy)`, and calls each mixin's
`__init__` itself once `self.config` and `self.model` exist (the mixins'
constructors do not chain). Their overrides (`on_global_var_update`,
`get_state`, `set_state`, `set_weights`, `extra_action_out_fn`) call
`super()`, so every mixin in the list and then the base take part.

What the mixins expect from the policy: `self.config` (a mapping), and as
each one needs, `self.model` / `self.target_model` (with `variables()` and
`trainable_variables()`), `self._optimizer` (a Keras 3 optimizer or None),
and on the base `on_global_var_update(global_vars)`, `get_state()`,
`set_state(state)`, `set_weights(weights)` and `extra_action_out_fn()`.

>>> class Base:
...     def on_global_var_update(self, global_vars):
...         self.global_timestep = global_vars["timestep"]
>>> class Policy(LearningRateSchedule, Base):
...     def __init__(self):
...         LearningRateSchedule.__init__(self, 0.1, [(0, 1e-3), (100, 1e-4)])
>>> policy = Policy()
>>> policy.on_global_var_update({"timestep": 50})
>>> round(float(policy.cur_lr), 6)
0.00055
"""

import numbers
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tfpolicy import _soft_update
from tfpolicy._variables import CollectedVariable, collect_variables
from tfpolicy.learning.schedules import PiecewiseSchedule

__all__ = [
    "EntropyCoeffSchedule",
    "KLCoeffMixin",
    "LearningRateSchedule",
    "TargetNetworkMixin",
    "ValueNetworkMixin",
]

# The state key of `KLCoeffMixin` (RLlib's).
CURRENT_KL_COEFF = "current_kl_coeff"
# The state key of `TargetNetworkMixin`: the target network's variables, in order.
TARGET_WEIGHTS = "_target_weights"

Endpoints = Sequence[Sequence[float]]


def _scalar_variable(value: float, name: str) -> tf.Variable:
    # Created outside any tf.function being traced, so a mixin set up lazily still owns
    # a real variable the compiled steps read at run time.
    with tf.init_scope():
        return tf.Variable(float(value), trainable=False, name=name, dtype=tf.float32)


def _config_value(config: Mapping[str, Any], key: str, owner: str) -> Any:
    if key not in config:
        raise KeyError(f"{owner} needs config[{key!r}]; the config has {sorted(config)}")
    return config[key]


class _FollowVariable:
    """A Keras 3 learning rate that reads a `tf.Variable` each step.

    Keras 3 optimizers accept a float (copied into their own variable), a
    schedule or a callable, not a variable; a callable returning the
    variable makes every step, including one compiled before the variable
    changed, read its current value.
    """

    def __init__(self, variable: tf.Variable):
        self.variable = variable

    def __call__(self) -> tf.Variable:
        return self.variable

    def get_config(self) -> Dict[str, Any]:
        # `optimizer.get_config()` serializes its learning rate; record the current value.
        return {"learning_rate": float(self.variable.numpy())}


class LearningRateSchedule:
    """`cur_lr`: the learning rate, constant or piecewise linear in the global timestep.

    Without a schedule, `cur_lr` stays `lr`. With one, `lr` is ignored and
    `cur_lr = PiecewiseSchedule(lr_schedule, outside_value=lr_schedule[-1][-1]).value(t)`
    at every `on_global_var_update`, starting from `t = 0`; in particular a
    timestep past the last endpoint keeps its value (RLlib's rule, see
    `PiecewiseSchedule`). Nothing is added to the policy state: the rate is
    recomputed from the timestep at the next update.

    Args:
      lr: the constant rate, used when there is no schedule.
      lr_schedule: `[[t, lr], ...]` endpoints, times ascending, or None.

    Attributes:
      cur_lr: the current rate, a non-trainable float32 `tf.Variable` named "lr".

    Raises:
      ValueError: an empty or unsorted schedule.
    """

    def __init__(self, lr: float, lr_schedule: Optional[Endpoints]):
        self._lr_schedule: Optional[PiecewiseSchedule] = None
        if lr_schedule is None:
            self.cur_lr = _scalar_variable(lr, "lr")
        else:
            if not len(lr_schedule):
                raise ValueError("lr_schedule: give [[t, lr], ...] endpoints or None, got []")
            self._lr_schedule = PiecewiseSchedule(lr_schedule,
                                                  outside_value=lr_schedule[-1][-1])
            self.cur_lr = _scalar_variable(self._lr_schedule.value(0), "lr")

    def on_global_var_update(self, global_vars: Mapping[str, Any]) -> None:
        """Calls the next class' update, then sets `cur_lr` (and the optimizer's rate) from
        the schedule at `global_vars["timestep"]`."""
        super().on_global_var_update(global_vars)
        if self._lr_schedule is not None:
            value = self._lr_schedule.value(global_vars["timestep"])
            self.cur_lr.assign(value)
            optimizer = getattr(self, "_optimizer", None)
            if optimizer is not None:
                _set_learning_rate(optimizer, self.cur_lr, value)

    def optimizer(self) -> keras.optimizers.Optimizer:
        """Adam whose learning rate is `cur_lr`, read at every step (compiled ones too)."""
        return keras.optimizers.Adam(learning_rate=_FollowVariable(self.cur_lr))


def _set_learning_rate(optimizer: keras.optimizers.Optimizer, cur_lr: tf.Variable,
                       value: float) -> None:
    current = optimizer.learning_rate
    if current is cur_lr:
        return  # `LearningRateSchedule.optimizer()`: already follows cur_lr.
    # A float-built optimizer holds its own rate variable; an optimizer built on a
    # Keras schedule or another callable owns its rate and is left alone.
    if isinstance(current, (keras.Variable, tf.Variable)):
        current.assign(value)


class EntropyCoeffSchedule:
    """`entropy_coeff`: the entropy bonus' weight, constant or scheduled.

    The schedule is `[[t, coeff], ...]` endpoints (value past the last
    endpoint kept), or, RLlib's legacy form, a number `T`: a linear decay
    from `entropy_coeff` at 0 to 0 at `T`, then 0,

        coeff(t) = entropy_coeff * (1 - t / T)  for 0 <= t < T,  0 otherwise.

    Args:
      entropy_coeff: the coefficient (ignored with a list schedule).
      entropy_coeff_schedule: None, `[[t, coeff], ...]` or a number `T`.

    Attributes:
      entropy_coeff: a non-trainable float32 `tf.Variable` named "entropy_coeff".

    Raises:
      ValueError: an empty or unsorted schedule.
    """

    def __init__(self, entropy_coeff: float,
                 entropy_coeff_schedule: Union[None, float, Endpoints]):
        self._entropy_coeff_schedule: Optional[PiecewiseSchedule] = None
        schedule = entropy_coeff_schedule
        if schedule is None:
            self.entropy_coeff = _scalar_variable(entropy_coeff, "entropy_coeff")
            return
        if isinstance(schedule, numbers.Real):
            self._entropy_coeff_schedule = PiecewiseSchedule(
                [[0, entropy_coeff], [schedule, 0.0]], outside_value=0.0)
        else:
            if not len(schedule):
                raise ValueError("entropy_coeff_schedule: give [[t, coeff], ...] endpoints, a "
                                 "number of timesteps or None, got []")
            self._entropy_coeff_schedule = PiecewiseSchedule(
                schedule, outside_value=schedule[-1][-1])
        self.entropy_coeff = _scalar_variable(self._entropy_coeff_schedule.value(0),
                                              "entropy_coeff")

    def on_global_var_update(self, global_vars: Mapping[str, Any]) -> None:
        """Calls the next class' update, then sets `entropy_coeff` from the schedule."""
        super().on_global_var_update(global_vars)
        if self._entropy_coeff_schedule is not None:
            self.entropy_coeff.assign(
                self._entropy_coeff_schedule.value(global_vars["timestep"]))


class KLCoeffMixin:
    """The adaptive KL-penalty coefficient of PPO.

    After each training step, with `d` the sampled KL divergence and
    `d_targ = config["kl_target"]`:

        beta <- 1.5 * beta   if d > 2 * d_targ
        beta <- 0.5 * beta   if d < 0.5 * d_targ
        beta unchanged       otherwise

    These are RLlib's thresholds and factors; the PPO paper (Schulman et al.
    2017, "Proximal Policy Optimization Algorithms", section 4) doubles
    above `1.5 * d_targ` and halves below `d_targ / 1.5`. The coefficient is
    part of the policy state under `"current_kl_coeff"`.

    Args:
      config: with `kl_coeff` (the initial coefficient) and `kl_target`.

    Attributes:
      kl_coeff_val: the coefficient, a Python float.
      kl_coeff: the same as a non-trainable float32 `tf.Variable` named
        "kl_coeff" (read by the loss).
      kl_target: `config["kl_target"]`.

    Raises:
      KeyError: `kl_coeff` or `kl_target` is missing from the config.
    """

    def __init__(self, config: Mapping[str, Any]):
        self.kl_coeff_val = float(_config_value(config, "kl_coeff", "KLCoeffMixin"))
        self.kl_coeff = _scalar_variable(self.kl_coeff_val, "kl_coeff")
        self.kl_target = _config_value(config, "kl_target", "KLCoeffMixin")

    def update_kl(self, sampled_kl: Any) -> float:
        """Adapts the coefficient to `sampled_kl` (see the class) and returns it."""
        sampled_kl = float(np.asarray(sampled_kl))
        if sampled_kl > 2.0 * self.kl_target:
            self._set_kl_coeff(self.kl_coeff_val * 1.5)
        elif sampled_kl < 0.5 * self.kl_target:
            self._set_kl_coeff(self.kl_coeff_val * 0.5)
        return self.kl_coeff_val

    def _set_kl_coeff(self, value: float) -> None:
        self.kl_coeff_val = float(value)
        self.kl_coeff.assign(self.kl_coeff_val)

    def get_state(self) -> Dict[str, Any]:
        """The next class' state plus `"current_kl_coeff"`."""
        state = super().get_state()
        state[CURRENT_KL_COEFF] = self.kl_coeff_val
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores the coefficient (`config["kl_coeff"]` if the state has none) and passes
        the rest of `state` on; the caller's mapping is left as it was."""
        value = float(state.get(CURRENT_KL_COEFF, self.config["kl_coeff"]))
        super().set_state({k: v for k, v in state.items() if k != CURRENT_KL_COEFF})
        self._set_kl_coeff(value)


class ValueNetworkMixin:
    """`_value(**input_dict)`: the value estimate used to bootstrap a cut trajectory.

    With `config["use_gae"]` (or `config["vtrace"]`), `_value` runs a fresh
    forward pass of the model on a one-row input dict (`obs`, and when
    present `prev_actions`, `prev_rewards`, `state_in_{i}`, `seq_lens`; see
    `SampleBatch.get_single_step_input_dict`) and returns its value
    `model.value_function()[0]`: through the policy's compiled acting path
    (`compute_actions_from_input_dict(..., explore=False)`'s `vf_preds`,
    leaving `global_timestep` as it was) when the policy has one, else
    eagerly. Without either key it returns 0.

    `extra_action_out_fn()` adds the value of the last forward pass,
    `{"vf_preds": model.value_function()}`, to the action fetches.

    Args:
      config: the policy config; `use_gae` / `vtrace` decide whether values
        are computed.
    """

    def __init__(self, config: Mapping[str, Any]):
        self._value_bootstrap = bool(config.get("use_gae") or config.get("vtrace"))

    def _value(self, **input_dict: Any) -> np.float32:
        """`V(s)` of the single row in `input_dict`, a float32 numpy scalar (0 without GAE).

        Raises:
          ValueError: the input dict holds more than one row.
        """
        if not self._value_bootstrap:
            return np.float32(0.0)
        act = getattr(self, "compute_actions_from_input_dict", None)
        values = None
        if act is not None:
            # The compiled acting path (LiteRT where the policy acts through it) fetches
            # `vf_preds` in one call; an eager forward pass costs milliseconds. The
            # timestep is put back: a value estimate is not a step.
            timestep = self.global_timestep
            try:
                values = act(dict(input_dict), explore=False)[2].get("vf_preds")
            finally:
                self.global_timestep = timestep
        if values is None:
            self.model(dict(input_dict))
            values = self.model.value_function()
        values = np.asarray(values, dtype=np.float32).reshape(-1)
        if values.shape != (1,):
            raise ValueError(
                f"_value expects a one-row input dict (from get_single_step_input_dict); the "
                f"model returned {values.shape[0]} values")
        return values[0]

    def extra_action_out_fn(self) -> Dict[str, tf.Tensor]:
        """The next class' extra fetches plus `vf_preds`, the value branch of the last forward."""
        parent = getattr(super(), "extra_action_out_fn", None)
        out = dict(parent()) if parent is not None else {}
        out["vf_preds"] = self.model.value_function()
        return out


def _collected(model: Any) -> List[CollectedVariable]:
    """`model.variables()` as `tf.Variable`s, each flagged with whether the model trains it."""
    trainable = {id(c.variable) for c in collect_variables(list(model.trainable_variables()))}
    return [CollectedVariable(c.variable, id(c.variable) in trainable)
            for c in collect_variables(list(model.variables()))]


class TargetNetworkMixin:
    """`target_model`: a copy of `model` that follows it slowly.

    `update_target(tau)` moves every variable of the target towards the
    model's, pair by pair in `variables()` order:

        target <- tau * source + (1 - tau) * target

    (`tau = 1` copies; integer variables are copied at `tau = 1` and
    otherwise kept). `__init__` copies the model into the target;
    `set_weights` copies again after the next class has set the model's
    weights. The target's variables are part of the policy state under
    `"_target_weights"` so a restored policy continues with the same
    target.

    Raises:
      ValueError: (at construction) the two models' variables differ in
        count, shape or dtype.
    """

    def __init__(self):
        self.update_target(tau=1.0)

    @property
    def q_func_vars(self) -> List[tf.Variable]:
        """The model's variables (RLlib's name)."""
        return list(self.model.variables())

    @property
    def target_q_func_vars(self) -> List[tf.Variable]:
        """The target model's variables (RLlib's name)."""
        return list(self.target_model.variables())

    def update_target(self, tau: Optional[float] = None) -> None:
        """Soft-updates the target (see the class); `tau=None` means `config.get("tau", 1.0)`.

        Raises:
          ValueError: `tau` outside `[0, 1]`, or the models' variables do not pair up.
        """
        if tau is None:
            tau = self.config.get("tau", 1.0)
        tau = float(tau)
        if not 0.0 <= tau <= 1.0:
            raise ValueError(f"update_target: tau must lie in [0, 1], got {tau}")
        _soft_update.soft_update(_collected(self.model), _collected(self.target_model),
                                 tau, tau_non_trainable=None)

    def set_weights(self, weights: Any) -> None:
        """Sets the model's weights through the next class, then copies them into the target."""
        super().set_weights(weights)
        self.update_target(tau=1.0)

    def get_state(self) -> Dict[str, Any]:
        """The next class' state plus `"_target_weights"` (a list of arrays)."""
        state = super().get_state()
        state[TARGET_WEIGHTS] = [v.numpy() for v in self.target_q_func_vars]
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores the next class' state, then the target's variables when the state has
        them (checked first, so a mismatch changes nothing).

        Raises:
          ValueError: the saved target variables differ in count or shape.
        """
        saved = state.get(TARGET_WEIGHTS)
        targets = self.target_q_func_vars
        if saved is not None:
            _check_saved(saved, targets)
        super().set_state(state)
        if saved is not None:
            for variable, value in zip(targets, saved):
                variable.assign(value)


def _check_saved(saved: Sequence[Any], targets: List[tf.Variable]) -> None:
    problems = []
    if len(saved) != len(targets):
        problems.append(f"the state has {len(saved)} arrays, the target model "
                        f"{len(targets)} variables")
    for i, (value, variable) in enumerate(zip(saved, targets)):
        shape = tuple(np.shape(value))
        if shape != tuple(variable.shape.as_list()):
            problems.append(f"#{i} {variable.name}: state shape {list(shape)} vs variable "
                            f"{variable.shape.as_list()}")
    if problems:
        raise ValueError(f"set_state: {TARGET_WEIGHTS!r} does not fit the target model: "
                         + "; ".join(problems))
