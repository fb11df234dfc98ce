"""Each example domain's demo scenario seeds a store through real commands, and the store
agrees with its log (verify, rebuild), deterministically for a seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application
from incident_core.domain import Domain
from incident_core.examples.bank import domain as bank
from incident_core.examples.library import domain as library
from incident_core.examples.shipping import domain as shipping
from incident_core.operations import demo, rebuild, verify
from incident_core.progress import run_to_end


def all_rows(app: Application) -> dict[str, list[dict[str, Any]]]:
    return {name: app.store.projection_rows(app.projection(name).spec)
            for name in app.domain.projections}


def seeded(path: Path, domain: Domain, seed: int) -> tuple[list[tuple[str, str]], int]:
    with Application.open(str(path), domain, create=True) as app:
        report = run_to_end(demo(app, accounts=6, transfers=120, seed=seed))
        assert report.events == app.store.head() > 120
        assert run_to_end(verify(app)).ok
        live = all_rows(app)
        run_to_end(rebuild(app, list(app.domain.projections)))
        assert all_rows(app) == live
        log = [(e.event_type, e.aggregate_id) for e in app.store.read_events(limit=100_000)]
        return log, len(app.store.parked_steps())


@pytest.mark.parametrize("domain", [bank, shipping], ids=lambda d: d.name)
def test_a_demo_agrees_with_its_log_and_is_the_same_for_a_seed(tmp_path: Path,
                                                                domain: Domain) -> None:
    first, _ = seeded(tmp_path / "one.sqlite3", domain, seed=5)
    again, _ = seeded(tmp_path / "two.sqlite3", domain, seed=5)
    other, _ = seeded(tmp_path / "three.sqlite3", domain, seed=6)
    assert first == again
    assert first != other


def test_the_shipping_demo_parks_the_steps_of_unknown_ports(tmp_path: Path) -> None:
    _, parked = seeded(tmp_path / "ship.sqlite3", shipping, seed=1)
    assert parked >= 1  # the booking saga fails on a port it has no data for


def test_a_domain_without_a_demo_is_refused_by_name(tmp_path: Path) -> None:
    with Application.open(str(tmp_path / "lib.sqlite3"), library, create=True) as app:
        with pytest.raises(ValueError, match="'library' has no demo scenario"):
            run_to_end(demo(app, accounts=2, transfers=2))
        assert app.store.head() == 0


def test_cli_demo_on_the_shipping_domain(tmp_path: Path) -> None:
    db = str(tmp_path / "cargo.sqlite3")
    run = subprocess.run(
        [sys.executable, "-m", "incident_core.cli", "--db", db, "--domain",
         "incident_core.examples.shipping:domain", "demo", "--entities", "4", "--steps", "40"],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "seeded the shipping demo (4 + 40 steps)" in run.stderr
    report = json.loads(run.stdout)
    assert (report["accounts"], report["transfers"]) == (4, 40) and report["events"] > 40
