"""The argument parser and the entry point of the `incident` command."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from incident_core.cli.context import watch_locks
from incident_core.cli.demo import cmd_demo
from incident_core.cli.export_import import cmd_export, cmd_import
from incident_core.cli.lineage import register as register_lineage
from incident_core.cli.maintenance import cmd_rebuild, cmd_verify
from incident_core.cli.otel import add_otel_option, start_telemetry
from incident_core.cli.output import (
    DEFAULT_DB,
    DOMAIN_CODE,
    FAILED,
    INTERRUPTED,
    OK,
    STORE,
    USAGE,
    Exit,
    emit,
    say,
)
from incident_core.cli.reading import (
    cmd_events,
    cmd_projection,
    cmd_projections,
    cmd_state,
    cmd_streams,
)
from incident_core.cli.sagas import register as register_sagas
from incident_core.cli.timetravel import add_time_travel
from incident_core.cli.trace import add_trace_command
from incident_core.cli.writing import cmd_dispatch, cmd_init

if TYPE_CHECKING:
    from incident_core.engine.application import DomainCodeError


# -- the parser ---------------------------------------------------------------------------
LARGEST = 2**63 - 1  # what every store can hold and compare (a signed 64-bit integer)


def _natural(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    if value > LARGEST:
        raise argparse.ArgumentTypeError(f"{text} is too large (at most {LARGEST})")
    return value


def _positive(text: str) -> int:
    value = _natural(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds") from None
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="TARGET", default=argparse.SUPPRESS,
                        help="SQLite file or SQLAlchemy URL (default: $INCIDENT_DB, else "
                             f"{DEFAULT_DB})")
    common.add_argument("--domain", metavar="MODULE:ATTR", default=argparse.SUPPRESS,
                        help="the domain (default: $INCIDENT_DOMAIN, else the bank example). "
                             "It is Python code: importing it runs it, with your rights, "
                             "even for read commands; use only domains you trust")
    common.add_argument("--domain-path", metavar="DIR", action="append",
                        default=argparse.SUPPRESS,
                        help="put DIR first on the import path (repeatable); any module "
                             "there can run code, so name only folders you trust")
    common.add_argument("--lock-timeout", metavar="SECONDS", type=_seconds,
                        default=argparse.SUPPRESS,
                        help="how long to wait for another process's lock on a SQLite store "
                             "before giving up with exit 4 (default 30)")
    add_otel_option(common)
    return common


Handler = Callable[[argparse.Namespace], int]
Add = Callable[[str, Handler, str], argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = _top_parser(common)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=text, description=text)
        command.set_defaults(handler=handler)
        return command

    _add_writing(add)
    projection = _add_reading(add)
    rebuild = _add_maintenance(add)
    _add_demo(add)
    _add_export_import(add)
    add_trace_command(sub, common)
    register_sagas(add, common)
    add_time_travel(add, projection, rebuild)
    register_lineage(add)
    return parser


def _top_parser(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from incident_core import __version__

    parser = argparse.ArgumentParser(
        prog="incident", parents=[common],
        description="Event sourcing and CQRS made simple: operate an Incident store.",
        epilog="JSON goes to stdout, messages to stderr. Exit codes: 0 ok, 1 rejected/"
               "conflict/not found, 2 usage or invalid input, 3 verify mismatches, 4 store "
               "error, 5 domain code error, 130 interrupted. A domain (--domain, --domain-path, "
               "$INCIDENT_DOMAIN) is Python code that runs when loaded: trust it as you "
               "would any program.")
    parser.add_argument("--version", action="version", version=f"incident {__version__}")
    return parser


def _formats(command: argparse.ArgumentParser, *choices: str) -> None:
    command.add_argument("--format", choices=choices, default=choices[0])


def _add_writing(add: Add) -> None:
    add("init", cmd_init, "create the store (nothing happens if it exists)")
    dispatch = add("dispatch", cmd_dispatch, "validate and execute one command")
    dispatch.add_argument("command_type", metavar="COMMAND_TYPE")
    dispatch.add_argument("--data", default="{}", metavar="JSON",
                          help="the command's fields as a JSON object ('-': read stdin)")
    dispatch.add_argument("--command-id", metavar="KEY",
                          help="idempotency key: dispatching the same KEY again records "
                               "nothing and prints what was recorded the first time")


def _add_reading(add: Add) -> argparse.ArgumentParser:
    """The read commands; returns `projection`, which time travel extends."""
    events = add("events", cmd_events, "list recorded events in position order")
    events.set_defaults(watches_locks=True)
    events.add_argument("--aggregate", metavar="ID")
    events.add_argument("--type", action="append", metavar="T", help="repeatable")
    events.add_argument("--after", type=_natural, default=0, metavar="POSITION")
    events.add_argument("--limit", type=_natural, metavar="N")
    _formats(events, "json", "ndjson", "table")
    _formats(add("streams", cmd_streams, "list streams, one per aggregate"), "json", "table")
    state = add("state", cmd_state, "an aggregate's state, replayed from its events")
    state.add_argument("aggregate_id", metavar="AGGREGATE_ID")
    state.add_argument("--at-version", type=_positive, metavar="N")
    _formats(state, "json", "table")
    projection = add("projection", cmd_projection, "the rows of a projection")
    projection.add_argument("name", metavar="NAME")
    _formats(projection, "json", "table")
    _formats(add("projections", cmd_projections, "projections with rows, checkpoint and lag"),
             "json", "table")
    return projection


def _add_maintenance(add: Add) -> argparse.ArgumentParser:
    """`rebuild` and `verify`; returns `rebuild`, which time travel extends."""
    rebuild = add("rebuild", cmd_rebuild, "rebuild projections by replaying the log")
    rebuild.add_argument("names", nargs="*", metavar="NAME")
    rebuild.add_argument("--all", action="store_true", help="every projection")
    check = add("verify", cmd_verify, "check streams, versions, decoding and projections")
    check.add_argument("--deep", action="store_true",
                       help="also run SQLite's integrity check over every page of the file")
    return rebuild


def _add_demo(add: Add) -> None:
    demo = add("demo", cmd_demo, "seed the store with the domain's demo, through real commands")
    demo.add_argument("--accounts", "--entities", dest="accounts", type=_natural, default=100,
                      metavar="N", help="entities made first (bank: accounts; shipping: "
                                        "vessels; default 100)")
    demo.add_argument("--transfers", "--steps", dest="transfers", type=_natural,
                      default=1000, metavar="M", help="steps after them (bank: transfers; "
                                                      "shipping: bookings; default 1000)")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--fresh", action="store_true",
                      help="delete the SQLite store first (only an Incident store)")


def _add_export_import(add: Add) -> None:
    export = add("export", cmd_export, "write every event as NDJSON")
    export.add_argument("file", metavar="FILE", help="'-' for stdout")
    imp = add("import", cmd_import, "import an NDJSON export (all events checked first)")
    imp.add_argument("file", metavar="FILE", help="'-' for stdin")
    imp.add_argument("--resume", action="store_true",
                     help="go on with an import that was stopped: skip the events already "
                          "in the store (they must be identical)")


# -- running ------------------------------------------------------------------------------
def _run(args: argparse.Namespace) -> int:
    handler: Handler = args.handler
    if args.command == "rebuild" and args.all and args.names:
        raise Exit(USAGE, "give projection names or --all, not both")
    if not getattr(args, "watches_locks", False):  # `events` does, on its ordinary path
        watch_locks(args)
    start_telemetry(args)
    try:
        return handler(args)
    except Exception as exc:
        stop = _exit_for(args, exc)
        if stop is None:
            raise
        raise stop from None


def _loaded(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """These exception classes if their module is loaded (an error of a class whose module
    was never imported cannot have been raised: listings never import the engine)."""
    found = sys.modules.get(module)
    return () if found is None else tuple(getattr(found, name) for name in names)


def _exit_for(args: argparse.Namespace, exc: Exception) -> Exit | None:
    """The exit a command's failure becomes (None: not one of ours, let it propagate)."""
    from incident_core.errors import IncidentError, InvalidCommand, StoreError

    if isinstance(exc, StoreError):
        return Exit(STORE, _store_message(exc))
    domain_code = _loaded("incident_core.engine.results", "DomainCodeError")
    if domain_code and isinstance(exc, domain_code):
        return Exit(DOMAIN_CODE, f"domain code failed: {_one_line(exc)}")  # type: ignore[arg-type]
    if isinstance(exc, InvalidCommand):
        return Exit(USAGE, str(exc), {"ok": False, "error": "invalid_command",
                                      "command_type": exc.command_type,
                                      "details": exc.details})
    import_error = _loaded("incident_core.operations.export_import", "ImportFileError")
    if import_error and isinstance(exc, import_error):
        return Exit(USAGE, f"cannot import {args.file}: {exc}; nothing was imported")
    if isinstance(exc, IncidentError):
        return Exit(FAILED, str(exc))
    return None


def _store_message(error: Exception) -> str:
    """A store error's line; SQLite's bare "database is locked" says what to do."""
    text = str(error)
    if "database is locked" in text or "database is busy" in text:
        from incident_core.store.open import lock_timeout

        return (f"the store is locked by another process (waited {lock_timeout():g}s); "
                "try again, or wait longer with --lock-timeout")
    return text


def _one_line(error: DomainCodeError) -> str:
    """A domain code error on one line (pydantic's multi-line messages condensed)."""
    from pydantic import ValidationError

    original = error.original
    if isinstance(original, ValidationError):
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                            for e in original.errors(include_url=False))
        return f"{error.where} raised ValidationError: {reasons}"
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8")
    try:
        args = build_parser().parse_args(argv)
        try:
            return _run(args)
        except Exit as stop:
            if stop.payload is not None:
                emit(stop.payload)
            say(str(stop))
            return stop.code
        finally:
            sys.stdout.flush()
    except KeyboardInterrupt:
        say("interrupted")
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `incident events | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return OK
