"""A bank twin whose rebuild stages lineage early and folds slowly, for a rebuild child
killed with its lineage partly staged (`test_rebuild_child_staging`).

`slow_sources` counts each source account's transfer requests, keyed by the account (a
custom key: a rebuild stages its lineage index), sleeping a little per event so that a
replay of a few hundred transfers takes a while. `domain()` (what the child loads) also
makes the child's rebuild read small pages and flush its staged entries every few, so
that some are written long before the replay ends; `bank_twin()` is the same domain
without that, for the test's own process.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from pydantic import BaseModel

from incident_core.domain import Domain
from incident_core.engine import lineage
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.bank.transfers import TransferRequested
from incident_core.projections import Projection
from tests.dict_rows_domains import twin

PAUSE = 0.002  # seconds per transfer request folded


class SourceRow(BaseModel):
    account: str
    requests: int


slow_sources = Projection("slow_sources", SourceRow, key="account")


@slow_sources.on(TransferRequested, key=lambda recorded, event: event.source_account_number)
def requested(row: SourceRow | None, event: TransferRequested,
              recorded: RecordedEvent) -> SourceRow:
    time.sleep(PAUSE)
    return SourceRow(account=event.source_account_number,
                     requests=1 if row is None else row.requests + 1)


def bank_twin() -> Domain:
    return twin(bank_domain, [slow_sources])


def domain() -> Domain:
    """`bank_twin()`, its rebuild (in this process) reading pages of 50 positions and
    flushing its staged lineage every 5 entries."""
    rebuild: Any = importlib.import_module("incident_core.operations.rebuild")
    rebuild.PAGE = 50
    lineage.FLUSH = 5
    return bank_twin()
