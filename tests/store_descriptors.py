"""Which files of a store this process holds descriptors of (read in /proc/self/fd)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def open_files_of(db: Path) -> list[str]:
    """The files of the store at `db` (itself, -wal, -shm) this process has descriptors of."""
    prefix = str(db.resolve())
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the descriptor of the listing itself
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(prefix):
                found.append(target[len(prefix):] or "the database")
    return sorted(found)
