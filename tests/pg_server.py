"""Throwaway PostgreSQL clusters for tests.

``PostgresServer`` runs ``initdb`` into a temporary directory and starts a private
postmaster on 127.0.0.1 with a free port, its unix socket inside that directory. Durability
settings are left at their defaults (``fsync`` stays on): only ``initdb --no-sync`` is used,
which skips flushing the freshly created template files and does not change how the
running server writes.

PostgreSQL refuses to run as root. When the current process is root, the cluster is owned
by and run as a system user: ``postgres`` if it exists, otherwise ``incident-pg`` (created
with ``useradd --system`` on first use). Commands are run through ``runuser -u USER --``,
or ``su`` where ``runuser`` is missing.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

__all__ = [
    "PostgresBinaries",
    "PostgresServer",
    "PostgresServerError",
    "find_postgres_binaries",
    "postgres_available",
    "to_libpq_url",
]

FALLBACK_SYSTEM_USER = "incident-pg"
"""System user created to own the cluster when running as root and ``postgres`` is absent."""

PREFERRED_SYSTEM_USER = "postgres"

_DEBIAN_GLOB_ROOT = Path("/usr/lib/postgresql")
_REQUIRED = ("initdb", "pg_ctl", "postgres")
_START_ATTEMPTS = 3
_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresServerError(RuntimeError):
    """A throwaway cluster could not be created, started or stopped."""


class PostgresBinaries:
    """The directory holding one PostgreSQL installation's ``initdb``, ``pg_ctl``, ``postgres``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir

    def __repr__(self) -> str:
        return f"PostgresBinaries({str(self.bindir)!r})"

    def path(self, name: str) -> str:
        return str(self.bindir / name)

    @property
    def initdb(self) -> str:
        return self.path("initdb")

    @property
    def pg_ctl(self) -> str:
        return self.path("pg_ctl")

    @property
    def postgres(self) -> str:
        return self.path("postgres")


def _is_complete_bindir(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in _REQUIRED)


def _version_key(directory: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin -> numeric version, so 15 sorts above 9.6.
    parts = re.findall(r"\d+", directory.parent.name)
    return tuple(int(part) for part in parts) or (-1,)


def find_postgres_binaries() -> PostgresBinaries | None:
    """Locate a matching ``initdb``/``pg_ctl``/``postgres`` triple.

    ``initdb`` on ``PATH`` wins (symlinks are resolved, so Debian's ``/usr/local/bin``
    links lead to the real bin directory, which must hold all three); otherwise the newest
    ``/usr/lib/postgresql/*/bin`` that holds all three.
    """
    on_path = shutil.which("initdb")
    if on_path is not None:
        real_dir = Path(on_path).resolve().parent
        if _is_complete_bindir(real_dir):
            return PostgresBinaries(real_dir)
        path_dir = Path(on_path).parent
        if _is_complete_bindir(path_dir):
            return PostgresBinaries(path_dir)
    candidates = [
        bindir for bindir in _DEBIAN_GLOB_ROOT.glob("*/bin") if _is_complete_bindir(bindir)
    ]
    if not candidates:
        return None
    return PostgresBinaries(max(candidates, key=_version_key))


def _privilege_helper() -> str | None:
    return shutil.which("runuser") or shutil.which("su")


def postgres_available() -> str | None:
    """Return ``None`` if a throwaway server can be started here, else the reason why not."""
    if find_postgres_binaries() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH "
            f"or under {_DEBIAN_GLOB_ROOT}/*/bin; install e.g. the Debian package "
            "'postgresql'"
        )
    if os.geteuid() == 0:
        if _privilege_helper() is None:
            return "running as root but neither 'runuser' nor 'su' is available"
        no_user = not _user_exists(PREFERRED_SYSTEM_USER) and not _user_exists(FALLBACK_SYSTEM_USER)
        if no_user and shutil.which("useradd") is None:
            return (
                f"running as root, no '{PREFERRED_SYSTEM_USER}' user and no 'useradd' "
                f"to create '{FALLBACK_SYSTEM_USER}'"
            )
    return None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_system_user(
    preferred: str | None = PREFERRED_SYSTEM_USER, fallback: str = FALLBACK_SYSTEM_USER
) -> str:
    """Return a non-root user to run PostgreSQL as, creating ``fallback`` if needed."""
    if preferred is not None and _user_exists(preferred):
        return preferred
    if _user_exists(fallback):
        return fallback
    useradd = shutil.which("useradd")
    if useradd is None:
        raise PostgresServerError(f"cannot create system user {fallback!r}: no 'useradd'")
    nologin = shutil.which("nologin") or "/bin/false"
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", nologin, fallback],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit code 9: the user appeared meanwhile (another test process created it).
    if result.returncode not in (0, 9) or not _user_exists(fallback):
        raise PostgresServerError(
            f"useradd {fallback!r} failed ({result.returncode}): {result.stderr.strip()}"
        )
    return fallback


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _world_traversable(directory: Path) -> bool:
    """True if every ancestor of ``directory`` can be entered by an unprivileged user."""
    return all(part.stat().st_mode & 0o001 for part in [directory, *directory.parents])


