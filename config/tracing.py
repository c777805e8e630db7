"""OpenTelemetry tracing, set up once per process from the standard OTEL_* variables.

Off by default: with no exporter named (`OTEL_TRACES_EXPORTER` unset and no
`OTEL_EXPORTER_OTLP_ENDPOINT`), `OTEL_TRACES_EXPORTER=none` or
`OTEL_SDK_DISABLED=true`, `tracer()` is None and every call site skips its span
with one test. See docs/tracing.md for the spans and their attributes.

A run's trace outlives any process: its context (trace id, the run span's id) is
made at the start and stored on the run (`Run.trace_context`); run and step spans
are written when they finish, with their recorded start times and ids fixed in
advance, so that attempts on any worker are their children while they are still
open (as Airflow 3 does for DAG runs and task instances).
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import random
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, SpanContext, Tracer

logger = logging.getLogger("switchyard.tracing")

# Headers the propagator sets on outgoing requests (W3C Trace Context).
TRACE_HEADERS = ("traceparent", "tracestate")
_EXPORTERS = ("otlp", "console", "none")
# The span id the next span started in this context must take (see _fixed_ids).
_next_span_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "switchyard_next_span_id", default=None
)


class _State:
    provider: TracerProvider | None = None
    tracer: Tracer | None = None


_STATE = _State()


def tracer() -> Tracer | None:
    """Return this process's tracer, or None when tracing is off."""
    return _STATE.tracer


def enabled() -> bool:
    return _STATE.tracer is not None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def exporter_names(env: MutableMapping[str, str] | None = None) -> list[str]:
    """Return the exporters the environment asks for; [] means tracing is off."""
    env = os.environ if env is None else env
    if _truthy(env.get("OTEL_SDK_DISABLED")):
        return []
    named = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not named:
        # The SDK's default is otlp; here an endpoint must be given to turn it on,
        # so a process with no OTEL_* settings pays nothing.
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return ["otlp"] if endpoint else []
    names = [name.strip() for name in named.split(",") if name.strip()]
    unknown = [name for name in names if name not in _EXPORTERS]
    if unknown:
        logger.warning("OTEL_TRACES_EXPORTER: unknown exporter(s) %s ignored", unknown)
    return [name for name in names if name in ("otlp", "console")]


def setup(role: str) -> bool:
    """Turn tracing on for this process if the environment asks; return whether on.

    `role` (web, worker, beat) becomes the resource attribute `switchyard.role`;
    the service name is OTEL_SERVICE_NAME (default "switchyard"). Idempotent.
    """
    if _STATE.tracer is not None:
        return True
    names = exporter_names()
    if not names:
        return False
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )

            exporters.append(OTLPSpanExporter())
        else:
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
    install(exporters, role=role)
    logger.info("tracing on (%s): %s", role, ", ".join(names))
    return True


def install(
    exporters: list[SpanExporter], *, role: str = "test", batch: bool = True
) -> TracerProvider:
    """Make a tracer provider exporting to `exporters` this process's tracer.

    Tests call it with an InMemorySpanExporter and `batch=False` (spans exported
    as they end); `uninstall` turns tracing off again.
    """
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SimpleSpanProcessor,
    )

    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or "switchyard",
            "switchyard.role": role,
        }
    )
    provider = TracerProvider(resource=resource, id_generator=_fixed_ids())
    for exporter in exporters:
        processor = (
            BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        )
        provider.add_span_processor(processor)
    if _STATE.provider is None and role != "test":
        # Also the global provider, for libraries instrumented by the user; the
        # API allows setting it once per process.
        trace.set_tracer_provider(provider)
    _STATE.provider = provider
    _STATE.tracer = provider.get_tracer("switchyard")
    return provider


def uninstall() -> None:
    """Turn tracing off (flushing what was recorded)."""
    provider = _STATE.provider
    _STATE.provider = None
    _STATE.tracer = None
    if provider is not None:
        provider.shutdown()


def flush() -> None:
    """Export what is buffered (a worker process about to exit)."""
    if _STATE.provider is not None:
        _STATE.provider.force_flush()


# ------------------------------------------------------------------- ids and contexts


