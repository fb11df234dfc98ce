"""A reference for derived row lineage: the history of every projection row recorded by
folding the whole log event by event (each projection's single `step`, rows as dicts),
independently of the engine's row buffer; and test projections with custom keys."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from incident_core import Application
from incident_core.domain import Domain
from incident_core.engine.decoder import decode
from incident_core.engine.lineage import custom_types
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import (
    MoneyReceived,
    MoneySent,
    MoneySentReverted,
    TransferCompleted,
)
from incident_core.projections import DELETE, Projection
from incident_core.projections.definition import Delete

Change = tuple[int, str, str, Any, Any]  # position, event id, type, before, after
_dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=str).encode


class Reference:
    """`changes[(projection, key)]`: the row's changes; `custom[(projection, key)]`: the
    positions of every custom-key event applied to it (what the index must list)."""

    def __init__(self, app: Application) -> None:
        self.changes: dict[tuple[str, str], list[Change]] = defaultdict(list)
        self.custom: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.by_position: dict[int, set[tuple[str, str]]] = defaultdict(set)
        rows: dict[tuple[str, str], Any] = {}
        projections = [p for p in app.domain.projections.values() if p.lineage]
        for batch in app.store.iter_events():
            for recorded in batch:
                if app.domain.knows_event(recorded.event_type):
                    self._fold(app, projections, rows, recorded)

    def _fold(self, app: Application, projections: list[Projection[Any]],
              rows: dict[tuple[str, str], Any], recorded: RecordedEvent) -> None:
        event = decode(app.domain, recorded)
        for projection in projections:
            if not projection.handles(recorded.event_type):
                continue
            row = (projection.name, projection.key_for(recorded, event))
            if recorded.event_type in custom_types(projection):
                self.custom[row].append(recorded.position)
            before = rows.get(row)
            result = projection.step(before, recorded, event)
            if result is None:
                continue
            after = None if isinstance(result, Delete) else result
            rows[row] = after
            if _dumps(after) != _dumps(before):
                self.changes[row].append((recorded.position, recorded.event_id,
                                          recorded.event_type, before, after))
                self.by_position[recorded.position].add(row)


def derived(app: Application, projection: str, key: str) -> list[Change]:
    return [(e.position, e.event_id, e.event_type, e.before, e.after)
            for e in app.row_history(projection, key)]


def assert_derived_equals_reference(app: Application) -> Reference:
    """Every row's derived history, the rows each event changed and the index's entries
    equal the reference's."""
    ref = Reference(app)
    for (name, key), changes in ref.changes.items():
        assert derived(app, name, key) == changes, (name, key)
    for position in range(1, app.store.head() + 1):
        found = {(e.projection, e.row_key) for e in app.rows_changed_by(position)}
        assert found == ref.by_position.get(position, set()), position
    for (name, key), positions in ref.custom.items():
        assert [e.position for e in app.store.lineage_events(name, key)] == positions
    return ref


class FlowRow(BaseModel):
    transfer_id: str
    sent: int
    received: int


def flows_projection(*, lineage: bool = True) -> Projection[FlowRow]:
    """Transfers as their accounts' streams tell them: keyed by the transfer id carried by
    account events (a custom key), touched by the transfer's own stream (default key) with
    the row unchanged, deleted when a send is reverted."""
    flows = Projection("transfer_flows", FlowRow, key="transfer_id", lineage=lineage)

    @flows.on(MoneySent, MoneyReceived, MoneySentReverted,
              key=lambda recorded, event: str(event.transfer_id))
    def moved(row: FlowRow | None, event: Any, recorded: RecordedEvent) -> object:
        if isinstance(event, MoneySentReverted):
            return DELETE
        row = row or FlowRow(transfer_id=event.transfer_id, sent=0, received=0)
        if isinstance(event, MoneySent):
            return row.model_copy(update={"sent": row.sent + event.amount})
        return row.model_copy(update={"received": row.received + event.amount})

    @flows.on(TransferCompleted)
    def completed(row: FlowRow | None, event: TransferCompleted,
                  recorded: RecordedEvent) -> FlowRow | None:
        return row  # the same values: not a change

    return flows


def with_projection(domain: Domain, *extra: Projection[Any]) -> Domain:
    return Domain(domain.name, aggregates=list(domain.aggregates.values()),
                  projections=[*domain.projections.values(), *extra],
                  process_managers=list(domain.process_managers.values()))


def _bank_with_flows() -> Domain:
    from incident_core.examples.bank import domain as bank_domain

    return with_projection(bank_domain, flows_projection())


FLOWS = _bank_with_flows()  # for the CLI: --domain tests.lineage_reference:FLOWS
