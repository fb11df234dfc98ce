"""The event catalogue: every event type of the domain and of the store, its history.

For each type: its fields (from the pydantic model), its current schema version, the
versions present in the store with counts, the upcaster chain, and the stored events that
fail to decode (checked on a sample of each stored version, by the type index). `try_decode`
runs the current upcasters and model over a sample of stored events of a type, writing
nothing, and reports the result or the first failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from incident_core.engine.application import Application
from incident_core.engine.decoder import decode
from incident_core.envelope import RecordedEvent
from incident_core.store.snapshots import schema_version_counts, type_sample

__all__ = ["Catalog", "DecodeFailure", "EventTypeEntry", "TryResult", "catalog", "try_decode"]

SAMPLE = 200  # stored events decoded per (type, schema version) when building a catalogue
FAILURES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    position: int
    event_id: str
    schema_version: int
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "event_id": self.event_id,
                "schema_version": self.schema_version, "error": self.error}


@dataclass(slots=True)
class EventTypeEntry:
    name: str
    aggregate: str | None  # None: a type in the store the domain does not know
    current_version: int | None
    fields: list[dict[str, Any]]
    upcasters: list[dict[str, Any]]
    versions: dict[int, int] = field(default_factory=dict)  # schema version -> stored count
    checked: int = 0
    failures: list[DecodeFailure] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return sum(self.versions.values())

    def to_json(self) -> dict[str, Any]:
        return {"event_type": self.name, "aggregate": self.aggregate,
                "in_domain": self.aggregate is not None,
                "current_version": self.current_version, "fields": self.fields,
                "upcasters": self.upcasters, "stored": self.stored,
                "versions": {str(v): n for v, n in sorted(self.versions.items())},
                "checked": self.checked, "failures": [f.to_json() for f in self.failures]}


@dataclass(frozen=True, slots=True)
class Catalog:
    domain: str
    entries: list[EventTypeEntry]

    def entry(self, name: str) -> EventTypeEntry:
        return next(e for e in self.entries if e.name == name)

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "event_types": [e.to_json() for e in self.entries]}


def _fields(model: type[Any]) -> list[dict[str, Any]]:
    out = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        shown = getattr(annotation, "__name__", None) or str(annotation)
        out.append({"name": name, "type": str(shown).replace("typing.", ""),
                    "required": info.is_required()})
    return out


def _upcasters(app: Application, event_type: str) -> list[dict[str, Any]]:
    chain = app.domain.upcasters  # the chain is what it shows
    return [{"from_version": version, "to_version": version + 1,
             "function": f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"}
            for (name, version), fn in sorted(chain.items()) if name == event_type]


def _check(app: Application, events: list[RecordedEvent]) -> list[DecodeFailure]:
    failures = []
    for recorded in events:
        try:
            decode(app.domain, recorded)
        except Exception as exc:  # the catalogue reports every kind of failure
            failures.append(DecodeFailure(recorded.position, recorded.event_id,
                                          recorded.schema_version, " ".join(str(exc).split())))
    return failures


def catalog(app: Application, *, sample: int = SAMPLE) -> Catalog:
    """The catalogue of the domain's and the store's event types (reads only)."""
    entries: dict[str, EventTypeEntry] = {}
    for aggregate in app.domain.aggregates.values():
        for etype in aggregate.event_types:
            entries[etype.__name__] = EventTypeEntry(
                etype.__name__, aggregate.name, etype.schema_version, _fields(etype),
                _upcasters(app, etype.__name__))
    for (name, version), count in schema_version_counts(app.store).items():
        entry = entries.get(name)
        if entry is None:
            entry = entries[name] = EventTypeEntry(name, None, None, [], [])
        entry.versions[version] = count
    for entry in entries.values():
        if entry.aggregate is None:
            continue
        for version in sorted(entry.versions):
            events = type_sample(app.store, entry.name, version, sample)
            entry.checked += len(events)
            entry.failures += _check(app, events)
        del entry.failures[FAILURES_SHOWN:]
    return Catalog(app.domain.name, sorted(entries.values(), key=lambda e: e.name))


@dataclass(frozen=True, slots=True)
class TryResult:
    event_type: str
    checked: int
    decoded: list[dict[str, Any]]  # the first few results: position, version, event
    first_failure: DecodeFailure | None

    @property
    def ok(self) -> bool:
        return self.first_failure is None

    def to_json(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "ok": self.ok, "checked": self.checked,
                "decoded": self.decoded,
                "first_failure": self.first_failure.to_json() if self.first_failure else None}


def try_decode(app: Application, event_type: str, *, sample: int = 50,
               schema_version: int | None = None, shown: int = 5) -> TryResult:
    """Run the current upcasters + model over up to `sample` stored events of a type
    (of one schema version, or of each version present); stop at the first failure."""
    versions = ([schema_version] if schema_version is not None else
                sorted(v for (t, v) in schema_version_counts(app.store) if t == event_type))
    events: list[RecordedEvent] = []
    if not versions:
        return TryResult(event_type, 0, [], None)
    for version in versions:
        events += type_sample(app.store, event_type, version, max(1, sample // len(versions)))
    decoded: list[dict[str, Any]] = []
    for count, recorded in enumerate(sorted(events, key=lambda e: e.position)):
        failures = _check(app, [recorded])
        if failures:
            return TryResult(event_type, count + 1, decoded, failures[0])
        if len(decoded) < shown:
            event = decode(app.domain, recorded)
            decoded.append({"position": recorded.position,
                            "schema_version": recorded.schema_version,
                            "stored": recorded.data, "event": event.model_dump(mode="json")})
    return TryResult(event_type, len(events), decoded, None)
