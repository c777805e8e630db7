"""Tracing: run, step and attempt spans in one trace, trace headers on HTTP calls,
and nothing at all with tracing off (the default)."""

from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from config import tracing
from engine import egress
from engine.tasks import run_attempt, run_map_item
from runs import tracing as run_tracing
from runs.models import Attempt, MapItem, Run, RunState
from runs.services.starting import run_start
from tests.servers import http_server
from tests.support import linear_graph

pytestmark = pytest.mark.django_db

# What a span may carry: ids, names, numbers, outcomes; never params or data.
ALLOWED = {
    "switchyard.run.id",
    "switchyard.run.trigger",
    "switchyard.workflow.slug",
    "switchyard.workflow.version",
    "switchyard.queue",
    "switchyard.step.id",
    "switchyard.step.type",
    "switchyard.step.seq",
    "switchyard.attempt.id",
    "switchyard.attempt.number",
    "switchyard.map.item_id",
    "switchyard.action",
    "switchyard.outcome",
    "messaging.system",
    "messaging.destination.name",
    "error.type",
}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.install([exporter], batch=False)
    yield exporter
    tracing.uninstall()


def _run_on_this_worker(workflow: Any, capture: Any, **start: Any) -> Run:
    """Start a run and run its attempts here as a worker would (eagerly, one
    message), then do what the commit would: write the finished spans."""
    with capture() as callbacks:
        run, _ = run_start(workflow=workflow, input={}, actor="test", **start)
        first = Attempt.objects.get(run=run)
        run_attempt.run(first.pk)
    for callback in callbacks:
        if isinstance(callback, partial) and callback.func is run_tracing._write:
            callback()
    run.refresh_from_db()
    return run


def test_a_run_is_one_trace_of_run_step_and_attempt_spans(
    spans: InMemorySpanExporter,
    workflow_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    graph = linear_graph(2, params={"token": "sk-secret-never-in-a-span"})
    workflow = workflow_factory(graph, slug="traced")
    run = _run_on_this_worker(workflow, django_capture_on_commit_callbacks)
    assert run.state == RunState.SUCCEEDED

    trace_id, run_span_id = tracing.parse_traceparent(run.trace_context["traceparent"])
    finished = spans.get_finished_spans()
    by_name = {span.name: span for span in finished}
    assert set(by_name) == {
        "run traced",
        "step start",
        "step s1",
        "step s2",
        "step done",
        "attempt s1",
        "attempt s2",
    }
    assert {span.context.trace_id for span in finished} == {trace_id}

    root = by_name["run traced"]
    assert root.context.span_id == run_span_id
    assert root.parent is None
    assert root.attributes["switchyard.run.id"] == run.pk
    assert root.attributes["switchyard.workflow.slug"] == "traced"
    assert root.attributes["switchyard.workflow.version"] == 1
    assert root.attributes["switchyard.outcome"] == "succeeded"
    for node in ("s1", "s2"):
        step, attempt = by_name[f"step {node}"], by_name[f"attempt {node}"]
        assert step.parent.span_id == run_span_id
        assert attempt.parent.span_id == step.context.span_id
        assert step.attributes["switchyard.step.id"] == node
        assert step.attributes["switchyard.outcome"] == "succeeded"
        assert attempt.attributes["switchyard.attempt.number"] == 1
        assert attempt.attributes["switchyard.queue"] == "default"
        assert attempt.attributes["switchyard.outcome"] == "succeeded"
        assert attempt.attributes["switchyard.workflow.slug"] == "traced"
        # The attempt ran inside its step's time.
        assert step.start_time <= attempt.start_time
    for span in finished:
        assert set(span.attributes) <= ALLOWED, span.name
        assert "sk-secret" not in repr(dict(span.attributes))


def test_a_failed_attempt_names_its_error_type_not_its_message(
    spans: InMemorySpanExporter,
    workflow_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    graph = linear_graph(
        1, action="builtin.fail", params={"message": "card 4242 declined"}
    )
    workflow = workflow_factory(graph, slug="failing")
    run = _run_on_this_worker(workflow, django_capture_on_commit_callbacks)
    assert run.state == RunState.FAILED
    by_name = {span.name: span for span in spans.get_finished_spans()}
    attempt = by_name["attempt s1"]
    assert attempt.attributes["switchyard.outcome"] == "failed"
    assert attempt.attributes["error.type"] == "StepFailed"
    assert by_name["run failing"].attributes["switchyard.outcome"] == "failed"
    for span in by_name.values():
        assert "4242" not in repr(dict(span.attributes))
        assert "4242" not in (span.status.description or "")


def test_map_items_are_spans_under_their_map_step(
    spans: InMemorySpanExporter,
    workflow_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "map",
                "items": "input.items",
                "action": "builtin.noop",
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "each"},
            {"id": "e2", "source": "each", "target": "done"},
        ],
    }
    workflow = workflow_factory(graph, slug="mapped")
    with django_capture_on_commit_callbacks() as callbacks:
        run, _ = run_start(workflow=workflow, input={"items": [1, 2]}, actor="test")
        for item in MapItem.objects.filter(run=run).order_by("index"):
            run_map_item.run(item.pk)
    for callback in callbacks:
        if isinstance(callback, partial) and callback.func is run_tracing._write:
            callback()
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    finished = spans.get_finished_spans()
    step = next(s for s in finished if s.name == "step each")
    items = [s for s in finished if s.name == "map item each"]
    assert len(items) == 2
    assert {s.parent.span_id for s in items} == {step.context.span_id}
    assert {s.attributes["switchyard.outcome"] for s in items} == {"succeeded"}


