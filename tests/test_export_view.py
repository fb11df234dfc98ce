"""Exporting what a view shows: the filtered/sorted log, a stream, a projection's rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from incident_core import Application, EventFilter, StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount, bank_accounts
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.export_view import (
    LOG_CSV_COLUMNS,
    export_log,
    export_projection,
    export_stream,
)
from incident_core.ports.sorting import SortKey
from incident_core.progress import Progress, run_to_end


@pytest.fixture
def seeded(bank: Application) -> Application:
    for n in range(1, 8):
        bank.dispatch(OpenAccount(aggregate_id=f"acc-{n}"))
        for amount in range(1, n + 1):
            bank.dispatch(DepositMoney(aggregate_id=f"acc-{n}", amount=amount * 10))
    return bank


def test_the_whole_log_as_ndjson_imports_back_identically(seeded: Application,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "log.ndjson"
    progress: list[Progress] = []
    operation = export_log(seeded.store, path)
    try:
        while True:
            progress.append(next(operation))
    except StopIteration as stop:
        written = stop.value
    head = seeded.store.head()
    assert written == head and progress[-1].done == head == progress[-1].total
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [e.to_json() for e in seeded.store.read_events()]
    copy = Application.open("memory:", bank_domain, create=True)
    copy.import_events([json.loads(line) for line in lines])
    assert copy.store.projection_rows(bank_accounts.spec) == \
        seeded.store.projection_rows(bank_accounts.spec)


def test_the_filtered_log_newest_first_as_csv(seeded: Application, tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    flt = EventFilter(aggregate_id="acc-5")
    written = run_to_end(export_log(seeded.store, path, fmt="csv", filter=flt,
                                    sort=SortKey("position", descending=True)))
    with open(path, newline="") as fp:
        rows = list(csv.DictReader(fp))
    expected = list(reversed(seeded.store.read_stream("acc-5")))
    assert written == len(rows) == len(expected) == 6
    assert tuple(rows[0]) == LOG_CSV_COLUMNS
    assert [int(r["position"]) for r in rows] == [e.position for e in expected]
    assert json.loads(rows[0]["data"]) == expected[0].data


def test_a_stream_and_a_projection(seeded: Application, tmp_path: Path) -> None:
    stream_path = tmp_path / "acc-3.ndjson"
    assert run_to_end(export_stream(seeded.store, "acc-3", stream_path)) == 4
    versions = [json.loads(line)["version"] for line in stream_path.read_text().splitlines()]
    assert versions == [1, 2, 3, 4]
    rows_path = tmp_path / "accounts.csv"
    sort = SortKey("balance", descending=True)
    assert run_to_end(export_projection(seeded.store, bank_accounts.spec, rows_path,
                                        sort=sort)) == 7
    with open(rows_path, newline="") as fp:
        rows = list(csv.DictReader(fp))
    assert [r["aggregate_id"] for r in rows] == [f"acc-{n}" for n in range(7, 0, -1)]
    assert rows[0]["balance"] == str(sum(range(1, 8)) * 10)


def test_a_cancelled_or_failed_export_leaves_no_file(seeded: Application,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    path = out / "log.ndjson"
    operation = export_log(seeded.store, path)
    next(operation)
    next(operation)
    operation.close()  # what cancelling a worker does
    assert list(out.iterdir()) == []
    with pytest.raises(StoreError, match="no stream acc-404"):
        run_to_end(export_stream(seeded.store, "acc-404", out / "x.ndjson"))
    with pytest.raises(StoreError, match="cannot write"):
        run_to_end(export_log(seeded.store, out / "missing" / "log.ndjson"))
    assert list(out.iterdir()) == []


def test_the_log_filters_by_correlation(seeded: Application) -> None:
    last = seeded.store.read_events(descending=True, limit=1)[0]
    correlation = last.metadata["correlation_id"]
    flt = EventFilter(correlation_id=correlation)
    assert not flt.is_empty
    found = seeded.store.read_events(filter=flt)
    assert found and all(e.metadata["correlation_id"] == correlation for e in found)
    assert last in found and len(found) < seeded.store.head()
    assert seeded.store.read_events_sorted(SortKey("position", True), filter=flt) == \
        list(reversed(found))
