"""Run controls over HTTP: cancel, pause, resume, retry, with FSM guards as 409."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from runs.models import Event, Run, RunState
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db


def _start(api: Any, workflow_factory: Any, graph: dict[str, Any] | None = None) -> int:
    workflow_factory(graph or linear_graph(2))
    response = api.post("/api/v1/workflows/wf/runs/", {"input": {}}, format="json")
    assert response.status_code == 201
    return int(response.json()["id"])


def test_cancel_then_cancel_again_is_a_conflict(
    api: Any, workflow_factory: Any
) -> None:
    run_id = _start(api, workflow_factory)
    response = api.post(
        f"/api/v1/runs/{run_id}/cancel/", {"reason": "oops"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "cancelled"
    again = api.post(f"/api/v1/runs/{run_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "transition_not_allowed"
    event = Event.objects.get(run_id=run_id, kind="run_cancelled")
    assert (event.actor, event.reason) == ("user:alice", "oops")


def test_pause_and_resume_follow_the_state_machine(
    api: Any, workflow_factory: Any
) -> None:
    run_id = _start(api, workflow_factory)
    assert api.post(f"/api/v1/runs/{run_id}/resume/").status_code == 409
    assert api.post(f"/api/v1/runs/{run_id}/pause/").json()["state"] == "paused"
    assert api.post(f"/api/v1/runs/{run_id}/pause/").status_code == 409
    assert api.post(f"/api/v1/runs/{run_id}/resume/").json()["state"] == "running"
    kinds = list(Event.objects.filter(run_id=run_id).values_list("kind", flat=True))
    assert kinds.count("run_paused") == 1


def test_retry_validates_its_request_and_refuses_running_runs(
    api: Any, workflow_factory: Any
) -> None:
    graph = linear_graph(2, action="builtin.fail")
    run_id = _start(api, workflow_factory, graph)
    running = api.post(f"/api/v1/runs/{run_id}/retry/", {}, format="json")
    assert running.status_code == 409
    assert running.json()["errors"][0]["code"] == "not_retryable"
    drive(Run.objects.get(pk=run_id))
    for body, code in [
        ({"version": "newest"}, "invalid"),
        ({"version": 7}, "bad_version"),
        ({"from_node": "nope"}, "unknown_node"),
        ({"input": [1, 2]}, "not_a_dict"),
    ]:
        response = api.post(f"/api/v1/runs/{run_id}/retry/", body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert response.json()["errors"][0]["code"] == code, response.json()
    assert Run.objects.get(pk=run_id).state == RunState.FAILED
    response = api.post(
        f"/api/v1/runs/{run_id}/retry/",
        {"version": "original", "from_node": "s1", "input": {"again": True}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "running"


def test_controls_need_a_user_and_an_existing_run(
    api: Any, workflow_factory: Any
) -> None:
    run_id = _start(api, workflow_factory)
    anonymous = APIClient(enforce_csrf_checks=True)
    for verb in ("cancel", "pause", "resume", "retry"):
        assert anonymous.post(f"/api/v1/runs/{run_id}/{verb}/").status_code in (
            401,
            403,
        )
        assert api.post(f"/api/v1/runs/999999/{verb}/").status_code == 404


def test_two_starts_with_one_idempotency_key_give_one_run(
    api: Any, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1))
    body = {"input": {"order": 7}, "idempotency_key": "order-7"}
    first = api.post("/api/v1/workflows/wf/runs/", body, format="json")
    again = api.post("/api/v1/workflows/wf/runs/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Run.objects.count() == 1


def test_board_list_filters_by_queue_sorts_and_flags_stuck_runs(
    api: Any, workflow_factory: Any
) -> None:
    from datetime import timedelta

    graph = linear_graph(1, queue="payments", timeout_s=5)
    run_id = _start(api, workflow_factory, graph)
    body = api.get("/api/v1/runs/", {"queue": "payments"}).json()
    assert [r["id"] for r in body["results"]] == [run_id]
    assert body["results"][0]["stuck"] is False
    assert api.get("/api/v1/runs/", {"queue": "default"}).json()["count"] == 0
    # Silence longer than the step timeout plus the heartbeat allowance: stuck.
    Event.objects.filter(run_id=run_id).update(
        created_at=Event.objects.get(run_id=run_id, kind="run_created").created_at
        - timedelta(minutes=5)
    )
    row = api.get("/api/v1/runs/", {"sort": "oldest"}).json()["results"][0]
    assert row["stuck"] is True
    counts = api.get("/api/v1/runs/counts/").json()["results"]
    assert {"workflow__slug": "wf", "workflow__name": "Wf", "state": "running",
            "count": 1} in counts  # fmt: skip


def test_run_list_filter_parameters_are_checked(api, workflow_factory):
    from runs.services.starting import run_start

    workflow = workflow_factory(linear_graph(1))
    runs = [run_start(workflow=workflow, input={}, actor="alice")[0] for _ in range(3)]
    wanted = f"{runs[0].pk},{runs[2].pk}"
    page = api.get(f"/api/v1/runs/?ids={wanted}").json()
    assert sorted(r["id"] for r in page["results"]) == [runs[0].pk, runs[2].pk]
    for query in ("state=nope", "version=x", "ids=1,x", "state=running,%00"):
        response = api.get(f"/api/v1/runs/?{query}")
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["code"] in ("bad_filter", "bad_query")
    too_many = ",".join(str(i) for i in range(1, 10_002))
    assert api.get(f"/api/v1/runs/?ids={too_many}").status_code in (400, 413, 414)
