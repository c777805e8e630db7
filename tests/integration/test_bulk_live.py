"""Bulk cancel on a real Celery worker: 1,000 running runs, each cancelled once."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from runs.models import BulkJob, BulkState, Event, Run, RunState
from runs.services.starting import RunRequest, runs_start_batch
from tests.runs.test_sweeper_isolation import wait_graph
from tests.support import wait_for

pytestmark = pytest.mark.integration

RUNS = 1000


def test_bulk_cancel_of_a_thousand_running_runs_misses_none(
    live_db: Any, workflow_factory: Any, user: Any
) -> None:
    # Runs that wait an hour stay running until cancelled.
    graph = {**wait_graph(3600), "max_concurrent_runs": RUNS}
    workflow = workflow_factory(graph, slug="napping")
    started = runs_start_batch(
        workflow=workflow,
        requests=[RunRequest(input={"n": i}) for i in range(RUNS)],
        actor="test",
    )
    run_ids = {run.pk for run, _ in started}
    assert Run.objects.filter(pk__in=run_ids, state=RunState.RUNNING).count() == RUNS
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        "/api/v1/bulk/",
        {
            "action": "cancel",
            "filter": {"workflow": "napping", "state": "running"},
            "reason": "load test over",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]
    assert response.json()["total"] == RUNS

    # Progress is readable while the worker goes.
    def finished() -> dict[str, Any] | None:
        body = client.get(f"/api/v1/bulk/{job_id}/").json()
        return body if body["state"] in ("succeeded", "failed", "cancelled") else None

    body = wait_for(finished, timeout=240, interval=0.5, what="bulk job to finish")
    assert body["state"] == "succeeded", body
    assert (body["done"], body["skipped"], body["failed"]) == (RUNS, 0, 0)
    assert body["processed"] == RUNS
    cancelled = Event.objects.filter(run_id__in=run_ids, kind="run_cancelled")
    assert cancelled.count() == RUNS
    assert set(cancelled.values_list("run_id", flat=True)) == run_ids
    assert Run.objects.filter(pk__in=run_ids, state=RunState.CANCELLED).count() == RUNS
    job = BulkJob.objects.get(pk=job_id)
    assert job.state == BulkState.SUCCEEDED
    assert list(
        Event.objects.filter(data__bulk_job=job_id)
        .order_by("id")
        .values_list("kind", flat=True)
    ) == ["bulk_created", "bulk_running", "bulk_succeeded"]


def test_a_job_whose_worker_is_killed_resumes_on_another_and_misses_no_run(
    live_db: Any,
    workflow_factory: Any,
    user: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    """The job's first slice goes to a worker of its own queue, killed mid-slice
    (SIGKILL, lease held); the sweeper hands the job to the session's worker once the
    lease runs out, which finishes it: every run cancelled once."""
    from tests.integration.test_durable_workers import Workers

    count = 300
    graph = {**wait_graph(3600), "max_concurrent_runs": count}
    workflow = workflow_factory(graph, slug="napping")
    started = runs_start_batch(
        workflow=workflow,
        requests=[RunRequest(input={"n": i}) for i in range(count)],
        actor="test",
    )
    run_ids = {run.pk for run, _ in started}
    workers = Workers(tmp_path, ["bulk-doomed"])
    try:
        doomed = workers.start("doomed")
        settings.SWITCHYARD_BULK_QUEUE = "bulk-doomed"
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(
            "/api/v1/bulk/",
            {"action": "cancel", "ids": sorted(run_ids)},
            format="json",
        )
        assert response.status_code == 201, response.json()
        job_id = response.json()["id"]
        wait_for(
            lambda: BulkJob.objects.get(pk=job_id).position >= 10,
            timeout=60,
            interval=0.02,
            what="the doomed worker to get going",
        )
        workers.kill(doomed)
        job = BulkJob.objects.get(pk=job_id)
        # Killed mid-slice: it still holds the lease, part of the way through.
        assert job.state == BulkState.RUNNING
        assert job.lease_token
        assert 10 <= job.position < count
        job = wait_for(
            lambda: j if (j := BulkJob.objects.get(pk=job_id)).is_finished else None,
            timeout=180,
            interval=0.5,
            what="the job to finish on the other worker",
        )
    finally:
        workers.stop_all()
    assert job.state == BulkState.SUCCEEDED
    assert (job.done, job.skipped, job.failed) == (count, 0, 0)
    cancelled = list(
        Event.objects.filter(run_id__in=run_ids, kind="run_cancelled").values_list(
            "run_id", flat=True
        )
    )
    assert sorted(cancelled) == sorted(run_ids)  # each run once, none missed
