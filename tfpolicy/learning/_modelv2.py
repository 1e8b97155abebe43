"""`ModelV2`: the model interface a learning policy calls, with RLlib's call contract."""

import abc
import collections
import contextlib
import re
from typing import Any, ContextManager, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import tensorflow as tf
import tree

from tfpolicy import _variables
from tfpolicy.learning import _spaces

__all__ = ["ModelV2", "TFModelV2", "ViewRequirement"]

TensorList = List[tf.Tensor]

# Attributes that describe a model rather than hold its parts: not searched for variables.
_DESCRIPTIONS = frozenset({"obs_space", "action_space", "model_config", "view_requirements"})


class ViewRequirement(NamedTuple):
    """Which batch column (at which time shift) a model reads under a given input key.

    Attributes:
      data_col: the column the values come from (None: the key itself).
      shift: the time offset: 0 the current step, -1 the previous one.
      space: the space of one value, when known.
    """

    data_col: Optional[str] = None
    shift: int = 0
    space: Any = None


def _as_tensor(value: Any) -> Any:
    return value if tf.is_tensor(value) else tf.convert_to_tensor(value)


class ModelV2(abc.ABC):
    """A model: observations (and state) in, action-distribution inputs (and state) out.

    Subclasses implement `forward` and, for a value branch, `value_function`.
    Policies call the model, `outputs, state_out = model(input_dict, state,
    seq_lens)`, which prepares the inputs, calls `forward`, checks what it
    returned and keeps the outputs for `last_output()`.

    `input_dict` holds batch columns under `SampleBatch` keys (tensors or
    arrays): `obs` (a nest for `Dict`/`Tuple` spaces), optionally
    `prev_actions`, `prev_rewards`, `state_in_{i}`, `seq_lens`,
    `is_training`. `forward` receives those plus `obs_flat`: the observation
    as float32 features `[B, obs_flat_size]` (Box leaves flattened, Discrete
    and MultiDiscrete leaves one-hot, the leaves of nested spaces concatenated
    in dm-tree order, i.e. dict keys sorted). `obs` itself is left as given
    (integer observations stay integers).

    Action masks: when a subclass sets `applies_action_mask = True` (the
    default models do) and the observation space is a `Dict` with an
    `action_mask` entry, `obs_flat` leaves the mask out and `__call__` adds
    `max(log(mask), float32.min)` to the logits of every discrete action
    part of `forward`'s outputs, so masked actions are never sampled. The
    mask has one entry per discrete logit, or, when all discrete parts have
    the same number of logits, one entry per logit of a part.

    Models work eagerly and inside `tf.function`: `value_function()` returns
    the value branch of the last call, so call it in the same function.

    Args:
      obs_space: the observation space (gymnasium space or spec nest).
      action_space: the action space (gymnasium space or spec nest).
      num_outputs: the width of `forward`'s outputs (the distribution's
        inputs), or None for a model that picks it (a feature extractor).
      model_config: the model config (see `MODEL_DEFAULTS`).
      name: the model's name.
      framework: "tf2" (or RLlib's "tf").

    Raises:
      ValueError: another framework, or an action mask that does not fit the
        action space or `num_outputs`.
    """

    applies_action_mask: bool = False

    def __init__(self, obs_space: Any, action_space: Any, num_outputs: Optional[int],
                 model_config: dict, name: str, framework: str = "tf2"):
        if framework not in ("tf", "tf2"):
            raise ValueError(f"tfpolicy models are TensorFlow models: framework must be 'tf2' "
                             f"(or 'tf'), got {framework!r}")
        self.obs_space = obs_space
        self.action_space = action_space
        self.num_outputs = num_outputs
        self.model_config = model_config
        self.name = name
        self.framework = "tf2"
        self.time_major = bool(model_config.get("_time_major", False))
        self.view_requirements: Dict[str, ViewRequirement] = {
            "obs": ViewRequirement(shift=0, space=obs_space)}
        self._obs_layout = _spaces.layout(obs_space)
        self._obs_leaves = _spaces.observation_leaves(self._obs_layout, self.applies_action_mask)
        self._action_mask = None
        if (self.applies_action_mask and num_outputs is not None
                and _spaces.has_action_mask(self._obs_layout)):
            mask_leaf = next(leaf for leaf in self._obs_layout.leaves
                             if leaf.path == (_spaces.ACTION_MASK,))
            self._action_mask = _spaces.ActionMask(
                _spaces.layout(action_space).leaves, mask_leaf.size, num_outputs)
        self._last_output: Optional[tf.Tensor] = None

    @property
    def obs_flat_size(self) -> int:
        """The width of `input_dict["obs_flat"]`."""
        return sum(leaf.feature_width for leaf in self._obs_leaves)

    def flatten_observation(self, obs: Any) -> tf.Tensor:
        """`obs_flat [B, obs_flat_size]` of a batch of observations (a nest for nested spaces)."""
        values = _spaces.flat_values(self._obs_layout, obs, self._obs_leaves, "obs")
        return _spaces.flatten(self._obs_leaves, values)

    @abc.abstractmethod
    def forward(self, input_dict: Dict[str, Any], state: TensorList,
                seq_lens: Optional[tf.Tensor]) -> Tuple[tf.Tensor, TensorList]:
        """The model's computation.

        Args:
          input_dict: the inputs, with `obs` and `obs_flat` (see the class).
          state: the state tensors, each `[num_seqs, ...]` (empty if feed-forward).
          seq_lens: `[num_seqs]` int32 sequence lengths (recurrent models), or None.

        Returns:
          `(outputs [B, num_outputs], new_state)`, `new_state` a list.
        """

    def __call__(self, input_dict: Dict[str, Any], state: Optional[Sequence[Any]] = None,
                 seq_lens: Any = None) -> Tuple[tf.Tensor, TensorList]:
        """Prepares the inputs, runs `forward` and applies the action mask.

        Args:
          input_dict: batch columns (see the class); a `SampleBatch` works.
          state: the state tensors; when empty, `state_in_0`, `state_in_1`, ...
            are read from `input_dict`.
          seq_lens: `[num_seqs]` sequence lengths; when None, `input_dict["seq_lens"]`
            if present.

        Returns:
          `(outputs [B, num_outputs], state_out)`.

        Raises:
          ValueError: `input_dict` has no `obs`, or `forward` returned
            something else than `(outputs [B, num_outputs], list of states)`.
          TypeError: an observation without the space's structure.
        """
        if "obs" not in input_dict:
            raise ValueError(f"{type(self).__name__}: the input dict has no 'obs' column; it "
                             f"has {sorted(input_dict)}")
        restored = dict(input_dict)
        obs = tree.map_structure(_as_tensor, input_dict["obs"])
        restored["obs"] = obs
        restored["obs_flat"] = self.flatten_observation(obs)
        if not state:
            state = []
            while f"state_in_{len(state)}" in input_dict:
                state.append(input_dict[f"state_in_{len(state)}"])
        state = [_as_tensor(s) for s in state]
        if seq_lens is None:
            seq_lens = input_dict.get("seq_lens")
        if seq_lens is not None:
            seq_lens = tf.cast(_as_tensor(seq_lens), tf.int32)
        with self.context():
            result = self.forward(restored, state, seq_lens)
        outputs, state_out = self._checked(result)
        if self._action_mask is not None:
            outputs = self._action_mask(outputs, obs[_spaces.ACTION_MASK])
        self._last_output = outputs
        return outputs, state_out

    def _checked(self, result: Any) -> Tuple[tf.Tensor, TensorList]:
        owner = f"{type(self).__name__}.forward"
        if not isinstance(result, (list, tuple)) or len(result) != 2:
            raise ValueError(f"{owner} must return (outputs, state), got {result!r}")
        outputs, state_out = result
        outputs = _as_tensor(outputs)
        if outputs.shape.rank != 2:
            raise ValueError(f"{owner} must return outputs [B, num_outputs], got shape "
                             f"{outputs.shape}")
        width = outputs.shape[-1]
        if self.num_outputs is not None and width is not None and width != self.num_outputs:
            raise ValueError(f"{owner} returned {width} outputs per row; the model has "
                             f"num_outputs={self.num_outputs}")
        if not isinstance(state_out, (list, tuple)):
            raise ValueError(f"{owner} must return the state as a list, got {state_out!r}")
        return outputs, list(state_out)

    def from_batch(self, train_batch: Dict[str, Any], is_training: bool = True
                   ) -> Tuple[tf.Tensor, TensorList]:
        """Calls the model on a (training) batch: its `state_in_{i}` and `seq_lens` columns
        are the state and sequence lengths, and `is_training` is set in the input dict."""
        input_dict = dict(train_batch)
        input_dict["is_training"] = is_training
        states = []
        while f"state_in_{len(states)}" in input_dict:
            states.append(input_dict[f"state_in_{len(states)}"])
        return self(input_dict, states, input_dict.get("seq_lens"))

    def value_function(self) -> tf.Tensor:
        """The value branch `[B]` of the last call (no new forward pass).

        Raises:
          ValueError: the model has no value branch (override this method).
        """
        raise ValueError(
            f"{type(self).__name__} has no value branch: override value_function() to return "
            "the [B] values computed by the last forward()")

    def get_initial_state(self) -> List[Any]:
        """The initial state: a list of unbatched numpy arrays, empty if feed-forward."""
        return []

    def is_recurrent(self) -> bool:
        """Whether the model has state."""
        return len(self.get_initial_state()) > 0

    def is_time_major(self) -> bool:
        """Always False: recurrent inputs are `[num_seqs, T, ...]`."""
        return self.time_major

    def last_output(self) -> Optional[tf.Tensor]:
        """The outputs of the last call."""
        return self._last_output

    def context(self) -> ContextManager[None]:
        """The context `forward` runs in (none)."""
        return contextlib.nullcontext()

    def custom_loss(self, policy_loss: Any, loss_inputs: Dict[str, Any]) -> Any:
        """Lets a model change the policy's loss; returns it unchanged by default."""
        return policy_loss

    def metrics(self) -> Dict[str, Any]:
        """Model statistics reported under the learner stats' `model` key."""
        return {}

    def _parts(self, seen: set) -> Dict[str, Any]:
        """The attributes that may hold variables, with models inside replaced by their parts
        (a `ModelV2` is not a `tf.Module`, so the variable walker would not enter it)."""
        seen.add(id(self))

        def expand(value: Any) -> Any:
            if isinstance(value, ModelV2):
                return None if id(value) in seen else value._parts(seen)
            if isinstance(value, (list, tuple)) and any(isinstance(v, ModelV2) for v in value):
                return [expand(v) for v in value]
            if isinstance(value, dict) and any(isinstance(v, ModelV2) for v in value.values()):
                return {k: expand(v) for k, v in value.items()}
            return value

        return {k: expand(v) for k, v in vars(self).items() if k not in _DESCRIPTIONS}

    def _collected(self) -> List[_variables.CollectedVariable]:
        return _variables.collect_variables(self._parts(set()))

    def variables(self, as_dict: bool = False) -> Union[List[tf.Variable], Dict[str, tf.Variable]]:
        """Every variable, Keras 3 layers' included, in a stable order.

        The order is that of the model's attributes sorted by name (models
        it holds searched in turn), each Keras layer's variables in Keras'
        order. With `as_dict`, keyed by variable name (`_1`, `_2`, ...
        appended to repeated names; a Keras seed generator's per-process
        number dropped, so every instance names its variables alike).
        """
        found = [c.variable for c in self._collected()]
        return _by_name(found) if as_dict else found

    def trainable_variables(self, as_dict: bool = False
                            ) -> Union[List[tf.Variable], Dict[str, tf.Variable]]:
        """The variables a learner trains (Keras' `trainable` flags respected), as `variables`."""
        found = [c.variable for c in self._collected() if c.trainable]
        return _by_name(found) if as_dict else found


# Keras numbers its layers' seed generators per process (`seed_generator_7`).
_SEED_GENERATOR = re.compile(r"seed_generator_\d+")


def _by_name(variables: List[tf.Variable]) -> Dict[str, tf.Variable]:
    """Variables by name, in order, `_1`, `_2`, ... appended to repeated names.
    A seed generator's per-process number is dropped, so two models of one
    architecture name their variables alike, in any process."""
    out: Dict[str, tf.Variable] = collections.OrderedDict()
    for v in variables:
        name = _SEED_GENERATOR.sub("seed_generator", v.name)
        key, k = name, 0
        while key in out:
            k += 1
            key = f"{name}_{k}"
        out[key] = v
    return out


# RLlib's name for the TensorFlow model base.
TFModelV2 = ModelV2
