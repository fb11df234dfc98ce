"""The `incident` command: create, seed, query, check and move an event store.

JSON goes to stdout; messages and progress bars (on a terminal only) go to stderr.
Nothing heavy is imported before the arguments are parsed, and Qt never is.

Exit codes: 0 done; 1 rejected by the domain, conflict, or no such aggregate; 2 usage or
invalid input (bad command data, unknown command type or projection, bad import file);
3 `verify` found mismatches; 4 the store cannot be used (missing for a read, not an Incident
store, corrupt, newer schema); 5 domain code raised; 130 interrupted.

Failures about the request itself (exit 1, the JSON-shaped exit 2 cases: invalid or unknown
command, unknown projection; exit 3) also print `{"ok": false, "error": <code>, ...}` on
stdout; the others only print one line on stderr. Reads open the store read-only and never
create it; `init`, `dispatch`, `demo` and `import` create a missing SQLite store.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from incident_core.app import Application, DomainCodeError
    from incident_core.domain import Domain
    from incident_core.progress import Operation, Progress
    from incident_core.store.base import EventStore

__all__ = ["main"]

DEFAULT_DB = "./incident.sqlite3"
DEFAULT_DOMAIN = "incident_core.examples.bank:domain"
PAGE = 1000
CELL_WIDTH = 60
T = TypeVar("T")

OK, FAILED, USAGE, MISMATCH, STORE, DOMAIN_CODE, INTERRUPTED = 0, 1, 2, 3, 4, 5, 130


class Exit(Exception):
    """Stop with `code`: print `payload` as JSON on stdout (if any), `message` on stderr."""

    def __init__(self, code: int, message: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.payload = payload


# -- output -------------------------------------------------------------------------------
def say(message: str) -> None:
    print(f"incident: {message}", file=sys.stderr)


def emit(value: Any) -> None:
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=indent) + "\n")


def emit_array(items: Iterable[Any]) -> None:
    """A JSON array written item by item (never the whole result in memory)."""
    out = sys.stdout
    out.write("[")
    for n, item in enumerate(items):
        out.write(("," if n else "") + json.dumps(item, ensure_ascii=False))
    out.write("]\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", " ")
    return text if len(text) <= CELL_WIDTH else text[:CELL_WIDTH - 3] + "..."


def emit_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Aligned columns; numbers right-aligned."""
    raw = [list(r) for r in rows]
    cells = [[_cell(v) for v in row] for row in raw]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [bool(raw) and all(isinstance(r[i], int | float) and not isinstance(r[i], bool)
                                 for r in raw if r[i] is not None) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])] + [line(r) for r in cells]
    sys.stdout.write("\n".join(out) + "\n")


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second; only on a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._last = 0.0
        self._shown = False

    def update(self, progress: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        filled = int(30 * progress.fraction)
        amount = f"{progress.done}/{progress.total}" if progress.total > 0 else str(progress.done)
        sys.stderr.write(f"\r{progress.message[:28]:<28} [{'#' * filled}{'.' * (30 - filled)}] "
                         f"{100 * progress.fraction:5.1f}% {amount}\x1b[K")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def drive(operation: Operation[T]) -> T:
    """Run a core operation to its end with a progress bar; close it if interrupted."""
    bar = ProgressBar()
    try:
        while True:
            try:
                progress = next(operation)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            bar.update(progress)
    finally:
        operation.close()
        bar.close()


# -- targets, domains, stores ----------------------------------------------------------------
def target_of(args: argparse.Namespace) -> str:
    return str(getattr(args, "db", None) or os.environ.get("INCIDENT_DB") or DEFAULT_DB)


def shown(target: str) -> str:
    from incident_core.store.open import describe_target

    return describe_target(target)


def load_domain(args: argparse.Namespace) -> Domain:
    """Import the `--domain MODULE:ATTR` (after putting `--domain-path` dirs on sys.path)."""
    from incident_core.app import DomainCodeError
    from incident_core.domain import Domain

    for folder in reversed(getattr(args, "domain_path", None) or []):
        sys.path.insert(0, os.path.abspath(folder))
    spec = getattr(args, "domain", None) or os.environ.get("INCIDENT_DOMAIN") or DEFAULT_DOMAIN
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise Exit(USAGE, f"--domain must be MODULE:ATTR, not {spec!r}")
    import importlib

    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):
            raise Exit(USAGE, f"cannot load domain {spec!r}: no module named {exc.name!r} "
                              "(see --domain-path)") from None
        raise DomainCodeError(f"importing the domain module {module_name}", exc) from exc
    except Exception as exc:
        raise DomainCodeError(f"importing the domain module {module_name}", exc) from exc
    for part in attribute.split("."):
        value = getattr(value, part, None)
    if not isinstance(value, Domain):
        raise Exit(USAGE, f"cannot load domain {spec!r}: {attribute} is not an "
                          "incident Domain")
    return value


