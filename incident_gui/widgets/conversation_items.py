"""The graphics items of a conversation graph: nodes, causation arrows, lane bands.

Nodes paint once into an item-coordinate cache (zooming scales the cached image, panning
moves it), so a 1,000-node graph repaints without re-running any paint code per frame.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from incident_gui.colors import color_for_event_type, text_color_on
from incident_gui.widgets.conversation_layout import NODE_H, NODE_W, Placed

__all__ = ["STANDING_OUT", "EdgeItem", "NodeItem", "status_colors"]

NODE_ID_ROLE = 0  # QGraphicsItem.data key holding the node id
STANDING_OUT = frozenset({"no_follow_up", "parked", "skipped", "pending"})
_COMMAND_FILL = QColor("#e5e7eb")
_STEP_FILL = QColor("#334155")
_STATUS_FILL = {"parked": QColor("#dc2626"), "skipped": QColor("#9ca3af"),
                "no_follow_up": QColor("#f59e0b"), "pending": QColor("#e2e8f0")}
_MARKS = {"command": "▶ ", "event": "", "step": "⚙ "}


def status_colors(kind: str, label: str, status: str) -> tuple[QColor, QColor]:
    """(fill, border) of a node: events by type, commands light, steps dark; steps that
    did not go on (parked, skipped, no follow-up, pending) in a warning colour."""
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
        self.setCacheMode(QGraphicsItem.CacheMode.ItemCoordinateCache)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.fill, self.border = status_colors(node.kind, node.label, node.status)
        self.stands_out = node.status in STANDING_OUT
        where = f"#{node.position}  " if node.kind == "event" else ""
        tip = f"{node.kind}: {node.label}\n{where}{node.lane}\n{node.time or ''}"
        if node.detail:
            tip += f"\n{node.status}: {node.detail}"
        self.setToolTip(tip)
        self._text = _MARKS.get(node.kind, "") + node.label
        self._rect = QRectF(0, 0, NODE_W, NODE_H)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-3, -3, 3, 3)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, 6, 6)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.border, 3.0 if self.stands_out or self.isSelected() else 1.2)
        if self.node.status in ("pending", "no_follow_up"):
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
        text = painter.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight,
                                                int(NODE_W - 10))
        painter.drawText(self._rect.adjusted(5, 0, -5, 0), Qt.AlignmentFlag.AlignCenter, text)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange,
                   value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.update()  # repaint the cached image with the selection border
        return super().itemChange(change, value)


def _curve(start: QPointF, end: QPointF) -> QPainterPath:
    path = QPainterPath(start)
    bend = max(24.0, (end.x() - start.x()) / 2)
    path.cubicTo(QPointF(start.x() + bend, start.y()), QPointF(end.x() - bend, end.y()), end)
    return path


class EdgeItem(QGraphicsPathItem):
    """A causation arrow from a parent node to a child, labelled with the time between."""

    def __init__(self, parent: Placed, child: Placed) -> None:
        start = QPointF(parent.x + NODE_W, parent.y + NODE_H / 2)
        end = QPointF(child.x, child.y + NODE_H / 2)
        super().__init__(_curve(start, end))
        colour = QColor("#64748b")
        self.setPen(QPen(colour, 1.2))
        self.setZValue(-1)
        head = QGraphicsPolygonItem(QPolygonF([end, QPointF(end.x() - 8, end.y() - 4),
                                               QPointF(end.x() - 8, end.y() + 4)]), self)
        head.setPen(QPen(Qt.PenStyle.NoPen))
        head.setBrush(QBrush(colour))
        self.child_id = child.node.node_id
        if child.delta:
            label = QGraphicsSimpleTextItem(child.delta, self)
            font = label.font()
            font.setPointSizeF(7.5)
            label.setFont(font)
            label.setBrush(QBrush(QColor("#475569")))
            label.setPos(child.x + 2, child.y - 13)  # above the child: time since its cause
            self.label: QGraphicsSimpleTextItem | None = label
        else:
            self.label = None
