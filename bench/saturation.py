"""Measure throughput at saturation: Switchyard steps/s against raw Celery tasks/s.

Starts RUNS runs of a STEPS-step linear no-op workflow at once (its
`max_concurrent_runs` is RUNS, so all are admitted) and divides RUNS * STEPS by the
time from the first run's `started_at` to the last run's `finished_at`. Then sends
RUNS * STEPS independent `bench.count` tasks to the same broker and worker and
divides them by the time from the first send to the last task's completion, which
that task records. Eager dispatch runs the steps of one run back to back on one
worker, so steps/s against tasks/s is the fair comparison.
Usage: python bench/saturation.py [RUNS] [STEPS]
"""

import sys
import time
import uuid
from collections.abc import Callable

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ensure_workflow, setup_django, start_worker, stop  # noqa: E402


def linear_graph(steps: int, max_concurrent_runs: int) -> dict:
    """Return start → `steps` noop tasks in a row → end."""
    nodes = [{"id": "start", "type": "start"}]
    edges = []
    previous = "start"
    for i in range(steps):
        nodes.append({"id": f"s{i}", "type": "task", "action": "builtin.noop"})
        edges.append({"id": f"e{i}", "source": previous, "target": f"s{i}"})
        previous = f"s{i}"
    nodes.append({"id": "done", "type": "end"})
    edges.append({"id": "e_end", "source": previous, "target": "done"})
    return {
        "format": 1,
        "max_concurrent_runs": max_concurrent_runs,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": nodes,
        "edges": edges,
    }


def wait_until(check: Callable[[], object], *, timeout_s: float, what: str) -> None:
    """Poll `check()` gently until it is true; exit when it takes too long."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not finish within {timeout_s:.0f} s")
        time.sleep(0.1)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    setup_django()
    import redis
    from django.conf import settings
    from django.db.models import Max, Min

    import bench.tasks as bench_tasks
    from runs.models import RUN_ACTIVE, Attempt, Run
    from runs.services.starting import run_start

    slug = f"bench-saturation-{steps}"
    workflow = ensure_workflow(slug, linear_graph(steps, max(runs, 1)))
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    total = runs * steps
    worker = start_worker(concurrency=2)
    try:
        # Warm up both paths (imports, connections, compiled graph cache).
        run_start(workflow=workflow, input={}, actor="system:bench")
        warm = f"bench:count:{uuid.uuid4()}"
        bench_tasks.count.apply_async((warm, 1), queue="default")
        wait_until(
            lambda: (
                not Run.objects.filter(workflow=workflow, state__in=RUN_ACTIVE).exists()
                and client.exists(f"{warm}:done")
            ),
            timeout_s=60,
            what="warm-up",
        )

        first_id = Run.objects.order_by("-id").values_list("id", flat=True)[0] + 1
        began = time.monotonic()
        for _ in range(runs):
            run_start(workflow=workflow, input={}, actor="system:bench")
        start_s = time.monotonic() - began
        batch = Run.objects.filter(workflow=workflow, id__gte=first_id)
        wait_until(
            lambda: not batch.filter(state__in=RUN_ACTIVE).exists(),
            timeout_s=150,
            what=f"{runs} runs",
        )
        states = dict.fromkeys(batch.values_list("state", flat=True).distinct())
        if set(states) != {"succeeded"}:
            raise SystemExit(f"runs ended {sorted(states)}, expected succeeded")
        span = batch.aggregate(
            first=Min("started_at"),
            last_start=Max("started_at"),
            last=Max("finished_at"),
        )
        flow_s = (span["last"] - span["first"]).total_seconds()
        # The bench process competes with the worker for CPU while it starts runs;
        # the rate after the last start shows the worker on its own.
        tail_steps = Attempt.objects.filter(
            run__in=batch, finished_at__gt=span["last_start"]
        ).count()
        tail_s = (span["last"] - span["last_start"]).total_seconds()

        key = f"bench:count:{uuid.uuid4()}"
        sent_at = time.time()
        began = time.monotonic()
        for _ in range(total):
            bench_tasks.count.apply_async((key, total), queue="default")
        send_s = time.monotonic() - began
        wait_until(
            lambda: client.exists(f"{key}:done"),
            timeout_s=150,
            what=f"{total} celery tasks",
        )
        celery_s = float(client.get(f"{key}:done")) - sent_at  # type: ignore[arg-type]
        client.delete(key, f"{key}:done")
    finally:
        stop(worker)
    steps_per_s = total / flow_s
    tasks_per_s = total / celery_s
    print(f"saturation runs={runs} steps={steps} ({total} steps) workers=2")
    print(
        f"switchyard: {steps_per_s:.0f} steps/s ({total} steps in {flow_s:.2f} s, "
        f"{runs / flow_s:.0f} runs/s; starting the runs took {start_s:.2f} s)"
    )
    print(
        f"            {tail_steps / tail_s:.0f} steps/s after the last start "
        f"({tail_steps} steps in {tail_s:.2f} s)"
    )
    print(
        f"raw celery: {tasks_per_s:.0f} tasks/s ({total} tasks in {celery_s:.2f} s; "
        f"sending took {send_s:.2f} s)"
    )
    print(f"ratio:      {tasks_per_s / steps_per_s:.2f} (celery tasks/s ÷ steps/s)")
    print(
        f"summary: saturation {runs}x{steps}: {steps_per_s:.0f} steps/s vs "
        f"{tasks_per_s:.0f} celery tasks/s (ratio {tasks_per_s / steps_per_s:.2f})"
    )


if __name__ == "__main__":
    main()
