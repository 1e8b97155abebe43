"""Tests of `ParallelPyEnvironment` and `ProcessPyEnvironment`: batching, errors, shutdown.

The workers fork from one forkserver per test session (its start, importing
TensorFlow once, is the slow part); each environment after that starts in
tens of milliseconds, so tests build their own.
"""

import functools
import gc
import os

import numpy as np
import pytest

import env_toys  # workers import it by module name, on the sys.path conftest.py sets
from tfpolicy.environments.batched_py_environment import BatchedPyEnvironment
from tfpolicy.environments.gymnasium_wrapper import load
from tfpolicy.environments.parallel_py_environment import (ParallelPyEnvironment,
                                                           ProcessPyEnvironment)


def counters(*lengths, **kwargs):
    return [functools.partial(env_toys.Counter, n, **kwargs) for n in lengths]


def process_exists(pid):
    """Whether a process (running or an unreaped zombie) still has this pid."""
    return os.path.exists(f"/proc/{pid}")


def assert_time_steps_equal(a, b):
    np.testing.assert_array_equal(a.step_type, b.step_type)
    np.testing.assert_array_equal(a.reward, b.reward)
    np.testing.assert_array_equal(a.discount, b.discount)
    if isinstance(a.observation, dict):
        assert a.observation.keys() == b.observation.keys()
        for key in a.observation:
            assert a.observation[key].dtype == b.observation[key].dtype
            np.testing.assert_array_equal(a.observation[key], b.observation[key])
    else:
        assert a.observation.dtype == b.observation.dtype
        np.testing.assert_array_equal(a.observation, b.observation)
    for x, y in ((a.step_type, b.step_type), (a.reward, b.reward), (a.discount, b.discount)):
        assert x.dtype == y.dtype


def test_properties_specs_and_worker_processes():
    with ParallelPyEnvironment(counters(2, 3)) as env:
        toy = env_toys.Counter(2)
        assert env.batched is True and env.batch_size == 2
        assert env.action_spec() == toy.action_spec()
        assert env.observation_spec() == toy.observation_spec()
        assert env.time_step_spec() == toy.time_step_spec()
        pids = [worker.pid for worker in env.envs]
        assert len(set(pids)) == 2 and os.getpid() not in pids
        assert [worker.access("length") for worker in env.envs] == [2, 3]


def test_entries_end_and_reset_independently():
    with ParallelPyEnvironment(counters(1, 3)) as env:
        first = env.reset()
        np.testing.assert_array_equal(first.step_type, [0, 0])
        steps = [env.step(np.array([a, 2 * a], np.int64)) for a in (1, 0, 1, 0)]
        np.testing.assert_array_equal([s.step_type for s in steps],
                                      [[2, 1], [0, 1], [2, 2], [0, 0]])
        np.testing.assert_array_equal([s.reward for s in steps],
                                      [[2, 3], [0, 1], [2, 3], [0, 0]])
        np.testing.assert_array_equal(
            [s.discount for s in steps], np.array([[0, 0.9], [1, 0.9], [0, 0], [1, 1]], np.float32))
        np.testing.assert_array_equal([s.observation["count"] for s in steps],
                                      [[1, 1], [0, 2], [1, 3], [0, 0]])
        assert steps[0].observation["pair"].shape == (2, 2)
        # Each worker's env got an action only on its non-reset steps.
        assert env.envs[0].access("actions") == [1, 1]
        assert env.envs[1].access("actions") == [2, 0, 2]


def test_step_before_reset_resets_all():
    with ParallelPyEnvironment(counters(2, 2)) as env:
        np.testing.assert_array_equal(env.step(np.zeros(2, np.int64)).step_type, [0, 0])
        np.testing.assert_array_equal(env.step(np.zeros(2, np.int64)).step_type, [1, 1])


@pytest.mark.parametrize("blocking", [False, True])
def test_matches_batched_env_over_many_steps(blocking):
    lengths = (1, 2, 3, 5)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 4, size=(150, len(lengths)))
    serial = BatchedPyEnvironment([make() for make in counters(*lengths)])
    with ParallelPyEnvironment(counters(*lengths), blocking=blocking) as env:
        assert_time_steps_equal(env.reset(), serial.reset())
        lasts = 0
        for action in actions:
            step = env.step(action)
            assert_time_steps_equal(step, serial.step(action))
            lasts += int(step.is_last().sum())
        assert lasts >= 3  # the comparison went through several resets
        assert_time_steps_equal(env.current_time_step(), serial.current_time_step())


