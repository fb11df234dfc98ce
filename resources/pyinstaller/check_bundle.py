"""Check a built inspector bundle (Linux onedir); run by `.ci/bundle` with the build venv's Python.

    python resources/pyinstaller/check_bundle.py dist/incident-inspector

1. No development tool got in: the frozen archive holds none of `FORBIDDEN_MODULES`.
2. Every shared library the bundle links is either bundled or a system library
   (`bundle_filter.SYSTEM_LIBRARIES`): `ldd` over every ELF file with the bundle's library
   folder first, as the bootloader sets it up. A bundled library left out by the pruning
   would show up here as "not found".
3. Prints which system libraries the offscreen platform needs and what xcb (X11) adds, with
   the Debian packages that hold them here (`dpkg -S`), or "missing" when this machine lacks
   them (the xcb ones on a headless CI machine).
Exit status 1 when check 1 or 2 fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bundle_filter import is_system_library

__all__ = ["FORBIDDEN_MODULES", "forbidden_in", "main", "parse_ldd"]

FORBIDDEN_MODULES = ("mypy", "hypothesis", "pytest", "_pytest", "pytestqt", "IPython",
                     "tkinter", "setuptools", "pip", "psycopg")
_LDD_LINE = re.compile(r"^\s*(?P<name>\S+)\s+=>\s+(?P<path>not found|\S+)")


def parse_ldd(output: str) -> dict[str, str | None]:
    """`ldd` output -> {soname: resolved path, or None when not found}."""
    found: dict[str, str | None] = {}
    for line in output.splitlines():
        match = _LDD_LINE.match(line)
        if match:
            path = match["path"]
            found[match["name"]] = None if path == "not found" else path
    return found


def forbidden_in(module_names: Iterable[str]) -> list[str]:
    """The module names that belong to a forbidden top-level package."""
    return sorted(name for name in module_names
                  if name.split(".", 1)[0] in FORBIDDEN_MODULES)


def _elf_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    yield path


def _ldd(path: Path, library_dir: Path) -> dict[str, str | None]:
    env = {**os.environ, "LD_LIBRARY_PATH": str(library_dir)}
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env,
                            check=False)
    return parse_ldd(result.stdout)


def _debian_packages(paths: Iterable[str]) -> dict[str, str]:
    """{library path: Debian package} for the paths dpkg knows (resolving /lib -> /usr/lib)."""
    owners: dict[str, str] = {}
    for path in paths:
        for candidate in dict.fromkeys([path, os.path.realpath(path),
                                        path.replace("/lib/", "/usr/lib/", 1)]):
            result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True,
                                    check=False)
            if result.returncode == 0:
                owners[path] = result.stdout.split(":", 1)[0]
                break
    return owners


def _system_needs(files: dict[Path, dict[str, str | None]], dist: Path,
                  ) -> dict[str, str | None]:
    """{soname: path} of the libraries these files load from outside the bundle."""
    inside = dist.resolve()
    needs: dict[str, str | None] = {}
    for libraries in files.values():
        for name, path in libraries.items():
            if path is None or not Path(path).resolve().is_relative_to(inside):
                needs.setdefault(name, path)
    return needs


def _is_xcb_only(path: Path) -> bool:
    """Loaded only by the xcb platform: the plugin, its GL integrations, libQt6XcbQpa."""
    return (path.name in {"libqxcb.so", "libQt6XcbQpa.so.6"}
            or path.parent.name == "xcbglintegrations")


def _describe(needs: dict[str, str | None]) -> str:
    owners = _debian_packages(p for p in needs.values() if p)
    packages = sorted({owners.get(p, p) for p in needs.values() if p})
    missing = sorted(name for name, path in needs.items() if path is None)
    text = " ".join(packages)
    return text + (f"  missing here: {' '.join(missing)}" if missing else "")


def main(argv: list[str]) -> int:
    dist = Path(argv[1]) if len(argv) > 1 else Path("dist/incident-inspector")
    executable = dist / dist.name
    internal = dist / "_internal"
    failures: list[str] = []

    from PyInstaller.archive.readers import pkg_archive_contents

    bad = forbidden_in(pkg_archive_contents(str(executable)))
    if bad:
        failures.append(f"development modules bundled: {' '.join(bad[:20])}")

    files = {path: _ldd(path, internal) for path in _elf_files(dist)}
    for path, libraries in files.items():
        for name, resolved in libraries.items():
            if resolved is None and not is_system_library(name):
                failures.append(f"{path.relative_to(dist)}: bundled library {name} not found")

    base_needs = _system_needs({p: v for p, v in files.items() if not _is_xcb_only(p)}, dist)
    xcb_needs = {name: path
                 for name, path in _system_needs(
                     {p: v for p, v in files.items() if _is_xcb_only(p)}, dist).items()
                 if name not in base_needs}
    print(f"check_bundle: system libraries, offscreen: {_describe(base_needs)}")
    print(f"check_bundle: xcb (X11) adds: {_describe(xcb_needs)}")
    for failure in failures:
        print(f"check_bundle: FAIL {failure}", file=sys.stderr)
    if not failures:
        print(f"check_bundle: ok ({len(files)} ELF files, no development modules)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
