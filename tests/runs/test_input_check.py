"""Run input is checked against the workflow's input schema at every start."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from runs import schedules, webhooks
from runs.models import Event, Run, RunState
from runs.services.starting import run_start
from tests.support import caller_graph, drive, echo_child_graph, linear_graph

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "amount": {"type": "number", "minimum": 0},
        "customer": {
            "type": "object",
            "properties": {"email": {"type": "string", "format": "email"}},
            "required": ["email"],
        },
    },
    "required": ["order_id"],
}


def _workflow(workflow_factory: Any, slug: str = "wf", graph: Any = None) -> Any:
    workflow = workflow_factory(graph or linear_graph(1), slug=slug)
    workflow.input_schema = SCHEMA
    workflow.save(update_fields=["input_schema"])
    return workflow


def _post(client: APIClient, path: str, body: Any) -> Any:
    return client.generic(
        "POST", path, json.dumps(body), content_type="application/json"
    )


def test_a_single_start_with_bad_input_answers_422_naming_each_field(
    api: APIClient, workflow_factory: Any
) -> None:
    _workflow(workflow_factory)
    body = {"input": {"amount": -1, "customer": {}}}
    response = _post(api, "/api/v1/workflows/wf/runs/", body)
    assert response.status_code == 422, response.json()
    errors = response.json()["errors"]
    assert {e["code"] for e in errors} == {"input_invalid"}
    assert [e["field"] for e in errors] == ["input", "input.amount", "input.customer"]
    assert "order_id" in errors[0]["message"]
    assert "email" in errors[2]["message"]
    assert not Run.objects.exists()


def test_a_single_start_with_fitting_input_starts(
    api: APIClient, workflow_factory: Any
) -> None:
    _workflow(workflow_factory)
    body = {"input": {"order_id": "A-1", "customer": {"email": "a@example.com"}}}
    response = _post(api, "/api/v1/workflows/wf/runs/", body)
    assert response.status_code == 201, response.json()


def test_an_empty_schema_takes_any_object(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1))
    response = _post(api, "/api/v1/workflows/wf/runs/", {"input": {"x": [1, 2]}})
    assert response.status_code == 201


def test_a_batch_with_one_bad_input_starts_none_and_names_the_item(
    api: APIClient, workflow_factory: Any
) -> None:
    _workflow(workflow_factory)
    body = {"runs": [{"input": {"order_id": "A"}}, {"input": {"order_id": 5}}]}
    response = _post(api, "/api/v1/workflows/wf/runs/batch/", body)
    assert response.status_code == 422, response.json()
    (error,) = response.json()["errors"]
    assert error["code"] == "input_invalid"
    assert error["field"] == "runs.1.input.order_id"
    assert not Run.objects.exists()


def test_many_problems_are_bounded(api: APIClient, workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(1))
    workflow.input_schema = {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    workflow.save(update_fields=["input_schema"])
    body = {"input": {f"k{i}": "x" * 500 for i in range(100)}}
    response = _post(api, "/api/v1/workflows/wf/runs/", body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert len(errors) == 20
    assert all(len(e["message"]) <= 300 for e in errors)


def test_a_scheduled_start_with_bad_input_fails_the_fire_and_starts_nothing(
    workflow_factory: Any,
) -> None:
    workflow = _workflow(workflow_factory, slug="sched")
    schedule = schedules.schedule_create(
        workflow=workflow,
        fields={"name": "every 10 s", "kind": "interval", "interval_s": 10},
    )
    schedule.input = {"amount": 3}
    schedule.save(update_fields=["input"])
    fired = schedules.schedules_fire_due(now=schedule.anchor_at + timedelta(seconds=10))
    assert fired == 0
    assert not Run.objects.exists()
    failed = Event.objects.get(kind="schedule_failed")
    assert "order_id" in failed.reason


def test_a_call_with_bad_input_fails_its_step_without_retrying(
    workflow_factory: Any,
) -> None:
    _workflow(workflow_factory, slug="child", graph=echo_child_graph())
    parent, _ = run_start(
        workflow=workflow_factory(caller_graph("child"), slug="parent"),
        input={"order": 7},
        actor="system",
    )
    drive(parent)
    parent.refresh_from_db()
    assert not Run.objects.filter(parent_run=parent).exists()
    step = parent.steps.get(node_id="sub")
    assert step.error["type"] == "InvalidInput"
    assert step.attempts.count() == 1
    # The on: failure edge ends it at the "failed" end.
    assert parent.state == RunState.FAILED


def test_a_webhook_delivery_with_bad_input_answers_422_and_starts_nothing(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="hooked")
    workflow.input_schema = {
        "type": "object",
        "properties": {"order": {"type": "integer"}},
        "required": ["order"],
    }
    workflow.save(update_fields=["input_schema"])
    hook = api.post(
        "/api/v1/workflows/hooked/webhooks/",
        {"name": "orders", "input_mapping": '{"order": input.body.order_id}'},
        format="json",
    ).json()

    def deliver(body: dict[str, Any]) -> Any:
        raw = json.dumps(body).encode()
        return Client().post(
            hook["webhook"]["url"],
            raw,
            content_type="application/json",
            headers={webhooks.SIGNATURE_HEADER: webhooks.sign(hook["secret"], raw)},
        )

    response = deliver({"order_id": "not a number"})
    assert response.status_code == 422, response.json()
    (error,) = response.json()["errors"]
    assert (error["code"], error["field"]) == ("input_invalid", "input.order")
    assert not Run.objects.exists()
    assert deliver({"order_id": 7}).status_code == 202


def test_a_retry_with_an_input_override_is_checked_like_a_start(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow = _workflow(workflow_factory, graph=linear_graph(1, action="builtin.fail"))
    run, _ = run_start(workflow=workflow, input={"order_id": "A-1"}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    path = f"/api/v1/runs/{run.pk}/retry/"
    bad = _post(api, path, {"input": {"amount": -5}})
    assert bad.status_code == 422, bad.json()
    assert [e["field"] for e in bad.json()["errors"]] == ["input.amount"]
    run.refresh_from_db()
    assert run.state == RunState.FAILED, "a refused retry changes nothing"
    assert run.input == {"order_id": "A-1"}
    # The run's own input is not checked again; a fitting override retries.
    assert _post(api, path, {}).status_code == 200
    drive(run)
    assert _post(api, path, {"input": {"amount": 5}}).status_code == 200
