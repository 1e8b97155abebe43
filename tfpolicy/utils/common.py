"""The everyday helpers of `tf_agents.utils.common`, for TF2 eager and Keras 3.

Same names, signatures and defaults as TF-Agents, so `from tfpolicy.utils
import common` replaces `from tf_agents.utils import common`:

- `create_variable`: a `tf.Variable` (an int64 scalar 0 by default, e.g. a step counter);
- `function`: `tf.function` with autograph off and retracing reduced by default;
- `soft_variables_update`: `target = tau * source + (1 - tau) * target`, pair by pair;
- `has_eager_been_enabled`: whether the outermost context runs eagerly;
- `element_wise_squared_loss`, `element_wise_huber_loss`: the per-element
  TD losses TF-Agents' DQN examples pass as `td_errors_loss_fn`;
- `scale_to_spec`: `[-1, 1]` onto a bounded spec, for actor networks;
- `Checkpointer`: numbered checkpoints (`ckpt-<step>`) of named objects on
  `tf.train.CheckpointManager`, Keras 3 variables included.

TF1 notions (graph collections, sessions, graph-unique names) have no TF2
meaning; the arguments that carry them are accepted and their docstrings say
what becomes of them.

>>> step = create_variable("train_step")
>>> step.dtype.name, int(step.assign_add(3))
('int64', 3)
>>> target = [tf.Variable(0.0)]
>>> soft_variables_update([tf.Variable(4.0)], target, tau=0.25)
>>> float(target[0])
1.0
"""

import glob
import logging
import os
import shutil
from typing import Any, Dict, Iterable, Iterator, Optional, Sequence, Tuple, Union

import keras
import tensorflow as tf

from tfpolicy import _soft_update
from tfpolicy import _variables

__all__ = [
    "Checkpointer",
    "create_variable",
    "element_wise_huber_loss",
    "element_wise_squared_loss",
    "function",
    "has_eager_been_enabled",
    "scale_to_spec",
    "soft_variables_update",
]

_logger = logging.getLogger(__name__)

AnyVariable = Union[tf.Variable, keras.Variable]


# ---- variables -------------------------------------------------------------------------------


def create_variable(name: str, initial_value: Any = 0, shape: Any = (),
                    dtype: tf.DType = tf.int64, use_local_variable: bool = False,
                    trainable: bool = False, initializer: Any = None,
                    unique_name: bool = True) -> tf.Variable:
    """Creates a `tf.Variable` (by default a non-trainable int64 scalar holding 0).

    Args:
      name: the variable's name (a label: TF2 never looks variables up by name).
      initial_value: the value, broadcast to `shape` when `shape` is non-empty;
        ignored when `initializer` is given.
      shape: the variable's shape; `()` or None for the shape of `initial_value`.
      dtype: the variable's dtype.
      use_local_variable: no effect in TF2. In TF1 it put the variable in the
        `LOCAL_VARIABLES` graph collection (initialized by the local init op
        and left out of the default `Saver`); TF2 has no graph collections, and
        the variable is saved by any checkpoint that tracks it, like any other.
      trainable: whether optimizers and `trainable_variables` consider it.
      initializer: a callable `initializer(shape, dtype)` returning the initial
        value (e.g. a `keras.initializers` instance), or a value to use as is.
      unique_name: no effect in TF2. In TF1 it made `name` unique in the graph
        (`name_1`, ...); eager variables may share names, so `name` is used as given.

    Returns:
      The new `tf.Variable`.
    """
    del use_local_variable, unique_name  # TF1-only, see the docstring
    if initializer is None:
        if shape:
            value = tf.constant(initial_value, shape=shape, dtype=dtype)
        else:
            value = tf.convert_to_tensor(initial_value, dtype=dtype)
    elif callable(initializer):
        value = lambda: initializer(shape, dtype)  # noqa: E731
    else:
        value = initializer
    return tf.Variable(value, trainable=trainable, dtype=dtype, name=name)


