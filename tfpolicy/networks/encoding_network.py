"""`EncodingNetwork`: a (nested) observation to one feature vector per batch entry.

The encoder every network here is built on. In order, it applies:

1. per-leaf preprocessing layers (`preprocessing_layers`, a nest like the
   observation; a `None` leaf passes its observation through);
2. the `preprocessing_combiner`, which receives the processed leaves as a flat
   list in `tree.flatten` order (mapping keys sorted) and returns one tensor;
   it is required when the observation has more than one leaf;
3. `Conv2D` layers (`conv_layer_params`) for image observations `[H, W, C]`;
4. a flatten to `[B, N]`;
5. `Dense` layers (`fc_layer_params`), each optionally followed by dropout.

Leaves without a preprocessing layer are cast to `dtype` first (so integer or
uint8 observations work); a leaf with a preprocessing layer receives its raw
value (an `Embedding` wants integers) and the layer's output is cast.

Observations may have outer dims `[]`, `[B]` or `[B, T]`, folded into one
batch dim for the layers (TF-Agents' `batch_squash=True`, the default). With
`batch_squash=False` (for a caller that folds batch and time itself, e.g. with
`tfpolicy.networks.utils.BatchSquash`) the network takes exactly `[B]` and
gives it to the layers as it is; other outer dims raise a `ValueError`.

>>> import tensorflow as tf
>>> net = EncodingNetwork(tf.TensorSpec([3], tf.float32), fc_layer_params=(4,))
>>> features, state = net(tf.zeros([2, 3]))
>>> features.shape, state
(TensorShape([2, 4]), ())
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple

import keras
import tensorflow as tf
import tree

from specs import nest_utils
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks.network import Network

__all__ = ["EncodingNetwork"]

Activation = Callable[[tf.Tensor], tf.Tensor]

_COMBINER_NEEDED = (
    "a preprocessing_combiner is needed: the observation has {n} leaves ({paths}) and the "
    "encoder needs one tensor; pass e.g. preprocessing_combiner=keras.layers.Concatenate(axis=-1)")


def _default_kernel_initializer() -> keras.initializers.Initializer:
    """He-style initialization for ReLU layers: truncated normal, variance 2 / fan_in.

    A new initializer per layer: an unseeded Keras 3 initializer instance gives
    the same values every time it is called.
    """
    return keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_in", distribution="truncated_normal")


def _initializer(initializer: Any) -> Any:
    """A fresh copy of `initializer` (None: the default) for one layer."""
    if initializer is None:
        return _default_kernel_initializer()
    if isinstance(initializer, keras.initializers.Initializer):
        return type(initializer).from_config(initializer.get_config())
    return initializer


def check_layer_sizes(name: str, sizes: Optional[Sequence[int]], allow_empty: bool = True
                     ) -> Tuple[int, ...]:
    """`sizes` as a tuple of positive ints (None: empty), for layer-size arguments.

    Args:
      name: the argument's name, for the error message.
      sizes: a list or tuple of layer sizes, or None.
      allow_empty: whether no layers at all is acceptable.

    Returns:
      The sizes as a tuple.

    Raises:
      ValueError: `sizes` is not a sequence of positive ints (or is empty when
        `allow_empty` is False).
    """
    if sizes is None:
        sizes = ()
    if (not isinstance(sizes, (list, tuple))
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes)
            or (not sizes and not allow_empty)):
        need = "a non-empty" if not allow_empty else "a"
        raise ValueError(f"{name} must be {need} sequence of positive ints, got {sizes!r}")
    return tuple(sizes)


def check_batch_squash(batch_squash: Any) -> bool:
    """`batch_squash` if it is a bool (TF-Agents' networks take one).

    Raises:
      TypeError: it is not a bool.
    """
    if not isinstance(batch_squash, bool):
        raise TypeError(f"batch_squash must be True or False, got {batch_squash!r}")
    return batch_squash


def _conv_layers(params: Optional[Sequence[Sequence[Any]]], activation_fn: Activation,
                 kernel_initializer: Any, dtype: tf.DType) -> List[keras.layers.Layer]:
    layers = []
    for i, p in enumerate(params or ()):
        if not isinstance(p, (list, tuple)) or len(p) not in (3, 4):
            raise ValueError(
                f"conv_layer_params[{i}] must be (filters, kernel_size, strides) or "
                f"(filters, kernel_size, strides, dilation_rate), got {p!r}")
        filters, kernel_size, strides = p[:3]
        dilation = p[3] if len(p) == 4 else 1
        layers.append(keras.layers.Conv2D(
            filters, kernel_size, strides=strides, dilation_rate=dilation,
            activation=activation_fn, kernel_initializer=_initializer(kernel_initializer),
            dtype=dtype))
    return layers


def _fc_layers(fc_layer_params: Tuple[int, ...], dropout_layer_params: Optional[Sequence[Any]],
               activation_fn: Activation, kernel_initializer: Any, dtype: tf.DType
               ) -> List[keras.layers.Layer]:
    if dropout_layer_params is not None and len(dropout_layer_params) != len(fc_layer_params):
        raise ValueError(
            f"dropout_layer_params needs one rate (or None) per fc layer: fc_layer_params has "
            f"{len(fc_layer_params)} entries, dropout_layer_params {list(dropout_layer_params)}")
    rates = dropout_layer_params or [None] * len(fc_layer_params)
    layers: List[keras.layers.Layer] = []
    for units, rate in zip(fc_layer_params, rates):
        layers.append(keras.layers.Dense(
            units, activation=activation_fn, kernel_initializer=_initializer(kernel_initializer),
            dtype=dtype))
        if rate is not None:
            layers.append(keras.layers.Dropout(rate, dtype=dtype))
    return layers


def _call_layer(layer: Any, x: Any, training: bool) -> Any:
    if isinstance(layer, keras.layers.Layer):
        return layer(x, training=training)
    return layer(x)


class EncodingNetwork(Network):
    """Preprocessing, combiner, conv and fc layers: observation -> `[B, N]` features.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation.
      preprocessing_layers: None, or a nest with the observation's structure of
        Keras layers or callables (None leaves pass through), applied per leaf.
        Layers are used as given: passing one instance to two networks shares it.
      preprocessing_combiner: a Keras layer or callable taking the list of
        processed leaves (in `tree.flatten` order) and returning one tensor, e.g.
        `keras.layers.Concatenate(axis=-1)`. Required for more than one leaf.
      conv_layer_params: `(filters, kernel_size, strides)` (optionally with a 4th
        element, the dilation rate) per `Conv2D` layer; the combined input must
        then be `[B, H, W, C]`.
      fc_layer_params: units per `Dense` layer.
      dropout_layer_params: None, or one dropout rate (or None) per fc layer,
        applied after it when `training` is True.
      activation_fn: activation of the conv and fc layers.
      kernel_initializer: initializer of the conv and fc kernels; default
        truncated normal with variance 2 / fan_in (He; a copy per layer).
      batch_squash: True (TF-Agents' default): observations with outer dims
        `[]`, `[B]` or `[B, T]` are accepted, the outer dims folded into one
        batch dim for the layers and the output given the observation's outer
        dims. False: only observations with exactly one outer dim `[B]` are
        accepted and reach the layers unchanged; others raise `ValueError`
        (TF-Agents would hand them to the layers unfolded, which fails or mixes
        the time dim into the features). Outputs for `[B]` observations are the
        same either way.
      dtype: the float dtype inputs are cast to and layers compute in.
      name: the module's name.

    Raises:
      ValueError: a nested observation without a combiner, malformed layer
        parameters, or conv layers on a non-image observation.
      TypeError: `preprocessing_layers` does not match the observation's structure.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        fc_layer_params: Optional[Sequence[int]] = None,
        dropout_layer_params: Optional[Sequence[Optional[float]]] = None,
        activation_fn: Activation = keras.activations.relu,
        kernel_initializer: Any = None,
        batch_squash: bool = True,
        dtype: tf.DType = tf.float32,
        name: Optional[str] = None,
    ):
        super().__init__(input_tensor_spec, (), name=name or "EncodingNetwork")
        self._squash_outer_dims = check_batch_squash(batch_squash)
        dtype = tf.as_dtype(dtype)
        if not dtype.is_floating:
            raise ValueError(f"EncodingNetwork computes in a float dtype, got dtype={dtype!r}")
        paths = [p for p, _ in nest_utils.flatten_with_paths(input_tensor_spec)]
        if preprocessing_layers is None:
            flat_layers: List[Any] = [None] * len(paths)
        else:
            nest_utils.assert_same_structure(
                preprocessing_layers, input_tensor_spec, name="preprocessing_layers")
            flat_layers = tree.flatten(preprocessing_layers)
        if len(paths) > 1 and preprocessing_combiner is None:
            raise ValueError(_COMBINER_NEEDED.format(
                n=len(paths), paths=", ".join(repr(p) for p in paths)))
        fc_layer_params = check_layer_sizes("fc_layer_params", fc_layer_params)
        self._float_dtype = dtype
        self._preprocessing_layers = flat_layers
        self._combiner = preprocessing_combiner
        self._conv_layers = _conv_layers(
            conv_layer_params, activation_fn, kernel_initializer, dtype)
        self._flatten = keras.layers.Flatten(dtype=dtype)
        self._fc_layers = _fc_layers(fc_layer_params, dropout_layer_params, activation_fn,
                                     kernel_initializer, dtype)
        self.create_variables()

    def _cast(self, x: tf.Tensor) -> tf.Tensor:
        return x if x.dtype == self._float_dtype else tf.cast(x, self._float_dtype)

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[tf.Tensor, NestedTensor]:
        nest_utils.assert_same_structure(observation, self.input_tensor_spec, name="observation")
        processed = [
            self._cast(x) if layer is None else self._cast(_call_layer(layer, x, training))
            for layer, x in zip(self._preprocessing_layers, tree.flatten(observation))
        ]
        x = processed[0] if self._combiner is None else self._cast(
            _call_layer(self._combiner, processed, training))
        if self._conv_layers:
            if x.shape.rank != 4:
                raise ValueError(
                    f"conv_layer_params need image observations [H, W, C]; the combined "
                    f"observation has shape {x.shape} (with the batch dim)")
            for layer in self._conv_layers:
                x = layer(x, training=training)
        x = self._flatten(x)
        for layer in self._fc_layers:
            x = layer(x, training=training)
        return x, network_state