def open_app(args: argparse.Namespace, domain: Domain, *, read_only: bool = False,
             create: bool = False, synchronous: str = "FULL") -> Application:
    from incident_core.app import Application

    return Application.open(target_of(args), domain, read_only=read_only, create=create,
                            synchronous=synchronous)


def open_read_only(args: argparse.Namespace) -> EventStore:
    from incident_core.store.open import open_store

    return open_store(target_of(args), read_only=True)


def sqlite_path(target: str) -> str | None:
    """The file of a SQLite target (None for memory: and server URLs)."""
    from incident_core.store.open import is_url

    if target in ("memory:", ":memory:"):
        return None
    if not is_url(target):
        return os.path.expanduser(target)
    from sqlalchemy.engine import make_url

    url = make_url(target)
    if url.get_backend_name() != "sqlite":
        return None
    return url.database or None


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
    from incident_core.app import Conflicted
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
        command = domain.parse_command(args.command_type, data)
    except InvalidCommand as exc:
        raise Exit(USAGE, str(exc), {"ok": False, "error": "invalid_command",
                                     "command_type": args.command_type,
                                     "details": exc.details}) from None
    with open_app(args, domain, create=True) as app:
        result = app.dispatch(command)
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
    emit({"ok": True, "events": [e.to_json() for e in result.events]})
    return OK


def _event_pages(store: EventStore, args: argparse.Namespace) -> Iterator[Any]:
    from incident_core.store.base import EventFilter

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
    with open_read_only(args) as store:
        events = _event_pages(store, args)
        if args.format == "ndjson":
            for event in events:
                sys.stdout.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
        elif args.format == "json":
            emit_array(e.to_json() for e in events)
        else:
            emit_table(("position", "recorded_at", "aggregate_type", "aggregate_id",
                        "version", "event_type", "data"),
                       ((e.position, e.recorded_at_text, e.aggregate_type, e.aggregate_id,
                         e.version, e.event_type, e.data) for e in events))
    return OK


def cmd_streams(args: argparse.Namespace) -> int:
    with open_read_only(args) as store:
        def streams() -> Iterator[Any]:
            after: str | None = None
            while page := store.streams(after_id=after, limit=PAGE):
                yield from page
                after = page[-1].aggregate_id

        if args.format == "json":
            emit_array(s.to_json() for s in streams())
        else:
            emit_table(("aggregate_id", "aggregate_type", "version", "event_count",
                        "last_recorded_at"),
                       ((s.aggregate_id, s.aggregate_type, s.version, s.event_count,
                         s.last_recorded_at) for s in streams()))
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
        report = drive(verify(app))
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
    if args.fresh:
        _remove_store(target_of(args))
    with open_app(args, domain, create=True, synchronous="NORMAL") as app:
        report = drive(demo(app, accounts=args.accounts, transfers=args.transfers,
                            seed=args.seed))
    say(f"seeded {report.accounts} accounts and {report.transfers} transfers: "
        f"{report.events} events in {report.seconds:.1f}s")
    emit({"ok": True, **report.to_json()})
    return OK


def _remove_store(target: str) -> None:
    """`demo --fresh`: delete an existing store (only ever an Incident store file)."""
    from incident_core.errors import StoreNotFoundError
    from incident_core.store.open import open_store, remove_sqlite_files

    path = sqlite_path(target)
    if path is None:
        raise Exit(USAGE, "--fresh only deletes SQLite store files")
    try:
        open_store(target, read_only=True).close()  # refuses anything but a store
    except StoreNotFoundError:
        return
    remove_sqlite_files(path)


def cmd_export(args: argparse.Namespace) -> int:
    from incident_core.operations import export_events

    with open_read_only(args) as store:
        if args.file == "-":
            count = drive(export_events(store, sys.stdout))
            say(f"exported {count} events")
            return OK
        _refuse_overwriting_store(args.file, store)
        partial = f"{args.file}.partial"
        try:
            with open(partial, "w", encoding="utf-8") as fp:
                count = drive(export_events(store, fp))
            os.replace(partial, args.file)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    say(f"exported {count} events to {args.file}")
    emit({"ok": True, "events": count, "file": args.file})
    return OK