def test_nested_actions_are_split_per_entry_and_match_batched():
    constructors = [functools.partial(env_toys.NestedCounter, n) for n in (2, 3)]
    serial = BatchedPyEnvironment([make() for make in constructors])
    rng = np.random.default_rng(1)
    with ParallelPyEnvironment(constructors) as env:
        assert_time_steps_equal(env.reset(), serial.reset())
        for _ in range(12):
            action = {"a": rng.integers(0, 3, size=2),
                      "b": rng.uniform(-1, 1, size=(2, 2)).astype(np.float32)}
            assert_time_steps_equal(env.step(action), serial.step(action))
        # Entry i's action reaches worker i: the observation echoes `b`.
        env.reset()
        step = env.step({"a": np.array([2, 1]),
                         "b": np.array([[0.5, -0.25], [1, -1]], np.float32)})
        np.testing.assert_array_equal(step.observation, [[0.5, -0.25, 1], [1, -1, 1]])
        np.testing.assert_array_equal(step.reward, [2.75, 3])


def test_truncation_keeps_the_discount():
    with ParallelPyEnvironment([functools.partial(env_toys.NestedCounter, 2)]) as env:
        env.reset()
        action = {"a": np.array([1]), "b": np.array([[0.5, -0.5]], np.float32)}
        mid, last, first = env.step(action), env.step(action), env.step(action)
    np.testing.assert_array_equal([mid.step_type, last.step_type, first.step_type], [[1], [2], [0]])
    np.testing.assert_array_equal([mid.discount, last.discount, first.discount], [[1], [1], [1]])
    np.testing.assert_array_equal([mid.reward, last.reward, first.reward], [[2], [2], [0]])
    np.testing.assert_array_equal(last.observation, [[0.5, -0.5, 2]])


def test_bad_actions_are_rejected_before_anything_is_sent():
    with ParallelPyEnvironment(counters(3, 3)) as env:
        env.reset()
        sent = []
        for worker in env.envs:
            original = worker._send
            worker._send = lambda *args, original=original: sent.append(args) or original(*args)
        with pytest.raises(ValueError, match="outer"):
            env.step(np.int64(0))
        with pytest.raises(ValueError, match="outer"):
            env.step(np.zeros(3, np.int64))
        with pytest.raises(ValueError, match=r"action.*\[4\]"):
            env.step(np.array([0, 4], np.int64))
        with pytest.raises(TypeError, match="dtype mismatch"):
            env.step(np.zeros(2, np.float32))
        assert sent == []
        # The workers are still in step with the parent.
        step = env.step(np.array([1, 2], np.int64))
        np.testing.assert_array_equal(step.step_type, [1, 1])
        np.testing.assert_array_equal(step.reward, [2, 3])
        assert len(sent) == 2


def test_nested_action_error_names_the_path():
    with ParallelPyEnvironment([functools.partial(env_toys.NestedCounter, 2)]) as env:
        env.reset()
        with pytest.raises(ValueError, match=r"action at 'b'.*\[3.0\]"):
            env.step({"a": np.array([1]), "b": np.array([[0.5, 3.0]], np.float32)})


def test_worker_exception_is_raised_with_its_type_index_and_traceback():
    with ParallelPyEnvironment(counters(4, 4) + counters(4, fail_at=2)) as env:
        env.reset()
        env.step(np.zeros(3, np.int64))
        with pytest.raises(ValueError, match="scripted failure at step 2") as info:
            env.step(np.zeros(3, np.int64))
        cause = str(info.value.__cause__)
        assert "environment worker 2" in cause and "during step()" in cause
        assert "Traceback" in cause and "env_toys.py" in cause and "_step" in cause
        # Every other worker's reply was read: the pipes are in sync again.
        np.testing.assert_array_equal(env.reset().observation["count"], [0, 0, 0])
        np.testing.assert_array_equal(env.step(np.ones(3, np.int64)).reward, [2, 2, 2])


def test_constructor_errors_name_the_constructor_and_stop_the_workers():
    before = {p.pid for p in __import__("multiprocessing").active_children()}
    with pytest.raises(TypeError, match=r"env_constructors\[1\]\(\) returned str"):
        ParallelPyEnvironment(counters(2) + [env_toys.not_an_env])
    with pytest.raises(TypeError, match="length") as info:
        ParallelPyEnvironment([env_toys.Counter])  # missing the length argument
    assert "env_constructors[0]()" in str(info.value.__cause__)
    with pytest.raises(TypeError, match=r"env_constructors\[0\].*callable"):
        ParallelPyEnvironment([env_toys.Counter(2)])
    with pytest.raises(TypeError, match=r"env_constructors\[1\].*cannot be pickled"):
        ParallelPyEnvironment(counters(2) + [lambda: env_toys.Counter(2)])
    with pytest.raises(ValueError, match="at least one"):
        ParallelPyEnvironment([])
    after = {p.pid for p in __import__("multiprocessing").active_children()}
    assert after <= before


def test_start_in_parallel_and_constructor_error():
    with ParallelPyEnvironment(counters(1, 2, 3), start_serially=False) as env:
        np.testing.assert_array_equal(env.reset().step_type, [0, 0, 0])
    with pytest.raises(TypeError, match=r"env_constructors\[2\]\(\) returned str"):
        ParallelPyEnvironment(counters(1, 2) + [env_toys.not_an_env], start_serially=False)


def test_spec_mismatch_names_the_worker():
    with pytest.raises(ValueError, match=r"worker 2 \(env_constructors\[2\]\).*action_spec"):
        ParallelPyEnvironment(counters(2, 2) + counters(2, max_action=1))


