"""Batch start over HTTP: many runs in one transaction, each as a single start."""

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from designer import services as designer
from runs.models import Attempt, Event, Run, RunState, StepRun
from tests.support import drive, grant, linear_graph

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/workflows/wf/runs/batch/"
SINGLE = "/api/v1/workflows/wf/runs/"


def _post(client: APIClient, body: Any, path: str = BATCH) -> Any:
    return client.generic(
        "POST", path, json.dumps(body), content_type="application/json"
    )


def _history(run_id: int) -> list[tuple[str, str, str, str]]:
    """A run's events as (kind, node, from, to), in order, without ids or times."""
    return list(
        Event.objects.filter(run_id=run_id)
        .order_by("id")
        .values_list("kind", "node_id", "from_state", "to_state")
    )


def _rows(run_id: int) -> list[tuple[str, str, int]]:
    """A run's steps and attempts as (node, state, attempts), in order."""
    return [
        (step.node_id, step.state, Attempt.objects.filter(step=step).count())
        for step in StepRun.objects.filter(run_id=run_id).order_by("id")
    ]


def test_batch_starts_each_run_in_order_as_a_single_start_would(
    api: APIClient, workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    workflow_factory(linear_graph(2))
    single = _post(api, {"input": {"n": 0}}, SINGLE).json()
    body = {"runs": [{"input": {"n": 1}}, {"input": {"n": 2}}, {"input": {"n": 3}}]}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(api, body)
    assert response.status_code == 201, response.json()
    runs = response.json()["runs"]
    assert [r["state"] for r in runs] == ["running"] * 3
    assert [r["duplicate"] for r in runs] == [False] * 3
    assert [r["version"] for r in runs] == [1] * 3
    ids = [r["id"] for r in runs]
    assert ids == sorted(ids)
    stored = {run.pk: run for run in Run.objects.filter(pk__in=ids)}
    assert [stored[i].input for i in ids] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert {stored[i].created_by.username for i in ids} == {"alice"}
    # The same rows and the same transitions, each with its event, as a single start.
    for run_id in ids:
        assert _history(run_id) == _history(single["id"])
        assert _rows(run_id) == _rows(single["id"])
    assert Event.objects.get(run_id=ids[0], kind="run_created").actor == "user:alice"
    # One publish per first attempt, after the commit only.
    assert len(callbacks) == 3
    drive(stored[ids[1]])
    stored[ids[1]].refresh_from_db()
    assert stored[ids[1]].state == RunState.SUCCEEDED


def test_a_repeated_batch_returns_the_same_runs_as_duplicates(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1))
    earlier = _post(api, {"input": {}, "idempotency_key": "order-1"}, SINGLE).json()
    body = {
        "runs": [
            {"input": {"n": 1}, "idempotency_key": "order-1"},
            {"input": {"n": 2}, "idempotency_key": "order-2"},
            # The same key twice in one batch: the second gets the first's run.
            {"input": {"n": 3}, "idempotency_key": "order-2"},
            {"input": {"n": 4}},
        ]
    }
    first = _post(api, body)
    assert first.status_code == 201, first.json()
    runs = first.json()["runs"]
    assert [r["duplicate"] for r in runs] == [True, False, True, False]
    assert runs[0]["id"] == earlier["id"]
    assert runs[2]["id"] == runs[1]["id"]
    assert [r["idempotency_key"] for r in runs] == [
        "order-1",
        "order-2",
        "order-2",
        None,
    ]
    assert Run.objects.get(pk=runs[1]["id"]).input == {"n": 2}
    # Sent again (a client retrying after a lost answer): nothing new but the run
    # without a key; only duplicates answer 200.
    again = _post(api, body)
    assert again.status_code == 201
    assert [r["id"] for r in again.json()["runs"][:3]] == [r["id"] for r in runs[:3]]
    assert [r["duplicate"] for r in again.json()["runs"]] == [True, True, True, False]
    keyed_only = {"runs": body["runs"][:3]}
    repeat = _post(api, keyed_only)
    assert repeat.status_code == 200
    assert [r["id"] for r in repeat.json()["runs"]] == [r["id"] for r in runs[:3]]
    assert Run.objects.count() == 4


def test_more_than_1000_runs_are_refused_and_none_starts(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1))
    response = _post(api, {"runs": [{"input": {}}] * 1001})
    assert response.status_code == 413, response.json()
    error = response.json()["errors"][0]
    assert (error["code"], error["field"]) == ("too_large", "runs")
    assert "1000" in error["message"]
    empty = _post(api, {"runs": []})
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "runs"
    assert not Run.objects.exists()
    assert _post(api, {"runs": [{"input": {}}] * 1000}).status_code == 201
    assert Run.objects.count() == 1000


