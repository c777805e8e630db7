"""Webhook triggers: a signed delivery starts one run; anything else starts none."""

import json
import time
from typing import Any

import pytest
from django.test import Client

from runs import webhooks
from runs.models import Event, Message, Run, Webhook
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(api: Any, workflow_factory: Any) -> dict[str, Any]:
    workflow_factory(linear_graph(1), slug="hooked")
    response = api.post(
        "/api/v1/workflows/hooked/webhooks/",
        {
            "name": "orders",
            "input_mapping": '{"order": input.body.order_id, "via": "hook"}',
            "idempotency_field": "delivery.id",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _post(
    hook: dict[str, Any],
    body: Any,
    *,
    secret: str | None = None,
    at: int | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = webhooks.sign(secret or hook["secret"], raw, at=at)
    return Client().post(
        hook["webhook"]["url"] + query,
        raw,
        content_type="application/json",
        headers={webhooks.SIGNATURE_HEADER: signature, **(headers or {})},
    )


def test_a_signed_delivery_starts_a_run_with_the_mapped_input(
    hook: dict[str, Any],
) -> None:
    response = _post(hook, {"order_id": 42, "delivery": {"id": "d1"}})
    assert response.status_code == 202, response.json()
    body = response.json()
    run = Run.objects.get(pk=body["run_id"])
    assert body["created"] is True
    assert run.input == {"order": 42, "via": "hook"}
    assert run.trigger == f"webhook:{hook['webhook']['id']}"


def test_the_secret_is_shown_once_and_stored_encrypted(
    api: Any, hook: dict[str, Any]
) -> None:
    secret = hook["secret"]
    detail = api.get(f"/api/v1/webhooks/{hook['webhook']['id']}/")
    listed = api.get("/api/v1/workflows/hooked/webhooks/")
    for response in (detail, listed):
        assert secret not in response.content.decode()
    stored = Webhook.objects.get(pk=hook["webhook"]["id"])
    assert secret not in stored.secret_encrypted
    events = Event.objects.filter(workflow_id=stored.workflow_id)
    assert all(secret not in json.dumps(e.data) + e.reason for e in events)


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "old timestamp", "future timestamp", "no signature", "garbled"],
)
def test_a_bad_delivery_is_401_without_detail(
    hook: dict[str, Any], tamper: str
) -> None:
    body = {"order_id": 1}
    now = int(time.time())
    if tamper == "wrong secret":
        response = _post(hook, body, secret="whsec_guess")
    elif tamper == "old timestamp":
        response = _post(hook, body, at=now - 3600)
    elif tamper == "future timestamp":
        response = _post(hook, body, at=now + 3600)
    else:
        header = "" if tamper == "no signature" else "t=abc,v1=zz"
        response = Client().post(
            hook["webhook"]["url"],
            json.dumps(body),
            content_type="application/json",
            headers={webhooks.SIGNATURE_HEADER: header},
        )
    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {"code": "unauthorized", "message": "the delivery is not signed right"}
        ]
    }
    assert not Run.objects.exists()


def test_the_replay_window_is_exact_on_both_sides(hook: dict[str, Any]) -> None:
    """At the verifier, with the clock given: no request timing in the way."""
    webhook = Webhook.objects.get(pk=hook["webhook"]["id"])
    body, at = b"{}", 1_800_000_000
    header = webhooks.sign(hook["secret"], body, at=at)
    window = webhooks.REPLAY_WINDOW_S
    for now in (at - window, at, at + window):
        assert webhooks.verify(webhook, body, header, now=now)
    for now in (at - window - 1, at + window + 1):
        with pytest.raises(webhooks.Unauthorized):
            webhooks.verify(webhook, body, header, now=now)


def test_an_unknown_or_disabled_webhook_is_401_too(
    api: Any, hook: dict[str, Any]
) -> None:
    raw = b"{}"
    unknown = Client().post(
        "/hooks/nope/",
        raw,
        content_type="application/json",
        headers={webhooks.SIGNATURE_HEADER: webhooks.sign(hook["secret"], raw)},
    )
    assert unknown.status_code == 401
    api.post(f"/api/v1/webhooks/{hook['webhook']['id']}/disable/")
    assert _post(hook, {"order_id": 1}).status_code == 401
    api.post(f"/api/v1/webhooks/{hook['webhook']['id']}/enable/")
    assert _post(hook, {"order_id": 1}).status_code == 202


