"""`PolicySaver`: a `TFPolicy` as a SavedModel any TensorFlow runtime can serve, and
its weights as checkpoints that update a served policy without a re-export.

Export layout, `save(export_dir)`::

  export_dir/
    saved_model.pb          functions and signatures (TensorFlow's format)
    variables/variables.*   the values of the variables at save time
    fingerprint.pb, assets/ TensorFlow's
    policy_specs.json       specs, signature names and notes, plain JSON (below)

Checkpoint layout, `save_checkpoint(checkpoint_dir)`::

  checkpoint_dir/
    variables/variables.index, variables/variables.data-*   the values only
    policy_checkpoint.json  which variables, with names, shapes and dtypes

Both are written atomically (see `savers.atomic`): an exception or a kill
during `save` never leaves a partial directory at the final path, and an
export already there survives a failed save.

Signatures (flat dicts of tensors; names follow `savers._signatures`):

- `action`: inputs `step_type`, `reward`, `discount`, `observation[/...]`,
  `state/...`; outputs `action[/...]`, `state/...`, `info/...`;
- `get_initial_state`: input `batch_size` (int32 scalar); outputs `state/...`;
- `get_train_step`: no input; output `train_step` (int64 scalar);
- `get_metadata`: no input; one output per metadata key;
- `distribution`: the inputs of `action`; outputs
  `distribution/<action path>/<parameter>`, `state/...`, `info/...`.

Every leaf has an outer batch dim: any size with `batch_size=None`, exactly
`batch_size` otherwise (then `get_initial_state` checks its input equals it;
TF-Agents' takes no input there). `distribution` is exported when every
action leaf's distribution is one of `Categorical` (parameter `logits`; the
logit at index `k` is that of the action `minimum + k`), `Deterministic`
(`loc`), `Normal` (`loc`, `scale`), `Uniform` (`low`, `high`), `Bernoulli`
(`logits`), or `Independent` of one of these (its inner parameters, each
broadcast to the full batch and element shape). Otherwise (or for a policy
without a distribution) it is left out, with a logged note and the reason in
`policy_specs.json` (`distribution.note`): the rest of the export never fails
for it.

The loaded object also has the nested functions `action(time_step,
policy_state)` (a `TimeStep` of tensors and a state nest in, a `PolicyStep`
out), `get_initial_state(batch_size)`, `get_train_step()`, `get_metadata()`
and, when exported, `distribution(time_step, policy_state)` (a `PolicyStep`
whose action is a nest like the action spec of `{parameter: tensor}`
dicts). `action_flat(*inputs)` is the `action` step with the signature's
inputs as positional arguments and its outputs as a list, both in the
signature's order (as listed in `policy_specs.json`). When the step never
reads some inputs (most policies ignore the reward and the discount),
`action_used(*read_inputs)` takes the read ones alone, at the positions
`policy_specs.json` lists as `action_used_inputs`: the per-step path of
`SavedModelPyTFEagerPolicy`, which calls it without any dict handling. In a process without this library the namedtuples come back as
TensorFlow's rebuilt namedtuple classes of the same names and fields, and a
`collections.namedtuple("TimeStep", [...])` of the same fields is accepted as
input. Its attributes `model_variables` (a list: every variable of
`policy.variables()`, Keras 3 ones included, plus any other variable the
functions read), `train_step` and `metadata_variables` are the variables a
checkpoint updates.

`train_step`: a scalar integer `tf.Variable` whose value is saved with each
export and checkpoint; `get_train_step` returns it as int64. Without one the
export holds its own variable set to -1 (TF-Agents' "unknown").

`metadata`: name -> `tf.Variable`, tensor, numpy array or Python number.
Variables are saved (`metadata_variables`, in sorted name order) and updated
by checkpoints; other values are constants of the export.

`policy_specs.json` (`"format": "tfpolicy.policy_export"`, version 1) and
`policy_checkpoint.json` are plain JSON; their schemas are documented in
`savers._export_document`.

>>> import tempfile
>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from tfpolicy.policies import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> policy = FixedPolicy(2, ts.time_step_spec(TensorSpec([3], tf.float32)),
...                      BoundedTensorSpec([], tf.int32, 0, 4))
>>> saver = PolicySaver(policy, metadata={"env_steps": 1000})
>>> export_dir = tempfile.mkdtemp() + "/policy"
>>> saver.save(export_dir)
>>> loaded = tf.saved_model.load(export_dir)
>>> out = loaded.signatures["action"](step_type=tf.zeros([2], tf.int32), reward=tf.zeros([2]),
...                                    discount=tf.ones([2]), observation=tf.zeros([2, 3]))
>>> sorted(out), out["action"].numpy()
(['action', 'info/log_probability'], array([2, 2], dtype=int32))
>>> int(loaded.get_train_step()), int(loaded.get_metadata()["env_steps"])
(-1, 1000)
"""

