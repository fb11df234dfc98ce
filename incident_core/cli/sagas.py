"""`incident sagas`: process managers, their conversations, parked steps, retry and skip."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from incident_core.cli.context import load_domain, open_app, open_read_only
from incident_core.cli.output import DOMAIN_CODE, OK, Exit, emit, emit_table, say

if TYPE_CHECKING:
    from incident_core.process import Accepted, ParkedStep

__all__ = ["accepted_payload", "register"]

Handler = Callable[[argparse.Namespace], int]
Add = Callable[[str, Handler, str], argparse.ArgumentParser]


def register(add: Add, common: argparse.ArgumentParser) -> None:
    """Add `sagas` and its subcommands to the `incident` parser."""
    sagas = add("sagas", cmd_sagas, "process managers: checkpoint, lag and parked steps")
    sagas.add_argument("--format", choices=("json", "table"), default="json")
    sub = sagas.add_subparsers(dest="sagas_command", metavar="ACTION")
    parked = sub.add_parser("parked", parents=[common], help="list parked saga steps")
    parked.add_argument("--all", action="store_true", help="skipped steps too")
    parked.add_argument("--format", choices=("json", "table"), default="json")
    text = ("each process manager's checkpoint, lag and open conversations (or, without "
            "declared final event types, the last step of the recent ones)")
    conversations = sub.add_parser("conversations", parents=[common], help=text,
                                   description=text)
    conversations.add_argument("--format", choices=("json", "table"), default="json")
    retry = sub.add_parser("retry", parents=[common], help="run a parked step again")
    skip = sub.add_parser("skip", parents=[common], help="give up on a parked step")
    for command in (retry, skip):
        command.add_argument("process_manager", metavar="PM")
        command.add_argument("position", type=int, metavar="POSITION")
    skip.add_argument("--reason", required=True, metavar="TEXT")


def cmd_sagas(args: argparse.Namespace) -> int:
    action = getattr(args, "sagas_command", None)
    if action == "parked":
        return _parked(args)
    if action == "conversations":
        from incident_core.cli.trace import cmd_conversations

        return cmd_conversations(args)
    if action == "retry":
        return _retry(args)
    if action == "skip":
        return _skip(args)
    return _managers(args)


def _managers(args: argparse.Namespace) -> int:
    domain = load_domain(args)
    with open_read_only(args) as store:
        head, checkpoints = store.head(), store.checkpoints()
        parked = store.parked_steps()
    rows = []
    for name in sorted(domain.process_managers):
        checkpoint = checkpoints.get(name, 0)
        rows.append({"name": name, "checkpoint": checkpoint, "head": head,
                     "lag": head - checkpoint,
                     "parked": sum(1 for p in parked if p.process_manager == name)})
    if args.format == "table":
        emit_table(["name", "checkpoint", "head", "lag", "parked"],
                   [list(r.values()) for r in rows])
    else:
        emit(rows)
    return OK


def _parked(args: argparse.Namespace) -> int:
    with open_read_only(args) as store:
        steps = store.parked_steps(include_skipped=args.all)
    if args.format == "table":
        emit_table(["process_manager", "position", "event_type", "aggregate_id", "attempts",
                    "status", "error"],
                   [[s.process_manager, s.position, s.event_type, s.aggregate_id, s.attempts,
                     s.status, s.error] for s in steps])
    else:
        emit([s.to_json() for s in steps])
    return OK


def _retry(args: argparse.Namespace) -> int:
    domain = load_domain(args)
    with open_app(args, domain) as app:
        step = app.retry_parked(args.process_manager, args.position)
    if step is not None:
        raise Exit(DOMAIN_CODE, f"{step.process_manager} at #{step.position} failed again "
                                f"(attempt {step.attempts}): {step.error}",
                   {"ok": False, "error": "saga_failed", "step": step.to_json()})
    say(f"{args.process_manager} at #{args.position} succeeded; it is no longer parked")
    emit({"ok": True, "process_manager": args.process_manager, "position": args.position})
    return OK


def _skip(args: argparse.Namespace) -> int:
    domain = load_domain(args)
    with open_app(args, domain) as app:
        step = app.skip_parked(args.process_manager, args.position, args.reason)
    say(f"skipped {step.process_manager} at #{step.position}: {step.skip_reason}")
    emit({"ok": True, "step": step.to_json()})
    return OK


def accepted_payload(result: Accepted) -> dict[str, Any]:
    """The accepted command's JSON; saga trouble after the commit is a warning, not a
    failure (the events are recorded: exit 0). `saga_failures`, `saga_error` and
    `replayed` appear only when there is something to say."""
    failures: tuple[ParkedStep, ...] = result.saga_failures
    for step in failures:
        say(f"warning: saga step parked: {step.process_manager} on {step.event_type} "
            f"#{step.position}: {step.error} (see `incident sagas parked`)")
    if result.saga_error:
        say(f"warning: the command was recorded but its sagas did not run: "
            f"{result.saga_error} (they resume on the next write)")
    payload: dict[str, Any] = {"ok": True, "events": [e.to_json() for e in result.events]}
    if failures:
        payload["saga_failures"] = [s.to_json() for s in failures]
    if result.replayed:
        say("already recorded under this command id: nothing was recorded now")
        payload["replayed"] = True
    if result.saga_error:
        payload["saga_error"] = result.saga_error
    return payload
