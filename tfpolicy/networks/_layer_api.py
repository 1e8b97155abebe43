"""The Keras-layer members TF-Agents users call on a network, for `Network`.

TF-Agents' networks are Keras layers, so code written for them calls
`layers`, `get_layer`, `summary`, `weights`, `get_weights` and
`set_weights`. Ours are `tf.Module`s; `LayerAPI` gives them those members on
top of the `variables`/`trainable_variables`/`non_trainable_variables` and
`built` that `Network` defines.
"""

import collections.abc
from typing import Any, List, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf
import tree

from tfpolicy import _variables

__all__ = ["LayerAPI"]

# tf.Module bookkeeping attributes, which hold no layers.
_TRACKING_PREFIXES = ("_self_", "_name_scope", "_scope_name")
# The summary table's columns, as Keras prints them for a subclassed model.
_SUMMARY_COLUMNS = ("Layer (type)", "Output Shape", "Param #")
_SUMMARY_LINE_LENGTH = 65
_SUMMARY_POSITIONS = (0.45, 0.85, 1.0)


class LayerAPI:
    """Mixin: Keras-layer members over a network's `variables` (see the module docstring).

    The class using it defines `variables`, `trainable_variables`,
    `non_trainable_variables`, `built`, `name` and `_output_spec()` (the
    nest of output specs without the batch dim, or None before the first build).
    """

    def _output_spec(self) -> Any:
        """The output specs without the batch dim; None where unknown (Network knows them)."""
        return None

    @property
    def weights(self) -> List[tf.Variable]:
        """`variables`, under the Keras name."""
        return self.variables

    @property
    def trainable_weights(self) -> List[tf.Variable]:
        """`trainable_variables`, under the Keras name."""
        return self.trainable_variables

    @property
    def non_trainable_weights(self) -> List[tf.Variable]:
        """`non_trainable_variables`, under the Keras name."""
        return self.non_trainable_variables

    @property
    def layers(self) -> List[Any]:
        """The direct sub-layers: Keras layers and models, and `tf.Module`s (nested networks).

        Found in the network's attributes and in lists, tuples and dicts held
        there, without looking inside the layers found. The order is the order
        in which the attributes were first assigned (as TF-Agents lists its
        layers); inside a list or tuple, its order; inside a dict, sorted by
        key (as TensorFlow's tracking orders dict values). A layer held twice is
        listed once, where it is first met.

        >>> import keras
        >>> from tfpolicy.networks.network import Network
        >>> class Head(Network):
        ...     def __init__(self):
        ...         super().__init__(tf.TensorSpec([3], tf.float32))
        ...         self._hidden = [keras.layers.Dense(4, name="hidden")]
        ...         self._out = keras.layers.Dense(1, name="out")
        ...     def call(self, observation, network_state=()):
        ...         return self._out(self._hidden[0](observation)), network_state
        >>> [layer.name for layer in Head().layers]
        ['hidden', 'out']
        """
        found: List[Any] = []
        seen: set = set()

        def visit(obj: Any) -> None:
            if isinstance(obj, (keras.layers.Layer, tf.Module)):
                if id(obj) not in seen and obj is not self:
                    seen.add(id(obj))
                    found.append(obj)
            elif isinstance(obj, collections.abc.Mapping):
                for key in sorted(obj, key=str):
                    visit(obj[key])
            elif isinstance(obj, (list, tuple)):
                for item in obj:
                    visit(item)

        for key, value in vars(self).items():
            if not key.startswith(_TRACKING_PREFIXES):
                visit(value)
        return found

    def get_layer(self, name: Optional[str] = None, index: Optional[int] = None) -> Any:
        """One of `layers`, by name or by index.

        Args:
          name: the layer's name (the first layer of that name).
          index: its position in `layers`.

        Returns:
          The layer.

        Raises:
          ValueError: both or neither given, no layer of that name or index
            (the names that exist are listed).
        """
        if (name is None) == (index is None):
            raise ValueError(f"{type(self).__name__}.get_layer takes a layer name or an index, "
                             f"not {'both' if name is not None else 'neither'}")
        layers = self.layers
        names = [layer.name for layer in layers]
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"{type(self).__name__}.get_layer: no layer at index {index!r}; the network "
                    f"has {len(layers)} layers: {names}")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{type(self).__name__}.get_layer: no layer named {name!r}; the "
                         f"layers are {names}")

    def summary(self, line_length: Optional[int] = None,
                positions: Optional[List[float]] = None,
                print_fn: Optional[Any] = None) -> None:
        """Prints a Keras-style table of `layers`: name and type, output shape, parameters.

        An output shape has `None` for the batch dim and is `?` where it is not
        known (a Keras layer is known from the shapes it was built with, a
        nested network from its output spec, per sample for distributions).
        The totals count each variable once.

        Args:
          line_length: width of the table; default 65.
          positions: where the three columns end, as fractions of
            `line_length` (all <= 1) or as character positions; default
            `[.45, .85, 1.]`. Further entries (TF-Agents documents four) are
            ignored, as Keras does for a subclassed model.
          print_fn: called with each line; default `print`.

        Raises:
          ValueError: the network has not been built, or fewer than three positions.
        """
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} has not been built, so it has no summary yet: call "
                f"`create_variables()` or apply the network first")
        line_length = line_length or _SUMMARY_LINE_LENGTH
        positions = list(positions or _SUMMARY_POSITIONS)
        if len(positions) < len(_SUMMARY_COLUMNS):
            raise ValueError(f"summary needs {len(_SUMMARY_COLUMNS)} column positions, got "
                             f"{positions}")
        positions = positions[:len(_SUMMARY_COLUMNS)]
        if positions[-1] <= 1:
            positions = [int(line_length * p) for p in positions]
        print_fn = print_fn or print

        def row(fields: Tuple[str, ...]) -> str:
            line, start = "", 0
            for field, end in zip(fields, positions):
                cell = " " + str(field)
                line += cell[:max(end - start - 1, 0)].ljust(end - start)
                start = end
            return line.rstrip()

        print_fn(f'Model: "{self.name}"')
        print_fn("_" * line_length)
        print_fn(row(_SUMMARY_COLUMNS))
        print_fn("=" * line_length)
        layers = self.layers
        for i, layer in enumerate(layers):
            count = sum(_num_elements(c.variable) for c in _variables.collect_variables(layer))
            print_fn(row((f"{layer.name} ({type(layer).__name__})", _output_shape(layer),
                          f"{count:,}")))
            print_fn(("=" if i == len(layers) - 1 else "_") * line_length)
        if not layers:
            print_fn("=" * line_length)
        collected = _variables.collect_variables(self)
        trainable = sum(_num_elements(c.variable) for c in collected if c.trainable)
        frozen = sum(_num_elements(c.variable) for c in collected if not c.trainable)
        print_fn(f"Total params: {trainable + frozen:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {frozen:,}")
        print_fn("_" * line_length)

    def get_weights(self) -> List[np.ndarray]:
        """The values of `weights` (= `variables`, in that order) as numpy arrays.

        Raises:
          ValueError: a `call` network that has not run yet.
        """
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assigns `weights` (as `get_weights` returns them) to `weights`, in order.

        Every value is checked before any is assigned, so a mismatch assigns
        nothing. A value must have its variable's shape and a dtype that casts
        to the variable's within its kind (float64 arrays into float32
        variables, as Keras allows, but no floats into an integer variable).

        Args:
          weights: one array-like per variable.

        Raises:
          ValueError: another number of values than of variables, or a value of
            another shape or dtype (the variable named, both shapes or dtypes given).
        """
        variables = self.weights
        owner = type(self).__name__
        if len(weights) != len(variables):
            raise ValueError(
                f"{owner}.set_weights: got {len(weights)} values for {len(variables)} "
                f"variables {[v.name for v in variables]}")
        values = []
        for i, (variable, value) in enumerate(zip(variables, weights)):
            value = np.asarray(value)
            expected = variable.dtype.as_numpy_dtype
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"{owner}.set_weights: value {i} has shape {tuple(value.shape)} but variable "
                    f"{variable.name!r} has shape {tuple(variable.shape)}")
            if value.dtype != expected and not np.can_cast(value.dtype, expected, "same_kind"):
                raise ValueError(
                    f"{owner}.set_weights: value {i} has dtype {value.dtype} which does not cast "
                    f"to {np.dtype(expected)}, the dtype of variable {variable.name!r}")
            values.append(value.astype(expected, copy=False))
        for variable, value in zip(variables, values):
            variable.assign(value)


def _num_elements(variable: tf.Variable) -> int:
    return int(np.prod(variable.shape.as_list(), dtype=np.int64))


def _batch_shape(shape: Any) -> str:
    """`shape` (with its batch dim) as `(None, ...)`."""
    dims = list(shape)
    return str(tuple([None] + [None if d is None else int(d) for d in dims[1:]]))


def _output_shape(layer: Any) -> str:
    """The output shape of a sub-layer for `summary`, `?` where unknown."""
    try:
        if isinstance(layer, LayerAPI):
            spec = layer._output_spec()
            if spec is None:
                return "?"
            shapes = [str((None,) + tuple(s.shape)) for s in tree.flatten(spec)
                      if hasattr(s, "shape")]
        elif isinstance(layer, keras.layers.Layer):
            outputs = getattr(layer, "outputs", None)  # functional and sequential models
            if outputs:
                shapes = [_batch_shape(o.shape) for o in tree.flatten(outputs)]
            else:
                # The shapes Keras 3 recorded when it built the layer (as its own summary uses).
                built_with = getattr(layer, "_build_shapes_dict", None)
                if not built_with:
                    return "?"
                out = layer.compute_output_shape(**built_with)
                shapes = ([_batch_shape(out)] if _is_shape(out)
                          else [_batch_shape(o) for o in _flat_shapes(out)])
        else:
            return "?"
    except Exception:  # a layer that cannot tell its output shape
        return "?"
    if not shapes:
        return "?"
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list, tf.TensorShape)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value)


def _flat_shapes(value: Any) -> List[Any]:
    """The shapes in a nest of shapes (which `tree.flatten` would take apart)."""
    if _is_shape(value):
        return [value]
    items = value.values() if isinstance(value, collections.abc.Mapping) else value
    return [shape for item in items for shape in _flat_shapes(item)]
