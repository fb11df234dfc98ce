"""Read-only access leaves no trace (issue 9, item 7): a user who may not write the store,
or a store in a folder no one may write, can be read, and nothing is left behind for the
owner to trip over."""

from __future__ import annotations

from pathlib import Path

from tests.hardening_support import NOBODY, incident_as, listing, needs_root, public_dir
from tests.test_cli import ok

__all__ = ["public_dir"]  # the fixture, imported for the tests below


def _seed(folder: Path) -> Path:
    db = folder / "s.sqlite3"
    ok("demo", "--accounts", "4", "--transfers", "10", db=db)
    db.chmod(0o644)
    return db


@needs_root
def test_a_reader_without_write_permission_leaves_nothing(public_dir: Path) -> None:
    db = _seed(public_dir)
    public_dir.chmod(0o777)  # the folder is writable: SQLite would create -wal/-shm here
    expected = ok("events", db=db)
    for args in (["events"], ["streams"], ["state", "acc-00001"], ["verify"],
                 ["projection", "bank_accounts"]):
        run = incident_as(NOBODY, *args, db=db)
        assert run.code == 0, (args, run.err)
        assert listing(public_dir) == ["s.sqlite3"], args
    assert ok("events", db=db) == expected
    ok("dispatch", "DepositMoney", "--data", '{"aggregate_id": "acc-00001", "amount": 1}',
       db=db)  # the owner can still write


@needs_root
def test_a_store_in_a_read_only_folder_can_be_read(public_dir: Path) -> None:
    db = _seed(public_dir)
    public_dir.chmod(0o555)
    run = incident_as(NOBODY, "events", "--format", "ndjson", db=db)
    assert run.code == 0, run.err
    assert len(run.out.splitlines()) == len(ok("events", db=db))
    assert listing(public_dir) == ["s.sqlite3"]
    write = incident_as(NOBODY, "dispatch", "OpenAccount", "--data", '{"aggregate_id": "Z"}',
                        db=db)
    assert write.code == 4 and len(write.err.splitlines()) == 1, write.err
    assert listing(public_dir) == ["s.sqlite3"]
