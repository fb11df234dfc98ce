"""Terminals are never hijacked (issue 9, item 5): store text with control characters is
shown escaped in tables and messages, never sent raw to the terminal."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.cli.output import visible
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank
from tests.test_cli import incident

EVIL = "\u001b]0;PWNED\u0007\u001b[2J"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture
def evil_store(tmp_path: Path) -> Path:
    db = tmp_path / "evil.sqlite3"
    with Application.open(str(db), bank, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id=EVIL))
        app.dispatch(DepositMoney(aggregate_id=EVIL, amount=5))
    return db


def test_visible_escapes_control_characters() -> None:
    assert visible(EVIL) == "\\x1b]0;PWNED\\x07\\x1b[2J"
    assert visible("tab\there \x9b1m \u202eevil") == "tab\\there \\x9b1m \\u202eevil"
    assert visible("plain ünïcødé €") == "plain ünïcødé €"


@pytest.mark.parametrize("args", [["streams"], ["events"], ["state", EVIL],
                                  ["projection", "bank_accounts"]])
def test_tables_show_control_characters_escaped(evil_store: Path, args: list[str]) -> None:
    run = incident(*args, "--format", "table", db=evil_store)
    assert run.code == 0, run.err
    assert "\\x1b]0;PWNED\\x07\\x1b[2J" in run.out
    assert not any(c in run.out + run.err for c in RAW)


def test_messages_show_control_characters_escaped(evil_store: Path) -> None:
    with sqlite3.connect(evil_store) as conn:  # a streams table that disagrees with the log
        conn.execute("UPDATE incident_streams SET version = 7")
    run = incident("verify", db=evil_store)
    assert run.code == 3
    assert "stream \\x1b]0;PWNED\\x07\\x1b[2J: streams table says version 7" in run.err
    assert not any(c in run.err for c in RAW)


C1_ID = "acct\x9b2J\u202eevil\u2028é"


@pytest.mark.parametrize("args", [["events"], ["events", "--format", "ndjson"], ["streams"],
                                  ["state", C1_ID], ["projection", "bank_accounts"]])
def test_json_output_escapes_what_a_terminal_could_act_on(tmp_path: Path,
                                                          args: list[str]) -> None:
    db = tmp_path / "c1.sqlite3"
    with Application.open(str(db), bank, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id=C1_ID))
    run = incident(*args, db=db)
    assert run.code == 0, run.err
    assert not any(c in run.out for c in ("\x9b", "\u202e", "\u2028"))
    assert "é" in run.out  # readable text is kept as it is
    values = [json.loads(line) for line in run.out.splitlines() if line.strip()]
    assert C1_ID in json.dumps(values, ensure_ascii=False)  # the same value, escaped
