"""Handoffs on a real Celery worker: waiting holds no worker; the outcome routes."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from runs.models import Handoff, HandoffState, Run, RunState, StepState
from tests.runs.test_handoffs import review_graph
from tests.support import grant, linear_graph, wait_for

pytestmark = pytest.mark.integration


def _finished(run_id: int) -> Run | None:
    run = Run.objects.get(pk=run_id)
    return run if run.is_finished else None


def test_waiting_handoffs_hold_no_worker_and_outcomes_route(
    live_db: Any, workflow_factory: Any, django_user_model: Any
) -> None:
    reviewer = grant(
        django_user_model.objects.create_user("rex", password="pw-rex-12345"),
        "operator",
    )
    reviewer.groups.add(Group.objects.get_or_create(name="risk")[0])
    client = APIClient()
    client.force_authenticate(reviewer)
    workflow_factory(review_graph(), slug="review")
    workflow_factory(linear_graph(3), slug="plain")
    # More waiting runs than the worker has processes (2).
    waiting = []
    for amount in (10, 20, 30, 40):
        response = client.post(
            "/api/v1/workflows/review/runs/",
            {"input": {"order": {"amount": amount}}},
            format="json",
        )
        assert response.status_code == 201, response.json()
        waiting.append(response.json()["id"])
    wait_for(
        lambda: (
            Handoff.objects.filter(run_id__in=waiting, state=HandoffState.OPEN).count()
            == 4
        ),
        timeout=30,
        what="four open handoffs",
    )
    # The worker is free: a plain run goes through while all four wait.
    response = client.post(
        "/api/v1/workflows/plain/runs/", {"input": {}}, format="json"
    )
    plain = wait_for(lambda: _finished(response.json()["id"]), timeout=60, what="plain")
    assert plain.state == RunState.SUCCEEDED
    assert all(
        Run.objects.get(pk=run_id).state == RunState.RUNNING for run_id in waiting
    )
    # Two approved, two rejected: each takes its own edge on the worker.
    for index, run_id in enumerate(waiting):
        handoff = Handoff.objects.get(run_id=run_id)
        outcome = "approve" if index % 2 == 0 else "reject"
        response = client.post(
            f"/api/v1/handoffs/{handoff.pk}/complete/",
            {"outcome": outcome},
            format="json",
        )
        assert response.status_code == 200, response.json()
    for index, run_id in enumerate(waiting):
        run = wait_for(lambda r=run_id: _finished(r), timeout=60, what="run to end")
        states = {s.node_id: s.state for s in run.steps.all()}
        if index % 2 == 0:
            assert run.state == RunState.SUCCEEDED
            assert states["ship"] == StepState.SUCCEEDED
            assert states["rejected"] == StepState.SKIPPED
        else:
            assert run.state == RunState.FAILED
            assert states["ship"] == StepState.SKIPPED
            assert states["rejected"] == StepState.SUCCEEDED
