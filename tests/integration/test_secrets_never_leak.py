"""A secret set through the API never appears in any API response, page, event,
output, error or log: one full run on a real worker against a server that echoes the
credentials it receives, then a grep for the secrets' bytes through every stored text
column, every response the run's pages and APIs give, and the worker's log."""

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from runs.models import RUN_FINISHED, Run, StepRun
from tests.integration.test_connectors_live import (
    QUEUE,
    _assert_no_secret_stored,
    connector_worker,  # noqa: F401 - a fixture
)
from tests.servers import http_server
from tests.support import grant, wait_for

pytestmark = pytest.mark.integration

TOKEN = "leak-check-token-5c2e9a1f7d"
HOOK_TOKEN = "leak-check-hook-0b8d44e2a6"


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with the credentials it carried: /fail with a 500."""

    def _answer(self) -> None:
        carried = {
            "authorization": self.headers.get("Authorization"),
            "x-hook-token": self.headers.get("X-Hook-Token"),
        }
        body = json.dumps({"you_sent": carried}).encode()
        self.send_response(500 if self.path.startswith("/fail") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    with http_server(_Echo) as url:
        yield url


def _task(node_id: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "task",
        "action": action,
        "queue": QUEUE,
        "params": params,
        "retry": {"max_attempts": 1},
    }


def _graph() -> dict[str, Any]:
    tasks = [
        _task(
            "echo",
            "http.request",
            {"connection": "crm", "method": "GET", "path": "/echo"},
        ),
        _task("hook", "webhook.post", {"connection": "hook", "payload": {"n": 1}}),
        _task(
            "fail",
            "http.request",
            {"connection": "crm", "method": "GET", "path": "/fail"},
        ),
    ]
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            *tasks,
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "echo"},
            {"id": "e2", "source": "echo", "target": "hook"},
            {"id": "e3", "source": "hook", "target": "fail"},
            {"id": "e4", "source": "fail", "target": "done"},
        ],
    }


def test_no_secret_reaches_a_response_a_page_a_column_or_a_log(
    connector_worker: None,  # noqa: F811 - the fixture imported above
    echo_server: str,
    django_user_model: Any,
    tmp_path: Path,
) -> None:
    user = django_user_model.objects.create_superuser("boss", password="pw-12345678")
    grant(user, "editor", "operator")
    api = APIClient()
    api.force_authenticate(user)
    answers: list[tuple[str, bytes]] = []

    def call(method: str, url: str, body: Any = None) -> Any:
        response = getattr(api, method)(url, body, format="json")
        answers.append((url, response.content))
        assert response.status_code < 300, (url, response.content[:500])
        return response

    # The secrets go in through the API.
    call(
        "post",
        "/api/v1/connections/",
        {
            "name": "crm",
            "kind": "http",
            "fields": {"base_url": echo_server, "auth": "bearer"},
            "secrets": {"token": TOKEN},
        },
    )
    hook = call(
        "post",
        "/api/v1/connections/",
        {
            "name": "hook",
            "kind": "webhook",
            "fields": {"url": f"{echo_server}/hook", "header": "X-Hook-Token"},
            "secrets": {"token": HOOK_TOKEN},
        },
    ).json()
    call("patch", f"/api/v1/connections/{hook['id']}/", {"description": "the hook"})
    call("post", "/api/v1/workflows/", {"slug": "leaky", "name": "Leaky"})
    call("post", "/api/v1/workflows/leaky/versions/", {"graph": _graph()})
    call("post", "/api/v1/workflows/leaky/versions/1/publish/", {})
    run_id = call("post", "/api/v1/workflows/leaky/runs/", {"input": {}}).json()["id"]
    wait_for(
        lambda: Run.objects.get(pk=run_id).state in RUN_FINISHED,
        timeout=90,
        what="the run to finish",
    )
    run = Run.objects.get(pk=run_id)
    assert run.state == "failed", run.error
    echo = StepRun.objects.get(run=run, node_id="echo")
    # The server did get the token, and echoed it: stored, it reads [redacted].
    assert echo.output["body"]["you_sent"]["authorization"] == "Bearer [redacted]"

    # Every response about the run, its workflow and its connections.
    for url in (
        "/api/v1/connections/",
        f"/api/v1/connections/{hook['id']}/",
        "/api/v1/workflows/",
        "/api/v1/workflows/leaky/",
        "/api/v1/workflows/leaky/versions/",
        "/api/v1/workflows/leaky/versions/1/",
        "/api/v1/workflows/leaky/runs/",
        "/api/v1/runs/",
        f"/api/v1/runs/{run_id}/",
        f"/api/v1/runs/{run_id}/events/",
        f"/api/v1/runs/{run_id}/logs/",
        f"/api/v1/runs/{run_id}/logs/?q=Bearer",
        f"/api/v1/runs/{run_id}/logs/export/",
        "/api/v1/metrics/",
        "/api/schema/",
    ):
        answers.append((url, _content(api.get(url))))
    for attempt in run.attempts.all():
        url = f"/api/v1/runs/{run_id}/logs/?attempt={attempt.pk}"
        answers.append((url, _content(api.get(url))))
    # Every page, as the browser loads it (admin included).
    browser = Client()
    browser.force_login(user)
    for url in (
        "/",
        "/board/",
        f"/runs/{run_id}/",
        "/workflows/leaky/edit/",
        "/connections/",
        "/admin/runs/run/",
        f"/admin/runs/run/{run_id}/change/",
        "/admin/runs/event/",
        "/admin/runs/steprun/",
        "/admin/runs/attempt/",
    ):
        answers.append((url, _content(browser.get(url))))

    for secret in (TOKEN, HOOK_TOKEN):
        for url, content in answers:
            assert secret.encode() not in content, (url, secret)
    _assert_no_secret_stored([TOKEN, HOOK_TOKEN])
    worker_log = (tmp_path / "connector-worker.log").read_text()
    assert TOKEN not in worker_log and HOOK_TOKEN not in worker_log


def _content(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)
