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
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from incident_core.envelope import format_time
from incident_gui.presentation.colors import color_for_event_type

__all__ = ["ActivityChart", "ChartLayout", "nice_ceiling"]

MARGIN = 6
SWATCH = 10
LEGEND_GAP = 14
MAX_LEGEND_LINES = 2
MIN_PLOT_HEIGHT = 48
TICK_SPACING = 18


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is ≥ value (an axis maximum)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


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
        area = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        layout = ChartLayout()
        top = self._layout_legend(layout, fm, area)
        axis_max = nice_ceiling(max(self._totals, default=0))
        label_width = max(fm.horizontalAdvance(f"{axis_max:,}"), fm.horizontalAdvance("0"))
        bottom = area.bottom() - fm.height() - 2
        top += fm.height() // 2  # room for the top count label, centred on the top line
        layout.plot = QRect(QPoint(area.left() + label_width + 6, top),
                            QPoint(area.right(), bottom))
        layout.axis_max = axis_max
        plot = layout.plot
        roomy = plot.height() >= 3 * fm.height() and axis_max > 1
        for value in (0, axis_max // 2, axis_max) if roomy else (0, axis_max):
            y = plot.bottom() - round(plot.height() * value / axis_max)
            rect = QRect(area.left(), y - fm.height() // 2, label_width, fm.height())
            layout.y_labels.append((rect.translated(0, _clamp_shift(rect, area)), f"{value:,}"))
        self._layout_x_labels(layout, fm, area)
        return layout

    def _layout_legend(self, layout: ChartLayout, fm: QFontMetrics, area: QRect) -> int:
        """Legend items in lines above the plot (one or two, then "+k more");
        return the top of the plot."""
        line_height = fm.height() + 4
        placed: list[tuple[int, int, str, str]] = []  # line, x, text, event type
        x, line, max_lines = area.left(), 0, self._legend_lines()
        for name in self._types:
            text = fm.elidedText(name, Qt.TextElideMode.ElideMiddle, area.width() - SWATCH - 4)
            width = SWATCH + 4 + fm.horizontalAdvance(text)
            if x > area.left() and x + width > area.right() + 1:
                line, x = line + 1, area.left()
            if line >= max_lines:
                break
            placed.append((line, x, text, name))
            x += width + LEGEND_GAP
        more: tuple[int, int, str] | None = None
        while len(placed) < len(self._types):
            label = f"+{len(self._types) - len(placed)} more"
            label_width = fm.horizontalAdvance(label)
            if not placed:
                more = (0, area.left(), label)
                break
            last_line, last_x, last_text, last_name = placed[-1]
            x = last_x + SWATCH + 4 + fm.horizontalAdvance(last_text) + LEGEND_GAP
            if x + label_width <= area.right() + 1:
                more = (last_line, x, label)
                break
            room = area.right() + 1 - last_x - SWATCH - 4 - LEGEND_GAP - label_width
            if last_x == area.left() and room >= 4 * fm.averageCharWidth():
                # Alone on its line: shorten it rather than drop it.
                text = fm.elidedText(last_name, Qt.TextElideMode.ElideMiddle, room)
                placed[-1] = (last_line, last_x, text, last_name)
                continue
            placed.pop()
        for line, x, text, name in placed:
            y = area.top() + line * line_height
            swatch = QRect(x, y + 2 + (fm.height() - SWATCH) // 2, SWATCH, SWATCH)
            layout.legend.append((swatch, QRect(x + SWATCH + 4, y + 2,
                                                fm.horizontalAdvance(text), fm.height()),
                                  text, name))
        if more is not None:
            line, x, label = more
            rect = QRect(x, area.top() + line * line_height + 2, fm.horizontalAdvance(label),
                         fm.height())
            layout.legend.append((QRect(), rect, label, ""))
        lines = 1 + max((p[0] for p in placed), default=-1)
        return area.top() + lines * line_height + (4 if lines else 0)

    def _layout_x_labels(self, layout: ChartLayout, fm: QFontMetrics, area: QRect) -> None:
        count = len(self._starts)
        if count == 0:
            return
        texts = [self._tick_text(i) for i in range(count)]
        widest = max(fm.horizontalAdvance(t) for t in texts) + TICK_SPACING
        slot = layout.plot.width() / count
        every = max(1, math.ceil(widest / max(slot, 1e-6)))
        y = layout.plot.bottom() + 2
        for index in range(0, count, every):
            width = fm.horizontalAdvance(texts[index])
            left = round(layout.plot.left() + index * slot)
            rect = QRect(left, y, width, fm.height())
            if rect.right() > area.right():
                break
            layout.x_labels.append((rect, texts[index]))

    def _tick_text(self, index: int) -> str:
        start = self._starts[index].astimezone()
        first, last = self._starts[0], self._starts[-1]
        step = self.bucket_span(0)[1] - first
        same_day = first.astimezone().date() == last.astimezone().date()
        if step < timedelta(seconds=1):
            return _clock(start, milliseconds=True)
        if step < timedelta(minutes=1):
            return start.strftime("%H:%M:%S")
        if same_day:
            return start.strftime("%H:%M")
        if step < timedelta(days=1):
            return start.strftime("%b %d %H:%M")
        return start.strftime("%Y-%m-%d")

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
        lines = [f"{day} {_clock(start.astimezone(), milliseconds=fine)} to "
                 f"{_clock(end.astimezone(), milliseconds=fine)}"]
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


def _clock(moment: datetime, *, milliseconds: bool) -> str:
    text = moment.strftime("%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}" if milliseconds else text


def _clamp_shift(rect: QRect, area: QRect) -> int:
    """How far to move `rect` vertically to keep it inside `area`."""
    if rect.top() < area.top():
        return area.top() - rect.top()
    if rect.bottom() > area.bottom():
        return area.bottom() - rect.bottom()
    return 0
