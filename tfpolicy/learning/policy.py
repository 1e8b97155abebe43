"""`Policy`: RLlib's learning-policy interface, independent of any framework.

A `Policy` acts (`compute_actions`, `compute_single_action`,
`compute_actions_from_input_dict`), postprocesses the trajectories it
collected (`postprocess_trajectory`), learns from batches
(`learn_on_batch`, or `compute_gradients` then `apply_gradients`) and moves
its state around (`get_weights`/`set_weights`, `get_state`/`set_state`,
`export_checkpoint`/`from_checkpoint`). The signatures and return shapes are
RLlib's, so code written against `ray.rllib.policy.Policy` runs after an
import change.

A policy written from scratch implements `compute_actions`,
`learn_on_batch`, `get_weights` and `set_weights` (RLlib's documented
minimal policy); everything else here works on top of those four.
`DynamicTFPolicy` (see `build_tf_policy`) implements the whole interface
with a TensorFlow model, a compiled learning step and a TF-Agents view.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> class Constant(Policy):
...     def __init__(self, observation_space, action_space, config):
...         super().__init__(observation_space, action_space, config)
...         self.w = 1.0
...     def compute_actions(self, obs_batch, state_batches=None, prev_action_batch=None,
...                         prev_reward_batch=None, info_batch=None, episodes=None, **kwargs):
...         return np.zeros(len(obs_batch), np.int64), [], {}
...     def learn_on_batch(self, samples):
...         return {}
...     def get_weights(self):
...         return {"w": self.w}
...     def set_weights(self, weights):
...         self.w = weights["w"]
>>> policy = Constant(ArraySpec((2,), np.float32), BoundedArraySpec((), np.int64, 0, 1), {})
>>> action, state_out, extra = policy.compute_single_action(np.zeros(2, np.float32))
>>> int(action), state_out, extra
(0, [], {})
"""

import abc
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tree

from tfpolicy.learning import checkpoint as checkpoint_lib
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["Policy", "PolicyID", "class_path", "make_input_dict"]

PolicyID = str
PathLike = Union[str, "os.PathLike[str]"]
ActionTuple = Tuple[Any, List[Any], Dict[str, Any]]


def class_path(cls: type) -> str:
    """`module:qualname`, the name a checkpoint records a policy class under."""
    return f"{cls.__module__}:{cls.__qualname__}"


def make_input_dict(obs: Any, state: Optional[Sequence[Any]] = None, prev_actions: Any = None,
                    prev_rewards: Any = None, infos: Any = None) -> Dict[str, Any]:
    """An input dict of batch columns: `obs`, `state_in_{i}` and, when given,
    `prev_actions`, `prev_rewards` and `infos`.

    >>> sorted(make_input_dict([0.5], [[1.0]], prev_rewards=[0.0]))
    ['obs', 'prev_rewards', 'state_in_0']
    """
    input_dict: Dict[str, Any] = {SampleBatch.OBS: obs}
    for i, s in enumerate(state or []):
        input_dict[f"state_in_{i}"] = s
    for key, value in ((SampleBatch.PREV_ACTIONS, prev_actions),
                       (SampleBatch.PREV_REWARDS, prev_rewards), (SampleBatch.INFOS, infos)):
        if value is not None:
            input_dict[key] = value
    return input_dict


def _state_in(input_dict: Mapping[str, Any]) -> List[Any]:
    """The `state_in_{i}` columns in index order."""
    found = []
    i = 0
    while f"state_in_{i}" in input_dict:
        found.append(input_dict[f"state_in_{i}"])
        i += 1
    return found