def _refuse_overwriting_store(file: str, store: EventStore) -> None:
    path = sqlite_path(store.target)
    if path and os.path.exists(file) and os.path.samefile(file, path):
        raise Exit(USAGE, f"{file} is the store itself; export to another file")


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
            count = drive(import_events(app, lines))
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
        remove_sqlite_files(path)


# -- the parser ---------------------------------------------------------------------------
def _natural(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="TARGET", default=argparse.SUPPRESS,
                        help="SQLite file or SQLAlchemy URL (default: $INCIDENT_DB, else "
                             f"{DEFAULT_DB})")
    common.add_argument("--domain", metavar="MODULE:ATTR", default=argparse.SUPPRESS,
                        help="the domain (default: $INCIDENT_DOMAIN, else the bank example)")
    common.add_argument("--domain-path", metavar="DIR", action="append",
                        default=argparse.SUPPRESS,
                        help="put DIR first on the import path (repeatable)")
    return common


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    from incident_core import __version__

    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="incident", parents=[common],
        description="Event sourcing and CQRS made simple: operate an Incident store.",
        epilog="JSON goes to stdout, messages to stderr. Exit codes: 0 ok, 1 rejected/"
               "conflict/not found, 2 usage or invalid input, 3 verify mismatches, 4 store "
               "error, 5 domain code error, 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"incident {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=text, description=text)
        command.set_defaults(handler=handler)
        return command

    def fmt(command: argparse.ArgumentParser, *choices: str) -> None:
        command.add_argument("--format", choices=choices, default=choices[0])

    add("init", cmd_init, "create the store (nothing happens if it exists)")
    dispatch = add("dispatch", cmd_dispatch, "validate and execute one command")
    dispatch.add_argument("command_type", metavar="COMMAND_TYPE")
    dispatch.add_argument("--data", default="{}", metavar="JSON",
                          help="the command's fields as a JSON object ('-': read stdin)")
    events = add("events", cmd_events, "list recorded events in position order")
    events.add_argument("--aggregate", metavar="ID")
    events.add_argument("--type", action="append", metavar="T", help="repeatable")
    events.add_argument("--after", type=_natural, default=0, metavar="POSITION")
    events.add_argument("--limit", type=_natural, metavar="N")
    fmt(events, "json", "ndjson", "table")
    fmt(add("streams", cmd_streams, "list streams, one per aggregate"), "json", "table")
    state = add("state", cmd_state, "an aggregate's state, replayed from its events")
    state.add_argument("aggregate_id", metavar="AGGREGATE_ID")
    state.add_argument("--at-version", type=_positive, metavar="N")
    fmt(state, "json", "table")
    projection = add("projection", cmd_projection, "the rows of a projection")
    projection.add_argument("name", metavar="NAME")
    fmt(projection, "json", "table")
    fmt(add("projections", cmd_projections, "projections with rows, checkpoint and lag"),
        "json", "table")
    rebuild = add("rebuild", cmd_rebuild, "rebuild projections by replaying the log")
    rebuild.add_argument("names", nargs="*", metavar="NAME")
    rebuild.add_argument("--all", action="store_true", help="every projection")
    add("verify", cmd_verify, "check streams, versions, decoding and projections")
    demo = add("demo", cmd_demo, "seed the bank example through real commands")
    demo.add_argument("--accounts", type=_natural, default=100, metavar="N")
    demo.add_argument("--transfers", type=_natural, default=1000, metavar="M")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--fresh", action="store_true",
                      help="delete the SQLite store first (only an Incident store)")
    export = add("export", cmd_export, "write every event as NDJSON")
    export.add_argument("file", metavar="FILE", help="'-' for stdout")
    imp = add("import", cmd_import, "import an NDJSON export (all events checked first)")
    imp.add_argument("file", metavar="FILE", help="'-' for stdin")
    return parser


# -- running ------------------------------------------------------------------------------
def _run(args: argparse.Namespace) -> int:
    from incident_core.app import DomainCodeError
    from incident_core.errors import IncidentError, StoreError
    from incident_core.operations import ImportFileError

    handler: Handler = args.handler
    if args.command == "rebuild" and args.all and args.names:
        raise Exit(USAGE, "give projection names or --all, not both")
    try:
        return handler(args)
    except StoreError as exc:
        raise Exit(STORE, str(exc)) from None
    except DomainCodeError as exc:
        raise Exit(DOMAIN_CODE, f"domain code failed: {_one_line(exc)}") from None
    except ImportFileError as exc:
        raise Exit(USAGE, f"cannot import {args.file}: {exc}; nothing was imported") from None
    except IncidentError as exc:
        raise Exit(FAILED, str(exc)) from None


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


if __name__ == "__main__":
    sys.exit(main())
