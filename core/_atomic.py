"""Atomic file writes for the whole project: a file appears whole, with ordinary permissions, or not at all.

:func:`atomic_path` yields a temporary path next to the target; whatever the caller writes there is renamed over
the target with ``os.replace`` (atomic on POSIX and Windows within one folder) only if the block succeeds.
An ``OSError`` raised while writing that names no file (disk full, ``ulimit -f``) is raised again naming the
target, and so is an encoding error.

Temporary files are hidden, ``.<stem>.<8 hex digits>.tmp<suffix>``; :func:`is_temporary` recognises them.  The
block removes its own when it fails, but a process killed with SIGKILL cannot: :func:`remove_stale_temporaries`
removes such leftovers.  Writers that hold :func:`file_lock` on their target while they write (the Ising cache)
make this exact: a temporary whose target's lock is free is stale.  Other temporaries count as stale once nobody
has modified them for ``idle`` seconds.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, file_lock does not exclude
    fcntl = None

__all__ = ["atomic_path", "file_lock", "is_temporary", "temporaries_of", "remove_stale_temporaries", "lock_path"]

_TEMPORARY = re.compile(r"^\.(?P<stem>.+)\.[0-9a-f]{8}\.tmp(?P<suffix>.*)$")


def _create_temporary(path: Path) -> tuple[Path, int]:
    """Create an empty hidden file beside ``path`` (same suffix) with mode 0o666 filtered by the umask, as any
    new file (``tempfile.mkstemp`` would make it 0o600); return it and the mode it got."""
    for _ in range(100):
        temporary = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            mode = os.fstat(handle).st_mode & 0o7777
        finally:
            os.close(handle)
        return temporary, mode
    raise FileExistsError(f"Could not create a temporary file beside {str(path)!r}.")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike, the file to (re)write. Missing parent folders are created.

    Yields
    ------
    Path, an empty hidden file in the same folder with the same suffix (``.<stem>.<random>.tmp<suffix>``, so
    writers that key on the suffix, like ``np.save`` or ``savefig``, behave as for ``path``). Write to it by
    name (it may also be replaced). When the block ends without an exception, the file is given the mode the
    process umask gives a new file (0o666 & ~umask: 0o644 under umask 022; whatever mode a writer set is
    dropped), flushed to disk (fsync), and renamed over ``path``. When the block raises, the temporary file is
    removed and ``path`` is left untouched; an ``OSError`` that names no file, or only the temporary one (disk
    full, file-size limit), is raised again as the same kind of ``OSError`` naming ``path`` (a plain ``OSError``
    whose message names it when the original had no errno, as numpy's "N requested and M written"); a
    ``UnicodeEncodeError`` (text written in an encoding that cannot hold it) gets ``path`` in its reason.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary, mode = _create_temporary(path)
    try:
        yield temporary
        os.chmod(temporary, mode)
        handle = os.open(temporary, os.O_RDWR if os.name == "nt" else os.O_RDONLY)  # Windows syncs writers only
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except OSError as error:
        if error.filename not in (None, str(temporary), temporary):
            raise
        if error.errno is not None:  # OSError(errno, ...) picks the errno's subclass (PermissionError, ...)
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise OSError(f"{error} (while writing {str(path)!r})") from error  # numpy: "N requested and M written"
    except (UnicodeEncodeError, UnicodeDecodeError) as error:  # a text file opened with the locale's encoding
        raise type(error)(error.encoding, error.object, error.start, error.end,
                          f"{error.reason} (while writing {str(path)!r})") from error
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def is_temporary(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named like a temporary file of :func:`atomic_path` (never a finished result)."""
    return _TEMPORARY.match(Path(path).name) is not None


def temporaries_of(path: str | os.PathLike) -> list[Path]:
    """The temporary files of :func:`atomic_path` for target ``path`` that exist now (leftovers or in use)."""
    path = Path(path)
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        match = _TEMPORARY.match(name)
        if match and match["stem"] == path.stem and match["suffix"] == path.suffix:
            found.append(path.with_name(name))
    return sorted(found)


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of ``path`` taken by :func:`file_lock`: ``<path>.lock`` beside it."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextmanager
def file_lock(path: str | os.PathLike, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive advisory lock (``flock``) on ``<path>.lock`` for the block; yield whether it is held.

    ``wait=True`` blocks until the lock is free (yields True); ``wait=False`` yields False at once when another
    process holds it. The lock file is created if missing (mode 0o666 & ~umask) and never removed (removing it
    would let two processes lock two different files); opening it read-only suffices, so a lock file made by
    another user can be shared. The lock is released when the block ends or the process dies, however.
    Without ``fcntl`` (Windows) nothing is locked and True is yielded.
    """
    if fcntl is None:  # pragma: no cover
        yield True
        return
    handle = os.open(lock_path(path), os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)  # releases the lock


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def remove_stale_temporaries(folder: str | os.PathLike, *, idle: float = 600.0) -> list[Path]:
    """Remove the leftover temporary files of :func:`atomic_path` in ``folder`` (not its subfolders).

    A temporary whose target has a lock file (written under :func:`file_lock`) is removed when that lock is
    free, at once; any other when it has not been modified for ``idle`` seconds (a writer still busy with it
    keeps it fresh). Call it when a run starts, for the folders the run writes to. A missing folder is fine.

    Returns
    -------
    list of Path, the files removed
    """
    folder = Path(folder)
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed, now = [], time.time()
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None:
            continue
        temporary, target = folder / name, folder / (match["stem"] + match["suffix"])
        if lock_path(target).exists():
            try:
                with file_lock(target, wait=False) as held:
                    if held and _unlink(temporary):
                        removed.append(temporary)
            except PermissionError:  # a lock file we may not open: leave it to its owner
                continue
            continue
        try:
            stale = now - temporary.lstat().st_mtime > idle
        except FileNotFoundError:
            continue
        if stale and _unlink(temporary):
            removed.append(temporary)
    return removed
