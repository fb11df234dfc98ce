"""The `incident` command as users run it: real processes, real SQLite files.

The command line is a public contract: the JSON shapes and exit codes checked here are
documented and must not drift.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from incident_core import __version__

ENVELOPE_KEYS = ["position", "event_id", "aggregate_id", "aggregate_type", "event_type",
                 "version", "recorded_at", "schema_version", "data", "metadata"]
STREAM_KEYS = ["aggregate_id", "aggregate_type", "version", "event_count", "last_recorded_at",
               "snapshot_version"]
ACCOUNT_COLUMNS = ["aggregate_id", "account_number", "balance", "version", "event_id",
                   "event_date"]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENT_")}
    env.update(extra)
    return env


def incident(*args: str | Path, db: Path | str | None = None, stdin: str | None = None,
             cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    command = [sys.executable, "-m", "incident_core.cli", *map(str, args)]
    if db is not None:
        command += ["--db", str(db)]
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=env or clean_env())
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def ok(*args: str | Path, **kwargs: Any) -> Any:
    run = incident(*args, **kwargs)
    assert run.code == 0, (run.out, run.err)
    return run.json if run.out.strip() else None


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(path: Path) -> tuple[str, set[str]]:
    return digest(path), {p.name for p in path.parent.iterdir()}


def open_account(db: Path, aggregate_id: str) -> Any:
    if not db.exists():
        ok("init", db=db)  # write commands refuse a missing store
    return ok("dispatch", "OpenAccount", "--data", json.dumps({"aggregate_id": aggregate_id}),
              db=db)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store seeded once by `incident demo`; tests only read it (or copy it)."""
    db = tmp_path_factory.mktemp("seeded") / "bank.sqlite3"
    ok("demo", "--accounts", "12", "--transfers", "60", "--seed", "4", db=db)
    return db


