"""The acting half of `DynamicTFPolicy`: observations checked and converted, one
compiled function per input signature that runs the model, samples (or takes
the mode, or explores epsilon-greedily) and gathers the extra fetches, and
`compute_log_likelihoods`.

Exploring calls take extra inputs after the observation leaves
(`acting_extras`): `EpsilonGreedy`'s `ε` for the call (so the schedule moves
without a new trace) and, when `config["seed"]` is set, a seed `[2]` drawn
from the policy's acting generator for the stateless random ops
(`stateless_sample`), so that the actions depend only on the generator's
state, which `get_state` saves. Without a seed, and for distribution classes
other than those of `tfpolicy.learning.distributions` (subclasses included)
or an `action_sampler_fn`, TensorFlow's stateful random ops sample, as
`tf.random.set_seed` (`keras.utils.set_random_seed`) seeds them: repeatable
in a fresh process, but not restored by `set_state`.

The functions are `DynamicTFPolicy` methods (`policy` is `self`).
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from tfpolicy.learning._dist_categorical import Categorical, MultiCategorical
from tfpolicy.learning._dist_gaussian import Deterministic, DiagGaussian, SquashedGaussian
from tfpolicy.learning._dist_multi import MultiActionDistribution
from tfpolicy.learning._tf_compiled import (Compiled, leaf_signature, merge_float_outputs,
                                            tensor_specs)
from tfpolicy.learning.exploration import ALLOWED_THRESHOLD
from tfpolicy.learning.policy import make_input_dict
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["acting_inputs", "extra_kinds", "acting_extras", "act_function", "compile_act",
           "action_step", "compute_log_likelihoods", "stateless_sample", "epsilon_greedy",
           "check_epsilon_greedy"]

_EPSILON, _SEED = "epsilon", "seed"


def acting_inputs(self, input_dict: Mapping[str, Any]) -> Dict[str, Any]:
    """The numeric columns the model reads, as arrays, observations checked."""
    obs = input_dict[SampleBatch.OBS]
    leaves, outer = self._obs_checker(obs)
    obs = tree.unflatten_as(self.observation_spec, [
        np.asarray(x, s.dtype) for x, s in zip(leaves, self._obs_leaf_specs)])
    inputs: Dict[str, Any] = {SampleBatch.OBS: obs}
    batch = outer[0]
    for i, initial in enumerate(self._initial_state):
        key = f"state_in_{i}"
        if key not in input_dict:
            raise ValueError(f"{type(self).__name__} is recurrent: compute_actions needs "
                             f"{len(self._initial_state)} state batches (state_in_0..), "
                             f"got none for {key!r}")
        inputs[key] = np.asarray(input_dict[key], initial.dtype)
    if self._initial_state:
        inputs[SampleBatch.SEQ_LENS] = np.ones(batch, np.int32)
    for key in (SampleBatch.PREV_ACTIONS, SampleBatch.PREV_REWARDS):
        if input_dict.get(key) is not None:
            inputs[key] = tree.map_structure(np.asarray, input_dict[key])
    return inputs


def extra_kinds(self, explore: bool) -> Tuple[str, ...]:
    """Which extra inputs an acting call takes after the observation leaves."""
    if not explore or self._callbacks.get("action_sampler_fn"):
        return ()
    return (((_EPSILON,) if self._epsilon_greedy else ())
            + ((_SEED,) if self.config["seed"] is not None else ()))


def acting_extras(self, explore: bool, timestep: Optional[int]) -> List[np.ndarray]:
    """The extra inputs of an acting call (see the module docstring): `ε [1]` float32,
    then a seed `[2]` int64 drawn from the acting generator."""
    extras = []
    for kind in self._extra_kinds(explore):
        if kind == _EPSILON:
            t = self.global_timestep if timestep is None else timestep
            extras.append(np.array([self.exploration.epsilon(t)], np.float32))
        else:
            extras.append(self._acting_rng.integers(0, 2**63 - 1, size=2, dtype=np.int64))
    return extras


def act_function(self, inputs: Dict[str, Any], flat: Sequence[np.ndarray], explore: bool,
                  single: bool = False) -> Compiled:
    key = (explore, single, tuple(sorted(inputs)), leaf_signature(flat))
    compiled = self._act_functions.get(key)
    if compiled is None:
        compiled = self._act_functions[key] = self._compile_act(inputs, flat, explore)
    return compiled


def compile_act(self, inputs: Dict[str, Any], flat: Sequence[np.ndarray],
                 explore: bool) -> Compiled:
    structure = tree.map_structure(lambda _: 0, inputs)
    count = len(tree.flatten(structure))
    kinds = self._extra_kinds(explore)
    out_structure: List[Any] = []
    unmerge: List[Any] = []

    def act(*leaves: tf.Tensor) -> List[tf.Tensor]:
        input_dict = tree.unflatten_as(structure, list(leaves[:count]))
        extras = dict(zip(kinds, leaves[count:]))
        epsilon = extras[_EPSILON][0] if _EPSILON in extras else None
        seed = tf.reshape(extras[_SEED], [2]) if _SEED in extras else None
        actions, state_out, extra = self._action_step(input_dict, explore, epsilon=epsilon,
                                                      seed=seed)
        result = (actions, list(state_out), extra)
        out_structure[:] = [result]
        outputs, split = merge_float_outputs(tree.flatten(result))
        unmerge[:] = [split]
        return outputs

    function = tf.function(act, input_signature=tensor_specs(flat),
                           autograph=False).get_concrete_function()
    return Compiled(function, nest_utils.packer(out_structure[0]), unmerge[0])


def action_step(self, input_dict: Dict[str, Any], explore: bool,
                epsilon: Optional[tf.Tensor] = None, seed: Optional[tf.Tensor] = None
                ) -> Tuple[Any, List[tf.Tensor], Dict[str, Any]]:
    """Actions, new state and extra fetches for a batch of tensors (traced).

    Args:
      input_dict: the model's inputs.
      explore: explore (sample, or `EpsilonGreedy` with `epsilon`) or act greedily.
      epsilon: `EpsilonGreedy`'s `ε`, a float32 scalar; None samples.
      seed: `[2]` seed of the stateless random ops; None uses the stateful ones.
    """
    state = [input_dict[f"state_in_{i}"] for i in range(len(self._initial_state))]
    seq_lens = input_dict.get(SampleBatch.SEQ_LENS)
    sampler = self._callbacks.get("action_sampler_fn")
    distribution_fn = self._callbacks.get("action_distribution_fn")
    dist_inputs = None
    if sampler is not None:
        actions, logp = sampler(self, self.model, input_dict[SampleBatch.OBS],
                                explore=explore, timestep=self.global_timestep)
        state_out: List[tf.Tensor] = []
    else:
        if distribution_fn is not None:
            dist_inputs, dist_class, state_out = distribution_fn(
                self, self.model, input_dict=input_dict, state_batches=state,
                seq_lens=seq_lens, explore=explore, timestep=self.global_timestep,
                is_training=False)
        else:
            dist_inputs, state_out = self.model(input_dict, state, seq_lens)
            dist_class = self.dist_class
        dist = dist_class(dist_inputs, self.model)
        drawn = None
        if explore and epsilon is not None:
            check_epsilon_greedy(dist, self.action_space)
            actions = epsilon_greedy(dist, dist_class, dist_inputs, self.model, epsilon, seed)
            logp = tf.zeros(tf.shape(dist_inputs)[:1], tf.float32)
        elif explore and seed is not None and (drawn := stateless_sample(dist, seed)):
            actions, logp = drawn
        elif explore:
            actions, logp = dist.sample(), dist.sampled_action_logp()
        else:
            actions = dist.deterministic_sample()
            logp = tf.zeros(tf.shape(tree.flatten(actions)[0])[:1], tf.float32)
    extra: Dict[str, Any] = {}
    if dist_inputs is not None:
        extra[SampleBatch.ACTION_DIST_INPUTS] = dist_inputs
    if logp is not None:
        logp = tf.cast(logp, tf.float32)
        extra[SampleBatch.ACTION_LOGP] = logp
        extra[SampleBatch.ACTION_PROB] = tf.exp(logp)
    extra.update(self.extra_action_out_fn())
    if dist_inputs is not None and self._value_branch and SampleBatch.VF_PREDS not in extra:
        # The value branch of the forward pass just made: postprocessing
        # with a critic (compute_advantages' default) finds `vf_preds`.
        extra[SampleBatch.VF_PREDS] = self.model.value_function()
    return actions, list(state_out), extra


def compute_log_likelihoods(self, actions: Any, obs_batch: Any,
                            state_batches: Optional[List[Any]] = None,
                            prev_action_batch: Any = None, prev_reward_batch: Any = None,
                            actions_normalized: bool = True,
                            in_training: bool = True) -> np.ndarray:
    """`dist.logp(actions)` `[B]` under the distribution the model gives `obs_batch`."""
    inputs = self._acting_inputs(make_input_dict(obs_batch, state_batches, prev_action_batch,
                                                 prev_reward_batch))
    state = [tf.convert_to_tensor(inputs[f"state_in_{i}"])
             for i in range(len(self._initial_state))]
    distribution_fn = self._callbacks.get("action_distribution_fn")
    if distribution_fn is not None:
        dist_inputs, dist_class, _ = distribution_fn(
            self, self.model, input_dict=inputs, state_batches=state,
            seq_lens=inputs.get(SampleBatch.SEQ_LENS), explore=False,
            timestep=self.global_timestep, is_training=False)
    else:
        dist_inputs, _ = self.model(inputs, state, inputs.get(SampleBatch.SEQ_LENS))
        dist_class = self.dist_class
    dist = dist_class(dist_inputs, self.model)
    return dist.logp(tree.map_structure(tf.convert_to_tensor, actions)).numpy()


def check_epsilon_greedy(dist: Any, action_space: Any) -> None:
    """Raises ValueError unless `dist` is a categorical one (what `EpsilonGreedy` explores)."""
    if not isinstance(dist, (Categorical, MultiCategorical)):
        raise ValueError(f"exploration_config.type EpsilonGreedy needs discrete actions (a "
                         f"Categorical or MultiCategorical distribution), got "
                         f"{type(dist).__name__} for the action space {action_space!r}")


def _uniform(shape: Any, seed: Optional[tf.Tensor]) -> tf.Tensor:
    if seed is None:
        return tf.random.uniform(shape)
    return tf.random.stateless_uniform(shape, seed)


def epsilon_greedy(dist: Any, dist_class: Any, dist_inputs: tf.Tensor, model: Any,
                   epsilon: tf.Tensor, seed: Optional[tf.Tensor] = None) -> Any:
    """`EpsilonGreedy`'s actions (traced): per row, with probability `epsilon` a uniform
    draw among the allowed actions, else `dist.deterministic_sample()`.

    The draw is the greedy action of `dist_class` on uniform noise in `[0, 1)` at the
    allowed actions and -1 elsewhere (each element of a `MultiCategorical` on its
    own; an element with no allowed action draws among all).
    """
    greedy = dist.deterministic_sample()
    if seed is not None:
        seeds = tf.random.experimental.stateless_split(seed, 2)
        choose_seed, noise_seed = seeds[0], seeds[1]
    else:
        choose_seed = noise_seed = None
    lens = dist.input_lens if isinstance(dist, MultiCategorical) else [dist_inputs.shape[-1]]
    noise = _uniform(tf.shape(dist_inputs), noise_seed)
    parts = []
    for logits, part_noise in zip(tf.split(dist_inputs, lens, axis=-1),
                                  tf.split(noise, lens, axis=-1)):
        allowed = logits > ALLOWED_THRESHOLD
        allowed = tf.logical_or(allowed, tf.logical_not(
            tf.reduce_any(allowed, axis=-1, keepdims=True)))
        parts.append(tf.where(allowed, part_noise, -tf.ones_like(part_noise)))
    random = dist_class(tf.concat(parts, axis=-1), model).deterministic_sample()
    chosen = _uniform(tf.shape(dist_inputs)[:1], choose_seed) < epsilon
    rank = greedy.shape.rank
    return tf.where(tf.reshape(chosen, [-1] + [1] * (rank - 1)), random, greedy)


def stateless_sample(dist: Any, seed: tf.Tensor) -> Optional[Tuple[Any, tf.Tensor]]:
    """`(sample, its logp [B])` of `dist` drawn with stateless random ops from `seed [2]`,
    with the distribution's own sampling formula; None for a class not covered (one
    not exactly of `tfpolicy.learning.distributions`)."""
    kind = type(dist)
    if kind is Categorical:
        actions = dist._actions(tf.random.stateless_categorical(dist.inputs, 1, seed)[:, 0])
        return actions, dist.logp(actions)
    if kind is MultiCategorical:
        seeds = tf.random.experimental.stateless_split(seed, len(dist.cats))
        actions = dist._actions([tf.random.stateless_categorical(cat.inputs, 1, seeds[i])[:, 0]
                                 for i, cat in enumerate(dist.cats)])
        return actions, dist.logp(actions)
    if kind in (DiagGaussian, SquashedGaussian):
        raw = dist.mean + dist.std * tf.random.stateless_normal(tf.shape(dist.mean), seed,
                                                                dtype=dist.mean.dtype)
        if kind is DiagGaussian:
            return dist._actions(raw), dist.logp(raw)
        return dist._squash(raw), dist._logp_raw(raw)
    if kind is Deterministic:
        return dist.inputs, dist.logp(dist.inputs)
    if kind is MultiActionDistribution:
        children = dist.flat_child_distributions
        seeds = tf.random.experimental.stateless_split(seed, len(children))
        drawn = [stateless_sample(child, seeds[i]) for i, child in enumerate(children)]
        if any(d is None for d in drawn):
            return None
        return dist._pack([a for a, _ in drawn]), tf.add_n([lp for _, lp in drawn])
    return None
