"""`DynamicTFPolicy`: a `Policy` on a TensorFlow model, compiled where it counts.

The base of every class `build_tf_policy` makes (RLlib's name for it). It

- builds the model and the action distribution from `config["model"]`
  (`ModelCatalog`) unless `make_model` gives one;
- acts through a compiled function per input signature (`compute_actions`,
  `compute_single_action`), returning the actions, the new state and the
  extra fetches (`action_dist_inputs`, `action_logp`, `action_prob`, plus
  `extra_action_out_fn`'s, and `vf_preds` from the model's value branch
  when it has one, so postprocessing with a critic runs as RLlib's
  documentation writes it); or, with `config["acting_runtime"]` "lite" or
  "auto", through LiteRT with the same outputs (`tfpolicy.learning.lite_acting`:
  `acting_runtime`, `acting_fallback_reason`);
- explores as `config["exploration_config"]` says (`StochasticSampling`,
  `EpsilonGreedy`: `tfpolicy.learning.exploration`), drawing from its acting
  generator (`np.random.Generator(PCG64)` seeded from
  `SeedSequence([config["seed"], config["worker_index"]])`, from fresh
  entropy without a seed), whose state is part of `get_state`: a restored
  policy continues the same action stream (with a seed, the TensorFlow
  runtime samples with stateless ops seeded from the same generator; without
  one, with TensorFlow's random ops, which `tf.random.set_seed` seeds);
- learns in one compiled `tf.function` per batch signature: loss, gradients
  (clipped by global norm with `config["grad_clip"]`), the optimizer's
  update, then the stats (`config["eager_tracing"] = False` runs the same
  step eagerly, for debugging);
- checks the batch's columns against the spaces before the step, once per
  batch signature, and names any column the loss reads that the batch lacks
  (there is no dummy batch);
- keeps its whole state (`get_state`): weights by name, optimizer variables,
  counters, and what mixins add;
- offers a TF-Agents view over the same variables (`as_tf_policy`), which
  drivers, `PolicySaver` and `LitePyPolicy` take like any `TFPolicy`.

The callbacks of `build_tf_policy` are the methods here of the same name, so
a subclass may override them instead (RLlib's class form), and mixins, which
come first in the method order, take priority.

The learning step's maths is the loss's; the update is
`g = clip_by_global_norm(∇θ L(θ; batch), grad_clip)`, then the optimizer's
step on `(g, θ)` (Adam with `config["lr"]` by default).
"""

import logging
from typing import Any, Dict, List, Mapping, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import spaces as spec_spaces
from specs import tensor_spec
from tfpolicy.learning import _tf_acting
from tfpolicy.learning import _tf_learning
from tfpolicy.learning import _tf_state
from tfpolicy.learning import exploration as exploration_lib
from tfpolicy.learning import lite_acting
from tfpolicy.learning._tf_compiled import Compiled
from tfpolicy.learning._tf_learning import LEARNER_STATS_KEY
from tfpolicy.learning._train_batch import TrainBatch
from tfpolicy.learning.models import MODEL_DEFAULTS, ModelCatalog, ModelV2
from tfpolicy.learning.policy import ActionTuple, PathLike, Policy, make_input_dict
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["DynamicTFPolicy", "DEFAULT_CONFIG", "LEARNER_STATS_KEY", "observation_spec",
           "action_spec"]


# The policy-level defaults (RLlib's names); `get_default_config` replaces them.
DEFAULT_CONFIG: Dict[str, Any] = {
    "gamma": 0.99,
    "lr": 0.001,
    "grad_clip": None,
    "explore": True,
    "eager_tracing": True,
    "train_batch_size": 4000,
    "sgd_minibatch_size": None,
    "model": dict(MODEL_DEFAULTS),
    # How compute_actions runs: "tf", "lite" or "auto" (lite_acting.ACTING_RUNTIMES).
    "acting_runtime": "tf",
    "exploration_config": {"type": "StochasticSampling"},
    # Seeds the acting generator (with worker_index); None: fresh entropy.
    "seed": None,
    "worker_index": 0,
}