def _collected(variable: AnyVariable, side: str) -> _variables.CollectedVariable:
    """The `tf.Variable` behind `variable` (Keras 3 variables unwrapped) and its trainability."""
    if isinstance(variable, keras.Variable):
        return _variables.CollectedVariable(variable.value, bool(variable.trainable))
    if isinstance(variable, tf.Variable):
        return _variables.CollectedVariable(variable, bool(variable.trainable))
    raise TypeError(f"soft_variables_update: the {side} variables must be tf.Variables or Keras "
                    f"variables, got a {type(variable).__name__}: {variable!r}")


def _check_weight(name: str, value: Any) -> None:
    if isinstance(value, (int, float)) and not 0.0 <= value <= 1.0:
        raise ValueError(f"soft_variables_update: `{name}` must be in [0, 1], got {value}")


def soft_variables_update(source_variables: Sequence[AnyVariable],
                          target_variables: Sequence[AnyVariable],
                          tau: Union[float, tf.Tensor] = 1.0,
                          tau_non_trainable: Union[float, tf.Tensor, None] = None,
                          sort_variables_by_name: bool = False) -> None:
    """Moves each target towards its source: `target = tau * source + (1 - tau) * target`.

    `tau = 1` (the default) copies the sources; a small `tau` is the Polyak
    update of a target network. Variables are paired by position (or by name
    with `sort_variables_by_name`). Integer and bool variables cannot be
    blended: they are copied when their weight is exactly 1 and otherwise kept.

    Args:
      source_variables: the variables to move towards (`tf.Variable`s or Keras
        3 variables, e.g. `network.variables` or `policy.variables()`).
      target_variables: the variables to assign, as many as the sources.
      tau: the sources' weight for trainable targets, in [0, 1].
      tau_non_trainable: the same for non-trainable targets; `tau` if None.
      sort_variables_by_name: pair the variables by sorted (TensorFlow) name
        instead of by position.

    Returns:
      None. The assignments happen at once in eager mode and, inside
      `tf.function`, through automatic control dependencies; TF-Agents returns
      `tf.group(...)`, which is also None in eager mode and is not needed in a
      `tf.function`.

    Raises:
      ValueError: a Python `tau` or `tau_non_trainable` outside [0, 1]; lists of
        different lengths, or a pair that differs in shape or dtype (the
        message names both variables of every such pair).
      TypeError: an element that is not a variable.
    """
    _check_weight("tau", tau)
    _check_weight("tau_non_trainable", tau_non_trainable)
    sources = [_collected(v, "source") for v in source_variables]
    targets = [_collected(v, "target") for v in target_variables]
    if sort_variables_by_name:
        sources = sorted(sources, key=lambda c: c.variable.name)
        targets = sorted(targets, key=lambda c: c.variable.name)
    _soft_update.soft_update(sources, targets, tau, tau_non_trainable)


# ---- tf.function -----------------------------------------------------------------------------


def function(*args: Any, autograph: bool = False, **kwargs: Any) -> Any:
    """`tf.function` with TF-Agents' defaults: autograph off, retracing reduced.

    Works as `@function`, `@function(...)` and `function(fn, ...)`. Without
    autograph, Python control flow on tensors (`if x > 0:`) raises
    `tf.errors.OperatorNotAllowedInGraphError` while tracing; use `tf.cond`
    and `tf.while_loop`, or pass `autograph=True`.

    Args:
      *args: `tf.function`'s positional arguments (the function, if any).
      autograph: whether to convert Python control flow into graph ops.
      **kwargs: `tf.function`'s keyword arguments. `reduce_retracing` defaults
        to True; the deprecated `experimental_relax_shapes` is accepted and
        passed on as `reduce_retracing`.

    Returns:
      The `tf.function`, or a decorator making one when no function is given.

    Raises:
      TypeError: both `experimental_relax_shapes` and `reduce_retracing` given.
    """
    if "experimental_relax_shapes" in kwargs:
        if "reduce_retracing" in kwargs:
            raise TypeError("function: give `reduce_retracing` or its old name "
                            "`experimental_relax_shapes`, not both")
        kwargs["reduce_retracing"] = kwargs.pop("experimental_relax_shapes")
    kwargs.setdefault("reduce_retracing", True)
    return tf.function(*args, autograph=autograph, **kwargs)


def has_eager_been_enabled() -> bool:
    """Whether the outermost context runs eagerly: True in TF2, even inside `tf.function`."""
    with tf.init_scope():
        return bool(tf.executing_eagerly())


