"""builtin.http end to end through the engine: params checked after evaluation."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from runs import services
from runs.models import Attempt, Run, RunState
from tests.support import drive

pytestmark = pytest.mark.django_db


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        _Handler.seen.append(dict(self.headers))
        status = {"/fail": 503, "/missing": 404}.get(self.path, 200)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"charged": true}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(settings: Any) -> Iterator[str]:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _Handler.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _graph(url: Any, max_attempts: int = 1) -> dict[str, Any]:
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": max_attempts, "initial_interval_s": 0}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "call",
                "type": "task",
                "action": "builtin.http",
                "params": {"method": "POST", "url": url, "json": {"n": 1}},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "call"},
            {"id": "e2", "source": "call", "target": "done"},
        ],
    }


def _run(
    workflow_factory: Any, url: Any, run_input: Any, slug: str = "wf", **kwargs: Any
) -> Run:
    run, _ = services.run_start(
        workflow=workflow_factory(_graph(url, **kwargs), slug=slug),
        input=run_input,
        actor="system",
    )
    drive(run)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(
    ("url", "run_input"),
    [
        ("=input.u", {"u": "file:///etc/passwd"}),
        ('="file:///etc/passwd"', {}),
        ("=input.u", {"u": "ftp://example.com/x"}),
        ("=input.u", {"u": 42}),
    ],
)
def test_evaluated_url_is_checked_against_the_schema_and_not_retried(
    workflow_factory: Any, url: str, run_input: Any
) -> None:
    run = _run(workflow_factory, url, run_input, max_attempts=3)
    assert run.state == RunState.FAILED
    attempts = list(Attempt.objects.filter(run=run))
    assert len(attempts) == 1, "an invalid param is not retried"
    error = attempts[0].error
    assert error["type"] == "InvalidParams"
    assert error["retryable"] is False
    assert "params.url" in error["message"]
    assert "root:" not in str(run.output)


def test_evaluated_url_to_loopback_is_refused_by_the_egress_policy(
    workflow_factory: Any,
) -> None:
    run = _run(workflow_factory, "=input.u", {"u": "http://2130706433:8000/"})
    assert run.state == RunState.FAILED
    error = Attempt.objects.get(run=run).error
    assert error["type"] == "EgressDenied"
    assert error["retryable"] is False


def test_allowed_call_carries_the_idempotency_key(
    workflow_factory: Any, server: str
) -> None:
    run = _run(workflow_factory, "=input.u", {"u": f"{server}/charge"})
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.output["call"] == {"status": 200, "body": {"charged": True}}
    assert _Handler.seen[0]["Idempotency-Key"] == f"{run.pk}:call:1"


def test_server_errors_retry_and_client_errors_do_not(
    workflow_factory: Any, server: str
) -> None:
    failing = _run(workflow_factory, f"{server}/fail", {}, max_attempts=2)
    errors = [a.error for a in Attempt.objects.filter(run=failing).order_by("id")]
    assert [e["type"] for e in errors] == ["HttpError", "HttpError"]
    missing = _run(
        workflow_factory, f"{server}/missing", {}, slug="wf2", max_attempts=3
    )
    errors = [a.error for a in Attempt.objects.filter(run=missing)]
    assert [e["type"] for e in errors] == ["HttpClientError"]
