"""Names a package exports but imports on first use (PEP 562), so importing the package
stays cheap: `incident_core` and `incident_core.store` both export this way."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, Sequence[str]],
                 namespace: MutableMapping[str, Any], exported: list[str],
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`: `where` maps each module to the names it
    gives; a name is imported when first asked for, then kept in the package's namespace."""
    module_of = {name: module for module, names in where.items() for name in names}

    def getattr_(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return exported

    return getattr_, dir_
