"""Tests of atomic writes: directories and files appear complete or not at all, an existing
export survives a failed save (an exception or a SIGKILL in the middle), and unrelated
directories are never replaced."""

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf

from savers import PolicySaver, atomic, load, policy_saver
from specs import BoundedTensorSpec, TensorSpec
from tfpolicy import policies, time_step as ts

TS = ts.time_step_spec(TensorSpec([3], tf.float32, "obs"))
ACTION = BoundedTensorSpec([], tf.int32, 0, 4, "action")


def _names(directory: pathlib.Path):
    return sorted(p.name for p in directory.iterdir())


def _write(directory: pathlib.Path, text: str) -> None:
    (directory / "model.txt").write_text(text)
    (directory / "sub").mkdir()
    (directory / "sub" / "data.bin").write_bytes(text.encode() * 100)


def _read(directory: pathlib.Path) -> str:
    return (directory / "model.txt").read_text()


class Boom(Exception):
    pass


def test_new_directory_appears_only_when_the_block_ends(tmp_path):
    final = tmp_path / "nested" / "export"
    with atomic.atomic_directory(final) as tmp:
        _write(tmp, "v1")
        assert not final.exists()
        assert tmp.parent == final.parent and tmp.name.startswith(".export.tmp-")
    assert _read(final) == "v1" and (final / "sub" / "data.bin").exists()
    assert _names(final.parent) == ["export"]


def test_existing_export_is_replaced_whole(tmp_path):
    final = tmp_path / "export"
    with atomic.atomic_directory(final) as tmp:
        _write(tmp, "v1")
        (tmp / "only_in_v1.txt").write_text("old")
    with atomic.atomic_directory(final, replaceable=lambda p: True) as tmp:
        _write(tmp, "v2")
    assert _read(final) == "v2" and not (final / "only_in_v1.txt").exists()
    assert _names(tmp_path) == ["export"]


@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt])
def test_an_exception_leaves_the_old_export_and_no_temporary(tmp_path, error):
    final = tmp_path / "export"
    with atomic.atomic_directory(final) as tmp:
        _write(tmp, "v1")
    with pytest.raises(error):
        with atomic.atomic_directory(final, replaceable=lambda p: True) as tmp:
            _write(tmp, "v2-partial")
            raise error()
    assert _read(final) == "v1"
    assert _names(tmp_path) == ["export"]


def test_an_exception_without_an_old_export_leaves_nothing(tmp_path):
    with pytest.raises(Boom):
        with atomic.atomic_directory(tmp_path / "export") as tmp:
            _write(tmp, "partial")
            raise Boom()
    assert _names(tmp_path) == []


def test_unrelated_directories_and_files_are_never_replaced(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("keep")
    ran = []
    with pytest.raises(FileExistsError, match="does not hold an export"):
        with atomic.atomic_directory(tmp_path / "home", replaceable=lambda p: False):
            ran.append(True)
    assert not ran and (tmp_path / "home" / "notes.txt").read_text() == "keep"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a directory"):
        with atomic.atomic_directory(tmp_path / "file"):
            ran.append(True)
    assert not ran and _names(tmp_path) == ["file", "home"]


def test_an_empty_directory_is_replaced(tmp_path):
    (tmp_path / "export").mkdir()
    with atomic.atomic_directory(tmp_path / "export") as tmp:
        _write(tmp, "v1")
    assert _read(tmp_path / "export") == "v1"


def test_exchange_swaps_two_directories_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "which").write_text("a")
    (b / "which").write_text("b")
    if not atomic._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    assert (a / "which").read_text() == "b" and (b / "which").read_text() == "a"


def test_fallback_without_exchange_replaces_and_cleans_up(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    final = tmp_path / "export"
    for version in ("v1", "v2"):
        with atomic.atomic_directory(final, replaceable=lambda p: True) as tmp:
            _write(tmp, version)
    assert _read(final) == "v2" and _names(tmp_path) == ["export"]


def test_fallback_restores_the_old_export_when_the_second_rename_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    final = tmp_path / "export"
    with atomic.atomic_directory(final) as tmp:
        _write(tmp, "v1")
    real_rename = os.rename

    def failing_rename(src, dst):
        if pathlib.Path(src).name.startswith(".export.tmp-"):
            raise OSError("disk gone")
        real_rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", failing_rename)
    with pytest.raises(OSError, match="disk gone"):
        with atomic.atomic_directory(final, replaceable=lambda p: True) as tmp:
            _write(tmp, "v2")
    assert _read(final) == "v1" and _names(tmp_path) == ["export"]


def test_atomic_write_file_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "specs.json"
    atomic.atomic_write_file(target, "first")
    atomic.atomic_write_file(target, b"second")
    assert target.read_text() == "second"

    def failing_fsync(fd):
        raise OSError("no space left")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="no space left"):
        atomic.atomic_write_file(target, "third")
    assert target.read_text() == "second" and _names(tmp_path) == ["specs.json"]


