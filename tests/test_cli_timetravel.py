"""Time travel through the `incident` command, on SQLite and PostgreSQL: `projection
--as-of/--diff`, `rebuild --diff/--swap` of changed projection code, and `catalog`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from incident_core.engine.application import Application
from incident_core.engine.projector import ProjectionFold
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.rowdiff import keyed_rows
from tests.test_cli import incident, ok
from tests.timetravel_domains import changed_bank

ROOT = Path(__file__).resolve().parent.parent
CHANGED = ("--domain", "tests.timetravel_domains:changed_bank", "--domain-path", str(ROOT))


def replayed(target: str, name: str, position: int, domain: Any = bank_domain) -> dict[str, Any]:
    with Application.open(target, domain, read_only=True) as app:
        projection = app.projection(name)
        fold = ProjectionFold(app.domain, [projection], until={name: position})
        for batch in app.store.iter_events(up_to=position):
            for recorded in batch:
                fold.feed(recorded)
        return keyed_rows(projection.spec, fold.rows(name))


def head_of(target: str) -> int:
    with Application.open(target, bank_domain, read_only=True) as app:
        return app.store.head()


@pytest.fixture
def seeded(shared_target: str) -> str:
    ok("demo", "--accounts", "8", "--transfers", "20", db=shared_target)
    return shared_target


def test_projection_as_of_and_diff(seeded: str) -> None:
    spec = bank_domain.projections["bank_accounts"].spec
    middle = head_of(seeded) // 2
    rows = ok("projection", "bank_accounts", "--as-of", str(middle), db=seeded)
    assert keyed_rows(spec, rows) == replayed(seeded, "bank_accounts", middle)
    assert ok("projection", "bank_accounts", "--as-of", "2000-01-01T00:00:00Z",
              db=seeded) == []
    now = ok("projection", "bank_accounts", "--as-of", "2999-01-01", db=seeded)
    assert keyed_rows(spec, now) == keyed_rows(spec, ok("projection", "bank_accounts",
                                                        db=seeded))
    diff = ok("projection", "transfers", "--diff", "0", str(middle), db=seeded)
    assert diff["counts"]["added"] == len(replayed(seeded, "transfers", middle))
    assert diff["counts"]["removed"] == diff["counts"]["changed"] == 0
    table = incident("projection", "bank_accounts", "--diff", str(middle),
                     str(head_of(seeded)), "--format", "table", db=seeded)
    assert table.code == 0 and table.out.splitlines()[0].split() == [
        "change", "key", "column", "before", "after"]
    assert "changed" in table.out and "balance" in table.out
    bad = incident("projection", "bank_accounts", "--as-of", "99999", db=seeded)
    assert bad.code == 2 and "not in this store" in bad.err
    bad = incident("projection", "bank_accounts", "--as-of", "soon", db=seeded)
    assert bad.code == 2 and "ISO-8601" in bad.err


def test_rebuild_diff_then_swap_of_changed_code(seeded: str) -> None:
    live = ok("projection", "bank_accounts", db=seeded)
    run = incident("rebuild", "bank_accounts", "--diff", *CHANGED, db=seeded)
    assert run.code == 3, run.err
    report = run.json["projections"][0]
    assert not report["identical"] and report["counts"]["changed"] > 0
    assert "changed" in run.err
    assert ok("projection", "bank_accounts", db=seeded) == live  # nothing swapped
    swapped = ok("rebuild", "bank_accounts", "--swap", *CHANGED, db=seeded)
    assert swapped["swapped"] and swapped["projections"][0]["counts"]["changed"] > 0
    spec = changed_bank.projections["bank_accounts"].spec
    assert keyed_rows(spec, ok("projection", "bank_accounts", db=seeded)) == replayed(
        seeded, "bank_accounts", head_of(seeded), changed_bank)
    same = incident("rebuild", "bank_accounts", "--diff", *CHANGED, db=seeded)
    assert same.code == 0 and "no difference" in same.err
    assert same.json["projections"][0]["identical"]
    assert incident("rebuild", "nope", "--diff", db=seeded).code == 2


def test_catalog_of_two_schema_versions(shared_target: str) -> None:
    v1 = ("--domain", "tests.timetravel_domains:notes_v1", "--domain-path", str(ROOT))
    v2 = ("--domain", "tests.timetravel_domains:notes_v2", "--domain-path", str(ROOT))
    ok("init", *v1, db=shared_target)
    for n, text in enumerate(("one", "two words")):
        ok("dispatch", "WriteNote", "--data", json.dumps({"aggregate_id": f"n{n}",
                                                          "text": text}), *v1, db=shared_target)
    ok("dispatch", "WriteNote", "--data", json.dumps({"aggregate_id": "n9", "text": "a b c"}),
       *v2, db=shared_target)
    found = ok("catalog", *v2, db=shared_target)
    (entry,) = [e for e in found["event_types"] if e["event_type"] == "NoteWritten"]
    assert entry["versions"] == {"1": 2, "2": 1} and entry["current_version"] == 2
    assert [f["name"] for f in entry["fields"]] == ["text", "words"]
    assert entry["upcasters"][0]["from_version"] == 1 and entry["failures"] == []
    table = incident("catalog", "--format", "table", *v2, db=shared_target)
    assert table.code == 0 and "NoteWritten" in table.out and "v1:2 v2:1" in table.out
    tried = ok("catalog", "--try", "NoteWritten", *v2, db=shared_target)
    assert tried["ok"] and tried["checked"] == 3
    assert tried["decoded"][1]["event"] == {"text": "two words", "words": 2}
    old = incident("catalog", "--try", "NoteWritten", *v1, db=shared_target)
    assert old.code == 3 and "fails" in old.err  # the v1 code cannot read v2 events
