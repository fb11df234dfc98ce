"""`ConversationView`: the causation graph of one conversation in a QGraphicsView.

Time runs left to right, one lane per aggregate (and per process manager), arrows follow
causation, labels give the time since the cause. Wheel zooms, dragging pans, `fit()` shows
it all. Clicking an event node emits `sig_event_clicked(event)`. Exports SVG and PNG.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QHelpEvent,
    QImage,
    QImageWriter,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QToolTip, QWidget

from incident_core import RecordedEvent
from incident_core.operations.trace import Conversation
from incident_gui.widgets.conversation_items import (
    DETAIL_SCALE,
    EdgeItem,
    NodeItem,
    OverviewItem,
)
from incident_gui.widgets.conversation_layout import LANE_H, LEFT, NODE_W, TOP, layout

__all__ = ["ConversationView"]

MAX_PNG_SIDE = 16_000  # larger graphs are scaled down to fit a PNG of this many pixels
_LANE_FILLS = (QColor("#f8fafc"), QColor("#eef2f7"))


class ConversationView(QGraphicsView):
    """`conversationGraph`."""

    sig_event_clicked = Signal(object)  # RecordedEvent

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationGraph")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setBackgroundBrush(QBrush(QColor("white")))
        self.conversation: Conversation | None = None
        self.nodes: dict[str, NodeItem] = {}
        self.edges: list[EdgeItem] = []
        self._labels_shown = True
        self.overview: OverviewItem | None = None

    # -- content ------------------------------------------------------------------------
    def set_conversation(self, conversation: Conversation | None) -> None:
        scene = self.scene()
        scene.clear()
        self.nodes, self.edges, self.conversation = {}, [], conversation
        self._labels_shown, self.overview = True, None
        if conversation is None:
            return
        placed = {p.node.node_id: p for p in layout(conversation)}
        width = max((p.x for p in placed.values()), default=LEFT) + NODE_W + 20
        self._add_lanes(conversation.lanes, width)
        for node_id, item in placed.items():
            node = NodeItem(item)
            scene.addItem(node)
            self.nodes[node_id] = node
            parent = None if item.node.parent is None else placed.get(item.node.parent)
            if parent is not None:
                edge = EdgeItem(parent, item)
                scene.addItem(edge)
                self.edges.append(edge)
        scene.setSceneRect(QRectF(-10, 0, width + 20, TOP + len(conversation.lanes) * LANE_H
                                  + 10))
        if conversation.focus in self.nodes:
            self.nodes[conversation.focus].setSelected(True)

    def _add_lanes(self, lanes: tuple[str, ...], width: float) -> None:
        scene = self.scene()
        for index, lane in enumerate(lanes):
            band = scene.addRect(QRectF(0, TOP + index * LANE_H, width, LANE_H),
                                 QPen(Qt.PenStyle.NoPen),
                                 QBrush(_LANE_FILLS[index % 2]))
            band.setZValue(-2)
            band.setData(0, f"lane:{lane}")
            shown = "⚙ " + lane.removeprefix("saga:") if lane.startswith("saga:") else lane
            text = scene.addSimpleText(shown[:24])
            text.setPos(8, TOP + index * LANE_H + LANE_H / 2 - 8)
            text.setBrush(QBrush(QColor("#334155")))
            text.setToolTip(lane)

    @property
    def lane_count(self) -> int:
        return 0 if self.conversation is None else len(self.conversation.lanes)

    # -- interaction ----------------------------------------------------------------------
    def fit(self) -> None:
        """Show the whole graph (never magnified beyond 1:1)."""
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
        self.apply_detail()

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.002 <= scale <= 8.0:
            self.scale(factor, factor)
            self.apply_detail()

    def apply_detail(self) -> None:
        """Zoomed far out, time labels are unreadable dots: hide them, and draw without
        antialiasing (a fitted 1,000-node graph then repaints in a few milliseconds)."""
        detailed = self.transform().m11() >= DETAIL_SCALE
        self.setRenderHint(QPainter.RenderHint.Antialiasing, detailed)
        self._show_labels(detailed)

    def _show_labels(self, shown: bool) -> None:
        """Every node and edge item (detailed), or the one overview item instead."""
        if self._labels_shown == shown:
            return
        self._labels_shown = shown
        for item in (*self.nodes.values(), *self.edges):
            item.setVisible(shown)
        if self.overview is None and not shown:  # made when first needed
            self.overview = OverviewItem(list(self.nodes.values()), self.edges)
            self.scene().addItem(self.overview)
        if self.overview is not None:
            self.overview.setVisible(not shown)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(1.2 ** steps)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            node = self.node_at(event.position().toPoint())
            if node is not None:
                self.click_node(node.node.node_id)

    def node_at(self, point: QPoint) -> NodeItem | None:
        """The node under a viewport point (by position: also when zoomed out)."""
        scene_point = self.mapToScene(point)
        return next((n for n in self.nodes.values()
                     if n.sceneBoundingRect().contains(scene_point)), None)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            node = self.node_at(event.pos())
            if node is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), node.tip(), self)
            return True
        return super().viewportEvent(event)

    def click_node(self, node_id: str) -> RecordedEvent | None:
        """Select a node; for an event, tell the window (detail and state follow)."""
        item = self.nodes.get(node_id)
        if item is None:
            return None
        self.scene().clearSelection()
        item.setSelected(True)
        if item.node.event is not None:
            self.sig_event_clicked.emit(item.node.event)
        return item.node.event

    # -- export -----------------------------------------------------------------------------
    def _render(self, painter: QPainter, target: QRectF) -> None:
        """The whole scene into `painter`, every label shown."""
        self._show_labels(True)
        try:
            self.scene().render(painter, target, self.scene().sceneRect())
        finally:
            self.apply_detail()

    def export_svg(self, path: str) -> None:
        rect = self.scene().sceneRect()
        generator = QSvgGenerator()
        generator.setFileName(path)
        generator.setSize(QSize(int(rect.width()), int(rect.height())))
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle("Conversation")
        if self.conversation is not None:
            generator.setDescription(f"correlation {self.conversation.correlation_id}")
        painter = QPainter(generator)
        try:
            self._render(painter, QRectF(0, 0, rect.width(), rect.height()))
        finally:
            painter.end()

    def export_png(self, path: str) -> bool:
        rect = self.scene().sceneRect()
        scale = min(2.0, MAX_PNG_SIDE / max(rect.width(), rect.height(), 1.0))
        image = QImage(max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor("white"))
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._render(painter, QRectF(image.rect()))
        finally:
            painter.end()
        return QImageWriter(path, QByteArray(b"PNG")).write(image)
