"""Where the activity chart's legend, axes, labels and plot go for one size: plain Python.

The chart (`widgets/activity_chart.py`) measures text with its font and paints; this module
only computes, so it runs without Qt. A `Box` follows QRect's integer conventions (`right()`
is `left + width - 1`), so the widget turns each one into the same QRect it would have made.
Text is laid out before painting and elided to fit, never clipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["LEGEND_GAP", "MARGIN", "MAX_LEGEND_LINES", "MIN_PLOT_HEIGHT", "SWATCH",
           "TICK_SPACING", "Box", "ChartBoxes", "Measure", "chart_boxes", "clock",
           "nice_ceiling", "tick_texts"]

MARGIN = 6
SWATCH = 10
LEGEND_GAP = 14
MAX_LEGEND_LINES = 2
MIN_PLOT_HEIGHT = 48
TICK_SPACING = 18


@dataclass(frozen=True, slots=True)
class Measure:
    """The chart's font, as the layout needs it."""

    height: int  # of a line of text
    char_width: int  # of an average character
    advance: Callable[[str], int]  # the width of a text
    elide: Callable[[str, int], str]  # a text shortened in the middle to fit a width


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in whole pixels, with QRect's meaning of right and bottom."""

    left: int = 0
    top: int = 0
    width: int = 0
    height: int = 0

    @classmethod
    def corners(cls, left: int, top: int, right: int, bottom: int) -> Box:
        return cls(left, top, right - left + 1, bottom - top + 1)

    def right(self) -> int:
        return self.left + self.width - 1

    def bottom(self) -> int:
        return self.top + self.height - 1

    def shifted(self, dy: int) -> Box:
        return Box(self.left, self.top + dy, self.width, self.height)


