"""`WorkerSet`: the local `RolloutWorker` and its remote workers (RLlib's name).

For now the set is the local worker only: `num_workers` must be 0, and
`remote_workers()` is empty. Ray actors join with the scale-out; the
methods below already have the shape they will keep then.

>>> import numpy as np
>>> from tfpolicy.learning import Policy
>>> class Left(Policy):
...     def compute_actions(self, obs_batch, state_batches=None, **kwargs):
...         return np.zeros(len(obs_batch), np.int64), [], {}
...     def learn_on_batch(self, samples):
...         return {}
...     def get_weights(self):
...         return {}
...     def set_weights(self, weights):
...         pass
>>> workers = WorkerSet("CartPole-v1", Left, {"rollout_fragment_length": 4, "seed": 0})
>>> len(workers.local_worker().sample()), workers.remote_workers()
(4, [])
>>> workers.stop()
"""

from typing import Any, Callable, List, Mapping, Optional, Sequence, Union

from tfpolicy.evaluation.rollout_worker import RolloutWorker
from tfpolicy.learning.policy import PolicyID

__all__ = ["WorkerSet"]


class WorkerSet:
    """The workers of an algorithm: a local `RolloutWorker` (index 0) plus remote ones.

    Args:
      env_creator: as `RolloutWorker`'s.
      default_policy_class: as `RolloutWorker`'s.
      config: the algorithm's config.
      num_workers: remote workers; only 0 for now.

    Raises:
      ValueError: `num_workers` other than 0 (naming the key, the value and
        the allowed range), and the errors of `RolloutWorker`.
    """

    def __init__(self, env_creator: Union[str, Callable[..., Any]], default_policy_class: type,
                 config: Optional[Mapping[str, Any]] = None, num_workers: int = 0):
        if isinstance(num_workers, bool) or num_workers != 0:
            raise ValueError(
                f"config key 'num_workers': expected an int in [0, 0], got {num_workers!r}; "
                f"remote (Ray) workers come with the scale-out, until then sampling runs in "
                f"the local worker (raise num_envs_per_worker for more environments)")
        self._local_worker = RolloutWorker(env_creator, default_policy_class, config,
                                           worker_index=0, num_workers=num_workers)
        self._remote_workers: List[Any] = []

    def local_worker(self) -> RolloutWorker:
        """The worker in this process."""
        return self._local_worker

    def remote_workers(self) -> List[Any]:
        """The remote workers (none for now)."""
        return list(self._remote_workers)

    def num_remote_workers(self) -> int:
        """`len(remote_workers())`."""
        return len(self._remote_workers)

    def sync_weights(self, policies: Optional[Sequence[PolicyID]] = None,
                     global_vars: Optional[Mapping[str, Any]] = None) -> None:
        """Sends the local worker's weights (of `policies`, default all) to every remote
        worker, and `global_vars` to all workers, the local one included."""
        if self._remote_workers:
            weights = self._local_worker.get_weights(policies)
            for worker in self._remote_workers:
                worker.set_weights(weights, global_vars)
        if global_vars is not None:
            self._local_worker.set_global_vars(global_vars)

    def foreach_worker(self, func: Callable[[RolloutWorker], Any],
                       local_worker: bool = True) -> List[Any]:
        """`[func(worker)]`, the local worker first (unless `local_worker=False`)."""
        workers = ([self._local_worker] if local_worker else []) + self._remote_workers
        return [func(worker) for worker in workers]

    def foreach_policy(self, func: Callable[..., Any]) -> List[Any]:
        """`[func(policy, policy_id)]` over every worker's policies, local worker first."""
        results: List[Any] = []
        for worker_results in self.foreach_worker(lambda w: w.foreach_policy(func)):
            results.extend(worker_results)
        return results

    def stop(self) -> None:
        """Stops every worker (closes their environments)."""
        self.foreach_worker(lambda w: w.stop())
