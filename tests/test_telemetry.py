"""OpenTelemetry (the `otel` extra): the spans and metrics of real dispatches, saga steps,
replays, rebuilds and imports on SQLite stores (dispatch and group commit on PostgreSQL
too), read back through the SDK's in-memory exporter and metric reader; and nothing of
OpenTelemetry loaded or run unless enabled."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from incident_core import Application, IncidentError, telemetry
from incident_core.engine import committing
from incident_core.engine.deciding import Decider
from incident_core.engine.unit import Unit
from incident_core.examples import bank
from incident_core.examples.bank.accounts import DepositMoney, OpenAccount
from incident_core.operations import export_events, import_events, rebuild, verify
from incident_core.process import Accepted, Rejected
from incident_core.progress import Progress, run_to_end
from tests import group_commit_domain as g
from tests import trust_domain as t

ROOT = Path(__file__).resolve().parent.parent


class Seen:
    """What the SDK received: finished spans and collected metric points."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if name in (None, s.name)]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.parent is not None
                and s.parent.span_id == parent.context.span_id]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return [point for resource in data.resource_metrics for scope in resource.scope_metrics
                for m in scope.metrics if m.name == metric for point in m.data.data_points]


@pytest.fixture
def seen() -> Iterator[Seen]:
    sdk = Seen()
    telemetry.enable(tracer_provider=sdk.tracer_provider, meter_provider=sdk.meter_provider)
    try:
        yield sdk
    finally:
        telemetry.disable()
        sdk.tracer_provider.shutdown()
        sdk.meter_provider.shutdown()


def test_a_dispatch_is_a_span_with_its_phases_as_children(seen: Seen,
                                                           shared_target: str) -> None:
    with Application.open(shared_target, bank.domain, create=True) as app:
        result = app.dispatch(OpenAccount(aggregate_id="acc-1"))
    assert isinstance(result, Accepted)
    (span,) = seen.spans("incident.dispatch")
    assert span.attributes is not None
    assert dict(span.attributes) == {
        "incident.command.type": "OpenAccount", "incident.aggregate.type": "Account",
        "incident.aggregate.id": "acc-1", "incident.outcome": "accepted", "incident.events": 1}
    assert span.status.status_code is StatusCode.UNSET
    phases = [s.name for s in seen.children(span)]
    assert phases == ["incident.load", "incident.decide", "incident.commit"]
    (commit,) = seen.spans("incident.commit")
    assert [s.name for s in seen.children(commit)] == ["incident.project"]
    (duration,) = seen.points("incident.dispatch.duration")
    assert duration.count == 1 and duration.sum > 0
    assert dict(duration.attributes) == {"incident.command.type": "OpenAccount",
                                         "incident.outcome": "accepted"}
    (appended,) = seen.points("incident.events.appended")
    assert appended.value == len(result.events)


def test_a_rejection_and_a_domain_error_are_marked(seen: Seen, tmp_path: Path) -> None:
    with Application.open(str(tmp_path / "s.sqlite3"), g.domain, create=True) as app:
        rejected = app.dispatch(g.Put(aggregate_id="box", n=-1))
        with pytest.raises(IncidentError, match="unlucky"):  # the projection raises for 13
            app.dispatch(g.Put(aggregate_id="box", n=13))
        assert app.store.head() == 0
    assert isinstance(rejected, Rejected)
    refused, failed = seen.spans("incident.dispatch")
    assert refused.attributes is not None and failed.attributes is not None
    assert refused.attributes["incident.outcome"] == "rejected"
    assert refused.attributes["incident.rejection.reason"] == rejected.reason == "negative"
    assert refused.attributes["incident.events"] == 0
    assert "incident.commit" not in [s.name for s in seen.children(refused)]
    assert failed.attributes["incident.outcome"] == "error"
    assert failed.status.status_code is StatusCode.ERROR
    assert any(e.name == "exception" for e in failed.events)
    (project,) = [s for s in seen.spans("incident.project") if s.status.status_code
                  is StatusCode.ERROR]
    assert failed.context.span_id in _ancestors(seen, project)  # where it failed
    assert [p.attributes["incident.outcome"] for p in seen.points("incident.dispatch.duration")
            if p.attributes is not None] == ["rejected", "error"]
    assert seen.points("incident.events.appended") == []  # nothing was committed


