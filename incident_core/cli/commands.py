"""The subcommands: each takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from incident_core.cli.context import (
    load_domain,
    open_app,
    open_read_only,
    shown,
    sqlite_path,
    target_of,
    watch_locks,
)
from incident_core.cli.files import refuse_store_files, write_beside
from incident_core.cli.output import (
    FAILED,
    MISMATCH,
    OK,
    PAGE,
    USAGE,
    Exit,
    drive,
    emit,
    emit_array,
    emit_table,
    json_text,
    say,
)
from incident_core.cli.sagas import accepted_payload

if TYPE_CHECKING:
    from incident_core.engine.application import Application
    from incident_core.ports import EventStore


# -- commands -----------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from incident_core.errors import StoreNotFoundError
    from incident_core.store.open import open_store

    domain = load_domain(args)
    target = target_of(args)
    try:
        open_store(target, read_only=True).close()
        created = False
    except StoreNotFoundError:
        created = True
    with open_app(args, domain, create=True) as app:
        events = app.store.event_count()
    say(f"created a store at {shown(target)}" if created
        else f"a store already exists at {shown(target)} ({events} events)")
    emit({"ok": True, "created": created, "db": shown(target), "events": events})
    return OK


def cmd_dispatch(args: argparse.Namespace) -> int:
    from incident_core.cli.strict import parse_strictly
    from incident_core.engine.application import Conflicted
    from incident_core.errors import InvalidCommand
    from incident_core.process import Rejected

    domain = load_domain(args)
    known = sorted(domain.public_command_names)
    if args.command_type not in known:
        raise Exit(USAGE, f"unknown command type {args.command_type!r}; known: "
                          f"{', '.join(known)}",
                   {"ok": False, "error": "unknown_command",
                    "command_type": args.command_type, "known": known})
    data = sys.stdin.read() if args.data == "-" else args.data
    try:
        command = parse_strictly(domain, args.command_type, data)
    except InvalidCommand as exc:
        raise Exit(USAGE, str(exc), {"ok": False, "error": "invalid_command",
                                     "command_type": args.command_type,
                                     "details": exc.details}) from None
    with open_app(args, domain) as app:  # a mistyped --db must not create a store
        result = app.dispatch(command, idempotency_key=args.command_id)
    if isinstance(result, Rejected):
        payload = {"ok": False, "error": "rejected", "reason": result.reason}
        if result.detail:
            payload["detail"] = result.detail
        raise Exit(FAILED, f"rejected: {result.reason}"
                   + (f" ({result.detail})" if result.detail else ""), payload)
    if isinstance(result, Conflicted):
        raise Exit(FAILED, f"conflict: {result.aggregate_id} kept changing "
                           f"({result.attempts} attempts)",
                   {"ok": False, "error": "conflict", "aggregate_id": result.aggregate_id,
                    "attempts": result.attempts})
    emit(accepted_payload(result))
    return OK


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


def cmd_rebuild(args: argparse.Namespace) -> int:
    from incident_core.operations import rebuild

    domain = load_domain(args)
    names = sorted(domain.projections) if args.all else args.names
    if not names:
        raise Exit(USAGE, "name the projections to rebuild, or pass --all")
    unknown = [n for n in names if n not in domain.projections]
    if unknown:
        known = sorted(domain.projections)
        raise Exit(USAGE, f"unknown projection {unknown[0]!r}; known: {', '.join(known)}",
                   {"ok": False, "error": "unknown_projection", "name": unknown[0],
                    "known": known})
    with open_app(args, domain) as app:
        report = drive(rebuild(app, names))
    for p in report.projections:
        say(f"rebuilt {p.name}: {p.rows} rows from {p.events_applied} events")
    emit({"ok": True, **report.to_json()})
    return OK


def cmd_verify(args: argparse.Namespace) -> int:
    from incident_core.operations import verify

    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        report = drive(verify(app, deep=args.deep))
    for line in report.skipped:
        say(f"skipped: {line}")
    if not report.ok:
        for line in report.mismatches:
            say(f"mismatch: {line}")
        hidden = report.mismatch_count - len(report.mismatches)
        raise Exit(MISMATCH, f"{report.mismatch_count} mismatch(es) found"
                   + (f" ({hidden} not listed)" if hidden else ""), report.to_json())
    say(f"ok: {report.events} events, {report.streams} streams, "
        f"{len(report.projections)} projections agree with the log")
    emit(report.to_json())
    return OK


def cmd_demo(args: argparse.Namespace) -> int:
    from incident_core.operations import check_demo, demo

    domain = load_domain(args)
    try:
        check_demo(domain, args.accounts, args.transfers)
    except ValueError as exc:
        raise Exit(USAGE, str(exc)) from None
    target = target_of(args)
    path = sqlite_path(target)
    if args.fresh:
        _remove_store(target)
    new_file = path is not None and not os.path.exists(path)
    try:
        with open_app(args, domain, create=True, synchronous="NORMAL") as app:
            report = drive(demo(app, accounts=args.accounts, transfers=args.transfers,
                                seed=args.seed))
    except Exception:
        if new_file and path is not None:  # a failed demo leaves no half-built store
            _remove_quietly(path)
        raise
    say(f"seeded the {domain.name} demo ({report.accounts} + {report.transfers} steps): "
        f"{report.events} events in {report.seconds:.1f}s")
    emit({"ok": True, **report.to_json()})
    return OK


def _remove_quietly(path: str) -> None:
    from incident_core.errors import StoreError
    from incident_core.store.open import remove_sqlite_files

    with contextlib.suppress(StoreError):
        remove_sqlite_files(path)


def _remove_store(target: str) -> None:
    """`demo --fresh`: delete an existing store (only ever an Incident store file, and only
    while no other process has it open)."""
    from incident_core.errors import StoreNotFoundError
    from incident_core.store.open import open_store, remove_sqlite_files

    path = sqlite_path(target)
    if path is None:
        raise Exit(USAGE, "--fresh only deletes SQLite store files")
    try:
        open_store(target, read_only=True).close()  # refuses anything but a store
    except StoreNotFoundError:
        return
    remove_sqlite_files(path)  # refuses (exit 4) while another process has it open


def cmd_export(args: argparse.Namespace) -> int:
    from incident_core.operations import DamagedLogError, export_events

    if args.file != "-":
        refuse_store_files(args.file, target_of(args))
    with open_read_only(args) as store:
        try:
            if args.file == "-":
                count = drive(export_events(store, sys.stdout))
                say(f"exported {count} events")
                return OK
            count = write_beside(args.file, lambda fp: drive(export_events(store, fp)))
        except DamagedLogError as exc:
            for line in exc.findings[:100]:
                say(f"unreadable: {line}")
            written = "" if args.file == "-" else f"; {args.file} was not written"
            raise Exit(MISMATCH, f"{exc}{written}",
                       {"ok": False, "error": "damaged", "findings": exc.findings[:1000],
                        "readable": exc.written}) from None
    say(f"exported {count} events to {args.file}")
    emit({"ok": True, "events": count, "file": args.file})
    return OK


def cmd_import(args: argparse.Namespace) -> int:
    from incident_core.operations import import_events

    domain = load_domain(args)
    if args.file == "-":
        lines: list[str] = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8").readlines()
    else:
        try:
            with open(args.file, encoding="utf-8") as fp:
                lines = fp.readlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise Exit(USAGE, f"cannot read {args.file}: {exc}") from None
    target = target_of(args)
    path = sqlite_path(target)
    new_file = path is not None and not os.path.exists(path)
    try:
        with open_app(args, domain, create=True) as app:
            count = drive(import_events(app, lines, resume=args.resume))
    except BaseException:
        if new_file and path is not None:
            _remove_if_empty(target, path)
        raise
    say(f"imported {count} events into {shown(target)}")
    emit({"ok": True, "imported": count})
    return OK


def _remove_if_empty(target: str, path: str) -> None:
    """A failed import leaves no store behind where there was none."""
    from incident_core.errors import StoreError
    from incident_core.store.open import open_store, remove_sqlite_files

    try:
        store = open_store(target, read_only=True)
    except StoreError:
        return
    try:
        empty = store.head() == 0
    finally:
        store.close()
    if empty:
        with contextlib.suppress(StoreError):  # open elsewhere meanwhile: leave it
            remove_sqlite_files(path)
