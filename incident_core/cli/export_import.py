"""`incident export` and `incident import`: the log as NDJSON, out and back in."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys

from incident_core.cli.context import (
    load_domain,
    open_app,
    open_read_only,
    shown,
    sqlite_path,
    target_of,
)
from incident_core.cli.files import refuse_store_files, write_beside
from incident_core.cli.output import MISMATCH, OK, USAGE, Exit, drive, emit, say


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
