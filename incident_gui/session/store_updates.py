"""What changed in a store between two heads: new events and the streams they touched.

Made on a worker thread (the live watcher's, or the one that committed), applied on the
UI thread. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_core import EventStore, RecordedEvent, StreamInfo

__all__ = [
    "MAX_EVENTS", "MAX_STREAMS", "StoreChanges", "changes_from_events", "collect_changes"]

# Beyond these, views reload instead of applying the changes one by one.
MAX_EVENTS = 2000
MAX_STREAMS = 200


@dataclass(frozen=True)
class StoreChanges:
    """Events in (old_head, head]; `events`/`streams` are None when there were too many."""

    old_head: int
    head: int
    events: list[RecordedEvent] | None
    streams: list[StreamInfo] | None
    new_ids: set[str] = field(default_factory=set)

    def since(self, known_head: int) -> StoreChanges:
        """The part of these changes after `known_head` (the UI may be ahead already)."""
        if known_head <= self.old_head:
            return self
        if self.events is None:
            return StoreChanges(known_head, self.head, None, None)
        events = [e for e in self.events if e.position > known_head]
        touched = {e.aggregate_id for e in events}
        streams = None if self.streams is None else [
            s for s in self.streams if s.aggregate_id in touched]
        return StoreChanges(known_head, self.head, events, streams,
                            self.new_ids & touched)

    @property
    def event_types(self) -> set[str]:
        return set() if self.events is None else {e.event_type for e in self.events}


def collect_changes(store: EventStore, old_head: int, head: int) -> StoreChanges:
    """Read what was recorded after `old_head` (up to `head`), cheaply."""
    if head - old_head > MAX_EVENTS:
        return StoreChanges(old_head, head, None, None)
    events = [e for e in store.read_events(after_position=old_head, limit=MAX_EVENTS)
              if e.position <= head]
    return changes_from_events(old_head, head, events)


def changes_from_events(old_head: int, head: int,
                        events: list[RecordedEvent] | None) -> StoreChanges:
    """The changes that `events` (all the events in (old_head, head], in position order;
    None: too many to list) make, without reading anything: a stream's info is its last
    event's (versions run 1, 2, 3…, so a stream's event count is its version)."""
    if events is None or len(events) > MAX_EVENTS:
        return StoreChanges(old_head, head, None, None)
    last: dict[str, RecordedEvent] = {}
    first_version: dict[str, int] = {}
    for event in events:
        last[event.aggregate_id] = event
        first_version.setdefault(event.aggregate_id, event.version)
    if len(last) > MAX_STREAMS:
        return StoreChanges(old_head, head, events, None)
    streams = [StreamInfo(e.aggregate_id, e.aggregate_type, e.version, e.version,
                          e.recorded_at_text, e.position) for e in last.values()]
    new_ids = {aggregate_id for aggregate_id, version in first_version.items() if version == 1}
    return StoreChanges(old_head, head, events, streams, new_ids)
