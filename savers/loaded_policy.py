"""`load_policy`: an export as a real `TFPolicy`, usable wherever a policy is.

`savers.load` returns the raw SavedModel module; `load_policy(export_dir)`
wraps it in `LoadedPolicy`, a `tfpolicy.policies.TFPolicy` subclass, so a
loaded policy can be wrapped (`GreedyPolicy`, `EpsilonGreedyPolicy`,
`GaussianPolicy`, ...), driven (`PyTFEagerPolicy`, the dynamic drivers),
re-exported (`PolicySaver`, `export_lite`) and updated from checkpoints
(`savers.restore_checkpoint(policy, checkpoint_dir)`) without the policy's
Python code. It is the TensorFlow-side twin of `SavedModelPyTFEagerPolicy`,
and calls the exported functions the same way (`savers._export_functions`).

How it maps to the export:

- specs: `time_step_spec`, `action_spec`, `policy_state_spec`, `info_spec`
  are the export's (`policy_specs.json`); `emit_log_probability` is True
  when the exported info carries `log_probability`.
- `action(time_step, policy_state)`: one call of the exported `action` step
  (its flat positional form, without the inputs it never reads). With a
  `seed` and an exported distribution, the action is instead sampled from
  `distribution` with that seed, as `TFPolicy` samples, so it equals the
  original policy's seeded action when that policy sampled its distribution;
  without an exported distribution the seed is ignored (the export takes none).
- `distribution(...)`: the exported `distribution` signature returns only
  distribution parameters; they are rebuilt into `tfp` distributions
  (`Categorical`, shifted to the spec's minimum where exported so,
  `Deterministic`, `Normal`, `Uniform`, `Bernoulli`, `Independent` of
  these). `has_distribution` is False when the export has none
  (`policy_specs.json`'s `distribution.note` says why).
- time steps may be unbatched, `[B]` or `[B, T, ...]`: the export takes
  `[B]`, so the outer dims are folded into one and restored afterwards.
- state: `get_initial_state(batch_size)` is the exported one; the exported
  step resets states on FIRST steps itself when the original policy did.
- `variables()`: the export's `model_variables` (the policy's variables and
  any other variable its functions read), the very variables a checkpoint
  assigns, so `update`, `PolicySaver` and checkpoints see them. `train_step`
  and the metadata variables are not policy variables (as in TF-Agents):
  `get_train_step()`, `get_metadata()`.
- actions of bounded float specs are clipped to the bounds (the `TFPolicy`
  default; a no-op for an export that clipped already).

Usage::

    policy = savers.load_policy("/exports/dqn")
    explore = tfpolicy.policies.EpsilonGreedyPolicy(policy, epsilon=0.1)
    savers.restore_checkpoint(policy, "/checkpoints/dqn-1000")  # new weights

>>> import tempfile
>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from savers.policy_saver import PolicySaver
>>> from tfpolicy.policies import FixedPolicy, TFPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> original = FixedPolicy(2, ts.time_step_spec(TensorSpec([3], tf.float32)),
...                        BoundedTensorSpec([], tf.int32, 0, 4))
>>> export_dir = tempfile.mkdtemp() + "/policy"
>>> PolicySaver(original).save(export_dir)
>>> policy = load_policy(export_dir)
>>> isinstance(policy, TFPolicy), int(policy.action(ts.restart(tf.zeros([3]))).action)
(True, 2)
"""

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import tensorflow as tf
import tree

from savers import _export_functions
from savers import _nests
from savers import _signatures
from savers import _loading
from specs import NestedTensor
from tfpolicy.policies.tf_policy import Seed, TFPolicy
from tfpolicy.trajectories import policy_step
from tfpolicy.trajectories.policy_step import PolicyStep
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["LoadedPolicy", "load_policy"]

PathLike = Union[str, "os.PathLike[str]"]
Splitter = Callable[[NestedTensor], tuple]


