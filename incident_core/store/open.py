"""Opening a store from a target: a SQLite file path, a SQLAlchemy URL, or `memory:`.

A target is inspected read-only before anything is written: a file that is not an Incident
store, is corrupt, or has a newer schema is refused and left byte-for-byte untouched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from urllib.parse import unquote

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from incident_core.errors import StoreError
from incident_core.ports import EventStore
from incident_core.store.memory import MemoryEventStore
from incident_core.store.sql.lock_wait import BUSY_TIMEOUT_S, lock_timeout, set_lock_timeout
from incident_core.store.sql.open_files import held_here
from incident_core.store.sql.sqlite_files import (
    STORE_FILE_SUFFIXES,
    StoreInUse,
    remove_store_files,
)
from incident_core.store.sql.sqlite_open import open_sqlite

__all__ = [
    "BUSY_TIMEOUT_S",
    "STORE_FILE_SUFFIXES",
    "describe_target",
    "held_here",
    "is_url",
    "lock_timeout",
    "open_store",
    "remove_sqlite_files",
    "set_lock_timeout",
    "sqlite_file",
]

_MEMORY_TARGETS = ("memory:", ":memory:")
_QUERY_PASSWORD = re.compile(r"((?:^|[?&;])(?:password|passwd|pwd)=)[^&;]*", re.IGNORECASE)


def is_url(target: str) -> bool:
    return "://" in target


def is_memory(target: str) -> bool:
    """`memory:` (or `:memory:`): a store that lives as long as its application."""
    return target in _MEMORY_TARGETS


def describe_target(target: str) -> str:
    """A target for display, with no part of any password: the user-info of a URL is cut at
    its last `@` (a password may itself hold `@`, `:` or `/`), and `password=` query values
    are hidden too."""
    if not is_url(target):
        return target
    scheme, _, rest = target.partition("://")
    if "@" in rest:
        userinfo, _, place = rest.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        rest = f"{user}:***@{place}" if has_password else f"{user}@{place}"
    return scheme + "://" + _QUERY_PASSWORD.sub(r"\1***", rest)


def open_store(target: str, *, read_only: bool = False, create: bool = False,
               synchronous: str = "FULL") -> EventStore:
    """Open (or with `create=True`, create) the store at `target`."""
    if is_memory(target):
        return MemoryEventStore(read_only=read_only)
    if is_url(target):
        try:
            url = _parse_url(target)
        except (sa_exc.ArgumentError, ValueError):
            # Not the parser's message: it may quote the whole URL, password included.
            raise StoreError(f"{describe_target(target)} is not a valid database URL (expected "
                             "postgresql+psycopg://user:password@host:port/database)") from None
        opener = _OPENERS.get(url.get_backend_name())
        if opener is None:
            raise StoreError(f"cannot use {describe_target(target)}: Incident stores are SQLite "
                             "files or PostgreSQL databases (postgresql+psycopg://...)")
        return opener(url, read_only, create, synchronous)
    return open_sqlite(target, read_only=read_only, create=create, synchronous=synchronous)


def _parse_url(target: str) -> URL:
    """A URL whose password may hold an unescaped `@`: the user-info ends at the last `@`
    (SQLAlchemy's parser ends it at the first, taking the rest of the password as the host)."""
    scheme, _, rest = target.partition("://")
    if rest.count("@") < 2:
        return make_url(target)
    userinfo, _, place = rest.rpartition("@")
    user, _, password = userinfo.partition(":")
    return make_url(f"{scheme}://{place}").set(username=unquote(user) or None,
                                               password=unquote(password) or None)


def _open_sqlite_url(url: URL, read_only: bool, create: bool, synchronous: str) -> EventStore:
    return open_sqlite(url.database or "", read_only=read_only, create=create,
                       synchronous=synchronous)


def _open_server(url: URL, read_only: bool, create: bool, synchronous: str) -> EventStore:
    target = url.render_as_string(hide_password=False)
    try:  # here, not at the top: psycopg is the optional `postgres` extra
        from incident_core.store.sql.postgres import open_postgres
    except ImportError:
        raise StoreError("PostgreSQL needs psycopg 3: pip install 'incident[postgres]'") from None
    return open_postgres(target, describe_target(target), read_only=read_only, create=create)


# The adapter of each URL scheme's backend (SQLAlchemy's dialect name).
_OPENERS: dict[str, Callable[[URL, bool, bool, str], EventStore]] = {
    "sqlite": _open_sqlite_url, "postgresql": _open_server}


def sqlite_file(target: str) -> str | None:
    """The file of a SQLite target (None for memory: and server URLs)."""
    if is_memory(target):
        return None
    if not is_url(target):
        return os.path.expanduser(target)
    url = make_url(target)
    if _OPENERS.get(url.get_backend_name()) is not _open_sqlite_url:
        return None
    return url.database or None


def remove_sqlite_files(path: str) -> None:
    """Delete a SQLite store and its companions (tests, `incident demo --fresh`); refuses
    with StoreError while another process, or a store of this one, has it open."""
    try:
        remove_store_files(path)
    except StoreInUse as exc:  # in another process, or in this one (see open_files.py)
        raise StoreError(f"{exc.strerror} (nothing was deleted)") from None
    except OSError as exc:
        raise StoreError(f"cannot delete {path}: {exc.strerror}") from None
