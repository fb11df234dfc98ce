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


def _lineage(app: Application) -> tuple[dict[tuple[str, str], list[LineageEntry]],
                                         dict[int, list[LineageEntry]]]:
    """Every row's history and every event's changed rows."""
    store = app.store
    rows = {(name, str(r[app.projection(name).spec.key])): [] for name in NAMES
            for r in store.projection_rows(app.projection(name).spec)}
    history = {k: store.row_history(*k) for k in rows}
    changed = {p: store.rows_changed_at(p, projections=list(NAMES))
               for p in range(1, store.head() + 1)}
    return history, changed


def test_every_read_folds_back_what_the_memory_adapter_keeps(target: str) -> None:
    """The memory adapter keeps whole records: given the same events (imported, with their
    ids and times), every entry read from the slim format equals its own."""
    rounds = LINEAGE_DEPTH + 7
    with Application.open(target, bank_domain, create=True) as app, \
            Application.open("memory:", bank_domain, create=True) as reference:
        _scene(app, rounds)
        reference.import_events([e.to_json() for e in app.store.read_events()])
        expected, got = _lineage(reference), _lineage(app)
        assert got == expected
        assert len(expected[0][("bank_accounts", "A")]) > 2 * rounds
        spec = app.projection("bank_accounts").spec
        for row in app.store.projection_rows(spec):  # the last after is the row
            last = expected[0][("bank_accounts", str(row[spec.key]))][-1].after
            assert last == json.loads(json.dumps(row, default=str))
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
    ("b", {"n": 10}, None), ("b", None, {"n": 0.0}), ("b", {"n": 0.0}, {"n": -0.0}),
    ("b", {"n": -0.0}, {"n": False})]


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
            assert [(h.position, _json(h.before), _json(h.after)) for h in history] == [
                (e.position, _json(before), _json(after)) for (k, before, after), e
                in zip(CHANGES, events, strict=True) if k == key]  # as JSON: 1 != true
            for h in history:
                assert store.rows_changed_at(h.position, projections=["things"]) == [h]
    finally:
        store.close()


def _make_old(store: SqlEventStore) -> None:
    """Turn the store's lineage back into the old format (whole rows, event ids)."""
    L, N = schema.lineage, schema.lineage_names
    with store._write_engine.begin() as conn:
        keys = conn.execute(select(N.c.name, L.c.row_key).distinct()
                            .join(N, N.c.id == L.c.projection)).all()
        assert keys
        rows = [{"projection": e.projection, "row_key": e.row_key, "position": e.position,
                 "event_id": e.event_id, "values_before": _json(e.before),
                 "values_after": _json(e.after)}
                for name, key in keys for e in store.row_history(name, key)]
        OLD.create(conn)
        conn.execute(OLD.insert(), rows)
        for name in ("incident_row_lineage", "incident_lineage_names"):
            conn.execute(text(f"DROP TABLE {name}"))  # constant test DDL


def _file_hash(target: str) -> str:
    return hashlib.sha256(Path(target).read_bytes()).hexdigest()


def test_an_old_format_store_is_read_as_it_is_then_converted(target: str) -> None:
    with Application.open(target, bank_domain, create=True) as app:
        _scene(app, LINEAGE_DEPTH + 3)
        expected = _lineage(app)
        assert isinstance(app.store, SqlEventStore)
        _make_old(app.store)
    sqlite = not target.startswith("postgres")
    if sqlite:
        Path(target + "-wal").unlink(missing_ok=True)
        before = _file_hash(target)
    with Application.open(target, bank_domain, read_only=True) as app:
        assert _lineage(app) == expected
    if sqlite:
        assert _file_hash(target) == before  # a read-only open wrote nothing
    with Application.open(target, bank_domain) as app:
        assert _lineage(app) == expected  # not converted yet: read as it is
        app.dispatch(DepositMoney(aggregate_id="B", amount=7))
        history, changed = _lineage(app)
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


def _garbage(store: SqlEventStore) -> int:
    """Entries filed under no name (a cleared or replaced lineage's, not deleted yet)."""
    L, N = schema.lineage, schema.lineage_names
    with store.engine.connect() as conn:
        orphans = select(func.count()).select_from(L).outerjoin(
            N, N.c.id == L.c.projection).where(N.c.name.is_(None))
        return int(conn.execute(orphans).scalar_one())


def test_a_rebuild_moves_a_name_and_later_writes_delete_the_old_entries(
        target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from incident_core.operations.rebuild import rebuild
    from incident_core.progress import run_to_end
    from incident_core.store.sql import lineage as sql_lineage

    monkeypatch.setattr(sql_lineage, "GC_BATCH", 10)
    with Application.open(target, bank_domain, create=True) as app:
        _scene(app, 12)
        expected = _lineage(app)
        run_to_end(rebuild(app, list(NAMES)))
        assert isinstance(app.store, SqlEventStore)
        left = _garbage(app.store)
        assert left > 10 and _lineage(app) == expected  # the swap only moved names
        while left:
            app.dispatch(DepositMoney(aggregate_id="C", amount=1))
            now = _garbage(app.store)
            assert left - 10 <= now < left  # ten at a time
            left = now
        history, changed = _lineage(app)
        assert history[("bank_accounts", "A")] == expected[0][("bank_accounts", "A")]
        assert {p: changed[p] for p in expected[1]} == expected[1]
