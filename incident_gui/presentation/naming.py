"""`named(widget, "objectName")`: widgets built and named in one expression."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

__all__ = ["named"]

Q = TypeVar("Q", bound=QObject)


def named(obj: Q, name: str) -> Q:
    """Set the object name (tests and style sheets find widgets by it) and return `obj`."""
    obj.setObjectName(name)
    return obj
