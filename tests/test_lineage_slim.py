"""The slim row-lineage format of the SQL adapters: entries hold the row after the change
(changed fields only, a whole row every LINEAGE_DEPTH entries), and every read folds back
exactly what the in-memory adapter (which keeps whole records) gives; breaks in a row's
history keep their before; a store with the old `incident_lineage` table is read as it is
read-only and converted by its first lineage write."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from incident_core import Application
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.ports import EventStore, LineageEntry
from incident_core.store import open_store
from incident_core.store.sql import schema
from incident_core.store.sql.lineage_format import LINEAGE_DEPTH
from incident_core.store.sql.lineage_legacy import OLD
from incident_core.store.sql.store import SqlEventStore
from incident_core.testing import append, pending

FILE_ADAPTERS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NAMES = ("bank_accounts", "transfers")


@pytest.fixture(params=FILE_ADAPTERS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return str(request.getfixturevalue("pg_url"))


def _scene(app: Application, rounds: int) -> None:
    """A long history: two accounts changed 2 * rounds times, transfers."""
    for key in ("A", "B", "C"):
        app.dispatch(OpenAccount(aggregate_id=key))
    for i in range(rounds):
        app.dispatch(DepositMoney(aggregate_id="A", amount=10 + i))
        app.dispatch(WithdrawMoney(aggregate_id="A", amount=3))
        if i % 5 == 0:
            assert app.dispatch(RequestTransfer(aggregate_id=f"T{i}", source_account_number="A",
                                                destination_account_number="B",
                                                amount=1)).ok


def _plain(entry: LineageEntry) -> tuple[Any, ...]:
    """An entry without what differs between two stores given the same commands (event
    ids and times, in the entry and in the rows)."""
    return (entry.projection, entry.row_key, entry.position, entry.event_type, entry.kind,
            entry.changed_fields, _masked(entry.before), _masked(entry.after))


def _masked(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: "*" if k in ("event_id", "event_date") else v
                                     for k, v in row.items()}


def _lineage(app: Application, *, exact: bool = False) -> tuple[
        dict[tuple[str, str], list[Any]], dict[int, list[Any]]]:
    """Every row's history and every event's changed rows (`exact`: the entries as they
    are; else `_plain`)."""
    plain = (lambda e: e) if exact else _plain
    store = app.store
    rows = {(name, str(r[app.projection(name).spec.key])): [] for name in NAMES
            for r in store.projection_rows(app.projection(name).spec)}
    history = {k: [plain(e) for e in store.row_history(*k)] for k in rows}
    changed = {p: [plain(e) for e in store.rows_changed_at(p, projections=list(NAMES))]
               for p in range(1, store.head() + 1)}
    return history, changed


def test_every_read_folds_back_what_the_memory_adapter_keeps(target: str) -> None:
    rounds = LINEAGE_DEPTH + 7
    with Application.open("memory:", bank_domain, create=True) as reference, \
            Application.open(target, bank_domain, create=True) as app:
        _scene(reference, rounds)
        _scene(app, rounds)
        expected, got = _lineage(reference), _lineage(app)
        assert got == expected
        assert len(expected[0][("bank_accounts", "A")]) > 2 * rounds
        assert any(entries for entries in expected[1].values())
        for entry in app.row_history("bank_accounts", "B"):
            assert app.store.get_event(entry.event_id) is not None
            assert entry.event_id == app.store.read_events(
                after_position=entry.position - 1, limit=1)[0].event_id
        depths = _depths(app.store)
    assert max(depths) == LINEAGE_DEPTH - 1 and depths.count(0) < len(depths) / 3


def _depths(store: EventStore) -> list[int]:
    assert isinstance(store, SqlEventStore)
    with store.engine.connect() as conn:
        return [d for (d,) in conn.execute(select(schema.lineage.c.depth))]


def _json(row: dict[str, Any] | None) -> str | None:
    return None if row is None else json.dumps(row, separators=(",", ":"), sort_keys=True)


# (row, before, after): breaks in a row's history (a row that existed before its first
# entry, lineage missing for a while, a row that was there when the lineage says it was
# deleted) and values JSON tells apart although Python finds them equal.
CHANGES: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [
    ("a", None, {"n": 1, "s": "x"}), ("b", {"n": 9}, {"n": 10}), ("a", {"n": 1, "s": "x"},
                                                                 {"n": 2, "s": "x"}),
    ("a", {"n": 5, "s": "x"}, {"n": 6, "s": "x"}), ("a", {"n": 6, "s": "x"}, {"n": True, "s": "x"}),
    ("a", {"n": True, "s": "x"}, {"n": 1.0, "s": "x"}), ("a", {"n": 1.0, "s": "x"}, None),
    ("a", {"n": 3}, {"n": 3, "t": [1]}), ("a", {"n": 3, "t": [1]}, {"n": 3, "t": [True]}),
    ("b", {"n": 10}, None), ("b", None, {"n": 0})]


def test_breaks_in_a_row_history_and_json_values_read_back_exactly(target: str) -> None:
    store = open_store(target, create=True)
    try:
        append(store, *[pending(f"e{i}", 1) for i in range(len(CHANGES))])
        events = store.read_events()
        entries = [{"projection": "things", "row_key": key, "position": e.position,
                    "event_id": e.event_id, "values_before": _json(before),
                    "values_after": _json(after)}
                   for (key, before, after), e in zip(CHANGES, events, strict=True)]
        with store.transaction() as tx:
            tx.record_lineage(entries[:4])
        for one in entries[4:]:
            with store.transaction() as tx:
                tx.record_lineage([one])
        for key in ("a", "b"):
            history = store.row_history("things", key)
            assert [(h.position, h.before, h.after) for h in history] == [
                (e.position, before, after) for (k, before, after), e
                in zip(CHANGES, events, strict=True) if k == key]
            for h in history:
                assert store.rows_changed_at(h.position, projections=["things"]) == [h]
    finally:
        store.close()


def _make_old(store: SqlEventStore) -> None:
    """Turn the store's lineage back into the old format (whole rows, event ids)."""
    L = schema.lineage
    with store._write_engine.begin() as conn:
        keys = conn.execute(select(L.c.projection, L.c.row_key).distinct()).all()
        rows = [{"projection": e.projection, "row_key": e.row_key, "position": e.position,
                 "event_id": e.event_id, "values_before": _json(e.before),
                 "values_after": _json(e.after)}
                for name, key in keys for e in store.row_history(name, key)]
        OLD.create(conn)
        conn.execute(OLD.insert(), rows)
        conn.execute(text("DROP TABLE incident_row_lineage"))  # constant test DDL


