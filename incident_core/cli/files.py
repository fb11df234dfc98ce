"""Files the `incident` command writes or deletes, handled so that nothing is destroyed by
mistake: an output never lands on the store's own files, is written beside its target and
renamed into place only when complete, and a store is deleted only when no one has it open.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from typing import TextIO, TypeVar

from incident_core.cli.context import sqlite_path
from incident_core.cli.output import STORE, USAGE, Exit

__all__ = ["refuse_store_files", "write_beside"]

T = TypeVar("T")
_ENVIRONMENT = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS)


def refuse_store_files(file: str, target: str) -> None:
    """Exit 2 if `file` is the SQLite store at `target` or one of its companions (`-wal`,
    `-shm`, `-journal`), by name, symlink or hard link."""
    from incident_core.store.sql.sqlite_files import is_store_file

    path = sqlite_path(target)
    if path is None:
        return
    own = is_store_file(file, path)
    if own is not None:
        raise Exit(USAGE, f"{file} is the store's own file {own}; write to another file "
                          "(nothing was written)")


def _cannot_write(file: str, error: OSError) -> Exit:
    reason = error.strerror or str(error)
    code = STORE if error.errno in _ENVIRONMENT else USAGE
    return Exit(code, f"cannot write {file}: {reason} (nothing was written)")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_beside(file: str, write: Callable[[TextIO], T]) -> T:
    """Run `write` on a new temporary file beside `file`, then rename it to `file`. On any
    failure the temporary file is removed and `file` is left as it was."""
    folder = os.path.dirname(os.path.abspath(file))
    if os.path.isdir(file):
        raise Exit(USAGE, f"cannot write {file}: it is a directory (nothing was written)")
    try:
        fd, partial = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(file)}.",
                                       suffix=".partial")
    except OSError as exc:
        raise _cannot_write(file, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as `open` would have created it
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            result = write(fp)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(partial, file)
    except OSError as exc:
        raise _cannot_write(file, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
    return result
