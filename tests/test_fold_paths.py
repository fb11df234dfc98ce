"""The fold's fast paths give what its general path gives.

- `ProjectionFold.feed_page` folds the one step of a type a single projection takes (no
  cap, no trail) in line (`engine.page_fold`): the rows, counts and errors are those of
  feeding each event through `ProjectionRun.apply`, from a real SQLite store's pages (the
  stored text decoded by the fold), from the eager read's events, and from a page mixing
  both.
- `ProjectionRun.fold` (a unit of work's and an import's fold) binds each event type's
  handler once and applies in line: the rows, changes, counts, index entries, last event
  per row and errors are those of `apply` event by event, refusals told to `noted` too.
- The rebuild's page read starts lean: every page holds the wanted events, in order.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import tests.test_rebuild_lineage as rebuild_cases
from incident_core import Application, Command
from incident_core.engine.decoder import decode
from incident_core.engine.lineage import IndexTrail
from incident_core.engine.projector import ProjectionFold, ProjectionRun
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.bank.accounts import AccountOpened, MoneyDeposited
from incident_core.examples.bank.projections import AccountRow, bank_accounts, transfers
from incident_core.operations.rebuild import handled_pages
from incident_core.projections import Projection
from incident_core.projections.definition import RowRefused
from tests.test_rebuild_fold import accounts_as_dicts, by_source

SINGLE: list[Projection[Any]] = [bank_accounts, transfers, by_source, accounts_as_dicts]


def stored(tmp_path: Path, commands: list[Command]) -> tuple[list[RecordedEvent],
                                                           list[RecordedEvent]]:
    """The log of `commands` in a SQLite store: (its lean pages' events, which hold their
    stored text, and the eager read's)."""
    app = Application.open(str(tmp_path / f"fold-{uuid.uuid4().hex}.sqlite3"), bank_domain,
                           create=True)
    try:
        for command in commands:
            app.dispatch(command)
        lean = [e for page in app.store.iter_undecoded_events() for e in page]
        eager = [e for page in app.store.iter_events() for e in page]
        return lean, eager
    finally:
        app.close()


def one_by_one(projection: Projection[Any], events: list[RecordedEvent]) -> Any:
    fold = ProjectionFold(bank_domain, [projection])
    for recorded in events:
        fold.feed(recorded)
    return sorted(fold.rows(projection.name), key=str), fold.applied(projection.name)


def paged(projection: Projection[Any], events: list[RecordedEvent], size: int) -> Any:
    fold = ProjectionFold(bank_domain, [projection])
    for start in range(0, len(events), size):
        fold.feed_page(events[start:start + size])
    return sorted(fold.rows(projection.name), key=str), fold.applied(projection.name)


@given(commands=rebuild_cases.bank_histories())
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_the_one_step_path_gives_what_feeding_each_event_gives(
        tmp_path: Path, commands: list[Command]) -> None:
    lean, eager = stored(tmp_path, commands)
    assert any(getattr(e, "data_text", None) for e in lean)  # the fold decodes the text
    mixed = [lean[n] if n % 2 else eager[n] for n in range(len(lean))]
    assert one_by_one(bank_accounts, eager)[1] > 0
    for projection in SINGLE:
        for events, same in ((lean, eager), (eager, eager), (mixed, eager),
                             (mixed[1:], eager[1:])):
            expected = one_by_one(projection, same)
            assert paged(projection, events, 3) == expected
            assert paged(projection, events, len(events)) == expected


def _fussy() -> Projection[AccountRow]:
    """The bank's accounts, but a deposit of 2 raises and one of 3 sets a balance no
    integer column holds."""
    fussy: Projection[AccountRow] = Projection("fussy", AccountRow)
    fussy.on(AccountOpened)(bank_accounts.handlers["AccountOpened"][0])

    @fussy.on(MoneyDeposited)
    def deposited(row: AccountRow | None, event: MoneyDeposited,
                  recorded: RecordedEvent) -> AccountRow | None:
        if event.amount == 2:
            raise ValueError(f"no twos (#{recorded.position})")
        balance = 2**70 if event.amount == 3 else row.balance + event.amount if row else 0
        return None if row is None else row.model_copy(update={"balance": balance})

    return fussy


def test_the_one_step_path_fails_where_and_as_feeding_each_event_fails(
        tmp_path: Path) -> None:
    for amount, words in ((2, "no twos (#3)"), (3, "integer outside the signed 64-bit")):
        lean, eager = stored(tmp_path, [
            OpenAccount(aggregate_id="A"),
            *[DepositMoney(aggregate_id="A", amount=n) for n in (1, amount, 5)]])
        failures = set()
        for events, size in ((eager, 0), (lean, 2), (eager, 4)):
            with pytest.raises(DomainCodeError) as caught:
                if size:
                    paged(_fussy(), events, size)
                else:
                    one_by_one(_fussy(), events)
            failures.add(str(caught.value))
        assert len(failures) == 1 and words in failures.pop()


def run_state(run: ProjectionRun, trail: IndexTrail, last: dict[str, RecordedEvent]) -> Any:
    buffer = run.buffer
    return (sorted(buffer.dumped_rows(), key=str), sorted(buffer.changed), run.applied,
            trail.take(), {key: e.position for key, e in last.items()})


def folded_run(projection: Projection[Any], work: list[tuple[RecordedEvent, Any]],
               **options: Any) -> Any:
    """What `ProjectionRun.fold` of `work` leaves, from no rows."""
    trail = IndexTrail(projection)
    run = ProjectionRun(projection, trail=trail, **options)
    return run_state(run, trail, run.fold(work))


def applied_run(projection: Projection[Any], work: list[tuple[RecordedEvent, Any]],
                **options: Any) -> Any:
    """What `ProjectionRun.apply` of each event of `work` leaves, from no rows."""
    trail = IndexTrail(projection)
    run = ProjectionRun(projection, trail=trail, **options)
    last = {}
    for recorded, event in work:
        key = run.key_for(recorded, event)
        run.apply(recorded, event, key)
        last[key] = recorded
    return run_state(run, trail, last)


@given(commands=rebuild_cases.bank_histories())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_run_folds_as_applying_each_event_does(commands: list[Command]) -> None:
    app = Application.open("memory:", bank_domain, create=True)
    try:
        for command in commands:
            app.dispatch(command)
        events = [e for batch in app.store.iter_events() for e in batch]
    finally:
        app.close()
    for projection in SINGLE:
        work = [(e, decode(bank_domain, e)) for e in events if projection.handles(e.event_type)]
        folded = folded_run(projection, work)
        assert folded == applied_run(projection, work) and folded[2] == len(work)


def test_a_run_fails_and_notes_refusals_as_applying_each_event_does(tmp_path: Path) -> None:
    _, events = stored(tmp_path, [OpenAccount(aggregate_id="A"), *[
        DepositMoney(aggregate_id="A", amount=n) for n in (1, 3, 2, 5)]])
    work = [(e, decode(bank_domain, e)) for e in events]
    errors = set()
    for run in (folded_run, applied_run):
        with pytest.raises(DomainCodeError) as caught:
            run(_fussy(), work)
        errors.add(str(caught.value))
    assert len(errors) == 1 and "integer outside the signed 64-bit" in errors.pop()

    no_twos = [(e, event) for e, event in work if getattr(event, "amount", 0) != 2]
    noted: tuple[list[Any], list[Any]] = ([], [])
    states = [run(_fussy(), no_twos, noted=lambda *said, into=into: into.append(_said(*said)))
              for run, into in ((folded_run, noted[0]), (applied_run, noted[1]))]
    assert states[0] == states[1] and states[0][2] == 4
    assert noted[0] == noted[1] == [("fussy", 3, "A", "balance: integer outside the signed "
                                                      "64-bit range of the column")]


def _said(name: str, recorded: RecordedEvent, key: str,
          refused: RowRefused) -> tuple[str, int, str, str]:
    return name, recorded.position, key, str(refused)


def test_a_key_function_that_raises_fails_the_run_before_any_event_is_applied() -> None:
    keyed: Projection[AccountRow] = Projection("keyed", AccountRow)
    keyed.on(AccountOpened)(bank_accounts.handlers["AccountOpened"][0])

    @keyed.on(MoneyDeposited, key=lambda recorded, event: str(1 // (event.amount - 2)))
    def deposited(row: AccountRow | None, event: MoneyDeposited,
                  recorded: RecordedEvent) -> AccountRow | None:
        return row

    app = Application.open("memory:", bank_domain, create=True)
    try:
        app.dispatch(OpenAccount(aggregate_id="A"))
        for amount in (1, 2):
            app.dispatch(DepositMoney(aggregate_id="A", amount=amount))
        events = [e for batch in app.store.iter_events() for e in batch]
    finally:
        app.close()
    run = ProjectionRun(keyed)
    with pytest.raises(DomainCodeError, match="projection keyed on MoneyDeposited"):
        run.fold([(e, decode(bank_domain, e)) for e in events])
    assert run.applied == 0 and run.buffer.rows == {}


def test_the_rebuild_reads_every_wanted_event_from_its_first_page(tmp_path: Path) -> None:
    app = Application.open(str(tmp_path / "pages.sqlite3"), bank_domain, create=True)
    try:
        for n in range(30):
            app.dispatch(OpenAccount(aggregate_id=f"A{n}"))
            app.dispatch(DepositMoney(aggregate_id=f"A{n}", amount=n + 1))
        everything = [e for page in app.store.iter_events() for e in page]
        for types in (("AccountOpened",), ("AccountOpened", "MoneyDeposited")):
            pages = list(handled_pages(app, types, app.store.head()))
            read = [(e.position, e.event_type, e.data) for page in pages for e in page]
            assert read == [(e.position, e.event_type, e.data) for e in everything
                            if e.event_type in types]
            assert all(hasattr(e, "data_text") for page in pages for e in page)
    finally:
        app.close()
