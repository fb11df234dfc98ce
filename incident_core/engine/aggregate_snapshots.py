"""Aggregate snapshots: a state folded up to a version, so loading an aggregate reads only the
events after it.

`Aggregate(name, initial, snapshot_every=N)` takes a snapshot whenever a write carries the
stream across a multiple of N events; it is written **in the same transaction** as those
events (no extra commit or fsync, and never a snapshot of events that were rolled back).
Snapshots are off by default: the in-process cache already serves hot aggregates, and a
snapshot is worth its write only for long streams, which the domain knows and the library
does not.

Never a state different from a full replay:
- a snapshot is kept for the *fingerprint* of the state model (its JSON schema, the
  aggregate's name and its domain-declared `state_version`); one made with another
  fingerprint is ignored, and dropped when the next snapshot is saved;
- a state is only snapshotted if its JSON reads back equal to itself (else none is taken);
- a change of `apply` that leaves the state schema unchanged must bump `state_version`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from incident_core import telemetry
from incident_core.domain import Aggregate, Domain
from incident_core.engine.decoder import decode
from incident_core.envelope import now_text
from incident_core.ports import EventStore, StoredSnapshot, StoreTransaction

__all__ = ["due", "fingerprint", "latest", "mismatches", "restore", "save_if_due", "take"]

_fingerprints: dict[int, tuple[Aggregate[Any], str | None]] = {}


def fingerprint(aggregate: Aggregate[Any]) -> str | None:
    """What a snapshot of this aggregate must match to be used; None if the state model has
    no JSON schema (then no snapshots are taken)."""
    found = _fingerprints.get(id(aggregate))
    if found is not None and found[0] is aggregate:
        return found[1]
    state_type = type(aggregate.initial_state)
    try:
        model_schema = state_type.model_json_schema()
        text = json.dumps({"aggregate": aggregate.name, "state_version": aggregate.state_version,
                           "model": f"{state_type.__module__}.{state_type.__qualname__}",
                           "schema": model_schema}, sort_keys=True, default=str)
    except Exception:  # a type pydantic cannot describe: no snapshots for this aggregate
        value = None
    else:
        value = hashlib.sha256(text.encode()).hexdigest()[:32]
    _fingerprints[id(aggregate)] = (aggregate, value)
    return value


def due(aggregate: Aggregate[Any], before: int, after: int) -> bool:
    """Whether a write taking the stream from version `before` to `after` takes one."""
    every = aggregate.snapshot_every
    return every is not None and after > before and before // every < after // every


def take(aggregate: Aggregate[Any], aggregate_id: str, version: int,
         state: BaseModel) -> StoredSnapshot | None:
    """A snapshot of `state` at `version`, or None if it would not read back equal."""
    mark = fingerprint(aggregate)
    if mark is None or type(state) is not type(aggregate.initial_state):
        return None
    try:
        text = state.model_dump_json()
        if type(state).model_validate_json(text) != state:
            return None
    except Exception:  # a value that does not survive JSON: replay instead
        return None
    return StoredSnapshot(aggregate_id, aggregate.name, version, mark, text,
                          now_text())


def save_if_due(tx: StoreTransaction, aggregate: Aggregate[Any], aggregate_id: str,
                before: int, after: int, state: BaseModel) -> None:
    """In the write transaction: snapshot `state` (at `after`) if this write is due one."""
    if due(aggregate, before, after):
        snapshot = take(aggregate, aggregate_id, after, state)
        if snapshot is not None:
            tx.save_snapshot(snapshot)


def restore(aggregate: Aggregate[Any], snapshot: StoredSnapshot) -> BaseModel | None:
    """The state a usable snapshot holds (None if it no longer validates: replay instead)."""
    try:
        state: BaseModel = type(aggregate.initial_state).model_validate_json(snapshot.state)
    except Exception:
        return None
    return state


def latest(store: EventStore, aggregate: Aggregate[Any], aggregate_id: str,
           at_version: int | None = None) -> tuple[int, BaseModel] | None:
    """(version, state) of the newest usable snapshot at or before `at_version`."""
    if aggregate.snapshot_every is None:
        return None
    mark = fingerprint(aggregate)
    if mark is None:
        return None
    snapshot = store.latest_snapshot(aggregate_id, aggregate.name, mark, at_version)
    telemetry.snapshot_lookup(aggregate.name, snapshot is not None)
    if snapshot is None:
        return None
    state = restore(aggregate, snapshot)
    return None if state is None else (snapshot.version, state)


def mismatches(store: EventStore, domain: Domain, page: int = 1000) -> Iterator[str]:
    """`incident verify`: each stream's newest usable snapshot against a replay of the log
    up to its version (a difference means `apply` changed without a `state_version` bump,
    or the snapshot table was edited)."""
    after: str | None = None
    while streams := store.streams(after_id=after, limit=page):
        after = streams[-1].aggregate_id
        for info in streams:
            aggregate = domain.aggregate_named(info.aggregate_type)
            found = None if aggregate is None else latest(store, aggregate, info.aggregate_id)
            if aggregate is None or found is None:
                continue
            events = store.read_stream(info.aggregate_id, to_version=found[0])
            try:
                replayed = aggregate.fold(decode(domain, e) for e in events)
            except Exception:  # the log check reports events that do not replay
                continue
            if replayed != found[1]:
                yield (f"snapshot {info.aggregate_id}@{found[0]}: differs from a replay of "
                       f"the log (did `apply` change without bumping state_version?)")
