"""A run past its deadline fails with RunTimeout and compensates."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from runs.models import Event, RunState, StepState
from runs.services.recovery import runs_expire_deadlines
from runs.services.starting import run_start
from tests.support import drive

pytestmark = pytest.mark.django_db


def _saga(timeout_s: float) -> dict[str, Any]:
    return {
        "format": 1,
        "timeout_s": timeout_s,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "book",
                "type": "task",
                "action": "builtin.noop",
                "compensate_with": "unbook",
            },
            {"id": "nap", "type": "wait", "seconds": 3600},
            {"id": "done", "type": "end"},
            {"id": "unbook", "type": "task", "action": "builtin.noop"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "book"},
            {"id": "e2", "source": "book", "target": "nap"},
            {"id": "e3", "source": "nap", "target": "done"},
        ],
    }


def test_a_run_past_its_deadline_fails_and_compensates(workflow_factory: Any) -> None:
    run, _ = run_start(workflow=workflow_factory(_saga(60)), input={}, actor="system")
    assert abs((run.deadline_at - run.started_at).total_seconds() - 60) < 1
    drive(run)  # books; the run now waits an hour
    assert runs_expire_deadlines(now=timezone.now() + timedelta(seconds=30)) == 0
    assert runs_expire_deadlines(now=timezone.now() + timedelta(seconds=61)) == 1
    run.refresh_from_db()
    assert run.state == RunState.COMPENSATING
    assert run.error["type"] == "RunTimeout"
    assert run.steps.get(node_id="nap").state == StepState.CANCELLED
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.COMPENSATED
    assert Event.objects.filter(run=run, kind="run_failed").exists()
    assert runs_expire_deadlines(now=timezone.now() + timedelta(days=1)) == 0


def test_a_run_without_timeout_has_no_deadline(workflow_factory: Any) -> None:
    graph = _saga(60)
    del graph["timeout_s"]
    run, _ = run_start(workflow=workflow_factory(graph), input={}, actor="system")
    assert run.deadline_at is None