@pytest.mark.parametrize(
    ("bad", "status", "code", "field"),
    [
        ({"input": {}, "version": 0}, 400, "min_value", "runs.1.version"),
        ({"input": {}, "idempotency_key": "k" * 201}, 400, "max_length", None),
        ({"input": {"blob": "x" * (256 * 1024)}}, 413, "too_large", "runs.1.input"),
        ({"input": {}, "version": 9}, 404, "not_found", "runs.1.version"),
        ({"input": {}, "version": 2}, 409, "version_not_published", "runs.1"),
        ("not an object", 400, "invalid", "runs.1"),
    ],
)
def test_a_bad_item_refuses_the_whole_batch_naming_its_index(
    api: APIClient,
    workflow_factory: Any,
    bad: Any,
    status: int,
    code: str,
    field: str | None,
) -> None:
    workflow = workflow_factory(linear_graph(1))
    designer.version_create(workflow=workflow, graph=linear_graph(2))  # a draft: v2
    response = _post(api, {"runs": [{"input": {}}, bad, {"input": {}}]})
    assert response.status_code == status, response.json()
    errors = response.json()["errors"]
    assert errors[0]["code"] == code
    assert errors[0]["field"] == (field or "runs.1.idempotency_key")
    assert not Run.objects.exists()
    assert not Event.objects.filter(run__isnull=False).exists()


def test_a_workflow_without_a_live_version_starts_nothing(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1), publish=False)
    response = _post(api, {"runs": [{"input": {}}]})
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "no_live_version"
    assert response.json()["errors"][0]["field"] == "runs.0"


def test_only_those_who_may_start_runs_may_start_a_batch(
    workflow_factory: Any, django_user_model: Any
) -> None:
    workflow_factory(linear_graph(1))
    body = {"runs": [{"input": {}}]}
    for role, expected in [("viewer", 403), ("editor", 403), ("operator", 201)]:
        client = APIClient()
        client.force_authenticate(
            grant(django_user_model.objects.create_user(role), role)
        )
        response = _post(client, body)
        assert response.status_code == expected, (role, response.json())
    assert APIClient().post(BATCH, body, format="json").status_code in (401, 403)
    assert Run.objects.count() == 1


def test_admission_keeps_runs_past_the_limit_pending_as_single_starts_do(
    api: APIClient, workflow_factory: Any
) -> None:
    graph = linear_graph(1)
    graph["max_concurrent_runs"] = 2
    workflow_factory(graph)
    first = _post(api, {"input": {"n": 0}}, SINGLE).json()
    response = _post(api, {"runs": [{"input": {"n": i}} for i in range(1, 5)]})
    assert response.status_code == 201
    runs = response.json()["runs"]
    assert [r["state"] for r in runs] == ["running", "pending", "pending", "pending"]
    # A pending run got only its `run_created` event, as a single start makes it.
    assert [kind for kind, *_ in _history(runs[1]["id"])] == ["run_created"]
    after = _post(api, {"input": {}}, SINGLE).json()
    assert after["state"] == "pending"
    # A finished run lets the oldest pending one in (FIFO): the batch's first.
    drive(Run.objects.get(pk=first["id"]))
    states = dict(Run.objects.values_list("pk", "state"))
    assert states[runs[1]["id"]] == RunState.RUNNING
    assert states[runs[2]["id"]] == RunState.PENDING
    assert states[after["id"]] == RunState.PENDING


def test_a_canary_gets_its_share_of_a_batch_as_of_single_starts(
    api: APIClient, workflow_factory: Any, user: Any
) -> None:
    from runs import releases

    workflow = workflow_factory(linear_graph(1))
    draft, _ = designer.version_create(
        workflow=workflow, graph=linear_graph(2), created_by=user
    )
    releases.version_publish(version=draft, canary_percent=25)
    response = _post(api, {"runs": [{"input": {}}] * 8})
    assert response.status_code == 201
    versions = [r["version"] for r in response.json()["runs"]]
    # Every fourth run goes to the canary, counting the batch's own runs.
    assert versions == [1, 1, 1, 2, 1, 1, 1, 2]
    pinned = _post(api, {"runs": [{"input": {}, "version": 1}] * 4}).json()
    assert [r["version"] for r in pinned["runs"]] == [1, 1, 1, 1]
