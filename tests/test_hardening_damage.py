"""Damage-aware (issue 9, item 4): a structurally damaged file is refused for writing with
exit 4 and left untouched; `verify` and `export` report rows they cannot read as findings
(exit 3) instead of crashing; `verify --deep` runs SQLite's integrity check."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import incident, ok


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("damage") / "s.sqlite3"
    ok("demo", "--accounts", "6", "--transfers", "30", db=db)
    return db


@pytest.fixture
def copy(seeded: Path, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(seeded, tmp_path / "copy.sqlite3"))


def test_a_truncated_store_is_refused_for_writing_and_left_untouched(copy: Path) -> None:
    data = copy.read_bytes()
    copy.write_bytes(data[: len(data) - 4096])  # the last page is gone
    before = _sha(copy)
    run = incident("dispatch", "OpenAccount", "--data", '{"aggregate_id": "Z"}', db=copy)
    assert run.code == 4 and run.out == "", run.err
    assert "cannot be read as a store: it is damaged (its header counts" in run.err
    assert "(truncated?)" in run.err
    assert len(run.err.splitlines()) == 1
    checked = incident("verify", db=copy)  # reports the damage, or cannot read the store
    assert checked.code in (3, 4) and len(checked.err.splitlines()) >= 1
    assert "damaged" in checked.err or "malformed" in checked.err, checked.err
    assert _sha(copy) == before
    assert sorted(p.name for p in copy.parent.iterdir()) == ["copy.sqlite3"]


def test_a_half_page_is_refused_for_writing(copy: Path) -> None:
    with copy.open("ab") as fh:
        fh.write(b"\0" * 100)
    run = incident("rebuild", "--all", db=copy)
    assert run.code == 4 and "not a whole number of" in run.err, run.err


@pytest.mark.parametrize(("column", "value", "why"), [
    ("data", "{not json", "cannot be read"),
    ("metadata", "[1, 2]", "is malformed"),
    ("version", "'x'", "is malformed"),
])
def test_unreadable_rows_are_findings_not_crashes(copy: Path, tmp_path: Path, column: str,
                                                  value: str, why: str) -> None:
    literal = value if value.startswith("'") else "'" + value.replace("'", "''") + "'"
    with sqlite3.connect(copy) as conn:
        conn.execute(f"UPDATE incident_events SET {column} = {literal} WHERE position = 7")
        total = conn.execute("SELECT count(*) FROM incident_events").fetchone()[0]
    checked = incident("verify", db=copy)
    assert checked.code == 3, checked.err
    assert f"event #7 {why}" in checked.err
    out = tmp_path / "out.ndjson"
    exported = incident("export", out, db=copy)
    assert exported.code == 3 and f"event #7 {why}" in exported.err, exported.err
    assert not out.exists() and exported.json["readable"] == total - 1


def test_verify_deep_runs_the_integrity_check(copy: Path) -> None:
    with sqlite3.connect(copy) as conn:  # damage an index page that reads never use
        root = conn.execute("SELECT rootpage FROM sqlite_master "
                            "WHERE name = 'incident_streams_type'").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(copy.read_bytes())
    data[root * page_size - 1] ^= 1  # a character of the last key on that page
    copy.write_bytes(bytes(data))
    before = _sha(copy)
    assert incident("verify", db=copy).code == 0  # the log itself reads fine
    deep = incident("verify", "--deep", db=copy)
    assert deep.code == 3, deep.err
    assert "integrity check: row " in deep.err and "missing from index" in deep.err
    assert _sha(copy) == before


def test_a_time_out_of_range_is_a_finding_and_a_one_line_error(copy: Path) -> None:
    with sqlite3.connect(copy) as conn:  # schema 4 keeps times as microseconds
        conn.execute("UPDATE incident_events SET recorded_at = 9223372036854775807 "
                     "WHERE position = 7")
    checked = incident("verify", db=copy)
    assert checked.code == 3, checked.err
    assert "event #7 is malformed: CorruptStoreError: a stored time is out of range" \
        in checked.err
    listed = incident("events", "--format", "table", db=copy)
    assert listed.code == 4 and "Traceback" not in listed.err
    assert listed.err.strip().endswith("a stored time is out of range: 9223372036854775807 µs")
