"""`Sequential`: a network made of Keras layers and networks applied in order.

TF-Agents' replacement for `keras.Sequential`: no input shape has to be
declared, the layers may be our networks (whose `network_state` it carries)
and the result follows the network call contract, so it can be the
`q_network` of a `QPolicy`, the `actor_network` of an `ActorPolicy` (with a
last layer returning a tfp distribution, e.g. a `keras.layers.Lambda`) and
be exported with the policy.

Each entry of `layers` is one of:

- a network (`tfpolicy.networks.network.Network`): called as
  `layer(x, step_type=step_type, network_state=state, training=training)`;
- a Keras RNN layer (`keras.layers.RNN`, `LSTM`, `GRU`, `SimpleRNN`) built
  with `return_sequences=True` and `return_state=True`: inputs of rank 2
  `[B, F]` are run as sequences of one step, inputs `[B, T, F]` as they are;
- a Keras RNN cell (a layer with a `state_size`, e.g. `keras.layers.LSTMCell`):
  one step on `[B, F]` inputs;
- any other Keras layer: `layer(x, training=training)`.

State: `state_spec` is a tuple with one entry per stateful layer (a network
with a non-empty `state_spec`, an RNN layer or a cell), in order, and `()`
when there is none. Lists in the layers' state structures become tuples
(`LSTMCell(4)` has state `(h, c)`); each layer gets its state back in its own
structure. Keras RNN layers and cells start from zeros when no state is
given. `step_type` reaches the network layers only (Keras layers do not take
it): resetting a Keras layer's state at episode starts is the policy's job
(as its `automatic_state_reset` does), not the layer's.

>>> import keras
>>> import tensorflow as tf
>>> net = Sequential([keras.layers.Dense(3, kernel_initializer="ones"),
...                   keras.layers.LSTMCell(2)])
>>> [[tuple(s.shape) for s in cell] for cell in net.state_spec]
[[(2,), (2,)]]
>>> output, state = net(tf.zeros([4, 5]))
>>> output.shape, type(state), len(state[0])
(TensorShape([4, 2]), <class 'tuple'>, 2)
"""

from typing import Any, List, Optional, Sequence, Tuple

import keras
import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks.network import Network, get_state_spec

__all__ = ["Sequential"]

# How `Sequential` treats each entry of `layers`.
_NETWORK, _RNN, _CELL, _PLAIN = "network", "rnn", "cell", "plain"


class _Plan:
    """How each layer is called and which carry state; kept out of `tf.Module`'s
    tracking, which would wrap the nests (and `tree` would then rebuild wrappers)."""

    __slots__ = ("kinds", "stateful", "state_specs")

    def __init__(self, kinds: List[str], stateful: List[bool], state_specs: List[Any]):
        self.kinds = tuple(kinds)
        self.stateful = tuple(stateful)
        # Each stateful layer's state spec in its own structure, lists kept.
        self.state_specs = tuple(state_specs)


def _lists_to_tuples(nest: Any) -> Any:
    """The nest with every list a tuple (dicts and other containers kept)."""
    if isinstance(nest, list):
        return tuple(_lists_to_tuples(x) for x in nest)
    if isinstance(nest, tuple) and not hasattr(nest, "_fields"):
        return tuple(_lists_to_tuples(x) for x in nest)
    if isinstance(nest, dict):
        return type(nest)((k, _lists_to_tuples(v)) for k, v in nest.items())
    return nest


def _kind(layer: Any, index: int) -> str:
    """How `layer` is called; raises for entries that are neither networks nor Keras layers."""
    if isinstance(layer, Network):
        return _NETWORK
    if isinstance(layer, keras.layers.RNN):
        config = layer.get_config()
        missing = [k for k in ("return_sequences", "return_state") if not config.get(k, False)]
        if missing:
            raise ValueError(
                f"Sequential: layers[{index}] ({layer.name!r}, {type(layer).__name__}) is a Keras "
                f"RNN layer, which must be built with return_sequences=True and "
                f"return_state=True so its state can be carried; it has "
                f"{', '.join(f'{k}=False' for k in missing)}")
        return _RNN
    if isinstance(layer, keras.layers.Layer):
        return _CELL if getattr(layer, "state_size", None) is not None else _PLAIN
    raise TypeError(
        f"Sequential: layers[{index}] must be a Keras layer or a network "
        f"(tfpolicy.networks.network.Network), got {type(layer).__name__}: {layer!r}")


