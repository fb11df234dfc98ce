"""`incident demo`: seed a store with the domain's demo, through real commands."""

from __future__ import annotations

import argparse
import contextlib
import os

from incident_core.cli.context import load_domain, open_app, sqlite_path, target_of
from incident_core.cli.output import OK, USAGE, Exit, drive, emit, say


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