def to_libpq_url(url: str) -> str:
    """Turn a SQLAlchemy ``postgresql+driver://`` URL into one libpq/psycopg accepts."""
    return re.sub(r"^postgresql\+[A-Za-z0-9_]+://", "postgresql://", url)


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory, for the length of a test run.

    Usage::

        with PostgresServer() as server:
            url = server.create_database("events")  # postgresql+psycopg://...
    """

    def __init__(
        self,
        *,
        binaries: PostgresBinaries | None = None,
        run_as: str | None = None,
        startup_timeout: float = 30.0,
        max_connections: int = 100,
    ) -> None:
        self._binaries = binaries
        self._run_as = run_as
        self._startup_timeout = startup_timeout
        self._max_connections = max_connections
        self._tmpdir: Path | None = None
        self._port: int | None = None
        self._running = False
        self.user = "postgres"
        """The database superuser (``initdb -U``), not the operating-system user."""

    # -- properties ------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None or not self._running:
            raise PostgresServerError("server is not running")
        return self._port

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` maintenance database."""
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string for ``psycopg.connect``."""
        return to_libpq_url(self.url_for(dbname))

    @property
    def data_dir(self) -> Path:
        if self._tmpdir is None:
            raise PostgresServerError("server was never started")
        return self._tmpdir / "data"

    @property
    def log_file(self) -> Path:
        if self._tmpdir is None:
            raise PostgresServerError("server was never started")
        return self._tmpdir / "postgres.log"

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> PostgresServer:
        if self._running:
            return self
        binaries = self._binaries or find_postgres_binaries()
        if binaries is None:
            raise PostgresServerError(postgres_available() or "PostgreSQL binaries not found")
        self._binaries = binaries
        if os.geteuid() == 0 and self._run_as is None:
            self._run_as = ensure_system_user()
        try:
            self._make_tmpdir()
            self._initdb()
            self._start_postmaster()
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server immediately (no shutdown checkpoint) and delete its files."""
        atexit.unregister(self.stop)
        tmpdir, self._tmpdir = self._tmpdir, None
        # postmaster.pid also covers a postmaster left behind by a failed or timed-out start.
        if (
            tmpdir is not None
            and self._binaries is not None
            and (self._running or (tmpdir / "data" / "postmaster.pid").exists())
        ):
            self._running = False
            result = self._run(
                [
                    self._binaries.pg_ctl,
                    "stop",
                    "-D",
                    str(tmpdir / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    "30",
                ],
                cwd=tmpdir,
            )
            if result.returncode != 0:
                self._kill_postmaster(tmpdir / "data")
        self._running = False
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh, empty database and return its SQLAlchemy URL."""
        if name is None:
            name = f"test_{uuid.uuid4().hex[:16]}"
        self._check_identifier(name)
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting any sessions still using it."""
        self._check_identifier(name)
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    @staticmethod
    def _check_identifier(name: str) -> None:
        if not _IDENT_RE.match(name) or name in ("postgres", "template0", "template1"):
            raise ValueError(f"unsuitable test database name: {name!r}")

    # -- internals -------------------------------------------------------------------

    def _command(self, argv: list[str]) -> list[str]:
        if self._run_as is None:
            return argv
        runuser = shutil.which("runuser")
        if runuser is not None:
            return [runuser, "-u", self._run_as, "--", *argv]
        su = shutil.which("su")
        if su is None:
            raise PostgresServerError("running as root but neither 'runuser' nor 'su' found")
        return [su, "-s", "/bin/sh", self._run_as, "-c", shlex.join(argv)]

    def _run(self, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        # cwd inside the cluster's directory: the unprivileged user may not be able to enter
        # the caller's working directory.
        return subprocess.run(
            self._command(argv),
            cwd=cwd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def _run_checked(self, argv: list[str], cwd: Path, what: str) -> None:
        result = self._run(argv, cwd)
        if result.returncode != 0:
            raise PostgresServerError(
                f"{what} failed with exit code {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}".rstrip()
            )

    def _make_tmpdir(self) -> None:
        parent: str | None = None
        if self._run_as is not None and not _world_traversable(Path(tempfile.gettempdir())):
            parent = "/tmp"
        # Keep the path short: the unix socket lives inside it (sun_path is ~107 bytes).
        tmpdir = Path(tempfile.mkdtemp(prefix="incident-pg-", dir=parent))
        self._tmpdir = tmpdir
        (tmpdir / "socket").mkdir()
        if self._run_as is not None:
            for path in (tmpdir, tmpdir / "socket"):
                shutil.chown(path, user=self._run_as, group=self._user_group(self._run_as))

    @staticmethod
    def _user_group(user: str) -> int:
        return pwd.getpwnam(user).pw_gid

    def _initdb(self) -> None:
        assert self._binaries is not None and self._tmpdir is not None
        self._run_checked(
            [
                self._binaries.initdb,
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            cwd=self._tmpdir,
            what="initdb",
        )

    def _write_settings(self, port: int) -> None:
        assert self._tmpdir is not None
        socket_dir = str(self._tmpdir / "socket").replace("'", "''")
        settings = (
            "\n# Added by tests/pg_server.py\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {port}\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            f"max_connections = {self._max_connections}\n"
        )
        # postgresql.auto.conf is read last, so a rewrite here overrides earlier attempts.
        # Written in place (not replaced) so that the file keeps its owner.
        auto_conf = self.data_dir / "postgresql.auto.conf"
        with auto_conf.open("w", encoding="utf-8") as handle:
            handle.write("# Do not edit this file manually!\n" + settings)

    def _start_postmaster(self) -> None:
        assert self._binaries is not None and self._tmpdir is not None
        last_error = ""
        for _attempt in range(_START_ATTEMPTS):
            port = _free_port()
            self._write_settings(port)
            result = self._run(
                [
                    self._binaries.pg_ctl,
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(int(self._startup_timeout)),
                ],
                cwd=self._tmpdir,
            )
            if result.returncode == 0:
                self._port = port
                self._running = True
                return
            log = self._read_log()
            last_error = f"{result.stdout}\n{result.stderr}\n{log}".strip()
            # Another process may have taken the port between bind(0) and the postmaster's
            # bind; try again with a new one. Anything else is a real failure.
            if "could not bind" not in log and "Address already in use" not in log:
                break
        raise PostgresServerError(f"pg_ctl start failed:\n{last_error}")

    def _read_log(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        last_error: psycopg.Error | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as error:
                last_error = error
                time.sleep(0.1)
        raise PostgresServerError(
            f"server on port {self._port} not ready after {self._startup_timeout:.0f} s: "
            f"{last_error}\n{self._read_log()}"
        )

    @staticmethod
    def _kill_postmaster(data_dir: Path) -> None:
        """Last resort if ``pg_ctl stop`` failed: SIGQUIT the postmaster from its pid file."""
        try:
            first_line = (data_dir / "postmaster.pid").read_text().splitlines()[0]
            os.kill(int(first_line), signal.SIGQUIT)
        except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
            return
