"""The network call contract, its base class, and the adapter for plain models.

Every network a policy runs is called as

    output, new_state = network(observation, step_type=None, network_state=(), training=False)

and has a `state_spec` (a nest of `TensorSpec`s, `()` for a feed-forward
network) and an `input_tensor_spec` (the specs of one unbatched observation;
it may be None until `create_variables(input_tensor_spec)` gives it).

`Network` is a `tf.Module` base. A subclass implements one of two methods:

- `call(self, observation, step_type=None, network_state=(), training=False)`
  returning `(output, new_state)`: the TF-Agents way, so TF-Agents networks
  work after changing their import. The base passes the inputs through as they
  are (the subclass handles the batch and time dims itself, `call` may leave
  out the `step_type`, `network_state` and `training` parameters it does not
  use) and only checks the observation's nest structure against
  `input_tensor_spec`, letting extra mapping keys through as TF-Agents does.
  Further keywords of a network call (e.g. a `mask`) reach `call` as they are.
- `_call(observation, step_type, network_state, training)` for observations
  with exactly one outer dim `[B]`: the base reshapes observations with outer
  dims `[]` (a single step) and `[B, T]` (sequences, for training recurrent
  networks) around it, and the output has the observation's outer dims.
  Networks whose output is not a nest of tensors (distribution heads) return
  the tensors that parameterize the output from `_call` and build the output
  from them in `_make_output`, so the base can still reshape those tensors.

Either way the base provides what TF-Agents' `Network` does: `create_variables`
(builds the variables once and returns the output spec), `copy(**kwargs)` (a
new, unbuilt network from the recorded constructor arguments),
`get_initial_state(batch_size)`, and `variables`/`trainable_variables` that
include Keras 3 layers' variables; and what TF-Agents users call on a network
because it is a Keras layer there: `layers`, `get_layer`, `summary`,
`weights`/`trainable_weights`/`non_trainable_weights`, `get_weights` and
`set_weights`. `_call` networks of ours taking `batch_squash=False` accept
only `[B]` observations (see `EncodingNetwork`).

`as_network` wraps anything that maps an observation to an output (a Keras 3
model, a `tf.Module`, a function) into the contract, so a user's own model
works wherever ours does.

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
>>> net = as_network(model, tf.TensorSpec([4], tf.float32))
>>> q, state = net(tf.zeros([3, 4]))
>>> q.shape, state
(TensorShape([3, 2]), ())

A TF-Agents-style network:

>>> class Scaled(Network):
...     def __init__(self, input_tensor_spec=None, scale=2.0, name="Scaled"):
...         super().__init__(input_tensor_spec, state_spec=(), name=name)
...         self._dense = keras.layers.Dense(1)
...         self._scale = scale
...     def call(self, observation, step_type=None, network_state=(), training=False):
...         return self._scale * self._dense(observation), network_state
>>> net = Scaled()
>>> net.create_variables(tf.TensorSpec([3], tf.float32))
TensorSpec(shape=(1,), dtype=tf.float32, name=None)
>>> [tuple(v.shape) for v in net.trainable_variables]
[(3, 1), (1,)]
>>> net.copy(scale=3.0).built
False
"""

import abc
import inspect
from typing import Any, Dict, List, Optional, Tuple

import keras
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import NestedTensor, NestedTensorSpec
from tfpolicy import _variables
from tfpolicy.networks import _distribution_network
from tfpolicy.networks import _layer_api
from specs.distribution_spec import DistributionSpec
from tfpolicy.trajectories.time_step import StepType

__all__ = ["DistributionNetwork", "DistributionSpec", "Network", "as_network", "create_variables",
           "get_state_spec", "outer_rank"]



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


def _has_state(network_state: Any) -> bool:
    return network_state is not None and bool(tree.flatten(network_state))


class _Specs:
    """Keeps specs and build status out of `tf.Module`'s tracking, which would wrap
    dicts and tuples (and make them part of checkpoints)."""

    __slots__ = ("input", "state", "output", "built")

    def __init__(self, input_spec: NestedTensorSpec, state_spec: NestedTensorSpec):
        self.input = input_spec
        self.state = state_spec
        self.output: Optional[NestedTensorSpec] = None  # set by `create_variables`
        self.built = False