# ---- PolicySaver: failures in the middle of a save ---------------------------------------------


def _fixed_saver(action, version):
    policy = policies.FixedPolicy(action, TS, ACTION)
    return PolicySaver(policy, metadata={"version": version})


def _check_export(path, action, version):
    loaded = load(path)
    assert int(loaded.get_metadata()["version"]) == version
    out = loaded.signatures["action"](step_type=tf.zeros([2], tf.int32), reward=tf.zeros([2]),
                                      discount=tf.ones([2]), observation=tf.zeros([2, 3]))
    assert out["action"].numpy().tolist() == [action, action]


@pytest.fixture(scope="module")
def savers_v1_v2():
    return _fixed_saver(1, 1), _fixed_saver(3, 2)


def test_an_exception_in_save_keeps_the_old_export(tmp_path, monkeypatch, savers_v1_v2):
    v1, v2 = savers_v1_v2
    v1.save(tmp_path / "export")
    real_save = tf.saved_model.save

    def save_then_fail(obj, export_dir, **kwargs):
        real_save(obj, export_dir, **kwargs)  # the SavedModel is fully written...
        raise Boom("...but the save is interrupted before the specs are")

    monkeypatch.setattr(policy_saver.tf.saved_model, "save", save_then_fail)
    with pytest.raises(Boom):
        v2.save(tmp_path / "export")
    with pytest.raises(Boom):
        v2.save(tmp_path / "fresh")
    monkeypatch.undo()
    assert _names(tmp_path) == ["export"]
    _check_export(tmp_path / "export", action=1, version=1)


def test_an_exception_in_save_checkpoint_keeps_the_old_checkpoint(tmp_path, monkeypatch,
                                                                   savers_v1_v2):
    v1, _ = savers_v1_v2
    v1.save_checkpoint(tmp_path / "ckpt")
    before = sorted(p.name for p in (tmp_path / "ckpt").rglob("*"))

    def fail(*args, **kwargs):
        raise Boom("interrupted")

    monkeypatch.setattr(policy_saver.json, "dumps", fail)
    with pytest.raises(Boom):
        v1.save_checkpoint(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").rglob("*")) == before
    assert _names(tmp_path) == ["ckpt"]


_KILLED_CHILD = textwrap.dedent("""
    import pathlib, sys, time
    import tensorflow as tf
    from savers import PolicySaver
    from specs import BoundedTensorSpec, TensorSpec
    from tfpolicy import policies, time_step as ts

    export_dir, marker, pause = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3] == "pause"
    policy = policies.FixedPolicy(3, ts.time_step_spec(TensorSpec([3], tf.float32, "obs")),
                                  BoundedTensorSpec([], tf.int32, 0, 4, "action"))
    saver = PolicySaver(policy, metadata={"version": 2})
    real_save = tf.saved_model.save

    def slow_save(*args, **kwargs):
        real_save(*args, **kwargs)
        marker.write_text("written")
        time.sleep(300)  # killed here, with the new SavedModel half-way to its final place

    if pause:
        tf.saved_model.save = slow_save
    marker.write_text("ready")
    while True:
        saver.save(export_dir)
""")


def _run_and_kill(tmp_path, pause: bool, delay: float = 0.0):
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(tmp_path / "export"), str(marker),
         "pause" if pause else "loop"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wanted = "written" if pause else "ready"
        deadline = time.monotonic() + 240
        while not (marker.exists() and marker.read_text() == wanted):
            assert child.poll() is None, "the child process died before it was killed"
            assert time.monotonic() < deadline, "the child process did not start saving"
            time.sleep(0.05)
        time.sleep(delay)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    marker.unlink()


def test_a_kill_in_the_middle_of_save_keeps_the_old_export(tmp_path, savers_v1_v2):
    v1, _ = savers_v1_v2
    v1.save(tmp_path / "export")
    _run_and_kill(tmp_path, pause=True)
    leftovers = [name for name in _names(tmp_path) if name != "export"]
    # The killed save left its temporary sibling (complete SavedModel, no specs), never a
    # partial export at the final path.
    assert len(leftovers) == 1 and leftovers[0].startswith(".export.tmp-")
    assert (tmp_path / leftovers[0] / "saved_model.pb").exists()
    _check_export(tmp_path / "export", action=1, version=1)


@pytest.mark.slow
def test_kills_at_random_moments_leave_a_complete_export(tmp_path, savers_v1_v2):
    v1, _ = savers_v1_v2
    v1.save(tmp_path / "export")
    rng = np.random.default_rng(0)
    for _ in range(6):
        _run_and_kill(tmp_path, pause=False, delay=float(rng.uniform(0.0, 2.0)))
        export = tmp_path / "export"
        if export.exists():
            loaded = load(export)
            assert int(loaded.get_metadata()["version"]) in (1, 2)
        else:  # only possible between the two renames of the fallback
            assert any(name.startswith(".export.old-") for name in _names(tmp_path))
