"""The learning half of `DynamicTFPolicy`: the batch checked against the spaces
(once per signature) and chopped into sequences for a recurrent model, one
compiled step per batch signature (loss, gradients, clipping by global norm,
the optimizer's update, the stats), and the numpy gradients of
`compute_gradients`/`apply_gradients`.

The functions are `DynamicTFPolicy` methods (`policy` is `self`).
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from tfpolicy.learning import rnn_sequencing
from tfpolicy.learning._tf_compiled import Compiled, leaf_signature, tensor_specs, to_numpy
from tfpolicy.learning._train_batch import OptimizerWrapper, TrainBatch
from tfpolicy.learning.sample_batch import SampleBatch, check_columns
from tfpolicy.policies.input_pruning import prune_unused_inputs

__all__ = ["LEARNER_STATS_KEY", "prepared", "train_columns", "run_learn_step", "compile_learn",
           "learn_step", "compute_gradients", "apply_gradients"]

LEARNER_STATS_KEY = "learner_stats"

# Columns of numeric dtype only go into the compiled step; these never do.
_NOT_TRAINED = frozenset({SampleBatch.INFOS})
_NO_GRADIENTS = ("{}: every gradient is None: the loss does not depend on any trainable "
                 "variable of the model")


def prepared(self, samples: SampleBatch) -> SampleBatch:
    """The batch checked against the spaces (once per signature) and, for a
    recurrent model, chopped into zero-padded sequences."""
    if not isinstance(samples, SampleBatch):
        samples = SampleBatch(samples)
    expected = {k: spec for k, spec in ((SampleBatch.OBS, self.observation_spec),
                                        (SampleBatch.NEXT_OBS, self.observation_spec),
                                        (SampleBatch.ACTIONS, self.action_spec))
                if k in samples}
    signature = tuple((key, tuple((leaf.dtype, leaf.shape[1:])
                                  for leaf in tree.flatten(samples[key])))
                      for key in sorted(samples) if key not in _NOT_TRAINED)
    if signature not in self._checked_batches:
        check_columns(samples, expected, owner=f"{type(self).__name__}.learn_on_batch")
        self._checked_batches.add(signature)
    if self._initial_state and SampleBatch.SEQ_LENS not in samples:
        samples = samples.copy(shallow=True)
        rnn_sequencing.pad_batch_to_sequences_of_same_size(
            samples, max_seq_len=self.config["model"]["max_seq_len"], shuffle=False,
            batch_divisibility_req=self.batch_divisibility_req)
    return samples


def train_columns(self, batch: SampleBatch) -> Tuple[Dict[str, Any], List[str]]:
    columns: Dict[str, Any] = {}
    left_out: List[str] = []
    for key in batch:
        value = dict.__getitem__(batch, key)
        leaves = tree.flatten(value)
        if key in _NOT_TRAINED or not leaves or any(
                not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf" for x in leaves):
            left_out.append(key)
            continue
        columns[key] = value
    return columns, left_out


def run_learn_step(self, batch: SampleBatch, apply: bool
                    ) -> Tuple[Dict[str, Any], List[Any]]:
    columns, left_out = self._train_columns(batch)
    flat = tree.flatten(columns)
    if not self.config.get("eager_tracing", True):
        stats, grads = self._learn_step(
            tree.map_structure(tf.convert_to_tensor, columns), left_out, apply)
        return to_numpy(stats), [None if g is None else g.numpy() for g in grads]
    key = (apply, tuple(sorted(columns)), leaf_signature(flat))
    compiled = self._learn_functions.get(key)
    if compiled is None:
        compiled = self._learn_functions[key] = self._compile_learn(columns, flat, left_out,
                                                                    apply)
    stats, grads = compiled.pack([t.numpy() for t in compiled.function(*flat)])
    return stats, grads


def compile_learn(self, columns: Dict[str, Any], flat: Sequence[np.ndarray],
                   left_out: List[str], apply: bool) -> Compiled:
    structure = tree.map_structure(lambda _: 0, columns)
    out_structure: List[Any] = []
    grad_slots: List[bool] = []

    def step(*leaves: tf.Tensor) -> List[tf.Tensor]:
        stats, grads = self._learn_step(tree.unflatten_as(structure, list(leaves)),
                                        left_out, apply)
        # Gradients of variables the loss does not reach are None; they
        # stay None on the numpy side. (A first trace that creates the
        # optimizer's variables is traced again: keep the last one.)
        grad_slots[:] = [g is not None for g in grads]
        result = (stats, [g for g in grads if g is not None])
        out_structure[:] = [result]
        return tree.flatten(result)

    # Columns the loss never reads (rewards, ids, ...) are left out of the
    # call: each argument of a concrete-function call costs conversion time.
    function = prune_unused_inputs(step, tensor_specs(flat)).on_all_inputs()
    pack_outputs = nest_utils.packer(out_structure[0])

    def pack(values: Sequence[Any]) -> Tuple[Dict[str, Any], List[Any]]:
        stats, present = pack_outputs(values)
        present = iter(present)
        return stats, [next(present) if slot else None for slot in grad_slots]

    return Compiled(function, pack)


def learn_step(self, columns: Dict[str, Any], left_out: List[str], apply: bool
                ) -> Tuple[Dict[str, Any], List[Any]]:
    """Loss, gradients, clipping, the optimizer's update and the stats (traced)."""
    train_batch = TrainBatch(columns, is_training=True, left_out=left_out)
    variables = self.model.trainable_variables()
    custom_gradients = self._callbacks.get("compute_gradients_fn")
    with tf.GradientTape(persistent=custom_gradients is not None) as tape:
        loss = self.loss(self.model, self.dist_class, train_batch)
    if isinstance(loss, (list, tuple)):
        raise ValueError(f"{type(self).__name__}: the loss returned {len(loss)} tensors; "
                         "one scalar loss per policy is supported")
    if custom_gradients is not None:
        grads_and_vars = list(custom_gradients(self, OptimizerWrapper(self._optimizer, tape),
                                               loss))
    else:
        grads_and_vars = list(zip(tape.gradient(loss, variables), variables))
    if apply and all(g is None for g, _ in grads_and_vars):
        raise ValueError(_NO_GRADIENTS.format(type(self).__name__))
    clip = self.config.get("grad_clip")
    if clip is not None:
        present = [g for g, _ in grads_and_vars if g is not None]
        clipped, _ = tf.clip_by_global_norm(present, clip)
        clipped = iter(clipped)
        grads_and_vars = [(None if g is None else next(clipped), v)
                          for g, v in grads_and_vars]
    grads = [g for g, _ in grads_and_vars]
    if apply:
        apply_fn = self._callbacks.get("apply_gradients_fn")
        if apply_fn is not None:
            apply_fn(self, self._optimizer, grads_and_vars)
        else:
            self._optimizer.apply_gradients(
                [(g, v) for g, v in grads_and_vars if g is not None])
    stats: Dict[str, Any] = {LEARNER_STATS_KEY: self.stats_fn(train_batch)}
    stats.update(self.grad_stats_fn(train_batch, grads))
    stats.update(self.extra_learn_fetches_fn())
    return stats, grads