# ---- losses and action scaling -----------------------------------------------------------------


def element_wise_squared_loss(x: Any, y: Any) -> tf.Tensor:
    """`(x - y)^2` element by element, no reduction (TF-Agents' DQN `td_errors_loss_fn`).

    Args:
      x, y: tensors of the same shape `[...]`.

    Returns:
      A tensor of that shape.

    >>> element_wise_squared_loss(tf.constant([1.0, -2.0]), tf.constant([0.0, 1.0])).numpy()
    array([1., 9.], dtype=float32)
    """
    return tf.math.squared_difference(tf.convert_to_tensor(x), tf.convert_to_tensor(y))


def element_wise_huber_loss(x: Any, y: Any) -> tf.Tensor:
    """The Huber loss of `d = x - y` element by element, with threshold 1, no reduction:
    `0.5 * d^2` where `|d| <= 1`, `|d| - 0.5` elsewhere.

    Args:
      x, y: tensors of the same shape `[...]`.

    Returns:
      A tensor of that shape.

    >>> element_wise_huber_loss(tf.constant([0.5, 3.0]), tf.constant([0.0, 0.0])).numpy()
    array([0.125, 2.5  ], dtype=float32)
    """
    d = tf.abs(tf.convert_to_tensor(x) - tf.convert_to_tensor(y))
    return tf.where(d <= 1.0, 0.5 * tf.square(d), d - 0.5)


def scale_to_spec(tensor: Any, spec: Any) -> tf.Tensor:
    """Maps values in `[-1, 1]` affinely onto a bounded spec's `[minimum, maximum]`:
    `(maximum + minimum) / 2 + (maximum - minimum) / 2 * tensor`.

    Args:
      tensor: `[..., *spec.shape]`, typically a `tanh` output.
      spec: a bounded spec (its bounds broadcast against `tensor`).

    Returns:
      The scaled tensor, in `tensor`'s dtype.

    Raises:
      TypeError: `spec` has no bounds.

    >>> from specs import BoundedTensorSpec
    >>> scale_to_spec(tf.constant([-1.0, 0.0, 1.0]),
    ...               BoundedTensorSpec([3], tf.float32, -2.0, 4.0)).numpy()
    array([-2.,  1.,  4.], dtype=float32)
    """
    if not (hasattr(spec, "minimum") and hasattr(spec, "maximum")):
        raise TypeError(f"scale_to_spec needs a bounded spec, got {spec!r}")
    tensor = tf.convert_to_tensor(tensor)
    minimum = tf.constant(spec.minimum, tensor.dtype)
    maximum = tf.constant(spec.maximum, tensor.dtype)
    return (maximum + minimum) / 2.0 + (maximum - minimum) / 2.0 * tensor


# ---- checkpoints -----------------------------------------------------------------------------

# The key under which the Checkpointer saves variables the checkpoint graph does not reach.
_UNTRACKED_KEY = "tfpolicy_untracked_variables"
_VARIABLE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


def _escape(name: str) -> str:
    """A child name as TensorFlow writes it in checkpoint keys."""
    return name.replace(".", ".S").replace("/", "./")


def _is_variable(obj: Any) -> bool:
    return isinstance(obj, (tf.Variable, keras.Variable))


def _walk(root: Any) -> Iterator[Tuple[str, Any]]:
    """`(path, object)` for every object reachable from `root`, breadth first, each once."""
    seen = {id(root)}
    queue = [("", root)]
    while queue:
        path, obj = queue.pop(0)
        yield path, obj
        if _is_variable(obj):
            continue
        for name, child in tf.train.TrackableView(obj).children(obj).items():
            if id(child) not in seen:
                seen.add(id(child))
                queue.append((f"{path}/{_escape(name)}" if path else _escape(name), child))


def _shape_text(shape: Any) -> str:
    return str(tuple(tf.TensorShape(shape).as_list()))


