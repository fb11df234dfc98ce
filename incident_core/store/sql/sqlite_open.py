"""Opening a SQLite store file: inspected read-only before anything is written (a file that
is not an Incident store, is corrupt, or has a newer schema is refused and left
byte-for-byte untouched), created whole or not at all, upgraded on a writable open."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from incident_core.errors import CorruptStoreError, NotAStoreError, StoreError, StoreNotFoundError
from incident_core.store.sql import schema
from incident_core.store.sql.lock_wait import lock_timeout
from incident_core.store.sql.meta import SCHEMA_VERSION, check_meta
from incident_core.store.sql.migrations import upgrade
from incident_core.store.sql.open_files import Holding, StoreInUse, hold, read_head
from incident_core.store.sql.sqlite import SQLITE, SYNCHRONOUS_MODES, sqlite_engine
from incident_core.store.sql.sqlite_files import (
    check_writable,
    move_into_place,
    read_without_trace,
    remove_empty_wal,
    structural_problem,
)
from incident_core.store.sql.store import SqlEventStore

__all__ = ["SQLITE_HEADER", "inspect_sqlite", "open_sqlite"]

SQLITE_HEADER = b"SQLite format 3\x00"


def inspect_sqlite(path: Path) -> int:
    """The schema version of the Incident store at `path`. Raises for foreign, corrupt or
    newer files. Opens read-only and creates no file."""
    if read_head(path, len(SQLITE_HEADER)) != SQLITE_HEADER:
        raise NotAStoreError(f"{path} is not an Incident store (not a SQLite database)")
    holding = hold(path)  # released only after SQLite's connection (open_files.py)
    try:
        return _read_version(path)
    finally:
        holding.release()


def _read_version(path: Path) -> int:
    # With no WAL file beside it, the database file is complete: read it as immutable, so
    # SQLite creates no -wal/-shm companions. Otherwise they exist already; read normally.
    has_wal = Path(f"{path}-wal").exists()
    uri = f"file:{quote(str(path.resolve()))}?" + ("mode=ro" if has_wal else "immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=lock_timeout())
        try:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if schema.meta.name not in tables:
                raise NotAStoreError(f"{path} is a SQLite database but not an Incident store")
            return check_meta(conn.execute("SELECT key, value FROM incident_meta"), str(path))
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(f"{path} is locked by another process (waited "
                             f"{lock_timeout():g}s); try again, or wait longer with "
                             "--lock-timeout") from None
        raise CorruptStoreError(f"{path} cannot be read as a store: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise CorruptStoreError(f"{path} cannot be read as a store: {exc}") from None


def open_sqlite(target: str, *, read_only: bool, create: bool,
                 synchronous: str) -> SqlEventStore:
    if synchronous.upper() not in SYNCHRONOUS_MODES:
        raise ValueError(f"unknown synchronous mode {synchronous!r}")
    path = Path(target).expanduser()
    if path.is_dir():
        raise NotAStoreError(f"{path} is a directory, not an Incident store")
    if not path.exists():
        if not create:
            raise StoreNotFoundError(f"no store at {path}; run `incident init` to create one")
        if read_only:
            raise StoreNotFoundError(f"no store at {path}")
        _create_sqlite(path)
    # The file stays registered as open in this process until the store has closed its
    # last SQLite connection (see open_files.py): nothing of ours closes a descriptor of it.
    holding = _hold(path)
    try:
        version = _checked(path, read_only)
    except BaseException:
        holding.release()
        raise
    store = _store(path, read_only, synchronous, holding)
    store.schema_version = version
    if version < SCHEMA_VERSION and not read_only:
        try:
            upgrade(store)
        except BaseException:
            store.close()  # its connections first, then the file's registration
            raise
    return store


def _hold(path: Path) -> Holding:
    try:
        return hold(path)
    except StoreInUse:
        raise StoreError(f"cannot open {path}: this program is deleting it") from None
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc.strerror}") from None


def _checked(path: Path, read_only: bool) -> int:
    """The schema version of the store at `path`, refusing a damaged file for writing."""
    if not read_only and (problem := structural_problem(path)):
        with contextlib.suppress(CorruptStoreError):  # a foreign file is "not a store"
            inspect_sqlite(path)
        raise CorruptStoreError(f"{path} cannot be read as a store: it is damaged ({problem})"
                                "; refusing to write to it (`incident verify --deep` reads "
                                "what is left)")
    version = inspect_sqlite(path)
    if not read_only:
        check_writable(path)
    return version


def _store(path: Path, read_only: bool, synchronous: str, holding: Holding) -> SqlEventStore:
    engine = sqlite_engine(path, read_only=read_only, synchronous=synchronous,
                           immutable=read_only and read_without_trace(path))
    tidy = read_only and not any(Path(f"{path}{s}").exists() for s in ("-wal", "-shm"))

    def closed() -> None:  # after the store's last connection is closed
        try:
            if tidy:
                remove_empty_wal(path)
        finally:
            holding.release()

    return SqlEventStore(engine, str(path), read_only=read_only, sql_dialect=SQLITE,
                         write_engine=engine.execution_options(sqlite_begin="IMMEDIATE"),
                         on_close=closed)


def _create_sqlite(path: Path) -> None:
    """Create a store at `path` whole or not at all: built beside it under a temporary name,
    then linked into place (never over a file another process created meanwhile)."""
    if not path.parent.exists():
        raise StoreError(f"cannot create {path}: folder {path.parent} does not exist")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.creating")
    try:
        holding = hold(temporary, create=True)  # until SQLite is done with it
        try:
            engine = sqlite_engine(temporary, read_only=False, synchronous="FULL")
            store = SqlEventStore(engine, str(temporary), read_only=False, sql_dialect=SQLITE)
            try:
                store.create_schema()
                _checkpoint_whole(engine, temporary)
            finally:
                store.close()
        finally:
            holding.release()
        move_into_place(temporary, path)
    except (StoreError, sa_exc.SQLAlchemyError, sqlite3.Error, OSError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError)
                  else str(getattr(exc, "orig", None) or exc))  # the driver's own words
        raise StoreError(f"cannot create {path}: {reason}; nothing was left behind") from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.remove(f"{temporary}{suffix}")


def _checkpoint_whole(engine: Engine, path: Path) -> None:
    """Move every page out of the new store's WAL into its file, or fail: only the file is
    linked into place, so a checkpoint cut short (a full disk) must not pass unnoticed."""
    with engine.connect() as conn:
        busy, log, done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy or log != done or structural_problem(path):
        raise StoreError("its pages could not all be written (is the disk full?)")
