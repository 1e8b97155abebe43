"""LiteRT acting for `DynamicTFPolicy`: the model's forward pass in a LiteRT interpreter,
the sampling in numpy, the weights refreshed in place after every update.

`config["acting_runtime"]` picks how a policy acts (`ACTING_RUNTIMES`):

- `"tf"` (the policy default): the compiled TensorFlow step;
- `"lite"`: LiteRT, and an error (`LiteActingError`, with the reason) when
  the policy does not convert;
- `"auto"` (the algorithms' default): LiteRT when the policy converts, else
  TensorFlow; `policy.acting_fallback_reason` says why.

`policy.acting_runtime` answers `"lite"` or `"tf"`. A policy converts when
its model is stateless (not recurrent), it has no `action_sampler_fn` or
`action_distribution_fn`, its action distribution is exactly one of
`Categorical`, `MultiCategorical`, `DiagGaussian`, `SquashedGaussian`,
`Deterministic` or a `MultiActionDistribution` of these, the model reads
only the observation, every op converts to the LiteRT builtins, and
`ai_edge_litert` is installed (`pip install "tfpolicy[lite]"`; imported
when a policy first needs it).

What `LiteActor(policy)` holds:

- one flatbuffer, converted once, with two signatures over the model's
  variables kept as resource variables: `action` (the observation leaves,
  in the spec's flattened order -> the distribution inputs, the
  `extra_action_out_fn` outputs and the value branch `vf_preds` when the
  model has one) and `set_weights` (one input per variable the action
  reads, each assigned);
- one interpreter per batch size seen (`[B]` inputs resized once), each
  with its own copy of the variables. After the policy's weights change
  (`learn_on_batch`, `apply_gradients`, `set_weights`, `set_state`), each
  interpreter runs `set_weights` with the new values before its next act,
  which costs microseconds where a re-conversion costs a second;
- the numpy twin of the action distribution: actions, `action_logp`,
  `action_prob` and the exploration (`tfpolicy.learning.exploration`) drawn
  from the policy's acting generator, with the TensorFlow step's columns,
  dtypes and shapes: `actions`, `action_dist_inputs`, `action_logp`,
  `action_prob`, the `extra_action_out_fn` columns, then `vf_preds`.

The interpreter runs each signature's subgraph through the interpreter
wrapper (`SetTensor`/`Invoke`/`GetTensor` with a subgraph index), as the
runtime's own signature runners do: the public `invoke()` runs only the
first subgraph and refuses to run while a signature runner exists.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.learning import build_tf_policy
>>> Pol = build_tf_policy("Pol", loss_fn=lambda policy, model, dist_class, batch: 0.0)
>>> policy = Pol(ArraySpec((4,), np.float32), BoundedArraySpec((), np.int64, 0, 1),
...              {"model": {"fcnet_hiddens": [8]}, "acting_runtime": "auto", "seed": 0})
>>> policy.acting_runtime, policy.acting_fallback_reason
('lite', None)
>>> action, _, extra = policy.compute_single_action(np.zeros(4, np.float32), explore=False)
>>> action.dtype, sorted(extra)
(dtype('int64'), ['action_dist_inputs', 'action_logp', 'action_prob', 'vf_preds'])
"""

import logging
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tree

from tfpolicy.learning import _lite_acting_dists
from tfpolicy.learning.sample_batch import SampleBatch

__all__ = ["ACTING_RUNTIMES", "LiteActingError", "LiteActor", "static_fallback_reason"]

ACTING_RUNTIMES = ("auto", "lite", "tf")

_INSTALL = 'the LiteRT runtime is not installed (pip install "tfpolicy[lite]")'
_UNSUPPORTED_OP = re.compile(r"'tf\.([A-Za-z0-9_]+)' op is neither a custom op nor a flex op")
_ADI, _LOGP, _PROB, _VF = (SampleBatch.ACTION_DIST_INPUTS, SampleBatch.ACTION_LOGP,
                           SampleBatch.ACTION_PROB, SampleBatch.VF_PREDS)