@dataclass
class ChartBoxes:
    """The chart's layout for one size (computed before painting)."""

    plot: Box = field(default_factory=Box)
    legend: list[tuple[Box, Box, str, str]] = field(default_factory=list)  # swatch, text
    y_labels: list[tuple[Box, str]] = field(default_factory=list)
    x_labels: list[tuple[Box, str]] = field(default_factory=list)
    axis_max: int = 1


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is ≥ value (an axis maximum)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def chart_boxes(measure: Measure, area: Box, types: list[str], totals: list[int],
                ticks: list[str], legend_lines: int) -> ChartBoxes:
    """The layout inside `area`: the legend of `types` (in `legend_lines` lines at most),
    a count axis for the highest of `totals`, one x label per tick that fits."""
    height = measure.height
    layout = ChartBoxes()
    top = _layout_legend(layout, measure, area, types, legend_lines)
    axis_max = nice_ceiling(max(totals, default=0))
    label_width = max(measure.advance(f"{axis_max:,}"), measure.advance("0"))
    bottom = area.bottom() - height - 2
    top += height // 2  # room for the top count label, centred on the top line
    layout.plot = plot = Box.corners(area.left + label_width + 6, top, area.right(), bottom)
    layout.axis_max = axis_max
    roomy = plot.height >= 3 * height and axis_max > 1
    for value in (0, axis_max // 2, axis_max) if roomy else (0, axis_max):
        y = plot.bottom() - round(plot.height * value / axis_max)
        box = Box(area.left, y - height // 2, label_width, height)
        layout.y_labels.append((box.shifted(_clamp_shift(box, area)), f"{value:,}"))
    _layout_x_labels(layout, measure, area, ticks)
    return layout


# A legend item while placing: line, x, text (perhaps elided), event type.
_Item = tuple[int, int, str, str]


def _layout_legend(layout: ChartBoxes, measure: Measure, area: Box, types: list[str],
                   max_lines: int) -> int:
    """Legend items in lines above the plot (one or two, then "+k more");
    return the top of the plot."""
    line_height = measure.height + 4
    placed = _place_legend(measure, area, types, max_lines)
    more = _fit_more(measure, area, placed, len(types))
    for line, x, text, name in placed:
        y = area.top + line * line_height
        swatch = Box(x, y + 2 + (measure.height - SWATCH) // 2, SWATCH, SWATCH)
        layout.legend.append((swatch, Box(x + SWATCH + 4, y + 2, measure.advance(text),
                                          measure.height), text, name))
    if more is not None:
        line, x, label = more
        box = Box(x, area.top + line * line_height + 2, measure.advance(label),
                  measure.height)
        layout.legend.append((Box(), box, label, ""))
    lines = 1 + max((p[0] for p in placed), default=-1)
    return area.top + lines * line_height + (4 if lines else 0)


def _place_legend(measure: Measure, area: Box, types: list[str], max_lines: int) -> list[_Item]:
    """As many types as the lines hold, left to right, each elided to the area's width."""
    placed: list[_Item] = []
    x, line = area.left, 0
    for name in types:
        text = measure.elide(name, area.width - SWATCH - 4)
        width = SWATCH + 4 + measure.advance(text)
        if x > area.left and x + width > area.right() + 1:
            line, x = line + 1, area.left
        if line >= max_lines:
            break
        placed.append((line, x, text, name))
        x += width + LEGEND_GAP
    return placed


def _fit_more(measure: Measure, area: Box, placed: list[_Item],
              count: int) -> tuple[int, int, str] | None:
    """Where "+k more" goes when not every type was placed (line, x, label): after the last
    item, which is shortened or dropped (`placed` changes) until the label fits."""
    while len(placed) < count:
        label = f"+{count - len(placed)} more"
        label_width = measure.advance(label)
        if not placed:
            return (0, area.left, label)
        last_line, last_x, last_text, last_name = placed[-1]
        x = last_x + SWATCH + 4 + measure.advance(last_text) + LEGEND_GAP
        if x + label_width <= area.right() + 1:
            return (last_line, x, label)
        room = area.right() + 1 - last_x - SWATCH - 4 - LEGEND_GAP - label_width
        if last_x == area.left and room >= 4 * measure.char_width:
            # Alone on its line: shorten it rather than drop it.
            placed[-1] = (last_line, last_x, measure.elide(last_name, room), last_name)
            continue
        placed.pop()
    return None


def _layout_x_labels(layout: ChartBoxes, measure: Measure, area: Box,
                     ticks: list[str]) -> None:
    count = len(ticks)
    if count == 0:
        return
    widest = max(measure.advance(t) for t in ticks) + TICK_SPACING
    slot = layout.plot.width / count
    every = max(1, math.ceil(widest / max(slot, 1e-6)))
    y = layout.plot.bottom() + 2
    for index in range(0, count, every):
        box = Box(round(layout.plot.left + index * slot), y, measure.advance(ticks[index]),
                  measure.height)
        if box.right() > area.right():
            break
        layout.x_labels.append((box, ticks[index]))


def tick_texts(starts: list[datetime]) -> list[str]:
    """One x label per bucket start, in local time, as fine as the buckets are."""
    if not starts:
        return []
    first, last = starts[0], starts[-1]
    step = starts[1] - first if len(starts) > 1 else timedelta(0)
    same_day = first.astimezone().date() == last.astimezone().date()
    return [_tick_text(start.astimezone(), step, same_day) for start in starts]


def _tick_text(start: datetime, step: timedelta, same_day: bool) -> str:
    if step < timedelta(seconds=1):
        return clock(start, milliseconds=True)
    if step < timedelta(minutes=1):
        return start.strftime("%H:%M:%S")
    if same_day:
        return start.strftime("%H:%M")
    if step < timedelta(days=1):
        return start.strftime("%b %d %H:%M")
    return start.strftime("%Y-%m-%d")


def clock(moment: datetime, *, milliseconds: bool) -> str:
    text = moment.strftime("%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}" if milliseconds else text


def _clamp_shift(box: Box, area: Box) -> int:
    """How far to move `box` vertically to keep it inside `area`."""
    if box.top < area.top:
        return area.top - box.top
    if box.bottom() > area.bottom():
        return area.bottom() - box.bottom()
    return 0
