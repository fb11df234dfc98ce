"""Static checks that are part of the suite: ruff everywhere, mypy --strict on the core."""

from __future__ import annotations

import subprocess
import sys
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
def test_mypy_strict_on_the_core() -> None:
    result = run(sys.executable, "-m", "mypy", "--strict", "incident_core")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ("python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && "
               ".venv/bin/python -m pytest")
    assert command in readme and command in ci
