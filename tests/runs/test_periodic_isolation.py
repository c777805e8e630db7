"""Periodic jobs survive a bad row: it is logged, marked and skipped; others move."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone

from engine import tasks
from runs import handoffs, releases
from runs.models import (
    Attempt,
    AttemptState,
    Event,
    Handoff,
    HandoffState,
    Run,
    StepState,
)
from runs.services import recovery
from runs.services.advancing import Advance
from runs.services.graphs import compiled_graph_for
from runs.services.recovery import attempts_enqueue_due, steps_wake_due
from runs.services.starting import run_start
from tests.runs.test_handoffs import review_graph
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db


def _stored_unchecked(workflow_factory: Any, graph: dict, slug: str) -> Any:
    """Publish a graph without validation, as a version stored before a bound."""
    workflow = workflow_factory(linear_graph(1), slug=slug, publish=False)
    version = workflow.versions.get()
    type(version).objects.filter(pk=version.pk).update(graph=graph)
    version.refresh_from_db()
    original = releases.validated
    releases.validated = lambda graph: None  # type: ignore[assignment]
    try:
        releases.version_publish(version=version)
    finally:
        releases.validated = original  # type: ignore[assignment]
    workflow.refresh_from_db()
    return workflow


def test_run_start_with_a_stored_1e308_wait_answers_201(
    workflow_factory: Any, api: Any
) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "wait", "seconds": 1e308},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "done"},
        ],
    }
    workflow = _stored_unchecked(workflow_factory, graph, "huge-wait")
    response = api.post(f"/api/v1/workflows/{workflow.slug}/runs/", {}, format="json")
    assert response.status_code in (201, 202), response.content
    run = Run.objects.get(pk=response.json()["id"])
    step = run.steps.get(node_id="nap")
    assert step.state == StepState.WAITING
    assert step.wake_at <= timezone.now() + timedelta(days=367)


def _retrying_run(workflow_factory: Any, slug: str) -> Run:
    # A queue without a retry budget: other tests may have spent the default's.
    graph = linear_graph(1, action="builtin.fail", queue="storm-unbounded")
    graph["defaults"] = {
        "retry": {"max_attempts": 3, "initial_interval_s": 60, "jitter": "none"}
    }
    run, _ = run_start(
        workflow=workflow_factory(graph, slug=slug), input={}, actor="system"
    )
    drive(run)
    return run


def test_enqueue_due_skips_and_marks_a_bad_row(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    good = _retrying_run(workflow_factory, "good")
    bad = _retrying_run(workflow_factory, "bad")
    real = compiled_graph_for

    def poisoned(version_id: int) -> Any:
        if version_id == bad.version_id:
            raise ValueError("a graph this engine cannot read")
        return real(version_id)

    monkeypatch.setattr(recovery, "compiled_graph_for", poisoned)
    later = timezone.now() + timedelta(minutes=5)
    assert attempts_enqueue_due(now=later) == 1
    assert Attempt.objects.get(run=good, number=2).state == AttemptState.QUEUED
    marked = Attempt.objects.get(run=bad, number=2)
    assert marked.state == AttemptState.CANCELLED
    event = Event.objects.get(attempt=marked, kind="attempt_cancelled")
    assert "enqueue_due could not process it" in event.reason
    assert "a graph this engine cannot read" in event.reason
    # Marked rows leave the job's query: the next beat has nothing to redo.
    assert attempts_enqueue_due(now=later) == 0


def test_handoff_sla_skips_and_marks_a_bad_row(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    runs = []
    for slug in ("h1", "h2"):
        run, _ = run_start(
            workflow=workflow_factory(review_graph(sla_s=60), slug=slug),
            input={},
            actor="system",
        )
        runs.append(run)
    bad = Handoff.objects.get(run=runs[0])
    real = handoffs.escalation_target

    def poisoned(handoff: Handoff) -> Any:
        if handoff.pk == bad.pk:
            raise KeyError("escalate_to names a kind this code does not know")
        return real(handoff)

    monkeypatch.setattr(handoffs, "escalation_target", poisoned)
    later = timezone.now() + timedelta(minutes=5)
    assert handoffs.handoffs_expire_due(now=later) == 1
    assert Handoff.objects.get(run=runs[1]).state == HandoffState.ESCALATED
    bad.refresh_from_db()
    assert bad.state == HandoffState.EXPIRED
    event = Event.objects.filter(handoff=bad).latest("id")
    assert "handoff_sla could not process it" in event.reason
    assert handoffs.handoffs_expire_due(now=later) == 0


def _nap_graph() -> dict[str, Any]:
    """start → a 30 s wait → end."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "wait", "seconds": 30},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "done"},
        ],
    }


def _two_napping_runs(
    workflow_factory: Any, monkeypatch: Any, error: Exception
) -> tuple[Run, Run]:
    """Two runs waiting on a timer; waking the second raises `error`."""
    graph = _nap_graph()
    good, _ = run_start(
        workflow=workflow_factory(graph, slug="t1"), input={}, actor="system"
    )
    other, _ = run_start(
        workflow=workflow_factory(graph, slug="t2"), input={}, actor="system"
    )
    real = Advance.wake

    def failing(advance: Advance, step_id: int) -> bool:
        if advance.run.pk == other.pk:
            raise error
        return real(advance, step_id)

    monkeypatch.setattr(Advance, "wake", failing)
    return good, other


def test_timer_job_skips_and_marks_a_bad_row(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    good, bad = _two_napping_runs(
        workflow_factory, monkeypatch, OverflowError("date value out of range")
    )
    later = timezone.now() + timedelta(minutes=5)
    assert steps_wake_due(now=later) == 1
    good.refresh_from_db()
    assert good.state == "succeeded"
    assert bad.steps.get(node_id="nap").state == StepState.CANCELLED
    assert steps_wake_due(now=later) == 0


def test_timer_job_leaves_a_row_the_database_failed_on_for_the_next_tick(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    """Found by bench/faults.py: with PostgreSQL restarting, every due timer failed,
    was marked as a bad row once the database was back, and its run hung. A
    deadlock or a lost connection says nothing about the row: it waits, unmarked."""
    good, unlucky = _two_napping_runs(
        workflow_factory, monkeypatch, OperationalError("deadlock detected")
    )
    later = timezone.now() + timedelta(minutes=5)
    assert steps_wake_due(now=later) == 1
    assert Run.objects.get(pk=good.pk).state == "succeeded"
    assert unlucky.steps.get(node_id="nap").state == StepState.WAITING
    monkeypatch.undo()
    assert steps_wake_due(now=later) == 1
    assert Run.objects.get(pk=unlucky.pk).state == "succeeded"


def test_one_failing_sweep_job_does_not_stop_the_others(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    def broken(**kwargs: Any) -> int:
        raise RuntimeError("recover_lost is broken")

    calls: list[str] = []
    monkeypatch.setattr(recovery, "attempts_recover_lost", broken)
    monkeypatch.setattr(
        recovery,
        "attempts_republish_stuck",
        lambda **kwargs: calls.append("republish") or 2,
    )
    monkeypatch.setattr(
        handoffs, "handoffs_expire_due", lambda **kwargs: calls.append("sla") or 3
    )
    result = tasks.sweep()
    assert result == {
        "recovered": 0,
        "republished": 2,
        "handoffs_escalated": 3,
        "runs_timed_out": 0,
        "messages_expired": 0,
        "calls_settled": 0,
        "map_items_republished": 0,
        "notifications": 0,
        "bulk_jobs": 0,
    }
    assert calls == ["republish", "sla"]