_ACTING_KEYS = ("acting_runtime", "exploration_config", "seed", "worker_index")

logger = logging.getLogger(__name__)


def _is_gym_space(space: Any) -> bool:
    return type(space).__module__.startswith("gymnasium")


def observation_spec(space: Any) -> Any:
    """The array-spec nest of a space (a gymnasium space or a spec nest)."""
    return spec_spaces.from_space(space) if _is_gym_space(space) else (
        tensor_spec.to_array_spec(space))


action_spec = observation_spec


def _check_acting_config(config: Mapping[str, Any]) -> None:
    runtime = config["acting_runtime"]
    if runtime not in lite_acting.ACTING_RUNTIMES:
        raise ValueError(f"config acting_runtime must be one of "
                         f"{list(lite_acting.ACTING_RUNTIMES)}, got {runtime!r}")
    for key, allow_none in (("seed", True), ("worker_index", False)):
        value = config[key]
        if value is None and allow_none:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            allowed = "None or an integer >= 0" if allow_none else "an integer >= 0"
            raise ValueError(f"config {key} must be {allowed}, got {value!r}")


def _acting_generator(seed: Optional[int], worker_index: int) -> np.random.Generator:
    """The acting generator: PCG64 from `SeedSequence([seed, worker_index])`, or from
    fresh entropy when `seed` is None."""
    if seed is None:
        return np.random.Generator(np.random.PCG64())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [int(seed), int(worker_index)])))


def merge_config(defaults: Mapping[str, Any], config: Mapping[str, Any]) -> Dict[str, Any]:
    """`config` over `defaults`, with `model` merged key by key over `MODEL_DEFAULTS`."""
    merged = dict(defaults)
    merged.update(config or {})
    model = dict(MODEL_DEFAULTS)
    model.update(defaults.get("model") or {})
    model.update((config or {}).get("model") or {})
    merged["model"] = model
    return merged


