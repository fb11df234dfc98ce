"""Stores of an older schema: read as they are when read-only, upgraded on a writable open."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from incident_core import Application, open_store
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer, domain
from incident_core.operations import verify
from incident_core.progress import run_to_end
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.slim import inflate
from incident_core.store.sql.store import SqlEventStore
from tests.schema_downgrade import downgrade_to_3

DOWNGRADE = (
    "DROP INDEX incident_events_causation",
    "DROP INDEX incident_events_correlation",
    "DROP INDEX incident_events_type",
    "ALTER TABLE incident_events DROP COLUMN causation_id",
    "ALTER TABLE incident_events DROP COLUMN correlation_id",
    "UPDATE incident_meta SET value = '1' WHERE key = 'schema_version'",
)


def downgrade_to_2(store: SqlEventStore) -> None:
    """Turn a schema-3 store back into schema 2's layout: the ids copied into the metadata
    JSON and both columns, no command id or checksum columns, full indexes."""
    with store.write_engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT position, event_id, metadata, command_id, causation_id, correlation_id "
            "FROM incident_events")).all()
        for position, event_id, stored, *columns in rows:
            full = inflate(event_id, stored, tuple(columns))
            conn.execute(text(
                "UPDATE incident_events SET metadata = :m, causation_id = :c, "
                "correlation_id = :r WHERE position = :p"),
                {"m": json.dumps(full, separators=(",", ":")), "c": full.get("causation_id"),
                 "r": full.get("correlation_id"), "p": position})
        for statement in (
            "DROP INDEX incident_events_causation", "DROP INDEX incident_events_correlation",
            "DROP INDEX incident_events_command",
            "ALTER TABLE incident_events DROP COLUMN command_id",
            "ALTER TABLE incident_events DROP COLUMN checksum",
            "CREATE INDEX incident_events_causation ON incident_events (causation_id)",
            "CREATE INDEX incident_events_correlation ON incident_events (correlation_id)",
            "UPDATE incident_meta SET value = '2' WHERE key = 'schema_version'",
        ):
            conn.execute(text(statement))


def make_bank_store(target: str, *, schema: int) -> tuple[str, list[dict[str, object]]]:
    """A bank store with a completed transfer in the given older schema: (the transfer
    request's event id, every event's public JSON)."""
    with Application.open(target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        app.dispatch(DepositMoney(aggregate_id="A", amount=50))
        app.dispatch(OpenAccount(aggregate_id="B"))
        app.dispatch(RequestTransfer(aggregate_id="T", source_account_number="A",
                                     destination_account_number="B", amount=20))
        requested = app.store.read_stream("T")[0].event_id
        events = [e.to_json() for e in app.store.read_events()]
        store = app.store
        assert isinstance(store, SqlEventStore)
        downgrade_to_3(store)  # a store made today is schema 4
        downgrade_to_2(store)
        if schema == 1:
            with store.write_engine.begin() as conn:
                for statement in DOWNGRADE:
                    conn.execute(text(statement))
    return requested, events


def make_schema_1_store(target: str) -> str:
    return make_bank_store(target, schema=1)[0]


def caused_types(store: object, event_id: str) -> list[str]:
    """The types of the events `event_id` caused (not its command's own events: a command's
    id is its first event's id)."""
    return [e.event_type for e in store.events_with_metadata(  # type: ignore[attr-defined]
        "causation_id", event_id) if e.causation_id != e.metadata.get("command_id")]


def test_a_schema_1_file_is_read_as_it_is_when_read_only(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    requested = make_schema_1_store(str(path))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    names = {p.name for p in tmp_path.iterdir()}
    with open_store(str(path), read_only=True) as store:
        assert isinstance(store, SqlEventStore) and store.schema_version == 1
        assert caused_types(store, requested) == ["MoneySent", "TransferInitiated"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert {p.name for p in tmp_path.iterdir()} == names


def test_a_writable_open_upgrades_and_backfills(shared_target: str) -> None:
    requested = make_schema_1_store(shared_target)
    with Application.open(shared_target, domain) as app:
        store = app.store
        assert isinstance(store, SqlEventStore) and store.schema_version == SCHEMA_VERSION
        assert caused_types(store, requested) == ["MoneySent", "TransferInitiated"]
        correlation = app.store.read_stream("T")[0].correlation_id
        assert correlation is not None
        correlated = store.events_with_metadata("correlation_id", correlation)
        assert [e.event_type for e in correlated] == [
            "TransferRequested", "MoneySent", "TransferInitiated", "MoneyReceived",
            "TransferCompleted"]
        assert app.dispatch(DepositMoney(aggregate_id="B", amount=1)).ok  # new rows fill them
        with store.engine.connect() as conn:
            version = conn.execute(text(
                "SELECT value FROM incident_meta WHERE key = 'schema_version'")).scalar()
            missing = conn.execute(text(
                "SELECT count(*) FROM incident_events WHERE checksum IS NULL")).scalar()
        assert (version, missing) == (str(SCHEMA_VERSION), 0)
    with open_store(shared_target) as again:  # a second open finds nothing to do
        assert again.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", ["causation_id", "correlation_id"])
def test_lookups_use_the_columns_on_a_new_store(shared_target: str, key: str) -> None:
    with Application.open(shared_target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        event = app.store.read_stream("A")[0]
        found = app.store.events_with_metadata(key, event.metadata[key])
        assert [e.event_id for e in found] == [event.event_id]


def test_schema_2_to_3_keeps_every_event_and_id(shared_target: str) -> None:
    requested, events = make_bank_store(shared_target, schema=2)
    with Application.open(shared_target, domain) as app:
        store = app.store
        assert isinstance(store, SqlEventStore) and store.schema_version == SCHEMA_VERSION
        assert [e.to_json() for e in store.read_events()] == events
        assert caused_types(store, requested) == ["MoneySent", "TransferInitiated"]
        assert run_to_end(verify(app)).ok
        with store.engine.connect() as conn:
            metadata = [r[0] for r in conn.execute(text("SELECT metadata FROM incident_events"))]
        assert not any("_id" in m for m in metadata)  # every id stored once, in its column
        assert app.dispatch(DepositMoney(aggregate_id="B", amount=1)).ok


def test_a_schema_2_file_is_read_as_it_is_when_read_only(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    requested, events = make_bank_store(str(path), schema=2)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open_store(str(path), read_only=True) as store:
        assert isinstance(store, SqlEventStore) and store.schema_version == 2
        assert [e.to_json() for e in store.read_events()] == events
        assert caused_types(store, requested) == ["MoneySent", "TransferInitiated"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
