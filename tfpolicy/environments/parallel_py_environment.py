"""`ParallelPyEnvironment`: N environments stepped together, each in a worker process.

For slow environments (simulators, game engines); for cheap ones such as
CartPole the serial `BatchedPyEnvironment` is faster, as each step costs a
pipe round trip per worker. Workers start with the "forkserver" method (or
"spawn"; "fork" is unsafe with TensorFlow), so constructors are pickled:
module-level classes or functions, or `functools.partial`s of them (a
script needs the `if __name__ == "__main__":` guard). The forkserver
imports this module (and TensorFlow) once, not each worker.

>>> import functools
>>> from tfpolicy.environments.gymnasium_wrapper import load
>>> with ParallelPyEnvironment(
...         [functools.partial(load, "CartPole-v1", seed=i) for i in range(2)]) as env:
...     print(env.batch_size, env.reset().step_type, env.step(np.array([0, 1])).step_type)
2 [0 0] [1 1]
"""

import multiprocessing
import pickle
import select
import signal
import traceback
import weakref
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np
import tree

from specs import nest_utils
from specs import NestedArray, NestedArraySpec
from tfpolicy.environments.batched_py_environment import check_same_specs
from tfpolicy.environments.py_environment import PyEnvironment
from tfpolicy.trajectories.time_step import TimeStep

__all__ = ["EnvConstructor", "ParallelPyEnvironment", "ProcessPyEnvironment", "Promise"]

EnvConstructor = Callable[[], PyEnvironment]
Promise = Callable[[], Any]

_START_METHODS = ("forkserver", "spawn")
_POLL_SECONDS = 1.0  # how often a wait for a reply checks that the worker lives
_CLOSE_SECONDS = 5.0  # how long `close` waits before terminating a worker


class _RemoteTraceback(Exception):
    """A worker's traceback text, the `__cause__` of its error raised here."""


def _context(mp_context: Optional[str]) -> Any:
    if mp_context is None:
        forkserver = "forkserver" in multiprocessing.get_all_start_methods()
        mp_context = "forkserver" if forkserver else "spawn"
    if mp_context not in _START_METHODS:
        raise ValueError(f"mp_context must be one of {list(_START_METHODS)} or None, got "
                         f"{mp_context!r} ('fork' is unsafe once TensorFlow is loaded)")
    context = multiprocessing.get_context(mp_context)
    if mp_context == "forkserver":
        # Read when the forkserver starts: it imports TensorFlow once, not each worker.
        context.set_forkserver_preload(["__main__", __name__])
    return context


def _describe_error(error: BaseException) -> Tuple[Optional[bytes], str]:
    """(the pickled exception, or None if it cannot make the trip; the traceback text)."""
    try:
        pickled: Optional[bytes] = pickle.dumps(error)
    except Exception:
        pickled = None
    return pickled, "".join(traceback.format_exception(type(error), error, error.__traceback__))


def _serve(env: PyEnvironment, command: str, payload: Any, pack_action: Any) -> Any:
    if command == "step_checked":  # checked in the parent
        return tree.flatten(env.step_unchecked(pack_action(payload) if pack_action else payload))
    if command == "reset":
        return tree.flatten(env.reset())
    if command == "step":
        return tree.flatten(env.step(payload))
    if command == "call":
        name, args, kwargs = payload
        return getattr(env, name)(*args, **kwargs)
    if command == "access":
        return getattr(env, payload)
    raise KeyError(f"unknown command {command!r}")


def _worker(index: int, conn: Any, pickled_constructor: bytes) -> None:
    """A worker process: builds the env, then serves commands until 'close'."""
    # Ctrl-C reaches the whole process group; the parent stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    env = None
    try:
        try:
            env = pickle.loads(pickled_constructor)()
            made = f"env_constructors[{index}]() returned"
            if not isinstance(env, PyEnvironment):
                raise TypeError(f"{made} {type(env).__name__}, not a PyEnvironment")
            if env.batched:
                raise ValueError(f"{made} a batched environment (batch size {env.batch_size})")
            action_spec = env.action_spec()
            conn.send(("ok", (env.observation_spec(), action_spec, env.time_step_spec())))
        except Exception as e:
            conn.send(("error", _describe_error(e)))
            return
        pack_action = nest_utils.packer(action_spec) if tree.is_nested(action_spec) else None
        while True:
            try:
                command, payload = conn.recv()
            except (EOFError, OSError):  # the parent is gone
                return
            try:
                if command == "close":
                    env, closing = None, env
                    closing.close()
                    conn.send(("ok", None))
                else:
                    conn.send(("ok", _serve(env, command, payload, pack_action)))
            except Exception as e:
                conn.send(("error", _describe_error(e)))
            if command == "close":
                return
    finally:
        if env is not None:
            try:
                env.close()
            except Exception:  # the parent is gone; nobody is left to tell
                pass
        conn.close()


