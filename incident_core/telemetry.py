"""OpenTelemetry traces and metrics, off until `enable()` is called (`pip install
'incident[otel]'`).

Spans: `incident.dispatch` (command and aggregate type, aggregate id, outcome, events) with
its phases as children (`incident.load`, `incident.decide`, `incident.commit`,
`incident.project`, `incident.sagas`), `incident.saga_step` (manager, event type, outcome
`ok` / `parked` / `error`), `incident.replay` (an aggregate's state from its events),
`incident.rebuild` and `incident.import` (one child `incident.import.batch` per write).
Metrics: `incident.dispatch.duration` (ms), `incident.group_commit.batch_size`,
`incident.snapshot.hits` / `.misses`, `incident.events.appended`, and the observable gauge
`incident.projection.lag` (head minus checkpoint, per projection and process manager).

Where the hooks sit (engine modules): `Application.dispatch`, `.state` (replay),
`._run_sagas_after` (sagas), `.import_events` (import batch), `watch`/`unwatch` in its
`__init__`/`close`; `Decider.load`; `committing.Plan.decide` and `committing.commit`;
`Unit.run_step` (saga step), `Unit.finish` (project), `appended` in `Unit.publish`;
`batch_committed` in `GroupCommit._commit`; `snapshot_lookup` in
`aggregate_snapshots.latest`; operations: `rebuild`, `import_events`.

Zero cost while disabled, and nothing of OpenTelemetry is imported before `enable()`:
- the command path's hooks are plain decorators that return the function unchanged and
  only note it; `enable()` installs the traced wrapper on its class or module and
  `disable()` puts the original back (so a disabled call is the original call); callers
  must reach them through their class or module (a `from ... import` copy stays plain);
  a module imported while enabled defines its hooked functions traced. This module
  imports nothing of the engine (the engine imports it);
- the counters (`batch_committed`, `snapshot_lookup`, `appended`) are one `None` check;
- long operations (rebuild, import) check once per operation, not per event.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from incident_core.errors import IncidentError

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, Observation
    from opentelemetry.metrics import MeterProvider as _MeterProvider
    from opentelemetry.trace import Span, Tracer
    from opentelemetry.trace import TracerProvider as _TracerProvider

__all__ = ["appended", "batch_committed", "disable", "enable", "enabled", "imported",
           "operation", "rebuilt", "saga_step", "snapshot_lookup", "state_replayed", "traced",
           "traced_dispatch", "unwatch", "watch"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Summary = Callable[[Any], dict[str, Any]]


class _Watched(Protocol):  # an Application
    @property
    def store(self) -> Any: ...
    @property
    def domain(self) -> Any: ...


@dataclass(slots=True)
class _On:
    """What `enable()` set up: the tracer and the instruments."""

    tracer: Tracer
    duration: Histogram
    batch: Histogram
    hits: Counter
    misses: Counter
    events: Counter
    gauge: Any


_on: _On | None = None
_hooks: list[tuple[Callable[..., Any], Callable[[Callable[..., Any]], Callable[..., Any]]]] = []
_installed: list[tuple[Any, str, Any]] = []  # (owner, attribute, original) while enabled
_defined_traced: list[Callable[..., Any]] = []  # hooked functions defined while enabled
_watched: weakref.WeakSet[Any] = weakref.WeakSet()  # applications open now
_watched_lock = threading.Lock()


def enabled() -> bool:
    return _on is not None


def enable(*, tracer_provider: _TracerProvider | None = None,
           meter_provider: _MeterProvider | None = None) -> None:
    """Emit spans and metrics through these providers (default: OpenTelemetry's global
    ones, which an SDK or `opentelemetry-instrument` configures). Raises IncidentError
    when the `otel` extra is not installed. Calling it again replaces the providers."""
    global _on  # noqa: PLW0603  (the module's one switch, read by every hook)
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        raise IncidentError("OpenTelemetry is not installed: "
                            "pip install 'incident[otel]'") from None
    disable()
    version = _version()
    meter: Meter = metrics.get_meter("incident", version, meter_provider=meter_provider)
    _on = _On(
        trace.get_tracer("incident", version, tracer_provider=tracer_provider),
        meter.create_histogram("incident.dispatch.duration", unit="ms",
                               description="time to dispatch a command, sagas included"),
        meter.create_histogram("incident.group_commit.batch_size", unit="{command}",
                               description="commands sharing one durable commit"),
        meter.create_counter("incident.snapshot.hits", unit="{load}",
                             description="aggregate loads that started from a snapshot"),
        meter.create_counter("incident.snapshot.misses", unit="{load}",
                             description="aggregate loads with snapshots on, but none usable"),
        meter.create_counter("incident.events.appended", unit="{event}",
                             description="events committed through this process"),
        meter.create_observable_gauge("incident.projection.lag", [_observe_lag],
                                      unit="{event}", description="head minus checkpoint"),
    )
    for function, make in _hooks:  # the engine modules imported so far; later ones: _hook
        owner, name = _owner(function)
        _installed.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, make(function))


def disable() -> None:
    """Stop emitting; the command path is the uninstrumented code again."""
    global _on  # noqa: PLW0603
    _on = None
    while _installed:
        owner, name, original = _installed.pop()
        setattr(owner, name, original)
    while _defined_traced:
        owner, name = _owner(function := _defined_traced.pop())
        setattr(owner, name, function)


def _version() -> str:
    """The installed distribution's version ("" run from a source tree: it is optional)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("incident")
    except PackageNotFoundError:
        return ""


