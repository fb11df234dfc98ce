"""A store file identifies itself; anything else is refused and left byte-for-byte untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from incident_core import (
    Application,
    CorruptStoreError,
    NewerSchemaError,
    NotAStoreError,
    ReadOnlyError,
    StoreNotFoundError,
    open_store,
)
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from incident_core.store.sql.meta import SCHEMA_VERSION


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def make_store(path: Path) -> None:
    with Application.open(str(path), domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        app.dispatch(DepositMoney(aggregate_id="A", amount=5))


def assert_refused(path: Path, error: type[Exception], *, create: bool = False,
                   read_only: bool = False) -> str:
    before, names = digest(path), files_in(path.parent)
    with pytest.raises(error) as info:
        open_store(str(path), create=create, read_only=read_only)
    assert digest(path) == before
    assert files_in(path.parent) == names
    return str(info.value)


def test_a_new_store_is_wal_with_durable_commits(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    make_store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert dict(conn.execute("SELECT key, value FROM incident_meta")) == {
        "format": "incident-store", "schema_version": str(SCHEMA_VERSION)}
    conn.close()
    store = open_store(str(path))
    with store.engine.connect() as c:  # type: ignore[attr-defined]
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.close()


@pytest.mark.parametrize("create", [False, True])
@pytest.mark.parametrize("content", [b"hello, I am a text file\n",
                                     b"\x89PNG\r\n\x1a\n" + b"x" * 200, b""],
                         ids=["text", "png", "empty"])
def test_foreign_files_are_refused_untouched(tmp_path: Path, content: bytes,
                                             create: bool) -> None:
    path = tmp_path / "foreign.sqlite3"
    path.write_bytes(content)
    message = assert_refused(path, NotAStoreError, create=create)
    assert "not an Incident store" in message


def test_another_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.execute("INSERT INTO people VALUES ('Ada')")
    conn.commit()
    conn.close()
    assert_refused(path, NotAStoreError, create=True)
    assert_refused(path, NotAStoreError, read_only=True)


def test_a_corrupt_store_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite3"
    make_store(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xde\xad\xbe\xef" * ((4096 - 100) // 4)
    path.write_bytes(bytes(data))
    assert_refused(path, CorruptStoreError)


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    make_store(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE incident_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    message = assert_refused(path, NewerSchemaError)
    assert "99" in message and "upgrade" in message


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError):
        open_store(str(tmp_path / "missing.sqlite3"))
    with pytest.raises(StoreNotFoundError):
        open_store(str(tmp_path / "missing.sqlite3"), read_only=True)
    assert files_in(tmp_path) == set()


def test_read_only_is_enforced_by_the_database_and_changes_no_byte(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    make_store(path)
    before, names = digest(path), files_in(tmp_path)
    with Application.open(str(path), domain, read_only=True) as app:
        assert app.state("A") is not None
        assert len(app.store.read_events()) == 2
        with pytest.raises(ReadOnlyError):
            app.dispatch(DepositMoney(aggregate_id="A", amount=1))
        app.store.read_only = False  # bypass our own guard: SQLite itself must refuse
        with pytest.raises(ReadOnlyError):
            app.dispatch(DepositMoney(aggregate_id="A", amount=1))
    assert digest(path) == before
    assert files_in(tmp_path) == names


def test_create_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    make_store(path)
    with Application.open(str(path), domain, create=True) as app:
        assert app.store.head() == 2
