"""Sub-workflows: a call starts a child run, waits for it and takes its result."""

from typing import Any

import pytest
from django.contrib.auth.models import Group

from designer import services as designer
from designer.simulation import simulate
from runs import calls, releases
from runs.models import Run, RunState, StepState
from runs.services.controls import run_cancel
from runs.services.starting import run_start
from tests.support import caller_graph, drive, echo_child_graph, linear_graph

pytestmark = pytest.mark.django_db


def _waiting_child() -> dict[str, Any]:
    graph = linear_graph(1)
    graph["nodes"].insert(1, {"id": "nap", "type": "wait", "seconds": 3600})
    first = graph["edges"][0]
    graph["edges"][0] = {"id": first["id"], "source": "start", "target": "nap"}
    graph["edges"].append({"id": "nap-on", "source": "nap", "target": first["target"]})
    return graph


def test_the_child_output_becomes_the_step_output(workflow_factory: Any) -> None:
    workflow_factory(echo_child_graph(), slug="child")
    parent, _ = run_start(
        workflow=workflow_factory(caller_graph("child"), slug="parent"),
        input={"order": 7},
        actor="system",
    )
    drive(parent)
    parent.refresh_from_db()
    assert parent.state == RunState.SUCCEEDED, parent.error
    (child,) = Run.objects.filter(parent_run=parent)
    assert child.state == RunState.SUCCEEDED
    assert (child.trigger, child.call_depth) == (f"call:{parent.pk}", 1)
    assert child.input == {"order": 7}
    sub = parent.steps.get(node_id="sub")
    assert sub.output == child.output
    assert child.parent_attempt.step_id == sub.pk


def test_a_failing_child_fails_the_step_and_the_failure_edge_runs(
    workflow_factory: Any,
) -> None:
    child_graph = echo_child_graph()
    child_graph["nodes"][1]["action"] = "builtin.fail"
    child_graph["nodes"][1]["retry"] = {"max_attempts": 1}
    workflow_factory(child_graph, slug="broken")
    parent, _ = run_start(
        workflow=workflow_factory(
            caller_graph("broken", retry={"max_attempts": 2, "jitter": "none"}),
            slug="parent",
        ),
        input={"order": 1},
        actor="system",
    )
    drive(parent)
    parent.refresh_from_db()
    assert parent.state == RunState.FAILED  # reached the failing end
    sub = parent.steps.get(node_id="sub")
    assert sub.state == StepState.FAILED
    assert sub.error["type"] == "ChildRunFailed"
    # Retried once: two attempts, a child each.
    assert Run.objects.filter(parent_run=parent).count() == 2


def test_cancelling_the_parent_cancels_the_child(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    workflow_factory(_waiting_child(), slug="slow")
    parent, _ = run_start(
        workflow=workflow_factory(caller_graph("slow"), slug="parent"),
        input={"order": 1},
        actor="system",
    )
    drive(parent)
    (child,) = Run.objects.filter(parent_run=parent)
    assert child.state == RunState.RUNNING
    with django_capture_on_commit_callbacks(execute=True):
        run_cancel(run=parent, actor="user:x", reason="stop")
    child.refresh_from_db()
    assert child.state == RunState.CANCELLED


def test_recursion_is_bounded(workflow_factory: Any, settings: Any) -> None:
    settings.SWITCHYARD_MAX_CALL_DEPTH = 3
    # A workflow that calls itself: published in two steps (it must exist first).
    workflow = workflow_factory(linear_graph(1), slug="loop")
    version, _ = designer.version_create(
        workflow=workflow, graph=caller_graph("loop", retry={"max_attempts": 1})
    )
    releases.version_publish(version=version)
    workflow.refresh_from_db()
    run, _ = run_start(workflow=workflow, input={"order": 1}, actor="system")
    drive(run)
    depths = sorted(
        Run.objects.filter(workflow=workflow).values_list("call_depth", flat=True)
    )
    assert depths == [0, 1, 2, 3]
    deepest = Run.objects.get(workflow=workflow, call_depth=3)
    sub = deepest.steps.get(node_id="sub")
    assert sub.error["type"] == "CallDepthExceeded"


def test_publishing_checks_the_callee(workflow_factory: Any) -> None:
    caller = workflow_factory(linear_graph(1), slug="caller")
    draft, _ = designer.version_create(workflow=caller, graph=caller_graph("missing"))
    with pytest.raises(designer.VersionConflict) as missing:
        releases.version_publish(version=draft)
    assert missing.value.code == "bad_call"
    other = workflow_factory(linear_graph(1), slug="theirs")
    other.owner_group = Group.objects.create(name="team-b")
    other.save()
    draft, _ = designer.version_create(workflow=caller, graph=caller_graph("theirs"))
    with pytest.raises(designer.VersionConflict) as foreign:
        releases.version_publish(version=draft)
    assert foreign.value.code == "call_not_allowed"
    draft, _ = designer.version_create(
        workflow=caller, graph=caller_graph("caller", version=99)
    )
    with pytest.raises(designer.VersionConflict) as unpublished:
        releases.version_publish(version=draft)
    assert unpublished.value.code == "bad_call"


def test_the_sweeper_settles_a_call_whose_child_ended_unnoticed(
    workflow_factory: Any,
) -> None:
    workflow_factory(echo_child_graph(), slug="child")
    parent, _ = run_start(
        workflow=workflow_factory(caller_graph("child"), slug="parent"),
        input={"order": 2},
        actor="system",
    )
    # The child ends but nobody tells the call (as if the process died before its
    # after-commit step).
    drive(parent, settle_calls=False)
    parent.refresh_from_db()
    assert parent.state == RunState.RUNNING
    assert calls.calls_settle() == 1
    parent.refresh_from_db()
    assert parent.state == RunState.SUCCEEDED


def test_test_cases_mock_a_call_like_a_task() -> None:
    result = simulate(
        caller_graph("anything"),
        input={"order": 1},
        mocks={"sub": {"output": {"x": 1}}},
    )
    assert (result.state, result.end) == ("succeeded", "done")
    failed = simulate(
        caller_graph("anything"), input={"order": 1}, mocks={"sub": {"error": "Boom"}}
    )
    assert failed.end == "failed"


def test_the_run_detail_links_parent_and_children(
    api: Any, workflow_factory: Any
) -> None:
    workflow_factory(echo_child_graph(), slug="child")
    parent, _ = run_start(
        workflow=workflow_factory(caller_graph("child"), slug="parent"),
        input={"order": 3},
        actor="system",
    )
    drive(parent)
    child = Run.objects.get(parent_run=parent)
    body = api.get(f"/api/v1/runs/{parent.pk}/").json()
    assert body["children"] == [
        {"id": child.pk, "state": "succeeded", "workflow": "child", "node_id": "sub"}
    ]
    assert api.get(f"/api/v1/runs/{child.pk}/").json()["parent_run"] == parent.pk