def test_a_failing_saga_step_is_a_parked_span_under_its_dispatch(
        seen: Seen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(t.FAIL, "auditor", True)  # the auditor's "bug": it raises on "boom"
    with Application.open(str(tmp_path / "s.sqlite3"), t.domain, create=True) as app:
        result = app.dispatch(t.Post(aggregate_id=uuid.uuid4(),
                                     legs=[t.Leg(account="boom", amount=1)]))
        assert [p.process_manager for p in app.parked_steps()] == ["auditor"]
    assert isinstance(result, Accepted) and len(result.saga_failures) == 1
    (dispatch,) = seen.spans("incident.dispatch")
    assert dispatch.attributes is not None
    assert dispatch.attributes["incident.outcome"] == "accepted"
    assert dispatch.attributes["incident.saga_failures"] == 1
    (sagas,) = [s for s in seen.children(dispatch) if s.name == "incident.sagas"]
    steps = seen.spans("incident.saga_step")
    parked = [s for s in steps if s.attributes and s.attributes["incident.outcome"] == "parked"]
    assert len(parked) == 1 and parked[0].status.status_code is StatusCode.ERROR
    assert parked[0].attributes is not None
    assert parked[0].attributes["incident.process_manager"] == "auditor"
    assert parked[0].attributes["incident.event.type"] == "Posted"
    assert parked[0].status.description is not None and "boom" in parked[0].status.description
    ok = {s.attributes["incident.process_manager"] for s in steps
          if s.attributes and s.attributes["incident.outcome"] == "ok"}
    assert {"echo", "mirror"} <= ok
    assert parked[0].context.trace_id == dispatch.context.trace_id  # the same trace
    assert sagas.context.span_id in _ancestors(seen, parked[0])


def _ancestors(seen: Seen, span: ReadableSpan) -> set[int]:
    by_id = {s.context.span_id: s for s in seen.spans()}
    found: set[int] = set()
    while span.parent is not None and span.parent.span_id in by_id:
        found.add(span.parent.span_id)
        span = by_id[span.parent.span_id]
    return found


def test_replay_rebuild_and_import_spans(seen: Seen, tmp_path: Path) -> None:
    exported = io.StringIO()
    with Application.open(str(tmp_path / "a.sqlite3"), bank.domain, create=True) as app:
        for n in range(3):
            app.dispatch(OpenAccount(aggregate_id=f"acc-{n}"))
            app.dispatch(DepositMoney(aggregate_id=f"acc-{n}", amount=10 + n))
        state = app.state("acc-2")
        report = run_to_end(rebuild(app, ["bank_accounts"]))
        run_to_end(export_events(app.store, exported))
    with Application.open(str(tmp_path / "b.sqlite3"), bank.domain, create=True) as other:
        lines = exported.getvalue().splitlines()
        assert run_to_end(import_events(other, lines)) == 6
        assert other.store.head() == 6
    assert state is not None
    (replay,) = seen.spans("incident.replay")
    assert replay.attributes is not None and dict(replay.attributes) == {
        "incident.aggregate.id": "acc-2", "incident.aggregate.type": "Account",
        "incident.version": state.version}
    (rebuilt,) = seen.spans("incident.rebuild")
    assert rebuilt.attributes is not None
    assert list(rebuilt.attributes["incident.projections"]) == ["bank_accounts"]
    assert rebuilt.attributes["incident.events"] == report.events_read == 6
    (imported,) = seen.spans("incident.import")
    assert imported.attributes is not None
    assert (imported.attributes["incident.events"], imported.attributes["incident.batches"]) \
        == (6, 1)
    (batch,) = seen.children(imported)
    assert batch.name == "incident.import.batch"


def test_a_summary_that_fails_never_costs_the_result(seen: Seen) -> None:
    def broken(result: Any) -> dict[str, Any]:
        raise KeyError("no such field")

    def steps() -> Generator[Progress, None, str]:
        yield Progress(0, 1)
        return "done"

    traced = telemetry.operation("incident.test", broken)(steps)
    assert run_to_end(traced()) == "done"
    (span,) = seen.spans("incident.test")
    assert span.attributes is not None
    assert span.attributes["incident.telemetry.error"] == "KeyError: 'no such field'"


def test_a_closed_operation_says_cancelled(seen: Seen, tmp_path: Path) -> None:
    with Application.open(str(tmp_path / "a.sqlite3"), bank.domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="acc"))
        operation = rebuild(app, ["bank_accounts"])
        next(operation)
        operation.close()
    (span,) = seen.spans("incident.rebuild")
    assert span.attributes is not None and span.attributes["incident.cancelled"] is True


