"""The checks of an import line, in one pass: parsed once, its envelope checked for shape,
its stream and id checked against the lines before it, its event type against the domain,
and its data decoded to the typed event (which the projections then use as is).

Most lines are well-formed exports: one parse by pydantic's JSON validator proves the
envelope's shape as it parses (`_Envelope`: JSON's own types, no empty ids, versions from
1, the store's time format, no unknown field; it caches the strings every line repeats),
then one walk over the data and metadata proves that every number fits (no integer beyond
64 bits, no non-finite float). That parser refuses what `json.loads` refuses and gives
what it gives for the rest (lone surrogates, which `json.loads` takes, it refuses). A line
the fast path does not prove goes through the full checks (`import_full`), which parse
it again with `json.loads` and name the field that is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, NotRequired, cast

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic wants it on Python < 3.12

from incident_core.domain import Domain, Event
from incident_core.engine.results import DomainCodeError
from incident_core.errors import IncidentError
from incident_core.operations.import_full import (
    CANONICAL_TIME,
    LARGEST,
    ImportFileError,
    full_envelope,
)
from incident_core.values import NUL, NUL_PROBLEM, nul_in_columns

__all__ = ["Checked", "ImportFileError", "LineChecker"]

Decode = Callable[[dict[str, Any]], Event]
Checked = tuple[int, dict[str, Any], Event]  # (line number, envelope, typed event)
_Text = Annotated[str, Field(min_length=1)]
_Count = Annotated[int, Field(ge=1, le=LARGEST)]


class _Envelope(TypedDict):
    """An envelope in the store's own form, as an export writes it: what the fast path
    proves in the parse itself (pydantic-core's JSON parser; strict: JSON's own types)."""

    __pydantic_config__ = ConfigDict(strict=True, extra="forbid",  # type: ignore[misc]
                                     cache_strings="all")
    event_id: _Text
    aggregate_id: _Text
    aggregate_type: _Text
    event_type: _Text
    version: _Count
    recorded_at: Annotated[str, Field(pattern=f"^{CANONICAL_TIME.pattern}$")]  # whole
    schema_version: NotRequired[_Count]
    position: NotRequired[Annotated[int, Field(ge=-LARGEST - 1, le=LARGEST)]]
    data: dict[str, Any]
    metadata: NotRequired[dict[str, Any]]


_parse_envelope = TypeAdapter(_Envelope).validator.validate_json


class LineChecker:
    """Checks the lines of one file in order; `check` returns (envelope, typed event)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.event_ids: dict[str, int] = {}  # event id -> line number
        self.streams: dict[str, tuple[str, int]] = {}  # aggregate id -> (type, line)
        self._versions: dict[str, int] = {}
        self._decoders: dict[tuple[str, str, int], Decode] = {}

    def check(self, number: int, line: str) -> tuple[dict[str, Any], Event]:
        envelope = _fast(line)
        if envelope is None:
            envelope = full_envelope(number, line)
        # a NUL (JSON's \u0000): kept in data, never in the log's own text columns; a line
        # without a backslash is ruled out by one memchr (~40 ns; the escape's search ~400)
        if "\\" in line and "\\u0000" in line:
            _refuse_nul(number, envelope)
        self._check_identity(number, envelope)
        return envelope, self._check_domain(number, envelope)

    def check_lines(self, numbered: Iterable[tuple[int, str]]) -> list[Checked]:
        """`check` of each line, in order: (line number, envelope, typed event). The path
        of a well-formed line in the store's own form (`_fast`'s), continuing a stream
        already seen, of a kind already decoded, is inlined here, a call per part costing
        what the import's target allows; any other line goes through `check` (a parse
        again: its errors, or a first event's bookkeeping, are `check`'s)."""
        out: list[Checked] = []
        add, parse, fits, real, ids, versions, streams, decoders = out.append, \
            _parse_envelope, _fits, _real_time, self.event_ids, self._versions, self.streams, \
            self._decoders
        for number, line in numbered:
            try:
                e: dict[str, Any] = parse(line)
            except ValueError:  # pydantic's ValidationError too
                add((number, *self.check(number, line)))
                continue
            metadata = e.get("metadata")
            if metadata is None:
                e["metadata"] = metadata = {}
            event_id, aggregate_id, version = e["event_id"], e["aggregate_id"], e["version"]
            e.pop("position", None)
            key = (e["aggregate_type"], e["event_type"], e.setdefault("schema_version", 1))
            decode = decoders.get(key)
            at = e["recorded_at"]  # `_real_time`'s memo read here: a call saved per line
            if decode is None or event_id in ids \
                    or not ((at.isascii() and at[:19] == _real_second) or real(at)) \
                    or versions.get(aggregate_id, -1) != version - 1 \
                    or streams[aggregate_id][0] != key[0] \
                    or type(metadata.get("correlation_id", "")) is not str \
                    or type(metadata.get("causation_id", "")) is not str \
                    or not (fits(e["data"].values()) and fits(metadata.values())):
                add((number, *self.check(number, line)))
                continue
            if "\\" in line and "\\u0000" in line:  # as `check`
                _refuse_nul(number, e)
            try:
                event = decode(e["data"])
            except Exception:  # the error as `check` words it
                add((number, *self.check(number, line)))
                continue
            ids[event_id] = number
            versions[aggregate_id] = version
            add((number, e, event))
        return out

    def _check_identity(self, number: int, envelope: dict[str, Any]) -> None:
        event_id, aggregate_id = envelope["event_id"], envelope["aggregate_id"]
        first = self.event_ids.setdefault(event_id, number)
        if first != number:
            raise ImportFileError(number, f"event id {event_id} already appears on line {first}")
        version = envelope["version"]
        known = self.streams.get(aggregate_id)
        if known is None:
            self.streams[aggregate_id] = (envelope["aggregate_type"], number)
        elif known[0] != envelope["aggregate_type"]:
            raise ImportFileError(number, f"stream {aggregate_id} is a {known[0]} (line "
                                          f"{known[1]}), not a {envelope['aggregate_type']}")
        elif version != self._versions[aggregate_id] + 1:
            raise ImportFileError(number, f"stream {aggregate_id} jumps from version "
                                          f"{self._versions[aggregate_id]} to {version}")
        self._versions[aggregate_id] = version

    def _decoder(self, number: int, aggregate_type: str, event_type: str,
                 schema_version: int) -> Decode:
        """How the data of an event of this kind is decoded, once the domain is known to
        have the kind: the model's own validator when the data is of its newest schema
        (what `Domain.decode` runs then), else `Domain.decode` with its upcasters."""
        aggregate = self.domain.aggregate_named(aggregate_type)
        if aggregate is None:
            raise ImportFileError(number, f"aggregate type {aggregate_type!r} is not part of "
                                          f"the domain {self.domain.name!r}")
        if event_type not in {e.__name__ for e in aggregate.event_types}:
            raise ImportFileError(number, f"{event_type!r} is not an event of "
                                          f"{aggregate_type}")
        etype = self.domain.event_types[event_type]
        newest = etype.schema_version
        if schema_version > newest:
            raise ImportFileError(number, f"{event_type} schema version {schema_version} is "
                                          f"newer than this domain's ({newest}); upgrade the "
                                          "domain first")
        if schema_version == newest:
            return cast(Decode, etype.__pydantic_validator__.validate_python)
        return partial(self.domain.decode, event_type, schema_version=schema_version)

    def _check_domain(self, number: int, envelope: dict[str, Any]) -> Event:
        key = (envelope["aggregate_type"], envelope["event_type"], envelope["schema_version"])
        decode = self._decoders.get(key)
        if decode is None:
            decode = self._decoders[key] = self._decoder(number, *key)
        try:
            return decode(envelope["data"])
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                                for e in exc.errors(include_url=False))
            raise ImportFileError(number, f"{key[1]} data does not decode: "
                                          f"{reasons}") from None
        except IncidentError:
            raise
        except Exception as exc:
            raise DomainCodeError(f"decoding {key[1]} (line {number})", exc) from exc


