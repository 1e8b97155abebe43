"""`SavedModelPyTFEagerPolicy`: an exported policy behind the numpy `PyPolicy` interface.

It serves a SavedModel written by `PolicySaver` without the policy's Python
code: numpy time step in, numpy policy step out, with the specs read from the
export's `policy_specs.json` unless given. Per step it does what
`tfpolicy.policies.PyTFEagerPolicy` does and no more:

1. flatten the time step and state against the specs (one dm-tree call)
   and, for unbatched use, add a batch dim (numpy views, no copies);
2. when the leaves' shapes and dtypes differ from the last call's, check
   them against the specs (path-named errors) and the export's batch size;
3. call the exported `action` signature with the flat arrays by name;
4. convert the flat outputs to numpy and drop the batch dim.

`update_from_checkpoint` pushes new weights (a `PolicySaver.save_checkpoint`
directory) into the served model, all or nothing.

>>> import tempfile
>>> import numpy as np
>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from savers.policy_saver import PolicySaver
>>> from tfpolicy.policies import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> tf_policy = FixedPolicy(3, ts.time_step_spec(TensorSpec([2], tf.float32, "obs")),
...                         BoundedTensorSpec([], tf.int32, 0, 4, "action"))
>>> export_dir = tempfile.mkdtemp() + "/policy"
>>> PolicySaver(tf_policy).save(export_dir)
>>> policy = SavedModelPyTFEagerPolicy(export_dir)
>>> step = policy.action(ts.restart(np.zeros(2, np.float32)))
>>> step.action, step.info.log_probability
(array(3, dtype=int32), array(0., dtype=float32))
"""

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tree

from savers import _export_functions
from savers import _loading
from specs import nest_utils
from specs import tensor_spec
from specs import NestedArray, NestedSpec
from tfpolicy.policies.flat_bridge import FlatBridge, Runner
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["SavedModelPyTFEagerPolicy"]

PathLike = Union[str, "os.PathLike[str]"]


class SavedModelPyTFEagerPolicy(_export_functions.ServedExport, FlatBridge):
    """Runs an exported policy on numpy inputs and returns numpy outputs.

    Args:
      model_path: the export directory (`PolicySaver.save`).
      time_step_spec, action_spec, policy_state_spec, info_spec: the specs;
        None (the default) reads each from the export. Given specs must have
        the exported structure, dtypes and shapes (names and bounds may differ).
      load_specs_from_pbtxt, use_tf_function: accepted so TF-Agents calls keep
        working, and without effect: specs not given always come from
        `policy_specs.json` (TF-Agents read them only with
        `load_specs_from_pbtxt=True`), and the exported signature is always a
        compiled function.
      batch_time_steps: the caller passes unbatched time steps and states and
        gets unbatched steps back (a batch dim of 1 is added and removed), as
        `PyTFEagerPolicy` does by default. False: batched `[B]` inputs.
      checkpoint_path: optionally, a checkpoint to assign after loading.
      validate_args: check inputs against the specs (once per input signature).

    Raises:
      The errors of `savers.load`; ValueError for given specs that do not
      match the export.
    """

    def __init__(self, model_path: PathLike, time_step_spec: Optional[TimeStep] = None,
                 action_spec: Optional[NestedSpec] = None,
                 policy_state_spec: Optional[NestedSpec] = None,
                 info_spec: Optional[NestedSpec] = None, load_specs_from_pbtxt: bool = False,
                 use_tf_function: bool = True, batch_time_steps: bool = True,
                 checkpoint_path: Optional[PathLike] = None, validate_args: bool = True):
        del load_specs_from_pbtxt, use_tf_function  # see the docstring
        loaded = _loading.load(model_path, checkpoint_path)
        exported = loaded.policy_specs
        chosen = []
        for given, spec, what in ((time_step_spec, exported.time_step_spec, "time_step_spec"),
                                  (action_spec, exported.action_spec, "action_spec"),
                                  (policy_state_spec, exported.policy_state_spec,
                                   "policy_state_spec"),
                                  (info_spec, exported.info_spec, "info_spec")):
            if given is None:
                chosen.append(spec)
            else:
                nest_utils.check_compatible_specs(
                    tensor_spec.from_spec(given), spec, what, given_name="the given spec",
                    expected_name="the export")
                chosen.append(given)
        super().__init__(*chosen, observation_and_action_constraint_splitter=None,
                         validate_args=validate_args, batch_time_steps=batch_time_steps)
        self._loaded = loaded
        self._model_path = os.fspath(model_path)
        self._batch_size = exported.batch_size
        self._action_fn = _export_functions.action_function(loaded)

    def _runner_for(self, outer: Tuple[int, ...], leaves: Sequence[Any]) -> Runner:
        self._check_batch_size(outer[0])
        return self._function_runner(self._action_fn, leaves)

    def _check_batch_size(self, batch_size: Optional[int]) -> None:
        self._check_fixed_batch(self._batch_size, batch_size, f"the policy at {self._model_path}")

    def get_initial_state(self, batch_size: Optional[int] = None) -> NestedArray:
        """The exported initial state as numpy: unbatched for None, else `[batch_size]`."""
        n = 1 if batch_size is None else int(batch_size)
        self._check_batch_size(n)
        values = [v.numpy() for v in _export_functions.initial_state(self._loaded, n)]
        if batch_size is None:
            values = [v[0, ...] for v in values]
        return tree.unflatten_as(self.policy_state_spec, values)

    def get_train_step(self) -> int:
        """The exported (or last pushed) train step; -1 when none was given."""
        return int(self._loaded.get_train_step().numpy())

    def get_metadata(self) -> Dict[str, np.ndarray]:
        """The exported metadata, name -> numpy value."""
        return {name: value.numpy() for name, value in self._loaded.get_metadata().items()}

    def variables(self) -> List[tf.Variable]:
        """The served model's variables (`model_variables`)."""
        return list(self._loaded.model_variables)
