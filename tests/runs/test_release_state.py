"""A workflow's release is an explicit state machine, each change with its event."""

from typing import Any

import pytest
from django_fsm import TransitionNotAllowed

from designer import services as designer
from designer.models import ReleaseState, Workflow
from runs import releases
from runs.models import Event
from tests.support import linear_graph

pytestmark = pytest.mark.django_db


def _draft(workflow: Workflow) -> Any:
    version, _ = designer.version_create(workflow=workflow, graph=linear_graph(1))
    return version


def _kinds(workflow: Workflow) -> list[str]:
    return list(
        Event.objects.filter(workflow_id=workflow.pk)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_a_release_moves_through_its_states_with_an_event_each() -> None:
    workflow = designer.workflow_create(slug="rel", name="Rel")
    assert workflow.release_state == ReleaseState.UNRELEASED
    v1 = releases.version_publish(version=_draft(workflow))
    workflow.refresh_from_db()
    assert workflow.release_state == ReleaseState.LIVE
    assert workflow.live_version_id == v1.pk

    v2 = releases.version_publish(version=_draft(workflow), canary_percent=20)
    workflow.refresh_from_db()
    assert workflow.release_state == ReleaseState.CANARY
    assert (workflow.canary_version_id, workflow.canary_percent) == (v2.pk, 20)

    releases.canary_abort(workflow=workflow, actor="system:test")
    workflow.refresh_from_db()
    assert workflow.release_state == ReleaseState.LIVE
    assert workflow.canary_version_id is None
    assert workflow.live_version_id == v1.pk

    v3 = releases.version_publish(version=_draft(workflow), canary_percent=50)
    releases.canary_promote(workflow=workflow, actor=None)
    workflow.refresh_from_db()
    assert workflow.release_state == ReleaseState.LIVE
    assert workflow.live_version_id == v3.pk
    assert workflow.previous_live_version_id == v1.pk

    releases.workflow_rollback(workflow=workflow, number=1)
    workflow.refresh_from_db()
    assert workflow.release_state == ReleaseState.LIVE
    assert workflow.live_version_id == v1.pk
    assert workflow.previous_live_version_id is None

    assert _kinds(workflow) == [
        "version_created",
        "version_published",
        "version_created",
        "canary_started",
        "version_published",
        "canary_aborted",
        "version_created",
        "canary_started",
        "version_published",
        "canary_promoted",
        "live_version_changed",
    ]


def test_a_first_version_cannot_be_a_canary() -> None:
    workflow = designer.workflow_create(slug="first", name="First")
    with pytest.raises(releases.ReleaseError) as caught:
        releases.version_publish(version=_draft(workflow), canary_percent=10)
    assert caught.value.code == "no_live_version"
    workflow.refresh_from_db()
    assert workflow.release_state == ReleaseState.UNRELEASED
    assert not workflow.versions.filter(status="published").exists()


def test_transitions_refuse_from_the_wrong_state() -> None:
    workflow = designer.workflow_create(slug="wrong", name="Wrong")
    with pytest.raises(TransitionNotAllowed):
        workflow.abort_canary()
    with pytest.raises(releases.ReleaseError) as caught:
        releases.canary_promote(workflow=workflow, actor=None)
    assert caught.value.code == "no_canary"


def test_the_workflow_list_still_shows_the_last_run(
    api: Any, workflow_factory: Any
) -> None:
    from runs.services.starting import run_start

    workflow = workflow_factory(linear_graph(1), slug="listed")
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    body = api.get("/api/v1/workflows/").json()
    (row,) = [w for w in body["results"] if w["slug"] == "listed"]
    assert row["last_run"]["id"] == run.pk
    assert row["last_run"]["state"] == run.state
