"""`NestMap`: one layer or network per part of a nested input; `NestFlatten`: nest -> list.

`NestMap(nested_layers)` applies each leaf of `nested_layers` to the part of
the input at the same place and returns the outputs in the same structure. A
leaf may stand for a whole sub-nest of the input (that layer gets the
sub-nest). Keras layers are wrapped in a one-layer `Sequential` (given the
matching part of `input_spec`), so Keras RNN layers and cells are carried as
there. `state_spec` has the structure of `nested_layers`, each leaf the
wrapped layer's state spec (`()` for a stateless one).

Combined with `NestFlatten()` and a combiner inside a `Sequential`, it is a
preprocessing stage:

>>> import keras
>>> import tensorflow as tf
>>> from tfpolicy.networks.sequential import Sequential
>>> net = Sequential([
...     NestMap({"a": keras.layers.Dense(2, kernel_initializer="ones", use_bias=False),
...              "b": keras.layers.Flatten()}),
...     NestFlatten(),
...     keras.layers.Concatenate(axis=-1)])
>>> output, state = net({"a": tf.ones([1, 3]), "b": tf.fill([1, 2, 1], 5.0)})
>>> output.numpy().tolist(), state
([[3.0, 3.0, 5.0, 5.0]], ())
"""

from typing import Any, Optional, Tuple

import keras
import tensorflow as tf
import tree

from specs import nest_utils
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks.network import Network
from tfpolicy.networks.sequential import Sequential

__all__ = ["NestFlatten", "NestMap"]


def NestFlatten() -> keras.layers.Layer:  # noqa: N802 (TF-Agents' name)
    """A Keras layer mapping a nest to the list of its leaves (mapping keys sorted).

    Returns:
      A `keras.layers.Lambda` around `tree.flatten`.

    >>> import tensorflow as tf
    >>> [t.numpy().tolist() for t in NestFlatten()({"b": tf.ones([1]), "a": tf.zeros([1])})]
    [[0.0], [1.0]]
    """
    return keras.layers.Lambda(tree.flatten, name="nest_flatten")


class _Structure:
    """The structure of `nested_layers`, kept out of `tf.Module`'s tracking (which
    would wrap its containers, and `tree` would then rebuild the wrappers)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


class NestMap(Network):
    """Processes each part of a nested input with its own layer or network.

    Args:
      nested_layers: a nest of Keras layers and networks; the input must have
        this structure (or a deeper one, where a layer takes a sub-nest).
      input_spec: None, or the nest of specs of one unbatched input, with the
        structure of `nested_layers` (or deeper).
      name: the module's name.

    Raises:
      TypeError: a leaf that is neither a Keras layer nor a network (its path
        named), or `input_spec` not matching the structure of `nested_layers`
        (also a `ValueError`).
    """

    def __init__(self, nested_layers: Any, input_spec: Optional[NestedTensorSpec] = None,
                 name: Optional[str] = None):
        for path, layer in nest_utils.flatten_with_paths(nested_layers):
            if not isinstance(layer, (keras.layers.Layer, Network)):
                raise TypeError(
                    f"NestMap: nested_layers at {path!r} must be a Keras layer or a network "
                    f"(tfpolicy.networks.network.Network), got {type(layer).__name__}: {layer!r}")
        if input_spec is not None:
            nest_utils.assert_same_structure(
                nested_layers, input_spec, allow_shallow_nest1=True,
                message="NestMap: nested_layers and input_spec do not have matching structures")
            flat_specs = tree.flatten_up_to(nested_layers, input_spec, check_types=False)
        else:
            flat_specs = [None] * len(tree.flatten(nested_layers))
        flat_networks = [
            layer if isinstance(layer, Network) else Sequential([layer], spec)
            for layer, spec in zip(tree.flatten(nested_layers), flat_specs)]
        structure = tree.unflatten_as(nested_layers, flat_networks)
        state_spec = tree.unflatten_as(nested_layers, [n.state_spec for n in flat_networks])
        super().__init__(input_spec, state_spec, name=name or "NestMap")
        self._structure = _Structure(structure)
        self._networks = flat_networks  # what variable collection and `layers` walk

    @property
    def nested_layers(self) -> Any:
        """The nest of networks (Keras layers appear wrapped in a `Sequential`); a new nest."""
        return tree.map_structure(lambda n: n, self._structure.value)

    def call(self, observation: NestedTensor, step_type: Optional[tf.Tensor] = None,
             network_state: NestedTensor = (), training: bool = False) -> Tuple[Any, Any]:
        """Runs each network on its part of the input.

        Args:
          observation: a nest with the structure of `nested_layers` (or deeper).
          step_type: passed to every network.
          network_state: a nest like `state_spec`, or `()`/None for the
            initial state of every network.
          training: passed to every network.

        Returns:
          `(outputs, next_state)`, both with the structure of `nested_layers`.

        Raises:
          TypeError: the input or the state does not match the structure of
            `nested_layers` (also a `ValueError`).
        """
        structure = self._structure.value
        nest_utils.assert_same_structure(
            structure, observation, allow_shallow_nest1=True,
            message=f"{type(self).__name__}: the input does not match the structure of "
                    f"nested_layers (a layer may take a sub-nest, the input may not stop short)")
        flat_networks = self._networks
        flat_inputs = tree.flatten_up_to(structure, observation, check_types=False)
        if network_state is None or not tree.flatten(network_state):
            flat_states = [()] * len(flat_networks)
        else:
            nest_utils.assert_same_structure(
                structure, network_state, allow_shallow_nest1=True,
                message=f"{type(self).__name__}: network_state does not match the structure "
                        f"of state_spec")
            flat_states = tree.flatten_up_to(structure, network_state,
                                             check_types=False)
        results = [network(x, step_type=step_type, network_state=state, training=training)
                   for network, x, state in zip(flat_networks, flat_inputs, flat_states)]
        outputs = tree.unflatten_as(structure, [output for output, _ in results])
        next_state = tree.unflatten_as(structure, [state for _, state in results])
        return outputs, next_state

    def copy(self, **kwargs: Any) -> "NestMap":
        """A new `NestMap` whose networks share no variables with this one's.

        Unless `nested_layers` is given, each network is copied with its
        `copy()` (see `Sequential.copy` for the wrapped Keras layers).

        Args:
          **kwargs: constructor arguments that replace the recorded ones.

        Returns:
          The new network.
        """
        if "nested_layers" not in kwargs:
            kwargs["nested_layers"] = tree.map_structure(lambda n: n.copy(),
                                                         self._structure.value)
        return super().copy(**kwargs)
