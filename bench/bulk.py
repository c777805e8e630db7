"""Bulk cancel: runs/s one job changes, unthrottled and at SWITCHYARD_BULK_RATE.

Usage: .venv/bin/python bench/bulk.py [RUNS=1000] [--worker]

Starts RUNS runs that wait an hour (1,000 a transaction), then cancels them with one
bulk job. Without `--worker` the job is processed in this process with the rate limit
lifted (the engine's own cost per run: lock, cancel the run and its waiting step,
write their events, count the progress); with `--worker` a real Celery worker
processes it at the configured rate (the default 200 runs/s), timed from the job's
`started_at` to its `finished_at`.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def wait_graph(runs: int) -> dict:
    return {
        "format": 1,
        "max_concurrent_runs": runs,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "wait", "seconds": 3600},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "done"},
        ],
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = int(args[0]) if args else 1000
    with_worker = "--worker" in sys.argv
    common.setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from runs.bulk import bulk_create
    from runs.bulk_processing import process_now
    from runs.models import BulkJob
    from runs.services.starting import RunRequest, runs_start_batch

    workflow = common.ensure_workflow("bench-bulk", wait_graph(min(runs, 10_000)))
    began = time.perf_counter()
    run_ids: list[int] = []
    for first in range(0, runs, 1000):
        started = runs_start_batch(
            workflow=workflow,
            requests=[
                RunRequest(input={"n": i})
                for i in range(first, min(runs, first + 1000))
            ],
            actor="bench",
        )
        run_ids.extend(run.pk for run, _ in started)
    print(f"started {len(run_ids)} runs in {time.perf_counter() - began:.1f} s")
    user, _ = get_user_model().objects.get_or_create(
        username="bench-bulk", defaults={"is_superuser": True, "is_staff": True}
    )
    worker = None
    if with_worker:
        worker = common.start_worker(name="bench-bulk")
    try:
        job = bulk_create(user=user, action="cancel", ids=run_ids, reason="bench")
        if worker is None:
            settings.SWITCHYARD_BULK_RATE = 1_000_000
            t0 = time.perf_counter()
            result = process_now(job.pk)
            elapsed = time.perf_counter() - t0
        else:
            # bulk_create published the job after its commit (autocommit here).
            while True:
                job.refresh_from_db()
                if job.is_finished:
                    break
                time.sleep(0.2)
            result = job.state
            elapsed = (job.finished_at - job.started_at).total_seconds()
    finally:
        if worker is not None:
            common.stop(worker)
    job = BulkJob.objects.get(pk=job.pk)
    rate = job.done / elapsed if elapsed else 0.0
    mode = "worker, rate-limited" if with_worker else "in process, unthrottled"
    print(
        f"job {job.pk} {result}: {job.done} done, {job.skipped} skipped, "
        f"{job.failed} failed in {elapsed:.2f} s"
    )
    print(f"summary: bulk cancel {rate:.0f} runs/s ({mode}, {runs} runs)")


if __name__ == "__main__":
    main()