def test_group_commit_batch_sizes_under_four_threads(seen: Seen, shared_target: str) -> None:
    per_thread = 40
    with Application.open(shared_target, g.domain, create=True) as app:
        def work(n: int) -> None:
            for i in range(per_thread):
                assert app.dispatch(g.Put(aggregate_id=f"box-{n}-{i % 3}", n=1)).ok
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        group = app.group_commit
        assert group is not None
        (sizes,) = seen.points("incident.group_commit.batch_size")
        assert (sizes.count, sizes.sum) == (group.batches, group.writes) == \
            (group.batches, 4 * per_thread)
        assert 1 <= sizes.min <= sizes.max <= 4  # at most one command per thread waits
        (appended,) = seen.points("incident.events.appended")
        assert appended.value == app.store.head() == 4 * per_thread
        assert run_to_end(verify(app)).ok  # traced, the log and the rows are as ever


def test_snapshot_hits_and_misses(seen: Seen, tmp_path: Path) -> None:
    target = str(tmp_path / "s.sqlite3")
    with Application.open(target, g.domain, create=True) as app:
        for _ in range(4):  # box.snapshot_every == 3: one snapshot, at version 3
            app.dispatch(g.Put(aggregate_id="long", n=1))
        app.dispatch(g.Put(aggregate_id="short", n=1))
    assert g.box.snapshot_every == 3
    with Application.open(target, g.domain) as cold:  # an empty cache: loads from the store
        before_hits = sum(p.value for p in seen.points("incident.snapshot.hits"))
        before_misses = sum(p.value for p in seen.points("incident.snapshot.misses"))
        cold.dispatch(g.Put(aggregate_id="long", n=1))
        cold.dispatch(g.Put(aggregate_id="short", n=1))
        state = cold.state("long")
    assert state is not None and state.version == 5
    (hits,) = seen.points("incident.snapshot.hits")
    (misses,) = seen.points("incident.snapshot.misses")
    assert dict(hits.attributes) == {"incident.aggregate.type": "Box"}
    assert (hits.value - before_hits, misses.value - before_misses) == (2, 1)


def test_projection_lag_is_head_minus_each_checkpoint(seen: Seen, tmp_path: Path) -> None:
    with Application.open(str(tmp_path / "s.sqlite3"), bank.domain, create=True) as app:
        for n in range(4):
            app.dispatch(OpenAccount(aggregate_id=f"acc-{n}"))
        with app.store.transaction() as tx:  # as if the projection had fallen behind
            tx.set_checkpoint("bank_accounts", 1)
        lag = {p.attributes["incident.checkpoint"]: p.value
               for p in seen.points("incident.projection.lag")}
        head = app.store.head()
        assert {p.attributes["incident.domain"] for p in seen.points("incident.projection.lag")} \
            == {app.domain.name}
        assert lag == {name: head - checkpoint
                       for name, checkpoint in app.store.checkpoints().items()}
        assert lag["bank_accounts"] == 3 and lag["transfers"] == 0
    closed = {p.attributes["incident.checkpoint"]: p.value
              for p in seen.points("incident.projection.lag")}
    assert closed == {}  # a closed store is not read


