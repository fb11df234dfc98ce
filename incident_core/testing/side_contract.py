"""The contract of what a store keeps beside the log and the projections: the saga
ledger (parked steps, rejected saga commands), row lineage and aggregate snapshots."""

from __future__ import annotations

import json
from dataclasses import replace

from incident_core.ports import EventStore, StoredSnapshot
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.testing.factory import ContractBase, append, pending

__all__ = ["LineageContract", "SagaLedgerContract", "SnapshotContract"]

WHEN = "2026-01-01T00:00:00.000000+00:00"


class SagaLedgerContract(ContractBase):
    """Checks of the `SagaLedger` role and the saga side of a transaction."""

    def test_parked_steps_are_kept_until_unparked(self, store: EventStore) -> None:
        step = ParkedStep("pm", 3, "e3", "Happened", "a", "corr", "boom", "Traceback ...",
                          WHEN, 1, "parked")
        skipped = replace(step, process_manager="other", position=1, status="skipped",
                          skip_reason="not needed")
        with store.transaction() as tx:
            tx.park(replace(step, position=5))
            tx.park(step)
            tx.park(skipped)
            assert tx.parked("pm", 3) == step
        assert [(s.process_manager, s.position) for s in store.parked_steps()] == [
            ("pm", 3), ("pm", 5)]
        assert store.parked_steps(include_skipped=True, process_manager="other") == [skipped]
        with store.transaction() as tx:
            tx.park(replace(step, attempts=2))
            tx.unpark("pm", 5)
            assert tx.parked("pm", 5) is None
        assert store.parked_steps() == [replace(step, attempts=2)]

    def test_saga_outcomes_by_conversation_in_recording_order(self, store: EventStore) -> None:
        first = SagaOutcome("pm", 2, "e2", "corr", "Withdraw", "a", "insufficient_funds",
                            "balance 0", WHEN)
        second = replace(first, cause_position=4, reason="account_closed")
        with store.transaction() as tx:
            tx.record_saga_outcome(first)
            tx.record_saga_outcome(replace(first, correlation_id="other"))
            tx.record_saga_outcome(second)
        assert store.saga_outcomes(correlation_id="corr") == [first, second]
        assert store.saga_outcomes(correlation_id="nobody") == []


class LineageContract(ContractBase):
    """Checks of the row lineage index: written with the rows, read back joined with the
    events it names, renamed and cleared by a rebuild's swap, complete from a mark."""

    def test_index_entries_name_their_events(self, store: EventStore) -> None:
        append(store, pending("a", 1), pending("a", 2), pending("b", 1))
        one, two, three = store.read_events()
        with store.transaction() as tx:
            tx.record_lineage([("things", "k", one.position), ("things", "k", three.position),
                               ("things", "j", two.position)])
            tx.record_lineage([("things", "k", one.position)])  # kept once
        found = store.lineage_events("things", "k")
        assert [e.event_id for e in found] == [one.event_id, three.event_id]
        assert [e.event_id for e in store.lineage_events("things", "k", until=2)] == [
            one.event_id]
        assert store.lineage_events("things", "nobody") == []
        assert store.lineage_start("things") == 0  # made by its first entry
        with store.transaction() as tx:
            tx.rename_lineage("things", "renamed")
        assert store.lineage_events("things", "k") == []
        assert len(store.lineage_events("renamed", "k")) == 2
        with store.transaction() as tx:
            tx.clear_lineage("renamed")
        assert store.lineage_events("renamed", "k") == []
        assert store.lineage_start("renamed") is None

    def test_a_mark_says_from_where_the_index_is_complete(self, store: EventStore) -> None:
        assert store.lineage_start("things") is None
        with store.transaction() as tx:
            tx.mark_lineage("things", 5)
            tx.mark_lineage("things", 9)  # kept: it was set
        assert store.lineage_start("things") == 5
        with store.transaction() as tx:
            tx.mark_lineage("things", None)  # its lineage is off
        assert store.lineage_start("things") is None
        with store.transaction() as tx:
            tx.mark_lineage("things", 12)  # on again: complete after 12 only
        assert store.lineage_start("things") == 12
        try:
            with store.transaction() as tx:
                tx.mark_lineage("things", None)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert store.lineage_start("things") == 12


class SnapshotContract(ContractBase):
    """Checks of the `SnapshotStore` role (leave it out for an adapter that keeps none)."""

    def test_the_newest_snapshot_of_a_fingerprint_is_found(self, store: EventStore) -> None:
        snap = StoredSnapshot("a", "Thing", 2, "fp1", '{"n":2}', WHEN)
        with store.transaction() as tx:
            tx.save_snapshot(replace(snap, version=1, state='{"n":1}'))
            tx.save_snapshot(snap)
        assert store.latest_snapshot("a", "Thing", "fp1") == snap
        older = store.latest_snapshot("a", "Thing", "fp1", at_version=1)
        assert older is not None and older.state == '{"n":1}'
        assert store.latest_snapshot("a", "Thing", "fp2") is None
        assert store.latest_snapshot("a", "Other", "fp1") is None
        assert store.snapshot_versions(["a", "b"]) == {"a": 2}
        with store.transaction() as tx:  # a new state model: the old snapshots go
            tx.save_snapshot(replace(snap, version=3, fingerprint="fp2"))
        assert store.latest_snapshot("a", "Thing", "fp1") is None
        assert store.snapshot_versions(["a"]) == {"a": 3}


def _json(values: dict[str, int] | None) -> str | None:
    return None if values is None else json.dumps(values)
