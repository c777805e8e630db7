"""Bulk jobs over HTTP: validation, permissions, outcomes per run, cancel, resume."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from designer import services as designer
from runs import releases
from runs.bulk_processing import LEASE_S, MAX_STALLS, bulk_process, process_now
from runs.models import BulkJob, BulkState, Event, Run, RunState
from runs.services.starting import run_start
from tests.runs.test_sweeper_isolation import wait_graph
from tests.support import drive, grant, linear_graph

pytestmark = pytest.mark.django_db


def _runs(workflow: Any, count: int, **input: Any) -> list[int]:
    return [
        run_start(workflow=workflow, input={"n": i, **input}, actor="test")[0].pk
        for i in range(count)
    ]


@pytest.fixture
def waiting(workflow_factory: Any) -> Any:
    """A workflow whose runs wait an hour (they stay running)."""
    return workflow_factory(wait_graph(3600), slug="nap")


def _create(api: APIClient, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/bulk/", body, format="json")


def test_bulk_cancel_by_filter_cancels_each_run_through_its_service(
    api: APIClient, waiting: Any
) -> None:
    run_ids = _runs(waiting, 5)
    response = _create(
        api,
        {
            "action": "cancel",
            "filter": {"workflow": "nap", "state": "running"},
            "reason": "cleanup",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["total"], body["processed"]) == ("queued", 5, 0)
    assert body["filter"] == {"workflow": "nap", "state": "running"}
    job = BulkJob.objects.get(pk=body["id"])
    assert job.run_ids == sorted(run_ids)
    assert process_now(job.pk) == "succeeded"
    detail = api.get(f"/api/v1/bulk/{job.pk}/").json()
    assert detail["state"] == "succeeded"
    assert (detail["done"], detail["skipped"], detail["failed"]) == (5, 0, 0)
    assert detail["processed"] == 5
    assert set(Run.objects.filter(pk__in=run_ids).values_list("state", flat=True)) == {
        RunState.CANCELLED
    }
    events = Event.objects.filter(run_id__in=run_ids, kind="run_cancelled")
    assert events.count() == 5
    assert {(e.actor, e.reason) for e in events} == {
        ("user:alice", f"bulk job {job.pk}: cleanup")
    }
    kinds = list(
        Event.objects.filter(data__bulk_job=job.pk)
        .order_by("id")
        .values_list("kind", "to_state")
    )
    assert kinds == [
        ("bulk_created", "queued"),
        ("bulk_running", "running"),
        ("bulk_succeeded", "succeeded"),
    ]


def test_the_selection_is_frozen_at_creation(api: APIClient, waiting: Any) -> None:
    first = _runs(waiting, 2)
    response = _create(api, {"action": "cancel", "filter": {"workflow": "nap"}})
    later = _runs(waiting, 2)
    process_now(response.json()["id"])
    assert set(Run.objects.filter(pk__in=first).values_list("state", flat=True)) == {
        RunState.CANCELLED
    }
    assert set(Run.objects.filter(pk__in=later).values_list("state", flat=True)) == {
        RunState.RUNNING
    }


def test_finished_runs_are_skipped_with_the_reason(
    api: APIClient, waiting: Any, workflow_factory: Any
) -> None:
    running = _runs(waiting, 2)
    done = _runs(workflow_factory(linear_graph(1), slug="quick"), 1)
    drive(Run.objects.get(pk=done[0]))
    response = _create(api, {"action": "cancel", "ids": [*running, *done]})
    assert response.status_code == 201, response.json()
    process_now(response.json()["id"])
    body = api.get(f"/api/v1/bulk/{response.json()['id']}/").json()
    assert (body["done"], body["skipped"], body["failed"]) == (2, 1, 0)
    assert body["reasons"] == {"already_finished": 1}
    assert body["errors"] == [
        {
            "run_id": done[0],
            "outcome": "skipped",
            "code": "already_finished",
            "message": "the run is succeeded",
        }
    ]
    assert Run.objects.get(pk=done[0]).state == RunState.SUCCEEDED


def test_retry_retries_failed_runs_and_skips_the_rest(
    api: APIClient, workflow_factory: Any, waiting: Any
) -> None:
    failing = workflow_factory(linear_graph(1, action="builtin.fail"), slug="bad")
    failed = _runs(failing, 2)
    for run_id in failed:
        drive(Run.objects.get(pk=run_id))
    running = _runs(waiting, 1)
    response = _create(api, {"action": "retry", "ids": [*failed, *running]})
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == "original"
    process_now(response.json()["id"])
    job = BulkJob.objects.get(pk=response.json()["id"])
    assert (job.done, job.skipped, job.failed) == (2, 1, 0)
    assert job.reasons == {"not_retryable": 1}
    for run_id in failed:
        run = Run.objects.get(pk=run_id)
        assert run.state == RunState.RUNNING
        assert run.reruns[-1]["from_node"] == "s1"


def test_rerun_starts_a_new_run_with_the_same_input_on_the_version(
    api: APIClient, workflow_factory: Any, user: Any
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="flow")
    originals = _runs(workflow, 3, order="A-1")
    v2, _ = designer.version_create(
        workflow=workflow, graph=linear_graph(2), created_by=user
    )
    releases.version_publish(version=v2)
    response = _create(
        api, {"action": "rerun", "filter": {"workflow": "flow"}, "version": 2}
    )
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]
    process_now(job_id)
    job = BulkJob.objects.get(pk=job_id)
    assert (job.done, job.skipped, job.failed) == (3, 0, 0)
    started = Run.objects.filter(trigger=f"bulk:{job_id}").order_by("id")
    assert [r.input for r in started] == [
        Run.objects.get(pk=pk).input for pk in sorted(originals)
    ]
    assert {r.version.number for r in started} == {2}
    # Starting again (a repeated slice) finds the runs it started.
    assert {r.idempotency_key for r in started} == {
        f"bulk:{job_id}:{pk}" for pk in originals
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"action": "explode", "ids": [1]}, 400, "invalid_choice"),
        ({"action": "cancel"}, 400, "filter_or_ids"),
        ({"action": "cancel", "ids": [1], "filter": {"state": "x"}}, 400, None),
        ({"action": "cancel", "filter": {}}, 400, "empty_filter"),
        ({"action": "cancel", "filter": {"stat": "running"}}, 400, "bad_filter"),
        ({"action": "cancel", "filter": {"state": "sleeping"}}, 400, "bad_filter"),
        ({"action": "cancel", "filter": {"state": {"a": 1}}}, 400, "bad_filter"),
        ({"action": "cancel", "ids": ["x"]}, 400, "invalid"),
        ({"action": "cancel", "ids": [1], "version": 2}, 400, "no_version"),
        ({"action": "retry", "ids": [1], "version": "newest"}, 400, "invalid"),
        ({"action": "cancel", "reason": "x" * 501, "ids": [1]}, 400, "max_length"),
        ({"action": "cancel", "ids": []}, 422, "empty_selection"),
        ({"action": "cancel", "ids": [999999]}, 422, "unknown_runs"),
        ({"action": "cancel", "filter": {"workflow": "none"}}, 422, "empty_selection"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    api: APIClient, waiting: Any, body: dict[str, Any], status: int, code: str | None
) -> None:
    _runs(waiting, 1)
    response = _create(api, body)
    assert response.status_code == status, response.json()
    if code is not None:
        assert code in {e["code"] for e in response.json()["errors"]}, response.json()
    assert not BulkJob.objects.exists()


def test_a_version_some_workflow_lacks_is_refused_up_front(
    api: APIClient, waiting: Any, workflow_factory: Any
) -> None:
    _runs(waiting, 1)
    _runs(workflow_factory(linear_graph(1), slug="other"), 1)
    response = _create(
        api, {"action": "rerun", "filter": {"state": "running"}, "version": 2}
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["code"] == "bad_version"
    assert "nap" in error["message"] and "other" in error["message"]


def test_over_ten_thousand_runs_is_413(api: APIClient, waiting: Any) -> None:
    response = _create(api, {"action": "cancel", "ids": list(range(1, 10_002))})
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"


def test_over_ten_thousand_ids_in_a_filter_is_413(api: APIClient, waiting: Any) -> None:
    ids = ",".join(str(i) for i in range(1, 10_002))
    response = _create(api, {"action": "cancel", "filter": {"ids": ids}})
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_many_runs"


def test_a_filter_matching_over_ten_thousand_runs_is_413(
    api: APIClient, waiting: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("runs.bulk.MAX_BULK_RUNS", 3)
    _runs(waiting, 4)
    response = _create(api, {"action": "cancel", "filter": {"workflow": "nap"}})
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_many_runs"


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_permissions_operate_role_and_team_visibility(
    api: APIClient, django_user_model: Any
) -> None:
    team = Group.objects.create(name="payments")
    owned = designer.workflow_create(slug="owned", name="Owned", owner_group=team)
    v1, _ = designer.version_create(workflow=owned, graph=wait_graph(3600))
    releases.version_publish(version=v1)
    owned.refresh_from_db()
    hidden = _runs(owned, 2)
    viewer = grant(django_user_model.objects.create_user("vic"), "viewer")
    outsider = grant(django_user_model.objects.create_user("oscar"), "operator")
    member = grant(django_user_model.objects.create_user("mia"), "operator")
    member.groups.add(team)
    body = {"action": "cancel", "ids": hidden}
    assert _client(viewer).post("/api/v1/bulk/", body, format="json").status_code == 403
    # Runs of a workflow the user may not see do not exist for them.
    refused = _client(outsider).post("/api/v1/bulk/", body, format="json")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "unknown_runs"
    by_filter = _client(outsider).post(
        "/api/v1/bulk/",
        {"action": "cancel", "filter": {"workflow": "owned"}},
        format="json",
    )
    assert by_filter.status_code == 422
    created = _client(member).post("/api/v1/bulk/", body, format="json")
    assert created.status_code == 201, created.json()
    job_id = created.json()["id"]
    # Jobs are listed to their creator and to admins, not to other operators.
    assert _client(outsider).get(f"/api/v1/bulk/{job_id}/").status_code == 404
    assert _client(outsider).get("/api/v1/bulk/").json()["count"] == 0
    assert api.get("/api/v1/bulk/").json()["count"] == 1
    assert _client(outsider).post(f"/api/v1/bulk/{job_id}/cancel/").status_code == 404
    # The member leaves the team before the job runs: its runs are skipped.
    member.groups.remove(team)
    process_now(job_id)
    job = BulkJob.objects.get(pk=job_id)
    assert (job.done, job.skipped) == (0, 2)
    assert job.reasons == {"not_allowed": 2}
    assert set(Run.objects.filter(pk__in=hidden).values_list("state", flat=True)) == {
        RunState.RUNNING
    }


def test_cancelling_a_job_stops_it_where_it_is(api: APIClient, waiting: Any) -> None:
    run_ids = _runs(waiting, 3)
    job_id = _create(api, {"action": "cancel", "ids": run_ids}).json()["id"]
    response = api.post(f"/api/v1/bulk/{job_id}/cancel/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "cancelled"
    assert bulk_process(job_id=job_id) == "skipped"
    assert set(Run.objects.filter(pk__in=run_ids).values_list("state", flat=True)) == {
        RunState.RUNNING
    }
    again = api.post(f"/api/v1/bulk/{job_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "job_finished"
    assert Event.objects.filter(data__bulk_job=job_id, kind="bulk_cancelled").exists()


def test_a_job_cancelled_mid_slice_rolls_back_the_run_in_hand(
    api: APIClient, waiting: Any, monkeypatch: Any
) -> None:
    """The progress write is guarded by the lease: a cancel between two runs makes
    the worker stop, and the run it was changing is left as it was."""
    from runs import bulk_processing

    run_ids = _runs(waiting, 3)
    job_id = _create(api, {"action": "cancel", "ids": run_ids}).json()["id"]
    original = bulk_processing._apply
    calls = []

    def apply_then_cancel(job: Any, run_id: int, context: Any) -> Any:
        outcome = original(job, run_id, context)
        calls.append(run_id)
        if len(calls) == 2:
            BulkJob.objects.filter(pk=job_id).update(lease_token="")
        return outcome

    monkeypatch.setattr(bulk_processing, "_apply", apply_then_cancel)
    assert bulk_process(job_id=job_id) == "lost"
    states = dict(Run.objects.filter(pk__in=run_ids).values_list("pk", "state"))
    first, second, third = sorted(run_ids)
    assert states == {
        first: RunState.CANCELLED,
        second: RunState.RUNNING,
        third: RunState.RUNNING,
    }
    assert BulkJob.objects.get(pk=job_id).position == 1


def test_a_job_resumes_where_a_dead_worker_left_it(
    api: APIClient, waiting: Any, monkeypatch: Any
) -> None:
    """A worker dies after two runs (its lease still set); the next one takes over
    when the lease expires and changes each remaining run exactly once."""
    from runs import bulk_processing

    run_ids = _runs(waiting, 5)
    job_id = _create(api, {"action": "cancel", "ids": run_ids}).json()["id"]
    original = bulk_processing._save_progress
    saved = []

    class WorkerDied(BaseException):
        pass

    def save_then_die(job: Any, token: str) -> bool:
        if len(saved) == 2:
            raise WorkerDied
        saved.append(job.position)
        return original(job, token)

    monkeypatch.setattr(bulk_processing, "_save_progress", save_then_die)
    with pytest.raises(WorkerDied):
        bulk_process(job_id=job_id)
    monkeypatch.setattr(bulk_processing, "_save_progress", original)
    job = BulkJob.objects.get(pk=job_id)
    assert (job.state, job.position, job.done) == (BulkState.RUNNING, 2, 2)
    # The lease is still held: no second worker takes the job meanwhile.
    assert bulk_process(job_id=job_id) == "skipped"
    # The sweeper publishes it again once the lease ran out.
    later = timezone.now() + timedelta(seconds=LEASE_S + 11)
    published = []
    monkeypatch.setattr(bulk_processing, "publish", published.append)
    assert bulk_processing.bulk_jobs_sweep(now=later) == 1
    assert published == [job_id]
    BulkJob.objects.filter(pk=job_id).update(leased_until=timezone.now())
    assert bulk_process(job_id=job_id) == "succeeded"
    job = BulkJob.objects.get(pk=job_id)
    assert (job.done, job.skipped, job.failed, job.stalls) == (5, 0, 0, 0)
    assert Event.objects.filter(run_id__in=run_ids, kind="run_cancelled").count() == 5


def test_a_run_that_kills_its_worker_repeatedly_is_failed_and_passed(
    api: APIClient, waiting: Any
) -> None:
    run_ids = _runs(waiting, 2)
    job_id = _create(api, {"action": "cancel", "ids": run_ids}).json()["id"]
    expired = timezone.now() - timedelta(seconds=1)
    BulkJob.objects.filter(pk=job_id).update(
        lease_token="dead", leased_until=expired, stalls=MAX_STALLS - 1
    )
    assert bulk_process(job_id=job_id) == "succeeded"
    job = BulkJob.objects.get(pk=job_id)
    assert (job.done, job.failed) == (1, 1)
    assert job.errors[0]["code"] == "worker_lost"
    assert job.errors[0]["run_id"] == min(run_ids)


def test_one_bad_run_does_not_stop_the_job(
    api: APIClient, waiting: Any, monkeypatch: Any
) -> None:
    from runs import bulk_processing

    run_ids = sorted(_runs(waiting, 3))
    job_id = _create(api, {"action": "cancel", "ids": run_ids}).json()["id"]
    original = bulk_processing.run_cancel

    def cancel(*, run: Any, **kwargs: Any) -> Any:
        if run.pk == run_ids[1]:
            raise ValueError("boom")
        return original(run=run, **kwargs)

    monkeypatch.setattr(bulk_processing, "run_cancel", cancel)
    assert process_now(job_id) == "succeeded"
    job = BulkJob.objects.get(pk=job_id)
    assert (job.done, job.failed) == (2, 1)
    assert job.errors == [
        {
            "run_id": run_ids[1],
            "outcome": "failed",
            "code": "error",
            "message": "ValueError: boom",
        }
    ]
    assert Run.objects.get(pk=run_ids[1]).state == RunState.RUNNING


def test_the_job_list_is_newest_first_within_bounded_queries(
    api: APIClient, waiting: Any, django_assert_max_num_queries: Any
) -> None:
    run_ids = _runs(waiting, 1)
    ids = [
        _create(api, {"action": "cancel", "ids": run_ids}).json()["id"]
        for _ in range(3)
    ]
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/bulk/")
    assert [j["id"] for j in response.json()["results"]] == sorted(ids, reverse=True)


def test_the_search_fields_select_runs_for_a_job(api: APIClient, waiting: Any) -> None:
    """Every RunFilter field works in a job's filter and is stored as it selected."""
    german = _runs(waiting, 2, country="DE")
    _runs(waiting, 2, country="FR")
    body = {
        "action": "cancel",
        "filter": {"input.country": "DE", "trigger": "api", "state": ["running"]},
    }
    response = _create(api, body)
    assert response.status_code == 201, response.json()
    assert response.json()["filter"] == {
        "input.country": "DE",
        "trigger": "api",
        "state": "running",
    }
    assert BulkJob.objects.get().run_ids == sorted(german)
    bad = _create(api, {"action": "cancel", "filter": {"started_after": "yesterday"}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "bad_filter"
