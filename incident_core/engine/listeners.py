"""Who is told about commits: `Application.subscribe` adds a listener; a unit of work tells
them, after its commit, the events it recorded."""

from __future__ import annotations

from collections.abc import Callable

from incident_core.envelope import RecordedEvent

__all__ = ["Listener", "Listeners"]

Listener = Callable[[list[RecordedEvent]], None]


class Listeners:
    """The listeners of one application (called on the thread that committed)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add `listener`; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def listening(self) -> bool:
        """Whether anyone listens (a bulk writer keeps its events for them only then)."""
        return bool(self._listeners)

    def notify(self, events: list[RecordedEvent]) -> None:
        if events:
            for listener in list(self._listeners):
                listener(events)
