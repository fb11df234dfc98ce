"""The selected event: identity, links along causation and correlation, data as JSON."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from incident_core import EventStore, RecordedEvent
from incident_core.ports.values import LineageEntry
from incident_gui.models.event_cells import KnowsEvent, type_icon
from incident_gui.presentation.colors import color_for_event_type
from incident_gui.presentation.formatting import local_time, pretty_json
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane, Requests
from incident_gui.widgets.changed_rows import ROW_ROLE, add_changed_rows
from incident_gui.widgets.json_tree import JsonTree, tree_children

__all__ = ["EVENT_ID_ROLE", "RELATED_EVENT_ROLE", "EventDetail"]

EVENT_ID_ROLE = Qt.ItemDataRole.UserRole + 5
RELATED_EVENT_ROLE = Qt.ItemDataRole.UserRole + 6  # the RecordedEvent itself (as read)
RELATED_LIMIT = 500
ChangedBy = Callable[[int], list[LineageEntry]]  # an event's position -> rows it changed
_BADGE_STYLE = ("QLabel { background: #b45309; color: white; border-radius: 4px;"
                " padding: 1px 6px; font-weight: bold; }")


class _RelatedItem(QTreeWidgetItem):
    """A related event: the position column sorts as a number."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        tree = self.treeWidget()
        column = tree.sortColumn() if tree is not None else 0
        if column == 2:
            mine = self.data(2, Qt.ItemDataRole.UserRole)
            theirs = other.data(2, Qt.ItemDataRole.UserRole)
            if isinstance(mine, int) and isinstance(theirs, int):
                return mine < theirs
        return self.text(column) < other.text(column)


def _link(kind: str, target: str, text: str) -> str:
    return f'<a href="{kind}:{escape(target)}">{escape(text)}</a>'


def _command_cause(event: RecordedEvent) -> str:
    command = event.metadata.get("command_type") or "a command"
    return f"{escape(str(command))} (a command, not an event)"


def _cause_text(event: RecordedEvent, cause: RecordedEvent | None) -> str:
    if cause is None:
        return _command_cause(event)
    return (_link("event", cause.event_id, f"{cause.event_type} #{cause.position}")
            + f" on {escape(cause.aggregate_id)}")


def _related(store: EventStore, changed_by: ChangedBy, event: RecordedEvent) -> tuple[
        list[RecordedEvent], list[RecordedEvent], list[LineageEntry]]:
    caused = [e for e in store.events_with_metadata("causation_id", event.event_id,
                                                     RELATED_LIMIT)
              if not e.caused_by_its_command]
    correlation = event.correlation_id
    same = ([] if correlation is None else
            store.events_with_metadata("correlation_id", correlation, RELATED_LIMIT))
    return caused, same, changed_by(event.position)


