"""`incident verify` lists a row the replay itself refuses as a finding and checks the rest.

A meters log is recorded by a handler that ignores the mistakes its readings ask for; then
`incident verify` (a process) runs with the handler that makes them: a row changed in place
by a handler returning None, and an integer beyond 64 bits. Each is one finding naming the
projection, the event position, the row key and the column; the rows of other meters are
still compared (a damaged one is found), and the exit code is the one for mismatches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from incident_core import Application
from tests.row_truth_domain import Grade, Read, meters_domain

ROOT = Path(__file__).resolve().parent.parent
MISMATCH = 3
DOMAIN = "from tests.row_truth_domain import meters_domain\ndomain = meters_domain('model')\n"


def _reading(meter: str, mistake: str, delta: int = 1) -> Read:
    return Read(aggregate_id=meter, delta=delta, level=1.5, price=Decimal("2.50"),
                grade=Grade.LOW, mistake=mistake)  # type: ignore[arg-type]


def _verify(target: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENT_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "incident_core.cli", "verify", "--domain",
               "mistaken:domain", "--domain-path", str(folder), "--db", target]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("target_kind", ["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def test_verify_lists_refused_rows_as_findings_and_checks_the_rest(
        request: pytest.FixtureRequest, tmp_path: Path, target_kind: str) -> None:
    target = (str(tmp_path / "store.sqlite3") if target_kind == "sqlite"
              else str(request.getfixturevalue("pg_url")))
    with Application.open(target, meters_domain("model", mistakes=False), create=True) as app:
        for read in (_reading("m1", "none"), _reading("m1", "in_place"),
                     _reading("m2", "none"), _reading("m2", "huge"), _reading("m2", "none"),
                     _reading("m3", "none"), _reading("m4", "none")):
            assert app.dispatch(read).ok
    with Application.open(target, meters_domain("model", mistakes=False)) as app:
        spec = app.projection("meters").spec
        with app.store.transaction() as tx:  # damage a row the replay can still make
            tx.put_row(spec, {**(tx.get_row(spec, "m3") or {}), "total": 99})
    (tmp_path / "mistaken.py").write_text(DOMAIN)
    done = _verify(target, tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == MISMATCH, (done.stdout, done.stderr)
    report = json.loads(done.stdout)
    assert report["mismatch_count"] == 3, report
    lines = report["mismatches"]
    assert lines[0].startswith("projection meters: row 'm1', on Reading at event #2: the "
                               "replay refuses column total: changed in place"), lines
    assert lines[1].startswith("projection meters: row 'm2', on Reading at event #4: the "
                               "replay refuses column total: integer outside"), lines
    assert lines[2] == ("projection meters: row m3 differs: total stored 99, replay 1"), lines
    assert report["projections"] == {"meters": 4} and report["events"] == 7
    assert f"incident: mismatch: {lines[0]}" in done.stderr.splitlines()
