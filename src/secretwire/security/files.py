"""Crash-safe, locked, private files: what the encrypted store writes with.

* :func:`atomic_write` replaces a file with new bytes through a 0600 temporary file
  in the same folder (``.<name>.XXXXXXXX.tmp``), fsynced, renamed over the target
  (``os.replace``), and fsyncs the folder: a crash leaves the old file or the new
  one, never a mix.
* :func:`exclusive_lock` holds an exclusive lock on a lock file (``flock`` on POSIX,
  ``msvcrt.locking`` on Windows), which is never removed.
* A writer killed between creating its temporary file and the rename leaves the file
  behind. :func:`remove_temp_files` removes such leftovers; call it only while holding
  the lock every writer holds from creating its temporary file to the rename, which
  proves that none is in use. :func:`sweep` does so if the lock is free right now.
* :func:`create_private` writes a new 0600 file, never overwriting one;
  :func:`loose_mode` says whether group or others may read or write a file.

``OSError`` is left to the caller, who knows how to name the file.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_write",
    "create_private",
    "exclusive_lock",
    "leftover_temp_files",
    "lock_fd",
    "loose_mode",
    "remove_temp_files",
    "sweep",
    "unlock_fd",
]

if sys.platform == "win32":  # pragma: no cover - exercised on Windows CI only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            except OSError:
                continue  # LK_LOCK gives up after ~10 s; keep waiting
            return

    def _try_lock_fd(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _try_lock_fd(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


#: Wait for an exclusive lock on an open file / release it (the audit trail's appends).
lock_fd, unlock_fd = _lock_fd, _unlock_fd


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock on ``lock_path`` (created 0600 if missing; ``wait=False``: only if
    it is free); yields whether it is held."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if wait:
            _lock_fd(fd)
        elif not _try_lock_fd(fd):
            yield False
            return
        try:
            yield True
        finally:
            _unlock_fd(fd)
    finally:
        os.close(fd)


def _temp_pattern(path: Path) -> re.Pattern[str]:
    """The names :func:`atomic_write` gives its temporary files for ``path``
    (``tempfile.mkstemp``: 8 characters of ``[a-z0-9_]`` between prefix and suffix)."""
    return re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")


def leftover_temp_files(path: Path) -> list[Path]:
    """Temporary files of ``path`` in its folder (regular files only)."""
    pattern = _temp_pattern(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    found = []
    for name in names:
        if pattern.fullmatch(name):
            candidate = path.parent / name
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(candidate).st_mode):
                    found.append(candidate)
    return found


def remove_temp_files(path: Path) -> int:
    """Remove the leftovers of writers of ``path`` killed mid-write. Call it only
    while holding the lock (see the module docstring). Returns how many went."""
    removed = 0
    for candidate in leftover_temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
            removed += 1
    return removed


def sweep(path: Path, lock_path: Path) -> None:
    """Remove the leftovers of ``path`` if the lock is free right now (a busy lock
    means a writer is at work, and it removes them). Never raises ``OSError``."""
    if not leftover_temp_files(path):
        return
    with contextlib.suppress(OSError), exclusive_lock(lock_path, wait=False) as held:
        if held:
            remove_temp_files(path)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> os.stat_result:
    """Replace ``path`` with ``data`` (0600, fsynced); return the new file's stat. On
    failure the temporary file is removed and ``path`` is untouched."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            written = os.fstat(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    return written


def create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` (and its folder) holding ``data``, mode 0600, fsynced; never
    overwrite: ``False`` if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def loose_mode(path: Path) -> int | None:
    """The permission bits of ``path`` if group or others may read or write it (POSIX
    only), else ``None`` (also when it cannot be examined: a read will say why)."""
    if os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    return mode if mode & 0o077 else None
