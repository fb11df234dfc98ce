"""Which domain a store belongs to, and opening an application that respects it.

The first write to a store (``incident init`` included) records the domain's name and, for
display and for loading it again, the ``module:attribute`` it was loaded from, in the
store's metadata. Afterwards a different domain may read the store (with a warning) but
never write it: its commands would record foreign events and create its projection tables
in someone else's store. An old store without the record is bound by its first write,
unless the domain knows none of the event types the store holds.

Opening also finds projections whose row model changed since their table was made (the
fingerprint of the row shape is kept with the projection's checkpoint): a read-only open
reports them (``incident rebuild NAME`` fixes them); a read-write open rebuilds them from
the log before anything else happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from incident_core.errors import StoreError
from incident_core.store.open import open_store

if TYPE_CHECKING:
    from incident_core.domain import Domain
    from incident_core.engine.application import Application
    from incident_core.ports import EventStore

__all__ = [
    "DomainBinding",
    "DomainMismatchError",
    "Opened",
    "binding_of",
    "check_domain",
    "open_application",
    "peek_binding",
    "stale_projections",
]

NAME_KEY = "domain"
MODULE_KEY = "domain_module"


class DomainMismatchError(StoreError):
    """The store belongs to another domain (or holds events this domain does not know)."""


@dataclass(frozen=True, slots=True)
class DomainBinding:
    """The domain a store was first written with."""

    name: str
    module: str | None = None

    def describe(self) -> str:
        return f"{self.name!r}" + (f" ({self.module})" if self.module else "")


@dataclass
class Opened:
    """An application opened by `open_application`, with what the opening found."""

    app: Application
    warnings: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # projections whose row model changed


def binding_of(store: EventStore) -> DomainBinding | None:
    meta = store.meta()
    name = meta.get(NAME_KEY)
    return None if not name else DomainBinding(name, meta.get(MODULE_KEY) or None)


def peek_binding(target: str) -> DomainBinding | None:
    """The binding of the store at `target`, read-only; None when there is no readable
    store there (opening it for real reports why)."""
    try:
        store = open_store(target, read_only=True)
    except StoreError:
        return None
    with store:
        return binding_of(store)


def check_domain(store: EventStore, domain: Domain, *, module: str | None,
                 writing: bool) -> str | None:
    """Bind an unbound store on a write; refuse a write with another domain (raise
    DomainMismatchError); return a warning for a read with another domain."""
    binding = binding_of(store)
    if binding is None:
        if not writing:  # an old store, read as it is (no scan of its event types)
            return None
        held = store.event_types()
        if held and not any(domain.knows_event(t) for t in held):  # a few legacy types pass
            shown = ", ".join(held[:3]) + (", …" if len(held) > 3 else "")
            raise DomainMismatchError(
                f"{store.target} holds only events domain {domain.name!r} does not know "
                f"({shown}); refusing to write it: pass the --domain it was written with")
        values = {NAME_KEY: domain.name} | ({MODULE_KEY: module} if module else {})
        store.add_meta(values)
        binding = binding_of(store)
        assert binding is not None
    if binding.name == domain.name:
        return None
    problem = (f"{store.target} belongs to domain {binding.describe()}, "
               f"not {domain.name!r}")
    if writing:
        hint = binding.module or "MODULE:ATTR"
        raise DomainMismatchError(f"{problem}; refusing to write it (pass --domain {hint})")
    return problem


def stale_projections(store: EventStore, domain: Domain) -> list[str]:
    """Projections whose table was made for a different row model than the domain's."""
    signatures = store.projection_signatures()
    return sorted(name for name, projection in domain.projections.items()
                  if signatures.get(name) and signatures[name] != projection.spec.signature)


def stale_message(name: str) -> str:
    return (f"projection {name}: its row model changed since its table was made; "
            f"`incident rebuild {name}` rebuilds it from the log")


def open_application(target: str, domain: Domain, *, module: str | None = None,
                     read_only: bool = False, create: bool = False,
                     synchronous: str = "FULL") -> Opened:
    """Open `target` with `domain`, checking (and on a write, recording) the binding."""
    from incident_core.engine.application import Application

    store = open_store(target, read_only=read_only, create=create, synchronous=synchronous)
    try:
        warning = check_domain(store, domain, module=module, writing=not read_only)
        stale = stale_projections(store, domain)
        app = Application(store, domain)
    except BaseException:
        store.close()
        raise
    warnings = [warning] if warning else []
    if not read_only:  # Application's opening rebuilt them from the log
        warnings += [f"projection {name}: its row model changed since its table was made; "
                     "rebuilt it from the log" for name in stale]
        stale = []
    return Opened(app, warnings, stale)