def compute_gradients(self, postprocessed_batch: SampleBatch
                      ) -> Tuple[List[Optional[np.ndarray]], Dict[str, Any]]:
    """The (clipped) gradients of the loss on the batch as numpy arrays, in
    `model.trainable_variables()` order, and the learner stats; nothing is applied."""
    batch = self._prepared(postprocessed_batch)
    stats, grads = self._run_learn_step(batch, apply=False)
    return [None if g is None else np.asarray(g) for g in grads], stats


def apply_gradients(self, gradients: Sequence[Optional[np.ndarray]]) -> None:
    """Applies `compute_gradients`' arrays with the optimizer (None entries skipped).

    Raises:
      ValueError: another number of gradients than trainable variables, or none
        that is not None.
    """
    variables = self.model.trainable_variables()
    if len(gradients) != len(variables):
        raise ValueError(f"apply_gradients: got {len(gradients)} gradients for "
                         f"{len(variables)} trainable variables")
    pairs = [(tf.convert_to_tensor(g, v.dtype), v) for g, v in zip(gradients, variables)
             if g is not None]
    if not pairs:
        raise ValueError(_NO_GRADIENTS.format(type(self).__name__))
    self._optimizer.apply_gradients(pairs)
    self.num_grad_updates += 1
    self._weights_version += 1  # the LiteRT actor refreshes before its next act
