"""What crosses the shared writer's socket (`incident_core.engine.shared_writer`): frames of
JSON, the domain's fingerprint for the handshake, commands going in and `DispatchResult`s (or
the library's errors) coming back, rebuilt on the follower as the writer had them.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON. An error is only
rebuilt as a class of the library (`IncidentError` and its subclasses, found by module and
name among the loaded ones) or a built-in exception: a reply never names code to run.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import socket
import struct
from typing import Any

from incident_core.domain import Command, Domain
from incident_core.engine.results import Conflicted, DispatchResult, DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.process import Accepted, ParkedStep, Rejected

__all__ = [
    "ConnectionLost",
    "decode_result",
    "dispatch_arguments",
    "encode_error",
    "encode_request",
    "encode_result",
    "fingerprint",
    "receive",
    "send",
]

_LENGTH = struct.Struct(">I")
_MAX_FRAME = 1 << 30


class ConnectionLost(OSError):
    """The other side closed the socket (or died) before a whole frame arrived."""


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps(message, separators=(",", ":")).encode()
    sock.sendall(_LENGTH.pack(len(body)) + body)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionLost("the shared writer's connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket) -> dict[str, Any]:
    """The next frame; ConnectionLost when the other side is gone."""
    (size,) = _LENGTH.unpack(_exactly(sock, _LENGTH.size))
    if size > _MAX_FRAME:
        raise ConnectionLost(f"a frame of {size} bytes: not the shared writer's protocol")
    message: dict[str, Any] = json.loads(_exactly(sock, size))
    return message


def fingerprint(domain: Domain) -> str:
    """The domain's name and the shapes of its commands, events, aggregates, projections and
    process managers: two processes forward to each other only when these are equal."""
    shape = {
        "name": domain.name,
        "commands": {n: t.model_json_schema() for n, t in sorted(domain.command_types.items())},
        "events": {n: [t.schema_version, t.model_json_schema()]
                   for n, t in sorted(domain.event_types.items())},
        "aggregates": {n: [sorted(t.__name__ for t in a.command_types),
                           type(a.initial_state).model_json_schema(), a.snapshot_every]
                       for n, a in sorted(domain.aggregates.items())},
        "projections": {n: p.spec.signature for n, p in sorted(domain.projections.items())},
        "process_managers": sorted(domain.process_managers),
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()


def encode_request(command: Command, metadata: dict[str, Any] | None, key: str, *,
                   fresh: bool, trace: dict[str, str] | None = None) -> dict[str, Any]:
    """`fresh`: the key was made for this command and never sent before (no lookup);
    `trace`: the sender's span context, when telemetry is on (`telemetry.carrier`)."""
    request = {"command": type(command).__name__, "data": command.model_dump(mode="json"),
               "metadata": metadata, "key": key, "fresh": fresh}
    if trace:
        request["trace"] = trace
    return request


def dispatch_arguments(request: dict[str, Any]) -> dict[str, Any]:
    """`Application.dispatch_here`'s keywords for a request. A fresh key cannot have been
    recorded: it becomes the command's ids (exactly what the key would make them) and its
    first event's id (as a direct command's id is), without the two lookups of an
    idempotent dispatch; a key sent before is looked up."""
    key, metadata = request["key"], request["metadata"]
    if not request["fresh"]:
        return {"metadata": metadata, "idempotency_key": key}
    ids = {"correlation_id": key, "causation_id": key, "command_id": key}
    return {"metadata": ids | (metadata or {}), "idempotency_key": None, "first_id": key}


def _event(event: RecordedEvent) -> list[Any]:
    return [event.position, event.event_id, event.aggregate_id, event.aggregate_type,
            event.event_type, event.version, event.recorded_at_text, event.data,
            event.metadata_json, event.schema_version]


def encode_result(result: DispatchResult) -> dict[str, Any]:
    if isinstance(result, Accepted):
        return {"accepted": [_event(e) for e in result.events],
                "saga_failures": [p.to_json() for p in result.saga_failures],
                "saga_error": result.saga_error, "replayed": result.replayed}
    if isinstance(result, Rejected):
        return {"rejected": result.reason, "detail": result.detail}
    return {"conflicted": result.aggregate_id, "attempts": result.attempts}


def decode_result(reply: dict[str, Any]) -> DispatchResult:
    """The writer's result as it had it; its error raised as it was raised there."""
    if "error" in reply:
        raise _error(reply)
    if "accepted" in reply:
        return Accepted([RecordedEvent(*row) for row in reply["accepted"]],
                         saga_failures=tuple(ParkedStep(**p) for p in reply["saga_failures"]),
                         saga_error=reply["saga_error"], replayed=reply["replayed"])
    if "rejected" in reply:
        return Rejected(reply["rejected"], reply["detail"])
    return Conflicted(reply["conflicted"], reply["attempts"])


def _plain(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def encode_error(exc: Exception) -> dict[str, Any]:
    attrs = {k: v for k, v in vars(exc).items() if k != "original" and _plain(v)}
    if isinstance(exc, DomainCodeError):
        original = exc.original
        attrs["original"] = [type(original).__name__, [str(a) for a in original.args]]
    return {"error": [type(exc).__module__, type(exc).__qualname__],
            "args": [a if _plain(a) else str(a) for a in exc.args], "attrs": attrs}


def _library_class(module: str, name: str) -> type[IncidentError] | None:
    todo: list[type[IncidentError]] = [IncidentError]
    while todo:
        cls = todo.pop()
        if cls.__module__ == module and cls.__qualname__ == name:
            return cls
        todo.extend(cls.__subclasses__())
    return None


def _builtin(name: str, args: list[Any]) -> Exception:
    found = getattr(builtins, name, None)
    if isinstance(found, type) and issubclass(found, Exception):
        return found(*args)
    return IncidentError(f"{name}: {', '.join(map(str, args))}")


def _error(reply: dict[str, Any]) -> Exception:
    (module, name), args, attrs = reply["error"], reply["args"], reply["attrs"]
    cls = _library_class(module, name)
    if cls is None:
        return _builtin(name, args) if module == "builtins" else IncidentError(*args)
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    if "original" in attrs:
        attrs["original"] = _builtin(*attrs["original"])
    exc.__dict__.update(attrs)
    return exc
