"""`incident events` on a SQLite store file with the stdlib driver alone.

Listing events needs no domain, no pydantic and no SQLAlchemy: importing those costs most of
a listing's time. For a plain file target this module reads the file with `sqlite3` and
builds the events with the store's own row builders (`store.sql.stored_events.page3` / `page4`), so
the output is the same objects, printed by the same code.

It only ever serves a store it recognises completely: a SQLite file whose `incident_meta`
says it is an Incident store of schema 3 or 4 and whose first page reads cleanly. Anything else
(a URL, a missing, foreign, corrupt, newer or older file, a lock) returns None, and the
command takes the ordinary path, whose checks refuse what must be refused with their own
messages. The file is opened the way the ordinary read-only open does it (read-only, or
immutable where SQLite could not remove its companions; empty companions it caused are
removed on close), so it is left byte-for-byte as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from incident_core.collector import collector_paused

if TYPE_CHECKING:
    import argparse

    from incident_core.envelope import RecordedEvent

__all__ = ["QUICK_SCHEMAS", "quick_events"]

# the schema versions served: their row layouts are what `page3` and `page4` build events from
QUICK_SCHEMAS = ("3", "4", "5", "6")
_HEADER = b"SQLite format 3\x00"
_COLUMNS = ("SELECT position, event_id, aggregate_id, aggregate_type, event_type, version, "
            "recorded_at, data, metadata, schema_version, command_id, causation_id, "
            "correlation_id{} FROM incident_events WHERE position > ?")
_ORDER = " ORDER BY position LIMIT ?"
_TYPES = " AND event_type IN (SELECT value FROM json_each(?))"  # the types: one JSON array
# (schema, aggregate filter?, type filter?) -> the statement
_EVENTS = {
    (schema, aggregate, types): _COLUMNS.format(extra)
    + (" AND aggregate_id = ?" if aggregate else "") + (_TYPES if types else "") + _ORDER
    for schema, extra in (("3", ""), ("4", ", command_type"))
    for aggregate in (False, True) for types in (False, True)
}
_META = "SELECT key, value FROM incident_meta"


def _file_of(args: argparse.Namespace) -> Path | None:
    from incident_core.cli.context import target_of

    target = target_of(args)
    if "://" in target or target in ("memory:", ":memory:"):
        return None
    path = Path(target).expanduser()
    return path if path.is_file() else None


def _open(path: Path, wait: float) -> tuple[sqlite3.Connection, bool, str] | None:
    """A read-only connection to the store at `path` (whether to tidy its companions after,
    its schema version), or None when it is not a complete Incident store of a schema in
    QUICK_SCHEMAS."""
    from incident_core.store.sql.open_files import read_head
    from incident_core.store.sql.sqlite_files import read_without_trace

    if read_head(path, len(_HEADER)) != _HEADER:  # never closes a file SQLite locks here
        return None
    tidy = not any(Path(f"{path}{s}").exists() for s in ("-wal", "-shm"))
    mode = "immutable=1" if read_without_trace(path) else "mode=ro"
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?{mode}", uri=True,
                           timeout=wait, isolation_level=None)
    try:
        meta = {str(k): str(v) for k, v in conn.execute(_META)}
    except sqlite3.Error:
        _close(conn, path, tidy)
        raise
    schema = meta.get("schema_version", "")
    if meta.get("format") != "incident-store" or schema not in QUICK_SCHEMAS:
        _close(conn, path, tidy)
        return None
    return conn, tidy, "3" if schema == "3" else "4"  # 5, 6: lineage, checkpoints only


def _key(schema: str, args: argparse.Namespace) -> tuple[str, bool, bool]:
    return schema, bool(args.aggregate), bool(args.type)


def _pages(conn: sqlite3.Connection, key: tuple[str, bool, bool], args: argparse.Namespace,
           page: int, first: list[RecordedEvent]) -> Iterator[RecordedEvent]:
    """`first`, then the following pages, in position order (`--after`, `--limit`)."""
    from incident_core.store.sql.errors import translate_errors

    left = None if args.limit is None else args.limit - len(first)
    batch = first
    while batch:
        yield from batch
        if len(batch) < page or (left is not None and left <= 0):
            return
        try:
            batch = _read(conn, key, args, batch[-1].position,
                          page if left is None else min(page, left))
        except sqlite3.Error as exc:
            raise translate_errors(exc) from None
        left = None if left is None else left - len(batch)


def _read(conn: sqlite3.Connection, key: tuple[str, bool, bool], args: argparse.Namespace,
          after: int, limit: int) -> list[RecordedEvent]:
    import json

    from incident_core.store.sql.stored_events import page3, page4

    build = page4 if key[0] == "4" else page3
    params: list[Any] = [after]
    if key[1]:
        params.append(args.aggregate)
    if key[2]:
        params.append(json.dumps(list(args.type)))
    params.append(limit)
    with collector_paused():
        conn.execute("BEGIN")  # one snapshot per page, as the ordinary read path
        try:
            return build(conn.execute(_EVENTS[key], params))
        finally:
            conn.execute("COMMIT")


def quick_events(args: argparse.Namespace, page: int) -> Iterator[RecordedEvent] | None:
    """The events `incident events` lists, read with `sqlite3` alone; None when this store
    is not one to read that way (the caller then opens it the ordinary way)."""
    path = _file_of(args)
    if path is None or args.limit == 0:
        return None
    from incident_core.store.sql.open_files import hold

    try:  # registered while SQLite has it open here (store/sql/open_files.py)
        holding = hold(path)
    except OSError:
        return None
    events = _events(path, args, page, holding.release)
    if events is None:
        holding.release()
    return events


def _events(path: Path, args: argparse.Namespace, page: int,
            release: Callable[[], None]) -> Iterator[RecordedEvent] | None:
    from incident_core.store.sql.lock_wait import lock_timeout

    wait = getattr(args, "lock_timeout", None)
    try:
        opened = _open(path, lock_timeout() if wait is None else wait)
    except (OSError, sqlite3.Error):
        return None
    if opened is None:
        return None
    conn, tidy, schema = opened
    key = _key(schema, args)
    try:
        first = _read(conn, key, args, args.after,
                      page if args.limit is None else min(page, args.limit))
    except (sqlite3.Error, ValueError, TypeError, KeyError):
        _close(conn, path, tidy)
        return None  # the ordinary path says what is wrong with this store
    return _closing_after(conn, path, tidy, _pages(conn, key, args, page, first), release)


def _closing_after(conn: sqlite3.Connection, path: Path, tidy: bool,
                   events: Iterator[RecordedEvent],
                   release: Callable[[], None]) -> Iterator[RecordedEvent]:
    try:
        yield from events
    finally:
        try:
            _close(conn, path, tidy)
        finally:
            release()


def _close(conn: sqlite3.Connection, path: Path, tidy: bool) -> None:
    from incident_core.store.sql.sqlite_files import remove_empty_wal

    with closing(conn):
        pass
    if tidy:
        remove_empty_wal(path)