def _shut_down(conn: Any, process: Any, closing_sent: bool) -> Optional[tuple]:
    """Asks a worker to close, waits, else terminates it; returns its close reply."""
    reply = None
    try:
        if not closing_sent:
            conn.send(("close", None))
        if conn.poll(_CLOSE_SECONDS):
            reply = conn.recv()
    except (EOFError, OSError):
        pass
    conn.close()
    process.join(_CLOSE_SECONDS)
    if process.is_alive():
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()
    return reply


class ProcessPyEnvironment:
    """One `PyEnvironment` in a worker process, driven over a pipe.

    Calls return promises (callables blocking for the result), so several
    workers compute at once.

    Args:
      env_constructor: a picklable zero-argument callable returning an
        unbatched `PyEnvironment`; called in the worker.
      worker_index: the worker's number, for error messages.
      mp_context: as in `ParallelPyEnvironment`.

    Raises:
      TypeError: `env_constructor` is not callable or cannot be pickled.
      ValueError: an unknown `mp_context`.
    """

    def __init__(self, env_constructor: EnvConstructor, worker_index: int = 0,
                 mp_context: Optional[str] = None):
        where = f"env_constructors[{worker_index}]"
        if not callable(env_constructor):
            raise TypeError(f"{where} must be callable (a constructor, not an environment), "
                            f"got {type(env_constructor).__name__}: {env_constructor!r}")
        try:
            self._pickled_constructor = pickle.dumps(env_constructor)
        except Exception as e:
            raise TypeError(f"{where} ({env_constructor!r}) cannot be pickled ({e}): use a "
                            "module-level class or function, or a functools.partial") from e
        self._index = worker_index
        self._context = _context(mp_context)
        self._conn: Any = None
        self._process: Any = None
        self._poller: Any = None
        self._finalizer: Optional[weakref.finalize] = None
        self._closing_sent = False
        self._specs: Optional[tuple] = None
        self._pack_time_step: Any = None

    def start(self, wait_to_start: bool = True) -> None:
        """Starts the worker; with `wait_to_start`, waits for its environment."""
        if self._process is not None:
            raise RuntimeError(f"environment worker {self._index} is already started")
        conn, child_conn = self._context.Pipe()
        process = self._context.Process(
            target=_worker, args=(self._index, child_conn, self._pickled_constructor),
            name=f"tfpolicy-env-worker-{self._index}")
        process.start()
        child_conn.close()  # so that the worker's death reads as end-of-file here
        self._conn, self._process = conn, process
        if hasattr(select, "poll"):  # far cheaper per reply than `conn.poll`
            self._poller = select.poll()
            self._poller.register(conn.fileno(), select.POLLIN)
        self._finalizer = weakref.finalize(self, _shut_down, conn, process, False)
        if wait_to_start:
            self.wait_start()

    def wait_start(self) -> None:
        """Waits for the worker's environment; raises what its constructor raised."""
        if self._specs is not None:
            return
        try:
            specs = self._receive(f"env_constructors[{self._index}]()")
        except BaseException:
            self.close()
            raise
        self._pack_time_step = nest_utils.packer(specs[2])
        self._specs = specs

    @property
    def pid(self) -> Optional[int]:
        """The worker's process id; None before `start`."""
        return None if self._process is None else self._process.pid

    @property
    def closed(self) -> bool:
        """Whether the worker was started and has since been stopped."""
        return self._finalizer is not None and not self._finalizer.alive

    def close(self) -> None:
        """Closes the environment and stops the worker (idempotent); raises what
        the environment's own `close()` raised."""
        self._request_close()
        self._finish_close()

    def _request_close(self) -> None:
        if self._finalizer is not None and self._finalizer.alive:
            try:
                self._conn.send(("close", None))
                self._closing_sent = True
            except OSError:
                pass

    def _finish_close(self) -> None:
        if self._finalizer is None or not self._finalizer.alive:
            return
        self._finalizer.detach()
        reply = _shut_down(self._conn, self._process, self._closing_sent)
        if reply is not None and reply[0] == "error":
            self._raise_remote(reply[1], "close()")

    def _spec(self, i: int) -> Any:
        if self._specs is None:
            raise RuntimeError(f"environment worker {self._index} is not started")
        return self._specs[i]

    def observation_spec(self) -> NestedArraySpec:
        """The environment's observation spec."""
        return self._spec(0)

    def action_spec(self) -> NestedArraySpec:
        """The environment's action spec."""
        return self._spec(1)

    def time_step_spec(self) -> TimeStep:
        """The environment's time step spec."""
        return self._spec(2)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Promise:
        """Calls method `name` of the environment; returns a promise of the result."""
        return self._send("call", (name, args, kwargs), f"{name}()")

    def access(self, name: str) -> Any:
        """The value of the environment's attribute `name` (blocks)."""
        return self._send("access", name, name)()

    def reset(self, blocking: bool = True) -> Any:
        """Resets: the FIRST `TimeStep`, or a promise of it if not `blocking`."""
        return self._time_step(self._send("reset", None, "reset()"), blocking)

    def step(self, action: NestedArray, blocking: bool = True) -> Any:
        """Steps with an unbatched action (checked in the worker): the next
        `TimeStep`, or a promise of it if not `blocking`."""
        return self._time_step(self._send("step", action, "step()"), blocking)

    def _time_step(self, promise: Promise, blocking: bool) -> Any:
        def unpack() -> TimeStep:
            return self._pack_time_step(promise())
        return unpack() if blocking else unpack

    def _send(self, command: str, payload: Any, what: str) -> Promise:
        if self.closed:
            raise RuntimeError(f"environment worker {self._index} is closed")
        self._spec(0)
        try:
            self._conn.send((command, payload))
        except OSError:
            self._raise_dead(what)
        return lambda: self._receive(what)

    def _receive(self, what: str) -> Any:
        conn, process, poller = self._conn, self._process, self._poller
        try:
            # A dead worker's pipe reads as EOF; the liveness check is for a
            # pipe another process still holds open.
            while not (poller.poll(_POLL_SECONDS * 1000) if poller else conn.poll(_POLL_SECONDS)):
                if not process.is_alive():
                    self._raise_dead(what)
            status, payload = conn.recv()
        except (EOFError, OSError):
            self._raise_dead(what)
        if status == "error":
            self._raise_remote(payload, what)
        return payload

    def _raise_dead(self, what: str) -> None:
        self._process.join(1.0)
        code = self._process.exitcode
        self.close()
        raise RuntimeError(f"environment worker {self._index} (pid {self.pid}) died during "
                           f"{what} with exit code {code}")

    def _raise_remote(self, described: tuple, what: str) -> None:
        pickled, text = described
        where = f"environment worker {self._index} during {what}"
        try:
            error = pickle.loads(pickled) if pickled else None
        except Exception:
            error = None
        if not isinstance(error, Exception):
            error = RuntimeError(f"{where}: {text.strip().splitlines()[-1]}")
        raise error from _RemoteTraceback(f"raised in {where}; its traceback:\n\n{text}")


