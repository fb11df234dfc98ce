"""The graphics items of a conversation graph: nodes and causation arrows.

Shapes, colours and elided labels are computed once per item; zoomed far out, one overview
item draws the whole graph in a few batched calls, so a fitted 1,000-node graph stays fluid.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from incident_gui.presentation.colors import color_for_event_type, text_color_on
from incident_gui.widgets.conversation_layout import NODE_H, NODE_W, Placed

__all__ = ["DETAIL_SCALE", "STANDING_OUT", "EdgeItem", "NodeItem", "OverviewItem",
           "status_colors"]

NODE_ID_ROLE = 0  # QGraphicsItem.data key holding the node id
DETAIL_SCALE = 0.3  # below this zoom: nodes as plain boxes, no time labels
STANDING_OUT = frozenset({"no_follow_up", "parked", "skipped", "pending", "rejected"})
DASHED = frozenset({"no_follow_up", "pending", "rejected"})
_COMMAND_FILL = QColor("#e5e7eb")
_STEP_FILL = QColor("#334155")
_STATUS_FILL = {"parked": QColor("#dc2626"), "skipped": QColor("#9ca3af"),
                "no_follow_up": QColor("#f59e0b"), "pending": QColor("#e2e8f0")}
_MARKS = {"command": "▶ ", "event": "", "step": "⚙ "}
_REJECTED_BORDER = QColor("#dc2626")


def status_colors(kind: str, label: str, status: str) -> tuple[QColor, QColor]:
    """(fill, border) of a node: events by type, commands light, steps dark; steps that
    did not go on (parked, skipped, no follow-up, pending) in a warning colour; a command
    the domain rejected keeps its fill, outlined in red."""
    if status == "rejected":
        return _COMMAND_FILL, _REJECTED_BORDER
    if status in _STATUS_FILL:
        fill = _STATUS_FILL[status]
        return fill, QColor("#7f1d1d") if status == "parked" else fill.darker(150)
    if kind == "event":
        fill = color_for_event_type(label)
    else:
        fill = _COMMAND_FILL if kind == "command" else _STEP_FILL
    return fill, fill.darker(140)


class NodeItem(QGraphicsItem):
    """One node: a rounded box (events, steps) or a tag (commands) with its label."""

    def __init__(self, placed: Placed) -> None:
        super().__init__()
        node = placed.node
        self.node = node
        self.setPos(placed.x, placed.y)
        self.setData(NODE_ID_ROLE, node.node_id)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.fill, self.border = status_colors(node.kind, node.label, node.status)
        self.stands_out = node.status in STANDING_OUT
        self._text = ("✗ " if node.rejected else _MARKS.get(node.kind, "")) + node.label
        self._rect = QRectF(0, 0, NODE_W, NODE_H)
        self.size = self._rect.size()
        self._elided: str | None = None

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-3, -3, 3, 3)

    def tip(self) -> str:
        """The tool tip (built when asked: a thousand up front cost tens of ms)."""
        node = self.node
        where = f"#{node.position}  " if node.kind == "event" else ""
        text = f"{node.kind}: {node.label}\n{where}{node.lane}\n{node.time or ''}"
        if node.rejected:
            return text + f"\nrejected: {node.reason}" + (f" ({node.detail})" if node.detail
                                                          else "")
        return text + (f"\n{node.status}: {node.detail}" if node.detail else "")

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, 6, 6)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.border, 3.0 if self.stands_out or self.isSelected() else 1.2)
        if self.node.status in DASHED:
            pen.setStyle(Qt.PenStyle.DashLine)
        if self.isSelected():
            pen.setColor(QColor("#2563eb"))
        painter.setPen(pen)
        painter.setBrush(QBrush(self.fill))
        radius = 2.0 if self.node.kind == "command" else 8.0
        painter.drawRoundedRect(self._rect, radius, radius)
        painter.setPen(text_color_on(self.fill))
        font = QFont(painter.font())
        font.setPointSizeF(8.5)
        font.setBold(self.node.kind != "command")
        painter.setFont(font)
        if self._elided is None:
            self._elided = painter.fontMetrics().elidedText(
                self._text, Qt.TextElideMode.ElideRight, int(NODE_W - 10))
        painter.drawText(self._rect.adjusted(5, 0, -5, 0), Qt.AlignmentFlag.AlignCenter,
                         self._elided)


def _arrow(start: QPointF, end: QPointF) -> QPainterPath:
    """A curve from `start` to `end` and an open arrow head at `end` (one path, one item)."""
    path = QPainterPath(start)
    bend = max(24.0, (end.x() - start.x()) / 2)
    path.cubicTo(QPointF(start.x() + bend, start.y()), QPointF(end.x() - bend, end.y()), end)
    path.addPolygon(QPolygonF([QPointF(end.x() - 7, end.y() - 4), end,
                               QPointF(end.x() - 7, end.y() + 4)]))
    return path


class _Look:
    """Pens, brushes and the label font, made once (after the QApplication exists)."""

    made: _Look | None = None

    def __init__(self) -> None:
        self.edge_pen = QPen(QColor("#64748b"), 1.2)
        self.label_colour = QColor("#475569")
        self.label_font = QFont()
        self.label_font.setPointSizeF(7.5)

    @classmethod
    def get(cls) -> _Look:
        if cls.made is None:
            cls.made = cls()
        return cls.made


class EdgeItem(QGraphicsPathItem):
    """A causation arrow from a parent node to a child, labelled (above the child) with the
    time since its cause. The label is painted by the edge itself: a thousand text items
    would cost more to create than the whole rest of the graph."""

    def __init__(self, parent: Placed, child: Placed) -> None:
        start = QPointF(parent.x + NODE_W, parent.y + NODE_H / 2)
        end = QPointF(child.x, child.y + NODE_H / 2)
        super().__init__(_arrow(start, end))
        self.setPen(_Look.get().edge_pen)
        self.setZValue(-1)
        self.line = (start, end)
        self.child_id = child.node.node_id
        self.label = child.delta
        self._label_rect = QRectF(child.x + 2, child.y - 13, NODE_W - 4, 12)
        self._bounds = super().boundingRect().united(self._label_rect)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        super().paint(painter, option, widget)
        if self.label:
            look = _Look.get()
            painter.setFont(look.label_font)
            painter.setPen(look.label_colour)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignLeft
                             | Qt.AlignmentFlag.AlignBottom, self.label)


class OverviewItem(QGraphicsItem):
    """The whole graph zoomed far out, in one paint call: boxes batched by colour, straight
    lines for arrows. Shown instead of the node and edge items below `DETAIL_SCALE`
    (painting a thousand items one by one from Python costs tens of milliseconds)."""

    def __init__(self, nodes: list[NodeItem], edges: list[EdgeItem]) -> None:
        super().__init__()
        self._lines = [QLineF(*edge.line) for edge in edges]
        self._boxes: dict[str, tuple[QColor, list[QRectF]]] = {}
        bounds = QRectF()
        for node in nodes:
            colour = node.border if node.stands_out else node.fill
            rect = QRectF(node.pos(), node.size)
            self._boxes.setdefault(colour.name(), (colour, []))[1].append(rect)
            bounds = bounds.united(rect)
        self._bounds = bounds.adjusted(-2, -2, 2, 2)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setPen(QPen(QColor("#94a3b8"), 0))
        painter.drawLines(self._lines)
        painter.setPen(Qt.PenStyle.NoPen)
        for colour, rects in self._boxes.values():
            painter.setBrush(colour)
            painter.drawRects(rects)