class DynamicTFPolicy(Policy):
    """A `Policy` whose model, loss and update are TensorFlow's (see the module docstring).

    Args:
      observation_space, action_space: gymnasium spaces or spec nests.
      config: merged over `get_default_config()` (or `DEFAULT_CONFIG`); its
        `model` over `MODEL_DEFAULTS`.

    Attributes:
      exploration: the `Exploration` of `config["exploration_config"]`.

    Raises:
      ValueError: `action_sampler_fn`/`action_distribution_fn` without `make_model`;
        an invalid `acting_runtime`, `exploration_config`, `seed` or `worker_index`
        (named with the allowed values); `EpsilonGreedy` for non-discrete actions.
      LiteActingError: `acting_runtime="lite"` for a policy that cannot act through
        LiteRT (recurrent, custom acting callbacks, no runtime installed); a
        conversion failure raises it at the first act.
      The errors of `validate_spaces` and of `ModelCatalog`.
    """

    # The callbacks `build_tf_policy` was given, by name.
    _callbacks: Dict[str, Any] = {}

    def __init__(self, observation_space: Any, action_space: Any, config: Mapping[str, Any]):
        callbacks = self._callbacks
        defaults = (callbacks["get_default_config"]() if callbacks.get("get_default_config")
                    else DEFAULT_CONFIG)
        config = merge_config(defaults, config)
        for key in _ACTING_KEYS:  # a class's own defaults may predate them
            config.setdefault(key, DEFAULT_CONFIG[key])
        _check_acting_config(config)
        super().__init__(observation_space, action_space, config)
        self._weights_version = 0  # counts weight changes; the LiteRT actor follows it
        self.exploration = exploration_lib.from_config(config["exploration_config"])
        self._epsilon_greedy = isinstance(self.exploration, exploration_lib.EpsilonGreedy)
        self._acting_rng = _acting_generator(config["seed"], config["worker_index"])
        # The acting runtime is chosen on first need (`_resolve_acting`).
        self._lite_actor: Optional[lite_acting.LiteActor] = None
        self._acting_resolved = False
        self._acting_error: Optional[lite_acting.LiteActingError] = None
        self._acting_fallback: Optional[str] = None
        self._lite_checked: set = set()
        self.observation_spec = observation_spec(observation_space)
        self.action_spec = action_spec(action_space)
        self._run_callback("validate_spaces", observation_space, action_space, config)
        self._run_callback("before_init", observation_space, action_space, config)
        custom_acting = callbacks.get("action_sampler_fn") or callbacks.get("action_distribution_fn")
        if custom_acting and not callbacks.get("make_model"):
            raise ValueError(f"{type(self).__name__}: action_sampler_fn and "
                             "action_distribution_fn need make_model to build the model")
        self.dist_class, logit_dim = ModelCatalog.get_action_dist(action_space, config["model"])
        if callbacks.get("make_model"):
            self.model = callbacks["make_model"](self, observation_space, action_space, config)
        else:
            self.model = ModelCatalog.get_model_v2(observation_space, action_space, logit_dim,
                                                   config["model"], framework="tf2")
        self._initial_state = [np.asarray(s) for s in self.model.get_initial_state()]
        self._value_branch = type(self.model).value_function is not ModelV2.value_function
        divisibility = callbacks.get("get_batch_divisibility_req")
        self.batch_divisibility_req = int(
            (divisibility(self) if callable(divisibility) else divisibility) or 1)
        self._run_callback("before_loss_init", observation_space, action_space, config)
        optimizers = self.optimizer()
        self._optimizers = list(optimizers) if isinstance(optimizers, (list, tuple)) else [
            optimizers]
        self._optimizer = self._optimizers[0]
        # Built now over every trainable variable, so its variables (and a saved
        # state's) do not depend on which gradients the first update had.
        for optimizer in self._optimizers:
            optimizer.build(self.model.trainable_variables())
        self._obs_checker = nest_utils.NestChecker(self.observation_spec, num_outer_dims=1,
                                                   name="obs")
        self._obs_leaf_specs = tree.flatten(self.observation_spec)
        self._single_obs_dtype = (None if tree.is_nested(self.observation_spec) else
                                  np.dtype(self.observation_spec.dtype))
        self._single_obs_shape = (None if self._single_obs_dtype is None else
                                  tuple(self.observation_spec.shape))
        self._single_functions: Dict[Tuple, Compiled] = {}
        self._act_functions: Dict[Tuple, Compiled] = {}
        self._learn_functions: Dict[Tuple, Compiled] = {}
        self._checked_batches: set = set()
        self._tf_views: Dict[bool, Any] = {}
        if self._epsilon_greedy and not custom_acting:
            _tf_acting.check_epsilon_greedy(
                self.dist_class(tf.zeros([1, logit_dim], tf.float32), self.model), action_space)
        if config["acting_runtime"] == "lite":
            reason = lite_acting.static_fallback_reason(self)
            if reason:
                raise lite_acting.LiteActingError(
                    f"{type(self).__name__}: config acting_runtime is 'lite' but the policy "
                    f"cannot act through LiteRT: {reason}")
        self._run_callback("after_init", observation_space, action_space, config)

    def _run_callback(self, name: str, *args: Any) -> Any:
        callback = self._callbacks.get(name)
        return None if callback is None else callback(self, *args)

    # ---- the callbacks as methods (mixins and subclasses override them) ------------------------

    def optimizer(self) -> Any:
        """The Keras optimizer(s): `optimizer_fn(policy, config)`, else Adam with `config["lr"]`."""
        if self._callbacks.get("optimizer_fn"):
            return self._callbacks["optimizer_fn"](self, self.config)
        return keras.optimizers.Adam(learning_rate=self.config["lr"])

    def loss(self, model: Any, dist_class: Any, train_batch: TrainBatch) -> Any:
        """`loss_fn(policy, model, dist_class, train_batch)`: a scalar tensor."""
        loss_fn = self._callbacks.get("loss_fn")
        if loss_fn is None:
            return super().loss(model, dist_class, train_batch)
        return loss_fn(self, model, dist_class, train_batch)

    def stats_fn(self, train_batch: TrainBatch) -> Dict[str, Any]:
        """`stats_fn(policy, train_batch)`: the `learner_stats`; `{}` without one."""
        fn = self._callbacks.get("stats_fn")
        return {} if fn is None else dict(fn(self, train_batch))

    def grad_stats_fn(self, train_batch: TrainBatch, grads: List[Any]) -> Dict[str, Any]:
        """`grad_stats_fn(policy, train_batch, grads)`: stats on the gradients, at the top level."""
        fn = self._callbacks.get("grad_stats_fn")
        return {} if fn is None else dict(fn(self, train_batch, grads))

    def extra_action_out_fn(self) -> Dict[str, Any]:
        """`extra_action_out_fn(policy)`: more per-row outputs of every action computation."""
        fn = self._callbacks.get("extra_action_out_fn")
        return {} if fn is None else dict(fn(self))

    def extra_learn_fetches_fn(self) -> Dict[str, Any]:
        """`extra_learn_fetches_fn(policy)`: more learning outputs, at the top level."""
        fn = self._callbacks.get("extra_learn_fetches_fn")
        return {} if fn is None else dict(fn(self))

    def postprocess_trajectory(self, sample_batch: SampleBatch,
                               other_agent_batches: Optional[Dict[Any, Any]] = None,
                               episode: Any = None) -> SampleBatch:
        """`postprocess_fn(policy, sample_batch, other_agent_batches, episode)`, if given."""
        fn = self._callbacks.get("postprocess_fn")
        if fn is None:
            return sample_batch
        return fn(self, sample_batch, other_agent_batches, episode)

    # ---- acting -------------------------------------------------------------------------------

    def compute_actions(self, obs_batch: Any, state_batches: Optional[List[Any]] = None,
                        prev_action_batch: Any = None, prev_reward_batch: Any = None,
                        info_batch: Any = None, episodes: Optional[List[Any]] = None,
                        explore: Optional[bool] = None, timestep: Optional[int] = None,
                        **kwargs: Any) -> ActionTuple:
        """See `Policy.compute_actions`; one compiled call (or one LiteRT invoke)."""
        input_dict = make_input_dict(obs_batch, state_batches, prev_action_batch,
                                     prev_reward_batch)
        return self.compute_actions_from_input_dict(input_dict, explore=explore,
                                                    timestep=timestep, episodes=episodes)

    def compute_actions_from_input_dict(self, input_dict: Mapping[str, Any],
                                        explore: Optional[bool] = None,
                                        timestep: Optional[int] = None,
                                        episodes: Optional[List[Any]] = None,
                                        **kwargs: Any) -> ActionTuple:
        """See `Policy.compute_actions_from_input_dict`; adds the batch size to
        `global_timestep`.

        Raises:
          TypeError, ValueError: observations that do not match the observation
            space (the message names the nest path), or a missing state.
          LiteActingError: `acting_runtime="lite"` and the policy does not convert.
        """
        explore = bool(self.config.get("explore", True) if explore is None else explore)
        actor = self._lite_actor if self._acting_resolved else self._resolve_acting()
        if actor is not None:
            leaves, outer = self._obs_checker(input_dict[SampleBatch.OBS])
            batch = int(outer[0])
            flat = [np.asarray(x, s.dtype) for x, s in zip(leaves, self._obs_leaf_specs)]
            actions, extra = actor.compute(flat, batch, explore,
                                           self._epsilon(explore, timestep))
            self.global_timestep += batch
            return actions, [], extra
        inputs = self._acting_inputs(input_dict)
        flat = tree.flatten(inputs) + self._acting_extras(explore, timestep)
        compiled = self._act_function(inputs, flat, explore)
        out = compiled.pack(compiled.unmerge([t.numpy() for t in compiled.function(*flat)]))
        self.global_timestep += int(flat[0].shape[0])
        return out

    def compute_single_action(self, obs: Any = None, state: Optional[List[Any]] = None, *,
                              prev_action: Any = None, prev_reward: Any = None, info: Any = None,
                              input_dict: Optional[Mapping[str, Any]] = None,
                              episode: Any = None, explore: Optional[bool] = None,
                              timestep: Optional[int] = None, **kwargs: Any) -> ActionTuple:
        """See `Policy.compute_single_action`; for a stateless policy and a plain
        observation, one compiled call (or one LiteRT invoke) with no dict handling."""
        if (input_dict is None and not state and prev_action is None and prev_reward is None
                and not self._initial_state):
            explore = bool(self.config.get("explore", True) if explore is None else explore)
            actor = self._lite_actor if self._acting_resolved else self._resolve_acting()
            if actor is not None:
                return self._lite_single(actor, obs, explore, timestep)
            extras = self._acting_extras(explore, timestep)
            if self._single_obs_dtype is not None:
                # One observation array: its dtype and shape pick the function,
                # checked against the space the first time only.
                x = np.asarray(obs)
                key = (explore, x.dtype, x.shape)
                compiled = self._single_functions.get(key)
                flat = [np.asarray(x, self._single_obs_dtype)[None]] + extras
                if compiled is None:
                    self._obs_checker(x[None])
                    compiled = self._single_functions[key] = self._act_function(
                        {SampleBatch.OBS: obs}, flat, explore, single=True)
            else:
                leaves, _ = self._obs_checker(
                    tree.map_structure(lambda v: np.asarray(v)[None], obs))
                flat = [np.asarray(v, s.dtype) for v, s in zip(leaves, self._obs_leaf_specs)]
                flat += extras
                compiled = self._act_function({SampleBatch.OBS: obs}, flat, explore, single=True)
            values = compiled.unmerge([t.numpy() for t in compiled.function(*flat)])
            actions, state_out, extra = compiled.pack([v[0, ...] for v in values])
            self.global_timestep += 1
            return actions, state_out, extra
        return super().compute_single_action(
            obs, state, prev_action=prev_action, prev_reward=prev_reward, info=info,
            input_dict=input_dict, episode=episode, explore=explore, timestep=timestep, **kwargs)

    def _lite_single(self, actor: lite_acting.LiteActor, obs: Any, explore: bool,
                     timestep: Optional[int]) -> ActionTuple:
        epsilon = (self.exploration.epsilon(self.global_timestep if timestep is None else
                                            timestep) if explore and self._epsilon_greedy
                   else None)
        dtype = self._single_obs_dtype
        if dtype is not None:
            if not (type(obs) is np.ndarray and obs.dtype == dtype
                    and obs.shape == self._single_obs_shape):
                # Anything else is checked against the space once per dtype and shape.
                x = np.asarray(obs)
                key = (x.dtype, x.shape)
                if key not in self._lite_checked:
                    self._obs_checker(x[None])
                    self._lite_checked.add(key)
                obs = np.asarray(x, dtype)
            actions, extra = actor.compute_single(obs[None], explore, epsilon)
        else:
            leaves, _ = self._obs_checker(tree.map_structure(lambda v: np.asarray(v)[None], obs))
            flat = [np.asarray(v, s.dtype) for v, s in zip(leaves, self._obs_leaf_specs)]
            actions, extra = actor.compute(flat, 1, explore, epsilon)
            first = lambda x: x[0, ...]  # noqa: E731
            actions, extra = tree.map_structure(first, actions), tree.map_structure(first, extra)
        self.global_timestep += 1
        return actions, [], extra

    def _epsilon(self, explore: bool, timestep: Optional[int]) -> Optional[float]:
        """`EpsilonGreedy`'s `ε` at `timestep` (else `global_timestep`); None when sampling."""
        if not (explore and self._epsilon_greedy):
            return None
        return self.exploration.epsilon(self.global_timestep if timestep is None else timestep)

    # ---- the acting runtime ----------------------------------------------------------------------

    def _resolve_acting(self) -> Optional[lite_acting.LiteActor]:
        """Builds the LiteRT actor on first need ("auto", "lite"); None for TensorFlow."""
        if self._acting_error is not None:
            raise self._acting_error
        if self._acting_resolved:
            return self._lite_actor
        runtime = self.config["acting_runtime"]
        if runtime != "tf":
            try:
                self._lite_actor = lite_acting.LiteActor(self)
            except lite_acting.LiteActingError as e:
                if runtime == "lite":
                    self._acting_error = lite_acting.LiteActingError(
                        f"{type(self).__name__}: config acting_runtime is 'lite' but the policy "
                        f"cannot act through LiteRT: {e.reason}")
                    raise self._acting_error from None
                self._acting_fallback = e.reason
            logger.debug("%s acts through %s", type(self).__name__,
                         "LiteRT" if self._lite_actor else f"TensorFlow ({self._acting_fallback})")
        self._acting_resolved = True
        return self._lite_actor

    @property
    def acting_runtime(self) -> str:
        """"lite" or "tf": what `compute_actions` runs on (converting first if needed).

        Raises:
          LiteActingError: `config["acting_runtime"]` is "lite" and the policy does not
            convert.
        """
        return "lite" if self._resolve_acting() is not None else "tf"

    @property
    def acting_fallback_reason(self) -> Optional[str]:
        """Why an "auto" policy acts through TensorFlow; None when it acts through LiteRT
        or was asked to act through TensorFlow."""
        self._resolve_acting()
        return self._acting_fallback

    def get_exploration_state(self) -> Dict[str, Any]:
        """The exploration's state at `global_timestep` (`{"cur_epsilon": ε}` for
        `EpsilonGreedy`, `{}` for `StochasticSampling`)."""
        return self.exploration.get_state(self.global_timestep)

    _acting_inputs = _tf_acting.acting_inputs
    _extra_kinds = _tf_acting.extra_kinds
    _acting_extras = _tf_acting.acting_extras
    _act_function = _tf_acting.act_function

    _compile_act = _tf_acting.compile_act
    _action_step = _tf_acting.action_step

    compute_log_likelihoods = _tf_acting.compute_log_likelihoods

    # ---- learning -----------------------------------------------------------------------------

    def learn_on_batch(self, samples: SampleBatch) -> Dict[str, Any]:
        """One compiled update on `samples` (see the module docstring).

        Returns:
          `{"learner_stats": stats_fn's, **grad_stats_fn's, **extra_learn_fetches_fn's,
          "custom_metrics": {}, "num_agent_steps_trained", "num_grad_updates_lifetime",
          "diff_num_grad_updates_vs_sampler_policy"}`, as numpy values.

        Raises:
          ValueError: columns of different lengths, or an `obs`/`new_obs`/`actions`
            column that does not match its space (column, path and both sides named).
          KeyError: the loss reads a column the batch does not have (`MissingColumnError`).
        """
        batch = self._prepared(samples)
        stats, _ = self._run_learn_step(batch, apply=True)
        self.num_grad_updates += 1
        self._weights_version += 1  # the LiteRT actor refreshes before its next act
        stats.update({
            "custom_metrics": {},
            "num_agent_steps_trained": len(samples),
            "num_grad_updates_lifetime": self.num_grad_updates,
            "diff_num_grad_updates_vs_sampler_policy":
                self.num_grad_updates - 1 - (getattr(samples, "num_grad_updates", None) or 0),
        })
        return stats

    compute_gradients = _tf_learning.compute_gradients
    apply_gradients = _tf_learning.apply_gradients

    _prepared = _tf_learning.prepared
    _train_columns = _tf_learning.train_columns

    _run_learn_step = _tf_learning.run_learn_step
    _compile_learn = _tf_learning.compile_learn

    _learn_step = _tf_learning.learn_step

    # ---- state --------------------------------------------------------------------------------

    _named_variables = _tf_state.named_variables
    get_weights = _tf_state.get_weights

    set_weights = _tf_state.set_weights
    _optimizer_variables = _tf_state.optimizer_variables

    def get_state(self) -> Dict[str, Any]:
        """`Policy.get_state` plus `_optimizer_variables` (the optimizer's slots and step
        count) and `_acting_rng` (the acting generator's `bit_generator.state`, a dict of
        str and int)."""
        state = super().get_state()
        state["_optimizer_variables"] = [np.array(v) for v in self._optimizer_variables()]
        state["_acting_rng"] = self._acting_rng.bit_generator.state
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores weights, counters and optimizer variables; a fresh optimizer is
        built first, so its first update after the restore is the one it would have made.
        Then `on_global_var_update` at the restored timestep sets the mixins' schedules.

        The acting generator continues from `_acting_rng` when the state has it.

        Raises:
          ValueError: optimizer variables of another count or shape, or an
            `_acting_rng` of another bit generator.
        """
        rng_state = state.get("_acting_rng")
        if rng_state is not None:
            kind = rng_state.get("bit_generator") if isinstance(rng_state, Mapping) else None
            if kind != type(self._acting_rng.bit_generator).__name__:
                raise ValueError(f"{type(self).__name__}.set_state: '_acting_rng' must be the "
                                 f"state of a PCG64 bit generator, got {kind!r}")
        super().set_state(state)
        saved = state.get("_optimizer_variables")
        if saved:
            current = self._optimizer_variables()
            if len(current) != len(saved):
                raise ValueError(f"{type(self).__name__}.set_state: {len(saved)} optimizer "
                                 f"variables saved, the optimizer has {len(current)}")
            for variable, value in zip(current, saved):
                value = np.asarray(value)
                if tuple(variable.shape) != value.shape:
                    raise ValueError(f"{type(self).__name__}.set_state: optimizer variable "
                                     f"{variable.path}: expected shape "
                                     f"{tuple(variable.shape)}, got {value.shape}")
                variable.assign(value)
        if rng_state is not None:
            # In place: the LiteRT actor holds this generator.
            self._acting_rng.bit_generator.state = dict(rng_state)
        self._weights_version += 1
        # Schedules (`cur_lr`, `entropy_coeff`) are functions of the timestep, not state:
        # put them where the restored timestep has them before the next update.
        self.on_global_var_update({"timestep": self.global_timestep,
                                   "num_grad_updates": self.num_grad_updates})

    def get_initial_state(self) -> List[np.ndarray]:
        """The model's initial state (unbatched arrays)."""
        return [s.copy() for s in self._initial_state]

    def is_recurrent(self) -> bool:
        return bool(self._initial_state)

    def variables(self) -> List[tf.Variable]:
        """The model's variables (what `get_weights` returns, in order)."""
        return self.model.variables()

    # ---- the TF-Agents view and exports --------------------------------------------------------

    def as_tf_policy(self, explore: bool = False) -> Any:
        """A `tfpolicy.policies.TFPolicy` over this policy's model (the same variables):
        drivers, `PolicySaver`, `LitePyPolicy` and `update(tau)` take it as they are.

        Args:
          explore: sample actions (True) or take the most likely ones.
        """
        view = self._tf_views.get(bool(explore))
        if view is None:
            from tfpolicy.learning._tf_agents_view import ModelTFPolicy
            view = self._tf_views[bool(explore)] = ModelTFPolicy(self, explore=bool(explore))
        return view

    @property
    def tf_policy(self) -> Any:
        """`as_tf_policy(explore=False)`."""
        return self.as_tf_policy(explore=False)

    def export_model(self, export_dir: PathLike, onnx: Optional[int] = None) -> None:
        """Writes the greedy policy as a savers SavedModel (`PolicySaver`), which serves
        from plain TensorFlow (`savers.SavedModelPyTFEagerPolicy` or any TF runtime).

        Raises:
          TypeError: `onnx` is given (ONNX export is not offered).
        """
        if onnx is not None:
            raise TypeError("export_model writes a TensorFlow SavedModel; ONNX is not offered")
        from savers import PolicySaver
        PolicySaver(self.as_tf_policy(explore=False)).save(export_dir)

    def export_lite(self, path: PathLike, batch_size: Optional[int] = 1) -> None:
        """Writes the greedy policy as a LiteRT model (`savers.export_lite`)."""
        from savers import export_lite
        export_lite(self.as_tf_policy(explore=False), path, batch_size=batch_size)
