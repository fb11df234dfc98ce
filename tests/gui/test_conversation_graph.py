"""The conversation graph and the process-manager tab, through the real window."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QPushButton

from incident_core import Application, open_store
from incident_core.domain import Domain
from incident_core.examples.bank import (
    RequestTransfer,
    account,
    bank_accounts,
    transfer,
    transfers,
)
from incident_gui.widgets.conversation_window import ConversationWindow
from incident_gui.widgets.process_managers_panel import ProcessManagersPanel
from tests.gui.conftest import show_event_id, timeline_read

SAGA = "saga:transfer_saga"


def first_event_id(target: str, aggregate_id: str) -> str:
    store = open_store(target, read_only=True)
    try:
        return store.read_stream(aggregate_id)[0].event_id
    finally:
        store.close()


def open_graph(window: Any, qtbot: Any, aggregate_id: str) -> ConversationWindow:
    """Select the transfer's first event, then press "Show conversation"."""
    show_event_id(qtbot, window, first_event_id(window.session.target, aggregate_id))
    button = window.event_detail.findChild(QPushButton, "showConversationButton")
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    graph = window.sagas.graph
    assert graph is not None
    qtbot.waitUntil(lambda: graph.isVisible() and not graph.is_tracing())  # traced off-thread
    return graph


def labels(graph: ConversationWindow, kind: str) -> list[str]:
    return [item.node.label for item in graph.view.nodes.values() if item.node.kind == kind]


def test_the_graph_of_a_completed_transfer(make_window, bank_store, qtbot) -> None:
    window = make_window(bank_store)
    graph = open_graph(window, qtbot, "t-001")
    view = graph.view
    assert len(view.nodes) == 12 and len(view.edges) == 11
    assert view.conversation.lanes == ("t-001", SAGA, "acc-002", "acc-003")
    assert view.lane_count == 4
    assert labels(graph, "event") == ["TransferRequested", "MoneySent", "TransferInitiated",
                                      "MoneyReceived", "TransferCompleted"]
    assert labels(graph, "step") == ["transfer_saga", "transfer_saga"]
    # arrows join parent and child; items sit in their lane's row, in time order
    by_id = view.nodes
    for edge in view.edges:
        child = by_id[edge.child_id]
        parent = by_id[child.node.parent]
        assert parent.x() < child.x()
        assert edge.label.startswith("+")
    rows = {item.node.lane: item.y() for item in by_id.values()}
    assert rows["t-001"] < rows[SAGA] < rows["acc-002"] < rows["acc-003"]
    assert not any(item.stands_out for item in by_id.values())


def test_the_graph_of_a_cancelled_transfer(make_window, bank_store, qtbot) -> None:
    window = make_window(bank_store)
    graph = open_graph(window, qtbot, "t-overdrawn")
    assert len(graph.view.nodes) == 6
    lanes = graph.view.conversation.lanes
    assert lanes == ("t-overdrawn", SAGA, "acc-002")  # + the rejected send's account
    assert sorted(labels(graph, "command")) == ["CancelTransfer", "RequestTransfer", "SendMoney"]
    assert labels(graph, "event")[-1] == "TransferCancelled"
    send = next(i for i in graph.view.nodes.values() if i.node.label == "SendMoney")
    assert send.node.rejected and send.node.reason == "no_enough_balance"
    assert send.stands_out and send.border == QColor("#dc2626")
    assert "rejected: no_enough_balance" in send.tip()
    assert "1 rejected saga command(s)" in graph.summary.text()
    assert "did not go on" not in graph.summary.text()


def test_the_graph_of_a_reverted_transfer(make_window, bank_store, qtbot) -> None:
    window = make_window(bank_store)
    graph = open_graph(window, qtbot, "t-missing")
    assert len(graph.view.nodes) == 16 and len(graph.view.edges) == 15
    lanes = graph.view.conversation.lanes  # + the missing destination of the rejected receive
    assert lanes[:3] == ("t-missing", SAGA, "acc-004") and len(lanes) == 4
    assert labels(graph, "event") == ["TransferRequested", "MoneySent", "TransferInitiated",
                                      "TransferReverted", "MoneySentReverted",
                                      "TransferCancelled"]
    assert "16 nodes, 4 lanes" in graph.summary.text()
    [receive] = [i for i in graph.view.nodes.values() if i.node.rejected]
    assert receive.node.label == "ReceiveMoney" and receive.node.lane == lanes[3]


def test_clicking_a_node_selects_the_event_in_the_window(make_window, bank_store,
                                                         qtbot) -> None:
    window = make_window(bank_store)
    graph = open_graph(window, qtbot, "t-001")
    view = graph.view
    received = next(i for i in view.nodes.values() if i.node.label == "MoneyReceived")
    view.resetTransform()
    view.centerOn(received)
    point = view.mapFromScene(received.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: window.event_detail.shown_event is not None
                    and window.event_detail.shown_event.event_type == "MoneyReceived")
    assert window.event_detail.shown_event.aggregate_id == "acc-003"
    timeline_read(qtbot, window)
    assert window.timeline_panel.current_event().event_id == received.node.node_id
    assert received.isSelected()


def test_zoom_and_fit(make_window, bank_store, qtbot) -> None:
    window = make_window(bank_store)
    view = open_graph(window, qtbot, "t-missing").view
    view.resetTransform()
    view.zoom(2.0)
    assert view.transform().m11() == 2.0
    view.fit()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    whole = view.scene().sceneRect()
    assert view.transform().m11() < 1.0
    assert visible.width() >= whole.width() * 0.98  # the whole length is in view
    assert visible.height() >= whole.height() * 0.98


