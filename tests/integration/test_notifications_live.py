"""Notifications on a real Celery worker: a failing run sends exactly one message per
rule to a local webhook, and a target that hangs or fails does not hold up runs."""

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from designer import connections
from runs import notification_rules
from runs.models import Event, Notification, Run, RunState
from runs.services.starting import run_start
from tests.conftest import _test_db_env
from tests.servers import start_worker, stop_process
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.integration

QUEUE = "notify-live"
TOKEN = "live-hook-token-7c2e41"


class Target:
    """A local webhook target: records each POST, and answers with `status` (or,
    while `hold` is set, keeps the request open until `release()`)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.status = 200
        self.hold = False
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with target.lock:
                    target.posts.append((self.path, body, dict(self.headers)))
                target.arrived.set()
                if target.hold:
                    target.released.wait(timeout=120)
                self.send_response(target.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target() -> Iterator[Target]:
    made = Target()
    yield made
    made.close()


@pytest.fixture
def notify_worker(live_db: Any, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A worker with tests/integration/notify_settings.py: it runs the failing steps
    (on QUEUE) and the deliveries they cause (also on QUEUE, with loopback allowed),
    so the session worker never sees them."""
    process = start_worker(
        tmp_path / "notify-worker.log",
        env={
            **_test_db_env(),
            "DJANGO_SETTINGS_MODULE": "tests.integration.notify_settings",
        },
        what="notification worker",
        queues=[QUEUE],
        concurrency=4,
        name=f"notify-{os.getpid()}",
        loglevel="INFO",
    )
    yield process
    stop_process(process)


def _failing_workflow(workflow_factory: Any, slug: str) -> Any:
    graph = linear_graph(
        1, action="builtin.fail", params={"error": "CardDeclined"}, queue=QUEUE
    )
    return workflow_factory(graph, slug=slug)


def _hook(name: str, url: str) -> None:
    connections.connection_create(
        name=name,
        kind="webhook",
        fields={"url": url, "header": "Authorization"},
        secrets={"token": TOKEN},
    )


def _rule(workflow: Any, connection: str) -> Any:
    return notification_rules.notification_rule_create(
        workflow=workflow, fields={"events": ["run_failed"], "connection": connection}
    )


def _state(run: Run) -> str:
    return Run.objects.values_list("state", flat=True).get(pk=run.pk)


def test_a_failing_run_sends_exactly_one_message_per_rule(
    notify_worker: Any, workflow_factory: Any, target: Target
) -> None:
    workflow = _failing_workflow(workflow_factory, "live-notify")
    _hook("live-a", f"{target.url}/a")
    _hook("live-b", f"{target.url}/b")
    rules = [_rule(workflow, "live-a"), _rule(workflow, "live-b")]
    run, _ = run_start(workflow=workflow, input={}, actor="test")

    wait_for(
        lambda: Notification.objects.filter(state="sent").count() == 2,
        timeout=60,
        what="both notifications sent",
    )
    assert _state(run) == RunState.FAILED
    # Every notification is final: nothing more can be sent.
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert sorted(path for path, _, _ in target.posts) == ["/a", "/b"]
    link = f"http://127.0.0.1:8000/runs/{run.pk}/"
    for _, body, _ in target.posts:
        assert link in json.dumps(body)
    assert {n.rule_id for n in Notification.objects.all()} == {r.pk for r in rules}
    sent = Event.objects.filter(kind="notification_sent", workflow=workflow)
    assert sent.count() == 2


def test_a_hanging_then_failing_target_does_not_hold_up_runs(
    notify_worker: Any, workflow_factory: Any, target: Target
) -> None:
    workflow = _failing_workflow(workflow_factory, "live-hang")
    _hook("live-hang", f"{target.url}/hang")
    _rule(workflow, "live-hang")
    target.hold = True
    target.status = 500
    first, _ = run_start(workflow=workflow, input={}, actor="test")

    # The run failed and its message is being sent to a target that does not answer.
    wait_for(lambda: _state(first) == RunState.FAILED, timeout=60, what="run failed")
    wait_for(target.arrived.is_set, timeout=60, what="the delivery reached the target")
    note = Notification.objects.get(run=first)
    assert note.state == "pending", "the delivery has not given up yet"
    # Another run of the workflow finishes while that delivery still hangs.
    second, _ = run_start(workflow=workflow, input={}, actor="test")
    wait_for(lambda: _state(second) == RunState.FAILED, timeout=60, what="second run")
    assert Notification.objects.get(run=first).state == "pending"

    # The target answers 500 from now on: retried, then failed, visibly.
    target.release()
    wait_for(
        lambda: set(Notification.objects.values_list("state", flat=True)) == {"failed"},
        timeout=120,
        what="both deliveries to give up",
    )
    for note in Notification.objects.all():
        assert note.attempts == 3
        assert note.last_error
        assert TOKEN not in note.last_error
    retries = Event.objects.filter(kind="notification_retry", workflow=workflow)
    assert retries.count() == 4
    for event in Event.objects.filter(kind__startswith="notification"):
        assert TOKEN not in event.reason and TOKEN not in json.dumps(event.data)
    assert all(
        TOKEN in headers.get("Authorization", "") for _, _, headers in target.posts
    )
