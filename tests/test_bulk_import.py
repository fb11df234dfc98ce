"""The one-pass import (`operations/bulk_import.py`): the whole file in one transaction,
checked batch by batch as it is written. Whatever a late batch finds wrong, the store is
left exactly as it was; what is imported projects (and fast-forwards sagas) exactly like a
rebuild of the log. Runs on every adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from incident_core import Application, StoreError
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.shipping import CancelShipment
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations import ImportFileError, export_events, rebuild
from incident_core.operations.bulk_import import import_lines
from incident_core.progress import Progress, run_to_end
from tests.shipping_data import book, register_vessel
from tests.test_operations import scenario

BATCH = 5  # small batches: every file below spans several


def exported(app: Application) -> list[str]:
    buffer = io.StringIO()
    run_to_end(export_events(app.store, buffer))
    return buffer.getvalue().splitlines()


def numbered(lines: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(lines, start=1))


def projections(app: Application) -> dict[str, list[dict[str, Any]]]:
    return {name: app.store.projection_rows(p.spec) for name, p in app.domain.projections.items()}


def fingerprint(app: Application) -> tuple[Any, ...]:
    """What a failed import must leave unchanged: the log, rows, checkpoints, lineage, and
    the SQLite file's bytes."""
    target = Path(app.store.target)
    file_hash = hashlib.sha256(target.read_bytes()).hexdigest() if target.is_file() else None
    lineage = {name: [app.row_history(name, str(r[p.key]))
                      for r in app.store.projection_rows(p.spec)]
               for name, p in app.domain.projections.items()}
    return (exported(app), projections(app), app.store.checkpoints(), lineage, file_hash)


@pytest.fixture
def source() -> Iterator[Application]:
    """A bank log with transfers (a saga at work) to import elsewhere."""
    with Application.open("memory:", bank_domain) as app:
        scenario(app)
        yield app


@pytest.fixture
def copy(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, bank_domain, create=True)
    try:
        yield app
    finally:
        app.close()


def test_an_import_projects_like_a_rebuild_and_keeps_every_event(
        source: Application, copy: Application) -> None:
    lines = exported(source)
    assert len(lines) > 3 * BATCH
    assert run_to_end(import_lines(copy, numbered(lines), batch=BATCH)) == len(lines)
    assert exported(copy) == lines
    imported = projections(copy)
    assert imported == projections(source)
    assert set(copy.store.checkpoints().values()) == {len(lines)}  # sagas fast-forwarded
    run_to_end(rebuild(copy, list(copy.domain.projections)))
    assert projections(copy) == imported


def test_listeners_hear_of_every_imported_event_after_the_commit(
        source: Application, copy: Application) -> None:
    lines = exported(source)
    heard: list[tuple[int, bool]] = []
    copy.subscribe(lambda events: heard.extend((e.position, copy.store.head() == len(lines))
                                               for e in events))
    run_to_end(import_lines(copy, numbered(lines), batch=BATCH))
    assert [position for position, _ in heard] == list(range(1, len(lines) + 1))
    assert all(committed for _, committed in heard)  # told after the commit, not before


@pytest.mark.parametrize(("change", "message"), [
    ({"data": {"transfer_id": "T3", "amount": "x"}}, "MoneySent data does not decode: amount"),
    ({"data": {"transfer_id": "T3", "amount": 10**20}}, "data.amount is out of range"),
    ({"version": 99}, "jumps from version"),
    ({"metadata": {"causation_id": 5}}, "metadata.causation_id must be a string or null"),
])
def test_a_bad_line_in_a_late_batch_leaves_the_store_as_it_was(
        source: Application, copy: Application, change: dict[str, Any], message: str) -> None:
    copy.dispatch_data("OpenAccount", {"aggregate_id": "Z"})
    before = fingerprint(copy)
    lines = exported(source)
    bad = max(n for n, line in enumerate(lines) if '"MoneySent"' in line)
    assert bad >= 2 * BATCH  # earlier batches were appended in the transaction already
    lines[bad] = json.dumps(json.loads(lines[bad]) | change)
    with pytest.raises(ImportFileError, match=f"^line {bad + 1}: .*{message}"):
        run_to_end(import_lines(copy, numbered(lines), batch=BATCH))
    assert fingerprint(copy) == before


