"""Sampling a `WorkerSet` until enough steps are in (RLlib's `rollout_ops`).

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
>>> from tfpolicy.evaluation import WorkerSet
>>> workers = WorkerSet("CartPole-v1", Left, {"rollout_fragment_length": 4, "seed": 0})
>>> len(synchronous_parallel_sample(workers, max_env_steps=10))
12
"""

from typing import Any, List, Optional, Union

from tfpolicy.learning.sample_batch import MultiAgentBatch, SampleBatch, concat_samples

__all__ = ["synchronous_parallel_sample"]


def _steps(batch: Union[SampleBatch, MultiAgentBatch], agent_steps: bool) -> int:
    if isinstance(batch, MultiAgentBatch):
        return batch.agent_steps() if agent_steps else batch.env_steps()
    return batch.count


def synchronous_parallel_sample(worker_set: Any, max_agent_steps: Optional[int] = None,
                                max_env_steps: Optional[int] = None, concat: bool = True
                                ) -> Union[SampleBatch, MultiAgentBatch,
                                           List[Union[SampleBatch, MultiAgentBatch]]]:
    """Samples all workers of `worker_set` in rounds until enough steps are in.

    Each round calls `sample()` on every remote worker (or on the local one
    when there are none) and waits for all; a remote worker that fails is
    recreated and sampled again, dropped, or named in a `WorkerFailureError`,
    as the `WorkerSet`'s config says, so a round never holds a partial or
    duplicated batch. With neither limit given, one
    round; otherwise rounds until at least `max_agent_steps` agent steps (or
    `max_env_steps` environment steps) are collected, so the result can
    exceed the limit by up to one round.

    Args:
      worker_set: a `WorkerSet`.
      max_agent_steps, max_env_steps: the minimum to collect; at most one of them.
      concat: concatenate the batches into one (else return the list).

    Returns:
      The concatenated batch, or the list of batches in the order sampled.

    Raises:
      ValueError: both limits are given, or a limit is not positive.
    """
    if max_agent_steps is not None and max_env_steps is not None:
        raise ValueError(f"synchronous_parallel_sample: give max_agent_steps or max_env_steps, "
                         f"not both (got {max_agent_steps} and {max_env_steps})")
    limit = max_agent_steps if max_agent_steps is not None else max_env_steps
    if limit is not None and (isinstance(limit, bool) or limit <= 0):
        name = "max_agent_steps" if max_agent_steps is not None else "max_env_steps"
        raise ValueError(f"synchronous_parallel_sample: {name} must be positive, got {limit!r}")
    remote = worker_set.remote_workers()
    batches: List[Union[SampleBatch, MultiAgentBatch]] = []
    collected = 0
    while True:
        if remote:
            round_batches = worker_set.call_remote(lambda w: w.sample.remote(), "sample()")
        else:
            round_batches = [worker_set.local_worker().sample()]
        batches.extend(round_batches)
        collected += sum(_steps(b, max_agent_steps is not None) for b in round_batches)
        if limit is None or collected >= limit:
            break
    return concat_samples(batches) if concat else batches
