"""`SyncSamplesOptimizer`: gather samples from every worker, concatenate, learn, broadcast.

Each `step()`:

1. samples every remote worker in rounds (the local worker when there are
   none) until at least `train_batch_size` environment steps are in
   (`synchronous_parallel_sample`);
2. standardizes `standardize_fields` of each policy's batch (e.g.
   `advantages`);
3. learns on the concatenated batch with the local worker's policies to
   train (`do_minibatch_sgd`: `num_sgd_iter` passes of minibatches of
   `sgd_minibatch_size` rows, or one `learn_on_batch`);
4. sends the new weights to every remote worker through one `ray.put`.

Nothing overlaps: the workers wait while the learner learns, so every
batch comes from the current weights (on-policy).

>>> import numpy as np
>>> from tfpolicy.evaluation import RolloutWorker
>>> from tfpolicy.learning import Policy
>>> class Counting(Policy):
...     def compute_actions(self, obs_batch, state_batches=None, **kwargs):
...         return np.zeros(len(obs_batch), np.int64), [], {}
...     def learn_on_batch(self, samples):
...         return {"rows": len(samples)}
...     def get_weights(self):
...         return {}
...     def set_weights(self, weights):
...         pass
>>> worker = RolloutWorker("CartPole-v1", Counting, {"rollout_fragment_length": 30, "seed": 0})
>>> optimizer = SyncSamplesOptimizer(worker, [], train_batch_size=50)
>>> optimizer.step(), optimizer.num_steps_sampled
({'default_policy': {'rows': 60}}, 60)
"""

from typing import Any, Dict, Optional, Sequence

import numpy as np

from tfpolicy.evaluation.policy_optimizer import PolicyOptimizer
from tfpolicy.evaluation.rollout_ops import synchronous_parallel_sample
from tfpolicy.learning import sgd
from tfpolicy.learning.postprocessing import standardize_fields as _standardize
from tfpolicy.learning.sample_batch import MultiAgentBatch, Seed

__all__ = ["SyncSamplesOptimizer"]


class SyncSamplesOptimizer(PolicyOptimizer):
    """Synchronous sampling, then learning, then broadcast (see the module docstring).

    Args:
      workers: a `WorkerSet`, or the local worker (with `remote_evaluators`).
      remote_evaluators: the remote worker handles (with a local worker).
      train_batch_size: environment steps per `step()` (at least).
      num_sgd_iter: passes over the batch.
      sgd_minibatch_size: rows per minibatch (0 or None: the whole batch).
      standardize_fields: columns standardized per policy batch before learning.
      seed: what shuffles the minibatches (an int or a `np.random.Generator`).

    Raises:
      ValueError: a size out of range (naming it, the range and the value).
    """

    def __init__(self, workers: Any, remote_evaluators: Optional[Sequence[Any]] = None, *,
                 train_batch_size: int = 1, num_sgd_iter: int = 1,
                 sgd_minibatch_size: Optional[int] = 0,
                 standardize_fields: Sequence[str] = (), seed: Seed = None):
        super().__init__(workers, remote_evaluators)
        for name, value, low in (("train_batch_size", train_batch_size, 1),
                                 ("num_sgd_iter", num_sgd_iter, 1),
                                 ("sgd_minibatch_size", sgd_minibatch_size or 0, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"SyncSamplesOptimizer: {name} must be an int in "
                                 f"[{low}, inf), got {value!r}")
        self.train_batch_size = int(train_batch_size)
        self.num_sgd_iter = int(num_sgd_iter)
        self.sgd_minibatch_size = int(sgd_minibatch_size or 0)
        self.standardize_fields = list(standardize_fields)
        self._rng = (seed if isinstance(seed, np.random.Generator)
                     else np.random.default_rng(seed))
        self.learner_stats: Dict[str, Any] = {}
        self.num_weight_syncs = 0

    def step(self) -> Dict[str, Any]:
        """Sample, standardize, learn, broadcast; returns `{policy_id: learner info}`."""
        batch = synchronous_parallel_sample(self.workers, max_env_steps=self.train_batch_size)
        if self.standardize_fields:
            batch = _standardize(batch, self.standardize_fields)
        local = self.workers.local_worker()
        fetches = sgd.do_minibatch_sgd(batch, local.policy_map, self.num_sgd_iter,
                                       self.sgd_minibatch_size or None, seed=self._rng,
                                       policies_to_train=local.is_policy_to_train)
        if self.workers.remote_workers():
            self.workers.sync_weights()
            self.num_weight_syncs += 1
        steps = batch.env_steps() if isinstance(batch, MultiAgentBatch) else batch.count
        self.num_steps_sampled += int(steps)
        self.num_steps_trained += int(steps)
        self.learner_stats = fetches
        return fetches

    def stats(self) -> Dict[str, Any]:
        """The counters plus `num_weight_syncs` and the last `learner` fetches."""
        return dict(super().stats(), num_weight_syncs=self.num_weight_syncs,
                    learner=self.learner_stats)
