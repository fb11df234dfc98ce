"""Usage errors are usage errors, and input is taken strictly (issue 9, items 3, 6, 10):
out-of-range numbers and times, hostile command JSON, import files the write would refuse,
resuming a stopped import, lock waits, masked URLs, and saying that a domain is code."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from incident_core.store.open import describe_target
from tests.test_cli import clean_env, incident, ok

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The lines of an export of a small demo store."""
    folder = tmp_path_factory.mktemp("dump")
    ok("demo", "--accounts", "8", "--transfers", "40", db=folder / "s.sqlite3")
    ok("export", folder / "e.ndjson", db=folder / "s.sqlite3")
    return (folder / "e.ndjson").read_text().splitlines()


def _target(shared_target: str, tmp_path: Path) -> str:
    ok("init", db=shared_target)
    return shared_target


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "in.ndjson"
    path.write_text("".join(line + "\n" for line in lines))
    return path


# -- numbers and times -----------------------------------------------------------------------
@pytest.mark.parametrize("args", [["events", "--after", "99999999999999999999999"],
                                  ["state", "A", "--at-version", "99999999999999999999"],
                                  ["events", "--limit", "1e3"]])
def test_out_of_range_numbers_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    ok("init", db=tmp_path / "s.sqlite3")
    run = incident(*args, db=tmp_path / "s.sqlite3")
    assert run.code == 2 and run.out == "", run.err


# -- import: whatever the write would refuse is refused by the check ---------------------------
def _changed(line: str, **changes: object) -> str:
    envelope = json.loads(line)
    for key, value in changes.items():
        if key.startswith("data."):
            envelope["data"][key[5:]] = value
        elif key.startswith("metadata."):
            envelope["metadata"][key[9:]] = value
        else:
            envelope[key] = value
    return json.dumps(envelope)


@pytest.mark.parametrize(("change", "why"), [
    ({"metadata.correlation_id": {"x": 1}}, "metadata.correlation_id must be a string or null"),
    ({"metadata.causation_id": 7}, "metadata.causation_id must be a string or null"),
    ({"recorded_at": "0001-01-01T00:00:00+01:00"}, "out of range in UTC"),
    ({"schema_version": 99}, "schema version 99 is newer than this domain's (1)"),
    ({"version": 2**63}, "out of range"),
])
def test_import_refuses_what_the_write_would_refuse(
        dump: list[str], tmp_path: Path, shared_target: str, change: dict[str, object],
        why: str) -> None:
    target = _target(shared_target, tmp_path)
    bad = len(dump) - 3  # late in the file: the check pass must catch it before any write
    lines = [*dump[:bad], _changed(dump[bad], **change), *dump[bad + 1:]]
    run = incident("import", _write(tmp_path, lines), db=target)
    assert run.code == 2 and f"line {bad + 1}: " in run.err and why in run.err, run.err
    assert ok("events", db=target) == []


def test_import_refuses_an_amount_out_of_range(dump: list[str], tmp_path: Path,
                                               shared_target: str) -> None:
    target = _target(shared_target, tmp_path)
    deposits = [n for n, line in enumerate(dump) if '"MoneyDeposited"' in line]
    lines = list(dump)
    lines[deposits[-1]] = _changed(dump[deposits[-1]], **{"data.amount": 10**20})
    run = incident("import", _write(tmp_path, lines), db=target)
    assert run.code == 2 and "data.amount is out of range" in run.err, run.err
    assert ok("events", db=target) == []


def test_a_stopped_import_resumes(dump: list[str], tmp_path: Path,
                                  shared_target: str) -> None:
    target = _target(shared_target, tmp_path)
    half = len(dump) // 2
    ok("import", _write(tmp_path, dump[:half]), db=target)  # what a killed import left
    whole = _write(tmp_path, dump)
    again = incident("import", whole, db=target)
    assert again.code == 4 and "already in the store" in again.err
    assert ok("import", "--resume", whole, db=target) == {"ok": True,
                                                          "imported": len(dump) - half}
    exported = incident("export", "-", db=target).out.splitlines()
    assert [json.loads(x) | {"position": 0} for x in exported] == [
        json.loads(x) | {"position": 0} for x in dump]
    assert ok("verify", db=target)["ok"] is True
    assert ok("import", "--resume", whole, db=target) == {"ok": True, "imported": 0}