class LoadedPolicy(_export_functions.ServedExport, TFPolicy):
    """A policy exported by `PolicySaver`, loaded, behind the `TFPolicy` interface.

    See the module docstring for how each part maps to the export. The export
    itself is `loaded_model` (its description `policy_specs`);
    `update_from_checkpoint(path)` is `savers.restore_checkpoint(policy, path)`.

    Args:
      loaded: what `savers.load` returned (it carries `policy_specs`).
      observation_and_action_constraint_splitter: the original policy's
        splitter (`observation -> (network_observation, mask)`), for wrappers
        that read the mask (`EpsilonGreedyPolicy`); the export does not keep it.
        The exported step applied the mask itself already.
      validate_args: check inputs and outputs against the specs (path-named
        errors; inside `tf.function` at trace time only).
      name: the module's name.

    Raises:
      TypeError: `loaded` is not a module returned by `savers.load`.
    """

    def __init__(self, loaded: Any,
                 observation_and_action_constraint_splitter: Optional[Splitter] = None,
                 validate_args: bool = True, name: Optional[str] = None):
        specs = getattr(loaded, "policy_specs", None)
        if not isinstance(specs, _loading.PolicySpecs):
            raise TypeError(f"LoadedPolicy takes what savers.load returns (a module with "
                            f"`policy_specs`), got {loaded!r}")
        emit = policy_step.get_log_probability(specs.info_spec, None) is not None
        info_spec = policy_step.without_log_probability(specs.info_spec)
        if emit and info_spec == policy_step.PolicyInfo():
            info_spec = ()  # what the original policy had before it added the log-probability
        super().__init__(
            specs.time_step_spec, specs.action_spec, policy_state_spec=specs.policy_state_spec,
            info_spec=info_spec,
            emit_log_probability=emit,
            # The exported step resets the state itself when the original did.
            automatic_state_reset=False,
            observation_and_action_constraint_splitter=observation_and_action_constraint_splitter,
            validate_args=validate_args, name=name)
        self._loaded = loaded
        self._distribution_info_spec = info_spec
        # A list attribute, so `TFPolicy.variables()` (and `update`) find exactly these.
        self._model_variables = list(loaded.model_variables)
        self._action_fn = _export_functions.action_function(loaded)
        self._num_states = len(tree.flatten(specs.policy_state_spec))
        if "distribution" in specs.signatures and specs.distribution_note is None:
            inputs, outputs = specs.signatures["distribution"]
            self._distribution_fn = loaded.signatures["distribution"]
            self._distribution_inputs = [leaf.name for leaf in inputs]
            self._distribution_outputs = [leaf.name for leaf in outputs]
        else:
            self._distribution_fn = None

    # ---- the export ---------------------------------------------------------------------------

    @property
    def has_distribution(self) -> bool:
        """Whether the export has a `distribution` (see `policy_specs.distribution_note`)."""
        return self._distribution_fn is not None

    def get_train_step(self) -> tf.Tensor:
        """The exported (or last restored) train step, an int64 scalar; -1 when none was given."""
        return self._loaded.get_train_step()

    def get_metadata(self) -> Dict[str, tf.Tensor]:
        """The exported metadata, name -> tensor."""
        return dict(self._loaded.get_metadata())

    # ---- TFPolicy hooks -----------------------------------------------------------------------

    def _action(self, time_step: TimeStep, policy_state: NestedTensor, seed: Seed) -> PolicyStep:
        if seed is not None and self._distribution_fn is not None:
            dist_step = self._distribution(time_step, policy_state)
            step = self._sample_step(dist_step, seed)
            if self.emit_log_probability:
                # As `TFPolicy.action` does, of the clipped action, without a second call.
                step = self._with_log_probability(
                    step._replace(action=self._clip_action(step.action)), dist_step.action,
                    time_step)
            return step
        flat, unfold = _fold(time_step, policy_state, self.policy_state_spec)
        outputs = unfold(self._action_fn(*flat))
        return tree.unflatten_as(self.policy_step_spec, list(outputs))

    def _distribution(self, time_step: TimeStep, policy_state: NestedTensor) -> PolicyStep:
        if self._distribution_fn is None:
            raise TypeError(f"the export at hand has no distribution: "
                            f"{self.policy_specs.distribution_note}; call `action` instead")
        flat, unfold = _fold(time_step, policy_state, self.policy_state_spec)
        with _signatures.quiet_argument_renaming():
            out = self._distribution_fn(**dict(zip(self._distribution_inputs, flat)))
        outputs = unfold([out[name] for name in self._distribution_outputs])
        entries = self.policy_specs.distribution_parameters
        distributions = _export_functions.distributions(entries, outputs[:len(entries)],
                                                        self.action_spec)
        state, info = tree.unflatten_as(
            (self.policy_state_spec, self._distribution_info_spec),
            list(outputs[len(entries):]))
        return PolicyStep(distributions, state, info)

    def _get_initial_state(self, batch_size: Union[int, tf.Tensor, None]) -> NestedTensor:
        if not self._num_states:
            return ()
        leaves = _export_functions.initial_state(self._loaded, 1 if batch_size is None
                                                 else batch_size)
        if batch_size is None:
            leaves = [leaf[0] for leaf in leaves]
        return tree.unflatten_as(self.policy_state_spec, leaves)


