"""`PolicyOptimizer`: the base of the execution strategies that move samples, gradients and
weights between workers and the learner (RLlib's policy optimizers).

An optimizer is built either on a `WorkerSet` (`Optimizer(workers, ...)`,
whose fault-tolerance settings then apply) or, as in RLlib's first
documented API, on a local worker and a list of remote worker handles
(`Optimizer(local_evaluator, remote_evaluators, ...)`), in which case a
failed remote worker is a `WorkerFailureError` naming it. The local worker
learns; the remote ones (Ray actors of `RolloutWorker.as_remote()`)
sample. With no remote workers the local worker samples too.

`step()` does one round of the strategy and returns the learner's fetches;
`stats()` reports the counters (`num_steps_sampled`, `num_steps_trained`,
and each strategy's own); `collect_metrics()` gives RLlib's episode summary
from every worker with `info` set to `stats()`.

The strategies: `SyncSamplesOptimizer` (gather, concatenate, learn,
broadcast), `AsyncGradientsOptimizer` (A3C: workers compute gradients, the
learner applies each as it arrives) and `AsyncSamplesOptimizer` (the
learner consumes batches from a bounded queue while the workers keep
sampling; it reports the policy lag).
"""

import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from tfpolicy.evaluation.metrics import summarize_episodes
from tfpolicy.evaluation.worker_set import WorkerFailureError, WorkerSet, _first_line

__all__ = ["PolicyOptimizer"]


class _Evaluators:
    """A local worker and remote worker handles behind `WorkerSet`'s interface (no
    fault tolerance: a failure is named and raised)."""

    def __init__(self, local_worker: Any, remote_workers: Sequence[Any]):
        self._local_worker = local_worker
        self._remote_workers = list(remote_workers)
        self._ray: Any = None
        if self._remote_workers:
            from tfpolicy.evaluation import ray_session
            self._ray = ray_session.require_ray("remote evaluators")

    def local_worker(self) -> Any:
        return self._local_worker

    def remote_workers(self) -> List[Any]:
        return list(self._remote_workers)

    def handle_worker_failure(self, actor: Any, error: BaseException, what: str) -> None:
        position = next(i for i, a in enumerate(self._remote_workers) if a is actor)
        raise WorkerFailureError(
            f"remote evaluator {position} (of {len(self._remote_workers)}) failed during "
            f"{what}: {type(error).__name__}: {_first_line(error)}; build the optimizer on a "
            f"WorkerSet with recreate_failed_workers=True to replace failed workers") from error

    def call_remote(self, call: Callable[[Any], Any], what: str) -> List[Any]:
        ray = self._ray
        pending = [(actor, call(actor)) for actor in self._remote_workers]
        results = []
        for actor, ref in pending:
            try:
                results.append(ray.get(ref))
            except ray.exceptions.RayError as error:
                self.handle_worker_failure(actor, error, what)
        return results

    def sync_weights(self, policies: Optional[Sequence[str]] = None,
                     global_vars: Optional[Dict[str, Any]] = None) -> None:
        if self._remote_workers:
            weights = self._ray.put(self._local_worker.get_weights(policies))
            self.call_remote(lambda w: w.set_weights.remote(weights, global_vars),
                             "set_weights()")
        if global_vars is not None:
            self._local_worker.set_global_vars(global_vars)

    def foreach_worker(self, func: Callable[[Any], Any], local_worker: bool = True) -> List[Any]:
        results = [func(self._local_worker)] if local_worker else []
        return results + self.call_remote(lambda w: w.apply.remote(func), "apply()")


class PolicyOptimizer:
    """Base of the policy optimizers (see the module docstring).

    Args:
      workers: a `WorkerSet`, or the local worker (RLlib's `local_evaluator`).
      remote_evaluators: with a local worker, the remote worker handles.

    Attributes:
      workers: the `WorkerSet` (or the equivalent view of the worker and handles).
      local_evaluator: the learning worker (also `local_worker()`).
      num_steps_sampled, num_steps_trained: environment steps so far.

    Raises:
      TypeError: `remote_evaluators` given together with a `WorkerSet`.
    """

    def __init__(self, workers: Any, remote_evaluators: Optional[Sequence[Any]] = None):
        if isinstance(workers, WorkerSet):
            if remote_evaluators is not None:
                raise TypeError(f"{type(self).__name__}: give a WorkerSet or a local worker "
                                f"with remote_evaluators, not both")
            self.workers: Any = workers
        else:
            self.workers = _Evaluators(workers, remote_evaluators or [])
        self.num_steps_sampled = 0
        self.num_steps_trained = 0
        self._episodes: List[Any] = []
        self._started = time.perf_counter()

    # RLlib's older attribute names.
    @property
    def local_evaluator(self) -> Any:
        """The learning worker."""
        return self.workers.local_worker()

    @property
    def remote_evaluators(self) -> List[Any]:
        """The remote workers in use (handles change when a worker is recreated)."""
        return self.workers.remote_workers()

    def local_worker(self) -> Any:
        """The learning worker."""
        return self.workers.local_worker()

    @staticmethod
    def _ray() -> Any:
        from tfpolicy.evaluation import ray_session
        return ray_session.require_ray("remote workers")

    def step(self) -> Dict[str, Any]:
        """One round of the strategy; returns the learner's fetches `{policy_id: info}`."""
        raise TypeError(f"{type(self).__name__} does not define step(); use "
                        f"SyncSamplesOptimizer, AsyncGradientsOptimizer or "
                        f"AsyncSamplesOptimizer")

    def stats(self) -> Dict[str, Any]:
        """The counters (subclasses add their own)."""
        return {"num_steps_sampled": self.num_steps_sampled,
                "num_steps_trained": self.num_steps_trained}

    def collect_metrics(self, min_history: int = 100) -> Dict[str, Any]:
        """RLlib's episode summary over every worker's finished episodes (at least the
        last `min_history` seen), with `info` set to `stats()`."""
        new = []
        for episodes in self.workers.foreach_worker(lambda w: w.get_metrics()):
            new.extend(episodes)
        self._episodes = (self._episodes + new)[-max(min_history, len(new)):]
        result = summarize_episodes(self._episodes)
        result["episodes_this_iter"] = len(new)
        result["timesteps_total"] = self.num_steps_sampled
        result["info"] = self.stats()
        return result

    def foreach_evaluator(self, func: Callable[[Any], Any]) -> List[Any]:
        """`[func(worker)]` on the local worker, then every remote one."""
        return self.workers.foreach_worker(func)

    foreach_worker = foreach_evaluator

    def save(self) -> List[int]:
        """The counters, to `restore` later."""
        return [self.num_steps_trained, self.num_steps_sampled]

    def restore(self, data: Sequence[int]) -> None:
        """Sets the counters `save` returned."""
        self.num_steps_trained, self.num_steps_sampled = int(data[0]), int(data[1])

    def stop(self) -> None:
        """Ends whatever runs in the background (nothing for synchronous strategies)."""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(remote_workers={len(self.remote_evaluators)}, "
                f"num_steps_sampled={self.num_steps_sampled})")
