"""`incident events` on a SQLite file reads with sqlite3 alone (incident_core.cli.quick): the
same output as the ordinary path on every example domain, no SQLAlchemy, pydantic or domain
imported, and every refusal and byte of the file kept."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from incident_core import Application, open_store
from incident_core.cli.main import main
from incident_core.examples.library import AddBook, Genre, LendBook, RegisterMember, ReturnBook
from incident_core.examples.library import domain as library_domain
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.store.sql.store import SqlEventStore
from tests.schema_downgrade import downgrade_to_3
from tests.shipping_data import book, register_vessel
from tests.test_cli import WHY, clean_env, folder_state, foreign_files, incident, ok

LISTINGS = [
    ["--format", "json"],
    ["--format", "ndjson"],
    ["--format", "table"],
    ["--limit", "1"],
    ["--after", "2", "--limit", "1100"],  # more than one page (1000) of the bank
    ["--type", "MoneyDeposited", "--type", "LoanRecorded", "--type", "ShipmentBooked"],
]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store of each example domain, written through real commands."""
    folder = tmp_path_factory.mktemp("quick")
    bank = folder / "bank.sqlite3"
    ok("demo", "--accounts", "20", "--transfers", "300", "--seed", "3", db=bank)
    library = folder / "library.sqlite3"
    with Application.open(str(library), library_domain, create=True) as app:
        app.dispatch(AddBook(aggregate_id="B1", title="Dune", author="Herbert",
                             genre=Genre.FICTION))
        app.dispatch(RegisterMember(aggregate_id="ann", name="Ann", deposit=Decimal("5.50")))
        loan = UUID(int=7)
        app.dispatch(LendBook(aggregate_id="B1", member_id="ann", loan_id=loan))
        app.dispatch(ReturnBook(aggregate_id="B1"))
    shipping = folder / "shipping.sqlite3"
    with Application.open(str(shipping), shipping_domain, create=True) as app:
        app.dispatch(register_vessel())
        for n in range(3):
            app.dispatch(book(UUID(int=n + 1)))
    return {"bank": bank, "library": library, "shipping": shipping}


def schema_of(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        [(version,)] = conn.execute(
            "SELECT value FROM incident_meta WHERE key = 'schema_version'").fetchall()
    return str(version)


def listed(capsys: pytest.CaptureFixture[str], target: str, args: list[str]) -> str:
    assert main(["--db", target, "events", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("args", LISTINGS)
@pytest.mark.parametrize("name", ["bank", "library", "shipping"])
def test_the_quick_listing_prints_what_the_ordinary_path_prints(
        stores: dict[str, Path], name: str, args: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    path = stores[name]
    assert schema_of(path) == "6"  # what a store is made with
    quick = listed(capsys, str(path), args)
    ordinary = listed(capsys, f"sqlite:///{path}", args)  # a URL: never the quick path
    assert quick == ordinary
    assert quick.strip() not in ("", "[]")


def test_an_aggregate_filter_lists_the_same_events(stores: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = stores["bank"]
    some = json.loads(listed(capsys, str(path), ["--limit", "40"]))[-1]["aggregate_id"]
    for args in (["--aggregate", some], ["--aggregate", some, "--type", "MoneyDeposited"]):
        quick = listed(capsys, str(path), args)
        assert quick == listed(capsys, f"sqlite:///{path}", args)
        assert {e["aggregate_id"] for e in json.loads(quick)} == {some}


def imported_modules(path: Path, *args: str) -> tuple[list[str], str]:
    """Run `incident events` in a fresh interpreter: (heavy modules it imported, stdout)."""
    code = ("import sys, io\n"
            "from incident_core.cli.main import main\n"
            "out = io.StringIO(); real = sys.stdout; sys.stdout = out\n"
            f"code = main(['--db', {str(path)!r}, 'events', *{list(args)!r}])\n"
            "sys.stdout = real\n"
            "heavy = [m for m in ('sqlalchemy', 'pydantic', 'incident_core.domain', "
            "'incident_core.engine', 'incident_core.examples') if m in sys.modules]\n"
            "print(code, ' '.join(heavy)); print(out.getvalue(), end='')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=clean_env(), timeout=120)
    status, _, out = done.stdout.partition("\n")
    code_text, _, heavy = status.partition(" ")
    assert code_text == "0", done.stderr
    return heavy.split(), out


@pytest.mark.parametrize("name", ["bank", "shipping"])
def test_listing_events_imports_no_sqlalchemy_pydantic_or_domain(
        stores: dict[str, Path], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    heavy, out = imported_modules(stores[name], "--limit", "5")
    assert heavy == []
    assert out == listed(capsys, f"sqlite:///{stores[name]}", ["--limit", "5"])


def test_the_quick_listing_leaves_the_file_and_its_folder_as_they_were(
        stores: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "copy.sqlite3"
    shutil.copyfile(stores["library"], path)
    before = folder_state(path)
    heavy, out = imported_modules(path)
    assert heavy == [] and len(json.loads(out)) > 0
    assert folder_state(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.sqlite3"]


def test_foreign_newer_and_corrupt_files_are_refused_untouched(
        stores: dict[str, Path], tmp_path: Path) -> None:
    for kind, path in foreign_files(tmp_path, stores["bank"]).items():
        before = folder_state(path)
        run = incident("events", db=path)
        assert (run.code, run.out) == (4, ""), (kind, run.err)
        [line] = run.err.splitlines()
        assert line.startswith(f"incident: {path} {WHY[kind]}"), (kind, line)
        assert folder_state(path) == before, kind


def test_a_store_of_another_schema_takes_the_ordinary_path(
        stores: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "older.sqlite3"
    shutil.copyfile(stores["shipping"], path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE incident_meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    heavy, out = imported_modules(path, "--limit", "3")
    assert "sqlalchemy" in heavy  # not the quick path: the ordinary one read it
    assert [e["position"] for e in json.loads(out)] == [1, 2, 3]


def test_a_schema_3_file_is_listed_quickly_as_the_ordinary_path_lists_it(
        stores: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(stores["bank"], path)
    with open_store(str(path)) as store:
        assert isinstance(store, SqlEventStore)
        downgrade_to_3(store)
    assert schema_of(path) == "3"
    before = folder_state(path)
    for args in LISTINGS:
        quick = listed(capsys, str(path), args)
        assert quick == listed(capsys, f"sqlite:///{path}", args), args
        assert quick.strip() not in ("", "[]")
    heavy, out = imported_modules(path, "--limit", "5")
    assert heavy == []
    assert out == listed(capsys, f"sqlite:///{path}", ["--limit", "5"])
    assert listed(capsys, str(path), []) == listed(capsys, str(stores["bank"]), [])
    assert folder_state(path) == before  # read as it is: still schema 3