def test_with_tracing_off_a_run_has_no_context_and_makes_no_spans(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert tracing.tracer() is None
    exporter = InMemorySpanExporter()  # not installed: nothing may reach it
    workflow = workflow_factory(linear_graph(2), slug="untraced")
    run = _run_on_this_worker(workflow, django_capture_on_commit_callbacks)
    assert run.state == RunState.SUCCEEDED
    assert run.trace_context is None
    assert exporter.get_finished_spans() == ()


class _Echo(BaseHTTPRequestHandler):
    headers_seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Echo.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server(settings: Any) -> Iterator[str]:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    _Echo.headers_seen = []
    with http_server(_Echo) as url:
        yield url


def test_an_http_call_in_a_span_carries_its_traceparent_replacing_the_authors(
    spans: InMemorySpanExporter, echo_server: str
) -> None:
    tracer = tracing.tracer()
    assert tracer is not None
    with tracer.start_as_current_span("attempt") as span:
        egress.request(
            "GET",
            echo_server,
            headers={"TraceParent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
        )
    (seen,) = _Echo.headers_seen
    context = span.get_span_context()
    # Flags: sampled, and (W3C level 2) a random trace id.
    assert seen["traceparent"].startswith(
        f"00-{context.trace_id:032x}-{context.span_id:016x}-0"
    )


def test_with_tracing_off_an_http_call_gets_no_trace_headers(
    echo_server: str,
) -> None:
    assert tracing.tracer() is None
    egress.request("GET", echo_server)
    egress.request("GET", echo_server, headers={"traceparent": "author-given"})
    assert "traceparent" not in _Echo.headers_seen[0]
    assert "tracestate" not in _Echo.headers_seen[0]
    # Off, an author's header is theirs to send.
    assert _Echo.headers_seen[1]["traceparent"] == "author-given"


def test_tracing_is_off_unless_the_environment_names_an_exporter() -> None:
    assert tracing.exporter_names({}) == []
    assert tracing.exporter_names({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert tracing.exporter_names(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    ) == ["otlp"]
    assert tracing.exporter_names({"OTEL_TRACES_EXPORTER": "console,otlp"}) == [
        "console",
        "otlp",
    ]
    assert (
        tracing.exporter_names(
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}
        )
        == []
    )
