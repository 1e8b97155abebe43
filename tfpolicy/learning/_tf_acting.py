"""The acting half of `DynamicTFPolicy`: observations checked and converted, one
compiled function per input signature that runs the model, samples (or takes
the mode) and gathers the extra fetches, and `compute_log_likelihoods`.

The functions are `DynamicTFPolicy` methods (`policy` is `self`).
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from tfpolicy.learning._tf_compiled import (Compiled, leaf_signature, merge_float_outputs,
                                            tensor_specs)
from tfpolicy.learning.policy import make_input_dict
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["acting_inputs", "act_function", "compile_act", "action_step",
           "compute_log_likelihoods"]


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
    out_structure: List[Any] = []
    unmerge: List[Any] = []

    def act(*leaves: tf.Tensor) -> List[tf.Tensor]:
        input_dict = tree.unflatten_as(structure, list(leaves))
        actions, state_out, extra = self._action_step(input_dict, explore)
        result = (actions, list(state_out), extra)
        out_structure[:] = [result]
        outputs, split = merge_float_outputs(tree.flatten(result))
        unmerge[:] = [split]
        return outputs

    function = tf.function(act, input_signature=tensor_specs(flat),
                           autograph=False).get_concrete_function()
    return Compiled(function, nest_utils.packer(out_structure[0]), unmerge[0])


def action_step(self, input_dict: Dict[str, Any], explore: bool
                 ) -> Tuple[Any, List[tf.Tensor], Dict[str, Any]]:
    """Actions, new state and extra fetches for a batch of tensors (traced)."""
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
        if explore:
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