import json
import logging
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import tensorflow as tf
import tree

from savers import _auxiliary_functions
from savers import _distribution_parameters
from savers import _export_checks
from savers import _export_document
from savers import _nests
from savers import _signatures
from savers import atomic
from savers._export_document import CHECKPOINT_FILE
from savers._export_document import CHECKPOINT_FORMAT
from savers._export_document import EXPORT_FORMAT
from savers._export_document import FORMAT_VERSION
from savers._export_document import SPECS_FILE
from specs import NestedTensorSpec
from specs import tensor_spec
from tfpolicy.policies.input_pruning import prune_unused_inputs
from tfpolicy.policies.tf_policy import TFPolicy
from tfpolicy.trajectories.policy_step import PolicyStep

__all__ = [
    "PolicySaver",
    "SPECS_FILE",
    "CHECKPOINT_FILE",
    "EXPORT_FORMAT",
    "CHECKPOINT_FORMAT",
    "FORMAT_VERSION",
]

_log = logging.getLogger(__name__)

_CHECKPOINT_PREFIX = ("variables", "variables")
_STATE = "state"


class PolicySaver:
    """Exports a `TFPolicy` as a SavedModel and writes checkpoints of its variables.

    The functions are traced here, once, so problems with the policy show at
    construction; `save` and `save_checkpoint` only write. See the module
    docstring for the layout, the signatures and `policy_specs.json`.

    Args:
      policy: the `TFPolicy` to export (a `PyTFEagerPolicy` is exported as the
        `TFPolicy` it wraps).
      batch_size: None to accept any batch size, or the one batch size every
        signature takes.
      use_nest_path_signatures: name flat inputs and outputs by nest path
        (True), or by spec name where that name is set and unique, nest path
        otherwise (False); see `savers._signatures`.
      metadata: name -> `tf.Variable`, tensor, numpy array or Python number,
        returned by `get_metadata`.
      train_step: a scalar integer `tf.Variable`; None exports -1.

    Raises:
      TypeError: `policy` is not a `TFPolicy` (or `PyTFEagerPolicy`), or
        `train_step` or a metadata value is of an unsupported kind.
      ValueError: a bad `batch_size`, `train_step` or metadata name; a policy
        that calls Python code (`tf.numpy_function`, as `TFPyPolicy` does); errors
        of the policy itself while tracing `action` or `get_initial_state`.
    """

    def __init__(self, policy: TFPolicy, batch_size: Optional[int] = None,
                 use_nest_path_signatures: bool = True,
                 metadata: Optional[Mapping[str, Any]] = None,
                 train_step: Optional[tf.Variable] = None):
        policy = _export_checks.as_tf_policy(policy)
        self._policy = policy
        self._batch_size = _export_checks.as_int(batch_size, "batch_size")
        self._use_nest_paths = bool(use_nest_path_signatures)
        self._train_step = _export_checks.check_train_step(train_step)
        self._metadata = _export_checks.check_metadata(metadata)
        self._outer = (self._batch_size,)
        self._time_step_spec = policy.time_step_spec
        self._state_spec = policy.policy_state_spec
        self._action_spec = policy.action_spec
        self._info_spec = policy.info_spec
        self._policy_step_spec = policy.policy_step_spec

        self._state_leaves = _signatures.flat_leaves(
            [((_STATE,), self._state_spec)], self._use_nest_paths, self._outer)
        state_names = [leaf.name for leaf in self._state_leaves]
        self._input_leaves = _signatures.flat_leaves(
            [((), self._time_step_spec)], self._use_nest_paths, self._outer,
            reserved=state_names) + self._state_leaves
        action_leaves = _signatures.flat_leaves(
            [(("action",), self._action_spec)], self._use_nest_paths, self._outer,
            reserved=state_names)
        info_leaves = _signatures.flat_leaves(
            [(("info",), self._info_spec)], self._use_nest_paths, self._outer,
            reserved=state_names + [leaf.name for leaf in action_leaves])
        self._output_leaves = action_leaves + self._state_leaves + info_leaves

        self._module = tf.Module(name="saved_policy")
        self._signatures: Dict[str, Any] = {}
        self._descriptions: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
        concrete = []
        with _signatures.quiet_argument_renaming():
            concrete += self._build_action()
            _export_checks.check_no_python_ops(concrete[-1], policy)
            concrete += _auxiliary_functions.add_initial_state(
                self._module, self._signatures, self._descriptions, policy, self._batch_size,
                self._state_spec, self._state_leaves)
            concrete += _auxiliary_functions.add_train_step_and_metadata(
                self._module, self._signatures, self._descriptions, self._train_step,
                self._metadata)
            concrete += self._build_distribution()
        self._set_variables(concrete)
        self._checkpoint = tf.train.Checkpoint(
            model_variables=self._module.model_variables, train_step=self._train_step,
            metadata_variables=self._module.metadata_variables)

    # ---- properties -------------------------------------------------------------------------

    @property
    def policy(self) -> TFPolicy:
        return self._policy

    @property
    def signatures(self) -> Dict[str, Any]:
        """Signature name -> concrete function, as exported."""
        return dict(self._signatures)

    @property
    def action_input_spec(self) -> Tuple[Any, Any]:
        """`(time_step_spec, policy_state_spec)` with the outer batch dim."""
        return (tensor_spec.signature_nest(self._time_step_spec, self._outer),
                tensor_spec.signature_nest(self._state_spec, self._outer))

    @property
    def policy_step_spec(self) -> PolicyStep:
        return self._policy_step_spec

    @property
    def policy_state_spec(self) -> NestedTensorSpec:
        return self._state_spec

    @property
    def distribution_note(self) -> Optional[str]:
        """Why `distribution` is not exported, or None when it is."""
        return self._distribution_note

    @property
    def specs_document(self) -> Dict[str, Any]:
        """The content of `policy_specs.json`."""
        return json.loads(json.dumps(self._document()))

    # ---- writing ----------------------------------------------------------------------------

    def save(self, export_dir: Union[str, os.PathLike],
             options: Optional[tf.saved_model.SaveOptions] = None) -> None:
        """Writes the SavedModel and `policy_specs.json` to `export_dir`, atomically.

        Args:
          export_dir: the directory; an earlier export there is replaced.
          options: `tf.saved_model.SaveOptions`.

        Raises:
          FileExistsError: `export_dir` is a file, or a non-empty directory that
            is not an export (nothing is written).
        """
        document = json.dumps(self._document(), indent=2)
        with atomic.atomic_directory(export_dir, replaceable=_export_document.is_export,
                                      what="an export") as tmp:
            with _signatures.quiet_argument_renaming():
                tf.saved_model.save(self._module, os.fspath(tmp), signatures=self._signatures,
                                    options=options)
            (tmp / SPECS_FILE).write_text(document, encoding="utf-8")

    def save_checkpoint(self, checkpoint_dir: Union[str, os.PathLike],
                        options: Optional[tf.train.CheckpointOptions] = None) -> None:
        """Writes the variables only (`model_variables`, `train_step`, metadata
        variables) to `checkpoint_dir`, atomically; fast, for frequent weight pushes.

        Load it into a served policy with `savers.load(..., checkpoint_path)` or
        `SavedModelPyTFEagerPolicy.update_from_checkpoint`.

        Raises:
          FileExistsError: `checkpoint_dir` is a file, an export, or a non-empty
            directory that is not a checkpoint (nothing is written).
        """
        document = json.dumps(self._checkpoint_document(), indent=2)
        with atomic.atomic_directory(checkpoint_dir,
                                      replaceable=_export_document.is_checkpoint,
                                      what="a checkpoint") as tmp:
            self._checkpoint.write(os.fspath(tmp.joinpath(*_CHECKPOINT_PREFIX)), options=options)
            (tmp / CHECKPOINT_FILE).write_text(document, encoding="utf-8")

    # ---- building -----------------------------------------------------------------------------

    def _build_action(self) -> List[Any]:
        policy, step_spec, out_leaves = self._policy, self._policy_step_spec, self._output_leaves

        def action(time_step: Any, policy_state: Any) -> PolicyStep:
            return policy.action(time_step, policy_state)

        def flat_action(inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
            step = policy.action(*self._unflatten_inputs(inputs))
            return {leaf.name: t for leaf, t in zip(out_leaves, _nests.flat_like(step_spec, step))}

        def positional_action(*flat: tf.Tensor) -> List[tf.Tensor]:
            inputs = {leaf.name: t for leaf, t in zip(self._input_leaves, flat)}
            return _nests.flat_like(step_spec, policy.action(*self._unflatten_inputs(inputs)))

        nested = tf.function(action, input_signature=list(self.action_input_spec),
                             autograph=False)
        self._module.action = nested
        # The same step with positional flat inputs and outputs (both in the
        # signature's order), and, when the step leaves inputs unread, the
        # step of the read ones alone (`action_used`): the fast path of
        # SavedModelPyTFEagerPolicy, which saves a conversion per unread input.
        positional = prune_unused_inputs(
            positional_action, [leaf.spec for leaf in self._input_leaves])
        self._module.action_flat = positional.traced
        self._action_used_inputs = None
        if positional.function is not positional.traced:
            self._module.action_used = positional.function
            self._action_used_inputs = positional.used
        signature = {leaf.name: leaf.spec for leaf in self._input_leaves}
        flat = tf.function(flat_action, input_signature=[signature],
                           autograph=False).get_concrete_function()
        self._signatures["action"] = flat
        self._descriptions["action"] = {"inputs": _signatures.describe(self._input_leaves),
                                        "outputs": _signatures.describe(out_leaves)}
        return [nested.get_concrete_function(), positional.traced, positional.function, flat]

    def _unflatten_inputs(self, inputs: Dict[str, tf.Tensor]) -> Tuple[Any, Any]:
        """`(time_step, policy_state)` from a flat signature's named inputs."""
        return tree.unflatten_as((self._time_step_spec, self._state_spec),
                                 [inputs[leaf.name] for leaf in self._input_leaves])

    def _build_distribution(self) -> List[Any]:
        self._distribution_parameters: List[Dict[str, Any]] = []
        self._distribution_note: Optional[str] = None
        if not self._policy.has_distribution:
            return self._skip_distribution(
                f"{type(self._policy).__name__} has no distribution (it implements only "
                "`_action`)")
        functions = _distribution_parameters.DistributionFunctions(
            self._policy, self._input_leaves, self._state_leaves, self._use_nest_paths,
            self._outer, self._unflatten_inputs)
        try:
            nested, concrete = functions.trace(list(self.action_input_spec))
        except _distribution_parameters.Unrepresentable as e:
            return self._skip_distribution(str(e))
        except Exception as e:  # noqa: BLE001 -- the rest of the export must not fail for it
            return self._skip_distribution(
                f"tracing {type(self._policy).__name__}.distribution raised "
                f"{type(e).__name__}: {e}", level=logging.WARNING)
        self._module.distribution = nested
        self._signatures["distribution"] = concrete[1]
        self._descriptions["distribution"] = {
            "inputs": _signatures.describe(self._input_leaves),
            "outputs": _signatures.describe(functions.outputs)}
        self._distribution_parameters = functions.parameters
        return concrete

    def _skip_distribution(self, note: str, level: int = logging.INFO) -> List[Any]:
        self._distribution_note = note
        self._distribution_parameters = []
        _log.log(level, "PolicySaver: the `distribution` signature is not exported: %s", note)
        return []

    def _set_variables(self, concrete: List[Any]) -> None:
        """`model_variables`: the policy's variables plus any other variable a traced
        function reads (it must be saved for the export to load)."""
        variables = list(self._policy.variables())
        metadata_variables = [value for _, value in sorted(self._metadata.items())
                              if isinstance(value, tf.Variable)]
        known = {id(v) for v in variables + metadata_variables + [self._train_step]}
        extra = []
        for fn in concrete:
            for variable in fn.variables:
                if id(variable) not in known:
                    known.add(id(variable))
                    extra.append(variable)
        if extra:
            _log.info("PolicySaver: the policy's functions read variables that policy.variables() "
                      "does not list; they are saved as model_variables[%d:]: %s",
                      len(variables), [v.name for v in extra])
        self._module.model_variables = variables + extra
        self._module.train_step = self._train_step
        self._module.metadata_variables = metadata_variables
        self._metadata_variable_names = [name for name, value in sorted(self._metadata.items())
                                         if isinstance(value, tf.Variable)]

    # ---- documents ----------------------------------------------------------------------------

    def _document(self) -> Dict[str, Any]:
        return _export_document.export_document(
            policy_class=type(self._policy).__name__, batch_size=self._batch_size,
            use_nest_paths=self._use_nest_paths, time_step_spec=self._time_step_spec,
            action_spec=self._action_spec, policy_state_spec=self._state_spec,
            info_spec=self._info_spec, signatures=self._descriptions,
            distribution_note=self._distribution_note,
            distribution_parameters=self._distribution_parameters,
            model_variables=self._module.model_variables, metadata_names=sorted(self._metadata),
            metadata_variable_names=self._metadata_variable_names,
            action_used_inputs=self._action_used_inputs)

    def _checkpoint_document(self) -> Dict[str, Any]:
        return _export_document.checkpoint_document(
            policy_class=type(self._policy).__name__,
            model_variables=self._module.model_variables, train_step=self._train_step,
            metadata_variable_names=self._metadata_variable_names)
