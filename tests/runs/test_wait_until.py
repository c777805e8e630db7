"""A wait node waits until the time an expression gives, checked strictly."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from designer.simulation import simulate
from engine.graph.validate import validate_graph
from runs.models import RunState, StepState
from runs.services.recovery import steps_wake_due
from runs.services.starting import run_start
from tests.support import drive

pytestmark = pytest.mark.django_db


def _graph(wait: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "wait", **wait},
            {"id": "t", "type": "task", "action": "builtin.noop"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "t"},
            {"id": "e3", "source": "t", "target": "done"},
        ],
    }


UNTIL = _graph({"until": "input.at"})


def test_waits_until_the_time_the_input_gives(workflow_factory: Any) -> None:
    at = timezone.now() + timedelta(minutes=10)
    run, _ = run_start(
        workflow=workflow_factory(UNTIL),
        input={"at": at.isoformat()},
        actor="system",
    )
    nap = run.steps.get(node_id="nap")
    assert nap.state == StepState.WAITING
    assert abs((nap.wake_at - at).total_seconds()) < 1
    assert steps_wake_due(now=at - timedelta(seconds=5)) == 0
    assert steps_wake_due(now=at + timedelta(seconds=1)) == 1
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED


@pytest.mark.parametrize(
    "value",
    [lambda now: (now - timedelta(days=1)).isoformat(), lambda now: now.timestamp()],
)
def test_a_past_time_or_unix_seconds_work(workflow_factory: Any, value: Any) -> None:
    now = timezone.now()
    run, _ = run_start(
        workflow=workflow_factory(UNTIL), input={"at": value(now)}, actor="system"
    )
    nap = run.steps.get(node_id="nap")
    assert nap.wake_at <= now + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("tomorrow", "ISO 8601"),
        ("2026-12-24T09:00:00", "ISO 8601"),  # no zone: ambiguous
        (True, "not a time"),
        (None, "not a time"),
        ("2099-01-01T00:00:00Z", "more than a year away"),
    ],
)
def test_a_bad_time_fails_the_step_naming_it(
    workflow_factory: Any, value: Any, fragment: str
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(UNTIL), input={"at": value}, actor="system"
    )
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.error["type"] == "ExpressionError"
    assert run.error["node_id"] == "nap"
    assert fragment in run.error["message"]
    assert "until" in run.error["message"]
    # The test-case simulator checks it the same way (but for the year, which needs
    # a clock).
    if "year" not in fragment:
        result = simulate(UNTIL, input={"at": value})
        assert result.state == "failed"
        assert fragment in result.error["message"]


def test_the_simulator_passes_a_good_time_at_once() -> None:
    result = simulate(UNTIL, input={"at": datetime(2030, 1, 1, tzinfo=UTC).isoformat()})
    assert result.state == "succeeded"


@pytest.mark.parametrize(
    ("wait", "code"),
    [
        ({"seconds": 5, "until": "input.at"}, "wait_time"),
        ({}, "wait_time"),
        ({"until": "input.("}, "bad_expression"),
    ],
)
def test_a_wait_needs_exactly_one_time(wait: dict[str, Any], code: str) -> None:
    result = validate_graph(_graph(wait), actions={"builtin.noop": {}})
    assert code in [i.code for i in result.errors]
