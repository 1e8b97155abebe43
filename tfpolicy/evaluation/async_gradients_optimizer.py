"""`AsyncGradientsOptimizer`: workers compute gradients, the learner applies each as it arrives
(A3C, Mnih et al. 2016).

Every remote worker runs `sample()` then `compute_gradients(batch)` on its
own copy of the weights, over and over. Each `step()` takes
`grads_per_step` gradients in the order they finish (`ray.wait`), applies
each to the local worker's policies at once (`apply_gradients`), and sends
the new weights back to the worker that computed it, with the global
timestep, before asking it for the next gradient. So a gradient may have
been computed on weights that are a few updates old (the asynchrony A3C
is built on), and no worker waits for another.

With no remote workers, the local worker samples, computes and applies
`grads_per_step` times itself.
"""

from typing import Any, Dict, Optional, Sequence, Tuple

from tfpolicy.evaluation.policy_optimizer import PolicyOptimizer
from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID, MultiAgentBatch

__all__ = ["AsyncGradientsOptimizer", "sample_and_compute_grads"]


def sample_and_compute_grads(worker: Any) -> Tuple[Any, Dict[str, Any], int]:
    """What a worker runs for A3C: `sample()`, then `compute_gradients` on it.

    Returns:
      `(gradients, learner info, environment steps sampled)`.
    """
    batch = worker.sample()
    grads, info = worker.compute_gradients(batch)
    steps = batch.env_steps() if isinstance(batch, MultiAgentBatch) else batch.count
    return grads, info, int(steps)


class AsyncGradientsOptimizer(PolicyOptimizer):
    """Asynchronous gradients, applied as they arrive (see the module docstring).

    Args:
      workers: a `WorkerSet`, or the local worker (with `remote_evaluators`).
      remote_evaluators: the remote worker handles (with a local worker).
      grads_per_step: gradients applied per `step()`.

    Attributes:
      num_gradients_applied: gradients applied so far.
      max_weights_lag: the most learner updates a gradient arrived behind
        (the weights it was computed on against the learner's), 0 when
        synchronous.

    Raises:
      ValueError: `grads_per_step` below 1.
    """

    def __init__(self, workers: Any, remote_evaluators: Optional[Sequence[Any]] = None, *,
                 grads_per_step: int = 100):
        super().__init__(workers, remote_evaluators)
        if isinstance(grads_per_step, bool) or not isinstance(grads_per_step, int) \
                or grads_per_step < 1:
            raise ValueError(f"AsyncGradientsOptimizer: grads_per_step must be an int in "
                             f"[1, inf), got {grads_per_step!r}")
        self.grads_per_step = int(grads_per_step)
        self.num_gradients_applied = 0
        self.max_weights_lag = 0
        self._pending: Dict[Any, Tuple[Any, int]] = {}  # ref -> (actor, weights version)
        self._version = 0
        self._weights_ref: Tuple[int, Any] = (-1, None)
        self.learner_stats: Dict[str, Any] = {}

    def _global_vars(self) -> Dict[str, Any]:
        return {"timestep": self.num_steps_sampled}

    def _launch(self, actor: Any) -> None:
        self._pending[actor.apply.remote(sample_and_compute_grads)] = (actor, self._version)

    def _send_weights(self, actor: Any) -> None:
        """Sends the newest weights; they go into the object store once per version."""
        if self._weights_ref[0] != self._version:
            self._weights_ref = (self._version,
                                 self._ray().put(self.workers.local_worker().get_weights()))
        actor.set_weights.remote(self._weights_ref[1], self._global_vars())

    def step(self) -> Dict[str, Any]:
        """Applies `grads_per_step` gradients; returns the last one's learner info."""
        local = self.workers.local_worker()
        if not self.workers.remote_workers():
            for _ in range(self.grads_per_step):
                grads, info, steps = sample_and_compute_grads(local)
                self._apply(local, grads, info, steps, lag=0)
            local.set_global_vars(self._global_vars())
            return self.learner_stats
        ray = self._ray()
        if not self._pending:
            for actor in self.workers.remote_workers():
                self._send_weights(actor)
                self._launch(actor)
        applied = 0
        while applied < self.grads_per_step:
            ready, _ = ray.wait(list(self._pending), num_returns=1)
            actor, version = self._pending.pop(ready[0])
            try:
                grads, info, steps = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                replacement = self.workers.handle_worker_failure(actor, error,
                                                                 "sample_and_compute_grads()")
                if replacement is not None:
                    self._launch(replacement)
                elif not self._pending:
                    self._relaunch_all()
                continue
            self._apply(local, grads, info, steps, lag=self._version - version)
            applied += 1
            self._send_weights(actor)
            self._launch(actor)
        local.set_global_vars(self._global_vars())
        return self.learner_stats

    def _relaunch_all(self) -> None:
        for actor in self.workers.remote_workers():
            self._send_weights(actor)
            self._launch(actor)

    def _apply(self, local: Any, grads: Any, info: Dict[str, Any], steps: int, lag: int) -> None:
        local.apply_gradients(grads)
        self._version += 1
        self.num_gradients_applied += 1
        self.max_weights_lag = max(self.max_weights_lag, int(lag))
        self.num_steps_sampled += steps
        self.num_steps_trained += steps
        # A multi-agent worker returns `{policy_id: ...}` for both.
        self.learner_stats = info if isinstance(grads, dict) else {DEFAULT_POLICY_ID: info}

    def stats(self) -> Dict[str, Any]:
        """The counters plus `num_gradients_applied`, `max_weights_lag` and the last
        `learner` info."""
        return dict(super().stats(), num_gradients_applied=self.num_gradients_applied,
                    max_weights_lag=self.max_weights_lag, learner=self.learner_stats)

    def stop(self) -> None:
        """Forgets the gradients still being computed (their workers stay up)."""
        self._pending.clear()