def _fixed_ids() -> Any:
    """Return an IdGenerator: random ids, except a span id fixed in advance for the
    span started next (`fixed_span_id`).

    A run's and a step's span ids are decided before the span is written (at its
    end, maybe days later, maybe in another process); their children point at them
    meanwhile.
    """
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class FixedIds(RandomIdGenerator):
        def generate_span_id(self) -> int:
            fixed = _next_span_id.get()
            if fixed is not None:
                _next_span_id.set(None)
                return fixed
            return super().generate_span_id()

    return FixedIds()


def run_context() -> dict[str, str] | None:
    """Return a new run's trace context to store with it, or None when off.

    {"traceparent": the run span's W3C traceparent, "parent": the span id (hex) of
    the span current at the start (a request's, a parent run's attempt), if any}.
    """
    if _STATE.tracer is None:
        return None
    from opentelemetry import trace

    current = trace.get_current_span().get_span_context()
    span_id = random.getrandbits(64) or 1
    context: dict[str, str] = {}
    if current.is_valid:
        trace_id = current.trace_id
        context["parent"] = f"{current.span_id:016x}"
    else:
        trace_id = random.getrandbits(128) or 1
    context["traceparent"] = f"00-{trace_id:032x}-{span_id:016x}-01"
    return context


def parse_traceparent(value: Any) -> tuple[int, int] | None:
    """Return (trace id, span id) of a stored traceparent, or None if it is bad."""
    if not isinstance(value, str):
        return None
    parts = value.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        trace_id, span_id = int(parts[1], 16), int(parts[2], 16)
    except ValueError:
        return None
    if not trace_id or not span_id:
        return None
    return trace_id, span_id


def step_span_id(trace_id: int, step_id: int) -> int:
    """Return the span id of a step's span: derived, so any process can name it."""
    digest = hashlib.blake2b(
        f"{trace_id:032x}:step:{step_id}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") or 1


def span_context(trace_id: int, span_id: int) -> SpanContext:
    from opentelemetry.trace import SpanContext, TraceFlags

    return SpanContext(
        trace_id=trace_id,
        span_id=span_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


def parent_context(trace_id: int, span_id: int) -> Any:
    """Return an OpenTelemetry Context whose current span is (trace_id, span_id)."""
    from opentelemetry import trace

    return trace.set_span_in_context(
        trace.NonRecordingSpan(span_context(trace_id, span_id))
    )


@contextmanager
def fixed_span_id(span_id: int) -> Iterator[None]:
    """Give the span started inside this block the id `span_id`."""
    token = _next_span_id.set(span_id)
    try:
        yield
    finally:
        _next_span_id.reset(token)


def record_span(
    name: str,
    *,
    trace_id: int,
    span_id: int,
    parent_span_id: int | None,
    start_ns: int,
    end_ns: int,
    attributes: dict[str, Any],
    error: str | None = None,
) -> None:
    """Write a finished span whose ids and times were decided earlier."""
    current = _STATE.tracer
    if current is None:
        return
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    if parent_span_id:
        context = parent_context(trace_id, parent_span_id)
    else:
        # A root span in a trace id of our choosing: an invalid-span parent with
        # the trace id is not possible, so a remote parent carries the trace id and
        # the span is written as a root by clearing its parent below.
        context = parent_context(trace_id, span_id)
    with fixed_span_id(span_id):
        span: Span = current.start_span(
            name,
            context=context,
            kind=trace.SpanKind.INTERNAL,
            attributes=attributes,
            start_time=start_ns,
        )
    if not parent_span_id:
        # The SDK span's parent is read when it is exported.
        span._parent = None  # type: ignore[attr-defined]
    if error:
        span.set_status(Status(StatusCode.ERROR, error))
    span.end(end_time=end_ns)


def inject_headers(headers: MutableMapping[str, str]) -> None:
    """Set traceparent/tracestate for the current span, replacing any given.

    Nothing is touched when tracing is off or no span is current.
    """
    if _STATE.tracer is None:
        return
    from opentelemetry import trace
    from opentelemetry.propagate import inject

    if not trace.get_current_span().get_span_context().is_valid:
        return
    # An author's trace headers would graft the call onto a trace of their own.
    for name in list(headers):
        if name.lower() in TRACE_HEADERS:
            del headers[name]
    # The standard propagator (OTEL_PROPAGATORS, W3C Trace Context by default).
    carrier: dict[str, str] = {}
    inject(carrier)
    for name, value in carrier.items():
        headers[name] = value
