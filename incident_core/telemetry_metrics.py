"""The metrics half of `incident_core.telemetry`: instruments made by `telemetry.enable()`.

Each recording function is one `None` check while telemetry is disabled; nothing of
OpenTelemetry is imported before `start()`. Callers reach these names through
`incident_core.telemetry`, which re-exports them (see docs/telemetry.md).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, Observation

__all__ = ["appended", "batch_committed", "dispatched", "snapshot_lookup", "start", "stop",
           "unwatch", "watch"]


class _Watched(Protocol):  # an Application
    @property
    def store(self) -> Any: ...
    @property
    def domain(self) -> Any: ...


@dataclass(slots=True)
class _Instruments:
    duration: Histogram
    batch: Histogram
    hits: Counter
    misses: Counter
    events: Counter
    gauge: Any


_on: _Instruments | None = None
_watched: weakref.WeakSet[Any] = weakref.WeakSet()  # applications open now
_watched_lock = threading.Lock()


def start(meter: Meter) -> None:
    """Make the instruments on this meter and start recording (`telemetry.enable()`)."""
    global _on  # noqa: PLW0603  (read by every recording function)
    _on = _Instruments(
        meter.create_histogram("incident.dispatch.duration", unit="ms",
                               description="time to dispatch a command, sagas included"),
        meter.create_histogram("incident.group_commit.batch_size", unit="{command}",
                               description="commands sharing one durable commit"),
        meter.create_counter("incident.snapshot.hits", unit="{load}",
                             description="aggregate loads that started from a snapshot"),
        meter.create_counter("incident.snapshot.misses", unit="{load}",
                             description="aggregate loads with snapshots on, but none usable"),
        meter.create_counter("incident.events.appended", unit="{event}",
                             description="events committed through this process"),
        meter.create_observable_gauge("incident.projection.lag", [_observe_lag],
                                      unit="{event}", description="head minus checkpoint"),
    )


def stop() -> None:
    """Stop recording (`telemetry.disable()`)."""
    global _on  # noqa: PLW0603
    _on = None


def dispatched(milliseconds: float, command_type: str, outcome: str) -> None:
    """A traced dispatch took this long (recorded by `telemetry.traced_dispatch`)."""
    on = _on
    if on is not None:
        on.duration.record(milliseconds, {"incident.command.type": command_type,
                                          "incident.outcome": outcome})


def batch_committed(size: int) -> None:
    """Group commit: `size` commands shared one durable commit."""
    if _on is not None:
        _on.batch.record(size)


def snapshot_lookup(aggregate_type: str, hit: bool) -> None:
    """An aggregate with snapshots on was loaded from the store: from a snapshot or not."""
    if _on is not None:
        (_on.hits if hit else _on.misses).add(1, {"incident.aggregate.type": aggregate_type})


def appended(count: int) -> None:
    """`count` events were committed."""
    if _on is not None and count:
        _on.events.add(count)


def watch(app: _Watched) -> None:
    """Report this application's projection lag while it lives (kept by a weak reference;
    nothing is read unless telemetry is enabled and a metric reader collects)."""
    with _watched_lock:
        _watched.add(app)


def unwatch(app: _Watched) -> None:
    """Stop reporting this application's lag (it is closing its store)."""
    with _watched_lock:
        _watched.discard(app)


def _observe_lag(options: CallbackOptions) -> Iterator[Observation]:
    from opentelemetry.metrics import Observation

    with _watched_lock:
        apps = list(_watched)
    for app in apps:
        try:
            store, domain = app.store, app.domain.name
            head = store.head()
            checkpoints = store.checkpoints()
        except Exception:  # closed, or unreadable now: no reading this time
            continue
        for name, checkpoint in sorted(checkpoints.items()):
            yield Observation(head - checkpoint, {"incident.domain": domain,
                                                  "incident.checkpoint": name})
