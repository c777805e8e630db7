"""Sub-workflows on a real worker: retries start new children; cancel reaches them."""

from typing import Any

import pytest

from runs.models import Run, RunState
from tests.support import wait_for

pytestmark = pytest.mark.integration


def _parent(callee: str) -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "sub",
                "type": "call",
                "workflow": callee,
                "params": {"n": "=attempt"},
                "retry": {
                    "max_attempts": 3,
                    "initial_interval_s": 0.2,
                    "jitter": "none",
                },
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "sub"},
            {"id": "e2", "source": "sub", "target": "done"},
        ],
    }


def _child(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "work", "type": "task", "retry": {"max_attempts": 1}, **task},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "c1", "source": "start", "target": "work"},
            {"id": "c2", "source": "work", "target": "done"},
        ],
    }


def _finished(run_id: int) -> Run | None:
    run = Run.objects.get(pk=run_id)
    return run if run.is_finished else None


def test_a_child_that_fails_twice_succeeds_on_the_third_call(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    # The child fails while the parent's call attempt (its input n) is below 3.
    workflow_factory(
        _child({"action": "builtin.fail", "params": {"until_attempt": "=4 - input.n"}}),
        slug="flaky-child",
    )
    workflow_factory(_parent("flaky-child"), slug="caller")
    response = api.post("/api/v1/workflows/caller/runs/", {"input": {}}, format="json")
    run = wait_for(
        lambda: _finished(response.json()["id"]), timeout=90, what="the parent"
    )
    assert run.state == RunState.SUCCEEDED, run.error
    children = list(Run.objects.filter(parent_run=run).order_by("id"))
    assert [c.state for c in children] == ["failed", "failed", "succeeded"]
    assert [c.input for c in children] == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_cancelling_the_parent_cancels_its_running_child(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    slow = _child({"action": "builtin.noop"})
    slow["nodes"].insert(1, {"id": "nap", "type": "wait", "seconds": 3600})
    slow["edges"][0] = {"id": "c1", "source": "start", "target": "nap"}
    slow["edges"].append({"id": "c0", "source": "nap", "target": "work"})
    workflow_factory(slow, slug="slow-child")
    workflow_factory(_parent("slow-child"), slug="patient")
    parent_id = api.post(
        "/api/v1/workflows/patient/runs/", {"input": {}}, format="json"
    ).json()["id"]
    child = wait_for(
        lambda: Run.objects.filter(parent_run_id=parent_id).first(),
        timeout=60,
        what="the child run",
    )
    assert api.post(f"/api/v1/runs/{parent_id}/cancel/").status_code == 200
    child = wait_for(lambda: _finished(child.pk), timeout=60, what="the child's end")
    assert child.state == RunState.CANCELLED
