"""The learning layer: RLlib's Policy API on tfpolicy's specs, policies and savers.

Import it explicitly (`import tfpolicy.learning`); `import tfpolicy` does not load it.

- `SampleBatch`, `MultiAgentBatch`, `concat_samples`: columns of experience.
- `postprocessing`: `compute_advantages` (GAE), `compute_gae_for_sample_batch`,
  `adjust_nstep`, `standardize_fields`, `explained_variance`, `discount_cumsum`.
- `Policy`: the interface (act, postprocess, learn, state, checkpoints);
  `build_tf_policy` makes a `DynamicTFPolicy` class from a loss and callbacks.
- `exploration` (`StochasticSampling`, `EpsilonGreedy`) and `lite_acting`
  (`LiteActor`: acting through LiteRT with weights refreshed in place).
- `models` (`ModelCatalog`, `MODEL_DEFAULTS`, `ModelV2`), `distributions`
  (`Categorical`, `DiagGaussian`, ...), `mixins` (learning-rate and entropy
  schedules, the KL coefficient, value and target networks).
- `sampling.sample`/`evaluate`: postprocessed batches and returns from an environment.
- `checkpoint`: the policy checkpoint format (JSON plus a TensorFlow checkpoint).
"""

from tfpolicy.learning import checkpoint
from tfpolicy.learning import distributions
from tfpolicy.learning import dynamic_tf_policy
from tfpolicy.learning import exploration
from tfpolicy.learning import lite_acting
from tfpolicy.learning import mixins
from tfpolicy.learning import models
from tfpolicy.learning import policy
from tfpolicy.learning import postprocessing
from tfpolicy.learning import rnn_sequencing
from tfpolicy.learning import sample_batch
from tfpolicy.learning import sampling
from tfpolicy.learning import schedules
from tfpolicy.learning import sgd
from tfpolicy.learning import tf_policy_template
from tfpolicy.learning.distributions import ActionDistribution
from tfpolicy.learning.distributions import Categorical
from tfpolicy.learning.distributions import Deterministic
from tfpolicy.learning.distributions import DiagGaussian
from tfpolicy.learning.distributions import MultiActionDistribution
from tfpolicy.learning.distributions import MultiCategorical
from tfpolicy.learning.distributions import SquashedGaussian
from tfpolicy.learning.dynamic_tf_policy import DynamicTFPolicy
from tfpolicy.learning.dynamic_tf_policy import LEARNER_STATS_KEY
from tfpolicy.learning.exploration import EpsilonGreedy
from tfpolicy.learning.exploration import Exploration
from tfpolicy.learning.exploration import StochasticSampling
from tfpolicy.learning.lite_acting import ACTING_RUNTIMES
from tfpolicy.learning.lite_acting import LiteActingError
from tfpolicy.learning.lite_acting import LiteActor
from tfpolicy.learning.mixins import EntropyCoeffSchedule
from tfpolicy.learning.mixins import KLCoeffMixin
from tfpolicy.learning.mixins import LearningRateSchedule
from tfpolicy.learning.mixins import TargetNetworkMixin
from tfpolicy.learning.mixins import ValueNetworkMixin
from tfpolicy.learning.models import FullyConnectedNetwork
from tfpolicy.learning.models import LSTMWrapper
from tfpolicy.learning.models import MODEL_DEFAULTS
from tfpolicy.learning.models import ModelCatalog
from tfpolicy.learning.models import ModelV2
from tfpolicy.learning.models import TFModelV2
from tfpolicy.learning.models import ViewRequirement
from tfpolicy.learning.policy import Policy
from tfpolicy.learning.policy import PolicyID
from tfpolicy.learning.postprocessing import Postprocessing
from tfpolicy.learning.postprocessing import adjust_nstep
from tfpolicy.learning.postprocessing import compute_advantages
from tfpolicy.learning.postprocessing import compute_gae_for_sample_batch
from tfpolicy.learning.postprocessing import discount_cumsum
from tfpolicy.learning.postprocessing import explained_variance
from tfpolicy.learning.postprocessing import standardize_fields
from tfpolicy.learning.rnn_sequencing import chop_into_sequences
from tfpolicy.learning.rnn_sequencing import pad_batch_to_sequences_of_same_size
from tfpolicy.learning.sample_batch import DEFAULT_POLICY_ID
from tfpolicy.learning.sample_batch import MultiAgentBatch
from tfpolicy.learning.sample_batch import SampleBatch
from tfpolicy.learning.sample_batch import concat_samples
from tfpolicy.learning.schedules import PiecewiseSchedule
from tfpolicy.learning.sgd import minibatches
from tfpolicy.learning.sgd import standardized
from tfpolicy.learning.tf_policy_template import build_tf_policy

__all__ = [
    "checkpoint",
    "distributions",
    "dynamic_tf_policy",
    "exploration",
    "lite_acting",
    "mixins",
    "models",
    "policy",
    "postprocessing",
    "rnn_sequencing",
    "sample_batch",
    "sampling",
    "schedules",
    "sgd",
    "tf_policy_template",
    "ActionDistribution",
    "Categorical",
    "Deterministic",
    "DiagGaussian",
    "MultiActionDistribution",
    "MultiCategorical",
    "SquashedGaussian",
    "DynamicTFPolicy",
    "LEARNER_STATS_KEY",
    "EpsilonGreedy",
    "Exploration",
    "StochasticSampling",
    "ACTING_RUNTIMES",
    "LiteActingError",
    "LiteActor",
    "EntropyCoeffSchedule",
    "KLCoeffMixin",
    "LearningRateSchedule",
    "TargetNetworkMixin",
    "ValueNetworkMixin",
    "FullyConnectedNetwork",
    "LSTMWrapper",
    "MODEL_DEFAULTS",
    "ModelCatalog",
    "ModelV2",
    "TFModelV2",
    "ViewRequirement",
    "Policy",
    "PolicyID",
    "Postprocessing",
    "adjust_nstep",
    "compute_advantages",
    "compute_gae_for_sample_batch",
    "discount_cumsum",
    "explained_variance",
    "standardize_fields",
    "chop_into_sequences",
    "pad_batch_to_sequences_of_same_size",
    "DEFAULT_POLICY_ID",
    "MultiAgentBatch",
    "SampleBatch",
    "concat_samples",
    "PiecewiseSchedule",
    "minibatches",
    "standardized",
    "build_tf_policy",
]
