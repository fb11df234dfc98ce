"""The shared writer's serving side (`incident_core.engine.shared_writer`): the elected
writer's Unix socket, a thread per follower connection, each dispatching what it receives in
the writer's application (concurrent dispatches share commits through its group commit) and
answering only after the durable commit."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any, Protocol

from incident_core import telemetry
from incident_core.domain import Command, Domain
from incident_core.engine import writer_protocol as wire
from incident_core.engine.listeners import Listeners
from incident_core.engine.results import DispatchResult

__all__ = ["Host", "Server"]


class Host(Protocol):
    """The application a shared writer dispatches in (`Application`)."""

    listeners: Listeners

    @property
    def domain(self) -> Domain: ...

    def dispatch_here(self, command: Command, *, metadata: dict[str, Any] | None = None,
                      idempotency_key: str | None = None) -> DispatchResult: ...


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer runs as this process's user (Linux's SO_PEERCRED: pid, uid, gid)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


class Server:
    """The writer's socket: a thread per follower connection, each dispatching in the host
    (concurrent dispatches share commits through its group commit)."""

    def __init__(self, host: Host, address: str, fingerprint: Callable[[], str]) -> None:
        self.host = host
        self.address = address
        self._fingerprint = fingerprint
        if not address.startswith("\0"):
            with contextlib.suppress(FileNotFoundError):  # a killed writer's: we hold the lock
                os.unlink(address)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(128)
        self._conns: list[tuple[socket.socket, threading.Thread]] = []
        self._guard = threading.Lock()
        self._closed = False
        self._accepter = threading.Thread(target=self._accept, name="incident-writer",
                                          daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                      name="incident-writer-conn")
            with self._guard:
                if self._closed:
                    conn.close()
                    return
                self._conns.append((conn, thread))
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        """Answer one follower until it goes (or sends what is not this protocol). Only
        processes of this user are served (an abstract socket has no file permissions);
        another user's process finds the connection closed and writes directly."""
        with conn, contextlib.suppress(Exception):
            if not _same_user(conn):
                return
            hello = wire.receive(conn)
            same = hello.get("hello") == self._fingerprint()
            wire.send(conn, {"same": same})
            while same:
                wire.send(conn, self._handle(wire.receive(conn)))

    def _handle(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            command = self.host.domain.parse_command(request["command"], request["data"])
            result = telemetry.forwarded(  # the follower's trace, when it sent one
                request.get("trace"), self.host, command,
                lambda: self.host.dispatch_here(command, **wire.dispatch_arguments(request)))
        except Exception as exc:  # the library's errors, domain errors: the caller's to see
            return wire.encode_error(exc)
        return wire.encode_result(result)

    def close(self) -> None:
        """Stop accepting; let each connection finish the command it is running."""
        with self._guard:
            self._closed = True
            conns = list(self._conns)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._accepter.join(timeout=5)
        for conn, _ in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RD)
        for _, thread in conns:
            thread.join(timeout=30)
        if not self.address.startswith("\0"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.address)
