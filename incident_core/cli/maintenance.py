"""The commands that check projections against the log: `rebuild` and `verify`."""

from __future__ import annotations

import argparse

from incident_core.cli.context import load_domain, open_app
from incident_core.cli.output import MISMATCH, OK, USAGE, Exit, drive, emit, say


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
