"""The PyInstaller bundle's inputs, checked cheaply (the real build runs in `.ci/bundle`).

The spec, its filter rules and the bundle checker are read here without PyInstaller (it is
not in the dev venv): the spec is parsed, its literal lists are checked against what the
inspector imports, and the filter's keep/prune rules are run on made-up TOC entries.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
BUNDLE_DIR = ROOT / "resources" / "pyinstaller"
SPEC = BUNDLE_DIR / "incident-inspector.spec"
BUILD_COMMAND = (
    "python3 -m venv --clear build/bundle-venv && build/bundle-venv/bin/pip install -q "
    "-c constraints.txt '.[gui]' -r resources/requirements-bundle.txt && "
    "build/bundle-venv/bin/pyinstaller --noconfirm --workpath build/pyinstaller --distpath dist "
    "resources/pyinstaller/incident-inspector.spec")


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bundle_{name}", BUNDLE_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle_filter = _load("bundle_filter")
check_bundle = _load("check_bundle")


def _spec_literal(name: str) -> list[str]:
    """The value of a module-level `NAME = [...]` literal in the spec."""
    for node in ast.parse(SPEC.read_text(), filename=str(SPEC)).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return value
    raise AssertionError(f"{SPEC.name} has no literal {name}")


# -- the spec ------------------------------------------------------------------------------
def test_spec_hidden_imports_name_the_example_domains_and_all_exist() -> None:
    hidden = _spec_literal("HIDDEN_IMPORTS")
    assert {"incident_core.examples.bank", "incident_core.examples.library",
            "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql"} <= set(hidden)
    missing = [name for name in hidden if importlib.util.find_spec(name) is None]
    assert missing == []


def test_spec_bundles_the_icons_that_exist() -> None:
    icons = _spec_literal("ICON_FILES")
    assert "incident.png" in icons
    assert all((ROOT / "incident_gui" / "resources" / name).is_file() for name in icons)


def test_launcher_runs_the_gui_script_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["gui-scripts"]
    module, _, function = scripts["incident-inspector"].partition(":")
    tree = ast.parse((BUNDLE_DIR / "launcher.py").read_text())
    imports = [(node.module, alias.name) for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) for alias in node.names]
    assert imports == [(module, function)]


def test_bundle_tools_are_pinned_within_the_bundle_extra() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["bundle"]
    pins = _pins(ROOT / "resources" / "requirements-bundle.txt")
    for requirement in map(Requirement, extra):
        assert pins[canonicalize_name(requirement.name)] in requirement.specifier, requirement


def _pins(path: Path) -> dict[str, str]:
    """name -> exact version of each `name==version` line (markers and comments ignored)."""
    pins = {}
    for text in path.read_text().splitlines():
        line = text.split("#")[0].split(";")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_constraints_pin_every_dependency_within_its_range() -> None:
    """Metadata gives ranges (users' environments); constraints.txt pins CI and the bundle."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins(ROOT / "constraints.txt")
    requirements = [*project["dependencies"]]
    for name, extra in project["optional-dependencies"].items():
        if name != "bundle":
            requirements += [r for r in extra if not r.startswith("incident[")]
    for requirement in map(Requirement, requirements):
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not pinned in constraints.txt"
        assert pinned in requirement.specifier, f"{requirement.name}=={pinned} vs {requirement}"


def test_ci_builds_with_the_documented_command_and_is_executable() -> None:
    ci = ROOT / ".ci" / "bundle"
    assert BUILD_COMMAND in ci.read_text()
    assert os.access(ci, os.X_OK)
    assert ".ci/bundle" in (ROOT / ".ci" / "run").read_text()


def test_excluded_modules_are_not_imported_by_the_inspector() -> None:
    """Excluding a module the app imports would break only the frozen app: catch it here."""
    code = ("import sys, incident_gui.main, incident_core.examples.bank, "
            "incident_core.examples.library, incident_core.store.sql.store, "
            "sqlalchemy.dialects.sqlite; "
            "print('\\n'.join(sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                            check=False)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    excluded = set(bundle_filter.EXCLUDED_MODULES) | set(bundle_filter.POSTGRES_DRIVER_MODULES)
    clashes = sorted(m for m in loaded if m in excluded or m.split(".")[0] in excluded)
    assert clashes == []
    assert {"mypy", "hypothesis", "pytest", "IPython", "tkinter"} <= excluded


# -- what the bundle keeps of Qt -----------------------------------------------------------
@pytest.mark.parametrize("dest", [
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/qwindows.dll",
    "PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so",
    "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
    "PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
    "PySide6/Qt/lib/libQt6Widgets.so.6",
    "PySide6/Qt/lib/libicudata.so.73",
    "incident_gui/resources/incident.png",
    "libpython3.11.so.1.0",
    "libsqlite3.so.0",
])
def test_keeps(dest: str) -> None:
    assert bundle_filter.keep_entry(dest)


@pytest.mark.parametrize("dest", [
    "PySide6/Qt/plugins/platforms/libqwayland.so",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "PySide6/Qt/plugins/imageformats/libqtiff.so",
    "PySide6/Qt/plugins/generic/libqtuiotouchplugin.so",
    "PySide6/Qt/plugins/tls/libqopensslbackend.so",
    "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
    "PySide6/Qt/translations/qtbase_de.qm",
    "PySide6/Qt/qml/QtQuick/qmldir",
    "libxcb-cursor.so.0",
    "libfontconfig.so.1",
    "libglib-2.0.so.0",
    "libstdc++.so.6",
])
def test_drops(dest: str) -> None:
    assert not bundle_filter.keep_entry(dest)


def test_plugin_stem() -> None:
    assert bundle_filter.plugin_stem("libqxcb.so") == "qxcb"
    assert bundle_filter.plugin_stem("qwindows.dll") == "qwindows"
    assert bundle_filter.plugin_stem("libqcocoa.dylib") == "qcocoa"
    assert bundle_filter.plugin_stem("libQt6Core.so.6") == "Qt6Core"


def test_prune_keeps_what_the_roots_link_and_drops_the_rest() -> None:
    binaries = [
        ("PySide6/QtWidgets.abi3.so", "/src/QtWidgets.abi3.so", "EXTENSION"),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", "/src/w", "BINARY"),
        ("PySide6/Qt/lib/libQt6Core.so.6", "/src/c", "BINARY"),
        ("PySide6/Qt/lib/libicuuc.so.73", "/src/icu", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "/src/off", "BINARY"),
        ("libpython3.11.so.1.0", "/src/py", "BINARY"),
        # linked only by plugins that were already dropped (wayland) or by nothing:
        ("PySide6/Qt/lib/libQt6WaylandClient.so.6", "/src/wl", "BINARY"),
        ("libpango-1.0.so.0", "/src/pango", "BINARY"),
    ]
    links = {
        "/src/QtWidgets.abi3.so": ["libQt6Widgets.so.6", "libc.so.6"],
        "/src/w": ["libQt6Core.so.6", "libstdc++.so.6"],
        "/src/c": ["libicuuc.so.73"],
        "/src/off": ["libQt6Core.so.6", "libfontconfig.so.1"],
        "/src/wl": ["libQt6Core.so.6"],
        "/src/pango": [],
    }
    kept, dropped = bundle_filter.prune_binaries(binaries, lambda e: links.get(e[1], []))
    assert [Path(e[0]).name for e in dropped] == ["libQt6WaylandClient.so.6",
                                                  "libpango-1.0.so.0"]
    assert len(kept) == 6


def test_symlinks_to_dropped_binaries_go_too() -> None:
    datas = [
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
        ("incident_gui/resources/incident.png", "/src/incident.png", "DATA"),
    ]
    kept_binaries = [("PySide6/Qt/lib/libQt6Core.so.6", "/src/c", "BINARY")]
    kept, dropped = bundle_filter.drop_dangling_symlinks(datas, kept_binaries)
    assert [e[0] for e in dropped] == ["libQt6Network.so.6"]
    assert len(kept) == 2


# -- the bundle checker ----------------------------------------------------------------------
def test_parse_ldd() -> None:
    output = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6Gui.so.6 => /b/_internal/PySide6/Qt/lib/libQt6Gui.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f)
"""
    assert check_bundle.parse_ldd(output) == {
        "libQt6Gui.so.6": "/b/_internal/PySide6/Qt/lib/libQt6Gui.so.6",
        "libxcb-cursor.so.0": None,
        "libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
    }


def test_forbidden_modules_are_found_by_top_level_package() -> None:
    names = ["pydantic", "pydantic.mypy", "mypy", "mypy.nodes", "hypothesis.strategies",
             "incident_gui.main", "pytestqt.plugin", "mypyc_helper"]
    assert check_bundle.forbidden_in(names) == ["hypothesis.strategies", "mypy", "mypy.nodes",
                                                "pytestqt.plugin"]


def test_readme_documents_the_build_command() -> None:
    assert BUILD_COMMAND in (ROOT / "README.md").read_text()
