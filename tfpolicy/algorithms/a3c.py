"""A3C: asynchronous advantage actor-critic on Ray workers.

Mnih et al. 2016. The policy, its loss and its GAE postprocessing are
A2C's (see `tfpolicy.algorithms.a2c` for the maths); what changes is the
execution, `AsyncGradientsOptimizer`:

1. every remote worker samples `rollout_fragment_length` steps per
   environment and computes the gradient of the A2C loss on them with its
   own copy of the weights;
2. the learner applies each gradient as soon as it arrives (Adam, clipped
   at `grad_clip`), and sends the new weights back to that worker only,
   which starts over;
3. one `training_step` applies `grads_per_step` gradients.

A gradient may thus be computed on weights a few updates old; no worker
waits for the others. With `num_workers=0` the local worker samples,
computes and applies in turn (synchronous A2C on small batches).

>>> config = A3C.get_default_config()
>>> config["num_workers"], config["rollout_fragment_length"], config["grads_per_step"]
(2, 10, 100)
"""

from typing import Any, Dict, Mapping

from tfpolicy.algorithms.a2c import A2C
from tfpolicy.algorithms.a2c import DEFAULT_CONFIG as A2C_CONFIG
from tfpolicy.algorithms.algorithm import (NUM_AGENT_STEPS_SAMPLED, NUM_AGENT_STEPS_TRAINED,
                                           NUM_ENV_STEPS_SAMPLED, NUM_ENV_STEPS_TRAINED)
from tfpolicy.algorithms.algorithm_config import AlgorithmConfig, check_range, merge_config
from tfpolicy.evaluation.async_gradients_optimizer import AsyncGradientsOptimizer

__all__ = ["A3C", "A3CConfig", "DEFAULT_CONFIG"]

# RLlib's A3C defaults over A2C's.
DEFAULT_CONFIG: Dict[str, Any] = merge_config(A2C_CONFIG, {
    "num_workers": 2,
    "rollout_fragment_length": 10,
    "grads_per_step": 100,
})


class A3C(A2C):
    """Asynchronous advantage actor-critic (see the module docstring).

    Attributes:
      optimizer: the `AsyncGradientsOptimizer` over `workers`.
    """

    _name = "A3C"

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return merge_config(DEFAULT_CONFIG, {})

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        super().validate_config(config)
        check_range(config, "grads_per_step", 1, integer=True, owner=cls._name)

    def setup(self, config: Dict[str, Any]) -> None:
        self.optimizer = AsyncGradientsOptimizer(self.workers,
                                                 grads_per_step=config["grads_per_step"])

    def training_step(self) -> Dict[str, Any]:
        """Applies `grads_per_step` asynchronous gradients; returns the last learner info."""
        before = self.optimizer.num_steps_sampled
        results = self.optimizer.step()
        steps = self.optimizer.num_steps_sampled - before
        for key in (NUM_ENV_STEPS_SAMPLED, NUM_ENV_STEPS_TRAINED, NUM_AGENT_STEPS_SAMPLED,
                    NUM_AGENT_STEPS_TRAINED):
            self._counters[key] += steps
        # Keep the optimizer's timestep (sent with the weights) in step with the counters.
        self.optimizer.num_steps_sampled = self._counters[NUM_ENV_STEPS_SAMPLED]
        return results

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self.optimizer.num_steps_sampled = self._counters[NUM_ENV_STEPS_SAMPLED]
        self.optimizer.num_steps_trained = self._counters[NUM_ENV_STEPS_TRAINED]


class A3CConfig(AlgorithmConfig):
    """The config builder for `A3C`."""

    algo_class = A3C
