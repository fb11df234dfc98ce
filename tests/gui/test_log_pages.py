"""The indexed global log's pages (plain Python): rows are positions, a page whose
positions do not fit is refused, live events complete the last page and spill over."""

from __future__ import annotations

from pathlib import Path

from incident_core import Application, RecordedEvent
from incident_core.examples.bank import domain as bank_domain
from incident_gui.models.log_pages import PAGE_SIZE, LogPages
from tests.gui.conftest import envelope

EVENTS = 2 * PAGE_SIZE + 50


def read_log(path: Path) -> list[RecordedEvent]:
    with Application.open(str(path), bank_domain, create=True) as app:
        app.import_events([envelope(f"acc-{n:04d}", 1, "AccountOpened",
                                    {"account_number": f"acc-{n:04d}"}) for n in range(EVENTS)])
        return app.store.read_events(after_position=0, limit=EVENTS)


def test_rows_are_positions_and_a_page_with_the_wrong_positions_is_refused(
        tmp_path: Path) -> None:
    log = read_log(tmp_path / "s.sqlite3")
    pages = LogPages()
    assert pages.keep(1, log[PAGE_SIZE:2 * PAGE_SIZE])
    assert not pages.keep(0, log[PAGE_SIZE:2 * PAGE_SIZE])  # page 1's events as page 0
    assert not pages.keep(2, log[2 * PAGE_SIZE:-1:2])  # gaps
    assert pages.indexes() == [1]
    assert [pages.event_at(row) for row in (PAGE_SIZE - 1, PAGE_SIZE, 2 * PAGE_SIZE)] == [
        None, log[PAGE_SIZE], None]
    assert pages.event_at(2 * PAGE_SIZE - 1) is log[2 * PAGE_SIZE - 1]
    assert pages.keep(0, log[:PAGE_SIZE]) and pages.indexes() == [1, 0]
    pages.drop(1)
    assert pages.indexes() == [0] and pages.event_at(PAGE_SIZE) is None


def test_live_events_complete_the_last_page_and_start_the_next(tmp_path: Path) -> None:
    log = read_log(tmp_path / "s.sqlite3")
    old, head = PAGE_SIZE + 30, PAGE_SIZE + 30 + PAGE_SIZE  # a partial page 1, then more
    pages = LogPages()
    assert pages.keep(1, log[PAGE_SIZE:old])
    assert not pages.extend(old, head, log[old + 1:head])  # one event missing
    assert not pages.extend(old, head, None)  # not known: the page is read again
    assert pages.extend(old, head, log[:head])  # events up to `old` are skipped
    assert pages.indexes() == [1, 2]
    assert [pages.event_at(row) for row in range(PAGE_SIZE, head)] == log[PAGE_SIZE:head]
    assert not LogPages().extend(old, head, log[old:head])  # the page is not held
