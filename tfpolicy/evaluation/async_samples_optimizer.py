"""`AsyncSamplesOptimizer`: the learner consumes batches while the workers keep sampling
(the IMPALA-style execution of Espeholt et al. 2018, without V-trace).

Each remote worker always has `max_sample_requests_in_flight_per_worker`
`sample()` calls running. As they finish (`ray.wait`), their batches are
concatenated into train batches of at least `train_batch_size` environment
steps and put on the learner queue, which holds at most
`learner_queue_size` batches: when it is full, `step()` waits for the
learner (backpressure), so memory stays bounded and sampling never runs
more than the queue ahead. A learner thread takes batches off the queue
and learns on them with the local worker's policies (`do_minibatch_sgd`);
each update makes a new weights version. A worker whose batch was taken
gets the newest weights (one `ray.put` per version) every
`broadcast_interval` of its batches, before its next `sample()`.

So a batch may be sampled with weights older than those it is learned
on: its *policy lag* is the number of learner updates between the two
(`lag = version learned on - version sampled with`), measured per batch
and reported by `stats()` as `policy_lag_mean` / `policy_lag_max`,
beside `learner_queue_size` (now), `learner_queue_max` (the most it held)
and the learner's throughput. Policy-gradient losses treat the batches as
on-policy; the lag says how far from it they are.

With no remote workers, `step()` samples with the local worker and learns
itself, in this thread (a learner thread would change the weights the
local worker acts with).
"""

import queue
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfpolicy.evaluation.policy_optimizer import PolicyOptimizer
from tfpolicy.learning import sgd
from tfpolicy.learning.postprocessing import standardize_fields as _standardize
from tfpolicy.learning.sample_batch import MultiAgentBatch, Seed, concat_samples

__all__ = ["AsyncSamplesOptimizer", "LearnerThread"]


def _env_steps(batch: Any) -> int:
    return int(batch.env_steps() if isinstance(batch, MultiAgentBatch) else batch.count)


class LearnerThread(threading.Thread):
    """Takes `(batch, weights version)` items off `inqueue` and learns on them.

    Args:
      local_worker: the worker whose policies learn.
      inqueue: the bounded learner queue.
      num_sgd_iter, sgd_minibatch_size, standardize_fields, seed: as
        `do_minibatch_sgd` and `SyncSamplesOptimizer`.

    Attributes:
      version: learner updates so far (the weights version).
      lock: held while learning; hold it to read consistent weights.
      lags: the policy lag of each batch learned on.
      learner_stats: the last `{policy_id: info}`.
      error: the exception that stopped the thread, if any.
    """

    def __init__(self, local_worker: Any, inqueue: "queue.Queue", num_sgd_iter: int,
                 sgd_minibatch_size: int, standardize_fields: Sequence[str], seed: Seed):
        super().__init__(name="tfpolicy-learner", daemon=True)
        self.local_worker = local_worker
        self.inqueue = inqueue
        self.num_sgd_iter = num_sgd_iter
        self.sgd_minibatch_size = sgd_minibatch_size
        self.standardize_fields = list(standardize_fields)
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.version = 0
        self.lock = threading.Lock()
        self.lags: List[int] = []
        self.learner_stats: Dict[str, Any] = {}
        self.num_steps_trained = 0
        self.learn_time_s = 0.0
        self.error: Optional[BaseException] = None
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.is_set():
            try:
                item = self.inqueue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is None:
                return
            batch, version = item
            try:
                self.learn(batch, version)
            except BaseException as error:  # reported by the optimizer's next step()
                self.error = error
                return

    def learn(self, batch: Any, version: int) -> None:
        """One learner update on `batch`, sampled with weights `version`."""
        if self.standardize_fields:
            batch = _standardize(batch, self.standardize_fields)
        start = time.perf_counter()
        with self.lock:
            self.lags.append(self.version - int(version))
            self.learner_stats = sgd.do_minibatch_sgd(
                batch, self.local_worker.policy_map, self.num_sgd_iter,
                self.sgd_minibatch_size or None, seed=self._rng,
                policies_to_train=self.local_worker.is_policy_to_train)
            self.version += 1
            self.num_steps_trained += _env_steps(batch)
        self.learn_time_s += time.perf_counter() - start

    def stop(self) -> None:
        """Ends the thread after its current update."""
        self._stop_requested.set()


