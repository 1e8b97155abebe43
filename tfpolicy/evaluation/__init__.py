"""Workers: environments plus policies that sample, learn and move weights (RLlib's names).

Import it explicitly (`import tfpolicy.evaluation`); `import tfpolicy` does not load it.

- `RolloutWorker` (also `PolicyEvaluator`): `num_envs_per_worker`
  environments stepped together by its policies; `sample()` gives
  postprocessed `SampleBatch`es, or `MultiAgentBatch`es for multi-agent
  environments and several policies, with per-episode seeding and
  `get_state`/`set_state`.
- `PolicyMap`: the worker's policies, the least recently used stashed to disk.
- `MultiAgentEnv`, `make_multi_agent`, `PettingZooEnv`,
  `ParallelPettingZooEnv`: multi-agent environments; `Episode` and
  `PolicySpec`: what the policy mapping function sees, how policies are built.
- `WorkerSet`: the local worker and its remote (Ray) workers;
  `synchronous_parallel_sample` samples it until enough steps are in;
  `init_ray` starts or joins Ray.
- `SyncSamplesOptimizer`, `AsyncGradientsOptimizer`,
  `AsyncSamplesOptimizer` (on `PolicyOptimizer`): how samples, gradients
  and weights move between the workers and the learner.
- `make_env_creator`, `register_env`, `EnvContext`: from a config's `env`
  (a registered name, a gymnasium id or a callable) to environments.
- `RolloutMetrics`, `summarize_episodes`, `collect_episodes`: episode
  metrics and RLlib's summary keys.
"""

from tfpolicy.evaluation import async_gradients_optimizer
from tfpolicy.evaluation import async_samples_optimizer
from tfpolicy.evaluation import env_creator
from tfpolicy.evaluation import episode
from tfpolicy.evaluation import metrics
from tfpolicy.evaluation import multi_agent_env
from tfpolicy.evaluation import pettingzoo_env
from tfpolicy.evaluation import policy_map
from tfpolicy.evaluation import policy_optimizer
from tfpolicy.evaluation import policy_spec
from tfpolicy.evaluation import ray_session
from tfpolicy.evaluation import rollout_ops
from tfpolicy.evaluation import rollout_worker
from tfpolicy.evaluation import sync_samples_optimizer
from tfpolicy.evaluation import worker_set
from tfpolicy.evaluation.async_gradients_optimizer import AsyncGradientsOptimizer
from tfpolicy.evaluation.async_samples_optimizer import AsyncSamplesOptimizer
from tfpolicy.evaluation.env_creator import EnvContext
from tfpolicy.evaluation.env_creator import as_worker_env
from tfpolicy.evaluation.env_creator import check_env
from tfpolicy.evaluation.env_creator import make_env_creator
from tfpolicy.evaluation.env_creator import register_env
from tfpolicy.evaluation.env_creator import registered_envs
from tfpolicy.evaluation.episode import Episode
from tfpolicy.evaluation.metrics import RolloutMetrics
from tfpolicy.evaluation.metrics import collect_episodes
from tfpolicy.evaluation.metrics import summarize_episodes
from tfpolicy.evaluation.multi_agent_env import AgentID
from tfpolicy.evaluation.multi_agent_env import MultiAgentEnv
from tfpolicy.evaluation.multi_agent_env import check_action_dict
from tfpolicy.evaluation.multi_agent_env import check_agent_id
from tfpolicy.evaluation.multi_agent_env import make_multi_agent
from tfpolicy.evaluation.pettingzoo_env import ParallelPettingZooEnv
from tfpolicy.evaluation.pettingzoo_env import PettingZooEnv
from tfpolicy.evaluation.policy_map import PolicyMap
from tfpolicy.evaluation.policy_optimizer import PolicyOptimizer
from tfpolicy.evaluation.policy_spec import PolicySpec
from tfpolicy.evaluation.ray_session import init_ray
from tfpolicy.evaluation.rollout_ops import synchronous_parallel_sample
from tfpolicy.evaluation.rollout_worker import BATCH_MODES
from tfpolicy.evaluation.rollout_worker import PolicyEvaluator
from tfpolicy.evaluation.rollout_worker import RolloutWorker
from tfpolicy.evaluation.sync_samples_optimizer import SyncSamplesOptimizer
from tfpolicy.evaluation.worker_set import WorkerFailureError
from tfpolicy.evaluation.worker_set import WorkerSet

__all__ = [
    "async_gradients_optimizer",
    "async_samples_optimizer",
    "env_creator",
    "episode",
    "metrics",
    "multi_agent_env",
    "pettingzoo_env",
    "policy_map",
    "policy_optimizer",
    "policy_spec",
    "ray_session",
    "rollout_ops",
    "rollout_worker",
    "sync_samples_optimizer",
    "worker_set",
    "AsyncGradientsOptimizer",
    "AsyncSamplesOptimizer",
    "EnvContext",
    "as_worker_env",
    "check_env",
    "make_env_creator",
    "register_env",
    "registered_envs",
    "Episode",
    "RolloutMetrics",
    "collect_episodes",
    "summarize_episodes",
    "AgentID",
    "MultiAgentEnv",
    "check_action_dict",
    "check_agent_id",
    "make_multi_agent",
    "ParallelPettingZooEnv",
    "PettingZooEnv",
    "PolicyMap",
    "PolicyOptimizer",
    "PolicySpec",
    "init_ray",
    "synchronous_parallel_sample",
    "BATCH_MODES",
    "PolicyEvaluator",
    "RolloutWorker",
    "SyncSamplesOptimizer",
    "WorkerFailureError",
    "WorkerSet",
]
