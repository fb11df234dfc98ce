"""Static checks that are part of the suite: ruff everywhere, mypy --strict on both packages,
the wheel's contents."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT)


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", "incident_core", "incident_gui", "tests",
                 "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_on_both_packages() -> None:
    result = run(sys.executable, "-m", "mypy", "--strict", "incident_core", "incident_gui")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_wheel_ships_the_icons_license_and_one_version(tmp_path: Path) -> None:
    """A non-editable install must find its window icon (package data) and report the
    version written once, in incident_core/__init__.py."""
    result = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                 "-w", str(tmp_path), str(ROOT))
    assert result.returncode == 0, result.stdout + result.stderr
    from incident_core import __version__

    (wheel,) = tmp_path.glob("incident-*.whl")
    assert wheel.name.startswith(f"incident-{__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    for icon in ("incident.png", "incident-32.png", "incident.svg"):
        assert f"incident_gui/resources/{icon}" in names
    assert any(name.endswith("licenses/LICENSE") or name.endswith("/LICENSE") for name in names)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ("python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt "
               "-e '.[dev]' && .venv/bin/python -m pytest")
    assert command in readme and command in ci