@pytest.fixture
def copy_of(seeded: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.sqlite3"
    shutil.copyfile(seeded, target)
    return target


# -- basics -------------------------------------------------------------------------------
def test_version_and_help() -> None:
    assert incident("--version").out.strip() == f"incident {__version__}"
    run = incident("--help")
    assert run.code == 0
    for command in ("init", "dispatch", "events", "streams", "state", "projection",
                    "projections", "rebuild", "verify", "demo", "export", "import"):
        assert command in run.out
    assert incident().code == 2  # a subcommand is required


def test_init_creates_the_store_once(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    first = incident("init", db=db)
    assert first.code == 0 and first.json == {"ok": True, "created": True, "db": str(db),
                                              "events": 0}
    assert "created a store" in first.err
    open_account(db, "A")
    again = incident("init", db=db)
    assert again.code == 0 and again.json["created"] is False and again.json["events"] == 1
    assert "already exists" in again.err


def test_the_store_comes_from_the_environment_or_the_current_folder(tmp_path: Path) -> None:
    ok("init", cwd=tmp_path)
    assert (tmp_path / "incident.sqlite3").exists()
    other = tmp_path / "env.sqlite3"
    ok("init", cwd=tmp_path, env=clean_env(INCIDENT_DB=str(other)))
    assert other.exists()
    ok("init", "--db", tmp_path / "flag.sqlite3", cwd=tmp_path,
       env=clean_env(INCIDENT_DB=str(other)))
    assert (tmp_path / "flag.sqlite3").exists()


# -- dispatch -----------------------------------------------------------------------------
def test_dispatch_records_events(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    result = open_account(db, "A")
    assert list(result) == ["ok", "events"] and result["ok"] is True
    [event] = result["events"]
    assert list(event) == ENVELOPE_KEYS
    assert (event["position"], event["aggregate_id"], event["aggregate_type"],
            event["event_type"], event["version"], event["data"]) == (
        1, "A", "Account", "AccountOpened", 1, {"account_number": "A"})
    assert event["metadata"]["command_type"] == "OpenAccount"
    deposit = ok("dispatch", "DepositMoney", "--data", "-", db=db,
                 stdin='{"aggregate_id": "A", "amount": 40}')
    assert deposit["events"][0]["data"] == {"amount": 40}


def test_dispatch_rejection_exits_1(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    open_account(db, "A")
    again = incident("dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}', db=db)
    assert (again.code, again.json) == (1, {"ok": False, "error": "rejected",
                                            "reason": "account_already_opened"})
    poor = incident("dispatch", "WithdrawMoney", "--data", '{"aggregate_id": "A", "amount": 5}',
                    db=db)
    assert (poor.code, poor.json) == (1, {"ok": False, "error": "rejected",
                                          "reason": "no_enough_balance",
                                          "detail": "balance 0 < 5"})
    assert "rejected: no_enough_balance" in poor.err


@pytest.mark.parametrize(("data", "details"), [
    ('{"amount": 5}', [{"loc": ["aggregate_id"], "msg": "Field required", "type": "missing"}]),
    ('{"aggregate_id": "A", "amount": 0, "note": "x"}',
     [{"loc": ["amount"], "msg": "Input should be greater than 0", "type": "greater_than"},
      {"loc": ["note"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}]),
    ('{"aggregate_id": ', [{"loc": [], "msg": "Invalid JSON: EOF while parsing a value at "
                                              "line 1 column 17", "type": "json_invalid"}]),
])
def test_an_invalid_command_exits_2_and_touches_nothing(tmp_path: Path, data: str,
                                                        details: list[Any]) -> None:
    db = tmp_path / "never.sqlite3"
    run = incident("dispatch", "DepositMoney", "--data", data, db=db)
    assert (run.code, run.json) == (2, {"ok": False, "error": "invalid_command",
                                        "command_type": "DepositMoney", "details": details})
    assert not db.exists()


def test_an_unknown_or_internal_command_exits_2(tmp_path: Path) -> None:
    known = ["DepositMoney", "OpenAccount", "RequestTransfer", "WithdrawMoney"]
    for name in ("Teleport", "SendMoney"):  # SendMoney belongs to the transfer saga
        run = incident("dispatch", name, "--data", "{}", db=tmp_path / "x.sqlite3")
        assert (run.code, run.json) == (2, {"ok": False, "error": "unknown_command",
                                            "command_type": name, "known": known})
    assert not (tmp_path / "x.sqlite3").exists()


TEST_DOMAIN = """
    import os
    import sqlite3
    import uuid

    from incident_core import Aggregate, Command, Domain, Event, State


    class Touch(Command):
        pass


    class Explode(Command):
        pass


    class Touched(Event):
        pass


    class Count(State):
        n: int = 0


    counter = Aggregate("Counter", Count())


    @counter.executes(Touch)
    def touch(state, cmd):
        # A rival writer records the same version first, on every attempt.
        conn = sqlite3.connect(os.environ["RIVAL_DB"])
        version, = conn.execute("SELECT coalesce(max(version), 0) FROM incident_events "
                                "WHERE aggregate_id = ?", (cmd.aggregate_id,)).fetchone()
        position, = conn.execute("SELECT coalesce(max(position), 0) "
                                 "FROM incident_events").fetchone()
        conn.execute("INSERT INTO incident_events (position, event_id, aggregate_id, "
                     "aggregate_type, event_type, version, recorded_at, data, metadata, "
                     "schema_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (position + 1, str(uuid.uuid4()), cmd.aggregate_id, "Counter", "Touched",
                      version + 1, "2024-01-01T00:00:00.000000+00:00", "{}", "{}", 1))
        conn.commit()
        conn.close()
        return Touched()


    @counter.executes(Explode)
    def explode(state, cmd):
        raise RuntimeError("boom")


    @counter.applies(Touched)
    def touched(state, event):
        return Count(n=state.n + 1)


    domain = Domain("counters", aggregates=[counter])
    not_a_domain = 42
"""


@pytest.fixture
def domain_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "domains"
    folder.mkdir()
    (folder / "counters.py").write_text(textwrap.dedent(TEST_DOMAIN))
    (folder / "broken.py").write_text("raise ImportError('half-written module')\n")
    return folder


def test_a_conflict_after_retries_exits_1(tmp_path: Path, domain_dir: Path) -> None:
    db = tmp_path / "c.sqlite3"
    ok("init", "--domain", "counters:domain", "--domain-path", domain_dir, db=db)
    run = incident("dispatch", "Touch", "--data", '{"aggregate_id": "c1"}', "--domain",
                   "counters:domain", "--domain-path", domain_dir, db=db,
                   env=clean_env(RIVAL_DB=str(db)))
    assert (run.code, run.json) == (1, {"ok": False, "error": "conflict", "aggregate_id": "c1",
                                        "attempts": 10})


def test_domain_code_errors_exit_5(tmp_path: Path, domain_dir: Path) -> None:
    db = tmp_path / "e.sqlite3"
    ok("init", "--domain", "counters:domain", "--domain-path", domain_dir, db=db)
    run = incident("dispatch", "Explode", "--data", '{"aggregate_id": "c1"}',
                   "--domain-path", domain_dir, db=db,
                   env=clean_env(INCIDENT_DOMAIN="counters:domain"))
    assert run.code == 5
    assert run.err.strip() == ("incident: domain code failed: Counter.execute(Explode) raised "
                               "RuntimeError: boom")
    broken = incident("init", "--domain", "broken:domain", "--domain-path", domain_dir, db=db)
    assert broken.code == 5 and "importing the domain module broken" in broken.err


def test_a_domain_that_cannot_be_found_exits_2(tmp_path: Path, domain_dir: Path) -> None:
    db = tmp_path / "n.sqlite3"
    for spec, message in [("counters", "--domain must be MODULE:ATTR"),
                          ("nowhere:domain", "no module named 'nowhere'"),
                          ("counters:missing", "missing is not an incident Domain"),
                          ("counters:not_a_domain", "not_a_domain is not an incident Domain")]:
        run = incident("init", "--domain", spec, "--domain-path", domain_dir, db=db)
        assert run.code == 2 and message in run.err, run.err
    assert not db.exists()


# -- reading --------------------------------------------------------------------------------
def test_events_in_every_format(seeded: Path) -> None:
    events = ok("events", db=seeded)
    assert [e["position"] for e in events] == list(range(1, len(events) + 1))
    assert all(list(e) == ENVELOPE_KEYS for e in events)
    lines = incident("events", "--format", "ndjson", db=seeded).out.splitlines()
    assert [json.loads(line) for line in lines] == events
    table = incident("events", "--format", "table", "--limit", "5", db=seeded).out.splitlines()
    assert table[0].split() == ["position", "recorded_at", "aggregate_type", "aggregate_id",
                                "version", "event_type", "data"]
    assert set(table[1]) == {"-", " "} and len(table) == 7
    column = table[0].index("event_type")
    assert [row[column:].split()[0] for row in table[2:]] == [
        e["event_type"] for e in events[:5]]


def test_event_filters(seeded: Path) -> None:
    events = ok("events", db=seeded)
    mine = ok("events", "--aggregate", "acc-00003", db=seeded)
    assert mine == [e for e in events if e["aggregate_id"] == "acc-00003"]
    typed = ok("events", "--type", "TransferCompleted", "--type", "TransferCancelled",
               db=seeded)
    assert typed == [e for e in events
                     if e["event_type"] in ("TransferCompleted", "TransferCancelled")]
    assert {e["event_type"] for e in typed} == {"TransferCompleted", "TransferCancelled"}
    page = ok("events", "--after", "10", "--limit", "3", db=seeded)
    assert [e["position"] for e in page] == [11, 12, 13]
    assert ok("events", "--limit", "0", db=seeded) == []


def test_streams(seeded: Path) -> None:
    streams = ok("streams", db=seeded)
    assert all(list(s) == STREAM_KEYS for s in streams)
    ids = [s["aggregate_id"] for s in streams]
    assert ids == sorted(ids) and len(ids) == 12 + 60
    events = ok("events", "--aggregate", "acc-00001", db=seeded)
    assert streams[ids.index("acc-00001")] == {
        "aggregate_id": "acc-00001", "aggregate_type": "Account", "version": len(events),
        "event_count": len(events), "last_recorded_at": events[-1]["recorded_at"],
        "snapshot_version": None}
    table = incident("streams", "--format", "table", db=seeded).out.splitlines()
    assert table[0].split() == STREAM_KEYS and len(table) == 2 + len(streams)


def test_state(seeded: Path) -> None:
    state = ok("state", "acc-00001", db=seeded)
    row = next(r for r in ok("projection", "bank_accounts", db=seeded)
               if r["aggregate_id"] == "acc-00001")
    assert state == {"aggregate_id": "acc-00001", "aggregate_type": "Account",
                     "version": row["version"],
                     "state": {"account_number": "acc-00001", "balance": row["balance"]}}
    first = ok("state", "acc-00001", "--at-version", "1", db=seeded)
    assert (first["version"], first["state"]["balance"]) == (1, 0)
    table = incident("state", "acc-00001", "--format", "table", db=seeded).out.splitlines()
    assert table[0].split() == ["field", "value"]
    assert table[-1].split() == ["state.balance", str(row["balance"])]
    missing = incident("state", "nobody", db=seeded)
    assert (missing.code, missing.json) == (1, {"ok": False, "error": "not_found",
                                                "aggregate_id": "nobody"})


def test_projection_rows(seeded: Path) -> None:
    accounts = ok("projection", "bank_accounts", db=seeded)
    assert len(accounts) == 12 and all(list(r) == ACCOUNT_COLUMNS for r in accounts)
    assert accounts[0]["aggregate_id"] == "acc-00001"
    transfers = ok("projection", "transfers", db=seeded)
    assert len(transfers) == 60
    assert {t["status"] for t in transfers} <= {"completed", "cancelled"}
    table = incident("projection", "bank_accounts", "--format", "table", db=seeded)
    assert table.out.splitlines()[0].split() == ACCOUNT_COLUMNS
    unknown = incident("projection", "nope", db=seeded)
    assert (unknown.code, unknown.json) == (2, {"ok": False, "error": "unknown_projection",
                                                "name": "nope",
                                                "known": ["bank_accounts", "transfers"]})


def test_projections_list(seeded: Path) -> None:
    head = ok("events", db=seeded)[-1]["position"]
    assert ok("projections", db=seeded) == [
        {"name": "bank_accounts", "rows": 12, "checkpoint": head, "lag": 0},
        {"name": "transfers", "rows": 60, "checkpoint": head, "lag": 0}]
    table = incident("projections", "--format", "table", db=seeded).out.splitlines()
    assert table[0].split() == ["name", "rows", "checkpoint", "lag"]


def test_reading_leaves_the_store_file_as_it_was(seeded: Path) -> None:
    before = folder_state(seeded)
    for args in (["events"], ["streams"], ["state", "acc-00002"], ["projection", "transfers"],
                 ["projections"], ["verify"], ["export", "-"]):
        assert incident(*args, db=seeded).code == 0, args
        assert folder_state(seeded) == before, args


# -- rebuild and verify -----------------------------------------------------------------------
def test_rebuild_repairs_a_projection(copy_of: Path) -> None:
    good = ok("projection", "bank_accounts", db=copy_of)
    conn = sqlite3.connect(copy_of)
    conn.execute("UPDATE bank_accounts SET balance = -1")
    conn.commit()
    conn.close()
    report = ok("rebuild", "bank_accounts", db=copy_of)
    assert report["ok"] is True
    assert [p["name"] for p in report["projections"]] == ["bank_accounts"]
    assert report["projections"][0]["rows"] == 12
    assert ok("projection", "bank_accounts", db=copy_of) == good
    everything = ok("rebuild", "--all", db=copy_of)
    assert [p["name"] for p in everything["projections"]] == ["bank_accounts", "transfers"]
    assert set(everything) == {"ok", "projections", "head", "events_read", "seconds",
                               "events_per_second"}


def test_rebuild_needs_known_names(copy_of: Path) -> None:
    assert incident("rebuild", db=copy_of).code == 2
    assert incident("rebuild", "transfers", "--all", db=copy_of).code == 2
    unknown = incident("rebuild", "transfers", "nope", db=copy_of)
    assert unknown.code == 2 and unknown.json["error"] == "unknown_projection"


def test_verify_passes_then_lists_each_mismatch(copy_of: Path) -> None:
    good = ok("verify", db=copy_of)
    assert good["ok"] is True and good["mismatches"] == [] and good["streams"] == 72
    assert good["projections"] == {"bank_accounts": 12, "transfers": 60}
    conn = sqlite3.connect(copy_of)
    conn.execute("UPDATE bank_accounts SET balance = balance + 1 "
                 "WHERE aggregate_id IN ('acc-00001', 'acc-00002')")
    conn.commit()
    conn.close()
    bad = incident("verify", db=copy_of)
    assert bad.code == 3 and bad.json["ok"] is False and bad.json["mismatch_count"] == 2
    listed = [line for line in bad.err.splitlines() if line.startswith("incident: mismatch: ")]
    assert [line.split(": ", 2)[2] for line in listed] == bad.json["mismatches"]
    assert bad.json["mismatches"][0].startswith(
        "projection bank_accounts: row acc-00001 differs: balance stored")


# -- demo -------------------------------------------------------------------------------------
def test_demo_report_and_fresh(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    report = ok("demo", "--accounts", "5", "--transfers", "20", "--seed", "9", db=db)
    assert set(report) == {"ok", "seed", "accounts", "transfers", "commands", "accepted",
                           "rejected", "events", "seconds", "events_per_second"}
    assert (report["seed"], report["accounts"], report["transfers"]) == (9, 5, 20)
    again = ok("demo", "--accounts", "5", "--transfers", "20", "--seed", "9", "--fresh", db=db)
    assert again["events"] == report["events"] == len(ok("events", db=db))
    assert incident("demo", "--accounts", "1", "--transfers", "5", db=db).code == 2


def test_demo_fresh_never_deletes_a_foreign_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("precious\n")
    run = incident("demo", "--fresh", db=text)
    assert run.code == 4 and text.read_text() == "precious\n"


# -- export / import --------------------------------------------------------------------------
def test_export_then_import_round_trips(seeded: Path, tmp_path: Path) -> None:
    dump = tmp_path / "events.ndjson"
    assert ok("export", dump, db=seeded) == {"ok": True, "events": len(ok("events",
                                                                          db=seeded)),
                                             "file": str(dump)}
    target = tmp_path / "copy.sqlite3"
    assert ok("import", dump, db=target) == {"ok": True, "imported": len(dump.read_text()
                                                                         .splitlines())}
    source, copied = ok("events", db=seeded), ok("events", db=target)
    assert copied == source  # same ids, data, metadata, versions, times; positions too here
    for name in ("bank_accounts", "transfers"):
        assert ok("projection", name, db=target) == ok("projection", name, db=seeded)
    assert ok("verify", db=target)["ok"] is True


def test_export_and_import_through_pipes(seeded: Path, tmp_path: Path) -> None:
    exported = incident("export", "-", db=seeded)
    assert exported.code == 0 and "exported" in exported.err
    target = tmp_path / "piped.sqlite3"
    ok("import", "-", db=target, stdin=exported.out)
    assert ok("events", db=target) == ok("events", db=seeded)


def test_importing_twice_is_refused_and_changes_nothing(seeded: Path, tmp_path: Path) -> None:
    dump = tmp_path / "events.ndjson"
    ok("export", dump, db=seeded)
    target = tmp_path / "target.sqlite3"
    ok("import", dump, db=target)
    before = (ok("events", db=target), ok("projection", "transfers", db=target))
    again = incident("import", dump, db=target)
    assert again.code == 4
    assert "already in the store" in again.err and "nothing was imported" in again.err
    assert (ok("events", db=target), ok("projection", "transfers", db=target)) == before


def test_a_bad_import_file_names_the_line_and_leaves_no_store(tmp_path: Path) -> None:
    dump = tmp_path / "bad.ndjson"
    dump.write_text('{"event_id": "e1"}\n')
    target = tmp_path / "never.sqlite3"
    run = incident("import", dump, db=target)
    assert run.code == 2
    assert "line 1: missing field(s) aggregate_id" in run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ndjson"]


def test_export_refuses_to_overwrite_the_store(copy_of: Path) -> None:
    before = digest(copy_of)
    assert incident("export", copy_of, db=copy_of).code == 2
    assert digest(copy_of) == before


# -- stores that cannot be used -----------------------------------------------------------------
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def foreign_files(folder: Path, seeded: Path) -> dict[str, Path]:
    files = {"png": folder / "picture.png", "text": folder / "notes.txt",
             "other_db": folder / "other.sqlite3", "newer": folder / "newer.sqlite3",
             "corrupt": folder / "corrupt.sqlite3"}
    files["png"].write_bytes(PNG)
    files["text"].write_text("a shopping list\n")
    conn = sqlite3.connect(files["other_db"])
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    shutil.copyfile(seeded, files["newer"])
    conn = sqlite3.connect(files["newer"])
    conn.execute("UPDATE incident_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    files["corrupt"].write_bytes(seeded.read_bytes()[:4096] + os.urandom(8192))
    return files


WHY = {"png": "is not an Incident store (not a SQLite database)",
       "text": "is not an Incident store (not a SQLite database)",
       "other_db": "is a SQLite database but not an Incident store",
       "newer": "has store schema 99, newer than this Incident understands",
       "corrupt": "cannot be read as a store"}


@pytest.mark.parametrize("args", [["streams"], ["verify"], ["export", "-"], ["init"],
                                  ["dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}'],
                                  ["rebuild", "--all"], ["demo", "--accounts", "2"]])
def test_foreign_newer_and_corrupt_files_are_refused_untouched(
        args: list[str], seeded: Path, tmp_path: Path) -> None:
    for kind, path in foreign_files(tmp_path, seeded).items():
        before = folder_state(path)
        run = incident(*args, db=path)
        assert (run.code, run.out) == (4, ""), (kind, run.err)
        [line] = run.err.splitlines()  # one clear line, no traceback
        assert line.startswith(f"incident: {path} {WHY[kind]}"), (kind, line)
        assert folder_state(path) == before, kind


@pytest.mark.parametrize("args", [["streams"], ["events"], ["state", "A"], ["projections"],
                                  ["verify"], ["export", "-"], ["rebuild", "--all"]])
def test_a_missing_store_is_not_created_by_reads(args: list[str], tmp_path: Path) -> None:
    run = incident(*args, db=tmp_path / "absent.sqlite3")
    assert run.code == 4 and "no store at" in run.err
    assert list(tmp_path.iterdir()) == []


def test_import_into_a_foreign_file_is_refused_untouched(seeded: Path, tmp_path: Path) -> None:
    dump = tmp_path / "events.ndjson"
    ok("export", dump, db=seeded)
    text = tmp_path / "notes.txt"
    text.write_text("keep me\n")
    assert incident("import", dump, db=text).code == 4
    assert text.read_text() == "keep me\n"


# -- interruption -----------------------------------------------------------------------------
def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "busy.sqlite3"
    command = [sys.executable, "-m", "incident_core.cli", "demo", "--accounts", "50",
               "--transfers", "200000", "--db", str(db)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=clean_env())
    deadline = time.monotonic() + 60
    while not db.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and err.strip().endswith("incident: interrupted")
    assert out == ""
    assert ok("verify", db=db)["ok"] is True
