"""Network helpers TF-Agents keeps in `tf_agents.networks.utils`, on Keras 3.

- `BatchSquash(batch_dims)`: folds a tensor's first `batch_dims` dims into one
  batch dim (`flatten`) and restores them afterwards (`unflatten`), so layers
  that take `[B, ...]` run on `[B, T, ...]` inputs. Custom networks written the
  TF-Agents way use it in their `call`.
- `mlp_layers(...)`: the list of Keras layers (conv, flatten, dense, dropout)
  TF-Agents' networks are built from.

>>> import tensorflow as tf
>>> squash = BatchSquash(2)
>>> flat = squash.flatten(tf.zeros([2, 3, 4]))   # [B, T, 4] -> [B * T, 4]
>>> flat.shape
TensorShape([6, 4])
>>> squash.unflatten(tf.zeros([6, 5])).shape     # [B * T, 5] -> [B, T, 5]
TensorShape([2, 3, 5])
"""

from typing import Any, Callable, List, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfpolicy.networks import encoding_network

__all__ = ["BatchSquash", "mlp_layers"]


class BatchSquash:
    """Folds the first `batch_dims` dims of tensors into one and unfolds them again.

    `flatten` records the outer dims of the tensor it folds (as a tensor, so
    unknown dims inside `tf.function` work); `unflatten` puts them back in
    front of another tensor's inner dims. Use one instance per flatten/unflatten
    pair. As in TF-Agents:

    - `batch_dims=1`: both methods return their input unchanged;
    - `batch_dims=0`: `flatten` adds a leading dim of 1, `unflatten` removes it;
    - `batch_dims=2`: `[B, T, ...]` -> `[B * T, ...]` -> `[B, T, ...]`.

    Args:
      batch_dims: how many leading dims are batch dims.

    Raises:
      ValueError: `batch_dims` is negative or not an int.

    >>> squash = BatchSquash(0)
    >>> squash.flatten(tf.constant([1.0, 2.0])).shape
    TensorShape([1, 2])
    >>> squash.unflatten(tf.constant([[3.0]])).numpy()
    array([3.], dtype=float32)
    """

    def __init__(self, batch_dims: int):
        if isinstance(batch_dims, bool) or not isinstance(batch_dims, (int, np.integer)) or (
                batch_dims < 0):
            raise ValueError(f"BatchSquash: batch_dims must be a non-negative int, got "
                             f"{batch_dims!r}")
        self._batch_dims = int(batch_dims)
        self._outer_shape: Optional[tf.Tensor] = None

    @property
    def batch_dims(self) -> int:
        """How many leading dims `flatten` folds."""
        return self._batch_dims

    def flatten(self, tensor: Any) -> tf.Tensor:
        """`tensor` `[d_1, ..., d_k, *inner]` (k = `batch_dims`) as `[d_1 * ... * d_k, *inner]`.

        Remembers `[d_1, ..., d_k]` for `unflatten`. The folded dim is static
        when all of `d_1..d_k` are.

        Raises:
          ValueError: `tensor` has fewer than `batch_dims` dims (static rank).
        """
        with tf.name_scope("batch_flatten"):
            if self._batch_dims == 1:
                return tensor
            tensor = tf.convert_to_tensor(tensor)
            k = self._batch_dims
            rank = tensor.shape.rank
            if rank is not None and rank < k:
                raise ValueError(f"BatchSquash({k}).flatten: the tensor has shape "
                                 f"{tensor.shape}, fewer than {k} dims")
            dynamic = tf.shape(tensor)
            self._outer_shape = dynamic[:k]
            outer, inner = tensor.shape[:k], tensor.shape[k:]
            if inner.is_fully_defined():
                return tf.reshape(tensor, [-1] + inner.as_list())
            folded = tf.reshape(tensor, tf.concat([[-1], dynamic[k:]], axis=0))
            if outer.is_fully_defined():
                # The reshape above cannot tell the folded dim; the outer dims can.
                folded = tf.ensure_shape(
                    folded, [int(np.prod(outer.as_list(), dtype=np.int64))] + inner.as_list())
            return folded

    def unflatten(self, tensor: Any) -> tf.Tensor:
        """`tensor` `[N, *inner]` as `[d_1, ..., d_k, *inner]`, the outer dims `flatten` saw.

        Raises:
          ValueError: `flatten` has not been called (for `batch_dims != 1`).
        """
        with tf.name_scope("batch_unflatten"):
            if self._batch_dims == 1:
                return tensor
            if self._outer_shape is None:
                raise ValueError(f"BatchSquash({self._batch_dims}).unflatten needs the outer "
                                 f"dims recorded by flatten: call flatten first")
            tensor = tf.convert_to_tensor(tensor)
            return tf.reshape(
                tensor, tf.concat([self._outer_shape, tf.shape(tensor)[1:]], axis=0))


