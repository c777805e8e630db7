"""The connector actions in a workflow: registered with complete schemas, a run
through http.request on a stored connection into transform, connection kinds checked
at save."""

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest
from jsonschema import Draft202012Validator

from designer import connections
from engine.actions import ActionContext, get_action, registered_actions
from runs.models import Attempt, Event, Run, RunState, StepRun
from runs.services.starting import run_start
from tests.servers import http_server
from tests.support import drive

TOKEN = "tok-51c0e7a2d94b4f86"
CONNECTORS = [
    "http.request",
    "email.send",
    "slack.post",
    "webhook.post",
    "sql.query",
    "transform",
]


class _Orders(BaseHTTPRequestHandler):
    authorizations: ClassVar[list[str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Orders.authorizations.append(self.headers.get("Authorization", ""))
        body = b'{"order": {"id": 42, "total": 19.5, "token_echo": "%s"}}' % (
            TOKEN.encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def orders_api(settings: Any) -> Iterator[str]:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    _Orders.authorizations = []
    with http_server(_Orders) as url:
        yield url


def _graph(connection: str = "orders") -> dict[str, Any]:
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "fetch",
                "type": "task",
                "action": "http.request",
                "params": {
                    "connection": connection,
                    "method": "GET",
                    "path": '="/orders/" + string(input.order)',
                    "response": "body",
                },
            },
            {
                "id": "shape",
                "type": "task",
                "action": "transform",
                "params": {
                    "output": {
                        "id": "=steps.fetch.output.order.id",
                        "total_cents": "=int(steps.fetch.output.order.total * 100.0)",
                        "customer": "=input.customer",
                    }
                },
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "fetch"},
            {"id": "e2", "source": "fetch", "target": "shape"},
            {"id": "e3", "source": "shape", "target": "done"},
        ],
    }


def test_every_connector_is_registered_with_a_complete_schema() -> None:
    actions = registered_actions()
    for name in CONNECTORS:
        schema = dict(actions[name].params_schema)
        Draft202012Validator.check_schema(schema)
        assert actions[name].description, name
        assert schema["additionalProperties"] is False, name
        assert schema["required"], name
        for param, spec in schema["properties"].items():
            assert spec.get("description") or spec.get("enum"), (name, param)
    assert {n for n in CONNECTORS if actions[n].side_effects} == set(CONNECTORS) - {
        "transform"
    }
    kinds = {
        n: actions[n].params_schema["properties"]["connection"]["x-connection"]
        for n in CONNECTORS
        if n != "transform"
    }
    assert kinds == {
        "http.request": ["http"],
        "email.send": ["smtp"],
        "slack.post": ["slack"],
        "webhook.post": ["webhook"],
        "sql.query": ["postgres"],
    }


def test_transform_returns_its_evaluated_output() -> None:
    context = ActionContext(
        run_id=1, node_id="t", attempt=1, idempotency_key="k", input={}, timeout_s=1
    )
    output = {"a": 1, "b": [True, None], "c": {"d": "x"}}
    assert get_action("transform").func({"output": output}, context) == output


@pytest.mark.django_db
def test_a_run_calls_the_api_with_the_stored_token_and_shapes_the_answer(
    orders_api: str, workflow_factory: Any
) -> None:
    connections.connection_create(
        name="orders",
        kind="http",
        fields={"base_url": f"{orders_api}/api", "auth": "bearer"},
        secrets={"token": TOKEN},
    )
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="orders"),
        input={"order": 42, "customer": "ada"},
        actor="test",
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert _Orders.authorizations == [f"Bearer {TOKEN}"]
    assert run.output["shape"] == {"id": 42, "total_cents": 1950, "customer": "ada"}
    # The API echoed the token: the stored output has it redacted.
    fetched = StepRun.objects.get(run=run, node_id="fetch").output
    assert fetched["order"]["token_echo"] == "[redacted]"
    stored = [str(run.output)]
    stored += [str(s.output) + str(s.error) for s in StepRun.objects.filter(run=run)]
    stored += [str(e.data) for e in Event.objects.filter(run=run)]
    assert not any(TOKEN in text for text in stored)


@pytest.mark.django_db
def test_a_connection_of_the_wrong_kind_is_an_issue_at_save() -> None:
    connections.connection_create(
        name="alerts", kind="slack", secrets={"webhook_url": "https://hooks.x/T/B/C"}
    )
    issues = connections.graph_connection_issues(_graph("alerts"), None)
    assert [(i.code, i.node_id) for i in issues] == [("connection_kind", "fetch")]


@pytest.mark.django_db
def test_a_failing_call_fails_the_run_with_the_status(
    workflow_factory: Any, settings: Any
) -> None:
    """Loopback without the egress allowance: the step fails, not retried."""
    connections.connection_create(
        name="orders",
        kind="http",
        fields={"base_url": "http://127.0.0.1:9/api", "auth": "bearer"},
        secrets={"token": TOKEN},
    )
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="orders"),
        input={"order": 1, "customer": "bob"},
        actor="test",
    )
    drive(run)
    run = Run.objects.get(pk=run.pk)
    assert run.state == RunState.FAILED
    error = Attempt.objects.get(run=run).error
    assert error["type"] == "EgressDenied" and error["retryable"] is False
