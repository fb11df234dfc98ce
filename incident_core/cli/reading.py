"""The read commands: `events`, `streams`, `state`, `projection` and `projections`.

They open the store read-only, never create it, and page through it (`PAGE` rows a query).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from incident_core.cli.context import load_domain, open_app, open_read_only, watch_locks
from incident_core.cli.output import (
    FAILED,
    OK,
    PAGE,
    USAGE,
    Exit,
    emit,
    emit_array,
    emit_table,
    json_text,
)

if TYPE_CHECKING:
    from incident_core.engine.application import Application
    from incident_core.ports import EventStore


def _event_pages(store: EventStore, args: argparse.Namespace) -> Iterator[Any]:
    from incident_core.ports import EventFilter

    wanted = EventFilter(aggregate_id=args.aggregate, event_types=tuple(args.type or ()))
    after, left = args.after, args.limit
    while left is None or left > 0:
        page = store.read_events(after_position=after, filter=wanted,
                                 limit=PAGE if left is None else min(PAGE, left))
        if not page:
            return
        yield from page
        after = page[-1].position
        left = None if left is None else left - len(page)


def cmd_events(args: argparse.Namespace) -> int:
    from incident_core.cli.quick import quick_events

    quick = quick_events(args, PAGE)  # a SQLite file read with sqlite3 alone
    if quick is not None:
        _print_events(args, quick)
        return OK
    watch_locks(args)
    with open_read_only(args) as store:
        _print_events(args, _event_pages(store, args))
    return OK


def _print_events(args: argparse.Namespace, events: Iterator[Any]) -> None:
    if args.format == "ndjson":
        for event in events:
            sys.stdout.write(json_text(event.to_json()) + "\n")
    elif args.format == "json":
        emit_array(e.to_json() for e in events)
    else:
        emit_table(("position", "recorded_at", "aggregate_type", "aggregate_id",
                    "version", "event_type", "data"),
                   ((e.position, e.recorded_at_text, e.aggregate_type, e.aggregate_id,
                     e.version, e.event_type, e.data) for e in events))


def cmd_streams(args: argparse.Namespace) -> int:
    with open_read_only(args) as store:
        def streams() -> Iterator[Any]:  # (stream, its newest snapshot's version or None)
            after: str | None = None
            while page := store.streams(after_id=after, limit=PAGE):
                snaps = store.snapshot_versions([s.aggregate_id for s in page])
                yield from ((s, snaps.get(s.aggregate_id)) for s in page)
                after = page[-1].aggregate_id

        if args.format == "json":
            emit_array({**s.to_json(), "snapshot_version": v} for s, v in streams())
        else:
            emit_table(("aggregate_id", "aggregate_type", "version", "event_count",
                        "last_recorded_at", "snapshot_version"),
                       ((s.aggregate_id, s.aggregate_type, s.version, s.event_count,
                         s.last_recorded_at, "" if v is None else v) for s, v in streams()))
    return OK


def cmd_state(args: argparse.Namespace) -> int:
    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        found = app.state(args.aggregate_id, at_version=args.at_version)
    if found is None:
        raise Exit(FAILED, f"no aggregate {args.aggregate_id!r} in this store",
                   {"ok": False, "error": "not_found", "aggregate_id": args.aggregate_id})
    state = found.to_json()
    if args.format == "json":
        emit(state)
    else:
        fields = [(k, v) for k, v in state.items() if k != "state"]
        emit_table(("field", "value"), fields + [(f"state.{k}", v)
                                                 for k, v in state["state"].items()])
    return OK


def _projection(app: Application, name: str) -> Any:
    from incident_core.errors import UnknownProjection

    try:
        return app.projection(name)
    except UnknownProjection as exc:
        raise Exit(USAGE, str(exc), {"ok": False, "error": "unknown_projection",
                                     "name": name, "known": exc.known}) from None


def cmd_projection(args: argparse.Namespace) -> int:
    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        spec = _projection(app, args.name).spec

        def rows() -> Iterator[dict[str, Any]]:
            after: str | None = None
            while page := app.store.projection_rows(spec, after_key=after, limit=PAGE):
                yield from page
                after = str(page[-1][spec.key])

        if args.format == "json":
            emit_array(rows())
        else:
            columns = [c.name for c in spec.columns]
            emit_table(columns, ([row.get(c) for c in columns] for row in rows()))
    return OK


def cmd_projections(args: argparse.Namespace) -> int:
    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        head, checkpoints = app.store.head(), app.store.checkpoints()
        listing = []
        for name, projection in sorted(domain.projections.items()):
            checkpoint = checkpoints.get(name)
            listing.append({"name": name, "rows": app.store.projection_row_count(projection.spec),
                            "checkpoint": checkpoint,
                            "lag": head - (checkpoint or 0)})
    if args.format == "json":
        emit(listing)
    else:
        emit_table(("name", "rows", "checkpoint", "lag"),
                   ((p["name"], p["rows"], p["checkpoint"], p["lag"]) for p in listing))
    return OK