class LiteActingError(ValueError):
    """The policy does not act through LiteRT; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        raise LiteActingError(f"{_INSTALL}: {e}") from None
    return Interpreter


def static_fallback_reason(policy: Any) -> Optional[str]:
    """Why `policy` cannot act through LiteRT, from what is known without converting
    (the runtime, a recurrent model, custom acting callbacks); None if it may."""
    try:
        _interpreter_class()
    except LiteActingError as e:
        return e.reason
    if policy.is_recurrent():
        return ("the model is recurrent (its state is fed back every step); LiteRT acting "
                "covers stateless models")
    callbacks = getattr(policy, "_callbacks", {})
    for name in ("action_sampler_fn", "action_distribution_fn"):
        if callbacks.get(name):
            return f"the policy acts through its own {name}, which LiteRT acting does not run"
    return None


class _Sized:
    """One interpreter at one batch size: the wrapper's bound calls and the weights'
    version it holds."""

    __slots__ = ("interpreter", "set_tensor", "invoke", "get_tensor", "version")

    def __init__(self, interpreter: Any, version: int):
        wrapper = interpreter._interpreter  # see the module docstring
        self.interpreter = interpreter
        self.set_tensor, self.invoke, self.get_tensor = (wrapper.SetTensor, wrapper.Invoke,
                                                         wrapper.GetTensor)
        self.version = version


class LiteActor:
    """A policy's LiteRT acting runtime (see the module docstring).

    Args:
      policy: a `DynamicTFPolicy`; its `_weights_version` counts weight changes.

    Raises:
      LiteActingError: the policy does not convert (the reason names what).
    """

    def __init__(self, policy: Any):
        reason = static_fallback_reason(policy)
        if reason:
            raise LiteActingError(reason)
        self._interpreter_cls = _interpreter_class()
        self._policy = policy
        self._rng: np.random.Generator = policy._acting_rng
        self._obs_specs = tree.flatten(policy.observation_spec)
        action_fn, self._extra_layout, self._has_vf, width = self._trace(policy)
        keys = [_ADI, _LOGP, _PROB] + [key for key, _, _ in self._extra_layout] + (
            [_VF] if self._has_vf else [])
        # The TensorFlow step packs its fetches in dm-tree's (sorted) key order.
        self._key_order = None if keys == sorted(keys) else sorted(keys)
        self._dist = self._numpy_dist(policy, width)
        # Every variable the action reads (the model's, and any other it captured).
        self._variables = variables = list(action_fn.variables)

        def set_weights(*values: tf.Tensor) -> Dict[str, tf.Tensor]:
            for variable, value in zip(variables, values):
                variable.assign(value)
            return {"done": tf.constant(0, tf.int32)}

        # The signatures take the traced functions' names: "action", "set_weights".
        weights_fn = tf.function(
            set_weights, input_signature=[tf.TensorSpec(v.shape, v.dtype, name=f"w_{i}")
                                           for i, v in enumerate(self._variables)],
            autograph=False).get_concrete_function()
        # A model without variables has nothing to refresh (and no set_weights signature).
        self._flatbuffer = self._convert([action_fn] + ([weights_fn] if variables else []))
        # One call reads them all: a variable's own .numpy() costs an eager op each.
        self._read_weights = tf.function(lambda: [tf.identity(v) for v in variables],
                                         autograph=False).get_concrete_function()
        self._converted_version = policy._weights_version
        self._weights: Optional[List[np.ndarray]] = None
        self._weights_version = -1
        self._interpreters: Dict[int, _Sized] = {}
        self._single: Optional[_Sized] = None
        first = self._interpreter_cls(model_content=self._flatbuffer, num_threads=1)
        self._read_signatures(first)
        self._interpreters[1] = self._sized(first, 1)

    # ---- conversion -----------------------------------------------------------------------------

    def _trace(self, policy: Any) -> Tuple[Any, List[Tuple[str, Any, int]], bool, Optional[int]]:
        """The `action` concrete function; the extra outputs' `(column, structure,
        count)`; whether `vf_preds` comes from the value branch; the inputs' width."""
        structure = policy.observation_spec
        layout: List[Tuple[str, Any, int]] = []
        flags: List[bool] = []

        def action(*leaves: tf.Tensor) -> Dict[str, tf.Tensor]:
            obs = tree.unflatten_as(structure, list(leaves))
            dist_inputs, _ = policy.model({SampleBatch.OBS: obs}, [], None)
            extra = policy.extra_action_out_fn()
            outputs = [dist_inputs]
            layout.clear()
            for key, value in extra.items():
                flat = [tf.convert_to_tensor(x) for x in tree.flatten(value)]
                layout.append((key, tree.map_structure(lambda _: 0, value), len(flat)))
                outputs.extend(flat)
            has_vf = policy._value_branch and _VF not in extra
            if has_vf:
                outputs.append(policy.model.value_function())
            flags[:] = [has_vf]
            return {f"out_{i}": t for i, t in enumerate(outputs)}

        signature = [tf.TensorSpec((None,) + tuple(s.shape), s.dtype, name=f"obs_{i}")
                     for i, s in enumerate(self._obs_specs)]
        try:
            function = tf.function(action, input_signature=signature,
                                   autograph=False).get_concrete_function()
        except Exception as e:  # noqa: BLE001 -- any tracing failure means: act through TF
            raise LiteActingError(f"the model's forward pass on the observation alone does not "
                                  f"trace: {type(e).__name__}: {e}") from e
        width = function.structured_outputs["out_0"].shape[-1]
        return function, layout, flags[0], width

    def _numpy_dist(self, policy: Any, width: Optional[int]) -> _lite_acting_dists.NumpyDist:
        if width is None:
            raise LiteActingError("the model's outputs have no static width")
        probe = policy.dist_class(tf.ones([1, width], tf.float32), policy.model)
        try:
            dist = _lite_acting_dists.numpy_dist(probe)
        except _lite_acting_dists.UnsupportedDistribution as e:
            raise LiteActingError(str(e)) from None
        return dist

    def _convert(self, functions: List[Any]) -> bytes:
        holder = tf.Module()
        holder.variables_ = list(self._variables)
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            functions, holder)
        converter.experimental_enable_resource_variables = True
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        quiet = logging.getLogger("absl").level
        logging.getLogger("absl").setLevel(logging.ERROR)
        try:
            return converter.convert()
        except Exception as e:  # noqa: BLE001 -- the converter raises several types
            ops = sorted(set(_UNSUPPORTED_OP.findall(str(e))))
            if ops:
                raise LiteActingError(f"the model uses TensorFlow ops that the LiteRT builtins "
                                      f"lack: {ops}") from None
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise LiteActingError(f"the LiteRT converter failed: {type(e).__name__}: "
                                  f"{first}") from None
        finally:
            logging.getLogger("absl").setLevel(quiet)

    def _read_signatures(self, interpreter: Any) -> None:
        signatures = interpreter.get_signature_list()
        # A lone function's signature is named "serving_default".
        action = interpreter.get_signature_runner(
            "action" if "action" in signatures else next(iter(signatures)))
        inputs = action.get_input_details()
        outputs = action.get_output_details()
        self._action_subgraph = action._subgraph_index
        self._inputs = [inputs[f"obs_{i}"]["index"] for i in range(len(self._obs_specs))]
        self._input_shapes = [list(inputs[f"obs_{i}"]["shape_signature"])
                              for i in range(len(self._obs_specs))]
        self._outputs = [outputs[f"out_{i}"]["index"] for i in range(len(outputs))]
        self._weights_subgraph, self._weight_inputs = None, []
        if self._variables:
            weights = interpreter.get_signature_runner("set_weights")
            weight_inputs = weights.get_input_details()
            self._weights_subgraph = weights._subgraph_index
            self._weight_inputs = [weight_inputs[f"w_{i}"]["index"]
                                   for i in range(len(self._variables))]
            del weights
        del action  # a live signature runner blocks the public API's calls

    def _sized(self, interpreter: Any, batch: int) -> _Sized:
        interpreter.allocate_tensors()
        wrapper = interpreter._interpreter
        if batch != 1:
            for index, shape in zip(self._inputs, self._input_shapes):
                wrapper.ResizeInputTensor(index, np.array([batch] + shape[1:], np.int32), True,
                                          self._action_subgraph)
            wrapper.AllocateTensors(self._action_subgraph)
        if self._weights_subgraph is not None:
            wrapper.AllocateTensors(self._weights_subgraph)
        return _Sized(interpreter, self._converted_version)

    def _interpreter(self, batch: int) -> _Sized:
        sized = self._interpreters.get(batch)
        if sized is None:
            sized = self._interpreters[batch] = self._sized(
                self._interpreter_cls(model_content=self._flatbuffer, num_threads=1), batch)
        if sized.version != self._policy._weights_version:
            self._refresh(sized)
        return sized

    def _refresh(self, sized: _Sized) -> None:
        version = self._policy._weights_version
        if self._weights_version != version:
            self._weights = [t.numpy() for t in self._read_weights()]
            self._weights_version = version
        subgraph = self._weights_subgraph
        if subgraph is not None:
            for index, value in zip(self._weight_inputs, self._weights):
                sized.set_tensor(index, value, subgraph)
            sized.invoke(subgraph)
        sized.version = version

    def refresh(self) -> None:
        """Brings every interpreter to the policy's current weights now (else each one
        does before its next act)."""
        for sized in self._interpreters.values():
            if sized.version != self._policy._weights_version:
                self._refresh(sized)

    @property
    def batch_sizes(self) -> List[int]:
        """The batch sizes that have an interpreter."""
        return sorted(self._interpreters)

    # ---- acting --------------------------------------------------------------------------------

    def forward(self, leaves: Sequence[np.ndarray], batch: int) -> List[np.ndarray]:
        """The `action` signature's outputs `[B, ...]` for observation leaves `[B, ...]` (in
        the spec's order and dtypes), with the current weights."""
        sized = self._interpreter(batch)
        subgraph = self._action_subgraph
        set_tensor, get_tensor = sized.set_tensor, sized.get_tensor
        for index, value in zip(self._inputs, leaves):
            set_tensor(index, value, subgraph)
        sized.invoke(subgraph)
        return [get_tensor(index, subgraph) for index in self._outputs]

    def compute(self, leaves: Sequence[np.ndarray], batch: int, explore: bool,
                epsilon: Optional[float] = None) -> Tuple[Any, Dict[str, Any]]:
        """`(actions, extra_fetches)` for a batch of observation leaves `[B, ...]`.

        Args:
          leaves: the observation leaves in the spec's order and dtypes.
          batch: `B`.
          explore: sample (or explore epsilon-greedily); False: the greedy actions.
          epsilon: `EpsilonGreedy`'s `ε` for this call; None samples from the
            distribution.
        """
        outputs = self.forward(leaves, batch)
        dist_inputs = outputs[0]
        dist = self._dist
        if not explore:
            actions = dist.greedy(dist_inputs)
            logp = np.zeros(batch, np.float32)
        elif epsilon is None:
            actions, logp = dist.sample(dist_inputs, self._rng)
        else:
            actions = self._epsilon_greedy(dist_inputs, batch, epsilon)
            logp = np.zeros(batch, np.float32)
        extra: Dict[str, Any] = {_ADI: dist_inputs, _LOGP: logp, _PROB: np.exp(logp)}
        position = 1
        for key, structure, count in self._extra_layout:
            extra[key] = tree.unflatten_as(structure, outputs[position:position + count])
            position += count
        if self._has_vf:
            extra[_VF] = outputs[position]
        if self._key_order is not None:
            extra = {key: extra[key] for key in self._key_order}
        return actions, extra

    def _epsilon_greedy(self, dist_inputs: np.ndarray, batch: int, epsilon: float) -> Any:
        dist, rng = self._dist, self._rng
        greedy = dist.greedy(dist_inputs)
        if batch == 1:
            return dist.random_allowed(dist_inputs, rng) if rng.random() < epsilon else greedy
        chosen = rng.random(batch) < epsilon
        if not chosen.any():
            return greedy
        random = dist.random_allowed(dist_inputs, rng)
        return np.where(chosen.reshape((batch,) + (1,) * (greedy.ndim - 1)), random, greedy)

    def compute_single(self, x: np.ndarray, explore: bool, epsilon: Optional[float] = None
                       ) -> Tuple[Any, Dict[str, Any]]:
        """`compute` for one observation of a single-leaf space, `x [1, ...]` in the spec's
        dtype; the results without the batch dim (0-d arrays for scalars, as the
        TensorFlow step gives)."""
        sized = self._single
        if sized is None or sized.version != self._policy._weights_version:
            sized = self._single = self._interpreter(1)
        subgraph = self._action_subgraph
        sized.set_tensor(self._inputs[0], x, subgraph)
        sized.invoke(subgraph)
        get_tensor = sized.get_tensor
        dist_inputs = get_tensor(self._outputs[0], subgraph)
        if not explore:
            actions = self._dist.greedy(dist_inputs)
            extra: Dict[str, Any] = {_ADI: dist_inputs[0], _LOGP: np.zeros((), np.float32),
                                     _PROB: np.ones((), np.float32)}
        else:
            if epsilon is None:
                actions, logp = self._dist.sample(dist_inputs, self._rng)
            else:
                actions = self._epsilon_greedy(dist_inputs, 1, epsilon)
                logp = np.zeros(1, np.float32)
            extra = {_ADI: dist_inputs[0], _LOGP: logp[0, ...], _PROB: np.exp(logp)[0, ...]}
        if self._extra_layout:
            outputs = [get_tensor(index, subgraph)[0, ...] for index in self._outputs]
            position = 1
            for key, structure, count in self._extra_layout:
                extra[key] = tree.unflatten_as(structure, outputs[position:position + count])
                position += count
        if self._has_vf:
            extra[_VF] = get_tensor(self._outputs[-1], subgraph)[0, ...]
        if self._key_order is not None:
            extra = {key: extra[key] for key in self._key_order}
        if type(actions) is np.ndarray:
            return actions[0, ...], extra
        return tree.map_structure(lambda a: a[0, ...], actions), extra
