"""Shared fixtures: a store target per adapter (memory, SQLite file, real PostgreSQL)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# GUI tests run offscreen; set before any Qt import (pytest-qt imports Qt lazily).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from incident_core import Application
from incident_core.examples.bank import domain as bank_domain
from tests.hypothesis_budget import register_profiles

pytest_plugins = ["tests.pg_fixtures"]

register_profiles()  # ci (default) or long: INCIDENT_HYPOTHESIS_PROFILE, --hypothesis-profile

ADAPTERS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
FILE_ADAPTERS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _target(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory:"
    if kind == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=ADAPTERS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, not yet created store target for every adapter."""
    return _target(request, request.param, tmp_path)


@pytest.fixture(params=FILE_ADAPTERS)
def shared_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store target several processes can open at once (SQLite file, PostgreSQL)."""
    return _target(request, request.param, tmp_path)


@pytest.fixture
def bank(store_target: str) -> Iterator[Application]:
    """The bank domain running over a fresh store of each adapter."""
    app = Application.open(store_target, bank_domain, create=True)
    try:
        yield app
    finally:
        app.close()


# Tests of the `incident` command and of its hardening run it as a process; so do tests whose
# own body names one of these words. They are marked `process` and left out of the fast
# core subset.
PROCESS_FILES = ("test_cli", "test_hardening_", "test_damage_fuzz", "test_shared_writer",
                 "test_lock_keeping")
PROCESS_WORDS = ("subprocess", "Popen", "incident(", "run_cli(", "os.kill", "setpriv",
                 "multiprocessing", "other_process(", "acknowledged_then_killed(")


def _starts_processes(item: pytest.Item) -> bool:
    if Path(str(item.path)).name.startswith(PROCESS_FILES):
        return True
    function = getattr(item, "function", None)
    try:
        body = inspect.getsource(function) if function is not None else ""
    except (OSError, TypeError):
        return False
    return any(word in body for word in PROCESS_WORDS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/gui drive the real window: mark them `gui`; tests that start
    processes are marked `process`. The fast inner loop (CONTRIBUTING.md) skips both."""
    for item in items:
        if "gui" in Path(str(item.path)).parent.parts[-1:]:
            item.add_marker(pytest.mark.gui)
        elif _starts_processes(item):
            item.add_marker(pytest.mark.process)
