"""The network call contract, its base class, and the adapter for plain models.

Every network a policy runs is called as

    output, new_state = network(observation, step_type=None, network_state=(), training=False)

and has a `state_spec` (a nest of `TensorSpec`s, `()` for a feed-forward
network). `observation` has outer dims `[B]` (one step of a batch), `[B, T]`
(sequences, for training recurrent networks) or none (a single step). The
output has the same outer dims.

`Network` is a `tf.Module` base that implements the outer-dim handling once.
`as_network` wraps anything that maps an observation to an output (a Keras 3
model, a `tf.Module`, a function) into the contract, so a user's own model
works wherever ours does.

Networks whose output is not a nest of tensors (distribution heads) return
the tensors that parameterize the output from `_call` and build the output
from them in `_make_output`, so the base can still reshape those tensors for
`[]` and `[B, T]` inputs.

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
>>> net = as_network(model, tf.TensorSpec([4], tf.float32))
>>> q, state = net(tf.zeros([3, 4]))
>>> q.shape, state
(TensorShape([3, 2]), ())
"""

import abc
from typing import Any, List, Optional, Tuple

import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy import _variables

__all__ = ["Network", "as_network", "outer_rank"]


def outer_rank(observation: NestedTensor, input_tensor_spec: NestedTensorSpec) -> int:
    """How many outer dims `observation` has beyond its spec (0, 1 or 2), from static shapes."""
    leaf = tree.flatten(observation)[0]
    spec = tree.flatten(input_tensor_spec)[0]
    rank = leaf.shape.rank
    if rank is None:
        path = nest_utils.flatten_with_paths(observation)[0][0]
        raise ValueError(nest_utils.nest_error_message(
            "network input", path, "unknown rank", spec=spec, value=leaf))
    return rank - spec.shape.rank


def _as_tensor(value: Any) -> Any:
    """Numpy and Python leaves become tensors so static shapes can be read."""
    if value is None or tf.is_tensor(value):
        return value
    return tf.convert_to_tensor(value)


class _Specs:
    """Keeps specs out of `tf.Module`'s tracking, which would wrap dicts and tuples."""

    __slots__ = ("input", "state")

    def __init__(self, input_spec: NestedTensorSpec, state_spec: NestedTensorSpec):
        self.input = input_spec
        self.state = state_spec


