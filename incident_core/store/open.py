"""Opening a store from a target: a SQLite file path, a SQLAlchemy URL, or `memory:`.

A target is inspected read-only before anything is written: a file that is not an Incident
store, is corrupt, or has a newer schema is refused and left byte-for-byte untouched.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

from incident_core.errors import (
    CorruptStoreError,
    NewerSchemaError,
    NotAStoreError,
    StoreError,
    StoreNotFoundError,
)
from incident_core.ports import EventStore
from incident_core.store.memory import MemoryEventStore
from incident_core.store.sql import schema
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.lock_wait import waiting_for_lock
from incident_core.store.sql.meta import SCHEMA_VERSION, STORE_FORMAT, format_rows
from incident_core.store.sql.sqlite_files import (
    StoreInUse,
    check_writable,
    move_into_place,
    read_without_trace,
    remove_empty_wal,
    remove_store_files,
    structural_problem,
)
from incident_core.store.sql.store import SqlEventStore

__all__ = [
    "BUSY_TIMEOUT_S",
    "describe_target",
    "is_url",
    "lock_timeout",
    "open_store",
    "remove_sqlite_files",
    "set_lock_timeout",
]

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0
_settings = {"lock_timeout": BUSY_TIMEOUT_S}
_MEMORY_TARGETS = ("memory:", ":memory:")
_QUERY_PASSWORD = re.compile(r"((?:^|[?&;])(?:password|passwd|pwd)=)[^&;]*", re.IGNORECASE)


def is_url(target: str) -> bool:
    return "://" in target


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


def set_lock_timeout(seconds: float) -> None:
    """How long SQLite stores opened from now on wait for another process's lock before
    failing with "the store is locked" (default BUSY_TIMEOUT_S)."""
    _settings["lock_timeout"] = seconds


def lock_timeout() -> float:
    """The current lock wait, in seconds (see set_lock_timeout)."""
    return _settings["lock_timeout"]


def open_store(target: str, *, read_only: bool = False, create: bool = False,
               synchronous: str = "FULL") -> EventStore:
    """Open (or with `create=True`, create) the store at `target`."""
    if target in _MEMORY_TARGETS:
        return MemoryEventStore(read_only=read_only)
    if is_url(target):
        try:
            url = _parse_url(target)
        except (sa_exc.ArgumentError, ValueError):
            # Not the parser's message: it may quote the whole URL, password included.
            raise StoreError(f"{describe_target(target)} is not a valid database URL (expected "
                             "postgresql+psycopg://user:password@host:port/database)") from None
        if url.get_backend_name() == "sqlite":
            return _open_sqlite(url.database or "", read_only=read_only, create=create,
                                synchronous=synchronous)
        return _open_server(url.render_as_string(hide_password=False), read_only=read_only,
                            create=create)
    return _open_sqlite(target, read_only=read_only, create=create, synchronous=synchronous)


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


# -- SQLite ------------------------------------------------------------------------------
def _check_meta(read: Any, where: str) -> int:
    """Refuse anything but an Incident store of a schema this version understands."""
    rows = {str(key): str(value) for key, value in read()}
    if rows.get("format") != STORE_FORMAT:
        raise NotAStoreError(f"{where} is not an Incident store")
    try:
        version = int(rows.get("schema_version", "0"))
    except ValueError:
        raise CorruptStoreError(f"{where} has an unreadable schema version") from None
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"{where} has store schema {version}, newer than this Incident understands "
            f"({SCHEMA_VERSION}); upgrade Incident to open it")
    return version


def _inspect_sqlite(path: Path) -> int:
    """The schema version of the Incident store at `path`. Raises for foreign, corrupt or
    newer files. Opens read-only and creates no file."""
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise NotAStoreError(f"{path} is not an Incident store (not a SQLite database)")
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
            return _check_meta(lambda: conn.execute("SELECT key, value FROM incident_meta"),
                               str(path))
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
    return True


def _sqlite_engine(path: Path, *, read_only: bool, synchronous: str,
                   immutable: bool = False) -> Engine:
    mode = "?immutable=1" if immutable else "?mode=ro" if read_only else ""
    uri = f"file:{quote(str(path.resolve()))}{mode}"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                               timeout=lock_timeout())
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout() * 1000)}")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        return conn

    engine = create_engine("sqlite+pysqlite://", creator=connect, poolclass=QueuePool,
                           pool_size=4, max_overflow=16)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # The driver runs in autocommit; we issue BEGIN ourselves: IMMEDIATE takes the write
        # lock up front for writers (no deadlock on lock upgrade), deferred for readers.
        # Straight on the driver connection: this runs for every transaction.
        immediate = conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
        if not immediate:
            conn.connection.dbapi_connection.execute("BEGIN")
            return
        with waiting_for_lock(f"the write lock on {path} (another process is writing)"):
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")

    return engine


def _open_sqlite(target: str, *, read_only: bool, create: bool,
                 synchronous: str) -> SqlEventStore:
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
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
    if not read_only and (problem := structural_problem(path)):
        with contextlib.suppress(CorruptStoreError):  # a foreign file is "not a store"
            _inspect_sqlite(path)
        raise CorruptStoreError(f"{path} cannot be read as a store: it is damaged ({problem})"
                                "; refusing to write to it (`incident verify --deep` reads "
                                "what is left)")
    version = _inspect_sqlite(path)
    if not read_only:
        check_writable(path)
    engine = _sqlite_engine(path, read_only=read_only, synchronous=synchronous,
                            immutable=read_only and read_without_trace(path))
    tidy = None
    if read_only and not any(Path(f"{path}{s}").exists() for s in ("-wal", "-shm")):
        tidy = lambda: remove_empty_wal(path)  # noqa: E731
    store = SqlEventStore(engine, str(path), read_only=read_only,
                          write_engine=engine.execution_options(sqlite_begin="IMMEDIATE"),
                          on_close=tidy)
    store.schema_version = version
    if version < SCHEMA_VERSION and not read_only:
        _upgrade(store)
    return store


def _create_sqlite(path: Path) -> None:
    """Create a store at `path` whole or not at all: built beside it under a temporary name,
    then linked into place (never over a file another process created meanwhile)."""
    if not path.parent.exists():
        raise StoreError(f"cannot create {path}: folder {path.parent} does not exist")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.creating")
    try:
        engine = _sqlite_engine(temporary, read_only=False, synchronous="FULL")
        store = SqlEventStore(engine, str(temporary), read_only=False)
        try:
            _initialise_sqlite(store, temporary)
            _checkpoint_whole(engine, temporary)
        finally:
            store.close()
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


def _upgrade(store: SqlEventStore) -> None:
    from incident_core.store.sql.migrations import migrate

    try:
        migrate(store)
    except BaseException:
        store.close()
        raise


def _initialise_sqlite(store: SqlEventStore, path: Path) -> None:
    store.create_schema()
    _write_meta(store)


def _write_meta(store: SqlEventStore) -> None:
    store.add_meta({row["key"]: row["value"] for row in format_rows()})


# -- server databases (PostgreSQL) -------------------------------------------------------
def _open_server(target: str, *, read_only: bool, create: bool) -> SqlEventStore:
    where = describe_target(target)
    if make_url(target).get_backend_name() != "postgresql":
        raise StoreError(f"cannot use {where}: Incident stores are SQLite files or PostgreSQL "
                         "databases (postgresql+psycopg://...)")
    try:  # here, not at the top: psycopg is the optional `postgres` extra
        from incident_core.store.sql.postgres import (
            PostgresEventStore,
            postgres_engine,
        )
    except ImportError:
        raise StoreError("PostgreSQL needs psycopg 3: pip install 'incident[postgres]'") from None
    try:
        engine = postgres_engine(target, read_only=read_only)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"cannot use {where}: {exc}") from None
    store = PostgresEventStore(engine, where, read_only=read_only)
    try:
        with engine.connect() as conn:
            # One catalogue query, one snapshot: a store that another process is creating
            # right now (in one transaction) is seen either complete or not at all.
            names = set(engine.dialect.get_table_names(conn))
            has_meta = schema.meta.name in names
            if has_meta:
                store.schema_version = _check_meta(
                    lambda: conn.execute(select(schema.meta.c.key, schema.meta.c.value)), where)
            elif names and not create:
                raise NotAStoreError(f"{where} is a database but not an Incident store")
            elif names:
                raise NotAStoreError(f"{where} already holds other tables; "
                                     "refusing to turn it into an Incident store")
            elif not create:
                raise StoreNotFoundError(f"no store at {where} (run `incident init`)")
        if not has_meta:
            store.create_schema()  # with the meta rows, in one transaction
        elif store.schema_version < SCHEMA_VERSION and not read_only:
            _upgrade(store)
    except sa_exc.SQLAlchemyError as exc:
        store.close()
        raise translate_errors(exc) from exc
    except StoreError:
        store.close()
        raise
    return store


def remove_sqlite_files(path: str) -> None:
    """Delete a SQLite store and its companions (tests, `incident demo --fresh`); refuses
    with StoreError while another process has it open."""
    try:
        remove_store_files(path)
    except StoreInUse:
        raise StoreError(f"{path} is open in another process; close it there first "
                         "(nothing was deleted)") from None
    except OSError as exc:
        raise StoreError(f"cannot delete {path}: {exc.strerror}") from None
