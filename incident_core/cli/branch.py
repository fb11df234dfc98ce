"""`incident branch --at N OUT` (a scratch store holding the log up to N) and
`incident diff A B` (streams, events and projection rows that differ, as JSON)."""

from __future__ import annotations

import argparse

from incident_core.cli.context import load_domain, open_app, target_of
from incident_core.cli.output import MISMATCH, OK, USAGE, Exit, drive, emit, say

__all__ = ["add_branch_commands", "cmd_branch", "cmd_diff"]


def add_branch_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                        common: argparse.ArgumentParser) -> None:
    text = "a new store holding this store's log up to a position (the original is only read)"
    command = sub.add_parser("branch", parents=[common], help=text, description=text)
    command.set_defaults(handler=cmd_branch)
    command.add_argument("--at", type=int, metavar="N",
                         help="the last position to copy (default: the head)")
    command.add_argument("out", metavar="OUT", help="the new store (SQLite file or URL)")
    text = ("streams, events and projection rows that differ between two stores (JSON); "
            "exit 3 when they differ")
    command = sub.add_parser("diff", parents=[common], help=text, description=text)
    command.set_defaults(handler=cmd_diff)
    command.add_argument("a", metavar="A")
    command.add_argument("b", metavar="B")


def cmd_branch(args: argparse.Namespace) -> int:
    from incident_core.operations.branch import branch

    if args.out == target_of(args):
        raise Exit(USAGE, "the branch must be a new store, not the original")
    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        at = app.store.head() if args.at is None else args.at
        report = drive(branch(app, args.out, at=at))
    say(f"branched {report.events:,} events (up to position {at}) into {args.out}")
    emit(report.to_json())
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    from incident_core.operations.branch import diff
    from incident_core.store.open import open_store

    domain = load_domain(args)
    with open_store(args.a, read_only=True) as a, open_store(args.b, read_only=True) as b:
        result = diff(a, b, domain)
    emit(result.to_json())
    return OK if result.same else MISMATCH
