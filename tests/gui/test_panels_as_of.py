"""The window's own panels show the past: with the position control at P in the middle of a
bank store, each projection tab equals a fresh rebuild into memory of the events up to P,
the streams list gives every stream's version and event count then, the state view the
fold of the stream's events up to P, and commands are off; Now returns all of them to the
present in one click."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from incident_core import Application
from incident_core.examples.bank import DepositMoney
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.rowdiff import keyed_rows
from incident_gui.presentation.formatting import compact_json
from incident_gui.tasks.workers import active_workers

SHOTS = os.environ.get("INCIDENT_SHOTS")  # a folder: save screenshots there (not committed)


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=10000)


def rebuilt_in_memory(target: str, position: int) -> dict[str, dict[str, Any]]:
    """Every projection's rows from importing the events up to `position` into an empty
    memory store (the import path projects as it records): name → rows by key."""
    with Application.open(target, bank_domain, read_only=True) as app:
        envelopes = [e.to_json() for batch in app.store.iter_events(up_to=position)
                     for e in batch]
    memory = Application.open("memory:", bank_domain, create=True)
    try:
        memory.import_events(envelopes)
        out = {}
        for name in memory.domain.projections:
            spec = memory.projection(name).spec
            out[name] = keyed_rows(spec, memory.store.projection_rows(spec))
        return out
    finally:
        memory.close()


def streams_then(app: Application, position: int) -> dict[str, tuple[int, int]]:
    """aggregate id → (version, event count) from the events up to `position`."""
    found: dict[str, tuple[int, int]] = {}
    for batch in app.store.iter_events(up_to=position):
        for e in batch:
            found[e.aggregate_id] = (e.version, found.get(e.aggregate_id, (0, 0))[1] + 1)
    return found


def folded_state(app: Application, aggregate_id: str, position: int) -> dict[str, Any]:
    events = [e for e in app.store.read_stream(aggregate_id) if e.position <= position]
    aggregate = app.domain.aggregate_named(events[0].aggregate_type)
    assert aggregate is not None
    state = aggregate.fold(app.domain.decode(e.event_type, e.data, e.schema_version)
                           for e in events)
    return dict(state.model_dump(mode="json"))


def tree_values(view: Any) -> dict[str, str]:
    root = view.tree.invisibleRootItem()
    return {root.child(i).text(0): root.child(i).text(1) for i in range(root.childCount())}


def as_texts(state: dict[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else compact_json(v) for k, v in state.items()}


def panel_rows(tab: Any) -> dict[str, dict[str, Any]]:
    return keyed_rows(tab.model.spec, [tab.model.row(i) for i in range(tab.model.rowCount())])


def stream_rows(panel: Any) -> dict[str, tuple[int, int]]:
    model = panel.model
    infos = [model.info_at(row) for row in range(model.rowCount())]
    return {i.aggregate_id: (i.version, i.event_count) for i in infos if i is not None}


def shot(window: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(SHOTS) / f"{name}.png"))


def go_to(window: Any, qtbot: Any, position: int) -> None:
    control = window.time_travel.control
    control.spin.setValue(position)
    qtbot.mouseClick(control.go, Qt.MouseButton.LeftButton)


def wait_tab(qtbot: Any, tab: Any, text: str) -> None:
    qtbot.waitUntil(lambda: not tab.is_reading() and text in tab.info.text(), timeout=15000)


def test_every_panel_shows_the_past_and_now_returns(make_window: Any, qtbot: Any,
                                                    bank_store: str) -> None:
    window = make_window(bank_store)
    app = window.session.app
    head = app.store.head()
    middle = head // 2
    panel, streams, state = window.projection_panel, window.streams_panel, window.state_view
    window.side_tabs.setCurrentWidget(panel)
    go_to(window, qtbot, middle)
    banner = window.time_travel.banner
    assert banner.isVisible() and f"as of position {middle} of {head}" in banner.text()
    assert window.side_tabs.currentWidget() is panel  # the panels show it where they are
    assert not window.command_panel.isEnabled()
    assert f"position {middle:,}" in window.command_panel.toolTip()
    expected = rebuilt_in_memory(bank_store, middle)
    for name in app.domain.projections:
        panel.select_projection(name)
        tab = panel.current_tab()
        wait_tab(qtbot, tab, f"as of position #{middle:,}")
        assert panel_rows(tab) == expected[name], name
        assert not panel._rebuild_button.isEnabled()
    live = keyed_rows(app.projection("bank_accounts").spec,
                      app.store.projection_rows(app.projection("bank_accounts").spec))
    assert live != expected["bank_accounts"]  # the middle really is another moment
    qtbot.waitUntil(lambda: not streams.model.is_loading() and streams.model.rowCount() > 0,
                    timeout=10000)
    assert stream_rows(streams) == streams_then(app, middle)
    assert f"as of position {middle:,}" in streams.count_label.text()
    changed = next(a for a, (version, _n) in streams_then(app, middle).items()
                   if app.store.stream(a) is not None and app.store.stream(a).version > version)
    assert streams.select_aggregate(changed)
    qtbot.waitUntil(lambda: "version" in state.title.text()
                    and "computing" not in state.title.text(), timeout=10000)
    assert f"as of position {middle:,}" in state.title.text()
    assert tree_values(state) == as_texts(folded_state(app, changed, middle))
    shot(window, "panels_as_of")
    qtbot.mouseClick(window.time_travel.control.now, Qt.MouseButton.LeftButton)
    assert not banner.isVisible() and window.command_panel.isEnabled()
    tab = panel.current_tab()
    qtbot.waitUntil(lambda: not tab.is_reading() and "checkpoint" in tab.info.text(),
                    timeout=10000)
    assert panel_rows(tab) == keyed_rows(tab.model.spec,
                                         app.store.projection_rows(tab.model.spec))
    qtbot.waitUntil(lambda: not streams.model.is_loading(), timeout=10000)
    assert stream_rows(streams) == {s.aggregate_id: (s.version, s.event_count)
                                    for s in app.store.streams()}
    assert streams.selected_aggregate() == changed  # the selection stays across the move
    assert streams.view.isSortingEnabled() and "as of" not in streams.count_label.text()


def test_the_past_stays_while_events_arrive(make_window: Any, qtbot: Any,
                                           bank_store: str) -> None:
    """New events move the head, not the past: the tabs and the list keep position P."""
    window = make_window(bank_store)
    app = window.session.app
    middle = app.store.head() // 2
    panel, streams = window.projection_panel, window.streams_panel
    window.side_tabs.setCurrentWidget(panel)
    go_to(window, qtbot, middle)
    tab = panel.current_tab()
    wait_tab(qtbot, tab, f"as of position #{middle:,}")
    before = panel_rows(tab)
    qtbot.waitUntil(lambda: not streams.model.is_loading(), timeout=10000)
    listed = stream_rows(streams)
    app.dispatch(DepositMoney(aggregate_id="acc-001", amount=7))
    head = app.store.head()
    control = window.time_travel.control
    qtbot.waitUntil(lambda: control.spin.maximum() == head, timeout=10000)  # seen live
    window.refresh()  # what F5 does
    qtbot.waitUntil(lambda: not tab.is_reading() and not streams.model.is_loading(),
                    timeout=10000)
    assert panel_rows(tab) == before and stream_rows(streams) == listed
    assert control.position == middle and control.spin.value() == middle
    assert panel.as_of == middle and streams.model.as_of == middle


def test_streams_filter_applies_in_the_past(make_window: Any, qtbot: Any,
                                           bank_store: str) -> None:
    window = make_window(bank_store)
    app = window.session.app
    middle = app.store.head() // 2
    streams = window.streams_panel
    go_to(window, qtbot, middle)
    streams.filter_edit.setText("acc-00*")
    streams.filter_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: not streams.model.is_loading() and "as of" in
                    streams.count_label.text(), timeout=10000)
    wanted = {a: v for a, v in streams_then(app, middle).items() if a.startswith("acc-00")}
    assert stream_rows(streams) == wanted
    assert streams.model.total == len(wanted)


def test_a_second_move_in_time_wins(make_window: Any, qtbot: Any, bank_store: str) -> None:
    """Moving again before the first move's reads answer: every panel ends at the second
    position (each requester cancelled its own stale reads), and state/stream answers
    of the first move never land afterwards."""
    window = make_window(bank_store)
    app = window.session.app
    head = app.store.head()
    first, second = head // 4, head // 2
    panel, streams, state = window.projection_panel, window.streams_panel, window.state_view
    window.side_tabs.setCurrentWidget(panel)
    changed = next(a for a, (version, _n) in streams_then(app, second).items()
                   if app.store.stream(a).version > version and a in streams_then(app, first))
    assert streams.select_aggregate(changed)  # in the present (no event of it shown)
    qtbot.waitUntil(lambda: not streams.model.is_loading(), timeout=10000)
    gate = threading.Event()  # holds the lanes: both moves' reads queue behind it
    for lane in (window.lanes["stateLoader"], streams._loader):
        lane.submit(lambda: gate.wait(10), lambda _result: None, lambda _m, _d: None)
    go_to(window, qtbot, first)
    go_to(window, qtbot, second)  # the first move's reads are queued (run last if kept)
    gate.set()
    tab = panel.current_tab()
    wait_tab(qtbot, tab, f"as of position #{second:,}")
    assert panel_rows(tab) == rebuilt_in_memory(bank_store, second)[tab.name]
    qtbot.waitUntil(lambda: not streams.model.is_loading() and streams.model.rowCount() > 0,
                    timeout=10000)
    qtbot.waitUntil(lambda: "computing" not in state.title.text(), timeout=10000)
    qtbot.waitUntil(lambda: active_workers() == [], timeout=10000)
    qtbot.wait(200)  # any late answer of the first move would arrive now
    assert stream_rows(streams) == streams_then(app, second)
    assert f"as of position {second:,}" in streams.count_label.text()
    assert f"as of position {second:,}" in state.title.text()
    assert tree_values(state) == as_texts(folded_state(app, changed, second))
    assert window.time_travel.banner.text().count(f"as of position {second} ") == 1


def test_the_past_is_read_off_the_ui_thread(make_window: Any, qtbot: Any, bank_store: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Every as-of query the panels make (rows, streams, their count, a state) runs on a
    worker or a lane, never on the UI thread: the real queries, with the calling thread
    noted on the way through."""
    from incident_gui.models import stream_reads
    from incident_gui.widgets import projection_past, state_view

    threads: dict[str, set[str]] = {}

    def noting(module: Any, name: str) -> None:
        real = getattr(module, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            threads.setdefault(name, set()).add(threading.current_thread().name)
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, call)

    for module, name in ((projection_past, "rows_as_of"), (stream_reads, "streams_as_of"),
                         (stream_reads, "stream_count_as_of"), (state_view, "state_as_of")):
        noting(module, name)
    window = make_window(bank_store)
    app = window.session.app
    middle = app.store.head() // 2
    window.side_tabs.setCurrentWidget(window.projection_panel)
    streams, state = window.streams_panel, window.state_view
    go_to(window, qtbot, middle)
    wait_tab(qtbot, window.projection_panel.current_tab(), f"as of position #{middle:,}")
    qtbot.waitUntil(lambda: not streams.model.is_loading() and streams.model.rowCount() > 0,
                    timeout=10000)
    assert streams.select_aggregate(next(iter(streams_then(app, middle))))
    qtbot.waitUntil(lambda: "version" in state.title.text()
                    and "computing" not in state.title.text(), timeout=10000)
    # (the streams are counted only when their first page is full: not in this store)
    assert set(threads) - {"stream_count_as_of"} == {"rows_as_of", "streams_as_of",
                                                     "state_as_of"}
    ui = threading.main_thread().name
    assert all(ui not in names for names in threads.values()), threads