class Policy(abc.ABC):
    """The learning policy: acts on observation batches, learns from sample batches.

    Args:
      observation_space: a gymnasium space or a nest of our specs.
      action_space: a gymnasium space or a nest of our specs.
      config: the policy's config dict (RLlib's keys).

    Attributes:
      observation_space, action_space, config: as given (the config copied).
      global_timestep: environment steps seen so far (set by
        `on_global_var_update`; the TensorFlow policy also counts its own
        `compute_actions` rows).
      num_grad_updates: gradient updates applied so far.
      dist_class: the action distribution class, None for a policy without one.
    """

    def __init__(self, observation_space: Any, action_space: Any, config: Mapping[str, Any]):
        self.observation_space = observation_space
        self.action_space = action_space
        self.config: Dict[str, Any] = dict(config or {})
        self.global_timestep = 0
        self.num_grad_updates = 0
        self.dist_class: Optional[type] = None
        self._loaded_batches: Dict[int, SampleBatch] = {}

    # ---- acting -------------------------------------------------------------------------------

    @abc.abstractmethod
    def compute_actions(self, obs_batch: Any, state_batches: Optional[List[Any]] = None,
                        prev_action_batch: Any = None, prev_reward_batch: Any = None,
                        info_batch: Any = None, episodes: Optional[List[Any]] = None,
                        explore: Optional[bool] = None, timestep: Optional[int] = None,
                        **kwargs: Any) -> ActionTuple:
        """Actions for a batch of observations.

        Args:
          obs_batch: observations `[B, ...]` (a nest for nested spaces).
          state_batches: the recurrent state, a list of `[B, ...]` arrays.
          prev_action_batch, prev_reward_batch: the previous actions and rewards `[B, ...]`.
          info_batch: the environments' info dicts.
          episodes: the episodes the rows belong to.
          explore: sample (True) or take the most likely action (False);
            None for `config["explore"]`.
          timestep: the global timestep, for exploration schedules.

        Returns:
          `(actions [B, ...], state_outs: list of [B, ...], extra_fetches: dict of [B, ...])`.
        """

    def compute_actions_from_input_dict(self, input_dict: Mapping[str, Any],
                                        explore: Optional[bool] = None,
                                        timestep: Optional[int] = None,
                                        episodes: Optional[List[Any]] = None,
                                        **kwargs: Any) -> ActionTuple:
        """`compute_actions` on an input dict of batch columns (`obs`, `state_in_{i}`,
        `prev_actions`, `prev_rewards`, `infos`)."""
        return self.compute_actions(
            input_dict[SampleBatch.OBS], _state_in(input_dict),
            prev_action_batch=input_dict.get(SampleBatch.PREV_ACTIONS),
            prev_reward_batch=input_dict.get(SampleBatch.PREV_REWARDS),
            info_batch=input_dict.get(SampleBatch.INFOS), explore=explore, timestep=timestep,
            episodes=episodes, **kwargs)

    def compute_single_action(self, obs: Any = None, state: Optional[List[Any]] = None, *,
                              prev_action: Any = None, prev_reward: Any = None, info: Any = None,
                              input_dict: Optional[Mapping[str, Any]] = None,
                              episode: Any = None, explore: Optional[bool] = None,
                              timestep: Optional[int] = None, **kwargs: Any) -> ActionTuple:
        """The action for one observation: `compute_actions_from_input_dict` on a batch of one.

        Args:
          obs: one observation (no batch dim).
          state: the recurrent state, a list of unbatched arrays.
          prev_action, prev_reward, info: the previous action and reward, the info dict.
          input_dict: instead of the above, one row of batch columns.
          episode: the episode the row belongs to.
          explore, timestep: as `compute_actions`.

        Returns:
          `(action, state_out: list, extra_fetches: dict)`, all without the batch dim.
        """
        if input_dict is None:
            input_dict = make_input_dict(obs, state, prev_action, prev_reward, info)
        batched = {key: (value if key == SampleBatch.SEQ_LENS else
                         [value] if key == SampleBatch.INFOS else
                         tree.map_structure(lambda x: np.asarray(x)[None], value))
                   for key, value in input_dict.items()}
        result = self.compute_actions_from_input_dict(
            batched, explore=explore, timestep=timestep,
            episodes=[episode] if episode is not None else None, **kwargs)
        if not isinstance(result, tuple):
            result = (result, [], {})
        actions, state_out, extra = result
        first = lambda x: x[0]  # noqa: E731
        return (tree.map_structure(first, actions), [first(s) for s in state_out],
                tree.map_structure(first, dict(extra)))

    def compute_log_likelihoods(self, actions: Any, obs_batch: Any,
                                state_batches: Optional[List[Any]] = None,
                                prev_action_batch: Any = None, prev_reward_batch: Any = None,
                                actions_normalized: bool = True,
                                in_training: bool = True) -> np.ndarray:
        """The log-likelihoods `[B]` of `actions` under the policy's action distribution.

        Raises:
          TypeError: the policy has no action distribution (it only implements
            `compute_actions`).
        """
        raise TypeError(f"{type(self).__name__} chooses its actions directly and has no action "
                        "distribution to compute log-likelihoods from")

    # ---- learning -----------------------------------------------------------------------------

    def postprocess_trajectory(self, sample_batch: SampleBatch,
                               other_agent_batches: Optional[Dict[Any, Any]] = None,
                               episode: Any = None) -> SampleBatch:
        """Adds columns computed over one trajectory (advantages, n-step returns); the
        default returns the batch unchanged."""
        return sample_batch

    def loss(self, model: Any, dist_class: Any, train_batch: SampleBatch) -> Any:
        """The loss to minimise on `train_batch`.

        Raises:
          TypeError: the policy defines no loss (`build_tf_policy(loss_fn=...)` gives one).
        """
        raise TypeError(f"{type(self).__name__} defines no loss; build the policy with "
                        "build_tf_policy(name, loss_fn=...) or override `loss`")

    def learn_on_batch(self, samples: SampleBatch) -> Dict[str, Any]:
        """One update on `samples`: `compute_gradients`, then `apply_gradients`.

        Returns:
          Learner stats: `{"learner_stats": {...}, ...}`.
        """
        grads, info = self.compute_gradients(samples)
        self.apply_gradients(grads)
        return info

    def compute_gradients(self, postprocessed_batch: SampleBatch
                          ) -> Tuple[List[Optional[np.ndarray]], Dict[str, Any]]:
        """The gradients of the loss on the batch, as numpy arrays, and the learner stats.

        Raises:
          TypeError: the policy learns only through `learn_on_batch`.
        """
        raise TypeError(f"{type(self).__name__} learns only through learn_on_batch and does "
                        "not hand out gradients")

    def apply_gradients(self, gradients: Sequence[Optional[np.ndarray]]) -> None:
        """Applies gradients from `compute_gradients` (maybe from another process).

        Raises:
          TypeError: the policy learns only through `learn_on_batch`.
        """
        raise TypeError(f"{type(self).__name__} learns only through learn_on_batch and does "
                        "not apply gradients")

    def load_batch_into_buffer(self, batch: SampleBatch, buffer_index: int = 0) -> int:
        """Keeps `batch` for `learn_on_loaded_batch`; returns its row count."""
        self._loaded_batches[buffer_index] = batch
        return len(batch)

    def get_num_samples_loaded_into_buffer(self, buffer_index: int = 0) -> int:
        """Rows of the batch loaded into `buffer_index` (0 if none)."""
        batch = self._loaded_batches.get(buffer_index)
        return 0 if batch is None else len(batch)

    def learn_on_loaded_batch(self, offset: int = 0, buffer_index: int = 0) -> Dict[str, Any]:
        """`learn_on_batch` on the minibatch at `offset` of the loaded batch.

        The minibatch has `config["sgd_minibatch_size"]` rows (the whole batch
        when that is unset or larger).

        Raises:
          ValueError: nothing is loaded into `buffer_index`.
        """
        batch = self._loaded_batches.get(buffer_index)
        if batch is None:
            raise ValueError(f"{type(self).__name__}: no batch is loaded into buffer "
                             f"{buffer_index}; call load_batch_into_buffer first")
        size = self.config.get("sgd_minibatch_size") or len(batch)
        if size >= len(batch):
            return self.learn_on_batch(batch)
        return self.learn_on_batch(batch[offset:offset + size])

    # ---- state --------------------------------------------------------------------------------

    @abc.abstractmethod
    def get_weights(self) -> Any:
        """The model weights (for `DynamicTFPolicy`, a dict of name -> ndarray)."""

    @abc.abstractmethod
    def set_weights(self, weights: Any) -> None:
        """Sets weights as `get_weights` returns them."""

    def get_state(self) -> Dict[str, Any]:
        """Everything needed to continue where this policy stands.

        Returns:
          `{"weights", "global_timestep", "num_grad_updates", "policy_spec"}`
          (subclasses and mixins add their parts, e.g. optimizer variables
          and `current_kl_coeff`); `policy_spec` holds the class path, the
          spaces and the config, from which `Policy.from_state` rebuilds it.
        """
        return {
            "weights": self.get_weights(),
            "global_timestep": int(self.global_timestep),
            "num_grad_updates": int(self.num_grad_updates),
            "policy_spec": {"policy_class": class_path(type(self)),
                            "observation_space": self.observation_space,
                            "action_space": self.action_space,
                            "config": dict(self.config)},
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores `get_state()`'s result: weights and counters (RLlib's base keeps
        its counters; restoring them is what lets training continue exactly)."""
        self.set_weights(state["weights"])
        self.global_timestep = int(state.get("global_timestep", self.global_timestep))
        self.num_grad_updates = int(state.get("num_grad_updates", self.num_grad_updates))

    def get_initial_state(self) -> List[Any]:
        """The recurrent state to start an episode from (unbatched arrays); `[]` for none."""
        return []

    def is_recurrent(self) -> bool:
        """Whether the policy carries a state between steps."""
        return bool(self.get_initial_state())

    def num_state_tensors(self) -> int:
        """The number of state arrays (`state_in_{i}` columns)."""
        return len(self.get_initial_state())

    def on_global_var_update(self, global_vars: Mapping[str, Any]) -> None:
        """Takes the algorithm's global variables: `timestep` (required), `num_grad_updates`.

        Raises:
          KeyError: `global_vars` has no `timestep`.
        """
        if "timestep" not in global_vars:
            raise KeyError(f"on_global_var_update needs the key 'timestep'; got "
                           f"{sorted(global_vars)}")
        self.global_timestep = int(global_vars["timestep"])
        if global_vars.get("num_grad_updates") is not None:
            self.num_grad_updates = int(global_vars["num_grad_updates"])

    def get_exploration_state(self) -> Dict[str, Any]:
        """The exploration's state (e.g. a schedule's position); empty for none."""
        return {}

    # ---- checkpoints --------------------------------------------------------------------------

    def export_checkpoint(self, export_dir: PathLike, *,
                          policy_state: Optional[Mapping[str, Any]] = None) -> None:
        """Writes the policy's state as JSON plus a TensorFlow checkpoint, atomically.

        No pickle: the class is recorded by import path, the spaces as spec
        JSON, the arrays in the TensorFlow checkpoint (see
        `tfpolicy.learning.checkpoint`).

        Raises:
          ValueError: a config value that a checkpoint cannot hold (named by key).
          FileExistsError: `export_dir` holds something that is not a policy checkpoint.
        """
        state = dict(self.get_state() if policy_state is None else policy_state)
        spec = state.pop("policy_spec", None) or {}
        checkpoint_lib.write_policy_checkpoint(
            export_dir, state, policy_class=type(self),
            observation_space=spec.get("observation_space", self.observation_space),
            action_space=spec.get("action_space", self.action_space),
            config=spec.get("config", self.config))

    @classmethod
    def from_checkpoint(cls, checkpoint: PathLike,
                        policy_ids: Optional[Sequence[PolicyID]] = None) -> "Policy":
        """The policy saved by `export_checkpoint`, rebuilt and restored.

        Called on a subclass, the checkpoint must hold that class (or one of
        its subclasses).

        Raises:
          FileNotFoundError, ValueError: a missing, truncated, foreign or newer checkpoint.
          TypeError: the checkpoint holds another class.
          ImportError: the checkpoint's class cannot be imported.
        """
        del policy_ids  # one policy per checkpoint directory
        saved = checkpoint_lib.read_policy_checkpoint(
            checkpoint, expected_class=None if cls is Policy else cls)
        # The class it is called on needs no import (it may live in a function).
        policy_class = (cls if saved.policy_class == class_path(cls) else
                        checkpoint_lib.resolve_policy_class(saved.policy_class))
        return cls._build_and_restore(policy_class, saved.observation_space,
                                      saved.action_space, saved.config, saved.state)

    @staticmethod
    def from_state(state: Mapping[str, Any]) -> "Policy":
        """A new policy of the class in `state["policy_spec"]`, restored from `state`.

        Raises:
          ValueError: `state` has no `policy_spec`.
        """
        spec = state.get("policy_spec")
        if not spec:
            raise ValueError("Policy.from_state needs the 'policy_spec' entry of "
                             f"get_state(); the state has {sorted(state)}")
        policy_class = spec["policy_class"]
        if isinstance(policy_class, str):
            policy_class = checkpoint_lib.resolve_policy_class(policy_class)
        rest = {k: v for k, v in state.items() if k != "policy_spec"}
        return Policy._build_and_restore(policy_class, spec["observation_space"],
                                         spec["action_space"], spec["config"], rest)

    @staticmethod
    def _build_and_restore(policy_class: type, observation_space: Any, action_space: Any,
                           config: Mapping[str, Any], state: Mapping[str, Any]) -> "Policy":
        if not (isinstance(policy_class, type) and issubclass(policy_class, Policy)):
            raise TypeError(f"the checkpoint's policy class {policy_class!r} is not a Policy")
        policy = policy_class(observation_space, action_space, dict(config))
        policy.set_state(state)
        return policy

    def export_model(self, export_dir: PathLike, onnx: Optional[int] = None) -> None:
        """Writes the acting model as a SavedModel that serves from plain TensorFlow.

        Raises:
          TypeError: the policy has no TensorFlow model (it only implements
            `compute_actions`), or `onnx` is given.
        """
        raise TypeError(f"{type(self).__name__} has no TensorFlow model to export")
