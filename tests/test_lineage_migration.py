"""Schema 4 -> 5 on SQLite and PostgreSQL: a store holding schema 4's row lineage
(`incident_row_lineage`, `incident_lineage_names` without `start`) is read as it is
read-only, and a writable open turns it into the index (key columns only, superset
entries kept, cleared names' entries dropped), every event kept, with the same histories;
an entry that did not follow on (lineage was off before it) makes the index complete only
after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from incident_core import Application
from incident_core.engine.lineage import LineageIncomplete
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer
from incident_core.examples.bank import domain as bank_domain
from incident_core.store.sql import schema
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.queries import has_table
from incident_core.store.sql.store import SqlEventStore
from tests.lineage_reference import assert_derived_equals_reference, flows_projection
from tests.lineage_reference import with_projection as extended
from tests.schema_downgrade import downgrade_to_5

FILE_ADAPTERS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DOMAIN = extended(bank_domain, flows_projection())
OLD = MetaData()
OLD_NAMES = Table("incident_lineage_names", OLD, Column("id", Integer, primary_key=True),
                  Column("name", Text, nullable=True, unique=True))
OLD_ROWS = Table(
    "incident_row_lineage", OLD,
    Column("projection", Integer, primary_key=True, autoincrement=False),
    Column("row_key", Text, primary_key=True),
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("depth", Integer, nullable=False), Column("crc", Integer, nullable=False),
    Column("change", Text, nullable=True), Column("before", Text, nullable=True),
    sqlite_with_rowid=False)
GARBAGE = 999  # a cleared lineage's id (no name) whose entries were not yet deleted


@pytest.fixture(params=FILE_ADAPTERS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return str(request.getfixturevalue("pg_url"))


def _scene(app: Application) -> None:
    for account in ("A", "B"):
        app.dispatch(OpenAccount(aggregate_id=account))
    app.dispatch(DepositMoney(aggregate_id="A", amount=100))
    for n in range(3):
        assert app.dispatch(RequestTransfer(aggregate_id=f"T{n}", source_account_number="A",
                                            destination_account_number="B", amount=5)).ok


def _to_schema_4(app: Application, *, broken: int | None = None) -> set[tuple[str, str, int]]:
    """Schema 4's lineage tables holding the index's entries (plus default-key entries of
    bank_accounts, as schema 4 kept every row change, and a cleared lineage's); the entry
    at `broken` did not follow on. Returns what the index must hold after the upgrade."""
    store = app.store
    assert isinstance(store, SqlEventStore)
    downgrade_to_5(store)
    N, L = schema.lineage_names, schema.lineage
    with store.write_engine.begin() as conn:
        names = {name: pid for pid, name in conn.execute(select(N.c.id, N.c.name))}
        rows = conn.execute(select(N.c.name, L.c.row_key, L.c.position)
                            .join(N, N.c.id == L.c.projection)).all()
        L.drop(conn)
        N.drop(conn)
        OLD.create_all(conn)
        names["bank_accounts"] = max(names.values()) + 1
        conn.execute(insert(OLD_NAMES), [{"id": i, "name": n} for n, i in names.items()]
                     + [{"id": GARBAGE, "name": None}])
        kept = {(str(n), str(k), int(p)) for n, k, p in rows}
        kept |= {("bank_accounts", "A", e.position) for e in store.read_stream("A")}
        conn.execute(insert(OLD_ROWS), [
            {"projection": names[n], "row_key": k, "position": p, "depth": 0, "crc": 0,
             "change": None, "before": '{"x":1}' if p == broken else None}
            for n, k, p in sorted(kept)] + [
            {"projection": GARBAGE, "row_key": "A", "position": 1, "depth": 0, "crc": 0,
             "change": None, "before": None}])
        conn.execute(update(schema.meta).where(schema.meta.c.key == "schema_version")
                     .values(value="4"))
    return kept


def _index(app: Application) -> set[tuple[str, str, int]]:
    store = app.store
    assert isinstance(store, SqlEventStore)
    N, L = schema.lineage_names, schema.lineage
    with store.write_engine.begin() as conn:
        assert not has_table(conn, "incident_row_lineage")
        assert conn.execute(select(func.count()).select_from(N)
                            .where(N.c.name.is_(None))).scalar_one() == 0
        return {(str(n), str(k), int(p)) for n, k, p in conn.execute(
            select(N.c.name, L.c.row_key, L.c.position).join(N, N.c.id == L.c.projection))}


def test_schema_4_lineage_is_read_as_it_is_then_migrated_into_the_index(target: str) -> None:
    with Application.open(target, DOMAIN, create=True) as app:
        _scene(app)
        histories = {k: app.row_history(*k) for k in
                     [("transfer_flows", f"T{n}") for n in range(3)]
                     + [("bank_accounts", "A"), ("bank_accounts", "B"), ("transfers", "T1")]}
        events = app.store.read_events()
        kept = _to_schema_4(app)
    with Application.open(target, DOMAIN, read_only=True) as old:
        assert old.store.schema_version == 4  # type: ignore[attr-defined]
        assert {k: old.row_history(*k) for k in histories} == histories
    with Application.open(target, DOMAIN) as app:
        assert app.store.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
        assert app.store.read_events() == events
        assert _index(app) == kept
        assert app.store.lineage_start("transfer_flows") == 0
        assert {k: app.row_history(*k) for k in histories} == histories
        assert_derived_equals_reference(app)
        _scene_more(app)
        assert_derived_equals_reference(app)


def _scene_more(app: Application) -> None:
    assert app.dispatch(RequestTransfer(aggregate_id="T9", source_account_number="A",
                                        destination_account_number="B", amount=1)).ok


def test_an_entry_that_did_not_follow_on_makes_the_index_complete_after_it(
        target: str) -> None:
    with Application.open(target, DOMAIN, create=True) as app:
        _scene(app)
        broken = app.store.lineage_events("transfer_flows", "T1")[0].position
        _to_schema_4(app, broken=broken)
    with Application.open(target, DOMAIN, read_only=True) as old:
        assert old.store.lineage_start("transfer_flows") == broken
    with Application.open(target, DOMAIN) as app:
        assert app.store.lineage_start("transfer_flows") == broken
        with pytest.raises(LineageIncomplete):
            app.row_history("transfer_flows", "T2")
        assert app.row_history("bank_accounts", "A")  # default keys need no index


LEGACY = Table(
    "incident_lineage", MetaData(),
    Column("projection", Text, primary_key=True), Column("row_key", Text, primary_key=True),
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("event_id", Text, nullable=False), Column("values_before", Text, nullable=True),
    Column("values_after", Text, nullable=True))


def test_the_older_whole_row_lineage_table_is_migrated_too(target: str) -> None:
    with Application.open(target, DOMAIN, create=True) as app:
        _scene(app)
        histories = {k: app.row_history(*k) for k in (("bank_accounts", "A"), ("transfers",
                                                                                "T1"))}
        store = app.store
        assert isinstance(store, SqlEventStore)
        downgrade_to_5(store)
        N, L = schema.lineage_names, schema.lineage
        with store.write_engine.begin() as conn:
            rows = conn.execute(select(N.c.name, L.c.row_key, L.c.position)
                                .join(N, N.c.id == L.c.projection)).all()
            L.drop(conn)
            N.drop(conn)  # a store that never had schema 4's slim lineage
            LEGACY.create(conn)
            conn.execute(insert(LEGACY), [
                {"projection": n, "row_key": k, "position": p, "event_id": "x",
                 "values_before": None, "values_after": "{}"} for n, k, p in rows])
            conn.execute(update(schema.meta).where(schema.meta.c.key == "schema_version")
                         .values(value="4"))
        last = max(p for _, _, p in rows)
    with Application.open(target, DOMAIN) as app:
        assert app.store.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
        assert _index(app) == {(str(n), str(k), int(p)) for n, k, p in rows}
        assert app.store.lineage_start("transfer_flows") == last  # whether it broke: unknown
        assert {k: app.row_history(*k) for k in histories} == histories
        with pytest.raises(LineageIncomplete):
            app.row_history("transfer_flows", "T1")
