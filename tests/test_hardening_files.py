"""Nothing destroyed by mistake, and file problems are one clear line (issue 9, items 1, 5, 9):
outputs never land on the store's own files, a store another process has open is never
deleted, and full disks or bad paths leave nothing half-written behind."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank
from tests.hardening_support import (
    NOBODY,
    held_open,
    incident_as,
    listing,
    needs_root,
    public_dir,
    small_disk,
)
from tests.test_cli import incident, ok

__all__ = ["public_dir"]  # the fixture, imported for the tests below


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def demo_store(tmp_path: Path) -> Path:
    db = tmp_path / "bank.sqlite3"
    ok("demo", "--accounts", "6", "--transfers", "30", db=db)
    return db


# -- outputs never land on the store's own files ---------------------------------------------
@pytest.mark.parametrize("name", ["main", "-wal", "-shm", "-journal", "hard link",
                                  "symlink to -wal"])
def test_export_refuses_every_file_of_the_store(tmp_path: Path, name: str) -> None:
    db = tmp_path / "s.sqlite3"
    with Application.open(str(db), bank, create=True) as app:  # open: -wal/-shm exist
        app.dispatch(OpenAccount(aggregate_id="A"))
        app.dispatch(DepositMoney(aggregate_id="A", amount=5))
        wal = Path(f"{db}-wal")
        assert wal.stat().st_size > 0
        target = {"main": db, "-wal": wal, "-shm": Path(f"{db}-shm"),
                  "-journal": Path(f"{db}-journal"), "hard link": tmp_path / "hard",
                  "symlink to -wal": tmp_path / "sym"}[name]
        if name == "hard link":
            os.link(db, target)
        if name == "symlink to -wal":
            target.symlink_to(wal)
        before = {p.name: _sha(p) for p in tmp_path.iterdir() if p.is_file()}
        run = incident("export", target, db=db)
        assert run.code == 2 and "is the store's own file" in run.err, run.err
        assert len(run.err.splitlines()) == 1
        assert {p.name: _sha(p) for p in tmp_path.iterdir() if p.is_file()} == before
        assert app.store.head() == 2
    assert ok("verify", db=db)["events"] == 2


def test_export_to_a_bad_path_is_one_line_and_leaves_nothing(demo_store: Path,
                                                             tmp_path: Path) -> None:
    for target, why in ((tmp_path / "missing" / "x.ndjson", "No such file or directory"),
                        (tmp_path, "is a directory")):
        run = incident("export", target, db=demo_store)
        assert (run.code, run.out) == (2, ""), run.err
        assert why in run.err and len(run.err.splitlines()) == 1
    assert listing(tmp_path) == ["bank.sqlite3"]


@needs_root
def test_export_to_an_unwritable_folder_is_one_line(public_dir: Path) -> None:
    ok("demo", "--accounts", "3", "--transfers", "5", db=public_dir / "s.sqlite3")
    (public_dir / "s.sqlite3").chmod(0o644)
    run = incident_as(NOBODY, "export", public_dir / "out.ndjson",
                      db=public_dir / "s.sqlite3")
    assert run.code == 2 and "Permission denied" in run.err, run.err
    assert listing(public_dir) == ["s.sqlite3"]


@needs_root
def test_a_full_disk_fails_export_init_and_demo_cleanly(demo_store: Path,
                                                        tmp_path: Path) -> None:
    with small_disk(tmp_path, 24) as disk:
        run = incident("export", disk / "out.ndjson", db=demo_store)
        assert run.code == 4 and "No space left" in run.err, run.err
        assert listing(disk) == []
        run = incident("init", db=disk / "new.sqlite3")
        assert run.code == 4 and len(run.err.splitlines()) == 1, run.err
        assert listing(disk) == []  # nothing that `init` would later refuse
    with small_disk(tmp_path, 320) as disk:  # a new store needs ~80 KB, twice while made
        run = incident("demo", "--accounts", "40", "--transfers", "400", db=disk / "d.sqlite3")
        assert run.code == 4 and len(run.err.splitlines()) == 1, run.err
        assert listing(disk) == []  # no half-built store
        ok("init", db=disk / "new.sqlite3")  # a store that fits is created as usual
        assert listing(disk) == ["new.sqlite3"]


# -- deleting ---------------------------------------------------------------------------------
def test_demo_fresh_refuses_a_store_another_process_has_open(demo_store: Path) -> None:
    before = ok("events", "--format", "json", db=demo_store)
    with held_open(demo_store):
        run = incident("demo", "--fresh", "--accounts", "2", "--transfers", "1", db=demo_store)
        assert run.code == 4 and "open in another process" in run.err, run.err
        assert ok("events", db=demo_store) == before
    ok("demo", "--fresh", "--accounts", "2", "--transfers", "1", db=demo_store)
    assert len(ok("events", db=demo_store)) < len(before)


# -- creating ---------------------------------------------------------------------------------
def test_write_commands_refuse_a_missing_store(tmp_path: Path) -> None:
    db = tmp_path / "typo.sqlite3"
    for args in (["dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}'],
                 ["rebuild", "--all"]):
        run = incident(*args, db=db)
        assert run.code == 4, run.err
        assert run.err.strip() == f"incident: no store at {db}; run `incident init` to create one"
    assert listing(tmp_path) == []


@needs_root
def test_creating_in_a_read_only_folder_is_one_line(public_dir: Path) -> None:
    run = incident_as(NOBODY, "init", db=public_dir / "s.sqlite3")
    assert run.code == 4 and "cannot create" in run.err, run.err
    assert len(run.err.splitlines()) == 1 and listing(public_dir) == []
