"""builtin.http end to end through the engine: params checked after evaluation."""

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from runs.models import Attempt, Run, RunState
from runs.services.starting import run_start
from tests.servers import http_server
from tests.support import drive

pytestmark = pytest.mark.django_db


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        _Handler.seen.append(dict(self.headers))
        if self.path == "/slow":
            time.sleep(1.5)
        status = {"/fail": 503, "/missing": 404}.get(self.path, 200)
        body = b'{"charged": true}' if self.path != "/big" else b"x" * 1_000_001
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(settings: Any) -> Iterator[str]:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    _Handler.seen = []
    with http_server(_Handler) as url:
        yield url


def _graph(
    url: Any, max_attempts: int = 1, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": max_attempts, "initial_interval_s": 0}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "call",
                "type": "task",
                "action": "builtin.http",
                "params": {
                    "method": "POST",
                    "url": url,
                    "json": {"n": 1},
                    **(extra or {}),
                },
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
    run, _ = run_start(
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


def test_the_step_key_replaces_an_idempotency_key_the_author_wrote(
    workflow_factory: Any, server: str
) -> None:
    run = _run(
        workflow_factory,
        f"{server}/charge",
        {},
        extra={"headers": {"idempotency-key": "mine", "X-Trace": "t1"}},
    )
    assert run.state == RunState.SUCCEEDED, run.error
    keys = {k: v for k, v in _Handler.seen[0].items() if k.lower() == "idempotency-key"}
    assert keys == {"Idempotency-Key": f"{run.pk}:call:1"}
    assert _Handler.seen[0]["X-Trace"] == "t1"


def test_timeouts_retry_and_oversized_answers_do_not(
    workflow_factory: Any, server: str
) -> None:
    slow = _run(
        workflow_factory,
        f"{server}/slow",
        {},
        max_attempts=2,
        extra={"timeout_s": 0.3},
    )
    errors = [a.error for a in Attempt.objects.filter(run=slow).order_by("id")]
    assert [(e["type"], e["retryable"]) for e in errors] == [("HttpError", True)] * 2
    assert "timed out" in errors[0]["message"]
    big = _run(workflow_factory, f"{server}/big", {}, slug="wf2", max_attempts=3)
    errors = [a.error for a in Attempt.objects.filter(run=big)]
    assert [(e["type"], e["retryable"]) for e in errors] == [("HttpClientError", False)]
    assert "x" * 20 not in errors[0]["message"]
