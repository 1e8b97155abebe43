"""Action distributions with RLlib's interface, and their TensorFlow Probability forms.

A distribution is built from the model's outputs, `dist = cls(inputs, model)`
with `inputs [B, num_outputs]`, and gives per-row values of shape `[B]`:
`logp(x)`, `entropy()`, `kl(other)`, `sampled_action_logp()`; and actions
`sample()` / `deterministic_sample()` with the action space's shape.
`cls.required_model_output_shape(action_space, model_config)` is
`num_outputs`. `ModelCatalog.get_action_dist` picks the class for a space:

==============================  ==============================  ====================
action space                    distribution                    inputs
==============================  ==============================  ====================
`Discrete(n)`                   `Categorical`                   `n` logits
`MultiDiscrete(nvec)`,          `MultiCategorical`              `sum(nvec)` logits
integer `Box`, `MultiBinary`
float `Box`                     `DiagGaussian`                  means, log-stds
`Dict`, `Tuple`                 `MultiActionDistribution`       the parts, in order
==============================  ==============================  ====================

As in RLlib, `sample()` returns the same tensor on every call and
`sampled_action_logp()` is the log-probability of that sample; the sample is
drawn on the first call of either (RLlib draws it when the distribution is
built, which costs a draw in every loss). Samples come from TensorFlow's
random ops as in RLlib (`tf.random.categorical`, `tf.random.normal`), which
are cheap in eager mode where TFP's `sample` is not.

`tfp_distribution()` gives the same distribution as TensorFlow Probability
distributions, one per action leaf (a nest like the action space), in the
forms `TFPolicy.distribution` returns and `PolicySaver` exports
(`Categorical`, `Normal`, `Deterministic`, `Independent` of these; the
squashed Gaussian is a `TransformedDistribution`).

>>> import tensorflow as tf
>>> dist = Categorical(tf.math.log([[0.25, 0.75]]))
>>> dist.logp(tf.constant([1])).numpy().round(4)
array([-0.2877], dtype=float32)
>>> dist.deterministic_sample().numpy()
array([1])
"""

from tfpolicy.learning import _dist_multi
from tfpolicy.learning._dist_base import ActionDistribution
from tfpolicy.learning._dist_categorical import Categorical
from tfpolicy.learning._dist_categorical import MultiCategorical
from tfpolicy.learning._dist_gaussian import Deterministic
from tfpolicy.learning._dist_gaussian import DiagGaussian
from tfpolicy.learning._dist_gaussian import SquashedGaussian
from tfpolicy.learning._dist_multi import MultiActionDistribution

__all__ = [
    "ActionDistribution",
    "Categorical",
    "MultiCategorical",
    "DiagGaussian",
    "SquashedGaussian",
    "Deterministic",
    "MultiActionDistribution",
]

# Not public, but `models.py` (and its tests) take the catalog choice from here.
DistClass = _dist_multi.DistClass
_dist_for_space = _dist_multi.dist_for_space