class ParallelPyEnvironment(PyEnvironment):
    """Steps N unbatched environments in N worker processes, as one batched environment.

    Specs are worker 0's, required equal in every worker. `step` checks the
    `[N]`-batched action here (errors name the nest path), sends entry `i`
    to worker `i`, then collects every result: time steps equal
    `BatchedPyEnvironment`'s for the same environments and actions. A
    worker's exception is raised here, type kept, with the worker's index
    and traceback in its `__cause__`; a worker that dies raises
    `RuntimeError` and closes the environment. Workers stop on `close()`,
    context exit, garbage collection or interpreter exit.

    Args:
      env_constructors: picklable zero-argument callables returning unbatched
        `PyEnvironment`s, e.g. `functools.partial(load, "CartPole-v1", seed=i)`.
      start_serially: start workers one after another, each waiting for its
        environment; if False, start all, then wait for all.
      blocking: step the workers one at a time (for debugging).
      mp_context: 'forkserver' or 'spawn'; None: 'forkserver' where
        available. Beyond TF-Agents' signature.

    Raises:
      ValueError: no constructors, a bad `mp_context`, a batched environment,
        or specs that differ (naming the worker).
      TypeError: a constructor is not callable or picklable, or made no
        `PyEnvironment`.
    """

    def __init__(self, env_constructors: Sequence[EnvConstructor], start_serially: bool = True,
                 blocking: bool = False, mp_context: Optional[str] = None):
        super().__init__(auto_reset=True)
        constructors = list(env_constructors)
        if not constructors:
            raise ValueError("ParallelPyEnvironment needs at least one environment constructor")
        self._envs = [ProcessPyEnvironment(c, i, mp_context) for i, c in enumerate(constructors)]
        self._blocking = bool(blocking)
        self._closed = False
        try:
            for env in self._envs:
                env.start(wait_to_start=bool(start_serially))
            for env in self._envs:
                env.wait_start()
            first = self._envs[0]
            check_same_specs(self._envs, ("observation_spec", "action_spec", "time_step_spec"),
                             lambda i: f"worker {i} (env_constructors[{i}])")
        except BaseException:
            self.close()
            raise
        self._time_step_spec = first.time_step_spec()
        self._pack_time_step = nest_utils.packer(self._time_step_spec)
        self._nested_action = tree.is_nested(first.action_spec())

    @property
    def envs(self) -> Sequence[ProcessPyEnvironment]:
        """The worker handles, in batch order."""
        return tuple(self._envs)

    def observation_spec(self) -> NestedArraySpec:
        return self._envs[0].observation_spec()

    def action_spec(self) -> NestedArraySpec:
        return self._envs[0].action_spec()

    def reward_spec(self) -> NestedArraySpec:
        return self._time_step_spec.reward

    def time_step_spec(self) -> TimeStep:
        return self._time_step_spec

    @property
    def batched(self) -> bool:
        return True

    @property
    def batch_size(self) -> Optional[int]:
        return len(self._envs)

    def _reset(self) -> TimeStep:
        return self._run("reset", [None] * len(self._envs), "reset()")

    def _step(self, action: NestedArray) -> TimeStep:
        if self._nested_action:
            leaves = tree.flatten(action)
            entries = [[leaf[i] for leaf in leaves] for i in range(len(self._envs))]
        else:
            entries = list(action)
        return self._run("step_checked", entries, "step()")

    def _run(self, command: str, payloads: Sequence[Any], what: str) -> TimeStep:
        """Sends one command per worker, collects every reply, stacks the time steps."""
        if self._closed:
            raise RuntimeError("this ParallelPyEnvironment is closed")
        senders = [lambda env=env, p=p: env._send(command, p, what)
                   for env, p in zip(self._envs, payloads)]
        if self._blocking:
            results = [self._gather([send])[0] for send in senders]
        else:
            results = self._gather(senders)
        return self._pack_time_step([np.stack(column) for column in zip(*results)])

    def _gather(self, senders: Sequence[Callable[[], Promise]]) -> List[Any]:
        """Reads every reply, even after an error (no stale reply stays in a pipe)."""
        promises, results, errors = [], [], []
        for send in senders:
            try:
                promises.append(send())
            except Exception as e:
                errors.append(e)
        for promise in promises:
            try:
                results.append(promise())
            except Exception as e:
                errors.append(e)
        if errors:
            if any(env.closed for env in self._envs):  # a worker died: stop the rest
                try:
                    self.close()
                except Exception:  # the death is the error worth raising
                    pass
            raise errors[0]
        return results

    def seed(self, seeds: Sequence[Any]) -> List[Any]:
        """Calls `seed(seeds[i])` on the environment of worker `i`; returns the results."""
        seeds = list(seeds)
        if len(seeds) != len(self._envs):
            raise ValueError(f"seed() needs one seed per environment ({len(self._envs)}), "
                             f"got {len(seeds)}")
        return self._gather([lambda env=env, s=s: env.call("seed", s)
                             for env, s in zip(self._envs, seeds)])

    def close(self) -> None:
        """Stops every worker (idempotent); raises the first error of an env's `close()`."""
        self._closed = True
        for env in self._envs:
            env._request_close()
        errors = []
        for env in self._envs:
            try:
                env._finish_close()
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]

