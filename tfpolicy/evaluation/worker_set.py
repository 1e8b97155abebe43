"""`WorkerSet`: the local `RolloutWorker` plus `num_workers` remote ones on Ray (RLlib's name).

The local worker (index 0) lives in this process: the algorithm learns
with its policies. With `num_workers > 0`, workers `1..num_workers` are Ray
actors (`RolloutWorker.as_remote(num_cpus_per_worker, num_gpus_per_worker)`)
built from the same env creator, policy class and config; Ray starts
first if it is not running (`ray_session.init_ray`: a local Ray in this
process by default, `RAY_ADDRESS` or an initialised session otherwise).

Weights move with `sync_weights`: the local worker's weights go into the
object store once (`ray.put`) and every remote worker reads that one
copy. `foreach_worker(func)` runs `func(worker)` everywhere (remote
workers through `RolloutWorker.apply`), and `synchronous_parallel_sample`
samples the remote workers in rounds.

Fault tolerance (config keys):

- `recreate_failed_workers=True`: a remote worker whose call fails (its
  process died, e.g. `ray.kill`, or the call raised) is replaced by a new
  actor with the same index, given the local worker's current weights and
  global vars, and the call is made again on it, so a sampling round
  still returns one batch per worker: nothing is lost, and the batch the
  dead worker was building is never counted.
- `ignore_worker_failures=True`: the failed worker is dropped and the set
  carries on with the others (at least one must remain).
- neither: a `WorkerFailureError` naming the worker index, the call and
  the cause.

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

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from tfpolicy.evaluation import ray_session
from tfpolicy.evaluation.rollout_worker import RolloutWorker
from tfpolicy.learning.policy import PolicyID

__all__ = ["WorkerSet", "WorkerFailureError"]

# Remote workers are TensorFlow processes sharing the machine: one thread pool
# each, sized to the CPUs the actor holds, and no start-up chatter.
_ACTOR_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


class WorkerFailureError(RuntimeError):
    """A remote worker failed and neither `recreate_failed_workers` nor
    `ignore_worker_failures` is set; the message names the worker and the cause."""


def _check_count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"config key {key!r}: expected an int in [0, inf), got {value!r}")
    return int(value)


class WorkerSet:
    """The workers of an algorithm: a local `RolloutWorker` (index 0) plus remote ones.

    Args:
      env_creator: as `RolloutWorker`'s.
      policy_class: the default policy class (as `RolloutWorker`'s
        `default_policy_class`).
      config: the algorithm's config; read here: `num_cpus_per_worker` (1),
        `num_gpus_per_worker` (0), `recreate_failed_workers` (False),
        `ignore_worker_failures` (False).
      num_workers: remote workers (Ray actors); 0 keeps everything local.

    Attributes:
      num_worker_restarts: how many remote workers were recreated.
      recreate_failed_workers, ignore_worker_failures: the fault-tolerance
        settings (from the config; they may be changed at any time).

    Raises:
      ValueError: a negative `num_workers` (naming the key); the errors of
        `RolloutWorker`.
      ImportError: `num_workers > 0` without Ray installed.
    """

    def __init__(self, env_creator: Union[str, Callable[..., Any]],
                 policy_class: Optional[type] = None,
                 config: Optional[Mapping[str, Any]] = None, num_workers: int = 0,
                 **kwargs: Any):
        if "default_policy_class" in kwargs:
            policy_class = kwargs.pop("default_policy_class")
        if kwargs:
            raise TypeError(f"WorkerSet: unexpected arguments {sorted(kwargs)}")
        num_workers = _check_count(num_workers, "num_workers")
        self._env_creator = env_creator
        self._policy_class = policy_class
        self._config: Dict[str, Any] = dict(config or {})
        self._num_cpus = float(self._config.get("num_cpus_per_worker", 1))
        self._num_gpus = float(self._config.get("num_gpus_per_worker", 0))
        self.recreate_failed_workers = bool(self._config.get("recreate_failed_workers", False))
        self.ignore_worker_failures = bool(self._config.get("ignore_worker_failures", False))
        self._num_workers = num_workers
        self._local_worker = RolloutWorker(env_creator, policy_class, self._config,
                                           worker_index=0, num_workers=num_workers)
        self._remote_workers: List[Any] = []
        self._remote_indices: List[int] = []
        self.num_worker_restarts = 0
        self._ray: Any = None
        if num_workers:
            self.add_workers(num_workers)

    # ---- membership ------------------------------------------------------------------------------

    def _actor_class(self) -> Any:
        return RolloutWorker.as_remote(num_cpus=self._num_cpus, num_gpus=self._num_gpus)

    def _make_remote(self, index: int) -> Any:
        threads = str(max(1, int(self._num_cpus)))
        env_vars = dict(_ACTOR_ENV, TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS=threads)
        return self._actor_class().options(runtime_env={"env_vars": env_vars}).remote(
            self._env_creator, self._policy_class, self._config, worker_index=index,
            num_workers=self._num_workers)

    def add_workers(self, num_workers: int) -> None:
        """Starts `num_workers` more remote workers (Ray starts first if needed), with
        the local worker's weights, and waits until they are up.

        Raises:
          ImportError: Ray is not installed.
        """
        num_workers = _check_count(num_workers, "num_workers")
        if not num_workers:
            return
        wanted = (len(self._remote_workers) + num_workers) * max(self._num_cpus, 1.0)
        self._ray = ray_session.init_ray(num_cpus=max(os.cpu_count() or 1, int(wanted)))
        first = max(self._remote_indices, default=0) + 1
        new = [(first + i, self._make_remote(first + i)) for i in range(num_workers)]
        weights = self._ray.put(self._local_worker.get_weights())
        global_vars = self._local_worker.get_global_vars()
        self._ray.get([actor.set_weights.remote(weights, global_vars) for _, actor in new])
        for index, actor in new:
            self._remote_indices.append(index)
            self._remote_workers.append(actor)

    def local_worker(self) -> RolloutWorker:
        """The worker in this process."""
        return self._local_worker

    def remote_workers(self) -> List[Any]:
        """The healthy remote workers (Ray actor handles), in index order."""
        return list(self._remote_workers)

    def remote_worker_indices(self) -> List[int]:
        """The `worker_index` of each of `remote_workers()`."""
        return list(self._remote_indices)

    def num_remote_workers(self) -> int:
        """`len(remote_workers())`."""
        return len(self._remote_workers)

    def num_healthy_remote_workers(self) -> int:
        """The remote workers in use (failed ones are recreated or dropped)."""
        return len(self._remote_workers)

    # ---- failures --------------------------------------------------------------------------------

    def handle_worker_failure(self, actor: Any, error: BaseException, what: str) -> Optional[Any]:
        """Deals with a failed call of remote worker `actor` (see the module docstring).

        Args:
          actor: the remote worker whose call failed.
          error: the exception `ray.get` raised.
          what: the call, for the message (e.g. `"sample()"`).

        Returns:
          The new actor in its place (`recreate_failed_workers`), or None when
          it was dropped (`ignore_worker_failures`).

        Raises:
          WorkerFailureError: neither flag is set, or no worker would remain.
        """
        position = next(i for i, a in enumerate(self._remote_workers) if a is actor)
        index = self._remote_indices[position]
        cause = f"{type(error).__name__}: {_first_line(error)}"
        if self.recreate_failed_workers:
            try:
                self._ray.kill(actor)
            except Exception:  # already gone
                pass
            new = self._make_remote(index)
            weights = self._ray.put(self._local_worker.get_weights())
            self._ray.get(new.set_weights.remote(weights, self._local_worker.get_global_vars()))
            self._remote_workers[position] = new
            self.num_worker_restarts += 1
            return new
        if self.ignore_worker_failures and len(self._remote_workers) > 1:
            del self._remote_workers[position]
            del self._remote_indices[position]
            return None
        remedy = ("it was the last remote worker" if self.ignore_worker_failures else
                  "set recreate_failed_workers=True to replace failed workers, or "
                  "ignore_worker_failures=True to carry on without them")
        raise WorkerFailureError(f"remote worker {index} (of {self._num_workers}) failed during "
                                 f"{what}: {cause}; {remedy}") from error

    def call_remote(self, call: Callable[[Any], Any], what: str) -> List[Any]:
        """`call(actor)` (which returns an `ObjectRef`) on every remote worker; the
        results, in `remote_workers()` order, with failures handled (a recreated
        worker is called again, a dropped one leaves no result).

        Args:
          call: `actor -> ObjectRef`, e.g. `lambda w: w.sample.remote()`.
          what: the call, for error messages.
        """
        if not self._remote_workers:
            return []
        ray = self._ray
        pending = [(actor, call(actor)) for actor in self._remote_workers]
        results: Dict[int, Any] = {}
        for actor, ref in pending:
            try:
                results[id(actor)] = ray.get(ref)
            except ray.exceptions.RayError as error:
                replacement = self.handle_worker_failure(actor, error, what)
                if replacement is not None:
                    try:
                        results[id(replacement)] = ray.get(call(replacement))
                    except ray.exceptions.RayError as again:
                        raise WorkerFailureError(
                            f"remote worker {self._index_of(replacement)} failed again during "
                            f"{what} right after it was recreated: {type(again).__name__}: "
                            f"{_first_line(again)}") from again
        return [results[id(a)] for a in self._remote_workers if id(a) in results]

    def _index_of(self, actor: Any) -> int:
        return next(i for a, i in zip(self._remote_workers, self._remote_indices) if a is actor)

    # ---- weights -------------------------------------------------------------------------------

    def sync_weights(self, policies: Optional[Sequence[PolicyID]] = None,
                     from_worker: Optional[RolloutWorker] = None,
                     global_vars: Optional[Mapping[str, Any]] = None,
                     timeout_seconds: Optional[float] = None) -> None:
        """Sends the weights of `policies` (default all) from the local worker (or
        `from_worker`) to every remote worker, and `global_vars` to all workers.

        The weights are put into the object store once; each remote worker
        reads that copy.

        Args:
          policies: the policy ids to send; None sends all.
          from_worker: where the weights come from (default the local worker).
          global_vars: e.g. `{"timestep": n}`, given to every worker's policies.
          timeout_seconds: None waits until every remote worker applied them
            (failures handled as in `call_remote`); 0 returns at once (Ray runs
            an actor's calls in order, so its next `sample` sees them).
        """
        source = from_worker or self._local_worker
        if self._remote_workers:
            weights = self._ray.put(source.get_weights(policies))
            call = (lambda w: w.set_weights.remote(weights, global_vars))
            if timeout_seconds == 0:
                for actor in self._remote_workers:
                    call(actor)
            else:
                self.call_remote(call, "set_weights()")
        if global_vars is not None:
            self._local_worker.set_global_vars(global_vars)

    # ---- running things everywhere -------------------------------------------------------------

    def foreach_worker(self, func: Callable[[RolloutWorker], Any],
                       local_worker: bool = True) -> List[Any]:
        """`[func(worker)]`, the local worker first (unless `local_worker=False`), then
        the remote workers (where `func` runs, shipped by Ray)."""
        results = [func(self._local_worker)] if local_worker else []
        results.extend(self.call_remote(lambda w: w.apply.remote(func),
                                        f"foreach_worker({getattr(func, '__name__', func)})"))
        return results

    def foreach_worker_with_index(self, func: Callable[[RolloutWorker, int], Any],
                                  local_worker: bool = True) -> List[Any]:
        """`[func(worker, worker_index)]`, as `foreach_worker`."""
        return self.foreach_worker(lambda w: func(w, w.worker_index), local_worker)

    def foreach_policy(self, func: Callable[..., Any]) -> List[Any]:
        """`[func(policy, policy_id)]` over every worker's policies, local worker first."""
        results: List[Any] = []
        for worker_results in self.foreach_worker(lambda w: w.foreach_policy(func)):
            results.extend(worker_results)
        return results

    def foreach_policy_to_train(self, func: Callable[..., Any]) -> List[Any]:
        """`[func(policy, policy_id)]` over every worker's policies to train."""
        results: List[Any] = []
        for worker_results in self.foreach_worker(lambda w: w.foreach_policy_to_train(func)):
            results.extend(worker_results)
        return results

    # ---- lifetime ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stops every worker: closes the environments, then ends the remote actors."""
        self._local_worker.stop()
        if self._remote_workers:
            ray = self._ray
            refs = [actor.stop.remote() for actor in self._remote_workers]
            try:
                ray.wait(refs, num_returns=len(refs), timeout=10.0)
            finally:
                for actor in self._remote_workers:
                    try:
                        ray.kill(actor)
                    except Exception:  # already gone
                        pass
            self._remote_workers, self._remote_indices = [], []

    def __repr__(self) -> str:
        return (f"WorkerSet(local_worker={self._local_worker!r}, "
                f"remote_workers={self._remote_indices})")


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "cause", None) or error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
