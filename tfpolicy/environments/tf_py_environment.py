"""`TFPyEnvironment`: a `PyEnvironment` presented as TensorFlow tensors.

`reset()`, `step(action)` and `current_time_step()` return `TimeStep`s of
tensors with an outer batch dim `[B]`, both eagerly and inside
`tf.function`, so TF-side loops (the dynamic drivers, a compiled collect
step) can step a numpy environment. An unbatched environment is presented
with batch size 1: its time steps gain a leading dim of 1 and actions must
carry one.

Inside a graph the Python environment runs through `tf.numpy_function`,
and every output gets the static shape `[B] + spec.shape`, so traced code
knows its shapes. Eagerly it is called directly.

Actions are checked against the action spec where they enter: structure,
dtypes, inner shapes and a known batch dim when `step` is called (at trace
time inside `tf.function`), with `TypeError`/`ValueError`s naming the nest
path; bounds by the Python environment when the step runs. Eagerly that
`ValueError` reaches the caller as it is; inside a graph TensorFlow reports
it as an `InvalidArgumentError` whose message holds the original text (path,
spec, offending values), and the dynamic drivers re-raise the original.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.environments.py_environment import PyEnvironment
>>> from tfpolicy.trajectories import time_step as ts
>>> class Ones(PyEnvironment):
...     def observation_spec(self):
...         return ArraySpec((2,), np.float32, name="observation")
...     def action_spec(self):
...         return BoundedArraySpec((), np.int64, 0, 1, name="action")
...     def _reset(self):
...         return ts.restart(np.ones(2, np.float32))
...     def _step(self, action):
...         return ts.termination(np.ones(2, np.float32), reward=float(action))
>>> env = TFPyEnvironment(Ones())
>>> env.batch_size, env.reset().observation.shape
(1, TensorShape([1, 2]))
>>> step = tf.function(env.step)
>>> next_step = step(tf.constant([1], tf.int64))
>>> next_step.step_type.numpy(), next_step.reward.numpy()
(array([2], dtype=int32), array([1.], dtype=float32))
"""

import concurrent.futures
import functools
import multiprocessing.pool
import threading
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tree

from specs import nest_utils
from specs import tensor_spec
from specs import Nest, NestedTensor
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.environments.tf_environment import TFEnvironment
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["TFPyEnvironment", "clear_py_error", "reraise_py_error"]

_RENDER_MODES = ("rgb_array", "human")


