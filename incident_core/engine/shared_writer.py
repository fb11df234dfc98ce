"""One writer per SQLite store, shared by the processes that open it with `shared_writer=True`,
so their commands share durable commits (`incident_core.engine.group_commit`) instead of
taking turns on the file's write lock, one fsync each.

Elected, not configured: each process tries an exclusive `flock` on `<store>.writer.lock`.
The winner serves a Unix socket (`<store>.writer.sock`; an abstract socket named after the
store's real path when that path is too long for AF_UNIX) and dispatches what it receives in
its own application (`incident_core.engine.writer_server`; its listeners hear those commits
too). The others forward each dispatch there, after a handshake that checks
both run the same domain (`writer_protocol.fingerprint`; on a mismatch they write directly).

Exactly once: every forwarded command carries an idempotency key (the caller's, or a fresh
one), and the writer answers only after the durable commit. When the writer dies (kill -9)
the OS releases its lock and closes its sockets; the follower sends the same command again,
to a new writer, or (after winning the lock itself, or finding no writer) in its own
application: it gets the recorded events (the first attempt committed) or a fresh commit,
never a second copy. Writing directly is always safe (SQLite serialises writers), so a
follower never waits for an election. A follower's listeners hear its forwarded commands.
A follower waits for its writer's answer as long as that process lives (as a direct writer
waits for the write lock, but without its timeout: an answer that came late would be a
command reported failed and committed anyway). So a stopped writer (SIGSTOP, a debugger)
blocks its followers' forwarded commands until it continues (they get its answers) or dies
(they send them again by key: recorded once); it may be holding the store's write lock with
their batch open, so no one could commit meanwhile anyway. Only this user's processes are
served.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import socket
import threading
import weakref
from typing import Any

from incident_core import telemetry
from incident_core.domain import Command
from incident_core.engine import writer_protocol as wire
from incident_core.engine.results import DispatchResult
from incident_core.engine.writer_server import Host, Server
from incident_core.errors import IncidentError
from incident_core.ids import new_id
from incident_core.process import Accepted

__all__ = ["Host", "SharedWriter", "socket_address"]

_SUN_PATH_MAX = 100  # sockaddr_un holds 108 bytes, the last one a NUL
_RETRIES = 3  # forwarding attempts after a lost writer, before writing directly


def socket_address(store_path: str) -> str:
    """`<store>.writer.sock`, or an abstract address when that path is too long."""
    real = os.path.realpath(store_path)
    path = real + ".writer.sock"
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        return path
    return "\0incident-writer-" + hashlib.sha256(os.fsencode(real)).hexdigest()[:40]


class _Link:
    """A connection to the writer, used by one dispatch at a time (None socket: the
    writer's domain differs, so the dispatch is written here)."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.sock is not None
        wire.send(self.sock, request)
        return wire.receive(self.sock)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


def _after_fork_in_child() -> None:
    """A forked child holds copies of its parent's lock and sockets, but none of its
    threads: it lets go of them (the parent keeps the lock) and writes directly."""
    for writer in list(_OPEN):
        writer.forget()


class SharedWriter:
    """The shared-writer side of one application (see the module)."""

    def __init__(self, host: Host, store_path: str) -> None:
        self.host = host
        real = os.path.realpath(store_path)
        self.address = socket_address(real)
        self._lock_fd = os.open(real + ".writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                0o644)
        self._fingerprint: str | None = None
        self._server: Server | None = None
        self._guard = threading.Lock()
        self._links: list[_Link] = []  # every connection to the writer
        self._idle: list[_Link] = []  # those no dispatch is using now
        self.forwarded = 0  # commands this process had another process's writer commit
        self.resent = 0  # commands sent again after their writer was lost
        _OPEN.add(self)
        self._elect()

    @classmethod
    def for_target(cls, host: Host, target: str) -> SharedWriter | None:
        """The shared writer of a SQLite file target; None for other targets (memory:,
        URLs), or when the lock file cannot be made next to the store (read-only folder):
        then the application writes directly, as without it."""
        if "://" in target or target in ("memory:", ":memory:"):
            return None
        try:
            return cls(host, os.path.expanduser(target))
        except OSError:
            return None

    @property
    def serving(self) -> bool:
        """Whether this process is the store's writer."""
        return self._server is not None

    @property
    def connections(self) -> int:
        """Open connections to another process's writer (at most one per concurrent
        dispatch so far)."""
        with self._guard:
            return len(self._links)

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = wire.fingerprint(self.host.domain)
        return self._fingerprint

    def _elect(self) -> bool:
        """Take the writer's lock if it is free, and serve; whether this process serves."""
        with self._guard:
            if self._server is None and self._lock_fd >= 0:
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                try:
                    self._server = Server(self.host, self.address, lambda: self.fingerprint)
                except OSError:  # no socket here: everyone writes directly
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            return self._server is not None

    def dispatch(self, command: Command, metadata: dict[str, Any] | None,
                 key: str | None) -> DispatchResult:
        """The command dispatched by the store's writer (this process, or another one)."""
        if self._server is not None:
            return self.host.dispatch_here(command, metadata=metadata, idempotency_key=key)
        sent_key = key if key is not None else new_id()
        request = self._request(command, metadata, sent_key, fresh=key is None)
        if request is not None:
            result = self._forward(request)
            if result is not None:
                return self._own(result, key)
        self._elect()  # a dead writer's lock is free: serve from now on
        if request is None:
            return self.host.dispatch_here(command, metadata=metadata, idempotency_key=key)
        return self._own(self.host.dispatch_here(command, **wire.dispatch_arguments(request)),
                         key)

    def _forward(self, request: dict[str, Any]) -> DispatchResult | None:
        """The writer's result; None when there is no writer of this domain to reach."""
        for _attempt in range(_RETRIES):
            link = self._take() if self._server is None else None
            if link is None or link.sock is None:  # no writer, or one of another domain
                if link is not None:
                    self._give(link)
                return None
            try:
                reply = link.call(request)
            except (OSError, ValueError):  # the writer died or closed: send it to the next
                self._drop(link)
                self.resent += 1
                request["fresh"] = False  # it may have been committed: look the key up
                continue
            except BaseException:  # interrupted: its reply must never be read as another's
                self._drop(link)
                raise
            self._give(link)
            return self._received(reply)
        return None

    def _own(self, result: DispatchResult, key: str | None) -> DispatchResult:
        """With a key of our own, `replayed` can only be our own earlier attempt (sent to a
        writer that died after its commit): for the caller it is this dispatch's commit."""
        if key is None and isinstance(result, Accepted) and result.replayed:
            self.host.listeners.notify(result.events)
            return dataclasses.replace(result, replayed=False)
        return result

    def _request(self, command: Command, metadata: dict[str, Any] | None, key: str, *,
                 fresh: bool) -> dict[str, Any] | None:
        """What to send; None when the metadata is not JSON or the command would not come
        back equal (then it is written here, as without the shared writer)."""
        try:
            request = wire.encode_request(command, metadata, key, fresh=fresh,
                                          trace=telemetry.carrier())
            json.dumps(request)
            same = self.host.domain.parse_command(request["command"], request["data"])
        except (TypeError, ValueError, IncidentError):
            return None
        return request if same == command else None

    def _received(self, reply: dict[str, Any]) -> DispatchResult:
        self.forwarded += 1
        result = wire.decode_result(reply)  # or the writer's error, raised
        if isinstance(result, Accepted) and not result.replayed:
            self.host.listeners.notify(result.events)
        return result

    def _take(self) -> _Link | None:
        """An idle connection to the writer, or a new one (one per concurrent dispatch, so
        threads that come and go leave no sockets behind); None when there is no writer."""
        with self._guard:
            if self._idle:
                return self._idle.pop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.address)
            link = _Link(sock)
            if not link.call({"hello": self.fingerprint})["same"]:
                sock.close()
                link = _Link(None)
        except (OSError, ValueError):
            sock.close()
            return None
        with self._guard:
            self._links.append(link)
        return link

    def _give(self, link: _Link) -> None:
        with self._guard:
            self._idle.append(link)

    def _drop(self, link: _Link) -> None:
        link.close()
        with self._guard, contextlib.suppress(ValueError):
            self._links.remove(link)

    def forget(self) -> None:
        """In a forked child: close the inherited copies, serve and forward nothing."""
        server, self._server = self._server, None
        if server is not None:
            server.sock.close()
        for link in self._links:
            link.close()
        self._links, self._idle = [], []
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # the parent's copy keeps the lock
            self._lock_fd = -1

    def close(self) -> None:
        """Stop serving (followers take over) and close every connection."""
        with self._guard:
            server, self._server = self._server, None
            links, self._links, self._idle = self._links, [], []
        if server is not None:
            server.close()
        for link in links:
            link.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the writer's lock
            self._lock_fd = -1


_OPEN: weakref.WeakSet[SharedWriter] = weakref.WeakSet()
os.register_at_fork(after_in_child=_after_fork_in_child)
