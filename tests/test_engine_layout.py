"""The shape the command path keeps: no import cycle anywhere in the core, the engine talks
to the ports (the store is opened in one module), and no module reaches into another's
private names."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
MODEL = ("incident_core.domain", "incident_core.messages", "incident_core.envelope",
         "incident_core.values", "incident_core.errors", "incident_core.progress",
         "incident_core.process", "incident_core.projections", "incident_core.definition_checks",
         "incident_core.ports", "incident_core.ids", "incident_core.telemetry",
         "incident_core.collector")
COMPOSITION_ROOT = ("incident_core.engine.opening", "incident_core.store.open")
CHECKED = ("incident_core/engine", "incident_core/operations", "incident_core/projections",
           "incident_core/domain.py", "incident_core/messages.py", "incident_core/process.py",
           "incident_core/definition_checks.py")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    modules = sorted(m for m in graph.modules if m.startswith("incident_core"))
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules))
             for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_the_core_has_no_import_cycle() -> None:
    """Lazy (function-level) and TYPE_CHECKING imports count too."""
    assert _cycles(grimp.build_graph("incident_core", cache_dir=None)) == []


def test_the_engine_imports_only_the_model_layer_and_the_ports() -> None:
    graph = grimp.build_graph("incident_core", cache_dir=None)
    found = sorted(
        (module, imported) for module in graph.modules
        if module.startswith("incident_core.engine")
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("incident_core.") and not imported.startswith(
            ("incident_core.engine", *MODEL)) and (module, imported) != COMPOSITION_ROOT)
    assert found == []


# the standard library's documented names that start with an underscore
STDLIB_PRIVATE = {"os._exit"}


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"{path}:{node.lineno}: from {node.module} import {alias.name}"
                      for alias in node.names if _private(alias.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")) \
                    and ast.unparse(node) not in STDLIB_PRIVATE:
                found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_calls_another_modules_private_names() -> None:
    found = []
    for part in CHECKED:
        target = ROOT / part
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            found += _private_uses(path)
    assert found == []