def _copy_layer(layer: Any, index: int) -> Any:
    """A new layer like `layer` that shares no variables with it."""
    if isinstance(layer, Network):
        return layer.copy()
    if isinstance(layer, keras.Model):
        return keras.models.clone_model(layer)
    if isinstance(layer, keras.layers.Lambda):
        # Its config holds the function as bytecode; the function itself is kept instead.
        output_shape = getattr(layer, "_output_shape", None)
        return keras.layers.Lambda(layer.function, output_shape=output_shape, mask=layer.mask,
                                   arguments=dict(layer.arguments), name=layer.name,
                                   dtype=layer.dtype_policy)
    try:
        return type(layer).from_config(layer.get_config())
    except Exception as error:  # Keras raises TypeError or ValueError for incomplete configs
        raise TypeError(
            f"Sequential.copy: layers[{index}] ({layer.name!r}, {type(layer).__name__}) cannot "
            f"be rebuilt from its get_config(): {error}. Pass the copy's layers as "
            f"copy(layers=[...])") from None


def _zero_state(spec: Any, x: Any) -> Any:
    return tensor_spec.zero_spec_nest(spec, tf.shape(tree.flatten(x)[0])[:1])


def _run_rnn(layer: keras.layers.RNN, spec: Any, x: Any, state: Any, training: bool
             ) -> Tuple[Any, Any]:
    # As TF-Agents' RNN wrapper: inputs of rank <= 2 are one time step.
    single_step = all(t.shape.rank is not None and t.shape.rank <= 2 for t in tree.flatten(x))
    if single_step:
        x = tree.map_structure(lambda t: tf.expand_dims(t, 1), x)
    if state is None:
        state = _zero_state(spec, x)
    outputs = layer(x, initial_state=state, training=training)
    output = outputs[0]
    new_state = tree.unflatten_as(spec, tree.flatten(list(outputs[1:])))
    if single_step:
        output = tree.map_structure(lambda t: tf.squeeze(t, 1), output)
    return output, new_state


def _run_cell(layer: keras.layers.Layer, spec: Any, index: int, x: Any, state: Any,
              training: bool) -> Tuple[Any, Any]:
    rank = tree.flatten(x)[0].shape.rank
    if rank is not None and rank != 2:
        raise ValueError(
            f"Sequential: layers[{index}] ({layer.name!r}, {type(layer).__name__}) is an RNN "
            f"cell, which takes one step [B, features]; got an input of shape "
            f"{tree.flatten(x)[0].shape}. For [B, T, ...] sequences use a Keras RNN layer, "
            f"e.g. keras.layers.RNN(cell, return_sequences=True, return_state=True)")
    if state is None:
        state = _zero_state(spec, x)
    output, new_state = layer(x, state, training=training)
    return output, tree.unflatten_as(spec, tree.flatten(new_state))


