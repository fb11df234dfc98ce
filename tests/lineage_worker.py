"""Run as a separate OS process by the two-process lineage test:

    lineage_worker.py DB on|off

Opens (creating) DB, a SQLite file or a PostgreSQL URL, with the bank domain plus
`transfer_flows`, a custom-key projection, its lineage on or off; prints `ready`, then per
line on stdin: `open ACCOUNT`, `deposit ACCOUNT AMOUNT` or `transfer ID FROM TO AMOUNT`
dispatched, answered `ok` or `rejected`; `quit` closes the store and ends."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incident_core import Application, Command
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer
from incident_core.examples.bank import domain as bank_domain
from tests.lineage_reference import flows_projection, with_projection


def command(words: list[str]) -> Command:
    if words[0] == "open":
        return OpenAccount(aggregate_id=words[1])
    if words[0] == "deposit":
        return DepositMoney(aggregate_id=words[1], amount=int(words[2]))
    return RequestTransfer(aggregate_id=words[1], source_account_number=words[2],
                           destination_account_number=words[3], amount=int(words[4]))


def main() -> None:
    db, lineage = sys.argv[1], sys.argv[2] == "on"
    domain = with_projection(bank_domain, flows_projection(lineage=lineage))
    with Application.open(db, domain, create=True) as app:
        print("ready", flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words or words[0] == "quit":
                break
            print("ok" if app.dispatch(command(words)).ok else "rejected", flush=True)


if __name__ == "__main__":
    main()
