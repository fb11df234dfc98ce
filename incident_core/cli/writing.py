"""The commands that write: `init` creates the store, `dispatch` runs one command."""

from __future__ import annotations

import argparse
import sys

from incident_core.cli.context import load_domain, open_app, shown, target_of
from incident_core.cli.output import FAILED, OK, USAGE, Exit, emit, say
from incident_core.cli.sagas import accepted_payload


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
