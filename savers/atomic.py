"""Atomic writes: a directory or a file appears at its final path complete, or not at all.

`atomic_directory(path)` yields a fresh temporary directory beside `path`
(same parent, so on the same filesystem). Whatever is written there becomes
`path` only when the `with` block ends without an exception:

1. every file in the temporary directory is flushed to disk (`fsync`);
2. if `path` does not exist, the temporary directory is renamed to it;
3. if it exists, the two are swapped in one step with Linux's
   `renameat2(RENAME_EXCHANGE)`, so `path` is always either the old or the
   new directory, never absent; where that call is unavailable (another OS, a
   filesystem without it) the old directory is first renamed aside
   (`.<name>.old-*`), the new one renamed into place, and the old one deleted.
   A kill in the instant between those two renames leaves `path` absent and
   the previous export intact at the `.old-` sibling, never a partial export;
4. the replaced directory is deleted.

On an exception inside the block the temporary directory is deleted and
`path` is left exactly as it was. A process killed inside the block leaves a
`.<name>.tmp-*` sibling behind (never a partial `path`); such siblings are
garbage and may be deleted.

Replacing a directory deletes its old content, so an existing `path` is only
replaced when it is empty or when `replaceable(path)` says it holds
something this library wrote (an export over an export); anything else
raises `FileExistsError` before anything is written.

>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_directory(root / "export") as tmp:
...     _ = (tmp / "model.txt").write_text("v1")
>>> with atomic_directory(root / "export", replaceable=lambda p: True) as tmp:
...     _ = (tmp / "model.txt").write_text("v2")
>>> [p.name for p in root.iterdir()], (root / "export" / "model.txt").read_text()
(['export'], 'v2')
"""

import contextlib
import ctypes
import errno
import os
import pathlib
import shutil
import sys
import tempfile
import uuid
from typing import Callable, Iterator, Optional, Union

__all__ = ["atomic_directory", "atomic_write_file"]

PathLike = Union[str, "os.PathLike[str]"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# errno values meaning "this system or filesystem cannot exchange": fall back to two renames.
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}


def _renameat2() -> Optional[Callable]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # no libc symbol (old glibc, musl without it)
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _renameat2()


def _exchange(a: pathlib.Path, b: pathlib.Path) -> bool:
    """Swaps the two paths in one atomic step; False when the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _fsync_path(path: pathlib.Path, directory: bool) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. directories cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems do not support fsync on directories
    finally:
        os.close(fd)


def _fsync_tree(root: pathlib.Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for filename in filenames:
            _fsync_path(pathlib.Path(dirpath) / filename, directory=False)
        _fsync_path(pathlib.Path(dirpath), directory=True)


def _is_empty_dir(path: pathlib.Path) -> bool:
    with os.scandir(path) as entries:
        return next(entries, None) is None


def _check_replaceable(final: pathlib.Path, replaceable: Optional[Callable[[pathlib.Path], bool]],
                       what: str) -> None:
    if not final.exists():
        return
    if not final.is_dir():
        raise FileExistsError(f"cannot write {what} to {final}: it exists and is not a directory")
    if _is_empty_dir(final) or (replaceable is not None and replaceable(final)):
        return
    raise FileExistsError(
        f"cannot write {what} to {final}: the directory exists and does not hold {what} that "
        "this library wrote, so replacing it could delete unrelated files; choose a new or empty "
        "directory, or delete it first")


def _swap_into_place(tmp: pathlib.Path, final: pathlib.Path) -> None:
    """Moves the complete directory `tmp` to `final`; returns once `final` is the new one."""
    if not final.exists():
        os.rename(tmp, final)
        return
    if _exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # `tmp` now holds the old directory
        return
    aside = final.parent / f".{final.name}.old-{uuid.uuid4().hex}"
    os.rename(final, aside)
    try:
        os.rename(tmp, final)
    except BaseException:
        os.rename(aside, final)
        raise
    shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(path: PathLike, replaceable: Optional[Callable[[pathlib.Path], bool]] = None,
                     what: str = "an export") -> Iterator[pathlib.Path]:
    """A temporary directory that becomes `path` when the block succeeds.

    Args:
      path: the final directory; its parent is created if needed.
      replaceable: called with `path` when it exists and is not empty;
        return True to allow replacing it (e.g. it holds an earlier export).
      what: what is written, for error messages ("an export", "a checkpoint").

    Yields:
      The temporary directory (a `pathlib.Path`) to write into.

    Raises:
      FileExistsError: `path` exists and is a file, or a non-empty directory
        that `replaceable` does not accept; raised before anything is written.
      Whatever the block raises, after deleting the temporary directory.
    """
    final = pathlib.Path(os.path.abspath(os.fspath(path)))
    final.parent.mkdir(parents=True, exist_ok=True)
    _check_replaceable(final, replaceable, what)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
        _fsync_tree(tmp)
        _check_replaceable(final, replaceable, what)  # the block may have taken long
        _swap_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_path(final.parent, directory=True)


def atomic_write_file(path: PathLike, data: Union[bytes, str]) -> None:
    """Writes `data` to the file `path` atomically: a temporary sibling, fsync, then rename.

    Args:
      path: the final file; its parent directory must exist.
      data: bytes, or text written as UTF-8.

    Raises:
      OSError: the write or the rename failed; `path` is then unchanged and
        the temporary file is removed.
    """
    final = pathlib.Path(os.path.abspath(os.fspath(path)))
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.tmp-", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_path(final.parent, directory=True)
