"""One refresh signal for every view: when the store's head moves (live, or our own
command), the window emits `sig_store_changed(StoreChanges)` once and each view updates
from it in the same turn of the event loop, so the streams list, the charts, the
timeline and the log never disagree about what has been recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_gui.session.store_updates import StoreChanges

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["connect_store_changes"]


def connect_store_changes(window: WindowServices) -> None:
    """Feed every view from `window.sig_store_changed`."""
    window.sig_store_changed.connect(lambda changes: _streams(window, changes))
    window.sig_store_changed.connect(lambda changes: _timeline(window, changes))
    window.sig_store_changed.connect(lambda changes: window.global_log_panel.grow_to(
        changes.head, changes.event_types, changes.events))
    window.sig_store_changed.connect(lambda _changes: window.projections.changed())
    window.sig_store_changed.connect(lambda changes: _charts(window, changes))


def _streams(window: WindowServices, changes: StoreChanges) -> None:
    if changes.streams is None:
        window.streams_panel.refresh()
    else:
        window.streams_panel.apply_changes(changes.streams, changes.new_ids)


def _timeline(window: WindowServices, changes: StoreChanges) -> None:
    if changes.events is None:
        window.timeline_panel.refresh()
    else:
        window.timeline_panel.append_recorded(changes.events)


def _charts(window: WindowServices, changes: StoreChanges) -> None:
    window.store_activity.apply_live(changes.events)
    shown = window.timeline_panel.model.aggregate_id
    if changes.events is None or any(e.aggregate_id == shown for e in changes.events):
        window.aggregate_activity.apply_live(changes.events)
