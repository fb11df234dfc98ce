"""What every subcommand needs: the target, the domain, the store opened as it should be."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from incident_core.cli.output import (
    DEFAULT_DB,
    DEFAULT_DOMAIN,
    STORE,
    USAGE,
    Exit,
    say,
)

if TYPE_CHECKING:
    from incident_core.domain import Domain
    from incident_core.engine.application import Application
    from incident_core.ports import EventStore


# -- targets, domains, stores ----------------------------------------------------------------
def target_of(args: argparse.Namespace) -> str:
    return str(getattr(args, "db", None) or os.environ.get("INCIDENT_DB") or DEFAULT_DB)


def shown(target: str) -> str:
    from incident_core.store.open import describe_target

    return describe_target(target)


def load_domain(args: argparse.Namespace) -> Domain:
    """Import the `--domain MODULE:ATTR` (after putting `--domain-path` dirs on sys.path).
    Without one: the domain the store records it belongs to, else (a new or unbound store)
    the bank example."""
    for folder in reversed(getattr(args, "domain_path", None) or []):
        sys.path.insert(0, os.path.abspath(folder))
    spec = getattr(args, "domain", None) or os.environ.get("INCIDENT_DOMAIN")
    if spec:
        args.domain_spec = spec
        return _import_domain(spec)
    from incident_core.engine.binding import peek_binding

    binding = peek_binding(target_of(args))
    args.domain_spec = DEFAULT_DOMAIN
    if binding is None or binding.module is None or binding.module == DEFAULT_DOMAIN:
        return _import_domain(DEFAULT_DOMAIN)
    args.domain_spec = binding.module
    try:
        return _import_domain(binding.module)
    except Exit as exc:
        raise Exit(USAGE, f"{shown(target_of(args))} belongs to domain "
                          f"{binding.describe()}, which cannot be loaded here ({exc}); pass "
                          "--domain MODULE:ATTR (and --domain-path DIR)") from None


def _import_domain(spec: str) -> Domain:
    from incident_core.domain import Domain
    from incident_core.engine.application import DomainCodeError

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
    """Open with `domain`: a write to a store of another domain is refused (exit 4), a read
    warns; a read of a projection whose row model changed says how to rebuild it (exit 4)."""
    from incident_core.engine.binding import open_application, stale_message

    opened = open_application(target_of(args), domain, module=getattr(args, "domain_spec", None),
                              read_only=read_only, create=create, synchronous=synchronous)
    for warning in opened.warnings:
        say(f"warning: {warning}")
    name = getattr(args, "name", None)
    if name in opened.stale and getattr(args, "command", None) != "verify":
        opened.app.close()
        raise Exit(STORE, stale_message(str(name)),
                   {"ok": False, "error": "projection_changed", "name": name})
    for stale in opened.stale:
        if getattr(args, "command", None) != "verify":
            say(f"warning: {stale_message(stale)}")
    return opened.app


def open_read_only(args: argparse.Namespace) -> EventStore:
    from incident_core.store.open import open_store

    return open_store(target_of(args), read_only=True)


def sqlite_path(target: str) -> str | None:
    """The file of a SQLite target (None for memory: and server URLs)."""
    from incident_core.store.open import sqlite_file

    return sqlite_file(target)


def watch_locks(args: argparse.Namespace) -> None:
    """Honour --lock-timeout, and say after a second what a writer is waiting for."""
    from incident_core.store.sql.lock_wait import lock_timeout, on_lock_wait, set_lock_timeout

    timeout = getattr(args, "lock_timeout", None)
    if timeout is not None:
        set_lock_timeout(timeout)
    on_lock_wait(lambda what, waited: say(f"waiting for {what}; giving up after "
                                          f"{lock_timeout():g}s (--lock-timeout)"))
