"""What the inspector bundle keeps of what PyInstaller collects, and what it leaves out.

Used by `incident-inspector.spec` (after `Analysis`) and by `tests/test_bundle_spec.py`.
Plain Python with no PyInstaller import, so the rules are testable in the dev venv.

Three rules:

1. Qt plugins: PyInstaller's PySide6 hooks collect every plugin type a used Qt module might
   want. The inspector is a QtWidgets app reading local stores; it keeps the platform plugins
   (offscreen for headless runs, xcb for X11 and XWayland, windows, cocoa), input methods,
   the XDG portal theme, SVG icons and the .ico format. Wayland (the app runs through
   XWayland), eglfs/linuxfb/vnc, GTK theme, network, TLS, SQL drivers, printing and QML are
   left out, and so are Qt's translations (the inspector is in English).
2. System libraries: the X11/xcb client libraries, xkbcommon, fontconfig/freetype, GLib,
   D-Bus, OpenGL/EGL and the C++ runtime come from the machine the bundle runs on (they are
   on every Linux desktop, must match its X server, fonts and GPU driver, and make the bundle
   the same whatever the build machine has installed). The README lists the Debian packages.
3. Linux: a bundled library stays only when something that stays links it (`DT_NEEDED`),
   starting from the Python extension modules, the kept Qt plugins and libpython. So the
   libraries that only dropped plugins or system libraries needed are left out too.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath

__all__ = [
    "EXCLUDED_MODULES",
    "KEPT_QT_PLUGINS",
    "POSTGRES_DRIVER_MODULES",
    "SYSTEM_LIBRARIES",
    "TocEntry",
    "drop_dangling_symlinks",
    "is_system_library",
    "keep_entry",
    "needed_libraries",
    "plugin_stem",
    "prune_binaries",
    "split_kept",
]

TocEntry = tuple[str, str, str]  # PyInstaller TOC: (dest_name, src_name, typecode)

# Plugin file stems (no `lib` prefix, no extension) kept, by plugin type.
KEPT_QT_PLUGINS: dict[str, frozenset[str]] = {
    "platforms": frozenset({"qoffscreen", "qxcb", "qminimal", "qwindows", "qcocoa"}),
    "platformthemes": frozenset({"qxdgdesktopportal"}),
    "platforminputcontexts": frozenset({
        "composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"}),
    "xcbglintegrations": frozenset({"qxcb-glx-integration", "qxcb-egl-integration"}),
    "imageformats": frozenset({"qsvg", "qico"}),
    "iconengines": frozenset({"qsvgicon"}),
    "styles": frozenset({"qmodernwindowsstyle", "qwindowsvistastyle", "qmacstyle"}),
}

# Shared libraries (soname prefixes) taken from the machine the bundle runs on.
SYSTEM_LIBRARIES: tuple[str, ...] = (
    "libX11", "libXau", "libXdmcp", "libXext", "libXrender", "libXi.so", "libXfixes", "libxcb",
    "libxkbcommon", "libfontconfig", "libfreetype", "libglib-2.0", "libgobject-2.0",
    "libgio-2.0", "libgmodule-2.0", "libgthread-2.0", "libdbus-1", "libsystemd", "libudev",
    "libGL", "libEGL", "libOpenGL", "libGLX", "libGLdispatch", "libdrm", "libgbm", "libwayland",
    "libstdc++", "libgcc_s",
)

# Python packages never bundled: development tools that pydantic's or SQLAlchemy's hooks
# would drag in from a dev venv, GUI toolkits and Qt modules the inspector does not use.
EXCLUDED_MODULES: tuple[str, ...] = (
    "mypy", "mypyc", "hypothesis", "pytest", "_pytest", "pytestqt", "pytest_timeout",
    "IPython", "ipykernel", "jedi", "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib",
    "lib2to3", "pydoc_data", "setuptools", "pkg_resources", "distutils", "pip", "wheel",
    "ruff", "importlinter", "grimp", "rich", "pygments", "markdown_it", "numpy",
    "email_validator", "dotenv",
    "sqlalchemy.testing", "sqlalchemy.dialects.mysql", "sqlalchemy.dialects.mssql",
    "sqlalchemy.dialects.oracle", "pysqlite2", "MySQLdb", "psycopg2",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2",
    "PySide6.QtNetwork", "PySide6.QtPdf", "PySide6.QtPdfWidgets", "PySide6.Qt3DCore",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtUiTools", "PySide6.QtPrintSupport",
    "PySide6.QtMultimedia", "PySide6.QtWebEngineCore",
)

# The optional `postgres` extra: left out unless the spec is run with `--with-postgres`.
POSTGRES_DRIVER_MODULES: tuple[str, ...] = ("psycopg", "psycopg_binary", "psycopg_c",
                                            "psycopg_pool")

_QT_ROOT = ("PySide6", "Qt")
_LIB_NAME = re.compile(r"^(?:lib)?(?P<name>.+?)(?:\.so(?:\.\d+)*|\.dll|\.dylib)?$")
_NEEDED = re.compile(r"^\s*NEEDED\s+(\S+)\s*$", re.MULTILINE)


def plugin_stem(file_name: str) -> str:
    """`libqxcb.so` -> `qxcb`; `qwindows.dll` -> `qwindows`."""
    match = _LIB_NAME.match(file_name)
    return match["name"] if match else file_name


def is_system_library(file_name: str) -> bool:
    """Whether a shared library (by file name) comes from the machine the bundle runs on."""
    return file_name.startswith(SYSTEM_LIBRARIES)


def keep_entry(dest_name: str) -> bool:
    """Whether a collected file (its path inside the bundle) stays, by rules 1 and 2."""
    parts = PurePosixPath(dest_name.replace("\\", "/")).parts
    if not parts:
        return True
    if is_system_library(parts[-1]):
        return False
    if parts[:2] != _QT_ROOT or len(parts) < 4:
        return True
    area = parts[2]
    if area == "translations":
        return False
    if area == "plugins":
        kept = KEPT_QT_PLUGINS.get(parts[3], frozenset())
        return len(parts) == 5 and plugin_stem(parts[4]) in kept
    return area not in {"qml", "resources", "libexec", "metatypes"}


def split_kept(entries: Iterable[TocEntry]) -> tuple[list[TocEntry], list[TocEntry]]:
    """Split TOC entries into those `keep_entry` keeps and those it drops."""
    kept: list[TocEntry] = []
    dropped: list[TocEntry] = []
    for entry in entries:
        (kept if keep_entry(entry[0]) else dropped).append(entry)
    return kept, dropped


def _is_root(entry: TocEntry) -> bool:
    dest, _, typecode = entry
    name = PurePosixPath(dest).name
    return (typecode == "EXTENSION" or name.startswith("libpython")
            or dest.startswith("PySide6/Qt/plugins/"))


def prune_binaries(binaries: Sequence[TocEntry], needed_of: Callable[[TocEntry], Iterable[str]],
                   ) -> tuple[list[TocEntry], list[TocEntry]]:
    """Rule 3: keep the binaries reachable over `needed_of` (sonames) from the roots."""
    by_name = {PurePosixPath(entry[0]).name: entry for entry in binaries}
    reached: set[str] = set()
    todo = [entry for entry in binaries if _is_root(entry)]
    while todo:
        entry = todo.pop()
        if entry[0] in reached:
            continue
        reached.add(entry[0])
        todo += [by_name[name] for name in needed_of(entry) if name in by_name]
    kept = [entry for entry in binaries if entry[0] in reached]
    return kept, [entry for entry in binaries if entry[0] not in reached]


def needed_libraries(path: str) -> list[str]:
    """The `DT_NEEDED` sonames of an ELF file (`objdump -p`, which PyInstaller needs anyway)."""
    out = subprocess.run(["objdump", "-p", path], capture_output=True, text=True, check=True)
    return _NEEDED.findall(out.stdout)


def drop_dangling_symlinks(datas: Sequence[TocEntry], kept_binaries: Iterable[TocEntry],
                           ) -> tuple[list[TocEntry], list[TocEntry]]:
    """PyInstaller's `SYMLINK` entries (dest, target, "SYMLINK"): drop those left dangling."""
    targets = {entry[0] for entry in kept_binaries}
    targets |= {entry[0] for entry in datas if entry[2] != "SYMLINK"}
    kept: list[TocEntry] = []
    dropped: list[TocEntry] = []
    for entry in datas:
        dangling = entry[2] == "SYMLINK" and entry[1] not in targets
        (dropped if dangling else kept).append(entry)
    return kept, dropped
