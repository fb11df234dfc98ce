"""What the lean write path stores is byte for byte what the general encoders and a replay
give: a scripted run (bank: opens, deposits, withdrawals, rejections, transfers with a
rejected saga step; shipping: nested models, enums, datetimes, floats, decimals and a failing
saga step), on SQLite files, checked row by row.

* each event row: its data re-encodes to the same text from the decoded event; its id,
  command type and metadata columns are what the general `slim.lift` and `slim.lift_type`
  make of its metadata; its checksum is the row's (`verify` checks them too);
* the event table equals, byte for byte but for the data's text, the table an import of
  the store's export writes through the general path (`json` encoding of the metadata);
* every projection table equals, byte for byte, what a rebuild from the log writes.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from incident_core import Application
from incident_core.domain import Command, Domain
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.bank.accounts import DepositMoney, OpenAccount, WithdrawMoney
from incident_core.examples.bank.demo import account_id, bank_demo
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.examples.shipping.demo import shipping_demo
from incident_core.operations.export_import import export_events, import_events
from incident_core.operations.rebuild import rebuild
from incident_core.operations.verify import verify
from incident_core.process import Accepted, Rejected
from incident_core.progress import run_to_end
from incident_core.store.sql.slim import lift, lift_type, row_checksum
from tests.shipping_data import book

_compact = json.JSONEncoder(separators=(",", ":"), default=str).encode


def _bank_script() -> list[tuple[Command, dict[str, Any] | None, str | None]]:
    steps = [c for step in bank_demo(random.Random(11), 8, 30) for c in step]
    script: list[tuple[Command, dict[str, Any] | None, str | None]] = [
        (c, None, None) for c in steps]
    script += [
        (WithdrawMoney(aggregate_id=account_id(1), amount=10**9), None, None),  # refused
        (DepositMoney(aggregate_id="no-such-account", amount=5), None, None),  # refused
        (OpenAccount(aggregate_id=account_id(2)), None, None),  # refused: opened before
        (DepositMoney(aggregate_id=account_id(3), amount=7),
         {"tenant": "ünï", "attempt": 2, "tags": ["a", "b"], "ratio": 0.1}, None),
        (DepositMoney(aggregate_id=account_id(3), amount=8),
         {"note": 'quote " \\', "tenant": "ünï\u2028"},
         "key-\u2028-1"),
        (DepositMoney(aggregate_id=account_id(3), amount=8), None, "key-\u2028-1"),  # again
    ]
    return script


def _shipping_script() -> list[tuple[Command, dict[str, Any] | None, str | None]]:
    steps = [c for step in shipping_demo(random.Random(7), 4, 40) for c in step]
    unknown_port = book("00000000-0000-4000-8000-000000000001", ports=("NLRTM", "ZZXXX"),
                        declared_value=Decimal("0.10"), weight_kg=99_999.999)
    return [(c, None, None) for c in steps] + [(unknown_port, {"source": "test"}, None)]


def _dispatch_all(path: Path, domain: Domain,
                  script: list[tuple[Command, dict[str, Any] | None, str | None]]) -> str:
    """Run the script on a new store; the outcomes, in short. The events each dispatch
    returns (what listeners are told) equal the stored ones read back, metadata as given."""
    outcomes, live = [], []
    with Application.open(str(path), domain, create=True) as app:
        for command, metadata, key in script:
            result = app.dispatch(command, metadata=metadata, idempotency_key=key)
            assert isinstance(result, Accepted | Rejected)
            outcomes.append(type(result).__name__[0])
            if isinstance(result, Accepted) and not result.replayed:
                outcomes.append("p" * len(result.saga_failures))
                _check_metadata(result.events, command, metadata)
                live.extend(result.events)
        stored = {e.event_id: e for e in app.store.read_events()}  # metadata read now
        report = run_to_end(verify(app))
        assert report.ok, report.mismatches
    for event in live:
        again = stored[event.event_id]
        assert _envelope(again) == _envelope(event)
        assert again.metadata_json == event.metadata_json
    return "".join(outcomes)


def _check_metadata(events: list[RecordedEvent], command: Command,
                    metadata: dict[str, Any] | None) -> None:
    for event in events:
        command_id = event.metadata["command_id"]
        expected = {"correlation_id": command_id, "causation_id": command_id,
                    "command_id": command_id, **(metadata or {}),
                    "command_type": type(command).__name__}
        assert list(event.metadata.items()) == list(expected.items())


def _envelope(event: RecordedEvent) -> tuple[Any, ...]:
    return (event.position, event.event_id, event.aggregate_id, event.aggregate_type,
            event.event_type, event.version, event.recorded_at, event.schema_version,
            list(event.data.items()), list(event.metadata.items()))


def _table(path: Path, name: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
    conn.close()
    return sorted(rows, key=repr)


def _check_event_rows(path: Path, domain: Domain) -> int:
    """Each stored row as the general encoders write it; how many rows."""
    with Application.open(str(path), domain) as app:
        events: list[RecordedEvent] = app.store.read_events()  # metadata read now
    rows = {r[0]: r for r in _table(path, "incident_events")}
    with sqlite3.connect(path) as conn:
        columns = [d[1] for d in conn.execute("PRAGMA table_info(incident_events)")]
    conn.close()
    for event in events:
        row = dict(zip(columns, rows[event.position], strict=True))
        decoded = domain.decode(event.event_type, event.data, event.schema_version)
        assert decoded.model_dump_json() == row["data"]
        rest, ids = lift(event.event_id, event.metadata)
        stored, command_type = lift_type(rest)
        assert (row["metadata"], row["command_type"]) == (stored, command_type)
        assert (row["command_id"], row["causation_id"], row["correlation_id"]) == ids
        content = [row[c] for c in ("position", "event_id", "aggregate_id", "aggregate_type",
                                    "event_type", "version", "recorded_at", "data",
                                    "metadata", "schema_version", "command_id",
                                    "causation_id", "correlation_id", "command_type")]
        assert row_checksum(content) == row["checksum"]
    return len(events)


def _logical(path: Path) -> list[tuple[Any, ...]]:
    """The event rows, their data decoded (an import keeps the data, not its text: `json`
    escapes what pydantic writes as it is) and so without the checksum that covers it."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT position, event_id, aggregate_id, aggregate_type, event_type, version,"
            " recorded_at, data, metadata, schema_version, command_id, causation_id,"
            " correlation_id, command_type FROM incident_events ORDER BY position").fetchall()
    conn.close()
    return [(*r[:7], json.loads(r[7]), *r[8:]) for r in rows]