class Sequential(Network):
    """Applies `layers` in order; the output of one is the input of the next.

    Args:
      layers: a non-empty list or tuple of Keras layers and networks (see the
        module docstring for how each kind is called).
      input_spec: the nest of specs of one unbatched input to the first
        layer, or None to give it later (to `create_variables`, or by a
        policy running the network).
      name: the module's name.

    Raises:
      ValueError: `layers` is empty, or a Keras RNN layer lacks
        `return_sequences=True` or `return_state=True`.
      TypeError: an entry that is neither a Keras layer nor a network (its
        index named).
    """

    def __init__(self, layers: Sequence[Any], input_spec: Optional[NestedTensorSpec] = None,
                 name: Optional[str] = None):
        if not isinstance(layers, (list, tuple)) or not layers:
            raise ValueError(
                f"Sequential: layers must be a non-empty list or tuple of Keras layers and "
                f"networks, got {layers!r}")
        kinds = [_kind(layer, i) for i, layer in enumerate(layers)]
        # Each layer's state spec in its own structure (lists kept), `()` for none.
        own_specs = [get_state_spec(layer) for layer in layers]
        stateful = [bool(tree.flatten(spec)) for spec in own_specs]
        state_spec = tuple(_lists_to_tuples(spec)
                           for spec, has_state in zip(own_specs, stateful) if has_state)
        super().__init__(input_spec, state_spec, name=name or "Sequential")
        self._sequential_layers = list(layers)
        self._plan = _Plan(kinds, stateful, [spec for spec, s in zip(own_specs, stateful) if s])

    @property
    def layers(self) -> List[Any]:
        """The layers, in order (a new list: changing it leaves the network alone)."""
        return list(self._sequential_layers)

    def call(self, observation: NestedTensor, step_type: Optional[tf.Tensor] = None,
             network_state: NestedTensor = (), training: bool = False
             ) -> Tuple[Any, Tuple[Any, ...]]:
        """Runs the layers in order.

        Args:
          observation: the input of the first layer, outer dims as the layers
            take them (`[B]` or `[B, T]` for dense and RNN layers; `[B]` for cells).
          step_type: passed to the network layers.
          network_state: a tuple like `state_spec`, or `()`/None for the
            initial state of every layer.
          training: passed to every layer.

        Returns:
          `(output of the last layer, next state)`, the state a tuple like
          `state_spec`.

        Raises:
          TypeError: `network_state` does not have the structure of `state_spec`.
          ValueError: a cell given an input of rank other than 2.
        """
        plan = self._plan
        if network_state is None or not tree.flatten(network_state):
            states: List[Any] = [None] * len(plan.state_specs)
        else:
            nest_utils.assert_same_structure(network_state, self.state_spec,
                                             name=f"{type(self).__name__} network_state")
            states = [tree.unflatten_as(spec, tree.flatten(state))
                      for spec, state in zip(plan.state_specs, network_state)]
        next_states: List[Any] = []
        x = observation
        for index, (layer, kind, has_state) in enumerate(
                zip(self._sequential_layers, plan.kinds, plan.stateful)):
            state = states[len(next_states)] if has_state else None
            spec = plan.state_specs[len(next_states)] if has_state else ()
            if kind == _NETWORK:
                x, new_state = layer(x, step_type=step_type,
                                     network_state=() if state is None else state,
                                     training=training)
            elif kind == _RNN:
                x, new_state = _run_rnn(layer, spec, x, state, training)
            elif kind == _CELL:
                x, new_state = _run_cell(layer, spec, index, x, state, training)
            else:
                x, new_state = layer(x, training=training), None
            if has_state:
                next_states.append(_lists_to_tuples(new_state))
        return x, tuple(next_states)

    def copy(self, **kwargs: Any) -> "Sequential":
        """A new `Sequential` whose layers share no variables with this one's.

        Unless `layers` is given, every layer is copied: networks with their
        `copy()`, Keras models with `keras.models.clone_model`, `Lambda` layers
        around the same function, other Keras layers from their `get_config()`.
        When this network is built and has an input spec, the copy is built
        too and starts from this network's variable values (as in TF-Agents);
        otherwise it is built, with new initial values, on its first call.

        Args:
          **kwargs: constructor arguments that replace the recorded ones
            (commonly `name`).

        Returns:
          The new network.

        Raises:
          TypeError: a Keras layer that cannot be rebuilt from its config.
        """
        copy_values = "layers" not in kwargs
        if copy_values:
            kwargs["layers"] = [_copy_layer(layer, i)
                                for i, layer in enumerate(self._sequential_layers)]
        new = super().copy(**kwargs)
        if copy_values and self.built and new.input_tensor_spec is not None and (
                self.input_tensor_spec is not None):
            new.create_variables()
            sources, targets = self.variables, new.variables
            if len(sources) == len(targets) and all(
                    s.shape == t.shape for s, t in zip(sources, targets)):
                for source, target in zip(sources, targets):
                    target.assign(source)
        return new
