"""Shadow rebuilds: replay a projection beside the live one, diff, then swap or discard.

The shadow is the projection's current code folded (with the engine's `ProjectionFold`)
over the whole log, held in memory while the live table keeps serving. At the head it is
compared with the live rows (caught up first if the live projection moved on meanwhile).
`swap` hands the rows to `Application.replace_projection`, which replaces the table and
catches up the events recorded since, in one transaction; `discard` just drops the shadow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from incident_core.engine.application import Application
from incident_core.errors import IncidentError
from incident_core.operations.asof import (
    CHECKPOINT_EVERY,
    SeededFold,
    Snapshotter,
    fold_to,
)
from incident_core.operations.rowdiff import RowDiff, diff_rows, keyed_rows
from incident_core.progress import Operation, Progress

__all__ = ["ShadowRebuild", "ShadowState", "shadow_rebuild"]

LIVE_PAGE = 5000


class ShadowState(IncidentError):
    """The shadow was already swapped in or discarded."""


@dataclass(slots=True)
class ShadowRebuild:
    """A finished shadow: its rows at `position`, their diff against the live rows."""

    app: Application
    name: str
    fold: SeededFold
    position: int
    events_read: int
    seconds: float
    diff: RowDiff
    live_checkpoint: int
    state: str = "ready"  # ready | swapped | discarded
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events_read / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"projection": self.name, "position": self.position, "state": self.state,
                "rows": len(self.rows), "events_read": self.events_read,
                "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events_per_second),
                "identical": self.diff.is_empty, "counts": self.diff.counts}

    def swap(self) -> int:
        """Replace the live rows with the shadow's, catching up the events recorded since
        the shadow's position, atomically. Returns the live checkpoint after the swap."""
        self._ready()
        self.app.replace_projection(self.name, self.rows, self.position)
        self.state = "swapped"
        self.rows = []
        return self.app.store.checkpoints().get(self.name, 0)

    def discard(self) -> None:
        """Forget the shadow; the live projection was never touched."""
        self._ready()
        self.state = "discarded"
        self.rows = []

    def _ready(self) -> None:
        if self.state != "ready":
            raise ShadowState(f"the shadow of {self.name} was already {self.state}")


def _live_rows(app: Application, name: str) -> tuple[int, list[dict[str, Any]]]:
    """The live rows with the checkpoint they stand at (re-read if it moved meanwhile)."""
    spec = app.projection(name).spec
    for _ in range(5):
        checkpoint = app.store.checkpoints().get(name, 0)
        rows: list[dict[str, Any]] = []
        after: str | None = None
        while page := app.store.projection_rows(spec, after_key=after, limit=LIVE_PAGE):
            rows += page
            after = str(page[-1][spec.key])
        if app.store.checkpoints().get(name, 0) == checkpoint:
            return checkpoint, rows
    raise IncidentError(f"the live projection {name} kept moving; try again")


def shadow_rebuild(app: Application, name: str, *,
                   every: int | None = CHECKPOINT_EVERY) -> Operation[ShadowRebuild]:
    """Replay the log into a shadow of projection `name`, then diff it with the live rows.
    Writes nothing but row snapshots (see `asof`)."""
    projection = app.projection(name)
    started = time.perf_counter()
    head = app.store.head()
    fold = SeededFold(app.domain, [projection])
    snapper = Snapshotter(app, fold, [projection], 0, every)
    yield Progress(0, head, "replaying into the shadow")
    for position in fold_to(app, fold, snapper, 0, head):
        yield Progress(position, head, "replaying into the shadow")
    yield Progress(head, head, "comparing with the live rows")
    checkpoint, live = _live_rows(app, name)
    if checkpoint > head:  # the live projection moved on: compare at the same position
        for _ in fold_to(app, fold, snapper, head, checkpoint):
            pass
        head = checkpoint
    rows = fold.dumped(name)
    spec = projection.spec
    diff = diff_rows(spec, keyed_rows(spec, live), keyed_rows(spec, rows))
    return ShadowRebuild(app, name, fold, head, fold.applied(name),
                         time.perf_counter() - started, diff, checkpoint, rows=rows)