class _ConstructorArgs:
    """The arguments a network was constructed with, for `copy`; opaque to `tf.Module`
    tracking and to variable collection."""

    __slots__ = ("args", "kwargs")

    def __init__(self, args: tuple, kwargs: Dict[str, Any]):
        self.args = args
        self.kwargs = kwargs


def _overrides(cls: type, name: str) -> bool:
    """Whether a class between `cls` and `Network` (excluded) defines `name`."""
    for klass in cls.__mro__:
        if klass is Network:
            return False
        if name in vars(klass):
            return True
    return False


def _call_keywords(call: Any) -> Optional[frozenset]:
    """The parameter names `call` takes by keyword; None if it takes `**kwargs`."""
    parameters = list(inspect.signature(call).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    # The first parameter after `self` is the observation, passed positionally.
    return frozenset(p.name for p in parameters[2:] if p.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY))


def _unbatched_spec(value: Any) -> Any:
    """The spec of one entry of an output leaf computed for a batch of one."""
    if isinstance(value, tfp.distributions.Distribution):
        # The spec of one sample, as there is no distribution spec type here.
        return tf.TensorSpec(value.batch_shape[1:].concatenate(value.event_shape), value.dtype)
    if isinstance(value, tf.SparseTensor):
        return tf.SparseTensorSpec(value.shape[1:], value.dtype)
    if tf.is_tensor(value) and value.shape.rank is not None and value.shape.rank >= 1:
        return tf.TensorSpec(value.shape[1:], value.dtype)
    # Anything else has no spec here; it is kept so the caller (e.g. a policy
    # checking its network's output) reports it in its own terms.
    return value