def test_resume_refuses_an_event_that_differs(dump: list[str], tmp_path: Path,
                                              shared_target: str) -> None:
    target = _target(shared_target, tmp_path)
    ok("import", _write(tmp_path, dump[:10]), db=target)
    lines = list(dump)
    lines[3] = _changed(dump[3], recorded_at="2001-01-01T00:00:00.000000+00:00")
    run = incident("import", "--resume", _write(tmp_path, lines), db=target)
    assert run.code == 4 and "line 4" in run.err and "other content" in run.err, run.err
    assert len(ok("events", db=target)) == 10


# -- commands -------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "why"), [
    ('{"aggregate_id": "A", "amount": true}', "amount: Input should be a valid integer"),
    ('{"aggregate_id": " A", "amount": 5}', "' A' has leading or trailing whitespace"),
    ('{"aggregate_id": "A ", "amount": 5}', "'A ' has leading or trailing whitespace"),
])
def test_commands_are_read_strictly(tmp_path: Path, data: str, why: str) -> None:
    db = tmp_path / "s.sqlite3"
    ok("init", db=db)
    ok("dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}', db=db)
    run = incident("dispatch", "DepositMoney", "--data", data, db=db)
    assert run.code == 2 and why in run.err, run.err
    assert json.loads(run.out)["error"] == "invalid_command"
    assert len(ok("events", db=db)) == 1


# -- locks -----------------------------------------------------------------------------------
HOLD = ("import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "if sys.argv[2] == 'exclusive':\n"
        "    c.execute('PRAGMA locking_mode = EXCLUSIVE')\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.execute('CREATE TABLE IF NOT EXISTS held (x)')\n"
        "if sys.argv[2] == 'exclusive':\n"
        "    c.execute('COMMIT')\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n")


@pytest.mark.parametrize("mode", ["write", "exclusive"])
def test_a_held_lock_is_named_and_the_timeout_honoured(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "s.sqlite3"
    ok("init", db=db)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), mode], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        run = incident("dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}',
                       "--lock-timeout", "2.5", db=db)
        waited = time.monotonic() - started
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert run.code == 4 and 2.5 <= waited < 20, (waited, run.err)
    assert "locked by another process (waited 2.5s)" in run.err
    assert "corrupt" not in run.err.lower() and "damaged" not in run.err.lower()
    if mode == "write":
        assert run.err.splitlines()[0] == (
            f"incident: waiting for the write lock on {db} (another process is writing); "
            "giving up after 2.5s (--lock-timeout)")
    ok("dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}', db=db)


# -- messages --------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["postgresql+psycopg://alice:S3c@retPW@localhost:1/db",
                                 "postgresql+psycopg://alice:S3c@ret:PW@localhost:1/db",
                                 "postgresql+psycopg://alice:S3c/retPW@localhost:1/db",
                                 "postgresql+psycopg://alice@localhost:1/db?password=S3cretPW",
                                 "postgres+psycopg://alice:S3c@retPW@/db"])
def test_no_part_of_a_password_leaks(url: str) -> None:
    shown = describe_target(url)
    run = incident("events", db=url)
    assert run.code == 4, run.err
    for text in (shown, run.err):
        for part in ("S3c", "retPW", "ret:PW", "S3cretPW"):
            assert part not in text, text


def test_help_and_readme_say_a_domain_is_code_that_runs() -> None:
    run = incident("--help", env=clean_env(COLUMNS="200"))
    flat = " ".join(run.out.split())
    assert "is Python code that runs when loaded" in flat
    assert "importing it runs it" in " ".join(incident("events", "--help").out.split())
    readme = " ".join(README.read_text().split())
    assert "A domain is code" in readme and "INCIDENT_DOMAIN" in readme
