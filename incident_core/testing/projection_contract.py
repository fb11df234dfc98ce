"""The projection store's contract: rows by key, checkpoints, table shapes, replacement,
and the store's metadata."""

from __future__ import annotations

from incident_core.ports import EventStore
from incident_core.projections import ColumnSpec, ProjectionSpec
from incident_core.testing.factory import SPEC, ContractBase

__all__ = ["ProjectionContract"]


class ProjectionContract(ContractBase):
    """Checks of the `ProjectionStore` role and the projection side of a transaction."""

    def test_projection_rows_checkpoints_and_replacement(self, store: EventStore) -> None:
        with store.transaction() as tx:
            assert tx.ensure_projection(SPEC) is True
            assert tx.checkpoint("things") == 0
            tx.put_row(SPEC, {"aggregate_id": "b", "count": 2, "label": None, "ratio": 0.5,
                              "flag": True})
            tx.put_row(SPEC, {"aggregate_id": "a", "count": 1, "label": "x", "ratio": None,
                              "flag": False})
            tx.put_row(SPEC, {"aggregate_id": "a", "count": 3, "label": "y", "ratio": None,
                              "flag": None})
            assert tx.get_row(SPEC, "a") == {"aggregate_id": "a", "count": 3, "label": "y",
                                             "ratio": None, "flag": None}
            tx.set_checkpoint("things", 7)
        with store.transaction() as tx:
            assert tx.ensure_projection(SPEC) is False
        assert [r["aggregate_id"] for r in store.projection_rows(SPEC)] == ["a", "b"]
        assert store.projection_rows(SPEC, after_key="a") == [
            {"aggregate_id": "b", "count": 2, "label": None, "ratio": 0.5, "flag": True}]
        assert store.projection_row_count(SPEC) == 2
        assert store.checkpoints()["things"] == 7
        with store.transaction() as tx:
            tx.delete_row(SPEC, "b")
            assert tx.get_row(SPEC, "b") is None
        assert store.projection_row_count(SPEC) == 1
        rows = [{"aggregate_id": f"k{i:03}", "count": i, "label": None, "ratio": None,
                 "flag": None} for i in range(120)]
        with store.transaction() as tx:
            tx.replace_projection(SPEC, rows, 42)
        assert store.projection_rows(SPEC, limit=2) == rows[:2]
        assert store.projection_row_count(SPEC) == 120 and store.checkpoints()["things"] == 42
        with store.transaction() as tx:  # a second replacement works as well (index names etc.)
            tx.replace_projection(SPEC, rows[:1], 43)
        assert store.projection_row_count(SPEC) == 1

    def test_a_changed_projection_shape_recreates_its_table(self, store: EventStore) -> None:
        with store.transaction() as tx:
            tx.ensure_projection(SPEC)
            tx.put_row(SPEC, {"aggregate_id": "a", "count": 1, "label": None, "ratio": None,
                              "flag": None})
            tx.set_checkpoint("things", 5)
        wider = ProjectionSpec("things", "aggregate_id", (*SPEC.columns,
                                                           ColumnSpec("extra", "text", True)))
        with store.transaction() as tx:
            assert tx.ensure_projection(wider) is True
        assert store.projection_row_count(wider) == 0 and store.checkpoints()["things"] == 0

    def test_projection_signatures_follow_the_table_shape(self, store: EventStore) -> None:
        with store.transaction() as tx:
            tx.ensure_projection(SPEC)
        assert store.projection_signatures()["things"] == SPEC.signature

    def test_meta_keys_are_added_never_overwritten(self, store: EventStore) -> None:
        before = store.meta()
        after = store.add_meta({"domain": "bank", "format": "other"})
        assert after["domain"] == "bank" and after.get("format") == before.get("format", "other")
        assert store.add_meta({"domain": "library"})["domain"] == "bank"
        assert store.meta() == after