class Network(_layer_api.LayerAPI, tf.Module, abc.ABC):
    """Base of our networks: the call contract, outer-dim handling and variable collection.

    A subclass implements either `call` (TF-Agents style) or `_call` (see the
    module docstring):

    - `call(observation, step_type=None, network_state=(), training=False) ->
      (output, new_state)` gets the inputs as given; it may omit the keyword
      parameters it does not use. With an empty `network_state` it must start
      from its initial state.
    - `_call(observation, step_type, network_state, training)` gets
      observations with exactly one outer dim `[B]` and the base reshapes `[]`
      and `[B, T]` inputs around it. Recurrent networks override
      `_call_sequence` (they carry state through time). Networks that output
      distributions return their parameters (tensors) from
      `_call`/`_call_sequence` and override `_make_output`, which the base
      applies last, at the observation's outer dims.

    The constructor arguments are recorded (for `copy`) without the subclass
    doing anything.

    Args:
      input_tensor_spec: the nest of specs of one unbatched observation (array
        specs are converted to tensor specs), or None to give it later to
        `create_variables`.
      state_spec: the nest of specs of the network state, `()` for none.
      name: the module's name.

    Raises:
      TypeError: the subclass implements neither `call` nor `_call`; a spec
        leaf that is not an array or tensor spec.
    """

    _uses_call: bool = False
    _call_kwargs: Optional[frozenset] = frozenset()
    # False: a `_call` network takes only `[B]` observations (`batch_squash=False`).
    _squash_outer_dims: bool = True

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        # The most derived definition decides; `call` wins when one class defines both.
        for klass in cls.__mro__:
            if klass is Network:
                break
            if "call" in vars(klass) or "_call" in vars(klass):
                cls._uses_call = "call" in vars(klass)
                break
        cls._call_kwargs = _call_keywords(cls.call) if cls._uses_call else frozenset()

    def __new__(cls, *args: Any, **kwargs: Any) -> "Network":
        if not (_overrides(cls, "call") or _overrides(cls, "_call")):
            raise TypeError(
                f"{cls.__name__} must implement `call(observation, step_type=None, "
                f"network_state=(), training=False)` (TF-Agents style, inputs as given) or "
                f"`_call(observation, step_type, network_state, training)` (one outer dim [B]); "
                f"it implements neither")
        self = super().__new__(cls)
        try:
            inspect.signature(cls.__init__).bind(self, *args, **kwargs)
            record: Optional[_ConstructorArgs] = _ConstructorArgs(args, dict(kwargs))
        except TypeError:  # `__init__` raises its own error; unpickling calls `__new__(cls)`
            record = None
        object.__setattr__(self, "_constructor_args", record)
        return self

    def __init__(self, input_tensor_spec: Optional[NestedTensorSpec] = None,
                 state_spec: NestedTensorSpec = (), name: Optional[str] = None):
        super().__init__(name=name)
        self._specs = _Specs(
            None if input_tensor_spec is None else tensor_spec.from_spec(input_tensor_spec),
            tensor_spec.from_spec(state_spec))

    @property
    def input_tensor_spec(self) -> Optional[NestedTensorSpec]:
        """Specs of one unbatched observation; None until given."""
        return self._specs.input

    @property
    def state_spec(self) -> NestedTensorSpec:
        """Specs of the unbatched network state; `()` for feed-forward networks."""
        return self._specs.state

    @property
    def built(self) -> bool:
        """Whether the network has run once (through a call or `create_variables`)."""
        return self._specs.built

    def _output_spec(self) -> Any:
        return self._specs.output

    def __call__(self, observation: NestedTensor, step_type: Optional[tf.Tensor] = None,
                 network_state: NestedTensor = (), training: bool = False,
                 **kwargs: Any) -> Tuple[Any, Any]:
        """Runs the network.

        Args:
          observation: a nest matching `input_tensor_spec`. `_call` networks take
            outer dims `[]`, `[B]` or `[B, T]` and exactly the spec's structure;
            `call` networks whatever their `call` handles, and, as in TF-Agents,
            mappings with keys beyond the spec's (the whole observation, extra
            keys included, is passed to `call`).
          step_type: int32 with the same outer dims (used by recurrent networks).
          network_state: the state with outer dims `[B]` (or none for `[]`
            input); `()` or None for the initial state.
          training: whether layers like dropout act in training mode.
          **kwargs: further keyword arguments of a `call` network's `call`
            (e.g. a `mask`), passed on as they are; `_call` networks take none.

        Returns:
          `(output, new_state)`; for `_call` networks the output has the
          observation's outer dims.

        Raises:
          TypeError: the observation's nest structure differs from
            `input_tensor_spec` (every differing path named; also a
            `ValueError`), `call` did not return a pair, or a keyword that
            `call` (or a `_call` network) does not take.
          ValueError: a `_call` network without `input_tensor_spec`, or an
            observation with more than 2 outer dims.
        """
        observation = tree.map_structure(_as_tensor, observation)
        network_state = tree.map_structure(_as_tensor, network_state)
        if step_type is not None and not tf.is_tensor(step_type):
            step_type = tf.convert_to_tensor(step_type, tf.int32)
        spec = self._specs.input
        if spec is not None:
            # TF-Agents lets extra mapping keys through to `call`; missing ones
            # still fail (with the extra ones named too).
            checked = nest_utils.prune_extra_keys(spec, observation) if self._uses_call else (
                observation)
            nest_utils.assert_same_structure(
                checked, spec, message=f"{type(self).__name__}: the observation does not "
                                       f"match the structure of input_tensor_spec")
        if self._uses_call:
            result = self._dispatch_call(observation, step_type, network_state, training, kwargs)
        else:
            if kwargs:
                raise TypeError(
                    f"{type(self).__name__} implements `_call`, which takes only step_type, "
                    f"network_state and training; got the keyword(s) {sorted(kwargs)}")
            result = self._dispatch_private_call(observation, step_type, network_state, training)
        self._specs.built = True
        return result

    def _dispatch_call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
                       network_state: NestedTensor, training: bool,
                       extra: Dict[str, Any]) -> Tuple[Any, Any]:
        """Passes the inputs to `call` unchanged, by keyword where `call` takes them."""
        accepted = self._call_kwargs
        if accepted is not None:
            unknown = sorted(k for k in extra if k not in accepted)
            if unknown:
                raise TypeError(
                    f"{type(self).__name__}.call does not take the keyword(s) {unknown}; it "
                    f"takes {sorted(accepted)}")
        kwargs: Dict[str, Any] = dict(extra)
        if accepted is None or "step_type" in accepted:
            kwargs["step_type"] = step_type
        if accepted is None or "network_state" in accepted or _has_state(network_state):
            kwargs["network_state"] = network_state
        if accepted is None or "training" in accepted:
            kwargs["training"] = training
        result = self.call(observation, **kwargs)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError(
                f"{type(self).__name__}.call must return (output, new_state), got {result!r}")
        return result[0], result[1]

    def _dispatch_private_call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
                               network_state: NestedTensor, training: bool) -> Tuple[Any, Any]:
        """Reshapes `[]` and `[B, T]` observations around `_call`."""
        if self._specs.input is None:
            raise ValueError(
                f"{type(self).__name__} implements `_call`, which needs input_tensor_spec to "
                f"tell the observation's outer dims: pass it to the constructor or to "
                f"`create_variables(input_tensor_spec)` first")
        rank = outer_rank(observation, self._specs.input)
        if rank != 1 and not self._squash_outer_dims:
            path, leaf = nest_utils.flatten_with_paths(observation)[0]
            raise ValueError(
                f"{type(self).__name__} was built with batch_squash=False, so it takes "
                f"observations with exactly one outer dim [B], which its layers get as they "
                f"are; got {rank} outer dims ({path!r} has shape {leaf.shape} for spec "
                f"{tree.flatten(self._specs.input)[0]!r}). Build it with batch_squash=True "
                f"(the default) to fold [] and [B, T] observations into the batch")
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
            f"{tree.flatten(self._specs.input)[0]!r}")

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[Any, Any]:
        """One step for a batch `[B]`: returns `(output [B, ...], new_state [B, ...])`."""
        raise TypeError(f"{type(self).__name__} implements `call`, not `_call`; call the "
                        "network itself (`network(observation, ...)`)")

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

    def create_variables(self, input_tensor_spec: Optional[NestedTensorSpec] = None,
                         training: bool = False, **kwargs: Any) -> NestedTensorSpec:
        """Builds the variables by running the network once on a zero batch of one.

        The network gets zero observations with outer dims `[1]`, `step_type`
        FIRST `[1]` and `get_initial_state(1)`. Only the first call runs the
        network; later calls return the same output spec.

        Args:
          input_tensor_spec: the specs of one unbatched observation; becomes the
            network's `input_tensor_spec` when it has none, and must agree with
            it (dtype and shape per leaf) otherwise.
          training: passed to the network.
          **kwargs: further keyword arguments of the network call (see
            `__call__`), passed on as in TF-Agents.

        Returns:
          The output spec: the output's nest with a `TensorSpec` without the
          batch dim per tensor, and per tfp distribution the `TensorSpec` of
          one sample (`batch_shape[1:] + event_shape`); other leaves are
          returned as they are.

        Raises:
          ValueError: neither the network nor the call has an input spec, or
            the given spec differs from the network's (both named).
        """
        given = None if input_tensor_spec is None else tensor_spec.from_spec(input_tensor_spec)
        owner = type(self).__name__
        if given is not None and self._specs.input is not None:
            nest_utils.check_compatible_specs(
                given, self._specs.input, "input_tensor_spec", owner=owner,
                given_name="create_variables' input_tensor_spec",
                expected_name="the network's input_tensor_spec")
        if self._specs.output is not None:
            return self._specs.output
        spec = self._specs.input if self._specs.input is not None else given
        if spec is None:
            raise ValueError(
                f"{owner}.create_variables: no input_tensor_spec given and the network was "
                f"constructed without one")
        taken = self._specs.input is None
        self._specs.input = spec
        try:
            observation = tensor_spec.zero_spec_nest(spec, (1,))
            step_type = tf.fill([1], tf.constant(StepType.FIRST, tf.int32))
            output, _ = self(observation, step_type=step_type,
                             network_state=self.get_initial_state(1), training=training,
                             **kwargs)
        except Exception:
            if taken:
                self._specs.input = None
            raise
        self._set_built(tree.map_structure(_unbatched_spec, output))
        return self._specs.output

    def _set_built(self, output_spec: NestedTensorSpec) -> None:
        """Records that the network is built and its output spec, which later
        `create_variables` calls return (for subclasses built by other means)."""
        self._specs.built = True
        self._specs.output = output_spec

    def get_initial_state(self, batch_size: Optional[Any] = None) -> NestedTensor:
        """Zeros for `state_spec`: shapes `[batch_size] + spec.shape`, or `spec.shape` for None.

        Args:
          batch_size: an int or scalar int tensor, or None for no outer dim.

        Returns:
          A nest like `state_spec` of zero tensors; `()` for a feed-forward network.
        """
        return tensor_spec.zero_spec_nest(
            self._specs.state, None if batch_size is None else [batch_size])

    def copy(self, **kwargs: Any) -> "Network":
        """A new, unbuilt network of the same class from the recorded constructor arguments.

        Variables are never shared with this network (unless an argument holds
        a layer or model, which both then use, as when constructing twice).

        Args:
          **kwargs: constructor arguments that replace the recorded ones
            (commonly `name`).

        Returns:
          The new network.

        Raises:
          TypeError: a keyword the constructor does not take, or a network whose
            constructor arguments could not be recorded.
        """
        cls = type(self)
        record = self._constructor_args
        if record is None:
            raise TypeError(f"{cls.__name__}.copy: the constructor arguments of this network "
                            f"were not recorded (it was not built by calling its class)")
        signature = inspect.signature(cls.__init__)
        bound = signature.bind(None, *record.args, **record.kwargs)
        parameters = list(signature.parameters.values())[1:]
        named = {p.name for p in parameters if p.kind not in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
        var_keyword = next((p.name for p in parameters
                            if p.kind is inspect.Parameter.VAR_KEYWORD), None)
        for key, value in kwargs.items():
            if key in named:
                bound.arguments[key] = value
            elif var_keyword is not None:
                bound.arguments[var_keyword] = {**bound.arguments.get(var_keyword, {}), key: value}
            else:
                raise TypeError(
                    f"{cls.__name__}.copy got the keyword {key!r}, which "
                    f"{cls.__name__}.__init__ does not take; it takes {sorted(named)}")
        return cls(*bound.args[1:], **bound.kwargs)

    def _check_built(self) -> None:
        # `_call` networks keep returning what exists (they build in their
        # constructors, and plain models wrapped by `as_network` may be built already).
        if self._uses_call and not self._specs.built:
            raise ValueError(
                f"{type(self).__name__} has not been built, so it has no variables yet: call "
                f"`create_variables()` or apply the network first")

    @property
    def variables(self) -> List[tf.Variable]:
        """All variables, Keras 3 layers' included, in a stable order.

        Raises:
          ValueError: a `call` network that has not run yet.
        """
        self._check_built()
        return [c.variable for c in _variables.collect_variables(self)]

    @property
    def trainable_variables(self) -> List[tf.Variable]:
        """The variables a learner trains (Keras' `trainable` flags respected).

        Raises:
          ValueError: a `call` network that has not run yet.
        """
        self._check_built()
        return [c.variable for c in _variables.collect_variables(self) if c.trainable]

    # ---- Keras-layer conveniences TF-Agents users call on networks ----------------------------

    @property
    def non_trainable_variables(self) -> List[tf.Variable]:
        """The variables a learner leaves alone (Keras' `trainable` flags respected).

        Raises:
          ValueError: a `call` network that has not run yet.
        """
        self._check_built()
        return [c.variable for c in _variables.collect_variables(self) if not c.trainable]

class _Adapter(Network):
    """A plain observation -> output model behind the network contract."""

    def __init__(self, model: Any, input_tensor_spec: NestedTensorSpec, name: Optional[str]):
        super().__init__(input_tensor_spec, (), name=name or "adapted_network")
        self.model = model

    def _call(self, observation: NestedTensor, step_type: Optional[tf.Tensor],
              network_state: NestedTensor, training: bool) -> Tuple[Any, Any]:
        return self.model(observation), network_state

    def copy(self, **kwargs: Any) -> Network:
        """As `Network.copy`; a Keras model is cloned (new variables) unless `model` is given.

        Raises:
          TypeError: the model is not a Keras model but has variables, which a
            copy would share: pass `model=`.
        """
        if "model" not in kwargs:
            if isinstance(self.model, keras.Model):
                kwargs["model"] = keras.models.clone_model(self.model)
            elif _variables.collect_variables(self.model):
                raise TypeError(
                    f"{type(self).__name__}.copy cannot copy the variables of "
                    f"{type(self.model).__name__}; pass the new model as model=...")
        return super().copy(**kwargs)


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



class DistributionNetwork(_distribution_network.DistributionOutput, Network):
    """A `Network` whose outputs are distributions, described by `output_spec`.

    TF-Agents' base of actor and projection networks; see
    `tfpolicy.networks._distribution_network` for the contract. Subclasses
    implement `call` or `_call` as for `Network`.

    Args:
      input_tensor_spec: the nest of specs of one unbatched input, or None
        (projection networks take features, whose spec they do not know).
      state_spec: the nest of specs of the network state, `()` for none.
      output_spec: the nest of `DistributionSpec`s describing the outputs.
      name: the module's name.
    """

    def __init__(self, input_tensor_spec: Optional[NestedTensorSpec],
                 state_spec: NestedTensorSpec, output_spec: Any, name: Optional[str] = None):
        super().__init__(input_tensor_spec, state_spec, name=name)
        self._set_output_spec(output_spec)


def get_state_spec(layer: Any) -> NestedTensorSpec:
    """The state spec of a network or a Keras layer (TF-Agents' `network.get_state_spec`).

    Args:
      layer: a `Network` (its `state_spec`), a Keras RNN cell (a layer with
        `state_size`: one `TensorSpec([size])` per state entry, in the
        cell's dtype), a Keras RNN layer (its cell's), or any other Keras
        layer (`()`).

    Returns:
      The nest of `TensorSpec`s of one unbatched state, `()` for none.
    """
    if isinstance(layer, Network):
        return layer.state_spec
    cell = layer.cell if isinstance(layer, keras.layers.RNN) else layer
    state_size = getattr(cell, "state_size", None)
    if state_size is None:
        return ()
    dtype = tf.as_dtype(getattr(cell, "compute_dtype", None) or tf.float32)
    return tree.map_structure(lambda size: tf.TensorSpec([int(size)], dtype), state_size)


def create_variables(module: Any, input_spec: Optional[NestedTensorSpec] = None,
                     **kwargs: Any) -> Any:
    """Builds a network's or a Keras layer's variables and returns its output spec.

    TF-Agents' module-level `network.create_variables`. A `Network` runs its
    own `create_variables(input_spec, **kwargs)`. A Keras layer is called once
    on a zero batch of one (with a zero state when it is an RNN cell), which
    builds it.

    Args:
      module: a `Network` or a Keras layer.
      input_spec: the specs of one unbatched input; required for a Keras
        layer.
      **kwargs: extra keywords of the call, e.g. `training=True`.

    Returns:
      The output spec: per output tensor a `TensorSpec` without the batch
      dim, per tfp distribution the spec of one sample.

    Raises:
      ValueError: `module` is a Keras layer and `input_spec` is None.
    """
    if isinstance(module, Network):
        return module.create_variables(input_spec, **kwargs)
    if input_spec is None:
        raise ValueError(f"create_variables: {type(module).__name__} {module.name!r} is a Keras "
                         f"layer, so an input_spec is required; got None")
    inputs = tensor_spec.zero_spec_nest(tensor_spec.from_spec(input_spec), (1,))
    if getattr(module, "state_size", None) is not None and not isinstance(module, keras.layers.RNN):
        state = tensor_spec.zero_spec_nest(get_state_spec(module), (1,))
        output = module(inputs, state, **kwargs)[0]
    else:
        output = module(inputs, **kwargs)
    return tree.map_structure(_unbatched_spec, output)
