"""Tracing across processes: a run started here and executed on a real Celery
worker (exporting over OTLP/HTTP to a receiver in this test) is one trace of run,
step and attempt spans, and its http.request call carries that trace's context."""

import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from config import tracing
from designer import connections
from runs.models import RUN_FINISHED, Run, RunState
from runs.services.starting import run_start
from tests.conftest import _test_db_env
from tests.servers import http_server, start_worker, stop_process
from tests.support import wait_for

pytestmark = pytest.mark.integration

QUEUE = "traced-live"


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: keeps every span it is sent."""

    spans: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    _Collector.spans.append(_decoded(span))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _decoded(span: Any) -> dict[str, Any]:
    attributes = {}
    for pair in span.attributes:
        value = pair.value
        kind = value.WhichOneof("value")
        attributes[pair.key] = getattr(value, kind) if kind else None
    return {
        "name": span.name,
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex(),
        "attributes": attributes,
    }


class _Api(BaseHTTPRequestHandler):
    traceparents: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Api.traceparents.append(self.headers.get("traceparent"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "11")
        self.end_headers()
        self.wfile.write(b'{"ok":true}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    _Collector.spans = []
    with http_server(_Collector) as url:
        yield url


@pytest.fixture
def api_server() -> Iterator[str]:
    _Api.traceparents = []
    with http_server(_Api) as url:
        yield url


@pytest.fixture
def traced_worker(live_db: Any, tmp_path: Path, collector: str) -> Iterator[None]:
    """A worker on QUEUE alone exporting its spans to the test's collector."""
    process = start_worker(
        tmp_path / "traced-worker.log",
        env={
            **_test_db_env(),
            "SWITCHYARD_EGRESS_ALLOW": "127.0.0.1/32",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector,
            "OTEL_SERVICE_NAME": "switchyard-test",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
        what="traced worker",
        queues=[QUEUE],
        concurrency=1,
        name=f"traced-{os.getpid()}",
        loglevel="INFO",
    )
    yield
    stop_process(process)


@pytest.fixture
def started_here() -> Iterator[None]:
    """Tracing on in this process (the web side that starts the run)."""
    tracing.install([InMemorySpanExporter()], batch=False)
    yield
    tracing.uninstall()


def _graph() -> dict[str, Any]:
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}, "queue": QUEUE},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "call",
                "type": "task",
                "action": "http.request",
                "params": {
                    "connection": "traced-api",
                    "method": "GET",
                    "path": "/ping",
                    "headers": {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16},
                },
            },
            {"id": "after", "type": "task", "action": "builtin.noop"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "call"},
            {"id": "e2", "source": "call", "target": "after"},
            {"id": "e3", "source": "after", "target": "done"},
        ],
    }


def test_a_run_on_a_real_worker_is_one_trace_reaching_its_http_call(
    traced_worker: None,
    started_here: None,
    workflow_factory: Any,
    api_server: str,
) -> None:
    connections.connection_create(
        name="traced-api",
        kind="http",
        fields={"base_url": api_server, "auth": "bearer"},
        secrets={"token": "traced-token-5e1f"},
    )
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="traced-live"),
        input={},
        actor="test",
    )
    wait_for(
        lambda: Run.objects.get(pk=run.pk).state in RUN_FINISHED,
        timeout=90,
        what="the run to finish",
    )
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    trace_id, run_span_id = tracing.parse_traceparent(run.trace_context["traceparent"])
    expected = {
        "run traced-live",
        "step call",
        "step after",
        "attempt call",
        "attempt after",
    }

    def exported() -> bool:
        return expected <= {span["name"] for span in _Collector.spans}

    wait_for(exported, timeout=30, what="the worker's spans at the collector")
    spans = {span["name"]: span for span in _Collector.spans}
    assert {span["trace_id"] for span in _Collector.spans} == {f"{trace_id:032x}"}
    root = spans["run traced-live"]
    assert root["span_id"] == f"{run_span_id:016x}"
    assert root["parent_span_id"] == ""
    assert root["attributes"]["switchyard.run.id"] == run.pk
    assert root["attributes"]["switchyard.workflow.slug"] == "traced-live"
    assert root["attributes"]["switchyard.outcome"] == "succeeded"
    step, attempt = spans["step call"], spans["attempt call"]
    assert step["parent_span_id"] == root["span_id"]
    assert attempt["parent_span_id"] == step["span_id"]
    assert attempt["attributes"]["switchyard.queue"] == QUEUE
    assert attempt["attributes"]["switchyard.attempt.number"] == 1
    assert attempt["attributes"]["switchyard.step.id"] == "call"
    assert attempt["attributes"]["switchyard.outcome"] == "succeeded"
    assert attempt["attributes"]["switchyard.workflow.version"] == 1

    # The API got the attempt's context, not the author's header.
    (traceparent,) = _Api.traceparents
    assert traceparent is not None
    assert traceparent.startswith(f"00-{trace_id:032x}-{attempt['span_id']}-")
    assert "traced-token-5e1f" not in repr(_Collector.spans)
