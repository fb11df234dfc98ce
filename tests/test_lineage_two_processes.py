"""A custom-key projection's lineage on in one process and off in another, both open on
one store at once: the "on" one never takes its index for complete while the "off" one
writes what it does not index.

Opening marks the index (off: not complete; on and unmarked: complete from the
checkpoint), but the "off" process may have opened first and keep writing after the "on"
one marked it complete. So each commit of the "off" process that applies custom-key events
marks the index not complete again, in its own transaction: the "on" process's history of a
row then refuses (`LineageIncomplete`) instead of folding from an index that lacks events,
until a rebuild records it again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.engine.lineage import LineageIncomplete
from incident_core.examples.bank import RequestTransfer
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from tests.lineage_reference import (
    assert_derived_equals_reference,
    flows_projection,
    with_projection,
)

pytestmark = pytest.mark.process

WORKER = Path(__file__).with_name("lineage_worker.py")


class Worker:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def say(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()


@contextmanager
def worker(db: str, lineage: str) -> Iterator[Worker]:
    process = subprocess.Popen([sys.executable, str(WORKER), db, lineage],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield Worker(process)
        assert process.stdin is not None
        process.stdin.write("quit\n")
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def transfer(app: Application, transfer_id: str) -> None:
    assert app.dispatch(RequestTransfer(aggregate_id=transfer_id, source_account_number="A",
                                        destination_account_number="B", amount=1)).ok


def test_the_off_process_opened_first_keeps_the_index_incomplete(shared_target: str) -> None:
    db = shared_target  # a SQLite file, a PostgreSQL database
    on = with_projection(bank_domain, flows_projection())
    with worker(db, "off") as off:  # opens first: marks the index not complete
        for line in ("open A", "open B", "deposit A 50"):
            assert off.say(line) == "ok"
        with Application.open(db, on) as app:  # marks it complete from its checkpoint
            transfer(app, "T1")
            assert len(app.row_history("transfer_flows", "T1")) == 2  # indexed here
            assert off.say("transfer T2 A B 1") == "ok"  # applied there, not indexed
            with pytest.raises(LineageIncomplete, match="rebuild transfer_flows"):
                app.row_history("transfer_flows", "T2")
            run_to_end(rebuild(app, ["transfer_flows"]))  # the index again, from 0
            assert len(app.row_history("transfer_flows", "T2")) == 2
            assert_derived_equals_reference(app)
            assert off.say("transfer T3 A B 1") == "ok"  # and again not indexed there
            with pytest.raises(LineageIncomplete):
                app.row_history("transfer_flows", "T3")
            transfer(app, "T4")
            with pytest.raises(LineageIncomplete):
                app.row_history("transfer_flows", "T4")
