"""Run from here: a draft's test run starts at a node, seeded with a run's data."""

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from designer import services
from designer.models import ImmutableVersionError, VersionStatus, WorkflowVersion
from runs import metrics
from runs.errors import RunError
from runs.models import Event, Run, RunState, StepState
from runs.services.starting import run_start
from runs.services.test_runs import MAX_ACTIVE_TEST_RUNS
from tests.support import drive, grant

pytestmark = pytest.mark.django_db


def order_graph(charge_action: str = "builtin.fail") -> dict[str, Any]:
    """start → fetch (echo the order) → charge → done; charge fails by default."""
    charge: dict[str, Any] = {"id": "charge", "type": "task", "action": charge_action}
    if charge_action == "builtin.echo":
        charge["params"] = {"amount": "=steps.fetch.output.params.order.total"}
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "fetch",
                "type": "task",
                "action": "builtin.echo",
                "params": {"order": "=input.order"},
            },
            charge,
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "fetch"},
            {"id": "e2", "source": "fetch", "target": "charge"},
            {"id": "e3", "source": "charge", "target": "done"},
        ],
    }


def _failed_run(workflow: Any) -> Run:
    run, _ = run_start(
        workflow=workflow, input={"order": {"id": 7, "total": 42}}, actor="system"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    return run


def _draft(workflow: Any, graph: dict[str, Any]) -> WorkflowVersion:
    version, _ = services.version_create(workflow=workflow, graph=graph)
    return version


def _url(workflow: Any, number: int) -> str:
    return f"/api/v1/workflows/{workflow.slug}/versions/{number}/test-runs/"


def test_a_fixed_draft_runs_from_the_failed_node_with_the_runs_data(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(order_graph())
    failed = _failed_run(workflow)
    draft = _draft(workflow, order_graph("builtin.echo"))

    answer = api.post(
        _url(workflow, draft.number), {"run": failed.pk, "node": "charge"}, "json"
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["trigger"] == "test"
    run = Run.objects.get(pk=answer.json()["id"])
    drive(run)
    run.refresh_from_db()

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.input == failed.input
    assert run.version.status == VersionStatus.TEST
    assert run.version.number == draft.number
    assert run.version.graph == draft.graph
    steps = {s.node_id: s for s in run.steps.all()}
    # fetch is the earlier run's, not executed again: no attempt, its output copied.
    assert steps["fetch"].state == StepState.SUCCEEDED
    assert steps["fetch"].attempts.count() == 0
    assert steps["fetch"].output == failed.steps.get(node_id="fetch").output
    assert steps["charge"].attempts.count() == 1
    assert steps["charge"].output["params"] == {"amount": 42}
    seeded = Event.objects.get(run=run, kind="step_seeded", step__node_id="fetch")
    assert seeded.step_id == steps["fetch"].pk
    assert seeded.data == {
        "from_run": failed.pk,
        "from_step": failed.steps.get(node_id="fetch").pk,
    }
    detail = api.get(f"/api/v1/runs/{run.pk}/").json()
    assert detail["seeded"] == {
        str(steps["start"].pk): failed.pk,
        str(steps["fetch"].pk): failed.pk,
    }
    assert api.get(f"/api/v1/runs/{failed.pk}/").json()["seeded"] == {}
    created = Event.objects.get(run=run, kind="run_created")
    assert created.data["from_run"] == failed.pk
    assert created.data["from_node"] == "charge"
    assert created.data["draft"] == draft.number


def test_the_snapshot_is_frozen_and_hidden_and_the_draft_stays_editable(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(order_graph())
    failed = _failed_run(workflow)
    graph = order_graph("builtin.echo")
    draft = _draft(workflow, graph)
    body = {"run": failed.pk, "node": "charge"}
    first = api.post(_url(workflow, draft.number), body, "json").json()
    second = api.post(_url(workflow, draft.number), body, "json").json()
    snapshot = WorkflowVersion.snapshots.get()
    assert Run.objects.get(pk=first["id"]).version_id == snapshot.pk
    made = Event.objects.get(kind="test_snapshot_created")
    assert (made.version_id, made.data["draft"]) == (snapshot.pk, draft.number)
    assert Run.objects.get(pk=second["id"]).version_id == snapshot.pk, (
        "an unchanged draft reuses its snapshot"
    )

    edited = copy.deepcopy(graph)
    edited["nodes"][2]["params"]["note"] = "edited"
    services.version_update(version=draft, graph=edited)
    third = api.post(_url(workflow, draft.number), body, "json").json()
    assert WorkflowVersion.snapshots.count() == 2
    assert Event.objects.filter(kind="test_snapshot_created").count() == 2
    assert Run.objects.get(pk=third["id"]).version.graph == edited
    assert WorkflowVersion.snapshots.get(pk=snapshot.pk).graph == graph
    # The run's page draws the graph it ran on, not the draft as it is now.
    ran_on = api.get(f"/api/v1/runs/{first['id']}/graph/").json()
    assert ran_on == {"version": draft.number, "status": "test", "graph": graph}
    assert api.get("/api/v1/runs/999999/graph/").status_code == 404

    listed = api.get(f"/api/v1/workflows/{workflow.slug}/versions/").json()
    numbers = [v["number"] for v in listed["results"]]
    assert sorted(numbers) == [1, 2], "snapshots are not versions people pick"
    assert (
        api.get(_url(workflow, draft.number)[: -len("test-runs/")]).status_code == 200
    )

    snapshot.note = "changed"
    with pytest.raises(ImmutableVersionError):
        snapshot.save()
    # The database refuses it too, whatever writes it.
    with pytest.raises(DatabaseError), transaction.atomic():
        WorkflowVersion.snapshots.filter(pk=snapshot.pk).update(graph={})


def test_a_join_after_the_node_counts_the_seeded_branch(
    api: Any, workflow_factory: Any
) -> None:
    graph = {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "fan", "type": "parallel"},
            {"id": "left", "type": "task", "action": "builtin.echo"},
            {"id": "right", "type": "task", "action": "builtin.fail"},
            {"id": "join", "type": "join", "mode": "all"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e0", "source": "start", "target": "fan"},
            {"id": "e1", "source": "fan", "target": "left"},
            {"id": "e2", "source": "fan", "target": "right"},
            {"id": "e3", "source": "left", "target": "join"},
            {"id": "e4", "source": "right", "target": "join"},
            {"id": "e5", "source": "join", "target": "done"},
        ],
    }
    workflow = workflow_factory(graph)
    failed = _failed_run(workflow)
    fixed = copy.deepcopy(graph)
    fixed["nodes"][3]["action"] = "builtin.noop"
    draft = _draft(workflow, fixed)
    answer = api.post(
        _url(workflow, draft.number), {"run": failed.pk, "node": "right"}, "json"
    )
    assert answer.status_code == 201, answer.json()
    run = Run.objects.get(pk=answer.json()["id"])
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    seeded = set(
        Event.objects.filter(run=run, kind="step_seeded").values_list(
            "step__node_id", flat=True
        )
    )
    assert seeded == {"start", "fan", "left"}
    assert run.steps.get(node_id="join").state == StepState.SUCCEEDED


def test_what_cannot_run_from_here_is_refused_clearly(
    api: Any, workflow_factory: Any, django_user_model: Any
) -> None:
    workflow = workflow_factory(order_graph())
    failed = _failed_run(workflow)
    draft = _draft(workflow, order_graph("builtin.echo"))
    url = _url(workflow, draft.number)

    published = api.post(
        _url(workflow, 1), {"run": failed.pk, "node": "charge"}, "json"
    )
    assert published.status_code == 409
    assert published.json()["errors"][0]["code"] == "not_a_draft"

    unknown = api.post(url, {"run": failed.pk, "node": "nope"}, "json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["code"] == "unknown_node"

    assert api.post(url, {"run": 10**9, "node": "charge"}, "json").status_code == 404
    assert api.post(url, {"node": "charge"}, "json").status_code == 400
    assert api.post(url, {"run": "x", "node": "c" * 65}, "json").status_code == 400

    running, _ = run_start(workflow=workflow, input={"order": {}}, actor="system")
    busy = api.post(url, {"run": running.pk, "node": "charge"}, "json")
    assert busy.status_code == 409
    assert busy.json()["errors"][0]["code"] == "run_not_finished"

    viewer = grant(django_user_model.objects.create_user("vic", password="p"), "viewer")
    api.force_authenticate(viewer)
    denied = api.post(url, {"run": failed.pk, "node": "charge"}, "json")
    assert denied.status_code == 403
    assert not Run.objects.filter(trigger="test").exists()


def test_test_runs_are_bounded_and_left_out_of_the_scorecard(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(order_graph())
    failed = _failed_run(workflow)
    draft = _draft(workflow, order_graph("builtin.echo"))
    body = {"run": failed.pk, "node": "charge"}
    for _ in range(MAX_ACTIVE_TEST_RUNS):  # not driven: they stay under way
        assert api.post(_url(workflow, draft.number), body, "json").status_code == 201
    over = api.post(_url(workflow, draft.number), body, "json")
    assert over.status_code == 409
    assert over.json()["errors"][0]["code"] == "too_many_test_runs"

    for run in Run.objects.filter(trigger="test"):
        drive(run)
    assert Run.objects.filter(trigger="test", state=RunState.SUCCEEDED).count() == 5
    now = timezone.now()
    window = metrics.Window(since=now - timedelta(hours=1), until=now)
    finished = metrics._runs(window, workflow, None)
    assert list(finished.values_list("pk", flat=True)) == [failed.pk]


def test_a_snapshot_starts_no_ordinary_run_and_odd_numbers_are_404(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(order_graph())
    failed = _failed_run(workflow)
    draft = _draft(workflow, order_graph("builtin.echo"))
    api.post(_url(workflow, draft.number), {"run": failed.pk, "node": "charge"}, "json")
    snapshot = WorkflowVersion.snapshots.get()
    with pytest.raises(RunError, match="test snapshot"):
        run_start(workflow=workflow, input={}, actor="system", version=snapshot)
    for number in (99, 2**63, 10**30):
        answer = api.post(
            _url(workflow, number), {"run": failed.pk, "node": "x"}, "json"
        )
        assert answer.status_code == 404, (number, answer.content)