class Checkpointer:
    """Saves and restores named objects (agent, policy, replay buffer, step) as `ckpt-<step>`.

    A `tf.train.CheckpointManager` over `tf.train.Checkpoint(**kwargs)`. The
    latest checkpoint in `ckpt_dir`, if any, is restored when the
    `Checkpointer` is built (as TF-Agents does); `initialize_or_restore`
    returns that restore's status.

    Keras 3 variables the checkpoint graph does not reach (e.g. a Dropout
    layer's seed state inside a Keras model) are found with the same walk
    policies and networks use for `variables()` and saved under the extra key
    `tfpolicy_untracked_variables`, so everything a policy or network reports
    as its variables is saved and restored. Such variables must exist when
    the `Checkpointer` is built to be restored; variables the checkpoint graph
    does reach are also restored later, when created (TF's deferred restoration).

    Atomicity: a reader never sees a partial checkpoint. TensorFlow writes the
    data under `ckpt-<step>_temp/`, moves it to `ckpt-<step>.data-*`, writes
    `ckpt-<step>.index`, and only then replaces the `checkpoint` state file
    (write to a temporary file, then rename), so `latest_checkpoint` and the
    listed checkpoints are always complete ones. A failed `save` leaves the
    previous checkpoints listed and restorable, and this class deletes the
    failed attempt's files. The exception is saving a step number that is
    already a listed checkpoint: its files are then overwritten in place.

    Args:
      ckpt_dir: the directory of the checkpoints, created if missing.
      max_to_keep: how many checkpoints to keep; older ones are deleted.
      **kwargs: the trackables to save, by name (`agent=`, `policy=`,
        `replay_buffer=`, `global_step=`, ...).

    Raises:
      FileExistsError: `ckpt_dir` exists and is not a directory.
      ValueError: a kwarg named `tfpolicy_untracked_variables`; the latest
        checkpoint does not fit the objects (the message names the variable
        and both shapes or dtypes).
    """

    def __init__(self, ckpt_dir: Union[str, "os.PathLike[str]"], max_to_keep: int = 20,
                 **kwargs: Any):
        directory = os.fspath(ckpt_dir)
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise FileExistsError(
                f"Checkpointer: ckpt_dir {directory} exists and is not a directory; "
                "give a directory (it is created if missing)")
        if _UNTRACKED_KEY in kwargs:
            raise ValueError(f"Checkpointer: `{_UNTRACKED_KEY}` is reserved for the variables "
                             "the Checkpointer collects itself; name the object differently")
        self._objects: Dict[str, Any] = dict(kwargs)
        self._untracked = tf.Module(name="untracked_variables")
        self._checkpoint = tf.train.Checkpoint(**kwargs, **{_UNTRACKED_KEY: self._untracked})
        self._collect_untracked()
        os.makedirs(directory, exist_ok=True)
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, directory=directory, max_to_keep=max_to_keep)
        latest = self._manager.latest_checkpoint
        self._checkpoint_exists = latest is not None
        if latest is None:
            _logger.info("No checkpoint available at %s", directory)
        else:
            _logger.info("Restoring checkpoint %s", latest)
            self._check_compatible(latest)
        self._load_status = self._restore(latest)

    @property
    def checkpoint_exists(self) -> bool:
        """Whether a checkpoint was found at construction or has been saved since."""
        return self._checkpoint_exists

    @property
    def manager(self) -> tf.train.CheckpointManager:
        """The underlying `tf.train.CheckpointManager`."""
        return self._manager

    def initialize_or_restore(self, session: Any = None) -> Any:
        """Returns the status of restoring the latest checkpoint (done at construction).

        Args:
          session: unused: TF2 has no sessions and eager variables are
            initialized when created (TF-Agents passes it on to the status,
            which also ignores it in eager mode).

        Returns:
          The load status of `tf.train.Checkpoint.restore`: with a checkpoint,
          one whose `assert_consumed()` / `assert_existing_objects_matched()`
          can check what was restored; without one, an initialization-only status.
        """
        self._load_status.initialize_or_restore(session)
        return self._load_status

    def save(self, global_step: Union[int, tf.Tensor, tf.Variable],
             options: Optional[tf.train.CheckpointOptions] = None) -> str:
        """Writes `ckpt-<global_step>` and prunes to the newest `max_to_keep`.

        Args:
          global_step: the checkpoint's number: an integer, or an integer
            scalar tensor or variable (read now).
          options: `tf.train.CheckpointOptions`, passed on.

        Returns:
          The new checkpoint's prefix (`<ckpt_dir>/ckpt-<step>`).

        Raises:
          TypeError: `global_step` is not an integer.
          Whatever writing raised, after deleting the failed attempt's files;
          the previous checkpoints are then still listed and restorable.
        """
        number = self._step_number(global_step)
        self._collect_untracked()
        prefix = os.path.join(self._manager.directory, f"ckpt-{number}")
        was_listed = os.path.abspath(prefix) in {os.path.abspath(p)
                                                 for p in self._manager.checkpoints}
        try:
            path = self._manager.save(checkpoint_number=number, options=options)
        except BaseException:
            self._remove_partial(prefix, keep_final=was_listed)
            raise
        self._checkpoint_exists = True
        _logger.info("Saved checkpoint %s", path)
        return path

    # ---- internals -------------------------------------------------------------------------

    @staticmethod
    def _step_number(global_step: Any) -> int:
        if isinstance(global_step, bool):
            raise TypeError(f"Checkpointer.save: global_step must be an integer, got {global_step}")
        if isinstance(global_step, int):
            return global_step
        value = tf.convert_to_tensor(global_step)
        if not value.dtype.is_integer or value.shape.rank != 0:
            raise TypeError("Checkpointer.save: global_step must be an integer scalar, got "
                            f"{value.dtype.name}{value.shape.as_list()}")
        return int(value.numpy())

    def _collect_untracked(self) -> None:
        """Adds, per object, the variables `collect_variables` finds but the graph misses."""
        covered = set()
        for _, obj in _walk(tf.train.Checkpoint(**self._objects)):
            covered.add(id(obj))
            if isinstance(obj, keras.Variable):
                covered.add(id(obj.value))
        by_object = {}
        for name, obj in self._objects.items():
            missing = [c.variable for c in _variables.collect_variables(obj)
                       if id(c.variable) not in covered]
            covered.update(id(v) for v in missing)
            if missing:
                by_object[name] = missing
        self._untracked.by_object = by_object

    def _variable_keys(self) -> Iterable[Tuple[str, AnyVariable]]:
        for path, obj in _walk(self._checkpoint):
            if _is_variable(obj):
                yield path + _VARIABLE_SUFFIX, obj

    def _check_compatible(self, path: str) -> None:
        """Raises ValueError naming the first variable whose shape or dtype differs from `path`'s."""
        reader = tf.train.load_checkpoint(path)
        shapes = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
        for key, var in self._variable_keys():
            if key not in shapes:
                continue
            name = key[: -len(_VARIABLE_SUFFIX)]
            ours = tf.TensorShape(var.shape)
            if not ours.is_compatible_with(shapes[key]):
                raise ValueError(
                    f"cannot restore checkpoint {path}: variable {name} has shape "
                    f"{_shape_text(shapes[key])} in the checkpoint but shape {_shape_text(ours)} "
                    "here; build the objects as they were when it was saved")
            ours_dtype = tf.as_dtype(var.dtype)
            if ours_dtype != dtypes[key]:
                raise ValueError(
                    f"cannot restore checkpoint {path}: variable {name} has dtype "
                    f"{dtypes[key].name} in the checkpoint but {ours_dtype.name} here")

    def _restore(self, path: Optional[str]) -> Any:
        try:
            return self._checkpoint.restore(path)
        except (ValueError, tf.errors.InvalidArgumentError) as e:
            if path is None:
                raise
            raise ValueError(f"cannot restore checkpoint {path} into the given objects: "
                             f"{getattr(e, 'message', None) or e}") from e

    @staticmethod
    def _remove_partial(prefix: str, keep_final: bool) -> None:
        """Deletes what a failed save of `prefix` left: its temporary directory and, unless
        `prefix` was an existing checkpoint, its data and index files."""
        shutil.rmtree(prefix + "_temp", ignore_errors=True)
        if keep_final:
            return
        for leftover in glob.glob(glob.escape(prefix) + ".data-*") + [prefix + ".index"]:
            try:
                os.remove(leftover)
            except FileNotFoundError:
                pass
