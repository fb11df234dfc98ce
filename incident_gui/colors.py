"""Stable, pleasant colours for event types.

The same event type always gets the same colour (in every run and every process), so a
reader learns that, say, `MoneyDeposited` is green everywhere: timeline, global log, chart.
The hue comes from a CRC of the name (Python's `hash` is salted per process); saturation and
lightness sit in a middle band that reads on both light and dark backgrounds.
"""

from __future__ import annotations

import zlib

from PySide6.QtGui import QColor

__all__ = ["color_for_event_type", "text_color_on"]

_GOLDEN_ANGLE = 137.508
_SATURATIONS = (0.62, 0.52, 0.70)
_LIGHTNESSES = (0.50, 0.44, 0.56)


def color_for_event_type(name: str) -> QColor:
    """The colour of an event type: a stable hash of the name mapped to a pleasant hue."""
    digest = zlib.crc32(name.encode("utf-8"))
    hue = (digest % 360 * _GOLDEN_ANGLE) % 360.0
    saturation = _SATURATIONS[(digest >> 9) % len(_SATURATIONS)]
    lightness = _LIGHTNESSES[(digest >> 11) % len(_LIGHTNESSES)]
    return QColor.fromHslF(hue / 360.0, saturation, lightness)


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
