"""Output of the `incident` command: JSON on stdout, messages and progress bars on
stderr, and the exit codes."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from incident_core.progress import Operation, Progress



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
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`), never acted on: a
    store's text cannot move the cursor, clear the screen or retitle the terminal."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


# Characters JSON leaves raw (ensure_ascii=False) that a terminal may act on: DEL and the C1
# controls (\x9b is a CSI), line/paragraph separators and bidi overrides.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(value: Any, indent: int | None = None) -> str:
    """`value` as JSON, readable (non-ASCII kept), with every character a terminal could act
    on written as a `\\uXXXX` escape: the same JSON value, safe to print."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def say(message: str) -> None:
    print(f"incident: {visible(message)}", file=sys.stderr)


def emit(value: Any) -> None:
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json_text(value, indent) + "\n")


def emit_array(items: Iterable[Any]) -> None:
    """A JSON array written item by item (never the whole result in memory)."""
    out = sys.stdout
    out.write("[")
    for n, item in enumerate(items):
        out.write(("," if n else "") + json_text(item))
    out.write("]\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = visible(text.replace("\n", " "))
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
        message = visible(progress.message)[:28]
        sys.stderr.write(f"\r{message:<28} [{'#' * filled}{'.' * (30 - filled)}] "
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
