"""`incident lineage NAME KEY`: the history of one projection row (each event that changed
it, with the row's values before and after); `incident lineage --event ID|POSITION`: the
projection rows one event changed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from incident_core.cli.context import load_domain, open_app
from incident_core.cli.output import FAILED, OK, USAGE, Exit, emit, emit_table

if TYPE_CHECKING:
    from incident_core.ports.values import LineageEntry

__all__ = ["cmd_lineage", "register"]

Handler = Callable[[argparse.Namespace], int]
Add = Callable[[str, Handler, str], argparse.ArgumentParser]


def register(add: Add) -> None:
    """Add `lineage` to the `incident` parser."""
    command = add("lineage", cmd_lineage,
                  "a projection row's history: each event that changed it, before/after")
    command.add_argument("name", nargs="?", metavar="NAME", help="the projection")
    command.add_argument("key", nargs="?", metavar="KEY", help="the row's key")
    command.add_argument("--event", metavar="ID|POSITION",
                         help="instead: the rows this event (id or position) changed")
    command.add_argument("--format", choices=("json", "table"), default="json")


def cmd_lineage(args: argparse.Namespace) -> int:
    domain = load_domain(args)
    if args.event is None and (args.name is None or args.key is None):
        raise Exit(USAGE, "give NAME KEY (a row's history) or --event ID|POSITION")
    with open_app(args, domain, read_only=True) as app:
        if args.event is not None:
            event: str | int = int(args.event) if args.event.isdigit() else args.event
            entries = app.rows_changed_by(event)
            missing = f"event {args.event} changed no projection row with lineage"
        else:
            entries = app.row_history(args.name, args.key)
            missing = f"no lineage recorded for row {args.key!r} of {args.name}"
    if not entries:
        raise Exit(FAILED, missing)
    if args.format == "json":
        emit([e.to_json() for e in entries])
    else:
        emit_table(("position", "event_type", "projection", "row", "kind", "changes"),
                   [(e.position, e.event_type, e.projection, e.row_key, e.kind,
                     _changes(e)) for e in entries])
    return OK


def _changes(entry: LineageEntry) -> str:
    before, after = entry.before or {}, entry.after or {}
    parts = []
    for name in entry.changed_fields:
        parts.append(f"{name}: {_short(before.get(name))} → {_short(after.get(name))}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 24 else text[:21] + "…"
