"""Loops run their body up to max_visits, in the engine and in test cases alike."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from designer.simulation import simulate
from runs.models import Run, RunState, StepState
from runs.services.recovery import steps_wake_due
from runs.services.starting import run_start
from tests.support import drive
from tests.support_loops import loop_graph

pytestmark = pytest.mark.django_db


def _settle(run: Run) -> Run:
    """Run attempts and fire timers in this process until the run ends (bounded)."""
    for _ in range(50):
        drive(run)
        steps_wake_due(now=timezone.now() + timedelta(seconds=1))
        run.refresh_from_db()
        if run.is_finished:
            return run
    raise AssertionError(f"run {run.pk} did not finish")


def _bodies(run: Run) -> list[int]:
    return [
        s.output["params"]["n"]
        for s in run.steps.filter(node_id="body", state=StepState.SUCCEEDED).order_by(
            "seq"
        )
    ]


def test_a_loop_through_a_wait_runs_its_body_three_times(
    workflow_factory: Any,
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(loop_graph()), input={}, actor="system"
    )
    run = _settle(run)
    assert run.state == RunState.SUCCEEDED, run.error
    assert _bodies(run) == [1, 2, 3]
    assert list(
        run.steps.filter(node_id="body").order_by("seq").values_list("seq", flat=True)
    ) == [1, 2, 3]
    keys = {s.idempotency_key for s in run.steps.filter(node_id="body")}
    assert len(keys) == 3, "each visit has its own idempotency key"


def test_a_visit_past_max_visits_fails_the_run(workflow_factory: Any) -> None:
    graph = loop_graph(rounds=10, max_visits=3, bound="body")
    run, _ = run_start(workflow=workflow_factory(graph), input={}, actor="system")
    run = _settle(run)
    assert run.state == RunState.FAILED
    assert run.error["type"] == "MaxVisitsExceeded"
    assert _bodies(run) == [1, 2, 3]


def test_test_cases_loop_like_the_engine() -> None:
    """A test case mocks the body once per visit, as the engine runs it."""
    per_visit = [{"output": {"params": {"n": n}}} for n in (1, 2, 3)]
    result = simulate(loop_graph(), input={}, mocks={"body": per_visit})
    assert result.state == "succeeded", result.error
    assert [s.output["params"]["n"] for s in result.steps if s.node_id == "body"] == [
        1,
        2,
        3,
    ]
    over = simulate(
        loop_graph(rounds=10, bound="body"), input={}, mocks={"body": per_visit}
    )
    assert over.state == "failed"
    assert over.error["type"] == "MaxVisitsExceeded"
