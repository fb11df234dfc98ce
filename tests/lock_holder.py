"""The process that keeps a store open in tests/test_lock_keeping.py.

`python lock_holder.py <db> <action>`: open the store, dispatch, run `action` (one of the
paths that used to close a descriptor of the store file in this process, dropping SQLite's
POSIX locks), print `ready`; on a line from stdin dispatch again and print `acked`; on a
second line close the store and print `closed`. The test kills it with SIGKILL instead of
sending the second line to check that the acknowledged dispatch survives.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable
from pathlib import Path

from incident_core import Application, StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount, domain


def _second_open(db: str) -> None:
    Application.open(db, domain).close()


def _second_read_only(db: str) -> None:
    Application.open(db, domain, read_only=True).close()


def _threads(db: str) -> None:
    """Stores opening and closing on the file in several threads at once (the GUI's
    workers), each also reading the header."""
    from concurrent.futures import ThreadPoolExecutor

    from incident_core.store.sql.sqlite_files import structural_problem

    def churn(_: int) -> None:
        for _round in range(5):
            Application.open(db, domain, read_only=_round % 2 == 1).close()
            assert structural_problem(Path(db)) is None

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(churn, range(4)))


def _inspect(db: str) -> None:
    from incident_core.store.sql.sqlite_files import structural_problem
    from incident_core.store.sql.sqlite_open import inspect_sqlite

    assert inspect_sqlite(Path(db)) >= 1
    assert structural_problem(Path(db)) is None


def _remove_refused(db: str) -> None:
    from incident_core.store.open import remove_sqlite_files

    try:
        remove_sqlite_files(db)
    except StoreError as exc:
        assert "open in this program" in str(exc), exc
    else:
        raise AssertionError("a store open in this process was deleted")


def _cli(*args: str) -> Callable[[str], None]:
    def run(db: str) -> None:
        from incident_core.cli.main import main

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main([*args, "--db", db])
        assert code == 0 and "Traceback" not in out.getvalue(), out.getvalue()
    return run


ACTIONS: dict[str, Callable[[str], None]] = {
    "second_open": _second_open,
    "second_read_only": _second_read_only,
    "threads": _threads,
    "inspect": _inspect,
    "remove_refused": _remove_refused,
    "cli_events": _cli("events"),  # the quick read path, in this process
    "cli_verify": _cli("verify"),  # the structural check of an open store
}


def main(db: str, action: str) -> None:
    app = Application.open(db, domain, create=True)
    assert app.dispatch(OpenAccount(aggregate_id="a")).ok
    ACTIONS[action](db)
    print("ready", flush=True)
    sys.stdin.readline()
    print("acked" if app.dispatch(DepositMoney(aggregate_id="a", amount=2)).ok else "refused",
          flush=True)
    sys.stdin.readline()
    app.close()
    print("closed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