def _projection_tables(domain: Domain) -> list[str]:
    return sorted(domain.projections)


def _check(tmp_path: Path, domain: Domain,
           script: list[tuple[Command, dict[str, Any] | None, str | None]]) -> str:
    live = tmp_path / "live.sqlite3"
    outcomes = _dispatch_all(live, domain, script)
    assert _check_event_rows(live, domain) > len(script) // 2
    exported = io.StringIO()
    with Application.open(str(live), domain) as app:
        run_to_end(export_events(app.store, exported))
        before = {name: _table(live, name) for name in _projection_tables(domain)}
        run_to_end(rebuild(app, _projection_tables(domain)))
    for name, rows in before.items():
        assert rows and _table(live, name) == rows, name
    imported = tmp_path / "imported.sqlite3"
    with Application.open(str(imported), domain, create=True) as app:
        run_to_end(import_events(app, exported.getvalue().split("\n")))
    assert _logical(imported) == _logical(live)
    assert _table(imported, "incident_streams") == _table(live, "incident_streams")
    return outcomes


def test_bank_rows_are_what_the_general_encoders_and_a_rebuild_write(tmp_path: Path) -> None:
    outcomes = _check(tmp_path, bank_domain, _bank_script())
    assert outcomes.count("R") == 3 and "A" in outcomes
    with sqlite3.connect(tmp_path / "live.sqlite3") as conn:
        refused_steps = conn.execute("SELECT count(*) FROM incident_saga_outcomes").fetchone()
    conn.close()
    assert refused_steps[0] > 0  # transfers the saga could not complete


def test_shipping_rows_are_what_the_general_encoders_and_a_rebuild_write(
        tmp_path: Path) -> None:
    outcomes = _check(tmp_path, shipping_domain, _shipping_script())
    assert outcomes.endswith("Ap")  # the unknown port's booking step failed and was parked
    assert _table(tmp_path / "live.sqlite3", "incident_parked")