def _fold(time_step: TimeStep, policy_state: NestedTensor, state_spec: Any
          ) -> Tuple[List[tf.Tensor], Callable[[Sequence[tf.Tensor]], List[tf.Tensor]]]:
    """The flat inputs with their outer dims folded into the one batch dim the export
    takes, and the function that restores them on the flat outputs.

    Args:
      time_step: a `TimeStep` of tensors, outer dims `[..outer]` (the step
        type's shape).
      policy_state: the state nest, `[..outer] + shape` each.
      state_spec: the state spec.

    Returns:
      `(flat inputs [N] + shape each, unfold)`; `unfold` maps outputs
      `[N] + shape` to `[..outer] + shape`.
    """
    flat = tree.flatten(time_step) + _nests.flat_like(state_spec, policy_state)
    rank = time_step.step_type.shape.rank
    if rank == 1:
        return flat, list
    if rank == 0:
        return [tf.expand_dims(x, 0) for x in flat], lambda out: [y[0] for y in out]
    outer = tf.shape(time_step.step_type)

    def fold(x: tf.Tensor) -> tf.Tensor:
        inner = x.shape[rank:]
        shape = [-1] + inner.as_list() if inner.is_fully_defined() else tf.concat(
            [[-1], tf.shape(x)[rank:]], 0)
        return tf.reshape(x, shape)

    def unfold(out: Sequence[tf.Tensor]) -> List[tf.Tensor]:
        return [tf.reshape(y, tf.concat([outer, tf.shape(y)[1:]], 0)) for y in out]

    return [fold(x) for x in flat], unfold


def load_policy(export_dir: PathLike, checkpoint_path: Optional[PathLike] = None, *,
                observation_and_action_constraint_splitter: Optional[Splitter] = None,
                validate_args: bool = True) -> LoadedPolicy:
    """Loads an export written by `PolicySaver.save` as a `TFPolicy`.

    Args:
      export_dir: the export directory.
      checkpoint_path: optionally, a checkpoint whose variables replace the
        exported ones (see `savers.restore_checkpoint`).
      observation_and_action_constraint_splitter, validate_args: as `LoadedPolicy`.

    Returns:
      A `LoadedPolicy` whose specs, action, distribution, initial state and
      variables are the export's (see the module docstring).

    Raises:
      The errors of `savers.load`: FileNotFoundError, NotADirectoryError and
      ValueError for a missing, foreign, corrupt or truncated export or a
      checkpoint that does not match.
    """
    return LoadedPolicy(_loading.load(export_dir, checkpoint_path),
                        observation_and_action_constraint_splitter=(
                            observation_and_action_constraint_splitter),
                        validate_args=validate_args)
