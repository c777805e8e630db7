"""The connector actions on a real Celery worker: one run calls an API with a bearer
connection, queries a second PostgreSQL database, shapes the result, emails it through
an SMTP connection and posts it to Slack; no secret is stored anywhere."""

import json
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.db import connection as db

from designer import connections
from runs.models import RUN_FINISHED, Run, RunState
from runs.services.starting import run_start
from tests.conftest import _test_db_env
from tests.engine.test_connectors_email import _SMTPHandler, smtp_port  # noqa: F401
from tests.engine.test_connectors_sql import SERVER, source_db  # noqa: F401
from tests.servers import http_server, start_worker, stop_process
from tests.support import wait_for

pytestmark = pytest.mark.integration

QUEUE = "connectors-live"
SECRETS = {
    "token": "live-api-token-4b7e19c2",
    "password": "live-smtp-pw-83d1f0aa",
    "webhook_url_path": "/services/T9/B9/live-slack-3c5d7e",
}


class _Api(BaseHTTPRequestHandler):
    """GET /v1/customers/<id> answers the customer; POST /services/... is Slack."""

    seen: ClassVar[list[tuple[str, str, Any]]] = []

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Api.seen.append(("GET", self.path, self.headers.get("Authorization")))
        self._answer(b'{"customer": {"id": 2, "email": "ada@example.com"}}')

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Api.seen.append(("POST", self.path, body))
        self._answer(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api_server() -> Iterator[str]:
    _Api.seen = []
    with http_server(_Api) as url:
        yield url


@pytest.fixture
def connector_worker(live_db: Any, tmp_path: Path) -> Iterator[None]:
    """A worker on QUEUE alone, with loopback opened to its egress policy."""
    process = start_worker(
        tmp_path / "connector-worker.log",
        env={**_test_db_env(), "SWITCHYARD_EGRESS_ALLOW": "127.0.0.1/32"},
        what="connector worker",
        queues=[QUEUE],
        concurrency=1,
        name=f"conn-{os.getpid()}",
        loglevel="INFO",
    )
    yield
    stop_process(process)


def _task(node_id: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "task",
        "action": action,
        "queue": QUEUE,
        "params": params,
    }


def _graph() -> dict[str, Any]:
    customer = "steps.customer.output"
    tasks = [
        _task(
            "customer",
            "http.request",
            {
                "connection": "live-crm",
                "method": "GET",
                "path": '="/customers/" + string(input.customer)',
                "select": "/customer",
            },
        ),
        _task(
            "items",
            "sql.query",
            {
                "connection": "live-db",
                "sql": "SELECT name, price FROM items WHERE id <= %(id)s ORDER BY id",
                "params": {"id": f"={customer}.id"},
            },
        ),
        _task(
            "summary",
            "transform",
            {
                "output": {
                    "to": f"={customer}.email",
                    "names": "=steps.items.output.rows.map(r, r.name)",
                    "count": "=steps.items.output.row_count",
                }
            },
        ),
        _task(
            "mail",
            "email.send",
            {
                "connection": "live-smtp",
                "to": ["=steps.summary.output.to"],
                "subject": "Your items",
                "text": '="You have " + string(steps.summary.output.count) + '
                '" items, the first " + steps.summary.output.names[0]',
            },
        ),
        _task("tell", "slack.post", {"connection": "live-slack", "text": "mailed"}),
    ]
    order = ["start", *(t["id"] for t in tasks), "done"]
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            *tasks,
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": f"e{n}", "source": a, "target": b}
            for n, (a, b) in enumerate(zip(order, order[1:], strict=False))
        ],
    }


def test_a_run_uses_every_kind_of_connection_on_a_real_worker(
    connector_worker: None,
    workflow_factory: Any,
    api_server: str,
    smtp_port: int,  # noqa: F811
    source_db: str,  # noqa: F811
) -> None:
    slack_url = api_server + SECRETS["webhook_url_path"]
    made = [
        ("live-crm", "http", {"base_url": f"{api_server}/v1", "auth": "bearer"}),
        ("live-db", "postgres", {**SERVER, "dbname": source_db, "sslmode": "disable"}),
        (
            "live-smtp",
            "smtp",
            {"host": "127.0.0.1", "port": smtp_port, "username": "robot"}
            | {"from_email": "robot@example.com"},
        ),
        ("live-slack", "slack", {}),
    ]
    secrets = [
        {"token": SECRETS["token"]},
        {"password": SECRETS["password"]},
        {"password": SECRETS["password"]},
        {"webhook_url": slack_url},
    ]
    for (name, kind, fields), secret in zip(made, secrets, strict=True):
        connections.connection_create(
            name=name, kind=kind, fields=fields, secrets=secret
        )
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="live-connectors"),
        input={"customer": 2},
        actor="test",
    )
    wait_for(
        lambda: Run.objects.get(pk=run.pk).state in RUN_FINISHED,
        timeout=90,
        what="the run to finish",
    )
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert _Api.seen[0] == ("GET", "/v1/customers/2", f"Bearer {SECRETS['token']}")
    assert _Api.seen[1] == ("POST", SECRETS["webhook_url_path"], {"text": "mailed"})
    (message,) = _SMTPHandler.messages
    assert message["rcpt"] == ["ada@example.com"]
    assert "You have 2 items, the first bolt" in message["data"]
    assert _SMTPHandler.logins == [f"\x00robot\x00{SECRETS['password']}"]
    assert run.output["summary"]["count"] == 2
    _assert_no_secret_stored([*SECRETS.values(), slack_url])


def _assert_no_secret_stored(values: list[str]) -> None:
    """Grep every text and JSON column of every table for each secret."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'jsonb', 'json')"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            for value in values:
                quoted = db.ops.quote_name
                cursor.execute(
                    f"SELECT count(*) FROM {quoted(table)} "  # noqa: S608 - names from the catalogue
                    f"WHERE {quoted(column)}::text LIKE %s",
                    [f"%{value}%"],
                )
                assert cursor.fetchone()[0] == 0, (table, column, value)