def _owner(function: Callable[..., Any]) -> tuple[Any, str]:
    """The class or module a hooked function is defined on, and its name there."""
    *path, name = function.__qualname__.split(".")
    owner: Any = sys.modules[function.__module__]
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def _hook(make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[[F], F]:
    """Note a hook; defined while enabled (its module imported after `enable()`), the
    function is defined traced, and `disable()` puts the original on its owner."""
    def note(function: F) -> F:
        _hooks.append((function, make))
        if _on is None:
            return function
        _defined_traced.append(function)
        return cast(F, make(function))
    return note


# -- spans on the command path (installed by enable()) ----------------------------------
def traced(name: str, *, root: bool = False,
           summary: Summary | None = None) -> Callable[[F], F]:
    """A phase: a child span of the span running now (none outside a traced call, unless
    `root`); `summary(result)` gives attributes from what the function returned."""
    def make(function: Callable[..., Any]) -> Callable[..., Any]:
        from opentelemetry import trace

        @functools.wraps(function)
        def phase(*args: Any, **kwargs: Any) -> Any:
            if _on is None or not (root or trace.get_current_span().is_recording()):
                return function(*args, **kwargs)
            with _on.tracer.start_as_current_span(name) as span:
                result = function(*args, **kwargs)
                if summary is not None:
                    span.set_attributes(_summarised(summary, result))
                return result
        return phase
    return _hook(make)


def traced_dispatch(function: F) -> F:
    """`Application.dispatch(command, ...)`: the `incident.dispatch` span and the latency."""
    def make(dispatch: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(dispatch)
        def traced_call(app: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            on = _on
            if on is None:
                return dispatch(app, command, *args, **kwargs)
            started = time.perf_counter()
            command_type = type(command).__name__
            outcome = "error"
            with on.tracer.start_as_current_span("incident.dispatch") as span:
                span.set_attributes(_command_attributes(app, command, command_type))
                try:
                    result = dispatch(app, command, *args, **kwargs)
                    outcome = _mark_result(span, result)
                    return result
                finally:
                    span.set_attribute("incident.outcome", outcome)
                    on.duration.record((time.perf_counter() - started) * 1000.0, {
                        "incident.command.type": command_type, "incident.outcome": outcome})
        return traced_call
    return _hook(make)(function)


def _command_attributes(app: Any, command: Any, command_type: str) -> dict[str, Any]:
    attributes = {"incident.command.type": command_type,
                  "incident.aggregate.id": str(getattr(command, "aggregate_id", ""))}
    with contextlib.suppress(IncidentError):  # not of this domain: dispatch says so
        attributes["incident.aggregate.type"] = app.domain.aggregate_for(command).name
    return attributes


def _mark_result(span: Span, result: Any) -> str:
    """The outcome of a DispatchResult (accepted, rejected, conflicted), on its span."""
    outcome = type(result).__name__.lower()
    events = getattr(result, "events", None)
    span.set_attribute("incident.events", len(events) if events is not None else 0)
    if outcome == "rejected":
        span.set_attribute("incident.rejection.reason", str(result.reason))
    if getattr(result, "replayed", False):
        span.set_attribute("incident.replayed", True)
    failures = getattr(result, "saga_failures", ())
    if failures or getattr(result, "saga_error", None):
        span.set_attribute("incident.saga_failures", len(failures) or 1)
    return outcome


def saga_step(*, parked_on: type[BaseException]) -> Callable[[F], F]:
    """`Unit.run_step(manager, recorded)`: one `incident.saga_step` span; an exception of
    type `parked_on` means the step is parked (error status, outcome `parked`)."""
    def make(run_step: Callable[..., Any]) -> Callable[..., Any]:
        from opentelemetry.trace import Status, StatusCode

        @functools.wraps(run_step)
        def traced_step(unit: Any, manager: Any, recorded: Any) -> Any:
            if _on is None:
                return run_step(unit, manager, recorded)
            with _on.tracer.start_as_current_span("incident.saga_step", attributes={
                    "incident.process_manager": manager.name,
                    "incident.event.type": recorded.event_type,
                    "incident.event.position": recorded.position}) as span:
                try:
                    result = run_step(unit, manager, recorded)
                except parked_on as exc:
                    span.set_attribute("incident.outcome", "parked")
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    raise
                except BaseException:
                    span.set_attribute("incident.outcome", "error")
                    raise
                span.set_attribute("incident.outcome", "ok")
                return result
        return traced_step
    return _hook(make)


# -- long operations (checked once per operation) ---------------------------------------
def operation(name: str, summary: Summary) -> Callable[[F], F]:
    """A generator operation (rebuild, import): one span from its first step to its end,
    current while each step runs (so its writes are children); `summary(result)` gives
    the attributes set when it returns. Closed early: the span says `cancelled`."""
    def decorate(function: F) -> F:
        @functools.wraps(function)
        def start(*args: Any, **kwargs: Any) -> Any:
            steps = function(*args, **kwargs)
            return steps if _on is None else _spanned(_on, name, summary, steps)
        return cast(F, start)
    return decorate


def _spanned(on: _On, name: str, summary: Summary,
             steps: Generator[T, None, Any]) -> Generator[T, None, Any]:
    from opentelemetry import context, trace

    span = on.tracer.start_span(name)
    current = trace.set_span_in_context(span)
    try:
        while True:
            token = context.attach(current)
            try:
                step = next(steps)
            except StopIteration as stop:
                span.set_attributes(_summarised(summary, stop.value))
                return stop.value
            finally:
                context.detach(token)
            yield step
    except GeneratorExit:
        span.set_attribute("incident.cancelled", True)
        steps.close()
        raise
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        span.end()


def _summarised(summary: Summary, result: Any) -> dict[str, Any]:
    """The attributes `summary` gives; never an error in place of the result it describes."""
    try:
        return summary(result)
    except Exception as exc:  # a result of another shape than the summary expects
        return {"incident.telemetry.error": f"{type(exc).__name__}: {exc}"}


def rebuilt(report: Any) -> dict[str, Any]:
    """The attributes of a finished rebuild (a RebuildReport)."""
    return {"incident.projections": [p.name for p in report.projections],
            "incident.events": report.events_read, "incident.head": report.head}


def imported(batch_size: int) -> Summary:
    """The attributes of a finished import of `count` events, written `batch_size` a time."""
    return lambda count: {"incident.events": count, "incident.batches": -(-count // batch_size)}


def state_replayed(state: Any) -> dict[str, Any]:
    """The attributes of `Application.state()`'s result (None: no such stream)."""
    if state is None:
        return {"incident.found": False}
    return {"incident.aggregate.id": state.aggregate_id,
            "incident.aggregate.type": state.aggregate_type, "incident.version": state.version}


# -- metrics (one None check each while disabled) ---------------------------------------
def batch_committed(size: int) -> None:
    """Group commit: `size` commands shared one durable commit."""
    if _on is not None:
        _on.batch.record(size)


def snapshot_lookup(aggregate_type: str, hit: bool) -> None:
    """An aggregate with snapshots on was loaded from the store: from a snapshot or not."""
    if _on is not None:
        (_on.hits if hit else _on.misses).add(1, {"incident.aggregate.type": aggregate_type})


def appended(count: int) -> None:
    """`count` events were committed."""
    if _on is not None and count:
        _on.events.add(count)


def watch(app: _Watched) -> None:
    """Report this application's projection lag while it lives (kept by a weak reference;
    nothing is read unless telemetry is enabled and a metric reader collects)."""
    with _watched_lock:
        _watched.add(app)


def unwatch(app: _Watched) -> None:
    """Stop reporting this application's lag (it is closing its store)."""
    with _watched_lock:
        _watched.discard(app)


def _observe_lag(options: CallbackOptions) -> Iterator[Observation]:
    from opentelemetry.metrics import Observation

    with _watched_lock:
        apps = list(_watched)
    for app in apps:
        try:
            store, domain = app.store, app.domain.name
            head = store.head()
            checkpoints = store.checkpoints()
        except Exception:  # closed, or unreadable now: no reading this time
            continue
        for name, checkpoint in sorted(checkpoints.items()):
            yield Observation(head - checkpoint, {"incident.domain": domain,
                                                  "incident.checkpoint": name})


