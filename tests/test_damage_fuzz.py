"""Random damage to a store file (issue 9, item 4): truncations and bit flips over a copy of
a small demo store. In every case `verify` and `export` finish with exit 0, 3 or 4 and no
exception, and neither writes to the file. Every damage is noticed: opening the file for
writing is refused, or `verify` reports it, or the log reads back identical. A flipped bit
inside an event's text (an id, a digit of an amount in the JSON) leaves a row that is
well-formed and decodes: schema 3's per-event checksum is what tells it from the original.
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from incident_core.cli.main import main
from tests.test_cli import ok

TRUNCATIONS = 40
FLIPS = 100
SEED = 20261201


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def cli(*args: str | Path) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])  # an exception here is a crash: the test fails
    return Outcome(code, out.getvalue(), err.getvalue())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("fuzz")
    db = folder / "demo.sqlite3"
    ok("demo", "--accounts", "6", "--transfers", "40", "--seed", "3", db=db)
    ok("export", folder / "log.ndjson", db=db)
    assert not Path(f"{db}-wal").exists()  # closed cleanly: the file holds everything
    return db, (folder / "log.ndjson").read_text()


def _damage(kind: str, source: Path, target: Path, rng: random.Random) -> str:
    data = bytearray(source.read_bytes())
    if kind == "truncate":
        cut = rng.randrange(1, len(data))
        target.write_bytes(bytes(data[:cut]))
        return f"truncated at {cut}"
    offset, bit = rng.randrange(len(data)), rng.randrange(8)
    data[offset] ^= 1 << bit
    target.write_bytes(bytes(data))
    return f"bit {bit} of byte {offset} flipped"


def _probe(db: Path, log: str, folder: Path) -> tuple[bool, str]:
    """Read, export, then try to write; True if the damage was noticed or harmless."""
    before = sha(db)
    checked = cli("verify", "--db", db)
    assert checked.code in (0, 3, 4), checked.err
    assert sha(db) == before, "verify wrote to the file"
    dump = folder / "out.ndjson"
    exported = cli("export", dump, "--db", db)
    assert exported.code in (0, 3, 4), exported.err
    assert sha(db) == before, "export wrote to the file"
    assert exported.code == 0 or not dump.exists()  # a failed export leaves no output
    identical = exported.code == 0 and dump.read_text() == log
    wrote = cli("dispatch", "OpenAccount", "--data", '{"aggregate_id": "fuzz"}', "--db", db)
    refused = wrote.code == 4
    if refused:
        assert sha(db) == before, "a refused write changed the file"
    summary = f"verify {checked.code}, export {exported.code}, write {wrote.code}"
    return refused or checked.code == 3 or identical, summary


@pytest.mark.parametrize("kind", ["truncate", "flip"])
def test_random_damage_is_noticed_and_never_crashes(original: tuple[Path, str],
                                                    tmp_path: Path, kind: str) -> None:
    source, log = original
    rng = random.Random(f"{SEED}-{kind}")
    unnoticed: list[str] = []
    for case in range(TRUNCATIONS if kind == "truncate" else FLIPS):
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        db = folder / "demo.sqlite3"
        what = _damage(kind, source, db, rng)
        noticed, summary = _probe(db, log, folder)
        if not noticed:
            unnoticed.append(f"{what}: {summary}")
        shutil.rmtree(folder)
    assert unnoticed == [], f"{len(unnoticed)} unnoticed: {unnoticed}"
