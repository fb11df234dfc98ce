"""An open store: the `Application` the inspector looks at, how it was opened, and the
domain it was opened with. No Qt here: opening and domain loading are plain Python."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from incident_core import Application, Domain, IncidentError
from incident_core.engine.binding import open_application, peek_binding
from incident_core.store.open import describe_target, is_memory, is_url

__all__ = [
    "DEFAULT_DOMAIN",
    "DomainLoadError",
    "Session",
    "add_domain_path",
    "demo_store_path",
    "load_domain",
    "open_session",
    "recent_entry",
]

DEFAULT_DOMAIN = "incident_core.examples.bank:domain"
DEMO_FILE = "demo-bank.sqlite3"


class DomainLoadError(IncidentError):
    """`--domain module:attr` does not name a loadable Domain."""


@dataclass
class Session:
    """The store the window shows."""

    app: Application
    target: str
    read_only: bool
    domain_spec: str
    warnings: list[str] = field(default_factory=list)  # e.g. a store of another domain
    stale: list[str] = field(default_factory=list)  # projections whose row model changed

    @property
    def label(self) -> str:
        return describe_target(self.target)

    def close(self) -> None:
        self.app.close()


def recent_entry(target: str) -> str | None:
    """How a target is remembered among recent stores: never `memory:`, never a password
    (a server URL is kept without it; libpq finds it in ~/.pgpass or PGPASSWORD)."""
    if is_memory(target):
        return None
    if not is_url(target):
        return str(Path(target).expanduser().resolve())
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(target)
    except ArgumentError:
        return None
    bare = URL.create(url.drivername, username=url.username, host=url.host, port=url.port,
                      database=url.database, query=url.query)
    return bare.render_as_string(hide_password=False)


def add_domain_path(folder: str) -> None:
    """`--domain-path DIR`: let `--domain` import modules from DIR."""
    path = str(Path(folder).expanduser().resolve())
    if not Path(path).is_dir():
        raise DomainLoadError(f"--domain-path {folder}: no such folder")
    if path not in sys.path:
        sys.path.insert(0, path)


def load_domain(spec: str | None) -> Domain:
    """Import `package.module:attr` and return the Domain it names (default: the bank)."""
    spec = spec or DEFAULT_DOMAIN
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise DomainLoadError(f"--domain {spec!r}: expected package.module:attribute")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may raise anything while importing
        raise DomainLoadError(f"cannot import domain module {module_name!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
    value = getattr(module, attr, None)
    if value is None:
        raise DomainLoadError(f"module {module_name!r} has no attribute {attr!r}")
    if callable(value) and not isinstance(value, Domain):
        value = value()
    if not isinstance(value, Domain):
        raise DomainLoadError(f"{spec} is a {type(value).__name__}, not an incident Domain")
    return value


def open_session(target: str, *, domain_spec: str | None = None, read_only: bool = False,
                 create: bool = False) -> Session:
    """Open `target` with the domain (raises IncidentError subclasses with clear messages).
    Without a domain: the one the store records it belongs to, else the bank. Writing a
    store of another domain is refused (DomainMismatchError); reading it gives a warning."""
    if domain_spec is None:
        binding = peek_binding(target)
        if binding is not None and binding.module is not None:
            domain_spec = binding.module
    spec = domain_spec or DEFAULT_DOMAIN
    domain = load_domain(spec)
    opened = open_application(target, domain, module=spec, read_only=read_only,
                              create=create)
    return Session(opened.app, target, read_only, spec, opened.warnings, opened.stale)


def demo_store_path() -> Path:
    """Where the demo bank store lives: the user's data folder for incident."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("incident")) / DEMO_FILE
