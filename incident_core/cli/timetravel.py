"""Time travel on the command line: `projection NAME --as-of M`, `projection NAME --diff
P1 P2`, `rebuild NAME --diff|--swap` (shadow rebuilds) and `catalog`.

`add_time_travel` adds the options to the existing `projection` and `rebuild` subcommands
(their handlers run as before when the options are absent) and registers `catalog`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from incident_core.cli.context import load_domain, open_app
from incident_core.cli.output import (
    MISMATCH,
    OK,
    USAGE,
    Exit,
    drive,
    emit,
    emit_array,
    emit_table,
    say,
)

if TYPE_CHECKING:
    from incident_core.domain import Domain
    from incident_core.engine.application import Application
    from incident_core.operations.rowdiff import RowDiff

__all__ = ["add_time_travel", "cmd_catalog"]

Handler = Callable[[argparse.Namespace], int]
Adder = Callable[[str, Handler, str], argparse.ArgumentParser]


def add_time_travel(add: Adder, projection: argparse.ArgumentParser,
                    rebuild: argparse.ArgumentParser) -> None:
    """Add the time-travel options and the `catalog` subcommand to the parser."""
    moment = projection.add_mutually_exclusive_group()
    moment.add_argument("--as-of", metavar="POSITION|TIME",
                        help="the rows as of a position, or the last one at or before an "
                             "ISO-8601 time")
    moment.add_argument("--diff", nargs=2, metavar=("P1", "P2"),
                        help="rows added, removed and changed from P1 to P2")
    plain_projection: Handler = projection.get_default("handler")
    projection.set_defaults(handler=lambda a: _projection(a, plain_projection))
    shadow = rebuild.add_mutually_exclusive_group()
    shadow.add_argument("--diff", action="store_true",
                        help="rebuild into a shadow and show its difference with the live "
                             "rows; swap nothing (exit 3 when rows differ)")
    shadow.add_argument("--swap", action="store_true",
                        help="rebuild into a shadow, show the difference, then swap it in")
    plain_rebuild: Handler = rebuild.get_default("handler")
    rebuild.set_defaults(handler=lambda a: _rebuild(a, plain_rebuild))
    cat = add("catalog", cmd_catalog, "event types: fields, schema versions in the store, "
                                      "upcasters, events that fail to decode")
    cat.add_argument("--try", dest="try_type", metavar="EVENT_TYPE",
                     help="decode a sample of stored events of this type (writes nothing)")
    cat.add_argument("--sample", type=int, default=50, metavar="N")
    cat.add_argument("--format", choices=("json", "table"), default="json")


def _moment(app: Application, text: str) -> int:
    from incident_core.operations.asof import InvalidMoment, resolve_moment

    try:
        return resolve_moment(app, text)
    except InvalidMoment as exc:
        raise Exit(USAGE, str(exc)) from None


def _open_for_history(args: argparse.Namespace, domain: Domain) -> Application:
    """Writable when possible (so the row snapshots an as-of view makes are kept)."""
    from incident_core.errors import StoreError

    try:
        return open_app(args, domain)
    except StoreError:
        return open_app(args, domain, read_only=True)


def _known(app: Application, name: str) -> None:
    if name not in app.domain.projections:
        known = sorted(app.domain.projections)
        raise Exit(USAGE, f"unknown projection {name!r}; known: {', '.join(known)}",
                   {"ok": False, "error": "unknown_projection", "name": name, "known": known})


def _projection(args: argparse.Namespace, plain: Handler) -> int:
    from incident_core.operations.asof import diff_positions, rows_as_of

    if args.as_of is None and args.diff is None:
        return plain(args)
    with _open_for_history(args, load_domain(args)) as app:
        _known(app, args.name)
        spec = app.projection(args.name).spec
        if args.diff is not None:
            first, second = (_moment(app, m) for m in args.diff)
            _show_diff(diff_positions(app, args.name, first, second), args.format)
            return OK
        found = rows_as_of(app, [args.name], _moment(app, args.as_of))[args.name]
    say(f"{args.name} as of position {found.position} ({found.replayed} events replayed "
        f"on the snapshot at {found.snapshot})")
    if args.format == "json":
        emit_array(found.rows)
    else:
        columns = [c.name for c in spec.columns]
        emit_table(columns, ([row.get(c) for c in columns] for row in found.rows))
    return OK


def _diff_lines(diff: RowDiff) -> Iterator[list[Any]]:
    for row in diff.added:
        yield ["added", row[diff.key], "", "", ""]
    for row in diff.removed:
        yield ["removed", row[diff.key], "", "", ""]
    for change in diff.changed:
        for column in change.columns:
            yield ["changed", change.key, column, change.before[column], change.after[column]]


def _show_diff(diff: RowDiff, form: str) -> None:
    counts = diff.counts
    say("no difference" if diff.is_empty else
        f"{diff.name}: {counts['added']} added, {counts['removed']} removed, "
        f"{counts['changed']} changed")
    if form == "json":
        emit(diff.to_json())
    elif form == "table":
        emit_table(("change", "key", "column", "before", "after"), _diff_lines(diff))


def _rebuild(args: argparse.Namespace, plain: Handler) -> int:
    from incident_core.operations.shadow import shadow_rebuild

    if not (args.diff or args.swap):
        return plain(args)
    domain = load_domain(args)
    names = sorted(domain.projections) if args.all else args.names
    if not names:
        raise Exit(USAGE, "name the projections to rebuild, or pass --all")
    reports, differ = [], False
    with open_app(args, domain) as app:
        for name in dict.fromkeys(names):
            _known(app, name)
            shadow = drive(shadow_rebuild(app, name))
            differ = differ or not shadow.diff.is_empty
            _show_diff(shadow.diff, "none")
            if args.swap and not shadow.diff.is_empty:
                checkpoint = shadow.swap()
                say(f"swapped {name} in (caught up to position {checkpoint})")
            else:
                shadow.discard()
            reports.append({**shadow.to_json(), "diff": shadow.diff.to_json()})
    emit({"ok": args.swap or not differ, "swapped": bool(args.swap),
          "projections": reports})
    return MISMATCH if args.diff and differ else OK


def cmd_catalog(args: argparse.Namespace) -> int:
    from incident_core.operations.catalog import catalog, try_decode

    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        if args.try_type:
            tried = try_decode(app, args.try_type, sample=max(1, args.sample))
            emit(tried.to_json())
            if tried.first_failure is not None:
                say(f"{args.try_type}: event #{tried.first_failure.position} fails: "
                    f"{tried.first_failure.error}")
                return MISMATCH
            say(f"{args.try_type}: {tried.checked} stored events decode")
            return OK
        found = catalog(app)
    if args.format == "json":
        emit(found.to_json())
    else:
        emit_table(("event_type", "aggregate", "current", "stored", "versions", "upcasters",
                    "failures"),
                   ([e.name, e.aggregate or "(not in domain)", e.current_version, e.stored,
                     " ".join(f"v{v}:{n}" for v, n in sorted(e.versions.items())),
                     " ".join(f"{u['from_version']}->{u['to_version']}" for u in e.upcasters),
                     len(e.failures)] for e in found.entries))
    return OK
