"""`EncodingNetwork`: a (nested) observation to one feature vector per batch entry.

The encoder every network here is built on. In order, it applies:

1. per-leaf preprocessing layers (`preprocessing_layers`, a nest like the
   observation; a `None` leaf passes its observation through);
2. the `preprocessing_combiner`, which receives the processed leaves as a flat
   list in `tree.flatten` order (mapping keys sorted) and returns one tensor;
   it is required when the observation has more than one leaf;
3. `Conv2D` layers (`conv_layer_params`) for image observations `[H, W, C]`
   (`Conv1D` layers for `[L, C]` with `conv_type='1d'`);
4. a flatten to `[B, N]`;
5. `Dense` layers (`fc_layer_params`), each optionally followed by dropout
   (`dropout_layer_params`) and with an optional L2 penalty on its kernel
   (`weight_decay_params`, reported by `losses`).

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

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import keras
import tensorflow as tf
import tree

from specs import nest_utils
from specs import NestedTensor, NestedTensorSpec
from tfpolicy.networks.network import Network

__all__ = ["CONV_TYPE_1D", "CONV_TYPE_2D", "EncodingNetwork"]

Activation = Callable[[tf.Tensor], tf.Tensor]
# Per fc layer: None (no dropout), a rate, or keras.layers.Dropout arguments
# with optionally `permanent=True`.
DropoutParams = Union[None, float, Dict[str, Any]]

CONV_TYPE_2D = "2d"
CONV_TYPE_1D = "1d"
_CONV_LAYERS = {CONV_TYPE_2D: keras.layers.Conv2D, CONV_TYPE_1D: keras.layers.Conv1D}
# The rank of the combined observation (with the batch dim) each conv type takes.
_CONV_INPUT_RANK = {CONV_TYPE_2D: 4, CONV_TYPE_1D: 3}

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
                 kernel_initializer: Any, dtype: tf.DType, conv_type: str = CONV_TYPE_2D
                 ) -> List[keras.layers.Layer]:
    if conv_type not in _CONV_LAYERS:
        raise ValueError(f"conv_type must be one of {sorted(_CONV_LAYERS)}, got {conv_type!r}")
    layers = []
    for i, p in enumerate(params or ()):
        if not isinstance(p, (list, tuple)) or len(p) not in (3, 4):
            raise ValueError(
                f"conv_layer_params[{i}] must be (filters, kernel_size, strides) or "
                f"(filters, kernel_size, strides, dilation_rate), got {p!r}")
        filters, kernel_size, strides = p[:3]
        dilation = p[3] if len(p) == 4 else 1
        layers.append(_CONV_LAYERS[conv_type](
            filters, kernel_size, strides=strides, dilation_rate=dilation,
            activation=activation_fn, kernel_initializer=_initializer(kernel_initializer),
            dtype=dtype))
    return layers


class _PermanentDropout(keras.layers.Dropout):
    """Dropout that also drops at inference (TF-Agents' `permanent=True`), for
    approximate Bayesian inference."""

    def call(self, inputs: Any, training: Optional[bool] = None) -> Any:
        return super().call(inputs, training=True)


def dropout_layer(params: DropoutParams, index: int, name: Optional[str] = None,
                  dtype: Optional[tf.DType] = None) -> Optional[keras.layers.Layer]:
    """The dropout layer for one `dropout_layer_params` entry; None for no dropout.

    Args:
      params: None or a zero rate (no layer), a rate, or a dict of
        `keras.layers.Dropout` arguments with optionally `permanent=True`
        (dropout at inference too).
      index: the entry's index, for the error message.
      name: the layer's name; None for Keras' default.
      dtype: the layer's dtype; None for Keras' default.

    Raises:
      ValueError: a dict with arguments `keras.layers.Dropout` does not take.
    """
    if params is None:
        return None
    if not isinstance(params, dict):
        return keras.layers.Dropout(params, name=name, dtype=dtype) if params else None
    kwargs = {"name": name, "dtype": dtype, **params}
    permanent = kwargs.pop("permanent", False)
    try:
        return (_PermanentDropout if permanent else keras.layers.Dropout)(**kwargs)
    except (TypeError, ValueError) as error:  # Keras raises either for unknown arguments
        raise ValueError(f"dropout_layer_params[{index}] must hold keras.layers.Dropout "
                         f"arguments (rate, noise_shape, seed) and optionally permanent; got "
                         f"{params!r}: {error}") from None


def per_fc_layer(what: str, params: Optional[Sequence[Any]], count: int,
                 entry: str = "entry") -> List[Any]:
    """`params` as a list with one item per fc layer (None: all None).

    Raises:
      ValueError: another length than `count`.
    """
    if params is None:
        return [None] * count
    if len(params) != count:
        raise ValueError(f"{what} needs one {entry} (or None) per fc layer: fc_layer_params has "
                         f"{count} entries, {what} {list(params)}")
    return list(params)


def _fc_layers(fc_layer_params: Tuple[int, ...], dropout_layer_params: Optional[Sequence[Any]],
               activation_fn: Activation, kernel_initializer: Any, dtype: tf.DType,
               weight_decay_params: Optional[Sequence[Optional[float]]] = None
               ) -> List[keras.layers.Layer]:
    dropouts = per_fc_layer("dropout_layer_params", dropout_layer_params, len(fc_layer_params),
                            "rate")
    decays = per_fc_layer("weight_decay_params", weight_decay_params, len(fc_layer_params),
                          "factor")
    layers: List[keras.layers.Layer] = []
    for i, (units, dropout, decay) in enumerate(zip(fc_layer_params, dropouts, decays)):
        layers.append(keras.layers.Dense(
            units, activation=activation_fn, kernel_initializer=_initializer(kernel_initializer),
            kernel_regularizer=None if decay is None else keras.regularizers.L2(decay),
            dtype=dtype))
        layer = dropout_layer(dropout, i, dtype=dtype)
        if layer is not None:
            layers.append(layer)
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
        element, the dilation rate) per conv layer: `Conv2D` (the combined
        input must then be `[B, H, W, C]`) or, with `conv_type='1d'`, `Conv1D`
        (input `[B, L, C]`).
      fc_layer_params: units per `Dense` layer.
      dropout_layer_params: None, or per fc layer None (no dropout), a rate, or
        a dict of `keras.layers.Dropout` arguments with optionally
        `permanent=True`; the dropout follows the fc layer and acts when
        `training` is True (always, if permanent).
      activation_fn: activation of the conv and fc layers.
      weight_decay_params: None, or per fc layer None or an L2 factor: the fc
        kernel gets an L2 regularizer, whose penalty is in `losses`.
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
      conv_type: `'2d'` (`CONV_TYPE_2D`) or `'1d'` (`CONV_TYPE_1D`).

    Raises:
      ValueError: a nested observation without a combiner, malformed layer
        parameters, an unknown `conv_type`, or conv layers on an observation
        of the wrong rank.
      TypeError: `preprocessing_layers` does not match the observation's structure.
    """

    def __init__(
        self,
        input_tensor_spec: NestedTensorSpec,
        preprocessing_layers: Any = None,
        preprocessing_combiner: Optional[Callable[[List[tf.Tensor]], tf.Tensor]] = None,
        conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
        fc_layer_params: Optional[Sequence[int]] = None,
        dropout_layer_params: Optional[Sequence[DropoutParams]] = None,
        activation_fn: Activation = keras.activations.relu,
        weight_decay_params: Optional[Sequence[Optional[float]]] = None,
        kernel_initializer: Any = None,
        batch_squash: bool = True,
        dtype: tf.DType = tf.float32,
        name: Optional[str] = None,
        conv_type: str = CONV_TYPE_2D,
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
            conv_layer_params, activation_fn, kernel_initializer, dtype, conv_type)
        self._conv_rank = _CONV_INPUT_RANK[conv_type]
        self._flatten = keras.layers.Flatten(dtype=dtype)
        self._fc_layers = _fc_layers(fc_layer_params, dropout_layer_params, activation_fn,
                                     kernel_initializer, dtype, weight_decay_params)
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
            if x.shape.rank != self._conv_rank:
                need = "image observations [H, W, C]" if self._conv_rank == 4 else (
                    "sequence observations [L, C] (conv_type='1d')")
                raise ValueError(
                    f"conv_layer_params need {need}; the combined "
                    f"observation has shape {x.shape} (with the batch dim)")
            for layer in self._conv_layers:
                x = layer(x, training=training)
        x = self._flatten(x)
        for layer in self._fc_layers:
            x = layer(x, training=training)
        return x, network_state

    @property
    def losses(self) -> List[tf.Tensor]:
        """The layers' regularization penalties (from `weight_decay_params`), as Keras
        layers report them; add them to the training loss."""
        return [loss for layer in self._conv_layers + self._fc_layers for loss in layer.losses]
