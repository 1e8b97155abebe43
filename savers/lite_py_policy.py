"""`LitePyPolicy`: a LiteRT model behind the numpy `PyPolicy` interface, in microseconds.

The per-step path for Python environment loops: the same specs, the same
unbatched (`batch_time_steps=True`) and batched (`[B]`) conventions and the
same path-named errors as `PyTFEagerPolicy`, at the cost of the LiteRT
interpreter's `set_tensor`/`invoke`/`get_tensor` plus one flatten and one
pack. Per step (the step of every numpy bridge, `tfpolicy.policies.flat_bridge`):

1. flatten `(time_step, policy_state)` (a flattener built once for the
   specs, which compares the structure too; nothing for a stateless policy
   whose time step fields are single arrays: the `TimeStep` is the flat
   list);
2. copy the leaves the model reads into its input tensors (`set_tensor`,
   which itself rejects a dtype or shape other than the model's: such a
   call, and the first call, take the checked path: spec checks with
   path-named errors, conversion of Python numbers, and a resize to a new
   batch size);
3. `invoke`, then copy the outputs out (`get_tensor`: the returned arrays
   are the caller's, never views of the interpreter's memory) and pack them
   as the `PolicyStep`.

Each batch size gets its own interpreter, resized once and kept (a fixed-batch
model accepts only its own batch size). `get_initial_state` runs the model's
`get_initial_state` signature.

`LitePyPolicy.from_policy(tf_policy)` converts in memory (any batch size);
`update_from_policy(tf_policy)` refreshes the weights after learning by
re-converting only the `action` step without a SavedModel round trip (about
0.1 s for a 64x64 Q network) and swapping the interpreters.

Seeds: the model samples with LiteRT's random kernels, which seed themselves
when the graph's op seeds are unset (a policy traced without
`tf.random.set_seed`): their draws are not reproducible across interpreters.
Every model this version writes samples inside the graph (`action_mode`
"graph"), so there is no seed argument.

`ai_edge_litert` is imported when a `LitePyPolicy` is built; without it an
ImportError says `pip install "tfpolicy[lite]"`.

>>> import numpy as np, tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> tf_policy = FixedPolicy(3, ts.time_step_spec(TensorSpec([2], tf.float32)),
...                         BoundedTensorSpec([], tf.int32, 0, 4))
>>> policy = LitePyPolicy.from_policy(tf_policy)
>>> policy.action(ts.restart(np.zeros(2, np.float32))).action
array(3, dtype=int32)
"""

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import tree

from savers import _export_checks
from savers import _lite_convert
from savers import _signatures
from savers import lite_export
from savers import spec_json
from savers._lite_runtime import BatchInterpreter as _BatchInterpreter
from savers._lite_runtime import interpreter_class as _interpreter_class
from savers._lite_runtime import read_model as _read_model
from savers.lite_export import LiteModel
from specs import NestedArray
from tfpolicy.policies.flat_bridge import FlatBridge, NewInputSignature, Runner
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.policy_step import PolicyStep

__all__ = ["LitePyPolicy"]

PathLike = Union[str, "os.PathLike[str]"]