def _file_hash(target: str) -> str:
    return hashlib.sha256(Path(target).read_bytes()).hexdigest()


def test_an_old_format_store_is_read_as_it_is_then_converted(target: str) -> None:
    with Application.open(target, bank_domain, create=True) as app:
        _scene(app, LINEAGE_DEPTH + 3)
        expected = _lineage(app, exact=True)
        assert isinstance(app.store, SqlEventStore)
        _make_old(app.store)
    sqlite = not target.startswith("postgres")
    if sqlite:
        Path(target + "-wal").unlink(missing_ok=True)
        before = _file_hash(target)
    with Application.open(target, bank_domain, read_only=True) as app:
        assert _lineage(app, exact=True) == expected
    if sqlite:
        assert _file_hash(target) == before  # a read-only open wrote nothing
    with Application.open(target, bank_domain) as app:
        assert _lineage(app, exact=True) == expected  # not converted yet: read as it is
        app.dispatch(DepositMoney(aggregate_id="B", amount=7))
        history, changed = _lineage(app, exact=True)
        assert isinstance(app.store, SqlEventStore)
        with app.store.engine.connect() as conn:
            assert not conn.dialect.has_table(conn, OLD.name)
            count = conn.execute(select(func.count()).select_from(schema.lineage)).scalar()
    assert count == sum(len(v) for v in history.values())
    last = history[("bank_accounts", "B")].pop()
    assert (last.event_type, last.kind) == ("MoneyDeposited", "changed")
    assert last.before == expected[0][("bank_accounts", "B")][-1].after
    assert history == expected[0]
    assert {p: v for p, v in changed.items() if p in expected[1]} == expected[1]