def test_export_svg_and_png(make_window, bank_store, qtbot, tmp_path: Path) -> None:
    window = make_window(bank_store)
    graph = open_graph(window, qtbot, "t-missing")
    svg, png = tmp_path / "graph.svg", tmp_path / "graph.png"
    graph.export(str(svg), "svg")
    graph.export(str(png), "png")
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(root.itertext())
    assert "TransferReverted" in texts and "acc-004" in texts
    image = QImage(str(png))
    rect = graph.view.scene().sceneRect()
    assert (image.width(), image.height()) == (int(rect.width() * 2), int(rect.height() * 2))
    colours = {image.pixelColor(QPoint(x, image.height() // 3)).name()
               for x in range(0, image.width(), 7)}
    assert len(colours - {QColor("white").name()}) > 3  # something was drawn


def test_menu_item_opens_the_selected_events_conversation(make_window, bank_store,
                                                          qtbot) -> None:
    window = make_window(bank_store)
    show_event_id(qtbot, window, first_event_id(bank_store, "t-overdrawn"))
    window.sagas.show_action.trigger()
    graph = window.sagas.graph
    qtbot.waitUntil(lambda: graph.isVisible() and not graph.is_tracing())  # traced off-thread
    assert graph.view.conversation.lanes == ("t-overdrawn", SAGA, "acc-002")


def test_the_sagas_tab_lists_managers(make_window, bank_store, qtbot) -> None:
    window = make_window(bank_store)
    panel = window.sagas.panel
    with qtbot.waitSignal(panel.sig_refreshed, timeout=10_000):
        window.sagas.panel_action.trigger()
    assert window.side_tabs.currentWidget() is panel
    [status] = panel.statuses
    assert (status.name, status.lag) == ("transfer_saga", 0)
    assert status.conversations == ()  # every bank transfer reached a final event
    top = panel.tree.topLevelItem(0)
    assert top.text(0).startswith("⚙ transfer_saga — checkpoint")
    assert top.child(0).text(0) == "Open conversations (0)"


def test_an_open_conversation_and_its_pending_step(make_window, tmp_path: Path,
                                                   qtbot) -> None:
    """Transfers recorded by a program without the saga: the inspector (read-only, so it
    does not run the saga) lists them as open, and their graph shows the step pending."""
    target = str(tmp_path / "store.sqlite3")
    with Application.open(target, Domain("bank", aggregates=[account, transfer],
                                         projections=[bank_accounts, transfers]),
                          create=True) as app:
        app.dispatch(RequestTransfer(aggregate_id="t-open", source_account_number="a",
                                     destination_account_number="b", amount=5))
    window = make_window(target, read_only=True)
    panel = window.sagas.panel
    with qtbot.waitSignal(panel.sig_refreshed, timeout=10_000):
        window.sagas.show_panel()
    [status] = panel.statuses
    assert status.lag == 1
    [item] = panel.conversation_items()
    assert (item.text(1), item.text(3)) == ("t-open", "#1 TransferRequested")
    panel.tree.itemDoubleClicked.emit(item, 0)
    graph = window.sagas.graph
    qtbot.waitUntil(lambda: graph.isVisible() and not graph.is_tracing())  # traced off-thread
    step = next(i for i in graph.view.nodes.values() if i.node.kind == "step")
    assert step.node.status == "pending" and step.stands_out
    assert "did not go on" in graph.summary.text()


@pytest.mark.xfail(not hasattr(Application, "parked_steps"), strict=True,
                   reason="needs trust-engine: saga parking (Application.parked_steps, "
                          "retry_parked)")
def test_a_parked_step_in_the_graph_and_the_panel(qtbot) -> None:
    from tests.test_trace import bank_with_a_failing_saga, request, setup_accounts

    app = bank_with_a_failing_saga()
    setup_accounts(app)
    event_id = request(app, "T1", "B", 10)
    graph = ConversationWindow()
    qtbot.addWidget(graph)
    graph.show_for(app, event_id)
    qtbot.waitUntil(lambda: not graph.is_tracing())  # traced off the UI thread
    parked = next(i for i in graph.view.nodes.values() if i.node.label == "boom_saga")
    assert parked.node.status == "parked" and parked.stands_out
    assert parked.fill == QColor("#dc2626")
    panel = ProcessManagersPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_refreshed, timeout=10_000):
        panel.set_application(app)
    boom = next(s for s in panel.statuses if s.name == "boom_saga")
    assert len(boom.parked) == 1
    retry = panel.findChild(QPushButton, "parkedRetryButton")
    with qtbot.waitSignal(panel.sig_refreshed, timeout=10_000):
        qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)  # still raises: parked again
    again = app.parked_steps()  # type: ignore[attr-defined]
    assert [(s.event_id, s.attempts) for s in again] == [(event_id, 2)]


def test_zoomed_far_out_one_overview_item_draws_the_graph(make_window, bank_store,
                                                          qtbot) -> None:
    window = make_window(bank_store)
    graph = open_graph(window, qtbot, "t-missing")
    view = graph.view
    view.resetTransform()
    view.zoom(0.1)
    assert not any(item.isVisible() for item in view.nodes.values())
    assert view.overview is not None and view.overview.isVisible()
    transferred = next(i for i in view.nodes.values() if i.node.label == "MoneySent")
    point = view.mapFromScene(transferred.sceneBoundingRect().center())
    assert view.node_at(point) is transferred  # clicks still find their node
    view.zoom(10.0)
    assert all(item.isVisible() for item in view.nodes.values())
    assert not view.overview.isVisible()
