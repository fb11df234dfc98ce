"""Events over time, stacked by event type: a small chart painted with QPainter.

Deliberately not QtCharts: that module ships in PySide6-Addons, which would make the
inspector's dependencies and bundle several times bigger for one small chart.

Feed it exactly what `EventStore.event_histogram` returns::

    chart.set_data(*store.event_histogram(buckets=60))

Bars are stacked per bucket (the most frequent type at the bottom), with a legend in the
event-type colours (`colors.color_for_event_type`, or `set_type_colors`), a count axis,
time labels in local time, and a tooltip per bucket with its time span and counts. Every
colour other than the event types comes from the palette, so light and dark themes both
read; text is laid out before painting and elided to fit, never clipped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from incident_core.envelope import format_time
from incident_gui.presentation.chart_layout import (
    MARGIN,
    MAX_LEGEND_LINES,
    MIN_PLOT_HEIGHT,
    Box,
    ChartBoxes,
    Measure,
    chart_boxes,
    clock,
    nice_ceiling,
    tick_texts,
)
from incident_gui.presentation.colors import color_for_event_type

__all__ = ["MIN_PLOT_HEIGHT", "ActivityChart", "ChartLayout", "nice_ceiling"]


@dataclass
class ChartLayout:
    """Where everything goes for one widget size (computed before painting)."""

    plot: QRect = field(default_factory=QRect)
    legend: list[tuple[QRect, QRect, str, str]] = field(default_factory=list)  # swatch, text
    y_labels: list[tuple[QRect, str]] = field(default_factory=list)
    x_labels: list[tuple[QRect, str]] = field(default_factory=list)
    axis_max: int = 1

    def texts(self) -> list[tuple[QRect, str]]:
        return ([(rect, text) for _, rect, text, _ in self.legend]
                + self.y_labels + self.x_labels)

    @classmethod
    def of(cls, boxes: ChartBoxes) -> ChartLayout:
        """The computed layout in QRects."""
        return cls(_rect(boxes.plot),
                   [(_rect(swatch), _rect(box), text, name)
                    for swatch, box, text, name in boxes.legend],
                   [(_rect(box), text) for box, text in boxes.y_labels],
                   [(_rect(box), text) for box, text in boxes.x_labels], boxes.axis_max)


def _rect(box: Box) -> QRect:
    return QRect(box.left, box.top, box.width, box.height)


class ActivityChart(QWidget):
    """A stacked bar chart of event counts per time bucket and event type."""

    sig_bucket_clicked = Signal(str, str)  # bucket start, bucket end (ISO 8601 UTC)
    sig_range_selected = Signal(int, int)  # first and last bucket of a drag across bars

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activityChart")
        self.setMouseTracking(True)
        self._labels: list[str] = []
        self._starts: list[datetime] = []
        self._counts: dict[str, list[int]] = {}
        self._types: list[str] = []
        self._totals: list[int] = []
        self._colors: dict[str, QColor] = {}
        self._hover = -1
        self._drag: tuple[int, int] | None = None  # (anchor, current) bucket while dragging
        self._layout: ChartLayout | None = None

    # -- data -----------------------------------------------------------------------------
    def set_data(self, labels: list[str], counts: dict[str, list[int]]) -> None:
        """Bucket start times (ISO UTC) and, per event type, one count per bucket."""
        self._labels = list(labels)
        self._starts = [datetime.fromisoformat(label) for label in labels]
        self._counts = {name: list(series) for name, series in counts.items()
                        if len(series) == len(labels)}
        self._types = sorted(self._counts, key=lambda name: (-sum(self._counts[name]), name))
        self._totals = [sum(series[i] for series in self._counts.values())
                        for i in range(len(labels))]
        self._hover = -1
        self._invalidate()

    def set_type_colors(self, colors: dict[str, QColor]) -> None:
        """Colours per event type (others use `color_for_event_type`)."""
        self._colors = dict(colors)
        self.update()

    def color_of(self, event_type: str) -> QColor:
        return self._colors.get(event_type) or color_for_event_type(event_type)

    def event_types(self) -> list[str]:
        """The charted types, bottom of the stack first (most frequent first)."""
        return list(self._types)

    def add_events(self, stamps: list[tuple[datetime, str]]) -> bool:
        """Live: count new events (time, type) into the buckets they fall in — one after
        the last bucket's end counts in the last bucket until the next read re-buckets.
        False when an event is older than the first bucket (the caller reads again)."""
        if not self._starts:
            return False
        for moment, name in stamps:
            if moment < self._starts[0]:
                return False
            index = bisect.bisect_right(self._starts, moment) - 1
            series = self._counts.setdefault(name, [0] * len(self._starts))
            series[index] += 1
            self._totals[index] += 1
        self._types = sorted(self._counts, key=lambda n: (-sum(self._counts[n]), n))
        self._invalidate()
        return True

    def type_counts(self, event_type: str) -> list[int]:
        """One count per bucket of `event_type`."""
        return list(self._counts.get(event_type, [0] * len(self._labels)))

    def total(self) -> int:
        return sum(self._totals)

    def bucket_count(self) -> int:
        return len(self._labels)

    def bucket_span(self, index: int) -> tuple[datetime, datetime]:
        start = self._starts[index]
        if index + 1 < len(self._starts):
            return start, self._starts[index + 1]
        width = self._starts[1] - self._starts[0] if len(self._starts) > 1 else timedelta(0)
        return start, start + width

    # -- geometry -------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(480, 180)

    def minimumSizeHint(self) -> QSize:
        """One legend line, the x labels and a plot of MIN_PLOT_HEIGHT."""
        line = self.fontMetrics().height()
        return QSize(240, 2 * MARGIN + (line + 4) + 4 + line // 2 + MIN_PLOT_HEIGHT + line + 2)

    def _legend_lines(self) -> int:
        """Two legend lines when there is room for them above a decent plot."""
        line = self.fontMetrics().height()
        roomy = self.height() >= self.minimumSizeHint().height() + line + 4 + MIN_PLOT_HEIGHT
        return MAX_LEGEND_LINES if roomy else 1

    def chart_layout(self) -> ChartLayout:
        if self._layout is None:
            self._layout = self._compute_layout()
        return self._layout

    def _invalidate(self) -> None:
        self._layout = None
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout = None
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._invalidate()
        super().changeEvent(event)

    def _compute_layout(self) -> ChartLayout:
        fm = self.fontMetrics()
        measure = Measure(fm.height(), fm.averageCharWidth(), fm.horizontalAdvance,
                          lambda text, width: fm.elidedText(
                              text, Qt.TextElideMode.ElideMiddle, width))
        area = Box(MARGIN, MARGIN, self.width() - 2 * MARGIN, self.height() - 2 * MARGIN)
        return ChartLayout.of(chart_boxes(measure, area, self._types, self._totals,
                                          tick_texts(self._starts), self._legend_lines()))

    # -- hover ----------------------------------------------------------------------------
    def bucket_at(self, pos: QPoint) -> int:
        """The bucket under `pos` (-1 outside the bars)."""
        plot = self.chart_layout().plot
        count = len(self._labels)
        if count == 0 or not plot.adjusted(0, 0, 1, 1).contains(pos):
            return -1
        return min(count - 1, int((pos.x() - plot.left()) * count / max(plot.width(), 1)))

    def tooltip_text(self, index: int) -> str:
        start, end = self.bucket_span(index)
        fine = end - start < timedelta(seconds=10)
        day = start.astimezone().strftime("%Y-%m-%d")
        lines = [f"{day} {clock(start.astimezone(), milliseconds=fine)} to "
                 f"{clock(end.astimezone(), milliseconds=fine)}"]
        rows = [(name, self._counts[name][index]) for name in self._types
                if self._counts[name][index]]
        lines += [f"{name}: {count:,}" for name, count in rows]
        total = self._totals[index]
        lines.append(f"Total: {total:,} event{'s' if total != 1 else ''}")
        return "\n".join(lines)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.bucket_at(event.pos())
            if index >= 0:
                QToolTip.showText(event.globalPos(), self.tooltip_text(index), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.bucket_at(event.position().toPoint())
        if index >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self._drag = (index, index)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.bucket_at(event.position().toPoint())
        if index != self._hover:
            self._hover = index
            self.update()
        if self._drag is not None and index >= 0 and index != self._drag[1]:
            self._drag = (self._drag[0], index)
            self.update()
        super().mouseMoveEvent(event)

    def selected_buckets(self) -> tuple[int, int] | None:
        """The buckets a drag covers now (first, last), or None."""
        if self._drag is None:
            return None
        return min(self._drag), max(self._drag)

    def leaveEvent(self, event: QEvent) -> None:
        if self._hover != -1:
            self._hover = -1
            self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        index = self.bucket_at(event.position().toPoint())
        dragged, self._drag = self.selected_buckets(), None
        if dragged is not None and dragged[0] != dragged[1] and \
                event.button() == Qt.MouseButton.LeftButton:
            self.update()
            self.sig_range_selected.emit(*dragged)  # a drag across bars: zoom to them
        elif index >= 0 and event.button() == Qt.MouseButton.LeftButton:
            _start, end = self.bucket_span(index)
            self.sig_bucket_clicked.emit(self._labels[index], format_time(end))
        super().mouseReleaseEvent(event)

    # -- painting -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            palette = self.palette()
            if not self._labels:
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No events yet")
                return
            layout = self.chart_layout()
            self._paint_frame(painter, layout, palette)
            self._paint_bars(painter, layout, palette)
            self._paint_texts(painter, layout, palette)
        finally:
            painter.end()

    def _paint_frame(self, painter: QPainter, layout: ChartLayout, palette: QPalette) -> None:
        plot = layout.plot
        painter.fillRect(plot, palette.color(QPalette.ColorRole.Base))
        grid = palette.color(QPalette.ColorRole.Mid)
        grid.setAlpha(110)
        painter.setPen(grid)
        for rect, _ in layout.y_labels:
            y = rect.center().y() if plot.top() < rect.center().y() < plot.bottom() else None
            if y is not None:
                painter.drawLine(plot.left(), y, plot.right(), y)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())

    def _paint_bars(self, painter: QPainter, layout: ChartLayout, palette: QPalette) -> None:
        plot = layout.plot
        count = len(self._labels)
        slot = plot.width() / count
        gap = 1 if slot > 4 else 0
        painter.setPen(Qt.PenStyle.NoPen)
        first, last = self.selected_buckets() or (self._hover, self._hover)
        if 0 <= first < count:
            highlight = palette.color(QPalette.ColorRole.Highlight)
            highlight.setAlpha(60)
            left = round(plot.left() + first * slot)
            right = round(plot.left() + (last + 1) * slot)
            painter.fillRect(QRect(left, plot.top(), max(1, right - left), plot.height()),
                             highlight)
        for index in range(count):
            left = round(plot.left() + index * slot)
            width = max(1, round(plot.left() + (index + 1) * slot) - left - gap)
            base = 0
            for name in self._types:
                value = self._counts[name][index]
                if not value:
                    continue
                y0 = plot.bottom() - round(plot.height() * base / layout.axis_max)
                base += value
                y1 = plot.bottom() - round(plot.height() * base / layout.axis_max)
                painter.fillRect(QRect(left, y1, width, max(1, y0 - y1)), self.color_of(name))

    def _paint_texts(self, painter: QPainter, layout: ChartLayout, palette: QPalette) -> None:
        text_color = palette.color(QPalette.ColorRole.WindowText)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        for swatch, rect, text, name in layout.legend:
            if name:
                painter.fillRect(swatch, self.color_of(name))
            painter.setPen(text_color if name else muted)
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             text)
        painter.setPen(muted)
        for rect, text in layout.y_labels:
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             text)
        for rect, text in layout.x_labels:
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)
