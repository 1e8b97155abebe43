"""`MaskSplitterNetwork`: splits an action mask off the observation before a wrapped network.

Environments with a varying set of legal actions put a mask next to the
observation. `splitter_fn(observation) -> (network_observation, mask)`
separates the two; the wrapped network sees only the network part, and with
`passthrough_mask=True` also the mask as its `mask` keyword argument:

    network_observation, mask = splitter_fn(observation)
    wrapped_network(network_observation, ...)             # passthrough_mask=False
    wrapped_network(network_observation, ..., mask=mask)  # passthrough_mask=True

The state, the output and the variables are the wrapped network's.

>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.networks.q_network import QNetwork
>>> spec = {"obs": TensorSpec([4], tf.float32), "mask": TensorSpec([3], tf.int32)}
>>> net = MaskSplitterNetwork(
...     lambda o: (o["obs"], o["mask"]),
...     QNetwork(spec["obs"], BoundedTensorSpec([], tf.int32, 0, 2), fc_layer_params=(8,)),
...     input_tensor_spec=spec)
>>> q_values, _ = net({"obs": tf.zeros([5, 4]), "mask": tf.ones([5, 3], tf.int32)})
>>> q_values.shape
TensorShape([5, 3])
"""

from typing import Any, Callable, Optional, Tuple

import tensorflow as tf

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks.network import Network

__all__ = ["MaskSplitterNetwork"]

Splitter = Callable[[Any], Tuple[Any, Any]]


class MaskSplitterNetwork(Network):
    """Runs `wrapped_network` on the network part of `splitter_fn(observation)`.

    Args:
      splitter_fn: `observation -> (network_observation, mask)`; it is also
        applied to `input_tensor_spec` to find the wrapped network's input spec.
      wrapped_network: the network for the network part; with
        `passthrough_mask=True` its `call` must take a `mask` keyword.
      passthrough_mask: whether the mask is passed to the wrapped network (as
        `mask=`) or dropped.
      input_tensor_spec: None, or the specs of one unbatched observation,
        mask included.
      name: the module's name.

    Raises:
      TypeError: `wrapped_network` is not a network, or `splitter_fn` does not
        return a pair for `input_tensor_spec`.
      ValueError: the network part of `input_tensor_spec` differs from the
        wrapped network's `input_tensor_spec` (the path and both specs named).
    """

    def __init__(self, splitter_fn: Splitter, wrapped_network: Network,
                 passthrough_mask: bool = False,
                 input_tensor_spec: Optional[NestedTensorSpec] = None,
                 name: str = "MaskSplitterNetwork"):
        if not callable(splitter_fn):
            raise TypeError(f"MaskSplitterNetwork: splitter_fn must be callable, got "
                            f"{splitter_fn!r}")
        if not isinstance(wrapped_network, Network):
            raise TypeError(
                f"MaskSplitterNetwork: wrapped_network must be a network "
                f"(tfpolicy.networks.network.Network), got {type(wrapped_network).__name__}")
        super().__init__(input_tensor_spec, wrapped_network.state_spec, name=name)
        self._splitter_fn = splitter_fn
        self._wrapped_network = wrapped_network
        self._passthrough_mask = bool(passthrough_mask)
        if input_tensor_spec is not None:
            network_spec = self._network_spec(tensor_spec.from_spec(input_tensor_spec))
            if wrapped_network.input_tensor_spec is not None:
                nest_utils.check_compatible_specs(
                    network_spec, wrapped_network.input_tensor_spec, "input_tensor_spec",
                    owner="MaskSplitterNetwork",
                    given_name="splitter_fn(input_tensor_spec)[0]",
                    expected_name="wrapped_network.input_tensor_spec")

    @property
    def wrapped_network(self) -> Network:
        """The network that gets the network part of the observation."""
        return self._wrapped_network

    @property
    def passthrough_mask(self) -> bool:
        """Whether the mask is passed to the wrapped network."""
        return self._passthrough_mask

    @property
    def output_spec(self) -> Any:
        """The wrapped network's `output_spec` (distribution networks), else None."""
        return getattr(self._wrapped_network, "output_spec", None)

    def _network_spec(self, input_tensor_spec: NestedTensorSpec) -> NestedTensorSpec:
        split = self._splitter_fn(input_tensor_spec)
        if not isinstance(split, (tuple, list)) or len(split) != 2:
            raise TypeError(
                f"{type(self).__name__}: splitter_fn must return (network_observation, mask); "
                f"for the input spec it returned {split!r}")
        return split[0]

    def call(self, observation: NestedTensor, step_type: Optional[tf.Tensor] = None,
             network_state: NestedTensor = (), training: bool = False,
             **kwargs: Any) -> Tuple[Any, Any]:
        """Splits the observation and runs the wrapped network on its network part.

        Args:
          observation: the observation, mask included.
          step_type, network_state, training: passed to the wrapped network.
          **kwargs: further keyword arguments of the wrapped network.

        Returns:
          The wrapped network's `(output, next_state)`.
        """
        network_observation, mask = self._splitter_fn(observation)
        if self._passthrough_mask:
            kwargs["mask"] = mask
        return self._wrapped_network(network_observation, step_type=step_type,
                                     network_state=network_state, training=training, **kwargs)

    def create_variables(self, input_tensor_spec: Optional[NestedTensorSpec] = None,
                         training: bool = False, **kwargs: Any) -> NestedTensorSpec:
        """Builds the wrapped network; returns its output spec.

        With an input spec (given here or to the constructor) the whole
        network runs once, as `Network.create_variables` does; without one,
        the wrapped network is built from its own `input_tensor_spec` (and
        without a mask).

        Raises:
          ValueError: no input spec here, in the constructor or in the wrapped network.
        """
        if input_tensor_spec is not None or self.input_tensor_spec is not None:
            return super().create_variables(input_tensor_spec, training=training, **kwargs)
        output_spec = self._wrapped_network.create_variables(training=training, **kwargs)
        self._set_built(output_spec)
        return output_spec

    def copy(self, **kwargs: Any) -> "MaskSplitterNetwork":
        """A new network around a copy of the wrapped network (unless `wrapped_network`
        is given), sharing no variables with this one.

        Args:
          **kwargs: constructor arguments that replace the recorded ones.

        Returns:
          The new network.
        """
        if "wrapped_network" not in kwargs:
            kwargs["wrapped_network"] = self._wrapped_network.copy()
        return super().copy(**kwargs)