class LitePyPolicy(FlatBridge):
    """Runs a LiteRT policy model on numpy inputs and returns numpy outputs.

    Args:
      model: a `.tflite` path written by `savers.lite_export.export_lite` (its
        sidecar `path + ".json"` must be beside it), or a `LiteModel`.
      batch_time_steps: callers pass unbatched time steps and states and get
        unbatched steps back (the model runs at batch 1); False: `[B]` batches.
      num_threads: the interpreter's thread count (LiteRT's default for None).

    Raises:
      ImportError: `ai_edge_litert` is not installed.
      FileNotFoundError, ValueError: a missing, foreign or mismatched sidecar.
    """

    # set_tensor's complaint about a new dtype, shape or batch size, or a leaf
    # that is not an array.
    _new_signature_errors = (NewInputSignature, ValueError, TypeError, LookupError)

    def __init__(self, model: Union[PathLike, LiteModel], batch_time_steps: bool = True,
                 num_threads: Optional[int] = None):
        self._interpreter_cls = _interpreter_class()
        model = _read_model(model)
        document = model.document
        specs = [spec_json.decode(document[key]) for key in
                 ("time_step_spec", "action_spec", "policy_state_spec", "info_spec")]
        super().__init__(*specs, validate_args=True, batch_time_steps=bool(batch_time_steps))
        self._model = model
        self._num_threads = num_threads
        self._fixed_batch = document.get("batch_size")
        inputs, _, _ = _lite_convert.name_leaves(specs[0], specs[2], specs[1], specs[3], (None,))
        positions = {leaf.name: i for i, leaf in enumerate(inputs)}
        action_signature = document["signatures"]["action"]
        self._feed_names = [leaf["name"] for leaf in action_signature["inputs"]]
        self._feed_positions = [positions[name] for name in self._feed_names]
        self._output_names = [leaf["name"] for leaf in action_signature["outputs"]]
        self._state_names = [leaf["name"] for leaf in
                             document["signatures"].get("get_initial_state", {}).get(
                                 "outputs", [])]
        self._flatbuffer = model.flatbuffer
        self._flat_outputs = False  # True after update_from_policy (outputs named by op)
        self._flat_output_names: List[str] = []
        self._interpreters: Dict[int, _BatchInterpreter] = {}
        self._initial_state_runner: Any = None
        self._functions: Optional[_lite_convert.LiteFunctions] = None
        self._source: Optional[TFPolicy] = None

    @classmethod
    def from_policy(cls, policy: TFPolicy, batch_size: Optional[int] = None,
                    **kwargs: Any) -> "LitePyPolicy":
        """Converts `policy` in memory (`convert_lite`) and runs it.

        Args:
          policy: the `TFPolicy`.
          batch_size: as `convert_lite`; None (any batch size) by default.
          **kwargs: the other arguments of `LitePyPolicy`.

        Raises:
          The errors of `savers.lite_export.convert_lite` and of `LitePyPolicy`.
        """
        _interpreter_class()
        policy_obj = _export_checks.as_tf_policy(policy)
        batch_size = _export_checks.as_int(batch_size, "batch_size")
        with _signatures.quiet_argument_renaming():
            functions = _lite_convert.LiteFunctions(policy_obj, batch_size)
            flatbuffer = _lite_convert.convert_signatures(functions, type(policy_obj).__name__)
        instance = cls(LiteModel(flatbuffer, lite_export.document_for(
            functions, flatbuffer, batch_size)), **kwargs)
        instance._functions, instance._source = functions, policy_obj
        return instance

    @property
    def model(self) -> LiteModel:
        """The model given at construction (its document describes every later refresh too)."""
        return self._model

    # ---- stepping -------------------------------------------------------------------------------

    def _runner_for(self, outer: Tuple[int, ...], leaves: Sequence[Any]) -> Runner:
        """Copies the leaves the model reads into the interpreter of this batch size, invokes
        it and copies the outputs out; `set_tensor` rejects leaves of another signature."""
        (batch,) = outer
        sized = self._interpreter(int(batch))
        interpreter, pack = sized.interpreter, self._pack
        set_tensor, invoke, get = interpreter.set_tensor, interpreter.invoke, interpreter.get_tensor
        feeds, outputs = sized.feeds, sized.outputs
        if self._batch_time_steps:
            if len(feeds) == 1 and len(outputs) == 1:
                (position, index), = feeds
                out, = outputs

                def run_one(leaves: Sequence[Any]) -> PolicyStep:
                    set_tensor(index, leaves[position][None])
                    invoke()
                    return pack([get(out)[0, ...]])

                return run_one

            def run_unbatched(leaves: Sequence[Any]) -> PolicyStep:
                for position, index in feeds:
                    set_tensor(index, leaves[position][None])
                invoke()
                return pack([get(i)[0, ...] for i in outputs])

            return run_unbatched

        def run_batched(leaves: Sequence[Any]) -> PolicyStep:
            for position, index in feeds:
                set_tensor(index, leaves[position])
            invoke()
            return pack([get(i) for i in outputs])

        return run_batched

    # ---- interpreters -----------------------------------------------------------------------------

    def _new_interpreter(self) -> Any:
        return self._interpreter_cls(model_content=self._flatbuffer, num_threads=self._num_threads)

    def _interpreter(self, batch: int) -> _BatchInterpreter:
        sized = self._interpreters.get(batch)
        if sized is not None:
            return sized
        self._check_fixed_batch(self._fixed_batch, batch, "this LiteRT model",
                                ". Export with batch_size=None for any batch size")
        interpreter = self._new_interpreter()
        inputs, outputs = self._tensor_indices(interpreter)
        if self._fixed_batch is None:
            for index in inputs:
                shape = [batch] + list(self._input_shape(interpreter, index)[1:])
                interpreter.resize_tensor_input(index, shape, strict=True)
        interpreter.allocate_tensors()
        sized = _BatchInterpreter(interpreter, list(zip(self._feed_positions, inputs)), outputs)
        self._interpreters[batch] = sized
        return sized

    @staticmethod
    def _input_shape(interpreter: Any, index: int) -> List[int]:
        for detail in interpreter.get_input_details():
            if detail["index"] == index:
                return list(detail["shape_signature"])
        raise ValueError(f"tensor {index} is not an input of the primary subgraph")

    def _tensor_indices(self, interpreter: Any) -> Tuple[List[int], List[int]]:
        """The action step's input (feed order) and output (output-leaf order) tensor indices."""
        primary = {d["name"]: d["index"] for d in interpreter.get_input_details()}
        if self._flat_outputs:
            outputs = {d["name"]: d["index"] for d in interpreter.get_output_details()}
            return ([primary[name] for name in self._feed_names],
                    [outputs[name] for name in self._flat_output_names])
        runner = interpreter.get_signature_runner("action")
        in_details, out_details = runner.get_input_details(), runner.get_output_details()
        inputs = [in_details[name]["index"] for name in self._feed_names]
        if not set(inputs) <= set(primary.values()):
            raise ValueError("the model's `action` signature is not its primary subgraph; "
                             "export it with savers.lite_export.export_lite")
        return inputs, [out_details[name]["index"] for name in self._output_names]

    # ---- state and weights ------------------------------------------------------------------------

    def get_initial_state(self, batch_size: Optional[int] = None) -> NestedArray:
        """The model's initial state as numpy: unbatched for None, else `[batch_size]`."""
        if not self._state_names:
            return ()
        if self._initial_state_runner is None:
            interpreter = self._interpreter_cls(model_content=self._model.flatbuffer)
            self._initial_state_runner = interpreter.get_signature_runner("get_initial_state")
        n = 1 if batch_size is None else int(batch_size)
        out = self._initial_state_runner(batch_size=np.asarray(n, np.int32))
        values = [np.array(out[name]) for name in self._state_names]
        if batch_size is None:
            values = [v[0, ...] for v in values]
        return tree.unflatten_as(self.policy_state_spec, values)

    def update_from_policy(self, policy: TFPolicy) -> None:
        """Re-converts the `action` step with `policy`'s current weights and runs that.

        `policy` is the policy this was built from (`from_policy`), or one with
        the same specs and signature (e.g. a copy with new weights). The
        initial state keeps coming from the original model.

        Raises:
          ValueError: `policy`'s signature differs from the running model's.
          LiteConversionError: as `convert_lite`.
        """
        policy = _export_checks.as_tf_policy(policy)
        functions = self._functions
        if functions is None or policy is not self._source:
            with _signatures.quiet_argument_renaming():
                functions = _lite_convert.LiteFunctions(policy, self._fixed_batch)
        document = self._model.document
        described = document["signatures"]["action"]
        specs_differ = any(spec_json.encode(getattr(policy, key)) != document[key] for key in (
            "time_step_spec", "action_spec", "policy_state_spec", "info_spec"))
        if (specs_differ or _signatures.describe(functions.used_inputs) != described["inputs"]
                or _signatures.describe(functions.output_leaves) != described["outputs"]):
            raise ValueError(
                f"update_from_policy: {type(policy).__name__}'s specs or action signature "
                f"differ from the running model's: inputs {_signatures.describe(functions.used_inputs)} and "
                f"outputs {_signatures.describe(functions.output_leaves)}, expected "
                f"{described['inputs']} and {described['outputs']}")
        flatbuffer = _lite_convert.convert_flat(functions, type(policy).__name__)
        self._functions, self._source = functions, policy
        # A model without signature defs: its outputs are named by the traced ops.
        self._flat_output_names = [t.name.split(":")[0] for t in functions.action_flat.outputs]
        self._flatbuffer, self._flat_outputs = flatbuffer, True
        self._interpreters = {}
        self._disarm()
