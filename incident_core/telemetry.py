"""OpenTelemetry traces and metrics, off until `enable()` is called (`pip install
'incident[otel]'`); zero cost while disabled, and nothing of OpenTelemetry is imported
before `enable()`.

The spans, the metrics, where the hooks sit in the engine and how the zero cost is kept are
explained in docs/telemetry.md. The tracing hooks and the switch live here; the instruments
live in `incident_core.telemetry_metrics` and are re-exported here (callers reach every hook
through this module).
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from incident_core import telemetry_metrics
from incident_core.errors import IncidentError
from incident_core.telemetry_metrics import (
    appended,
    batch_committed,
    snapshot_lookup,
    unwatch,
    watch,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider as _MeterProvider
    from opentelemetry.trace import Span, Tracer
    from opentelemetry.trace import TracerProvider as _TracerProvider

__all__ = ["appended", "batch_committed", "carrier", "disable", "enable", "enabled",
           "forwarded", "imported", "operation", "rebuilt", "saga_step", "snapshot_lookup",
           "state_replayed", "traced", "traced_dispatch", "unwatch", "watch"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Summary = Callable[[Any], dict[str, Any]]


_tracer: Tracer | None = None  # the module's one switch: None while disabled
_hooks: list[tuple[Callable[..., Any], Callable[[Callable[..., Any]], Callable[..., Any]]]] = []
_installed: list[tuple[Any, str, Any]] = []  # (owner, attribute, original) while enabled
_defined_traced: list[Callable[..., Any]] = []  # hooked functions defined while enabled


def enabled() -> bool:
    return _tracer is not None


def enable(*, tracer_provider: _TracerProvider | None = None,
           meter_provider: _MeterProvider | None = None) -> None:
    """Emit spans and metrics through these providers (default: OpenTelemetry's global
    ones, which an SDK or `opentelemetry-instrument` configures). Raises IncidentError
    when the `otel` extra is not installed. Calling it again replaces the providers."""
    global _tracer  # noqa: PLW0603  (the module's one switch, read by every hook)
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        raise IncidentError("OpenTelemetry is not installed: "
                            "pip install 'incident[otel]'") from None
    disable()
    version = _version()
    telemetry_metrics.start(metrics.get_meter("incident", version,
                                              meter_provider=meter_provider))
    _tracer = trace.get_tracer("incident", version, tracer_provider=tracer_provider)
    for function, make in _hooks:  # the engine modules imported so far; later ones: _hook
        owner, name = _owner(function)
        _installed.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, make(function))


def disable() -> None:
    """Stop emitting; the command path is the uninstrumented code again."""
    global _tracer  # noqa: PLW0603
    _tracer = None
    telemetry_metrics.stop()
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
        if _tracer is None:
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
            tracer = _tracer
            if tracer is None or not (root or trace.get_current_span().is_recording()):
                return function(*args, **kwargs)
            with tracer.start_as_current_span(name) as span:
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
            tracer = _tracer
            if tracer is None:
                return dispatch(app, command, *args, **kwargs)
            started = time.perf_counter()
            command_type = type(command).__name__
            outcome = "error"
            with tracer.start_as_current_span("incident.dispatch") as span:
                span.set_attributes(_command_attributes(app, command, command_type))
                try:
                    result = dispatch(app, command, *args, **kwargs)
                    outcome = _mark_result(span, result)
                    return result
                finally:
                    span.set_attribute("incident.outcome", outcome)
                    telemetry_metrics.dispatched((time.perf_counter() - started) * 1000.0,
                                                 command_type, outcome)
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


def carrier() -> dict[str, str] | None:
    """The running span's context for another process (W3C trace context: what a shared
    writer's follower sends with a command); None while disabled or outside a span."""
    if _tracer is None:
        return None
    from opentelemetry.propagate import inject

    found: dict[str, str] = {}
    inject(found)
    return found or None


def forwarded(context: dict[str, str] | None, app: Any, command: Any, run: Callable[[], T]) -> T:
    """`run()`, the shared writer dispatching a command another process forwarded: the
    `incident.forwarded` span (the command's attributes and outcome, the phases as
    children), a child of that process's `incident.dispatch` when `context` carries it.
    No metric: the forwarding process counts the dispatch."""
    tracer = _tracer
    if tracer is None:
        return run()
    from opentelemetry.propagate import extract

    outcome = "error"
    with tracer.start_as_current_span("incident.forwarded",
                                      context=extract(context or {})) as span:
        span.set_attributes(_command_attributes(app, command, type(command).__name__))
        try:
            result = run()
            outcome = _mark_result(span, result)
            return result
        finally:
            span.set_attribute("incident.outcome", outcome)


def saga_step(*, parked_on: type[BaseException]) -> Callable[[F], F]:
    """`Unit.run_step(manager, recorded)`: one `incident.saga_step` span; an exception of
    type `parked_on` means the step is parked (error status, outcome `parked`)."""
    def make(run_step: Callable[..., Any]) -> Callable[..., Any]:
        from opentelemetry.trace import Status, StatusCode

        @functools.wraps(run_step)
        def traced_step(unit: Any, manager: Any, recorded: Any) -> Any:
            tracer = _tracer
            if tracer is None:
                return run_step(unit, manager, recorded)
            with tracer.start_as_current_span("incident.saga_step", attributes={
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
            tracer = _tracer
            return steps if tracer is None else _spanned(tracer, name, summary, steps)
        return cast(F, start)
    return decorate


def _spanned(tracer: Tracer, name: str, summary: Summary,
             steps: Generator[T, None, Any]) -> Generator[T, None, Any]:
    from opentelemetry import context, trace

    span = tracer.start_span(name)
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
