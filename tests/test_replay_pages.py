"""Replay pages (`iter_events`) read schema 3 rows without their metadata and read it per page
when first asked: the events must equal what the eager reads give, on SQLite and PostgreSQL,
for every form the metadata is stored in (ids lifted or not, chains broken, ids kept in the
JSON), and whichever event of a page is asked first."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import event

from incident_core import Application, RecordedEvent
from incident_core.examples.bank import domain
from incident_core.operations.demo import demo
from incident_core.progress import run_to_end

ODD_METADATA: list[dict[str, Any]] = [
    {},
    {"correlation_id": "r", "causation_id": "e0", "command_id": "c", "user": "u"},
    {"causation_id": "c", "user": None},
    {"command_id": 7, "causation_id": "", "correlation_id": "r"},
]


def envelope(n: int, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": f"odd-{n}", "aggregate_id": f"odd-{n}", "aggregate_type": "Account",
            "event_type": "AccountOpened", "version": 1,
            "recorded_at": "2026-01-01T00:00:00.000000+00:00", "schema_version": 1,
            "data": {"account_number": f"odd-{n}"}, "metadata": metadata}


def seeded(target: str) -> Application:
    app = Application.open(target, domain, create=True)
    run_to_end(demo(app, accounts=12, transfers=80, seed=5))
    app.import_events([envelope(n, m) for n, m in enumerate(ODD_METADATA)])
    return app


def described(event: RecordedEvent) -> tuple[Any, ...]:
    return (event.to_json(), event.metadata_json, event.correlation_id, event.causation_id)


@pytest.mark.parametrize("batch", [7, 5000])
def test_replayed_pages_equal_the_eager_reads(shared_target: str, batch: int) -> None:
    with seeded(shared_target) as app:
        eager = app.store.read_events()
        pages = list(app.store.iter_events(batch_size=batch))
        replayed = [event for page in pages for event in page]
        assert [e.position for e in replayed] == [e.position for e in eager]
        order = list(range(len(replayed)))
        random.Random(3).shuffle(order)  # any event of a page may be the first one asked
        for index in order:
            assert described(replayed[index]) == described(eager[index])
        odd = [e.metadata for e in replayed if e.event_id.startswith("odd-")]
        assert odd == ODD_METADATA


def test_a_replayed_page_reads_its_metadata_once(tmp_path: Any) -> None:
    with seeded(str(tmp_path / "store.sqlite3")) as app:
        [page, *_] = list(app.store.iter_events(batch_size=50))
        statements: list[str] = []

        def traced(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.set_trace_callback(statements.append)

        event.listen(app.store.engine, "checkout", traced)
        try:
            metadata = [recorded.metadata for recorded in page]
        finally:
            event.remove(app.store.engine, "checkout", traced)
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1 and "incident_events" in selects[0]
        assert len([m for m in metadata if m.get("command_type")]) == 50