def test_dead_worker_raises_and_closes_everything():
    env = ParallelPyEnvironment(counters(5) + counters(5, exit_at=2))
    pids = [worker.pid for worker in env.envs]
    env.reset()
    env.step(np.zeros(2, np.int64))
    with pytest.raises(RuntimeError, match=r"environment worker 1 .*died during step\(\) "
                                           r"with exit code 3"):
        env.step(np.zeros(2, np.int64))
    assert all(worker.closed for worker in env.envs)
    assert not any(process_exists(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="closed"):
        env.reset()


def test_close_is_idempotent_and_leaves_no_processes(tmp_path):
    marker = tmp_path / "closed.txt"
    env = ParallelPyEnvironment(counters(2, 3, close_marker=str(marker)))
    pids = [worker.pid for worker in env.envs]
    assert all(process_exists(pid) for pid in pids)
    env.reset()
    env.close()
    env.close()
    assert marker.read_text() == "closed\n" * 2  # each worker closed its own env
    assert not any(process_exists(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="closed"):
        env.step(np.zeros(2, np.int64))


def test_context_exit_and_garbage_collection_stop_the_workers():
    with ParallelPyEnvironment(counters(2)) as env:
        pids = [worker.pid for worker in env.envs]
    assert not any(process_exists(pid) for pid in pids)
    env = ParallelPyEnvironment(counters(2, 2))
    pids = [worker.pid for worker in env.envs]
    del env
    gc.collect()
    assert not any(process_exists(pid) for pid in pids)


def test_errors_of_close_are_raised_after_every_worker_stopped():
    env = ParallelPyEnvironment(counters(2) + counters(2, fail_on_close=True))
    pids = [worker.pid for worker in env.envs]
    with pytest.raises(OSError, match="scripted failure in close"):
        env.close()
    assert not any(process_exists(pid) for pid in pids)
    env.close()


def test_seed_calls_each_worker():
    with ParallelPyEnvironment(counters(2, 2)) as env:
        assert env.seed([10, 20]) == [10, 20]
        np.testing.assert_array_equal(env.reset().observation["pair"][:, 0], [10, 20])
        with pytest.raises(ValueError, match=r"one seed per environment \(2\), got 3"):
            env.seed([1, 2, 3])


def test_mp_context_must_be_forkserver_or_spawn():
    with pytest.raises(ValueError, match=r"\['forkserver', 'spawn'\].*'fork'"):
        ParallelPyEnvironment(counters(2), mp_context="fork")


@pytest.mark.slow
def test_spawn_context_runs_the_same_episodes():
    with ParallelPyEnvironment(counters(1, 2), mp_context="spawn") as env:
        env.reset()
        np.testing.assert_array_equal(env.step(np.zeros(2, np.int64)).step_type, [2, 1])


def test_process_env_checks_actions_in_the_worker_and_serves_calls():
    worker = ProcessPyEnvironment(functools.partial(env_toys.Unpicklable, 2), worker_index=4)
    with pytest.raises(RuntimeError, match="is not started"):
        worker.action_spec()
    worker.start()
    try:
        assert worker.action_spec() == env_toys.Counter(2).action_spec()
        assert int(worker.reset().step_type) == 0
        promise = worker.step(np.int64(1), blocking=False)
        assert float(promise().reward) == 2.0
        with pytest.raises(ValueError, match=r"action.*\[7\]") as info:
            worker.step(np.int64(7))
        assert "environment worker 4" in str(info.value.__cause__)
        assert worker.call("seed", 5)() == 5
        assert worker.access("length") == 2
        with pytest.raises(TypeError, match="pickle"):
            worker.access("lock")  # the reply cannot be pickled; the worker says so
        with pytest.raises(AttributeError, match="no_such_method"):
            worker.call("no_such_method")()
        # An exception that cannot be pickled arrives as a RuntimeError with its text.
        with pytest.raises(RuntimeError,
                           match=r"worker 4 during explode\(\): env_toys.LockedError: <unlocked"):
            worker.call("explode")()
        assert int(worker.step(np.int64(0)).step_type) == 2
    finally:
        worker.close()
    assert worker.closed and not process_exists(worker.pid)
    with pytest.raises(RuntimeError, match="closed"):
        worker.reset()


def test_cartpole_matches_batched_env():
    constructors = [functools.partial(load, "CartPole-v1", seed=i) for i in range(3)]
    serial = BatchedPyEnvironment([make() for make in constructors])
    actions = np.random.default_rng(2).integers(0, 2, size=(60, 3))
    with ParallelPyEnvironment(constructors) as env:
        assert env.action_spec() == serial.action_spec()
        assert_time_steps_equal(env.reset(), serial.reset())
        lasts = 0
        for action in actions:
            step = env.step(action)
            assert_time_steps_equal(step, serial.step(action))
            lasts += int(step.is_last().sum())
        assert lasts >= 3  # the comparison went through several resets
