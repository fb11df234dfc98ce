"""Stable, pleasant colours for event types.

The same event type always gets the same colour (in every run and every process), so a
reader learns that, say, `MoneyDeposited` is blue everywhere: timeline, global log, chart.
A CRC of the name (Python's `hash` is salted per process) picks one of 32 colours: 16 hues
22.5° apart, each in a deeper and a lighter tone. Saturation and lightness sit in a middle
band, so the swatches read on light and dark backgrounds alike. Two types can share a
colour (any stable per-name choice can collide); the name is always shown beside it.

Within one domain they do not: `use_domain_colors(names)` (called when a store opens) gives
the domain's event types distinct hues — each keeps its own hash's hue when free, else takes
the free hue farthest from those taken so far (names in sorted order: the same domain gets
the same colours in every run). TransferRequested and TransferCompleted, which hash to the
same hue, get two different ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from PySide6.QtGui import QColor

__all__ = ["PALETTE_SIZE", "color_for_event_type", "text_color_on", "use_domain_colors"]

_HUES = 16
_TONES = ((0.62, 0.46), (0.58, 0.62))  # (saturation, lightness): deeper, lighter
PALETTE_SIZE = _HUES * len(_TONES)
# Probe order from a taken hue step: the opposite hue first, then ever finer halves.
_PROBES = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
_assigned: dict[str, int] = {}


def _palette_color(index: int) -> QColor:
    hue_step, tone = divmod(index, len(_TONES))
    saturation, lightness = _TONES[tone]
    return QColor.fromHslF(hue_step / _HUES, saturation, lightness)


def _hashed(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % PALETTE_SIZE


def color_for_event_type(name: str) -> QColor:
    """The colour of an event type: its domain's assignment, else its name's hash."""
    return _palette_color(_assigned.get(name, _hashed(name)))


def use_domain_colors(names: Iterable[str]) -> dict[str, QColor]:
    """Give `names` (a domain's event types) distinct hues while there are hues enough;
    other names keep their hashed colour. Returns the assignment."""
    _assigned.clear()
    taken: set[int] = set()
    tones = len(_TONES)
    for name in sorted(set(names)):
        index = _hashed(name)
        hue, tone = divmod(index, tones)
        free = [(hue + probe) % _HUES for probe in _PROBES
                if (hue + probe) % _HUES not in taken]
        if free:
            hue = free[0]
            taken.add(hue)
        _assigned[name] = hue * tones + tone
    return {name: _palette_color(index) for name, index in _assigned.items()}


def text_color_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on `background` (WCAG relative luminance)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    luminance = (
        0.2126 * channel(background.redF())
        + 0.7152 * channel(background.greenF())
        + 0.0722 * channel(background.blueF())
    )
    return QColor("black") if luminance > 0.179 else QColor("white")