class EventDetail(QWidget):
    """`eventDetail`: header and fields, the JSON tree, and related events (clickable)."""

    sig_event_requested = Signal(str)  # event id to jump to
    sig_aggregate_requested = Signal(str)
    sig_conversation_requested = Signal(str)  # event id whose conversation to show
    sig_row_history_requested = Signal(str, str)  # projection, row key

    def __init__(self, lane: QueryLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventDetail")
        self._store: EventStore | None = None
        self._changed_by: ChangedBy = lambda _position: []
        self._knows: KnowsEvent = lambda _t: True
        self._event: RecordedEvent | None = None
        self._requests = Requests(lane)
        self.title = named(QLabel("Select an event"), "eventTitle")
        self.badge = named(QLabel("⚠ Unknown event type — data shown raw"), "unknownTypeBadge")
        self.badge.setStyleSheet(_BADGE_STYLE)
        self.badge.setWordWrap(True)
        self.title.setWordWrap(True)
        self.badge.hide()
        self.fields: dict[str, QLabel] = {}
        self.json = JsonTree("eventJson", self)
        self.copy_button = named(QPushButton("Copy as JSON"), "copyJsonButton")
        self.copy_button.clicked.connect(self.copy_json)
        self.conversation_button = named(QPushButton("Show conversation"),
                                         "showConversationButton")
        self.conversation_button.clicked.connect(self._request_conversation)
        self.related = named(QTreeWidget(), "relatedEvents")
        self.related.setHeaderLabels(["Related event", "Aggregate", "Position"])
        self.related.setRootIsDecorated(True)
        self.related.itemClicked.connect(self._on_related_clicked)
        self.related.itemActivated.connect(self._on_related_clicked)
        # A header click sorts each group (at most a thousand events, read already);
        # the groups keep their order.
        self.related.header().setSectionsClickable(True)
        self.related.header().setSortIndicatorShown(True)
        self.related.header().setSortIndicator(2, Qt.SortOrder.AscendingOrder)
        self.related.header().sortIndicatorChanged.connect(self._sort_related)
        self._layout()
        self.show_event(None)

    def _field(self, name: str) -> QLabel:
        label = named(QLabel(), name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setMinimumWidth(60)  # long ids must not hold the whole window wide
        label.linkActivated.connect(self._on_link)
        self.fields[name] = label
        return label

    def _layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for caption, name in (("Event id", "eventIdLabel"), ("Position", "positionLabel"),
                              ("Aggregate", "aggregateLink"), ("Version", "versionLabel"),
                              ("Recorded", "recordedLabel"), ("Command", "commandLabel"),
                              ("Caused by", "causationLink"),
                              ("Correlation", "correlationLabel")):
            form.addRow(caption, self._field(name))
        header = QVBoxLayout()  # the buttons under the title: the pane stays narrow
        header.addWidget(self.title)
        buttons = QHBoxLayout()
        buttons.addWidget(self.conversation_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        header.addLayout(buttons)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(form)
        top_layout.addWidget(self.json, 1)
        self._body = named(QSplitter(Qt.Orientation.Vertical), "eventDetailSplitter")
        self._body.addWidget(top)
        self._body.addWidget(self.related)
        self._body.setStretchFactor(0, 3)
        self._body.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self._body, 1)
        layout.addStretch(0)  # keeps the header at the top while there is no event

    # -- public API -------------------------------------------------------------------------
    def set_store(self, store: EventStore | None, knows: KnowsEvent,
                  changed_by: ChangedBy = lambda _position: []) -> None:
        """`changed_by(position)`: the rows that event changed (`rows_changed_by`)."""
        self._store = store
        self._changed_by = changed_by
        self._knows = knows
        self.show_event(None)

    @property
    def shown_event(self) -> RecordedEvent | None:
        return self._event

    def show_event(self, event: RecordedEvent | None) -> None:
        self._requests.reset()  # the previous event's related events are stale
        self._event = event
        self.related.clear()
        self.copy_button.setEnabled(event is not None)
        self.conversation_button.setEnabled(event is not None)
        self._body.setVisible(event is not None)
        if event is None:
            self.title.setText("Select an event in a timeline or the global log")
            self.badge.hide()
            self.json.clear()
            for label in self.fields.values():
                label.clear()
            return
        self._show_header(event)
        self._show_fields(event)
        self.json.show_sections({"data": event.data, "metadata": event.metadata})
        if self._store is not None:
            store = self._store
            QTreeWidgetItem(self.related, ["Looking for related events…"])
            changed_by = self._changed_by
            self._requests.submit(lambda: _related(store, changed_by, event), self._on_related,
                                  self._on_related_failed)

    def _request_conversation(self) -> None:
        if self._event is not None:
            self.sig_conversation_requested.emit(self._event.event_id)

    def copy_json(self) -> None:
        if self._event is not None:
            QApplication.clipboard().setText(pretty_json(self._event.to_json()))

    # -- rendering --------------------------------------------------------------------------
    def _show_header(self, event: RecordedEvent) -> None:
        color = color_for_event_type(event.event_type).name()
        self.title.setText(f"<span style='color:{color}; font-size:large'>●</span> "
                           f"<b style='font-size:large'>{escape(event.event_type)}</b>")
        self.badge.setVisible(not self._knows(event.event_type))

    def _show_fields(self, event: RecordedEvent) -> None:
        f = self.fields
        f["eventIdLabel"].setText(escape(event.event_id))
        f["positionLabel"].setText(f"#{event.position}")
        f["aggregateLink"].setText(_link("aggregate", event.aggregate_id, event.aggregate_id)
                                   + f" ({escape(event.aggregate_type)})")
        f["versionLabel"].setText(f"{event.version} · schema {event.schema_version}")
        utc = escape(event.recorded_at_text)
        f["recordedLabel"].setText(f"{escape(local_time(event.recorded_at_text))} "
                                   f"<span style='color:gray'>(UTC {utc})</span>")
        command = event.metadata.get("command_type")
        command_id = event.metadata.get("command_id")
        f["commandLabel"].setText(
            f"{escape(str(command or '—'))} <span style='color:gray'>"
            f"{escape(str(command_id or ''))}</span>")
        self._show_causation(event)
        correlation = event.correlation_id
        f["correlationLabel"].setText(escape(correlation) if correlation else "—")

    def _show_causation(self, event: RecordedEvent) -> None:
        """The cause: a link to the event that caused this one (read on the lane), or the
        command's name."""
        label, cause_id, store = self.fields["causationLink"], event.causation_id, self._store
        if not cause_id or store is None or event.caused_by_its_command:
            label.setText("—" if not cause_id else _command_cause(event))
            return
        label.setText("…")
        self._requests.submit(lambda: store.get_event(cause_id),
                              lambda cause: label.setText(_cause_text(event, cause)),
                              lambda message, _details: label.setText(escape(message)))

    def _on_related_failed(self, message: str, _details: str) -> None:
        self.related.clear()
        QTreeWidgetItem(self.related, [f"Related events unavailable: {message}"])

    def _on_related(self, result: tuple[
            list[RecordedEvent], list[RecordedEvent], list[LineageEntry]]) -> None:
        caused, same, rows = result
        self.related.clear()
        self._add_group("caused", f"Caused by this event ({len(caused)})", caused)
        self._add_group("correlation", f"Same correlation ({len(same)})", same)
        add_changed_rows(self.related, rows)
        self.related.expandAll()
        self.related.resizeColumnToContents(0)
        header = self.related.header()
        self._sort_related(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def _sort_related(self, column: int, order: Qt.SortOrder) -> None:
        root = self.related.invisibleRootItem()
        for top in tree_children(root):
            top.sortChildren(column, order)

    def _add_group(self, name: str, caption: str, events: list[RecordedEvent]) -> None:
        group = QTreeWidgetItem(self.related, [caption])
        group.setData(0, Qt.ItemDataRole.UserRole, name)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for related in events:
            item = _RelatedItem(group, [related.event_type, related.aggregate_id,
                                        f"#{related.position}"])
            item.setData(2, Qt.ItemDataRole.UserRole, related.position)
            item.setIcon(0, type_icon(related.event_type))
            item.setData(0, EVENT_ID_ROLE, related.event_id)
            item.setData(0, RELATED_EVENT_ROLE, related)  # its menu reads nothing again
            if self._event is not None and related.event_id == self._event.event_id:
                font = item.font(0)
                font.setItalic(True)
                item.setFont(0, font)
                item.setToolTip(0, "this event")

    def related_items(self, group: str) -> list[QTreeWidgetItem]:
        """The items of a related-events group ('caused' or 'correlation')."""
        root = self.related.invisibleRootItem()
        for top in tree_children(root):
            if top.data(0, Qt.ItemDataRole.UserRole) == group:
                return tree_children(top)
        return []

    # -- navigation ---------------------------------------------------------------------------
    def _on_link(self, href: str) -> None:
        kind, _, target = href.partition(":")
        signal = {"event": self.sig_event_requested,
                  "aggregate": self.sig_aggregate_requested}.get(kind)
        if signal is not None:  # the jump rewrites the label: leave its handler first
            QTimer.singleShot(0, self, lambda: signal.emit(target))

    def _on_related_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        row = item.data(0, ROW_ROLE)
        if isinstance(row, tuple):  # a row this event changed: its history
            QTimer.singleShot(0, self, lambda: self.sig_row_history_requested.emit(*row))
            return
        event_id = item.data(0, EVENT_ID_ROLE)
        if isinstance(event_id, str):
            # Jumping rebuilds this tree: leave the click handler before the items go.
            QTimer.singleShot(0, self, lambda: self.sig_event_requested.emit(event_id))