def test_retried_deliveries_start_one_run(hook: dict[str, Any]) -> None:
    first = _post(hook, {"order_id": 7, "delivery": {"id": "same"}})
    again = _post(hook, {"order_id": 7, "delivery": {"id": "same"}})
    assert first.json()["run_id"] == again.json()["run_id"]
    assert again.json()["created"] is False
    header = _post(hook, {"order_id": 8}, headers={"Idempotency-Key": "k1"})
    header_again = _post(hook, {"order_id": 8}, headers={"Idempotency-Key": "k1"})
    assert header.json()["run_id"] == header_again.json()["run_id"]
    # A byte-identical replay within the window (same signature) starts nothing new.
    raw = json.dumps({"order_id": 9}).encode()
    signature = webhooks.sign(hook["secret"], raw)
    replays = [
        Client().post(
            hook["webhook"]["url"],
            raw,
            content_type="application/json",
            headers={webhooks.SIGNATURE_HEADER: signature},
        )
        for _ in range(2)
    ]
    assert replays[0].json()["run_id"] == replays[1].json()["run_id"]
    assert Run.objects.count() == 3


def test_rotation_retires_the_old_secret(api: Any, hook: dict[str, Any]) -> None:
    rotated = api.post(f"/api/v1/webhooks/{hook['webhook']['id']}/rotate/").json()
    assert rotated["secret"] != hook["secret"]
    assert _post(hook, {"order_id": 1}).status_code == 401
    assert _post(hook, {"order_id": 1}, secret=rotated["secret"]).status_code == 202


def test_too_large_and_bad_bodies(hook: dict[str, Any]) -> None:
    big = b'{"x": "' + b"a" * (webhooks.MAX_BODY_BYTES + 10) + b'"}'
    assert _post(hook, big).status_code == 413
    assert _post(hook, b"not json").status_code == 400
    # The mapping reads a field that is not there: the delivery is understood but
    # cannot become an input.
    missing = _post(hook, {"other": 1})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "bad_mapping"
    assert not Run.objects.exists()


def test_a_mapping_that_is_not_an_object_is_refused(
    api: Any, hook: dict[str, Any]
) -> None:
    api.patch(
        f"/api/v1/webhooks/{hook['webhook']['id']}/",
        {"input_mapping": "input.body.order_id"},
        format="json",
    )
    response = _post(hook, {"order_id": 3})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "bad_input"


def test_bad_webhook_fields_are_refused(api: Any, workflow_factory: Any) -> None:
    workflow_factory(linear_graph(1), slug="bad-hook")
    url = "/api/v1/workflows/bad-hook/webhooks/"
    mapping = api.post(url, {"name": "x", "input_mapping": "nope("}, format="json")
    assert mapping.status_code == 400
    assert mapping.json()["errors"][0]["code"] == "bad_mapping"
    field = api.post(url, {"name": "x", "idempotency_field": "a..b"}, format="json")
    assert field.status_code == 400


def test_synchronous_mode_answers_the_output(hook: dict[str, Any]) -> None:
    """With ?wait=, the answer waits for the run (here driven in this process)."""
    started = _post(hook, {"order_id": 5, "delivery": {"id": "sync"}})
    run = Run.objects.get(pk=started.json()["run_id"])
    drive(run)
    response = _post(hook, {"order_id": 5, "delivery": {"id": "sync"}}, query="?wait=5")
    assert response.status_code == 200
    body = response.json()
    assert (body["run_id"], body["state"]) == (run.pk, "succeeded")
    assert body["output"] is not None
    bad = _post(hook, {"order_id": 5}, query="?wait=soon")
    assert bad.status_code == 400


def test_a_message_webhook_delivers_to_the_waiting_run(
    api: Any, workflow_factory: Any
) -> None:
    from runs.models import StepState
    from runs.services.starting import run_start
    from tests.runs.test_messages import _graph as receive_graph

    waiting, _ = run_start(
        workflow=workflow_factory(receive_graph(), slug="waits"),
        input={"order_id": "B-2"},
        actor="system",
    )
    created = api.post(
        "/api/v1/workflows/waits/webhooks/",
        {
            "name": "payments",
            "message": "payment.confirmed",
            "input_mapping": '{"key": input.body.order, "payload": input.body}',
        },
        format="json",
    ).json()
    delivery = {"order": "B-2", "amount": 12}
    response = _post(created, delivery, headers={"Idempotency-Key": "d-1"})
    assert response.status_code == 202, response.json()
    assert response.json()["delivered_to"] == [waiting.pk]
    # The sender retries the delivery: nothing is delivered or kept twice.
    retried = _post(created, delivery, headers={"Idempotency-Key": "d-1"})
    assert retried.json() == {**response.json(), "duplicate": True}
    assert not Message.objects.exists()
    assert Webhook.objects.get(pk=created["webhook"]["id"]).last_delivery_at
    paid = waiting.steps.get(node_id="paid")
    assert (paid.state, paid.output) == (
        StepState.SUCCEEDED,
        {"order": "B-2", "amount": 12},
    )
    bad = api.post(
        "/api/v1/workflows/waits/webhooks/",
        {"name": "x", "message": "bad name!"},
        format="json",
    )
    assert bad.status_code == 400
