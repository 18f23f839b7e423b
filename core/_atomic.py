"""Atomic file writes for the whole project: a file appears whole, with ordinary permissions, or not at all.

:func:`atomic_path` yields a temporary path next to the target; whatever the caller writes there is renamed over
the target with ``os.replace`` (atomic on POSIX and Windows within one folder) only if the block succeeds.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path"]


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
    removed and ``path`` is left untouched.
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
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
