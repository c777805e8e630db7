"""A bounded loop on a real Celery worker (its beat fires the wait timers)."""

from typing import Any

import pytest

from runs.models import Run, RunState, StepState
from tests.support import wait_for
from tests.support_loops import loop_graph

pytestmark = pytest.mark.integration


def test_a_loop_through_a_wait_runs_its_body_three_times_on_a_worker(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    workflow_factory(loop_graph(rounds=3, max_visits=3), slug="loop")
    response = api.post("/api/v1/workflows/loop/runs/", {"input": {}}, format="json")
    assert response.status_code == 201, response.json()
    run_id = response.json()["id"]

    def finished() -> Run | None:
        run = Run.objects.get(pk=run_id)
        return run if run.is_finished else None

    run = wait_for(finished, timeout=90, what="the loop to finish")
    assert run.state == RunState.SUCCEEDED, run.error
    bodies = run.steps.filter(node_id="body", state=StepState.SUCCEEDED).order_by("seq")
    assert [s.output["params"]["n"] for s in bodies] == [1, 2, 3]
    assert run.steps.filter(node_id="pause").count() == 3
