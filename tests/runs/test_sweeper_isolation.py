"""Bounded durations end to end, and periodic jobs that one bad row cannot stop.

Graphs stored before the bounds are not revalidated, so they are planted here with
validation switched off; the API refuses the same values on save.
"""

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from designer.models import Workflow
from engine import tasks
from engine.retry import MAX_DELAY_S
from runs import metrics, releases
from runs.models import (
    Attempt,
    AttemptState,
    Event,
    Handoff,
    Run,
    RunState,
    StepState,
)
from runs.services import recovery
from runs.services.attempts import attempt_finish, attempt_start
from runs.services.graphs import compiled_graph_for
from runs.services.recovery import (
    attempts_recover_lost,
    attempts_republish_stuck,
    steps_wake_due,
)
from runs.services.starting import run_start
from tests.runs.test_handoffs import review_graph
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db

# A year and a day of slack: every due date a bounded duration can produce.
WITHIN_A_YEAR = timedelta(seconds=MAX_DELAY_S + 86400)


def wait_graph(seconds: float) -> dict[str, Any]:
    """start → nap (a wait of `seconds`) → done."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "wait", "seconds": seconds},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "done"},
        ],
    }


@pytest.fixture
def stored_unchecked(workflow_factory: Any, monkeypatch: Any) -> Any:
    """Publish a graph as a version stored before the bounds: no validation."""

    def store(graph: dict[str, Any], slug: str) -> Workflow:
        workflow = workflow_factory(linear_graph(1), slug=slug, publish=False)
        version = workflow.versions.get()
        type(version).objects.filter(pk=version.pk).update(graph=graph)
        version.refresh_from_db()
        with monkeypatch.context() as patch:
            patch.setattr(releases, "validated", lambda graph: None)
            releases.version_publish(version=version)
        workflow.refresh_from_db()
        return workflow

    return store


# -- bounds at the API and at run time -----------------------------------------------

HUGE_FIELDS = {
    "wait seconds": ("nap", lambda v: wait_graph(v)),
    "handoff sla_s": ("review", lambda v: review_graph(sla_s=v)),
    "retry initial_interval_s": (
        "s1",
        lambda v: linear_graph(1, retry={"initial_interval_s": v}),
    ),
    "retry max_interval_s": (
        "s1",
        lambda v: linear_graph(1, retry={"max_interval_s": v}),
    ),
}


@pytest.mark.parametrize("huge", [1e12, 1e308])
@pytest.mark.parametrize("field", list(HUGE_FIELDS))
def test_saving_a_huge_duration_answers_400_naming_the_node(
    api: Any, field: str, huge: float
) -> None:
    node_id, graph_with = HUGE_FIELDS[field]
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    response = api.post(
        "/api/v1/workflows/wf/versions/", {"graph": graph_with(huge)}, format="json"
    )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert [(e["code"], e.get("node_id")) for e in errors] == [("schema", node_id)]
    assert "maximum" in errors[0]["message"]


@pytest.mark.parametrize(
    ("graph", "node_id"),
    [
        (wait_graph(1e308), "nap"),
        (review_graph(sla_s=1e308), "review"),
    ],
    ids=["wait 1e308", "sla 1e308"],
)
def test_starting_a_stored_huge_timer_answers_201_and_waits_a_year_at_most(
    api: Any, stored_unchecked: Any, graph: dict[str, Any], node_id: str
) -> None:
    workflow = stored_unchecked(graph, "huge")
    response = api.post(f"/api/v1/workflows/{workflow.slug}/runs/", {}, format="json")
    assert response.status_code in (201, 202), response.content
    run = Run.objects.get(pk=response.json()["id"])
    assert run.state == RunState.RUNNING
    step = run.steps.get(node_id=node_id)
    assert step.state == StepState.WAITING
    due = step.wake_at or Handoff.objects.get(step=step).due_at
    assert timezone.now() < due <= timezone.now() + WITHIN_A_YEAR


def test_a_stored_huge_retry_interval_schedules_the_retry_within_a_year(
    stored_unchecked: Any,
) -> None:
    retry = {
        "max_attempts": 2,
        "initial_interval_s": 1e308,
        "max_interval_s": 1e308,
        "backoff": 1e10,
        "jitter": "none",
    }
    graph = linear_graph(1, action="builtin.fail", queue="bounds", retry=retry)
    run, _ = run_start(
        workflow=stored_unchecked(graph, "huge-retry"), input={}, actor="system"
    )
    drive(run)
    retry_attempt = Attempt.objects.get(run=run, number=2)
    assert retry_attempt.state == AttemptState.SCHEDULED
    assert retry_attempt.due_at <= timezone.now() + WITHIN_A_YEAR


def test_a_stored_huge_timeout_still_runs_its_task(stored_unchecked: Any) -> None:
    """A worker's timer (setitimer) cannot hold 1e12 s: it raised OverflowError."""
    graph = linear_graph(1, timeout_s=1e12)
    run, _ = run_start(
        workflow=stored_unchecked(graph, "huge-timeout"), input={}, actor="system"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, list(
        Attempt.objects.filter(run=run).values_list("error", flat=True)
    )
    attempt = Attempt.objects.get(run=run)
    assert attempt.deadline_at <= attempt.started_at + WITHIN_A_YEAR


# -- periodic jobs: a bad row is logged, marked and skipped ------------------------


def _running_attempts(workflow_factory: Any, *slugs: str) -> list[Attempt]:
    """Start one task run per slug and leave its attempt running on a worker."""
    attempts = []
    graph = linear_graph(1, retry={"max_attempts": 2, "initial_interval_s": 0})
    for slug in slugs:
        run, _ = run_start(
            workflow=workflow_factory(graph, slug=slug), input={}, actor="system"
        )
        attempt = Attempt.objects.get(run=run)
        attempt_start(attempt_id=attempt.pk, worker="gone")
        attempts.append(attempt)
    return attempts


def _sweep_error_event(attempt: Attempt, job: str) -> Event:
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FAILED
    assert attempt.error["type"] == "SweepError"
    event = Event.objects.get(attempt=attempt, kind="attempt_failed")
    assert event.actor == "system:sweeper"
    assert f"{job} could not process it" in event.reason
    return event


def test_recover_lost_skips_and_marks_a_bad_row(
    workflow_factory: Any, monkeypatch: Any, caplog: Any
) -> None:
    bad, good = _running_attempts(workflow_factory, "lost-bad", "lost-good")
    real = attempt_finish

    def poisoned(*, attempt_id: int, **kwargs: Any) -> Any:
        if attempt_id == bad.pk:
            raise OverflowError("date value out of range")
        return real(attempt_id=attempt_id, **kwargs)

    monkeypatch.setattr(recovery, "attempt_finish", poisoned)
    later = timezone.now() + timedelta(minutes=5)
    with caplog.at_level(logging.ERROR, logger="switchyard.sweep"):
        assert attempts_recover_lost(now=later) == 1
    good.refresh_from_db()
    assert good.state == AttemptState.FAILED
    assert good.error["type"] in ("WorkerLost", "Timeout")
    assert Attempt.objects.get(run=good.run_id, number=2).state == AttemptState.QUEUED
    event = _sweep_error_event(bad, "recover_lost")
    assert "OverflowError: date value out of range" in event.reason
    assert any(f"attempt {bad.pk}" in r.getMessage() for r in caplog.records)
    # Marked rows leave the job's query: the next beat has nothing to redo.
    assert attempts_recover_lost(now=later) == 0


def test_republish_skips_and_marks_a_bad_row(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    graph = linear_graph(1)
    runs = [
        run_start(
            workflow=workflow_factory(graph, slug=slug), input={}, actor="system"
        )[0]
        for slug in ("lost-msg-bad", "lost-msg-good")
    ]
    bad, good = (Attempt.objects.get(run=run) for run in runs)
    assert bad.state == good.state == AttemptState.QUEUED
    real = compiled_graph_for

    def poisoned(version_id: int) -> Any:
        if version_id == bad.run.version_id:
            raise ValueError("a graph this engine cannot read")
        return real(version_id)

    monkeypatch.setattr(recovery, "compiled_graph_for", poisoned)
    later = timezone.now() + timedelta(minutes=5)
    assert attempts_republish_stuck(now=later) == 1
    good.refresh_from_db()
    assert good.state == AttemptState.QUEUED and good.publish_count == 1
    assert Event.objects.filter(attempt=good, kind="attempt_republished").exists()
    _sweep_error_event(bad, "republish")
    # The bad row's savepoint was rolled back: no half-written republish.
    assert not Event.objects.filter(attempt=bad, kind="attempt_republished").exists()
    # The bad row left the job's query: the next beat does not touch it again.
    events = Event.objects.filter(attempt=bad).count()
    attempts_republish_stuck(now=later)
    assert Event.objects.filter(attempt=bad).count() == events


def test_rollback_check_survives_a_failed_query_of_another_workflow(
    api: Any, workflow_factory: Any, monkeypatch: Any
) -> None:
    """One workflow's check breaks the database transaction; the next still runs."""
    trivial = {
        "format": 1,
        "nodes": [{"id": "start", "type": "start"}, {"id": "done", "type": "end"}],
        "edges": [{"id": "e1", "source": "start", "target": "done"}],
    }
    failing = {**trivial, "nodes": [trivial["nodes"][0], {**trivial["nodes"][1]}]}
    failing["nodes"][1]["status"] = "failed"
    workflows = []
    for slug in ("roll-a", "roll-b"):
        workflow = workflow_factory(trivial, slug=slug)
        api.patch(
            f"/api/v1/workflows/{slug}/settings/",
            {"rollback_criteria": {"min_success_rate": 0.5, "min_runs": 3}},
            format="json",
        )
        draft = api.post(
            f"/api/v1/workflows/{slug}/versions/", {"graph": failing}, format="json"
        ).json()
        api.post(f"/api/v1/workflows/{slug}/versions/{draft['number']}/publish/")
        workflow.refresh_from_db()
        for _ in range(3):
            run_start(workflow=workflow, input={}, actor="t")
        workflows.append(workflow)
    real = metrics.scorecard
    broken: list[str] = []

    def poisoned(**kwargs: Any) -> Any:
        if not broken:
            broken.append(kwargs["workflow"].slug)
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
        return real(**kwargs)

    monkeypatch.setattr(metrics, "scorecard", poisoned)

    (done,) = releases.evaluate_rollbacks()
    (other,) = {"roll-a", "roll-b"} - set(broken)
    assert done.startswith(f"{other} v2:")
    for workflow in workflows:
        workflow.refresh_from_db()
        assert workflow.live_version.number == (1 if workflow.slug == other else 2)


def test_enqueue_due_task_runs_the_timers_when_the_retry_job_fails(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(wait_graph(1), slug="timer"), input={}, actor="t"
    )

    def broken(**kwargs: Any) -> int:
        raise RuntimeError("enqueue_due is broken")

    monkeypatch.setattr(recovery, "attempts_enqueue_due", broken)
    real_wake = steps_wake_due
    later = timezone.now() + timedelta(minutes=5)
    monkeypatch.setattr(
        recovery, "steps_wake_due", lambda **kwargs: real_wake(now=later)
    )
    assert tasks.enqueue_due() == 1
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED


def test_sweep_task_reports_the_other_jobs_when_one_raises(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    (attempt,) = _running_attempts(workflow_factory, "sweep-lost")
    later = timezone.now() + timedelta(minutes=5)
    real_recover = attempts_recover_lost
    monkeypatch.setattr(
        recovery, "attempts_recover_lost", lambda **kwargs: real_recover(now=later)
    )

    def broken(**kwargs: Any) -> int:
        raise RuntimeError("republish is broken")

    monkeypatch.setattr(recovery, "attempts_republish_stuck", broken)
    result = tasks.sweep()
    assert result == {
        "recovered": 1,
        "republished": 0,
        "handoffs_escalated": 0,
        "runs_timed_out": 0,
        "messages_expired": 0,
        "calls_settled": 0,
        "map_items_republished": 0,
        "notifications": 0,
        "bulk_jobs": 0,
    }
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FAILED
