"""Messages into waiting runs: the receive node, early messages, timeouts, expiry."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from designer.simulation import simulate
from engine.graph.validate import validate_graph
from runs import messages
from runs.models import (
    Event,
    Message,
    MessageSend,
    MessageWait,
    RunState,
    StepState,
)
from runs.services.controls import run_cancel
from runs.services.recovery import steps_wake_due
from runs.services.starting import run_start
from tests.support import drive

pytestmark = pytest.mark.django_db


def _graph(timeout_s: float | None = 600) -> dict[str, Any]:
    receive: dict[str, Any] = {
        "id": "paid",
        "type": "receive",
        "message": "payment.confirmed",
        "key": "input.order_id",
    }
    nodes = [
        {"id": "start", "type": "start"},
        receive,
        {"id": "ship", "type": "task", "action": "builtin.echo"},
        {"id": "done", "type": "end"},
    ]
    edges = [
        {"id": "e1", "source": "start", "target": "paid"},
        {"id": "e2", "source": "paid", "target": "ship"},
        {"id": "e3", "source": "ship", "target": "done"},
    ]
    if timeout_s is not None:
        receive["wait_s"] = timeout_s
        nodes.append({"id": "gave_up", "type": "end", "status": "failed"})
        edges.append(
            {"id": "late", "source": "paid", "target": "gave_up", "on": "timeout"}
        )
    return {"format": 1, "nodes": nodes, "edges": edges}


def _start(workflow_factory: Any, order: Any = 42, slug: str = "orders") -> Any:
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug=slug),
        input={"order_id": order},
        actor="system",
    )
    return run


def test_a_waiting_run_receives_its_message(workflow_factory: Any) -> None:
    run = _start(workflow_factory)
    paid = run.steps.get(node_id="paid")
    assert paid.state == StepState.WAITING
    result = messages.messages_send(
        name="payment.confirmed", key=42, payload={"amount": 10}, sent_by="user:x"
    )
    assert result == {
        "delivered_to": [run.pk],
        "kept": False,
        "expires_at": None,
        "duplicate": False,
    }
    paid.refresh_from_db()
    assert (paid.state, paid.output) == (StepState.SUCCEEDED, {"amount": 10})
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert not MessageWait.objects.exists()


def test_a_message_sent_before_the_run_arrives_is_not_lost(
    workflow_factory: Any,
) -> None:
    sent = messages.messages_send(
        name="payment.confirmed", key="7", payload={"early": True}, sent_by="api"
    )
    assert sent["kept"] is True
    run = _start(workflow_factory, order=7)
    paid = run.steps.get(node_id="paid")
    assert (paid.state, paid.output) == (StepState.SUCCEEDED, {"early": True})
    kept = Message.objects.get()
    assert (kept.state, kept.run_id) == ("delivered", run.pk)
    # Taken once: a second run with the same key waits.
    other = _start(workflow_factory, order=7, slug="orders-2")
    assert other.steps.get(node_id="paid").state == StepState.WAITING


def test_only_the_runs_with_the_key_receive_it(workflow_factory: Any) -> None:
    mine = _start(workflow_factory, order=1)
    theirs = _start(workflow_factory, order=2, slug="other")
    messages.messages_send(name="payment.confirmed", key=1, payload={}, sent_by="x")
    assert mine.steps.get(node_id="paid").state == StepState.SUCCEEDED
    assert theirs.steps.get(node_id="paid").state == StepState.WAITING


def test_the_timeout_takes_the_timeout_route(workflow_factory: Any) -> None:
    run = _start(workflow_factory)
    assert steps_wake_due(now=timezone.now() + timedelta(seconds=601)) == 1
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.steps.get(node_id="gave_up").state == StepState.SUCCEEDED
    # A message after the timeout goes nowhere: it is kept for another run.
    late = messages.messages_send(
        name="payment.confirmed", key=42, payload={}, sent_by="x"
    )
    assert late["kept"] is True


def test_a_cancelled_run_receives_nothing(workflow_factory: Any) -> None:
    run = _start(workflow_factory)
    run_cancel(run=run, actor="user:x", reason="changed my mind")
    result = messages.messages_send(
        name="payment.confirmed", key=42, payload={}, sent_by="x"
    )
    assert result["delivered_to"] == []
    assert result["kept"] is True


def test_kept_messages_expire_with_a_count(
    workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_MESSAGE_RETENTION_S = 60
    for key in ("a", "b"):
        messages.messages_send(name="nobody.waits", key=key, payload={}, sent_by="x")
    assert messages.messages_expire(now=timezone.now() + timedelta(seconds=30)) == 0
    assert messages.messages_expire(now=timezone.now() + timedelta(seconds=61)) == 2
    assert not Message.objects.exists()
    event = Event.objects.get(kind="messages_expired")
    assert event.data == {"count": 2, "by_name": {"nobody.waits": 2}}
    # An expired message is not taken by a run arriving later.
    messages.messages_send(name="payment.confirmed", key=9, payload={}, sent_by="x")
    Message.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    run = _start(workflow_factory, order=9)
    assert run.steps.get(node_id="paid").state == StepState.WAITING


def test_a_retried_send_with_its_idempotency_key_delivers_nothing_twice(
    api: Any, workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_MESSAGE_RETENTION_S = 60
    body = {"name": "payment.confirmed", "key": "A-7", "payload": {"n": 1}}
    headers = {"Idempotency-Key": "pay-7"}
    # Sent before any run waits: kept once, however often it is retried.
    first = api.post("/api/v1/messages/", body, format="json", headers=headers)
    again = api.post("/api/v1/messages/", body, format="json", headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["duplicate"] is False
    assert again.json() == {**first.json(), "duplicate": True}
    assert Message.objects.filter(key="A-7").count() == 1
    # The run takes the one message; a second run with the key is not fed a copy.
    one = _start(workflow_factory, order="A-7")
    two = _start(workflow_factory, order="A-7", slug="orders-2")
    assert one.steps.get(node_id="paid").state == StepState.SUCCEEDED
    assert two.steps.get(node_id="paid").state == StepState.WAITING
    # Delivered to a waiting run: a retry does not deliver to the next waiting one.
    fresh = api.post(
        "/api/v1/messages/", body, format="json", headers={"Idempotency-Key": "pay-8"}
    )
    assert fresh.json()["delivered_to"] == [two.pk]
    three = _start(workflow_factory, order="A-7", slug="orders-3")
    retried = api.post(
        "/api/v1/messages/", body, format="json", headers={"Idempotency-Key": "pay-8"}
    )
    assert retried.json() == {**fresh.json(), "duplicate": True}
    assert three.steps.get(node_id="paid").state == StepState.WAITING
    # Without a key every send counts; the kept answers go with the retention.
    assert messages.messages_expire(now=timezone.now() + timedelta(seconds=61)) == 0
    assert not MessageSend.objects.exists()
    long = api.post(
        "/api/v1/messages/", body, format="json", headers={"Idempotency-Key": "k" * 201}
    )
    assert long.status_code == 400
    assert long.json()["errors"][0]["code"] == "bad_idempotency_key"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "bad name!", "key": 1}, 400, "bad_name"),
        ({"name": "ok", "key": ""}, 400, "bad_key"),
        ({"name": "ok", "key": {"a": 1}}, 400, "bad_key"),
        ({"name": "ok", "key": 1, "payload": {"x": "y" * 300_000}}, 413, "too_large"),
    ],
)
def test_the_messages_api_refuses_bad_messages(
    api: Any, body: dict, status: int, code: str
) -> None:
    response = api.post("/api/v1/messages/", body, format="json")
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code


def test_the_messages_api_delivers(api: Any, workflow_factory: Any) -> None:
    run = _start(workflow_factory, order="A-1")
    response = api.post(
        "/api/v1/messages/",
        {"name": "payment.confirmed", "key": "A-1", "payload": {"ok": True}},
        format="json",
    )
    assert response.status_code == 202
    assert response.json()["delivered_to"] == [run.pk]


def test_a_bad_key_value_fails_the_step_naming_it(workflow_factory: Any) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"order_id": None}, actor="system"
    )
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.error["node_id"] == "paid"
    assert "key gave None" in run.error["message"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda g: g["edges"].pop(), "receive_timeout"),  # timeout_s, no edge
        (lambda g: g["nodes"][1].pop("wait_s"), "receive_timeout"),  # edge only
        (lambda g: g["nodes"][1].update(key="input.("), "bad_expression"),
        (lambda g: g["edges"][1].update(on="timeout"), "receive_edges"),
    ],
)
def test_receive_rules(change: Any, code: str) -> None:
    graph = _graph()
    change(graph)
    result = validate_graph(graph, actions={"builtin.echo": {}})
    assert code in [i.code for i in result.errors]


def test_a_timeout_edge_only_leaves_a_receive() -> None:
    graph = _graph()
    graph["edges"][2]["on"] = "timeout"  # out of the task
    result = validate_graph(graph, actions={"builtin.echo": {}})
    assert "timeout_edge_source" in [i.code for i in result.errors]


def test_test_cases_mock_the_message_or_the_timeout() -> None:
    received = simulate(
        _graph(),
        input={"order_id": 1},
        mocks={"paid": {"message": {"amount": 3}}, "ship": {"output": {}}},
    )
    assert received.state == "succeeded"
    assert received.steps[1].output == {"amount": 3}
    late = simulate(_graph(), input={"order_id": 1}, mocks={"paid": {"timeout": True}})
    assert (late.state, late.end) == ("failed", "gave_up")
    unmocked = simulate(_graph(), input={"order_id": 1})
    assert "receive 'paid' has no mocked message" in unmocked.problems
