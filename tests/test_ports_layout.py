"""The shape the ports and adapters keep: the ports are model-layer code, the store has no
import cycle inside it, the dialect is an object (never a compared name), and the contract
suite stays out of the core's imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
DIALECT_MODULES = {"incident_core/store/sql/dialect.py", "incident_core/store/sql/sqlite.py",
                   "incident_core/store/sql/postgres.py"}
NAMES = r"""["'](?:sqlite|postgresql|postgres|memory)["']"""
COMPARED = re.compile(rf"(?:==|!=)\s*{NAMES}|{NAMES}\s*(?:==|!=)|\bdialect\.name\b")


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("incident_core")


def test_no_dialect_name_is_compared_outside_the_dialect_modules() -> None:
    found = []
    for package in ("incident_core", "incident_gui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in DIALECT_MODULES:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if COMPARED.search(line):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []


def test_the_ports_import_only_the_model_layer() -> None:
    graph = _graph()
    upward = ("incident_core.engine", "incident_core.store", "incident_core.operations",
              "incident_core.cli", "incident_core.testing", "incident_core.examples")
    found = sorted((module, imported) for module in graph.modules
                   if module.startswith("incident_core.ports")
                   for imported in graph.find_modules_directly_imported_by(module)
                   if imported.startswith(upward))
    assert found == []


def test_no_import_cycle_inside_the_store() -> None:
    graph = _graph()
    store = {m for m in graph.modules if m.startswith("incident_core.store")}
    edges = {m: graph.find_modules_directly_imported_by(m) & store for m in store}

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert sorted(m for m in store if m in reachable(m)) == []


def test_the_store_imports_nothing_above_it() -> None:
    graph = _graph()
    upward = ("incident_core.engine", "incident_core.operations", "incident_core.cli",
              "incident_core.testing")
    found = sorted((module, imported) for module in graph.modules
                   if module.startswith("incident_core.store")
                   for imported in graph.find_modules_directly_imported_by(module)
                   if imported.startswith(upward))
    assert found == []


def test_the_core_never_imports_the_contract_suite_or_pytest() -> None:
    code = ("import sys, incident_core, incident_core.store, incident_core.store.sql.store, "
            "incident_core.engine.application, incident_core.cli.main; "
            "print(sorted(m for m in sys.modules if m == 'pytest' "
            "or m.startswith('incident_core.testing')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
