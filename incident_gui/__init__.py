"""The Incident inspector: a PySide6 desktop app that shows an event-sourced system.

Thin widgets over the core's paged queries (`incident_core`); long work runs in workers.
"""

from __future__ import annotations

__all__ = ["__version__"]

from incident_core import __version__