class TFPyEnvironment(TFEnvironment):
    """Wraps a `PyEnvironment` so it takes and returns tensors with a batch dim.

    Specs (`time_step_spec()`, `action_spec()`, ...) are the environment's,
    converted to `TensorSpec`s / `BoundedTensorSpec`s, without the batch
    dim. `batched` is always True; `batch_size` is the environment's, or 1
    for an unbatched one.

    Time steps from the environment are converted to their specs' dtypes;
    a leaf of the wrong shape raises `ValueError` naming its path.

    The wrapper is a context manager: `with env:` closes it on exit. Public
    attributes it does not have are looked up on the Python environment
    (`tf_env.get_info()`, say); `render` returns a uint8 tensor.

    Args:
      environment: the `PyEnvironment`, batched or not, or a callable
        returning one (called on the isolation thread when there is one).
      check_dims: also assert, inside a graph, an action batch dim that is
        unknown at trace time (a dim known when `step` is called is always
        checked). Without it the Python environment checks that dim when
        the step runs.
      isolation: True runs every call into the environment on one dedicated
        thread, for environments that must always be used from the thread
        that made them (e.g. some renderers); a `multiprocessing.pool.Pool`
        (or `ThreadPool`) runs them through that pool's `apply`, and is
        left open by `close()`.

    Raises:
      TypeError: `environment` is not a `PyEnvironment` (or a callable
        returning one), or `isolation` is neither a bool nor a pool.
    """

    def __init__(self, environment: Union[PyEnvironment, Callable[[], PyEnvironment]],
                 check_dims: bool = False, isolation: Union[bool, multiprocessing.pool.Pool] = False):
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._pool: Optional[multiprocessing.pool.Pool] = None
        if isinstance(isolation, multiprocessing.pool.Pool):
            self._pool = isolation
        elif isinstance(isolation, (bool, np.bool_)):
            if isolation:
                self._executor = concurrent.futures.ThreadPoolExecutor(1, "TFPyEnvironment")
        else:
            raise TypeError("TFPyEnvironment: isolation must be True, False or a "
                            f"multiprocessing pool, got {type(isolation).__name__}: {isolation!r}")
        if callable(environment) and not isinstance(environment, PyEnvironment):
            environment = self._call_py(environment)
        if not isinstance(environment, PyEnvironment):
            raise TypeError(f"TFPyEnvironment: environment must be a PyEnvironment (or a "
                            f"callable returning one), got {type(environment).__name__}: "
                            f"{environment!r}")
        self._env = environment
        self._check_dims = bool(check_dims)
        self._render_shape: Optional[Tuple[int, ...]] = None
        self._call_py(self._read_specs)
        self._lock = threading.Lock()
        # The original exception of the last failed call from a graph, for
        # `reraise_py_error`; TensorFlow only passes its text on.
        self._py_error: Optional[BaseException] = None

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally. Private names are
        # not forwarded, so a missing internal attribute fails here.
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self._env, name)

    def _read_specs(self) -> None:
        env = self._env
        TFEnvironment.__init__(self, tensor_spec.from_spec(env.time_step_spec()),
                               tensor_spec.from_spec(env.action_spec()),
                               env.batch_size if env.batched else 1)
        self._unbatched = not env.batched
        paths_and_specs = nest_utils.flatten_with_paths(self._time_step_spec)
        self._time_step_paths = [path for path, _ in paths_and_specs]
        self._time_step_specs = [spec for _, spec in paths_and_specs]
        self._time_step_dtypes = [spec.dtype for spec in self._time_step_specs]
        self._time_step_np_dtypes = [np.dtype(d.as_numpy_dtype) for d in self._time_step_dtypes]
        self._time_step_shapes = [(self._batch_size,) + tuple(spec.shape.as_list())
                                  for spec in self._time_step_specs]
        self._pack_time_step = nest_utils.packer(self._time_step_spec)
        self._action_specs = tree.flatten(self._action_spec)
        self._pack_action = nest_utils.packer(self._action_spec)

    # -- specs and properties -----------------------------------------------

    @property
    def pyenv(self) -> PyEnvironment:
        """The wrapped Python environment, as given."""
        return self._env

    # -- stepping --------------------------------------------------------------

    def _current_time_step(self) -> TimeStep:
        """The environment's current time step, resetting it first if it has none.

        Returns:
          A `TimeStep` of tensors, each of shape `[B] + spec.shape`.
        """
        return self._run(self._py_current_time_step, [], "current_time_step")

    def _reset(self) -> TimeStep:
        """Starts new episodes in every batch entry and returns their FIRST steps.

        Returns:
          A `TimeStep` of tensors, each of shape `[B] + spec.shape`.
        """
        return self._run(self._py_reset, [], "reset")

    def _step(self, action: NestedTensor) -> TimeStep:
        """Applies a batch of actions and returns the next time steps (what `step` runs).

        Entries whose previous step was LAST start a new episode instead (the
        environment's auto-reset) and return its FIRST step.

        Args:
          action: a nest matching `action_spec()`, each leaf of shape
            `[B] + spec.shape`; tensors, numpy arrays or nested lists.

        Returns:
          A `TimeStep` of tensors, each of shape `[B] + spec.shape`.

        Raises:
          TypeError: the action's structure or a leaf's dtype differs from the
            spec (the message names the nest path).
          ValueError: a leaf's shape, or a known batch dim, is wrong; or,
            eagerly, a value lies outside the spec's bounds. Inside a graph an
            out-of-bounds value raises `tf.errors.InvalidArgumentError` with
            the same message when the step runs.
        """
        leaves = self._check_action(action)
        return self._run(self._py_step, leaves, "step")

    def render(self, mode: str = "rgb_array") -> tf.Tensor:
        """The environment's `render(mode)` as a uint8 tensor, eagerly or inside a graph.

        The first call resets the environment if it was never reset, and
        renders once in 'rgb_array' mode to learn the image shape; in
        'human' mode the environment draws to its window and an all-zero
        image of that shape is returned.

        Args:
          mode: 'rgb_array' or 'human'.

        Returns:
          A uint8 tensor of the environment's image shape, e.g. `[H, W, 3]`.

        Raises:
          ValueError: `mode` is neither 'rgb_array' nor 'human'.
          AttributeError: the Python environment has no `render`.
        """
        if mode not in _RENDER_MODES:
            raise ValueError(f"TFPyEnvironment.render: mode must be one of {_RENDER_MODES}, "
                             f"got {mode!r}")
        render = self._env.render
        if self._render_shape is None:
            self._call_py(self._py_current_time_step)
            self._render_shape = tuple(np.shape(self._call_py(render, "rgb_array")))

        def py_render() -> np.ndarray:
            image = self._call_py(render, mode)
            if mode == "human":
                return np.zeros(self._render_shape, np.uint8)
            return np.asarray(image).astype(np.uint8, copy=False)

        if tf.executing_eagerly():
            return tf.convert_to_tensor(py_render())
        image = tf.numpy_function(py_render, [], tf.uint8, stateful=True, name="render_py_environment")
        image.set_shape(self._render_shape)
        return image

    # -- lifetime --------------------------------------------------------------

    def close(self) -> None:
        """Closes the Python environment (and the isolation thread, if any)."""
        try:
            self._call_py(self._env.close)
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None

    def __enter__(self) -> "TFPyEnvironment":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------

    def _check_action(self, action: Nest) -> List[Any]:
        """The action's leaves in spec order, checked statically, as spec-dtype values."""
        try:
            outer = nest_utils.check_nest(action, self._action_spec, num_outer_dims=1,
                                          name="action")
        except TypeError as error:
            # As the Python environments do, take integer actions of another
            # integer dtype (TF-Agents' tutorials step int64 specs with int32).
            action = self._with_integer_dtypes(action, error)
            outer = nest_utils.check_nest(action, self._action_spec, num_outer_dims=1,
                                          name="action")
        leaves = tree.flatten_up_to(self._action_spec, action, check_types=False)
        if outer and outer[0] is not None and outer[0] != self._batch_size:
            path, spec = nest_utils.flatten_with_paths(self._action_spec)[0]
            raise ValueError(nest_utils.nest_error_message(
                "action", path,
                f"batch dim {outer[0]} differs from the environment's batch size "
                f"{self._batch_size} (outer dims [{self._batch_size}] expected)",
                spec=spec, value=leaves[0]))
        leaves = [tf.convert_to_tensor(leaf, spec.dtype)
                  for leaf, spec in zip(leaves, self._action_specs)]
        if self._check_dims and outer and outer[0] is None and leaves:
            check = tf.debugging.assert_equal(
                tf.shape(leaves[0])[0], self._batch_size,
                message=f"TFPyEnvironment.step: the action's batch dim differs from the "
                        f"environment's batch size {self._batch_size}")
            with tf.control_dependencies([check]):
                leaves = [tf.identity(leaf) for leaf in leaves]
        return leaves

    def _with_integer_dtypes(self, action: Nest, error: TypeError) -> Nest:
        """`action` with integer leaves of other integer dtypes cast to their spec's
        (asserting, for a narrowing cast, that the values fit); raises `error`
        again if that is not what was wrong."""
        try:
            values = tree.flatten_up_to(self._action_spec, action, check_types=False)
        except (TypeError, ValueError):
            raise error from None
        converted, changed = [], False
        for value, spec in zip(values, self._action_specs):
            if getattr(value, "dtype", None) is not None and not isinstance(value, tf.Tensor):
                value = tf.convert_to_tensor(value)
            if (isinstance(value, tf.Tensor) and value.dtype != spec.dtype
                    and value.dtype.is_integer and spec.dtype.is_integer):
                if value.dtype.max > spec.dtype.max or value.dtype.min < spec.dtype.min:
                    checks = [tf.debugging.assert_less_equal(
                                  value, tf.cast(spec.dtype.max, value.dtype),
                                  message=f"action: value(s) above the maximum of {spec.dtype.name}"),
                              tf.debugging.assert_greater_equal(
                                  value, tf.cast(spec.dtype.min, value.dtype),
                                  message=f"action: value(s) below the minimum of {spec.dtype.name}")]
                    with tf.control_dependencies(checks):
                        value = tf.identity(value)
                value, changed = tf.cast(value, spec.dtype), True
            converted.append(value)
        if not changed:
            raise error
        return self._pack_action(converted)

    def _run(self, py_fn: Callable[..., List[np.ndarray]], inputs: Sequence[Any],
             name: str) -> TimeStep:
        if tf.executing_eagerly():
            outputs = self._call_py(py_fn, *[np.asarray(x) for x in inputs])
            tensors = [tf.convert_to_tensor(o) for o in outputs]
        else:
            tensors = tf.numpy_function(functools.partial(self._call_recording, py_fn), list(inputs),
                                        self._time_step_dtypes, stateful=True,
                                        name=f"{name}_py_environment")
            for tensor, shape in zip(tensors, self._time_step_shapes):
                tensor.set_shape(shape)
        return self._pack_time_step(tensors)

    def _call_recording(self, py_fn: Callable[..., List[np.ndarray]],
                        *args: np.ndarray) -> List[np.ndarray]:
        """`py_fn(*args)` from a graph, keeping a copy of the exception if it fails."""
        try:
            return self._call_py(py_fn, *args)
        except Exception as error:
            self._py_error = error
            raise

    def _call_py(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._pool is not None:
            return self._pool.apply(fn, args)
        if self._executor is None:
            return fn(*args)
        return self._executor.submit(fn, *args).result()

    def _exclusive(self) -> threading.Lock:
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(
                "TFPyEnvironment was called from two places at once; a Python environment "
                "is not thread-safe, so order the calls (e.g. with control dependencies)")
        return self._lock

    def _py_current_time_step(self) -> List[np.ndarray]:
        lock = self._exclusive()
        try:
            time_step = self._env.current_time_step()
            if time_step is None:
                time_step = self._env.reset()
            return self._flatten_time_step(time_step)
        finally:
            lock.release()

    def _py_reset(self) -> List[np.ndarray]:
        lock = self._exclusive()
        try:
            return self._flatten_time_step(self._env.reset())
        finally:
            lock.release()

    def _py_step(self, *flat_action: np.ndarray) -> List[np.ndarray]:
        lock = self._exclusive()
        try:
            if self._unbatched:
                for leaf in flat_action:
                    if np.shape(leaf)[:1] != (1,):
                        raise ValueError(
                            f"action: the environment is unbatched (presented with batch size "
                            f"1), but an action leaf has shape {np.shape(leaf)}")
                flat_action = [leaf[0] for leaf in flat_action]
            time_step = self._env.step(self._pack_action(list(flat_action)))
            return self._flatten_time_step(time_step)
        finally:
            lock.release()

    def _flatten_time_step(self, time_step: TimeStep) -> List[np.ndarray]:
        """The time step's leaves as arrays of the spec's dtypes and `[B]`-batched shapes."""
        leaves = tree.flatten(time_step)
        if len(leaves) != len(self._time_step_specs):
            nest_utils.assert_same_structure(time_step, self._time_step_spec,
                                             f"{type(self._env).__name__}'s time step")
            raise ValueError(
                f"{type(self._env).__name__} returned a time step with {len(leaves)} leaves, "
                f"but its time_step_spec() has {len(self._time_step_specs)}: {time_step!r}")
        out = []
        for i, leaf in enumerate(leaves):
            array = np.asarray(leaf, self._time_step_np_dtypes[i])
            expected = self._time_step_shapes[i][1:] if self._unbatched else self._time_step_shapes[i]
            if array.shape != expected:
                raise ValueError(nest_utils.nest_error_message(
                    "returned time step", self._time_step_paths[i],
                    f"has shape {array.shape}; expected shape {expected} for "
                    f"{self._time_step_specs[i]!r}", owner=type(self._env).__name__))
            out.append(array[np.newaxis] if self._unbatched else array)
        return out


def reraise_py_error(env: Any, error: BaseException) -> None:
    """Raises the Python exception behind `error` if `env` recorded one, else nothing.

    For callers that run a `TFPyEnvironment` inside a graph and catch
    `tf.errors.OpError`: TensorFlow keeps only the text of an exception
    raised in the Python environment (an action out of bounds, say), and
    this raises the original `ValueError` or `TypeError` again, chained to
    `error`. Does nothing for other environments or when nothing was
    recorded. Call `clear_py_error(env)` before running the graph, so an
    exception recorded by an earlier run is not raised instead.

    Args:
      env: the environment the graph stepped; any object.
      error: the `tf.errors.OpError` caught around the graph's run.

    Raises:
      Exception: the recorded exception, with `error` as its cause.
    """
    original = getattr(env, "_py_error", None) if isinstance(env, TFPyEnvironment) else None
    if original is None:
        return
    env._py_error = None
    raise original from error


def clear_py_error(env: Any) -> None:
    """Forgets a recorded Python exception of `env` (see `reraise_py_error`).

    Args:
      env: any object; only a `TFPyEnvironment` records exceptions.
    """
    if isinstance(env, TFPyEnvironment):
        env._py_error = None
