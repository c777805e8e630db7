"""Runs on a real Celery worker process over Redis against PostgreSQL."""

import uuid
from typing import Any

import pytest

from config.celery import app
from engine.dispatch import RUN_ATTEMPT_TASK
from runs.models import Attempt, Event, Run, RunState, StepState
from tests.support import choice_graph, linear_graph, wait_for

pytestmark = pytest.mark.integration


def _start(api: Any, slug: str, payload: dict[str, Any]) -> int:
    response = api.post(
        f"/api/v1/workflows/{slug}/runs/", {"input": payload}, format="json"
    )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def _finished(run_id: int) -> Run | None:
    run = Run.objects.get(pk=run_id)
    return run if run.is_finished else None


def test_five_step_linear_workflow_succeeds(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    workflow_factory(
        linear_graph(5, action="builtin.echo", params={"k": "v"}), slug="linear"
    )
    run_id = _start(api, "linear", {"order": 1})
    run = wait_for(lambda: _finished(run_id), timeout=60, what="run to finish")
    assert run.state == RunState.SUCCEEDED
    assert [s.node_id for s in run.steps.order_by("id")] == [
        "start",
        "s1",
        "s2",
        "s3",
        "s4",
        "s5",
        "done",
    ]
    body = api.get(f"/api/v1/runs/{run_id}/").json()
    assert body["state"] == "succeeded"
    assert all(s["state"] == "succeeded" for s in body["steps"])
    assert body["steps"][1]["attempts"][0]["queue_delay_s"] is not None


def test_choice_takes_the_selected_branch_and_skips_the_rest(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    workflow_factory(choice_graph(), slug="choice")
    run_id = _start(api, "choice", {"amount": 2000})
    run = wait_for(lambda: _finished(run_id), timeout=60, what="run to finish")
    states = {s.node_id: s.state for s in run.steps.all()}
    assert run.state == RunState.SUCCEEDED
    assert states["big"] == StepState.SUCCEEDED
    assert states["small"] == StepState.SKIPPED
    assert states["after_small"] == StepState.SKIPPED


def test_failing_task_fails_the_run(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    workflow_factory(
        linear_graph(
            2, action="builtin.fail", params={"error": "Boom", "message": "no"}
        ),
        slug="failing",
    )
    run_id = _start(api, "failing", {})
    run = wait_for(lambda: _finished(run_id), timeout=60, what="run to finish")
    assert run.state == RunState.FAILED
    assert run.error["type"] == "Boom"
    assert run.error["message"] == "no"
    assert api.get(f"/api/v1/runs/{run_id}/").json()["error"]["type"] == "Boom"


def test_redelivered_message_of_a_finished_attempt_changes_nothing(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1, action="builtin.ledger"), slug="ledger")
    run_id = _start(api, "ledger", {})
    wait_for(lambda: _finished(run_id), timeout=60, what="run to finish")
    attempt = Attempt.objects.get(run_id=run_id)
    events_before = Event.objects.filter(run_id=run_id).count()
    task_id = f"dup-{uuid.uuid4()}"
    app.send_task(RUN_ATTEMPT_TASK, args=[attempt.pk], queue="default", task_id=task_id)
    log = live_db.log_path
    wait_for(
        lambda: f"{task_id}] succeeded" in log.read_text(),
        timeout=60,
        what="duplicate delivery processed",
    )
    assert Event.objects.filter(attempt=attempt, kind="attempt_succeeded").count() == 1
    assert Event.objects.filter(run_id=run_id).count() == events_before
    from runs.models import LedgerEntry

    assert LedgerEntry.objects.filter(run_id=run_id).count() == 1