class AsyncSamplesOptimizer(PolicyOptimizer):
    """Sampling and learning overlap, through a bounded learner queue (see the module
    docstring).

    Args:
      workers: a `WorkerSet`, or the local worker (with `remote_evaluators`).
      remote_evaluators: the remote worker handles (with a local worker).
      train_batch_size: environment steps per learner update (at least).
      max_sample_requests_in_flight_per_worker: `sample()` calls kept running
        on each remote worker.
      broadcast_interval: a worker gets new weights after this many of its batches.
      learner_queue_size: the most train batches waiting for the learner.
      num_sgd_iter, sgd_minibatch_size, standardize_fields, seed: as
        `SyncSamplesOptimizer`.

    Raises:
      ValueError: a size out of range (naming it, the range and the value).
    """

    def __init__(self, workers: Any, remote_evaluators: Optional[Sequence[Any]] = None, *,
                 train_batch_size: int = 500, max_sample_requests_in_flight_per_worker: int = 2,
                 broadcast_interval: int = 1, learner_queue_size: int = 16,
                 num_sgd_iter: int = 1, sgd_minibatch_size: Optional[int] = 0,
                 standardize_fields: Sequence[str] = (), seed: Seed = None):
        super().__init__(workers, remote_evaluators)
        for name, value in (("train_batch_size", train_batch_size),
                            ("max_sample_requests_in_flight_per_worker",
                             max_sample_requests_in_flight_per_worker),
                            ("broadcast_interval", broadcast_interval),
                            ("learner_queue_size", learner_queue_size),
                            ("num_sgd_iter", num_sgd_iter)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"AsyncSamplesOptimizer: {name} must be an int in [1, inf), "
                                 f"got {value!r}")
        self.train_batch_size = int(train_batch_size)
        self.max_in_flight = int(max_sample_requests_in_flight_per_worker)
        self.broadcast_interval = int(broadcast_interval)
        self.learner_queue_size = int(learner_queue_size)
        self._queue: "queue.Queue" = queue.Queue(maxsize=self.learner_queue_size)
        self.learner = LearnerThread(self.workers.local_worker(), self._queue, int(num_sgd_iter),
                                     int(sgd_minibatch_size or 0), standardize_fields, seed)
        self._pending: Dict[Any, Tuple[Any, int]] = {}  # ref -> (actor, version sampled with)
        self._actor_version: Dict[int, int] = {}
        self._since_broadcast: Dict[int, int] = {}
        self._buffer: List[Any] = []
        self._buffer_versions: List[int] = []
        self._weights_ref: Tuple[int, Any] = (-1, None)
        self.learner_queue_max = 0
        self.num_weight_syncs = 0
        self._started = False

    # ---- the loop --------------------------------------------------------------------------------

    def step(self) -> Dict[str, Any]:
        """Gathers one train batch from whichever workers finish first and puts it on the
        learner queue (waiting while the queue is full); returns the learner's latest
        fetches `{policy_id: info}`.

        Raises:
          RuntimeError: the learner thread failed (its exception chained).
        """
        self._check_learner()
        if not self.workers.remote_workers():
            return self._step_local()
        if not self._started:
            self._started = True
            self.learner.start()
            for actor in self.workers.remote_workers():
                self._actor_version[id(actor)] = self._send_weights(actor)
                for _ in range(self.max_in_flight):
                    self._launch(actor)
        ray = self._ray()
        gathered = 0
        while gathered < self.train_batch_size:
            self._check_learner()
            ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=1.0)
            if not ready:
                continue
            actor, version = self._pending.pop(ready[0])
            try:
                batch = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                self._replace(actor, error)
                continue
            steps = _env_steps(batch)
            gathered += steps
            self.num_steps_sampled += steps
            self._buffer.append(batch)
            self._buffer_versions.append(version)
            key = id(actor)
            self._since_broadcast[key] = self._since_broadcast.get(key, 0) + 1
            if (self._since_broadcast[key] >= self.broadcast_interval
                    and self._actor_version.get(key, -1) < self.learner.version):
                self._actor_version[key] = self._send_weights(actor)
                self._since_broadcast[key] = 0
            self._launch(actor)
        batch = concat_samples(self._buffer)
        version = min(self._buffer_versions)
        self._buffer, self._buffer_versions = [], []
        self._put((batch, version))
        self.num_steps_trained = self.learner.num_steps_trained
        return self.learner.learner_stats

    def _step_local(self) -> Dict[str, Any]:
        local = self.workers.local_worker()
        batches, gathered = [], 0
        while gathered < self.train_batch_size:
            batch = local.sample()
            batches.append(batch)
            gathered += _env_steps(batch)
        self.num_steps_sampled += gathered
        self.learner.learn(concat_samples(batches), self.learner.version)
        self.num_steps_trained = self.learner.num_steps_trained
        return self.learner.learner_stats

    def _put(self, item: Tuple[Any, int]) -> None:
        while True:
            self._check_learner()
            try:
                self._queue.put(item, timeout=1.0)
                break
            except queue.Full:
                continue
        self.learner_queue_max = max(self.learner_queue_max, self._queue.qsize())

    def _launch(self, actor: Any) -> None:
        self._pending[actor.sample.remote()] = (actor, self._actor_version.get(id(actor), 0))

    def _send_weights(self, actor: Any) -> int:
        """Sends the newest weights (one `ray.put` per version); returns their version."""
        ray = self._ray()
        with self.learner.lock:
            version = self.learner.version
            if self._weights_ref[0] != version:
                self._weights_ref = (version, ray.put(self.workers.local_worker().get_weights()))
        actor.set_weights.remote(self._weights_ref[1], {"timestep": self.num_steps_sampled})
        self.num_weight_syncs += 1
        return version

    def _replace(self, actor: Any, error: BaseException) -> None:
        # Requests still queued on the dead actor fail too: forget them.
        for ref in [r for r, (a, _) in self._pending.items() if a is actor]:
            del self._pending[ref]
        replacement = self.workers.handle_worker_failure(actor, error, "sample()")
        if replacement is not None:
            self._actor_version[id(replacement)] = self._send_weights(replacement)
            for _ in range(self.max_in_flight):
                self._launch(replacement)

    def _check_learner(self) -> None:
        if self.learner.error is not None:
            raise RuntimeError(f"AsyncSamplesOptimizer: the learner thread failed: "
                               f"{type(self.learner.error).__name__}: {self.learner.error}"
                               ) from self.learner.error

    # ---- reporting and lifetime ----------------------------------------------------------------

    def stats(self) -> Dict[str, Any]:
        """The counters plus the policy lag (`policy_lag_mean`, `policy_lag_max` over the
        batches learned on), the learner queue (`learner_queue_size` now,
        `learner_queue_max`, `learner_queue_capacity`), `num_weight_syncs`,
        `num_learner_updates`, `learner_time_s` and the last `learner` fetches."""
        lags = list(self.learner.lags)
        return dict(super().stats(),
                    policy_lag_mean=float(np.mean(lags)) if lags else 0.0,
                    policy_lag_max=int(max(lags)) if lags else 0,
                    learner_queue_size=self._queue.qsize(),
                    learner_queue_max=self.learner_queue_max,
                    learner_queue_capacity=self.learner_queue_size,
                    num_weight_syncs=self.num_weight_syncs,
                    num_learner_updates=self.learner.version,
                    learner_time_s=self.learner.learn_time_s,
                    learner=self.learner.learner_stats)

    def stop(self) -> None:
        """Stops the learner thread (after its current update) and forgets the samples in
        flight."""
        self.learner.stop()
        if self.learner.is_alive():
            self.learner.join(timeout=30.0)
        self._pending.clear()
