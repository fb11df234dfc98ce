"""The core never imports Qt: checked by import-linter and by a clean interpreter."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_the_core_and_cli_loads_no_qt() -> None:
    code = ("import sys, incident_core, incident_core.cli, incident_core.examples.bank, "
            "incident_core.store.sql.store; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', "
            "'incident_gui')]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert f"Contracts: {len(contracts['contracts'])} kept, 0 broken" in result.stdout


# Private names a module may use although it does not define them: the standard library's
# and SQLAlchemy's documented underscore APIs.
FOREIGN_PRIVATE_OK = {"_exit", "_getframe", "_replace", "_asdict", "_fields", "_make",
                      "_mapping", "_SubParsersAction", "_missing_", "_value_", "_name_"}


def _names_defined_in(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _private_uses(path: Path) -> list[str]:
    """`from m import _x` of our modules, and `obj._x` where this module defines no `_x`."""
    tree = ast.parse(path.read_text())
    own = _names_defined_in(tree) | FOREIGN_PRIVATE_OK
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("incident_"):
            uses += [f"from {node.module} import {a.name}" for a in node.names
                     if a.name.startswith("_") and not a.name.startswith("__")]
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("_")
              and not node.attr.startswith("__") and node.attr not in own
              and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            uses.append(ast.unparse(node))
    return [f"{path.relative_to(ROOT)}: {use}" for use in uses]


def test_no_module_uses_another_modules_private_names() -> None:
    uses = [use for package in ("incident_core", "incident_gui")
            for path in sorted((ROOT / package).rglob("*.py")) for use in _private_uses(path)]
    assert uses == []
