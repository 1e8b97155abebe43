"""Workers: environments plus policies that sample, learn and move weights (RLlib's names).

Import it explicitly (`import tfpolicy.evaluation`); `import tfpolicy` does not load it.

- `RolloutWorker`: `num_envs_per_worker` environments stepped together by
  its policy; `sample()` gives postprocessed `SampleBatch`es, with
  per-episode seeding and an exact `get_state`/`set_state`.
- `WorkerSet`: the local worker (and, with the scale-out, remote ones);
  `synchronous_parallel_sample` samples it until enough steps are in.
- `make_env_creator`, `register_env`, `EnvContext`: from a config's `env`
  (a registered name, a gymnasium id or a callable) to environments.
- `RolloutMetrics`, `summarize_episodes`, `collect_episodes`: episode
  metrics and RLlib's summary keys.
"""

from tfpolicy.evaluation import env_creator
from tfpolicy.evaluation import metrics
from tfpolicy.evaluation import rollout_ops
from tfpolicy.evaluation import rollout_worker
from tfpolicy.evaluation import worker_set
from tfpolicy.evaluation.env_creator import EnvContext
from tfpolicy.evaluation.env_creator import check_env
from tfpolicy.evaluation.env_creator import make_env_creator
from tfpolicy.evaluation.env_creator import register_env
from tfpolicy.evaluation.env_creator import registered_envs
from tfpolicy.evaluation.metrics import RolloutMetrics
from tfpolicy.evaluation.metrics import collect_episodes
from tfpolicy.evaluation.metrics import summarize_episodes
from tfpolicy.evaluation.rollout_ops import synchronous_parallel_sample
from tfpolicy.evaluation.rollout_worker import BATCH_MODES
from tfpolicy.evaluation.rollout_worker import RolloutWorker
from tfpolicy.evaluation.worker_set import WorkerSet

__all__ = [
    "env_creator",
    "metrics",
    "rollout_ops",
    "rollout_worker",
    "worker_set",
    "EnvContext",
    "check_env",
    "make_env_creator",
    "register_env",
    "registered_envs",
    "RolloutMetrics",
    "collect_episodes",
    "summarize_episodes",
    "synchronous_parallel_sample",
    "BATCH_MODES",
    "RolloutWorker",
    "WorkerSet",
]
