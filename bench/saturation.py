"""Measure throughput at saturation: Switchyard steps/s against raw Celery tasks/s.

For each worker concurrency asked for (1, 2 and 4 processes by default), starts one
Celery worker with that many processes, then:
- starts RUNS runs of a STEPS-step linear no-op workflow at once (its
  `max_concurrent_runs` is RUNS, so all are admitted) and divides RUNS * STEPS by the
  time from the first run's `started_at` to the last run's `finished_at`;
- sends RUNS * STEPS independent `bench.count` tasks to the same broker and worker and
  divides them by the time from the first send to the last task's completion, which
  that task records.
Eager dispatch runs the steps of one run back to back on one worker process, so
steps/s against tasks/s is the fair comparison. Prints a row per concurrency (steps/s,
tasks/s, steps/s as a share of tasks/s) and a `summary:` line; more processes should
give more of both when nothing serializes them.

The script starts the runs one `run_start` after the other while the worker already
runs them (`--start single`, as it always did). When that takes most of the
measured span, the row measures the starts rather than the workers, and is marked
`start-bound`; `--start batch` starts them with `runs_start_batch`, 50 a transaction.
Usage: python bench/saturation.py [RUNS] [STEPS] [--processes 1,2,4]
       [--start single|batch]
"""

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import (  # noqa: E402
    ensure_workflow,
    linear_graph,
    setup_django,
    start_worker,
    stop,
)


def wait_until(check: Callable[[], object], *, timeout_s: float, what: str) -> None:
    """Poll `check()` gently until it is true; exit when it takes too long."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not finish within {timeout_s:.0f} s")
        time.sleep(0.1)


# Runs per transaction with `--start batch`.
START_BATCH = 50
# A row whose starts took more than this share of its span measured the starts.
START_BOUND = 0.8


def start_runs(workflow: Any, runs: int, how: str) -> None:
    """Start `runs` runs: one `run_start` each, or batches of START_BATCH."""
    from runs.services.starting import RunRequest, run_start, runs_start_batch

    if how == "single":
        for _ in range(runs):
            run_start(workflow=workflow, input={}, actor="system:bench")
        return
    for first in range(0, runs, START_BATCH):
        count = min(START_BATCH, runs - first)
        runs_start_batch(
            workflow=workflow,
            requests=[RunRequest(input={})] * count,
            actor="system:bench",
        )


def measure(
    workflow: Any, *, runs: int, steps: int, processes: int, start: str
) -> dict[str, Any]:
    """Run both measurements on one worker of `processes` processes."""
    import redis
    from django.conf import settings
    from django.db.models import Max, Min

    import bench.tasks as bench_tasks
    from runs.models import RUN_ACTIVE, Attempt, Run
    from runs.services.starting import run_start

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    total = runs * steps
    worker = start_worker(concurrency=processes, name="bench-saturation")
    try:
        # Warm up both paths (imports, connections, compiled graph cache) in every
        # worker process.
        for _ in range(processes):
            run_start(workflow=workflow, input={}, actor="system:bench")
        warm = f"bench:count:{uuid.uuid4()}"
        for _ in range(processes):
            bench_tasks.count.apply_async((warm, processes), queue="default")
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
        start_runs(workflow, runs, start)
        start_s = time.monotonic() - began
        batch = Run.objects.filter(workflow=workflow, id__gte=first_id)
        wait_until(
            lambda: not batch.filter(state__in=RUN_ACTIVE).exists(),
            timeout_s=300,
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
            timeout_s=300,
            what=f"{total} celery tasks",
        )
        celery_s = float(client.get(f"{key}:done")) - sent_at  # type: ignore[arg-type]
        client.delete(key, f"{key}:done")
    finally:
        stop(worker)
    return {
        "processes": processes,
        "steps_per_s": total / flow_s,
        "flow_s": flow_s,
        "start_s": start_s,
        "tail_per_s": tail_steps / tail_s if tail_s > 0 else float("nan"),
        "tail_steps": tail_steps,
        "tail_s": tail_s,
        "tasks_per_s": total / celery_s,
        "celery_s": celery_s,
        "send_s": send_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("runs", nargs="?", type=int, default=200)
    parser.add_argument("steps", nargs="?", type=int, default=5)
    parser.add_argument(
        "--processes",
        default="1,2,4",
        help="worker concurrencies to measure, comma-separated (default 1,2,4)",
    )
    parser.add_argument(
        "--start",
        choices=["single", "batch"],
        default="single",
        help=f"run_start per run, or runs_start_batch of {START_BATCH}",
    )
    args = parser.parse_args()
    runs, steps = args.runs, args.steps
    concurrencies = [int(p) for p in args.processes.split(",") if p.strip()]
    setup_django()

    workflow = ensure_workflow(
        f"bench-saturation-{steps}", linear_graph(steps, max(runs, 1))
    )
    total = runs * steps
    rows = []
    for processes in concurrencies:
        row = measure(
            workflow, runs=runs, steps=steps, processes=processes, start=args.start
        )
        rows.append(row)
        print(
            f"workers={processes}: switchyard {row['steps_per_s']:.0f} steps/s "
            f"({total} steps in {row['flow_s']:.2f} s, {runs / row['flow_s']:.0f} "
            f"runs/s; starting the runs took {row['start_s']:.2f} s; "
            f"{row['tail_per_s']:.0f} steps/s after the last start: "
            f"{row['tail_steps']} in {row['tail_s']:.2f} s); raw celery "
            f"{row['tasks_per_s']:.0f} tasks/s ({total} in {row['celery_s']:.2f} s; "
            f"sending took {row['send_s']:.2f} s)",
            flush=True,
        )

    print(
        f"\nsaturation runs={runs} steps={steps} ({total} steps per row), "
        f"started {args.start}"
    )
    print(f"{'processes':>9} {'steps/s':>8} {'tasks/s':>8} {'ratio':>6}  after start")
    for row in rows:
        share = 100 * row["steps_per_s"] / row["tasks_per_s"]
        bound = row["start_s"] > START_BOUND * row["flow_s"]
        print(
            f"{row['processes']:>9} {row['steps_per_s']:>8.0f} "
            f"{row['tasks_per_s']:>8.0f} {share:>5.0f}%  "
            f"{row['tail_per_s']:>5.0f} steps/s{'  start-bound' if bound else ''}"
        )
    print("ratio: switchyard steps/s as a share of raw celery tasks/s")
    parts = [
        f"{row['processes']}p {row['steps_per_s']:.0f} steps/s vs "
        f"{row['tasks_per_s']:.0f} tasks/s "
        f"({100 * row['steps_per_s'] / row['tasks_per_s']:.0f} %"
        f"{', start-bound' if row['start_s'] > START_BOUND * row['flow_s'] else ''})"
        for row in rows
    ]
    print(f"summary: saturation {runs}x{steps} ({args.start}): {'; '.join(parts)}")


if __name__ == "__main__":
    main()
