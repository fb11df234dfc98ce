"""`incident --otel ...`: the command's spans and metrics (incident_core.telemetry).

Under `opentelemetry-instrument` (or any program that set OpenTelemetry's global providers)
they go where that configuration sends them; otherwise the SDK prints them as JSON on
stderr when the command ends (stdout stays the command's own output).
"""

from __future__ import annotations

import argparse
import atexit
import sys

from incident_core.cli.output import USAGE, Exit

__all__ = ["add_otel_option", "start_telemetry"]


def add_otel_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--otel", action="store_true", default=argparse.SUPPRESS,
                        help="emit OpenTelemetry spans and metrics (needs the otel extra: "
                             "pip install 'incident[otel]'); printed on stderr unless "
                             "OpenTelemetry is configured, e.g. by opentelemetry-instrument")


def start_telemetry(args: argparse.Namespace) -> None:
    """Enable telemetry if `--otel` was given."""
    if not getattr(args, "otel", False):
        return
    from incident_core import telemetry

    try:
        from opentelemetry import trace
    except ImportError:
        raise Exit(USAGE, "--otel needs OpenTelemetry: pip install 'incident[otel]'") from None
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        telemetry.enable()  # configured already: use its providers
        return
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry.enable(tracer_provider=tracer_provider, meter_provider=meter_provider)
    exporter = ConsoleMetricExporter(out=sys.stderr)

    def finish() -> None:  # the metrics once, as the command ends
        data = reader.get_metrics_data()
        if data is not None:
            exporter.export(data)
        telemetry.disable()
        tracer_provider.shutdown()
        meter_provider.shutdown()
    atexit.register(finish)
