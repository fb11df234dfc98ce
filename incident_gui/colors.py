"""Stable, pleasant colours for event types.

The same event type always gets the same colour (in every run and every process), so a
reader learns that, say, `MoneyDeposited` is blue everywhere: timeline, global log, chart.
A CRC of the name (Python's `hash` is salted per process) picks one of 32 colours: 16 hues
22.5° apart, each in a deeper and a lighter tone. Saturation and lightness sit in a middle
band, so the swatches read on light and dark backgrounds alike. Two types can share a
colour (any stable per-name choice can collide); the name is always shown beside it.
"""

from __future__ import annotations

import zlib

from PySide6.QtGui import QColor

__all__ = ["PALETTE_SIZE", "color_for_event_type", "text_color_on"]

_HUES = 16
_TONES = ((0.62, 0.46), (0.58, 0.62))  # (saturation, lightness): deeper, lighter
PALETTE_SIZE = _HUES * len(_TONES)


def _palette_color(index: int) -> QColor:
    hue_step, tone = divmod(index, len(_TONES))
    saturation, lightness = _TONES[tone]
    return QColor.fromHslF(hue_step / _HUES, saturation, lightness)


def color_for_event_type(name: str) -> QColor:
    """The colour of an event type: a stable hash of the name picks a palette entry."""
    return _palette_color(zlib.crc32(name.encode("utf-8")) % PALETTE_SIZE)


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