DropoutParams = encoding_network.DropoutParams


def mlp_layers(conv_layer_params: Optional[Sequence[Sequence[Any]]] = None,
               fc_layer_params: Optional[Sequence[int]] = None,
               dropout_layer_params: Optional[Sequence[DropoutParams]] = None,
               activation_fn: Callable[[tf.Tensor], tf.Tensor] = keras.activations.relu,
               kernel_initializer: Any = None,
               weight_decay_params: Optional[Sequence[Optional[float]]] = None,
               name: Optional[str] = None) -> List[keras.layers.Layer]:
    """Keras layers mapping `[B, ...]` inputs to `[B, fc_layer_params[-1]]` features.

    In order: one `Conv2D` per `conv_layer_params` entry (inputs `[B, H, W,
    C]`), a `Flatten` (always), and one `Dense` per `fc_layer_params` entry,
    each followed by a `Dropout` where `dropout_layer_params` has a rate.
    Apply them in sequence; pass `training=True` to the layers for dropout.

    Args:
      conv_layer_params: `(filters, kernel_size, strides)` per `Conv2D` layer.
      fc_layer_params: units per `Dense` layer.
      dropout_layer_params: None, or per fc layer None (no dropout), a rate, or
        a dict of `keras.layers.Dropout` arguments with optionally
        `permanent=True` (dropout at inference too).
      activation_fn: activation of the conv and dense layers.
      kernel_initializer: kernel initializer of the conv and dense layers;
        default truncated normal with variance 2 / fan_in. Each layer gets its
        own copy of a Keras initializer (an unseeded Keras 3 initializer
        instance repeats its values).
      weight_decay_params: None, or per fc layer None or an L2 factor for the
        dense kernel's regularizer (the loss is in the layer's `losses`).
      name: prefix of the layer names: `{name}_conv2d_{i}`, `{name}_dense_{i}`
        (TF-Agents' `{name}/dense` is not a valid Keras 3 layer name); None
        for Keras' default names.

    Returns:
      The list of layers, unbuilt.

    Raises:
      ValueError: a conv entry that is not a triple, non-positive layer sizes,
        or dropout or weight decay lists of another length than `fc_layer_params`.

    >>> layers = mlp_layers(fc_layer_params=(8, 4), dropout_layer_params=(0.5, None), name="mlp")
    >>> [layer.name for layer in layers]
    ['mlp_flatten', 'mlp_dense_0', 'mlp_dropout_0', 'mlp_dense_1']
    >>> x = tf.zeros([5, 2, 3])
    >>> for layer in layers:
    ...     x = layer(x)
    >>> x.shape
    TensorShape([5, 4])
    """
    fc_layer_params = encoding_network.check_layer_sizes("fc_layer_params", fc_layer_params)
    dropouts = encoding_network.per_fc_layer("dropout_layer_params", dropout_layer_params,
                                             len(fc_layer_params))
    decays = encoding_network.per_fc_layer("weight_decay_params", weight_decay_params,
                                           len(fc_layer_params))

    def layer_name(kind: str, index: Optional[int] = None) -> Optional[str]:
        if not name:
            return None
        return f"{name}_{kind}" if index is None else f"{name}_{kind}_{index}"

    layers: List[keras.layers.Layer] = []
    for i, params in enumerate(conv_layer_params or ()):
        if not isinstance(params, (list, tuple)) or len(params) != 3:
            raise ValueError(f"conv_layer_params[{i}] must be (filters, kernel_size, strides), "
                             f"got {params!r}")
        filters, kernel_size, strides = params
        layers.append(keras.layers.Conv2D(
            filters, kernel_size, strides=strides, activation=activation_fn,
            kernel_initializer=encoding_network._initializer(kernel_initializer),
            name=layer_name("conv2d", i)))
    layers.append(keras.layers.Flatten(name=layer_name("flatten")))
    for i, (units, dropout, decay) in enumerate(zip(fc_layer_params, dropouts, decays)):
        layers.append(keras.layers.Dense(
            units, activation=activation_fn,
            kernel_initializer=encoding_network._initializer(kernel_initializer),
            kernel_regularizer=None if decay is None else keras.regularizers.L2(decay),
            name=layer_name("dense", i)))
        dropout_layer = encoding_network.dropout_layer(dropout, i, layer_name("dropout", i))
        if dropout_layer is not None:
            layers.append(dropout_layer)
    return layers