def test_disable_puts_the_plain_functions_back(tmp_path: Path) -> None:
    plain = (Application.dispatch, Decider.load, committing.commit, Unit.finish,
             Unit.run_step, committing.Plan.decide)
    sdk = Seen()
    telemetry.enable(tracer_provider=sdk.tracer_provider, meter_provider=sdk.meter_provider)
    try:
        assert telemetry.enabled() and Application.dispatch is not plain[0]
        assert Application.dispatch.__wrapped__ is plain[0]  # type: ignore[attr-defined]
    finally:
        telemetry.disable()
    assert not telemetry.enabled()
    assert (Application.dispatch, Decider.load, committing.commit, Unit.finish,
            Unit.run_step, committing.Plan.decide) == plain
    with Application.open(str(tmp_path / "s.sqlite3"), bank.domain, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="acc")).ok
    assert sdk.exporter.get_finished_spans() == ()


def test_a_module_imported_while_enabled_is_traced_until_disable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "late_hooked.py").write_text(
        "from incident_core import telemetry\n"
        "class Late:\n"
        "    @telemetry.traced('incident.late', root=True)\n"
        "    def run(self) -> int:\n"
        "        return 7\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sdk = Seen()
    telemetry.enable(tracer_provider=sdk.tracer_provider, meter_provider=sdk.meter_provider)
    try:
        from late_hooked import Late  # type: ignore[import-not-found]

        assert Late().run() == 7
        assert [s.name for s in sdk.exporter.get_finished_spans()] == ["incident.late"]
    finally:
        telemetry.disable()
    assert not hasattr(Late.run, "__wrapped__")  # the plain function is back on the class
    assert Late().run() == 7
    assert len(sdk.exporter.get_finished_spans()) == 1


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)


def test_nothing_of_opentelemetry_is_imported_unless_enabled(tmp_path: Path) -> None:
    code = (
        "import sys, incident_core\n"
        "from incident_core import Application\n"
        "from incident_core.examples.bank import domain\n"
        "from incident_core.examples.bank.accounts import OpenAccount\n"
        "from incident_core.operations import rebuild\n"
        "from incident_core.progress import run_to_end\n"
        f"with Application.open({str(tmp_path / 's.sqlite3')!r}, domain, create=True) as app:\n"
        "    assert app.dispatch(OpenAccount(aggregate_id='a')).ok\n"
        "    run_to_end(rebuild(app, ['bank_accounts']))\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n")
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_enable_without_the_extra_says_how_to_install_it() -> None:
    result = _run("import sys\nsys.modules['opentelemetry'] = None\n"
                  "from incident_core import telemetry\n"
                  "try:\n    telemetry.enable()\nexcept Exception as exc:\n"
                  "    print(type(exc).__name__, exc)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("IncidentError OpenTelemetry is not installed: "
                                     "pip install 'incident[otel]'")


def test_the_cli_prints_spans_and_metrics_on_stderr_with_otel(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")

    def incident(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "incident_core.cli", *args, "--db", db],
                              capture_output=True, text=True, cwd=tmp_path, check=False)

    assert incident("init").returncode == 0
    plain = incident("dispatch", "OpenAccount", "--data", '{"aggregate_id": "a1"}')
    traced = incident("dispatch", "OpenAccount", "--data", '{"aggregate_id": "a2"}', "--otel")
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert '"incident.dispatch"' not in plain.stderr
    for name in ("incident.dispatch", "incident.decide", "incident.commit",
                 "incident.dispatch.duration", "incident.events.appended"):
        assert f'"name": "{name}"' in traced.stderr
    assert '"incident.aggregate.id": "a2"' in traced.stderr
    assert json.loads(traced.stdout)["events"][0]["aggregate_id"] == "a2"  # stdout: the result


def test_the_cli_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    result = _run("import sys\nsys.modules['opentelemetry'] = None\n"
                  "from incident_core.cli.main import main\n"
                  f"sys.exit(main(['events', '--db', {db!r}, '--otel']))\n")
    assert result.returncode == 2
    assert result.stderr.strip() == ("incident: --otel needs OpenTelemetry: "
                                     "pip install 'incident[otel]'")
    assert "Traceback" not in result.stderr