@pytest.mark.parametrize("text", ['{"amount": NaN}', '{"amount": 1e400}',
                                  '{"amount": -Infinity}'])
def test_a_number_the_store_cannot_give_back_is_refused(copy: Application, text: str) -> None:
    line = ('{"event_id":"e1","aggregate_id":"A","aggregate_type":"Account",'
            '"event_type":"AccountOpened","version":1,'
            '"recorded_at":"2024-05-01T08:00:00.000000+00:00","data":'
            f'{text.replace("amount", "account_number")}}}')
    with pytest.raises(ImportFileError, match=r"^line 1: data.account_number: .* finite"):
        run_to_end(import_lines(copy, [(1, line)]))
    assert copy.store.head() == 0


def test_digits_and_exponents_inside_strings_are_ordinary_text(copy: Application) -> None:
    account = "1234567890123456789012345e999NaNInfinity"
    line = json.dumps({"event_id": "e1", "aggregate_id": account, "aggregate_type": "Account",
                       "event_type": "AccountOpened", "version": 1,
                       "recorded_at": "2024-05-01T08:00:00.000000+00:00",
                       "data": {"account_number": account}})
    assert run_to_end(import_lines(copy, [(1, line)])) == 1
    assert copy.store.read_stream(account)[0].data == {"account_number": account}


def test_an_id_already_in_the_store_is_found_in_a_late_batch(
        source: Application, copy: Application) -> None:
    lines = exported(source)
    late = json.loads(lines[-1])  # the copy holds one event with the id of the last line
    run_to_end(import_lines(copy, numbered([json.dumps(late | {"aggregate_id": "X",
                                                                "version": 1})])))
    before = fingerprint(copy)
    with pytest.raises(StoreError, match=rf"already in the store \(e.g. {late['event_id']} "
                                         rf"on line {len(lines)}\); nothing was imported"):
        run_to_end(import_lines(copy, numbered(lines), batch=BATCH))
    assert fingerprint(copy) == before


def test_a_resumed_import_skips_what_is_there_across_batches(
        source: Application, copy: Application) -> None:
    lines = exported(source)
    half = len(lines) // 2 + 3
    run_to_end(import_lines(copy, numbered(lines[:half]), batch=BATCH))
    assert run_to_end(import_lines(copy, numbered(lines), resume=True, batch=BATCH)) == (
        len(lines) - half)
    assert exported(copy) == lines
    assert projections(copy) == projections(source)


def test_closing_the_operation_midway_imports_nothing(
        source: Application, copy: Application) -> None:
    before = fingerprint(copy)
    operation = import_lines(copy, numbered(exported(source)), batch=BATCH)
    progress = [next(operation) for _ in range(3)]
    assert all(isinstance(p, Progress) for p in progress) and progress[-1].done == 2 * BATCH
    operation.close()
    assert fingerprint(copy) == before


def test_a_shipping_log_imports_to_the_same_rows_as_a_rebuild(store_target: str) -> None:
    with Application.open("memory:", shipping_domain) as origin:
        origin.dispatch(register_vessel(capacity=3))
        shipments = [str(uuid4()) for _ in range(6)]
        for sid in shipments:  # the saga reserves room, then cancels what does not fit
            origin.dispatch(book(sid))
        origin.dispatch(CancelShipment(aggregate_id=shipments[0], reason="changed plans"))
        lines = exported(origin)
        expected = projections(origin)
    with Application.open(store_target, shipping_domain, create=True) as target:
        assert run_to_end(import_lines(target, numbered(lines), batch=BATCH)) == len(lines)
        assert projections(target) == expected
        assert set(target.store.checkpoints().values()) == {len(lines)}
        run_to_end(rebuild(target, list(target.domain.projections)))
        assert projections(target) == expected
        assert exported(target) == lines