def _refuse_nul(number: int, envelope: dict[str, Any]) -> None:
    """ImportFileError for a NUL in a value the log keeps in a text column (PostgreSQL
    refuses it there; so does every adapter), as a dispatch refuses it."""
    for name in ("event_id", "aggregate_id", "aggregate_type", "event_type"):
        if NUL in envelope[name]:
            raise ImportFileError(number, f"{name} {NUL_PROBLEM}")
    found = nul_in_columns("", envelope["metadata"])
    if found is not None:
        raise ImportFileError(number, f"metadata.{found[-1]} {NUL_PROBLEM}")
    if NUL in str(envelope["metadata"].get("command_type", "")):
        raise ImportFileError(number, f"metadata.command_type {NUL_PROBLEM}")


def _fast(line: str) -> dict[str, Any] | None:
    """The envelope of a line in the store's own form (as an export writes it), parsed and
    its shape proven in one pass; None if the line needs the full checks."""
    try:
        raw: dict[str, Any] = _parse_envelope(line)
    except ValueError:  # pydantic's ValidationError too
        return None
    if not _real_time(raw["recorded_at"]):
        return None
    metadata = raw.get("metadata")
    if metadata is None:
        raw["metadata"] = metadata = {}
    else:
        for name in ("correlation_id", "causation_id"):
            value = metadata.get(name)
            if value is not None and type(value) is not str:
                return None
    if not (_fits(raw["data"].values()) and _fits(metadata.values())):
        return None
    raw.pop("position", None)
    raw.setdefault("schema_version", 1)
    return raw


def _real_time(text: str) -> bool:
    """A time in the store's form (as the envelope's pattern proves) that is a real time
    (no 30 February, no hour 24) in ASCII digits (the pattern's `\\d` takes any): checked
    once per second (an export's events share seconds)."""
    global _real_second  # noqa: PLW0603 - a one-entry memo, replaced whole (thread-safe)
    if not text.isascii():
        return False
    if text[:19] != _real_second:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return False
        _real_second = text[:19]
    return True


_real_second = ""


def _fits(values: Any) -> bool:
    """Every number among `values` (a dict's or list's, nested) fits the store: integers
    in 64 bits, floats finite."""
    for value in values:
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue
        if kind is int:
            if not -LARGEST - 1 <= value <= LARGEST:
                return False
        elif kind is float:
            if value - value != 0.0:  # inf or nan
                return False
        elif kind is dict:
            if not _fits(value.values()):
                return False
        elif kind is list:
            if not _fits(value):
                return False
        else:
            return False
    return True

