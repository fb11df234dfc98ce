"""A guard against a PySide6 6.12 reference-counting bug on Python < 3.12.

PySide6/shiboken 6.12.0 hands `None`, `True` and `False` back to Python without taking a
reference: every call of a void method (`widget.setText(...)`), every `signal.emit(...)`
and every Python override returning `None` to C++ (a model's `data()`) drops one reference
too many. From Python 3.12 these singletons are immortal and nothing happens; on 3.10/3.11
their counts run down until the interpreter aborts with "deallocating None" — after some
tens of thousands of calls, i.e. minutes into a session. (6.11.3 is not affected.)

The remedy matches what Python 3.12 does: make the three singletons effectively immortal
by giving them a reference count no program can exhaust. They are never freed anyway.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["pin_singletons"]

_AFFECTED_FROM = (6, 12)
_EXTRA_REFERENCES = 1 << 40


def _affected(pyside_version: tuple[int, ...]) -> bool:
    return sys.version_info < (3, 12) and pyside_version[:2] >= _AFFECTED_FROM


def pin_singletons() -> bool:
    """Apply the guard once if this Python and PySide6 need it; True if applied."""
    if sys.getrefcount(None) > _EXTRA_REFERENCES:
        return True  # applied already
    from PySide6 import __version_info__ as pyside_version

    if not _affected(tuple(int(p) for p in pyside_version[:3])):
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _EXTRA_REFERENCES
    return True