class Network(tf.Module, abc.ABC):
    """Base of our networks: the call contract, outer-dim handling and variable collection.

    A subclass implements `_call(observation, step_type, network_state,
    training)` for observations with exactly one outer dim `[B]` (feed-forward
    networks) and the base reshapes `[]` and `[B, T]` inputs around it.
    Recurrent networks override `_call_sequence` (they carry state through
    time). Networks that output distributions return their parameters (tensors)
    from `_call`/`_call_sequence` and override `_make_output`, which the base
    applies last, at the observation's outer dims.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation
        (array specs are converted to tensor specs).
      state_spec: the nest of specs of the network state, `()` for none.
      name: the module's name.

    Raises:
      TypeError: a spec leaf that is not an array or tensor spec.
    """

    def __init__(self, input_tensor_spec: NestedTensorSpec, state_spec: NestedTensorSpec = (),
                 name: Optional[str] = None):
        super().__init__(name=name)
        self._specs = _Specs(tensor_spec.from_spec(input_tensor_spec),
                             tensor_spec.from_spec(state_spec))

    @property
    def input_tensor_spec(self) -> NestedTensorSpec:
        """Specs of one unbatched observation."""
        return self._specs.input

    @property
    def state_spec(self) -> NestedTensorSpec:
        """Specs of the unbatched network state; `()` for feed-forward networks."""
        return self._specs.state

    def __call__(self, observation: NestedTensor, step_type: Optional[tf.Tensor] = None,
                 network_state: NestedTensor = (), training: bool = False) -> Tuple[Any, Any]:
        """Runs the network.

        Args:
          observation: a nest matching `input_tensor_spec`, outer dims `[]`, `[B]` or `[B, T]`.
          step_type: int32 with the same outer dims (used by recurrent networks).
          network_state: the state with outer dims `[B]` (or none for `[]` input).
          training: whether layers like dropout act in training mode.

        Returns:
          `(output, new_state)`, the output with the observation's outer dims.
        """
        observation = tree.map_structure(_as_tensor, observation)
        network_state = tree.map_structure(_as_tensor, network_state)
        if step_type is not None and not tf.is_tensor(step_type):
            step_type = tf.convert_to_tensor(step_type, tf.int32)
        rank = outer_rank(observation, self.input_tensor_spec)
        if rank == 1:
            output, state = self._call(observation, step_type, network_state, training)
            return self._make_output(output), state
        if rank == 0:
            add = lambda t: tf.expand_dims(t, 0)  # noqa: E731
            output, state = self._call(
                tree.map_structure(add, observation),
                None if step_type is None else add(step_type),
                tree.map_structure(add, network_state), training)
            drop = lambda t: tf.squeeze(t, 0)  # noqa: E731
            output, state = tree.map_structure(drop, output), tree.map_structure(drop, state)
            return self._make_output(output), state
        if rank == 2:
            output, state = self._call_sequence(observation, step_type, network_state, training)
            return self._make_output(output), state
        raise ValueError(
            f"{type(self).__name__} takes observations with 0, 1 or 2 outer dims, got {rank}: "
            f"{nest_utils.flatten_with_paths(observation)[0]} for spec "
            f"{tree.flatten(self.input_tensor_spec)[0]!r}")

    @abc.abstractmethod
    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[Any, Any]:
        """One step for a batch `[B]`: returns `(output [B, ...], new_state [B, ...])`."""

    def _call_sequence(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
                       network_state: NestedTensor, training: bool) -> Tuple[Any, Any]:
        """`[B, T]` input. Feed-forward networks fold time into the batch; their
        `_call` output must then be tensors (see `_make_output`)."""
        outer = tf.shape(tree.flatten(observation)[0])[:2]
        fold = lambda t: tf.reshape(t, tf.concat([[-1], tf.shape(t)[2:]], 0))  # noqa: E731
        output, state = self._call(
            tree.map_structure(fold, observation),
            None if step_type is None else tf.reshape(step_type, [-1]), network_state, training)

        def unfold(t: Any) -> tf.Tensor:
            if not isinstance(t, tf.Tensor):
                raise TypeError(
                    f"{type(self).__name__} returned a {type(t).__name__} for [B, T] input; "
                    "only tensor outputs can be unfolded: return parameters from `_call` "
                    "and build the output in `_make_output`, or override `_call_sequence`")
            return tf.reshape(t, tf.concat([outer, tf.shape(t)[1:]], 0))

        return tree.map_structure(unfold, output), state

    def _make_output(self, output: Any) -> Any:
        """Builds the network's output from what `_call`/`_call_sequence` returned,
        at the observation's outer dims; the identity unless overridden."""
        return output

    def create_variables(self) -> None:
        """Builds the variables by running the network once on a zero batch of one."""
        zeros = tensor_spec.zero_spec_nest(self.input_tensor_spec, (1,))
        state = tensor_spec.zero_spec_nest(self.state_spec, (1,))
        self(zeros, tf.zeros([1], tf.int32), state)

    @property
    def variables(self) -> List[tf.Variable]:
        """All variables, Keras 3 layers' included, in a stable order."""
        return [c.variable for c in _variables.collect_variables(self)]

    @property
    def trainable_variables(self) -> List[tf.Variable]:
        """The variables a learner trains (Keras' `trainable` flags respected)."""
        return [c.variable for c in _variables.collect_variables(self) if c.trainable]


class _Adapter(Network):
    """A plain observation -> output model behind the network contract."""

    def __init__(self, model: Any, input_tensor_spec: NestedTensorSpec, name: Optional[str]):
        super().__init__(input_tensor_spec, (), name=name or "adapted_network")
        self.model = model

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[Any, Any]:
        return self.model(observation), network_state


def as_network(model: Any, input_tensor_spec: NestedTensorSpec,
               name: Optional[str] = None) -> Network:
    """Puts `model` behind the network contract.

    Args:
      model: a `Network`, or anything that follows the contract (has a
        `state_spec` and is called as `model(obs, step_type=..., network_state=...)`),
        returned as it is; otherwise a callable `observation [B, ...] -> output [B, ...]`
        such as a Keras 3 model, a `tf.Module` or a function, which is wrapped.
      input_tensor_spec: specs of one unbatched observation.
      name: name of the wrapper.

    Returns:
      A network: `network(observation, step_type=None, network_state=(),
      training=False) -> (output, ())` for wrapped models.
    """
    if hasattr(model, "state_spec"):
        return model
    if not callable(model):
        raise TypeError(f"expected a network or a callable model, got {model!r}")
    return _Adapter(model, input_tensor_spec, name)
