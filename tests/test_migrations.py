"""Stores of an older schema: read as they are when read-only, upgraded on a writable open."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from incident_core import Application, open_store
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer, domain
from incident_core.store.sql import SqlEventStore

DOWNGRADE = (
    "DROP INDEX incident_events_causation",
    "DROP INDEX incident_events_correlation",
    "DROP INDEX incident_events_type",
    "ALTER TABLE incident_events DROP COLUMN causation_id",
    "ALTER TABLE incident_events DROP COLUMN correlation_id",
    "UPDATE incident_meta SET value = '1' WHERE key = 'schema_version'",
)


def make_schema_1_store(target: str) -> str:
    """A bank store with a completed transfer, turned back into the schema-1 layout."""
    with Application.open(target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        app.dispatch(DepositMoney(aggregate_id="A", amount=50))
        app.dispatch(OpenAccount(aggregate_id="B"))
        app.dispatch(RequestTransfer(aggregate_id="T", source_account_number="A",
                                     destination_account_number="B", amount=20))
        requested = app.store.read_stream("T")[0].event_id
        store = app.store
        assert isinstance(store, SqlEventStore)
        with store._write_engine.begin() as conn:
            for statement in DOWNGRADE:
                conn.execute(text(statement))
    return requested


def caused_types(store: object, event_id: str) -> list[str]:
    return [e.event_type for e in store.events_with_metadata(  # type: ignore[attr-defined]
        "causation_id", event_id)]


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
        assert isinstance(store, SqlEventStore) and store.schema_version == 2
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
                "SELECT count(*) FROM incident_events WHERE correlation_id IS NULL")).scalar()
        assert (version, missing) == ("2", 0)
    with open_store(shared_target) as again:  # a second open finds nothing to do
        assert again.schema_version == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", ["causation_id", "correlation_id"])
def test_lookups_use_the_columns_on_a_new_store(shared_target: str, key: str) -> None:
    with Application.open(shared_target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        event = app.store.read_stream("A")[0]
        found = app.store.events_with_metadata(key, event.metadata[key])
        assert [e.event_id for e in found] == [event.event_id]
